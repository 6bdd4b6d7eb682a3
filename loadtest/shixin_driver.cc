#include "loadtest/shixin_driver.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "protocol/messages.h"
#include "protocol/operator_messages.h"
#include "protocol/unanswered_close.h"
#include "protocol/wire.h"

namespace shixin::loadtest {
namespace {

// Appends a request frame: the header for `opcode` and `request_id`, then `payload`.
void AppendFrame(uint8_t version, wire::Opcode opcode, uint32_t request_id,
                 std::string_view payload, std::string* out) {
  wire::FrameHeader h;
  h.version = version;
  h.opcode = static_cast<uint8_t>(opcode);
  h.request_id = request_id;
  h.payload_size = static_cast<uint32_t>(payload.size());
  wire::AppendHeader(h, out);
  out->append(payload);
}

Answer FromCheckStatus(wire::CheckStatus status) {
  switch (status) {
    case wire::CheckStatus::kInvalid:
      return Answer::kInvalid;
    case wire::CheckStatus::kUnlisted:
      break;
    case wire::CheckStatus::kListed:
      return Answer::kListed;
    case wire::CheckStatus::kRelated:
      return Answer::kRelated;
  }
  return Answer::kUnlisted;
}

class ShixinCodec : public Codec {
 public:
  explicit ShixinCodec(const ShixinOptions& options)
      : batch_(options.batch), depth_(options.depth), credentials_(options.credentials) {
    measures_.scenario = options.scenario;
    max_version_ = options.max_version != 0 ? options.max_version
                   : credentials_.empty()   ? wire::kVersion
                                            : uint8_t{3};
  }

  absl::Status Handshake(int fd) override;
  void AppendCheck(uint32_t request_id, const FixedId* const* ids, size_t n,
                   std::string* out) override;
  void AppendMeasures(uint32_t request_id, const FixedId& id, std::string* out) override;
  ParseResult Parse(std::string_view in, size_t* consumed, ParsedResponse* out) override;
  Answer Expected(IdClass cls) const override {
    switch (cls) {
      case IdClass::kHit:
        return Answer::kListed;
      case IdClass::kRelated:
        return Answer::kRelated;
      case IdClass::kMiss:
      case IdClass::kTouched:  // checked against the delta's expectation instead (driver.cc)
        break;
    }
    return Answer::kUnlisted;
  }
  bool uses_request_ids() const override { return true; }

 private:
  // Reads HELLO's answer from `fd` and checks it (see MakeShixinCodec).
  absl::Status ReadHello(int fd);

