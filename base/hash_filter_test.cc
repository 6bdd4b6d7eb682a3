#include "base/hash_filter.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace shixin {
namespace {

// A well-mixed 64-bit hash of i (splitmix64's finaliser), as the filter's keys are.
uint64_t Mixed(uint64_t i) {
  uint64_t z = i + 0x9e3779b97f4a7c15;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

TEST(HashFilterTest, AnEmptyFilterHoldsNothing) {
  const HashFilter filter;
  EXPECT_GE(filter.capacity(), 1u);
  for (uint64_t i = 0; i < 1000; ++i) EXPECT_FALSE(filter.MayContain(Mixed(i))) << i;
}

TEST(HashFilterTest, EveryKeyInsertedIsFoundAndFewOthersAre) {
  constexpr uint64_t kKeys = 100'000;
  HashFilter filter;
  filter.Reset(kKeys);
  EXPECT_GE(filter.capacity(), kKeys);
  EXPECT_LT(filter.capacity(), 2 * kKeys);
  for (uint64_t i = 0; i < kKeys; ++i) filter.Insert(Mixed(i));
  for (uint64_t i = 0; i < kKeys; ++i) ASSERT_TRUE(filter.MayContain(Mixed(i))) << i;
  uint64_t false_maybes = 0;
  for (uint64_t i = kKeys; i < 11 * kKeys; ++i) false_maybes += filter.MayContain(Mixed(i));
  // Full (16 bits a key, four in one word): ~1 % of a million keys never inserted.
  EXPECT_LT(false_maybes, 20'000u);
  EXPECT_GT(filter.Bytes(), 0u);
}

TEST(HashFilterTest, ResetEmptiesIt) {
  HashFilter filter;
  filter.Insert(Mixed(7));
  EXPECT_TRUE(filter.MayContain(Mixed(7)));
  filter.Reset(10);
  EXPECT_FALSE(filter.MayContain(Mixed(7)));
}

}  // namespace
}  // namespace shixin
