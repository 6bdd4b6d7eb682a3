// UringLoop: one I/O thread's socket reads and writes through io_uring (issue 14: fewer system
// calls per request). On this kind of VM a system call costs ~1 us however little it does, and
// the reactor makes three per request at depth 1 (the recv, the send, and a recv that finds
// nothing); through the loop, the reads and writes that a turn of the thread's io_context
// queued are submitted together by one io_uring_enter (a posted Submit(), after the turn's
// handlers), and their completions are reaped together: at once for those the kernel finished
// within the submission, and when the ring's eventfd (read through the io_context) says that
// later ones arrived.
//
// The loop keeps its io_context busy only while operations are in flight, so that the
// thread's run() ends when its connections have.
//
// Thread safety: not thread-safe; used only on its I/O thread (the io_context's one runner).
#ifndef SHIXIN_DAEMON_URING_LOOP_H_
#define SHIXIN_DAEMON_URING_LOOP_H_

#include <liburing.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"

namespace shixin {

class UringLoop {
 public:
  // An operation in flight. Its owner keeps it, and the bytes it reads into or writes from,
  // alive until Complete() or Abandon().
  class Operation {
   public:
    // The kernel's result: bytes transferred (>= 0) or -errno (-ECANCELED after Cancel()).
    // Runs in a handler of the io_context, never inside the call that queued the operation.
    virtual void Complete(int result) = 0;
    // The loop is destroyed with the operation in flight (the io_context was stopped): move
    // what the operation holds into `graveyard` without running it, as an io_context drops its
    // handlers. The loop destroys the graveyard once no operation is left to abandon (what it
    // holds may own other operations).
    virtual void Abandon(std::vector<std::function<void()>>* graveyard) = 0;

   protected:
    ~Operation() = default;
  };

  // Returns a loop for `context`, or Unavailable naming why the kernel refused io_uring (too
  // old, kernel.io_uring_disabled, a seccomp filter). `entries`: submission queue entries.
  static absl::StatusOr<std::unique_ptr<UringLoop>> Create(boost::asio::io_context& context,
                                                           unsigned entries = 1024);
  // REQUIRES: the io_context runs no more handlers (its thread has returned). Cancels what is
  // in flight, waits (a bounded time) for the kernel to let go of it, and Abandon()s it.
  ~UringLoop();
  UringLoop(const UringLoop&) = delete;
  UringLoop& operator=(const UringLoop&) = delete;

  // Queue a receive into / a send from `size` bytes at `data` on socket `fd`.
  // REQUIRES: `op` is not in flight; on the loop's thread.
  void Recv(int fd, void* data, size_t size, Operation* op);
  void Send(int fd, const void* data, size_t size, Operation* op);
  // Asks the kernel to end `op`, which completes with -ECANCELED (or its result if it had
  // finished). Nothing if `op` completed already. REQUIRES: on the loop's thread.
  void Cancel(Operation* op);

  // Returns the operations queued or in the kernel, whose completion has not run.
  size_t in_flight() const { return in_flight_; }
  // Returns the io_uring_enter calls that submitted operations (tests and benchmarks).
  uint64_t submits() const { return submits_; }

 private:
  explicit UringLoop(boost::asio::io_context& context);

  // Returns a free submission entry, submitting the queued ones first if none is free.
  io_uring_sqe* NextEntry();
  // Queues `op`, its entry filled by prepare(io_uring_sqe*).
  template <typename Prepare>
  void Queue(Operation* op, const Prepare& prepare);
  // Has Submit() run once the handlers ready now have.
  void ScheduleSubmit();
  void Submit();
  // Runs the completions the ring holds.
  void Reap();
  // Reads the eventfd while operations are in flight.
  void WaitForCompletions();

  io_uring ring_{};
  bool ring_open_ = false;
  boost::asio::io_context::executor_type executor_;
  boost::asio::posix::stream_descriptor event_;
  std::array<char, 8> event_count_{};
  size_t in_flight_ = 0;
  uint64_t submits_ = 0;
  bool submit_posted_ = false;
  bool waiting_ = false;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_URING_LOOP_H_
