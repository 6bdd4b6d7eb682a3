// Loading a data directory (debtors.ndjson and relations.ndjson) into a Snapshot: the one
// place where ingest and the builder meet, used by the CLI's offline mode and by the daemon.
//
// Thread safety: reentrant; each call builds its own snapshot.
#ifndef SHIXIN_CORE_DATASET_H_
#define SHIXIN_CORE_DATASET_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/ingest.h"
#include "core/snapshot.h"

namespace shixin {

inline constexpr char kDebtorsFile[] = "debtors.ndjson";
inline constexpr char kRelationsFile[] = "relations.ndjson";

// Loads `dir`/debtors.ndjson and `dir`/relations.ndjson, validating every line.
// Returns the snapshot, or the first error (a missing file, or more bad lines than
// `options.max_errors`, counted over both files); never a partly built snapshot.
// `report`, if not null, receives what was read, the bad lines skipped, and the lines that give
// a case again (SnapshotBuilder::AddCase(): one case, the later line's; counted as duplicates,
// noted if their content differs), and one note on the cases for grounds (2)-(6) only without
// termEnd (core/grounds.h).
// The snapshot's info().source_time is the newer of the two files' modification times, its
// delta_sequence `options.delta_sequence`.
absl::StatusOr<std::unique_ptr<const Snapshot>> LoadDataDir(const std::string& dir,
                                                            const LoadOptions& options,
                                                            LoadReport* report);

}  // namespace shixin

#endif  // SHIXIN_CORE_DATASET_H_
