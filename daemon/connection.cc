#include "daemon/connection.h"

#include <algorithm>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <utility>

#include "absl/strings/str_format.h"
#include "daemon/connection_manager.h"
#include "daemon/log.h"
#include "daemon/tls_context.h"

namespace shixin {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// How long a closing connection drains its input so the client reads the last response.
constexpr std::chrono::seconds kLinger{1};
// How long Shutdown() waits for the responses to be written before closing regardless.
constexpr std::chrono::seconds kShutdownGrace{10};
// Answered input is dropped from the front of the buffer once this much has accumulated.
constexpr size_t kCompactThreshold = 64 * 1024;
// A buffer larger than this is freed once empty rather than kept for the next use, so that an
// idle connection holds little.
constexpr size_t kKeptCapacity = 256 * 1024;

// NextDeadline()'s reason for the idle deadline, which is logged as debug only.
constexpr char kIdle[] = "idle";

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

Connection::Connection(std::unique_ptr<Transport> transport, const asio::ip::tcp::endpoint& remote,
                       const Options& options, const Shared& shared, ConnectionManager* manager)
    : transport_(std::move(transport)),
      timer_(transport_->socket().get_executor()),
      options_(options),
      shared_(shared),
      manager_(manager),
      address_(remote.address()),
      peer_(EndpointText(remote)),
      admin_allowed_(!options.admin_loopback_only || IsLoopback(remote.address())),
      phase_(transport_->NeedsHandshake() ? Phase::kHandshake : Phase::kServing),
      started_(Clock::now()),
      last_request_(started_) {
  error_code ec;
  transport_->socket().set_option(asio::ip::tcp::no_delay(true), ec);
}

Connection::~Connection() {
  shared_.budget->Charge(&charged_, 0);
  shared_.limits->Release(address_);
}

void Connection::Start() {
  LogDebug("connection from %s%s", peer_, phase_ == Phase::kHandshake ? " (TLS)" : "");
  if (phase_ == Phase::kHandshake) {
    transport_->AsyncHandshake(
        [self = shared_from_this()](const error_code& ec) { self->OnHandshake(ec); });
  }
  Advance();
}

void Connection::OnHandshake(const error_code& ec) {
  if (phase_ != Phase::kHandshake) return;  // closed meanwhile
  if (ec) {
    // A refused client certificate: say why (expired, unknown CA, ...).
    const long verify = SSL_get_verify_result(transport_->ssl());  // NOLINT(google-runtime-int)
    LogLimited(
        LogKind::kTlsHandshake, LogLevel::kInfo, "closing connection from %s: TLS: %s%s", peer_,
        ec.message(),
        verify == X509_V_OK ? "" : absl::StrFormat(" (%s)", X509_verify_cert_error_string(verify)));
    Close();
    return;
  }
  SSL* ssl = transport_->ssl();
  CertificateIdentity identity;  // empty without a client certificate
  if (X509* certificate = SSL_get0_peer_certificate(ssl)) identity = IdentityOf(certificate);
  if (!identity.fingerprint.empty() && shared_.access != nullptr) {
    // Mutual TLS: the certificate names the caller; without a caller the client may still
    // authenticate in HELLO.
    absl::StatusOr<std::shared_ptr<const Grant>> grant =
        shared_.access->ForCertificate(identity.fingerprint, identity.cn);
    if (grant.ok()) {
      session_.grant = *std::move(grant);
      session_.epoch = shared_.access->epoch();
    } else {
      LogLimited(LogKind::kAuthentication, LogLevel::kInfo,
                 "TLS client %s: certificate %s (CN \"%s\") belongs to no caller", peer_,
                 identity.fingerprint, identity.cn);
    }
  }
  LogDebug("TLS connection from %s: %s %s, client certificate %s (CN \"%s\")", peer_,
           SSL_get_version(ssl), SSL_get_cipher_name(ssl),
           identity.fingerprint.empty() ? "none" : identity.fingerprint, identity.cn);
  phase_ = Phase::kServing;
  last_request_ = Clock::now();
  Advance();
}

void Connection::Revalidate() {
  if (phase_ == Phase::kClosed || shared_.access == nullptr) return;
  if (!shared_.access->Refresh(&session_.grant, &session_.epoch)) {
    LogInfo("closing connection from %s: its caller's credentials were revoked", peer_);
    Close();
  }
}

void Connection::Shutdown() {
  if (phase_ == Phase::kClosed || phase_ == Phase::kLingering) return;
  if (phase_ == Phase::kHandshake) {
    Close();  // it has sent no request
    return;
  }
  closing_by_ = Clock::now() + kShutdownGrace;
  if (phase_ == Phase::kServing) Drain(DrainReason::kShutdown);
  Advance();
}

void Connection::Close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  transport_->Close();
  timer_.cancel();
  shared_.budget->Charge(&charged_, 0);
  LogDebug("closed connection from %s", peer_);
  manager_->Remove(this);
}

