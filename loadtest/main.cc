// shixin-loadtest: drives shixind (or Redis, with the same workload and settings) over its real
// protocol and reports throughput, latency percentiles and wrong answers; see docs/performance.md.
//
//   shixin-loadtest --server HOST:PORT --data DIR [options]      load shixind
//   shixin-loadtest --redis HOST:PORT --data DIR [options]       the same load against Redis
//   shixin-loadtest --redis HOST:PORT --load --data DIR          fill Redis with DIR's list
//
// Exit status: 0; 1 if a request failed or was answered wrongly; 2 for bad usage or setup.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "cli/flags.h"
#include "loadtest/driver.h"
#include "loadtest/redis_driver.h"
#include "loadtest/report.h"
#include "loadtest/shixin_driver.h"
#include "loadtest/workload.h"

namespace shixin::loadtest {
namespace {

constexpr char kUsage[] =
    "usage: shixin-loadtest (--server HOST:PORT | --redis HOST:PORT) --data DIR [options]\n"
    "  --connections N (50) --depth N (1, in flight per connection) --batch N (1, IDs per CHECK)\n"
    "  --threads N (1) --duration S (10, warm-up included) --requests N (stop after N)\n"
    "  --warmup S (0: requests sent in the first S seconds are not measured)\n"
    "  --rate R (open loop at R requests/s; default closed loop)\n"
    "  --hit F (0.5) --miss F (0.4) --related F (0.1) --measures F (0, share of MEASURES)\n"
    "  --scenario NAME (MEASURES filter) --sample N (1000000 IDs per class) --seed N (1)\n"
    "  --reload-every S (RELOAD/refresh every S seconds) --reloads N (at most N; the run lasts\n"
    "      until the last one ends + 2 s) --redis-refresh swapdb|flushall (swapdb)\n"
    "  --json FILE (- for stdout) --timeseries FILE --plot FILE.png|svg --label TEXT --quiet\n"
    "  --redis HOST:PORT --load --data DIR: SET every listed subject, report the load time\n";

const std::vector<FlagSpec> kFlags = {
    {"server", true},        {"redis", true},   {"data", true},         {"connections", true},
    {"depth", true},         {"batch", true},   {"threads", true},      {"duration", true},
    {"requests", true},      {"warmup", true},  {"rate", true},         {"hit", true},
    {"miss", true},          {"related", true}, {"measures", true},     {"scenario", true},
    {"sample", true},        {"seed", true},    {"reload-every", true}, {"reloads", true},
    {"redis-refresh", true}, {"json", true},    {"timeseries", true},   {"plot", true},
    {"label", true},         {"quiet", false},  {"load", false},        {"help", false}};

int Fail(const std::string& why) {
  std::fprintf(stderr, "shixin-loadtest: %s\n", why.c_str());
  return 2;
}

absl::Status GetDouble(const Flags& flags, std::string_view name, double* out) {
  const std::optional<std::string> v = flags.Get(name);
  if (!v) return absl::OkStatus();
  if (!absl::SimpleAtod(*v, out) || *out < 0) {
    return absl::InvalidArgumentError(absl::StrFormat("--%s: bad number \"%s\"", name, *v));
  }
  return absl::OkStatus();
}

absl::Status GetInt(const Flags& flags, std::string_view name, int* out) {
  absl::StatusOr<uint64_t> v = flags.GetUint(name, *out);
  if (!v.ok()) return v.status();
  *out = static_cast<int>(std::min<uint64_t>(*v, 1 << 20));
  return absl::OkStatus();
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

int LoadRedis(const Flags& flags) {
  const std::string address = *flags.Get("redis");
  absl::StatusOr<RedisLoadStats> stats = RedisLoad(address, *flags.Get("data"));
  if (!stats.ok()) return Fail(std::string(stats.status().message()));
  std::printf("redis %s: loaded %llu keys in %.1f s (%.0f keys/s), used_memory %.1f MiB\n",
              address.c_str(), static_cast<unsigned long long>(stats->keys), stats->seconds,
              stats->keys / std::max(stats->seconds, 1e-9), stats->used_memory / 1048576.0);
  if (const std::optional<std::string> json = flags.Get("json")) {
    absl::Status s =
        WriteFile(*json, absl::StrFormat(R"({"keys":%d,"load_seconds":%.3f,"used_memory":%d})"
                                         "\n",
                                         stats->keys, stats->seconds, stats->used_memory));
    if (!s.ok()) return Fail(std::string(s.message()));
  }
  return 0;
}

// Reloads (shixind) or refreshes (Redis) every `every` seconds, at most `max` times (0: no
// limit) until `stop`; after the last one it moves the run's end to 2 s after it.
void Reloads(const Flags& flags, RunConfig* config, SwapTracker* swaps, double every, int max,
             int64_t min_end, absl::Notification* stop, std::string* refresh) {
  const bool redis = flags.Get("redis").has_value();
  const std::string mode = flags.Get("redis-refresh").value_or("swapdb");
  *refresh = redis ? "redis " + mode : "shixind RELOAD";
  ShixinReloader reloader;
  if (!redis) {
    if (absl::Status s = reloader.Connect(config->address); !s.ok()) {
      std::fprintf(stderr, "shixin-loadtest: admin connection: %s\n",
                   std::string(s.message()).c_str());
      if (max > 0) config->end_ns->store(min_end);
      return;
    }
  }
  for (int k = 1; max == 0 || k <= max; ++k) {
    const int64_t at = config->start_ns + static_cast<int64_t>(k * every * 1e9);
    if (stop->WaitForNotificationWithTimeout(absl::Nanoseconds(at - NowNs()))) return;
    const absl::Status s =
        redis ? RedisReplace(config->address, *flags.Get("data"),
                             mode == "flushall" ? RedisRefresh::kFlushAll : RedisRefresh::kSwapDb,
                             swaps)
              : reloader.Reload(swaps);
    if (!s.ok()) {
      std::fprintf(stderr, "shixin-loadtest: reload: %s\n", std::string(s.message()).c_str());
    }
    if (stop->HasBeenNotified()) return;
  }
  config->end_ns->store(std::max(min_end, NowNs() + 2'000'000'000));
}

int Run(const Flags& flags) {
  RunDescription d;
  RunConfig c;
  const bool redis = flags.Get("redis").has_value();
  d.target = redis ? "redis" : "shixin";
  c.address = d.address = redis ? *flags.Get("redis") : *flags.Get("server");
  d.label = flags.Get("label").value_or("");
  double duration = 10, warmup = 0, every = 0;
  int reloads = 0;
  absl::Status s = GetInt(flags, "connections", &c.connections);
  if (s.ok()) s = GetInt(flags, "depth", &c.depth);
  if (s.ok()) s = GetInt(flags, "batch", &c.batch);
  if (s.ok()) s = GetInt(flags, "threads", &c.threads);
  if (s.ok()) s = GetInt(flags, "reloads", &reloads);
  if (s.ok()) s = GetDouble(flags, "duration", &duration);
  if (s.ok()) s = GetDouble(flags, "warmup", &warmup);
  if (s.ok()) s = GetDouble(flags, "rate", &c.rate);
  if (s.ok()) s = GetDouble(flags, "reload-every", &every);
  if (s.ok()) s = GetDouble(flags, "hit", &c.mix.hit);
  if (s.ok()) s = GetDouble(flags, "miss", &c.mix.miss);
  if (s.ok()) s = GetDouble(flags, "related", &c.mix.related);
  if (s.ok()) s = GetDouble(flags, "measures", &c.mix.measures);
  absl::StatusOr<uint64_t> requests = flags.GetUint("requests", 0);
  absl::StatusOr<uint64_t> sample = flags.GetUint("sample", 1'000'000);
  absl::StatusOr<uint64_t> seed = flags.GetUint("seed", 1);
  if (s.ok()) s = requests.status();
  if (s.ok()) s = sample.status();
  if (s.ok()) s = seed.status();
  if (!s.ok()) return Fail(std::string(s.message()));
  if (c.connections < 1 || c.depth < 1 || c.batch < 1 || c.batch > 65535 || c.threads < 1) {
    return Fail("--connections, --depth, --threads must be >= 1, --batch 1..65535");
  }
  c.threads = std::min(c.threads, c.connections);
  if (!redis && every > 0 && every < 0.1) return Fail("--reload-every must be >= 0.1 s");
  c.requests = *requests;
  c.seed = *seed;
  d.connections = c.connections;
  d.depth = c.depth;
  d.batch = c.batch;
  d.threads = c.threads;
  d.rate = c.rate;
  d.mix = c.mix;
  const std::string scenario = flags.Get("scenario").value_or("");
  const int batch = c.batch, depth = c.depth;
  c.codec = redis ? CodecFactory([] { return MakeRedisCodec(); })
                  : CodecFactory([=] { return MakeShixinCodec(batch, depth, scenario); });
  const bool quiet = flags.Has("quiet");
  const std::optional<std::string> series = flags.Get("timeseries");
  const std::optional<std::string> plot = flags.Get("plot");
  c.per_second_histograms = series.has_value() || plot.has_value();

  absl::StatusOr<IdPool> pool = LoadIdPool(PoolOptions{*flags.Get("data"), *sample, *seed});
  if (!pool.ok()) return Fail(std::string(pool.status().message()));
  if (!quiet) {
    std::fprintf(stderr,
                 "shixin-loadtest: %llu listed, %llu related in %s (%.1f s); sampled %zu hits, "
                 "%zu related, %zu misses\n",
                 static_cast<unsigned long long>(pool->listed_total),
                 static_cast<unsigned long long>(pool->related_total), flags.Get("data")->c_str(),
                 pool->read_seconds, pool->hits.size(), pool->related.size(), pool->misses.size());
  }

  std::atomic<int64_t> end{0};
  c.end_ns = &end;
  c.start_ns = NowNs() + 20'000'000;
  c.warmup_ns = static_cast<int64_t>(warmup * 1e9);
  const int64_t nominal_end =
      c.start_ns + static_cast<int64_t>((duration > 0 ? duration : 3600) * 1e9);
  end.store(every > 0 && reloads > 0 ? INT64_MAX : nominal_end);
  SwapTracker swaps;
  absl::Notification stop;
  std::thread admin;
  if (every > 0) {
    admin = std::thread(Reloads, std::cref(flags), &c, &swaps, every, reloads, nominal_end, &stop,
                        &d.refresh);
  }
  std::vector<ThreadResult> results(c.threads);
  std::vector<std::thread> threads;
  for (int i = 0; i < c.threads; ++i) {
    threads.emplace_back([&, i] { results[i] = RunThread(c, i, *pool, &swaps); });
  }
  for (std::thread& t : threads) t.join();
  stop.Notify();
  if (admin.joinable()) admin.join();
  for (const ThreadResult& t : results) {
    if (!t.status.ok()) return Fail(std::string(t.status.message()));
  }

  Report report;
  report.run = d;
  report.start_ns = c.start_ns;
  int64_t last_send = 0;
  for (const ThreadResult& t : results) last_send = std::max(last_send, t.last_send_ns);
  report.measured_seconds = (last_send - c.start_ns - c.warmup_ns) / 1e9;
  MergeResults(&results, &report);
  for (SwapTracker::Window w : swaps.windows()) {
    w.begin_ns -= c.start_ns;
    w.end_ns = w.end_ns == 0 ? 0 : w.end_ns - c.start_ns;
    report.windows.push_back(w);
  }
  std::fputs(TextSummary(report).c_str(), stdout);
  if (const std::optional<std::string> json = flags.Get("json")) {
    if (absl::Status w = WriteFile(*json, JsonSummary(report) + "\n"); !w.ok()) {
      return Fail(std::string(w.message()));
    }
  }
  if (series || plot) {
    const std::string path = series.value_or(*plot + ".dat");
    if (absl::Status w = WriteTimeSeries(report, path); !w.ok()) {
      return Fail(std::string(w.message()));
    }
    if (plot) {
      if (absl::Status p = Plot(report, path, *plot); !p.ok()) {
        std::fprintf(stderr, "shixin-loadtest: no plot: %s\n", std::string(p.message()).c_str());
      }
    }
  }
  return report.errors == 0 && report.wrong == 0 ? 0 : 1;
}

int Main(int argc, char** argv) {
  absl::StatusOr<Flags> flags =
      Flags::Parse(std::vector<std::string>(argv + 1, argv + argc), kFlags);
  if (!flags.ok()) return Fail(std::string(flags.status().message()) + "\n" + kUsage);
  if (flags->Has("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (flags->Get("server").has_value() == flags->Get("redis").has_value()) {
    return Fail(std::string("give exactly one of --server and --redis\n") + kUsage);
  }
  if (!flags->Get("data")) return Fail(std::string("--data DIR is required\n") + kUsage);
  if (flags->Has("load")) {
    if (!flags->Get("redis")) return Fail("--load needs --redis");
    return LoadRedis(*flags);
  }
  return Run(*flags);
}

}  // namespace
}  // namespace shixin::loadtest

int main(int argc, char** argv) { return shixin::loadtest::Main(argc, argv); }
