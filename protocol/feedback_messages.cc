#include "protocol/feedback_messages.h"

#include <cstdint>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "base/enum_names.h"
#include "base/status_macros.h"
#include "base/utf8.h"
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

// Reads a text the audit records (a matter, operator, purpose or reason) with a `prefix`-byte
// length: at most `max` bytes, and UTF-8 (reports and notices print it).
std::string_view LimitedStr(Reader& r, std::string_view field, int prefix, size_t max) {
  std::string_view s = r.Str(field, prefix);
  if (s.size() > max) {
    r.Fail(field, absl::StrFormat("%d bytes exceed the limit of %d", s.size(), max), s.size());
  } else if (const size_t bad = FirstNonUtf8(s); bad != std::string_view::npos) {
    r.Fail(field,
           absl::StrFormat("not UTF-8 (byte 0x%02x at offset %d of the text)",
                           static_cast<unsigned char>(s[bad]), bad),
           s.size() - bad);
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

namespace {

// The characters that show nothing: Unicode's White_Space and Default_Ignorable_Code_Point
// (zero-width and format characters, bidi controls, variation selectors, fillers, the byte
// order mark) and the control characters (Cc), as ranges of code points, ascending.
constexpr std::pair<uint32_t, uint32_t> kInvisible[] = {
    {0x0000, 0x0020},   {0x007F, 0x00A0}, {0x00AD, 0x00AD}, {0x034F, 0x034F},   {0x061C, 0x061C},
    {0x115F, 0x1160},   {0x1680, 0x1680}, {0x17B4, 0x17B5}, {0x180B, 0x180F},   {0x2000, 0x200F},
    {0x2028, 0x202F},   {0x205F, 0x206F}, {0x3000, 0x3000}, {0x3164, 0x3164},   {0xFE00, 0xFE0F},
    {0xFEFF, 0xFEFF},   {0xFFA0, 0xFFA0}, {0xFFF0, 0xFFF8}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},
    {0xE0000, 0xE0FFF},
};

bool IsInvisible(uint32_t cp) {
  for (const auto& [first, last] : kInvisible) {
    if (cp < first) return false;
    if (cp <= last) return true;
  }
  return false;
}

// Removes the first character of non-empty `s` and returns it, or returns false for bytes that
// are not UTF-8 (a cut or overlong sequence, a surrogate).
bool TakeCodePoint(std::string_view* s, uint32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s->front());
  size_t len = 1;
  uint32_t min = 0;
  if (b0 < 0x80) {
    *cp = b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, *cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, *cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, *cp = b0 & 0x07, min = 0x10000;
  } else {
    return false;
  }
  if (s->size() < len) return false;
  for (size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>((*s)[i]);
    if ((b & 0xC0) != 0x80) return false;
    *cp = *cp << 6 | (b & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return false;
  s->remove_prefix(len);
  return true;
}

}  // namespace

bool IsBlankReason(std::string_view reason) {
  while (!reason.empty()) {
    uint32_t cp = 0;
    if (!TakeCodePoint(&reason, &cp) || !IsInvisible(cp)) return false;
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
          absl::StrFormat("measure %d: %s needs a reason (not only spaces or invisible characters)",
                          item.measure, FeedbackOutcomeName(item.outcome)));
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
  std::string scope;  // r keeps a view of it
  for (size_t i = 0; i < n; ++i) {
    FeedbackItem& item = m.items[i];
    // "item 2.reason": which of up to 53 items (x34 F8).
    scope = absl::StrFormat("item %d.", i + 1);
    r.set_scope(scope);
    item.measure = r.U16("measure");
    item.outcome = static_cast<FeedbackOutcome>(r.Enum("outcome", 2));
    item.reason = LimitedStr(r, "reason", 2, kMaxReasonBytes);
  }
  r.set_scope("");
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
