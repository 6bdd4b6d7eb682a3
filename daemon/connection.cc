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

}  // namespace

Connection::Connection(std::unique_ptr<Transport> transport, const asio::ip::tcp::endpoint& remote,
                       const Options& options, const Shared& shared, ConnectionManager* manager,
                       AuditBatch* audit_batch)
    : options_(options),
      shared_(shared),
      manager_(manager),
      audit_batch_(audit_batch),
      pump_(
          std::move(transport), remote,
          {"connection", options.write_timeout, options.idle_timeout, shared.budget, shared.limits},
          this),
      admin_allowed_(!options.admin_loopback_only || IsLoopback(remote.address())),
      phase_(pump_.transport().NeedsHandshake() ? Phase::kHandshake : Phase::kServing),
      started_(Clock::now()),
      last_request_(started_) {}

Connection::~Connection() = default;

void Connection::Start() {
  LogDebug("connection from %s%s", pump_.peer(), phase_ == Phase::kHandshake ? " (TLS)" : "");
  if (phase_ == Phase::kHandshake) {
    pump_.transport().AsyncHandshake(
        [self = shared_from_this()](const error_code& ec) { self->OnHandshake(ec); });
  }
  Advance();
}

void Connection::OnHandshake(const error_code& ec) {
  if (phase_ != Phase::kHandshake) return;  // closed meanwhile
  SSL* ssl = pump_.transport().ssl();
  if (ec) {
    // A refused client certificate: say why (expired, unknown CA, ...).
    const long verify = SSL_get_verify_result(ssl);  // NOLINT(google-runtime-int)
    LogLimited(
        LogKind::kTlsHandshake, LogLevel::kInfo, "closing connection from %s: TLS: %s%s",
        pump_.peer(), ec.message(),
        verify == X509_V_OK ? "" : absl::StrFormat(" (%s)", X509_verify_cert_error_string(verify)));
    Close();
    return;
  }
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
                 "TLS client %s: certificate %s (CN \"%s\") belongs to no caller", pump_.peer(),
                 identity.fingerprint, identity.cn);
    }
  }
  LogDebug("TLS connection from %s: %s %s, client certificate %s (CN \"%s\")", pump_.peer(),
           SSL_get_version(ssl), SSL_get_cipher_name(ssl),
           identity.fingerprint.empty() ? "none" : identity.fingerprint, identity.cn);
  phase_ = Phase::kServing;
  last_request_ = Clock::now();
  started_ = last_request_;  // the time to authenticate runs from here
  Advance();
}

void Connection::Revalidate() {
  if (phase_ == Phase::kClosed || shared_.access == nullptr) return;
  if (!shared_.access->Refresh(&session_.grant, &session_.epoch)) {
    LogInfo("closing connection from %s: its caller's credentials were revoked", pump_.peer());
    Close();
  }
}

void Connection::Shutdown(Clock::time_point by) {
  if (phase_ == Phase::kClosed || phase_ == Phase::kLingering) return;
  if (phase_ == Phase::kHandshake) {
    Close();  // it has sent no request
    return;
  }
  pump_.StartGrace(by);
  if (phase_ == Phase::kServing) Drain(DrainReason::kShutdown);
  Advance();
}

void Connection::Close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  pump_.Close();
  manager_->Remove(this);
}

bool Connection::NeedsCaller(uint8_t opcode) {
  return opcode != static_cast<uint8_t>(wire::Opcode::kHello) &&
         opcode != static_cast<uint8_t>(wire::Opcode::kPing);
}

bool Connection::Unproven() const {
  return (phase_ == Phase::kServing || phase_ == Phase::kDraining) && session_.grant == nullptr &&
         shared_.access != nullptr && !shared_.access->open();
}

bool Connection::Evictable(Clock::time_point now) const {
  // A PING every few milliseconds keeps a connection busy; one that has proved no caller must
  // not hold a slot by it.
  if (Unproven()) return now - started_ >= kMinIdleToEvict;
  // A TLS handshake in progress is no request in progress: a client that never finishes it
  // must not hold a slot for frame_timeout.
  const bool idle =
      phase_ == Phase::kHandshake || (phase_ == Phase::kServing && pending() == 0 &&
                                      input_state_ != Input::kHeldBack && pump_.quiet());
  return idle && now - last_request_ >= kMinIdleToEvict;
}

void Connection::Advance() {
  if (phase_ == Phase::kServing || phase_ == Phase::kDraining) {
    AnswerFrames();
    if (!audited_.empty() && output_state_ == Output::kWritable) {
      if (manager_->size() > 1) {
        output_state_ = Output::kAwaitingAudit;
        audit_batch_->Join(this, shared_from_this());
      } else {
        SyncAudit();  // alone on the thread: nothing to share, no turn of the loop to wait for
      }
    }
    if (output_state_ == Output::kWritable) pump_.StartWrite();
    if (!pump_.reading() && ReadWanted()) pump_.StartRead();
    if (phase_ == Phase::kDraining && pending() == 0 && input_state_ != Input::kHeldBack &&
        !FrameBegunAtShutdown() && pump_.Drained()) {
      phase_ = Phase::kLingering;
      pump_.Linger();
    }
  }
  pump_.Settle(pump_.buffer_bytes());
}

