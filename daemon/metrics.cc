#include "daemon/metrics.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <limits>
#include <utility>

#include "absl/strings/str_format.h"
#include "base/thread.h"
#include "daemon/access.h"
#include "daemon/auditor.h"
#include "daemon/checkpointer.h"
#include "daemon/connection_limits.h"
#include "daemon/http_message.h"
#include "daemon/log.h"
#include "daemon/reloader.h"
#include "daemon/snapshot_holder.h"
#include "prometheus/text_serializer.h"
#include "protocol/wire.h"

namespace shixin {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::atomic<uint64_t> next_metrics_id{1};

MetricFamily Family(std::string name, std::string help, MetricType type) {
  return MetricFamily{std::move(name), std::move(help), type, {}};
}

ClientMetric Value(MetricType type, double value, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return m;
}

// Appends a family of one unlabelled sample.
void AddOne(std::vector<MetricFamily>* out, std::string name, std::string help, MetricType type,
            double value) {
  MetricFamily f = Family(std::move(name), std::move(help), type);
  f.metric.push_back(Value(type, value));
  out->push_back(std::move(f));
}

// Returns `counts` as a Prometheus histogram in seconds.
ClientMetric HistogramOf(const LatencyHistogram::Counts& counts,
                         std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < LatencyHistogram::kBoundsNs.size(); ++i) {
    cumulative += counts.buckets[i];
    m.histogram.bucket.push_back(
        {cumulative, static_cast<double>(LatencyHistogram::kBoundsNs[i]) / 1e9});
  }
  cumulative += counts.buckets.back();
  m.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
  m.histogram.sample_count = cumulative;
  m.histogram.sample_sum = static_cast<double>(counts.sum_ns) / 1e9;
  return m;
}

void AddHistogram(std::vector<MetricFamily>* out, std::string name, std::string help,
                  const LatencyHistogram::Counts& counts) {
  MetricFamily f = Family(std::move(name), std::move(help), MetricType::Histogram);
  f.metric.push_back(HistogramOf(counts));
  out->push_back(std::move(f));
}

constexpr std::array<const char*, kReloadedFiles> kReloadedFileLabels = {"tls", "callers",
                                                                         "calendar"};

std::string OpcodeLabel(size_t opcode) {
  return std::string(wire::OpcodeName(static_cast<wire::Opcode>(opcode)));
}

}  // namespace

uint64_t Metrics::CallerCells::Total() const {
  uint64_t n = 0;
  for (const auto& by_status : count) {
    for (const std::atomic<uint64_t>& c : by_status) n += c.load(std::memory_order_relaxed);
  }
  return n;
}

Metrics::Metrics(MetricsSources sources, int64_t start_time)
    : sources_(sources),
      start_time_(start_time != 0 ? start_time : static_cast<int64_t>(std::time(nullptr))),
      id_(next_metrics_id.fetch_add(1, std::memory_order_relaxed)) {}

Metrics::~Metrics() { StopSampler(); }

Metrics::Shard* Metrics::ShardOfThisThread() {
  std::lock_guard<std::mutex> lock(shards_mu_);
  const std::thread::id me = std::this_thread::get_id();
  for (auto& [thread, shard] : shards_) {
    if (thread == me) return shard.get();
  }
  return shards_.emplace_back(me, std::make_unique<Shard>()).second.get();
}

Metrics::CallerCells* Metrics::CellsOf(Shard* shard, std::string_view caller) {
  if (shard->last_cells != nullptr && shard->last_caller == caller) return shard->last_cells;
  auto it = shard->callers.find(caller);  // only this thread changes the map: no lock to read
  if (it == shard->callers.end()) {
    std::lock_guard<std::mutex> lock(shard->mu);
    it = shard->callers.emplace(std::string(caller), std::make_unique<CallerCells>()).first;
  }
  shard->last_caller.assign(caller);
  shard->last_cells = it->second.get();
  return shard->last_cells;
}

