// Reads of many small ranges of files at once: one system call for a batch instead of one
// `pread` each (on this VM a system call costs ~1 us whatever it does, as much as a 4 KiB read
// from the page cache; docs/performance.md). The reads go through an io_uring of the calling
// thread, made on its first batch; where io_uring is not available (an old kernel, a seccomp
// filter without its calls) each range is read with `preadv2` as before.
//
// Thread safety: ReadScattered() is thread-safe; each thread has its own ring.
#ifndef SHIXIN_BASE_SCATTERED_READ_H_
#define SHIXIN_BASE_SCATTERED_READ_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace shixin {

// One range to read: `size` bytes at `offset` of `fd` into `data`; `result` as pread returns it
// (bytes read, fewer at the end of the file or for a short read) or -errno.
struct ScatteredRead {
  int fd = -1;
  uint64_t offset = 0;
  char* data = nullptr;
  size_t size = 0;
  ssize_t result = 0;
};

// Performs every read of `reads` as one `preadv2` each would, in no particular order; with
// `nowait` a range not wholly in the page cache may end with -EAGAIN (RWF_NOWAIT) instead of
// waiting for the disk. Returns when all are done. REQUIRES: the `data` of different reads do
// not overlap.
void ReadScattered(std::span<ScatteredRead> reads, bool nowait);

namespace scattered_read_internal {
// Whether this thread's reads go through an io_uring (false: one preadv2 each), after making
// its ring if it has none yet.
bool UsesRing();
// Makes this thread's later reads use preadv2, as without io_uring (the fallback's tests).
void DisableRingForThisThread();
}  // namespace scattered_read_internal

}  // namespace shixin

#endif  // SHIXIN_BASE_SCATTERED_READ_H_
