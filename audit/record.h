// The records of the audit (issue 12): what was asked, by whom, what was answered, and what the
// caller reported back. audit/format.h lays them out in segment files; this header is the one
// encoder/decoder of a record's payload.
//
// A decoded record's string fields are views into the bytes it was decoded from (the segment
// buffer): copy them to keep them longer. A record to append views the caller's strings, which
// must live until Append() returns.
//
// Thread safety: plain values and pure functions.
#ifndef SHIXIN_AUDIT_RECORD_H_
#define SHIXIN_AUDIT_RECORD_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace shixin::audit {

enum class RecordType : uint8_t {
  kQuery = 1,     // one subject asked in a CHECK, MEASURES or DETAIL request, and the answer
  kFeedback = 2,  // a caller's report of what it did with the measures of one receipt
  kSeal = 3,      // format 2: the chain value ending one write (audit/format.h); no payload here
};

// What the answer said about the subject (as CHECK's statuses 1-3).
enum class Listing : uint8_t { kUnlisted = 1, kListed = 2, kRelated = 3 };

// What a caller did with one measure of a receipt.
enum class Outcome : uint8_t { kApplied = 0, kNotApplied = 1, kCancelled = 2 };

// Returns "applied", "not_applied" or "cancelled"; and back (false: unknown name).
std::string_view OutcomeName(Outcome outcome);
bool OutcomeFromName(std::string_view name, Outcome* outcome);

struct QueryRecord {
  uint64_t sequence = 0;         // set by AuditLog::Append: 1, 2, ... over the whole audit
  int64_t time_micros = 0;       // Unix time of the answer, microseconds
  uint8_t opcode = 0;            // wire::Opcode: 3 CHECK, 4 MEASURES, 5 DETAIL (HTTP: the same)
  std::string_view caller;       // the caller id ("" in open mode)
  std::string_view operator_id;  // the person at the agency who asked, as the request gave it
  std::string_view matter;       // the matter code (事项编码), as given, or ""
  std::string_view purpose;      // free text, as given, or ""
  std::string_view subject;      // the normalised ID asked about
  uint8_t kind = 0;              // 0 person, 1 organisation
  Listing listing = Listing::kUnlisted;
  std::string_view agency_filter;    // MEASURES: the agency asked for ("" = all)
  std::string_view scenario_filter;  // MEASURES: the scenario asked for ("" = all)
  int64_t as_of = 0;                 // the instant asked about (Unix seconds), 0 = now
  uint64_t list_version = 0;         // the answering snapshot's version (SnapshotInfo::version)
  uint64_t generation = 0;           // its generation
  uint64_t delta_sequence = 0;       // the last delta applied in it (0 = none)
  std::vector<uint16_t> measures;    // MEASURES: the numbers returned, in order
  bool receipt_issued = false;       // the answer carried this record's receipt
};

// Returns `record`'s list version as 16 lower-case hex digits, as INFO and the status page
// show versions.
std::string ListVersionText(const QueryRecord& record);

// Returns whether the caller owes feedback on `record`'s receipt: a receipt was issued for an
// answer that returned measures (a MEASURES answer; CHECK answers return none).
inline bool AwaitsFeedback(const QueryRecord& record) {
  return record.receipt_issued && !record.measures.empty();
}

struct FeedbackEntry {
  uint16_t measure = 0;  // a measure number of the receipt
  Outcome outcome = Outcome::kApplied;
  std::string_view reason;  // required for not_applied and cancelled
};

struct FeedbackRecord {
  uint64_t sequence = 0;  // set by AuditLog::Append
  int64_t time_micros = 0;
  std::string_view caller;
  std::string_view operator_id;
  std::string_view receipt;  // the receipt reported on (Receipt::ToString())
  std::vector<FeedbackEntry> entries;
};

// What a query's payload is encoded against: its segment's format version (audit/format.h)
// and, from format 4, the segment's first sequence and creation time, from which the record's
// are written as differences. A zero base makes the differences the values themselves.
inline constexpr uint32_t kRelativeQueryFormat = 4;  // the first format with differences
struct QueryBase {
  uint32_t format = 0;
  uint64_t first_sequence = 0;
  int64_t created_micros = 0;
};

// Appends the payload encoding of `record` to `out` (audit/format.h frames it). A query's
// layout depends on its segment (`base`): from format 4 the sequence and time are differences
// and the list version 8 bytes (formats 1-3: its 16 hex digits); from format 3 its measure
// numbers may be a bitmap (formats 1 and 2 list them). REQUIRES: record.sequence >=
// base.first_sequence.
void EncodeQuery(const QueryRecord& record, const QueryBase& base, std::string* out);
void EncodeFeedback(const FeedbackRecord& record, std::string* out);

// Decodes a payload of the given type (a query of the segment of `base`). Returns DataLoss
// naming the field when `payload` is not a valid encoding (truncated, trailing bytes, a value
// out of range, a form the encoder does not write). The result views `payload`.
absl::StatusOr<QueryRecord> DecodeQuery(std::string_view payload, const QueryBase& base);
absl::StatusOr<FeedbackRecord> DecodeFeedback(std::string_view payload);

}  // namespace shixin::audit

#endif  // SHIXIN_AUDIT_RECORD_H_
