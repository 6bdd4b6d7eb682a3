#include "core/validity.h"

#include <time.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace shixin {

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
  const absl::CivilDay day(yyyymmdd / 10000, yyyymmdd / 100 % 100, yyyymmdd % 100);
  return absl::ToUnixSeconds(absl::FromCivil(day, ChinaTime()));
}

uint32_t DayOf(int64_t instant) {
  return DayNumber(absl::ToCivilDay(absl::FromUnixSeconds(instant), ChinaTime()));
}

absl::StatusOr<int64_t> ParseInstant(std::string_view text) {
  absl::Time time;
  std::string error;
  // RFC 3339 requires the 'T' and a zone; absl's %Ez accepts "Z" and "+08:00".
  if (text.size() < 20 || (text[10] != 'T' && text[10] != 't') ||
      !absl::ParseTime(absl::RFC3339_full, std::string(text), &time, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an RFC 3339 time with a zone (e.g. 2026-06-03T10:00:00+08:00): \"",
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
  const absl::CivilDay next =
      absl::CivilDay(term_end / 10000, term_end / 100 % 100, term_end % 100) + 1;
  return absl::ToUnixSeconds(absl::FromCivil(next, ChinaTime()));
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
