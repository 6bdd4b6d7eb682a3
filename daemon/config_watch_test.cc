#include "daemon/config_watch.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "core/paths.h"
#include "daemon/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;

class ConfigWatchTest : public ::testing::Test {
 protected:
  // One file per test: ctest runs this fixture's tests in parallel processes.
  void SetUp() override {
    path_ = ::testing::TempDir() + "/config_watch_test." + std::to_string(::getpid()) + ".toml";
  }
  void TearDown() override { std::remove(path_.c_str()); }
  void Write(const std::string& text) { ASSERT_TRUE(WriteFileAtomically(path_, text).ok()); }

  std::string path_;
};

TEST_F(ConfigWatchTest, NothingToSayOfAnUnchangedFileOrNone) {
  EXPECT_EQ(ConfigWatch().Note(), "");
  const std::string text = "max_batch = 100\n";
  Write(text);
  EXPECT_EQ(ConfigWatch(path_, text).Note(), "");
}

TEST_F(ConfigWatchTest, AnEditIsNamedAsNotApplied) {
  const ConfigWatch watch(path_, "max_batch = 100\n");
  Write("max_batch = 2\n");
  EXPECT_EQ(watch.Note(), path_ +
                              " changed since start: a reload does not read it, its changes "
                              "apply at the next restart");
}

// The watch remembers the bytes the start applied, not a second read: an edit between the load
// and the watch (configuration management rewriting the file during a restart) is named too.
TEST_F(ConfigWatchTest, RemembersTheBytesLoadedNotTheFileRereadAfter) {
  Write("max_batch = 100\n");
  Config config;
  std::string text;
  ASSERT_TRUE(LoadConfigFile(path_, &config, &text).ok());
  EXPECT_EQ(config.max_batch, 100u);
  EXPECT_EQ(text, "max_batch = 100\n");
  Write("max_batch = 2\n");  // the edit, before the watch is made
  EXPECT_THAT(ConfigWatch(path_, text).Note(), HasSubstr(" changed since start"));
  Write("max_batch = 100\n");  // the file as applied again: nothing to say
  EXPECT_EQ(ConfigWatch(path_, text).Note(), "");
}

// A huge file at the path (a log redirected there) is refused unread, at start and by each
// reload's note, not read whole into memory.
TEST_F(ConfigWatchTest, AFileOverTheLimitIsNotRead) {
  Write("max_batch = 100\n");
  const ConfigWatch watch(path_, "max_batch = 100\n");
  ASSERT_EQ(truncate(path_.c_str(), 400 << 20), 0);  // sparse: no 400 MB written
  const std::string too_large = path_ + ": more than 1048576 bytes";
  EXPECT_THAT(watch.Note(), HasSubstr("cannot be read now (" + too_large + ")"));
  Config config;
  EXPECT_EQ(LoadConfigFile(path_, &config).message(), "config file " + too_large);
  ASSERT_EQ(truncate(path_.c_str(), kMaxConfigFileBytes), 0);  // the limit itself is read
  EXPECT_THAT(watch.Note(), HasSubstr("next restart would fail"));
}

// A broken edit is found by the reload, not by the next restart: the key's line, or a path the
// file names that does not exist.
TEST_F(ConfigWatchTest, AnEditTheNextRestartWouldRefuseSaysWhy) {
  const ConfigWatch watch(path_, "max_batch = 100\n");
  Write("# edited\nmax_batch = 0\n");
  EXPECT_THAT(watch.Note(), HasSubstr(" changed since start and the next restart would fail: " +
                                      path_ + ":2: max_batch = 0 is out of range"));
  Write("data_dir = \"" + ::testing::TempDir() + "\"\ncallers_file = \"/nonexistent/c.toml\"\n");
  EXPECT_THAT(watch.Note(), HasSubstr("the next restart would fail: callers_file"));
  ASSERT_EQ(std::remove(path_.c_str()), 0);
  EXPECT_THAT(watch.Note(), HasSubstr("cannot be read now"));
}

}  // namespace
}  // namespace shixin
