// The list an offline command answers from: a base (a data directory or a compiled snapshot
// file) and the delta files applied on it, as shixind would serve it.
//
// Thread safety: LoadList() is a pure function; a LoadedList is immutable once returned.
#ifndef SHIXIN_CLI_LIST_SOURCE_H_
#define SHIXIN_CLI_LIST_SOURCE_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/flags.h"
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

  ListView view() const { return ListView(*base, overlay.get()); }
};

// Returns InvalidArgument (a usage error) unless exactly one of --data and --snapshot is given.
absl::Status CheckListSource(const Flags& flags);

// Returns the list of --data DIR (tolerating --max-errors bad lines) or --snapshot FILE (compiled
// against the catalog with `catalog_fingerprint`; 0: any, for answers without measures), with the
// delta files of --deltas DIR applied in sequence order. Returns the errors of LoadListToAnswer(),
// OpenSnapshotFile() and ApplyDeltaDir() (a refused delta named with its file and line). REQUIRES:
// CheckListSource(flags) is OK.
absl::StatusOr<LoadedList> LoadList(const Flags& flags, uint64_t catalog_fingerprint);

}  // namespace shixin

#endif  // SHIXIN_CLI_LIST_SOURCE_H_
