// End-to-end test of the client's "no going back" (docs/replicas.md) across two replicas in the
// middle of a nightly compaction's rolling refresh (docs/feed.md, section 6): one replica on the
// compacted base, the other on the old base with the deltas. A loopback relay stands for the
// load balancer: it sends each connection to one replica and cuts them all when it moves to the
// other, as HAProxy does when a replica leaves its pool.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/socket.h"
#include "core/delta.h"
#include "core/paths.h"
#include "core/test_util.h"
#include "core/validity.h"
#include "tests/daemon_harness.h"

namespace shixin::e2e {
namespace {

// In the sample, 高丽 is listed with one case; kNew is not in the sample.
constexpr char kOneCase[] = "230407199103150045";
constexpr char kNew[] = "230402198001011232";
const std::string kRemove =
    R"({"op":"remove","caseCode":"（2017）黑04执31号","cardNum":"230407199103150045",)"
    R"("reason":"performed","at":"2026-06-09T15:30:00+08:00"})"
    "\n";

// A loopback TCP relay: each accepted connection is relayed to 127.0.0.1:target; Switch()
// moves the target and cuts every relayed connection.
class Relay {
 public:
  Relay() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~Relay() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    for (std::thread& t : pipes_) t.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // 0 if the relay could not listen.
  uint16_t port() const { return port_; }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

  // Relays later connections to `target` and cuts the current ones.
  void Switch(uint16_t target) {
    target_ = target;
    const std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  void Accept() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      absl::StatusOr<int> upstream =
          ConnectTcp(absl::StrCat("127.0.0.1:", target_.load()), absl::Now() + absl::Seconds(5));
      if (!upstream.ok()) {
        ::close(client);
        continue;
      }
      {
        const std::lock_guard<std::mutex> lock(mu_);
        open_.push_back(client);
        open_.push_back(*upstream);
      }
      pipes_.emplace_back([this, client, fd = *upstream] { Pipe(client, fd); });
    }
  }

  // Copies bytes both ways until either side ends (or the relay stops), then closes both.
  void Pipe(int a, int b) {
    char buffer[65536];
    bool open = true;
    while (open && !stop_) {
      pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
      if (::poll(p, 2, 20) <= 0) continue;
      for (int i = 0; i < 2 && open; ++i) {
        if (p[i].revents == 0) continue;
        const ssize_t n = ::read(p[i].fd, buffer, sizeof(buffer));
        open = n > 0 && WriteAll(p[1 - i].fd, buffer, static_cast<size_t>(n));
      }
    }
    const std::lock_guard<std::mutex> lock(mu_);
    std::erase_if(open_, [a, b](int fd) { return fd == a || fd == b; });
    ::close(a);
    ::close(b);
  }

