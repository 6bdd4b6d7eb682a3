// The punishment notice (惩戒告知书, issue 12): what an agency prints from the system to tell a
// subject which joint-punishment measures it applied and why (the memorandum, section 四). Built
// from the audit record of a MEASURES answer that returned measures and its receipt, the list
// as the answer knew it at the answer's instant (why each measure applied, recomputed, and the
// court cases behind it), the list as known now (what became of those cases), the catalog
// (each measure's title and clause, the memorandum's title) and, when the agency reported
// back, its feedback (only the measures reported applied are listed). States the instant of an
// as-of answer and flags cases revoked, removed, corrected or expired since (a change still to
// come at the notice's date as scheduled, a case listed again as such, a change the court made
// after the answer with effect before it as retroactive).
// Rendered in Chinese as plain text or as self-contained HTML printable on A4 from one
// document; persons' IDs masked (Id::Masked()), organisations' codes whole; every text escaped.
//
// Thread safety: plain values and pure functions (the list and catalog are only read).
#ifndef SHIXIN_NOTICE_NOTICE_H_
#define SHIXIN_NOTICE_NOTICE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/reader.h"
#include "audit/record.h"
#include "core/catalog.h"
#include "core/list.h"
#include "core/query.h"
#include "core/record.h"
#include "core/types.h"

namespace shixin {

// A listed party behind a basis of the notice's measures: the subject itself, a listed
// organisation in which it holds a role (or, two hops, in which its officer does), or its
// listed officer.
struct NoticeParty {
  std::string id;  // normalised
  SubjectKind kind = SubjectKind::kPerson;
  std::string name;
  // The cases that counted at the answer's instant on the answer's list, each with its end as
  // the list is known now (NoticeLists): a change after the instant, or one the court made
  // after the answer with its `at` at or before that instant (ended_at <= the instant).
  std::vector<CaseInfo> cases = {};
  // The versions of those cases that begin after that instant (a correction's, a listing
  // again after a removal): what became of each case, by start.
  std::vector<CaseInfo> later = {};
};

// One measure of the answer and why it applied.
struct NoticeMeasure {
  uint16_t no = 0;
  // The bases the answer's list gives at the answer's instant (Measures() with the officers of
  // the relations feed). Empty when the measure applied only through officers the caller sent
  // with the request (the audit records them, not their roles): the notice then says so and
  // names no one.
  std::vector<Basis> basis = {};
};

// The subject of a notice and the facts behind its measures, as the list says.
struct NoticeSubject {
  std::string id;  // normalised
  SubjectKind kind = SubjectKind::kPerson;
  std::string name;                          // "" when the list does not know the subject
  std::vector<NoticeMeasure> measures = {};  // the answer's, in its order
  std::vector<NoticeParty> parties = {};     // each party of the bases once, in basis order
};

struct NoticeInput {
  // The audit record of the MEASURES answer (its views must outlive the call) and its receipt,
  // the text the answer carried (audit/receipt.h).
  audit::QueryRecord record;
  std::string receipt;
  std::string issuer;  // the issuing agency's name; "" leaves a blank to fill in by hand
  NoticeSubject subject;
  const Catalog* catalog = nullptr;  // the catalog the answer was given against
  // The caller's feedback on the receipt, the latest entry per measure winning; nullopt when it
  // has reported nothing (then the measures returned are listed as those that apply).
  std::optional<std::vector<audit::FeedbackEntry>> feedback;
  int64_t date = 0;  // the notice's date, Unix seconds (shown as the day in China)
};

// The lists a notice is drawn from (both over one base).
struct NoticeLists {
  // The list as the answer knew it: the base and the delta files up to the record's
  // delta_sequence. The bases, the subject and the cases the notice states are this list's.
  ListView answered;
  // The list as known now, every delta file given: the later changes the notice flags, those
  // the court sent after the answer with an `at` before it (a retroactive removal) too.
  ListView now;
  // Whether `answered` is the answer's list. False when the list given folds deltas after the
  // answer's into its base (a compiled snapshot): `answered` is then `now`, on which a
  // retroactive change cannot be told from one known when the answer was given.
  bool exact = true;
};

// Returns the subject of `record` and the basis of each of its measures as `lists.answered`
// says at the instant of the answer (its as_of, or its time) under the answer's agency and
// scenario filters (without a scenario, `default_scenarios`: the caller's default scenarios as a
// mask of catalog indexes, 0 = none), with the cases of every listed party behind them and
// their changes since in `lists.now`. A measure the list does not give applied through officers
// the caller sent only if `officers` (the answer's officer records) holds one listed or related.
// Returns FailedPrecondition when the record is not of a MEASURES answer with a receipt and at
// least one measure (audit::AwaitsFeedback: no measure, no notice); when the list (or `catalog`)
// does not give one of its measures at that instant, or the subject's listing the record holds,
// or lacks its agency or scenario (not the list or catalog the answer was given from; with an
// inexact list, naming the cases the court changed after the answer with effect before it);
// InvalidArgument for a malformed subject, and Snapshot::ReadCases()'s DataLoss.
absl::StatusOr<NoticeSubject> NoticeSubjectFromList(const NoticeLists& lists,
                                                    const Catalog& catalog,
                                                    const audit::QueryRecord& record,
                                                    std::span<const audit::SentOfficer> officers,
                                                    uint64_t default_scenarios = 0);
// The same with one list, the answer's and the current one, and no officer sent.
absl::StatusOr<NoticeSubject> NoticeSubjectFromList(const ListView& list, const Catalog& catalog,
                                                    const audit::QueryRecord& record,
                                                    uint64_t default_scenarios = 0);

// Returns the numbers of the measures the notice lists: those of the answer reported applied
// (the latest entry per measure winning), or, without feedback, every measure returned.
std::vector<uint16_t> ListedMeasures(const NoticeInput& input);

// Returns the notice as UTF-8 text (lines ending in "\n"), the values in it (names, case
// numbers, courts, the issuer) with control characters, line separators and direction overrides
// escaped as the CLI's text output writes them (base/terminal.h: "\x1b", "\u202e").
// REQUIRES: input.catalog != nullptr.
std::string RenderNoticeText(const NoticeInput& input);
// Returns the notice as one self-contained HTML document (no external resource; @page A4).
// REQUIRES: input.catalog != nullptr.
std::string RenderNoticeHtml(const NoticeInput& input);

}  // namespace shixin

#endif  // SHIXIN_NOTICE_NOTICE_H_