bool Connection::Evictable(Clock::time_point now) const {
  return phase_ == Phase::kServing && pending() == 0 && input_state_ != Input::kHeldBack &&
         !writing_busy_ && output_.empty() && now - last_request_ >= kMinIdleToEvict;
}

void Connection::Advance() {
  if (phase_ == Phase::kClosed) return;
  if (phase_ == Phase::kServing || phase_ == Phase::kDraining) {
    AnswerInput();
    StartWrite();
    if (!reading_ && ReadWanted()) StartRead();
    // After a fatal error an outstanding read goes on as the lingering one.
    if (phase_ == Phase::kDraining && pending() == 0 && !writing_busy_ &&
        input_state_ != Input::kHeldBack && (!reading_ || drain_reason_ == DrainReason::kFatal)) {
      EnterLingering();
    }
  }
  shared_.budget->Charge(&charged_, buffer_bytes());
  ArmTimer();
}

void Connection::AnswerInput() {
  AnswerFrames();
  SyncAudit();
}

void Connection::SyncAudit() {
  if (audited_.empty()) return;
  if (!shared_.handler->SyncAudit(session_.audit_ticket).ok()) {
    // The records are gone: no answer may carry their receipts.
    const Peer peer{peer_, admin_allowed_, address_};
    std::string rebuilt;
    size_t from = 0;
    session_.audit_replay = true;
    for (const Audited& a : audited_) {
      rebuilt.append(output_, from, a.begin - from);
      const wire::Decoded frame =
          wire::DecodeFrame(a.frame, options_.max_payload, session_.version);
      ReloadRequest unused;
      shared_.handler->Handle(frame.header, frame.payload, peer, &rebuilt, &unused, &session_);
      from = a.end;
    }
    rebuilt.append(output_, from);
    session_.audit_replay = false;
    output_.swap(rebuilt);
  }
  audited_.clear();
}

