// Identifiers of listed subjects and related persons: resident ID numbers (GB 11643-1999; the
// residence permits of Hong Kong, Macau and Taiwan residents, 81/82/83, and foreigners' permanent
// residence IDs of 2023, 9 + province + nationality, have the same layout), unified social credit
// codes (GB 32100-2015) and organisation codes (GB 11714-1997). Passports and other permits are
// no Id.
//
// ParseId() accepts what people type (lower-case x, full-width digits and letters, surrounding
// spaces, the groups of an ID separated as printed on forms: "230402 19720314 0038",
// "91 110000 600037341L", "55269853-1"), converts old 15-digit resident IDs to 18 digits, and
// rejects everything else with a specific reason. An Id is always valid and normalised.
//
// Thread safety: all types here are values and all functions are thread-safe. All are pure
// except the one-argument ParseId(), which reads the clock for today's date.
#ifndef SHIXIN_CORE_ID_H_
#define SHIXIN_CORE_ID_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "core/types.h"

namespace shixin {

enum class IdKind : uint8_t {
  kResident = 1,    // 18 characters: 17 digits and a check character 0-9 or X (a person's).
  kCreditCode = 2,  // 18 characters from "0123456789ABCDEFGHJKLMNPQRTUWXY".
  kOrgCode = 3,     // 9 characters (8 digits or capital letters, then a check 0-9 or X).
};

// Returns "resident_id", "credit_code" or "org_code".
std::string_view IdKindName(IdKind kind);

// The 12-byte binary form of an Id, used as the in-memory and on-disk key. Two Ids are equal
// exactly when their PackedIds are equal. The check characters are not stored: they follow
// from the other characters of a valid Id. Three 32-bit words keep it 12 bytes with 4-byte
// alignment; w[2] bits 30-31 hold the IdKind, and all-zero words mean "no id".
struct PackedId {
  uint32_t w[3] = {0, 0, 0};

  friend bool operator==(const PackedId& a, const PackedId& b) {
    return a.w[0] == b.w[0] && a.w[1] == b.w[1] && a.w[2] == b.w[2];
  }
  friend bool operator!=(const PackedId& a, const PackedId& b) { return !(a == b); }
  friend bool operator<(const PackedId& a, const PackedId& b) {
    if (a.w[2] != b.w[2]) return a.w[2] < b.w[2];
    if (a.w[1] != b.w[1]) return a.w[1] < b.w[1];
    return a.w[0] < b.w[0];
  }
};
static_assert(sizeof(PackedId) == 12);

// The bits of PackedId::w[2]: the IdKind above kPackedKindShift, a credit code's top 21 bits
// of payload below it (zero for the other kinds).
inline constexpr int kPackedKindShift = 30;
inline constexpr uint32_t kPackedPayloadMask = (1u << kPackedKindShift) - 1;

// Returns the IdKind stored in `id` (0, which is no IdKind, for the all-zero "no id").
inline IdKind PackedKind(const PackedId& id) {
  return static_cast<IdKind>(id.w[2] >> kPackedKindShift);
}

// Returns whether `id` is the Pack() of some Id, so that Id::Unpack() is defined for it and
// packs back to it: kind 1-3; a resident ID below 10^17; 17 credit-code characters of 5 bits,
// each below 31; 8 organisation-code characters of 6 bits, each below 36; unused bits zero.
// The all-zero "no id" is not canonical. For checking untrusted data (a snapshot file).
bool IsCanonicalPacked(const PackedId& id);

// Returns the 64-bit XXH3 hash of the packed form (the key of every index).
uint64_t HashPackedId(const PackedId& id);

// A hasher for hash maps keyed by PackedId.
struct PackedIdHash {
  size_t operator()(const PackedId& id) const { return HashPackedId(id); }
};

// An ID packed and its HashPackedId(), as a batched lookup computes them for the next one.
struct HashedId {
  PackedId key;
  uint64_t hash = 0;
};

// Returns the packed organisation code that the credit code packed as `credit_code` embeds
// (Id::EmbeddedOrgCode()), and its hash. REQUIRES: `credit_code` is the Pack() of a credit code.
HashedId EmbeddedOrgCodeKey(const PackedId& credit_code);

// A valid, normalised identifier.
class Id {
 public:
  // An empty Id (kind() is meaningless, text() is empty). Only useful as a placeholder.
  Id() = default;

  IdKind kind() const { return kind_; }
  // Returns the normalised text: 18 characters, or 9 for an organisation code (no hyphen).
  std::string_view text() const { return std::string_view(text_, size_); }
  bool empty() const { return size_ == 0; }
  // Returns kPerson for resident IDs, kOrganization otherwise.
  SubjectKind subject_kind() const {
    return kind_ == IdKind::kResident ? SubjectKind::kPerson : SubjectKind::kOrganization;
  }

  // Returns the masked form shown to the public: resident IDs and credit codes as
  // first 10 + "****" + last 4; organisation codes unmasked.
  std::string Masked() const;

  // Returns the birth date a resident ID carries (characters 7-14, a foreigner's permanent
  // residence ID's too; an old 15-digit ID is converted to 18 digits by ParseId()).
  // REQUIRES: kind() == IdKind::kResident.
  absl::CivilDay BirthDate() const;

  // Returns the packed binary key.
  PackedId Pack() const;
  // Returns the Id whose Pack() is `packed`. REQUIRES: IsCanonicalPacked(packed), or `packed`
  // is all zero (which gives the empty Id).
  static Id Unpack(const PackedId& packed);

