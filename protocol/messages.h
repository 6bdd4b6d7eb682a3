// The payloads of each operation (protocol/FORMAT.md, section 8), with encoders and
// decoders; those of INFO, RELOAD and CATALOG are in protocol/operator_messages.h. Strings are
// length-prefixed UTF-8: str8 (u8 length), str16 (u16), str32 (u32).
//
// Encoders never fail. A string longer than its prefix allows is cut to the longest prefix
// that ends on a UTF-8 character boundary (TruncateUtf8); this is how a CHECK answer's name
// (str8) is limited to 255 bytes. A list longer than its count field allows (65535, or 255 for
// u8 counts) is cut to that many entries; callers check the protocol's own limits (max_batch,
// kMaxOfficers, kMaxIdBytes) before encoding a request, as Client does.
//
// Decoders are strict: they reject truncated payloads, trailing bytes, enum values out of
// range (role > 6, or 0xFF where "none" is not allowed; kind > 1; check status > 3; effect > 5;
// basis type > 2; sex > 2; a 0/1 byte > 1; unknown subject flags; an until of the largest i64)
// and counts over the limits, with InvalidArgument naming the payload, the field and the byte
// offset (the server answers kBadPayload). They do not validate UTF-8. So for any payload p
// that decodes, encoding the result gives p back byte for byte (with the same version).
//
// Versions (FORMAT.md 13): functions whose layout differs between versions take the
// connection's `version` (default 1). Version 2 adds an as-of instant to CHECK, MEASURES and
// DETAIL requests, the listing stretch (since, until) to a listed CHECK answer and to the
// subject block, the case fields of version 2 (CaseField::wire_version) and the delta state to
// INFO (operator_messages.h). Version 3 (FORMAT.md 14) adds callers: credentials to the HELLO
// request (when its max_version is 3 or more), the caller to the HELLO response (when its version
// is 3 or more), the security block to INFO, and the wait to a RATE_LIMITED error. Version 4
// (FORMAT.md 15) adds the request context to CHECK and MEASURES requests, the receipt to CHECK
// answers of status listed and related and to MEASURES responses, and the audit block to INFO
// (protocol/feedback_messages.h: those structs and FEEDBACK). Encoders of an older version
// leave those out; its decoders leave them at their defaults.
//
// Thread safety: pure functions.
#ifndef SHIXIN_PROTOCOL_MESSAGES_H_
#define SHIXIN_PROTOCOL_MESSAGES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/catalog.h"
#include "core/query.h"
#include "core/snapshot.h"
#include "core/types.h"
#include "core/validity.h"
#include "protocol/feedback_messages.h"
#include "protocol/wire.h"

