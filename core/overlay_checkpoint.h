// An overlay checkpoint: the daemon's overlay (core/overlay.h) written to one file, so that a
// restart reads the subjects the deltas changed instead of replaying every delta since the
// base (docs/feed.md, section 5, "The overlay checkpoint", which shows the file's layout).
//
// The file holds the base it was made over (its content hash and entity count), the last delta
// applied, each changed subject's entity as the overlay holds it and the bit per base entity,
// under an XXH3-64 of every byte. A checkpoint of another base, another sequence than the
// caller can use, another layout (format version, byte order) or with any byte wrong is refused
// with a precise error, and the caller replays the deltas instead: a checkpoint only saves time.
//
// Thread safety: pure functions; Write() reads an immutable overlay, so it may run beside the
// threads that query it.
#ifndef SHIXIN_CORE_OVERLAY_CHECKPOINT_H_
#define SHIXIN_CORE_OVERLAY_CHECKPOINT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/overlay.h"
#include "core/snapshot.h"

namespace shixin {

// A delta file as it was applied, which the checkpoint keeps for each file in its overlay: a
// daemon resumed from it compares the file with it, so that one changed after it was applied
// is noticed after a restart too (docs/feed.md, section 3, "Order").
struct AppliedDeltaFile {
  uint64_t sequence = 0;
  uint64_t inode = 0;  // its version when read: inode, size and mtime
  int64_t size = 0;    // bytes
  int64_t mtime_ns = 0;
  uint64_t digest = 0;     // XXH3-64 of its bytes
  uint64_t changes = 0;    // its lines applied
  int64_t applied_at = 0;  // Unix seconds
  bool operator==(const AppliedDeltaFile&) const = default;
};

// What a checkpoint holds beside the overlay.
struct CheckpointInfo {
  uint64_t base_version = 0;  // SnapshotInfo::version of the base it was made over
  uint64_t sequence = 0;      // the last delta applied (Overlay::sequence())
  int64_t source_time = 0;    // Unix seconds: the newest mtime of the files it contains
  int64_t applied_time = 0;   // Unix seconds: when its last delta was applied (0: unknown)
  uint64_t entities = 0;      // changed subjects
  uint64_t bytes = 0;         // the file's size
  // The delta files in its overlay, in sequence order (filled by a Read() that succeeds).
  std::vector<AppliedDeltaFile> files;
};

// How fast OverlayCheckpoint::Write() goes.
struct CheckpointPace {
  uint64_t bytes_per_second = 0;  // 0: as fast as the disk takes it
  // If not null: once it is true, the rest is written without pauses (the daemon stops).
  const std::atomic<bool>* hurry = nullptr;
};

class OverlayCheckpoint {
 public:
  // Writes `overlay` (made over `base`) to `path` atomically: a temporary file beside it,
  // fsync'ed, then renamed over `path` (and the directory fsync'ed), at `pace` (the file's
  // writeback starts chunk by chunk either way). Returns the error of the file system, naming
  // the path; `path` is then unchanged (a FIFO or device there is FailedPrecondition, never
  // written through: WriteStateFile()). `source_time`, `applied_time` and `files` (the delta
  // files in `overlay`) are kept for CheckpointInfo.
  static absl::Status Write(const Snapshot& base, const Overlay& overlay, int64_t source_time,
                            int64_t applied_time, const std::string& path, CheckpointPace pace = {},
                            std::span<const AppliedDeltaFile> files = {});

  // Reads the checkpoint at `path` made over `base`. Returns NotFound if there is none;
  // FailedPrecondition if it was made over another base or by another layout; DataLoss naming
  // the byte offset if it is truncated, longer than its header says, or any byte is wrong;
  // Internal "PATH: not a regular file (a FIFO)" for anything but a regular file there (opened
  // without blocking: never a hang); another error of the file system. `info`, if not null,
  // receives what the header says (also on FailedPrecondition).
  static absl::StatusOr<std::unique_ptr<const Overlay>> Read(const Snapshot& base,
                                                             const std::string& path,
                                                             CheckpointInfo* info = nullptr);
};

}  // namespace shixin

#endif  // SHIXIN_CORE_OVERLAY_CHECKPOINT_H_
