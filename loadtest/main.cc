// shixin-loadtest: drives shixind (or Redis, with the same workload and settings) over its real
// protocol and reports throughput, latency percentiles and wrong answers; see docs/performance.md.
//
//   shixin-loadtest --server HOST:PORT --data DIR [options]      load shixind
//   shixin-loadtest --redis HOST:PORT --data DIR [options]       the same load against Redis
//   shixin-loadtest --redis HOST:PORT --load --data DIR          fill Redis with DIR's list
//
// --help lists the options (tool_flags.h). Exit status: 0; 1 if a request failed or was
// answered wrongly, or a swap asked for failed or was never made (or a flag is unknown or
// malformed: Abseil's parser exits 1); 2 for bad usage or setup. SIGINT or SIGTERM ends the run
// early: its summary and files are written, then the exit status is 128 + the signal.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "loadtest/delta_feed.h"
#include "loadtest/driver.h"
#include "loadtest/redis_driver.h"
#include "loadtest/report.h"
#include "loadtest/shixin_driver.h"
#include "loadtest/tool_flags.h"
#include "loadtest/workload.h"
#include "protocol/client.h"
#include "protocol/wire.h"

// The defaults of the run's shape and mix are those of RunShape, RunConfig, Mix and PoolOptions.
ABSL_FLAG(std::string, server, "", "shixind to load, HOST:PORT");
ABSL_FLAG(std::string, caller, "",
          "authenticate every connection as this caller (protocol version 3); the token comes from "
          "--token-file or the environment variable SHIXIN_TOKEN");
ABSL_FLAG(std::string, token_file, "", "with --caller: the file whose first line is the token");
ABSL_FLAG(int, protocol, 0,
          "the highest protocol version HELLO offers, 1-4; 0: 3 with --caller, else 1");
static_assert(shixin::wire::kMaxVersion == 4, "--protocol's help names the highest version");
ABSL_FLAG(std::string, redis, "", "Redis to load instead, HOST:PORT");
ABSL_FLAG(std::string, data, "", "the list (debtors.ndjson, relations.ndjson) the IDs come from");
ABSL_FLAG(int, connections, shixin::loadtest::RunShape().connections, "connections in all");
ABSL_FLAG(int, depth, shixin::loadtest::RunShape().depth, "requests in flight per connection");
ABSL_FLAG(int, batch, shixin::loadtest::RunShape().batch, "IDs per CHECK, 1..65535");
ABSL_FLAG(int, threads, shixin::loadtest::RunShape().threads, "client threads");
ABSL_FLAG(double, duration, 10,
          "seconds to run, warm-up included; 0: until --requests (which it then needs)");
ABSL_FLAG(uint64_t, requests, shixin::loadtest::RunConfig().requests,
          "stop after this many requests; 0: by time only");
ABSL_FLAG(double, warmup, 0,
          "requests sent in the first seconds are not measured (shorter than --duration)");
ABSL_FLAG(double, rate, shixin::loadtest::RunShape().rate,
          "open loop at this many requests/s; 0: closed loop");
ABSL_FLAG(double, hit, shixin::loadtest::Mix().hit, "share of listed IDs");
ABSL_FLAG(double, miss, shixin::loadtest::Mix().miss, "share of unlisted IDs");
ABSL_FLAG(double, related, shixin::loadtest::Mix().related, "share of related persons");
ABSL_FLAG(double, measures, shixin::loadtest::Mix().measures, "share of MEASURES requests, 0 to 1");
ABSL_FLAG(std::string, scenario, "", "MEASURES' scenario filter (empty: all)");
ABSL_FLAG(uint64_t, sample, shixin::loadtest::PoolOptions().sample, "IDs kept per class, >= 1");
ABSL_FLAG(uint64_t, seed, shixin::loadtest::PoolOptions().seed, "seed of the sample and mix");
ABSL_FLAG(double, reload_every, 0,
          "RELOAD shixind (refresh Redis) every this many seconds (>= 0.1); 0: never");
ABSL_FLAG(int, reloads, 0,
          "with --reload-every: at most this many reloads, the run lasting until 2 s after the "
          "last; 0: no limit");
