#include "core/validity.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace shixin {
namespace {

// 2026-06-03T00:00:00+08:00 = 2026-06-02T16:00:00Z.
constexpr int64_t kJune3 = 1780416000;

TEST(ValidityTest, DaysAreChinaStandardTime) {
  EXPECT_EQ(DayStart(20260603), kJune3);
  EXPECT_EQ(DayOf(kJune3), 20260603u);
  EXPECT_EQ(DayOf(kJune3 - 1), 20260602u);
  EXPECT_EQ(TermEndInstant(20260603), kJune3 + 86400);
  EXPECT_EQ(TermEndInstant(0), kForever);
  EXPECT_EQ(DayStart(20240229) + 86400, DayStart(20240301));
  // Every day from 1900 to 2100 as absl's civil time gives it.
  for (absl::CivilDay day(1900, 1, 1); day.year() <= 2100; day += 1) {
    const int64_t want = absl::ToUnixSeconds(absl::FromCivil(day, ChinaTime()));
    ASSERT_EQ(DayStart(DayNumber(day)), want) << day;
    ASSERT_EQ(TermEndInstant(DayNumber(day)), want + 86400) << day;
  }
}

TEST(ValidityTest, ParsesAndFormatsRfc3339) {
  EXPECT_EQ(*ParseInstant("2026-06-03T00:00:00+08:00"), kJune3);
  EXPECT_EQ(*ParseInstant("2026-06-02T16:00:00Z"), kJune3);
  EXPECT_EQ(*ParseInstant("2026-06-02T16:00:00.75Z"), kJune3);
  EXPECT_EQ(*ParseInstant("2026-06-02t16:00:00.75+00:00"), kJune3);
  EXPECT_NE(std::string(ParseInstant("2026-12-06T23:59:60+08:00").status().message())
                .find("second 60 (a leap second)"),
            std::string::npos);
  EXPECT_EQ(FormatInstant(kJune3 + 36000), "2026-06-03T10:00:00+08:00");
  for (const char* bad :
       {"", "2026-06-03", "2026-06-03 10:00:00+08:00", "2026-06-03T10:00:00",
        "2026-13-03T10:00:00Z", "yesterday", "2026-06-03T10:00:00+08:00x", "2026-06-03T10:00:00+08",
        "2026-06-03T10:00:00.5+08", "2026-12-06T23:59:60+08:00", "2016-12-31T23:59:60Z",
        "2026-12-06T23:59:60.5+08:00"}) {
    absl::StatusOr<int64_t> t = ParseInstant(bad);
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

// ParseInstant's own parser of the feeds' form must agree with absl's RFC 3339 parser, which
// it replaces for that form, on every string of that shape: good, out of range or malformed.
TEST(ValidityTest, CanonicalInstantsParseAsAbslDoes) {
  std::mt19937_64 rng(20261201);
  const auto reference = [](const std::string& text) -> std::optional<int64_t> {
    absl::Time time;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, text, &time, &error)) return std::nullopt;
    return absl::ToUnixSeconds(time);
  };
  const std::string templates[] = {"2026-06-03T10:00:00+08:00", "2026-06-03T10:00:00Z",
                                   "2026-06-03T10:00:00-05:30"};
  int accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string text = templates[i % std::size(templates)];
    // Random digits everywhere a digit stands (so months 00-99, days 00-99, hours 00-99...),
    // and now and then any byte at any place.
    for (char& c : text) {
      if (c >= '0' && c <= '9') c = static_cast<char>('0' + rng() % (i % 2 == 0 ? 10 : 3));
    }
    if (i % 7 == 0) text[rng() % text.size()] = "0T:-+Zzt 9x."[rng() % 12];
    if (i % 11 == 0) text.resize(rng() % (text.size() + 1));
    const absl::StatusOr<int64_t> got = ParseInstant(text);
    // RFC 3339 where absl is lax: a zone "Z" or "+HH:MM" (not "+HH"), no second 60.
    const size_t n = text.size();
    const bool strict = n >= 20 && (text[10] == 'T' || text[10] == 't') &&
                        (text[n - 1] == 'Z' || text[n - 1] == 'z' ||
                         ((text[n - 6] == '+' || text[n - 6] == '-') && text[n - 3] == ':')) &&
                        text.substr(17, 2) != "60";
    const std::optional<int64_t> want = strict ? reference(text) : std::nullopt;
    ASSERT_EQ(got.ok(), want.has_value()) << text;
    if (want) {
      ASSERT_EQ(*got, *want) << text;
      ++accepted;
    }
  }
  EXPECT_GT(accepted, 10000);  // the loop reached real times, not only refusals
  EXPECT_EQ(*ParseInstant("2024-02-29T23:59:59-00:01"), *reference("2024-02-29T23:59:59-00:01"));
  EXPECT_EQ(*ParseInstant("1969-12-31T23:59:59Z"), -1);
  EXPECT_FALSE(ParseInstant("2025-02-29T00:00:00Z").ok());
}

TEST(ValidityTest, CaseIntervalEndsAtTermOrChange) {
  CaseView c;
  c.start = kJune3;
  EXPECT_EQ(CaseInterval(c), (Interval{kJune3, kForever}));
  c.term_end = 20260604;  // counts through 4 June
  EXPECT_EQ(CaseInterval(c), (Interval{kJune3, kJune3 + 2 * 86400}));
  c.ended_at = kJune3 + 3600;
  c.end = EndReason::kPerformed;
  EXPECT_EQ(CaseInterval(c), (Interval{kJune3, kJune3 + 3600}));
  c.ended_at = kJune3 - 1;  // removed before it was published: never counted
  EXPECT_TRUE(CaseInterval(c).empty());
}

TEST(ValidityTest, BlockAtMergesTouchingIntervals) {
  const std::vector<Interval> v = {{30, 40}, {10, 20}, {20, 25}, {50, kForever}, {5, 5}};
  EXPECT_EQ(BlockAt(v, 15), (Interval{10, 25}));
  EXPECT_EQ(BlockAt(v, 24), (Interval{10, 25}));
  EXPECT_FALSE(BlockAt(v, 25).has_value());
  EXPECT_FALSE(BlockAt(v, 5).has_value());
  EXPECT_EQ(BlockAt(v, 35), (Interval{30, 40}));
  EXPECT_EQ(BlockAt(v, 1000), (Interval{50, kForever}));
}

TEST(ValidityTest, EndReasonNames) {
  EXPECT_EQ(EndReasonName(EndReason::kCreditorRequest), "creditor_request");
  EXPECT_EQ(EndReasonName(EndReason::kRevoked), "revoked");
  EXPECT_EQ(RemoveReasonFromName("no_assets"), EndReason::kNoAssets);
  EXPECT_EQ(RemoveReasonFromName("term_ended"), EndReason::kTermEnded);
  EXPECT_FALSE(RemoveReasonFromName("revoked").has_value());
  EXPECT_FALSE(RemoveReasonFromName("").has_value());
}

TEST(ValidityTest, FormatDate) {
  EXPECT_EQ(FormatDate(20190714), "2019-07-14");
  EXPECT_EQ(FormatDate(0), "");
}

}  // namespace
}  // namespace shixin
