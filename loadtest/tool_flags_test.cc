#include "loadtest/tool_flags.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/flag.h"

ABSL_FLAG(int, test_count, 3, "a number");
ABSL_FLAG(double, reload_every, 0, "seconds between reloads");
ABSL_FLAG(std::string, test_label, "", "a label");
ABSL_FLAG(bool, test_quiet, false, "fewer lines");

namespace shixin {
namespace {

std::vector<std::string> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "tool");
  std::vector<char*> argv;
  argv.reserve(args.size());
  for (std::string& a : args) argv.push_back(a.data());
  return ParseToolFlags(static_cast<int>(argv.size()), argv.data(), "usage: tool\n",
                        absl::GetFlagReflectionHandle(FLAGS_test_count));
}

TEST(ToolFlagsTest, DashesAndUnderscoresNameTheSameFlag) {
  EXPECT_TRUE(Parse({"--reload-every=2.5", "--test-count", "7"}).empty());
  EXPECT_EQ(absl::GetFlag(FLAGS_reload_every), 2.5);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 7);
  Parse({"--reload_every", "4", "--test_count=8"});
  EXPECT_EQ(absl::GetFlag(FLAGS_reload_every), 4);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 8);
}

TEST(ToolFlagsTest, ValuesAndPositionalArgumentsAreKept) {
  const std::vector<std::string> rest =
      Parse({"--test-label", "-a-b", "--test-quiet", "x-y", "--", "--test-count"});
  EXPECT_EQ(absl::GetFlag(FLAGS_test_label), "-a-b");
  EXPECT_TRUE(absl::GetFlag(FLAGS_test_quiet));
  EXPECT_EQ(rest, (std::vector<std::string>{"x-y", "--test-count"}));
  Parse({"--test-label=a-b", "--notest-quiet"});
  EXPECT_EQ(absl::GetFlag(FLAGS_test_label), "a-b");
  EXPECT_FALSE(absl::GetFlag(FLAGS_test_quiet));
}

TEST(ToolFlagsTest, HelpListsTheToolsFlagsWithDefaults) {
  const std::string help =
      ToolFlagsHelp("usage: tool\n", absl::GetFlagReflectionHandle(FLAGS_test_count));
  EXPECT_EQ(help.rfind("usage: tool\n", 0), 0u) << help;
  EXPECT_NE(help.find("--reload-every"), std::string::npos) << help;
  EXPECT_NE(help.find("a number (default 3)"), std::string::npos) << help;
  EXPECT_NE(help.find("--test-quiet"), std::string::npos) << help;
  EXPECT_EQ(help.find("flagfile"), std::string::npos) << help;  // absl's own flags are not listed
  EXPECT_LT(help.find("--reload-every"), help.find("--test-count"));  // sorted
}

TEST(ToolFlagsDeathTest, HelpExitsZeroAndBadFlagsExitOne) {
  EXPECT_EXIT(Parse({"--help"}), ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(Parse({"-h"}), ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(Parse({"--no-such-flag"}), ::testing::ExitedWithCode(1), "no_such_flag");
  EXPECT_EXIT(Parse({"--test-count", "x"}), ::testing::ExitedWithCode(1), "test_count");
}

}  // namespace
}  // namespace shixin
