// Case numbers (caseCode) as the court's feeds write them. One case is written with full-width
// or ASCII brackets, digits and letters, and exports pad it with spaces or a tab: these name the
// same case. The one rule for the base list's cases (SnapshotBuilder) and a delta's changes
// (core/overlay.cc): a case is named by its subject and its case number by SameCaseCode().
//
// Thread safety: pure functions.
#ifndef SHIXIN_CORE_CASE_CODE_H_
#define SHIXIN_CORE_CASE_CODE_H_

#include <cstdint>
#include <string_view>

namespace shixin {

// Returns `code` without surrounding whitespace (Unicode's White_Space: ASCII's, U+00A0,
// U+3000, U+2028...) and invisible characters (Default_Ignorable_Code_Point: zero-width space,
// joiners, soft hyphen, direction marks, byte order mark...), as a case number is stored and
// shown.
std::string_view TrimCaseCode(std::string_view code);

// Whether `a` and `b` name the same case: equal once trimmed, with full-width ASCII
// (U+FF01-U+FF5E: brackets, digits, letters) read as ASCII, any whitespace inside as one ASCII
// space, and the invisible characters TrimCaseCode() removes left out inside too. What reads
// the same on a screen is the same case: a delta must be able to end a case copied from a web
// page. Letters keep their case.
bool SameCaseCode(std::string_view a, std::string_view b);

// Returns a hash of `code` that SameCaseCode() codes share.
uint64_t CaseCodeHash(std::string_view code);

}  // namespace shixin

#endif  // SHIXIN_CORE_CASE_CODE_H_
