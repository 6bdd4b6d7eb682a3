#include "daemon/state_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace shixin {

absl::StatusOr<StateDirLock> StateDirLock::Acquire(const std::string& state_dir) {
  if (::mkdir(state_dir.c_str(), 0700) < 0 && errno != EEXIST) {
    return absl::ErrnoToStatus(errno, absl::StrCat("mkdir ", state_dir));
  }
  const std::string path = state_dir + "/lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  StateDirLock lock(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) < 0) {
    const int error = errno;
    if (error != EWOULDBLOCK) return absl::ErrnoToStatus(error, absl::StrCat("flock ", path));
    char pid[32] = {};
    const ssize_t n = ::pread(fd, pid, sizeof(pid) - 1, 0);
    const std::string holder(pid, n > 0 ? static_cast<size_t>(n) : 0);
    return absl::FailedPreconditionError(absl::StrCat(
        "state_dir ", state_dir, " is in use by another shixind (pid ",
        holder.empty() ? "unknown" : absl::StripAsciiWhitespace(holder),
        "): two daemons would overwrite each other's audit; give each its own state_dir"));
  }
  const std::string me = absl::StrCat(::getpid(), "\n");
  // The pid is for the message above only: a failure to write it leaves the lock held.
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, me.data(), me.size(), 0);
  return lock;
}

StateDirLock::StateDirLock(StateDirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

StateDirLock& StateDirLock::operator=(StateDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

StateDirLock::~StateDirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace shixin