void Connection::OnAuditTurn() {
  output_state_ = Output::kWritable;
  if (phase_ == Phase::kClosed) {
    // Closed since it joined: no answer leaves, but its records are written now, as the
    // other answered ones are, rather than whenever another request comes.
    shared_.handler->SyncAudit(session_.audit_ticket).IgnoreError();
    audited_.clear();
    audited_frames_.clear();
    return;
  }
  SyncAudit();
  Advance();
}

void Connection::SyncAudit() {
  if (audited_.empty()) return;
  if (!shared_.handler->SyncAudit(session_.audit_ticket).ok()) {
    // The records are gone: no answer may carry their receipts.
    const Peer peer{pump_.peer(), admin_allowed_, pump_.address()};
    std::string& output = pump_.output();
    std::string rebuilt;
    size_t from = 0;
    session_.audit_replay = true;
    for (const Audited& a : audited_) {
      rebuilt.append(output, from, a.begin - from);
      const std::string_view request =
          std::string_view(audited_frames_).substr(a.frame_begin, a.frame_end - a.frame_begin);
      const wire::Decoded frame =
          wire::DecodeFrame(request, options_.max_payload, session_.version);
      ReloadRequest unused;
      shared_.handler->Handle(frame.header, frame.payload, peer, &rebuilt, &unused, &session_);
      from = a.end;
    }
    rebuilt.append(output, from);
    session_.audit_replay = false;
    output.swap(rebuilt);
  }
  audited_.clear();
  audited_frames_.clear();
  // Kept for the next turn when small (depth 16 takes < 1 KiB); a large turn's is given back.
  if (audited_frames_.capacity() > 4096) std::string().swap(audited_frames_);
}

void Connection::AnswerFrames() {
  if (drain_reason_ == DrainReason::kFatal) return;
  const Peer peer{pump_.peer(), admin_allowed_, pump_.address()};
  std::string& output = pump_.output();
  const Input before = input_state_;
  size_t turn = 0;          // the bytes answered in this turn
  size_t looked_ahead = 0;  // the bytes of this turn whose IDs were looked up together
  bool answered = false;
  // One clock read per turn and one per request: Handle() moves it to each request's end.
  Clock::time_point now = Clock::now();
  while (!pump_.input().empty()) {
    if (turn >= StreamPump::kInputPerTurn) {
      input_state_ = Input::kHeldBack;
      pump_.YieldTurn();
      return;
    }
    const std::string_view data = pump_.input();
    if (skip_ > 0) {  // the rest of a frame refused from its header
      const size_t n = static_cast<size_t>(std::min<uint64_t>(skip_, data.size()));
      pump_.Consume(n);
      turn += n;
      skip_ -= n;
      answered = answered || skip_ == 0;
      continue;
    }
    if (turn >= looked_ahead) {
      looked_ahead = turn + shared_.handler->LookAhead(data, session_);
    }
    const wire::Decoded frame = wire::DecodeFrame(data, options_.max_payload, session_.version);
    if (frame.result == wire::DecodeResult::kNeedMore && data.size() >= wire::kHeaderSize &&
        Unproven() && NeedsCaller(frame.header.opcode) && pending() < options_.max_in_flight) {
      // Answered from its header (UNAUTHENTICATED, or a fatal error the header shows): the
      // payload of a request this connection may not make is discarded as it comes, not
      // buffered up to max_payload first.
      frame_started_ = now;
      ReloadRequest unused;  // RELOAD is refused before authentication
      const Handler::Next next =
          shared_.handler->Handle(frame.header, {}, peer, &output, &unused, &session_, &now);
      pump_.CountQueued();
      skip_ = frame.header.payload_size - (data.size() - wire::kHeaderSize);
      pump_.Consume(data.size());
      turn += data.size();
      answered = answered || skip_ == 0;
      last_request_ = now;
      if (next == Handler::Next::kClose) {
        Drain(DrainReason::kFatal);
        return;
      }
      continue;
    }
    if (frame.result == wire::DecodeResult::kNeedMore) {
      input_state_ = Input::kPartial;
      if (before != Input::kPartial || answered) frame_started_ = now;
      return;
    }
    if (frame.result == wire::DecodeResult::kInvalid) {
      LogLimited(LogKind::kBadFrame, LogLevel::kInfo, "closing connection from %s: %s: %s",
                 pump_.peer(), wire::StatusName(frame.error), frame.message);
      shared_.handler->AppendFrameError(frame, &output, session_.version);
      pump_.CountQueued();
      Drain(DrainReason::kFatal);
      return;
    }
    if (pending() >= options_.max_in_flight) {
      input_state_ = Input::kHeldBack;
      return;
    }
    ReloadRequest reload;
    const uint64_t audit_ticket = session_.audit_ticket;
    const size_t begin = output.size();
    const auto received = now;  // a RELOAD's latency counts from here to its answer
    const Handler::Next next = shared_.handler->Handle(frame.header, frame.payload, peer, &output,
                                                       &reload, &session_, &now);
    if (session_.audit_ticket != audit_ticket) {
      const size_t frame_begin = audited_frames_.size();
      audited_frames_.append(data.data(), frame.consumed);
      audited_.push_back({begin, output.size(), frame_begin, audited_frames_.size()});
    }
    pump_.Consume(frame.consumed);
    turn += frame.consumed;
    answered = true;
    last_request_ = now;
    if (next == Handler::Next::kReload) {
      StartReload(frame.header.request_id, std::move(reload), received);
      continue;
    }
    pump_.CountQueued();
    if (next == Handler::Next::kClose) {
      LogLimited(LogKind::kBadFrame, LogLevel::kInfo,
                 "closing connection from %s after a fatal error answering %s", pump_.peer(),
                 wire::OpcodeName(static_cast<wire::Opcode>(frame.header.opcode)));
      Drain(DrainReason::kFatal);
      return;
    }
  }
  input_state_ = skip_ > 0 ? Input::kPartial : Input::kEmpty;  // a refused frame's deadline runs
  pump_.CompactInput();
}

