#include "tests/http_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace shixin::e2e {

std::string HttpResponse::Header(std::string_view name) const {
  const std::string key = absl::StrCat("\r\n", absl::string_view(name.data(), name.size()), ": ");
  const size_t at = head.find(key);
  if (at == std::string::npos) return "";
  const size_t from = at + key.size();
  return head.substr(from, head.find("\r\n", from) - from);
}

HttpSocket::HttpSocket(uint16_t port, const std::string& source, int receive_buffer) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (receive_buffer > 0) {  // before connect(): it sets the window offered
    (void)setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
  }
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &local.sin_addr);
  (void)bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local));  // else: connect fails
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
}

HttpSocket::~HttpSocket() {
  if (fd_ >= 0) close(fd_);
}

bool HttpSocket::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::optional<HttpResponse> HttpSocket::Read(absl::Duration timeout, bool with_body) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const size_t end = buffer_.find("\r\n\r\n");
    if (end != std::string::npos) {
      HttpResponse r;
      r.head = buffer_.substr(0, end + 2);
      size_t length = 0;
      const size_t at = r.head.find("Content-Length: ");
      if (at != std::string::npos && with_body) {
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

bool HttpSocket::WaitClose(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (!Fill(deadline)) return closed_;
  }
  return false;
}

bool HttpSocket::Fill(absl::Time deadline) {
  const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
  if (ms <= 0) return false;
  pollfd p = {fd_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(ms)) <= 0) return false;
  char buf[4096];
  const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
  if (n <= 0) {
    closed_ = true;
    reset_ = n < 0 && errno == ECONNRESET;
    return false;
  }
  buffer_.append(buf, static_cast<size_t>(n));
  return true;
}

std::string HttpGet(const std::string& target, const std::string& extra) {
  return absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: test\r\n", extra, "\r\n");
}

std::string HttpPost(const std::string& target, std::string_view body,
                     const std::string& content_type, const std::string& extra) {
  return absl::StrCat("POST ", target, " HTTP/1.1\r\nHost: test\r\nContent-Type: ", content_type,
                      "\r\nContent-Length: ", body.size(), "\r\n", extra, "\r\n",
                      absl::string_view(body.data(), body.size()));
}

std::unique_ptr<Daemon> StartHttpDaemon(const std::string& data_dir,
                                        std::vector<std::string> flags) {
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

std::optional<HttpResponse> HttpRoundTrip(const Daemon& daemon, std::string_view request,
                                          absl::Duration timeout) {
  HttpSocket s(daemon.http_port());
  if (!s.connected() || !s.Send(request)) return std::nullopt;
  return s.Read(timeout);
}

double Scraped(const Daemon& daemon, std::string_view series) {
  std::optional<HttpResponse> m = HttpRoundTrip(daemon, HttpGet("/metrics"));
  EXPECT_TRUE(m.has_value());
  if (!m.has_value()) return -1;
  const absl::string_view name(series.data(), series.size());
  for (absl::string_view line : absl::StrSplit(m->body, '\n')) {
    double value = 0;
    if (absl::ConsumePrefix(&line, name) && absl::ConsumePrefix(&line, " ") &&
        absl::SimpleAtod(line, &value)) {
      return value;
    }
  }
  return -1;
}

}  // namespace shixin::e2e