ABSL_FLAG(std::string, redis_refresh, "swapdb", "how Redis is refreshed: swapdb or flushall");
ABSL_FLAG(std::string, json, "", "write the summary as JSON to this file (-: standard output)");
ABSL_FLAG(std::string, timeseries, "", "write one line per second to this file");
ABSL_FLAG(std::string, plot, "", "plot latency over time to FILE.png or FILE.svg (gnuplot)");
ABSL_FLAG(std::string, label, "", "a name for the run in the summaries");
ABSL_FLAG(bool, reconnect, false,
          "open a lost connection again (HELLO repeated) and send its unanswered requests once "
          "more, as the C++ client retries; a request lost twice is an error");
ABSL_FLAG(bool, quiet, false, "no progress lines on standard error");
ABSL_FLAG(bool, load, false, "with --redis: SET every listed subject of --data, then stop");
ABSL_FLAG(std::string, feed_deltas, "",
          "feed the delta files of this directory into --deltas-dir during the run, one at a "
          "time, judging the answers about the IDs they touch");
ABSL_FLAG(std::string, deltas_dir, "", "with --feed-deltas: the daemon's deltas_dir");
ABSL_FLAG(std::string, snapshot, "", "with --feed-deltas: the snapshot file the daemon serves");
ABSL_FLAG(double, feed_every, 0.5, "with --feed-deltas: seconds between files (>= 0.01)");
ABSL_FLAG(uint64_t, feeds, 0, "with --feed-deltas: at most this many files; 0: all");
ABSL_FLAG(double, touched, shixin::loadtest::Mix().touched,
          "with --feed-deltas: share of IDs the fed deltas touch");
ABSL_FLAG(uint64_t, touched_ids, shixin::loadtest::FeedOptions().touched,
          "with --feed-deltas: the most touched IDs judged");

