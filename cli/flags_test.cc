#include "cli/flags.h"

#include <gtest/gtest.h>

namespace shixin {
namespace {

const std::vector<FlagSpec> kSpecs = {{"json", false}, {"data", true}, {"officer", true}};

TEST(FlagsTest, ParsesValuesBooleansAndPositionals) {
  auto flags = Flags::Parse(
      {"--json", "--data", "dir", "a", "--officer=x=1", "--officer", "y=2", "b"}, kSpecs);
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_TRUE(flags->Has("json"));
  EXPECT_EQ(flags->Get("data"), "dir");
  EXPECT_EQ(flags->GetAll("officer"), (std::vector<std::string>{"x=1", "y=2"}));
  EXPECT_EQ(flags->positional(), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(flags->Get("missing").has_value());
}

TEST(FlagsTest, RejectsUnknownAndIncompleteFlags) {
  EXPECT_FALSE(Flags::Parse({"--nope"}, kSpecs).ok());
  EXPECT_FALSE(Flags::Parse({"--data"}, kSpecs).ok());
  EXPECT_FALSE(Flags::Parse({"--json=1"}, kSpecs).ok());
}

TEST(FlagsTest, GetUint) {
  auto flags = Flags::Parse({"--data", "12"}, kSpecs);
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(*flags->GetUint("data", 0), 12u);
  EXPECT_EQ(*flags->GetUint("officer", 7), 7u);
  auto bad = Flags::Parse({"--data", "-3"}, kSpecs);
  EXPECT_FALSE(bad->GetUint("data", 0).ok());
}

TEST(FlagsTest, SingleDashIsPositional) {
  auto flags = Flags::Parse({"-"}, kSpecs);
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(flags->positional(), std::vector<std::string>{"-"});
}

}  // namespace
}  // namespace shixin
