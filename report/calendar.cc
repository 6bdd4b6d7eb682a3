#include "report/calendar.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "base/toml.h"
#include "core/paths.h"
#include "core/validity.h"

namespace shixin::report {
namespace {

constexpr absl::CivilDay kEpoch(1970, 1, 1);

int64_t DayIndex(absl::CivilDay day) { return day - kEpoch; }

bool IsWeekend(absl::CivilDay day) {
  const absl::Weekday w = absl::GetWeekday(day);
  return w == absl::Weekday::saturday || w == absl::Weekday::sunday;
}

absl::Status ErrorAt(std::string_view origin, const toml::node& node, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrFormat("%s:%d: %s", origin, node.source().begin.line,
                                                    absl::string_view(what.data(), what.size())));
}

}  // namespace

absl::StatusOr<absl::CivilDay> ParseDay(std::string_view text) {
  const std::string quoted = absl::StrCat("\"", absl::string_view(text.data(), text.size()), "\"");
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return absl::InvalidArgumentError(absl::StrCat(quoted, " is not a YYYY-MM-DD date"));
  }
  int parts[3] = {0, 0, 0};
  const int starts[3] = {0, 5, 8};
  const int lengths[3] = {4, 2, 2};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < lengths[i]; ++j) {
      const char c = text[starts[i] + j];
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
        return absl::InvalidArgumentError(absl::StrCat(quoted, " is not a YYYY-MM-DD date"));
      }
      parts[i] = parts[i] * 10 + (c - '0');
    }
  }
  const absl::CivilDay day(parts[0], parts[1], parts[2]);
  if (day.year() != parts[0] || day.month() != parts[1] || day.day() != parts[2]) {
    // In the form, but normalised: 2027-02-29 is 2027-03-01.
    return absl::InvalidArgumentError(absl::StrCat(quoted, " is no such day"));
  }
  return day;
}

namespace {

// Reads the array of dates `key` into `days`, checking each is of `year` and listed once.
absl::Status ReadDays(std::string_view origin, absl::string_view key, const toml::node& node,
                      int year, absl::flat_hash_set<int64_t>* days) {
  if (!node.is_array()) return ErrorAt(origin, node, absl::StrCat(key, ": expected an array"));
  for (const toml::node& element : *node.as_array()) {
    if (!element.is_string()) {
      return ErrorAt(origin, element, absl::StrCat(key, ": expected \"YYYY-MM-DD\" strings"));
    }
    const std::string& text = element.as_string()->get();
    absl::StatusOr<absl::CivilDay> day = ParseDay(text);
    if (!day.ok()) {
      return ErrorAt(origin, element, absl::StrCat(key, ": ", day.status().message()));
    }
    if (day->year() != year) {
      return ErrorAt(origin, element, absl::StrCat(key, ": ", text, " is not in ", year));
    }
    if (!days->insert(DayIndex(*day)).second) {
      return ErrorAt(origin, element, absl::StrCat(key, ": ", text, " is listed twice"));
    }
    if (key == "working_days" && !IsWeekend(*day)) {
      return ErrorAt(origin, element,
                     absl::StrCat(key, ": ", text, " is a weekday (list weekend days only)"));
    }
  }
  return absl::OkStatus();
}

// Returns the year of a file name "YYYY.toml", or 0.
int YearOfFileName(std::string_view name) {
  if (name.size() != 9 || name.substr(4) != ".toml") return 0;
  int year = 0;
  for (char c : name.substr(0, 4)) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return 0;
    year = year * 10 + (c - '0');
  }
  return year;
}

}  // namespace

std::string FormatDay(absl::CivilDay day) { return absl::FormatCivilTime(day); }

