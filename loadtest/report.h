// The results of a load run, merged over threads, and their output: a text summary, a JSON
// object, a per-second time series (whitespace-separated columns, gnuplot's format) and a plot
// of latency over time made with gnuplot when it is installed.
//
// Thread safety: plain values and functions; call after the run's threads are done.
#ifndef SHIXIN_LOADTEST_REPORT_H_
#define SHIXIN_LOADTEST_REPORT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "loadtest/driver.h"
#include "loadtest/histogram.h"
#include "loadtest/redis_driver.h"

namespace shixin::loadtest {

struct RunDescription {
  std::string target;  // "shixin" or "redis"
  std::string address;
  std::string label;
  RunShape shape;
  std::string refresh;  // how swaps were made ("" if none were asked for)
};

// What a delta feed (delta_feed.h) measured: how soon each file was applied after it landed,
// and the judgement of the answers about the IDs the files touched.
struct FeedSummary {
  size_t files = 0;    // renamed into place
  size_t applied = 0;  // seen applied
  double visible_p50_ms = 0, visible_max_ms = 0;
  uint64_t judged = 0, wrong = 0, unjudged = 0;
  std::string error;  // why the feed stopped early, or empty
};

struct Report {
  RunDescription run;
  // From the end of the warm-up to the last send (the end, or when every connection was lost);
  // 0 if that came before the warm-up ended. Rates are 0 then.
  double measured_seconds = 0;
  double all_lost_seconds = 0;  // into the run, when the last connection was lost; 0: never
  double warmup_seconds = 0;
  std::string interrupted;  // "SIGINT" or "SIGTERM" if one ended the run early, else empty
  Histogram all, in_swap, outside;
  uint64_t requests = 0, ids = 0, errors = 0, wrong = 0;  // as in ThreadResult
  uint64_t refused = 0;
  std::map<std::string, uint64_t> refused_by_status;
  uint64_t whole_requests = 0, whole_ids = 0, whole_refused = 0;  // warm-up included
  uint64_t swap_errors = 0, swap_wrong = 0, swap_answers = 0, unsent = 0;
  uint64_t reconnects = 0, retried = 0;  // --reconnect: connections opened again, requests resent
  std::vector<SwapTracker::Window> windows;  // times relative to the run's start
  int64_t start_ns = 0;
  std::vector<Second> seconds;
  std::vector<std::string> samples;
  FeedSummary feed;  // files == 0: no feed
};

// Merges the threads' results into `report`, whose `windows` are set (a thread's requests of an
// undecided window are placed by its outcome).
void MergeResults(std::vector<ThreadResult>* results, Report* report);

// Returns the number of swap windows that succeeded.
size_t SwapsDone(const Report& r);
// Returns whether swaps were asked for and one failed, or none was made: the run then fails
// (exit status 1), as a swap test that swapped nothing proves nothing.
bool SwapsFailed(const Report& r);

// Returns the summary printed after a run (several lines).
std::string TextSummary(const Report& r);
// Returns the summary as one JSON object on one line (keys in a fixed order; docs/performance.md).
std::string JsonSummary(const Report& r);
// Returns the result of loading Redis (--redis --load) as one JSON object on one line.
std::string RedisLoadJson(const RedisLoadStats& stats);
// One line per second of the whole run, warm-up included: second requests ids p50_us p99_us
// max_us errors wrong in_swap refused warmup (1: the second began in the warm-up).
absl::Status WriteTimeSeries(const Report& r, const std::string& path);
// Runs gnuplot on the time series at `series_path`; Unavailable if gnuplot is missing.
absl::Status Plot(const Report& r, const std::string& series_path, const std::string& out_path);

}  // namespace shixin::loadtest

#endif  // SHIXIN_LOADTEST_REPORT_H_
