#include "daemon/http_connection.h"

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "daemon/log.h"

namespace shixin {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

constexpr std::string_view kConnectionClose = "Connection: close\r\n";
constexpr std::string_view kConnectionKeepAlive = "Connection: keep-alive\r\n";

// Returns the Connection header line of `connection` ("" for kNone).
std::string_view ConnectionLineOf(ConnectionHeader connection) {
  switch (connection) {
    case ConnectionHeader::kNone:
      return "";
    case ConnectionHeader::kClose:
      return kConnectionClose;
    case ConnectionHeader::kKeepAlive:
      return kConnectionKeepAlive;
  }
  return "";
}

std::string_view ToStd(boost::beast::string_view s) { return {s.data(), s.size()}; }

// Returns the refusal of an HTTP/1.1 request without a Host field, and of any request with
// two or one whose value is no uri-host[:port] (RFC 9112 3.2: a proxy routes on it), or
// nullopt. An empty Host is valid (a target without authority).
std::optional<HttpReply> HostRefusal(const http::request<http::string_body>& message) {
  const size_t hosts = message.count(http::field::host);
  if (hosts == 0 && message.version() >= 11) {
    return HttpRefusal(400, "bad_request", "an HTTP/1.1 request must name its Host");
  }
  if (hosts > 1) return HttpRefusal(400, "bad_request", "the request names Host twice");
  for (const char c : ToStd(message[http::field::host])) {
    // unreserved, sub-delims, '%' (pct-encoded), ':' (port, IPv6) and '[' ']' (IP-literal)
    if (absl::ascii_isalnum(c) ||
        std::string_view("-._~!$&'()*+,;=%:[]").find(c) != std::string_view::npos) {
      continue;
    }
    return HttpRefusal(400, "bad_request", "the Host field is not a host[:port]");
  }
  return std::nullopt;
}

// Returns the refusal of a request whose header `message` frames or names it ambiguously, or
// nullopt. A gateway in front that read the header differently would smuggle or misattribute
// requests: a Transfer-Encoding other than chunked (Beast reads "gzip" as no body, and the body
// as the next request), or a field given twice that the daemon reads once.
std::optional<HttpReply> HeaderRefusal(const http::request<http::string_body>& message) {
  const size_t encodings = message.count(http::field::transfer_encoding);
  if (encodings > 0) {
    const boost::beast::string_view coding = message[http::field::transfer_encoding];
    if (encodings > 1 || !boost::beast::iequals(coding, "chunked")) {
      return HttpRefusal(
          400, "bad_request",
          absl::StrFormat("Transfer-Encoding \"%s\" is not supported: send a Content-Length or "
                          "Transfer-Encoding: chunked",
                          encodings > 1 ? "(twice)" : std::string(ToStd(coding.substr(0, 100)))));
    }
    if (message.version() < 11) {  // RFC 9112 6.1: its framing is faulty
      return HttpRefusal(400, "bad_request", "an HTTP/1.0 request may not be chunked");
    }
  }
  if (std::optional<HttpReply> refusal = HostRefusal(message)) return refusal;
  for (const http::field field :
       {http::field::content_length, http::field::content_type, http::field::authorization}) {
    if (message.count(field) > 1) {
      return HttpRefusal(
          400, "bad_request",
          absl::StrCat("the request names ", std::string(ToStd(http::to_string(field))), " twice"));
    }
  }
  return std::nullopt;
}

// Returns the IMF-fixdate of now ("Sun, 06 Nov 1994 08:49:37 GMT": RFC 9110 5.6.7), formatted
// once a second per thread.
std::string_view HttpDate() {
  thread_local time_t formatted = -1;
  thread_local std::array<char, 32> text{};
  const time_t now = std::time(nullptr);
  if (now != formatted) {
    static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                         "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> kMonths = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm t {};
    gmtime_r(&now, &t);
    absl::SNPrintF(text.data(), text.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                   kDays[t.tm_wday % 7], t.tm_mday, kMonths[t.tm_mon % 12], t.tm_year + 1900,
                   t.tm_hour, t.tm_min, t.tm_sec);
    formatted = now;
  }
  return {text.data(), 29};
}

// The fields a trailer section may not carry (RFC 9110 6.5.1: framing, routing,
// authentication, content format, connection control). A proxy in front authorises and routes
// on the header section and streams trailers through: an Authorization or Content-Type first
// seen in the trailer is one it never saw.
constexpr std::array<http::field, 13> kHeaderOnly = {http::field::authorization,
                                                     http::field::proxy_authorization,
                                                     http::field::content_type,
                                                     http::field::content_length,
                                                     http::field::content_encoding,
                                                     http::field::transfer_encoding,
                                                     http::field::host,
                                                     http::field::connection,
                                                     http::field::keep_alive,
                                                     http::field::expect,
                                                     http::field::te,
                                                     http::field::trailer,
                                                     http::field::upgrade};

// Returns how often `message` names each field of kHeaderOnly.
std::array<uint32_t, 13> HeaderOnlyCounts(const http::request<http::string_body>& message) {
  std::array<uint32_t, 13> counts{};
  for (size_t i = 0; i < kHeaderOnly.size(); ++i) {
    counts[i] = static_cast<uint32_t>(message.count(kHeaderOnly[i]));
  }
  return counts;
}

// Returns the refusal of a chunked request whose trailer section carries a field of
// kHeaderOnly (Beast adds trailer fields to the header's container, next to a field of the same
// name: `header` holds the counts of the header section alone), or nullopt; other trailer
// fields are ignored (never read).
std::optional<HttpReply> TrailerRefusal(const http::request<http::string_body>& message,
                                        const std::array<uint32_t, 13>& header) {
  for (size_t i = 0; i < kHeaderOnly.size(); ++i) {
    if (message.count(kHeaderOnly[i]) > header[i]) {
      return HttpRefusal(400, "bad_request",
                         absl::StrCat("the trailer section may not carry ",
                                      std::string(ToStd(http::to_string(kHeaderOnly[i]))),
                                      ": send it in the header section"));
    }
  }
  return std::nullopt;
}

}  // namespace

