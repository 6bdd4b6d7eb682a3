#include "daemon/connection.h"

#include <algorithm>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/write.hpp>
#include <utility>

#include "absl/strings/str_format.h"
#include "daemon/connection_manager.h"
#include "daemon/log.h"

namespace shixin {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// How long a closing connection drains its input so the client reads the last response.
constexpr std::chrono::seconds kLinger{1};
// How long Shutdown() waits for the responses to be written before closing regardless.
constexpr std::chrono::seconds kShutdownGrace{10};
// How long Shutdown() lets reads that had already arrived complete before deciding.
constexpr std::chrono::milliseconds kShutdownSettle{20};
// Decoded input is dropped from the front of the buffer once this much has accumulated.
constexpr size_t kCompactThreshold = 64 * 1024;
// A write buffer larger than this is freed after use rather than kept for the next write.
constexpr size_t kKeptWriteCapacity = 1 << 20;

bool IsLoopback(const asio::ip::address& a) {
  if (a.is_loopback()) return true;
  return a.is_v6() && a.to_v6().is_v4_mapped() &&
         asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
}

}  // namespace

std::string EndpointText(const asio::ip::tcp::endpoint& endpoint) {
  const asio::ip::address a = endpoint.address();
  return a.is_v6() ? absl::StrFormat("[%s]:%d", a.to_string(), endpoint.port())
                   : absl::StrFormat("%s:%d", a.to_string(), endpoint.port());
}

