// Synthetic delta files (docs/feed.md, section 3): the court's daily changes on top of the list
// GenerateSynthetic makes, one file per working day after kSyntheticToday.
//
// Each file holds a realistic mix of changes: adds of new cases (of listed subjects and of new
// ones, some with a grace period, terms as in the base list), removes with the feed's reasons
// (mostly performed or settled), rare revokes (~1 %), corrections (~5 %: the duty, the
// performance or an extended term) and relate/unrelate of roles (~5 %). Every change is valid
// against the list as it is at that point: a remove, revoke or correct names a case that
// counts at its `at` (not removed, not past its term, not in its grace period), an unrelate a
// role that exists, a relate one that does not, and an add a case number nobody has. `at` times
// never decrease: file i is the i-th working day (Monday-Friday) after kSyntheticToday, its
// lines spread over office hours (09:00-17:30 +08:00).
//
// Memory: the generator keeps 8 bytes per subject of the base list (it regenerates a subject's
// records when a change needs them), a bit per base case, and some 30 bytes per case added,
// per correction and per role changed: `shixin gen --subjects 10000000 --deltas 250
// --changes-per-delta 20000` peaks at 160 MB and takes about 70 s of CPU, the list included.
//
// The same options always produce the same files. Thread safety: reentrant.
#ifndef SHIXIN_SYNTHETIC_DELTAS_H_
#define SHIXIN_SYNTHETIC_DELTAS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "synthetic/synthetic.h"

namespace shixin {

struct SyntheticDeltaOptions {
  uint64_t deltas = 0;                // files: sequences 1 .. deltas
  uint64_t changes_per_delta = 1000;  // lines per file
};

struct SyntheticDeltaStats {
  uint64_t files = 0;
  // Changes by op.
  uint64_t adds = 0, removes = 0, revokes = 0, corrects = 0, relates = 0, unrelates = 0;
};

// Writes `dir`/00000000000000000001.ndjson ... (creating `dir`), the changes to the list that
// `list` generates. Each file is written under a temporary name (".<name>.tmp") and renamed
// into place, as a pusher does. Returns the counts, or the error of a file that cannot be
// written.
absl::StatusOr<SyntheticDeltaStats> WriteSyntheticDeltas(const SyntheticOptions& list,
                                                         const SyntheticDeltaOptions& options,
                                                         const std::string& dir);

}  // namespace shixin

#endif  // SHIXIN_SYNTHETIC_DELTAS_H_
