// End-to-end tests of shixind's drain on SIGTERM over loopback (docs/shixind.md, Lifecycle;
// x28 finding 4): it stops accepting, /readyz answers 503 "stopping", every request received is
// answered in full (binary and HTTP, one begun before the signal too), an idle keep-alive HTTP
// connection (a balancer's pool) is answered with Connection: close if it sends a request, else
// closed cleanly between requests at the drain deadline, and the daemon exits within
// drain_seconds even if a client never reads.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/wire.h"
#include "tests/daemon_harness.h"
#include "tests/http_socket.h"

namespace shixin::e2e {
namespace {

using ::testing::HasSubstr;

constexpr char kListed[] = "11010519491231002X";

const std::string& CheckRequest() {
  static const std::string* const request =
      new std::string(HttpPost("/v1/check", absl::StrCat("{\"ids\":[\"", kListed, "\"]}")));
  return *request;
}

// Expects `daemon` to exit with status 0 within `bound` of `since`.
void ExpectExitWithin(Daemon* daemon, absl::Time since, absl::Duration bound) {
  absl::StatusOr<int> exit = daemon->WaitForExit(since + bound - absl::Now());
  ASSERT_TRUE(exit.ok()) << exit.status() << "\n" << daemon->stderr_text();
  EXPECT_EQ(*exit, 0) << daemon->stderr_text();
  EXPECT_LT(absl::Now() - since, bound);
}

// The pool of a balancer: keep-alive connections that have served a request. The one that sends
// a request during the drain is answered in full, with close; /readyz says "stopping"; a new
// connection is refused (the balancer retries it on another replica).
TEST(DaemonDrainTest, APooledConnectionsRequestDuringTheDrainIsAnsweredWithClose) {
  std::unique_ptr<Daemon> daemon = StartHttpDaemon(SampleDir(), {"--drain-seconds", "4"});
  ASSERT_NE(daemon, nullptr);
  HttpSocket pooled(daemon->http_port());
  HttpSocket checker(daemon->http_port());
  ASSERT_TRUE(pooled.connected() && checker.connected());
  for (HttpSocket* s : {&pooled, &checker}) {
    ASSERT_TRUE(s->Send(HttpGet("/readyz")));
    std::optional<HttpResponse> r = s->Read();
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->status, 200) << r->head;
    ASSERT_EQ(r->Header("Connection"), "");
  }
  const absl::Time stop = absl::Now();
  ASSERT_TRUE(daemon->Signal(SIGTERM).ok());
  absl::SleepFor(absl::Milliseconds(300));  // the connections sit idle meanwhile

  ASSERT_TRUE(pooled.Send(CheckRequest()));
  std::optional<HttpResponse> r = pooled.Read();
  ASSERT_TRUE(r.has_value()) << "the request on the pooled connection was lost";
  EXPECT_EQ(r->status, 200) << r->head << r->body;
  EXPECT_THAT(r->body, HasSubstr(kListed));
  EXPECT_EQ(r->Header("Connection"), "close") << r->head;
  EXPECT_TRUE(pooled.WaitClose(absl::Seconds(2)));
  EXPECT_FALSE(pooled.reset());
  EXPECT_EQ(pooled.buffered(), "");

  ASSERT_TRUE(checker.Send(HttpGet("/readyz")));
  r = checker.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 503) << r->head;
  EXPECT_THAT(r->body, HasSubstr("\"code\":\"stopping\""));
  EXPECT_EQ(r->Header("Connection"), "close") << r->head;

  HttpSocket late(daemon->http_port());
  EXPECT_FALSE(late.connected()) << "the listener still accepts";
  ExpectExitWithin(daemon.get(), stop, absl::Seconds(3));  // no connection left: at once
  EXPECT_TRUE(absl::StrContains(daemon->stderr_text(), "within 4 s (drain_seconds)"))
      << daemon->stderr_text();
}

