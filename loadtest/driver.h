// The load engine: each thread runs one epoll loop over its share of the connections, keeps up
// to `depth` requests in flight on each, and times every request. A Codec turns requests into
// bytes and bytes into answers, so shixind and Redis are driven by the same loop with the same
// settings.
//
// Closed loop (rate 0): each connection sends a new request as soon as one is answered; the
// latency is measured from the moment the request is written. Open loop (rate > 0): requests
// are due at fixed intervals (rate / threads per thread); a due request waits for a free slot
// (a connection with fewer than `depth` in flight), and its latency is measured from the time
// it was DUE, so queueing in the client or the server is never hidden.
//
// Every answer is judged against the class of the ID (hit, miss, related), except those about
// touched IDs, which are recorded with their generation and judged after the run
// (delta_feed.h); a request that overlaps a swap window (SwapTracker) is also counted apart.
//
// Thread safety: RunThread() runs on its own thread with its own ThreadResult; the SwapTracker
// and `end_ns` are shared and thread-safe.
#ifndef SHIXIN_LOADTEST_DRIVER_H_
#define SHIXIN_LOADTEST_DRIVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "loadtest/histogram.h"
#include "loadtest/workload.h"

namespace shixin::loadtest {

// Nanoseconds of the monotonic clock.
int64_t NowNs();

// What the server said about one ID.
enum class Answer : uint8_t { kUnlisted = 0, kListed = 1, kRelated = 2, kInvalid = 3 };
// Returns "unlisted", "listed", "related" or "invalid".
std::string_view AnswerName(Answer a);

struct ParsedResponse {
  uint32_t request_id = 0;  // when the codec uses request ids
  uint32_t generation = 0;  // of the list that answered, when the protocol says
  bool ok = true;           // false: an error status (`error` says which)
  std::string error;
  std::vector<Answer> answers;  // ok: one per requested ID (CHECK), or one (MEASURES)
};

enum class ParseResult { kNeedMore, kComplete, kMalformed };

// Encodes requests and decodes responses of one protocol, for one connection.
class Codec {
 public:
  virtual ~Codec() = default;
  // Runs on the connected, still blocking socket before the load starts (e.g. HELLO).
  virtual absl::Status Handshake(int fd) = 0;
  virtual void AppendCheck(uint32_t request_id, const FixedId* const* ids, size_t n,
                           std::string* out) = 0;
  virtual void AppendMeasures(uint32_t request_id, const FixedId& id, std::string* out) = 0;
  // Decodes the response at the front of `in`; on kComplete sets *consumed.
  virtual ParseResult Parse(std::string_view in, size_t* consumed, ParsedResponse* out) = 0;
  // The right answer for an ID of class `cls`.
  virtual Answer Expected(IdClass cls) const = 0;
  virtual bool uses_request_ids() const = 0;
};
using CodecFactory = std::function<std::unique_ptr<Codec>()>;

// Opens a blocking TCP connection with TCP_NODELAY to "HOST:PORT" or "[IPV6]:PORT":
// base/socket.h's ConnectTcp without a deadline (a run waits for its server as long as the
// system does).
absl::StatusOr<int> ConnectTcp(std::string_view address);

// Swap windows: Begin() and End() bracket a reload; readers sample seq() (odd while a swap
// runs) when a request is sent and answered. Window k (from 0) runs while seq() is 2k + 1.
class SwapTracker {
 public:
  void Begin();
  void End(bool ok, std::string message);
  uint64_t seq() const { return seq_.load(std::memory_order_acquire); }
  // Whether window `k` ended well. REQUIRES: it has ended (seq() >= 2k + 2).
  bool Succeeded(size_t k) const;
  struct Window {
    int64_t begin_ns = 0;
    int64_t end_ns = 0;
    bool ok = true;
    std::string message;
  };
  std::vector<Window> windows() const;

