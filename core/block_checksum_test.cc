#include "core/block_checksum.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/uio.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/str_format.h"
#include "core/test_util.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;

// A temporary file holding `bytes`, written through a BlockHashingWriter after `skip` zeros.
class BlockChecksumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = absl::StrFormat("%sblock_checksum_test_%d", ::testing::TempDir(), getpid());
    for (size_t i = 0; i < bytes_.size(); ++i) bytes_[i] = static_cast<char>(i * 7 + i / 4096);
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd_, 0);
    ASSERT_TRUE(WriteAll(fd_, std::string(kSkip, '\0').data(), kSkip));
    BlockHashingWriter out(fd_);
    // In uneven pieces: the blocks do not depend on how the bytes were appended.
    for (size_t at = 0; at < bytes_.size(); at += 1000) {
      ASSERT_TRUE(out.Append(std::string_view(bytes_).substr(at, 1000)));
    }
    ASSERT_TRUE(out.Finish());
    EXPECT_EQ(out.size(), bytes_.size());
    region_ = VerifiedRegion{"the test region", kSkip, bytes_.size(), {}};
    for (uint64_t at = 0; at < bytes_.size(); at += kChecksumBlock) {
      region_.block_hashes.push_back(
          BlockHash(bytes_.data() + at, std::min<uint64_t>(kChecksumBlock, bytes_.size() - at)));
    }
    EXPECT_EQ(out.checksum(), ChecksumOfBlocks(region_.block_hashes));
  }
  void TearDown() override {
    ::close(fd_);
    ::unlink(path_.c_str());
  }

  // Returns whether the bare system call ReadVerified makes can miss here: on some file systems
  // RWF_NOWAIT is not supported (ReadVerified then waits, as documented), and a disk that
  // completes a read synchronously (a RAM-backed one) answers before the call returns.
  bool ColdReadsCanMiss() const {
    char page[4096];
    for (int attempt = 0; attempt < 20; ++attempt) {
      if (testing::DropFromPageCache(path_) != 0) return false;
      iovec io{page, sizeof(page)};
      if (::preadv2(fd_, &io, 1, kSkip + kChecksumBlock, RWF_NOWAIT) < 0 && errno == EAGAIN) {
        return true;
      }
    }
    return false;
  }

  static constexpr size_t kSkip = 8192;
  std::string bytes_ = std::string(3 * kChecksumBlock + 100, '\0');  // 4 blocks, the last short
  std::string path_;
  int fd_ = -1;
  VerifiedRegion region_;
};

