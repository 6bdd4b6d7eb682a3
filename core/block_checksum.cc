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

absl::StatusOr<std::string_view> ReadVerified(int fd, const VerifiedRegion& region, uint64_t begin,
                                              uint64_t end, ReadBuffer& buffer,
                                              OnCacheMiss on_miss) {
  if (begin == end) return std::string_view();
  const uint64_t first_block = begin / kChecksumBlock;
  const uint64_t read_begin = first_block * kChecksumBlock;
  const uint64_t read_end = std::min(BlockCount(end) * kChecksumBlock, region.size);
  const size_t size = static_cast<size_t>(read_end - read_begin);
  char* const data = buffer.Reserve(size);
  const auto changed = [&](uint64_t block, std::string_view what) {
    const uint64_t at = region.offset + block * kChecksumBlock;
    const uint64_t last = std::min(at + kChecksumBlock, region.offset + region.size) - 1;
    return absl::DataLossError(
        absl::StrFormat("%s: block %d (file bytes %d-%d) %s", region.name, block, at, last, what));
  };
  for (uint64_t done = 0; done < size;) {
    const uint64_t at = region.offset + read_begin + done;
    const ssize_t n = ReadAt(fd, data + done, size - done, at, on_miss == OnCacheMiss::kPrefetch);
    if (n < 0 && errno == EINTR) continue;
    const uint64_t block = (read_begin + done) / kChecksumBlock;
    if (n < 0 && errno == EAGAIN && on_miss == OnCacheMiss::kPrefetch) {
      ::posix_fadvise(fd, static_cast<off_t>(at), static_cast<off_t>(size - done),
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
  for (uint64_t at = 0; at < size; at += kChecksumBlock) {
    const uint64_t block = first_block + at / kChecksumBlock;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChecksumBlock, size - at));
    if (BlockHash(data + at, n) != region.block_hashes[block]) {
      return changed(block, "fails its checksum: changed after it was verified");
    }
  }
  return std::string_view(data + (begin - read_begin), static_cast<size_t>(end - begin));
}

}  // namespace shixin
