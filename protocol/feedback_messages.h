// The payloads and fields of protocol version 4 (protocol/FORMAT.md, section 15): the request
// context of CHECK and MEASURES, the FEEDBACK operation and INFO's audit block. The receipts of
// CHECK and MEASURES answers are fields of messages.h's answers (CheckAnswer::receipt, the
// receipt of Encode(MeasuresResult)); this file holds what is new. Decoders are as strict as
// those of messages.h (InvalidArgument naming the field and the byte offset).
//
// Thread safety: pure functions.
#ifndef SHIXIN_PROTOCOL_FEEDBACK_MESSAGES_H_
#define SHIXIN_PROTOCOL_FEEDBACK_MESSAGES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace shixin::wire {

// Version 4 limits (the decoders reject longer fields and more items: BAD_PAYLOAD).
inline constexpr size_t kMaxMatterBytes = 64;
inline constexpr size_t kMaxOperatorBytes = 64;
inline constexpr size_t kMaxPurposeBytes = 1024;
inline constexpr size_t kMaxReasonBytes = 1024;
inline constexpr size_t kMaxFeedbackItems = 53;

// What a CHECK or MEASURES request of version 4 says about why it is asked (each may be "").
struct RequestContext {
  std::string matter;       // the matter code (事项编码), at most kMaxMatterBytes
  std::string operator_id;  // the operator's id at the caller, at most kMaxOperatorBytes
  std::string purpose;      // free text, at most kMaxPurposeBytes
};

// FEEDBACK (opcode 9): what the caller did with each measure of a receipt.
enum class FeedbackOutcome : uint8_t { kApplied = 0, kNotApplied = 1, kCancelled = 2 };
// Returns "applied", "not_applied", "cancelled" (or "unknown").
std::string_view FeedbackOutcomeName(FeedbackOutcome outcome);
struct FeedbackItem {
  uint16_t measure = 0;  // a measure number of the receipt's answer
  FeedbackOutcome outcome = FeedbackOutcome::kApplied;
  std::string reason = {};  // required for kNotApplied and kCancelled; at most kMaxReasonBytes
};
struct FeedbackRequest {
  std::string receipt;              // of a MEASURES answer with measures (str8)
  std::string operator_id;          // at most kMaxOperatorBytes; "" = none
  std::vector<FeedbackItem> items;  // 1 .. kMaxFeedbackItems
};
struct FeedbackResponse {
  uint16_t recorded = 0;         // the items recorded
  std::string feedback_receipt;  // the receipt of the feedback record itself
};

// Returns whether `reason` says nothing: it is empty or shows nothing, only white space (ASCII,
// U+3000 of Chinese input methods, U+00A0 and the other Unicode spaces), control characters and
// invisible format characters (zero-width spaces and joiners U+200B-U+200D, bidi marks, U+FEFF,
// variation selectors: Unicode's Default_Ignorable_Code_Point), which pasted text often holds.
// Bytes that are not UTF-8 are not blank.
bool IsBlankReason(std::string_view reason);

// Returns OK, or InvalidArgument (the server answers INVALID_ARGUMENT) when a measure is 0 or
// appears twice, or a kNotApplied or kCancelled item has no reason (IsBlankReason). The one
// check of these rules, for the server and for clients that check before sending.
absl::Status CheckFeedbackItems(const std::vector<FeedbackItem>& items);

// INFO's audit block (version 4).
enum class AuditState : uint8_t { kOff = 0, kOk = 1, kFailing = 2 };
// Returns "off", "ok", "failing" (or "unknown").
std::string_view AuditStateName(AuditState state);
struct AuditInfo {
  AuditState state = AuditState::kOff;  // kOff: the server keeps no audit (no state_dir)
  std::string error;                    // admin only: why the audit is failing; else ""
  uint64_t records = 0;                 // in the audit
  uint64_t bytes = 0;                   // of its segment files
  uint32_t next_report_due = 0;         // YYYYMMDD, 0 unknown
  std::string due_note;                 // e.g. "no calendar for 2027", or ""
  uint64_t receipts_without_feedback = 0;
};

// Encoders append the payload to `out`; strings and lists too long are cut as in messages.h.
void Encode(const FeedbackRequest& m, std::string* out);
void Encode(const FeedbackResponse& m, std::string* out);
absl::StatusOr<FeedbackRequest> DecodeFeedbackRequest(std::string_view payload);
absl::StatusOr<FeedbackResponse> DecodeFeedbackResponse(std::string_view payload);

}  // namespace shixin::wire

#endif  // SHIXIN_PROTOCOL_FEEDBACK_MESSAGES_H_
