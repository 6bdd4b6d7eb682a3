#include "daemon/delta_watcher.h"

#include <dirent.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
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

int64_t PollMillis(absl::Duration d) {
  return std::max<int64_t>(0, absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1))));
}

}  // namespace

DeltaWatcher::DeltaWatcher(std::string dir, Arrived arrived, Options options)
    : dir_(std::move(dir)), arrived_(std::move(arrived)), options_(options) {}

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
  listed_ = List();  // what the first load applies; what differs later arrived
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
  if (options_.settle != nullptr) options_.settle->SetWaker([this] { Wake(); });
  return absl::OkStatus();
}

void DeltaWatcher::Stop() {
  if (thread_.joinable()) {
    if (options_.settle != nullptr) options_.settle->SetWaker(nullptr);
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
  watch_ = inotify_add_watch(inotify_fd_, dir_.c_str(),
                             options_.file_events ? kWatched : IN_DELETE_SELF | IN_MOVE_SELF);
  return watch_ >= 0;
}

void DeltaWatcher::Lost() {
  // A directory moved away keeps its watch: dropped, so that its events stop (ignored anyway).
  inotify_rm_watch(inotify_fd_, watch_);
  watch_ = -1;
  listed_ = List();
  if (Watch()) {
    LogWarning("deltas_dir %s was replaced: watched again", dir_);
  } else {
    LogError(
        "deltas_dir %s: %s (deleted or moved away?): no delta file is applied until it is "
        "back; looked for every %s and on RELOAD",
        dir_, std::strerror(errno), absl::FormatDuration(options_.retry));
  }
  // The files of a new directory are applied, or the applier reports the missing one in INFO.
  arrived_("(deltas_dir replaced or gone)");
}

DeltaWatcher::Listing DeltaWatcher::List() const {
  Listing listing;
  DIR* dir = ::opendir(dir_.c_str());
  if (dir == nullptr) return listing;
  const int fd = ::dirfd(dir);
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name(entry->d_name);
    if (!EndsAsDeltaFile(name)) continue;
    struct stat st {};
    if (::fstatat(fd, name.c_str(), &st, 0) != 0) continue;  // gone meanwhile
    listing[name] = {static_cast<int64_t>(st.st_size),
                     static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
  }
  ::closedir(dir);
  return listing;
}

std::string DeltaWatcher::Rescan() {
  Listing now = List();
  std::string found;
  for (const auto& [name, stat] : now) {
    const auto before = listed_.find(name);
    if (before == listed_.end() || before->second != stat) found = name;  // the last such
  }
  if (found.empty()) {
    for (const auto& [name, stat] : listed_) {
      if (!now.contains(name)) found = "(a delta file left)";
    }
  }
  listed_ = std::move(now);
  return found;
}

void DeltaWatcher::Run() {
  alignas(inotify_event) char buffer[16 * 1024];
  using Clock = std::chrono::steady_clock;
  const bool rescans = options_.rescan > absl::ZeroDuration();
  const auto rescan = absl::ToChronoNanoseconds(options_.rescan);
  Clock::time_point next_rescan = Clock::now() + rescan;
  for (;;) {
    int64_t timeout = watch_ < 0 ? PollMillis(options_.retry) : -1;
    if (rescans) {
      const int64_t until = PollMillis(absl::FromChrono(next_rescan - Clock::now()));
      timeout = timeout < 0 ? until : std::min(timeout, until);
    }
    if (options_.settle != nullptr) {
      // A file written in place waits to settle: the application is asked for once it has.
      const absl::Time settles = options_.settle->NextCheck();
      if (settles != absl::InfiniteFuture()) {
        const int64_t until = PollMillis(settles - absl::Now());
        timeout = timeout < 0 ? until : std::min(timeout, until);
      }
    }
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, static_cast<int>(std::min<int64_t>(timeout, INT32_MAX))) < 0) {
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
      listed_ = List();
      arrived_("(deltas_dir back)");
    }
    if (options_.settle != nullptr && options_.settle->Announced(absl::Now())) {
      arrived_("(a delta file written in place settled)");
    }
    // Events waiting are read below (and list the directory): no rescan then.
    if (rescans && Clock::now() >= next_rescan) {
      next_rescan = Clock::now() + rescan;
      if (watch_ >= 0 && fds[0].revents == 0) {
        if (const std::string found = Rescan(); !found.empty()) {
          LogInfo("deltas_dir %s: %s found by the rescan, without an inotify event", dir_, found);
          arrived_(found);
        }
      }
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
      if (!EndsAsDeltaFile(name)) continue;
      arrived = name;
      // Renamed into place: whole, read at once (a file closed after writing must settle).
      if ((event->mask & IN_MOVED_TO) != 0 && options_.settle != nullptr) {
        // The path the applier lists it by (ListDeltaFiles()).
        options_.settle->Renamed((dir_.ends_with('/') ? dir_ : dir_ + "/") + name);
      }
    }
    if (lost) {
      Lost();
    } else if (!arrived.empty()) {
      if (rescans) Rescan();  // what the events announced is not found again by the rescan
      arrived_(arrived);
    }
  }
}

}  // namespace shixin