std::string SerializeReply(const HttpReply& reply, ConnectionHeader connection, bool head_only) {
  const boost::beast::string_view reason = http::obsolete_reason(http::int_to_status(reply.status));
  std::string out = absl::StrFormat(
      "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
      "Cache-Control: no-store\r\n",
      reply.status, std::string(reason.data(), reason.size()), HttpDate(), reply.content_type,
      reply.body.size());
  for (const auto& [name, value] : reply.headers) absl::StrAppend(&out, name, ": ", value, "\r\n");
  out += ConnectionLineOf(connection);
  out += "\r\n";
  if (!head_only) out += reply.body;
  return out;
}

HttpConnection::HttpConnection(std::unique_ptr<Transport> transport,
                               const asio::ip::tcp::endpoint& remote,
                               const Connection::Options& options, const Shared& shared,
                               ConnectionManager* manager)
    : options_(options),
      shared_(shared),
      manager_(manager),
      pump_(std::move(transport), remote,
            {"HTTP connection", options.write_timeout, options.idle_timeout, shared.budget,
             shared.limits},
            this),
      peer_info_{pump_.peer(), !options.admin_loopback_only || IsLoopback(remote.address()),
                 remote.address()},
      accepted_(Clock::now()),
      last_request_(accepted_) {}

HttpConnection::~HttpConnection() = default;

void HttpConnection::Start() {
  LogDebug("HTTP connection from %s", pump_.peer());
  Advance();
}

