#include "base/enum_names.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace shixin {
namespace {

enum class Color : uint8_t { kRed = 0, kGreen = 1, kBlue = 2 };
enum class Op : uint8_t { kFirst = 1, kSecond = 2 };

TEST(EnumNameTest, NamesEachEnumeratorAndNothingElse) {
  static constexpr std::string_view kColors[] = {"red", "green", "blue"};
  EXPECT_EQ(EnumName(Color::kRed, kColors, "?"), "red");
  EXPECT_EQ(EnumName(Color::kBlue, kColors, "?"), "blue");
  EXPECT_EQ(EnumName(static_cast<Color>(3), kColors, "?"), "?");
  EXPECT_EQ(EnumName(static_cast<Color>(255), kColors, "?"), "?");
}

TEST(EnumNameTest, TablesMayStartAtAnotherValue) {
  static constexpr std::string_view kOps[] = {"FIRST", "SECOND"};
  EXPECT_EQ(EnumName(Op::kFirst, kOps, "UNKNOWN", 1), "FIRST");
  EXPECT_EQ(EnumName(Op::kSecond, kOps, "UNKNOWN", 1), "SECOND");
  EXPECT_EQ(EnumName(static_cast<Op>(0), kOps, "UNKNOWN", 1), "UNKNOWN");
  static_assert(EnumName(Op::kSecond, kOps, "UNKNOWN", 1) == "SECOND");
}

}  // namespace
}  // namespace shixin
