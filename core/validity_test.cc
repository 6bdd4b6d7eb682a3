#include "core/validity.h"

#include <gtest/gtest.h>

#include <vector>

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
}

TEST(ValidityTest, ParsesAndFormatsRfc3339) {
  EXPECT_EQ(*ParseInstant("2026-06-03T00:00:00+08:00"), kJune3);
  EXPECT_EQ(*ParseInstant("2026-06-02T16:00:00Z"), kJune3);
  EXPECT_EQ(*ParseInstant("2026-06-02T16:00:00.75Z"), kJune3);
  EXPECT_EQ(FormatInstant(kJune3 + 36000), "2026-06-03T10:00:00+08:00");
  for (const char* bad : {"", "2026-06-03", "2026-06-03 10:00:00+08:00", "2026-06-03T10:00:00",
                          "2026-13-03T10:00:00Z", "yesterday", "2026-06-03T10:00:00+08:00x"}) {
    absl::StatusOr<int64_t> t = ParseInstant(bad);
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
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
