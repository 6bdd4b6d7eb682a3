// The shixin wire format: frames of a 20-byte header and a payload, all integers big-endian
// (network byte order). protocol/FORMAT.md is the specification; this header mirrors it.
//
//   offset size field
//   0      2    magic 0x53 0x58 ("SX")
//   2      1    version (the connection's: 1, or 2 to 4 once a HELLO negotiated it)
//   3      1    opcode
//   4      2    flags (kFlagResponse, kFlagStale)
//   6      2    status (responses; 0 in requests)
//   8      4    request id (echoed in the response)
//   12     4    generation of the snapshot that answered (responses; 0 in requests)
//   16     4    payload length in bytes
//
// Thread safety: pure functions and constants.
#ifndef SHIXIN_PROTOCOL_WIRE_H_
#define SHIXIN_PROTOCOL_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace shixin::wire {

inline constexpr uint8_t kMagic0 = 0x53;  // 'S'
inline constexpr uint8_t kMagic1 = 0x58;  // 'X'
// The version of every connection until a HELLO negotiates another (FORMAT.md 4).
inline constexpr uint8_t kVersion = 1;
// The highest version this implementation speaks: version 2 adds as-of instants and the
// listing stretch (FORMAT.md 13), version 3 callers: credentials in HELLO, the caller in its
// answer, the security block of INFO and the wait of RATE_LIMITED (FORMAT.md 14), version 4
// receipts and feedback: the request context, receipts, FEEDBACK, INFO's audit block (FORMAT.md
// 15).
inline constexpr uint8_t kMaxVersion = 4;
inline constexpr size_t kHeaderSize = 20;
// The largest payload any implementation must accept; servers may announce less in HELLO.
inline constexpr uint32_t kMaxPayloadLimit = 16u << 20;

enum class Opcode : uint8_t {
  kHello = 1,
  kPing = 2,
  kCheck = 3,
  kMeasures = 4,
  kDetail = 5,
  kInfo = 6,
  kReload = 7,
  kCatalog = 8,   // added to version 1 later: announced by kCapabilityCatalog in HELLO
  kFeedback = 9,  // version 4
};
// Returns "HELLO", "PING", ... or "UNKNOWN".
std::string_view OpcodeName(Opcode op);
// Returns whether `op` is an operation of a connection of `version`: 1-8, and 9 (FEEDBACK) from
// version 4; 0 and the rest are reserved.
bool IsKnownOpcode(uint8_t op, uint8_t version);

// Bits of the HELLO response's capabilities. Clients ignore bits they do not know.
inline constexpr uint32_t kCapabilityCatalog = 0x00000001;  // the server answers CATALOG

inline constexpr uint16_t kFlagResponse = 0x0001;
// The answering snapshot is older than the server's configured maximum age.
inline constexpr uint16_t kFlagStale = 0x0002;

// Response status codes. A response with a non-zero status has an error payload (a UTF-8
// message, str16; in version 3 RATE_LIMITED adds the wait). Codes 1-5 are fatal: the server closes
// the connection after sending them.
enum class Status : uint16_t {
  kOk = 0,
  kBadFrame = 1,            // bad magic, or a header field that must be 0 is not (fatal)
  kUnsupportedVersion = 2,  // (fatal)
  kUnknownOpcode = 3,       // (fatal)
  kFrameTooLarge = 4,       // payload length above the server's limit (fatal)
  kBadPayload = 5,          // payload does not match the opcode's layout (fatal)
  kInvalidId = 6,           // the request's single ID is invalid (MEASURES, DETAIL)
  kInvalidArgument = 7,     // e.g. unknown agency or scenario, 0 or more than max_batch IDs
  kStaleRefused = 8,        // the server refuses measures from a stale snapshot (fail closed)
  kBusy = 9,                // the server cannot take the request now
  kUnavailable = 10,        // no snapshot loaded yet, or shutting down
  kPermissionDenied = 11,   // the caller's scopes do not allow this (or RELOAD from a non-admin)
  kReloadFailed = 12,       // RELOAD: the new list was refused; the old one keeps serving
  kInternal = 13,
  kOutOfRange = 14,        // version 2: an as-of instant outside the history window
  kUnauthenticated = 15,   // not authenticated, or HELLO's credentials were refused
  kRateLimited = 16,       // over the caller's quota; version 3 errors carry the wait (ms)
  kNotFound = 17,          // version 4: FEEDBACK for a receipt the server does not know
  kAuditUnavailable = 18,  // version 4: the audit cannot be written (or there is none)
};
std::string_view StatusName(Status status);
// Returns whether the server closes the connection after a response with this status.
bool IsFatal(Status status);
// Maps a status of the core (absl) to the wire code used for it; the one place where the
// mapping lives. OK -> kOk; InvalidArgument -> kInvalidArgument; FailedPrecondition ->
// kStaleRefused; ResourceExhausted -> kRateLimited; Unavailable -> kUnavailable;
// PermissionDenied -> kPermissionDenied; Unauthenticated -> kUnauthenticated; Aborted ->
// kReloadFailed; OutOfRange -> kOutOfRange; everything else -> kInternal.
Status FromAbsl(const absl::Status& status);

struct FrameHeader {
  uint8_t version = kVersion;
  uint8_t opcode = 0;
  uint16_t flags = 0;
  uint16_t status = 0;
  uint32_t request_id = 0;
  uint32_t generation = 0;
  uint32_t payload_size = 0;
};

// Writes the 20-byte encoding of `h` (magic included) to `out[0..20)`.
void EncodeHeader(const FrameHeader& h, char* out);

// Appends the 20-byte encoding of `h` to `out` (magic included).
void AppendHeader(const FrameHeader& h, std::string* out);

enum class DecodeResult { kComplete, kNeedMore, kInvalid };

// The outcome of decoding the front of a byte stream.
struct Decoded {
  DecodeResult result = DecodeResult::kNeedMore;
  FrameHeader header;          // kComplete; kInvalid: as read (bad magic: id, opcode 0)
  std::string_view payload;    // kComplete: points into the input
  size_t consumed = 0;         // kComplete: header + payload bytes
  Status error = Status::kOk;  // kInvalid: why (kBadFrame, kUnsupportedVersion, kFrameTooLarge)
  std::string message;         // kInvalid: human-readable detail
};

// Decodes one frame from the front of `data`. Never reads past data.size(); never allocates
// on the kComplete and kNeedMore paths. The checks come in the order of FORMAT.md section 2: a
// wrong magic byte fails as soon as it is there (kBadFrame, request id and opcode 0: the bytes
// are not this protocol); once the 20-byte header is whole, a version other than `version` (the
// connection's: 1 until a HELLO negotiated another) fails with kUnsupportedVersion, then a payload
// length above `max_payload` (the receiver's limit) with kFrameTooLarge, both without waiting for
// the payload and with `header` filled in, so that the answer can echo the request id and opcode.
//
// Both sides use this function, so it checks only what is the same in both directions (magic,
// version, length). The caller checks direction: the server that a request has flags, status
// and generation 0 (else kBadFrame) and a known opcode (else kUnknownOpcode); the client that a
// response has kFlagResponse set.
Decoded DecodeFrame(std::string_view data, uint32_t max_payload, uint8_t version = kVersion);

}  // namespace shixin::wire

#endif  // SHIXIN_PROTOCOL_WIRE_H_