// Blocks not in the page cache: kPrefetch does not wait for them but starts reading them, so
// that a later kPrefetch finds them; kWait reads them.
TEST_F(BlockChecksumTest, PrefetchDoesNotWaitForTheDiskButStartsReading) {
  ReadBuffer buffer;
  auto cached = ReadVerified(fd_, region_, 10, 5000, buffer, OnCacheMiss::kPrefetch);
  ASSERT_TRUE(cached.ok()) << cached.status();  // just written: in memory
  EXPECT_EQ(*cached, bytes_.substr(10, 4990));
  // The read itself starts the disk, which may answer before the read returns: tries, each
  // from a cold page cache, until one returns without the bytes.
  int missed = 0;
  for (int attempt = 0; attempt < 20 && missed == 0; ++attempt) {
    const int64_t resident = testing::DropFromPageCache(path_);
    if (resident != 0) GTEST_SKIP() << "the page cache kept " << resident << " pages (tmpfs?)";
    auto read = ReadVerified(fd_, region_, 4100, 9000, buffer, OnCacheMiss::kPrefetch);
    if (read.ok()) {
      EXPECT_EQ(*read, bytes_.substr(4100, 4900));
      continue;
    }
    EXPECT_EQ(read.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(read.status().message(), HasSubstr("the test region: block 1 is not in memory"));
    ++missed;
  }
  if (missed == 0 && !ColdReadsCanMiss()) {
    GTEST_SKIP() << "preadv2(RWF_NOWAIT) never missed a dropped page here: the file system "
                    "cannot tell, or the disk answers before the call returns";
  }
  EXPECT_EQ(missed, 1);
  // The disk answers within a bounded time; the same read then needs no wait.
  bool found = false;
  for (int i = 0; i < 5000 && !found; ++i) {
    auto later = ReadVerified(fd_, region_, 4100, 9000, buffer, OnCacheMiss::kPrefetch);
    if (later.ok()) {
      EXPECT_EQ(*later, bytes_.substr(4100, 4900));
      found = true;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  EXPECT_TRUE(found);
  ASSERT_EQ(testing::DropFromPageCache(path_), 0);
  auto waited = ReadVerified(fd_, region_, 0, bytes_.size(), buffer);
  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_EQ(*waited, bytes_);
}

TEST_F(BlockChecksumTest, ReadsAnyRangeOfAnIntactFile) {
  ReadBuffer buffer;
  for (const auto& [begin, end] : std::vector<std::pair<uint64_t, uint64_t>>{{0, 1},
                                                                             {10, 4096},
                                                                             {4095, 4097},
                                                                             {100, bytes_.size()},
                                                                             {12300, bytes_.size()},
                                                                             {5, 5}}) {
    auto read = ReadVerified(fd_, region_, begin, end, buffer);
    ASSERT_TRUE(read.ok()) << begin << "-" << end << ": " << read.status();
    EXPECT_EQ(*read, std::string_view(bytes_).substr(begin, end - begin));
  }
}

TEST_F(BlockChecksumTest, AChangedBlockIsDataLossAndTheOthersStillRead) {
  ASSERT_EQ(::pwrite(fd_, "x", 1, kSkip + 5000), 1);  // in block 1
  ReadBuffer buffer;
  auto read = ReadVerified(fd_, region_, 4000, 4100, buffer);  // blocks 0 and 1
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(read.status().message(),
              HasSubstr("the test region: block 1 (file bytes 12288-16383) fails its checksum"));
  EXPECT_TRUE(ReadVerified(fd_, region_, 0, 4096, buffer).ok());
  EXPECT_TRUE(ReadVerified(fd_, region_, 8192, 8200, buffer).ok());
}

// A batch reads as each read alone would: the bytes, and each read's own error (a changed
// block, a truncated file) without failing the others.
TEST_F(BlockChecksumTest, ABatchReadsAsEachReadAlone) {
  const std::vector<std::pair<uint64_t, uint64_t>> ranges = {
      {0, 1},       {10, 4096},           {4095, 4097},
      {5, 5},       {100, bytes_.size()}, {12300, bytes_.size()},
      {4000, 4100}, {8192, 8200},         {0, 2 * kChecksumBlock}};
  // Returns how many reads failed.
  const auto check = [&](const char* when) {
    int failed = 0;
    std::vector<ReadBuffer> buffers(ranges.size());
    std::vector<VerifiedRead> batch;
    for (size_t i = 0; i < ranges.size(); ++i) {
      batch.push_back(VerifiedRead{ranges[i].first, ranges[i].second, &buffers[i], ""});
    }
    ReadVerifiedBatch(fd_, region_, batch);
    for (size_t i = 0; i < ranges.size(); ++i) {
      ReadBuffer alone;
      auto single = ReadVerified(fd_, region_, ranges[i].first, ranges[i].second, alone);
      EXPECT_EQ(batch[i].result.status(), single.status()) << when << ", read " << i;
      if (single.ok() && batch[i].result.ok()) {
        EXPECT_EQ(*batch[i].result, *single);
      }
      failed += !batch[i].result.ok();
    }
    return failed;
  };
  EXPECT_EQ(check("intact"), 0);
  ASSERT_EQ(::pwrite(fd_, "x", 1, kSkip + 5000), 1);  // in block 1
  EXPECT_EQ(check("block 1 changed"), 4);
  ASSERT_EQ(::ftruncate(fd_, static_cast<off_t>(kSkip + 2 * kChecksumBlock + 10)), 0);
  EXPECT_EQ(check("truncated in block 2"), 6);
}

TEST_F(BlockChecksumTest, ATruncatedFileIsDataLoss) {
  ASSERT_EQ(::ftruncate(fd_, static_cast<off_t>(kSkip + 2 * kChecksumBlock + 10)), 0);
  ReadBuffer buffer;
  EXPECT_TRUE(ReadVerified(fd_, region_, 0, 2 * kChecksumBlock, buffer).ok());
  auto read = ReadVerified(fd_, region_, 0, bytes_.size(), buffer);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(read.status().message(), HasSubstr("past the end of the file"));
  ASSERT_EQ(::ftruncate(fd_, 0), 0);
  read = ReadVerified(fd_, region_, 0, 1, buffer);
  EXPECT_THAT(read.status().message(),
              HasSubstr("block 0 (file bytes 8192-12287) is past the end"));
}

}  // namespace
}  // namespace shixin