void HttpConnection::Shutdown(Clock::time_point by) {
  if (phase_ == Phase::kClosed || phase_ == Phase::kLingering) return;
  pump_.StartGrace(by);
  drain_by_ = by;
  // Closing an idle keep-alive connection at once races the client's next request on it (a
  // pool reuses it as the FIN travels, and the request is lost): it stays open to be answered
  // with close, or closes idle at the deadline, once a balancer has moved away (/readyz).
  if (phase_ == Phase::kServing) Drain(DrainReason::kShutdown);
  Advance();
}

void HttpConnection::Close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  parser_.reset();
  pump_.Close();
  manager_->Remove(this);
}

void HttpConnection::Revalidate() {
  if (phase_ == Phase::kClosed || shared_.access == nullptr) return;
  if (!shared_.access->Refresh(&grant_, &grant_epoch_)) {
    LogInfo("closing HTTP connection from %s: its caller's credentials were revoked", pump_.peer());
    Close();
  }
}

bool HttpConnection::Evictable(Clock::time_point now) const {
  if (Unproven()) return phase_ != Phase::kClosed && now - accepted_ >= kMinIdleToEvict;
  return phase_ == Phase::kServing && pending() == 0 && input_state_ != Input::kHeldBack &&
         pump_.quiet() && now - last_request_ >= kMinIdleToEvict;
}

void HttpConnection::Advance() {
  if (phase_ == Phase::kServing || phase_ == Phase::kDraining) {
    AnswerRequests();
    // Stopping, the last answer queued before Shutdown() says close if it is not yet being
    // written and nothing more has been received (no read in flight either: it may hold a
    // request already taken from the socket). Nothing after it is processed (RFC 9112 9.6).
    if (drain_reason_ == DrainReason::kShutdown && last_queued_ && !pump_.output().empty() &&
        !parser_ && NothingMoreReceived()) {
      pump_.output().replace(last_queued_->at, last_queued_->size, kConnectionClose);
      last_queued_.reset();
      Drain(DrainReason::kClose);
    }
    pump_.StartWrite();
    if (!pump_.reading() && ReadWanted()) pump_.StartRead();
    // Stopping, it closes after the answer that says close, the end of input or the deadline.
    if (phase_ == Phase::kDraining && drain_reason_ != DrainReason::kShutdown && pending() == 0 &&
        input_state_ != Input::kHeldBack && pump_.Drained()) {
      phase_ = Phase::kLingering;
      parser_.reset();
      pump_.Linger();
    }
  }
  pump_.Settle(buffer_bytes());
}

void HttpConnection::AnswerRequests() {
  if (drain_reason_ == DrainReason::kClose) return;
  size_t turn = 0;  // the bytes parsed in this turn
  while (!pump_.input().empty() && drain_reason_ != DrainReason::kClose) {
    if (turn >= StreamPump::kInputPerTurn || pending() >= options_.max_in_flight) {
      input_state_ = Input::kHeldBack;
      if (turn >= StreamPump::kInputPerTurn) pump_.YieldTurn();
      return;
    }
    if (!parser_ && !SkipEmptyLines()) break;
    if (!parser_) {
      parser_.emplace();
      parser_->header_limit(kHeaderLimit);
      parser_->body_limit(options_.max_payload);
      // Not eager until the header is checked (CheckHeader): Beast stops after it.
      parser_->eager(false);
      request_started_ = Clock::now();
    }
    error_code ec;
    const std::string_view input = pump_.input();
    const size_t used = parser_->put(asio::buffer(input.data(), input.size()), ec);
    pump_.Consume(used);
    turn += used;
    if (ec == http::error::need_more) {
      // Beast takes in a chunk's body as it comes but holds back an unfinished chunk-size line
      // or trailer section without limit: the header's limit bounds them.
      if (parser_->is_header_done() && pump_.input().size() > kHeaderLimit) {
        Refuse(
            HttpRefusal(431, "headers_too_large",
                        absl::StrFormat("a chunk-size line or the trailer section exceeds %d bytes",
                                        kHeaderLimit)),
            "chunk header or trailer over the limit");
        return;
      }
      break;
    }
    if (!ec && used == 0 && !parser_->is_done()) break;
    if (ec) {
      AnswerBadRequest(ec);
      return;
    }
    if (parser_->is_header_done() && !parser_->eager() && !CheckHeader()) return;
    if (parser_->is_done() && CheckTrailer()) AnswerParsed();
  }
  if (drain_reason_ == DrainReason::kClose) return;
  input_state_ = parser_ ? Input::kPartial : Input::kEmpty;
  pump_.CompactInput();
}

