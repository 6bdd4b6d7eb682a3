#include "core/id.h"

#include <time.h>

// Inlined: the hash is on every lookup, and the library call would cost more than the hash.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstring>
#include <limits>
#include <optional>
#include <tuple>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/enum_names.h"
#include "base/status_macros.h"

namespace shixin {
namespace {

constexpr std::string_view kCreditCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY";
constexpr std::string_view kResidentCheckChars = "10X98765432";
constexpr int kResidentWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
constexpr int kCreditWeights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
constexpr int kOrgWeights[8] = {3, 7, 9, 10, 5, 8, 4, 2};

// A packed credit code is 17 characters of 5 bits: 85 bits, the top 21 of them in w[2].
constexpr int kCreditHighBits = 17 * 5 - 64;
constexpr uint32_t kCreditHighMask = (1u << kCreditHighBits) - 1;
// The largest packed resident ID plus one: 17 decimal digits.
constexpr uint64_t kResidentLimit = 100000000000000000ull;

// Credit-code charset value of each ASCII character; -1 outside the charset.
constexpr std::array<int8_t, 128> kCreditValue = [] {
  std::array<int8_t, 128> table{};
  table.fill(-1);
  for (size_t i = 0; i < kCreditCharset.size(); ++i) {
    table[static_cast<unsigned char>(kCreditCharset[i])] = static_cast<int8_t>(i);
  }
  return table;
}();

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// GB 11714 value of a digit or capital letter: 0-9, A=10 ... Z=35.
constexpr int OrgValue(char c) { return IsDigit(c) ? c - '0' : c - 'A' + 10; }
char OrgChar(int v) { return static_cast<char>(v < 10 ? '0' + v : 'A' + v - 10); }

// The GB 11714 value of the character of each credit-code charset value (0 past the charset).
constexpr std::array<uint8_t, 32> kOrgValueOfCredit = [] {
  std::array<uint8_t, 32> table{};
  for (size_t i = 0; i < kCreditCharset.size(); ++i) {
    table[i] = static_cast<uint8_t>(OrgValue(kCreditCharset[i]));
  }
  return table;
}();

bool IsProvince(int p) {
  return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
         (p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65) || p == 71 ||
         (p >= 81 && p <= 83);
}

// The provinces of the mainland: those that issue foreigners' permanent residence IDs.
bool IsMainlandProvince(int p) { return p < 71 && IsProvince(p); }

// ---- UTF-8 and normalisation ----------------------------------------------------------------

constexpr uint32_t kInvalidUtf8 = 0xFFFFFFFF;

struct Decoded {
  uint32_t cp;  // kInvalidUtf8 for a byte that does not start a valid sequence
  int len;
};

// Decodes the character at the start of non-empty `s`; an invalid byte decodes alone.
Decoded DecodeUtf8(std::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return {b0, 1};
  int len;
  uint32_t cp, min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return {kInvalidUtf8, 1};
  }
  if (s.size() < static_cast<size_t>(len)) return {kInvalidUtf8, 1};
  for (int i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return {kInvalidUtf8, 1};
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms and surrogates would let odd bytes masquerade as digits.
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {kInvalidUtf8, 1};
  return {cp, len};
}

bool IsTrimmable(uint32_t cp) {
  return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0x3000 || cp == 0xA0;
}

bool IsHyphen(uint32_t cp) { return cp == '-' || cp == 0xFF0D || (cp >= 0x2010 && cp <= 0x2013); }

// A character that may separate the groups of an ID as people type it: a space (ASCII, U+3000,
// U+00A0) or a hyphen. Tabs and line breaks are not: between groups they mean two fields.
bool IsSeparator(uint32_t cp) { return cp == ' ' || cp == 0x3000 || cp == 0xA0 || IsHyphen(cp); }

// Returns the normalised ASCII digit or capital letter for `cp`, or 0 if it is not tolerated.
char NormaliseChar(uint32_t cp) {
  if ((cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z')) return static_cast<char>(cp);
  if (cp >= 'a' && cp <= 'z') return static_cast<char>(cp - 'a' + 'A');
  if (cp >= 0xFF10 && cp <= 0xFF19) return static_cast<char>('0' + (cp - 0xFF10));
  if (cp >= 0xFF21 && cp <= 0xFF3A) return static_cast<char>('A' + (cp - 0xFF21));
  if (cp >= 0xFF41 && cp <= 0xFF5A) return static_cast<char>('A' + (cp - 0xFF41));
  return 0;
}

// How people group an ID's characters, one separator between groups (FORMAT.md section 7):
// `at` lists where the separators go, as counts of the characters before them. An ID typed
// with separators must use one of these, all of its separators, for its kind and length.
struct Grouping {
  IdKind kind;
  int length;
  int count;  // separators
  int at[3];
  bool hyphen_only;  // an organisation code's "XXXXXXXX-X"
  std::string_view name;
};
constexpr Grouping kGroupings[] = {
    {IdKind::kResident, 18, 2, {6, 14}, false, "6-8-4"},
    {IdKind::kResident, 15, 2, {6, 12}, false, "6-6-3"},
    {IdKind::kCreditCode, 18, 2, {2, 8}, false, "2-6-10"},
    {IdKind::kCreditCode, 18, 3, {2, 8, 17}, false, "2-6-9-1"},
    {IdKind::kOrgCode, 9, 1, {8}, true, "8-1"},
};
constexpr int kMaxSeparators = 3;

std::string_view KindText(IdKind kind) {
  switch (kind) {
    case IdKind::kResident:
      return "resident ID";
    case IdKind::kCreditCode:
      return "credit code";
    case IdKind::kOrgCode:
      return "organisation code";
  }
  return "ID";
}

// A separator of the input: it stood before normalised character `before`.
struct Separator {
  int before = 0;
  bool hyphen = false;
  size_t offset = 0;  // in the trimmed input
  int position = 0;   // 1-based character position in the trimmed input
};

// The normalised characters of the trimmed input, with where each came from (for messages),
// and the separators that were dropped.
struct Normalised {
  std::string_view trimmed;
  int size = 0;            // characters kept (separators are dropped); only 18 are stored
  char text[18] = {};      // normalised ASCII
  size_t offset[18] = {};  // byte offset of the original character in `trimmed`
  int position[18] = {};   // its 1-based character position in `trimmed`
  int separators = 0;      // separators dropped; only kMaxSeparators + 1 are stored
  Separator separator[kMaxSeparators + 1];
  std::string_view view() const { return std::string_view(text, size); }
};

// Whether a terminal shows `cp` as nothing or as a blank that passes for an ASCII space: the
// format and other default-ignorable characters (U+200B ZERO WIDTH SPACE, U+FEFF BYTE ORDER MARK,
// the bidirectional controls, variation selectors), line and paragraph separators, and the spaces
// that are not a separator of IDs (U+2000-U+200A, U+202F, U+205F).
bool IsInvisible(uint32_t cp) {
  return cp == 0xAD || cp == 0x34F || cp == 0x61C || cp == 0x115F || cp == 0x1160 || cp == 0x17B4 ||
         cp == 0x17B5 || (cp >= 0x180B && cp <= 0x180F) || (cp >= 0x2000 && cp <= 0x200F) ||
         (cp >= 0x2028 && cp <= 0x202F) || (cp >= 0x205F && cp <= 0x206F) || cp == 0x3164 ||
         (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF || cp == 0xFFA0 ||
         (cp >= 0xFFF0 && cp <= 0xFFF8) || (cp >= 0xE0000 && cp <= 0xE0FFF);
}

absl::Status BadCharError(std::string_view trimmed, size_t offset, int position) {
  const Decoded d = DecodeUtf8(trimmed.substr(offset));
  if (d.cp == kInvalidUtf8) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad character: invalid UTF-8 byte 0x%02X at position %d",
                        static_cast<unsigned char>(trimmed[offset]), position));
  }
  // Control characters are unreadable when quoted, and invisible ones show as nothing or as an
  // ASCII space: they are shown as code points. Other characters beyond ASCII are quoted with
  // their code point, as a look-alike of a letter or digit (Cyrillic Х U+0425, Roman numeral Ⅹ
  // U+2169) reads as the character it passes for.
  if (d.cp < 0x20 || (d.cp >= 0x7F && d.cp < 0xA0) || IsInvisible(d.cp)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad character U+%04X at position %d", d.cp, position));
  }
  if (d.cp >= 0x80) {
    return absl::InvalidArgumentError(absl::StrFormat("bad character '%s' (U+%04X) at position %d",
                                                      trimmed.substr(offset, d.len), d.cp,
                                                      position));
  }
  return absl::InvalidArgumentError(absl::StrFormat("bad character '%s' at position %d",
                                                    trimmed.substr(offset, d.len), position));
}

absl::Status BadCharAt(const Normalised& n, int i) {
  return BadCharError(n.trimmed, n.offset[i], n.position[i]);
}

// Normalise() for input already in the normal form (1 to 18 digits and capital letters, nothing
// to trim or drop), without decoding UTF-8: served IDs come so. Returns false (and leaves `n`
// as it was) for any other input.
bool NormaliseAscii(std::string_view input, Normalised& n) {
  if (input.empty() || input.size() > 18) return false;
  for (char c : input) {
    if (!IsDigit(c) && !(c >= 'A' && c <= 'Z')) return false;
  }
  n.trimmed = input;
  n.size = static_cast<int>(input.size());
  for (int i = 0; i < n.size; ++i) {
    n.text[i] = input[i];
    n.offset[i] = static_cast<size_t>(i);
    n.position[i] = i + 1;
  }
  return true;
}

absl::Status Normalise(std::string_view input, Normalised& n) {
  if (NormaliseAscii(input, n)) return absl::OkStatus();
  n.trimmed = TrimSpaces(input);
  if (n.trimmed.empty()) return absl::InvalidArgumentError("empty ID");
  int position = 0;
  for (size_t i = 0; i < n.trimmed.size();) {
    const Decoded d = DecodeUtf8(n.trimmed.substr(i));
    ++position;
    if (IsSeparator(d.cp)) {
      if (n.separators <= kMaxSeparators) {
        n.separator[n.separators] = Separator{n.size, IsHyphen(d.cp), i, position};
      }
      ++n.separators;
    } else {
      const char c = NormaliseChar(d.cp);
      if (c == 0) return BadCharError(n.trimmed, i, position);
      if (n.size < 18) {
        n.text[n.size] = c;
        n.offset[n.size] = i;
        n.position[n.size] = position;
      }
      ++n.size;
    }
    i += d.len;
  }
  return absl::OkStatus();
}

// Whether the separators of `n` are exactly those of grouping `g`.
bool Matches(const Normalised& n, const Grouping& g) {
  if (n.size != g.length || n.separators != g.count) return false;
  for (int i = 0; i < g.count; ++i) {
    if (n.separator[i].before != g.at[i] || (g.hyphen_only && !n.separator[i].hyphen)) {
      return false;
    }
  }
  return true;
}

// Whether some grouping of `n`'s length and `kind` (any kind if nullopt) matches `n`.
bool Grouped(const Normalised& n, std::optional<IdKind> kind) {
  for (const Grouping& g : kGroupings) {
    if ((!kind || g.kind == kind) && Matches(n, g)) return true;
  }
  return false;
}

// The error for separators that fit no grouping. It points at the first separator that is out
// of place: the first of two in one place, or the first where the grouping the separators
// follow longest goes another way; else (too few of them, or a space for a hyphen) the first.
// The message lists the groupings of this length (and `kind`, if given).
absl::Status GroupingError(const Normalised& n, std::optional<IdKind> kind) {
  const int stored = std::min(n.separators, kMaxSeparators + 1);
  int bad = 0;
  for (const Grouping& g : kGroupings) {
    int agree = 0;
    while (agree < stored && agree < g.count && n.separator[agree].before == g.at[agree]) ++agree;
    if (g.length == n.size && agree < stored) bad = std::max(bad, agree);
  }
  for (int i = 0; i + 1 < stored; ++i) {
    if (n.separator[i].before == n.separator[i + 1].before) bad = std::min(bad, i);
  }
  std::string groups;
  for (const Grouping& g : kGroupings) {
    if (g.length != n.size || (kind && g.kind != *kind)) continue;
    absl::StrAppendFormat(&groups, "%s%s (%s%s)", groups.empty() ? "" : ", ", g.name,
                          KindText(g.kind), g.hyphen_only ? ", with a hyphen" : "");
  }
  const Separator& s = n.separator[bad];
  const absl::Status at = BadCharError(n.trimmed, s.offset, s.position);
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: spaces and hyphens may only separate the groups %s", at.message(), groups));
}

// ---- Validators -------------------------------------------------------------------------------

absl::Status CheckCharError(char expected, char found) {
  return absl::InvalidArgumentError(
      absl::StrFormat("bad check character: expected %c, found %c", expected, found));
}

int ParseDigits(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// Returns why the birth date `date` is impossible ("" if no such day), or nullptr if it is not.
// REQUIRES: `date` is 8 digits YYYYMMDD.
const char* BirthDateFault(std::string_view date, absl::CivilDay today) {
  const int y = ParseDigits(date.substr(0, 4));
  const int m = ParseDigits(date.substr(4, 2));
  const int d = ParseDigits(date.substr(6, 2));
  // Plain arithmetic: a CivilDay would normalise the date first, which costs more than the
  // rest of a served lookup.
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m < 1 || m > 12 || d < 1 || d > kDays[m - 1] + (m == 2 && leap ? 1 : 0)) return "";
  if (y < 1900) return " (before 1900)";
  if (std::make_tuple(y, m, d) >
      std::make_tuple(static_cast<int>(today.year()), today.month(), today.day())) {
    return " (in the future)";
  }
  return nullptr;
}

// REQUIRES: as BirthDateFault().
absl::Status CheckBirthDate(std::string_view date, absl::CivilDay today) {
  const char* why = BirthDateFault(date, today);
  if (why == nullptr) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat("impossible birth date %s%s", date, why));
}

// Returns why `text` is no resident ID, or OkStatus. With `foreigner_permit`, it is read as a
// foreigner's permanent residence ID of 2023: 9, the issuing province, the nationality (ISO 3166-1
// numeric, not checked against the list of countries), then as a resident ID from the birth
// date on. REQUIRES: `text` is 18 characters, the first 17 digits.
absl::Status ValidateResident(std::string_view text, absl::CivilDay today, bool foreigner_permit) {
  if (foreigner_permit) {
    if (!IsMainlandProvince(ParseDigits(text.substr(1, 2)))) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "bad province code %s (a foreigner's permanent residence ID is 9, a mainland "
          "province's code, a nationality code: %s)",
          text.substr(1, 2), text.substr(0, 6)));
    }
  } else if (!IsProvince(ParseDigits(text.substr(0, 2)))) {
    return absl::InvalidArgumentError(absl::StrFormat("bad area code %s", text.substr(0, 6)));
  }
  SHIXIN_RETURN_IF_ERROR(CheckBirthDate(text.substr(6, 8), today));
  const char expected = ResidentCheckChar(text.substr(0, 17));
  if (text[17] != expected) return CheckCharError(expected, text[17]);
  return absl::OkStatus();
}

