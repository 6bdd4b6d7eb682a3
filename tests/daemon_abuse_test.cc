// End-to-end tests of shixind against hostile clients (issue 9), in short bounded versions:
// slowloris, frames that never complete, clients that pipeline and never read (and one that
// pipelines large requests correctly and must be served on), connect/close floods, and the
// connection limits (per address, and the oldest idle connection giving way).
// Each attack runs a few seconds on loopback and stops by itself.
#include <gtest/gtest.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "base/process_memory.h"
#include "base/sanitizers.h"
#include "tests/daemon_harness.h"

namespace shixin::e2e {
namespace {

// Returns the CPU time the daemon has used, in clock ticks.
int64_t CpuTicks(pid_t pid) {
  const std::vector<std::string> fields = ProcStatFields(absl::StrFormat("/proc/%d/stat", pid));
  // utime and stime are proc(5)'s fields 14 and 15.
  int64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return 0;
  }
  return utime + stime;
}

// Waits (at most `bound`) until the daemon uses less than 2 clock ticks of CPU in 200 ms.
void WaitUntilIdle(pid_t pid, absl::Duration bound) {
  const absl::Time end = absl::Now() + bound;
  int64_t before = CpuTicks(pid);
  while (absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(200));
    const int64_t now = CpuTicks(pid);
    if (now - before < 2) return;
    before = now;
  }
}

// Returns the number of file descriptors the daemon has open.
size_t OpenDescriptors(pid_t pid) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator(absl::StrFormat("/proc/%d/fd", pid), ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

// Returns whether a fresh connection is answered a PING within `bound`.
bool PingWithin(const Daemon& daemon, absl::Duration bound) {
  const absl::Time start = absl::Now();
  auto client = daemon.Connect(bound);
  if (!client.ok()) return false;
  (*client)->set_timeout(bound);
  return (*client)->Ping().ok() && absl::Now() - start <= bound;
}

// A request header announcing a CHECK payload of 100 bytes: sent a byte at a time, it is a
// frame that never completes.
std::string UnfinishedFrame() {
  return RequestFrame(wire::Opcode::kCheck, 7, std::string(100, 'x')).substr(0, 20);
}

// ---- Connection limits ----

TEST(DaemonAbuseTest, OverMaxConnectionsTheOldestIdleConnectionGivesWay) {
  std::unique_ptr<Daemon> daemon = StartOrDie(SampleDir(), {"--max-connections", "4"});
  ASSERT_NE(daemon, nullptr);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 4; ++i) {
    auto client = daemon->Connect();
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_TRUE((*client)->Ping().ok()) << "connection " << i + 1;
    clients.push_back(*std::move(client));
    absl::SleepFor(absl::Milliseconds(20));  // distinct ages
  }
  // A connection may be displaced once its last request is kMinIdleToEvict (200 ms) old.
  absl::SleepFor(absl::Milliseconds(300));
  auto fifth = daemon->Connect();
  ASSERT_TRUE(fifth.ok()) << fifth.status();
  EXPECT_TRUE((*fifth)->Ping().ok());
  // The first (oldest idle) connection was closed to admit it; the others still answer.
  EXPECT_FALSE(clients[0]->Ping().ok());
  for (size_t i = 1; i < clients.size(); ++i) EXPECT_TRUE(clients[i]->Ping().ok()) << i;
}

// The idle connection to displace may sit on another I/O thread than the one that accepted the
// new client (x22 #13): with two threads the connections alternate between them, so the second
// client (thread 2) displaces the first (thread 1). It was refused "none idle".
TEST(DaemonAbuseTest, OverMaxConnectionsAnIdleConnectionOfAnotherThreadGivesWay) {
  std::unique_ptr<Daemon> daemon =
      StartOrDie(SampleDir(), {"--max-connections", "1", "--threads", "2"});
  ASSERT_NE(daemon, nullptr);
  auto first = daemon->Connect();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE((*first)->Ping().ok());
  absl::SleepFor(absl::Milliseconds(300));  // idle past kMinIdleToEvict (200 ms)
  auto second = daemon->Connect();
  ASSERT_TRUE(second.ok()) << second.status() << daemon->stderr_text();
  EXPECT_TRUE((*second)->Ping().ok());
  EXPECT_FALSE((*first)->Ping().ok()) << "the idle one was closed to admit the new one";
  EXPECT_FALSE(absl::StrContains(daemon->stderr_text(), "none idle")) << daemon->stderr_text();
}

