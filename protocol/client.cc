#include "protocol/client.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "base/bom.h"
#include "base/socket.h"
#include "base/status_macros.h"
#include "protocol/operator_messages.h"
#include "protocol/unanswered_close.h"

namespace shixin {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
// The status payload that carries a RATE_LIMITED error's wait (decimal milliseconds).
constexpr char kRetryAfterUrl[] = "shixin/retry_after_ms";
// The status payload that marks a request refused before anything was sent (NotSent()).
constexpr char kNotSentUrl[] = "shixin/not_sent";

std::string_view Name(wire::Opcode op) { return wire::OpcodeName(op); }

}  // namespace

absl::Status StatusFromWire(wire::Status status, std::string_view message,
                            std::optional<uint32_t> retry_after_ms) {
  std::string text = absl::StrFormat("%s: %s", wire::StatusName(status), message);
  if (status == wire::Status::kRateLimited && retry_after_ms.has_value()) {
    // The wait is the payload's; the message already says it in words (shixind's does).
    absl::Status limited = absl::ResourceExhaustedError(text);
    limited.SetPayload(kRetryAfterUrl, absl::Cord(absl::StrCat(*retry_after_ms)));
    return limited;
  }
  switch (status) {
    case wire::Status::kOk:
      return absl::OkStatus();
    case wire::Status::kInvalidId:
    case wire::Status::kInvalidArgument:
    case wire::Status::kFrameTooLarge:  // the request's, not a fault of the server
    case wire::Status::kBadPayload:
      return absl::InvalidArgumentError(text);
    case wire::Status::kStaleRefused:
      return absl::FailedPreconditionError(text);
    case wire::Status::kUnavailable:
    case wire::Status::kBusy:
      return absl::UnavailableError(text);
    case wire::Status::kReloadFailed:
      return absl::AbortedError(text);
    case wire::Status::kOutOfRange:
      return absl::OutOfRangeError(text);
    case wire::Status::kPermissionDenied:
      return absl::PermissionDeniedError(text);
    case wire::Status::kUnauthenticated:
      return absl::UnauthenticatedError(text);
    case wire::Status::kRateLimited:
      return absl::ResourceExhaustedError(text);
    case wire::Status::kNotFound:
      return absl::NotFoundError(text);
    case wire::Status::kAuditUnavailable:
      return absl::UnavailableError(text);
    default:
      return absl::InternalError(text);
  }
}

absl::Status NotSent(absl::Status status) {
  status.SetPayload(kNotSentUrl, absl::Cord("1"));
  return status;
}

bool IsNotSent(const absl::Status& status) { return status.GetPayload(kNotSentUrl).has_value(); }

std::optional<absl::Duration> RetryAfter(const absl::Status& status) {
  const auto payload = status.GetPayload(kRetryAfterUrl);
  uint32_t ms = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &ms)) return std::nullopt;
  return absl::Milliseconds(ms);
}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(std::string_view address,
                                                        absl::Duration timeout) {
  return Connect(address, TlsOptions(), timeout);
}

absl::Status Client::SendBytes(std::string_view bytes) {
  if (!queued_.empty()) SHIXIN_RETURN_IF_ERROR(Flush());
  return SendAll(bytes, absl::Now() + timeout_);
}

absl::Status Client::SendAll(std::string_view bytes, absl::Time deadline) {
  if (fd_ < 0) return absl::UnavailableError("not connected (closed after an earlier error)");
  while (!bytes.empty()) {
    absl::StatusOr<size_t> n = SendSome(bytes, deadline);
    if (!n.ok()) {
      lost_ = absl::IsUnavailable(n.status());  // not a timeout, nor a certificate refused
      Close();  // part of a frame may be out: the stream cannot be resumed
      return n.status();
    }
    bytes.remove_prefix(*n);
  }
  return absl::OkStatus();
}