void Connection::StartReload(uint32_t request_id, ReloadRequest request,
                             std::chrono::steady_clock::time_point received) {
  ++reloads_;
  // Keeps the io_context running until the answer has been posted back.
  asio::any_io_executor work =
      asio::prefer(pump_.executor(), asio::execution::outstanding_work.tracked);
  const bool accepted = shared_.reloads->Reload(
      std::move(request),
      [self = shared_from_this(), work, request_id, received](const ReloadResult& result) {
        asio::post(work, [self, request_id, received, result] {
          self->OnReloadDone(request_id, result, received);
        });
      });
  if (!accepted) {
    --reloads_;
    // Only after Reloader::Stop(): reloads are coalesced, never refused.
    const ReloadResult stopping{absl::UnavailableError("the daemon is stopping"), 0, ""};
    shared_.handler->AppendReloadResult(request_id, stopping, &pump_.output(), session_, received);
    pump_.CountQueued();
  }
}

void Connection::OnReloadDone(uint32_t request_id, const ReloadResult& result,
                              std::chrono::steady_clock::time_point received) {
  --reloads_;
  if (phase_ == Phase::kClosed) {
    // Nobody reads the answer, but the request was handled: it is counted all the same.
    std::string unsent;
    shared_.handler->AppendReloadResult(request_id, result, &unsent, session_, received);
    return;
  }
  shared_.handler->AppendReloadResult(request_id, result, &pump_.output(), session_, received);
  pump_.CountQueued();
  Advance();
}

bool Connection::ReadWanted() {
  switch (phase_) {
    case Phase::kServing:
      return input_state_ != Input::kHeldBack && pending() < options_.max_in_flight &&
             !pump_.MustPause(pump_.buffer_bytes());
    case Phase::kDraining:
      // Shutdown() answers what reached the socket before it, and no more; a frame begun is
      // read to its end (frame_timeout and the drain deadline bound the wait).
      return drain_reason_ == DrainReason::kShutdown &&
             (FrameBegunAtShutdown() || pump_.ReceivedUnread());
    case Phase::kHandshake:  // the handshake reads
    case Phase::kLingering:  // the pump reads
    case Phase::kClosed:
      return false;
  }
  return false;
}

void Connection::OnEndOfInput() {
  // The client has sent everything (or the receiving side was shut down for a Shutdown()):
  // answer what it sent, then close; a frame begun will not be completed.
  if (phase_ == Phase::kServing || drain_reason_ == DrainReason::kShutdown) {
    Drain(DrainReason::kEndOfInput);
  }
}

void Connection::Drain(DrainReason reason) {
  phase_ = Phase::kDraining;
  drain_reason_ = reason;
  if (reason == DrainReason::kFatal) {
    pump_.DiscardInput();
    input_state_ = Input::kEmpty;
  }
  if (reason == DrainReason::kShutdown && input_state_ != Input::kPartial) {
    pump_.StopWaitingForInput();
  }
}

void Connection::AddDeadlines(StreamPump::Deadlines* deadlines) const {
  if (phase_ == Phase::kHandshake) {
    deadlines->Add(started_ + options_.frame_timeout, "no TLS handshake within frame_timeout");
    return;
  }
  if (input_state_ == Input::kPartial) {
    deadlines->Add(frame_started_ + options_.frame_timeout,
                   "a frame not complete within frame_timeout");
  }
  if (Unproven()) deadlines->Add(started_ + kAuthTimeout, "not authenticated within 5 s");
  deadlines->AddIdle(phase_ == Phase::kServing && pending() == 0 && input_state_ == Input::kEmpty,
                     last_request_);
}

}  // namespace shixin