  static bool WriteAll(int fd, const char* data, size_t size) {
    while (size > 0) {
      const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
      if (n <= 0) return false;
      data += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<uint16_t> target_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<int> open_;  // relayed sockets, both sides (guarded by mu_)
  std::thread acceptor_;
  std::vector<std::thread> pipes_;  // touched by the acceptor only, joined after it
};

class DaemonReplicasTest : public SampleListTest {
 protected:
  // Makes directory `name` in the scratch directory with delta files 1..size(texts).
  std::string Deltas(const std::string& name, const std::vector<std::string>& texts) {
    std::string dir = scratch_.Path(name);
    EXPECT_EQ(::mkdir(dir.c_str(), 0755), 0);
    for (size_t i = 0; i < texts.size(); ++i) {
      EXPECT_TRUE(WriteFileAtomically(dir + "/" + DeltaFileName(i + 1), texts[i]).ok());
    }
    return dir;
  }

  // Polls INFO (of version 2 or later, which has the deltas) every 20 ms, at most 20 s, until
  // `daemon`'s list holds delta `sequence`; returns the last INFO.
  static wire::InfoResponse WaitForSequence(const Daemon& daemon, uint64_t sequence) {
    auto client = daemon.Connect(absl::Seconds(5), /*hello=*/true);
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return {};
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    for (;;) {
      auto info = (*client)->Info();
      EXPECT_TRUE(info.ok()) << info.status();
      if (!info.ok()) return {};
      const wire::DeltaInfo& d = info->value.deltas;
      if (std::max(d.base_sequence, d.sequence) == sequence || absl::Now() > deadline) {
        return info->value;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
};

// Finding x28/3: replica "old" serves the old base with deltas 1 and 2, replica "compacted" the
// base compacted up to delta 1, whose source time is later. A client that saw delta 2 is
// refused the compacted replica's answer (before: accepted, its source time being newer); once
// delta 2 reaches the compacted replica too, the two serve the same list and neither is refused
// (before: the old base's answer was, its source time being older).
TEST_F(DaemonReplicasTest, NoGoingBackOrdersListsByDeltaAcrossACompaction) {
  const std::string add = shixin::testing::AddCaseLine(kNew, "2099-05-31");
  ASSERT_TRUE(SetDataDirMtime(dir_, absl::Now() - absl::Hours(2)).ok());
  const std::string old_deltas = Deltas("old-deltas", {add, kRemove});
  const std::string compacted_deltas = Deltas("compacted-deltas", {add});
  const std::string snap = scratch_.Path("compacted.snap");
  ProcessResult r = RunProcess(
      {BinDir() + "/shixin", "compile", "--data", dir_, "--deltas", compacted_deltas, "-o", snap});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  std::unique_ptr<Daemon> old = StartOrDie(dir_, {"--deltas-dir", old_deltas});
  std::unique_ptr<Daemon> compacted =
      StartOrDie(dir_, {"--data=", "--snapshot", snap, "--deltas-dir", compacted_deltas});
  ASSERT_NE(old, nullptr);
  ASSERT_NE(compacted, nullptr);
  const wire::InfoResponse old_info = WaitForSequence(*old, 2);
  const wire::InfoResponse compacted_info = WaitForSequence(*compacted, 1);
  ASSERT_EQ(compacted_info.deltas.base_sequence, 1u);
  // The case of the finding: compaction moved the base's source time forward.
  ASSERT_GT(compacted_info.snapshot.source_time, old_info.snapshot.source_time);

  Relay relay;
  ASSERT_NE(relay.port(), 0);
  relay.Switch(old->port());
  auto client = Client::Connect(relay.address());
  ASSERT_TRUE(client.ok()) << client.status();
  (*client)->set_options(ClientOptions{.no_going_back = true});
  ASSERT_TRUE((*client)->Hello("replicas-test").ok());
  auto check = (*client)->Check({kOneCase});
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->value[0].status, wire::CheckStatus::kUnlisted);  // delta 2 removed it

  relay.Switch(compacted->port());  // the old replica leaves the pool
  check = (*client)->Check({kOneCase});
  EXPECT_TRUE(absl::IsFailedPrecondition(check.status())) << check.status();
  const std::string want =
      absl::StrCat("no going back: CHECK answered from an older list (delta 1, source time ",
                   FormatInstant(compacted_info.snapshot.source_time),
                   ") than one already seen (delta 2, source time ",
                   FormatInstant(old_info.snapshot.source_time), ")");
  EXPECT_EQ(check.status().message(), want);

  // Delta 2 reaches the compacted replica: the same list as the old one's.
  ASSERT_TRUE(WriteFileAtomically(compacted_deltas + "/" + DeltaFileName(2), kRemove).ok());
  WaitForSequence(*compacted, 2);
  check = (*client)->Check({kOneCase});
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->value[0].status, wire::CheckStatus::kUnlisted);
  relay.Switch(old->port());  // and back: an equal position is not refused
  check = (*client)->Check({kOneCase});
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->value[0].status, wire::CheckStatus::kUnlisted);
  EXPECT_EQ((*client)->newest_position()->sequence, 2u);
}

}  // namespace
}  // namespace shixin::e2e
