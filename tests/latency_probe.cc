// shixin-latency-probe: measures the round trip of single-ID CHECKs to a running shixind over
// one connection, one request at a time (no pipelining), and reports p50/p90/p99/p99.9/max.
//
//   shixin-latency-probe --server 127.0.0.1:7411 [--requests 100000] [--data DIR]
//   shixin-latency-probe --server 127.0.0.1:7411 --during-reload [--reloads 5] [--data DIR]
//
// The IDs queried: with --data, listed IDs and IDs known to be neither listed nor related, read
// from DIR as the load tool reads them (loadtest/workload.h), alternating, and every answer is
// judged (a listed ID answered "not listed" is a failure, as when the probe is pointed at a
// server that serves another list); without it, valid resident IDs that are most likely not
// listed, whose answers are not judged (only an INVALID answer fails).
//
// --caller and --token-file (or SHIXIN_TOKEN) authenticate both connections in HELLO, as the
// load tool does, against a daemon with a callers file (RELOAD then needs the admin scope).
//
// --during-reload keeps querying while a second connection sends RELOAD --reloads times (one
// after the other, 200 ms apart), and reports the latencies seen while a reload ran (load,
// validation and swap) and in the 100 ms after each swap, apart from the rest.
//
// The warm-up's failures are reported apart; if every warm-up request failed (credentials
// refused, say) the probe stops there. Throughput is of the requests answered, and not printed
// when none was.
//
// --help lists the options (loadtest/tool_flags.h). Exit status: 0, 1 if any request failed or
// answered wrongly (or a flag is unknown or malformed: Abseil's parser exits 1), 2 for bad usage.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "core/id.h"
#include "loadtest/tool_flags.h"
#include "loadtest/workload.h"
#include "protocol/client.h"

ABSL_FLAG(std::string, server, "", "the shixind to probe, HOST:PORT (required)");
ABSL_FLAG(uint64_t, requests, 100000, "timed requests (without --during-reload)");
ABSL_FLAG(uint64_t, warmup, 2000, "untimed requests first");
ABSL_FLAG(std::string, data, "",
          "query listed and unlisted IDs of the list in DIR, judging every answer");
ABSL_FLAG(std::string, caller, "",
          "authenticate both connections as this caller (protocol version 3); the token comes "
          "from --token-file or the environment variable SHIXIN_TOKEN");
ABSL_FLAG(std::string, token_file, "", "with --caller: the file whose first line is the token");
ABSL_FLAG(bool, during_reload, false, "query while a second connection reloads");
ABSL_FLAG(int, reloads, 5, "with --during-reload: reloads, one after the other");

namespace shixin {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kUsage[] =
    "usage: shixin-latency-probe --server HOST:PORT [--requests N] [--warmup N] [--data DIR]\n"
    "                            [--during-reload [--reloads K]]\n";

struct Options {
  std::string server;
  std::string data;
  Credentials credentials;  // empty: none
  uint64_t requests = 0;
  uint64_t warmup = 0;
  bool during_reload = false;
  int reloads = 0;
};

int Usage(const std::string& why) {
  std::fprintf(stderr, "shixin-latency-probe: %s\n%s(--help lists the options)\n", why.c_str(),
               kUsage);
  return 2;
}

// Reads the flags into `o`; returns false (with `error`) for bad usage.
bool ReadOptions(const std::vector<std::string>& positional, Options* o, std::string* error) {
  if (!positional.empty()) {
    *error = "unexpected argument " + positional[0];
    return false;
  }
  o->server = absl::GetFlag(FLAGS_server);
  o->data = absl::GetFlag(FLAGS_data);
  o->requests = absl::GetFlag(FLAGS_requests);
  o->warmup = absl::GetFlag(FLAGS_warmup);
  o->during_reload = absl::GetFlag(FLAGS_during_reload);
  o->reloads = absl::GetFlag(FLAGS_reloads);
  if (o->server.empty()) {
    *error = "--server is required";
    return false;
  }
  if (o->reloads < 0) {
    *error = "--reloads must be >= 0";
    return false;
  }
  const std::string caller = absl::GetFlag(FLAGS_caller);
  const std::string token_file = absl::GetFlag(FLAGS_token_file);
  absl::StatusOr<Credentials> credentials =
      ReadCredentials(caller.empty() ? std::nullopt : std::optional<std::string>(caller),
                      token_file.empty() ? std::nullopt : std::optional<std::string>(token_file),
                      std::getenv(kTokenEnv));
  if (!credentials.ok()) {
    *error = std::string(credentials.status().message());
    return false;
  }
  o->credentials = *std::move(credentials);
  return true;
}

// An ID to query and the answer it must get (nullopt: not judged).
struct Query {
  std::string id;
  std::optional<wire::CheckStatus> expected;
};

// Valid resident IDs (area 230402, births 1940-1999), almost surely not listed.
std::vector<std::string> OtherIds(size_t n) {
  std::vector<std::string> ids;
  uint64_t x = 88172645463325252ull;
  while (ids.size() < n) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::string first17 = absl::StrFormat("230402%04d%02d%02d%03d", 1940 + x % 60,
                                          1 + (x >> 8) % 12, 1 + (x >> 16) % 28, (x >> 24) % 1000);
    ids.push_back(first17 + ResidentCheckChar(first17));
  }
  return ids;
}

