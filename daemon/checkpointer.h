// Checkpointer writes the serving generation's overlay to the overlay checkpoint
// (core/overlay_checkpoint.h) in the background, so that a restart reads the changed subjects
// instead of replaying every delta file since the base: at most every `interval` while the
// serving generation has deltas the checkpoint lacks (at 64 MiB/s), and once more when it
// stops (as fast as the disk takes it). A write that fails is logged and tried again at the
// next turn; the old checkpoint stays meanwhile.
//
// Thread safety: Holds(), Start() and Stop() from the thread that owns it; status() from any
// thread.
#ifndef SHIXIN_DAEMON_CHECKPOINTER_H_
#define SHIXIN_DAEMON_CHECKPOINTER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/overlay_checkpoint.h"
#include "daemon/snapshot_holder.h"

namespace shixin {

// What the checkpointer has done, for /metrics and the tests.
struct CheckpointStatus {
  uint64_t written = 0;     // checkpoints written since start
  uint64_t failed = 0;      // writes that failed
  uint64_t sequence = 0;    // the last delta the checkpoint file holds (0: none known)
  uint64_t bytes = 0;       // its size, if written since start
  int64_t last_time = 0;    // Unix seconds: the last write's end (0: none)
  double last_seconds = 0;  // how long the last write took
  std::string error;        // why the last write failed, or empty once one succeeds
};

// What RemoveStaleTemporaries() removed.
struct StaleTemporaries {
  uint64_t files = 0;
  uint64_t bytes = 0;
  std::vector<std::string> names;  // the files removed, by name
  std::string error;               // the first one that could not be removed, or empty
};

// Removes the temporary files that writes of the checkpoint at `path` left when the daemon was
// killed during one (`path`.tmp.XXXXXXXX, as WriteFileAtomically names them, core/paths.h: on
// a file system without unnamed files, or killed between naming and renaming one):
// regular files of exactly that name only, not followed through a symbolic link. Each is the
// size of a checkpoint (GBs at national scale) and nothing else removes them.
// REQUIRES: the caller holds state_dir's lock (StateDirLock) and writes no checkpoint meanwhile.
StaleTemporaries RemoveStaleTemporaries(const std::string& path);

class Checkpointer {
 public:
  // Writes to `path` what `holder` serves; `holder` must outlive this.
  Checkpointer(std::string path, const SnapshotHolder* holder, absl::Duration interval);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Tells what the checkpoint file holds (the daemon resumed from it): it is not written again
  // until the serving generation differs. REQUIRES: before Start().
  void Holds(uint64_t base_version, uint64_t sequence);
  // Starts the background thread (at nice 10: the queries keep their cores). Returns the
  // error of StartThread() (base/thread.h) if the system cannot create it.
  absl::Status Start();
  // Writes the serving generation if the checkpoint lacks it, and joins the thread.
  // Idempotent.
  void Stop();
  // Returns a copy of the status.
  CheckpointStatus status() const;

 private:
  // A background write's pace: writing (and its writeback) faster takes the cores from the
  // queries (docs/performance.md, "A restart from the overlay checkpoint").
  static constexpr uint64_t kBytesPerSecond = uint64_t{64} << 20;

  void Run();
  // Writes the serving generation if it has an overlay the checkpoint lacks.
  void WriteIfChanged();

  const std::string path_;
  const SnapshotHolder* const holder_;
  const absl::Duration interval_;
  std::thread thread_;
  mutable std::mutex mu_;  // guards stopping_ and status_
  std::condition_variable wake_;
  bool stopping_ = false;
  CheckpointStatus status_;
  std::atomic<bool> hurry_{false};  // set by Stop(): no more pauses
  // What the checkpoint holds: the base's content hash and the last delta (on the thread only).
  uint64_t base_version_ = 0;
  uint64_t sequence_ = 0;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_CHECKPOINTER_H_
