#include "daemon/http_connection.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "daemon/log.h"

namespace shixin {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

// The same as a binary Connection's (daemon/connection.cc).
constexpr std::chrono::seconds kLinger{1};
constexpr std::chrono::seconds kShutdownGrace{10};
constexpr size_t kCompactThreshold = 64 * 1024;
constexpr size_t kKeptCapacity = 256 * 1024;
constexpr char kIdle[] = "idle";

void Release(std::string& s) {
  s.clear();
  if (s.capacity() > kKeptCapacity) std::string().swap(s);
}

std::string_view ToStd(boost::beast::string_view s) { return {s.data(), s.size()}; }

}  // namespace

std::string SerializeReply(const HttpReply& reply, bool close) {
  const boost::beast::string_view reason = http::obsolete_reason(http::int_to_status(reply.status));
  std::string out = absl::StrFormat(
      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nCache-Control: no-store\r\n",
      reply.status, std::string(reason.data(), reason.size()), reply.content_type,
      reply.body.size());
  for (const auto& [name, value] : reply.headers) absl::StrAppend(&out, name, ": ", value, "\r\n");
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  out += reply.body;
  return out;
}

HttpConnection::HttpConnection(asio::ip::tcp::socket socket, const asio::ip::tcp::endpoint& remote,
                               const Connection::Options& options, const Shared& shared,
                               ConnectionManager* manager)
    : transport_(std::move(socket)),
      timer_(transport_.socket().get_executor()),
      options_(options),
      shared_(shared),
      manager_(manager),
      address_(remote.address()),
      peer_(EndpointText(remote)),
      last_request_(Clock::now()) {
  peer_info_ = Peer{peer_, !options.admin_loopback_only || IsLoopback(address_), address_};
  error_code ec;
  transport_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
}

HttpConnection::~HttpConnection() {
  shared_.budget->Charge(&charged_, 0);
  shared_.limits->Release(address_);
}

void HttpConnection::Start() {
  LogDebug("HTTP connection from %s", peer_);
  Advance();
}

void HttpConnection::Shutdown() {
  if (phase_ == Phase::kClosed || phase_ == Phase::kLingering) return;
  closing_by_ = Clock::now() + kShutdownGrace;
  if (phase_ == Phase::kServing) Drain(DrainReason::kShutdown);
  Advance();
}

void HttpConnection::Close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  transport_.Close();
  timer_.cancel();
  parser_.reset();
  shared_.budget->Charge(&charged_, 0);
  LogDebug("closed HTTP connection from %s", peer_);
  manager_->Remove(this);
}

bool HttpConnection::Evictable(Clock::time_point now) const {
  return phase_ == Phase::kServing && pending() == 0 && input_state_ != Input::kHeldBack &&
         !writing_busy_ && now - last_request_ >= kMinIdleToEvict;
}

void HttpConnection::Advance() {
  if (phase_ == Phase::kClosed) return;
  if (phase_ == Phase::kServing || phase_ == Phase::kDraining) {
    AnswerRequests();
    StartWrite();
    if (!reading_ && ReadWanted()) StartRead();
    // After a closing response an outstanding read goes on as the lingering one.
    if (phase_ == Phase::kDraining && pending() == 0 && !writing_busy_ &&
        input_state_ != Input::kHeldBack && (!reading_ || drain_reason_ == DrainReason::kClose)) {
      EnterLingering();
    }
  }
  shared_.budget->Charge(&charged_, buffer_bytes());
  ArmTimer();
}