// REQUIRES: n.size == 18.
absl::Status ValidateCreditCode(const Normalised& n) {
  for (int i = 0; i < 18; ++i) {
    if (kCreditValue[static_cast<unsigned char>(n.text[i])] < 0) return BadCharAt(n, i);
  }
  const std::string_view text = n.view();
  if (text[0] == '0') {  // GB 32100-2015: no registration authority has code 0
    return absl::InvalidArgumentError(
        "bad registration authority 0 (a credit code's first character is never 0)");
  }
  for (int i = 2; i < 8; ++i) {
    if (!IsDigit(text[i])) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "bad area code %s (credit code positions 3-8 must be digits)", text.substr(2, 6)));
    }
  }
  const char expected = CreditCodeCheckChar(text.substr(0, 17));
  if (text[17] != expected) return CheckCharError(expected, text[17]);
  const char org_expected = OrgCodeCheckChar(text.substr(8, 8));
  if (text[16] != org_expected) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "bad embedded organisation code %s-%c: expected check character %c, found %c",
        text.substr(8, 8), text[16], org_expected, text[16]));
  }
  return absl::OkStatus();
}

// A valid resident ID in the normal form (17 digits and its check character), as served IDs
// come: the Id in one pass over the bytes, without Normalise()'s bookkeeping of positions. Any
// other input, or one that fails a check, returns nullopt and takes the general path, which
// gives the same Id or says what is wrong.
std::optional<Id> ParseNormalResident(std::string_view input, absl::CivilDay today) {
  if (input.size() != 18) return std::nullopt;
  for (int i = 0; i < 17; ++i) {
    if (!IsDigit(input[i])) return std::nullopt;
  }
  if (input[17] != ResidentCheckChar(input.substr(0, 17)) ||
      !IsProvince(ParseDigits(input.substr(0, 2))) ||
      BirthDateFault(input.substr(6, 8), today) != nullptr) {
    return std::nullopt;
  }
  return MakeIdUnchecked(IdKind::kResident, input);
}

