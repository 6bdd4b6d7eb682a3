#include "daemon/stream_pump.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <utility>

#include "absl/strings/str_format.h"
#include "daemon/log.h"

namespace shixin {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// Answered input is dropped from the front of the buffer once this much has accumulated.
constexpr size_t kCompactThreshold = 64 * 1024;
// A buffer larger than this is freed once empty rather than kept for the next use, so that an
// idle connection holds little.
constexpr size_t kKeptCapacity = 256 * 1024;

// Empties `s`, and gives its memory back if it has grown large.
void Release(std::string& s) {
  s.clear();
  if (s.capacity() > kKeptCapacity) std::string().swap(s);
}

}  // namespace

bool IsLoopback(const asio::ip::address& a) {
  if (a.is_loopback()) return true;
  return a.is_v6() && a.to_v6().is_v4_mapped() &&
         asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
}

std::string EndpointText(const asio::ip::tcp::endpoint& endpoint) {
  const asio::ip::address a = endpoint.address();
  return a.is_v6() ? absl::StrFormat("[%s]:%d", a.to_string(), endpoint.port())
                   : absl::StrFormat("%s:%d", a.to_string(), endpoint.port());
}

StreamPump::StreamPump(std::unique_ptr<Transport> transport, const asio::ip::tcp::endpoint& remote,
                       const Settings& settings, Owner* owner)
    : transport_(std::move(transport)),
      timer_(transport_->executor()),
      settings_(settings),
      budget_(settings.budget),
      owner_(owner),
      address_(remote.address()),
      peer_(EndpointText(remote)) {}

StreamPump::~StreamPump() {
  budget_->Charge(&charged_, 0);
  settings_.limits->Release(address_);
}

void StreamPump::CompactInput() {
  const size_t unanswered = input_.size() - input_begin_;
  if (unanswered == 0) {
    Release(input_);
    input_begin_ = 0;
  } else if (input_begin_ >= kCompactThreshold && input_begin_ >= unanswered) {
    // Moves no more bytes than were answered since the last move (copying costs at most a
    // byte per byte answered); the buffer holds at most about twice the unanswered input.
    input_.erase(0, input_begin_);
    input_begin_ = 0;
  }
}

void StreamPump::DiscardInput() {
  discarding_ = true;
  Release(input_);
  input_begin_ = 0;
}

void StreamPump::YieldTurn() {
  if (turn_posted_) return;
  turn_posted_ = true;
  asio::post(executor(), [this, self = owner_->KeepAlive()] {
    turn_posted_ = false;
    owner_->Advance();
  });
}

void StreamPump::StartRead() {
  reading_ = true;
  transport_->AsyncReadSome(
      asio::buffer(read_buffer_),
      [this, self = owner_->KeepAlive()](const error_code& ec, size_t n) { OnRead(ec, n); });
}

void StreamPump::OnRead(const error_code& ec, size_t n) {
  reading_ = false;
  if (state_ == State::kClosed) return;
  if (state_ == State::kLingering) {
    if (ec) {
      owner_->Close();
    } else {
      StartWaitClose();
    }
    return;
  }
  if (ec == asio::error::eof) {
    // The client has sent everything; the owner answers what it sent, then closes.
    owner_->OnEndOfInput();
  } else if (ec && ec != asio::error::operation_aborted) {
    LogDebug("read from %s: %s", peer_, ec.message());
    owner_->Close();
    return;
  } else if (!ec && !discarding_) {
    // The owner's turn may end inside a frame (a pipelining client's reads rarely end on a
    // frame boundary): the answered bytes before it are dropped here, before the buffer grows.
    CompactInput();
    input_.append(read_buffer_.data(), n);
    // TLS: the rest of what arrived with it, so that this turn answers it all in one write.
    while ((n = transport_->ReadBuffered(asio::buffer(read_buffer_))) > 0) {
      input_.append(read_buffer_.data(), n);
    }
  }
  owner_->Advance();
}

