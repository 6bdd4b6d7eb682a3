// What a caller may see of the list (issue 11): a `full` caller (a bank's credit department,
// the court) gets answers whole; a `masked` caller (a hotel front desk, a travel agent) gets
// whether the subject is listed or related and the measures with their basis, but third
// persons' IDs masked (Id::Masked(): first 10 + "****" + last 4), the names of related
// persons who are not themselves listed masked but for their first character, and no case
// texts (duties, judgment details). Organisations' codes stay whole (the public list shows
// them). The queried subject's own ID is never masked: the caller sent it.
//
// Thread safety: plain functions on values; reentrant.
#ifndef SHIXIN_CORE_MASKING_H_
#define SHIXIN_CORE_MASKING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/query.h"

namespace shixin {

enum class View : uint8_t {
  kFull = 0,
  kMasked = 1,
};

// Returns "full" or "masked".
std::string_view ViewName(View view);
// Returns the View named `name` ("full", "masked"), or nullopt.
std::optional<View> ParseView(std::string_view name);

// Returns `name` with its first UTF-8 character kept and each following character replaced by
// one '*' ("张三丰" -> "张**"); "" stays "". A byte that does not start a valid UTF-8 character
// counts as one character (a first one is given as U+FFFD), so the result is always UTF-8.
std::string MaskName(std::string_view name);

// Returns Id::Masked() of `normalised_id` if it parses as an ID, else MaskName() of it (so that
// a text that is not an ID never comes back whole).
std::string MaskIdText(std::string_view normalised_id);

// Returns `text` (a free text: a name, a court's field) with every run of 15 or more digits
// (ASCII or full-width; an 18-character one may end in X or x) masked, so that no person's ID
// (resident, residence permit, foreigner's permanent residence ID, old 15-digit) written into it
// comes out whole: 18 characters as Id::Masked() (first 10 + "****" + last 4), 15 as first 8 +
// "****" + last 3, any other length keeping its first 6 and last 4. A person's ID written in the
// groups ParseId() reads (6-8-4 or 6-6-3 digits, one IdSeparatorLength() space or hyphen
// between groups, each group a whole run of digits) is masked the same, its separators kept:
// "230402 19720314 0038" becomes "230402 1972**** 0038". Other characters, and shorter numbers
// (case numbers, dates, phone numbers), are unchanged; an all-digit credit code is masked too.
std::string MaskIdsInText(std::string_view text);

// Masks `r` in place for `view` (kFull: unchanged). kMasked: `r->id` stays; `r->name` stays if
// the subject is listed, else is masked; the cases keep only the fields a masked caller may see
// (case code, court, dates and validity, the ground of listing: see masking.cc); roles[] and
// officers[] get the other party's ID masked if it is a person's (an organisation's stays) and
// its name masked unless that party is listed. The texts kept (names, the cases' texts) get
// MaskIdsInText(): a person's ID the court wrote into one is a third party's.
void Mask(View view, CheckResult* r);

// Masks `r` in place for `view` (kFull: unchanged). kMasked: the subject as above; in each basis
// the ID `officer` is masked (`via`, an organisation's, stays); `via_name` stays (a `via`
// organisation is listed); `officer_name` stays only for a listed officer. Measures' titles and
// agencies stay.
void Mask(View view, MeasuresResult* r);
// The same for MatchMeasures()'s answer: the bases of `r->measures` only.
void Mask(View view, MeasureMatches* r);

}  // namespace shixin

#endif  // SHIXIN_CORE_MASKING_H_
