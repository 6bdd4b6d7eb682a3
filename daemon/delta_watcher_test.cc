#include "daemon/delta_watcher.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace shixin {
namespace {

constexpr char kFile[] = "00000000000000000001.ndjson";

// A scratch deltas_dir and the names the watcher reports.
class DeltaWatcherTest : public ::testing::Test {
 protected:
  DeltaWatcherTest()
      : dir_(::testing::TempDir() + "delta_watcher_test_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~DeltaWatcherTest() override { std::filesystem::remove_all(dir_); }

  DeltaWatcher::Arrived Arrived() {
    return [this](const std::string& name) {
      std::lock_guard<std::mutex> lock(mu_);
      arrived_.push_back(name);
      changed_.notify_all();
    };
  }

  // Writes `name` as a feed does: a temporary file renamed into the directory.
  void Land(const std::string& name, const std::string& text = "{}\n") const {
    const std::string tmp = dir_ + "/.tmp";
    std::ofstream(tmp) << text;
    std::filesystem::rename(tmp, dir_ + "/" + name);
  }

  // Returns whether `name` was reported more than `times` times within `timeout`.
  bool WaitFor(const std::string& name, std::chrono::milliseconds timeout, size_t times = 0) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, timeout, [&] {
      return static_cast<size_t>(std::count(arrived_.begin(), arrived_.end(), name)) > times;
    });
  }

  size_t reported() {
    std::lock_guard<std::mutex> lock(mu_);
    return arrived_.size();
  }

  const std::string dir_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::string> arrived_;  // guarded by mu_
};

TEST_F(DeltaWatcherTest, InotifyReportsAFileThatLands) {
  DeltaWatcher watcher(dir_, Arrived(), {.rescan = absl::ZeroDuration()});
  ASSERT_TRUE(watcher.Start().ok());
  Land(kFile);
  EXPECT_TRUE(WaitFor(kFile, std::chrono::seconds(5)));
}

// A file written by another host on NFS raises no inotify event here: the watcher sees no file
// events (file_events = false), and only the rescan finds the file.
TEST_F(DeltaWatcherTest, TheRescanFindsAFileThatLandsWithoutAnEvent) {
  DeltaWatcher watcher(dir_, Arrived(), {.rescan = absl::Milliseconds(50), .file_events = false});
  ASSERT_TRUE(watcher.Start().ok());
  Land(kFile);
  EXPECT_TRUE(WaitFor(kFile, std::chrono::seconds(5)));
  // A file rewritten in place (another size) is found again; an unchanged directory is not
  // reported over and over.
  Land(kFile, "{}\n{}\n");
  EXPECT_TRUE(WaitFor(kFile, std::chrono::seconds(5), /*times=*/1));
  const size_t after = reported();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(reported(), after);
}

// Without the rescan such a file is never reported (what the daemon did before the rescan).
TEST_F(DeltaWatcherTest, WithoutTheRescanAFileWithoutAnEventIsNotReported) {
  DeltaWatcher watcher(dir_, Arrived(), {.rescan = absl::ZeroDuration(), .file_events = false});
  ASSERT_TRUE(watcher.Start().ok());
  Land(kFile);
  EXPECT_FALSE(WaitFor(kFile, std::chrono::milliseconds(300)));
}

// The files there at Start() are the first load's: the rescan does not report them.
TEST_F(DeltaWatcherTest, TheFilesThereAtStartAreNotReported) {
  Land(kFile);
  DeltaWatcher watcher(dir_, Arrived(), {.rescan = absl::Milliseconds(20), .file_events = false});
  ASSERT_TRUE(watcher.Start().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(reported(), 0u);
}

// A file renamed into place (IN_MOVED_TO) is whole: DeltaSettle lets it be read at once.
TEST_F(DeltaWatcherTest, AFileRenamedIntoPlaceIsWholeAtOnce) {
  DeltaSettle settle(absl::Seconds(60));
  DeltaWatcher watcher(dir_, Arrived(), {.rescan = absl::ZeroDuration(), .settle = &settle});
  ASSERT_TRUE(watcher.Start().ok());
  Land(kFile);
  ASSERT_TRUE(WaitFor(kFile, std::chrono::seconds(5)));
  const std::string path = dir_ + "/" + kFile;
  int64_t ctime = 0;
  const FileVersion version = StatFileVersion(path, &ctime);
  EXPECT_TRUE(settle.Settled(path, version, ctime));
}

// A file written in place must settle: once the applier found it waiting, the watcher wakes
// when it has settled and asks for an application again, with no other event or rescan.
TEST_F(DeltaWatcherTest, AFileWrittenInPlaceIsReportedAgainOnceItSettles) {
  DeltaSettle settle(absl::Milliseconds(200));
  DeltaWatcher watcher(dir_, Arrived(), {.rescan = absl::ZeroDuration(), .settle = &settle});
  ASSERT_TRUE(watcher.Start().ok());
  const std::string path = dir_ + "/" + kFile;
  std::ofstream(path) << "{}\n";
  ASSERT_TRUE(WaitFor(kFile, std::chrono::seconds(5)));
  int64_t ctime = 0;
  const FileVersion version = StatFileVersion(path, &ctime);
  EXPECT_FALSE(settle.Settled(path, version, ctime));  // as the applier asks on the event
  EXPECT_TRUE(WaitFor("(a delta file written in place settled)", std::chrono::seconds(5)));
  EXPECT_TRUE(settle.Settled(path, version, ctime));
  // Announced once, not over and over.
  const size_t after = reported();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(reported(), after);
}

}  // namespace
}  // namespace shixin
