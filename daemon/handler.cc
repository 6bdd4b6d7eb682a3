#include "daemon/handler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/coding.h"
#include "base/terminal.h"
#include "base/version.h"
#include "callers/caller_table.h"
#include "daemon/handler_outcome.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "protocol/messages.h"
#include "protocol/operator_messages.h"

namespace shixin {

// One response frame being appended to `out`: the header is reserved first and written by
// Finish() or Fail() once the payload size is known.
class Handler::Response {
 public:
  Response(uint8_t version, uint8_t opcode, uint32_t request_id, uint32_t generation, bool stale,
           std::string* out)
      : out_(out), start_(out->size()) {
    header_.version = version;
    header_.opcode = opcode;
    header_.request_id = request_id;
    header_.generation = generation;
    header_.flags = wire::kFlagResponse | (stale ? wire::kFlagStale : 0);
    out_->append(wire::kHeaderSize, '\0');
  }

  std::string* payload() { return out_; }

  // Ends the frame with `outcome`: an error replaces whatever payload was written.
  void Finish(const Outcome& outcome) {
    if (outcome.status != wire::Status::kOk) {
      out_->resize(start_ + wire::kHeaderSize);
      // The message is UTF-8 text (FORMAT.md 6), whatever bytes of the request it quotes; the
      // values were escaped where they were quoted, so the quotes around them stay.
      wire::EncodeError(wire::ErrorResponse{TerminalSafe(outcome.message, Quoting::kKept),
                                            outcome.retry_after_ms},
                        outcome.status, header_.version, out_);
    }
    const size_t size = out_->size() - start_ - wire::kHeaderSize;
    if (size > wire::kMaxPayloadLimit) {
      Finish(Outcome::Error(wire::Status::kInternal, "response too large"));
      return;
    }
    header_.status = static_cast<uint16_t>(outcome.status);
    header_.payload_size = static_cast<uint32_t>(size);
    wire::EncodeHeader(header_, out_->data() + start_);
  }

  // Removes the reserved header: no response is sent now.
  void Cancel() { out_->resize(start_); }

