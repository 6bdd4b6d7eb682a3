#include "core/block_checksum.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/scattered_read.h"
#include "xxhash.h"
#if defined(__x86_64__)
#include "xxh_x86dispatch.h"
#endif

namespace shixin {

uint64_t BlockHash(const void* data, size_t size) {
#if defined(__x86_64__)
  return XXH3_64bits_dispatch(data, size);  // AVX2 or AVX-512 where the CPU has them
#else
  return XXH3_64bits(data, size);
#endif
}

uint64_t ChecksumOfBlocks(std::span<const uint64_t> block_hashes) {
  return BlockHash(block_hashes.data(), block_hashes.size_bytes());
}

bool WriteAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, std::min<size_t>(size, size_t{1} << 30));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool ReadAllAt(int fd, void* data, size_t size, uint64_t offset) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::pread(fd, p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

BlockHashingWriter::BlockHashingWriter(int fd) : fd_(fd) { buffer_.reserve(kBuffer); }

bool BlockHashingWriter::Append(std::string_view bytes) {
  size_ += bytes.size();
  while (!bytes.empty()) {
    const size_t n = std::min(kBuffer - buffer_.size(), bytes.size());
    buffer_.append(bytes.data(), n);
    bytes.remove_prefix(n);
    if (buffer_.size() == kBuffer && !Flush()) return false;
  }
  return true;
}

bool BlockHashingWriter::Flush() {
  for (size_t at = 0; at < buffer_.size(); at += kChecksumBlock) {
    block_hashes_.push_back(
        BlockHash(buffer_.data() + at, std::min<size_t>(kChecksumBlock, buffer_.size() - at)));
  }
  const bool ok = WriteAll(fd_, buffer_.data(), buffer_.size());
  buffer_.clear();
  return ok;
}

char* ReadBuffer::Reserve(size_t size) {
  if (size > capacity_) {
    capacity_ = std::max(size, 2 * capacity_);
    data_.reset(new char[capacity_]);
  }
  return data_.get();
}

namespace {

// As pread(), but with `nowait` fails with EAGAIN instead of waiting for a page that is not in
// the page cache (after reading those before it). A file system that cannot tell is waited for.
ssize_t ReadAt(int fd, char* data, size_t size, uint64_t offset, bool nowait) {
  if (nowait) {
    iovec io{data, size};
    const ssize_t n = ::preadv2(fd, &io, 1, static_cast<off_t>(offset), RWF_NOWAIT);
    if (n >= 0 || errno != EOPNOTSUPP) return n;
  }
  return ::pread(fd, data, size, static_cast<off_t>(offset));
}

}  // namespace

namespace {

// A read of ReadVerified(): the whole blocks that hold the bytes asked for, and where they go.
struct BlockRead {
  uint64_t first_block = 0;
  uint64_t read_begin = 0;  // from the region's start
  size_t size = 0;
  char* data = nullptr;
};

BlockRead PlanRead(const VerifiedRegion& region, uint64_t begin, uint64_t end, ReadBuffer& buffer) {
  BlockRead r;
  r.first_block = begin / kChecksumBlock;
  r.read_begin = r.first_block * kChecksumBlock;
  const uint64_t read_end = std::min(BlockCount(end) * kChecksumBlock, region.size);
  r.size = static_cast<size_t>(read_end - r.read_begin);
  r.data = buffer.Reserve(r.size);
  return r;
}

// Reads what is left of `r` after its first `done` bytes, checks its blocks and returns the
// view of [begin, end): ReadVerified() after its first read.
absl::StatusOr<std::string_view> FinishRead(int fd, const VerifiedRegion& region, uint64_t begin,
                                            uint64_t end, const BlockRead& r, uint64_t done,
                                            OnCacheMiss on_miss) {
  const auto changed = [&](uint64_t block, std::string_view what) {
    const uint64_t at = region.offset + block * kChecksumBlock;
    const uint64_t last = std::min(at + kChecksumBlock, region.offset + region.size) - 1;
    return absl::DataLossError(
        absl::StrFormat("%s: block %d (file bytes %d-%d) %s", region.name, block, at, last, what));
  };
  while (done < r.size) {
    const uint64_t at = region.offset + r.read_begin + done;
    const ssize_t n =
        ReadAt(fd, r.data + done, r.size - done, at, on_miss == OnCacheMiss::kPrefetch);
    if (n < 0 && errno == EINTR) continue;
    const uint64_t block = (r.read_begin + done) / kChecksumBlock;
    if (n < 0 && errno == EAGAIN && on_miss == OnCacheMiss::kPrefetch) {
      ::posix_fadvise(fd, static_cast<off_t>(at), static_cast<off_t>(r.size - done),
                      POSIX_FADV_WILLNEED);
      return absl::UnavailableError(
          absl::StrFormat("%s: block %d is not in memory: being read", region.name, block));
    }
    if (n < 0) return changed(block, absl::StrCat("cannot be read: ", std::strerror(errno)));
    if (n == 0) {
      return changed(block, "is past the end of the file: truncated after it was verified");
    }
    done += static_cast<uint64_t>(n);
  }
  for (uint64_t at = 0; at < r.size; at += kChecksumBlock) {
    const uint64_t block = r.first_block + at / kChecksumBlock;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChecksumBlock, r.size - at));
    if (BlockHash(r.data + at, n) != region.block_hashes[block]) {
      return changed(block, "fails its checksum: changed after it was verified");
    }
  }
  return std::string_view(r.data + (begin - r.read_begin), static_cast<size_t>(end - begin));
}

}  // namespace

absl::StatusOr<std::string_view> ReadVerified(int fd, const VerifiedRegion& region, uint64_t begin,
                                              uint64_t end, ReadBuffer& buffer,
                                              OnCacheMiss on_miss) {
  if (begin == end) return std::string_view();
  return FinishRead(fd, region, begin, end, PlanRead(region, begin, end, buffer), 0, on_miss);
}

void ReadVerifiedBatch(int fd, const VerifiedRegion& region, std::span<VerifiedRead> reads,
                       OnCacheMiss on_miss) {
  std::vector<BlockRead> planned(reads.size());
  std::vector<ScatteredRead> scattered;
  scattered.reserve(reads.size());
  for (size_t i = 0; i < reads.size(); ++i) {
    if (reads[i].begin == reads[i].end) continue;
    planned[i] = PlanRead(region, reads[i].begin, reads[i].end, *reads[i].buffer);
    scattered.push_back(ScatteredRead{fd, region.offset + planned[i].read_begin, planned[i].data,
                                      planned[i].size, 0});
  }
  ReadScattered(scattered, on_miss == OnCacheMiss::kPrefetch);
  // What the batch left (a short read, an error, bytes not in memory) is read, or reported, as
  // by ReadVerified().
  size_t k = 0;
  for (size_t i = 0; i < reads.size(); ++i) {
    VerifiedRead& read = reads[i];
    if (read.begin == read.end) {
      read.result = std::string_view();
      continue;
    }
    const ssize_t got = scattered[k++].result;
    read.result = FinishRead(fd, region, read.begin, read.end, planned[i],
                             got > 0 ? static_cast<uint64_t>(got) : 0, on_miss);
  }
}

}  // namespace shixin