  // For a credit code, returns the embedded 9-character organisation code (positions 9-17).
  // REQUIRES: kind() == IdKind::kCreditCode.
  Id EmbeddedOrgCode() const;

  friend bool operator==(const Id& a, const Id& b) {
    return a.kind_ == b.kind_ && a.text() == b.text();
  }

 private:
  friend Id MakeIdUnchecked(IdKind kind, std::string_view text);

  char text_[18] = {};
  uint8_t size_ = 0;
  IdKind kind_ = IdKind::kResident;
};

// Returns the text under which the subject of normalised ID `text`, of kind `kind`, is one
// subject however it was asked: an organisation's 9-character organisation code (of a credit
// code, characters 9-17: GB 32100, as the lookups relate the two codes), else `text` itself. For
// counting distinct subjects and matching them (the quarterly report, `audit query --subject`).
// A view into `text`; `text` need not be valid (an organisation's that is not 18 characters is
// returned whole).
std::string_view SubjectKey(std::string_view text, SubjectKind kind);

// Parses, normalises and validates `input`; a resident ID's birth date must not be after
// `today`. Separators (one space, U+3000, U+00A0 or hyphen between two groups) are allowed in
// exactly these groupings, all groups separated: resident ID 6-8-4 (15 digits: 6-6-3), credit
// code 2-6-10 or 2-6-9-1, organisation code 8-1 with a hyphen (protocol/FORMAT.md section 7).
// Returns the Id, or InvalidArgument with a specific reason: empty input, wrong length, bad
// character (with its position; a misplaced separator names the allowed groupings), bad area
// code, bad province code (of a foreigner's permanent residence ID: 9, a mainland province),
// impossible birth date (not a calendar date, before 1900, or in the future), bad check
// character (expected vs. found), bad embedded organisation code. 18 digits valid both as a
// foreigner's permanent residence ID and as a credit code are the credit code (an enterprise's
// begins 91; see CreditCodeIsForeignerPermit()). Pure: the same arguments always give the same
// result.
absl::StatusOr<Id> ParseId(std::string_view input, absl::CivilDay today);

// ParseId(input, today) with today's date in UTC, read from the clock: the one function here
// that is not pure. For interactive and served queries, where "in the future" means now.
absl::StatusOr<Id> ParseId(std::string_view input);

// Returns whether `input` has the shape of a person's ID, valid or not: 18 or 15 characters
// besides ParseId()'s separators and invisible characters (U+200B, U+00AD...: faults of an
// export, which ParseId() names), none a letter but an 18-character one's last. A person's
// number without it (a passport's, a permit's) is none that shixin can hold.
bool HasPersonIdShape(std::string_view input);

// Returns `s` without the white space around it that ParseId() ignores: ASCII spaces and
// \t \n \v \f \r, U+3000 (IDEOGRAPHIC SPACE) and U+00A0 (NO-BREAK SPACE). A view into `s`
// (empty if `s` is all white space); bytes that are not UTF-8 are not white space.
std::string_view TrimSpaces(std::string_view s);

// Returns the byte length of the separator ParseId() allows between two groups of an ID (a
// space: ASCII, U+3000, U+00A0; a hyphen: ASCII, U+FF0D, U+2010-U+2013) at the start of `s`, or
// 0: for finding IDs written in groups in a text (MaskIdsInText()).
size_t IdSeparatorLength(std::string_view s);

// The document a person's ID (IdKind::kResident) is the number of, told by its first characters.
enum class PersonDocument : uint8_t {
  kResidentId = 0,         // 居民身份证: a mainland area code
  kResidencePermit = 1,    // 港澳台居民居住证: 810000, 820000, 830000
  kForeignerPermanent = 2  // 外国人永久居留身份证 of 2023: 9, a province, the nationality
};

// Returns the document `id` is the number of. REQUIRES: id.kind() == IdKind::kResident.
PersonDocument PersonDocumentOf(const Id& id);

// Returns the document's number as a legal text names it: "公民身份号码" (a citizen's only),
// "港澳台居民居住证号码", "外国人永久居留身份证号码".
std::string_view PersonDocumentNumberLabel(PersonDocument document);

// Returns whether credit code `id` also reads as a foreigner's permanent residence ID (its birth
// date not checked against today), which ParseId() cannot tell from it: about 1 in 340 of those
// IDs. REQUIRES: id.kind() == IdKind::kCreditCode.
bool CreditCodeIsForeignerPermit(const Id& id);

// Returns the date in UTC at Unix time `seconds`: ParseId()'s `today` for a served query.
// Remembers the last day per thread (the civil conversion costs more than a request's lookup).
absl::CivilDay UtcDayAt(int64_t seconds);

// Returns an Id without validation. REQUIRES: `text` is a valid normalised Id of `kind`
// (as produced by the generator or by Id::text()). For trusted, already-validated data only.
Id MakeIdUnchecked(IdKind kind, std::string_view text);

// Check characters, for generators and tests.
// REQUIRES: `first17` is 17 ASCII digits. Returns '0'-'9' or 'X'.
char ResidentCheckChar(std::string_view first17);
// REQUIRES: `first17` is 17 characters of the credit-code charset. Returns a charset character.
char CreditCodeCheckChar(std::string_view first17);
// REQUIRES: `first8` is 8 digits or capital letters. Returns '0'-'9' or 'X'.
char OrgCodeCheckChar(std::string_view first8);

}  // namespace shixin

#endif  // SHIXIN_CORE_ID_H_