absl::Status Client::QueueFrame(wire::Opcode op, uint32_t request_id, std::string_view payload) {
  if (payload.size() > wire::kMaxPayloadLimit) {
    return absl::InvalidArgumentError(absl::StrFormat("%s payload of %d bytes exceeds %d", Name(op),
                                                      payload.size(), wire::kMaxPayloadLimit));
  }
  wire::FrameHeader h;
  h.version = version_;
  h.opcode = static_cast<uint8_t>(op);
  h.request_id = request_id;
  h.payload_size = static_cast<uint32_t>(payload.size());
  wire::AppendHeader(h, &queued_);
  queued_.append(payload);
  return absl::OkStatus();
}

absl::Status Client::Flush() { return FlushBy(absl::Now() + timeout_); }

absl::Status Client::FlushBy(absl::Time deadline) {
  std::string bytes;
  bytes.swap(queued_);
  absl::Status s = SendAll(bytes, deadline);
  bytes.clear();
  if (queued_.empty()) queued_.swap(bytes);  // keeps the capacity for the next batch
  return s;
}

absl::Status Client::SendFrame(wire::Opcode op, uint32_t request_id, std::string_view payload) {
  SHIXIN_RETURN_IF_ERROR(QueueFrame(op, request_id, payload));
  return Flush();
}

bool Client::FrameBuffered() const {
  return wire::DecodeFrame(buffer_, wire::kMaxPayloadLimit, version_).result ==
         wire::DecodeResult::kComplete;
}

absl::StatusOr<Frame> Client::ReceiveFrame() { return ReceiveFrameBy(absl::Now() + timeout_); }

absl::StatusOr<Frame> Client::ReceiveFrameBy(absl::Time deadline) {
  for (;;) {
    if (fd_ < 0) return absl::UnavailableError("not connected (closed after an earlier error)");
    wire::Decoded d = wire::DecodeFrame(buffer_, wire::kMaxPayloadLimit, version_);
    if (d.result == wire::DecodeResult::kComplete) {
      Frame frame{d.header, std::string(d.payload)};
      buffer_.erase(0, d.consumed);
      answered_ = true;
      return frame;
    }
    if (d.result == wire::DecodeResult::kInvalid) {
      // An HTTP server's answer ("HTTP/1.1 400 ..."): most likely shixind's http_listen port
      // given where its binary listen port was meant.
      const bool http = std::string_view(buffer_).starts_with("HTTP/");
      Close();
      if (http) {
        return absl::UnavailableError(
            "the server answered in HTTP: is this shixind's http_listen port? shixin speaks the "
            "binary protocol of its listen port (curl and the JSON API use the HTTP port)");
      }
      return absl::InternalError(absl::StrFormat("bad frame from the server: %s", d.message));
    }
    size_t old = buffer_.size();
    buffer_.resize(old + kReadChunk);
    absl::StatusOr<size_t> n = ReceiveSome(buffer_.data() + old, kReadChunk, deadline);
    buffer_.resize(old + (n.ok() ? *n : 0));
    if (absl::IsDeadlineExceeded(n.status())) return n.status();
    if (!n.ok() || *n == 0) {
      lost_ = n.ok() || absl::IsUnavailable(n.status());  // not a certificate refused
      Close();
      const absl::Status s =
          n.ok() ? absl::UnavailableError("connection closed by the server") : n.status();
      if (answered_ || !lost_) return s;
      return absl::UnavailableError(absl::StrFormat("%s before any answer (%s)", s.message(),
                                                    UnansweredCloseHint(tls_.enabled)));
    }
  }
}

absl::Status Client::FitsServer(wire::Opcode op, size_t payload_size) const {
  // Over the server's limit the request would be refused FRAME_TOO_LARGE, and the connection
  // closed with it: the requests after it would fail too.
  const uint32_t limit =
      hello_.has_value() && hello_->max_payload > 0 ? hello_->max_payload : wire::kMaxPayloadLimit;
  if (payload_size <= limit) return absl::OkStatus();
  return NotSent(absl::InvalidArgumentError(
      absl::StrFormat("%s: a payload of %d bytes exceeds the server's limit of %d (HELLO "
                      "max_payload)",
                      Name(op), payload_size, limit)));
}

