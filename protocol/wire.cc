#include "protocol/wire.h"

#include <array>

#include "absl/strings/str_format.h"
#include "base/coding.h"
#include "base/enum_names.h"

namespace shixin::wire {
namespace {

Decoded Invalid(Status error, std::string message) {
  Decoded d;
  d.result = DecodeResult::kInvalid;
  d.error = error;
  d.message = std::move(message);
  return d;
}

}  // namespace

std::string_view OpcodeName(Opcode op) {
  static constexpr std::string_view kNames[] = {"HELLO", "PING",   "CHECK",   "MEASURES", "DETAIL",
                                                "INFO",  "RELOAD", "CATALOG", "FEEDBACK"};
  return EnumName(op, kNames, "UNKNOWN", static_cast<int>(Opcode::kHello));
}

bool IsKnownOpcode(uint8_t op, uint8_t version) {
  const Opcode last = version >= 4 ? Opcode::kFeedback : Opcode::kCatalog;
  return op >= static_cast<uint8_t>(Opcode::kHello) && op <= static_cast<uint8_t>(last);
}

std::string_view StatusName(Status status) {
  static constexpr std::array<std::string_view, 19> kNames = {
      "OK",
      "BAD_FRAME",
      "UNSUPPORTED_VERSION",
      "UNKNOWN_OPCODE",
      "FRAME_TOO_LARGE",
      "BAD_PAYLOAD",
      "INVALID_ID",
      "INVALID_ARGUMENT",
      "STALE_REFUSED",
      "BUSY",
      "UNAVAILABLE",
      "PERMISSION_DENIED",
      "RELOAD_FAILED",
      "INTERNAL",
      "OUT_OF_RANGE",
      "UNAUTHENTICATED",
      "RATE_LIMITED",
      "NOT_FOUND",
      "AUDIT_UNAVAILABLE",
  };
  auto i = static_cast<size_t>(status);
  return i < kNames.size() ? kNames[i] : "UNKNOWN_STATUS";
}

bool IsFatal(Status status) {
  auto code = static_cast<uint16_t>(status);
  return code >= static_cast<uint16_t>(Status::kBadFrame) &&
         code <= static_cast<uint16_t>(Status::kBadPayload);
}

Status FromAbsl(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return Status::kOk;
    case absl::StatusCode::kInvalidArgument:
      return Status::kInvalidArgument;
    case absl::StatusCode::kFailedPrecondition:
      return Status::kStaleRefused;
    case absl::StatusCode::kResourceExhausted:
      return Status::kRateLimited;
    case absl::StatusCode::kUnauthenticated:
      return Status::kUnauthenticated;
    case absl::StatusCode::kUnavailable:
      return Status::kUnavailable;
    case absl::StatusCode::kPermissionDenied:
      return Status::kPermissionDenied;
    case absl::StatusCode::kAborted:
      return Status::kReloadFailed;
    case absl::StatusCode::kOutOfRange:
      return Status::kOutOfRange;
    default:
      return Status::kInternal;
  }
}

void EncodeHeader(const FrameHeader& h, char* out) {
  out[0] = static_cast<char>(kMagic0);
  out[1] = static_cast<char>(kMagic1);
  out[2] = static_cast<char>(h.version);
  out[3] = static_cast<char>(h.opcode);
  EncodeBigEndian16(h.flags, out + 4);
  EncodeBigEndian16(h.status, out + 6);
  EncodeBigEndian32(h.request_id, out + 8);
  EncodeBigEndian32(h.generation, out + 12);
  EncodeBigEndian32(h.payload_size, out + 16);
}

void AppendHeader(const FrameHeader& h, std::string* out) {
  char bytes[kHeaderSize];
  EncodeHeader(h, bytes);
  out->append(bytes, sizeof(bytes));
}

Decoded DecodeFrame(std::string_view data, uint32_t max_payload, uint8_t version) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t n = data.size();
  // The magic is checked byte by byte so that garbage (say, an HTTP request) fails before 20
  // bytes arrive; everything else waits for the whole header, so that the answer can echo it.
  if (n >= 1 && p[0] != kMagic0) {
    return Invalid(Status::kBadFrame, absl::StrFormat("bad magic byte 0x%02x", p[0]));
  }
  if (n >= 2 && p[1] != kMagic1) {
    return Invalid(Status::kBadFrame, absl::StrFormat("bad magic byte 0x%02x", p[1]));
  }
  Decoded d;
  if (n < kHeaderSize) return d;  // kNeedMore
  d.header.version = p[2];
  d.header.opcode = p[3];
  d.header.flags = DecodeBigEndian16(data.data() + 4);
  d.header.status = DecodeBigEndian16(data.data() + 6);
  d.header.request_id = DecodeBigEndian32(data.data() + 8);
  d.header.generation = DecodeBigEndian32(data.data() + 12);
  d.header.payload_size = DecodeBigEndian32(data.data() + 16);
  if (d.header.version != version) {
    // Before a HELLO negotiated another version, this side speaks version 1 only.
    Decoded invalid =
        Invalid(Status::kUnsupportedVersion,
                version == kVersion
                    ? absl::StrFormat("unsupported version %d (this connection speaks version "
                                      "1: only a HELLO sent as a connection's first request "
                                      "negotiates another)",
                                      d.header.version)
                    : absl::StrFormat("unsupported version %d (this connection speaks version %d)",
                                      d.header.version, version));
    invalid.header = d.header;
    return invalid;
  }
  if (d.header.payload_size > max_payload) {
    Decoded invalid = Invalid(Status::kFrameTooLarge,
                              absl::StrFormat("payload of %u bytes exceeds the limit of %u",
                                              d.header.payload_size, max_payload));
    invalid.header = d.header;
    return invalid;
  }
  // Compared without adding, so that a huge length cannot overflow.
  if (n - kHeaderSize < d.header.payload_size) return d;  // kNeedMore
  d.result = DecodeResult::kComplete;
  d.payload = data.substr(kHeaderSize, d.header.payload_size);
  d.consumed = kHeaderSize + d.header.payload_size;
  return d;
}

}  // namespace shixin::wire
