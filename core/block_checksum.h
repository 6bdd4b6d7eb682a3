// The block checksums of snapshot files (core/SNAPSHOT_FORMAT.md): a section is hashed in
// 4 KiB blocks, XXH3-64 each, and its checksum is the XXH3-64 of those hashes. A reader that
// leaves part of a verified file on disk keeps the hashes of its blocks and reads it back with
// ReadVerified(), which checks every block again: a file truncated or rewritten in place after
// it was verified gives an error, never other bytes, and never a fault (no mapping).
//
// Also the whole-buffer read and write loops the snapshot file code uses.
//
// Thread safety: the functions are reentrant (ReadVerified() uses pread, so threads may share
// the descriptor; ReadVerifiedBatch() a ring of the calling thread); a BlockHashingWriter belongs
// to one thread.
#ifndef SHIXIN_CORE_BLOCK_CHECKSUM_H_
#define SHIXIN_CORE_BLOCK_CHECKSUM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace shixin {

// The size of a checksum block: the last block of a section may be shorter.
inline constexpr uint64_t kChecksumBlock = 4096;

// Returns the number of blocks of `size` bytes.
inline uint64_t BlockCount(uint64_t size) { return (size + kChecksumBlock - 1) / kChecksumBlock; }

// Returns the XXH3-64 (seed 0) of `size` bytes at `data`: a block's hash.
uint64_t BlockHash(const void* data, size_t size);

// Returns a section's checksum: the XXH3-64 of its blocks' hashes (8 bytes each, little-endian).
uint64_t ChecksumOfBlocks(std::span<const uint64_t> block_hashes);

// Writes all of `data` at `fd`'s position; false on an error (errno says which).
bool WriteAll(int fd, const void* data, size_t size);

// Reads exactly `size` bytes at `offset`; false on an error or a short file.
bool ReadAllAt(int fd, void* data, size_t size, uint64_t offset);

// Writes bytes at a descriptor's position through a buffer and hashes them block by block as
// they go, the first block starting with the first byte appended.
class BlockHashingWriter {
 public:
  explicit BlockHashingWriter(int fd);
  BlockHashingWriter(const BlockHashingWriter&) = delete;
  BlockHashingWriter& operator=(const BlockHashingWriter&) = delete;

  // Appends `bytes`; returns false on a write error (errno says which).
  bool Append(std::string_view bytes);
  // Writes what is buffered; returns false on a write error. Call it once, after the last
  // Append().
  bool Finish() { return Flush(); }
  // Returns the number of bytes appended.
  uint64_t size() const { return size_; }
  // Returns the ChecksumOfBlocks() of the bytes. REQUIRES: Finish() was called.
  uint64_t checksum() const { return ChecksumOfBlocks(block_hashes_); }

 private:
  static constexpr size_t kBuffer = 1u << 20;  // a multiple of kChecksumBlock
  static_assert(kBuffer % kChecksumBlock == 0);
  // Hashes the buffered blocks (a partial one only at the end) and writes them.
  bool Flush();

  int fd_;
  std::string buffer_;
  std::vector<uint64_t> block_hashes_;
  uint64_t size_ = 0;
};

// A growable byte buffer for ReadVerified(): unlike a std::string it is not zeroed when it
// grows, and reused it allocates only to grow.
class ReadBuffer {
 public:
  ReadBuffer() = default;
  ReadBuffer(const ReadBuffer&) = delete;
  ReadBuffer& operator=(const ReadBuffer&) = delete;

  // Returns room for `size` bytes (their content undefined), valid until the next call.
  char* Reserve(size_t size);

 private:
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
};

// A region of a file verified once, and the hashes of its blocks (counted from its start).
struct VerifiedRegion {
  std::string name;  // what the region is, for the errors ("the case_blob section")
  uint64_t offset = 0;
  uint64_t size = 0;
  std::vector<uint64_t> block_hashes;  // BlockCount(size) of them
};

// What ReadVerified() does when some of the bytes are not in memory (the page cache).
enum class OnCacheMiss {
  kWait,      // reads them from the disk and waits
  kPrefetch,  // starts reading them in the background and returns Unavailable at once
};

// Reads bytes [begin, end) of `region` from `fd`, in the whole blocks that hold them, into
// `buffer` and returns a view of the bytes asked for (valid until `buffer` is used again) once
// every block read matches its hash. Returns DataLoss if a block is past the end of the file
// (truncated), cannot be read or fails its hash (the message names the region, the block and its
// bytes). With OnCacheMiss::kPrefetch returns Unavailable, without waiting for the disk, if a
// block is not in the page cache, having started to read the blocks from it on: a caller with
// other work defers the read, and many reads deferred so wait for the disk together.
// REQUIRES: begin <= end <= region.size.
absl::StatusOr<std::string_view> ReadVerified(int fd, const VerifiedRegion& region, uint64_t begin,
                                              uint64_t end, ReadBuffer& buffer,
                                              OnCacheMiss on_miss = OnCacheMiss::kWait);

// One read of ReadVerifiedBatch(): ReadVerified()'s bytes and buffer, and its result.
struct VerifiedRead {
  uint64_t begin = 0;
  uint64_t end = 0;
  ReadBuffer* buffer = nullptr;
  absl::StatusOr<std::string_view> result;
};

// Performs every read of `reads` as ReadVerified() would (the same results and errors), their
// first reads from the file submitted together (base/scattered_read.h): one system call for
// the batch instead of one a read. REQUIRES: each read's begin <= end <= region.size, and
// distinct buffers.
void ReadVerifiedBatch(int fd, const VerifiedRegion& region, std::span<VerifiedRead> reads,
                       OnCacheMiss on_miss = OnCacheMiss::kWait);

}  // namespace shixin

#endif  // SHIXIN_CORE_BLOCK_CHECKSUM_H_
