#include "daemon/file_modes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "daemon/config.h"

namespace shixin {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

class FileModesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "etc");
    std::filesystem::create_directories(dir_ / "state");
    std::ofstream(dir_ / "etc/callers.toml") << "version = 1\n";
    std::ofstream(dir_ / "etc/server.key") << "key\n";
    Chmod("etc", 0755);
    Chmod("etc/callers.toml", 0600);
    Chmod("etc/server.key", 0600);
    Chmod("state", 0700);
    config_.callers_file = Path("etc/callers.toml");
    config_.state_dir = Path("state");
    config_.tls_key = Path("etc/server.key");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const char* name) const { return (dir_ / name).string(); }
  void Chmod(const char* name, mode_t mode) { ASSERT_EQ(::chmod(Path(name).c_str(), mode), 0); }

  std::filesystem::path dir_;
  Config config_;
};

TEST_F(FileModesTest, TheDaemonsOwnFilesAreQuiet) {
  EXPECT_EQ(LooseFileModesWarning(config_), "");
  EXPECT_EQ(LooseFileModesWarning(Config{}), "");  // nothing configured
  // A key its group reads is how a dynamic user reads it: quiet when the daemon is in the group.
  Chmod("etc/server.key", 0640);
  EXPECT_EQ(LooseFileModesWarning(config_), "");
  // A sticky directory (/tmp): others cannot replace the daemon's callers file in it.
  Chmod("etc", 01777);
  EXPECT_EQ(LooseFileModesWarning(config_), "");
}

TEST_F(FileModesTest, OthersWhoCanWriteTheCallersOrStateOrReadTheKeyAreNamed) {
  Chmod("etc/callers.toml", 0666);
  Chmod("state", 0777);
  Chmod("etc/server.key", 0644);
  const std::string warning = LooseFileModesWarning(config_);
  EXPECT_THAT(
      warning,
      AllOf(HasSubstr("loose permissions: callers_file " + Path("etc/callers.toml") +
                      " is writable by its group and others (0666)"),
            HasSubstr("state_dir " + Path("state") + " is writable by its group and others (0777)"),
            HasSubstr("tls_key " + Path("etc/server.key") +
                      " is readable or writable by others (0644)")));
  EXPECT_EQ(warning.find('\n'), std::string::npos);  // one log line
  Chmod("etc/callers.toml", 0620);
  Chmod("state", 0750);
  Chmod("etc/server.key", 0600);
  EXPECT_THAT(LooseFileModesWarning(config_),
              AllOf(HasSubstr("is writable by its group (0620)"), Not(HasSubstr("state_dir /")),
                    Not(HasSubstr("tls_key /"))));
}

// Finding 6 (x21): a state_dir restored under umask 0 has its directory 0700 but its audit
// segments and node_id 0666: named on SIGHUP, and closed at start.
TEST_F(FileModesTest, AuditFilesAndNodeIdOpenToOthersAreNamedAndClosed) {
  std::filesystem::create_directories(dir_ / "state/audit");
  std::ofstream(dir_ / "state/node_id") << "0badf00d\n";
  std::ofstream(dir_ / "state/audit/0000000001.audit") << "segment";
  std::ofstream(dir_ / "state/audit/0000000001.marks") << "marks";
  std::ofstream(dir_ / "state/audit/0000000002.audit") << "segment";
  Chmod("state/audit", 0700);
  Chmod("state/node_id", 0600);
  Chmod("state/audit/0000000001.audit", 0600);
  Chmod("state/audit/0000000001.marks", 0600);
  Chmod("state/audit/0000000002.audit", 0600);
  EXPECT_EQ(LooseFileModesWarning(config_), "");
  EXPECT_EQ(TightenStateDirModes(Path("state")), "");
  Chmod("state/audit", 0777);
  Chmod("state/node_id", 0666);
  Chmod("state/audit/0000000001.audit", 0644);
  Chmod("state/audit/0000000001.marks", 0666);
  Chmod("state/audit/0000000002.audit", 0640);
  EXPECT_THAT(LooseFileModesWarning(config_),
              HasSubstr("5 of state_dir's node_id, audit directory and audit files are open to "
                        "their group or others (" +
                        Path("state/audit") + " 0777, ...)"));
  const std::string line = TightenStateDirModes(Path("state"));
  EXPECT_THAT(line, AllOf(HasSubstr("state_dir " + Path("state") + ": 5 of node_id"),
                          HasSubstr("took that access away (files 0600, directory 0700) from 5: " +
                                    Path("state/audit") + " 0777, " +
                                    Path("state/audit/0000000001.audit") + " 0644, ")));
  struct stat st {};
  for (const char* name : {"state/node_id", "state/audit/0000000001.audit",
                           "state/audit/0000000001.marks", "state/audit/0000000002.audit"}) {
    ASSERT_EQ(::stat(Path(name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
  }
  ASSERT_EQ(::stat(Path("state/audit").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(LooseFileModesWarning(config_), "");
}

TEST_F(FileModesTest, ADirectoryOthersWriteCanReplaceTheCallersFile) {
  Chmod("etc", 0777);
  EXPECT_THAT(LooseFileModesWarning(config_),
              HasSubstr("the callers_file's directory " + Path("etc") +
                        "/ is writable by its group and others (0777)"));
}

TEST_F(FileModesTest, AKeyReadableByAGroupTheDaemonIsNotInIsNamed) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the key another group";
  ASSERT_EQ(::chown(Path("etc/server.key").c_str(), static_cast<uid_t>(-1), 4242), 0);
  Chmod("etc/server.key", 0640);
  EXPECT_THAT(LooseFileModesWarning(config_),
              HasSubstr("tls_key " + Path("etc/server.key") +
                        " is readable or writable by its group (0640)"));
}

// In a child: the test process itself stays dumpable (and debuggable).
TEST(CoreDumpsTest, TheDaemonIsNotDumpableUnlessAsked) {
  EXPECT_EXIT(
      {
        Config config;
        const bool ok = ApplyCoreDumps(config).ok();
        std::_Exit(ok && ::prctl(PR_GET_DUMPABLE) == 0 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(
      {
        Config config;
        config.core_dumps = true;
        const bool ok = ApplyCoreDumps(config).ok();
        std::_Exit(ok && ::prctl(PR_GET_DUMPABLE) == 1 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace shixin
