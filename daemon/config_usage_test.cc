// The usage text and the shipped example configuration against Config's defaults, which are
// written once (config.h).
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/test_util.h"
#include "daemon/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The usage line of `flag` ("  --max-batch N ..."), or "".
std::string LineOf(const std::string& usage, const std::string& flag) {
  std::istringstream in(usage);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("  " + flag, 0) == 0) return line;
  }
  return "";
}

TEST(UsageTest, ShowsTheDefaultsOfConfig) {
  const std::string usage = UsageText();
  const Config d;
  // A flag's usage line and what it must say.
  const std::pair<std::string, std::string> expected[] = {
      {"--listen HOST:PORT", absl::StrFormat("(default %s)", d.listen)},
      {"--max-connections N", absl::StrFormat("(default %d)", d.max_connections)},
      {"--max-payload BYTES", absl::StrFormat("(default %d)", d.max_payload)},
      {"--max-batch N", absl::StrFormat("(default %d)", d.max_batch)},
      {"--max-in-flight N", absl::StrFormat("(default %d)", d.max_in_flight)},
      {"--idle-timeout-seconds N",
       absl::StrFormat("(default %d; 0: never)", d.idle_timeout_seconds)},
      {"--threads N", "(default 0: one per core)"},
      {"--max-age-seconds N", "(default 0: off)"},
      {"--catalog FILE", "(default: the shipped"},
      {"--admin-loopback-only=BOOL", "(default true)"},
  };
  for (const auto& [flag, shown] : expected) {
    EXPECT_THAT(LineOf(usage, flag), HasSubstr(shown)) << flag;
  }
  EXPECT_NE(LineOf(usage, "--refuse-stale[=BOOL]"), "");
  EXPECT_NE(LineOf(usage, "--data, --data-dir DIR"), "");
  EXPECT_THAT(usage, StartsWith("usage: shixind"));
}

// Every flag the usage text lists is one ApplyFlags() knows.
TEST(UsageTest, ListsOnlyKnownFlags) {
  std::istringstream in(UsageText());
  std::string line;
  int flags = 0;
  while (std::getline(in, line)) {
    if (line.rfind("  --", 0) != 0) continue;
    std::string flag = line.substr(2, line.find_first_of(" ,[=", 2) - 2);
    if (flag == "--version") continue;
    ++flags;
    Config c;
    absl::StatusOr<CommandLine> cl = ApplyFlags({flag, "1"}, &c);
    if (!cl.ok()) {
      EXPECT_THAT(std::string(cl.status().message()), Not(HasSubstr("unknown flag"))) << flag;
    }
  }
  EXPECT_EQ(flags, 43);  // --config and the 42 keys
}

// systemd/shixind.toml shows each key's default as a comment ("# max_batch = 1000"); the
// example paths of snapshot, deltas_dir and catalog are not defaults (state_dir is set).
TEST(UsageTest, TheExampleConfigurationShowsTheDefaults) {
  std::ifstream in(testing::SourceDir() + "/systemd/shixind.toml");
  ASSERT_TRUE(in) << "SHIXIN_SOURCE_DIR";
  std::string line, toml;
  int shown = 0;
  while (std::getline(in, line)) {
    if (line.rfind("# ", 0) != 0 || line.find(" = ") == std::string::npos) continue;
    if (line.rfind("# snapshot", 0) == 0 || line.rfind("# catalog", 0) == 0 ||
        line.rfind("# deltas_dir", 0) == 0) {
      continue;
    }
    toml += line.substr(2) + "\n";
    ++shown;
  }
  Config c;
  ASSERT_TRUE(ParseConfig(toml, "shixind.toml", &c).ok()) << toml;
  EXPECT_TRUE(c == Config()) << toml;
  EXPECT_EQ(shown, 36) << toml;
}

}  // namespace
}  // namespace shixin
