// shixin-latency-probe: measures the round trip of single-ID CHECKs to a running shixind over
// one connection, one request at a time (no pipelining), and reports p50/p90/p99/p99.9/max.
//
//   shixin-latency-probe --server 127.0.0.1:7411 [--requests 100000] [--data DIR]
//   shixin-latency-probe --server 127.0.0.1:7411 --during-reload [--reloads 5] [--data DIR]
//
// The IDs queried: listed IDs read from DIR/debtors.ndjson (its first 64 MiB) when --data is
// given, alternating with valid resident IDs that are most likely not listed.
//
// --during-reload keeps querying while a second connection sends RELOAD --reloads times (one
// after the other, 200 ms apart), and reports the latencies seen while a reload ran (load,
// validation and swap) and in the 100 ms after each swap, apart from the rest.
//
// Exit status: 0, 1 if any request failed or answered wrongly, 2 for bad usage.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/id.h"
#include "protocol/client.h"

namespace shixin {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string server;
  std::string data;
  uint64_t requests = 100000;
  uint64_t warmup = 2000;
  bool during_reload = false;
  int reloads = 5;
};

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "shixin-latency-probe: %s\n"
               "usage: shixin-latency-probe --server HOST:PORT [--requests N] [--warmup N] "
               "[--data DIR] [--during-reload [--reloads K]]\n",
               why.c_str());
  return 2;
}

bool ParseArgs(int argc, char** argv, Options* o, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        *error = arg + " needs a value";
        return nullptr;
      }
      return argv[++i];
    };
    auto number = [&](uint64_t* out) {
      const char* v = value();
      if (v == nullptr) return false;
      char* end = nullptr;
      *out = std::strtoull(v, &end, 10);
      if (*v == '\0' || *end != '\0') {
        *error = arg + ": not a number: " + v;
        return false;
      }
      return true;
    };
    uint64_t n = 0;
    if (arg == "--server") {
      const char* v = value();
      if (v == nullptr) return false;
      o->server = v;
    } else if (arg == "--data") {
      const char* v = value();
      if (v == nullptr) return false;
      o->data = v;
    } else if (arg == "--requests") {
      if (!number(&o->requests)) return false;
    } else if (arg == "--warmup") {
      if (!number(&o->warmup)) return false;
    } else if (arg == "--reloads") {
      if (!number(&n)) return false;
      o->reloads = static_cast<int>(n);
    } else if (arg == "--during-reload") {
      o->during_reload = true;
    } else {
      *error = "unknown argument " + arg;
      return false;
    }
  }
  if (o->server.empty()) {
    *error = "--server is required";
    return false;
  }
  return true;
}

// Listed IDs ("cardNum" values) from the first 64 MiB of DIR/debtors.ndjson, every other one.
std::vector<std::string> ListedIds(const std::string& dir) {
  std::vector<std::string> ids;
  std::ifstream in(dir + "/debtors.ndjson", std::ios::binary);
  std::string text(64u << 20, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  constexpr std::string_view kKey = "\"cardNum\":\"";
  std::string last;
  for (size_t at = text.find(kKey); at != std::string::npos; at = text.find(kKey, at + 1)) {
    const size_t start = at + kKey.size();
    const size_t end = text.find('"', start);
    if (end == std::string::npos) break;
    std::string id = text.substr(start, end - start);
    if (id != last) ids.push_back(id);  // a subject's cases are consecutive
    last = std::move(id);
  }
  return ids;
}

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

// Sends one single-ID CHECK per call and times it; counts failures.
class Prober {
 public:
  Prober(std::unique_ptr<Client> client, std::vector<std::string> ids)
      : client_(std::move(client)), ids_(std::move(ids)) {}

  // Returns false on a failed request (printed once).
  bool Probe(Sample* sample) {
    const std::string& id = ids_[next_++ % ids_.size()];
    const std::vector<std::string> batch = {id};
    sample->start = Clock::now();
    auto reply = client_->Check(batch);
    sample->ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - sample->start).count();
    if (!reply.ok() || reply->value.size() != 1 ||
        reply->value[0].status == wire::CheckStatus::kInvalid) {
      if (failures_++ == 0) {
        std::fprintf(stderr, "CHECK %s failed: %s\n", id.c_str(),
                     reply.ok() ? "invalid answer" : std::string(reply.status().message()).c_str());
      }
      return false;
    }
    sample->generation = reply->generation;
    return true;
  }
  uint64_t failures() const { return failures_; }

 private:
  std::unique_ptr<Client> client_;
  std::vector<std::string> ids_;
  size_t next_ = 0;
  uint64_t failures_ = 0;
};