absl::StatusOr<Frame> Client::Call(wire::Opcode op, std::string_view payload, absl::Time deadline) {
  deadline = std::min(deadline, absl::Now() + timeout_);
  SHIXIN_RETURN_IF_ERROR(FitsServer(op, payload.size()));
  uint32_t id = NextRequestId();
  SHIXIN_RETURN_IF_ERROR(QueueFrame(op, id, payload));
  SHIXIN_RETURN_IF_ERROR(FlushFor(op, deadline));
  return Judge(op, id, ReceiveFrameBy(deadline));
}

absl::Status Client::FlushFor(wire::Opcode op, absl::Time deadline) {
  absl::Status s = FlushBy(deadline);
  if (!absl::IsDeadlineExceeded(s)) return s;
  return absl::DeadlineExceededError(absl::StrFormat(
      "%s: not sent in %s (the server does not read)", Name(op), absl::FormatDuration(timeout_)));
}

bool Client::Answers(const wire::FrameHeader& h, uint32_t id) {
  return (h.flags & wire::kFlagResponse) != 0 &&
         (h.request_id == id ||
          (h.request_id == 0 && wire::IsFatal(static_cast<wire::Status>(h.status))));
}

absl::StatusOr<Frame> Client::Judge(wire::Opcode op, uint32_t id, absl::StatusOr<Frame> frame) {
  if (absl::IsDeadlineExceeded(frame.status())) {
    Close();  // the late answer would be taken for the next call's
    return absl::DeadlineExceededError(
        absl::StrFormat("%s: no response in %s", Name(op), absl::FormatDuration(timeout_)));
  }
  if (!frame.ok()) return frame.status();
  const wire::FrameHeader& h = frame->header;
  auto status = static_cast<wire::Status>(h.status);
  if (!Answers(h, id) || (status == wire::Status::kOk && h.opcode != static_cast<uint8_t>(op))) {
    Close();
    return absl::InternalError(
        absl::StrFormat("%s: unexpected response id %u opcode %d flags 0x%04x (expected id %u)",
                        Name(op), h.request_id, h.opcode, h.flags, id));
  }
  if (status == wire::Status::kOk) return frame;
  absl::StatusOr<wire::ErrorResponse> error = wire::DecodeError(frame->payload, status, h.version);
  if (wire::IsFatal(status)) Close();  // the server has closed its end
  if (!error.ok()) return StatusFromWire(status, "(malformed error message)");
  std::optional<uint32_t> retry_after;
  if (wire::HasRetryAfter(status, h.version)) retry_after = error->retry_after_ms;
  return StatusFromWire(status, error->message, retry_after);
}

namespace {

template <typename T>
Reply<T> MakeReply(const Frame& frame, T value) {
  return Reply<T>{std::move(value), frame.header.generation,
                  (frame.header.flags & wire::kFlagStale) != 0};
}

// Wraps a decoding failure of a response: the server sent what this client cannot read.
absl::Status BadResponse(const absl::Status& status) {
  return absl::InternalError(absl::StrFormat("malformed response: %s", status.message()));
}

// An as-of instant needs version 2: version 1 has no field for it, and would answer for now.
absl::Status CheckAsOf(std::string_view op, int64_t as_of, uint8_t version) {
  if (as_of == wire::kAsOfNow || version >= 2) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrFormat(
      "%s as of an instant needs protocol version 2; this connection speaks %d", op, version));
}

absl::Status CheckIdSize(std::string_view what, std::string_view id) {
  if (id.size() <= wire::kMaxIdBytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat("%s of %d bytes exceeds the limit of %d", what,
                                                    id.size(), wire::kMaxIdBytes));
}

// Credentials need version 3 and must fit their fields (FORMAT.md 14).
absl::Status CheckCredentials(const Credentials& c, uint8_t max_version) {
  if (c.empty()) return absl::OkStatus();
  if (max_version < 3) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "credentials need protocol version 3 (this client offers %d)", max_version));
  }
  if (c.caller_id.size() > wire::kMaxCallerIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("caller id of %d bytes exceeds the limit of %d", c.caller_id.size(),
                        wire::kMaxCallerIdBytes));
  }
  if (c.token.size() > wire::kMaxTokenBytes) {
    return absl::InvalidArgumentError(absl::StrFormat("token of %d bytes exceeds the limit of %d",
                                                      c.token.size(), wire::kMaxTokenBytes));
  }
  return absl::OkStatus();
}

