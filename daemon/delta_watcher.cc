#include "daemon/delta_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"
#include "base/thread.h"
#include "core/delta.h"
#include "daemon/log.h"

namespace shixin {
namespace {

// The events of a file landing or leaving (an operator removing a refused file or a stray one:
// INFO's refusal and gap are then looked at again), and of the directory itself going away
// (IN_IGNORED comes too).
constexpr uint32_t kWatched =
    IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF;
constexpr uint32_t kGone = IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF;

}  // namespace

DeltaWatcher::DeltaWatcher(std::string dir, absl::AnyInvocable<void(const std::string&)> arrived,
                           absl::Duration retry)
    : dir_(std::move(dir)), arrived_(std::move(arrived)), retry_(retry) {}

DeltaWatcher::~DeltaWatcher() { Stop(); }

absl::Status DeltaWatcher::Start() {
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) {
    return absl::InternalError(absl::StrFormat("inotify: %s", std::strerror(errno)));
  }
  if (!Watch()) {
    const int error = errno;
    ::close(inotify_fd_);
    inotify_fd_ = -1;
    return absl::InternalError(
        absl::StrFormat("inotify on deltas_dir %s: %s", dir_, std::strerror(error)));
  }
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    const int error = errno;
    ::close(inotify_fd_);
    inotify_fd_ = -1;
    return absl::InternalError(absl::StrFormat("eventfd: %s", std::strerror(error)));
  }
  absl::StatusOr<std::thread> thread = StartThread("shixind-watch", [this] { Run(); });
  if (!thread.ok()) {
    ::close(wake_fd_);
    wake_fd_ = -1;
    ::close(inotify_fd_);
    inotify_fd_ = -1;
    return thread.status();
  }
  thread_ = *std::move(thread);
  running_.store(true);
  return absl::OkStatus();
}

void DeltaWatcher::Stop() {
  if (thread_.joinable()) {
    running_.store(false);
    stopping_.store(true);
    Wake();  // the thread sees stopping_
    thread_.join();
  }
  for (int* fd : {&inotify_fd_, &wake_fd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void DeltaWatcher::Rewatch() {
  if (running_.load()) Wake();
}

void DeltaWatcher::Wake() {
  const uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof(one)) < 0) LogError("eventfd: %s", std::strerror(errno));
}

bool DeltaWatcher::Watch() {
  watch_ = inotify_add_watch(inotify_fd_, dir_.c_str(), kWatched);
  return watch_ >= 0;
}

void DeltaWatcher::Lost() {
  // A directory moved away keeps its watch: dropped, so that its events stop (ignored anyway).
  inotify_rm_watch(inotify_fd_, watch_);
  watch_ = -1;
  if (Watch()) {
    LogWarning("deltas_dir %s was replaced: watched again", dir_);
  } else {
    LogError(
        "deltas_dir %s: %s (deleted or moved away?): no delta file is applied until it is "
        "back; looked for every %s and on RELOAD",
        dir_, std::strerror(errno), absl::FormatDuration(retry_));
  }
  // The files of a new directory are applied, or the applier reports the missing one in INFO.
  arrived_("(deltas_dir replaced or gone)");
}

void DeltaWatcher::Run() {
  alignas(inotify_event) char buffer[16 * 1024];
  for (;;) {
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int timeout = watch_ < 0 ? static_cast<int>(absl::ToInt64Milliseconds(retry_)) : -1;
    if (::poll(fds, 2, timeout) < 0) {
      if (errno == EINTR) continue;
      LogError("deltas_dir %s: poll: %s; no longer watched", dir_, std::strerror(errno));
      return;
    }
    if (stopping_.load()) return;
    if (fds[1].revents != 0) {
      uint64_t count = 0;
      if (::read(wake_fd_, &count, sizeof(count)) < 0 && errno != EAGAIN) {
        LogError("eventfd: %s", std::strerror(errno));
      }
    }
    if (watch_ < 0 && Watch()) {
      LogInfo("deltas_dir %s is back: watched again", dir_);
      arrived_("(deltas_dir back)");
    }
    if (fds[0].revents == 0) continue;
    const ssize_t n = ::read(inotify_fd_, buffer, sizeof(buffer));
    if (n <= 0) continue;  // EAGAIN, EINTR
    // One request per batch of events: the reload thread applies every file that is there.
    std::string arrived;
    bool lost = false;
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      if ((event->mask & IN_Q_OVERFLOW) != 0) arrived = "(events overflowed)";
      // Only the current watch's: a lost one's IN_IGNORED follows its IN_DELETE_SELF.
      if (event->wd == watch_ && watch_ >= 0 && (event->mask & kGone) != 0) lost = true;
      if (event->len == 0) continue;
      const std::string name(event->name);
      // A misnamed file too: the applier warns about it.
      if (EndsAsDeltaFile(name)) arrived = name;
    }
    if (lost) {
      Lost();
    } else if (!arrived.empty()) {
      arrived_(arrived);
    }
  }
}

}  // namespace shixin