absl::StatusOr<Quarter> Quarter::Parse(std::string_view text) {
  if (text.size() == 6 && (text[4] == 'Q' || text[4] == 'q') && absl::ascii_isdigit(text[5]) &&
      (text[5] < '1' || text[5] > '4')) {
    return absl::InvalidArgumentError(absl::StrCat(
        "quarter \"", absl::string_view(text.data(), text.size()), "\": there is no quarter ",
        absl::string_view(text.data() + 5, 1), " (a year's quarters are 1 to 4)"));
  }
  if (text.size() != 6 || (text[4] != 'Q' && text[4] != 'q') || text[5] < '1' || text[5] > '4') {
    return absl::InvalidArgumentError(absl::StrCat("quarter \"",
                                                   absl::string_view(text.data(), text.size()),
                                                   "\": expected YYYYQN, e.g. 2026Q4"));
  }
  Quarter quarter;
  for (char c : text.substr(0, 4)) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          absl::StrCat("quarter \"", absl::string_view(text.data(), text.size()), "\": bad year"));
    }
    quarter.year = quarter.year * 10 + (c - '0');
  }
  quarter.q = text[5] - '0';
  return quarter;
}

Quarter Quarter::Of(absl::CivilDay day) {
  return Quarter{static_cast<int>(day.year()), (day.month() - 1) / 3 + 1};
}

std::string Quarter::ToString() const { return absl::StrFormat("%04dQ%d", year, q); }

absl::CivilDay Quarter::FirstDay() const { return absl::CivilDay(year, (q - 1) * 3 + 1, 1); }

absl::CivilDay Quarter::LastDay() const { return Next().FirstDay() - 1; }

Quarter Quarter::Next() const { return q == 4 ? Quarter{year + 1, 1} : Quarter{year, q + 1}; }

Quarter Quarter::Previous() const { return q == 1 ? Quarter{year - 1, 4} : Quarter{year, q - 1}; }

int64_t Quarter::BeginMicros() const {
  return absl::ToUnixMicros(absl::FromCivil(FirstDay(), ChinaTime()));
}

int64_t Quarter::EndMicros() const { return Next().BeginMicros(); }

absl::StatusOr<Calendar> Calendar::LoadDir(const std::string& dir) {
  Calendar calendar;
  calendar.dir_ = dir;
  SHIXIN_RETURN_IF_ERROR(calendar.AddDir(dir));
  return calendar;
}

absl::StatusOr<Calendar> Calendar::LoadShippedAndLocal(const std::string& shipped_dir,
                                                       const std::string& local_dir,
                                                       std::string_view local_setting) {
  Calendar calendar;
  calendar.dir_ = local_dir;
  calendar.local_setting_ = std::string(local_setting);
  // A binary copied without its share/ directory still reads the years given to it (x32 #4).
  if (absl::Status shipped = calendar.AddDir(shipped_dir);
      !shipped.ok() && (local_dir.empty() || !absl::IsNotFound(shipped))) {
    return shipped;
  }
  if (!local_dir.empty()) SHIXIN_RETURN_IF_ERROR(calendar.AddDir(local_dir));
  return calendar;
}

absl::Status Calendar::AddDir(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("calendar directory ", dir, ": cannot open: ", std::strerror(errno)));
  }
  std::vector<std::string> names;
  while (const dirent* entry = readdir(d)) {
    const std::string name = entry->d_name;
    if (name.size() > 5 && name.substr(name.size() - 5) == ".toml") names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const std::string path = absl::StrCat(dir, "/", name);
    SHIXIN_ASSIGN_OR_RETURN(std::string text, ReadRegularFile(path));
    absl::Status added = AddYear(text, name);
    // Two directories: the error names the file's.
    if (!added.ok() && !local_setting_.empty()) {
      return absl::Status(added.code(), absl::StrCat(dir, "/", added.message()));
    }
    SHIXIN_RETURN_IF_ERROR(added);
  }
  return absl::OkStatus();
}

