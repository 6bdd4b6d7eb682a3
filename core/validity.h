// The list's time model (docs/feed.md): instants, the China Standard Time days the feed's dates
// name, when one case version counts, and a subject's listing as the union of its cases'.
//
// Instants are Unix seconds (int64_t). A feed date (YYYYMMDD) names a day in China Standard
// Time (UTC+08:00, no daylight saving since 1991): publishDate starts counting at 00:00 of its
// day, termEnd is the last day that counts (the case stops at 00:00 of the next day).
//
// Thread safety: pure functions and plain values.
#ifndef SHIXIN_CORE_VALIDITY_H_
#define SHIXIN_CORE_VALIDITY_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "core/record.h"

namespace shixin {

// An instant that never comes: an open end.
inline constexpr int64_t kForever = std::numeric_limits<int64_t>::max();
// The instants a change in a delta may name (its `at`): after 1970-01-01T00:00:00Z, which a case
// record's ended_at uses for "not ended", and before 2106-02-07T06:28:15Z, the u32 seconds of
// the snapshot's tables, whose largest value means "no end" (docs/feed.md, section 2).
inline constexpr int64_t kFirstDeltaInstant = 1;
inline constexpr int64_t kLastDeltaInstant = 0xFFFFFFFE;  // 2106-02-07T06:28:14Z

// Returns the clock's time, Unix seconds.
int64_t NowSeconds();

// Returns 00:00 +08:00 of the day `yyyymmdd` as Unix seconds.
// REQUIRES: yyyymmdd is a real date (as ParseFeedDate returns).
int64_t DayStart(uint32_t yyyymmdd);
// Returns the day (YYYYMMDD, China Standard Time) that contains `instant`.
uint32_t DayOf(int64_t instant);
// Returns the days from 1970-01-01 to the proleptic Gregorian date y-m-d (H. Hinnant's
// days_from_civil). REQUIRES: 1 <= m <= 12, 1 <= d <= 31.
constexpr int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
// Returns China Standard Time (UTC+8, no daylight saving): the zone of the list's dates,
// quarters and report due dates.
const absl::TimeZone& ChinaTime();
// Returns `day` as the integer YYYYMMDD.
uint32_t DayNumber(absl::CivilDay day);

// Parses an RFC 3339 time with a zone ("2026-06-03T10:00:00+08:00", "2026-06-03T02:00:00Z";
// fractions of a second are cut). Returns InvalidArgument naming what is wrong otherwise.
absl::StatusOr<int64_t> ParseInstant(std::string_view text);
// Returns `instant` as RFC 3339 in China Standard Time, e.g. "2026-06-03T10:00:00+08:00".
std::string FormatInstant(int64_t instant);
// Returns the day `yyyymmdd` as "2019-01-14" (for 20190114), or "" for 0.
std::string FormatDate(uint32_t yyyymmdd);

// The instants [from, until) during which something counts; until == kForever: no known end.
struct Interval {
  int64_t from = 0;
  int64_t until = kForever;

  bool Contains(int64_t t) const { return from <= t && t < until; }
  bool empty() const { return from >= until; }
  bool operator==(const Interval&) const = default;
};

// Returns when the case version `c` counts: from c.start until the end of its term or
// c.ended_at, whichever is first (empty if it ended before it started).
template <typename Str>
Interval CaseInterval(const BasicCaseRecord<Str>& c);
// Returns the end of the term ending on `term_end` (kForever for 0: no fixed term).
int64_t TermEndInstant(uint32_t term_end);

// Returns the maximal block of the union of `intervals` that contains `t` (overlapping and
// touching intervals merge), or nullopt if none contains t. Any order; empty ones are ignored.
std::optional<Interval> BlockAt(std::span<const Interval> intervals, int64_t t);

// Returns the blocks of the union of `intervals`: sorted by start, disjoint and not touching
// (overlapping and touching intervals merge); empty intervals are dropped.
std::vector<Interval> MergeIntervals(std::vector<Interval> intervals);

template <typename Str>
Interval CaseInterval(const BasicCaseRecord<Str>& c) {
  Interval i{c.start, TermEndInstant(c.term_end)};
  if (c.ended_at != 0 && c.ended_at < i.until) i.until = c.ended_at;
  return i;
}

}  // namespace shixin

#endif  // SHIXIN_CORE_VALIDITY_H_