namespace shixin::loadtest {
namespace {

constexpr char kUsage[] =
    "usage: shixin-loadtest (--server HOST:PORT | --redis HOST:PORT) --data DIR [options]\n"
    "       shixin-loadtest --redis HOST:PORT --load --data DIR\n";

// The run's end, for OnInterrupt(); null outside a run.
std::atomic<std::atomic<int64_t>*> g_end{nullptr};
volatile sig_atomic_t g_signal = 0;  // the SIGINT or SIGTERM that ended the run, or 0

// SIGINT, SIGTERM: the run ends now, and its summary and files are written as after any run
// (SA_RESETHAND: a second one kills). Async-signal-safe: clock_gettime and lock-free atomics.
extern "C" void OnInterrupt(int sig) {
  g_signal = sig;
  if (std::atomic<int64_t>* end = g_end.load()) end->store(NowNs());
}

// Moves the end of a run whose end is still open (the reloads or the feed set it when they are
// done) to `at`; an end already set (the planned one, or an interruption) stays.
void EndAt(std::atomic<int64_t>* end, int64_t at) {
  int64_t open = INT64_MAX;
  end->compare_exchange_strong(open, at);
}

int Fail(absl::string_view why) {
  std::fprintf(stderr, "shixin-loadtest: %s\n", std::string(why).c_str());
  return 2;
}

// Everything a run needs from the command line, checked.
struct Settings {
  RunConfig config;  // without codec and clock
  RunDescription description;
  std::string data;
  std::string scenario;
  double duration = 0;
  double warmup = 0;
  double reload_every = 0;
  int reloads = 0;
  uint64_t sample = 0;
  bool redis = false;
  RedisRefresh refresh = RedisRefresh::kSwapDb;
  bool quiet = false;
  FeedOptions feed;  // feed.source empty: no feed
  double feed_every = 0;
  Credentials credentials;  // of every shixind connection; empty: none
  int protocol = 0;         // ShixinOptions::max_version
};

// The files the run will write (--json, --timeseries, --plot and its data and script).
std::vector<std::string> OutputPaths() {
  std::vector<std::string> paths;
  if (const std::string json = absl::GetFlag(FLAGS_json); !json.empty() && json != "-") {
    paths.push_back(json);
  }
  if (const std::string series = absl::GetFlag(FLAGS_timeseries); !series.empty()) {
    paths.push_back(series);
  }
  if (const std::string plot = absl::GetFlag(FLAGS_plot); !plot.empty()) {
    paths.push_back(plot);
    paths.push_back(plot + ".gp");
    if (absl::GetFlag(FLAGS_timeseries).empty()) paths.push_back(plot + ".dat");
  }
  return paths;
}

// Checks that `path` can be written (before the run, so that a long run is not lost for it),
// without creating or changing it.
absl::Status CheckWritable(const std::string& path) {
  if (access(path.c_str(), F_OK) == 0) {
    if (access(path.c_str(), W_OK) == 0) return absl::OkStatus();
    return absl::ErrnoToStatus(errno, absl::StrFormat("cannot write %s", path));
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  if (access(dir.c_str(), W_OK | X_OK) == 0) return absl::OkStatus();
  return absl::ErrnoToStatus(errno, absl::StrFormat("cannot write %s", path));
}

absl::StatusOr<Settings> ReadSettings() {
  Settings s;
  RunConfig& c = s.config;
  s.redis = !absl::GetFlag(FLAGS_redis).empty();
  c.address = s.redis ? absl::GetFlag(FLAGS_redis) : absl::GetFlag(FLAGS_server);
  s.data = absl::GetFlag(FLAGS_data);
  s.scenario = absl::GetFlag(FLAGS_scenario);
  RunShape& shape = c.shape;
  shape.connections = absl::GetFlag(FLAGS_connections);
  shape.depth = absl::GetFlag(FLAGS_depth);
  shape.batch = absl::GetFlag(FLAGS_batch);
  shape.threads = absl::GetFlag(FLAGS_threads);
  shape.rate = absl::GetFlag(FLAGS_rate);
  shape.mix = {absl::GetFlag(FLAGS_hit), absl::GetFlag(FLAGS_miss), absl::GetFlag(FLAGS_related),
               absl::GetFlag(FLAGS_touched), absl::GetFlag(FLAGS_measures)};
  c.requests = absl::GetFlag(FLAGS_requests);
  c.seed = absl::GetFlag(FLAGS_seed);
  c.reconnect = absl::GetFlag(FLAGS_reconnect);
  s.duration = absl::GetFlag(FLAGS_duration);
  s.warmup = absl::GetFlag(FLAGS_warmup);
  s.reload_every = absl::GetFlag(FLAGS_reload_every);
  s.reloads = absl::GetFlag(FLAGS_reloads);
  s.sample = absl::GetFlag(FLAGS_sample);
  s.quiet = absl::GetFlag(FLAGS_quiet);
  const std::string refresh = absl::GetFlag(FLAGS_redis_refresh);
  if (refresh != "swapdb" && refresh != "flushall") {
    return absl::InvalidArgumentError("--redis-refresh is swapdb or flushall");
  }
  s.refresh = refresh == "flushall" ? RedisRefresh::kFlushAll : RedisRefresh::kSwapDb;
  s.feed = FeedOptions{absl::GetFlag(FLAGS_snapshot), absl::GetFlag(FLAGS_deltas_dir),
                       absl::GetFlag(FLAGS_feed_deltas), absl::GetFlag(FLAGS_feeds),
                       absl::GetFlag(FLAGS_touched_ids)};
  s.feed_every = absl::GetFlag(FLAGS_feed_every);
  // Answers are judged until the run ends: planning, the run, and the feed if it runs longer
  // (the files beyond --feeds are not known yet: a day of them at most).
  const double feeding = static_cast<double>(s.feed.files > 0 ? s.feed.files : 1000) * s.feed_every;
  s.feed.horizon = 600 + static_cast<int64_t>(2 * std::max(absl::GetFlag(FLAGS_duration), feeding));
  const std::string caller = absl::GetFlag(FLAGS_caller);
  const std::string token_file = absl::GetFlag(FLAGS_token_file);
  SHIXIN_ASSIGN_OR_RETURN(
      s.credentials,
      ReadCredentials(caller.empty() ? std::nullopt : std::optional<std::string>(caller),
                      token_file.empty() ? std::nullopt : std::optional<std::string>(token_file),
                      std::getenv(kTokenEnv)));
  s.protocol = absl::GetFlag(FLAGS_protocol);
  if (s.protocol < 0 || s.protocol > wire::kMaxVersion) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--protocol is 0 (automatic) or 1 to %d", wire::kMaxVersion));
  }
  if (!s.credentials.empty() && (s.redis || (s.protocol != 0 && s.protocol < 3))) {
    return absl::InvalidArgumentError("--caller needs --server and protocol version 3");
  }
  if (!s.feed.source.empty()) {
    if (s.redis || s.feed.snapshot.empty() || s.feed.deltas_dir.empty() || s.reload_every > 0) {
      return absl::InvalidArgumentError(
          "--feed-deltas needs --server, --snapshot and --deltas-dir, and no --reload-every");
    }
    if (s.feed_every < 0.01) return absl::InvalidArgumentError("--feed-every must be >= 0.01 s");
  }

  for (double v : {s.duration, s.warmup, shape.rate, s.reload_every, shape.mix.hit, shape.mix.miss,
                   shape.mix.related, shape.mix.touched, shape.mix.measures}) {
    if (v < 0) return absl::InvalidArgumentError("numbers must not be negative");
  }
  if (shape.connections < 1 || shape.depth < 1 || shape.batch < 1 || shape.batch > 65535 ||
      shape.threads < 1 || s.reloads < 0) {
    return absl::InvalidArgumentError(
        "--connections, --depth, --threads must be >= 1, --batch 1..65535, --reloads >= 0");
  }
  shape.threads = std::min(shape.threads, shape.connections);
  if (s.sample == 0) return absl::InvalidArgumentError("--sample must be >= 1");
  if (s.duration == 0 && c.requests == 0) {
    return absl::InvalidArgumentError("--duration 0 needs --requests (a run of so many requests)");
  }
  if (s.duration > 0 && s.warmup >= s.duration) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--warmup (%g s) must be shorter than --duration (%g s): nothing would be measured",
        s.warmup, s.duration));
  }
  if (shape.mix.hit + shape.mix.miss + shape.mix.related == 0) {
    return absl::InvalidArgumentError("--hit, --miss and --related must not all be 0");
  }
  if (shape.mix.measures > 1) return absl::InvalidArgumentError("--measures is a share, 0 to 1");
  if (s.reloads > 0 && s.reload_every == 0) {
    return absl::InvalidArgumentError("--reloads needs --reload-every");
  }
  for (const std::string& path : OutputPaths()) SHIXIN_RETURN_IF_ERROR(CheckWritable(path));
  if (!s.redis && s.reload_every > 0 && s.reload_every < 0.1) {
    return absl::InvalidArgumentError("--reload-every must be >= 0.1 s");
  }

  RunDescription& d = s.description;
  d.target = s.redis ? "redis" : "shixin";
  d.address = c.address;
  d.label = absl::GetFlag(FLAGS_label);
  d.shape = shape;
  if (s.reload_every > 0) d.refresh = s.redis ? "redis " + refresh : "shixind RELOAD";
  if (!s.feed.source.empty()) d.refresh = "delta files";
  return s;
}

