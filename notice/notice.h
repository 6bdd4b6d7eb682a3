// The punishment notice (惩戒告知书, issue 12): what an agency prints from the system to tell a
// subject which joint-punishment measures it applied and why (the memorandum, section 四). Built
// from the audit record of a MEASURES answer and its receipt, the list (the court cases behind
// the listing), the catalog (each measure's title and clause, the memorandum's title) and,
// when the agency reported back, its feedback (only the measures reported applied are listed).
// Rendered in Chinese as plain text or as self-contained HTML printable on A4; the subject's
// ID masked for a person (Id::Masked()), an organisation's code whole; every text escaped.
//
// Thread safety: plain values and pure functions (the list and catalog are only read).
#ifndef SHIXIN_NOTICE_NOTICE_H_
#define SHIXIN_NOTICE_NOTICE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/receipt.h"
#include "audit/record.h"
#include "core/catalog.h"
#include "core/list.h"
#include "core/record.h"
#include "core/types.h"

namespace shixin {

// A listed party behind the subject's listing: the subject itself, or (a related person) a
// listed organisation in which it holds `role`.
struct NoticeListing {
  std::string id;  // normalised
  std::string name;
  std::optional<Role> role = {};  // the subject's role in this organisation (related persons)
  std::vector<CaseInfo> cases;    // the cases that counted at the instant of the answer
};

// The subject of a notice, as the list says.
struct NoticeSubject {
  std::string id;  // normalised
  SubjectKind kind = SubjectKind::kPerson;
  std::string name;
  bool related = false;  // listed through organisations (the listings are theirs)
  std::vector<NoticeListing> listings = {};
};

struct NoticeInput {
  // The audit record of the MEASURES answer (its views must outlive the call) and its receipt.
  audit::QueryRecord record;
  audit::Receipt receipt;
  std::string issuer;  // the issuing agency: the caller's name (callers file), or its id
  NoticeSubject subject;
  const Catalog* catalog = nullptr;  // the catalog the answer was given against
  // The caller's feedback on the receipt, the latest entry per measure winning; nullopt when it
  // has reported nothing (then the measures returned are listed as those that apply).
  std::optional<std::vector<audit::FeedbackEntry>> feedback;
  int64_t date = 0;  // the notice's date, Unix seconds (shown as the day in China)
};

// Returns the subject of `record` as `list` says at the instant of the answer (its as_of, or
// its time): name and, for a listed subject, its cases; for a related person, each listed
// organisation in which it held a role then, with the organisation's cases. Returns
// FailedPrecondition when the record is not of a MEASURES answer or of an unlisted subject,
// NotFound when the list does not know the subject (a list older than the record's),
// InvalidArgument for a malformed subject, and Snapshot::ReadCases()'s DataLoss.
absl::StatusOr<NoticeSubject> NoticeSubjectFromList(const ListView& list,
                                                    const audit::QueryRecord& record);

// Returns the notice as UTF-8 text (lines ending in "\n").
// REQUIRES: input.catalog != nullptr.
std::string RenderNoticeText(const NoticeInput& input);
// Returns the notice as one self-contained HTML document (no external resource; @page A4).
// REQUIRES: input.catalog != nullptr.
std::string RenderNoticeHtml(const NoticeInput& input);

}  // namespace shixin

#endif  // SHIXIN_NOTICE_NOTICE_H_
