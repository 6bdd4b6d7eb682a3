// The list an offline command answers from: a base (a data directory or a compiled snapshot
// file) and the delta files applied on it, as shixind would serve it.
//
// Thread safety: LoadList() is a pure function; a LoadedList is immutable once returned.
#ifndef SHIXIN_CLI_LIST_SOURCE_H_
#define SHIXIN_CLI_LIST_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/flags.h"
#include "core/compaction.h"
#include "core/list.h"
#include "core/overlay.h"
#include "core/snapshot.h"

namespace shixin {

// The flags LoadList() reads: --data, --snapshot, --deltas, --max-errors.
inline constexpr FlagSpec kListSourceFlags[] = {
    {"data", true}, {"snapshot", true}, {"deltas", true}, {"max-errors", true, true}};

struct LoadedList {
  std::unique_ptr<const Snapshot> base;
  std::unique_ptr<const Overlay> overlay;  // null: the base alone
  uint64_t sequence = 0;                   // the last delta in it
  std::string deltas;                      // --deltas DIR, or "" without it
  // The file of --deltas the list stops at, as shixind stops (ApplyDeltaDir()): one refused, or
  // the first after a gap; it and the files after it are not in the list. Its name is "" if the
  // list holds every file.
  DeltaDirStop stop;

  ListView view() const { return ListView(*base, overlay.get()); }
  bool stopped() const { return !stop.name.empty(); }
};

// Returns InvalidArgument (a usage error) unless exactly one of --data and --snapshot is given.
absl::Status CheckListSource(const Flags& flags);

// Returns the list of --data DIR (tolerating --max-errors bad lines) or --snapshot FILE (compiled
// against the catalog with `catalog_fingerprint`; 0: any, for answers without measures), with the
// delta files of --deltas DIR applied in sequence order as shixind applies them: up to a refused
// file or a gap, which LoadedList::stop names. Returns the errors of LoadListToAnswer(),
// OpenSnapshotFile() and ApplyDeltaDir() (a file of --deltas that cannot be read). REQUIRES:
// CheckListSource(flags) is OK.
absl::StatusOr<LoadedList> LoadList(const Flags& flags, uint64_t catalog_fingerprint);

// Returns the warning for an answer from `list` stopped short of its --deltas (what stopped it,
// the sequence answered at, what waits). REQUIRES: list.stopped().
std::string StoppedWarning(const LoadedList& list);

// Prints StoppedWarning() on stderr as `command`'s ("shixin check: warning: ...") if `list` is
// stopped short of its --deltas; nothing otherwise.
void WarnIfStopped(std::string_view command, const LoadedList& list);

// Returns the FailedPrecondition for a command that does not write from a list stopped short of
// its --deltas (`what`, e.g. "the public list is not written"): what stopped it and how to go on.
absl::Status StoppedError(const LoadedList& list, std::string_view what);

// Returns `json` (an answer's object) with "delta_sequence" (the last delta file in `list`, as
// shixind's JSON API gives it) if `list` was loaded with --deltas; else `json` as it is.
std::string WithDeltaSequence(std::string json, const LoadedList& list);

}  // namespace shixin

#endif  // SHIXIN_CLI_LIST_SOURCE_H_
