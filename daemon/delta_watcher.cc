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
#include "core/delta.h"
#include "daemon/log.h"

namespace shixin {

DeltaWatcher::DeltaWatcher(std::string dir, absl::AnyInvocable<void(const std::string&)> arrived)
    : dir_(std::move(dir)), arrived_(std::move(arrived)) {}

DeltaWatcher::~DeltaWatcher() { Stop(); }

absl::Status DeltaWatcher::Start() {
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) {
    return absl::InternalError(absl::StrFormat("inotify: %s", std::strerror(errno)));
  }
  if (inotify_add_watch(inotify_fd_, dir_.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
    const int error = errno;
    ::close(inotify_fd_);
    inotify_fd_ = -1;
    return absl::InternalError(
        absl::StrFormat("inotify on deltas_dir %s: %s", dir_, std::strerror(error)));
  }
  stop_fd_ = eventfd(0, EFD_CLOEXEC);
  if (stop_fd_ < 0) {
    const int error = errno;
    ::close(inotify_fd_);
    inotify_fd_ = -1;
    return absl::InternalError(absl::StrFormat("eventfd: %s", std::strerror(error)));
  }
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void DeltaWatcher::Stop() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    if (::write(stop_fd_, &one, sizeof(one)) < 0) LogError("eventfd: %s", std::strerror(errno));
    thread_.join();
  }
  for (int* fd : {&inotify_fd_, &stop_fd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void DeltaWatcher::Run() {
  alignas(inotify_event) char buffer[16 * 1024];
  for (;;) {
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      LogError("deltas_dir %s: poll: %s; no longer watched", dir_, std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    const ssize_t n = ::read(inotify_fd_, buffer, sizeof(buffer));
    if (n <= 0) continue;  // EAGAIN, EINTR
    // One request per batch of events: the reload thread applies every file that is there.
    std::string arrived;
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      if ((event->mask & IN_Q_OVERFLOW) != 0) arrived = "(events overflowed)";
      if (event->len == 0) continue;
      const std::string name(event->name);
      // A misnamed file too: the applier warns about it.
      if (EndsAsDeltaFile(name)) arrived = name;
    }
    if (!arrived.empty()) arrived_(arrived);
  }
}

}  // namespace shixin