absl::Status Calendar::AddYear(std::string_view text, std::string_view file_name) {
  const int year = YearOfFileName(file_name);
  if (year == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(absl::string_view(file_name.data(), file_name.size()),
                     ": expected a file named YYYY.toml"));
  }
  SHIXIN_ASSIGN_OR_RETURN(toml::table root, ParseToml(text, file_name));
  // The year first: the dates are checked against it.
  if (const toml::node* node = root.get("year");
      node != nullptr && (!node->is_integer() || node->as_integer()->get() != year)) {
    return ErrorAt(file_name, *node, absl::StrCat("year: expected ", year, " (the file name's)"));
  }
  Year data;
  bool seen[4] = {false, false, false, false};  // year, source, holidays, working_days
  for (auto&& [name, node] : root) {
    const absl::string_view key(name.str().data(), name.str().size());
    if (key == "year") {
      seen[0] = true;  // checked above
    } else if (key == "source") {
      if (!node.is_string() || node.as_string()->get().empty()) {
        return ErrorAt(file_name, node, "source: expected the notice's title");
      }
      data.source = node.as_string()->get();
      seen[1] = true;
    } else if (key == "holidays") {
      SHIXIN_RETURN_IF_ERROR(ReadDays(file_name, key, node, year, &data.holidays));
      seen[2] = true;
    } else if (key == "working_days") {
      SHIXIN_RETURN_IF_ERROR(ReadDays(file_name, key, node, year, &data.working_days));
      seen[3] = true;
    } else {
      return ErrorAt(file_name, node, absl::StrCat("unknown key \"", key, "\""));
    }
  }
  constexpr const char* kKeys[] = {"year", "source", "holidays", "working_days"};
  for (int i = 0; i < 4; ++i) {
    if (!seen[i]) {
      return absl::InvalidArgumentError(
          absl::StrCat(absl::string_view(file_name.data(), file_name.size()), ": lacks the key \"",
                       kKeys[i], "\""));
    }
  }
  for (int64_t day : data.working_days) {
    if (data.holidays.contains(day)) {
      return absl::InvalidArgumentError(
          absl::StrCat(absl::string_view(file_name.data(), file_name.size()), ": ",
                       FormatDay(kEpoch + day), " is both a holiday and a working day"));
    }
  }
  years_[year] = std::move(data);
  return absl::OkStatus();
}

absl::StatusOr<bool> Calendar::IsWorkingDay(absl::CivilDay day) const {
  const int year = static_cast<int>(day.year());
  auto it = years_.find(year);
  if (it == years_.end()) {
    if (dir_.empty()) {
      return absl::NotFoundError(absl::StrFormat(
          "no calendar for %d: add %d.toml to a directory named by %s; its years add to the "
          "shipped calendar",
          year, year, local_setting_));
    }
    return absl::NotFoundError(
        absl::StrFormat("no calendar for %d: add %s/%d.toml", year, dir_, year));
  }
  const int64_t index = DayIndex(day);
  if (it->second.holidays.contains(index)) return false;
  if (it->second.working_days.contains(index)) return true;
  return !IsWeekend(day);
}

absl::StatusOr<absl::CivilDay> Calendar::DueDate(Quarter quarter) const {
  absl::CivilDay day = quarter.LastDay();
  for (int working = 0; working < 5;) {
    ++day;
    SHIXIN_ASSIGN_OR_RETURN(bool is_working, IsWorkingDay(day));
    if (is_working) ++working;
  }
  return day;
}

absl::StatusOr<absl::CivilDay> Calendar::NextDue(absl::CivilDay today) const {
  const Quarter current = Quarter::Of(today);
  // Five working days after a quarter fall within its next month, whatever the holidays (the
  // longest, National Day's, is 8 days): later on, the previous quarter's year is not needed.
  if (today - current.Previous().LastDay() > 31) return DueDate(current);
  SHIXIN_ASSIGN_OR_RETURN(absl::CivilDay previous_due, DueDate(current.Previous()));
  if (previous_due >= today) return previous_due;
  return DueDate(current);
}

std::string Calendar::Source(int year) const {
  auto it = years_.find(year);
  return it == years_.end() ? std::string() : it->second.source;
}

}  // namespace shixin::report
