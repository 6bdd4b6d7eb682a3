// Delta feeding under load (docs/performance.md, "Deltas under load"): the load tool plays the
// court's platform. It renames delta files, one at a time, into the daemon's delta directory,
// watches INFO until the daemon has applied each one (the file's visibility latency, and the
// swap window of the latency report), and judges the answers about the subjects the deltas
// touch against what the list says at the generation that answered.
//
// PlanFeed() computes the expected answers offline with the core library: it opens the base
// snapshot the daemon serves, applies the files already in the delta directory and then each
// file to feed (ApplyDelta, core/overlay.h), and after each one evaluates every touched ID (the
// IDs the changes name, and the persons of the organisations they name) with Check(). The
// Feeder learns which generation holds which sequence from INFO; JudgeTouched() then compares
// every recorded answer with the expected one of its generation.
//
// Thread safety: a FeedPlan is immutable once made; a Feeder runs on one thread, and its
// results are read after it stops.
#ifndef SHIXIN_LOADTEST_DELTA_FEED_H_
#define SHIXIN_LOADTEST_DELTA_FEED_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "loadtest/driver.h"
#include "loadtest/workload.h"
#include "protocol/client.h"

namespace shixin::loadtest {

struct FeedOptions {
  std::string snapshot;              // the base snapshot file the daemon serves
  std::string deltas_dir;            // the daemon's delta directory: its files are applied already
  std::string source;                // the directory of the files to feed, in sequence order
  size_t files = 0;                  // feed at most this many; 0: all after the directory's last
  size_t touched = 20'000;           // the most touched IDs judged (the first ones; each costs a
                                     // Check per file fed while planning)
  uint64_t catalog_fingerprint = 0;  // of the snapshot; 0: not checked
  // How long after the plan answers are judged, in seconds. The expectations are for the
  // plan's instant and the daemon answers for its clock's, so the IDs of a change that takes
  // effect meanwhile (its `at`, a case's start or end of term) are left out of the pool.
  int64_t horizon = 3600;
};

struct FeedPlan {
  std::vector<std::string> files;  // the paths to feed, in order
  uint64_t first_sequence = 0;     // the sequence of files[0]
  std::vector<FixedId> touched;    // the IDs whose answers the feed may change (judged)
  std::vector<FixedId> untracked;  // more such IDs, beyond FeedOptions::touched or whose
                                   // answer changes within FeedOptions::horizon, and those the
                                   // files already applied touched (not asked: the pool holds
                                   // the base's answers)
  // expected[k * touched.size() + i]: the answer for touched[i] once k files are fed.
  std::vector<Answer> expected;
  int64_t at = 0;  // Unix seconds: the instant the expectations were computed for
  double seconds = 0;

  Answer Expected(size_t fed, size_t i) const { return expected[fed * touched.size() + i]; }
};

// Returns the plan, or the error of the snapshot, a delta file, or the application of one (the
// files are the daemon's: a refused one would stop the daemon too).
absl::StatusOr<FeedPlan> PlanFeed(const FeedOptions& options);

// Removes the plan's touched IDs from the pool's static classes (their answers change) and
// makes them the pool's touched class.
void UseTouched(const FeedPlan& plan, IdPool* pool);

// What the feeding measured.
struct FeedResult {
  size_t fed = 0;                                       // files renamed into place
  size_t applied = 0;                                   // of those, seen applied by INFO
  std::vector<double> visible_ms;                       // per applied file: rename to seen in INFO
  absl::flat_hash_map<uint32_t, uint64_t> generations;  // generation -> sequence, from INFO
  std::string error;                                    // why feeding stopped early, or empty
};

// Feeds the plan's files into `deltas_dir`, one every `every_ns` from `start_ns`, each after
// the previous one was applied, marking a swap window from each rename to the INFO that shows
// it applied. Stops after the last file or at `stop`. Its INFO connection authenticates with
// `credentials` when they are not empty.
FeedResult Feed(const std::string& address, const Credentials& credentials, const FeedPlan& plan,
                const std::string& deltas_dir, int64_t start_ns, int64_t every_ns,
                SwapTracker* swaps, absl::Notification* stop);

// The judgement of the touched answers.
struct TouchedJudgement {
  uint64_t judged = 0;
  uint64_t wrong = 0;
  uint64_t unjudged = 0;  // answered by a generation that INFO never showed
  std::vector<std::string> samples;
};

TouchedJudgement JudgeTouched(const FeedPlan& plan, const FeedResult& feed,
                              const std::vector<ThreadResult>& results);

}  // namespace shixin::loadtest

#endif  // SHIXIN_LOADTEST_DELTA_FEED_H_
