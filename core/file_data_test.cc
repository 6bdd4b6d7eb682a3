#include "core/file_data.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "absl/status/status.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;

constexpr size_t kSize = 64 << 10;  // 16 pages of 4 KiB

class FileDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::path(::testing::TempDir()) /
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    Write(std::string(kSize, 'x'));
  }
  void TearDown() override { std::filesystem::remove(path_); }

  void Write(const std::string& content) { std::ofstream(path_, std::ios::binary) << content; }
  std::string Message(const absl::Status& status) { return std::string(status.message()); }

  std::string path_;
};

// Reads a byte as the parse does, but so that the compiler cannot drop the read.
char ReadByte(const FileData& file, size_t offset) {
  return *static_cast<const volatile char*>(file.data().data() + offset);
}

TEST_F(FileDataTest, UnchangedFile) {
  FileData file;
  ASSERT_TRUE(file.Open(path_).ok());
  EXPECT_EQ(file.data(), std::string(kSize, 'x'));
  EXPECT_TRUE(file.CheckUnchanged().ok());
  // A complete file renamed over the path is the way to replace one: what was read stays whole.
  const std::string next = path_ + ".next";
  std::ofstream(next, std::ios::binary) << "other";
  std::filesystem::rename(next, path_);
  EXPECT_EQ(ReadByte(file, kSize - 1), 'x');
  EXPECT_TRUE(file.CheckUnchanged().ok());
}

// The daemon's SIGBUS (finding #2): a page beyond the file's new end read after a truncation.
TEST_F(FileDataTest, TruncatedWhileMappedReadsZerosAndFails) {
  FileData file;
  ASSERT_TRUE(file.Open(path_).ok());
  EXPECT_EQ(ReadByte(file, 3 * 4096), 'x');  // in the page cache and mapped: lost all the same
  ASSERT_EQ(truncate(path_.c_str(), 5000), 0);
  EXPECT_EQ(ReadByte(file, 4999), 'x');
  EXPECT_EQ(ReadByte(file, 5000), '\0');  // the rest of the page: zeros, as the kernel gives
  EXPECT_EQ(ReadByte(file, 3 * 4096), '\0');
  EXPECT_EQ(ReadByte(file, kSize - 1), '\0');
  const absl::Status status = file.CheckUnchanged();
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Message(status),
            path_ + " changed while it was read (truncated from 65536 to 5000 bytes)");
}

// A read on another thread than the one that opened the file is repaired too.
TEST_F(FileDataTest, TruncatedUnderAnotherThread) {
  FileData file;
  ASSERT_TRUE(file.Open(path_).ok());
  ASSERT_EQ(truncate(path_.c_str(), 0), 0);
  std::thread reader([&] {
    size_t nonzero = 0;
    for (size_t i = 0; i < kSize; ++i) nonzero += ReadByte(file, i) != '\0';
    EXPECT_EQ(nonzero, 0u);
  });
  reader.join();
  EXPECT_THAT(Message(file.CheckUnchanged()), HasSubstr("(truncated from 65536 to 0 bytes)"));
  // The next file mapped where this one was is registered afresh.
  FileData next;
  Write(std::string(kSize, 'y'));
  ASSERT_TRUE(next.Open(path_).ok());
  EXPECT_EQ(ReadByte(next, kSize - 1), 'y');
  EXPECT_TRUE(next.CheckUnchanged().ok());
}

TEST_F(FileDataTest, GrownOrRewrittenInPlace) {
  {
    FileData file;
    ASSERT_TRUE(file.Open(path_).ok());
    std::ofstream(path_, std::ios::binary | std::ios::app) << "more";
    EXPECT_EQ(Message(file.CheckUnchanged()),
              path_ + " changed while it was read (grew from 65536 to 65540 bytes)");
  }
  FileData file;
  ASSERT_TRUE(file.Open(path_).ok());
  const int fd = open(path_.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, "y", 1, 100), 1);
  const struct timespec times[2] = {{0, UTIME_OMIT}, {1000000000, 0}};  // whatever the clock
  ASSERT_EQ(futimens(fd, times), 0);
  close(fd);
  const absl::Status status = file.CheckUnchanged();
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Message(status),
            path_ +
                " changed while it was read (rewritten in place: its modification time "
                "changed)");
}

// A file that cannot be mapped is read: an empty one, which may grow while it is read.
TEST_F(FileDataTest, EmptyFileIsReadAndChecked) {
  Write("");
  FileData file;
  ASSERT_TRUE(file.Open(path_).ok());
  EXPECT_TRUE(file.data().empty());
  EXPECT_TRUE(file.CheckUnchanged().ok());
  Write("late");
  EXPECT_THAT(Message(file.CheckUnchanged()), HasSubstr("(grew from 0 to 4 bytes)"));
}

// A SIGBUS at an address of no FileData is a bug (or someone else's mapping): it still kills,
// through the handler before ours (a sanitizer's) or the default action.
TEST_F(FileDataTest, OtherSigbusStillKills) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  FileData installs_the_handler;
  ASSERT_TRUE(installs_the_handler.Open(path_).ok());
  EXPECT_DEATH(
      {
        const int fd = open(path_.c_str(), O_RDONLY);
        void* map = mmap(nullptr, kSize, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED || truncate(path_.c_str(), 0) != 0) _exit(0);
        std::fprintf(stderr, "read %d\n", static_cast<volatile char*>(map)[kSize - 1]);
        _exit(0);
      },
      "");
  EXPECT_DEATH(raise(SIGBUS), "");
}

}  // namespace
}  // namespace shixin