void Metrics::Record(uint8_t opcode, uint16_t status, std::string_view caller,
                     int64_t handling_ns) {
  const size_t op = opcode < kOpcodes ? opcode : 0;
  const size_t st = status < kStatuses ? status : static_cast<size_t>(wire::Status::kInternal);
  // The thread's shard of the Metrics `owner` (a request for another Metrics looks it up).
  struct ShardCache {
    uint64_t owner = 0;
    Shard* shard = nullptr;
  };
  thread_local ShardCache cache;
  if (cache.owner != id_) {
    cache.shard = ShardOfThisThread();
    cache.owner = id_;
  }
  Shard* shard = cache.shard;
  shard->latency[op].ObserveAlone(handling_ns);
  LatencyHistogram::Bump(CellsOf(shard, caller)->count[op][st], 1);
}

LatencyHistogram::Counts Metrics::LatencyOf(size_t op) const {
  LatencyHistogram::Counts counts;
  std::lock_guard<std::mutex> lock(shards_mu_);
  for (const auto& [thread, shard] : shards_) counts.Add(shard->latency[op].Read());
  return counts;
}

uint64_t Metrics::requests() const {
  uint64_t n = 0;
  for (size_t op = 0; op < kOpcodes; ++op) n += LatencyOf(op).count();
  return n;
}

std::map<std::string, uint64_t> Metrics::CallerTotals() const {
  std::map<std::string, uint64_t> totals;
  std::lock_guard<std::mutex> lock(shards_mu_);
  for (const auto& [thread, shard] : shards_) {
    std::lock_guard<std::mutex> shard_lock(shard->mu);
    for (const auto& [id, cells] : shard->callers) totals[id] += cells->Total();
  }
  return totals;
}

void Metrics::CollectRequests(std::vector<MetricFamily>* out) const {
  MetricFamily requests =
      Family("shixin_requests_total", "Requests handled, by caller, opcode and response status.",
             MetricType::Counter);
  {
    // Each caller's counts summed over the shards, in the callers' order.
    std::map<std::string, std::array<std::array<uint64_t, kStatuses>, kOpcodes>> sums;
    {
      std::lock_guard<std::mutex> lock(shards_mu_);
      for (const auto& [thread, shard] : shards_) {
        std::lock_guard<std::mutex> shard_lock(shard->mu);
        for (const auto& [id, cells] : shard->callers) {
          auto& sum = sums.try_emplace(id).first->second;
          for (size_t op = 0; op < kOpcodes; ++op) {
            for (size_t st = 0; st < kStatuses; ++st) {
              sum[op][st] += cells->count[op][st].load(std::memory_order_relaxed);
            }
          }
        }
      }
    }
    for (const auto& [id, counts] : sums) {
      for (size_t op = 0; op < kOpcodes; ++op) {
        for (size_t st = 0; st < kStatuses; ++st) {
          const uint64_t n = counts[op][st];
          if (n == 0) continue;
          requests.metric.push_back(
              Value(MetricType::Counter, static_cast<double>(n),
                    {{"caller", id.empty() ? "-" : id},
                     {"opcode", OpcodeLabel(op)},
                     {"status", std::string(wire::StatusName(static_cast<wire::Status>(st)))}}));
        }
      }
    }
  }
  out->push_back(std::move(requests));
  MetricFamily latency = Family("shixin_request_duration_seconds",
                                "Time to handle a request (decode, answer, encode; a RELOAD: "
                                "until its reload ends and it is answered), by opcode.",
                                MetricType::Histogram);
  for (size_t op = 0; op < kOpcodes; ++op) {
    const LatencyHistogram::Counts counts = LatencyOf(op);
    if (counts.count() == 0) continue;
    latency.metric.push_back(HistogramOf(counts, {{"opcode", OpcodeLabel(op)}}));
  }
  out->push_back(std::move(latency));
}

