// The records of the list: one enforcement case (BasicCaseRecord, declared once over its string
// type) and the inputs that feed a snapshot, a case as ingested (CaseInput) and one relation
// (RelationInput).
//
// ForEachCaseField is the one list of a case's fields. The snapshot's case codec, the wire
// messages, the CLI's JSON, the query's copies and the tests all go through it, so a new field
// is declared in BasicCaseRecord, listed in ForEachCaseField, and nothing else is edited by hand
// (a new field changes the snapshot and wire formats: their version and documents follow).
//
// A field's C++ type says how it is stored and sent:
//   Str       text: snapshot LEB128 length + bytes; wire str16 (str32 if long_text); JSON string
//   uint32_t  a date YYYYMMDD, 0 if absent: 4 bytes; JSON "YYYY-MM-DD" or null
//   uint8_t   a small number (age), 0 if absent: 1 byte; JSON number
//   int64_t   an instant, Unix seconds, 0 if absent: 8 bytes; JSON RFC 3339 (+08:00) or null
//   Sex       1 byte; JSON "male"/"female"
//   EndReason 1 byte; JSON its name, e.g. "performed"
// Both binary encodings put the fixed-width fields first, then the texts, each group in list
// order (ForEachCaseFieldBinaryOrder); the JSON keys follow the list order.
//
// CaseView and CaseInput hold borrowed string_views: they are valid only while the buffer they
// point into is. Thread safety: plain values and pure functions.
#ifndef SHIXIN_CORE_RECORD_H_
#define SHIXIN_CORE_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/id.h"
#include "core/types.h"

namespace shixin {

// A subject's sex, from the feed's `sexy` (persons only).
enum class Sex : uint8_t { kUnknown = 0, kMale = 1, kFemale = 2 };
inline constexpr int kSexCount = 3;

// Returns "male", "female", or "" (unknown, or a value out of range).
constexpr std::string_view SexName(Sex sex) {
  return sex == Sex::kMale ? "male" : sex == Sex::kFemale ? "female" : "";
}

// Why a case stopped counting (docs/feed.md): the grounds of a deletion (Art. 10), a revocation
// (Art. 9: it should never have been listed), or a correction (this version was replaced by
// another from `ended_at` on). kNone: it has not ended by a change (its term may still end it).
enum class EndReason : uint8_t {
  kNone = 0,
  kPerformed = 1,
  kSettled = 2,
  kCreditorRequest = 3,
  kNoAssets = 4,
  kSuspended = 5,
  kNotEnforced = 6,
  kTerminated = 7,
  kTermEnded = 8,
  kOther = 9,
  kRevoked = 10,
  kCorrected = 11,
};
inline constexpr int kEndReasonCount = 12;

// Returns the feed's name of `reason` ("performed", ..., "revoked", "corrected"; "" for kNone).
std::string_view EndReasonName(EndReason reason);
// Returns the reason a remove line names ("performed" ... "other"), or nullopt (also for
// "revoked" and "corrected", which are ops of their own).
std::optional<EndReason> RemoveReasonFromName(std::string_view name);

// One enforcement case (keys in domain.md), as one version of it in the list's history.
// `performance` stays text: the feed's two values
// ("全部未履行", "部分未履行") are shown as they are and nothing decides on them.
template <typename Str>
struct BasicCaseRecord {
  Str case_code;              // caseCode, e.g. "（2018）黑04执123号"
  Str court;                  // courtName
  Str area;                   // areaName
  uint32_t reg_date = 0;      // regDate as YYYYMMDD, 0 if absent
  uint32_t publish_date = 0;  // publishDate as YYYYMMDD, 0 if absent
  Str gist_id;                // gistId
  Str gist_unit;              // gistUnit
  Str duty;                   // duty (long free text)
  Str performance;            // performance, e.g. "全部未履行"
  Str performed_part;         // performedPart
  Str unperform_part;         // unperformPart
  Str disrupt_type;           // disruptTypeName
  Str business_entity;        // businessEntity (legal representative's name, organisations)
  uint8_t age = 0;            // 0 if absent
  Sex sex = Sex::kUnknown;
  // The case's validity (docs/feed.md). It counts from `start` until the end of the day
  // `term_end` (China Standard Time) or until `ended_at`, whichever comes first.
  uint32_t term_end = 0;             // termEnd as YYYYMMDD, 0 if no fixed term
  int64_t start = 0;                 // Unix seconds: publishDate 00:00 +08:00 or later; 0: unknown
  int64_t ended_at = 0;              // Unix seconds of the removal, revocation or correction, or 0
  EndReason end = EndReason::kNone;  // why it ended at ended_at

