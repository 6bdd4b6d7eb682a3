// The Client's behaviour across connections (ClientOptions): a retry of an idempotent call on a
// new connection after a loss, and the refusal of answers from an older list than one seen
// (replicas behind a load balancer; docs/replicas.md).
#include <algorithm>

#include "absl/strings/str_format.h"
#include "base/socket.h"
#include "base/status_macros.h"
#include "protocol/client.h"
#include "protocol/operator_messages.h"

namespace shixin {
namespace {

std::string Describe(const ListPosition& p) {
  return absl::StrFormat("source time %d, delta %d", p.source_time, p.sequence);
}

}  // namespace

ListPosition PositionOf(const wire::InfoResponse& info) {
  return ListPosition{
      info.snapshot.source_time,
      std::max({info.snapshot.delta_sequence, info.deltas.base_sequence, info.deltas.sequence})};
}

absl::Status Client::Reconnect() {
  absl::Status s;
  for (int attempt = 0; attempt < ClientOptions::kReconnectAttempts; ++attempt) {
    if (attempt > 0) absl::SleepFor(ClientOptions::kReconnectPause * attempt);
    s = ConnectAgain();
    if (s.ok() || address_.empty()) break;
  }
  return s;
}

absl::Status Client::ConnectAgain() {
  Close();
  positions_.clear();
  hello_.reset();
  version_ = wire::kVersion;
  if (address_.empty()) return absl::UnavailableError("no address to reconnect to");
  const absl::Time deadline = absl::Now() + connect_timeout_;
  SHIXIN_ASSIGN_OR_RETURN(fd_, ConnectTcp(address_, deadline));
  if (tls_.enabled) {
    if (absl::Status s = StartTls(address_, tls_, deadline); !s.ok()) {
      Close();
      return s;
    }
  }
  ++reconnects_;
  if (!hello_args_.has_value()) return absl::OkStatus();
  const auto [name, credentials] = *hello_args_;  // a copy: Hello() sets hello_args_ again
  return Hello(name, credentials).status();
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
        wire::OpcodeName(op), Describe(it->second), Describe(*newest_)));
  }
  newest_ = it->second;
  return absl::OkStatus();
}

absl::StatusOr<Frame> Client::CallIdempotent(wire::Opcode op,
                                             const std::function<void(std::string*)>& encode) {
  const uint8_t version = version_;
  bool retried_loss = false;
  bool retried_older = false;
  for (;;) {
    std::string payload;
    encode(&payload);
    lost_ = false;
    absl::StatusOr<Frame> frame = Call(op, payload);
    bool older = false;
    absl::Status s = frame.status();
    if (s.ok() && options_.no_going_back) s = CheckNotOlder(op, frame->header.generation, &older);
    if (s.ok()) return frame;
    const bool lost = lost_ && options_.retry_idempotent && !retried_loss;
    if (!lost && !(older && !retried_older)) return s;
    (lost ? retried_loss : retried_older) = true;
    if (absl::Status r = Reconnect(); !r.ok()) {
      return absl::Status(s.code(), absl::StrFormat("%s (a new connection failed too: %s)",
                                                    s.message(), r.message()));
    }
    if (version_ != version) {
      return absl::UnavailableError(
          absl::StrFormat("%s: the new connection speaks version %d, not %d (not retried)",
                          wire::OpcodeName(op), version_, version));
    }
  }
}

}  // namespace shixin
