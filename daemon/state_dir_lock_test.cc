#include "daemon/state_dir_lock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;

std::string TempStateDir(const std::string& name) {
  std::string dir = absl::StrCat(::testing::TempDir(), "/state-lock-", name, "-", ::getpid());
  EXPECT_EQ(std::system(absl::StrCat("rm -rf ", dir).c_str()), 0);
  return dir;
}

TEST(StateDirLockTest, CreatesTheDirectoryAndWritesThePid) {
  const std::string dir = TempStateDir("create");
  absl::StatusOr<StateDirLock> lock = StateDirLock::Acquire(dir);
  ASSERT_TRUE(lock.ok()) << lock.status();
  struct stat st = {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  std::stringstream pid;
  pid << std::ifstream(dir + "/lock").rdbuf();
  EXPECT_EQ(pid.str(), absl::StrCat(::getpid(), "\n"));
}

// flock() locks are per open file description: a second Acquire in this process, or one in
// another process, is refused while the first lock lives, and succeeds once it is gone.
TEST(StateDirLockTest, ASecondHolderIsRefusedUntilTheFirstReleases) {
  const std::string dir = TempStateDir("second");
  {
    absl::StatusOr<StateDirLock> first = StateDirLock::Acquire(dir);
    ASSERT_TRUE(first.ok()) << first.status();
    absl::StatusOr<StateDirLock> second = StateDirLock::Acquire(dir);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(second.status().message(),
                HasSubstr(absl::StrCat("in use by another shixind (pid ", ::getpid(), ")")));
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) _exit(StateDirLock::Acquire(dir).ok() ? 1 : 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    StateDirLock moved = *std::move(first);  // a moved lock still holds
    EXPECT_FALSE(StateDirLock::Acquire(dir).ok());
  }
  EXPECT_TRUE(StateDirLock::Acquire(dir).ok());
}

TEST(StateDirLockTest, AFileInPlaceOfTheDirectoryIsAnError) {
  const std::string dir = TempStateDir("file");
  std::ofstream(dir) << "x";
  absl::StatusOr<StateDirLock> lock = StateDirLock::Acquire(dir);
  EXPECT_FALSE(lock.ok());
  std::remove(dir.c_str());
}

}  // namespace
}  // namespace shixin
