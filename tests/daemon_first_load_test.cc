// End-to-end test of shixind while its first list loads (a minute at national scale): it answers
// as FORMAT.md 8.1 and docs/openapi.yaml say, PING and HELLO with generation 0, every other
// operation UNAVAILABLE, /healthz 200, /readyz and the JSON API 503 (x29 finding 10: it accepted
// nothing, everything hung until the load was done), and serves normally once the list is loaded.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/delta.h"
#include "protocol/client.h"
#include "protocol/wire.h"
#include "tests/daemon_harness.h"
#include "tests/http_socket.h"

namespace shixin::e2e {
namespace {

// In the sample, 高丽 is listed with one case; the delta below removes it.
constexpr char kOneCase[] = "230407199103150045";
constexpr char kRemove[] =
    R"({"op":"remove","caseCode":"（2017）黑04执31号","cardNum":"230407199103150045",)"
    R"("reason":"performed","at":"2026-06-09T15:30:00+08:00"})"
    "\n";
// How long the first load waits for the delta file written in place to settle: the window in
// which the test asks its questions (milliseconds of work, also under the sanitizers).
constexpr char kSettleMs[] = "6000";

// The port of the listener logged as "accepting on ADDR`suffix` while the list loads", or 0.
uint16_t AcceptingPort(const std::string& log, std::string_view suffix) {
  constexpr std::string_view kPrefix = "accepting on ";
  for (size_t at = log.find(kPrefix); at != std::string::npos; at = log.find(kPrefix, at + 1)) {
    const size_t start = at + kPrefix.size();
    const size_t end = log.find(absl::StrCat(std::string(suffix), " while the list loads"), start);
    const size_t line_end = log.find('\n', start);
    if (end == std::string::npos || end > line_end) continue;
    const std::string address = log.substr(start, end - start);
    if (address.find(' ') != std::string::npos) continue;  // another listener's line
    return static_cast<uint16_t>(std::atoi(address.c_str() + address.rfind(':') + 1));
  }
  return 0;
}

std::optional<HttpResponse> HttpAsk(uint16_t port, const std::string& request) {
  HttpSocket socket(port);
  if (!socket.connected() || !socket.Send(request)) return std::nullopt;
  return socket.Read();
}

// The first load is held by a delta file written in place (not renamed) just before the start:
// it waits delta_settle_ms for the file to settle (daemon/reloader.h), as it would for a feed
// still writing one, and then applies it.
class DaemonFirstLoadTest : public SampleListTest {
 protected:
  void SetUp() override {
    SampleListTest::SetUp();
    deltas_ = scratch_.Path("deltas");
    ASSERT_EQ(::mkdir(deltas_.c_str(), 0755), 0);
    std::ofstream(deltas_ + "/" + DeltaFileName(1)) << kRemove;
  }

  std::string deltas_;
};

TEST_F(DaemonFirstLoadTest, AnswersGenerationZeroAndUnavailableWhileTheListLoads) {
  DaemonOptions options;
  options.data_dir = dir_;
  options.http_listen = "127.0.0.1:0";
  options.flags = {"--deltas-dir", deltas_, "--delta-settle-ms", kSettleMs};
  options.wait_for_listening = false;
  absl::StatusOr<std::unique_ptr<Daemon>> started = Daemon::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  Daemon& daemon = **started;
  ASSERT_TRUE(daemon.WaitForStderr("(HTTP) while the list loads")) << daemon.stderr_text();
  const std::string log = daemon.stderr_text();
  const uint16_t port = AcceptingPort(log, "");
  const uint16_t http_port = AcceptingPort(log, " (HTTP)");
  ASSERT_NE(port, 0) << log;
  ASSERT_NE(http_port, 0) << log;
  const std::string address = absl::StrCat("127.0.0.1:", port);

  // The binary protocol: PING and HELLO with generation 0, the rest UNAVAILABLE.
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(address);
  ASSERT_TRUE(client.ok()) << client.status();
  auto ping = (*client)->Ping();
  ASSERT_TRUE(ping.ok()) << ping.status();
  EXPECT_EQ(ping->generation, 0u);
  auto hello = (*client)->Hello("first-load-test");
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->generation, 0u);
  auto raw = RawSocket::Connect("127.0.0.1", port);
  ASSERT_TRUE(raw.ok()) << raw.status();
  ASSERT_TRUE((*raw)->Send(RequestFrame(wire::Opcode::kCheck, 7, CheckPayload({kOneCase}))).ok());
  absl::StatusOr<Frame> check = (*raw)->ReadFrame(absl::Seconds(5));
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->header.status, static_cast<uint16_t>(wire::Status::kUnavailable));
  EXPECT_EQ(check->header.generation, 0u);
  EXPECT_TRUE(absl::StrContains(ErrorMessage(*check), "the first load is running"))
      << ErrorMessage(*check);

  // HTTP: alive, not ready, the JSON API unavailable with the documented error body.
  std::optional<HttpResponse> healthz = HttpAsk(http_port, HttpGet("/healthz"));
  ASSERT_TRUE(healthz.has_value());
  EXPECT_EQ(healthz->status, 200);
  std::optional<HttpResponse> readyz = HttpAsk(http_port, HttpGet("/readyz"));
  ASSERT_TRUE(readyz.has_value());
  EXPECT_EQ(readyz->status, 503);
  EXPECT_TRUE(absl::StrContains(readyz->body, R"("code":"unavailable")")) << readyz->body;
  EXPECT_TRUE(absl::StrContains(readyz->body, "the first load is running")) << readyz->body;
  const std::string body = absl::StrCat(R"({"ids":[")", kOneCase, R"("]})");
  std::optional<HttpResponse> api = HttpAsk(http_port, HttpPost("/v1/check", body));
  ASSERT_TRUE(api.has_value());
  EXPECT_EQ(api->status, 503);
  EXPECT_TRUE(absl::StrContains(api->body, R"("code":"unavailable")")) << api->body;
  // All of that during the load: the daemon has not said that it serves a list.
  EXPECT_FALSE(absl::StrContains(daemon.stdout_text(), "listening on"));
  EXPECT_FALSE(absl::StrContains(daemon.stderr_text(), "loaded generation"));

  // Once the list is loaded (and the delta applied): normal answers, on the same connection too.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  std::string out;
  while (!absl::StrContains(out, "http listening on") && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    out = daemon.stdout_text();
  }
  ASSERT_TRUE(absl::StrContains(out, absl::StrCat("listening on ", address))) << out;
  ping = (*client)->Ping();
  ASSERT_TRUE(ping.ok()) << ping.status();
  EXPECT_GE(ping->generation, 1u);
  auto answers = (*client)->Check({kOneCase});
  ASSERT_TRUE(answers.ok()) << answers.status();
  EXPECT_EQ(answers->value[0].status, wire::CheckStatus::kUnlisted);  // the delta applied
  readyz = HttpAsk(http_port, HttpGet("/readyz"));
  ASSERT_TRUE(readyz.has_value());
  EXPECT_EQ(readyz->status, 200) << readyz->body;
  api = HttpAsk(http_port, HttpPost("/v1/check", body));
  ASSERT_TRUE(api.has_value());
  EXPECT_EQ(api->status, 200) << api->body;
}

}  // namespace
}  // namespace shixin::e2e
