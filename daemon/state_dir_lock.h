// StateDirLock keeps one shixind per state_dir: two daemons writing the same audit segments
// would overwrite each other's records and hand out the same receipts, and the overlay
// checkpoint would be written by both. The lock is an flock(2) on state_dir/lock, held for the
// life of the object (the kernel drops it when the process ends, even on SIGKILL); the file
// holds the holder's pid, for the message a second daemon gets.
//
// Thread safety: a plain value, moved but not shared.
#ifndef SHIXIN_DAEMON_STATE_DIR_LOCK_H_
#define SHIXIN_DAEMON_STATE_DIR_LOCK_H_

#include <string>

#include "absl/status/statusor.h"

namespace shixin {

class StateDirLock {
 public:
  // Creates `state_dir` (mode 0700) if missing and locks it. Returns the lock, FailedPrecondition
  // naming the holder's pid if another process holds it, or the error of mkdir or open.
  static absl::StatusOr<StateDirLock> Acquire(const std::string& state_dir);

  StateDirLock(StateDirLock&& other) noexcept;
  StateDirLock& operator=(StateDirLock&& other) noexcept;
  StateDirLock(const StateDirLock&) = delete;
  StateDirLock& operator=(const StateDirLock&) = delete;
  ~StateDirLock();  // releases the lock

 private:
  explicit StateDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_STATE_DIR_LOCK_H_