// A valid credit code in the normal form with a letter among its first 17 characters (an
// all-digit one may be a resident ID, which the general path decides): the Id, else nullopt,
// as ParseNormalResident().
std::optional<Id> ParseNormalCreditCode(std::string_view input) {
  if (input.size() != 18) return std::nullopt;
  bool digits17 = true;
  for (int i = 0; i < 18; ++i) {
    const auto c = static_cast<unsigned char>(input[i]);
    if (c >= kCreditValue.size() || kCreditValue[c] < 0) return std::nullopt;
    digits17 = digits17 && (i == 17 || IsDigit(input[i]));
  }
  if (digits17 || input[0] == '0') return std::nullopt;
  for (int i = 2; i < 8; ++i) {
    if (!IsDigit(input[i])) return std::nullopt;
  }
  if (input[17] != CreditCodeCheckChar(input.substr(0, 17)) ||
      input[16] != OrgCodeCheckChar(input.substr(8, 8))) {
    return std::nullopt;
  }
  return MakeIdUnchecked(IdKind::kCreditCode, input);
}

absl::StatusOr<Id> Parse18(const Normalised& n, absl::CivilDay today) {
  const std::string_view text = n.view();
  bool digits17 = true;
  for (int i = 0; i < 17; ++i) digits17 = digits17 && IsDigit(text[i]);
  if (!digits17) {
    SHIXIN_RETURN_IF_ERROR(ValidateCreditCode(n));
    return MakeIdUnchecked(IdKind::kCreditCode, text);
  }
  // A leading 9 is no area code: a foreigner's permanent residence ID, or an all-digit credit
  // code (91: an enterprise), which is read as such when it is both; there are far more of them.
  const bool foreigner_permit = text[0] == '9';
  const absl::Status resident = ValidateResident(text, today, foreigner_permit);
  if (resident.ok() && !foreigner_permit) return MakeIdUnchecked(IdKind::kResident, text);
  // An all-digit credit code is possible. Digits that start with no province code and fail the
  // resident check character are more likely a mistyped credit code, whose reason helps more.
  const absl::Status credit = ValidateCreditCode(n);
  if (credit.ok()) return MakeIdUnchecked(IdKind::kCreditCode, text);
  if (resident.ok()) return MakeIdUnchecked(IdKind::kResident, text);
  const char expected = ResidentCheckChar(text.substr(0, 17));
  if (foreigner_permit && text[17] != expected &&
      IsMainlandProvince(ParseDigits(text.substr(1, 2))) &&
      BirthDateFault(text.substr(6, 8), today) == nullptr) {
    // Either reading may be the one meant: a foreigner's ID whose only fault is its check.
    return absl::InvalidArgumentError(absl::StrFormat(
        "neither a foreigner's permanent residence ID (bad check character: expected %c, found "
        "%c) nor a credit code (%s)",
        expected, text[17], credit.message()));
  }
  const bool resident_like =
      (!foreigner_permit && IsProvince(ParseDigits(text.substr(0, 2)))) || text[17] == expected;
  if (resident_like) return resident;
  // A calendar date where a resident ID has its birth date (in range or not): either reading
  // may be the one meant, and the credit code's check character alone would send the user
  // after the wrong fault (x33 #4, x34 F6).
  if (const char* fault = BirthDateFault(text.substr(6, 8), today);
      fault == nullptr || *fault != '\0') {
    return absl::InvalidArgumentError(
        absl::StrFormat("neither a %s (%s) nor a credit code (%s)",
                        foreigner_permit ? "foreigner's permanent residence ID" : "resident ID",
                        resident.message(), credit.message()));
  }
  return credit;
}