struct Sample {
  Clock::time_point start;
  int64_t ns = 0;
  uint32_t generation = 0;
};

std::string Us(int64_t ns) { return absl::StrFormat("%.1f us", static_cast<double>(ns) / 1e3); }

void Report(const char* what, std::vector<int64_t> ns) {
  if (ns.empty()) {
    std::printf("%-28s no requests\n", what);
    return;
  }
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    return ns[std::min(ns.size() - 1, static_cast<size_t>(q * static_cast<double>(ns.size())))];
  };
  double sum = 0;
  for (int64_t v : ns) sum += static_cast<double>(v);
  std::printf("%-28s n %-8zu p50 %-10s p90 %-10s p99 %-10s p99.9 %-10s max %-10s mean %s\n", what,
              ns.size(), Us(at(0.5)).c_str(), Us(at(0.9)).c_str(), Us(at(0.99)).c_str(),
              Us(at(0.999)).c_str(), Us(ns.back()).c_str(),
              Us(static_cast<int64_t>(sum / static_cast<double>(ns.size()))).c_str());
}

// Sends one single-ID CHECK per call and times it; counts failures (errors and wrong answers).
class Prober {
 public:
  Prober(std::unique_ptr<Client> client, std::vector<Query> queries)
      : client_(std::move(client)), queries_(std::move(queries)) {}

  // Returns false on a failed request or a wrong answer (the first few printed).
  bool Probe(Sample* sample) {
    const Query& q = queries_[next_++ % queries_.size()];
    const std::vector<std::string> batch = {q.id};
    sample->start = Clock::now();
    auto reply = client_->Check(batch);
    sample->ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - sample->start).count();
    std::string failure;
    if (!reply.ok()) {
      failure = std::string(reply.status().message());
    } else if (reply->value.size() != 1) {
      failure = absl::StrFormat("%d answers", reply->value.size());
    } else if (reply->value[0].status == wire::CheckStatus::kInvalid) {
      failure = "invalid answer";
    } else if (q.expected && reply->value[0].status != *q.expected) {
      failure = absl::StrFormat("answered %s, expected %s (the list of --data?)",
                                StatusText(reply->value[0].status), StatusText(*q.expected));
    }
    if (!failure.empty()) {
      if (failures_++ < 3) {  // the first few: the rest are most likely alike
        std::fprintf(stderr, "CHECK %s failed: %s\n", q.id.c_str(), failure.c_str());
      }
      if (first_failure_.empty()) first_failure_ = failure;
      return false;
    }
    sample->generation = reply->generation;
    return true;
  }
  uint64_t failures() const { return failures_; }
  const std::string& first_failure() const { return first_failure_; }

 private:
  static std::string_view StatusText(wire::CheckStatus s) {
    switch (s) {
      case wire::CheckStatus::kListed:
        return "listed";
      case wire::CheckStatus::kRelated:
        return "related";
      case wire::CheckStatus::kInvalid:
        return "invalid";
      case wire::CheckStatus::kUnlisted:
        break;
    }
    return "not listed";
  }

  std::unique_ptr<Client> client_;
  std::vector<Query> queries_;
  size_t next_ = 0;
  uint64_t failures_ = 0;
  std::string first_failure_;
};