namespace shixin::wire {

// Protocol limits that do not depend on the server's configuration.
inline constexpr size_t kMaxIdBytes = 255;  // an ID as typed (str8)
inline constexpr size_t kMaxOfficers = 16;  // officers in one MEASURES request
// The role byte that means "no role" where a role is optional (a basis's role and via_role).
inline constexpr uint8_t kNoRole = 0xFF;
// The wire's "now" for an as-of instant, and its "since ever" and "no known end" for a listing
// stretch (kForever in the core).
inline constexpr int64_t kAsOfNow = 0;
// shixind's default history window for as-of answers, in days (five years).
inline constexpr uint32_t kDefaultHistoryDays = 1826;
// Returns `until` as the wire sends it (0 for kForever), and back.
constexpr int64_t WireUntil(int64_t until) { return until == kForever ? 0 : until; }
constexpr int64_t UntilFromWire(int64_t until) { return until == 0 ? kForever : until; }
// The subject block's flags.
inline constexpr uint8_t kSubjectListed = 0x01;
inline constexpr uint8_t kSubjectRelated = 0x02;

// Returns the longest prefix of `s` of at most `max_bytes` bytes that does not split a UTF-8
// character (if `s` is not UTF-8 there, it is cut at `max_bytes`).
std::string_view TruncateUtf8(std::string_view s, size_t max_bytes);

// Version 3 limits of the HELLO request's credentials (the decoder rejects longer ones).
inline constexpr size_t kMaxCallerIdBytes = 64;
inline constexpr size_t kMaxTokenBytes = 255;

// HELLO: version and capability negotiation, and in version 3 authentication.
struct HelloRequest {
  uint8_t max_version = 1;    // the highest protocol version the client speaks
  uint32_t capabilities = 0;  // reserved, 0
  std::string client_name;    // for the server's log, e.g. "bank-loan-gw/2.1"
  // Sent only when max_version >= 3; both empty: no credentials (open mode, or a TLS client
  // certificate names the caller).
  std::string caller_id = {};  // at most kMaxCallerIdBytes
  std::string token = {};      // at most kMaxTokenBytes
};

// How the server admits callers (HELLO response and INFO, version 3).
enum class SecurityMode : uint8_t {
  kOpen = 0,     // open development mode: no callers file, loopback only
  kCallers = 1,  // every connection authenticates as a caller
};
// Returns "open", "callers".
std::string_view SecurityModeName(SecurityMode mode);
struct HelloResponse {
  uint8_t version = 1;         // the version the connection will use
  uint32_t capabilities = 0;   // reserved, 0
  uint32_t max_payload = 0;    // the server's payload limit
  uint16_t max_batch = 0;      // the most IDs in one CHECK
  uint16_t max_in_flight = 0;  // pipelined requests the server reads ahead per connection
  std::string server_name;     // e.g. "shixind/0.1.0"
  std::string catalog_id;      // e.g. "hegang-2018"
  // Version 3 (sent when version >= 3): who the connection is.
  SecurityMode mode = SecurityMode::kOpen;
  std::string caller_id = {};    // the authenticated caller, "" if none
  std::string caller_name = {};  // its display name, or ""
  uint32_t scopes = 0;           // what the connection may do (a core/scope.h ScopeSet)
  uint8_t view = 0;              // 0 full, 1 masked (core/masking.h View)
  uint32_t rate = 0;             // the caller's requests per second, 0: unlimited
  uint32_t burst = 0;            // its token bucket's size
};

// CHECK: a batch of IDs, as typed (each at most 255 bytes). The decoder accepts 0 to 65535
// IDs; the server answers kInvalidArgument for 0 or more than its max_batch.
struct CheckRequest {
  std::vector<std::string> ids;
  int64_t as_of = kAsOfNow;     // version 2: the instant asked about (Unix seconds), or now
  RequestContext context = {};  // version 4
};

// CHECK as the server decodes it, without a copy per ID: the IDs are views into the payload.
// Decoding into the same value again reuses its storage.
struct CheckRequestView {
  std::vector<std::string_view> ids;
  int64_t as_of = kAsOfNow;
  RequestContext context = {};
};

enum class CheckStatus : uint8_t { kInvalid = 0, kUnlisted = 1, kListed = 2, kRelated = 3 };
// Returns "invalid", "unlisted", "listed", "related".
std::string_view CheckStatusName(CheckStatus status);

// One compact answer. Views point into the decoded payload (or the encoder's sources).
struct CheckAnswer {
  CheckStatus status = CheckStatus::kUnlisted;
  std::string_view error;                   // kInvalid: the reason
  std::string_view id;                      // otherwise: the normalised ID
  SubjectKind kind = SubjectKind::kPerson;  // kListed, kRelated
  uint16_t cases = 0;                       // kListed: case count (saturates at 65535)
  uint16_t roles = 0;                       // kListed, kRelated: roles in listed organisations
  std::string_view name;                    // kListed, kRelated (at most 255 bytes)
  int64_t since = 0;                        // version 2, kListed: 0 = since ever
  int64_t until = kForever;                 // version 2, kListed: kForever = no known end
  std::string_view receipt = {};            // version 4, kListed, kRelated: "" = no audit
};

// Appends one answer; the server calls this per ID without building a vector.
void AppendCheckAnswer(const CheckAnswer& a, std::string* out, uint8_t version = 1);
// Appends the u16 count that precedes the answers.
void AppendCheckCount(uint16_t count, std::string* out);
// Returns the ID count a CHECK request payload announces (its first field), or 0 if the payload
// is too short to hold it; the payload is not validated further (DecodeCheckRequest() does).
uint16_t PeekCheckCount(std::string_view payload);

// Appends the CHECK request payload for the `n` IDs id_at(0) ... id_at(n - 1), cut to 65535
// IDs of at most kMaxIdBytes each as Encode(CheckRequest) (built on it) cuts them, in version 2
// `as_of` and in version 4 `context` (nullptr: all ""). Allocates nothing when `out` has the
// capacity: a client can encode each request into one reused buffer.
void AppendCheckRequest(size_t n, absl::FunctionRef<std::string_view(size_t)> id_at,
                        std::string* out, uint8_t version = 1, int64_t as_of = kAsOfNow,
                        const RequestContext* context = nullptr);
// Appends the CHECK request payload (version 1) for the single ID `id`.
void AppendCheckRequest(std::string_view id, std::string* out);

// Reads a CHECK response payload one answer at a time, without allocating on the way (an
// error's message aside); DecodeCheckResponse() is built on it. The answers' views point into
// the payload, which must outlive the reader. Rejects what DecodeCheckResponse() rejects:
//
//   CheckResponseReader reader(payload);
//   CheckAnswer answer;
//   while (reader.Next(&answer)) Use(answer);
//   if (!reader.status().ok()) ...  // malformed: the answers read so far are still valid
//
// Thread safety: a reader belongs to one thread.
class CheckResponseReader {
 public:
  // Reads the count; a count the payload cannot hold fails here (status()).
  explicit CheckResponseReader(std::string_view payload, uint8_t version = 1);

