// A small HTTP/1.1 client for the end-to-end tests of shixind's HTTP listener (loopback): exact
// bytes out, whole responses (by Content-Length) in, every read bounded; plus request builders
// and a starter of a daemon with the HTTP listener on a free port.
//
// Thread safety: an HttpSocket is used by one thread at a time; the free functions are
// reentrant.
#ifndef SHIXIN_TESTS_HTTP_SOCKET_H_
#define SHIXIN_TESTS_HTTP_SOCKET_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "tests/daemon_harness.h"

namespace shixin::e2e {

// One HTTP response as received.
struct HttpResponse {
  int status = 0;
  std::string head;  // the status line and headers
  std::string body;
  // Returns the value of header `name` (as the daemon spells it), or "" if absent.
  std::string Header(std::string_view name) const;
};

// A blocking loopback HTTP client with bounded reads.
class HttpSocket {
 public:
  // Connects to 127.0.0.1:`port` from `source`, with a receive buffer of `receive_buffer`
  // bytes (0: the system's).
  explicit HttpSocket(uint16_t port, const std::string& source = "127.0.0.1",
                      int receive_buffer = 0);
  ~HttpSocket();
  HttpSocket(const HttpSocket&) = delete;
  HttpSocket& operator=(const HttpSocket&) = delete;

  bool connected() const { return connected_; }

  // Returns whether all of `bytes` were sent.
  bool Send(std::string_view bytes);
  // Reads one whole response (by its Content-Length); nullopt on close or after `timeout`.
  std::optional<HttpResponse> Read(absl::Duration timeout = absl::Seconds(5)) {
    return Read(timeout, true);
  }
  // Reads the answer to a HEAD: a head whose Content-Length has no body after it.
  std::optional<HttpResponse> ReadHead(absl::Duration timeout = absl::Seconds(5)) {
    return Read(timeout, false);
  }
  // Reads until the peer closes (true) or `timeout` passes (false); what arrived stays
  // buffered for Read().
  bool WaitClose(absl::Duration timeout);
  const std::string& buffered() const { return buffer_; }
  // Whether the peer's close was a reset (ECONNRESET), not an orderly FIN.
  bool reset() const { return reset_; }

 private:
  std::optional<HttpResponse> Read(absl::Duration timeout, bool with_body);
  // Appends what arrives before `deadline`; false on close, error or timeout.
  bool Fill(absl::Time deadline);

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  bool reset_ = false;
  std::string buffer_;
};

// Returns the bytes of a GET of `target` with `extra` header lines (each ending in "\r\n").
std::string HttpGet(const std::string& target, const std::string& extra = "");
// Returns the bytes of a POST of `body` to `target` as `content_type`, with `extra` header lines.
std::string HttpPost(const std::string& target, std::string_view body,
                     const std::string& content_type = "application/json",
                     const std::string& extra = "");

// Starts shixind on `data_dir` with `flags` and the HTTP listener on 127.0.0.1:0. Returns it, or
// fails the test (non-fatally) and returns nullptr.
std::unique_ptr<Daemon> StartHttpDaemon(const std::string& data_dir,
                                        std::vector<std::string> flags = {});

// Sends `request` on a fresh connection to `daemon`'s HTTP port and returns the response.
std::optional<HttpResponse> HttpRoundTrip(const Daemon& daemon, std::string_view request,
                                          absl::Duration timeout = absl::Seconds(5));

// Returns the value of sample `series` ("name{labels}") in `daemon`'s /metrics, or -1 if it is
// not there (a counter that never counted); fails the test if /metrics does not answer.
double Scraped(const Daemon& daemon, std::string_view series);

}  // namespace shixin::e2e

#endif  // SHIXIN_TESTS_HTTP_SOCKET_H_
