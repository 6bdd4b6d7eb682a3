// DeltaApplier applies the delta files of `deltas_dir` (docs/feed.md, section 3) on top of a
// dataset: it lists the directory, reads the files after the dataset's sequence (ReadDelta, up
// to 4 files at once on worker threads, a few files ahead), applies them in order with an
// OverlayBuilder on top of the dataset's overlay (a fold builds its table once, however many
// files), and hands over the next generation. It enforces the feed's rules: a refused file is not
// applied and stays refused until it changes (inode, size or mtime) or a reload tries it again
// (Adopt()), and the files after it wait; a gap stops application and is reported, never skipped;
// files at or below the sequence are skipped; a misnamed file (ListDeltaFiles()) is warned about
// once; a file written in place rather than renamed into place is read only once it has settled
// (daemon/delta_settle.h), so that a file still being written is never applied in part; a file
// applied already that changes (appended to in place) is warned about, naming what was applied
// of it, and not applied again (after a restart from the overlay checkpoint too, which keeps
// what was applied of each file: Dataset::applied_files). A file makes the list as fresh as its
// mtime, but never fresher than its arrival (its ctime) nor than its application: an mtime in the
// future (a pusher's skewed clock, a `touch`) is warned about and clamped, so that it cannot switch
// off STALE. Notes are logged (rate-limited) and counted. Its state is kept for INFO (DeltaStatus).
//
// The Reloader owns it and calls it on its thread: at start the files are folded into the
// dataset before it is published (one generation; a reload folds them on its loader's thread
// with an applier of its own, then Adopt()s it and applies what landed meanwhile); when a file
// arrives (inotify, daemon/delta_watcher.h) each applied file is published as its own generation,
// and the builder of the next one (a copy of the overlay's table) is made right after, while no
// file waits for it.
//
// Thread safety: Apply() and Adopt() from one thread at a time; status() from any thread.
#ifndef SHIXIN_DAEMON_DELTA_APPLIER_H_
#define SHIXIN_DAEMON_DELTA_APPLIER_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "core/delta.h"
#include "core/overlay.h"
#include "daemon/delta_settle.h"
#include "daemon/snapshot_holder.h"

namespace shixin {

// What the delta application has done so far, and why it stopped, for INFO and the tests.
struct DeltaStatus {
  uint64_t sequence = 0;  // the last delta applied (of the serving base)
  uint64_t pending = 0;   // delta files after `sequence` not applied yet
  // Files applied for the first time since the daemon started: a reload's replay of a file it
  // applied already counts in `replayed_files` instead, so that replicas fed the same files
  // agree however often they reload.
  uint64_t applied_files = 0;
  uint64_t applied_changes = 0;  // lines of those files
  uint64_t notes = 0;            // lines of those files that changed nothing (repeated or late)
  uint64_t replayed_files = 0;   // files applied again by a reload (or a later fold)
  uint64_t refusals = 0;         // files refused (each version of a file counted once)
  std::string refused_file;      // the file refused and waiting to change, or empty
  std::string refused_reason;    // why ("00000000000000000042.ndjson:17: remove: ...")
  uint64_t gap_after = 0;        // if gap: the missing file's predecessor (the last applied)
  bool gap = false;              // sequence + 1 is missing while a later file exists
  std::string error;             // the directory could not be listed, or empty
  // Unix seconds: when the last file was applied (before a restart, if it resumed from the
  // overlay checkpoint and none was applied since; 0: never, or a checkpoint of an older build)
  int64_t last_delta_time = 0;
  // Of that file: application time minus its newest change's at; 0 if that is in the future, or
  // if it was applied before a restart.
  int64_t lag_seconds = 0;
};

class DeltaApplier {
 public:
  // Called with each generation made while applying online.
  using PublishFn = absl::FunctionRef<void(std::unique_ptr<Dataset>)>;

  // `dir` is the delta directory (deltas_dir); a file larger than `max_bytes` is refused unread.
  // With `settle` (not owned; it outlives the applier) a file is read only once it is whole
  // (DeltaSettle::Settled()); the files from one that is not wait for it. Null: at once.
  explicit DeltaApplier(std::string dir, uint64_t max_bytes = UINT64_MAX,
                        DeltaSettle* settle = nullptr);
  DeltaApplier(const DeltaApplier&) = delete;
  DeltaApplier& operator=(const DeltaApplier&) = delete;

  // Folds the files after dataset->sequence into *dataset (its overlay, sequence and source
  // time), in order, until none is left or one is refused, missing (gap) or unreadable.
  // Returns how many files were applied. REQUIRES: dataset->snapshot is not null.
  size_t Apply(Dataset* dataset);
  // Same, but each applied file's generation is also handed to `publish` (a copy of *dataset
  // as it is after that file), so that queries see every file as soon as it is applied.
  size_t Apply(Dataset* dataset, PublishFn publish);