Connection::Connection(asio::ip::tcp::socket socket, const Options& options, const Handler* handler,
                       Reloader* reloader, ConnectionManager* manager,
                       std::atomic<int64_t>* open_connections)
    : socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      settle_timer_(socket_.get_executor()),
      options_(options),
      handler_(handler),
      reloader_(reloader),
      manager_(manager),
      open_connections_(open_connections),
      last_activity_(Clock::now()) {
  error_code ec;
  const asio::ip::tcp::endpoint remote = socket_.remote_endpoint(ec);
  if (!ec) {
    peer_ = EndpointText(remote);
    admin_allowed_ = !options_.admin_loopback_only || IsLoopback(remote.address());
  } else {
    peer_ = "(unknown peer)";
  }
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

Connection::~Connection() { open_connections_->fetch_sub(1, std::memory_order_relaxed); }

void Connection::Start() {
  LogDebug("connection from %s", peer_);
  ArmTimer();
  MaybeRead();
}

void Connection::Reject(wire::Status status, std::string_view message) {
  handler_->AppendError(0, 0, status, message, &output_);
  ++queued_;
  fatal_ = true;
  ArmTimer();
  MaybeWrite();
}

void Connection::Shutdown() {
  if (closed_ || lingering_ || shutting_down_) return;
  no_more_requests_ = true;
  shutting_down_ = true;
  deadline_ = Clock::now() + kShutdownGrace;
  ArmTimer();
  // Bytes that reached the socket before the signal may be inside a read the reactor has
  // performed but whose handler has not run yet (a frame larger than one read, say). A short
  // wait lets the reactor run and those handlers land before deciding what is left to answer.
  settle_timer_.expires_after(kShutdownSettle);
  settle_timer_.async_wait([self = shared_from_this()](const error_code&) {
    self->shutdown_settled_ = true;
    self->MaybeRead();
    self->MaybeFinish();
  });
}

bool Connection::ReceivedUnread() {
  error_code ec;
  return socket_.available(ec) > 0 && !ec;
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  error_code ec;
  socket_.close(ec);
  timer_.cancel();
  settle_timer_.cancel();
  LogDebug("closed connection from %s", peer_);
  manager_->Remove(this);
}

void Connection::MaybeRead() {
  if (reading_ || closed_ || lingering_ || fatal_ || input_blocked_ ||
      pending() >= options_.max_in_flight) {
    return;
  }
  // After EOF nothing more comes; after Shutdown() only what has already arrived is read.
  if (no_more_requests_ && !(shutting_down_ && ReceivedUnread())) return;
  reading_ = true;
  socket_.async_read_some(
      asio::buffer(read_buffer_),
      [self = shared_from_this()](const error_code& ec, size_t n) { self->OnRead(ec, n); });
}

void Connection::OnRead(const error_code& ec, size_t n) {
  reading_ = false;
  if (closed_) return;
  if (lingering_) {
    if (ec) {
      Close();
    } else {
      DiscardInput();
    }
    return;
  }
  if (ec == asio::error::eof) {
    // The client has sent everything; answer what it sent, then close.
    no_more_requests_ = true;
    MaybeFinish();
    return;
  }
  if (ec) {
    if (ec != asio::error::operation_aborted) LogDebug("read from %s: %s", peer_, ec.message());
    Close();
    return;
  }
  last_activity_ = Clock::now();
  if (fatal_) return;  // a fatal response is queued: the rest of the input is ignored
  input_.append(read_buffer_.data(), n);
  ProcessInput();
  MaybeWrite();
  MaybeRead();
  MaybeFinish();
}

void Connection::ProcessInput() {
  input_blocked_ = false;
  const Peer peer{peer_, admin_allowed_};
  while (!fatal_ && input_begin_ < input_.size()) {
    if (pending() >= options_.max_in_flight) {
      input_blocked_ = true;
      break;
    }
    const std::string_view data = std::string_view(input_).substr(input_begin_);
    const wire::Decoded frame = wire::DecodeFrame(data, options_.max_payload);
    if (frame.result == wire::DecodeResult::kNeedMore) break;
    if (frame.result == wire::DecodeResult::kInvalid) {
      LogInfo("closing connection from %s: %s: %s", peer_, wire::StatusName(frame.error),
              frame.message);
      handler_->AppendFrameError(frame, &output_);
      ++queued_;
      fatal_ = true;
      break;
    }
    ReloadRequest reload;
    const Handler::Next next =
        handler_->Handle(frame.header, frame.payload, peer, &output_, &reload);
    input_begin_ += frame.consumed;
    if (next == Handler::Next::kReload) {
      StartReload(frame.header.request_id, std::move(reload));
      continue;
    }
    ++queued_;
    if (next == Handler::Next::kClose) {
      LogInfo("closing connection from %s after a fatal error answering %s", peer_,
              wire::OpcodeName(static_cast<wire::Opcode>(frame.header.opcode)));
      fatal_ = true;
    }
  }
  if (fatal_ || input_begin_ == input_.size()) {
    input_.clear();
    input_begin_ = 0;
  } else if (input_begin_ >= kCompactThreshold) {
    input_.erase(0, input_begin_);
    input_begin_ = 0;
  }
}

void Connection::StartReload(uint32_t request_id, ReloadRequest request) {
  ++reloads_;
  // Keeps the io_context running until the answer has been posted back.
  asio::any_io_executor work =
      asio::prefer(socket_.get_executor(), asio::execution::outstanding_work.tracked);
  const bool accepted = reloader_->Request(
      std::move(request),
      [self = shared_from_this(), work, request_id](const ReloadResult& result) {
        asio::post(work, [self, request_id, result] { self->OnReloadDone(request_id, result); });
      });
  if (!accepted) {
    --reloads_;
    // Only after Reloader::Stop(): reloads are coalesced, never refused.
    const ReloadResult stopping{absl::UnavailableError("the daemon is stopping"), 0, ""};
    handler_->AppendReloadResult(request_id, stopping, &output_);
    ++queued_;
  }
}

void Connection::OnReloadDone(uint32_t request_id, const ReloadResult& result) {
  --reloads_;
  if (closed_) return;
  handler_->AppendReloadResult(request_id, result, &output_);
  ++queued_;
  last_activity_ = Clock::now();
  ArmTimer();
  MaybeWrite();
  MaybeFinish();
}

void Connection::MaybeWrite() {
  if (writing_busy_ || closed_ || output_.empty()) return;
  writing_busy_ = true;
  writing_.swap(output_);
  output_.clear();
  writing_count_ = queued_;
  queued_ = 0;
  asio::async_write(
      socket_, asio::buffer(writing_),
      [self = shared_from_this()](const error_code& ec, size_t) { self->OnWrite(ec); });
}

void Connection::OnWrite(const error_code& ec) {
  writing_busy_ = false;
  writing_count_ = 0;
  if (closed_) return;
  if (ec) {
    if (ec != asio::error::operation_aborted) LogDebug("write to %s: %s", peer_, ec.message());
    Close();
    return;
  }
  last_activity_ = Clock::now();
  writing_.clear();
  if (writing_.capacity() > kKeptWriteCapacity) std::string().swap(writing_);
  ProcessInput();  // frames held back by the in-flight bound
  MaybeWrite();
  MaybeRead();
  MaybeFinish();
}

void Connection::MaybeFinish() {
  if (closed_ || lingering_ || (!fatal_ && !no_more_requests_)) return;
  if (pending() > 0 || input_blocked_ || writing_busy_) return;
  // Shutdown() answers the requests that reached the socket before it.
  if (shutting_down_ && !fatal_ && (!shutdown_settled_ || (reading_ && ReceivedUnread()))) {
    return;
  }
  lingering_ = true;
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  deadline_ = Clock::now() + kLinger;
  ArmTimer();
  if (!reading_) DiscardInput();
}

void Connection::DiscardInput() {
  reading_ = true;
  socket_.async_read_some(
      asio::buffer(read_buffer_),
      [self = shared_from_this()](const error_code& ec, size_t n) { self->OnRead(ec, n); });
}

void Connection::ArmTimer() {
  if (closed_) return;
  Clock::time_point when = Clock::time_point::max();
  if (lingering_ || shutting_down_) when = deadline_;
  // A RELOAD may take longer than the idle timeout: the connection waits for it.
  if (!lingering_ && reloads_ == 0 && options_.idle_timeout.count() > 0) {
    when = std::min(when, last_activity_ + options_.idle_timeout);
  }
  timer_.expires_at(when);
  timer_.async_wait([self = shared_from_this()](const error_code& ec) { self->OnTimer(ec); });
}

void Connection::OnTimer(const error_code& ec) {
  if (ec == asio::error::operation_aborted || closed_) return;
  const Clock::time_point now = Clock::now();
  if ((lingering_ || shutting_down_) && now >= deadline_) {
    if (!lingering_) LogInfo("closing connection from %s: shutdown grace period over", peer_);
    Close();
    return;
  }
  if (!lingering_ && options_.idle_timeout.count() > 0 && reloads_ == 0 &&
      now - last_activity_ >= options_.idle_timeout) {
    LogDebug("closing idle connection from %s", peer_);
    Close();
    return;
  }
  ArmTimer();
}

}  // namespace shixin