absl::StatusOr<Id> Parse15(const Normalised& n, absl::CivilDay today) {
  for (int i = 0; i < 15; ++i) {
    if (!IsDigit(n.text[i])) return BadCharAt(n, i);
  }
  // GB 11643-1999: insert the century after the area code, then append the check character.
  char converted[18];
  std::memcpy(converted, n.text, 6);
  converted[6] = '1';
  converted[7] = '9';
  std::memcpy(converted + 8, n.text + 6, 9);
  converted[17] = ResidentCheckChar(std::string_view(converted, 17));
  const std::string_view text(converted, 18);
  SHIXIN_RETURN_IF_ERROR(ValidateResident(text, today, /*foreigner_permit=*/false));
  return MakeIdUnchecked(IdKind::kResident, text);
}

// Returns why `n` is another document's number that ParseId() would otherwise read as the ID
// of its length (a return permit as an organisation code), or OkStatus: a Hong Kong or Macau
// return permit (H or M and 8 digits; 9 characters, as an organisation code) and the old
// foreigner's permanent residence card (3 letters and 12 digits; 15 characters, as an old
// resident ID).
absl::Status OtherDocumentError(const Normalised& n) {
  const std::string_view text = n.view();
  const auto digits = [&text](size_t from) {
    return std::all_of(text.begin() + static_cast<ptrdiff_t>(from), text.end(), IsDigit);
  };
  if (n.size == 9 && (text[0] == 'H' || text[0] == 'M') && digits(1)) {
    return absl::InvalidArgumentError(
        "a Hong Kong or Macau return permit number (H or M and 8 digits), no ID shixin can "
        "check: a Hong Kong or Macau resident is listed under the residence permit (810000..., "
        "820000...) or a resident ID");
  }
  const auto letter = [](char c) { return c >= 'A' && c <= 'Z'; };
  if (n.size == 15 && letter(text[0]) && letter(text[1]) && letter(text[2]) && digits(3)) {
    return absl::InvalidArgumentError(
        "an old foreigner's permanent residence card number (3 letters and 12 digits), no ID "
        "shixin can check: a foreign national is listed under the permanent residence ID of 2023 "
        "(18 characters, 9...)");
  }
  return absl::OkStatus();
}