  // Takes over what `fold`, an applier of the same directory that folded the files into a
  // reload's new base on another thread while this one kept applying arrivals online, did: the
  // files it applied count as applied if this one never applied their sequence, else as
  // replayed, its refusals add to these, and its refused file (or none) replaces the one refused
  // here, since the reload tried the files again. REQUIRES: `fold` is not in use.
  void Adopt(const DeltaApplier& fold);

  // Starts a fold (see Adopt()) from what `online` knows of the files applied and of their
  // changes since, so that a change `online` warned about is not warned about again by the fold
  // (which meets the files applied before it, from the overlay checkpoint, too). REQUIRES:
  // neither is in use.
  void KnowApplied(const DeltaApplier& online);

  // Returns a copy of the state.
  DeltaStatus status() const;

 private:
  size_t ApplyFiles(Dataset* dataset, const PublishFn* publish);
  // Returns whether `status` (of reading or applying the file at `path`) is OK; otherwise logs
  // it and, unless the file may be being replaced, records the file as refused.
  bool Accepted(const std::string& path, const FileVersion& version, const absl::Status& status);
  // Where an applied file's time went (the log line shows it; the visibility target of issue
  // 10 is their sum and the wait for the file's turn).
  struct Timing {
    // The time a phase took, and the CPU time its thread used meanwhile: the rest it waited
    // (for a core, or the disk).
    struct Phase {
      absl::Duration wall, cpu;
    };
    Phase read, prepare, apply;
    absl::Duration publish;  // Finish() and the swap
  };
  class Stopwatch;  // times the phases of a file on one thread
  // Records file `sequence` applied at Unix time `now`. Returns the seconds from its newest
  // change to now (0: unknown; negative: it is dated in the future).
  int64_t Applied(uint64_t sequence, const std::string& path, const Delta& delta,
                  const DeltaReport& report, int64_t now);
  // One applied file's counts: a fold's are counted by the applier that adopts it.
  struct AppliedFile {
    uint64_t sequence = 0;
    uint64_t changes = 0;
    uint64_t notes = 0;
  };
  // Counts `file` as applied, or as replayed if a file of its sequence was counted already.
  // REQUIRES: mu_ held.
  void Count(const AppliedFile& file);
  // Logs an applied file: `lag` as Applied() returned it, and where its time went.
  static void LogApplied(const Delta& delta, const DeltaReport& report, int64_t lag,
                         const Timing& timing);

  // Returns the spare builder if it starts from `dataset`'s base and overlay, else null; drops
  // the spare either way.
  std::unique_ptr<OverlayBuilder> TakeSpare(const Dataset& dataset);

  const std::string dir_;
  const uint64_t max_bytes_;
  DeltaSettle* const settle_;  // null: files are read at once
  // The builder of the next online generation, made once a run of files has been published:
  // copying the overlay's table (tens of ms for a million changed subjects) then happens while
  // no file waits, not after the next file arrives. It holds what it starts from.
  struct Spare {
    std::shared_ptr<const Snapshot> snapshot;
    std::shared_ptr<const Overlay> overlay;
    std::unique_ptr<OverlayBuilder> builder;
    // Whether `builder` (not null) starts from `dataset`'s base and overlay.
    bool For(const Dataset& dataset) const {
      return builder != nullptr && snapshot == dataset.snapshot && overlay == dataset.overlay;
    }
  };
  Spare spare_;
  // Warns about the files at or below `dataset`'s sequence whose bytes changed since they were
  // applied, by this applier or before a restart (Dataset::applied_files), each change once:
  // they are never applied again.
  void WarnChangedAfterApplied(const std::vector<DeltaFile>& files, const Dataset& dataset);

  // The misnamed files warned about (once each); read and written by Apply() only.
  absl::flat_hash_set<std::string> warned_misnamed_;
  // Each file applied over the serving base, by sequence: what was applied of it, and its
  // version when last looked at (a change is warned about once), for the warning if it changes
  // afterwards; read and written by Apply()/Adopt() only.
  struct AppliedVersion {
    AppliedDeltaFile applied;
    FileVersion seen;
  };
  absl::flat_hash_map<uint64_t, AppliedVersion> applied_versions_;
  // The refused file's path and version; read and written by Apply()/Adopt() only.
  std::string refused_path_;
  FileVersion refused_version_;
  // The files applied since the last Adopt() (a fold's, for the applier that adopts it); read
  // and written by Apply()/Adopt() only.
  std::vector<AppliedFile> applied_log_;
  mutable std::mutex mu_;  // guards status_ and counted_through_
  DeltaStatus status_;
  // The highest sequence counted in applied_files, or held before this process applied any
  // (a checkpoint's, a compacted base's); guarded by mu_.
  uint64_t counted_through_ = 0;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_DELTA_APPLIER_H_
