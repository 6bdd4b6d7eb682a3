// The per-request cost of the metrics of issue 13 (daemon/metrics.h), single and 2 threads:
//
//   BM_Record              Metrics::Record as Handler::Handle calls it: a latency histogram
//                          (relaxed atomics) and the caller's opcode x status cell found through
//                          the thread-local cache; plus the two steady_clock reads Handle adds
//   BM_RecordNoClock       Metrics::Record alone
//   BM_PrometheusCpp       the alternative: prometheus-cpp's own Counter (pre-resolved, per
//                          caller, opcode and status) and Histogram (per opcode), whose
//                          Observe() takes a mutex
//   BM_PrometheusCppLookup prometheus-cpp resolving the counter per request (Family::Add takes
//                          the family's mutex)
//   BM_Scrape              one full Scrape() with 20 callers recorded (the /metrics target:
//                          <= 5 ms)
//
// Threads share one Metrics (or one prometheus Registry), as the daemon's I/O threads do.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <string>

#include "daemon/metrics.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace shixin {
namespace {

constexpr uint8_t kCheck = 3;

Metrics& SharedMetrics() {
  static Metrics* metrics = new Metrics();
  return *metrics;
}

std::string CallerOf(int thread) { return "bank-" + std::to_string(thread); }

void BM_Record(benchmark::State& state) {
  Metrics& metrics = SharedMetrics();
  const std::string caller = CallerOf(state.thread_index());
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    benchmark::ClobberMemory();
    const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now() - start)
                           .count();
    metrics.Record(kCheck, 0, caller, ns + 4'000);
  }
}
BENCHMARK(BM_Record)->Threads(1)->Threads(2)->UseRealTime();

void BM_RecordNoClock(benchmark::State& state) {
  Metrics& metrics = SharedMetrics();
  const std::string caller = CallerOf(state.thread_index());
  int64_t ns = 4'000;
  for (auto _ : state) {
    metrics.Record(kCheck, 0, caller, ns);
    ns ^= 0x400;
  }
}
BENCHMARK(BM_RecordNoClock)->Threads(1)->Threads(2)->UseRealTime();

struct Prom {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests =
      prometheus::BuildCounter().Name("requests_total").Help("r").Register(*registry);
  prometheus::Family<prometheus::Histogram>& latency =
      prometheus::BuildHistogram().Name("latency_seconds").Help("l").Register(*registry);
  prometheus::Histogram& check_latency = latency.Add(
      {{"opcode", "CHECK"}},
      prometheus::Histogram::BucketBoundaries{
          1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3,
          1e-2, 2.5e-2, 5e-2, 0.1,  0.25,   0.5,  1,    2.5,    5,    10,   30,     60});
};

Prom& SharedProm() {
  static Prom* prom = new Prom();
  return *prom;
}

void BM_PrometheusCpp(benchmark::State& state) {
  Prom& prom = SharedProm();
  prometheus::Counter& counter = prom.requests.Add(
      {{"caller", CallerOf(state.thread_index())}, {"opcode", "CHECK"}, {"status", "OK"}});
  double seconds = 4e-6;
  for (auto _ : state) {
    counter.Increment();
    prom.check_latency.Observe(seconds);
    seconds = seconds == 4e-6 ? 5e-6 : 4e-6;
  }
}
BENCHMARK(BM_PrometheusCpp)->Threads(1)->Threads(2)->UseRealTime();

void BM_PrometheusCppLookup(benchmark::State& state) {
  Prom& prom = SharedProm();
  const std::string caller = CallerOf(state.thread_index());
  for (auto _ : state) {
    prom.requests.Add({{"caller", caller}, {"opcode", "CHECK"}, {"status", "OK"}}).Increment();
    prom.check_latency.Observe(4e-6);
  }
}
BENCHMARK(BM_PrometheusCppLookup)->Threads(1)->Threads(2)->UseRealTime();

void BM_Scrape(benchmark::State& state) {
  Metrics metrics;
  for (int c = 0; c < 20; ++c) {
    for (uint8_t op = 1; op <= 9; ++op) metrics.Record(op, 0, CallerOf(c), 5'000 * op);
  }
  size_t bytes = 0;
  for (auto _ : state) bytes = metrics.Scrape().size();
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Scrape)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace shixin

BENCHMARK_MAIN();