 private:
  std::atomic<uint64_t> seq_{0};
  mutable absl::Mutex mu_;
  std::vector<Window> windows_ ABSL_GUARDED_BY(mu_);
};

// The shape of a run's load, as the flags set it and the reports describe it.
struct RunShape {
  int connections = 50;
  int depth = 1;  // requests in flight per connection
  int batch = 1;  // IDs per CHECK
  Mix mix;
  double rate = 0;  // requests per second over all threads; 0: closed loop
  int threads = 1;
};

struct RunConfig {
  std::string address;
  CodecFactory codec;
  RunShape shape;
  uint64_t requests = 0;  // stop after this many requests (all threads); 0: by time only
  int64_t start_ns = 0;
  int64_t warmup_ns = 0;                   // requests sent before start + warmup are not measured
  std::atomic<int64_t>* end_ns = nullptr;  // no request is sent after it (may move)
  int64_t drain_ns = 5'000'000'000;        // how long to wait for answers after the end
  bool per_second_histograms = false;
  uint64_t seed = 1;
  // A lost connection is opened again (HELLO repeated) and its unanswered requests sent once
  // more on it, as the C++ client retries (docs/replicas.md); a request lost twice is an error.
  bool reconnect = false;
};

struct Second {
  uint64_t requests = 0;  // answered (not refused)
  uint64_t ids = 0;
  uint64_t refused = 0;  // answered with an error status
  uint64_t errors = 0;   // as ThreadResult::errors, by the time each was found
  uint64_t wrong = 0;
  std::unique_ptr<Histogram> latency;  // when per_second_histograms
};

// An answer about a touched ID, judged after the run.
struct TouchedAnswer {
  uint32_t index;  // in IdPool::touched
  uint32_t generation;
  Answer answer;
};

// The requests that overlapped a swap window. Only a swap that happened counts: those that
// overlapped only failed windows (a RELOAD refused) are counted outside.
struct SwapPart {
  Histogram latency;     // measured requests
  uint64_t answers = 0;  // IDs answered, measured or not
  uint64_t wrong = 0;    // of them
  uint64_t errors = 0;   // requests failed
  void Merge(const SwapPart& other);
  void Clear();
};

struct ThreadResult {
  Histogram all;      // measured requests
  SwapPart in_swap;   // requests that overlapped a successful swap window
  Histogram outside;  // the other measured requests
  // Requests that overlapped window `undecided_window` (-1: none) while it still ran when the
  // thread ended, and no ended successful one: placed by MergeResults() once it has ended.
  int64_t undecided_window = -1;
  SwapPart undecided;
  // Measured requests answered (not refused; the answers judged), and their IDs. Only they are
  // timed: a refusal is no answer, and a fast one would flatter the percentiles.
  uint64_t requests = 0;
  uint64_t ids = 0;
  uint64_t refused = 0;                               // measured, answered with an error status
  std::map<std::string, uint64_t> refused_by_status;  // e.g. "RATE_LIMITED" (Redis: "ERR")
  uint64_t whole_requests = 0;  // answered over the whole run, warm-up included (server CPU per
  uint64_t whole_ids = 0;       // request is measured over the whole run)
  uint64_t whole_refused = 0;
  uint64_t errors = 0;  // refusals, wrong answer counts, broken connections, timeouts (all)
  uint64_t wrong = 0;   // wrong answers (all requests)
  uint64_t unsent = 0;  // open loop: requests due but never sent (no free connection, or none left)
  uint64_t reconnects = 0;   // connections opened again after a loss (RunConfig::reconnect)
  uint64_t retried = 0;      // requests sent again on them
  int64_t last_send_ns = 0;  // when the thread stopped sending (the end, or every connection lost)
  int64_t all_lost_ns = 0;   // when its last connection was lost; 0: never
  std::vector<Second> seconds;         // by completion time, from start_ns, warm-up included
  std::vector<std::string> samples;    // the first errors and wrong answers, described
  std::vector<TouchedAnswer> touched;  // every answer about a touched ID
  absl::Status status;                 // a connection could not be opened
};

// Runs thread `index` of `config` until the end, then waits for answers (drain).
ThreadResult RunThread(const RunConfig& config, int index, const IdPool& pool, SwapTracker* swaps);

}  // namespace shixin::loadtest

#endif  // SHIXIN_LOADTEST_DRIVER_H_
