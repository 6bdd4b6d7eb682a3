// End-to-end tests of shixind's HTTP listener over loopback: the routes it serves itself, bad
// input (a malformed request, oversized headers and bodies, a slow client), keep-alive with
// pipelining, connection limits shared with the binary listener, and SIGTERM.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/daemon_harness.h"

namespace shixin::e2e {
namespace {

using ::testing::HasSubstr;

// One HTTP response as received.
struct Response {
  int status = 0;
  std::string head;  // the status line and headers
  std::string body;
};

// A blocking loopback HTTP client with bounded reads: exact bytes out, whole responses in.
class HttpSocket {
 public:
  explicit HttpSocket(uint16_t port, const std::string& source = "127.0.0.1") {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, source.c_str(), &local.sin_addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~HttpSocket() {
    if (fd_ >= 0) close(fd_);
  }
  HttpSocket(const HttpSocket&) = delete;
  HttpSocket& operator=(const HttpSocket&) = delete;

  bool connected() const { return connected_; }

  // Returns whether all of `bytes` were sent.
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one whole response (by its Content-Length); nullopt on close or after `timeout`.
  std::optional<Response> Read(absl::Duration timeout = absl::Seconds(5)) {
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {
      const size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        Response r;
        r.head = buffer_.substr(0, end + 2);
        size_t length = 0;
        const size_t at = r.head.find("Content-Length: ");
        if (at != std::string::npos) {
          const size_t eol = r.head.find("\r\n", at);
          (void)absl::SimpleAtoi(r.head.substr(at + 16, eol - at - 16), &length);
        }
        if (buffer_.size() >= end + 4 + length) {
          r.body = buffer_.substr(end + 4, length);
          (void)absl::SimpleAtoi(r.head.substr(9, 3), &r.status);
          buffer_.erase(0, end + 4 + length);
          return r;
        }
      }
      if (!Fill(deadline)) return std::nullopt;
    }
  }

  // Reads until the peer closes (true) or `timeout` passes (false); what arrived stays
  // buffered for Read().
  bool WaitClose(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (!Fill(deadline)) return closed_;
    }
    return false;
  }
  const std::string& buffered() const { return buffer_; }