void Metrics::CollectList(std::vector<MetricFamily>* out) const {
  if (sources_.holder == nullptr) return;
  double loaded = 0, generation = 0, sequence = 0, subjects = 0, age = 0, loaded_age = 0,
         format = 0;
  std::string version;
  {
    SnapshotHolder::ReadSection read(*sources_.holder);
    if (const Dataset* d = read.dataset(); d != nullptr) {
      const int64_t now = static_cast<int64_t>(std::time(nullptr));
      loaded = 1;
      generation = d->generation;
      sequence = static_cast<double>(d->sequence);
      subjects = static_cast<double>(d->snapshot->info().subjects);
      format = d->snapshot_format;
      // Never negative (a clock stepped back): an alert on the age must still be able to fire.
      age = static_cast<double>(std::max<int64_t>(now - d->source_time, 0));
      loaded_age = static_cast<double>(now - d->loaded_time);
      version = absl::StrFormat("%016x", d->snapshot->info().version);
    }
  }
  AddOne(out, "shixin_list_loaded", "1 when a list is loaded.", MetricType::Gauge, loaded);
  if (loaded == 0) return;
  MetricFamily info =
      Family("shixin_list_info", "The serving list: its base version and generation (value 1).",
             MetricType::Gauge);
  info.metric.push_back(
      Value(MetricType::Gauge, 1,
            {{"base_version", version}, {"generation", absl::StrFormat("%.0f", generation)}}));
  out->push_back(std::move(info));
  AddOne(out, "shixin_list_generation", "Generation of the serving list.", MetricType::Gauge,
         generation);
  AddOne(out, "shixin_list_delta_sequence", "Last delta file applied on top of the base.",
         MetricType::Gauge, sequence);
  AddOne(out, "shixin_list_subjects", "Subjects listed in the serving base.", MetricType::Gauge,
         subjects);
  AddOne(out, "shixin_list_snapshot_format",
         "Format version of the base's snapshot file (0: loaded from a data directory).",
         MetricType::Gauge, format);
  AddOne(out, "shixin_list_age_seconds", "Age of the serving list's newest source data.",
         MetricType::Gauge, age);
  // Beside the age, so that an alert on staleness need not repeat the configured limit.
  AddOne(out, "shixin_list_max_age_seconds",
         "The configured max_age_seconds: a list older than it is STALE (0: no limit).",
         MetricType::Gauge, static_cast<double>(sources_.max_age_seconds));
  AddOne(out, "shixin_list_published_age_seconds",
         "Time since the serving generation was published.", MetricType::Gauge, loaded_age);
}

void Metrics::CollectReloads(std::vector<MetricFamily>* out) const {
  if (sources_.reloader == nullptr) return;
  const ReloadStats stats = sources_.reloader->stats();
  const DeltaStatus deltas = sources_.reloader->delta_status();
  MetricFamily reloads =
      Family("shixin_reloads_total", "Full reloads of the list, by result.", MetricType::Counter);
  reloads.metric.push_back(
      Value(MetricType::Counter, static_cast<double>(stats.reloads_ok), {{"result", "ok"}}));
  reloads.metric.push_back(Value(MetricType::Counter, static_cast<double>(stats.reloads_failed),
                                 {{"result", "failed"}}));
  out->push_back(std::move(reloads));
  AddHistogram(out, "shixin_reload_duration_seconds", "Duration of full reloads.",
               stats.reload_durations);
  AddHistogram(out, "shixin_delta_run_duration_seconds",
               "Duration of applying arrived delta files.", stats.delta_durations);
  AddOne(out, "shixin_deltas_applied_total",
         "Delta files applied for the first time since the start (not their replays).",
         MetricType::Counter, static_cast<double>(deltas.applied_files));
  AddOne(out, "shixin_deltas_replayed_total",
         "Delta files applied again by a reload (already counted as applied).", MetricType::Counter,
         static_cast<double>(deltas.replayed_files));
  AddOne(out, "shixin_deltas_refused_total", "Delta files refused.", MetricType::Counter,
         static_cast<double>(deltas.refusals));
  AddOne(out, "shixin_deltas_pending", "Delta files waiting to be applied.", MetricType::Gauge,
         static_cast<double>(deltas.pending));
}