void StreamPump::StartWrite() {
  if (write_busy_ || output_.empty()) return;
  write_busy_ = true;
  writing_.swap(output_);
  output_.clear();
  written_ = 0;
  writing_count_ = queued_;
  queued_ = 0;
  last_written_ = Clock::now();
  transport_->AsyncWriteSome(
      asio::buffer(writing_),
      [this, self = owner_->KeepAlive()](const error_code& ec, size_t n) { OnWrite(ec, n); });
}

void StreamPump::OnWrite(const error_code& ec, size_t n) {
  if (state_ == State::kClosed) return;
  if (ec) {
    if (ec != asio::error::operation_aborted) LogDebug("write to %s: %s", peer_, ec.message());
    owner_->Close();
    return;
  }
  written_ += n;
  last_written_ = Clock::now();
  if (written_ < writing_.size()) {
    transport_->AsyncWriteSome(
        asio::buffer(writing_.data() + written_, writing_.size() - written_),
        [this, self = owner_->KeepAlive()](const error_code& e, size_t m) { OnWrite(e, m); });
    return;
  }
  write_busy_ = false;
  writing_count_ = 0;
  written_ = 0;
  Release(writing_);
  owner_->Advance();
}

void StreamPump::StopWaitingForInput() {
  if (reading_ && !transport_->ReceivedUnread()) transport_->ShutdownReceive();
}

void StreamPump::Linger() {
  state_ = State::kLingering;
  transport_->ShutdownSend();
  closing_by_ = std::min(closing_by_, Clock::now() + kLinger);
  Release(input_);
  input_begin_ = 0;
  Release(output_);
  // An outstanding read (after DiscardInput()) is waited for first: a TLS stream allows no
  // second reader.
  if (!reading_) StartWaitClose();
}

void StreamPump::StartWaitClose() {
  reading_ = true;
  transport_->AsyncWaitClose([this, self = owner_->KeepAlive()](const error_code&) {
    reading_ = false;
    if (state_ != State::kClosed) owner_->Close();
  });
}

void StreamPump::Settle(uint64_t held) {
  if (state_ == State::kClosed) return;
  budget_->Charge(&charged_, held);
  ArmTimer();
}

void StreamPump::Close() {
  state_ = State::kClosed;
  transport_->Close();
  timer_.cancel();
  budget_->Charge(&charged_, 0);
  LogDebug("closed %s from %s", settings_.kind, peer_);
}

StreamPump::Deadlines StreamPump::NextDeadline() const {
  Deadlines next(settings_.idle_timeout);
  if (state_ != State::kLingering) {
    if (write_busy_) {
      next.Add(last_written_ + settings_.write_timeout, "no write progress within write_timeout");
    }
    owner_->AddDeadlines(&next);
  }
  // Last: an owner's deadline at the same instant gives the reason (an idle close).
  next.Add(closing_by_, "the daemon stops and drain_seconds are over");
  return next;
}

void StreamPump::ArmTimer() {
  const Clock::time_point next = NextDeadline().at();
  if (next >= timer_at_) return;  // the timer fires first and looks again
  timer_at_ = next;
  timer_.expires_at(next);
  timer_.async_wait([this, self = owner_->KeepAlive()](const error_code& ec) { OnTimer(ec); });
}

void StreamPump::OnTimer(const error_code& ec) {
  if (ec == asio::error::operation_aborted || state_ == State::kClosed) return;
  timer_at_ = Clock::time_point::max();
  const Deadlines next = NextDeadline();
  if (Clock::now() >= next.at()) {
    if (next.why() == kIdle) {
      LogDebug("closing idle %s from %s", settings_.kind, peer_);
    } else if (state_ != State::kLingering) {
      LogLimited(LogKind::kDeadline, LogLevel::kInfo, "closing %s from %s: %s", settings_.kind,
                 peer_, next.why());
    }
    owner_->Close();
    return;
  }
  ArmTimer();
}

}  // namespace shixin