void HttpConnection::AnswerRequests() {
  if (drain_reason_ == DrainReason::kClose) return;
  const size_t turn_end = input_begin_ + kInputPerTurn;
  while (input_begin_ < input_.size() && drain_reason_ != DrainReason::kClose) {
    if (input_begin_ >= turn_end || pending() >= options_.max_in_flight) {
      input_state_ = Input::kHeldBack;
      if (input_begin_ >= turn_end && !turn_posted_) {
        turn_posted_ = true;
        asio::post(transport_.socket().get_executor(), [self = shared_from_this()] {
          self->turn_posted_ = false;
          self->Advance();
        });
      }
      return;
    }
    if (!parser_) {
      parser_.emplace();
      parser_->header_limit(kHeaderLimit);
      parser_->body_limit(options_.max_payload);
      parser_->eager(true);
      request_started_ = Clock::now();
    }
    error_code ec;
    const size_t used =
        parser_->put(asio::buffer(input_.data() + input_begin_, input_.size() - input_begin_), ec);
    input_begin_ += used;
    if (ec == http::error::need_more || (!ec && used == 0 && !parser_->is_done())) break;
    if (ec) {
      AnswerBadRequest(ec);
      return;
    }
    if (parser_->is_done()) AnswerParsed();
  }
  if (drain_reason_ == DrainReason::kClose) return;
  input_state_ = parser_ ? Input::kPartial : Input::kEmpty;
  if (input_begin_ == input_.size()) {
    Release(input_);
    input_begin_ = 0;
  } else if (input_begin_ >= kCompactThreshold) {
    input_.erase(0, input_begin_);
    input_begin_ = 0;
  }
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
  const HttpReply reply = shared_.service->Serve(request);
  const bool close = !message.keep_alive() || phase_ != Phase::kServing;
  parser_.reset();
  last_request_ = Clock::now();
  Queue(reply, close);
  if (close && drain_reason_ != DrainReason::kShutdown) Drain(DrainReason::kClose);
}

void HttpConnection::AnswerBadRequest(const error_code& ec) {
  HttpReply reply;
  if (ec == http::error::header_limit) {
    reply =
        JsonError(431, "headers_too_large",
                  absl::StrFormat("the request line and headers exceed %d bytes", kHeaderLimit));
  } else if (ec == http::error::body_limit) {
    reply =
        JsonError(413, "payload_too_large",
                  absl::StrFormat("the body exceeds max_payload (%d bytes)", options_.max_payload));
  } else {
    reply = JsonError(400, "bad_request", absl::StrCat("malformed HTTP request: ", ec.message()));
  }
  LogLimited(LogKind::kBadFrame, LogLevel::kInfo, "closing HTTP connection from %s: %d %s", peer_,
             reply.status, ec.message());
  parser_.reset();
  Queue(reply, true);
  Drain(DrainReason::kClose);
}

void HttpConnection::Queue(const HttpReply& reply, bool close) {
  output_ += SerializeReply(reply, close);
  ++queued_;
}

bool HttpConnection::ReadWanted() {
  switch (phase_) {
    case Phase::kServing:
      return input_state_ != Input::kHeldBack && pending() < options_.max_in_flight &&
             !(has_pending_bytes() && shared_.budget->MustPause(buffer_bytes()));
    case Phase::kDraining:
      return drain_reason_ == DrainReason::kShutdown && transport_.ReceivedUnread();
    case Phase::kLingering:
    case Phase::kClosed:
      return false;
  }
  return false;
}

void HttpConnection::StartRead() {
  reading_ = true;
  transport_.AsyncReadSome(
      asio::buffer(read_buffer_),
      [self = shared_from_this()](const error_code& ec, size_t n) { self->OnRead(ec, n); });
}

void HttpConnection::OnRead(const error_code& ec, size_t n) {
  reading_ = false;
  if (phase_ == Phase::kClosed) return;
  if (phase_ == Phase::kLingering) {
    if (ec) {
      Close();
    } else {
      StartWaitClose();
    }
    return;
  }
  if (ec == asio::error::eof) {
    if (phase_ == Phase::kServing) Drain(DrainReason::kEndOfInput);
  } else if (ec && ec != asio::error::operation_aborted) {
    LogDebug("read from %s: %s", peer_, ec.message());
    Close();
    return;
  } else if (!ec && drain_reason_ != DrainReason::kClose) {
    input_.append(read_buffer_.data(), n);
  }
  Advance();
}