void Connection::AnswerFrames() {
  if (drain_reason_ == DrainReason::kFatal) return;
  const Peer peer{peer_, admin_allowed_, address_};
  const Input before = input_state_;
  const size_t turn_end = input_begin_ + kInputPerTurn;
  bool answered = false;
  while (input_begin_ < input_.size()) {
    if (input_begin_ >= turn_end) {
      input_state_ = Input::kHeldBack;
      if (!turn_posted_) {
        turn_posted_ = true;
        asio::post(transport_->socket().get_executor(), [self = shared_from_this()] {
          self->turn_posted_ = false;
          self->Advance();
        });
      }
      return;
    }
    const std::string_view data = std::string_view(input_).substr(input_begin_);
    const wire::Decoded frame = wire::DecodeFrame(data, options_.max_payload, session_.version);
    if (frame.result == wire::DecodeResult::kNeedMore) {
      input_state_ = Input::kPartial;
      if (before != Input::kPartial || answered) frame_started_ = Clock::now();
      return;
    }
    if (frame.result == wire::DecodeResult::kInvalid) {
      LogLimited(LogKind::kBadFrame, LogLevel::kInfo, "closing connection from %s: %s: %s", peer_,
                 wire::StatusName(frame.error), frame.message);
      shared_.handler->AppendFrameError(frame, &output_, session_.version);
      ++queued_;
      Drain(DrainReason::kFatal);
      return;
    }
    if (pending() >= options_.max_in_flight) {
      input_state_ = Input::kHeldBack;
      return;
    }
    ReloadRequest reload;
    const uint64_t audit_ticket = session_.audit_ticket;
    const size_t begin = output_.size();
    const Handler::Next next =
        shared_.handler->Handle(frame.header, frame.payload, peer, &output_, &reload, &session_);
    if (session_.audit_ticket != audit_ticket) {
      audited_.push_back({begin, output_.size(), std::string(data.substr(0, frame.consumed))});
    }
    input_begin_ += frame.consumed;
    answered = true;
    last_request_ = Clock::now();
    if (next == Handler::Next::kReload) {
      StartReload(frame.header.request_id, std::move(reload));
      continue;
    }
    ++queued_;
    if (next == Handler::Next::kClose) {
      LogLimited(LogKind::kBadFrame, LogLevel::kInfo,
                 "closing connection from %s after a fatal error answering %s", peer_,
                 wire::OpcodeName(static_cast<wire::Opcode>(frame.header.opcode)));
      Drain(DrainReason::kFatal);
      return;
    }
  }
  input_state_ = Input::kEmpty;
  input_.clear();
  input_begin_ = 0;
  if (input_.capacity() > kKeptCapacity) std::string().swap(input_);
}

void Connection::StartReload(uint32_t request_id, ReloadRequest request) {
  ++reloads_;
  // Keeps the io_context running until the answer has been posted back.
  asio::any_io_executor work =
      asio::prefer(transport_->socket().get_executor(), asio::execution::outstanding_work.tracked);
  const bool accepted = shared_.reloader->Request(
      std::move(request),
      [self = shared_from_this(), work, request_id](const ReloadResult& result) {
        asio::post(work, [self, request_id, result] { self->OnReloadDone(request_id, result); });
      });
  if (!accepted) {
    --reloads_;
    // Only after Reloader::Stop(): reloads are coalesced, never refused.
    const ReloadResult stopping{absl::UnavailableError("the daemon is stopping"), 0, ""};
    shared_.handler->AppendReloadResult(request_id, stopping, &output_, session_.version);
    ++queued_;
  }
}

void Connection::OnReloadDone(uint32_t request_id, const ReloadResult& result) {
  --reloads_;
  if (phase_ == Phase::kClosed) return;
  shared_.handler->AppendReloadResult(request_id, result, &output_, session_.version);
  ++queued_;
  Advance();
}

bool Connection::ReadWanted() {
  switch (phase_) {
    case Phase::kServing:
      return input_state_ != Input::kHeldBack && pending() < options_.max_in_flight &&
             !(has_pending_bytes() && shared_.budget->MustPause(buffer_bytes()));
    case Phase::kDraining:
      // Shutdown() answers what reached the socket before it, and no more.
      return drain_reason_ == DrainReason::kShutdown && ReceivedUnread();
    case Phase::kHandshake:  // the handshake reads
    case Phase::kLingering:  // StartWaitClose() reads
    case Phase::kClosed:
      return false;
  }
  return false;
}

void Connection::StartRead() {
  reading_ = true;
  transport_->AsyncReadSome(
      asio::buffer(read_buffer_),
      [self = shared_from_this()](const error_code& ec, size_t n) { self->OnRead(ec, n); });
}

void Connection::OnRead(const error_code& ec, size_t n) {
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
    // The client has sent everything; answer what it sent, then close.
    if (phase_ == Phase::kServing) Drain(DrainReason::kEndOfInput);
  } else if (ec && ec != asio::error::operation_aborted) {
    LogDebug("read from %s: %s", peer_, ec.message());
    Close();
    return;
  } else if (!ec && drain_reason_ != DrainReason::kFatal) {
    input_.append(read_buffer_.data(), n);
    // TLS: the rest of what arrived with it, so that this turn answers it all in one write.
    while ((n = transport_->ReadBuffered(asio::buffer(read_buffer_))) > 0) {
      input_.append(read_buffer_.data(), n);
    }
  }
  Advance();
}