  // Returns the number of answers the payload announces (0 if it is malformed there).
  size_t count() const { return count_; }
  // Reads the next answer into `*answer`. Returns false after the last answer, when status()
  // also reports bytes left over, or at the first malformed field, which status() names.
  bool Next(CheckAnswer* answer);
  // Returns OK, or InvalidArgument naming the first malformed field and its byte offset.
  const absl::Status& status() const { return status_; }

 private:
  std::string_view payload_;
  uint8_t version_;
  size_t pos_ = 0;  // of the next answer
  size_t count_ = 0;
  size_t read_ = 0;  // answers read
  bool done_ = false;
  absl::Status status_;
};

// MEASURES: one subject, optional officers (at most kMaxOfficers: the decoder rejects more)
// and filters.
struct MeasuresRequest {
  std::string id;
  std::string agency;    // empty: all agencies
  std::string scenario;  // empty: all scenarios
  std::vector<std::pair<Role, std::string>> officers;
  int64_t as_of = kAsOfNow;     // version 2: the instant asked about (Unix seconds), or now
  RequestContext context = {};  // version 4
};

// DETAIL: one subject's cases, roles and officers.
struct DetailRequest {
  std::string id;
  int64_t as_of = kAsOfNow;  // version 2: the instant asked about (Unix seconds), or now
};

// The head of the subject block that starts MEASURES and DETAIL responses (views into the
// payload), for a client that only needs the verdict, such as the load tool.
struct SubjectHead {
  std::string_view id;
  SubjectKind kind = SubjectKind::kPerson;
  bool listed = false;
  bool related = false;
  int64_t since = 0;  // version 2: the listing stretch, as CheckResult's
  int64_t until = kForever;
};

// Encoders append the payload to `out`.
// HELLO request; caller_id and token only when m.max_version >= 3.
void Encode(const HelloRequest& m, std::string* out);
// HELLO response; the version 3 fields only when m.version >= 3.
void Encode(const HelloResponse& m, std::string* out);
void Encode(const CheckRequest& m, std::string* out, uint8_t version = 1);
void Encode(const MeasuresRequest& m, std::string* out, uint8_t version = 1);
void Encode(const DetailRequest& m, std::string* out, uint8_t version = 1);
// MEASURES response; m.subject.cases is not sent; version 4 ends with `receipt` ("" = no
// audit). REQUIRES: each measure's no is 0-65535.
void Encode(const MeasuresResult& m, std::string* out, uint8_t version = 1,
            std::string_view receipt = {});
// Each measure's fixed part of its entry in a MEASURES answer (number, effect, agency id and
// name, title: FORMAT.md 8.3), encoded once for a catalog so that an answer copies one run of
// bytes per measure. Immutable once made: may be shared between threads.
class MeasureHeads {
 public:
  // REQUIRES: each measure's no is 0-65535.
  explicit MeasureHeads(const Catalog& catalog);
  // Returns Catalog::fingerprint() of the catalog it was made from.
  uint64_t fingerprint() const { return fingerprint_; }
  // Returns the number of measures.
  size_t size() const { return ends_.size(); }
  // Returns the head of the measure at `index` in Catalog::measures(). REQUIRES: index < size().
  std::string_view Of(size_t index) const {
    const size_t begin = index == 0 ? 0 : ends_[index - 1];
    return std::string_view(bytes_).substr(begin, ends_[index] - begin);
  }