// The request context needs version 4 (FORMAT.md 15) and must fit its fields.
absl::Status CheckContext(std::string_view op, const wire::RequestContext& c, uint8_t version) {
  if (c.matter.empty() && c.operator_id.empty() && c.purpose.empty()) return absl::OkStatus();
  if (version < 4) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s with a matter, operator or purpose needs protocol version 4; this connection "
        "speaks %d",
        op, version));
  }
  for (const auto& [what, value, max] : {std::tuple<std::string_view, std::string_view, size_t>{
                                             "matter", c.matter, wire::kMaxMatterBytes},
                                         {"operator", c.operator_id, wire::kMaxOperatorBytes},
                                         {"purpose", c.purpose, wire::kMaxPurposeBytes}}) {
    if (value.size() > max) {
      return absl::InvalidArgumentError(
          absl::StrFormat("the %s of %d bytes exceeds the limit of %d", what, value.size(), max));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckFeedback(const wire::FeedbackRequest& m, uint8_t version) {
  if (version < 4) {
    return absl::FailedPreconditionError(
        absl::StrFormat("FEEDBACK needs protocol version 4; this connection speaks %d", version));
  }
  if (m.receipt.empty() || m.receipt.size() > 0xFF) {
    return absl::InvalidArgumentError("FEEDBACK needs a receipt (at most 255 bytes)");
  }
  if (m.operator_id.size() > wire::kMaxOperatorBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("the operator of %d bytes exceeds the limit of %d", m.operator_id.size(),
                        wire::kMaxOperatorBytes));
  }
  if (m.items.empty() || m.items.size() > wire::kMaxFeedbackItems) {
    return absl::InvalidArgumentError(absl::StrFormat("FEEDBACK takes 1 to %d measures, not %d",
                                                      wire::kMaxFeedbackItems, m.items.size()));
  }
  for (const wire::FeedbackItem& item : m.items) {
    if (item.reason.size() > wire::kMaxReasonBytes) {
      return absl::InvalidArgumentError(
          absl::StrFormat("measure %d: a reason of %d bytes exceeds the limit of %d", item.measure,
                          item.reason.size(), wire::kMaxReasonBytes));
    }
  }
  return wire::CheckFeedbackItems(m.items);
}

// Returns why CHECK of `ids` cannot be sent in `version`, or OK.
absl::Status CheckCheckRequest(const std::vector<std::string>& ids, int64_t as_of,
                               const wire::RequestContext& context, uint8_t version) {
  SHIXIN_RETURN_IF_ERROR(CheckAsOf("CHECK", as_of, version));
  SHIXIN_RETURN_IF_ERROR(CheckContext("CHECK", context, version));
  if (ids.empty() || ids.size() > 0xFFFF) {
    return absl::InvalidArgumentError(
        absl::StrFormat("CHECK takes 1 to 65535 IDs, not %d", ids.size()));
  }
  for (const std::string& id : ids) SHIXIN_RETURN_IF_ERROR(CheckIdSize("an ID", id));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Credentials> ReadCredentials(const std::optional<std::string>& caller,
                                            const std::optional<std::string>& token_file,
                                            const char* env_token) {
  if (!caller.has_value()) {
    if (token_file.has_value()) {
      return absl::InvalidArgumentError("--token-file needs --caller ID");
    }
    return Credentials{};  // SHIXIN_TOKEN alone names no caller: ignored
  }
  if (caller->empty()) return absl::InvalidArgumentError("--caller: empty caller id");
  Credentials credentials{*caller, ""};
  if (token_file.has_value()) {
    std::ifstream in(*token_file);
    std::error_code error;
    if (std::filesystem::is_directory(*token_file, error)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--token-file %s: is a directory", *token_file));
    }
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--token-file %s: cannot read it", *token_file));
    }
    std::getline(in, credentials.token);
  } else if (env_token != nullptr) {
    credentials.token = env_token;
  } else {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--caller %s needs a token: --token-file FILE or the environment variable %s", *caller,
        kTokenEnv));
  }
  // A file saved by Notepad starts with a byte order mark: not part of the token.
  const std::string_view token = StripUtf8Bom(credentials.token);
  credentials.token =
      std::string(absl::StripAsciiWhitespace(absl::string_view(token.data(), token.size())));
  if (credentials.token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("the token of --caller %s is empty", *caller));
  }
  return credentials;
}

