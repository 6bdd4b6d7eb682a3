#include "daemon/metrics.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon/connection_limits.h"
#include "daemon/handler.h"
#include "daemon/handler_test_util.h"
#include "daemon/http_message.h"
#include "daemon/log.h"
#include "daemon/reloader.h"
#include "daemon/snapshot_holder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/wire.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kCheck = static_cast<uint8_t>(wire::Opcode::kCheck);
constexpr auto kMeasures = static_cast<uint8_t>(wire::Opcode::kMeasures);
constexpr auto kOk = static_cast<uint16_t>(wire::Status::kOk);
constexpr auto kRateLimited = static_cast<uint16_t>(wire::Status::kRateLimited);
constexpr auto kReload = static_cast<uint8_t>(wire::Opcode::kReload);
constexpr auto kReloadFailed = static_cast<uint16_t>(wire::Status::kReloadFailed);

// Returns every sample line of an exposition: "name{labels}" -> value. Fails the test on a line
// that is neither a comment nor a well-formed sample.
std::map<std::string, double> Parse(const std::string& text) {
  static const std::regex sample_re(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})? (\S+)$)");
  std::map<std::string, double> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::smatch m;
    EXPECT_TRUE(std::regex_match(line, m, sample_re)) << line;
    if (m.empty()) continue;
    const size_t space = line.rfind(' ');
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

// Checks that the buckets of every series of histogram `name` are cumulative and that the +Inf
// bucket equals _count (prometheus-cpp writes _count and _sum before the buckets).
void ExpectHistogramsMonotone(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  double previous = 0, count = -1;
  int buckets = 0;
  const auto value = [&line] { return std::stod(line.substr(line.rfind(' ') + 1)); };
  while (std::getline(in, line)) {
    if (line.rfind(name + "_count", 0) == 0) {
      count = value();
      previous = 0;
    } else if (line.rfind(name + "_bucket{", 0) == 0) {
      EXPECT_GE(value(), previous) << line;
      previous = value();
      ++buckets;
      if (line.find("le=\"+Inf\"") != std::string::npos) {
        EXPECT_EQ(value(), count) << line;
      }
    }
  }
  EXPECT_EQ(buckets % LatencyHistogram::kBuckets, 0u) << name;
  EXPECT_GT(buckets, 0) << name;
}

// Returns the bucket of histogram `name` with `labels` ("a=\"b\"," or "") at upper bound `le`
// seconds, or -1.
double BucketAt(const std::map<std::string, double>& samples, const std::string& name,
                const std::string& labels, double le) {
  const std::string prefix = name + "_bucket{" + labels + "le=\"";
  for (auto it = samples.lower_bound(prefix); it != samples.end(); ++it) {
    if (it->first.rfind(prefix, 0) != 0) break;
    const std::string bound = it->first.substr(prefix.size());
    if (bound[0] != '+' && std::abs(std::stod(bound) - le) < le * 1e-9) return it->second;
  }
  return -1;
}

