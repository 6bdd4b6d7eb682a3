#include "loadtest/histogram.h"

#include <cmath>
#include <cstdint>
#include <random>

#include "gtest/gtest.h"

namespace shixin::loadtest {
namespace {

TEST(HistogramTest, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(50), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(HistogramTest, SmallValuesAreExact) {
  Histogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(50), 50u);
  EXPECT_EQ(h.Percentile(99), 99u);
  EXPECT_EQ(h.Percentile(100), 100u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(HistogramTest, BucketsTileTheRange) {
  EXPECT_EQ(Histogram::BucketOf(Histogram::kMaxTrackable), Histogram::kBuckets - 1);
  for (size_t b = 0; b + 1 < Histogram::kBuckets; ++b) {
    ASSERT_EQ(Histogram::BucketHigh(b) + 1, Histogram::BucketLow(b + 1)) << b;
    ASSERT_EQ(Histogram::BucketOf(Histogram::BucketLow(b)), b);
    ASSERT_EQ(Histogram::BucketOf(Histogram::BucketHigh(b)), b);
  }
}

TEST(HistogramTest, PrecisionWithinOnePercentFromOneMicrosecondToOneMinute) {
  for (uint64_t v = 1000; v <= 60'000'000'000ULL; v = v * 1.37 + 1) {
    Histogram h;
    h.Record(v);
    h.Record(v + 1);  // keeps max() from clamping the reported value to v exactly
    const double reported = static_cast<double>(h.Percentile(1));
    EXPECT_LE(std::fabs(reported - v) / v, 0.01) << v;
  }
}

TEST(HistogramTest, PercentilesOfAUniformDistribution) {
  Histogram h;
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<uint64_t> dist(1'000, 1'000'000);  // 1 us .. 1 ms
  for (int i = 0; i < 200000; ++i) h.Record(dist(rng));
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const double expected = 1000 + (1'000'000 - 1000) * p / 100;
    EXPECT_NEAR(h.Percentile(p), expected, expected * 0.02) << p;
  }
}

TEST(HistogramTest, MaxIsExactAndHugeValuesAreClamped) {
  Histogram h;
  h.Record(5);
  h.Record(1ULL << 45);
  EXPECT_EQ(h.max(), 1ULL << 45);
  EXPECT_EQ(h.Percentile(100), 1ULL << 45);  // never above max, the bucket's middle below it
  EXPECT_EQ(h.Percentile(50), 5u);
}

TEST(HistogramTest, MergeAddsCounts) {
  Histogram a, b;
  for (int i = 0; i < 90; ++i) a.Record(1000);
  for (int i = 0; i < 10; ++i) b.Record(1'000'000);
  a.Merge(b);
  EXPECT_EQ(a.count(), 100u);
  EXPECT_NEAR(a.Percentile(90), 1000, 10);
  EXPECT_NEAR(a.Percentile(91), 1'000'000, 10'000);
  EXPECT_EQ(a.max(), 1'000'000u);
  EXPECT_EQ(a.min(), 1000u);
  a.Clear();
  EXPECT_EQ(a.count(), 0u);
}

}  // namespace
}  // namespace shixin::loadtest