// Probes `o.requests` times, one after the other, and reports.
int RunSteady(const Options& o, Prober* prober) {
  std::vector<int64_t> ns;
  ns.reserve(o.requests);
  Sample s;
  const uint64_t failed_before = prober->failures();
  const Clock::time_point start = Clock::now();
  for (uint64_t i = 0; i < o.requests; ++i) {
    if (prober->Probe(&s)) ns.push_back(s.ns);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const uint64_t failures = prober->failures() - failed_before;
  Report("round trip", ns);
  if (ns.empty()) {
    std::printf("no request answered; %llu failures\n", static_cast<unsigned long long>(failures));
  } else {
    std::printf("%.0f requests/s answered; %llu failures\n",
                static_cast<double>(ns.size()) / seconds,
                static_cast<unsigned long long>(failures));
  }
  return prober->failures() == 0 ? 0 : 1;
}

// Connects to the server and, with credentials, authenticates.
absl::StatusOr<std::unique_ptr<Client>> Connect(const Options& o) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(o.server);
  if (!client.ok() || o.credentials.empty()) return client;
  absl::StatusOr<Reply<wire::HelloResponse>> hello =
      (*client)->Hello("shixin-latency-probe", o.credentials);
  if (!hello.ok()) return hello.status();
  return client;
}

// A RELOAD, from its request to its answer.
struct Window {
  Clock::time_point begin, end;
  uint32_t generation = 0;
  bool ok = false;
};