absl::StatusOr<Reply<wire::HelloResponse>> Client::Hello(std::string_view client_name,
                                                         const Credentials& credentials) {
  SHIXIN_RETURN_IF_ERROR(CheckCredentials(credentials, max_version_));
  const absl::Time deadline = absl::Now() + timeout_;  // of the whole call, retries included
  const bool first = !hello_args_.has_value();
  lost_ = false;
  absl::StatusOr<Reply<wire::HelloResponse>> reply = HelloOnce(client_name, credentials, deadline);
  // The first connection closed during its HELLO (a balancer's session to a hung replica cut at
  // its health check) is opened again as a lost one is (Reconnect()): HELLO carries no request.
  // Later HELLOs are repeated by Reconnect() itself.
  for (int attempt = 1;
       !reply.ok() && lost_ && first && options_.retry_idempotent && !address_.empty() &&
       attempt < ClientOptions::kReconnectAttempts && PauseBefore(attempt, deadline);
       ++attempt) {
    lost_ = false;
    if (absl::Status s = Reopen(deadline); !s.ok()) {
      lost_ = absl::IsUnavailable(s);  // refused now: tried again, as Reconnect() does
      reply = absl::Status(s.code(), absl::StrFormat("HELLO: %s", s.message()));
      continue;
    }
    reply = HelloOnce(client_name, credentials, deadline);
  }
  // A refused HELLO negotiates nothing (FORMAT.md 14): closed, as Reconnect()'s HELLO is, so a
  // later call does not go out unauthenticated or in the wrong version.
  if (!reply.ok()) Close();
  return reply;
}

absl::StatusOr<Reply<wire::HelloResponse>> Client::HelloOnce(std::string_view client_name,
                                                             const Credentials& credentials,
                                                             absl::Time deadline) {
  wire::HelloRequest request;
  request.max_version = max_version_;
  request.client_name = std::string(client_name);
  request.caller_id = credentials.caller_id;
  request.token = credentials.token;
  std::string payload;
  wire::Encode(request, &payload);
  SHIXIN_ASSIGN_OR_RETURN(const Frame frame, Call(wire::Opcode::kHello, payload, deadline));
  absl::StatusOr<wire::HelloResponse> response = wire::DecodeHelloResponse(frame.payload);
  if (!response.ok()) return BadResponse(response.status());
  if (response->version > max_version_) {
    Close();
    return absl::InternalError(absl::StrFormat(
        "HELLO: the server chose version %d, above ours (%d)", response->version, max_version_));
  }
  version_ = response->version;
  hello_ = *response;
  hello_args_.emplace(std::string(client_name), credentials);
  return MakeReply(frame, *std::move(response));
}

absl::StatusOr<Reply<bool>> Client::Ping() {
  SHIXIN_ASSIGN_OR_RETURN(const Frame frame, Call(wire::Opcode::kPing, ""));
  if (absl::Status s = wire::DecodeEmpty(frame.payload); !s.ok()) return BadResponse(s);
  return MakeReply(frame, true);
}

