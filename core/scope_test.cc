#include "core/scope.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace shixin {
namespace {

TEST(ScopeTest, NamesAndBitsFollowTheDesign) {
  EXPECT_EQ(ScopeName(Scope::kCheck), "check");
  EXPECT_EQ(ScopeName(Scope::kAdmin), "admin");
  EXPECT_EQ(ScopeBit(Scope::kExport), 16u);
  EXPECT_EQ(ParseScope("feedback"), Scope::kFeedback);
  EXPECT_EQ(ParseScope("Check"), std::nullopt);
  absl::StatusOr<ScopeSet> set = ParseScopes("check, measures,admin");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(*set, 0b100011u);
  EXPECT_EQ(ScopeNames(*set), (std::vector<std::string>{"check", "measures", "admin"}));
  EXPECT_EQ(ScopeNames(kAllScopes).size(), 6u);
  EXPECT_EQ(ScopeNames(0), std::vector<std::string>{});
  EXPECT_FALSE(ParseScopes("check,everything").ok());
  EXPECT_FALSE(ParseScopes("check,").ok());
  EXPECT_FALSE(ParseScopes("").ok());
}

}  // namespace
}  // namespace shixin