void HttpConnection::StartWrite() {
  if (writing_busy_ || output_.empty()) return;
  writing_busy_ = true;
  writing_.swap(output_);
  output_.clear();
  written_ = 0;
  writing_count_ = queued_;
  queued_ = 0;
  last_written_ = Clock::now();
  transport_.AsyncWriteSome(
      asio::buffer(writing_),
      [self = shared_from_this()](const error_code& ec, size_t n) { self->OnWrite(ec, n); });
}

void HttpConnection::OnWrite(const error_code& ec, size_t n) {
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    if (ec != asio::error::operation_aborted) LogDebug("write to %s: %s", peer_, ec.message());
    Close();
    return;
  }
  written_ += n;
  last_written_ = Clock::now();
  if (written_ < writing_.size()) {
    transport_.AsyncWriteSome(
        asio::buffer(writing_.data() + written_, writing_.size() - written_),
        [self = shared_from_this()](const error_code& e, size_t m) { self->OnWrite(e, m); });
    return;
  }
  writing_busy_ = false;
  writing_count_ = 0;
  written_ = 0;
  Release(writing_);
  Advance();
}

void HttpConnection::Drain(DrainReason reason) {
  phase_ = Phase::kDraining;
  drain_reason_ = reason;
  if (reason == DrainReason::kClose) {
    Release(input_);
    input_begin_ = 0;
    input_state_ = Input::kEmpty;
    parser_.reset();
  }
  if (reason == DrainReason::kShutdown && reading_ && !transport_.ReceivedUnread()) {
    transport_.ShutdownReceive();
  }
}

void HttpConnection::EnterLingering() {
  phase_ = Phase::kLingering;
  transport_.ShutdownSend();
  closing_by_ = std::min(closing_by_, Clock::now() + kLinger);
  Release(input_);
  Release(output_);
  parser_.reset();
  if (!reading_) StartWaitClose();
}

void HttpConnection::StartWaitClose() {
  reading_ = true;
  transport_.AsyncWaitClose([self = shared_from_this()](const error_code&) {
    self->reading_ = false;
    self->Close();
  });
}

HttpConnection::Clock::time_point HttpConnection::NextDeadline(const char** what) const {
  Clock::time_point next = Clock::time_point::max();
  const auto consider = [&](Clock::time_point when, const char* why) {
    if (when < next) {
      next = when;
      *what = why;
    }
  };
  consider(closing_by_, "shutdown grace period over");
  if (phase_ == Phase::kLingering) return next;
  if (input_state_ == Input::kPartial) {
    consider(request_started_ + options_.frame_timeout,
             "an HTTP request not complete within frame_timeout");
  }
  if (writing_busy_) {
    consider(last_written_ + options_.write_timeout, "no write progress within write_timeout");
  }
  if (phase_ == Phase::kServing && options_.idle_timeout.count() > 0 && pending() == 0 &&
      input_state_ == Input::kEmpty) {
    consider(last_request_ + options_.idle_timeout, kIdle);
  }
  return next;
}

void HttpConnection::ArmTimer() {
  const char* what = nullptr;
  const Clock::time_point next = NextDeadline(&what);
  if (next >= timer_at_) return;
  timer_at_ = next;
  timer_.expires_at(next);
  timer_.async_wait([self = shared_from_this()](const error_code& ec) { self->OnTimer(ec); });
}

void HttpConnection::OnTimer(const error_code& ec) {
  if (ec == asio::error::operation_aborted || phase_ == Phase::kClosed) return;
  timer_at_ = Clock::time_point::max();
  const char* what = "";
  if (Clock::now() >= NextDeadline(&what)) {
    if (what == kIdle) {
      LogDebug("closing idle HTTP connection from %s", peer_);
    } else if (phase_ != Phase::kLingering) {
      LogLimited(LogKind::kDeadline, LogLevel::kInfo, "closing HTTP connection from %s: %s", peer_,
                 what);
    }
    Close();
    return;
  }
  ArmTimer();
}

}  // namespace shixin