  const int batch_;
  const int depth_;
  const Credentials credentials_;
  uint8_t max_version_ = wire::kVersion;  // offered in HELLO
  uint8_t version_ = wire::kVersion;      // agreed by HELLO: of every later frame
  // Reused for every request, so that encoding allocates only while they grow.
  wire::MeasuresRequest measures_;  // agency: all; no officers
  std::string payload_;
};

absl::Status ShixinCodec::Handshake(int fd) {
  std::string payload;
  wire::Encode(wire::HelloRequest{max_version_, 0, "shixin-loadtest", credentials_.caller_id,
                                  credentials_.token},
               &payload);
  std::string frame;
  AppendFrame(wire::kVersion, wire::Opcode::kHello, 0, payload, &frame);
  if (send(fd, frame.data(), frame.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(frame.size())) {
    return absl::UnavailableError(absl::StrFormat("HELLO: %s", std::strerror(errno)));
  }
  return ReadHello(fd);
}

absl::Status ShixinCodec::ReadHello(int fd) {
  std::string in;
  char buf[4096];
  while (true) {
    // The HELLO response comes in version 1, whatever it agrees (FORMAT.md 4).
    const wire::Decoded d = wire::DecodeFrame(in, wire::kMaxPayloadLimit);
    if (d.result == wire::DecodeResult::kInvalid) return absl::InternalError("HELLO: bad frame");
    if (d.result == wire::DecodeResult::kNeedMore) {
      const ssize_t got = recv(fd, buf, sizeof(buf), 0);
      if (got == 0 || (got < 0 && errno == ECONNRESET)) {
        return absl::UnavailableError(
            absl::StrFormat("HELLO: connection closed by the server before any answer (%s)",
                            UnansweredCloseHint(/*tls=*/false)));
      }
      if (got < 0) {
        return absl::UnavailableError(absl::StrFormat(
            "HELLO: %s",
            errno == EAGAIN || errno == EWOULDBLOCK ? "no answer in 5 s" : std::strerror(errno)));
      }
      in.append(buf, got);
      continue;
    }
    if (d.header.status != 0) {
      const auto status = static_cast<wire::Status>(d.header.status);
      absl::StatusOr<wire::ErrorResponse> error =
          wire::DecodeError(d.payload, status, d.header.version);
      return absl::UnauthenticatedError(absl::StrFormat(
          "HELLO refused%s: %s: %s",
          credentials_.empty() ? "" : absl::StrCat(" (caller ", credentials_.caller_id, ")"),
          wire::StatusName(status), error.ok() ? error->message : "(unreadable message)"));
    }
    absl::StatusOr<wire::HelloResponse> r = wire::DecodeHelloResponse(d.payload);
    if (!r.ok()) return r.status();
    if (r->version > max_version_) {
      return absl::InternalError(absl::StrFormat("HELLO: the server chose version %d, above %d",
                                                 r->version, max_version_));
    }
    if (!credentials_.empty() && r->version < 3) {
      return absl::FailedPreconditionError(
          absl::StrFormat("HELLO: the server speaks version %d, credentials need 3", r->version));
    }
    version_ = r->version;
    if (batch_ > r->max_batch) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--batch %d is above the server's max_batch %d", batch_, r->max_batch));
    }
    if (depth_ > r->max_in_flight) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--depth %d is above the server's max_in_flight %d", depth_, r->max_in_flight));
    }
    return absl::OkStatus();
  }
}

void ShixinCodec::AppendCheck(uint32_t request_id, const FixedId* const* ids, size_t n,
                              std::string* out) {
  payload_.clear();
  wire::AppendCheckRequest(
      n, [ids](size_t i) { return ids[i]->view(); }, &payload_, version_);
  AppendFrame(version_, wire::Opcode::kCheck, request_id, payload_, out);
}

void ShixinCodec::AppendMeasures(uint32_t request_id, const FixedId& id, std::string* out) {
  measures_.id.assign(id.view());
  payload_.clear();
  wire::Encode(measures_, &payload_, version_);
  AppendFrame(version_, wire::Opcode::kMeasures, request_id, payload_, out);
}

ParseResult ShixinCodec::Parse(std::string_view in, size_t* consumed, ParsedResponse* out) {
  const wire::Decoded d = wire::DecodeFrame(in, wire::kMaxPayloadLimit, version_);
  if (d.result == wire::DecodeResult::kNeedMore) return ParseResult::kNeedMore;
  if (d.result == wire::DecodeResult::kInvalid) return ParseResult::kMalformed;
  if ((d.header.flags & wire::kFlagResponse) == 0) return ParseResult::kMalformed;
  *consumed = d.consumed;
  out->request_id = d.header.request_id;
  out->generation = d.header.generation;
  if (d.header.status != 0) {
    out->ok = false;
    const auto status = static_cast<wire::Status>(d.header.status);
    absl::StatusOr<wire::ErrorResponse> error = wire::DecodeError(d.payload, status, version_);
    out->error = absl::StrFormat("%s: %s", wire::StatusName(status),
                                 error.ok() ? error->message : "(unreadable message)");
    return wire::IsFatal(status) ? ParseResult::kMalformed : ParseResult::kComplete;
  }
  if (d.header.opcode == static_cast<uint8_t>(wire::Opcode::kCheck)) {
    wire::CheckResponseReader reader(d.payload, version_);
    wire::CheckAnswer answer;
    while (reader.Next(&answer)) out->answers.push_back(FromCheckStatus(answer.status));
    return reader.status().ok() ? ParseResult::kComplete : ParseResult::kMalformed;
  }
  if (d.header.opcode == static_cast<uint8_t>(wire::Opcode::kMeasures)) {
    // Only the verdict counts here; the measures are not decoded.
    absl::StatusOr<wire::SubjectHead> subject = wire::DecodeSubjectHead(d.payload, version_);
    if (!subject.ok()) return ParseResult::kMalformed;
    out->answers.push_back(subject->listed    ? Answer::kListed
                           : subject->related ? Answer::kRelated
                                              : Answer::kUnlisted);
    return ParseResult::kComplete;
  }
  return ParseResult::kMalformed;
}

}  // namespace

std::unique_ptr<Codec> MakeShixinCodec(const ShixinOptions& options) {
  return std::make_unique<ShixinCodec>(options);
}

absl::Status ShixinReloader::Connect(const std::string& address, const Credentials& credentials) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(address);
  if (!client.ok()) return client.status();
  client_ = std::move(*client);
  if (!credentials.empty()) {
    // Callers mode: RELOAD needs the admin scope of an authenticated caller.
    absl::StatusOr<Reply<wire::HelloResponse>> hello =
        client_->Hello("shixin-loadtest reload", credentials);
    if (!hello.ok()) return hello.status();
  }
  client_->set_timeout(absl::Minutes(10));
  return absl::OkStatus();
}

absl::Status ShixinReloader::Reload(SwapTracker* swaps) {
  swaps->Begin();
  absl::StatusOr<Reply<wire::ReloadResponse>> r = client_->Reload();
  if (!r.ok()) {
    swaps->End(false, std::string(r.status().message()));
    return r.status();
  }
  swaps->End(true, r->value.message);
  return absl::OkStatus();
}

}  // namespace shixin::loadtest