void HttpConnection::AnswerParsed() {
  const http::request<http::string_body>& message = parser_->get();
  HttpRequest request;
  request.method = ToStd(message.method_string());
  request.target = ToStd(message.target());
  request.authorization = ToStd(message[http::field::authorization]);
  request.content_type = ToStd(message[http::field::content_type]);
  request.body = message.body();
  request.peer = &peer_info_;
  // Read before the request authenticates: a reload in between makes Revalidate() look again.
  const uint64_t epoch = shared_.access != nullptr ? shared_.access->epoch() : 0;
  const HttpReply reply = shared_.service->Serve(request);
  proven_ = proven_ || reply.caller_proven;
  if (reply.grant != nullptr) {
    grant_ = reply.grant;
    grant_epoch_ = epoch;
  }
  const bool close = !message.keep_alive() || LastBeforeClosing();
  const ConnectionHeader connection = close                    ? ConnectionHeader::kClose
                                      : message.version() < 11 ? ConnectionHeader::kKeepAlive
                                                               : ConnectionHeader::kNone;
  const bool head = message.method() == http::verb::head;
  parser_.reset();
  last_request_ = Clock::now();
  Queue(reply, connection, head);
  if (close) Drain(DrainReason::kClose);
}

bool HttpConnection::LastBeforeClosing() {
  switch (drain_reason_) {
    case DrainReason::kEndOfInput:
      return pump_.input().empty();
    case DrainReason::kShutdown:
      return NothingMoreReceived();
    case DrainReason::kNone:
    case DrainReason::kClose:
      return false;
  }
  return false;
}

bool HttpConnection::NothingMoreReceived() {
  return pump_.input().empty() && !pump_.reading() && !pump_.ReceivedUnread();
}

void HttpConnection::AnswerBadRequest(const error_code& ec) {
  HttpReply reply;
  if (ec == http::error::header_limit) {
    reply =
        HttpRefusal(431, "headers_too_large",
                    absl::StrFormat("the request line and headers exceed %d bytes", kHeaderLimit));
  } else if (ec == http::error::body_limit) {
    reply = HttpRefusal(
        413, "payload_too_large",
        absl::StrFormat("the body exceeds max_payload (%d bytes)", options_.max_payload));
  } else {
    reply = HttpRefusal(400, "bad_request", absl::StrCat("malformed HTTP request: ", ec.message()));
  }
  Refuse(reply, ec.message());
}

bool HttpConnection::CheckHeader() {
  if (std::optional<HttpReply> refusal = HeaderRefusal(parser_->get())) {
    Refuse(*refusal, "ambiguous framing or fields");
    return false;
  }
  const http::request<http::string_body>& message = parser_->get();
  const std::string_view target = ToStd(message.target());
  if (shared_.callers && !parser_->is_done() && target.starts_with("/v1/") &&
      message.count(http::field::authorization) == 0) {
    // The API's answer to a request without credentials does not depend on its body: answered
    // from the header (no 100 Continue), and the body is not read.
    HttpRequest request;
    request.method = ToStd(message.method_string());
    request.target = target;
    request.content_type = ToStd(message[http::field::content_type]);
    request.peer = &peer_info_;
    Refuse(shared_.service->Serve(request), "no Authorization; the body is not read");
    return false;
  }
  // Beast adds a chunked body's trailer fields to these (CheckTrailer).
  if (parser_->chunked()) header_only_ = HeaderOnlyCounts(parser_->get());
  parser_->eager(true);
  MaybeContinue();
  return true;
}

