// The HTTP request and reply that the HTTP listener (daemon/http_connection.h) hands to the
// services behind it (daemon/http_service.h), and the JSON error body they answer with.
//
// Thread safety: plain values; the functions are thread-safe.
#ifndef SHIXIN_DAEMON_HTTP_MESSAGE_H_
#define SHIXIN_DAEMON_HTTP_MESSAGE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/handler.h"

namespace shixin {

// One HTTP request as the listener read it (views into the connection's buffers).
struct HttpRequest {
  std::string_view method;         // "GET", "POST", ...
  std::string_view target;         // as sent, e.g. "/v1/subjects/110105...?asOf=..."
  std::string_view authorization;  // the Authorization header's value; "" if none
  std::string_view content_type;   // "" if none
  std::string_view body;
  const Peer* peer = nullptr;  // never null when served
};

// The answer the listener writes.
struct HttpReply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra: Retry-After, ...
  bool caller_proven = false;  // callers mode: the request's credentials were accepted
  // Callers mode: the grant they got, which a reload of the callers file may revoke (the
  // connection is then closed: HttpConnection::Revalidate()).
  std::shared_ptr<const Grant> grant;
};

// Returns the JSON error body {"error":{"code":"<code>","message":"<message>"}} for `status`,
// the message escaped as TerminalSafe(message, Quoting::kKept) does (the binary protocol's error
// messages are the same text).
HttpReply JsonError(unsigned status, std::string_view code, std::string_view message);

// The codes of the requests refused before they reach an operation (which Handler::Handle
// counts in shixin_requests_total): shixin_http_refused_total{code}.
inline constexpr std::array<std::string_view, 7> kHttpRefusalCodes = {
    "bad_request",        "unsupported_media_type", "invalid_argument", "not_found_path",
    "method_not_allowed", "headers_too_large",      "payload_too_large"};

// Returns JsonError(status, code, message) and counts it (HttpRefusals), for a request refused
// before it reaches an operation: one that does not parse, an unknown path or method, a body
// that is not JSON or not the request's. Lock-free (a relaxed atomic).
HttpReply HttpRefusal(unsigned status, std::string_view code, std::string_view message);
// Returns how many refusals of kHttpRefusalCodes[index] were counted (in the process).
uint64_t HttpRefusals(size_t index);

}  // namespace shixin

#endif  // SHIXIN_DAEMON_HTTP_MESSAGE_H_
