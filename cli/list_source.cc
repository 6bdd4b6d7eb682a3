#include "cli/list_source.h"

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "base/status_macros.h"
#include "cli/commands.h"
#include "core/compaction.h"
#include "core/paths.h"
#include "core/snapshot_file.h"

namespace shixin {

absl::Status CheckListSource(const Flags& flags) {
  if (!flags.Get("data") == !flags.Get("snapshot")) {
    return absl::InvalidArgumentError(
        "one of --data DIR or --snapshot FILE is required (and --deltas DIR: the list as "
        "shixind serves it)");
  }
  return absl::OkStatus();
}

absl::StatusOr<LoadedList> LoadList(const Flags& flags, uint64_t catalog_fingerprint) {
  const std::optional<std::string> snapshot = flags.Get("snapshot");
  LoadedList list;
  if (snapshot) {
    SHIXIN_ASSIGN_OR_RETURN(list.base,
                            OpenSnapshotFile(*snapshot, catalog_fingerprint, nullptr, 0,
                                             flags.Get("catalog").value_or(DefaultCatalogPath())));
  } else {
    SHIXIN_ASSIGN_OR_RETURN(list.base, LoadListToAnswer(flags));
  }
  list.sequence = list.base->info().delta_sequence;
  if (const std::optional<std::string> dir = flags.Get("deltas")) {
    DeltaReport report;
    SHIXIN_ASSIGN_OR_RETURN(list.overlay, ApplyDeltaDir(*list.base, *dir, &report));
    if (list.overlay != nullptr) list.sequence = list.overlay->sequence();
  }
  return list;
}

}  // namespace shixin