absl::StatusOr<Id> Parse9(const Normalised& n) {
  // Normalisation leaves only digits and capital letters, so only the check can fail.
  const std::string_view text = n.view();
  const char expected = OrgCodeCheckChar(text.substr(0, 8));
  if (text[8] != expected) return CheckCharError(expected, text[8]);
  return MakeIdUnchecked(IdKind::kOrgCode, text);
}

}  // namespace

std::string_view IdKindName(IdKind kind) {
  static constexpr std::string_view kNames[] = {"resident_id", "credit_code", "org_code"};
  return EnumName(kind, kNames, "unknown", static_cast<int>(IdKind::kResident));
}

uint64_t HashPackedId(const PackedId& id) { return XXH3_64bits(id.w, sizeof(id.w)); }

bool IsCanonicalPacked(const PackedId& id) {
  const uint32_t payload = id.w[2] & kPackedPayloadMask;
  const uint64_t low = (static_cast<uint64_t>(id.w[1]) << 32) | id.w[0];
  switch (PackedKind(id)) {
    case IdKind::kResident:
      return payload == 0 && low < kResidentLimit;
    case IdKind::kCreditCode: {
      if ((payload & ~kCreditHighMask) != 0) return false;
      const absl::uint128 v = absl::MakeUint128(payload, low);
      for (int i = 0; i < 17; ++i) {
        if ((absl::Uint128Low64(v >> (5 * i)) & 31) >= kCreditCharset.size()) return false;
      }
      return true;
    }
    case IdKind::kOrgCode:
      if (payload != 0 || (low >> 48) != 0) return false;
      for (int i = 0; i < 8; ++i) {
        if (((low >> (6 * i)) & 63) >= 36) return false;
      }
      return true;
  }
  return false;  // kind 0: the all-zero "no id" or garbage
}