// At the open-file limit (a hard RLIMIT_NOFILE below max_connections: accept fails with
// EMFILE) a new client takes an idle connection's place, as over max_connections (x27 #13: it
// waited in the backlog unanswered while idle connections held every descriptor).
TEST(DaemonAbuseTest, AtTheOpenFileLimitAnIdleConnectionGivesWay) {
  DaemonOptions options;
  options.data_dir = SampleDir();
  options.wrapper = {"/usr/bin/prlimit", "--nofile=128:128"};
  options.flags = {"--threads", "2"};
  absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Start(options);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  // More clients than descriptors: each is answered, in an idle one's place past the limit.
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 160; ++i) {
    auto client = (*daemon)->Connect(absl::Seconds(10));
    ASSERT_TRUE(client.ok()) << "connection " << i + 1 << ": " << client.status();
    (*client)->set_timeout(absl::Seconds(10));
    ASSERT_TRUE((*client)->Ping().ok()) << "connection " << i + 1 << (*daemon)->stderr_text();
    clients.push_back(*std::move(client));
  }
  EXPECT_TRUE(absl::StrContains((*daemon)->stderr_text(), "accept: Too many open files"))
      << (*daemon)->stderr_text();
  EXPECT_FALSE(clients.front()->Ping().ok()) << "the oldest idle one gave way";
  EXPECT_TRUE(clients.back()->Ping().ok());
}

// Pipelines CHECK batches into `socket` and never reads, until the daemon stops reading
// (a send blocks for 100 ms) or `max_frames` were sent. Returns the frames sent.
int FillUntilStalled(RawSocket* socket, const std::string& frame, int max_frames) {
  int sent = 0;
  while (sent < max_frames && socket->Send(frame, absl::Milliseconds(100)).ok()) ++sent;
  return sent;
}

// A CHECK of `n` IDs of the sample list (listed ones, so the answers carry names).
std::string BigCheckFrame(int n) {
  std::vector<std::string> ids(n, "11010519491231002X");
  return RequestFrame(wire::Opcode::kCheck, 1, CheckPayload(ids));
}

TEST(DaemonAbuseTest, OverMaxConnectionsWithNoneIdleTheNewClientIsClosedUnanswered) {
  std::unique_ptr<Daemon> daemon = StartOrDie(SampleDir(), {"--max-connections", "2"});
  ASSERT_NE(daemon, nullptr);
  // Two clients whose answers wait unwritten: neither is idle.
  std::vector<std::unique_ptr<RawSocket>> busy;
  const std::string frame = BigCheckFrame(1000);
  for (int i = 0; i < 2; ++i) {
    auto socket = RawSocket::Connect(daemon->host(), daemon->port());
    ASSERT_TRUE(socket.ok()) << socket.status();
    EXPECT_GT(FillUntilStalled(socket->get(), frame, 5000), 0);
    busy.push_back(*std::move(socket));
  }
  auto third = RawSocket::Connect(daemon->host(), daemon->port());
  ASSERT_TRUE(third.ok()) << third.status();
  const RawSocket::ReadResult r = (*third)->ReadUntilClose(absl::Seconds(5));
  EXPECT_NE(static_cast<int>(r.end), static_cast<int>(RawSocket::End::kTimeout));
  EXPECT_EQ(r.bytes, "") << "a refused client is sent nothing (FORMAT.md §1)";
  EXPECT_LT(r.elapsed, absl::Seconds(1));
}