 private:
  std::string* out_;
  size_t start_;
  wire::FrameHeader header_;
};

namespace {

// The payload bytes of a FEEDBACK that cost one rate token.
constexpr size_t kFeedbackBytesPerToken = 1024;

}  // namespace

Handler::Handler(const Config& config, const SnapshotHolder* holder, Clock clock,
                 const Reloader* reloader, Access* access, Auditor* auditor, Metrics* metrics)
    : config_(config),
      holder_(holder),
      reloader_(reloader),
      own_access_(access != nullptr ? nullptr : Access::OpenMode()),
      access_(access != nullptr ? access : own_access_.get()),
      auditor_(auditor),
      metrics_(metrics),
      start_time_(absl::Now()),
      clock_(std::move(clock)) {}

absl::Status Handler::SyncAudit(uint64_t ticket) const {
  return auditor_ != nullptr ? auditor_->Sync(ticket) : absl::OkStatus();
}

std::optional<Handler::ListId> Handler::ListOf(uint32_t generation) const {
  const SnapshotHolder::ReadSection read(*holder_);
  const Dataset* d = read.dataset();
  if (d == nullptr || d->generation != generation) return std::nullopt;
  const SnapshotInfo& info = d->snapshot->info();
  return ListId{.version = info.version,
                .source_time = d->source_time,
                .sequence = std::max(info.delta_sequence, d->sequence)};
}

std::string_view Handler::ServerName() {
  static const std::string* const name = new std::string("shixind/" + std::string(Version()));
  return *name;
}

bool Handler::IsStale(const Dataset* d, int64_t now) const {
  return d != nullptr && IsStale(d->source_time, now);
}

bool Handler::IsStale(int64_t source_time, int64_t now) const {
  return config_.max_age_seconds > 0 &&
         now - source_time > static_cast<int64_t>(config_.max_age_seconds);
}

Handler::Next Handler::Handle(const wire::FrameHeader& request, std::string_view payload,
                              const Peer& peer, std::string* out, ReloadRequest* reload,
                              Session* session,
                              std::chrono::steady_clock::time_point* turn_clock) const {
  Session single;
  Session& s = session != nullptr ? *session : single;
  if (metrics_ == nullptr) return HandleFrame(request, payload, peer, out, reload, s);
  const auto start = turn_clock != nullptr ? *turn_clock : std::chrono::steady_clock::now();
  const size_t frame = out->size();
  const Next next = HandleFrame(request, payload, peer, out, reload, s);
  const auto end = std::chrono::steady_clock::now();
  if (turn_clock != nullptr) *turn_clock = end;
  // An accepted RELOAD is answered, and recorded, when its reload ends (AppendReloadResult).
  if (next != Next::kReload) Record(request.opcode, *out, frame, s, end - start);
  return next;
}

void Handler::Record(uint8_t opcode, std::string_view out, size_t frame, const Session& s,
                     std::chrono::steady_clock::duration took) const {
  // The status the response frame carries.
  uint16_t status = 0;
  if (out.size() >= frame + wire::kHeaderSize) status = DecodeBigEndian16(out.data() + frame + 6);
  const std::string_view caller =
      s.grant != nullptr ? std::string_view(s.grant->caller.id) : std::string_view();
  metrics_->Record(opcode, status, caller,
                   std::chrono::duration_cast<std::chrono::nanoseconds>(took).count());
}

Handler::Next Handler::HandleFrame(const wire::FrameHeader& request, std::string_view payload,
                                   const Peer& peer, std::string* out, ReloadRequest* reload,
                                   Session& s) const {
  // A request's flags, status and generation are reserved (FORMAT.md): anything else is a
  // client that speaks another protocol, or a response sent back by mistake.
  if (request.flags != 0 || request.status != 0 || request.generation != 0) {
    AppendError(
        request.opcode, request.request_id, wire::Status::kBadFrame,
        absl::StrFormat("a request must have flags, status and generation 0 (got %d, %d, %d)",
                        request.flags, request.status, request.generation),
        out, s.version);
    return Next::kClose;
  }
  if (!s.started && s.grant == nullptr) {
    s.grant = access_->Anonymous();
    s.epoch = access_->epoch();
  }
  const bool revoked = !access_->Refresh(&s.grant, &s.epoch);
  SnapshotHolder::ReadSection read(*holder_);
  const Dataset* d = read.dataset();
  const bool stale = IsStale(d, clock_());
  // The response speaks the version of the request (a HELLO's answer too: FORMAT.md 4).
  Response response(s.version, request.opcode, request.request_id, d != nullptr ? d->generation : 0,
                    stale, out);
  if (revoked) {
    LogInfo("%s: the caller's credentials were revoked; closing", peer.address);
    response.Finish(
        Outcome::Error(wire::Status::kUnauthenticated, "the caller's credentials were revoked"));
    return Next::kClose;
  }
  // In callers mode the admin is a caller with the admin scope, wherever it connects from.
  const Peer as_admin{
      peer.address,
      access_->open() ? peer.admin_allowed : s.grant != nullptr && s.grant->Has(Scope::kAdmin),
      peer.ip};
  const std::optional<Outcome> outcome =
      Dispatch(request.opcode, payload, as_admin, read, stale, s, response.payload(), reload);
  s.started = true;
  if (!outcome) {
    response.Cancel();
    return Next::kReload;
  }
  response.Finish(*outcome);
  return wire::IsFatal(outcome->status) ? Next::kClose : Next::kContinue;
}

std::optional<Handler::Outcome> Handler::Dispatch(uint8_t opcode, std::string_view payload,
                                                  const Peer& peer,
                                                  const SnapshotHolder::ReadSection& read,
                                                  bool stale, Session& session, std::string* out,
                                                  ReloadRequest* reload) const {
  if (!wire::IsKnownOpcode(opcode, session.version)) {
    return Outcome::Error(wire::Status::kUnknownOpcode,
                          absl::StrFormat("unknown opcode %d", opcode));
  }
  const auto op = static_cast<wire::Opcode>(opcode);
  // A request answered again after its audit record was lost was admitted (and charged) once.
  if (op != wire::Opcode::kHello && op != wire::Opcode::kPing && !session.audit_replay) {
    if (std::optional<Outcome> refused = Admit(op, payload, session)) return refused;
  }
  const Dataset* d = read.dataset();
  if (d == nullptr && op != wire::Opcode::kHello && op != wire::Opcode::kPing) {
    return Outcome::Error(wire::Status::kUnavailable,
                          "no list is loaded yet: the first load is running");
  }
  switch (op) {
    case wire::Opcode::kHello:
      return Hello(payload, d, peer, session, out);
    case wire::Opcode::kPing:
      if (absl::Status s = wire::DecodeEmpty(payload); !s.ok()) return Outcome::BadPayload(op, s);
      return Outcome::Ok();
    case wire::Opcode::kCheck:
      return CheckBatch(payload, *d, session, out);
    case wire::Opcode::kMeasures:
      return MeasuresOf(payload, *d, stale, session, out);
    case wire::Opcode::kDetail:
      return Detail(payload, *d, session, out);
    case wire::Opcode::kInfo:
      return Info(payload, read, stale, peer, session, out);
    case wire::Opcode::kReload:
      return Reload(payload, peer, reload);
    case wire::Opcode::kCatalog:
      if (absl::Status s = wire::DecodeEmpty(payload); !s.ok()) return Outcome::BadPayload(op, s);
      wire::Encode(wire::DescribeCatalog(d->catalog), out);
      return Outcome::Ok();
    case wire::Opcode::kFeedback:
      return Feedback(payload, *d, session, out);
  }
  return Outcome::Error(wire::Status::kInternal, "unhandled opcode");
}

Handler::Outcome Handler::Hello(std::string_view payload, const Dataset* d, const Peer& peer,
                                Session& session, std::string* out) const {
  // max_version 0 fails to decode (BAD_PAYLOAD). Only a HELLO that is the connection's first
  // request negotiates; a later one is answered with the connection's version (FORMAT.md 4).
  absl::StatusOr<wire::HelloRequest> request = wire::DecodeHelloRequest(payload);
  if (!request.ok()) return Outcome::BadPayload(wire::Opcode::kHello, request.status());
  LogDebug("HELLO from %s: client \"%s\", version %d", peer.address,
           Printable(request->client_name), request->max_version);
  if (!request->caller_id.empty() || !request->token.empty()) {
    // Only the first request authenticates (FORMAT.md 14): a connection never changes caller.
    if (session.started) {
      return Outcome::Error(wire::Status::kUnauthenticated,
                            "credentials are accepted only in a connection's first request");
    }
    // A TLS client certificate has named the caller: HELLO may confirm it, not change it.
    const bool certified = session.grant != nullptr && session.grant->ByCertificate();
    if (certified && request->caller_id != session.grant->caller.id) {
      LogLimited(LogKind::kAuthentication, LogLevel::kWarning,
                 "HELLO from %s as caller \"%s\" refused: its certificate is caller \"%s\"",
                 peer.address, Printable(request->caller_id), session.grant->caller.id);
      return Outcome::Error(
          wire::Status::kUnauthenticated,
          absl::StrFormat("this connection's TLS client certificate is caller \"%s\": a HELLO "
                          "may name no other",
                          session.grant->caller.id));
    }
    absl::StatusOr<std::shared_ptr<const Grant>> grant =
        access_->Authenticate(request->caller_id, request->token, peer.ip);
    if (!grant.ok()) {  // never the token in the log
      LogLimited(LogKind::kAuthentication, LogLevel::kWarning,
                 "HELLO from %s as caller \"%s\" refused: %s", peer.address,
                 Printable(request->caller_id), grant.status().message());
      return Outcome::FromCore(grant.status());  // a refused HELLO negotiates nothing
    }
    if (!certified) {  // the certificate's grant stays: revoking it closes the connection
      session.grant = *std::move(grant);
      session.epoch = access_->epoch();
    }
    LogDebug("%s authenticated as caller \"%s\"", peer.address, session.grant->caller.id);
  }
  if (!session.started) session.version = std::min(request->max_version, wire::kMaxVersion);
  wire::HelloResponse hello;
  hello.version = session.version;
  hello.capabilities = wire::kCapabilityCatalog;
  hello.max_payload = config_.max_payload;
  hello.max_batch = static_cast<uint16_t>(config_.max_batch);
  hello.max_in_flight = static_cast<uint16_t>(config_.max_in_flight);
  hello.server_name = std::string(ServerName());
  if (d != nullptr) hello.catalog_id = d->catalog.id();
  DescribeCaller(session, peer, &hello);
  wire::Encode(hello, out);
  return Outcome::Ok();
}

void Handler::DescribeCaller(const Session& session, const Peer& peer,
                             wire::HelloResponse* hello) const {
  hello->mode = access_->open() ? wire::SecurityMode::kOpen : wire::SecurityMode::kCallers;
  if (session.grant == nullptr) return;
  const Caller& c = session.grant->caller;
  if (!access_->open()) {  // open mode names no caller (FORMAT.md 14)
    hello->caller_id = c.id;
    hello->caller_name = c.name;
  }
  hello->scopes = c.scopes;
  // In open mode the admin scope is the loopback rule's. In callers mode the grant's scopes
  // are the truth: `peer` was made before this HELLO authenticated and would hide admin.
  if (access_->open() && !peer.admin_allowed) hello->scopes &= ~ScopeBit(Scope::kAdmin);
  hello->view = static_cast<uint8_t>(c.view);
  if (session.grant->bucket != nullptr) {
    // Rounded down, so that a client pacing at it is never refused (1.9/s announced 2 had
    // every other request refused); a rate below 1/s, which whole requests per second cannot
    // carry, is 0 with the burst, never "unlimited" (FORMAT.md 14).
    hello->rate = static_cast<uint32_t>(std::min(std::floor(c.rate), 4294967295.0));
    hello->burst = c.burst;
  }
}

std::optional<Handler::Outcome> Handler::Admit(wire::Opcode op, std::string_view payload,
                                               const Session& session) const {
  const Grant* grant = session.grant.get();
  if (grant == nullptr) {
    return Outcome::Error(wire::Status::kUnauthenticated,
                          "authenticate first: HELLO (version 3) with a caller id and token, or "
                          "a TLS client certificate");
  }
  // A CHECK costs one token per ID, so that the rate bounds enumeration whatever the batch
  // size; a MEASURES one for its subject and one per officer the caller sent (each is looked
  // up, and the answer's bases tell whether it is listed); a malformed payload costs one. A
  // FEEDBACK, which the audit keeps whole (reasons of up to 1 KiB a measure, corrections
  // included), costs one per KiB of its payload, at most the burst: a query record is ~100
  // bytes a token, and feedback must not fill the audit's disk many times faster.
  const Caller& c = grant->caller;
  uint32_t cost = 1;
  if (op == wire::Opcode::kCheck) cost = std::max<uint32_t>(1, wire::PeekCheckCount(payload));
  if (op == wire::Opcode::kMeasures) {
    cost += std::min<uint32_t>(wire::PeekMeasuresOfficerCount(payload), wire::kMaxOfficers);
  }
  if (op == wire::Opcode::kFeedback) {
    cost = static_cast<uint32_t>(std::max<size_t>(
        1, (payload.size() + kFeedbackBytesPerToken - 1) / kFeedbackBytesPerToken));
    if (grant->bucket != nullptr) cost = std::min(cost, c.burst);
  }
  if (grant->bucket != nullptr && cost > c.burst) {
    return Outcome::Error(
        wire::Status::kInvalidArgument,
        op == wire::Opcode::kCheck
            ? absl::StrFormat("a CHECK of %d IDs is more than caller \"%s\"'s burst of %d: send "
                              "at most %d IDs at a time",
                              cost, c.id, c.burst, c.burst)
            : absl::StrFormat("a MEASURES with %d officers costs %d (one per ID), more than "
                              "caller \"%s\"'s burst of %d: send at most %d officers",
                              cost - 1, cost, c.id, c.burst, c.burst - 1));
  }
  const std::optional<Scope> scope = ScopeOf(op);
  const Access::Decision decision = access_->Admit(*grant, scope, cost);
  switch (decision.status) {
    case wire::Status::kOk:
      return std::nullopt;
    case wire::Status::kPermissionDenied:
      LogLimited(LogKind::kPermissionDenied, LogLevel::kWarning,
                 "caller \"%s\": %s refused (no scope %s)", c.id, wire::OpcodeName(op),
                 ScopeName(*scope));
      return Outcome::Error(wire::Status::kPermissionDenied,
                            absl::StrFormat("caller \"%s\" has no \"%s\" scope (needed by %s)",
                                            c.id, ScopeName(*scope), wire::OpcodeName(op)));
    default: {
      Outcome limited = Outcome::Error(
          wire::Status::kRateLimited,
          absl::StrFormat("caller \"%s\" is over its rate of %g per second (burst %d); retry in "
                          "%d ms",
                          c.id, c.rate, c.burst, decision.retry_after_ms));
      limited.retry_after_ms = decision.retry_after_ms;
      return limited;
    }
  }
}

Handler::Outcome Handler::Info(std::string_view payload, const SnapshotHolder::ReadSection& read,
                               bool stale, const Peer& peer, const Session& session,
                               std::string* out) const {
  const uint8_t version = session.version;
  if (absl::Status s = wire::DecodeEmpty(payload); !s.ok()) {
    return Outcome::BadPayload(wire::Opcode::kInfo, s);
  }
  const Dataset& d = *read.dataset();
  const ReloadStatus& reload = read.reload_status();
  wire::InfoResponse info;
  info.snapshot = d.snapshot->info();
  info.generation = d.generation;
  info.uptime_seconds = static_cast<uint64_t>(absl::ToInt64Seconds(absl::Now() - start_time_));
  info.max_age_seconds = config_.max_age_seconds;
  info.stale = stale;
  info.reload_state = reload.state;
  info.last_reload_time = reload.time;
  info.catalog_id = d.catalog.id();
  info.catalog_fingerprint = d.catalog.fingerprint();
  if (peer.admin_allowed) {  // paths, error texts and the admin's address: admins only
    info.last_reload_message = reload.message;
    info.data_source = d.data_source;
  }
  if (version >= 2) info.deltas = DeltaInfoOf(d, peer.admin_allowed);
  if (version >= 3) info.security = SecurityOf(session, peer.admin_allowed);
  if (version >= 4 && auditor_ != nullptr) {
    info.audit = auditor_->Info(clock_(), peer.admin_allowed);
  }
  wire::Encode(info, out, version);
  return Outcome::Ok();
}

wire::SecurityInfo Handler::SecurityOf(const Session& session, bool admin) const {
  wire::SecurityInfo info;
  info.mode = access_->open() ? wire::SecurityMode::kOpen : wire::SecurityMode::kCallers;
  if (access_->open()) return info;  // no callers: no counters (FORMAT.md 14)
  const std::string& me = session.grant->caller.id;
  info.caller_id = me;
  for (const CallerCount& c : access_->Counts()) {
    if (!admin && c.id != me) continue;
    info.callers.push_back(
        wire::CallerCounters{c.id, c.requests, c.rate_limited, c.denied, c.auth_failures});
  }
  return info;
}

wire::DeltaInfo Handler::DeltaInfoOf(const Dataset& d, bool admin) const {
  // The applier's counters are read apart (a short lock): they may already count a file whose
  // generation is being published; the sequences are those of `d`.
  const DeltaStatus s = reloader_ != nullptr ? reloader_->delta_status() : DeltaStatus{};
  const Overlay* overlay = d.overlay.get();
  wire::DeltaInfo w{.base_sequence = d.snapshot->info().delta_sequence,
                    .sequence = d.sequence,
                    .last_delta_time = s.last_delta_time,
                    .lag_seconds = s.lag_seconds,
                    .pending = s.pending + (s.sequence > d.sequence ? s.sequence - d.sequence : 0),
                    .applied_files = s.applied_files,
                    .applied_changes = s.applied_changes,
                    .notes = s.notes,
                    .refusals = s.refusals,
                    .gap = s.gap,
                    .gap_after = s.gap_after,
                    .overlay_subjects = overlay != nullptr ? overlay->size() : 0,
                    .overlay_bytes = overlay != nullptr ? overlay->Bytes() : 0,
                    .refused = {},
                    .delta_error = {}};
  if (admin) {  // file names and paths: admins only, as data_source
    w.refused = s.refused_reason;
    w.delta_error = s.error;
  }
  return w;
}

std::optional<Handler::Outcome> Handler::Reload(std::string_view payload, const Peer& peer,
                                                ReloadRequest* reload) const {
  absl::StatusOr<wire::ReloadRequest> request = wire::DecodeReloadRequest(payload);
  if (!request.ok()) return Outcome::BadPayload(wire::Opcode::kReload, request.status());
  if (!peer.admin_allowed) {
    LogLimited(LogKind::kPermissionDenied, LogLevel::kWarning,
               "RELOAD from %s refused: not an admin", peer.address);
    return Outcome::FromCore(absl::PermissionDeniedError(
        "RELOAD is allowed only from loopback clients (admin_loopback_only)"));
  }
  *reload = ReloadRequest{absl::StrFormat("RELOAD from %s", peer.address), request->allow_shrink};
  return std::nullopt;  // answered by AppendReloadResult()
}

void Handler::AppendReloadResult(uint32_t request_id, const ReloadResult& result, std::string* out,
                                 const Session& session,
                                 std::chrono::steady_clock::time_point received) const {
  const size_t frame = out->size();
  {
    SnapshotHolder::ReadSection read(*holder_);
    const Dataset* d = read.dataset();
    uint32_t generation = d != nullptr ? d->generation : 0;
    bool stale = IsStale(d, clock_());
    if (result.status.ok() && result.generation != generation) {
      // The reload's own snapshot (FORMAT.md 8.6), not the one serving now: a later reload (a
      // pipelined RELOAD, a delta) may have published since it ended.
      generation = result.generation;
      stale = IsStale(result.source_time, clock_());
    }
    Response response(session.version, static_cast<uint8_t>(wire::Opcode::kReload), request_id,
                      generation, stale, out);
    if (result.status.ok()) {
      wire::Encode(wire::ReloadResponse{result.generation, result.message}, response.payload());
      response.Finish(Outcome::Ok());
    } else {
      response.Finish(Outcome::FromCore(result.status));
    }
  }
  if (metrics_ != nullptr) {
    Record(static_cast<uint8_t>(wire::Opcode::kReload), *out, frame, session,
           std::chrono::steady_clock::now() - received);
  }
}

void Handler::AppendFrameError(const wire::Decoded& decoded, std::string* out,
                               uint8_t version) const {
  AppendError(decoded.header.opcode, decoded.header.request_id, decoded.error, decoded.message, out,
              version);
}

void Handler::AppendError(uint8_t opcode, uint32_t request_id, wire::Status status,
                          std::string_view message, std::string* out, uint8_t version) const {
  SnapshotHolder::ReadSection read(*holder_);
  const Dataset* d = read.dataset();
  Response response(version, opcode, request_id, d != nullptr ? d->generation : 0,
                    IsStale(d, clock_()), out);
  response.Finish(Outcome::Error(status, std::string(message)));
}

}  // namespace shixin