char ResidentCheckChar(std::string_view first17) {
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (first17[i] - '0') * kResidentWeights[i];
  return kResidentCheckChars[sum % 11];
}

char CreditCodeCheckChar(std::string_view first17) {
  int sum = 0;
  for (int i = 0; i < 17; ++i) {
    sum += kCreditValue[static_cast<unsigned char>(first17[i])] * kCreditWeights[i];
  }
  return kCreditCharset[(31 - sum % 31) % 31];
}

char OrgCodeCheckChar(std::string_view first8) {
  int sum = 0;
  for (int i = 0; i < 8; ++i) sum += OrgValue(first8[i]) * kOrgWeights[i];
  const int check = 11 - sum % 11;
  return check == 10 ? 'X' : check == 11 ? '0' : static_cast<char>('0' + check);
}

absl::StatusOr<Id> ParseId(std::string_view input, absl::CivilDay today) {
  if (std::optional<Id> id = ParseNormalResident(input, today)) return *id;
  if (std::optional<Id> id = ParseNormalCreditCode(input)) return *id;
  Normalised n;
  SHIXIN_RETURN_IF_ERROR(Normalise(input, n));
  if (n.size != 18 && n.size != 15 && n.size != 9) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "wrong length: %d character%s (expected 18, 15 or 9)", n.size, n.size == 1 ? "" : "s"));
  }
  SHIXIN_RETURN_IF_ERROR(OtherDocumentError(n));
  if (n.separators > 0 && !Grouped(n, std::nullopt)) return GroupingError(n, std::nullopt);
  absl::StatusOr<Id> id = n.size == 18   ? Parse18(n, today)
                          : n.size == 15 ? Parse15(n, today)
                                         : Parse9(n);
  // The grouping must be one of the kind found, e.g. not a credit code's for a resident ID.
  if (id.ok() && n.separators > 0 && !Grouped(n, id->kind())) return GroupingError(n, id->kind());
  return id;
}

bool HasPersonIdShape(std::string_view input) {
  const std::string_view trimmed = TrimSpaces(input);
  int size = 0, letters = 0, last_letter = -1;
  for (size_t i = 0; i < trimmed.size();) {
    const Decoded d = DecodeUtf8(trimmed.substr(i));
    i += d.len;
    // An invisible character is a fault in a number of the shape, named by ParseId()'s error.
    if (IsSeparator(d.cp) || IsInvisible(d.cp)) continue;
    const char c = NormaliseChar(d.cp);
    if (c >= 'A' && c <= 'Z') ++letters, last_letter = size;
    ++size;
  }
  if (size == 15) return letters == 0;
  return size == 18 && (letters == 0 || (letters == 1 && last_letter == 17));
}