 private:
  uint64_t fingerprint_;
  std::string bytes_;           // the heads, one after the other
  std::vector<uint32_t> ends_;  // where each ends in bytes_
};

// The same answer from MatchMeasures()'s (the same bytes as Encode(Measures()'s)).
// REQUIRES: `heads` was made from a catalog with the fingerprint of the one `m` refers to.
void Encode(const MeasureMatches& m, const MeasureHeads& heads, std::string* out,
            uint8_t version = 1, std::string_view receipt = {});
// DETAIL response.
void Encode(const CheckResult& m, std::string* out, uint8_t version = 1);
// The payload of an error response (non-zero status): str16 message (truncated to 65535).
void EncodeError(std::string_view message, std::string* out);
// An error response's payload as a whole: in version 3, a RATE_LIMITED error also carries the
// wait (HasRetryAfter).
struct ErrorResponse {
  std::string message;
  uint32_t retry_after_ms = 0;  // RATE_LIMITED, version 3: try again after this many ms
};
// Returns whether an error of `status` in a frame of `version` carries retry_after_ms.
constexpr bool HasRetryAfter(Status status, uint8_t version) {
  return status == Status::kRateLimited && version >= 3;
}
// Appends the error payload for `status` in `version` (the frame header's version).
void EncodeError(const ErrorResponse& m, Status status, uint8_t version, std::string* out);

// Decoders. Each returns InvalidArgument naming the field when the payload does not match.
// PING, INFO and CATALOG requests and the PING response have an empty payload.
absl::Status DecodeEmpty(std::string_view payload);
absl::StatusOr<HelloRequest> DecodeHelloRequest(std::string_view payload);
absl::StatusOr<HelloResponse> DecodeHelloResponse(std::string_view payload);
absl::StatusOr<CheckRequest> DecodeCheckRequest(std::string_view payload, uint8_t version = 1);
// Decodes the CHECK request `payload` into `*m` as DecodeCheckRequest() does, its IDs views into
// `payload` (which must outlive them). Returns what DecodeCheckRequest() returns on error.
absl::Status DecodeCheckRequest(std::string_view payload, uint8_t version, CheckRequestView* m);
// The answers' views point into `payload`.
absl::StatusOr<std::vector<CheckAnswer>> DecodeCheckResponse(std::string_view payload,
                                                             uint8_t version = 1);
// Returns the ID a MEASURES request asks about (a view into `payload`), or nullopt if the
// payload does not start with one; the rest is not checked (DecodeMeasuresRequest() does).
std::optional<std::string_view> PeekMeasuresId(std::string_view payload);
// Returns the officer count a MEASURES request announces (after its id, agency and scenario),
// or 0 if the payload is too short to hold it; the rest is not checked.
uint8_t PeekMeasuresOfficerCount(std::string_view payload);
absl::StatusOr<MeasuresRequest> DecodeMeasuresRequest(std::string_view payload,
                                                      uint8_t version = 1);
absl::StatusOr<DetailRequest> DecodeDetailRequest(std::string_view payload, uint8_t version = 1);
// Version 4's receipt is checked and dropped; the overload below returns it.
absl::StatusOr<MeasuresResult> DecodeMeasuresResponse(std::string_view payload,
                                                      uint8_t version = 1);
// The same, storing version 4's receipt in `*receipt` ("" before version 4; may be null).
absl::StatusOr<MeasuresResult> DecodeMeasuresResponseAndReceipt(std::string_view payload,
                                                                uint8_t version,
                                                                std::string* receipt);
// Decodes only the subject block's head of a MEASURES or DETAIL response, without allocating
// (on success); the rest of the payload is not checked.
absl::StatusOr<SubjectHead> DecodeSubjectHead(std::string_view payload, uint8_t version = 1);
absl::StatusOr<CheckResult> DecodeDetailResponse(std::string_view payload, uint8_t version = 1);
absl::StatusOr<std::string> DecodeError(std::string_view payload);
// Decodes the error payload of a frame of `status` and `version` (the header's).
absl::StatusOr<ErrorResponse> DecodeError(std::string_view payload, Status status, uint8_t version);

}  // namespace shixin::wire

#endif  // SHIXIN_PROTOCOL_MESSAGES_H_
