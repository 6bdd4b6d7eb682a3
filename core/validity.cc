#include "core/validity.h"

#include <time.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace shixin {

namespace {

// Returns the digits text[at, at + n) as a number, or -1 if any is not a digit.
int Digits(std::string_view text, size_t at, size_t n) {
  int value = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

int DaysInMonth(int y, int m) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// The feeds' own form, "2026-06-03T10:00:00+08:00" or "...Z", parsed without absl::ParseTime
// (~10x its speed: a delta file has one per line). Returns nullopt for anything else, which
// the general parser then accepts or refuses: leap seconds, fractions, lower-case letters.
std::optional<int64_t> ParseCanonicalInstant(std::string_view t) {
  if (t.size() != 20 && t.size() != 25) return std::nullopt;
  if (t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  const int year = Digits(t, 0, 4), month = Digits(t, 5, 2), day = Digits(t, 8, 2);
  const int hour = Digits(t, 11, 2), minute = Digits(t, 14, 2), second = Digits(t, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) ||
      hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return std::nullopt;
  }
  int offset = 0;  // seconds east of UTC
  if (t.size() == 20) {
    if (t[19] != 'Z') return std::nullopt;
  } else {
    const int off_hour = Digits(t, 20, 2), off_minute = Digits(t, 23, 2);
    if ((t[19] != '+' && t[19] != '-') || t[22] != ':' || off_hour < 0 || off_hour > 23 ||
        off_minute < 0 || off_minute > 59) {
      return std::nullopt;
    }
    offset = (t[19] == '-' ? -1 : 1) * (off_hour * 3600 + off_minute * 60);
  }
  return DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
         hour * 3600 + minute * 60 + second - offset;
}

}  // namespace

// A fixed offset, so no zone database is needed.
const absl::TimeZone& ChinaTime() {
  static const absl::TimeZone* zone = new absl::TimeZone(absl::FixedTimeZone(8 * 3600));
  return *zone;
}

uint32_t DayNumber(absl::CivilDay day) {
  return static_cast<uint32_t>(day.year() * 10000 + day.month() * 100 + day.day());
}

int64_t NowSeconds() {
  // The coarse clock (the last tick, a few ms old) is plenty for seconds and costs a few ns
  // instead of absl::Now()'s ~25: the daemon asks for every request (staleness, validity).
  timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return ts.tv_sec;
}

int64_t DayStart(uint32_t yyyymmdd) {
  // Arithmetic, not absl::FromCivil (a case's start is computed for every line of a feed).
  constexpr int64_t kChinaOffset = 8 * 3600;
  return DaysFromCivil(yyyymmdd / 10000, yyyymmdd / 100 % 100, yyyymmdd % 100) * 86400 -
         kChinaOffset;
}

uint32_t DayOf(int64_t instant) {
  return DayNumber(absl::ToCivilDay(absl::FromUnixSeconds(instant), ChinaTime()));
}

absl::StatusOr<int64_t> ParseInstant(std::string_view text) {
  if (const std::optional<int64_t> instant = ParseCanonicalInstant(text)) return *instant;
  absl::Time time;
  std::string error;
  // RFC 3339 requires the 'T' and a zone, "Z" or "+08:00": absl's %Ez also takes "+08".
  const size_t n = text.size();
  const bool zone = n >= 20 && (text[n - 1] == 'Z' || text[n - 1] == 'z' ||
                                ((text[n - 6] == '+' || text[n - 6] == '-') && text[n - 3] == ':'));
  if (!zone || (text[10] != 'T' && text[10] != 't') ||
      !absl::ParseTime(absl::RFC3339_full, std::string(text), &time, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an RFC 3339 time with a zone (e.g. 2026-06-03T10:00:00+08:00): \"",
                     absl::string_view(text.data(), text.size()), "\""));
  }
  // absl reads second 60 as the next minute's 0 at any time; RFC 3339 allows it only for a leap
  // second, which Unix seconds cannot name: "23:59:60+08:00" would be asked as the next day.
  if (text.substr(17, 2) == "60") {
    return absl::InvalidArgumentError(absl::StrCat(
        "second 60 (a leap second) names no instant shixin can answer for; ask for :59: \"",
        absl::string_view(text.data(), text.size()), "\""));
  }
  return absl::ToUnixSeconds(time);
}

std::string FormatInstant(int64_t instant) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", absl::FromUnixSeconds(instant), ChinaTime());
}

std::string FormatDate(uint32_t d) {
  if (d == 0) return "";
  return absl::StrFormat("%04d-%02d-%02d", d / 10000, d / 100 % 100, d % 100);
}

int64_t TermEndInstant(uint32_t term_end) {
  if (term_end == 0) return kForever;
  return DayStart(term_end) + 86400;  // the next day's start: no daylight saving in China
}

std::vector<Interval> MergeIntervals(std::vector<Interval> intervals) {
  std::erase_if(intervals, [](const Interval& i) { return i.empty(); });
  std::sort(intervals.begin(), intervals.end(),
            [](const Interval& a, const Interval& b) { return a.from < b.from; });
  std::vector<Interval> blocks;
  for (const Interval& i : intervals) {
    if (!blocks.empty() && i.from <= blocks.back().until) {
      blocks.back().until = std::max(blocks.back().until, i.until);
    } else {
      blocks.push_back(i);
    }
  }
  return blocks;
}

std::optional<Interval> BlockAt(std::span<const Interval> intervals, int64_t t) {
  std::optional<Interval> block;
  for (const Interval& i : intervals) {
    if (!i.empty() && i.Contains(t)) block = i;
  }
  if (!block) return std::nullopt;
  // Grow the block until no interval extends it; the lists are a subject's few cases.
  for (bool grew = true; grew;) {
    grew = false;
    for (const Interval& i : intervals) {
      if (i.empty()) continue;
      if (i.from < block->from && i.until >= block->from) {
        block->from = i.from;
        grew = true;
      }
      if (i.until > block->until && i.from <= block->until) {
        block->until = i.until;
        grew = true;
      }
    }
  }
  return block;
}

}  // namespace shixin