absl::StatusOr<Reply<std::vector<CheckAnswerCopy>>> Client::Check(
    const std::vector<std::string>& ids, int64_t as_of, const wire::RequestContext& context) {
  if (absl::Status s = CheckCheckRequest(ids, as_of, context, version_); !s.ok()) {
    return NotSent(s);
  }
  SHIXIN_ASSIGN_OR_RETURN(
      const Frame frame, CallIdempotent(wire::Opcode::kCheck, [&](std::string* payload) {
        wire::Encode(wire::CheckRequest{ids, as_of, context}, payload, version_);
      }));
  absl::StatusOr<std::vector<wire::CheckAnswer>> answers =
      wire::DecodeCheckResponse(frame.payload, version_);
  if (!answers.ok()) return BadResponse(answers.status());
  if (answers->size() != ids.size()) {
    return absl::InternalError(
        absl::StrFormat("CHECK: %d answers for %d IDs", answers->size(), ids.size()));
  }
  std::vector<CheckAnswerCopy> copies;
  copies.reserve(answers->size());
  for (const wire::CheckAnswer& a : *answers) {
    copies.push_back(CheckAnswerCopy{a.status, std::string(a.error), std::string(a.id), a.kind,
                                     a.cases, a.roles, std::string(a.name), a.since, a.until,
                                     std::string(a.receipt)});
  }
  return MakeReply(frame, std::move(copies));
}

namespace {

// Returns why MEASURES `request` cannot be sent in `version`, or OK.
absl::Status CheckMeasuresRequest(const wire::MeasuresRequest& request, uint8_t version) {
  if (request.officers.size() > wire::kMaxOfficers) {
    return absl::InvalidArgumentError(absl::StrFormat("%d officers; MEASURES takes at most %d",
                                                      request.officers.size(), wire::kMaxOfficers));
  }
  SHIXIN_RETURN_IF_ERROR(CheckAsOf("MEASURES", request.as_of, version));
  SHIXIN_RETURN_IF_ERROR(CheckContext("MEASURES", request.context, version));
  SHIXIN_RETURN_IF_ERROR(CheckIdSize("the ID", request.id));
  SHIXIN_RETURN_IF_ERROR(CheckIdSize("the agency", request.agency));
  SHIXIN_RETURN_IF_ERROR(CheckIdSize("the scenario", request.scenario));
  for (const auto& [role, id] : request.officers) {
    if (static_cast<int>(role) >= kRoleCount) {
      return absl::InvalidArgumentError(absl::StrFormat("an officer's role %d is out of range 0-%d",
                                                        static_cast<int>(role), kRoleCount - 1));
    }
    SHIXIN_RETURN_IF_ERROR(CheckIdSize("an officer's ID", id));
  }
  return absl::OkStatus();
}

// Returns the reply in a MEASURES answer `frame` (or the error it is) of `version`.
absl::StatusOr<Reply<MeasuresResult>> MeasuresReply(absl::StatusOr<Frame> frame, uint8_t version) {
  if (!frame.ok()) return frame.status();
  std::string receipt;
  absl::StatusOr<MeasuresResult> result =
      wire::DecodeMeasuresResponseAndReceipt(frame->payload, version, &receipt);
  if (!result.ok()) return BadResponse(result.status());
  Reply<MeasuresResult> reply = MakeReply(*frame, *std::move(result));
  reply.receipt = std::move(receipt);
  return reply;
}

// Returns the reply in a DETAIL answer `frame` (or the error it is) of `version`.
absl::StatusOr<Reply<CheckResult>> DetailReply(absl::StatusOr<Frame> frame, uint8_t version) {
  if (!frame.ok()) return frame.status();
  absl::StatusOr<CheckResult> result = wire::DecodeDetailResponse(frame->payload, version);
  if (!result.ok()) return BadResponse(result.status());
  return MakeReply(*frame, *std::move(result));
}

}  // namespace

absl::StatusOr<Reply<MeasuresResult>> Client::Measures(const wire::MeasuresRequest& request) {
  if (absl::Status s = CheckMeasuresRequest(request, version_); !s.ok()) return NotSent(s);
  return MeasuresReply(
      CallIdempotent(wire::Opcode::kMeasures,
                     [&](std::string* payload) { wire::Encode(request, payload, version_); }),
      version_);
}

absl::StatusOr<Reply<CheckResult>> Client::Detail(std::string_view id, int64_t as_of) {
  SHIXIN_RETURN_IF_ERROR(CheckAsOf("DETAIL", as_of, version_));
  SHIXIN_RETURN_IF_ERROR(CheckIdSize("the ID", id));
  return DetailReply(
      CallIdempotent(wire::Opcode::kDetail,
                     [&](std::string* payload) {
                       wire::Encode(wire::DetailRequest{std::string(id), as_of}, payload, version_);
                     }),
      version_);
}