void Connection::StartWrite() {
  if (writing_busy_ || output_.empty()) return;
  writing_busy_ = true;
  writing_.swap(output_);
  output_.clear();
  written_ = 0;
  writing_count_ = queued_;
  queued_ = 0;
  last_written_ = Clock::now();
  transport_->AsyncWriteSome(
      asio::buffer(writing_),
      [self = shared_from_this()](const error_code& ec, size_t n) { self->OnWrite(ec, n); });
}

void Connection::OnWrite(const error_code& ec, size_t n) {
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    if (ec != asio::error::operation_aborted) LogDebug("write to %s: %s", peer_, ec.message());
    Close();
    return;
  }
  written_ += n;
  last_written_ = Clock::now();
  if (written_ < writing_.size()) {
    transport_->AsyncWriteSome(
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

void Connection::Drain(DrainReason reason) {
  phase_ = Phase::kDraining;
  drain_reason_ = reason;
  if (reason == DrainReason::kFatal) {
    input_.clear();
    input_begin_ = 0;
    input_state_ = Input::kEmpty;
  }
  // An outstanding read with nothing to take in would wait for more requests: shutting down
  // the receiving side ends it with what has arrived, or end of input.
  if (reason == DrainReason::kShutdown && reading_ && !ReceivedUnread()) {
    transport_->ShutdownReceive();
  }
}

void Connection::EnterLingering() {
  phase_ = Phase::kLingering;
  transport_->ShutdownSend();
  closing_by_ = std::min(closing_by_, Clock::now() + kLinger);
  Release(input_);
  Release(output_);
  // An outstanding read (after a fatal error) is waited for first: a TLS stream allows no
  // second reader.
  if (!reading_) StartWaitClose();
}

void Connection::StartWaitClose() {
  reading_ = true;
  transport_->AsyncWaitClose([self = shared_from_this()](const error_code&) {
    self->reading_ = false;
    self->Close();
  });
}

bool Connection::ReceivedUnread() { return transport_->ReceivedUnread(); }

Connection::Clock::time_point Connection::NextDeadline(const char** what) const {
  Clock::time_point next = Clock::time_point::max();
  const auto consider = [&](Clock::time_point when, const char* why) {
    if (when < next) {
      next = when;
      *what = why;
    }
  };
  consider(closing_by_, "shutdown grace period over");
  if (phase_ == Phase::kLingering) return next;
  if (phase_ == Phase::kHandshake) {
    consider(started_ + options_.frame_timeout, "no TLS handshake within frame_timeout");
    return next;
  }
  if (input_state_ == Input::kPartial) {
    consider(frame_started_ + options_.frame_timeout, "a frame not complete within frame_timeout");
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

void Connection::ArmTimer() {
  const char* what = nullptr;
  const Clock::time_point next = NextDeadline(&what);
  if (next >= timer_at_) return;  // the timer fires first and looks again
  timer_at_ = next;
  timer_.expires_at(next);
  timer_.async_wait([self = shared_from_this()](const error_code& ec) { self->OnTimer(ec); });
}

void Connection::OnTimer(const error_code& ec) {
  if (ec == asio::error::operation_aborted || phase_ == Phase::kClosed) return;
  timer_at_ = Clock::time_point::max();
  const char* what = "";
  if (Clock::now() >= NextDeadline(&what)) {
    if (what == kIdle) {
      LogDebug("closing idle connection from %s", peer_);
    } else if (phase_ != Phase::kLingering) {
      LogLimited(LogKind::kDeadline, LogLevel::kInfo, "closing connection from %s: %s", peer_,
                 what);
    }
    Close();
    return;
  }
  ArmTimer();
}

}  // namespace shixin
