// shixin-tls-bench: compares shixind over TLS with plain TCP, side by side: pipelined
// single-ID CHECK throughput and p99 latency at a given depth (the client keeps `depth`
// requests outstanding, replacing the responses each read brings in one write), the time of a
// connect (TCP, and the TLS handshake) and connections per second. Not a test.
//
//   shixin-tls-bench --make-certs DIR     writes ca.pem, server.pem, server.key (127.0.0.1)
//   shixin-tls-bench --plain 127.0.0.1:P --tls 127.0.0.1:Q --ca DIR/ca.pem [--seconds 3]
//                    [--connections 2] [--depths 1,16] [--connects 300] [--batched=false]
//
// Exit status: 0, 1 if a request failed, 2 for bad usage.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "loadtest/tool_flags.h"
#include "protocol/client.h"
#include "tests/tls_certs.h"

ABSL_FLAG(std::string, make_certs, "", "write a test CA and server certificate into DIR");
ABSL_FLAG(std::string, plain, "", "the plain listener, HOST:PORT");
ABSL_FLAG(std::string, tls, "", "the TLS listener, HOST:PORT");
ABSL_FLAG(std::string, ca, "", "the CA of the server's certificate (PEM)");
ABSL_FLAG(double, seconds, 3, "seconds per throughput run");
ABSL_FLAG(int, connections, 2, "connections per throughput run");
ABSL_FLAG(std::string, depths, "1,16", "pipeline depths");
ABSL_FLAG(bool, batched, true,
          "send the requests that replace a read's responses in one write (false: one write, "
          "over TLS one record, per request)");
ABSL_FLAG(int, connects, 300, "connections opened one after the other for the handshake");

namespace shixin {
namespace {

using Clock = std::chrono::steady_clock;
constexpr char kListed[] = "11010519491231002X";

struct Result {
  double per_second = 0;
  double p50_us = 0;
  double p99_us = 0;
};

double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

absl::StatusOr<std::unique_ptr<Client>> Open(const std::string& address, bool tls) {
  TlsOptions options;
  options.enabled = tls;
  options.ca_file = absl::GetFlag(FLAGS_ca);
  return Client::Connect(address, options);
}

// Pipelined CHECKs of one listed ID at `depth` over `connections` connections.
absl::StatusOr<Result> Throughput(const std::string& address, bool tls, int depth) {
  const int connections = absl::GetFlag(FLAGS_connections);
  const bool batched = absl::GetFlag(FLAGS_batched);
  const auto duration = std::chrono::duration<double>(absl::GetFlag(FLAGS_seconds));
  std::vector<std::vector<double>> latencies(connections);
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  threads.reserve(connections);
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      auto client = Open(address, tls);
      if (!client.ok() || !(*client)->Hello("tls-bench").ok()) {
        failed = true;
        return;
      }
      std::string payload;
      wire::Encode(wire::CheckRequest{{kListed}, wire::kAsOfNow}, &payload, (*client)->version());
      std::vector<Clock::time_point> sent(1u << 20);
      uint32_t next = 0;
      // Sends `count` requests in one write, as a pipelining client does (unless !batched).
      const auto send = [&](int count) {
        const Clock::time_point now = Clock::now();
        for (int i = 0; i < count; ++i) {
          const uint32_t id = (*client)->NextRequestId();
          sent[id % sent.size()] = now;
          ++next;
          if (!(*client)->QueueFrame(wire::Opcode::kCheck, id, payload).ok()) failed = true;
          if (!batched && !(*client)->Flush().ok()) failed = true;
        }
        if (batched && !(*client)->Flush().ok()) failed = true;
      };
      send(depth);
      const Clock::time_point end =
          Clock::now() + std::chrono::duration_cast<Clock::duration>(duration);
      while (!failed && latencies[c].size() < next) {
        // Takes every response that has arrived, then replaces them in one write.
        int answered = 0;
        do {
          auto frame = (*client)->ReceiveFrame();
          if (!frame.ok() || frame->header.status != 0) {
            failed = true;
            return;
          }
          latencies[c].push_back(std::chrono::duration<double, std::micro>(
                                     Clock::now() - sent[frame->header.request_id % sent.size()])
                                     .count());
          ++answered;
        } while ((*client)->FrameBuffered());
        if (Clock::now() < end) send(answered);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  if (failed) return absl::UnavailableError("a request failed");
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  Result r;
  r.per_second = static_cast<double>(all.size()) / duration.count();
  r.p50_us = Percentile(all, 0.50);
  r.p99_us = Percentile(all, 0.99);
  return r;
}

// Connects, sends a PING and closes, `connects` times one after the other.
absl::StatusOr<Result> Connects(const std::string& address, bool tls) {
  const int n = absl::GetFlag(FLAGS_connects);
  std::vector<double> times;
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < n; ++i) {
    const Clock::time_point t = Clock::now();
    auto client = Open(address, tls);
    if (!client.ok()) return client.status();
    if (absl::Status s = (*client)->Ping().status(); !s.ok()) return s;
    times.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
  }
  const double total = std::chrono::duration<double>(Clock::now() - start).count();
  Result r;
  r.per_second = n / total;
  r.p50_us = Percentile(times, 0.50);
  r.p99_us = Percentile(times, 0.99);
  return r;
}

int MakeCerts(const std::string& dir) {
  auto ca = tls_test::TestCa::Make("shixin bench CA");
  if (!ca.ok()) return 1;
  tls_test::CertRequest request;
  request.cn = "shixind";
  request.ips = {"127.0.0.1"};
  request.server = true;
  auto server = (*ca)->Issue(request);
  if (!server.ok()) return 1;
  if (!tls_test::WritePem(*server, dir + "/server.pem", dir + "/server.key").ok()) return 1;
  if (!tls_test::WritePem((*ca)->pem(), dir + "/ca.pem", dir + "/ca.key").ok()) return 1;
  return 0;
}

int Main() {
  if (!absl::GetFlag(FLAGS_make_certs).empty()) return MakeCerts(absl::GetFlag(FLAGS_make_certs));
  const std::string plain = absl::GetFlag(FLAGS_plain), tls = absl::GetFlag(FLAGS_tls);
  if (plain.empty() || tls.empty()) {
    std::fprintf(stderr, "shixin-tls-bench: --plain and --tls are required\n");
    return 2;
  }
  const std::vector<std::string> depths =
      absl::StrSplit(absl::GetFlag(FLAGS_depths), ',', absl::SkipEmpty());
  for (const std::string& d : depths) {
    const int depth = std::stoi(d);
    for (bool use_tls : {false, true}) {
      auto r = Throughput(use_tls ? tls : plain, use_tls, depth);
      if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
        return 1;
      }
      std::printf("%-5s depth %2d: %9.0f req/s  p50 %7.1f us  p99 %7.1f us\n",
                  use_tls ? "TLS" : "plain", depth, r->per_second, r->p50_us, r->p99_us);
    }
  }
  for (bool use_tls : {false, true}) {
    auto r = Connects(use_tls ? tls : plain, use_tls);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
    std::printf("%-5s connect+PING: %7.0f connections/s  p50 %7.1f us  p99 %7.1f us\n",
                use_tls ? "TLS" : "plain", r->per_second, r->p50_us, r->p99_us);
  }
  return 0;
}

}  // namespace
}  // namespace shixin

int main(int argc, char** argv) {
  shixin::ParseToolFlags(argc, argv,
                         "shixin-tls-bench --make-certs DIR | --plain H:P --tls H:P --ca FILE",
                         absl::GetFlagReflectionHandle(FLAGS_plain));
  return shixin::Main();
}