TEST(LatencyHistogramTest, QuantilesFallInTheirBuckets) {
  LatencyHistogram h;
  for (int i = 0; i < 90; ++i) h.Observe(7'000);    // (5, 10] µs
  for (int i = 0; i < 10; ++i) h.Observe(300'000);  // (250, 500] µs
  const LatencyHistogram::Counts c = h.Read();
  EXPECT_EQ(c.count(), 100u);
  EXPECT_EQ(c.sum_ns, 90u * 7'000 + 10u * 300'000);
  EXPECT_GT(c.QuantileNs(0.5), 5'000);
  EXPECT_LE(c.QuantileNs(0.5), 10'000);
  EXPECT_GT(c.QuantileNs(0.99), 250'000);
  EXPECT_LE(c.QuantileNs(0.99), 500'000);
  EXPECT_EQ(c.Minus(c).count(), 0u);
  EXPECT_EQ(LatencyHistogram::Counts{}.QuantileNs(0.5), 0);
}

TEST(MetricsTest, CountsByCallerOpcodeAndStatus) {
  Metrics metrics;
  for (int i = 0; i < 3; ++i) metrics.Record(kCheck, kOk, "bank-a", 3'000);
  metrics.Record(kMeasures, kRateLimited, "bank-b", 40'000);
  metrics.Record(kCheck, kOk, "", 1'000);
  metrics.Record(200, 999, "bank-a", 1'000);  // out of range: UNKNOWN, INTERNAL
  EXPECT_EQ(metrics.requests(), 6u);
  const std::string text = metrics.Scrape();
  const std::map<std::string, double> s = Parse(text);
  EXPECT_EQ(s.at(R"(shixin_requests_total{caller="bank-a",opcode="CHECK",status="OK"})"), 3);
  EXPECT_EQ(
      s.at(R"(shixin_requests_total{caller="bank-b",opcode="MEASURES",status="RATE_LIMITED"})"), 1);
  EXPECT_EQ(s.at(R"(shixin_requests_total{caller="-",opcode="CHECK",status="OK"})"), 1);
  EXPECT_EQ(s.at(R"(shixin_requests_total{caller="bank-a",opcode="UNKNOWN",status="INTERNAL"})"),
            1);
  EXPECT_EQ(s.at(R"(shixin_request_duration_seconds_count{opcode="CHECK"})"), 4);
  EXPECT_EQ(BucketAt(s, "shixin_request_duration_seconds", R"(opcode="CHECK",)", 2.5e-6), 1);
  EXPECT_EQ(BucketAt(s, "shixin_request_duration_seconds", R"(opcode="CHECK",)", 5e-6), 4);
  EXPECT_NEAR(s.at(R"(shixin_request_duration_seconds_sum{opcode="CHECK"})"), 10e-6, 1e-12);
  EXPECT_THAT(text, HasSubstr("# TYPE shixin_requests_total counter"));
  EXPECT_THAT(text, HasSubstr("# TYPE shixin_request_duration_seconds histogram"));
  ExpectHistogramsMonotone(text, "shixin_request_duration_seconds");
  EXPECT_GT(s.at("process_resident_memory_bytes"), 1e6);
  EXPECT_GT(s.at("process_start_time_seconds"), 1.7e9);
}

TEST(MetricsTest, TwoMetricsDoNotShareAThreadsCache) {
  Metrics a, b;
  a.Record(kCheck, kOk, "x", 1'000);
  b.Record(kCheck, kOk, "x", 1'000);
  b.Record(kCheck, kOk, "x", 1'000);
  a.Record(kCheck, kOk, "y", 1'000);  // back to a: its shard of this thread again
  a.Record(kCheck, kOk, "x", 1'000);
  EXPECT_EQ(Parse(a.Scrape()).at(R"(shixin_requests_total{caller="x",opcode="CHECK",status="OK"})"),
            2);
  EXPECT_EQ(Parse(a.Scrape()).at(R"(shixin_requests_total{caller="y",opcode="CHECK",status="OK"})"),
            1);
  EXPECT_EQ(a.requests(), 3u);
  EXPECT_EQ(Parse(b.Scrape()).at(R"(shixin_requests_total{caller="x",opcode="CHECK",status="OK"})"),
            2);
}

// Two threads record while a third scrapes: nothing is lost and every scrape parses. (How quick
// a scrape is under load is bench/metrics_benchmark's to show, not a timed test's.)
TEST(MetricsTest, ScrapeWhileOtherThreadsRecord) {
  Metrics metrics;
  constexpr int kPerThread = 20'000;
  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  writers.reserve(2);
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&metrics, t] {
      const std::string caller = "caller-" + std::to_string(t % 2);
      for (int i = 0; i < kPerThread; ++i) {
        metrics.Record(kCheck, kOk, i % 10 == 0 ? "shared" : caller, (i % 50) * 1'000);
      }
    });
  }
  std::thread scraper([&] {
    while (!done.load()) Parse(metrics.Scrape());
  });
  for (std::thread& t : writers) t.join();
  done = true;
  scraper.join();
  EXPECT_EQ(metrics.requests(), 2u * kPerThread);
  const std::map<std::string, double> s = Parse(metrics.Scrape());
  EXPECT_EQ(s.at(R"(shixin_requests_total{caller="shared",opcode="CHECK",status="OK"})"),
            2 * kPerThread / 10);
  EXPECT_EQ(s.at(R"(shixin_requests_total{caller="caller-0",opcode="CHECK",status="OK"})"),
            kPerThread * 9 / 10);
}

TEST(MetricsTest, HistorySamplesIntervals) {
  Metrics metrics({}, 1'000);
  for (int i = 0; i < 100; ++i) metrics.Record(kCheck, kOk, "bank-a", 7'000);
  metrics.TakeSample(1'010);
  for (int i = 0; i < 30; ++i) metrics.Record(kCheck, kOk, "bank-b", 300'000);
  metrics.TakeSample(1'020);
  metrics.TakeSample(1'030);
  const std::vector<Metrics::Sample> h = metrics.History();
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].time, 1'010);
  EXPECT_EQ(h[0].seconds, 10);
  EXPECT_EQ(h[0].requests, 100u);
  EXPECT_GT(h[0].p50_us, 5);
  EXPECT_LE(h[0].p50_us, 10);
  ASSERT_EQ(h[0].callers.size(), 1u);
  EXPECT_EQ(h[0].callers[0], (std::pair<std::string, uint64_t>("bank-a", 100)));
  EXPECT_EQ(h[1].requests, 30u);
  EXPECT_GT(h[1].p99_us, 250);
  ASSERT_EQ(h[1].callers.size(), 1u);
  EXPECT_EQ(h[1].callers[0].first, "bank-b");
  EXPECT_EQ(h[2].requests, 0u);
  EXPECT_EQ(h[2].p99_us, 0);
  EXPECT_TRUE(h[2].callers.empty());
  for (int i = 0; i < 400; ++i) metrics.TakeSample(1'040 + i * 10);
  EXPECT_EQ(metrics.History().size(), Metrics::kHistorySamples);
}

// A RELOAD's latency is its reload's: the history counts it but leaves it out of the
// percentiles, which would otherwise show a quiet interval's reload as its p99.
TEST(MetricsTest, HistoryPercentilesLeaveReloadsOut) {
  Metrics metrics({}, 1'000);
  for (int i = 0; i < 10; ++i) metrics.Record(kCheck, kOk, "bank-a", 7'000);
  metrics.Record(kReload, kOk, "ops", 3'000'000'000);
  metrics.TakeSample(1'010);
  metrics.Record(kReload, kReloadFailed, "ops", 3'000'000'000);
  metrics.TakeSample(1'020);
  const std::vector<Metrics::Sample> h = metrics.History();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].requests, 11u);
  EXPECT_LE(h[0].p99_us, 10);
  EXPECT_EQ(h[1].requests, 1u);
  EXPECT_EQ(h[1].p99_us, 0);
  ASSERT_EQ(h[1].callers.size(), 1u);
  EXPECT_EQ(h[1].callers[0], (std::pair<std::string, uint64_t>("ops", 1)));
}

TEST(MetricsTest, SamplerStartsAndStops) {
  Metrics metrics;
  ASSERT_TRUE(metrics.StartSampler().ok());
  ASSERT_TRUE(metrics.StartSampler().ok());
  metrics.StopSampler();
  metrics.StopSampler();
}

// The handler records every request it answers, with the caller of the session.
TEST(MetricsTest, HandlerRecordsRequests) {
  RcuThread rcu;
  SnapshotHolder holder;
  holder.Publish(handler_testing::Sample());
  MetricsSources sources{&holder};
  sources.max_age_seconds = 90000;
  Metrics metrics(sources);
  Config config;
  Handler handler(config, &holder, NowSeconds, nullptr, nullptr, nullptr, &metrics);
  wire::FrameHeader ping;
  ping.opcode = static_cast<uint8_t>(wire::Opcode::kPing);
  wire::FrameHeader bad = ping;
  bad.opcode = 77;
  std::string out;
  ReloadRequest reload;
  Session session;
  handler.Handle(ping, "", Peer{"test"}, &out, &reload, &session);
  handler.Handle(ping, "", Peer{"test"}, &out, &reload, &session);
  handler.Handle(bad, "", Peer{"test"}, &out, &reload, &session);
  const std::map<std::string, double> s = Parse(metrics.Scrape());
  EXPECT_EQ(s.at(R"(shixin_requests_total{caller="open",opcode="PING",status="OK"})"), 2);
  EXPECT_EQ(
      s.at(R"(shixin_requests_total{caller="open",opcode="UNKNOWN",status="UNKNOWN_OPCODE"})"), 1);
  EXPECT_EQ(s.at("shixin_list_generation"), 1);
  EXPECT_EQ(s.at("shixin_list_loaded"), 1);
  EXPECT_GT(s.at("shixin_list_subjects"), 0);
  EXPECT_EQ(s.at("shixin_list_max_age_seconds"), 90000);
}

// A RELOAD is recorded when it is answered, with the status of its answer (RELOAD_FAILED when
// the reload failed) and the time from its arrival to its answer, which covers the reload.
TEST(MetricsTest, HandlerRecordsAReloadAsAnswered) {
  RcuThread rcu;
  SnapshotHolder holder;
  holder.Publish(handler_testing::Sample());
  Metrics metrics(MetricsSources{&holder});
  Config config;
  Handler handler(config, &holder, NowSeconds, nullptr, nullptr, nullptr, &metrics);
  wire::FrameHeader request;
  request.opcode = kReload;
  request.request_id = 7;
  std::string out;
  ReloadRequest reload;
  Session session;
  const auto received = std::chrono::steady_clock::now() - std::chrono::seconds(2);
  ASSERT_EQ(handler.Handle(request, "", Peer{"test", true}, &out, &reload, &session),
            Handler::Next::kReload);
  // Accepted, not answered yet: nothing to count.
  EXPECT_EQ(metrics.requests(), 0u);
  EXPECT_THAT(metrics.Scrape(), Not(HasSubstr(R"(opcode="RELOAD")")));

  handler.AppendReloadResult(7, ReloadResult{absl::AbortedError("truncated"), 1, "truncated"}, &out,
                             session, received);
  std::map<std::string, double> s = Parse(metrics.Scrape());
  EXPECT_EQ(s.at(R"(shixin_requests_total{caller="open",opcode="RELOAD",status="RELOAD_FAILED"})"),
            1);
  EXPECT_EQ(s.count(R"(shixin_requests_total{caller="open",opcode="RELOAD",status="OK"})"), 0u);
  EXPECT_EQ(s.at(R"(shixin_request_duration_seconds_count{opcode="RELOAD"})"), 1);
  EXPECT_GE(s.at(R"(shixin_request_duration_seconds_sum{opcode="RELOAD"})"), 2);

  handler.AppendReloadResult(8, ReloadResult{absl::OkStatus(), 2, "generation 2"}, &out, session,
                             std::chrono::steady_clock::now());
  s = Parse(metrics.Scrape());
  EXPECT_EQ(s.at(R"(shixin_requests_total{caller="open",opcode="RELOAD",status="OK"})"), 1);
  EXPECT_EQ(s.at(R"(shixin_request_duration_seconds_count{opcode="RELOAD"})"), 2);
}

// The server certificate's end, once TLS loaded one; nothing without TLS.
TEST(MetricsTest, TheTlsCertificatesExpiryOnceLoaded) {
  std::atomic<int64_t> not_after{0};
  MetricsSources sources;
  sources.tls_not_after = &not_after;
  Metrics metrics(sources);
  EXPECT_EQ(Parse(metrics.Scrape()).count("shixin_tls_certificate_expiry_timestamp_seconds"), 0u);
  not_after = 1798761600;
  EXPECT_EQ(Parse(metrics.Scrape()).at("shixin_tls_certificate_expiry_timestamp_seconds"),
            1798761600);
}

// A reload's rereads of the TLS, callers and calendar files, by file and result, and when one
// last failed: the files this daemon reads again are there from the start, at 0 (an alert on an
// increase fires on the first failure), the others are not.
TEST(MetricsTest, FileReloadsByFileAndResult) {
  MetricsSources sources;
  sources.reloaded_files[static_cast<size_t>(ReloadedFile::kCallers)] = true;
  Metrics metrics(sources);
  constexpr char kCallersOk[] = R"(shixin_file_reloads_total{file="callers",result="ok"})";
  constexpr char kCallersFailed[] = R"(shixin_file_reloads_total{file="callers",result="failed"})";
  constexpr char kCallersLast[] = R"(shixin_file_reload_last_failure_time_seconds{file="callers"})";
  std::map<std::string, double> s = Parse(metrics.Scrape());
  EXPECT_EQ(s.at(kCallersOk), 0);
  EXPECT_EQ(s.at(kCallersFailed), 0);
  EXPECT_EQ(s.at(kCallersLast), 0);
  EXPECT_EQ(s.count(R"(shixin_file_reloads_total{file="tls",result="failed"})"), 0u);
  EXPECT_EQ(s.count(R"(shixin_file_reloads_total{file="calendar",result="failed"})"), 0u);

  metrics.RecordFileReload(ReloadedFile::kCallers, true, 1798761000);
  metrics.RecordFileReload(ReloadedFile::kCallers, false, 1798761600);
  metrics.RecordFileReload(ReloadedFile::kCallers, true, 1798762200);
  s = Parse(metrics.Scrape());
  EXPECT_EQ(s.at(kCallersOk), 2);
  EXPECT_EQ(s.at(kCallersFailed), 1);
  EXPECT_EQ(s.at(kCallersLast), 1798761600) << "a success after it does not clear it";
}

// Events whose log lines are rate-limited are counted by kind, every kind present from the start.
TEST(MetricsTest, LogEventsByKind) {
  Metrics metrics;
  const double before = Parse(metrics.Scrape()).at(R"(shixin_log_events_total{kind="deadline"})");
  EXPECT_EQ(Parse(metrics.Scrape()).count(R"(shixin_log_events_total{kind="tls_handshake"})"), 1u);
  for (int i = 0; i < 3; ++i) LogLimited(LogKind::kDeadline, LogLevel::kInfo, "deadline %d", i);
  EXPECT_EQ(Parse(metrics.Scrape()).at(R"(shixin_log_events_total{kind="deadline"})"), before + 3);
}

// HTTP requests refused before an operation are counted by code, every code present from the
// start.
TEST(MetricsTest, HttpRefusalsByCode) {
  Metrics metrics;
  const std::string key = R"(shixin_http_refused_total{code="unsupported_media_type"})";
  const double before = Parse(metrics.Scrape()).at(key);
  EXPECT_EQ(Parse(metrics.Scrape()).count(R"(shixin_http_refused_total{code="not_found_path"})"),
            1u);
  for (int i = 0; i < 2; ++i) HttpRefusal(415, "unsupported_media_type", "send JSON");
  EXPECT_EQ(Parse(metrics.Scrape()).at(key), before + 2);
}

// The scrape-time sources: the list, reloads, connections. A scrape during reloads is safe
// (the TSan build runs this).
TEST(MetricsTest, ScrapeDuringReloads) {
  RcuThread rcu;
  SnapshotHolder holder;
  Reloader reloader(handler_testing::SampleSource(), &holder);
  ConnectionLimits connections(1, 1);
  const auto address = boost::asio::ip::make_address("127.0.0.1");
  ASSERT_EQ(connections.Admit(address), ConnectionLimits::Admission::kAdmitted);
  EXPECT_EQ(connections.Admit(address), ConnectionLimits::Admission::kRefusedAddress);
  Metrics metrics(MetricsSources{&holder, &reloader, nullptr, &connections});
  EXPECT_EQ(Parse(metrics.Scrape()).at("shixin_list_loaded"), 0);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  ASSERT_TRUE(reloader.Start().ok());
  constexpr int kReloads = 3;
  std::atomic<int> finished{0};
  for (int i = 0; i < kReloads; ++i) {
    reloader.Request("test", [&](const ReloadResult&) { finished.fetch_add(1); });
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  int scrapes = 0;
  while (finished.load() < kReloads && absl::Now() < deadline) {
    Parse(metrics.Scrape());
    ++scrapes;
  }
  ASSERT_EQ(finished.load(), kReloads);
  reloader.Stop();
  EXPECT_GT(scrapes, 0);
  const std::string text = metrics.Scrape();
  const std::map<std::string, double> s = Parse(text);
  EXPECT_EQ(s.at(R"(shixin_reloads_total{result="ok"})"), reloader.stats().reloads_ok);
  EXPECT_GE(s.at(R"(shixin_reloads_total{result="ok"})"), 1);
  EXPECT_EQ(s.at("shixin_reload_duration_seconds_count"),
            s.at(R"(shixin_reloads_total{result="ok"})"));
  EXPECT_EQ(s.at("shixin_list_generation"), holder.generation());
  EXPECT_EQ(s.at("shixin_connections_open"), 1);
  EXPECT_EQ(s.at("shixin_connections_refused_total"), 1);
  EXPECT_EQ(s.at("shixin_deltas_applied_total"), 0);
  EXPECT_EQ(s.at("shixin_deltas_replayed_total"), 0);
  ExpectHistogramsMonotone(text, "shixin_reload_duration_seconds");
  const std::vector<PublishedGeneration> generations = reloader.generations();
  ASSERT_EQ(generations.size(), holder.generation());
  EXPECT_EQ(generations.front().kind, "load");
  EXPECT_EQ(generations.back().kind, "reload");
  EXPECT_GT(generations.back().subjects, 0u);
  EXPECT_NE(generations.back().base_version, 0u);
  EXPECT_THAT(text, Not(HasSubstr("nan")));
}

}  // namespace
}  // namespace shixin
