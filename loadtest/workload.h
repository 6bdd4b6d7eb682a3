// The IDs a load run queries, read from a data directory, and the choice of each request's IDs.
//
// LoadIdPool() scans DIR/debtors.ndjson for "cardNum" values (listed subjects: hits) and
// DIR/relations.ndjson for "personId" values whose "orgId" is listed (by its credit code or by
// the organisation code embedded in it) and who are not listed themselves (related persons), with a
// plain byte scan (no JSON parser: the files are large). Every ID is normalised with ParseId();
// invalid ones are skipped and counted. Up to `sample` of each class are kept (reservoir sampling,
// so the whole list is represented). Misses are generated resident IDs with valid check characters,
// built from the area codes of the listed persons, and checked against every listed and related ID
// of the files, so the expected answer of every ID is known and each answer of the server can be
// judged.
//
// Thread safety: an IdPool is immutable after LoadIdPool() and may be shared; a Picker is used
// by one thread.
#ifndef SHIXIN_LOADTEST_WORKLOAD_H_
#define SHIXIN_LOADTEST_WORKLOAD_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/validity.h"

namespace shixin::loadtest {

// What an ID is in the data set, and so what the right answer is. A touched ID is named by the
// deltas a run feeds (loadtest/delta_feed.h): its right answer depends on the generation.
enum class IdClass : uint8_t { kHit = 0, kMiss = 1, kRelated = 2, kTouched = 3 };

// A normalised ID (18 characters, or 9 for an organisation code), stored inline.
struct FixedId {
  char text[18];
  uint8_t size;
  std::string_view view() const { return std::string_view(text, size); }
};

// Returns `text` (a normalised ID, at most 18 bytes) as a FixedId.
FixedId MakeFixedId(std::string_view text);

struct IdPool {
  std::vector<FixedId> hits;
  std::vector<FixedId> misses;
  std::vector<FixedId> related;
  std::vector<FixedId> touched;  // set by UseTouched() (delta_feed.h); else empty
  uint64_t listed_total = 0;     // distinct listed IDs in the files
  uint64_t related_total = 0;    // distinct related persons who are not listed
  uint64_t invalid_ids = 0;      // skipped values that are not valid IDs
  double read_seconds = 0;
};

struct PoolOptions {
  std::string data_dir;
  size_t sample = 1'000'000;  // the most IDs kept per class
  uint64_t seed = 1;
  // The pool's answers hold this long from when it is loaded: an ID whose answer a case's
  // publication or end of term changes meanwhile (at midnight in China, say) is left out.
  int64_t stable_seconds = 2 * 86400;
};

absl::StatusOr<IdPool> LoadIdPool(const PoolOptions& options);

// Calls `fn` with each line of `path` (without the newline), reading the file through mmap.
absl::Status ForEachLine(const std::string& path, absl::FunctionRef<void(std::string_view)> fn);

// Returns the raw (still escaped) string value of "key":"..." in a one-line JSON object, or an
// empty view. `key` is given with its quotes and colon, e.g. "\"cardNum\":\"".
std::string_view FieldValue(std::string_view line, std::string_view key);

// Returns when the case on one debtors.ndjson `line` counts (Unix seconds): from its publish date
// (none: from the start) to the end of its term (docs/feed.md); never (an empty interval) if a
// date that is there is not a real date.
Interval CaseCounts(std::string_view line);
// Returns whether the case on `line` counts at `now`. The workload expects listed, and the Redis
// loader loads, exactly the subjects with such a case.
inline bool CaseCountsAt(std::string_view line, int64_t now) {
  return CaseCounts(line).Contains(now);
}

// A small, fast random number generator (splitmix64).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n). REQUIRES: n > 0.
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>((__uint128_t)Next() * n >> 64); }
  // Uniform in [0, 1).
  double Unit() { return (Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

// The share of each class among the queried IDs (normalised to sum to 1), and of MEASURES
// among the requests.
struct Mix {
  double hit = 0.5;
  double miss = 0.4;
  double related = 0.1;
  double touched = 0.2;  // used only when the pool has touched IDs
  double measures = 0.0;
};

// Returns `mix` as a Picker uses it with `pool`: the shares of the classes the pool has IDs of
// (touched ones only if it has any) normalised to sum to 1, the others 0. InvalidArgument if
// that leaves no class to choose from (all 0, or only classes without IDs).
absl::StatusOr<Mix> UsedMix(const IdPool& pool, const Mix& mix);

// Chooses IDs for requests. A class with no IDs in the pool is never chosen.
class Picker {
 public:
  // REQUIRES: UsedMix(pool, mix) is OK.
  Picker(const IdPool& pool, const Mix& mix, uint64_t seed);
  // Returns a random ID and sets *cls to its class.
  const FixedId& Pick(IdClass* cls);
  // Returns the index in pool.touched of an ID Pick() returned as kTouched.
  uint32_t TouchedIndex(const FixedId& id) const {
    return static_cast<uint32_t>(&id - pool_.touched.data());
  }
  // Returns whether the next request should be a MEASURES.
  bool NextIsMeasures() { return measures_ > 0 && rng_.Unit() < measures_; }

 private:
  const IdPool& pool_;
  double touched_cut_ = 0;  // Unit() below: touched
  double hit_cut_ = 0;      // below: hit
  double miss_cut_ = 0;     // below: miss; else related
  double measures_ = 0;
  Rng rng_;
};

}  // namespace shixin::loadtest

#endif  // SHIXIN_LOADTEST_WORKLOAD_H_
