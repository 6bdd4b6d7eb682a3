#include "daemon/checkpointer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/delta.h"
#include "core/overlay_checkpoint.h"
#include "core/test_util.h"
#include "daemon/delta_applier.h"
#include "daemon/metrics.h"
#include "daemon/reloader.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;

// Removes 高丽's one case from the sample.
const char kRemove[] =
    R"({"op":"remove","caseCode":"（2017）黑04执31号","cardNum":"230407199103150045",)"
    R"("reason":"performed","at":"2026-06-09T15:30:00+08:00"})"
    "\n";

class CheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "checkpointer_test_" + std::to_string(getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ + "/deltas");
    std::ofstream(dir_ + "/deltas/" + DeltaFileName(1)) << kRemove;
    const std::string root = testing::SourceDir();
    absl::StatusOr<std::unique_ptr<Dataset>> d = LoadDataset(
        DatasetSource{root + "/data/sample", root + "/data/measures/hegang-2018.json", 0});
    ASSERT_TRUE(d.ok()) << d.status();
    DeltaApplier applier(dir_ + "/deltas");
    ASSERT_EQ(applier.Apply(d->get()), 1u);
    base_ = (*d)->snapshot;
    holder_.Publish(*std::move(d));
    path_ = dir_ + "/overlay.checkpoint";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Waits at most 5 s until `c` has written `n` checkpoints; returns whether it did.
  static bool WaitForWrites(const Checkpointer& c, uint64_t n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (c.status().written < n && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
    return c.status().written == n;
  }

  RcuThread rcu_;  // Scrape() reads the serving generation
  std::string dir_;
  std::string path_;
  SnapshotHolder holder_;
  std::shared_ptr<const Snapshot> base_;
};

TEST_F(CheckpointerTest, WritesTheServingOverlayOnceUntilItChanges) {
  Checkpointer checkpointer(path_, &holder_, absl::Milliseconds(20));
  ASSERT_TRUE(checkpointer.Start().ok());
  ASSERT_TRUE(WaitForWrites(checkpointer, 1));
  absl::SleepFor(absl::Milliseconds(200));  // ten turns: nothing new to write
  const CheckpointStatus s = checkpointer.status();
  EXPECT_EQ(s.written, 1u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.sequence, 1u);
  EXPECT_EQ(s.bytes, std::filesystem::file_size(path_));
  EXPECT_GE(s.last_time, absl::ToUnixSeconds(absl::Now()) - 60);
  auto read = OverlayCheckpoint::Read(*base_, path_);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ((*read)->sequence(), 1u);
  EXPECT_EQ((*read)->size(), 1u);  // 高丽

  Metrics metrics(MetricsSources{&holder_, nullptr, nullptr, nullptr, nullptr, &checkpointer});
  const std::string text = metrics.Scrape();
  EXPECT_THAT(text, HasSubstr("shixin_checkpoint_writes_total{result=\"ok\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("shixin_checkpoint_writes_total{result=\"failed\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("shixin_checkpoint_delta_sequence 1\n"));
  checkpointer.Stop();
  EXPECT_EQ(checkpointer.status().written, 1u);  // the stop found nothing to add
}

TEST_F(CheckpointerTest, WhatTheFileHoldsIsNotWrittenAgain) {
  Checkpointer checkpointer(path_, &holder_, absl::Milliseconds(20));
  checkpointer.Holds(base_->info().version, 1);
  ASSERT_TRUE(checkpointer.Start().ok());
  absl::SleepFor(absl::Milliseconds(200));
  checkpointer.Stop();
  EXPECT_EQ(checkpointer.status().written, 0u);
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(CheckpointerTest, StopWritesWhatTheFileLacks) {
  Checkpointer checkpointer(path_, &holder_, absl::Hours(1));
  ASSERT_TRUE(checkpointer.Start().ok());
  checkpointer.Stop();
  EXPECT_EQ(checkpointer.status().written, 1u);
  EXPECT_TRUE(OverlayCheckpoint::Read(*base_, path_).ok());
}

TEST_F(CheckpointerTest, AFailedWriteIsCountedAndNamed) {
  const std::string path = dir_ + "/missing/overlay.checkpoint";
  Checkpointer checkpointer(path, &holder_, absl::Hours(1));
  ASSERT_TRUE(checkpointer.Start().ok());
  checkpointer.Stop();
  const CheckpointStatus s = checkpointer.status();
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_THAT(s.error, HasSubstr(path + ".tmp"));
  Metrics metrics(MetricsSources{&holder_, nullptr, nullptr, nullptr, nullptr, &checkpointer});
  EXPECT_THAT(metrics.Scrape(), HasSubstr("shixin_checkpoint_writes_total{result=\"failed\"} 1\n"));
}

// A kill during a write leaves its temporary file: the next start removes those of the
// checkpoint's name, and nothing else (other names, a symbolic link, a directory).
TEST_F(CheckpointerTest, StaleTemporariesOfTheCheckpointAreRemoved) {
  const auto write = [](const std::string& path, size_t bytes) {
    std::ofstream(path) << std::string(bytes, 'x');
  };
  const std::string stale1 = path_ + ".tmp.AbCd1234";
  const std::string stale2 = path_ + ".tmp.zzzzzzz9";
  write(path_, 3);
  write(stale1, 10);
  write(stale2, 5);
  const std::vector<std::string> kept = {path_ + ".tmp.short", path_ + ".tmp.ABCDEFGH.x",
                                         dir_ + "/audit.tmp.ABCDEFGH", dir_ + "/other"};
  for (const std::string& path : kept) write(path, 1);
  std::filesystem::create_symlink(dir_ + "/other", path_ + ".tmp.LINKlink");
  std::filesystem::create_directory(path_ + ".tmp.DIRdir00");

  const StaleTemporaries removed = RemoveStaleTemporaries(path_);
  EXPECT_EQ(removed.files, 2u);
  EXPECT_EQ(removed.bytes, 15u);
  EXPECT_THAT(removed.names, ::testing::UnorderedElementsAre("overlay.checkpoint.tmp.AbCd1234",
                                                             "overlay.checkpoint.tmp.zzzzzzz9"));
  EXPECT_EQ(removed.error, "");
  EXPECT_FALSE(std::filesystem::exists(stale1));
  EXPECT_FALSE(std::filesystem::exists(stale2));
  EXPECT_TRUE(std::filesystem::exists(path_));
  for (const std::string& path : kept) EXPECT_TRUE(std::filesystem::exists(path)) << path;
  EXPECT_TRUE(std::filesystem::is_symlink(path_ + ".tmp.LINKlink"));
  EXPECT_TRUE(std::filesystem::is_directory(path_ + ".tmp.DIRdir00"));
  EXPECT_EQ(RemoveStaleTemporaries(path_).files, 0u);
}

}  // namespace
}  // namespace shixin