std::string_view TrimSpaces(std::string_view s) {
  size_t begin = s.size(), end = 0;
  for (size_t i = 0; i < s.size();) {
    const Decoded d = DecodeUtf8(s.substr(i));
    if (!IsTrimmable(d.cp)) {
      if (begin == s.size()) begin = i;
      end = i + d.len;
    }
    i += d.len;
  }
  return begin < end ? s.substr(begin, end - begin) : std::string_view();
}

size_t IdSeparatorLength(std::string_view s) {
  if (s.empty()) return 0;
  const Decoded d = DecodeUtf8(s);
  return IsSeparator(d.cp) ? static_cast<size_t>(d.len) : 0;
}

PersonDocument PersonDocumentOf(const Id& id) {
  assert(id.kind() == IdKind::kResident);
  const std::string_view text = id.text();
  if (text[0] == '9') return PersonDocument::kForeignerPermanent;
  const int province = ParseDigits(text.substr(0, 2));
  return province >= 81 && province <= 83 ? PersonDocument::kResidencePermit
                                          : PersonDocument::kResidentId;
}

std::string_view PersonDocumentNumberLabel(PersonDocument document) {
  switch (document) {
    case PersonDocument::kResidencePermit:
      return "港澳台居民居住证号码";
    case PersonDocument::kForeignerPermanent:
      return "外国人永久居留身份证号码";
    case PersonDocument::kResidentId:
      break;
  }
  return "公民身份号码";
}

bool CreditCodeIsForeignerPermit(const Id& id) {
  assert(id.kind() == IdKind::kCreditCode);
  const std::string_view text = id.text();
  for (int i = 0; i < 17; ++i) {
    if (!IsDigit(text[i])) return false;
  }
  const absl::CivilDay any_day(9999, 12, 31);
  return text[0] == '9' && ValidateResident(text, any_day, /*foreigner_permit=*/true).ok();
}

absl::StatusOr<Id> ParseId(std::string_view input) {
  // The coarse clock (a few ms old) and the cached day: ~10 ns, where absl::Now() and a
  // civil-day conversion took ~100 per ID (a delta file parses tens of thousands).
  timespec now;
  clock_gettime(CLOCK_REALTIME_COARSE, &now);
  return ParseId(input, UtcDayAt(now.tv_sec));
}

absl::CivilDay UtcDayAt(int64_t seconds) {
  constexpr int64_t kDay = 86400;
  const int64_t day = seconds >= 0 ? seconds / kDay : -((-seconds + kDay - 1) / kDay);
  thread_local int64_t cached_day = std::numeric_limits<int64_t>::min();
  thread_local absl::CivilDay cached;
  if (day != cached_day) {
    cached = absl::ToCivilDay(absl::FromUnixSeconds(seconds), absl::UTCTimeZone());
    cached_day = day;
  }
  return cached;
}

Id MakeIdUnchecked(IdKind kind, std::string_view text) {
  assert(text.size() == (kind == IdKind::kOrgCode ? 9u : 18u));
  Id id;
  id.kind_ = kind;
  id.size_ = static_cast<uint8_t>(text.size());
  std::memcpy(id.text_, text.data(), text.size());
  return id;
}

absl::CivilDay Id::BirthDate() const {
  const std::string_view date = text().substr(6, 8);
  return absl::CivilDay(ParseDigits(date.substr(0, 4)), ParseDigits(date.substr(4, 2)),
                        ParseDigits(date.substr(6, 2)));
}

std::string Id::Masked() const {
  if (kind_ == IdKind::kOrgCode || size_ != 18) return std::string(text());
  std::string masked(text());
  masked.replace(10, 4, "****");
  return masked;
}

Id Id::EmbeddedOrgCode() const {
  assert(kind_ == IdKind::kCreditCode);
  return MakeIdUnchecked(IdKind::kOrgCode, text().substr(8, 9));
}

std::string_view SubjectKey(std::string_view text, SubjectKind kind) {
  if (kind == SubjectKind::kOrganization && text.size() == 18) return text.substr(8, 9);
  return text;
}

