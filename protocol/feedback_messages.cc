#include "protocol/feedback_messages.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "base/enum_names.h"
#include "base/status_macros.h"
#include "protocol/codec.h"

namespace shixin::wire {
namespace {

using codec::Count8;
using codec::PutStr16;
using codec::PutStr8;
using codec::PutU16;
using codec::PutU32;
using codec::PutU64;
using codec::PutU8;
using codec::Reader;

// The smallest FEEDBACK item: measure, outcome, an empty reason.
constexpr size_t kMinFeedbackItem = 2 + 1 + 2;

// Reads a string with a `prefix`-byte length of at most `max` bytes.
std::string_view LimitedStr(Reader& r, std::string_view field, int prefix, size_t max) {
  std::string_view s = r.Str(field, prefix);
  if (s.size() > max) {
    r.Fail(field, absl::StrFormat("%d bytes exceed the limit of %d", s.size(), max), s.size());
  }
  return s;
}

}  // namespace

namespace codec {

void PutContext(const RequestContext& c, std::string* out) {
  PutStr8(c.matter, out);
  PutStr8(c.operator_id, out);
  PutStr16(c.purpose, out);
}

void ReadContext(Reader& r, RequestContext* c) {
  c->matter = LimitedStr(r, "matter", 1, kMaxMatterBytes);
  c->operator_id = LimitedStr(r, "operator", 1, kMaxOperatorBytes);
  c->purpose = LimitedStr(r, "purpose", 2, kMaxPurposeBytes);
}

void PutAudit(const AuditInfo& a, std::string* out) {
  PutU8(static_cast<uint8_t>(a.state), out);
  PutStr16(a.error, out);
  PutU64(a.records, out);
  PutU64(a.bytes, out);
  PutU32(a.next_report_due, out);
  PutStr16(a.due_note, out);
  PutU64(a.receipts_without_feedback, out);
}

void ReadAudit(Reader& r, AuditInfo* a) {
  a->state = static_cast<AuditState>(r.Enum("audit", 2));
  a->error = r.Str16("audit_error");
  a->records = r.U64("records");
  a->bytes = r.U64("bytes");
  a->next_report_due = r.U32("next_report_due");
  a->due_note = r.Str16("due_note");
  a->receipts_without_feedback = r.U64("receipts_without_feedback");
}

}  // namespace codec

std::string_view FeedbackOutcomeName(FeedbackOutcome outcome) {
  static constexpr std::string_view kNames[] = {"applied", "not_applied", "cancelled"};
  return EnumName(outcome, kNames, "unknown");
}

std::string_view AuditStateName(AuditState state) {
  static constexpr std::string_view kNames[] = {"off", "ok", "failing"};
  return EnumName(state, kNames, "unknown");
}

bool IsBlankReason(std::string_view reason) {
  constexpr std::string_view kIdeographicSpace = "\xE3\x80\x80";  // U+3000 in UTF-8
  while (!reason.empty()) {
    if (absl::ascii_isspace(static_cast<unsigned char>(reason.front()))) {
      reason.remove_prefix(1);
    } else if (reason.starts_with(kIdeographicSpace)) {
      reason.remove_prefix(kIdeographicSpace.size());
    } else {
      return false;
    }
  }
  return true;
}

absl::Status CheckFeedbackItems(const std::vector<FeedbackItem>& items) {
  std::set<uint16_t> seen;
  for (const FeedbackItem& item : items) {
    if (item.measure == 0) return absl::InvalidArgumentError("measure 0 is not a measure");
    if (!seen.insert(item.measure).second) {
      return absl::InvalidArgumentError(
          absl::StrFormat("measure %d is reported twice in one request", item.measure));
    }
    if (item.outcome != FeedbackOutcome::kApplied && IsBlankReason(item.reason)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("measure %d: %s needs a reason (not only spaces)", item.measure,
                          FeedbackOutcomeName(item.outcome)));
    }
  }
  return absl::OkStatus();
}

void Encode(const FeedbackRequest& m, std::string* out) {
  PutStr8(m.receipt, out);
  PutStr8(m.operator_id, out);
  const size_t n = Count8(m.items.size());
  PutU8(static_cast<uint8_t>(n), out);
  for (size_t i = 0; i < n; ++i) {
    PutU16(m.items[i].measure, out);
    PutU8(static_cast<uint8_t>(m.items[i].outcome), out);
    PutStr16(m.items[i].reason, out);
  }
}

void Encode(const FeedbackResponse& m, std::string* out) {
  PutU16(m.recorded, out);
  PutStr8(m.feedback_receipt, out);
}

absl::StatusOr<FeedbackRequest> DecodeFeedbackRequest(std::string_view payload) {
  Reader r(payload, "FEEDBACK request");
  FeedbackRequest m;
  m.receipt = r.Str8("receipt");
  m.operator_id = LimitedStr(r, "operator", 1, kMaxOperatorBytes);
  const size_t n = r.Count("n", 1, kMaxFeedbackItems, kMinFeedbackItem);
  if (r.ok() && n == 0) r.Fail("n", "0 items (1 to 53)", 1);
  m.items.resize(n);
  for (FeedbackItem& item : m.items) {
    item.measure = r.U16("item.measure");
    item.outcome = static_cast<FeedbackOutcome>(r.Enum("item.outcome", 2));
    item.reason = LimitedStr(r, "item.reason", 2, kMaxReasonBytes);
  }
  SHIXIN_RETURN_IF_ERROR(r.Finish());
  return m;
}

absl::StatusOr<FeedbackResponse> DecodeFeedbackResponse(std::string_view payload) {
  Reader r(payload, "FEEDBACK response");
  FeedbackResponse m;
  m.recorded = r.U16("recorded");
  m.feedback_receipt = r.Str8("feedback_receipt");
  SHIXIN_RETURN_IF_ERROR(r.Finish());
  return m;
}

}  // namespace shixin::wire