absl::Status WriteFile(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::fputs(text.c_str(), stdout);
    return absl::OkStatus();
  }
  std::ofstream out(path);
  out << text;
  return out ? absl::OkStatus() : absl::UnavailableError(absl::StrFormat("cannot write %s", path));
}

int LoadRedis(const std::string& address, const std::string& data) {
  absl::StatusOr<RedisLoadStats> stats = RedisLoad(address, data);
  if (!stats.ok()) return Fail(stats.status().message());
  std::printf("redis %s: loaded %llu keys in %.1f s (%.0f keys/s), used_memory %.1f MiB\n",
              address.c_str(), static_cast<unsigned long long>(stats->keys), stats->seconds,
              stats->keys / std::max(stats->seconds, 1e-9), stats->used_memory / 1048576.0);
  if (const std::string json = absl::GetFlag(FLAGS_json); !json.empty()) {
    if (absl::Status s = WriteFile(json, RedisLoadJson(*stats) + "\n"); !s.ok()) {
      return Fail(s.message());
    }
  }
  return 0;
}

// Reloads (shixind) or refreshes (Redis) every `reload_every` seconds, at most `reloads` times
// (0: no limit) until `stop`; after the last one it moves the run's end to 2 s after it.
void Reloads(const Settings& s, const RunConfig* config, int64_t min_end, SwapTracker* swaps,
             absl::Notification* stop) {
  ShixinReloader reloader;
  if (!s.redis) {
    if (absl::Status status = reloader.Connect(config->address, s.credentials); !status.ok()) {
      std::fprintf(stderr, "shixin-loadtest: admin connection: %s\n",
                   std::string(status.message()).c_str());
      if (s.reloads > 0) EndAt(config->end_ns, min_end);
      return;
    }
  }
  for (int k = 1; s.reloads == 0 || k <= s.reloads; ++k) {
    const int64_t at = config->start_ns + static_cast<int64_t>(k * s.reload_every * 1e9);
    if (stop->WaitForNotificationWithTimeout(absl::Nanoseconds(at - NowNs()))) return;
    const absl::Status status =
        s.redis ? RedisReplace(config->address, s.data, s.refresh, swaps) : reloader.Reload(swaps);
    if (!status.ok()) {
      std::fprintf(stderr, "shixin-loadtest: reload: %s\n", std::string(status.message()).c_str());
    }
    if (stop->HasBeenNotified()) return;
  }
  EndAt(config->end_ns, std::max(min_end, NowNs() + 2'000'000'000));
}

// Feeds the plan's files during the run; after the last one it moves the run's end to 2 s
// after it.
void FeedDuringRun(const Settings& s, const FeedPlan* plan, const RunConfig* config,
                   int64_t min_end, SwapTracker* swaps, absl::Notification* stop,
                   FeedResult* result) {
  *result = Feed(config->address, s.credentials, *plan, s.feed.deltas_dir, config->start_ns,
                 static_cast<int64_t>(s.feed_every * 1e9), swaps, stop);
  if (!result->error.empty() && !s.quiet) {
    std::fprintf(stderr, "shixin-loadtest: feed: %s\n", result->error.c_str());
  }
  EndAt(config->end_ns, std::max(min_end, NowNs() + 2'000'000'000));
}

// Runs the load threads (and the reloads or the feed, with a `plan`) from `config->start_ns`
// to the end; returns the threads' results and the swap windows in `swaps`.
std::vector<ThreadResult> Drive(const Settings& s, const IdPool& pool, RunConfig* config,
                                SwapTracker* swaps, const FeedPlan* plan, FeedResult* feed) {
  std::atomic<int64_t> end{0};
  config->end_ns = &end;
  config->start_ns = NowNs() + 20'000'000;
  config->warmup_ns = static_cast<int64_t>(s.warmup * 1e9);
  const int64_t nominal_end =
      config->start_ns + static_cast<int64_t>((s.duration > 0 ? s.duration : 3600) * 1e9);
  const bool open_end = (s.reload_every > 0 && s.reloads > 0) || plan != nullptr;
  end.store(open_end ? INT64_MAX : nominal_end);
  g_end.store(&end);
  struct sigaction action {};
  action.sa_handler = OnInterrupt;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  absl::Notification stop;
  std::thread admin;
  if (plan != nullptr) {
    admin = std::thread(FeedDuringRun, std::cref(s), plan, config, nominal_end, swaps, &stop, feed);
  } else if (s.reload_every > 0) {
    admin = std::thread(Reloads, std::cref(s), config, nominal_end, swaps, &stop);
  }
  std::vector<ThreadResult> results(config->shape.threads);
  std::vector<std::thread> threads;
  threads.reserve(config->shape.threads);
  for (int i = 0; i < config->shape.threads; ++i) {
    threads.emplace_back([&, i] { results[i] = RunThread(*config, i, pool, swaps); });
  }
  for (std::thread& t : threads) t.join();
  stop.Notify();
  if (admin.joinable()) admin.join();
  g_end.store(nullptr);
  signal(SIGINT, SIG_DFL);  // the summary is next: a signal now ends the process as usual
  signal(SIGTERM, SIG_DFL);
  config->end_ns = nullptr;
  return results;
}

Report MakeReport(const Settings& s, const RunConfig& config, std::vector<ThreadResult>* results,
                  const SwapTracker& swaps) {
  Report report;
  report.run = s.description;
  report.start_ns = config.start_ns;
  report.warmup_seconds = config.warmup_ns / 1e9;
  int64_t last_send = 0;
  int64_t all_lost = 0;  // stays 0 unless every thread lost every connection
  bool every_thread_lost = true;
  for (const ThreadResult& t : *results) {
    last_send = std::max(last_send, t.last_send_ns);
    all_lost = std::max(all_lost, t.all_lost_ns);
    every_thread_lost = every_thread_lost && t.all_lost_ns != 0;
  }
  report.measured_seconds =
      std::max<int64_t>(0, last_send - config.start_ns - config.warmup_ns) / 1e9;
  if (every_thread_lost) report.all_lost_seconds = (all_lost - config.start_ns) / 1e9;
  for (SwapTracker::Window w : swaps.windows()) {
    w.begin_ns -= config.start_ns;
    w.end_ns = w.end_ns == 0 ? 0 : w.end_ns - config.start_ns;
    report.windows.push_back(w);
  }
  MergeResults(results, &report);
  if (g_signal != 0) report.interrupted = g_signal == SIGINT ? "SIGINT" : "SIGTERM";
  return report;
}

// Adds the feed's figures to `report`; its wrong answers count as the run's.
void AddFeed(const FeedPlan& plan, const FeedResult& feed, const TouchedJudgement& judged,
             Report* report) {
  FeedSummary& f = report->feed;
  f.files = std::max<size_t>(feed.fed, 1);  // a feed that placed nothing still reports
  f.applied = feed.applied;
  std::vector<double> ms = feed.visible_ms;
  std::sort(ms.begin(), ms.end());
  if (!ms.empty()) {
    f.visible_p50_ms = ms[ms.size() / 2];
    f.visible_max_ms = ms.back();
  }
  f.judged = judged.judged;
  f.wrong = judged.wrong;
  f.unjudged = judged.unjudged;
  f.error = feed.error;
  if (feed.applied < plan.files.size() && f.error.empty()) {
    f.error = absl::StrFormat("%d of %d files applied before the run ended", feed.applied,
                              plan.files.size());
  }
  report->wrong += judged.wrong;
  if (!f.error.empty()) ++report->errors;
  for (const std::string& s : judged.samples) report->samples.push_back(s);
}

// Prints the summary and writes the files the flags ask for.
absl::Status WriteOutputs(const Report& report) {
  std::fputs(TextSummary(report).c_str(), stdout);
  if (const std::string json = absl::GetFlag(FLAGS_json); !json.empty()) {
    SHIXIN_RETURN_IF_ERROR(WriteFile(json, JsonSummary(report) + "\n"));
  }
  const std::string series = absl::GetFlag(FLAGS_timeseries);
  const std::string plot = absl::GetFlag(FLAGS_plot);
  if (series.empty() && plot.empty()) return absl::OkStatus();
  const std::string path = series.empty() ? plot + ".dat" : series;
  SHIXIN_RETURN_IF_ERROR(WriteTimeSeries(report, path));
  if (!plot.empty()) {
    if (absl::Status p = Plot(report, path, plot); !p.ok()) {
      std::fprintf(stderr, "shixin-loadtest: no plot: %s\n", std::string(p.message()).c_str());
    }
  }
  return absl::OkStatus();
}

int Run(Settings s) {
  RunConfig& c = s.config;
  const ShixinOptions shixin{c.shape.batch, c.shape.depth, s.scenario, s.credentials,
                             static_cast<uint8_t>(s.protocol)};
  c.codec = s.redis ? CodecFactory([] { return MakeRedisCodec(); })
                    : CodecFactory([=] { return MakeShixinCodec(shixin); });
  c.per_second_histograms =
      !absl::GetFlag(FLAGS_timeseries).empty() || !absl::GetFlag(FLAGS_plot).empty();

  absl::StatusOr<IdPool> pool = LoadIdPool(PoolOptions{s.data, s.sample, c.seed});
  if (!pool.ok()) return Fail(pool.status().message());
  if (!s.quiet) {
    std::fprintf(stderr,
                 "shixin-loadtest: %llu listed, %llu related in %s (%.1f s); sampled %zu hits, "
                 "%zu related, %zu misses\n",
                 static_cast<unsigned long long>(pool->listed_total),
                 static_cast<unsigned long long>(pool->related_total), s.data.c_str(),
                 pool->read_seconds, pool->hits.size(), pool->related.size(), pool->misses.size());
  }
  std::optional<FeedPlan> plan;
  if (!s.feed.source.empty()) {
    absl::StatusOr<FeedPlan> made = PlanFeed(s.feed);
    if (!made.ok()) return Fail(made.status().message());
    plan = *std::move(made);
    UseTouched(*plan, &*pool);
    if (!s.quiet) {
      std::fprintf(stderr,
                   "shixin-loadtest: %zu delta files to feed from %s (sequence %llu on); %zu "
                   "touched IDs judged, %zu more left out of the pool (%.1f s)\n",
                   plan->files.size(), s.feed.source.c_str(),
                   static_cast<unsigned long long>(plan->first_sequence), plan->touched.size(),
                   plan->untracked.size(), plan->seconds);
    }
  }
  // The mix as the Picker uses it: normalised over the classes the pool has IDs of.
  absl::StatusOr<Mix> used = UsedMix(*pool, c.shape.mix);
  if (!used.ok()) return Fail(used.status().message());
  s.description.shape.mix = *used;
  SwapTracker swaps;
  FeedResult feed;
  std::vector<ThreadResult> results = Drive(s, *pool, &c, &swaps, plan ? &*plan : nullptr, &feed);
  for (const ThreadResult& t : results) {
    if (!t.status.ok()) return Fail(t.status.message());
  }
  std::optional<TouchedJudgement> judged;
  if (plan) judged = JudgeTouched(*plan, feed, results);
  Report report = MakeReport(s, c, &results, swaps);
  if (plan) AddFeed(*plan, feed, *judged, &report);
  const bool failed = report.errors != 0 || report.wrong != 0 || SwapsFailed(report);
  if (absl::Status w = WriteOutputs(report); !w.ok()) {
    Fail(w.message());
    return failed ? 1 : 2;  // the run's own verdict first
  }
  if (g_signal != 0) return 128 + g_signal;  // as if killed, once the summary is out
  return failed ? 1 : 0;
}

int Main(int argc, char** argv) {
  const std::vector<std::string> positional =
      ParseToolFlags(argc, argv, kUsage, absl::GetFlagReflectionHandle(FLAGS_server));
  const std::string usage_hint = std::string("\n") + kUsage + "(--help lists the options)";
  if (!positional.empty()) return Fail("unexpected argument " + positional[0] + usage_hint);
  const bool redis = !absl::GetFlag(FLAGS_redis).empty();
  if (absl::GetFlag(FLAGS_server).empty() == !redis) {
    return Fail("give exactly one of --server and --redis" + usage_hint);
  }
  if (absl::GetFlag(FLAGS_data).empty()) return Fail("--data DIR is required" + usage_hint);
  if (absl::GetFlag(FLAGS_load)) {
    if (!redis) return Fail("--load needs --redis");
    return LoadRedis(absl::GetFlag(FLAGS_redis), absl::GetFlag(FLAGS_data));
  }
  absl::StatusOr<Settings> settings = ReadSettings();
  if (!settings.ok()) return Fail(settings.status().message());
  return Run(*std::move(settings));
}

}  // namespace
}  // namespace shixin::loadtest

int main(int argc, char** argv) { return shixin::loadtest::Main(argc, argv); }
