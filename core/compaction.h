// Compaction: folds delta files into a new base snapshot (`shixin compile --deltas`;
// docs/feed.md, sections 5-6). The new base holds the whole state of the list after the last
// delta, with its history: every case version with its interval and end, and every role with
// the interval during which it holds (core/snapshot.h, link intervals), so that answers now and
// as of any instant in the history window are those of the base with the deltas applied. It
// records the last delta it contains (SnapshotInfo::delta_sequence): a daemon on it replays
// only the later files.
//
// What is dropped: case versions that stopped counting before now - history_days, unless the
// stretch of counting cases they belong to lasts into the window (so that a listing's "since"
// stays where it was), roles that ended before it, and subjects left with neither a case nor
// a role.
//
// Thread safety: reentrant; each call builds its own snapshot.
#ifndef SHIXIN_CORE_COMPACTION_H_
#define SHIXIN_CORE_COMPACTION_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/list.h"
#include "core/overlay.h"
#include "core/snapshot.h"

namespace shixin {

// The history kept by default: 5 years, as the daemon's history_days.
inline constexpr int64_t kDefaultHistoryDays = 1826;

struct CompactionOptions {
  int64_t now = 0;  // Unix seconds: the new base's build time and the window's end; 0: the clock
  int64_t history_days = kDefaultHistoryDays;  // history kept before `now`
  // The newest source folded in besides the base (DeltaReport::newest_file_time): the new
  // base's source time is the later of this and the base's, never after `now`.
  int64_t source_time = 0;
};

// Returns the overlay made by applying to `base`, in order, the delta files of `dir` after the
// ones it contains (base.info().delta_sequence), or null if there are none. Compaction never
// folds past a bad file: returns the first error, naming the file (and line): a file that does
// not parse or that the list refuses (InvalidArgument), a gap in the sequence
// (FailedPrecondition), a file that cannot be read. `report` receives the applications' notes,
// after one for each file that looks like a misnamed delta file (MisnamedDeltaWarning()).
// Files after sequence `up_to` are left out.
// With `stop`, a file refused (InvalidArgument, ResourceExhausted) or a gap does not fail the
// call, as it does not stop shixind: the overlay of the files before it is returned, and
// `*stop` names it and says why (the files after it wait, as shixind's do). `keep_listed_at`
// not 0 refuses, as shixind does, a file that would empty the list then (FailedPrecondition;
// with `stop`, a stop as a refusal is).
struct DeltaDirStop {
  std::string name;     // the file refused, or the first after the gap ("" if none)
  absl::Status status;  // why: the refusal (naming the file and line), or the gap
  bool gap = false;     // the stop is a gap (`name` waits for the file missing before it)
};
absl::StatusOr<std::unique_ptr<const Overlay>> ApplyDeltaDir(
    const Snapshot& base, const std::string& dir, DeltaReport* report,
    uint64_t up_to = std::numeric_limits<uint64_t>::max(), DeltaDirStop* stop = nullptr,
    int64_t keep_listed_at = 0);

// A delta file that changed less than the settle time ago: perhaps still being written in place
// under its final name, which shixind waits for (daemon/delta_settle.h). Compaction must not
// fold it: the lines written after the fold would never be read (the daemon skips the files a
// base contains).
struct UnsettledDeltaFile {
  uint64_t sequence = 0;
  std::string path;
  absl::Duration age;  // since its last change (status change time: writes and renames)
};

// Returns the first delta file of `dir` after sequence `after` (a base's delta_sequence) whose
// status change time is less than `settle` before `now`, or nullopt if there is none, `settle`
// is zero, or `dir` cannot be listed (ApplyDeltaDir says why).
std::optional<UnsettledDeltaFile> FirstUnsettledDeltaFile(const std::string& dir, uint64_t after,
                                                          absl::Duration settle, absl::Time now);

// Returns a snapshot holding the whole state of `list` (its base with its overlay), less what
// is older than the history window, with delta_sequence the overlay's sequence (the base's
// without one). Returns the base's DataLoss if its cases cannot be read, the builder's
// ResourceExhausted.
absl::StatusOr<std::unique_ptr<const Snapshot>> Compact(const ListView& list,
                                                        const CompactionOptions& options);

}  // namespace shixin

#endif  // SHIXIN_CORE_COMPACTION_H_