// An idle pooled connection that sends nothing is closed between requests, with a FIN (no
// reset, no stray bytes), at the drain deadline: not at once, which would race the pool's next
// request on it; and the daemon exits then.
TEST(DaemonDrainTest, AnIdlePooledConnectionIsClosedCleanlyAtTheDrainDeadline) {
  std::unique_ptr<Daemon> daemon = StartHttpDaemon(SampleDir(), {"--drain-seconds", "2"});
  ASSERT_NE(daemon, nullptr);
  HttpSocket pooled(daemon->http_port());
  ASSERT_TRUE(pooled.connected());
  ASSERT_TRUE(pooled.Send(CheckRequest()));
  ASSERT_TRUE(pooled.Read().has_value());
  const absl::Time stop = absl::Now();
  ASSERT_TRUE(daemon->Signal(SIGTERM).ok());
  EXPECT_TRUE(pooled.WaitClose(absl::Seconds(5)));
  const absl::Duration held = absl::Now() - stop;
  EXPECT_FALSE(pooled.reset());
  EXPECT_EQ(pooled.buffered(), "");
  EXPECT_GE(held, absl::Milliseconds(1500)) << "closed under the pool at once";
  EXPECT_LT(held, absl::Seconds(4));
  ExpectExitWithin(daemon.get(), stop, absl::Seconds(4));
}

// A request in flight at SIGTERM (its header and part of its body received) is read to its end
// and answered in full, never cut in the middle.
TEST(DaemonDrainTest, AnHttpRequestBegunBeforeSigtermIsAnsweredInFull) {
  std::unique_ptr<Daemon> daemon = StartHttpDaemon(SampleDir(), {"--drain-seconds", "4"});
  ASSERT_NE(daemon, nullptr);
  HttpSocket s(daemon->http_port());
  ASSERT_TRUE(s.connected());
  const std::string& request = CheckRequest();
  const size_t split = request.size() - 8;  // inside the body
  ASSERT_TRUE(s.Send(request.substr(0, split)));
  absl::SleepFor(absl::Milliseconds(200));  // read by the daemon
  ASSERT_TRUE(daemon->Signal(SIGTERM).ok());
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_TRUE(s.Send(request.substr(split)));
  std::optional<HttpResponse> r = s.Read();
  ASSERT_TRUE(r.has_value()) << "the request begun before SIGTERM was dropped";
  EXPECT_EQ(r->status, 200) << r->head << r->body;
  EXPECT_THAT(r->body, HasSubstr(kListed));
  EXPECT_EQ(r->Header("Connection"), "close") << r->head;
  EXPECT_TRUE(s.WaitClose(absl::Seconds(2)));
  absl::StatusOr<int> exit = daemon->WaitForExit(absl::Seconds(5));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(*exit, 0);
}

// The same for the binary protocol: a frame begun before SIGTERM is read to its end, answered,
// and the connection closed after it.
TEST(DaemonDrainTest, ABinaryFrameBegunBeforeSigtermIsAnswered) {
  std::unique_ptr<Daemon> daemon = StartOrDie(SampleDir(), {"--drain-seconds", "4"});
  ASSERT_NE(daemon, nullptr);
  auto raw = RawSocket::Connect(daemon->host(), daemon->port());
  ASSERT_TRUE(raw.ok()) << raw.status();
  ASSERT_TRUE((*raw)->Send(RequestFrame(wire::Opcode::kPing, 1, "")).ok());
  ASSERT_TRUE((*raw)->ReadFrame(absl::Seconds(5)).ok());
  const std::string check = RequestFrame(wire::Opcode::kCheck, 2, CheckPayload({kListed}));
  const size_t split = check.size() - 4;
  ASSERT_TRUE((*raw)->Send(check.substr(0, split)).ok());
  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_TRUE(daemon->Signal(SIGTERM).ok());
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_TRUE((*raw)->Send(check.substr(split)).ok());
  const RawSocket::ReadResult r = (*raw)->ReadUntilClose(absl::Seconds(5));
  EXPECT_EQ(static_cast<int>(r.end), static_cast<int>(RawSocket::End::kEof));
  std::string rest;
  absl::StatusOr<std::vector<Frame>> frames = SplitFrames(r.bytes, &rest);
  ASSERT_TRUE(frames.ok()) << frames.status();
  ASSERT_EQ(frames->size(), 1u) << "the frame begun before SIGTERM was dropped";
  EXPECT_EQ((*frames)[0].header.request_id, 2u);
  EXPECT_EQ((*frames)[0].header.status, 0) << ErrorMessage((*frames)[0]);
  EXPECT_EQ(rest, "");
  absl::StatusOr<int> exit = daemon->WaitForExit(absl::Seconds(5));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(*exit, 0);
}

