#include "daemon/uring_loop.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/log.h"

namespace shixin {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// Completion queue entries: room for the completions of many turns' worth of operations (each
// connection has at most a read and a write in flight); beyond it the kernel holds the
// overflow (IORING_FEAT_NODROP) until the next submission.
constexpr unsigned kCompletionEntries = 16384;

}  // namespace

UringLoop::UringLoop(asio::io_context& context)
    : executor_(context.get_executor()), event_(context) {}

absl::StatusOr<std::unique_ptr<UringLoop>> UringLoop::Create(asio::io_context& context,
                                                             unsigned entries) {
  std::unique_ptr<UringLoop> loop(new UringLoop(context));
  io_uring_params params{};
  params.cq_entries = kCompletionEntries;
  // A completion that a socket's readiness brings (a receive that waited) runs as task work of
  // this thread. By default the kernel interrupts the thread for it at once, an inter-processor
  // interrupt when the thread is running: in a VM, dearer than the system call saved. With
  // cooperative task running it waits for the thread's next entry into the kernel (a sleeping
  // thread is still woken), and the ring's flag tells Reap() to enter for it.
  params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  int r = io_uring_queue_init_params(entries, &loop->ring_, &params);
  if (r == -EINVAL) {  // before Linux 5.19
    params = io_uring_params{};
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = kCompletionEntries;
    r = io_uring_queue_init_params(entries, &loop->ring_, &params);
  }
  if (r < 0) {
    return absl::UnavailableError(absl::StrCat("io_uring_setup: ", std::strerror(-r)));
  }
  loop->ring_open_ = true;
  if ((params.features & IORING_FEAT_NODROP) == 0) {
    return absl::UnavailableError("io_uring: the kernel may drop completions (before 5.5)");
  }
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("eventfd: ", std::strerror(errno)));
  error_code ec;
  loop->event_.assign(fd, ec);
  if (ec) {
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("eventfd: ", ec.message()));
  }
  if (r = io_uring_register_eventfd(&loop->ring_, fd); r < 0) {
    return absl::UnavailableError(absl::StrCat("io_uring eventfd: ", std::strerror(-r)));
  }
  return loop;
}

UringLoop::~UringLoop() {
  if (!ring_open_) return;
  std::vector<std::function<void()>> graveyard;
  if (in_flight_ > 0) {
    if (io_uring_sqe* sqe = NextEntry()) {
      io_uring_prep_cancel(sqe, nullptr, IORING_ASYNC_CANCEL_ANY);
      io_uring_sqe_set_data(sqe, nullptr);
    }
    io_uring_submit(&ring_);
    // Bounded: a cancelled receive or send ends at once; one that does not is abandoned to
    // the ring's teardown.
    for (int i = 0; i < 100 && in_flight_ > 0; ++i) {
      io_uring_cqe* cqe = nullptr;
      __kernel_timespec wait{0, 10'000'000};
      if (io_uring_wait_cqe_timeout(&ring_, &cqe, &wait) != 0 || cqe == nullptr) continue;
      auto* op = static_cast<Operation*>(io_uring_cqe_get_data(cqe));
      io_uring_cqe_seen(&ring_, cqe);
      if (op == nullptr) continue;
      --in_flight_;
      op->Abandon(&graveyard);
    }
  }
  io_uring_queue_exit(&ring_);
  graveyard.clear();
}

io_uring_sqe* UringLoop::NextEntry() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    // A full queue: submit it now (the turn had more operations than entries).
    if (io_uring_submit(&ring_) >= 0) ++submits_;
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

template <typename Prepare>
void UringLoop::Queue(Operation* op, const Prepare& prepare) {
  ++in_flight_;
  io_uring_sqe* sqe = NextEntry();
  if (sqe == nullptr) {  // the kernel takes nothing: fail the operation in a later handler
    asio::post(executor_, [this, op] {
      --in_flight_;
      op->Complete(-EAGAIN);
    });
    return;
  }
  prepare(sqe);
  io_uring_sqe_set_data(sqe, op);
  ScheduleSubmit();
}

void UringLoop::Recv(int fd, void* data, size_t size, Operation* op) {
  Queue(op, [&](io_uring_sqe* sqe) { io_uring_prep_recv(sqe, fd, data, size, 0); });
}

void UringLoop::Send(int fd, const void* data, size_t size, Operation* op) {
  Queue(op, [&](io_uring_sqe* sqe) { io_uring_prep_send(sqe, fd, data, size, MSG_NOSIGNAL); });
}

void UringLoop::Cancel(Operation* op) {
  io_uring_sqe* sqe = NextEntry();
  if (sqe == nullptr) return;  // the operation ends with its socket's shutdown or close
  io_uring_prep_cancel(sqe, op, 0);
  io_uring_sqe_set_data(sqe, nullptr);  // the cancellation's own completion is not an operation
  ScheduleSubmit();
}

void UringLoop::ScheduleSubmit() {
  if (submit_posted_) return;
  submit_posted_ = true;
  asio::post(executor_, [this] { Submit(); });
}

void UringLoop::Submit() {
  submit_posted_ = false;
  if (io_uring_sq_ready(&ring_) > 0) {
    // What completes within the submission is reaped right after it, without the eventfd's
    // wake-up (a read and another epoll_wait); anything later signals it.
    io_uring_cq_eventfd_toggle(&ring_, false);
    const int r = io_uring_submit(&ring_);
    io_uring_cq_eventfd_toggle(&ring_, true);
    if (r >= 0) {
      ++submits_;
    } else {
      // EBUSY (completions to reap first), EAGAIN, EINTR: the entries stay queued.
      LogLimited(LogKind::kUring, LogLevel::kWarning, "io_uring_enter: %s", std::strerror(-r));
      ScheduleSubmit();
    }
  }
  Reap();
  WaitForCompletions();
}

void UringLoop::Reap() {
  // A completion may queue operations, never reap. The kernel posts entries only when this
  // thread enters it: peeking does so while the ring's flag says task work waits, so the loop
  // ends once what had arrived is reaped.
  io_uring_cqe* cqe = nullptr;
  while (io_uring_peek_cqe(&ring_, &cqe) == 0 && cqe != nullptr) {
    auto* op = static_cast<Operation*>(io_uring_cqe_get_data(cqe));
    const int result = cqe->res;
    io_uring_cqe_seen(&ring_, cqe);
    if (op == nullptr) continue;
    --in_flight_;
    op->Complete(result);
  }
}

void UringLoop::WaitForCompletions() {
  if (in_flight_ == 0) {
    // Nothing to wait for: the io_context may run out of work (its thread's end).
    error_code ignored;
    if (waiting_) event_.cancel(ignored);
    return;
  }
  if (waiting_) return;
  waiting_ = true;
  event_.async_read_some(asio::buffer(event_count_), [this](const error_code& ec, size_t) {
    waiting_ = false;
    if (ec && ec != asio::error::operation_aborted) {
      LogLimited(LogKind::kUring, LogLevel::kError, "io_uring eventfd: %s", ec.message());
    }
    Reap();
    WaitForCompletions();
  });
}

}  // namespace shixin