// Sends `reloads` RELOADs over `admin`, 200 ms apart, and returns their windows; counts the
// failed ones in `failures`.
std::vector<Window> Reload(Client* admin, int reloads, int* failures) {
  std::vector<Window> windows;
  for (int k = 0; k < reloads; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    Window w;
    w.begin = Clock::now();
    auto reply = admin->Reload();
    w.end = Clock::now();
    w.ok = reply.ok();
    if (reply.ok()) {
      w.generation = reply->value.generation;
    } else {
      ++*failures;
      std::fprintf(stderr, "RELOAD failed: %s\n", std::string(reply.status().message()).c_str());
    }
    windows.push_back(w);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return windows;
}

// Sorts the samples by where they fell relative to the reload windows and reports; returns
// the number of answers from an older generation after a newer one.
int ReportDuringReload(const std::vector<Sample>& samples, const std::vector<Window>& windows) {
  std::vector<int64_t> during, after_swap, outside, all;
  constexpr auto kAfterSwap = std::chrono::milliseconds(100);
  int64_t worst = 0;
  Clock::time_point worst_at;
  size_t worst_window = 0;
  uint32_t first_generation = samples.empty() ? 0 : samples.front().generation;
  uint32_t last_generation = first_generation;
  int backwards = 0;
  for (const Sample& x : samples) {
    if (x.generation < last_generation) ++backwards;
    last_generation = std::max(last_generation, x.generation);
    all.push_back(x.ns);
    const Clock::time_point end = x.start + std::chrono::nanoseconds(x.ns);
    bool in_reload = false, in_after = false;
    size_t window = 0;
    for (size_t k = 0; k < windows.size(); ++k) {
      const Window& w = windows[k];
      if (x.start < w.end && end > w.begin) {
        in_reload = true;
        window = k;
      }
      if (x.start >= w.end && x.start < w.end + kAfterSwap) in_after = true;
    }
    (in_reload ? during : (in_after ? after_swap : outside)).push_back(x.ns);
    if (in_reload && x.ns > worst) {
      worst = x.ns;
      worst_at = x.start;
      worst_window = window;
    }
  }
  for (size_t k = 0; k < windows.size(); ++k) {
    const Window& w = windows[k];
    std::printf("reload %zu: %s, generation %u, took %s\n", k + 1, w.ok ? "ok" : "FAILED",
                w.generation, absl::FormatDuration(absl::FromChrono(w.end - w.begin)).c_str());
  }
  Report("all", all);
  Report("while a reload ran", during);
  Report("first 100 ms after a swap", after_swap);
  Report("otherwise", outside);
  if (worst > 0) {
    const Window& w = windows[worst_window];
    std::printf(
        "longest query during a reload: %s, sent %.0f ms into reload %zu (which took %.0f ms)\n",
        Us(worst).c_str(), std::chrono::duration<double, std::milli>(worst_at - w.begin).count(),
        worst_window + 1, std::chrono::duration<double, std::milli>(w.end - w.begin).count());
  }
  std::printf("generations %u -> %u; %d answers from an older generation after a newer one; ",
              first_generation, last_generation, backwards);
  return backwards;
}

// --during-reload: a second connection reloads while this thread probes.
int RunDuringReload(const Options& o, Prober* prober) {
  absl::StatusOr<std::unique_ptr<Client>> admin = Connect(o);
  if (!admin.ok()) {
    std::fprintf(stderr, "admin connection to %s: %s\n", o.server.c_str(),
                 std::string(admin.status().message()).c_str());
    return 1;
  }
  (*admin)->set_timeout(absl::Minutes(10));
  std::vector<Window> windows;
  std::atomic<bool> done{false};
  int reload_failures = 0;
  std::thread reloader([&] {
    windows = Reload(admin->get(), o.reloads, &reload_failures);
    done = true;
  });
  std::vector<Sample> samples;
  samples.reserve(1 << 20);
  Sample s;
  while (!done.load()) {
    if (prober->Probe(&s)) samples.push_back(s);
  }
  reloader.join();
  const int backwards = ReportDuringReload(samples, windows);
  std::printf("%llu failed queries; %d failed reloads\n",
              static_cast<unsigned long long>(prober->failures()), reload_failures);
  return prober->failures() == 0 && reload_failures == 0 && backwards == 0 ? 0 : 1;
}

// The IDs to query: with --data, listed IDs and misses of the list, alternating, each with its
// expected answer; else unlisted-looking IDs, unjudged. Empty (with `error`) if DIR is unusable.
std::vector<Query> Queries(const Options& o, std::string* error) {
  std::vector<Query> queries;
  if (o.data.empty()) {
    for (std::string& id : OtherIds(50000)) queries.push_back({std::move(id), std::nullopt});
    return queries;
  }
  absl::StatusOr<loadtest::IdPool> pool = loadtest::LoadIdPool({o.data, 50000});
  if (!pool.ok()) {
    *error = std::string(pool.status().message());
    return queries;
  }
  const size_t n = std::max(pool->hits.size(), pool->misses.size());
  for (size_t i = 0; i < n; ++i) {
    if (!pool->hits.empty()) {
      queries.push_back(
          {std::string(pool->hits[i % pool->hits.size()].view()), wire::CheckStatus::kListed});
    }
    if (!pool->misses.empty()) {
      queries.push_back({std::string(pool->misses[i % pool->misses.size()].view()),
                         wire::CheckStatus::kUnlisted});
    }
  }
  if (queries.empty()) *error = "no listed ID in " + o.data;
  return queries;
}

int Run(const Options& o) {
  std::string error;
  std::vector<Query> queries = Queries(o, &error);
  if (queries.empty()) return Usage(error);
  const size_t judged = o.data.empty() ? 0 : queries.size();
  absl::StatusOr<std::unique_ptr<Client>> client = Connect(o);
  if (!client.ok()) {
    std::fprintf(stderr, "connect %s: %s\n", o.server.c_str(),
                 std::string(client.status().message()).c_str());
    return 1;
  }
  Prober prober(*std::move(client), std::move(queries));
  Sample s;
  for (uint64_t i = 0; i < o.warmup; ++i) prober.Probe(&s);
  if (o.warmup > 0 && prober.failures() == o.warmup) {
    std::fprintf(stderr, "every warm-up request failed (%s); nothing timed\n",
                 prober.first_failure().c_str());
    return 1;
  }
  if (prober.failures() > 0) {
    std::fprintf(stderr, "%llu of %llu warm-up requests failed\n",
                 static_cast<unsigned long long>(prober.failures()),
                 static_cast<unsigned long long>(o.warmup));
  }
  std::printf(
      "server %s: single-ID CHECK, one connection, one request at a time (%s)\n", o.server.c_str(),
      judged > 0 ? absl::StrFormat("%zu IDs of %s, every answer judged", judged, o.data).c_str()
                 : "50000 IDs most likely not listed; answers not judged");
  return o.during_reload ? RunDuringReload(o, &prober) : RunSteady(o, &prober);
}

}  // namespace
}  // namespace shixin

int main(int argc, char** argv) {
  const std::vector<std::string> positional = shixin::ParseToolFlags(
      argc, argv, shixin::kUsage, absl::GetFlagReflectionHandle(FLAGS_server));
  shixin::Options options;
  std::string error;
  if (!shixin::ReadOptions(positional, &options, &error)) return shixin::Usage(error);
  return shixin::Run(options);
}