// Clients that never read (an HTTP pipeliner and a binary one, their answers stalled) do not
// hold the stop beyond drain_seconds.
TEST(DaemonDrainTest, TheDaemonExitsWithinDrainSecondsThoughClientsNeverRead) {
  std::unique_ptr<Daemon> daemon = StartHttpDaemon(SampleDir(), {"--drain-seconds", "2"});
  ASSERT_NE(daemon, nullptr);
  std::string ids;
  for (int i = 0; i < 1000; ++i) absl::StrAppend(&ids, i == 0 ? "" : ",", "\"", kListed, "\"");
  const std::string check = HttpPost("/v1/check", absl::StrCat("{\"ids\":[", ids, "]}"));
  HttpSocket http(daemon->http_port(), "127.0.0.1", 4096);
  ASSERT_TRUE(http.connected());
  std::string batch;
  for (int i = 0; i < 100; ++i) batch += check;
  ASSERT_TRUE(http.Send(batch));
  auto binary =
      RawSocket::Connect(daemon->host(), daemon->port(), {.source = "", .receive_buffer = 4096});
  ASSERT_TRUE(binary.ok()) << binary.status();
  const std::string frame =
      RequestFrame(wire::Opcode::kCheck, 1, CheckPayload(std::vector<std::string>(1000, kListed)));
  std::string frames;
  for (int i = 0; i < 100; ++i) frames += frame;
  ASSERT_TRUE((*binary)->Send(frames).ok());
  absl::SleepFor(absl::Milliseconds(500));  // answered, their writes stalled
  const absl::Time stop = absl::Now();
  ASSERT_TRUE(daemon->Signal(SIGTERM).ok());
  ExpectExitWithin(daemon.get(), stop, absl::Seconds(4));
}

// The finding's load: keep-alive clients posting back to back when SIGTERM comes. A request
// sent on a connection that has already been answered is never lost: it is answered, in full
// (the last with close), or refused before it is sent (a new connection after the listener
// closed), which a balancer retries elsewhere.
TEST(DaemonDrainTest, KeepAliveClientsUnderLoadLoseNoRequest) {
  std::unique_ptr<Daemon> daemon = StartHttpDaemon(SampleDir(), {"--drain-seconds", "3"});
  ASSERT_NE(daemon, nullptr);
  const uint16_t port = daemon->http_port();
  constexpr int kThreads = 4;
  std::atomic<int> answered{0};
  std::atomic<int> lost{0};
  std::atomic<int> refused{0};
  std::atomic<bool> stopped{false};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto s = std::make_unique<HttpSocket>(port);
      bool pooled = false;  // it has answered a request: the pool reuses it
      const absl::Time give_up = absl::Now() + absl::Seconds(15);
      while (absl::Now() < give_up) {
        if (!s->connected()) {
          if (stopped.load()) {
            refused.fetch_add(1);
            return;
          }
          s = std::make_unique<HttpSocket>(port);
          continue;
        }
        std::optional<HttpResponse> r;
        if (s->Send(CheckRequest())) r = s->Read();
        if (!r.has_value() || r->status != 200) {
          // A fresh connection may be reset in the listen backlog at the stop: a balancer sees
          // a failed connection and retries it. A pooled one must not lose a request.
          if (pooled) lost.fetch_add(1);
          if (stopped.load()) return;
          s = std::make_unique<HttpSocket>(port);
          pooled = false;
          continue;
        }
        answered.fetch_add(1);
        pooled = true;
        if (r->Header("Connection") == "close") {
          s->WaitClose(absl::Seconds(5));
          s = std::make_unique<HttpSocket>(port);
          pooled = false;
        }
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(700));
  stopped.store(true);
  ASSERT_TRUE(daemon->Signal(SIGTERM).ok());
  for (std::thread& t : threads) t.join();
  std::printf("answered %d, lost %d, refused after the stop %d\n", answered.load(), lost.load(),
              refused.load());
  EXPECT_GT(answered.load(), 0);
  EXPECT_EQ(lost.load(), 0);
  absl::StatusOr<int> exit = daemon->WaitForExit(absl::Seconds(5));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(*exit, 0);
}

}  // namespace
}  // namespace shixin::e2e