absl::Status Client::DetailEach(
    const std::vector<std::string>& ids, int64_t as_of, size_t window,
    absl::FunctionRef<void(size_t, absl::StatusOr<Reply<CheckResult>>)> answer) {
  SHIXIN_RETURN_IF_ERROR(CheckAsOf("DETAIL", as_of, version_));
  for (const std::string& id : ids) SHIXIN_RETURN_IF_ERROR(CheckIdSize("an ID", id));
  wire::DetailRequest request{"", as_of};
  return CallPipelined(
      wire::Opcode::kDetail, ids.size(), window,
      [&](size_t i, std::string* payload) {
        request.id = ids[i];
        wire::Encode(request, payload, version_);
      },
      [&](size_t i, absl::StatusOr<Frame> frame) {
        answer(i, DetailReply(std::move(frame), version_));
      });
}

absl::Status Client::MeasuresEach(
    const wire::MeasuresRequest& request, const std::vector<std::string>& ids, size_t window,
    absl::FunctionRef<void(size_t, absl::StatusOr<Reply<MeasuresResult>>)> answer) {
  wire::MeasuresRequest each = request;
  for (const std::string& id : ids) {
    each.id = id;
    if (absl::Status s = CheckMeasuresRequest(each, version_); !s.ok()) return NotSent(s);
  }
  return CallPipelined(
      wire::Opcode::kMeasures, ids.size(), window,
      [&](size_t i, std::string* payload) {
        each.id = ids[i];
        wire::Encode(each, payload, version_);
      },
      [&](size_t i, absl::StatusOr<Frame> frame) {
        answer(i, MeasuresReply(std::move(frame), version_));
      });
}

absl::StatusOr<Reply<wire::InfoResponse>> Client::Info() {
  SHIXIN_ASSIGN_OR_RETURN(const Frame frame, Call(wire::Opcode::kInfo, ""));
  absl::StatusOr<wire::InfoResponse> info = wire::DecodeInfoResponse(frame.payload, version_);
  if (!info.ok()) return BadResponse(info.status());
  return MakeReply(frame, *std::move(info));
}

absl::StatusOr<Reply<wire::ReloadResponse>> Client::Reload(const wire::ReloadRequest& request) {
  std::string payload;
  wire::Encode(request, &payload);
  SHIXIN_ASSIGN_OR_RETURN(const Frame frame, Call(wire::Opcode::kReload, payload));
  absl::StatusOr<wire::ReloadResponse> reload = wire::DecodeReloadResponse(frame.payload);
  if (!reload.ok()) return BadResponse(reload.status());
  return MakeReply(frame, *std::move(reload));
}

absl::StatusOr<Reply<wire::CatalogResponse>> Client::Catalog() {
  if (hello_ && (hello_->capabilities & wire::kCapabilityCatalog) == 0) {
    return absl::UnimplementedError("CATALOG: the server does not offer it (HELLO capabilities)");
  }
  SHIXIN_ASSIGN_OR_RETURN(const Frame frame, Call(wire::Opcode::kCatalog, ""));
  absl::StatusOr<wire::CatalogResponse> catalog = wire::DecodeCatalogResponse(frame.payload);
  if (!catalog.ok()) return BadResponse(catalog.status());
  return MakeReply(frame, *std::move(catalog));
}

absl::StatusOr<Reply<wire::FeedbackResponse>> Client::Feedback(
    const wire::FeedbackRequest& request) {
  SHIXIN_RETURN_IF_ERROR(CheckFeedback(request, version_));
  std::string payload;
  wire::Encode(request, &payload);
  SHIXIN_ASSIGN_OR_RETURN(const Frame frame, Call(wire::Opcode::kFeedback, payload));
  absl::StatusOr<wire::FeedbackResponse> response = wire::DecodeFeedbackResponse(frame.payload);
  if (!response.ok()) return BadResponse(response.status());
  return MakeReply(frame, *std::move(response));
}

}  // namespace shixin
