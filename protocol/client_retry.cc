// The Client's behaviour across connections (ClientOptions): a retry of an idempotent call (or
// of a pipeline's unanswered rest) on a new connection after a loss, and the refusal of answers
// from an older list than one seen (replicas behind a load balancer; docs/replicas.md).
#include <algorithm>
#include <cstdint>

#include "absl/strings/str_format.h"
#include "base/socket.h"
#include "base/status_macros.h"
#include "core/validity.h"
#include "protocol/client.h"
#include "protocol/operator_messages.h"

namespace shixin {

std::string FormatPosition(const ListPosition& p) {
  return absl::StrFormat("delta %d, source time %s", p.sequence, FormatInstant(p.source_time));
}

ListPosition PositionOf(const wire::InfoResponse& info) {
  return ListPosition{
      info.snapshot.source_time,
      std::max({info.snapshot.delta_sequence, info.deltas.base_sequence, info.deltas.sequence})};
}

bool Client::PauseBefore(int attempt, absl::Time deadline) {
  // Doubling: a server at its connection limit refuses every try until a connection ends.
  const absl::Duration pause = ClientOptions::kReconnectPause * (1 << (attempt - 1));
  if (absl::Now() + pause >= deadline) return false;
  absl::SleepFor(pause);
  return true;
}

absl::Status Client::Reconnect(absl::Time deadline) {
  if (absl::Now() >= deadline) {
    return absl::DeadlineExceededError("no time left for it within the call's timeout");
  }
  absl::Status s;
  for (int attempt = 0; attempt < ClientOptions::kReconnectAttempts; ++attempt) {
    if (attempt > 0 && !PauseBefore(attempt, deadline)) break;
    bool again = false;
    s = ConnectAgain(deadline, &again);
    if (s.ok() || !again) break;
  }
  return s;
}

absl::Status Client::ConnectAgain(absl::Time deadline, bool* again) {
  if (absl::Status s = Reopen(deadline); !s.ok()) {
    *again = !address_.empty() && absl::IsUnavailable(s);  // not a certificate refused
    return s;
  }
  if (!hello_args_.has_value()) return absl::OkStatus();
  const auto [name, credentials] = *hello_args_;  // a copy: HelloOnce() sets hello_args_ again
  lost_ = false;
  absl::Status s = HelloOnce(name, credentials, deadline).status();
  // Only a HELLO cut by the connection's loss is tried again: a server's answer (credentials
  // refused: each try counts towards its hold on them) stands, and a timeout would repeat.
  *again = lost_;
  if (!s.ok()) Close();  // a refused HELLO negotiates nothing (FORMAT.md 14)
  return s;
}

absl::Status Client::Reopen(absl::Time deadline) {
  Close();
  positions_.clear();
  hello_.reset();
  version_ = wire::kVersion;
  if (address_.empty()) return absl::UnavailableError("no address to reconnect to");
  deadline = std::min(deadline, absl::Now() + connect_timeout_);
  SHIXIN_ASSIGN_OR_RETURN(fd_, ConnectTcp(address_, deadline));
  answered_ = false;
  if (tls_.enabled) {
    if (absl::Status s = StartTls(address_, tls_, deadline); !s.ok()) {
      Close();
      return s;
    }
  }
  ++reconnects_;
  return absl::OkStatus();
}

absl::Status Client::CheckNotOlder(wire::Opcode op, uint32_t generation, bool* older) {
  *older = false;
  auto it = positions_.find(generation);
  if (it == positions_.end()) {
    // INFO describes the server's current generation; if it moved on since the answer, the
    // newer one stands for it (a replica's own list only moves forward).
    SHIXIN_ASSIGN_OR_RETURN(const Reply<wire::InfoResponse> info, Info());
    const ListPosition position = PositionOf(info.value);
    positions_[info.value.generation] = position;
    it = positions_.emplace(generation, position).first;
  }
  if (newest_.has_value() && it->second < *newest_) {
    *older = true;
    return absl::FailedPreconditionError(absl::StrFormat(
        "no going back: %s answered from an older list (%s) than one already seen (%s)",
        wire::OpcodeName(op), FormatPosition(it->second), FormatPosition(*newest_)));
  }
  newest_ = it->second;
  return absl::OkStatus();
}

absl::Status Client::ReconnectToRetry(wire::Opcode op, const absl::Status& failure, uint8_t version,
                                      absl::Time deadline) {
  if (absl::Status r = Reconnect(deadline); !r.ok()) {
    // Credentials refused on the new connection (revoked meanwhile) are the caller's to fix:
    // their code, not the loss's retryable one.
    if (absl::IsUnauthenticated(r) || absl::IsPermissionDenied(r)) {
      return absl::Status(r.code(), absl::StrFormat("%s (on a new connection, after: %s)",
                                                    r.message(), failure.message()));
    }
    return absl::Status(failure.code(), absl::StrFormat("%s (a new connection failed too: %s)",
                                                        failure.message(), r.message()));
  }
  if (version_ != version) {
    return absl::UnavailableError(
        absl::StrFormat("%s: the new connection speaks version %d, not %d (not retried)",
                        wire::OpcodeName(op), version_, version));
  }
  return absl::OkStatus();
}

absl::StatusOr<Frame> Client::CallIdempotent(wire::Opcode op,
                                             const std::function<void(std::string*)>& encode) {
  const uint8_t version = version_;
  const absl::Time deadline = absl::Now() + timeout_;  // of the whole call, retries included
  bool retried_loss = false;
  bool retried_older = false;
  for (;;) {
    std::string payload;
    encode(&payload);
    lost_ = false;
    absl::StatusOr<Frame> frame = Call(op, payload, deadline);
    bool older = false;
    absl::Status s = frame.status();
    if (s.ok() && options_.no_going_back) s = CheckNotOlder(op, frame->header.generation, &older);
    if (s.ok()) return frame;
    const bool lost = lost_ && options_.retry_idempotent && !retried_loss;
    if (!lost && !(older && !retried_older)) return s;
    (lost ? retried_loss : retried_older) = true;
    SHIXIN_RETURN_IF_ERROR(ReconnectToRetry(op, s, version, deadline));
  }
}

absl::Status Client::CallPipelined(wire::Opcode op, size_t count, size_t window,
                                   absl::FunctionRef<void(size_t, std::string*)> encode,
                                   absl::FunctionRef<void(size_t, absl::StatusOr<Frame>)> answer) {
  if (options_.no_going_back) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: pipelined calls cannot check that no answer goes back (no_going_back)",
                        wire::OpcodeName(op)));
  }
  const uint8_t version = version_;
  std::string payload;
  // Each request checked before any is sent: one over the server's limit would close the
  // connection midway, and the requests after it would fail for it.
  for (size_t i = 0; i < count; ++i) {
    payload.clear();
    encode(i, &payload);
    SHIXIN_RETURN_IF_ERROR(FitsServer(op, payload.size()));
  }
  size_t answered = 0;
  size_t answered_at_loss = SIZE_MAX;  // no loss yet
  for (;;) {
    // On this connection, request i (resumed <= i < sent) has the id first_id + (i - resumed).
    const size_t resumed = answered;
    const uint32_t first_id = last_request_id_ + 1;
    const size_t cap =
        hello_.has_value() && hello_->max_in_flight > 0 ? hello_->max_in_flight : size_t{1};
    const size_t depth = std::clamp<size_t>(window, 1, cap);
    size_t sent = answered;
    absl::Status s;
    lost_ = false;
    while (s.ok() && answered < count) {
      if (sent < count && sent - answered <= depth / 2) {  // refill in batches: fewer writes
        for (; s.ok() && sent < count && sent - answered < depth; ++sent) {
          payload.clear();
          encode(sent, &payload);
          s = QueueFrame(op, NextRequestId(), payload);
        }
        if (s.ok()) s = FlushFor(op, absl::Now() + timeout_);
        if (!s.ok()) break;
      }
      const auto id = static_cast<uint32_t>(first_id + (answered - resumed));
      absl::StatusOr<Frame> frame = ReceiveFrameBy(absl::Now() + timeout_);
      // A frame for this request (or a fatal error for none) is its answer, whatever its
      // status; a timeout, a loss or a frame for another request ends the connection's stream.
      const bool addressed = frame.ok() && Answers(frame->header, id);
      frame = Judge(op, id, std::move(frame));
      if (!addressed) {
        s = frame.status();
        break;
      }
      answer(answered++, std::move(frame));
    }
    if (s.ok()) return s;
    if (sent > answered) Close();  // answers still due would be taken for the next call's
    const bool progress = answered_at_loss == SIZE_MAX || answered > answered_at_loss;
    if (!(lost_ && options_.retry_idempotent && progress)) return s;
    answered_at_loss = answered;
    SHIXIN_RETURN_IF_ERROR(ReconnectToRetry(op, s, version, absl::Now() + timeout_));
  }
}

}  // namespace shixin