TEST(DaemonAbuseTest, ConnectionsPerAddressAreLimitedAndOtherAddressesStillServed) {
  std::unique_ptr<Daemon> daemon =
      StartOrDie(SampleDir(), {"--max-connections-per-ip", "2", "--max-connections", "100"});
  ASSERT_NE(daemon, nullptr);
  std::vector<std::unique_ptr<RawSocket>> kept;
  for (int i = 0; i < 2; ++i) {
    auto socket = RawSocket::Connect(daemon->host(), daemon->port(), {.source = "127.0.0.1"});
    ASSERT_TRUE(socket.ok()) << socket.status();
    ASSERT_TRUE((*socket)->Send(RequestFrame(wire::Opcode::kPing, 1, "")).ok());
    EXPECT_TRUE((*socket)->ReadFrame(absl::Seconds(5)).ok()) << i;
    kept.push_back(*std::move(socket));
  }
  auto third = RawSocket::Connect(daemon->host(), daemon->port(), {.source = "127.0.0.1"});
  ASSERT_TRUE(third.ok()) << third.status();
  const RawSocket::ReadResult r = (*third)->ReadUntilClose(absl::Seconds(5));
  EXPECT_EQ(r.bytes, "");
  EXPECT_LT(r.elapsed, absl::Seconds(1));

  auto other = RawSocket::Connect(daemon->host(), daemon->port(), {.source = "127.0.0.2"});
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE((*other)->Send(RequestFrame(wire::Opcode::kPing, 2, "")).ok());
  EXPECT_TRUE((*other)->ReadFrame(absl::Seconds(5)).ok());
}

// ---- Deadlines that bytes cannot extend ----

TEST(DaemonAbuseTest, AFrameDribbledByteByByteIsCutOffAtTheFrameTimeout) {
  std::unique_ptr<Daemon> daemon =
      StartOrDie(SampleDir(), {"--frame-timeout-seconds", "2", "--idle-timeout-seconds", "60"});
  ASSERT_NE(daemon, nullptr);
  auto socket = RawSocket::Connect(daemon->host(), daemon->port());
  ASSERT_TRUE(socket.ok()) << socket.status();
  const std::string header = UnfinishedFrame();
  const absl::Time start = absl::Now();
  bool closed = false;
  // One byte every 250 ms would keep a per-byte idle timer from ever firing.
  for (size_t i = 0; i < header.size() && !closed; ++i) {
    closed = !(*socket)->Send(header.substr(i, 1)).ok();
    const RawSocket::ReadResult r = (*socket)->ReadUntilClose(absl::Milliseconds(250));
    closed = closed || r.end != RawSocket::End::kTimeout;
  }
  const absl::Duration elapsed = absl::Now() - start;
  EXPECT_TRUE(closed) << "still open after " << elapsed;
  EXPECT_GE(elapsed, absl::Milliseconds(1500));
  EXPECT_LE(elapsed, absl::Seconds(4));
}

TEST(DaemonAbuseTest, SlowlorisDoesNotLockOutOtherClients) {
  constexpr int kAttackers = 64;
  std::unique_ptr<Daemon> daemon =
      StartOrDie(SampleDir(), {"--max-connections", absl::StrCat(kAttackers),
                               "--max-connections-per-ip", "0", "--frame-timeout-seconds", "2"});
  ASSERT_NE(daemon, nullptr);
  std::atomic<bool> stop{false};
  std::thread attacker([&] {
    const std::string header = UnfinishedFrame();
    std::vector<std::unique_ptr<RawSocket>> sockets(kAttackers);
    std::vector<size_t> sent(kAttackers, 0);
    const absl::Time end = absl::Now() + absl::Seconds(8);
    while (!stop.load() && absl::Now() < end) {
      for (int i = 0; i < kAttackers; ++i) {
        if (sockets[i] == nullptr || sent[i] >= header.size() ||
            !sockets[i]->Send(header.substr(sent[i], 1), absl::Milliseconds(50)).ok()) {
          auto s = RawSocket::Connect(daemon->host(), daemon->port());  // reconnect at once
          sockets[i] = s.ok() ? *std::move(s) : nullptr;
          sent[i] = 0;
          continue;
        }
        ++sent[i];
      }
      absl::SleepFor(absl::Milliseconds(300));
    }
  });
  absl::SleepFor(absl::Milliseconds(500));  // every slot taken
  int served = 0;
  constexpr int kTries = 40;
  for (int i = 0; i < kTries; ++i) {
    if (PingWithin(*daemon, absl::Seconds(1))) ++served;
    absl::SleepFor(absl::Milliseconds(100));
  }
  stop = true;
  attacker.join();
  std::printf("slowloris, %d attackers: served %d of %d within 1 s\n", kAttackers, served, kTries);
  EXPECT_GE(served, kTries * 95 / 100) << served << " of " << kTries;
}

// ---- Memory ----

