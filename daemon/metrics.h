// Metrics: the daemon's Prometheus metrics (GET /metrics) and the request history behind the
// status page (GET /status, daemon/status_page.h).
//
// Hot path: Handler::Handle calls Record() once per request (the binary protocol and the JSON
// API alike; a RELOAD when it is answered, Handler::AppendReloadResult). It takes no lock: the
// handling latency goes to a per-opcode LatencyHistogram (relaxed atomics) and the count to the
// caller's own cells (opcode x status relaxed atomics), found through a thread-local cache keyed by
// the caller id; only a cache miss (a thread's first request of a caller) takes the mutex that
// guards the caller table. prometheus-cpp's own Histogram takes a mutex per Observe() and
// Family::Add() one per lookup, so Metrics is a prometheus::Collectable over these atomics instead
// (bench/metrics_benchmark.cc compares the two); the library still provides the metric model and
// the text exposition.
//
// Scrape time: Collect() reads the sources (list, reloads, deltas and the checkpoint,
// connections, callers' refusals, the audit's state and write and fsync latency, process
// memory and start time) when asked. The rereads of the other files a reload reads (TLS,
// callers, calendar) are counted by the server (RecordFileReload(): rare, relaxed atomics).
//
// History: a sampler thread (StartSampler) takes a Sample every 10 s (request count, p50/p99
// of the interval's latency, per-caller counts) into a ring covering the last hour. A thread
// of its own rather than an Asio timer: it reads atomics only, needs no RCU registration, and
// tests drive TakeSample() directly with their own clock.
//
// Thread safety: every method may be called from any thread. Collect()/Scrape() open an RCU
// read section when a SnapshotHolder is set: REQUIRES the calling thread holds an RcuThread.
#ifndef SHIXIN_DAEMON_METRICS_H_
#define SHIXIN_DAEMON_METRICS_H_

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/latency_histogram.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace shixin {

class Access;
class Auditor;
class Checkpointer;
class ConnectionLimits;
class Reloader;
class SnapshotHolder;

// The files a reload reads again beside the list (Server::Reload), by their label in
// shixin_file_reloads_total.
enum class ReloadedFile : uint8_t { kTls, kCallers, kCalendar };
inline constexpr size_t kReloadedFiles = 3;

// What Metrics reads at scrape time; any may be null (not part of this daemon). They must
// outlive the Metrics.
struct MetricsSources {
  const SnapshotHolder* holder = nullptr;
  const Reloader* reloader = nullptr;
  const Access* access = nullptr;
  const ConnectionLimits* connections = nullptr;
  const Auditor* auditor = nullptr;
  const Checkpointer* checkpointer = nullptr;
  uint32_t max_age_seconds = 0;  // the configured staleness limit, exported as is (0: none)
  // When the server certificate expires (Unix seconds; 0: no TLS listener), as last loaded.
  const std::atomic<int64_t>* tls_not_after = nullptr;
  // The files this daemon's reloads read again (by ReloadedFile): their series are exported
  // from the start, at 0, so that an alert on an increase fires on the first failure.
  std::array<bool, kReloadedFiles> reloaded_files{};
};

class Metrics : public prometheus::Collectable {
 public:
  static constexpr size_t kOpcodes = 16;   // opcode bytes beyond count as 0 ("unknown")
  static constexpr size_t kStatuses = 32;  // status codes beyond count as kInternal
  static constexpr absl::Duration kSampleInterval = absl::Seconds(10);
  static constexpr size_t kHistorySamples = 360;  // one hour of 10 s samples

  // One interval of the history: what happened between the previous sample and `time`.
  struct Sample {
    int64_t time = 0;       // Unix seconds
    double seconds = 0;     // the interval's length
    uint64_t requests = 0;  // handled in the interval
    // Handling latency percentiles in the interval, of every request but RELOAD (whose latency
    // is its reload's); 0: no request.
    double p50_us = 0;
    double p99_us = 0;
    std::vector<std::pair<std::string, uint64_t>> callers;  // requests per caller (nonzero)
  };

  // `start_time` is the process's start (Unix seconds) for process_start_time_seconds.
  explicit Metrics(MetricsSources sources = {}, int64_t start_time = 0);
  ~Metrics() override;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Records one handled request: its opcode, the response's status, the caller ("" when not
  // authenticated) and how long it took, in the calling thread's own cells (no locked
  // instruction, no line shared with another I/O thread); takes a lock only on a thread's
  // first request, and on its first request of a caller.
  void Record(uint8_t opcode, uint16_t status, std::string_view caller, int64_t handling_ns);

  // Counts a reload's reading of `file` again: `ok`, or failed at Unix time `now`.
  void RecordFileReload(ReloadedFile file, bool ok, int64_t now);

  // Returns every metric family (prometheus::Collectable).
  std::vector<prometheus::MetricFamily> Collect() const override;
  // Returns the Prometheus text exposition (format 0.0.4) of Collect().
  std::string Scrape() const;

  // Appends a Sample of the interval since the previous one (or since the start) at Unix time
  // `now`; the ring keeps the last kHistorySamples.
  void TakeSample(int64_t now);
  // Returns the samples, oldest first.
  std::vector<Sample> History() const;
  // Starts the sampler thread (TakeSample every kSampleInterval); StopSampler() (or the
  // destructor) joins it. Idempotent. Returns the error of StartThread() (base/thread.h) if the
  // system cannot create it.
  absl::Status StartSampler();
  void StopSampler();

  const MetricsSources& sources() const { return sources_; }
  int64_t start_time() const { return start_time_; }
  // Returns the requests handled so far (all opcodes).
  uint64_t requests() const;

 private:
  // One caller's request counts by opcode and status.
  struct CallerCells {
    std::array<std::array<std::atomic<uint64_t>, kStatuses>, kOpcodes> count{};
    uint64_t Total() const;
  };
  // What one recording thread counts: only that thread writes the cells (Record()), any
  // thread reads them.
  struct Shard {
    std::array<LatencyHistogram, kOpcodes> latency;
    mutable std::mutex mu;  // guards the map's structure: its thread inserts, readers iterate
    std::map<std::string, std::unique_ptr<CallerCells>, std::less<>> callers;
    // The cells of the caller recorded last (a turn's requests are one connection's).
    std::string last_caller;
    CallerCells* last_cells = nullptr;
  };
  // Returns the calling thread's shard, made on its first use. Takes shards_mu_.
  Shard* ShardOfThisThread();
  // Returns the cells of `caller` in `shard`, made on first use (under shard->mu).
  // REQUIRES: called by the shard's thread.
  static CallerCells* CellsOf(Shard* shard, std::string_view caller);
  // Returns the latency of opcode `op` summed over the shards.
  LatencyHistogram::Counts LatencyOf(size_t op) const;
  // Returns each caller's total so far.
  std::map<std::string, uint64_t> CallerTotals() const;

  void CollectRequests(std::vector<prometheus::MetricFamily>* out) const;
  void CollectList(std::vector<prometheus::MetricFamily>* out) const;
  void CollectReloads(std::vector<prometheus::MetricFamily>* out) const;
  void CollectFileReloads(std::vector<prometheus::MetricFamily>* out) const;
  void CollectCheckpoint(std::vector<prometheus::MetricFamily>* out) const;
  void CollectAccess(std::vector<prometheus::MetricFamily>* out) const;
  void CollectProcess(std::vector<prometheus::MetricFamily>* out) const;

  const MetricsSources sources_;
  const int64_t start_time_;
  const uint64_t id_;  // tells the thread-local caches of two Metrics apart

  // RecordFileReload()'s counts, by ReloadedFile.
  struct FileReloads {
    std::atomic<uint64_t> ok{0};
    std::atomic<uint64_t> failed{0};
    std::atomic<int64_t> last_failure_time{0};  // Unix seconds; 0: none
  };
  std::array<FileReloads, kReloadedFiles> file_reloads_;

  mutable std::mutex shards_mu_;
  // One per thread that recorded (a thread id reused after its thread ended takes its shard
  // over); never shrinks, so that the thread-local caches' pointers stay valid.
  std::vector<std::pair<std::thread::id, std::unique_ptr<Shard>>> shards_;

  mutable std::mutex history_mu_;
  std::deque<Sample> history_;  // guarded by history_mu_
  // What the previous sample saw; guarded by history_mu_.
  int64_t last_sample_time_ = 0;
  LatencyHistogram::Counts last_latency_;  // of every opcode but RELOAD
  uint64_t last_reloads_ = 0;              // RELOADs
  std::map<std::string, uint64_t> last_callers_;

  std::mutex sampler_mu_;
  std::condition_variable sampler_wake_;
  bool sampler_stop_ = false;  // guarded by sampler_mu_
  std::thread sampler_;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_METRICS_H_