int Run(const Options& o) {
  std::vector<std::string> listed;
  if (!o.data.empty()) {
    listed = ListedIds(o.data);
    if (listed.empty()) return Usage("no cardNum found in " + o.data + "/debtors.ndjson");
  }
  const std::vector<std::string> others = OtherIds(std::max<size_t>(listed.size(), 50000));
  std::vector<std::string> ids;
  // Listed IDs spread over the file, alternating with unlisted ones.
  const size_t stride = listed.empty() ? 1 : 7919;
  for (size_t i = 0; i < others.size(); ++i) {
    if (!listed.empty()) ids.push_back(listed[(i * stride) % listed.size()]);
    ids.push_back(others[i]);
  }
  auto client = Client::Connect(o.server);
  if (!client.ok()) {
    std::fprintf(stderr, "connect %s: %s\n", o.server.c_str(),
                 std::string(client.status().message()).c_str());
    return 1;
  }
  Prober prober(*std::move(client), ids);
  Sample s;
  for (uint64_t i = 0; i < o.warmup; ++i) prober.Probe(&s);
  std::printf(
      "server %s: single-ID CHECK, one connection, one request at a time (%zu listed, "
      "%zu other IDs)\n",
      o.server.c_str(), listed.size(), others.size());

  if (!o.during_reload) {
    std::vector<int64_t> ns;
    ns.reserve(o.requests);
    const Clock::time_point start = Clock::now();
    for (uint64_t i = 0; i < o.requests; ++i) {
      if (prober.Probe(&s)) ns.push_back(s.ns);
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    Report("round trip", ns);
    std::printf("%.0f requests/s; %llu failures\n", static_cast<double>(o.requests) / seconds,
                static_cast<unsigned long long>(prober.failures()));
    return prober.failures() == 0 ? 0 : 1;
  }

  // --during-reload: a second connection reloads while this thread probes.
  auto admin = Client::Connect(o.server);
  if (!admin.ok()) {
    std::fprintf(stderr, "connect %s: %s\n", o.server.c_str(),
                 std::string(admin.status().message()).c_str());
    return 1;
  }
  (*admin)->set_timeout(absl::Minutes(10));
  struct Window {
    Clock::time_point begin, end;
    uint32_t generation = 0;
    bool ok = false;
  };
  std::vector<Window> windows;
  absl::Mutex mu;
  std::atomic<bool> done{false};
  int reload_failures = 0;
  std::thread reloader([&] {
    for (int k = 0; k < o.reloads; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      Window w;
      w.begin = Clock::now();
      auto reply = (*admin)->Reload();
      w.end = Clock::now();
      w.ok = reply.ok();
      if (reply.ok()) {
        w.generation = reply->value.generation;
      } else {
        ++reload_failures;
        std::fprintf(stderr, "RELOAD failed: %s\n", std::string(reply.status().message()).c_str());
      }
      absl::MutexLock lock(&mu);
      windows.push_back(w);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    done = true;
  });
  std::vector<Sample> samples;
  samples.reserve(1 << 20);
  while (!done.load()) {
    if (prober.Probe(&s)) samples.push_back(s);
  }
  reloader.join();

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
  std::printf(
      "generations %u -> %u; %d answers from an older generation after a newer one; "
      "%llu failed queries; %d failed reloads\n",
      first_generation, last_generation, backwards,
      static_cast<unsigned long long>(prober.failures()), reload_failures);
  return prober.failures() == 0 && reload_failures == 0 && backwards == 0 ? 0 : 1;
}

}  // namespace
}  // namespace shixin

int main(int argc, char** argv) {
  shixin::Options options;
  std::string error;
  if (!shixin::ParseArgs(argc, argv, &options, &error)) return shixin::Usage(error);
  return shixin::Run(options);
}