TEST(DaemonAbuseTest, ClientsThatPipelineAndNeverReadAreBoundedAndClosed) {
  ScratchDir dir;
  ASSERT_TRUE(MakeSyntheticDataDir(dir.path(), 20000).ok());
  const absl::StatusOr<IdSample> sample = SampleIdsOf(dir.path(), 1000);
  ASSERT_TRUE(sample.ok()) << sample.status();
  std::vector<std::string> ids = sample->listed_persons;
  ids.resize(1000, sample->listed_persons.front());
  const std::string frame = RequestFrame(wire::Opcode::kCheck, 1, CheckPayload(ids));

  std::unique_ptr<Daemon> daemon =
      StartOrDie(dir.path(), {"--max-buffered-bytes", absl::StrCat(32 << 20),
                              "--write-timeout-seconds", "3", "--max-connections-per-ip", "0"});
  ASSERT_NE(daemon, nullptr);
  ASSERT_TRUE(PingWithin(*daemon, absl::Seconds(5)));
  const uint64_t baseline = ResidentBytes(daemon->pid());
  const size_t baseline_fds = OpenDescriptors(daemon->pid());

  constexpr int kAbusers = 40;
  std::vector<std::unique_ptr<RawSocket>> abusers;
  for (int i = 0; i < kAbusers; ++i) {
    // A small receive window keeps the answers in the daemon rather than in the kernel.
    auto socket =
        RawSocket::Connect(daemon->host(), daemon->port(), {.source = "", .receive_buffer = 4096});
    ASSERT_TRUE(socket.ok()) << socket.status();
    FillUntilStalled(socket->get(), frame, 160);  // more than max_in_flight (128)
    abusers.push_back(*std::move(socket));
  }
  // The daemon answers what the kernel's buffers had taken in (legitimate work, a few MB per
  // connection), then they stall: from then on they cost nothing.
  WaitUntilIdle(daemon->pid(), absl::Seconds(10));
  const uint64_t peak = ResidentBytes(daemon->pid());
  // A well-behaved client is still answered promptly.
  std::vector<absl::Duration> latencies;
  auto client = daemon->Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  for (int i = 0; i < 50; ++i) {
    const absl::Time start = absl::Now();
    ASSERT_TRUE((*client)->Ping().ok()) << i;
    latencies.push_back(absl::Now() - start);
    absl::SleepFor(absl::Milliseconds(10));
  }
  std::sort(latencies.begin(), latencies.end());
  // The bounds leave room for a machine shared with other tests; docs/performance.md has the
  // figures of a quiet one.
  EXPECT_LE(latencies[latencies.size() * 9 / 10],
            kSanitizedBuild ? absl::Milliseconds(500) : absl::Milliseconds(100))
      << "median " << latencies[latencies.size() / 2];
  EXPECT_LE(latencies.back(), kSanitizedBuild ? absl::Seconds(3) : absl::Seconds(1));
  std::printf("%d non-reading clients: RSS %.1f -> %.1f MiB; PING p50 %s p90 %s max %s\n", kAbusers,
              baseline / 1048576.0, peak / 1048576.0,
              absl::FormatDuration(latencies[latencies.size() / 2]).c_str(),
              absl::FormatDuration(latencies[latencies.size() * 9 / 10]).c_str(),
              absl::FormatDuration(latencies.back()).c_str());
  // Without the budget, each would hold up to 128 answers of ~30 KB (about 150 MB in all).
  // (The sanitizers' allocators keep freed memory in quarantine: RSS says nothing there.)
  if (!kSanitizedBuild) {
    EXPECT_LE(peak, baseline + (96u << 20)) << "baseline " << baseline << " peak " << peak;
  }

  // Their writes make no progress: closed after write_timeout, and the memory comes back.
  bool all_closed = false;
  for (int i = 0; i < 300 && !all_closed; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    all_closed = OpenDescriptors(daemon->pid()) <= baseline_fds + 1;  // + the client
  }
  EXPECT_TRUE(all_closed) << OpenDescriptors(daemon->pid()) << " descriptors open, baseline "
                          << baseline_fds;
  if (!kSanitizedBuild) {
    // Given back by the daemon's trim timer (each second) and the allocator's decay (~10 s).
    uint64_t after = ResidentBytes(daemon->pid());
    for (int i = 0; i < 200 && after > baseline + (16u << 20); ++i) {
      absl::SleepFor(absl::Milliseconds(100));
      after = ResidentBytes(daemon->pid());
    }
    EXPECT_LE(after, baseline + (16u << 20)) << "baseline " << baseline << " after " << after;
  }
  EXPECT_TRUE((*client)->Ping().ok());
}

