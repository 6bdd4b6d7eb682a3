// The holiday calendar of the quarterly report (issue 12): China's public holidays and the
// weekend days made working days (调休), one data file per year (data/calendar/YYYY.toml, see
// data/calendar/README.md), and the quarters and due dates computed from it.
//
// Thread safety: Quarter is a plain value; a Calendar is immutable after loading and safe to
// share between threads.
#ifndef SHIXIN_REPORT_CALENDAR_H_
#define SHIXIN_REPORT_CALENDAR_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace shixin::report {

// Returns `day` as "YYYY-MM-DD". (Its YYYYMMDD number and the zone of quarters and due dates,
// China Standard Time, are core/validity.h's DayNumber and ChinaTime.)
std::string FormatDay(absl::CivilDay day);

// A calendar quarter, e.g. 2026Q4.
struct Quarter {
  int year = 0;
  int q = 0;  // 1..4

  // Parses "2026Q4" (also "2026q4"). Returns InvalidArgument saying what is wrong otherwise.
  static absl::StatusOr<Quarter> Parse(std::string_view text);
  // Returns the quarter that holds `day`.
  static Quarter Of(absl::CivilDay day);

  // Returns "2026Q4".
  std::string ToString() const;
  absl::CivilDay FirstDay() const;
  absl::CivilDay LastDay() const;
  Quarter Next() const;
  Quarter Previous() const;
  // Returns the quarter's time range in Unix microseconds, [begin, end), in China Standard Time.
  int64_t BeginMicros() const;
  int64_t EndMicros() const;

  friend bool operator==(const Quarter& a, const Quarter& b) {
    return a.year == b.year && a.q == b.q;
  }
};

// Returns the day of `text`, "YYYY-MM-DD". InvalidArgument "\"TEXT\" is not a YYYY-MM-DD date"
// for another form, "\"TEXT\" is no such day" for one in the form that does not exist
// (2027-02-29).
absl::StatusOr<absl::CivilDay> ParseDay(std::string_view text);

class Calendar {
 public:
  // Loads every YYYY.toml file of `dir` (other files, such as README.md, are ignored). Returns
  // NotFound if `dir` cannot be read, InvalidArgument "FILE:LINE: what" for a malformed file:
  // a syntax error, a missing or unknown key, a year other than the file name's, a date that is
  // not YYYY-MM-DD of that year, a working day that is not a Saturday or Sunday, a day that is
  // both a holiday and a working day, a day listed twice.
  static absl::StatusOr<Calendar> LoadDir(const std::string& dir);
  // Loads the shipped calendar `shipped_dir` (LoadDir()), then the year files of `local_dir`
  // over it unless it is "": a year only there is added, a year in both is local_dir's (a
  // correction). The shipped directory belongs to the package, so a missing year is to be added
  // to local_dir: "no calendar" errors say "add LOCAL_DIR/YYYY.toml", or without one, "add
  // YYYY.toml to a directory named by `local_setting`" (e.g. "calendar_dir"). Errors as
  // LoadDir(), for either directory; a shipped directory that cannot be opened is no error
  // with a local one (its years are read alone).
  static absl::StatusOr<Calendar> LoadShippedAndLocal(const std::string& shipped_dir,
                                                      const std::string& local_dir,
                                                      std::string_view local_setting);
  // Adds the year file whose text is `text`; `file_name` ("2026.toml") gives the year expected
  // and names the file in errors. Errors as LoadDir().
  absl::Status AddYear(std::string_view text, std::string_view file_name);

  // Returns whether `day` is a working day: a Monday to Friday that is not a holiday, or a
  // weekend day listed as a working day. NotFound "no calendar for YYYY: add DIR/YYYY.toml"
  // if the year is not in the calendar (DIR: LoadDir()'s, else data/calendar; see
  // LoadShippedAndLocal() for its own).
  absl::StatusOr<bool> IsWorkingDay(absl::CivilDay day) const;

  // Returns the day the report of `quarter` is due: the memorandum's 每季度结束后的第五个工作日前
  // ("before the fifth working day after the quarter ends"; domain.md: within the first five
  // working days) read as the fifth working day after the quarter's last day, that day
  // included (the report is late from the sixth working day on). Errors as IsWorkingDay().
  absl::StatusOr<absl::CivilDay> DueDate(Quarter quarter) const;

  // Returns the next due date as of `today`: that of the quarter that ended most recently if
  // it is today or later, else that of the current quarter (the previous quarter's year is
  // not read once its due date has certainly passed). Errors as IsWorkingDay().
  absl::StatusOr<absl::CivilDay> NextDue(absl::CivilDay today) const;

  // Returns the source notice of `year`'s data, or "" if the year is not loaded.
  std::string Source(int year) const;

 private:
  struct Year {
    std::string source;
    absl::flat_hash_set<int64_t> holidays;      // days since 1970-01-01
    absl::flat_hash_set<int64_t> working_days;  // weekend days that are working days
  };
  // Adds the YYYY.toml files of `dir`, each replacing a year already loaded. Errors as LoadDir().
  absl::Status AddDir(const std::string& dir);

  absl::flat_hash_map<int, Year> years_;
  std::string dir_ = "data/calendar";  // where "no calendar" errors say to add the year
  std::string local_setting_;          // with dir_ "": what names that directory
};

}  // namespace shixin::report

#endif  // SHIXIN_REPORT_CALENDAR_H_
