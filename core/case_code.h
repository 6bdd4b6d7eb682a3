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

// Returns `code` without surrounding whitespace (ASCII, U+3000, U+00A0), as a case number is
// stored and shown.
std::string_view TrimCaseCode(std::string_view code);

// Whether `a` and `b` name the same case: equal once trimmed and with full-width ASCII
// (U+FF01-U+FF5E: brackets, digits, letters) and U+3000 read as ASCII. Letters keep their case.
bool SameCaseCode(std::string_view a, std::string_view b);

// Returns a hash of `code` that SameCaseCode() codes share.
uint64_t CaseCodeHash(std::string_view code);

}  // namespace shixin

#endif  // SHIXIN_CORE_CASE_CODE_H_
