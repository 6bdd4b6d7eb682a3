#include "daemon/buffer_budget.h"

#include <gtest/gtest.h>

namespace shixin {
namespace {

TEST(BufferBudgetTest, FairShareIsTheLimitPerConnectionButNeverTiny) {
  EXPECT_EQ(BufferBudget(256u << 20, 1024).fair_share(), 256u << 10);
  EXPECT_EQ(BufferBudget(1u << 20, 1024).fair_share(), BufferBudget::kMinFairShare);
}

TEST(BufferBudgetTest, ChargesFollowWhatEachHolderHolds) {
  BufferBudget budget(1u << 20, 4);
  uint64_t a = 0, b = 0;
  budget.Charge(&a, 1000);
  budget.Charge(&b, 5000);
  EXPECT_EQ(budget.used(), 6000u);
  budget.Charge(&a, 200);  // shrinks
  EXPECT_EQ(budget.used(), 5200u);
  EXPECT_EQ(a, 200u);
  budget.Charge(&a, 0);
  budget.Charge(&b, 0);
  EXPECT_EQ(budget.used(), 0u);
}

TEST(BufferBudgetTest, OnlyHoldersOverTheirShareStopOnceTheBudgetIsExhausted) {
  BufferBudget budget(1u << 20, 4);  // share: 256 KiB
  uint64_t big = 0, small = 0;
  budget.Charge(&big, 900u << 10);
  budget.Charge(&small, 10u << 10);
  EXPECT_FALSE(budget.MustPause(big));  // under the limit: everyone reads
  budget.Charge(&big, 1100u << 10);
  EXPECT_TRUE(budget.MustPause(big));
  EXPECT_FALSE(budget.MustPause(small));
  budget.Charge(&big, 100u << 10);  // drained
  EXPECT_FALSE(budget.MustPause(big));
}

}  // namespace
}  // namespace shixin