HashedId EmbeddedOrgCodeKey(const PackedId& credit_code) {
  assert(PackedKind(credit_code) == IdKind::kCreditCode);
  // Without unpacking (a lookup of a credit code that misses takes this): characters 9-16 are
  // bits 5-44 of the packed credit code, 5 bits each, the 16th lowest; Pack() keeps them as an
  // organisation code's 8 characters in 6 bits each, the 8th lowest (its check is not kept).
  const uint64_t low = (uint64_t{credit_code.w[1]} << 32) | credit_code.w[0];
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v |= uint64_t{kOrgValueOfCredit[(low >> (5 + 5 * i)) & 31]} << (6 * i);
  }
  HashedId embedded;
  embedded.key.w[0] = static_cast<uint32_t>(v);
  embedded.key.w[1] = static_cast<uint32_t>(v >> 32);
  embedded.key.w[2] = static_cast<uint32_t>(IdKind::kOrgCode) << kPackedKindShift;
  embedded.hash = HashPackedId(embedded.key);
  return embedded;
}

namespace {

// Returns the value of the 8 ASCII digits at `p`: three multiplications (SWAR) where a loop
// takes eight dependent ones.
uint64_t Digits8(const char* p) {
  static_assert(std::endian::native == std::endian::little);
  uint64_t v;
  std::memcpy(&v, p, 8);
  v -= 0x3030303030303030;  // each byte a digit, the first in the lowest byte
  v = v * 10 + (v >> 8);    // pairs: 10 * d[i] + d[i + 1] in every other byte
  return (((v & 0x000000FF000000FF) * (100 + (1000000ULL << 32))) +
          (((v >> 16) & 0x000000FF000000FF) * (1 + (10000ULL << 32)))) >>
         32;
}

}  // namespace

// Packing reads the characters as one big-endian number per kind, so PackedId order within
// a kind is text order.
PackedId Id::Pack() const {
  PackedId p;
  if (size_ == 0) return p;
  switch (kind_) {
    case IdKind::kResident: {
      const uint64_t v = Digits8(text_) * 1'000'000'000 + Digits8(text_ + 8) * 10 +
                         static_cast<uint64_t>(text_[16] - '0');
      p.w[0] = static_cast<uint32_t>(v);
      p.w[1] = static_cast<uint32_t>(v >> 32);
      break;
    }
    case IdKind::kCreditCode: {
      absl::uint128 v = 0;
      for (int i = 0; i < 17; ++i) {
        v = (v << 5) | static_cast<uint64_t>(kCreditValue[static_cast<unsigned char>(text_[i])]);
      }
      const uint64_t low = absl::Uint128Low64(v);
      p.w[0] = static_cast<uint32_t>(low);
      p.w[1] = static_cast<uint32_t>(low >> 32);
      p.w[2] = static_cast<uint32_t>(absl::Uint128High64(v));  // kCreditHighBits
      break;
    }
    case IdKind::kOrgCode: {
      uint64_t v = 0;
      for (int i = 0; i < 8; ++i) v = (v << 6) | static_cast<uint64_t>(OrgValue(text_[i]));
      p.w[0] = static_cast<uint32_t>(v);
      p.w[1] = static_cast<uint32_t>(v >> 32);
      break;
    }
  }
  p.w[2] |= static_cast<uint32_t>(kind_) << kPackedKindShift;
  return p;
}

Id Id::Unpack(const PackedId& packed) {
  const IdKind kind = PackedKind(packed);
  const uint64_t low = (static_cast<uint64_t>(packed.w[1]) << 32) | packed.w[0];
  char text[18];
  switch (kind) {
    case IdKind::kResident: {
      uint64_t v = low;
      for (int i = 16; i >= 0; --i, v /= 10) text[i] = static_cast<char>('0' + v % 10);
      text[17] = ResidentCheckChar(std::string_view(text, 17));
      return MakeIdUnchecked(kind, std::string_view(text, 18));
    }
    case IdKind::kCreditCode: {
      absl::uint128 v = absl::MakeUint128(packed.w[2] & kCreditHighMask, low);
      for (int i = 16; i >= 0; --i, v >>= 5) {
        text[i] = kCreditCharset[absl::Uint128Low64(v) & 31];
      }
      text[17] = CreditCodeCheckChar(std::string_view(text, 17));
      return MakeIdUnchecked(kind, std::string_view(text, 18));
    }
    case IdKind::kOrgCode: {
      uint64_t v = low;
      for (int i = 7; i >= 0; --i, v >>= 6) text[i] = OrgChar(static_cast<int>(v & 63));
      text[8] = OrgCodeCheckChar(std::string_view(text, 8));
      return MakeIdUnchecked(kind, std::string_view(text, 9));
    }
  }
  return Id();  // the all-zero "no id"
}

}  // namespace shixin
