// A deterministic generator of synthetic national-style data: listed persons (82 %) and
// organisations with valid IDs, cases per subject geometric with a long tail, realistic case
// numbers, courts, dates and conduct, and relations for every organisation (including officers
// who are themselves listed, and persons who hold roles in several organisations).
//
// The list is the one the court would export at the end of its "today": every case is
// published by then and counts that day, except 0.3 % (kGraceCasesPerMillion) in their grace
// period, published 31-92 days later as a court's feed may announce a listing (docs/feed.md):
// a subject with no other case is not listed that day. Cases whose only ground is (1) have no
// fixed term; the others end 2 years after their publish date, some extended by 1-3 years
// (court rules, Art. 2), so those still listed are recent.
//
// The same options always produce the same records in the same order. A testing library:
// `shixin gen`, the tests and the benchmarks link it; shixind does not.
// Thread safety: the functions are reentrant; concurrent calls are independent.
#ifndef SHIXIN_SYNTHETIC_SYNTHETIC_H_
#define SHIXIN_SYNTHETIC_SYNTHETIC_H_

#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/id.h"
#include "core/record.h"

namespace shixin {

struct SyntheticOptions {
  uint64_t subjects = 1000;  // listed subjects (persons and organisations)
  uint64_t seed = 1;
  // The day the list is exported (YYYYMMDD); 0: the current day in China Standard Time, so that
  // the list counts by the clock of the daemon that serves it. Synthetic deltas (deltas.h)
  // start on the next working day. Pin it for data that must not change from day to day.
  uint32_t today = 0;
};

// Returns options.today, or the current day (China Standard Time) when it is 0.
uint32_t SyntheticToday(const SyntheticOptions& options);

// The share of generated cases in their grace period on the list's day, per million.
inline constexpr uint32_t kGraceCasesPerMillion = 3000;

struct SyntheticStats {
  uint64_t subjects = 0;
  uint64_t persons = 0;
  uint64_t organizations = 0;
  uint64_t cases = 0;
  uint64_t grace_cases = 0;  // of `cases`, published after the list's day (grace period)
  uint64_t relations = 0;
};

// Generates the data set, calling `on_case` for every case (all cases of one subject are
// consecutive) and `on_relation` for every relation. The views passed are valid only during
// the call. Returns the counts.
SyntheticStats GenerateSynthetic(const SyntheticOptions& options,
                                 absl::FunctionRef<void(const CaseInput&)> on_case,
                                 absl::FunctionRef<void(const RelationInput&)> on_relation);

// Writes `dir`/debtors.ndjson and `dir`/relations.ndjson (creating `dir`), in the court's
// record format that ingest.h reads. Returns the counts, or an error if a file cannot be written.
absl::StatusOr<SyntheticStats> WriteSyntheticDataSet(const SyntheticOptions& options,
                                                     const std::string& dir);

// Returns the n-th (mod 99,000) of valid resident IDs that GenerateSynthetic never produces:
// born on 1 Jan 1901, before its first birthday, in areas 110101-110199 (misses for the
// benchmarks, spread over a hash table).
Id UnlistedId(uint64_t n);

}  // namespace shixin

#endif  // SHIXIN_SYNTHETIC_SYNTHETIC_H_