TEST(DaemonAbuseTest, AClientPipeliningLargeChecksWithinTheBoundIsServedOnAndOn) {
  // FORMAT.md 3: a client that keeps at most max_in_flight requests unanswered is served
  // indefinitely. This one keeps 64 CHECKs of 999 IDs (19 KB each) outstanding, and sends one
  // for each answer it reads: the daemon's reads rarely end on a frame boundary, and the
  // answered bytes before a partial frame must not pile up until the budget stops its reads
  // (the frame deadline then blamed the client). 8 MiB of budget: that took some 200 answers.
  std::unique_ptr<Daemon> daemon =
      StartOrDie(SampleDir(), {"--max-buffered-bytes", absl::StrCat(8 << 20)});
  ASSERT_NE(daemon, nullptr);
  auto socket = RawSocket::Connect(daemon->host(), daemon->port());
  ASSERT_TRUE(socket.ok()) << socket.status();
  const std::string frame = BigCheckFrame(999);
  constexpr int kOutstanding = 64;  // under max_in_flight (128)
  const int answers = kSanitizedBuild ? 600 : 1500;
  std::string first;
  for (int i = 0; i < kOutstanding; ++i) first += frame;
  ASSERT_TRUE((*socket)->Send(first).ok());
  const absl::Time start = absl::Now();
  for (int i = 0; i < answers; ++i) {
    absl::StatusOr<Frame> answer = (*socket)->ReadFrame(absl::Seconds(5));
    ASSERT_TRUE(answer.ok()) << "answer " << i << ": " << answer.status();
    ASSERT_EQ(answer->header.status, 0) << ErrorMessage(*answer);
    ASSERT_TRUE((*socket)->Send(frame).ok()) << "after answer " << i;
  }
  const absl::Duration took = absl::Now() - start;
  std::printf("%d pipelined CHECKs of 999 IDs (%d outstanding): %s, RSS %.1f MiB\n", answers,
              kOutstanding, absl::FormatDuration(took).c_str(),
              ResidentBytes(daemon->pid()) / 1048576.0);
}

TEST(DaemonAbuseTest, AConnectCloseFloodHoldsNoDescriptorsAndLocksOutNobody) {
  constexpr int kMax = 64;
  std::unique_ptr<Daemon> daemon = StartOrDie(
      SampleDir(), {"--max-connections", absl::StrCat(kMax), "--max-connections-per-ip", "16"});
  ASSERT_NE(daemon, nullptr);
  const size_t baseline_fds = OpenDescriptors(daemon->pid());
  std::atomic<bool> stop{false};
  std::atomic<int> floods{0};
  std::vector<std::thread> flooders;
  flooders.reserve(2);
  for (int t = 0; t < 2; ++t) {
    flooders.emplace_back([&] {
      const absl::Time end = absl::Now() + absl::Seconds(6);
      for (int i = 0; i < 20000 && !stop.load() && absl::Now() < end; ++i) {
        auto s = RawSocket::Connect(daemon->host(), daemon->port(), {.source = "127.0.0.1"});
        if (s.ok()) (*s)->Close();  // FIN
        floods.fetch_add(1);
      }
    });
  }
  // Another client address is served throughout.
  size_t most_fds = 0;
  int served = 0;
  constexpr int kTries = 40;
  for (int i = 0; i < kTries; ++i) {
    most_fds = std::max(most_fds, OpenDescriptors(daemon->pid()));
    auto socket = RawSocket::Connect(daemon->host(), daemon->port(), {.source = "127.0.0.2"});
    if (socket.ok() && (*socket)->Send(RequestFrame(wire::Opcode::kPing, 1, "")).ok() &&
        (*socket)->ReadFrame(absl::Seconds(1)).ok()) {
      ++served;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  stop = true;
  for (std::thread& t : flooders) t.join();
  std::printf(
      "connect/close flood: %d connections, at most %zu descriptors (%zu at rest), "
      "served %d of %d\n",
      floods.load(), most_fds, baseline_fds, served, kTries);
  EXPECT_GT(floods.load(), 100) << "the flood did not happen";
  EXPECT_LE(most_fds, baseline_fds + kMax + 16);
  EXPECT_GE(served, kTries * 95 / 100) << served << " of " << kTries;
}

}  // namespace
}  // namespace shixin::e2e
