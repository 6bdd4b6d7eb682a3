#include "base/scattered_read.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace shixin {
namespace {

// A file of `size` bytes, byte i = i * 7 + i / 251 (so that no two nearby ranges look alike).
class ScatteredReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One file per process: ctest runs the tests of this file in parallel processes.
    path_ = ::testing::TempDir() + "/scattered_read_test_" + std::to_string(::getpid());
    content_.resize(kSize);
    for (size_t i = 0; i < kSize; ++i) content_[i] = static_cast<char>(i * 7 + i / 251);
    const int out = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(out, 0);
    ASSERT_EQ(::write(out, content_.data(), content_.size()), static_cast<ssize_t>(kSize));
    ::close(out);
    fd_ = ::open(path_.c_str(), O_RDONLY);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    ::close(fd_);
    ::unlink(path_.c_str());
  }

  // Reads `count` ranges spread over the file (and one past its end, one straddling it) and
  // checks each against the content.
  void ReadAndCheck(size_t count, bool nowait) {
    std::vector<std::string> buffers(count + 2, std::string(5000, '\0'));
    std::vector<ScatteredRead> reads;
    for (size_t i = 0; i < count; ++i) {
      const uint64_t offset = (i * 7919 * 13) % (kSize - 5000);
      reads.push_back(ScatteredRead{fd_, offset, buffers[i].data(), 1 + i * 37 % 5000, -1});
    }
    reads.push_back(ScatteredRead{fd_, kSize + 10, buffers[count].data(), 100, -1});
    reads.push_back(ScatteredRead{fd_, kSize - 30, buffers[count + 1].data(), 100, -1});
    ReadScattered(reads, nowait);
    for (size_t i = 0; i < count; ++i) {
      ASSERT_EQ(reads[i].result, static_cast<ssize_t>(reads[i].size)) << i;
      EXPECT_EQ(std::string(reads[i].data, reads[i].size),
                content_.substr(reads[i].offset, reads[i].size))
          << i;
    }
    EXPECT_EQ(reads[count].result, 0);  // past the end
    ASSERT_EQ(reads[count + 1].result, 30);
    EXPECT_EQ(std::string(reads[count + 1].data, 30), content_.substr(kSize - 30));
  }

  static constexpr size_t kSize = 1 << 20;
  std::string path_;
  std::string content_;
  int fd_ = -1;
};

TEST_F(ScatteredReadTest, ReadsEveryRangeInBatchesOfAnySize) {
  for (const size_t count : {0, 1, 2, 63, 64, 65, 200}) ReadAndCheck(count, false);
}

TEST_F(ScatteredReadTest, ReadsCachedRangesWithoutWaiting) {
  ReadAndCheck(100, false);  // now in the page cache
  ReadAndCheck(100, true);
}

TEST_F(ScatteredReadTest, ReportsEachReadsError) {
  char a[16];
  char b[16];
  std::vector<ScatteredRead> reads = {{-1, 0, a, sizeof(a), 0}, {fd_, 0, b, sizeof(b), 0}};
  ReadScattered(reads, false);
  EXPECT_EQ(reads[0].result, -EBADF);
  ASSERT_EQ(reads[1].result, 16);
  EXPECT_EQ(std::string(b, 16), content_.substr(0, 16));
}

TEST_F(ScatteredReadTest, ReadsTheSameWithoutARing) {
  // On a thread of its own, so that the other tests keep their ring.
  std::thread([this] {
    scattered_read_internal::DisableRingForThisThread();
    EXPECT_FALSE(scattered_read_internal::UsesRing());
    ReadAndCheck(100, false);
    ReadAndCheck(100, true);
  }).join();
}

}  // namespace
}  // namespace shixin