void Metrics::RecordFileReload(ReloadedFile file, bool ok, int64_t now) {
  FileReloads& cells = file_reloads_[static_cast<size_t>(file)];
  if (ok) {
    cells.ok.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  cells.failed.fetch_add(1, std::memory_order_relaxed);
  cells.last_failure_time.store(now, std::memory_order_relaxed);
}

void Metrics::CollectFileReloads(std::vector<MetricFamily>* out) const {
  MetricFamily reloads =
      Family("shixin_file_reloads_total",
             "Reads of a file again by a reload (SIGHUP, RELOAD), by file and result: a failed one "
             "kept the old TLS context, callers or holiday calendar and failed the reload.",
             MetricType::Counter);
  MetricFamily last_failure = Family(
      "shixin_file_reload_last_failure_time_seconds",
      "Unix time of the last failed read of the file by a reload (0: none).", MetricType::Gauge);
  for (size_t i = 0; i < kReloadedFiles; ++i) {
    const FileReloads& cells = file_reloads_[i];
    const uint64_t ok = cells.ok.load(std::memory_order_relaxed);
    const uint64_t failed = cells.failed.load(std::memory_order_relaxed);
    if (!sources_.reloaded_files[i] && ok == 0 && failed == 0) continue;
    const std::string file = kReloadedFileLabels[i];
    reloads.metric.push_back(
        Value(MetricType::Counter, static_cast<double>(ok), {{"file", file}, {"result", "ok"}}));
    reloads.metric.push_back(Value(MetricType::Counter, static_cast<double>(failed),
                                   {{"file", file}, {"result", "failed"}}));
    last_failure.metric.push_back(
        Value(MetricType::Gauge,
              static_cast<double>(cells.last_failure_time.load(std::memory_order_relaxed)),
              {{"file", file}}));
  }
  if (reloads.metric.empty()) return;
  out->push_back(std::move(reloads));
  out->push_back(std::move(last_failure));
}

void Metrics::CollectCheckpoint(std::vector<MetricFamily>* out) const {
  if (sources_.checkpointer == nullptr) return;
  const CheckpointStatus checkpoint = sources_.checkpointer->status();
  MetricFamily writes = Family("shixin_checkpoint_writes_total",
                               "Overlay checkpoints written, by result.", MetricType::Counter);
  writes.metric.push_back(
      Value(MetricType::Counter, static_cast<double>(checkpoint.written), {{"result", "ok"}}));
  writes.metric.push_back(
      Value(MetricType::Counter, static_cast<double>(checkpoint.failed), {{"result", "failed"}}));
  out->push_back(std::move(writes));
  AddOne(out, "shixin_checkpoint_delta_sequence",
         "Last delta file the overlay checkpoint holds (0: none known).", MetricType::Gauge,
         static_cast<double>(checkpoint.sequence));
  AddOne(out, "shixin_checkpoint_bytes", "Size of the last overlay checkpoint written.",
         MetricType::Gauge, static_cast<double>(checkpoint.bytes));
  AddOne(out, "shixin_checkpoint_last_write_seconds",
         "Duration of the last overlay checkpoint write.", MetricType::Gauge,
         checkpoint.last_seconds);
  AddOne(out, "shixin_checkpoint_last_write_time_seconds",
         "Unix time of the last overlay checkpoint written (0: none).", MetricType::Gauge,
         static_cast<double>(checkpoint.last_time));
}

void Metrics::CollectAccess(std::vector<MetricFamily>* out) const {
  if (sources_.connections != nullptr) {
    AddOne(out, "shixin_connections_open", "Connections open now (binary and HTTP).",
           MetricType::Gauge, static_cast<double>(sources_.connections->open()));
    AddOne(out, "shixin_connections_refused_total",
           "Connections refused by max_connections or the per-address limit.", MetricType::Counter,
           static_cast<double>(sources_.connections->refused()));
  }
  if (sources_.access != nullptr) {
    MetricFamily limited = Family("shixin_rate_limited_total",
                                  "Requests refused RATE_LIMITED, by caller.", MetricType::Counter);
    MetricFamily denied =
        Family("shixin_permission_denied_total", "Requests refused PERMISSION_DENIED, by caller.",
               MetricType::Counter);
    MetricFamily auth =
        Family("shixin_auth_failures_total",
               "HELLOs whose credentials were refused, by caller named.", MetricType::Counter);
    for (const CallerCount& c : sources_.access->Counts()) {
      limited.metric.push_back(
          Value(MetricType::Counter, static_cast<double>(c.rate_limited), {{"caller", c.id}}));
      denied.metric.push_back(
          Value(MetricType::Counter, static_cast<double>(c.denied), {{"caller", c.id}}));
      auth.metric.push_back(
          Value(MetricType::Counter, static_cast<double>(c.auth_failures), {{"caller", c.id}}));
    }
    out->push_back(std::move(limited));
    out->push_back(std::move(denied));
    out->push_back(std::move(auth));
    MetricFamily refused =
        Family("shixin_auth_refused_total",
               "Authentications refused, whoever they named: via hello (binary protocol) or bearer "
               "(the JSON API's Authorization header, missing ones too).",
               MetricType::Counter);
    for (const auto& [via, name] :
         {std::pair{AuthVia::kHello, "hello"}, std::pair{AuthVia::kBearer, "bearer"}}) {
      refused.metric.push_back(Value(MetricType::Counter,
                                     static_cast<double>(sources_.access->refused(via)),
                                     {{"via", name}}));
    }
    out->push_back(std::move(refused));
  }
  if (sources_.auditor != nullptr) {
    AddOne(out, "shixin_audit_writable",
           "1 while every stream of the audit can be written, 0 while it fails (with "
           "audit_required, MEASURES is refused and /readyz answers 503 meanwhile).",
           MetricType::Gauge, sources_.auditor->Writable().ok() ? 1.0 : 0.0);
    AddHistogram(out, "shixin_audit_write_duration_seconds", "Duration of audit segment writes.",
                 sources_.auditor->WriteLatency());
    AddHistogram(out, "shixin_audit_fsync_duration_seconds", "Duration of audit fdatasyncs.",
                 sources_.auditor->FsyncLatency());
  }
}

void Metrics::CollectProcess(std::vector<MetricFamily>* out) const {
  MetricFamily events =
      Family("shixin_log_events_total",
             "Events of the kinds whose log lines are rate-limited (bad frames, deadlines, TLS "
             "handshakes, ...), logged or suppressed, by kind.",
             MetricType::Counter);
  for (size_t kind = 0; kind < static_cast<size_t>(LogKind::kCount); ++kind) {
    events.metric.push_back(
        Value(MetricType::Counter, static_cast<double>(LogKindEvents(static_cast<LogKind>(kind))),
              {{"kind", std::string(LogKindLabel(static_cast<LogKind>(kind)))}}));
  }
  out->push_back(std::move(events));
  MetricFamily refused =
      Family("shixin_http_refused_total",
             "HTTP requests refused before they reach an operation (a request that does not "
             "parse, an unknown path or method, a body that is not JSON or not the request's), "
             "by error code.",
             MetricType::Counter);
  for (size_t i = 0; i < kHttpRefusalCodes.size(); ++i) {
    refused.metric.push_back(Value(MetricType::Counter, static_cast<double>(HttpRefusals(i)),
                                   {{"code", std::string(kHttpRefusalCodes[i])}}));
  }
  out->push_back(std::move(refused));
  if (sources_.tls_not_after != nullptr) {
    // An alert on renewal: shixin_tls_certificate_expiry_timestamp_seconds - time() < 14 days.
    if (const int64_t t = sources_.tls_not_after->load(std::memory_order_relaxed); t != 0) {
      AddOne(out, "shixin_tls_certificate_expiry_timestamp_seconds",
             "When the server certificate (tls_cert, as last loaded) expires, since the Unix "
             "epoch.",
             MetricType::Gauge, static_cast<double>(t));
    }
  }
  AddOne(out, "process_start_time_seconds", "Start time of the process since the Unix epoch.",
         MetricType::Gauge, static_cast<double>(start_time_));
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return;
  unsigned long size = 0, resident = 0;  // NOLINT(google-runtime-int): fscanf's %lu
  const bool read = std::fscanf(f, "%lu %lu", &size, &resident) == 2;
  std::fclose(f);
  if (!read) return;
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  AddOne(out, "process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
         static_cast<double>(resident) * page);
  AddOne(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
         static_cast<double>(size) * page);
}

std::vector<MetricFamily> Metrics::Collect() const {
  std::vector<MetricFamily> out;
  CollectRequests(&out);
  CollectList(&out);
  CollectReloads(&out);
  CollectFileReloads(&out);
  CollectCheckpoint(&out);
  CollectAccess(&out);
  CollectProcess(&out);
  return out;
}

std::string Metrics::Scrape() const { return prometheus::TextSerializer().Serialize(Collect()); }

void Metrics::TakeSample(int64_t now) {
  // The percentiles are the queries': a RELOAD's latency is its reload's, seconds that would
  // stand for the p99 of a quiet interval. It is counted all the same.
  constexpr auto kReload = static_cast<size_t>(wire::Opcode::kReload);
  LatencyHistogram::Counts latency;
  for (size_t op = 0; op < kOpcodes; ++op) {
    if (op != kReload) latency.Add(LatencyOf(op));
  }
  const uint64_t reloads = LatencyOf(kReload).count();
  std::map<std::string, uint64_t> callers = CallerTotals();
  std::lock_guard<std::mutex> lock(history_mu_);
  const LatencyHistogram::Counts window = latency.Minus(last_latency_);
  Sample s;
  s.time = now;
  s.seconds = static_cast<double>(now - (last_sample_time_ != 0 ? last_sample_time_ : start_time_));
  s.requests = window.count() + (reloads - last_reloads_);
  s.p50_us = window.QuantileNs(0.5) / 1e3;
  s.p99_us = window.QuantileNs(0.99) / 1e3;
  for (const auto& [id, total] : callers) {
    const auto before = last_callers_.find(id);
    const uint64_t n = total - (before != last_callers_.end() ? before->second : 0);
    if (n != 0) s.callers.emplace_back(id, n);
  }
  if (history_.size() == kHistorySamples) history_.pop_front();
  history_.push_back(std::move(s));
  last_sample_time_ = now;
  last_latency_ = latency;
  last_reloads_ = reloads;
  last_callers_ = std::move(callers);
}

std::vector<Metrics::Sample> Metrics::History() const {
  std::lock_guard<std::mutex> lock(history_mu_);
  return {history_.begin(), history_.end()};
}

absl::Status Metrics::StartSampler() {
  std::lock_guard<std::mutex> lock(sampler_mu_);
  if (sampler_.joinable()) return absl::OkStatus();
  sampler_stop_ = false;
  absl::StatusOr<std::thread> sampler = StartThread("shixind-sample", [this] {
    std::unique_lock<std::mutex> lock(sampler_mu_);
    while (!sampler_wake_.wait_for(lock, absl::ToChronoSeconds(kSampleInterval),
                                   [this] { return sampler_stop_; })) {
      lock.unlock();
      TakeSample(static_cast<int64_t>(std::time(nullptr)));
      lock.lock();
    }
  });
  if (!sampler.ok()) return sampler.status();
  sampler_ = *std::move(sampler);
  return absl::OkStatus();
}

void Metrics::StopSampler() {
  std::thread sampler;
  {
    std::lock_guard<std::mutex> lock(sampler_mu_);
    sampler_stop_ = true;
    sampler.swap(sampler_);
  }
  sampler_wake_.notify_all();
  if (sampler.joinable()) sampler.join();
}

}  // namespace shixin