 private:
  // Appends what arrives before `deadline`; false on close, error or timeout.
  bool Fill(absl::Time deadline) {
    const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (ms <= 0) return false;
    pollfd p = {fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(ms)) <= 0) return false;
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

std::string Get(const std::string& target, const std::string& extra = "") {
  return absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: test\r\n", extra, "\r\n");
}

std::unique_ptr<Daemon> StartHttp(const std::string& data_dir,
                                  std::vector<std::string> flags = {}) {
  DaemonOptions options;
  options.data_dir = data_dir;
  options.http_listen = "127.0.0.1:0";
  options.flags = std::move(flags);
  absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Start(options);
  EXPECT_TRUE(daemon.ok()) << daemon.status();
  if (!daemon.ok()) return nullptr;
  EXPECT_NE((*daemon)->http_port(), 0);
  return *std::move(daemon);
}

// Sends `request` on a fresh connection and returns the response.
std::optional<Response> RoundTrip(const Daemon& daemon, std::string_view request) {
  HttpSocket s(daemon.http_port());
  if (!s.connected() || !s.Send(request)) return std::nullopt;
  return s.Read();
}

TEST(DaemonHttpTest, HealthzAndReadyzAnswer) {
  std::unique_ptr<Daemon> daemon = StartHttp(SampleDir());
  ASSERT_NE(daemon, nullptr);
  std::optional<Response> r = RoundTrip(*daemon, Get("/healthz"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200) << r->head;
  EXPECT_EQ(r->body, "ok\n");
  EXPECT_THAT(r->head, HasSubstr("Cache-Control: no-store\r\n"));
  EXPECT_THAT(r->head, HasSubstr("Content-Type: text/plain"));
  r = RoundTrip(*daemon, Get("/readyz"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200) << r->head;
  EXPECT_EQ(r->body, "ready\n");
}

TEST(DaemonHttpTest, ReadyzOfAStaleListIsUnavailable) {
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  ASSERT_TRUE(CopyDataDir(SampleDir(), scratch.path()).ok());
  ASSERT_TRUE(SetDataDirMtime(scratch.path(), absl::Now() - absl::Hours(2)).ok());
  std::unique_ptr<Daemon> daemon = StartHttp(scratch.path(), {"--max-age-seconds", "3600"});
  ASSERT_NE(daemon, nullptr);
  std::optional<Response> r = RoundTrip(*daemon, Get("/readyz"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 503) << r->head;
  EXPECT_THAT(r->body, HasSubstr("\"code\":\"unavailable\""));
  EXPECT_THAT(r->body, HasSubstr("stale"));
  // Alive all the same.
  r = RoundTrip(*daemon, Get("/healthz"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
}

TEST(DaemonHttpTest, UnknownPathAndWrongMethod) {
  std::unique_ptr<Daemon> daemon = StartHttp(SampleDir());
  ASSERT_NE(daemon, nullptr);
  std::optional<Response> r = RoundTrip(*daemon, Get("/nowhere"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404);
  EXPECT_THAT(r->head, HasSubstr("Content-Type: application/json"));
  EXPECT_THAT(r->body, HasSubstr("\"code\":\"not_found_path\""));
  r = RoundTrip(*daemon, "DELETE /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 405);
  EXPECT_THAT(r->head, HasSubstr("Allow: GET\r\n"));
  EXPECT_THAT(r->body, HasSubstr("\"code\":\"method_not_allowed\""));
}

TEST(DaemonHttpTest, AMalformedRequestLineAnswers400AndCloses) {
  std::unique_ptr<Daemon> daemon = StartHttp(SampleDir());
  ASSERT_NE(daemon, nullptr);
  HttpSocket s(daemon->http_port());
  ASSERT_TRUE(s.connected());
  ASSERT_TRUE(s.Send("GET /healthz HTTP/9 what\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n"));
  std::optional<Response> r = s.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400) << r->head;
  EXPECT_THAT(r->head, HasSubstr("Connection: close\r\n"));
  EXPECT_THAT(r->body, HasSubstr("\"code\":\"bad_request\""));
  // The request after it is not answered: the connection closes.
  EXPECT_TRUE(s.WaitClose(absl::Seconds(5)));
  EXPECT_EQ(s.buffered(), "");
}

TEST(DaemonHttpTest, OversizedHeadersAnswer431) {
  std::unique_ptr<Daemon> daemon = StartHttp(SampleDir());
  ASSERT_NE(daemon, nullptr);
  HttpSocket s(daemon->http_port());
  ASSERT_TRUE(s.connected());
  // The daemon may close before taking all of it: what it sent first counts.
  s.Send(Get("/healthz", absl::StrCat("X-Big: ", std::string(9000, 'a'), "\r\n")));
  std::optional<Response> r = s.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 431) << r->head;
  EXPECT_THAT(r->body, HasSubstr("\"code\":\"headers_too_large\""));
  EXPECT_TRUE(s.WaitClose(absl::Seconds(5)));
}

TEST(DaemonHttpTest, AnOversizedBodyAnswers413) {
  std::unique_ptr<Daemon> daemon = StartHttp(SampleDir(), {"--max-payload", "1024"});
  ASSERT_NE(daemon, nullptr);
  HttpSocket s(daemon->http_port());
  ASSERT_TRUE(s.connected());
  // Refused by its Content-Length, before the body arrives.
  ASSERT_TRUE(s.Send("POST /v1/check HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n"));
  std::optional<Response> r = s.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413) << r->head;
  EXPECT_THAT(r->body, HasSubstr("\"code\":\"payload_too_large\""));
  EXPECT_TRUE(s.WaitClose(absl::Seconds(5)));
  // A body within the limit is read, and answered by the API: it is no JSON.
  r = RoundTrip(*daemon, absl::StrCat("POST /v1/check HTTP/1.1\r\nHost: t\r\n"
                                      "Content-Type: application/json\r\nContent-Length: "
                                      "1000\r\n\r\n",
                                      std::string(1000, '{')));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, HasSubstr("\"code\":\"bad_request\""));
}

TEST(DaemonHttpTest, ASlowClientIsClosedAtTheFrameTimeout) {
  std::unique_ptr<Daemon> daemon = StartHttp(SampleDir(), {"--frame-timeout-seconds", "1"});
  ASSERT_NE(daemon, nullptr);
  HttpSocket s(daemon->http_port());
  ASSERT_TRUE(s.connected());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(s.Send("GET /healthz HTTP/1.1\r\n"));
  // A header line every 200 ms: bytes keep coming, the request never completes.
  bool closed = false;
  for (int i = 0; i < 25 && !closed; ++i) {
    if (!s.Send("X-Drip: 1\r\n")) break;
    closed = s.WaitClose(absl::Milliseconds(200));
  }
  if (!closed) closed = s.WaitClose(absl::Seconds(2));
  const absl::Duration elapsed = absl::Now() - start;
  EXPECT_TRUE(closed);
  EXPECT_GE(elapsed, absl::Milliseconds(900));
  EXPECT_LT(elapsed, absl::Seconds(4));
  EXPECT_EQ(s.buffered(), "");  // closed unanswered
}

TEST(DaemonHttpTest, KeepAliveAnswersPipelinedRequestsInOrder) {
  std::unique_ptr<Daemon> daemon = StartHttp(SampleDir());
  ASSERT_NE(daemon, nullptr);
  HttpSocket s(daemon->http_port());
  ASSERT_TRUE(s.connected());
  ASSERT_TRUE(s.Send(Get("/healthz") + Get("/nowhere") + Get("/readyz")));
  const std::vector<std::pair<int, std::string>> expected = {
      {200, "ok\n"}, {404, "not_found_path"}, {200, "ready\n"}};
  for (const auto& [status, body] : expected) {
    std::optional<Response> r = s.Read();
    ASSERT_TRUE(r.has_value()) << body;
    EXPECT_EQ(r->status, status) << r->head;
    EXPECT_THAT(r->body, HasSubstr(body));
    EXPECT_THAT(r->head, ::testing::Not(HasSubstr("Connection: close")));
  }
  // Still open; a request asking to close is answered with Connection: close, then closes.
  ASSERT_TRUE(s.Send(Get("/healthz", "Connection: close\r\n")));
  std::optional<Response> r = s.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->head, HasSubstr("Connection: close\r\n"));
  EXPECT_TRUE(s.WaitClose(absl::Seconds(5)));
}

TEST(DaemonHttpTest, HttpAndBinaryConnectionsShareThePerAddressLimit) {
  std::unique_ptr<Daemon> daemon =
      StartHttp(SampleDir(), {"--max-connections-per-ip", "2", "--max-connections", "100"});
  ASSERT_NE(daemon, nullptr);
  auto binary = RawSocket::Connect(daemon->host(), daemon->port(), {.source = "127.0.0.1"});
  ASSERT_TRUE(binary.ok()) << binary.status();
  ASSERT_TRUE((*binary)->Send(RequestFrame(wire::Opcode::kPing, 1, "")).ok());
  ASSERT_TRUE((*binary)->ReadFrame(absl::Seconds(5)).ok());
  HttpSocket http(daemon->http_port());
  ASSERT_TRUE(http.connected());
  ASSERT_TRUE(http.Send(Get("/healthz")));
  ASSERT_TRUE(http.Read().has_value());
  // A third connection from the address, of either kind, is closed unread.
  HttpSocket third_http(daemon->http_port());
  ASSERT_TRUE(third_http.connected());
  EXPECT_TRUE(third_http.WaitClose(absl::Seconds(5)));
  EXPECT_EQ(third_http.buffered(), "");
  auto third_binary = RawSocket::Connect(daemon->host(), daemon->port(), {.source = "127.0.0.1"});
  ASSERT_TRUE(third_binary.ok());
  EXPECT_EQ((*third_binary)->ReadUntilClose(absl::Seconds(5)).bytes, "");
  // Another address is served.
  HttpSocket other(daemon->http_port(), "127.0.0.2");
  ASSERT_TRUE(other.connected());
  ASSERT_TRUE(other.Send(Get("/healthz")));
  std::optional<Response> r = other.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
}

TEST(DaemonHttpTest, SigtermAnswersWhatWasSentThenExits) {
  std::unique_ptr<Daemon> daemon = StartHttp(SampleDir());
  ASSERT_NE(daemon, nullptr);
  HttpSocket idle(daemon->http_port());
  ASSERT_TRUE(idle.connected());
  ASSERT_TRUE(idle.Send(Get("/healthz")));
  ASSERT_TRUE(idle.Read().has_value());
  HttpSocket busy(daemon->http_port());
  ASSERT_TRUE(busy.connected());
  ASSERT_TRUE(busy.Send(Get("/healthz") + Get("/readyz")));
  ASSERT_TRUE(daemon->Signal(SIGTERM).ok());
  std::optional<Response> first = busy.Read();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 200);
  std::optional<Response> second = busy.Read();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->body, "ready\n");
  EXPECT_TRUE(busy.WaitClose(absl::Seconds(5)));
  EXPECT_TRUE(idle.WaitClose(absl::Seconds(5)));
  absl::StatusOr<int> exit = daemon->WaitForExit(absl::Seconds(15));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(*exit, 0) << daemon->stderr_text();
}

}  // namespace
}  // namespace shixin::e2e