bool HttpConnection::SkipEmptyLines() {
  const std::string_view input = pump_.input();
  size_t skipped = 0;
  while (skipped < input.size()) {
    if (input[skipped] == '\n') {
      ++skipped;
    } else if (input.substr(skipped, 2) == "\r\n") {
      skipped += 2;
    } else {
      break;
    }
  }
  pump_.Consume(skipped);
  return !pump_.input().empty() && pump_.input() != "\r";
}

bool HttpConnection::CheckTrailer() {
  if (!parser_->chunked()) return true;
  if (std::optional<HttpReply> refusal = TrailerRefusal(parser_->get(), header_only_)) {
    Refuse(*refusal, "a trailer field the header section must carry");
    return false;
  }
  return true;
}

void HttpConnection::MaybeContinue() {
  const http::request<http::string_body>& message = parser_->get();
  if (parser_->is_done() || !pump_.input().empty() || message.version() < 11 ||
      !boost::beast::iequals(message[http::field::expect], "100-continue")) {
    return;
  }
  if (pump_.output().empty()) last_queued_.reset();  // it has gone to a write
  pump_.output() += "HTTP/1.1 100 Continue\r\n\r\n";
}

void HttpConnection::Refuse(const HttpReply& reply, std::string_view why) {
  LogLimited(LogKind::kBadFrame, LogLevel::kInfo, "closing HTTP connection from %s: %d %s",
             pump_.peer(), reply.status, std::string(why));
  parser_.reset();
  Queue(reply, ConnectionHeader::kClose);
  Drain(DrainReason::kClose);
}

void HttpConnection::Queue(const HttpReply& reply, ConnectionHeader connection, bool head_only) {
  std::string& output = pump_.output();
  const std::string bytes = SerializeReply(reply, connection, head_only);
  // The Connection line is the last of the head, before the blank line.
  const size_t line = ConnectionLineOf(connection).size();
  const size_t blank = bytes.find("\r\n\r\n") + 2;
  last_queued_ = ConnectionLine{output.size() + blank - line, line};
  output += bytes;
  pump_.CountQueued();
}

bool HttpConnection::ReadWanted() {
  switch (phase_) {
    case Phase::kServing:
      return input_state_ != Input::kHeldBack && pending() < options_.max_in_flight &&
             !pump_.MustPause(buffer_bytes());
    case Phase::kDraining:
      // Stopping, it reads as it serves: an idle connection waits for its last request.
      return drain_reason_ == DrainReason::kShutdown && input_state_ != Input::kHeldBack &&
             pending() < options_.max_in_flight && !pump_.MustPause(buffer_bytes());
    case Phase::kLingering:
    case Phase::kClosed:
      return false;
  }
  return false;
}

void HttpConnection::OnEndOfInput() {
  if (phase_ == Phase::kServing || drain_reason_ == DrainReason::kShutdown) {
    Drain(DrainReason::kEndOfInput);
  }
}

void HttpConnection::Drain(DrainReason reason) {
  phase_ = Phase::kDraining;
  drain_reason_ = reason;
  if (reason == DrainReason::kClose) {
    pump_.DiscardInput();
    input_state_ = Input::kEmpty;
    parser_.reset();
  }
}

void HttpConnection::AddDeadlines(StreamPump::Deadlines* deadlines) const {
  if (input_state_ == Input::kPartial) {
    deadlines->Add(request_started_ + options_.frame_timeout,
                   "an HTTP request not complete within frame_timeout");
  }
  const bool idle = pending() == 0 && input_state_ == Input::kEmpty;
  deadlines->AddIdle(phase_ == Phase::kServing && idle, last_request_);
  // Idle at the drain deadline: an ordinary close between requests, not logged as a cut.
  if (drain_reason_ == DrainReason::kShutdown && idle) deadlines->Add(drain_by_, StreamPump::kIdle);
}

}  // namespace shixin
