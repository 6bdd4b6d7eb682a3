#include "loadtest/shixin_driver.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/strings/str_format.h"
#include "base/coding.h"
#include "protocol/messages.h"
#include "protocol/wire.h"

namespace shixin::loadtest {
namespace {

uint8_t U8(std::string_view p, size_t at) { return static_cast<uint8_t>(p[at]); }

class ShixinCodec : public Codec {
 public:
  ShixinCodec(int batch, int depth, std::string scenario)
      : batch_(batch), depth_(depth), scenario_(std::move(scenario)) {}

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
        break;
    }
    return Answer::kUnlisted;
  }
  bool uses_request_ids() const override { return true; }

 private:
  bool ParseCheck(std::string_view p, ParsedResponse* out);

  const int batch_;
  const int depth_;
  const std::string scenario_;
  uint8_t version_ = wire::kVersion;
};

absl::Status ShixinCodec::Handshake(int fd) {
  std::string payload;
  wire::Encode(wire::HelloRequest{1, 0, "shixin-loadtest"}, &payload);
  std::string frame;
  wire::FrameHeader h;
  h.opcode = static_cast<uint8_t>(wire::Opcode::kHello);
  h.request_id = 0;
  h.payload_size = payload.size();
  wire::AppendHeader(h, &frame);
  frame += payload;
  if (send(fd, frame.data(), frame.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(frame.size())) {
    return absl::UnavailableError(absl::StrFormat("HELLO: %s", std::strerror(errno)));
  }
  std::string in;
  char buf[4096];
  while (true) {
    const wire::Decoded d = wire::DecodeFrame(in, wire::kMaxPayloadLimit);
    if (d.result == wire::DecodeResult::kInvalid) return absl::InternalError("HELLO: bad frame");
    if (d.result == wire::DecodeResult::kComplete) {
      if (d.header.status != 0) return absl::UnavailableError("HELLO refused");
      absl::StatusOr<wire::HelloResponse> r = wire::DecodeHelloResponse(d.payload);
      if (!r.ok()) return r.status();
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
    const ssize_t got = recv(fd, buf, sizeof(buf), 0);
    if (got <= 0) return absl::UnavailableError("HELLO: connection closed");
    in.append(buf, got);
  }
}

void ShixinCodec::AppendCheck(uint32_t request_id, const FixedId* const* ids, size_t n,
                              std::string* out) {
  size_t size = 2;
  for (size_t i = 0; i < n; ++i) size += 1 + ids[i]->size;
  wire::FrameHeader h;
  h.version = version_;
  h.opcode = static_cast<uint8_t>(wire::Opcode::kCheck);
  h.request_id = request_id;
  h.payload_size = static_cast<uint32_t>(size);
  wire::AppendHeader(h, out);
  PutBigEndian16(static_cast<uint16_t>(n), out);
  for (size_t i = 0; i < n; ++i) {
    out->push_back(static_cast<char>(ids[i]->size));
    out->append(ids[i]->text, ids[i]->size);
  }
}

void ShixinCodec::AppendMeasures(uint32_t request_id, const FixedId& id, std::string* out) {
  wire::FrameHeader h;
  h.version = version_;
  h.opcode = static_cast<uint8_t>(wire::Opcode::kMeasures);
  h.request_id = request_id;
  h.payload_size = static_cast<uint32_t>(1 + id.size + 1 + 1 + scenario_.size() + 1);
  wire::AppendHeader(h, out);
  out->push_back(static_cast<char>(id.size));
  out->append(id.text, id.size);
  out->push_back(0);  // agency: all
  out->push_back(static_cast<char>(scenario_.size()));
  out->append(scenario_);
  out->push_back(0);  // no officers
}

// Walks a CHECK response payload (FORMAT.md 8.2), keeping only each answer's status.
bool ShixinCodec::ParseCheck(std::string_view p, ParsedResponse* out) {
  if (p.size() < 2) return false;
  const size_t count = DecodeBigEndian16(p.data());
  size_t at = 2;
  for (size_t i = 0; i < count; ++i) {
    if (at + 2 > p.size()) return false;
    const uint8_t status = U8(p, at);
    at += 2 + U8(p, at + 1);  // status, then str8 error or id
    switch (status) {
      case 0:
        out->answers.push_back(Answer::kInvalid);
        break;
      case 1:
        out->answers.push_back(Answer::kUnlisted);
        break;
      case 2:
      case 3:
        out->answers.push_back(status == 2 ? Answer::kListed : Answer::kRelated);
        at += 5;  // kind, cases, roles
        if (at + 1 > p.size()) return false;
        at += 1 + U8(p, at);  // name
        break;
      default:
        return false;
    }
  }
  return at == p.size();
}

ParseResult ShixinCodec::Parse(std::string_view in, size_t* consumed, ParsedResponse* out) {
  const wire::Decoded d = wire::DecodeFrame(in, wire::kMaxPayloadLimit);
  if (d.result == wire::DecodeResult::kNeedMore) return ParseResult::kNeedMore;
  if (d.result == wire::DecodeResult::kInvalid) return ParseResult::kMalformed;
  if ((d.header.flags & wire::kFlagResponse) == 0) return ParseResult::kMalformed;
  *consumed = d.consumed;
  out->request_id = d.header.request_id;
  if (d.header.status != 0) {
    out->ok = false;
    absl::StatusOr<std::string> message = wire::DecodeError(d.payload);
    out->error =
        absl::StrFormat("%s: %s", wire::StatusName(static_cast<wire::Status>(d.header.status)),
                        message.ok() ? *message : std::string("(unreadable message)"));
    return wire::IsFatal(static_cast<wire::Status>(d.header.status)) ? ParseResult::kMalformed
                                                                     : ParseResult::kComplete;
  }
  if (d.header.opcode == static_cast<uint8_t>(wire::Opcode::kCheck)) {
    return ParseCheck(d.payload, out) ? ParseResult::kComplete : ParseResult::kMalformed;
  }
  if (d.header.opcode == static_cast<uint8_t>(wire::Opcode::kMeasures)) {
    // Subject block: str8 id, u8 kind, u8 flags, ...
    const std::string_view p = d.payload;
    if (p.empty() || p.size() < 3u + U8(p, 0)) return ParseResult::kMalformed;
    const uint8_t flags = U8(p, 2 + U8(p, 0));
    out->answers.push_back((flags & wire::kSubjectListed)    ? Answer::kListed
                           : (flags & wire::kSubjectRelated) ? Answer::kRelated
                                                             : Answer::kUnlisted);
    return ParseResult::kComplete;
  }
  return ParseResult::kMalformed;
}

}  // namespace

std::unique_ptr<Codec> MakeShixinCodec(int batch, int depth, std::string scenario) {
  return std::make_unique<ShixinCodec>(batch, depth, std::move(scenario));
}

absl::Status ShixinReloader::Connect(const std::string& address) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(address);
  if (!client.ok()) return client.status();
  client_ = std::move(*client);
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
