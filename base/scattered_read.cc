#include "base/scattered_read.h"

#include <liburing.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

namespace shixin {
namespace {

// Reads submitted together at most: a delta's preparation reads in groups of this order.
constexpr unsigned kRingEntries = 64;

ssize_t ReadOne(const ScatteredRead& r, bool nowait) {
  iovec v{r.data, r.size};
  for (;;) {
    const ssize_t n = ::preadv2(r.fd, &v, 1, static_cast<off_t>(r.offset), nowait ? RWF_NOWAIT : 0);
    if (n >= 0) return n;
    if (errno != EINTR) return -errno;
  }
}

// The calling thread's ring, made on first use; `ok` false if io_uring is not available.
class ThreadRing {
 public:
  ThreadRing() {
    io_uring_params params{};
    // Reads from the page cache complete within the submission; the rest need no interrupt.
    // An entry the kernel refuses must not stop the submission of those after it (which would
    // then wait in the ring, and go out with the next batch, naming this batch's buffers).
    params.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL;
    int r = io_uring_queue_init_params(kRingEntries, &ring_, &params);
    if (r == -EINVAL) {  // a kernel before 5.19
      params = io_uring_params{};
      r = io_uring_queue_init_params(kRingEntries, &ring_, &params);
    }
    ok_ = r == 0;
  }
  ~ThreadRing() {
    if (ok_) io_uring_queue_exit(&ring_);
  }
  ThreadRing(const ThreadRing&) = delete;
  ThreadRing& operator=(const ThreadRing&) = delete;

  bool ok() const { return ok_; }
  void Disable() {
    if (ok_) io_uring_queue_exit(&ring_);
    ok_ = false;
  }

  // Reads `reads` (at most kRingEntries) with one submission. Returns false if the ring failed
  // or took only some of them (then the reads not completed have result -ECANCELED, and the
  // caller disables the ring, which drops the entries not taken, and reads them itself).
  bool Read(std::span<ScatteredRead> reads, bool nowait) {
    for (size_t i = 0; i < reads.size(); ++i) {
      ScatteredRead& r = reads[i];
      r.result = -ECANCELED;
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      io_uring_prep_read(sqe, r.fd, r.data, static_cast<unsigned>(r.size), r.offset);
      sqe->rw_flags = nowait ? RWF_NOWAIT : 0;
      io_uring_sqe_set_data64(sqe, i);
    }
    size_t done = 0;
    int submitted = -EINTR;
    while (submitted == -EINTR) {
      submitted = io_uring_submit_and_wait(&ring_, static_cast<unsigned>(reads.size()));
    }
    if (submitted < 0) return false;
    // Only what was submitted completes (a kernel before 5.18 stops at an entry it refuses).
    const size_t expected = std::min(static_cast<size_t>(submitted), reads.size());
    while (done < expected) {
      io_uring_cqe* cqe = nullptr;
      const int r = io_uring_wait_cqe(&ring_, &cqe);
      if (r == -EINTR) continue;
      if (r < 0) return false;
      reads[io_uring_cqe_get_data64(cqe)].result = cqe->res;
      io_uring_cqe_seen(&ring_, cqe);
      ++done;
    }
    return expected == reads.size();
  }

 private:
  io_uring ring_{};
  bool ok_ = false;
};

ThreadRing& Ring() {
  thread_local ThreadRing ring;
  return ring;
}

}  // namespace

void ReadScattered(std::span<ScatteredRead> reads, bool nowait) {
  if (reads.size() == 1) {  // no call to save: a thread that only reads so makes no ring
    reads[0].result = ReadOne(reads[0], nowait);
    return;
  }
  ThreadRing& ring = Ring();
  for (size_t at = 0; at < reads.size(); at += kRingEntries) {
    const std::span<ScatteredRead> batch =
        reads.subspan(at, std::min<size_t>(kRingEntries, reads.size() - at));
    if (batch.size() > 1 && ring.ok() && !ring.Read(batch, nowait)) ring.Disable();
    for (ScatteredRead& r : batch) {
      // One at a time: a single range (no call to save), no ring, or a ring that failed.
      if (batch.size() == 1 || !ring.ok() || r.result == -ECANCELED) r.result = ReadOne(r, nowait);
    }
  }
}

namespace scattered_read_internal {
bool UsesRing() { return Ring().ok(); }
void DisableRingForThisThread() { Ring().Disable(); }
}  // namespace scattered_read_internal

}  // namespace shixin
