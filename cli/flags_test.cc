#include "cli/flags.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "cli/remote.h"

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

// The flags of a --server command.
absl::StatusOr<Flags> ServerFlags(const std::vector<std::string>& args) {
  return Flags::Parse(args,
                      std::vector<FlagSpec>(std::begin(kConnectFlags), std::end(kConnectFlags)));
}

TEST(CallerCredentialsTest, NoneWithoutCaller) {
  auto flags = ServerFlags({"--server", "127.0.0.1:7411"});
  ASSERT_TRUE(flags.ok());
  auto c = CallerCredentials(*flags, "shx_from_env");  // SHIXIN_TOKEN alone names no caller
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->empty());
}

TEST(CallerCredentialsTest, TokenFromTheEnvironment) {
  auto flags = ServerFlags({"--caller", "bank-a"});
  ASSERT_TRUE(flags.ok());
  auto c = CallerCredentials(*flags, " shx_from_env\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->caller_id, "bank-a");
  EXPECT_EQ(c->token, "shx_from_env");
  // No token at all: refused, naming both ways to give one.
  c = CallerCredentials(*flags, nullptr);
  EXPECT_TRUE(absl::IsInvalidArgument(c.status()));
  EXPECT_NE(c.status().message().find("SHIXIN_TOKEN"), absl::string_view::npos);
  EXPECT_FALSE(CallerCredentials(*flags, "  ").ok());  // empty
}

TEST(CallerCredentialsTest, TokenFileWinsOverTheEnvironment) {
  const std::string path = ::testing::TempDir() + "/flags_test_token." + std::to_string(getpid());
  {
    std::ofstream out(path);
    out << "shx_from_file\nsecond line ignored\n";
  }
  auto flags = ServerFlags({"--caller=bank-a", "--token-file", path});
  ASSERT_TRUE(flags.ok());
  auto c = CallerCredentials(*flags, "shx_from_env");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->token, "shx_from_file");
  std::remove(path.c_str());
  // Unreadable now.
  EXPECT_TRUE(absl::IsInvalidArgument(CallerCredentials(*flags, nullptr).status()));
  // A token file without a caller.
  flags = ServerFlags({"--token-file", path});
  ASSERT_TRUE(flags.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(CallerCredentials(*flags, nullptr).status()));
}

// A token file saved by Windows Notepad: a byte order mark, CRLF, spaces around the token.
TEST(CallerCredentialsTest, TokenFileWithAByteOrderMark) {
  const std::string path = ::testing::TempDir() + "/flags_test_bom." + std::to_string(getpid());
  {
    std::ofstream out(path);
    out << "\xEF\xBB\xBF shx_from_notepad \r\n";
  }
  auto flags = ServerFlags({"--caller=bank-a", "--token-file", path});
  ASSERT_TRUE(flags.ok());
  auto c = CallerCredentials(*flags, nullptr);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->token, "shx_from_notepad");
  std::remove(path.c_str());
}

TEST(CallerCredentialsTest, NoTokenOnTheCommandLine) {
  EXPECT_FALSE(ServerFlags({"--caller", "bank-a", "--token", "shx_secret"}).ok());
}

TEST(FlagsTest, ShortOut) {
  EXPECT_EQ(WithShortOut({"-o", "f", "--data", "-o"}),
            std::vector<std::string>({"--out", "f", "--data", "--out"}));
}

}  // namespace
}  // namespace shixin