  bool operator==(const BasicCaseRecord&) const = default;
};

// A case whose texts point into a snapshot (or the CaseBuffer it read them into), a payload or
// an ingest buffer.
using CaseView = BasicCaseRecord<std::string_view>;
// A case that owns its texts (query results, decoded messages).
using CaseInfo = BasicCaseRecord<std::string>;

// What ForEachCaseField tells about a field besides its value.
struct CaseField {
  constexpr explicit CaseField(std::string_view name) : name(name) {}
  // Return this field with another JSON key, left out of the JSON when unset, or long.
  constexpr CaseField JsonAs(std::string_view key) const {
    CaseField f = *this;
    f.json_name = key;
    return f;
  }
  constexpr CaseField JsonOptional() const {
    CaseField f = *this;
    f.json_optional = true;
    return f;
  }
  constexpr CaseField LongText() const {
    CaseField f = *this;
    f.long_text = true;
    return f;
  }
  constexpr CaseField SinceWire(int version) const {
    CaseField f = *this;
    f.wire_version = version;
    return f;
  }

  constexpr std::string_view json_key() const { return json_name.empty() ? name : json_name; }

  std::string_view name;       // the member's name; wire decoding errors say "case.<name>"
  std::string_view json_name;  // the CLI's JSON key if not `name`
  bool json_optional = false;  // the JSON leaves the field out when empty, 0 or unknown
  bool long_text = false;      // a text that may pass 64 KiB: str32 on the wire, else str16
  int wire_version = 1;        // the first protocol version whose CASE carries the field
};

// Calls f(field, r.member...) for each field of the records `r` (one or more, of any string
// type), in the list's order. The list of fields: edit it together with BasicCaseRecord.
template <typename F, typename... R>
constexpr void ForEachCaseField(F&& f, R&&... r) {
  f(CaseField("case_code"), r.case_code...);
  f(CaseField("court"), r.court...);
  f(CaseField("area"), r.area...);
  f(CaseField("reg_date"), r.reg_date...);
  f(CaseField("publish_date"), r.publish_date...);
  f(CaseField("gist_id"), r.gist_id...);
  f(CaseField("gist_unit"), r.gist_unit...);
  f(CaseField("duty").LongText(), r.duty...);
  f(CaseField("performance"), r.performance...);
  f(CaseField("performed_part"), r.performed_part...);
  f(CaseField("unperform_part"), r.unperform_part...);
  f(CaseField("disrupt_type").JsonAs("conduct"), r.disrupt_type...);
  f(CaseField("business_entity").JsonAs("legal_representative_name").JsonOptional(),
    r.business_entity...);
  f(CaseField("age").JsonOptional(), r.age...);
  f(CaseField("sex").JsonOptional(), r.sex...);
  f(CaseField("term_end").SinceWire(2), r.term_end...);
  f(CaseField("start").SinceWire(2), r.start...);
  f(CaseField("ended_at").JsonOptional().SinceWire(2), r.ended_at...);
  f(CaseField("end").JsonOptional().SinceWire(2), r.end...);
}

// Whether a field of type T (cv-ref removed) is a text.
template <typename T>
inline constexpr bool kIsCaseText = std::is_convertible_v<const T&, std::string_view>;

namespace record_internal {
// Calls f like ForEachCaseField for the texts (kTexts) or for the other fields only.
template <bool kTexts, typename F, typename... R>
constexpr void ForEachCaseFieldOfKind(F& f, R&... r) {
  ForEachCaseField(
      [&f]<typename M, typename... Ms>(const CaseField& field, M& m, Ms&... ms) {
        if constexpr (kIsCaseText<std::remove_cv_t<M>> == kTexts) f(field, m, ms...);
      },
      r...);
}
}  // namespace record_internal

// Like ForEachCaseField, in the binary encodings' order: the fixed-width fields, then the texts.
template <typename F, typename... R>
constexpr void ForEachCaseFieldBinaryOrder(F&& f, R&&... r) {
  record_internal::ForEachCaseFieldOfKind<false>(f, r...);
  record_internal::ForEachCaseFieldOfKind<true>(f, r...);
}

// Returns the bytes of a case's fixed-width fields (the binary encodings write each in
// sizeof(field) bytes).
constexpr size_t CaseFixedBytes() {
  size_t n = 0;
  ForEachCaseField(
      [&n]<typename M>(const CaseField&, const M&) {
        if constexpr (!kIsCaseText<M>) n += sizeof(M);
      },
      CaseView{});
  return n;
}

// Returns `from` as a record of another string type: an owned copy of a view, or views of an
// owned record (valid while `from` is).
template <typename To, typename From>
To ConvertCase(const From& from) {
  To to;
  ForEachCaseField([](const CaseField&, auto& t, const auto& f) { t = f; }, to, from);
  return to;
}

// One case of a listed subject, as ingested from the court's feed: the case and whose it is.
struct CaseInput : CaseView {
  Id id;                  // cardNum, validated; id.subject_kind() is the kind
  std::string_view name;  // iname

  bool operator==(const CaseInput&) const = default;
};

// One line of the relations feed.
struct RelationInput {
  Id org;                        // orgId: a credit code or organisation code
  Id person;                     // personId: a resident ID
  std::string_view person_name;  // personName
  Role role = Role::kLegalRepresentative;
};

}  // namespace shixin

#endif  // SHIXIN_CORE_RECORD_H_
