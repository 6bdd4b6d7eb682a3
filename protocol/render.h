// Rendering of query results: one JSON object per queried ID (the CLI's --json, and the bodies
// of shixind's JSON API, daemon/json_api.h), or a short text form for people. The CLI's offline
// and server modes and the JSON API render through these same functions, so scripts can switch
// between them.
//
// The JSON is written by nlohmann::json, one line per object, keys in the documented order,
// UTF-8 as is, control characters escaped; invalid UTF-8 (which ingest never lets in) is
// written as U+FFFD.
//
// Thread safety: pure functions.
#ifndef SHIXIN_PROTOCOL_RENDER_H_
#define SHIXIN_PROTOCOL_RENDER_H_

#include <string>
#include <string_view>

#include "core/query.h"
#include "protocol/messages.h"
#include "protocol/operator_messages.h"

namespace shixin {

// Returns the kind of subject the normalised ID `id` names (a resident ID: a person), as offline
// mode reports it: an unlisted answer carries none.
SubjectKind KindOfNormalisedId(std::string_view id);

// Returns the result a CHECK answer `a` (wire::CheckAnswer, or the client's CheckAnswerCopy)
// tells about the ID it answers: no cases, roles or officers, only the verdict, the name and
// the listing stretch. `input` is the ID as typed, for an answer without a normalised ID.
template <typename Answer>
CheckResult CheckResultOf(const Answer& a, std::string_view input) {
  CheckResult r;
  r.id = a.id.empty() ? std::string(input) : std::string(a.id);
  r.kind = a.status == wire::CheckStatus::kUnlisted ? KindOfNormalisedId(r.id) : a.kind;
  r.listed = a.status == wire::CheckStatus::kListed;
  // A listed subject that also holds roles in listed organisations is answered as listed.
  r.related = a.status == wire::CheckStatus::kRelated ||
              (a.status == wire::CheckStatus::kListed && a.roles > 0);
  r.name = std::string(a.name);
  r.since = a.since;
  r.until = a.until;
  return r;
}

// Returns the JSON object (one line, no newline) for a check result; with a "receipt" (protocol
// version 4) when `receipt` is not "".
std::string CheckJson(const CheckResult& r, std::string_view receipt = {});
// What a CHECK answer gives instead of the cases and roles it does not carry (CheckAnswer).
struct CheckCounts {
  uint16_t cases = 0;  // listed subjects
  uint16_t roles = 0;  // listed and related subjects: roles in listed organisations
};
// CheckJson() and CheckText() for the result of a CHECK answer (CheckResultOf()): the JSON
// leaves out "cases", "roles" and "officers", which the answer does not carry, and gives
// "case_count" (listed subjects) and "role_count" (listed and related ones); the text says
// the counts in a line "  2 case(s), 1 role(s) in listed organisations".
std::string CheckAnswerJson(const CheckResult& r, const CheckCounts& counts,
                            std::string_view receipt = {});
std::string CheckAnswerText(const CheckResult& r, const CheckCounts& counts,
                            std::string_view receipt = {});
// Returns the JSON object for a measures result: the check fields plus "measures" (and
// "receipt" when `receipt` is not "").
std::string MeasuresJson(const MeasuresResult& r, std::string_view receipt = {});
// Returns {"input": ..., "error": ...} for an ID that could not be queried.
std::string ErrorJson(std::string_view input, std::string_view error);
// Returns the JSON object for a server's INFO answer; one of protocol `version` 2 also has its
// delta state ("deltas"), of version 3 its security block ("security": mode, caller, callers),
// of version 4 its audit block ("audit").
std::string InfoJson(const wire::InfoResponse& i, uint8_t version = 1);
// Returns the JSON object for a measure catalog (a CATALOG answer, or a catalog file).
std::string CatalogJson(const wire::CatalogResponse& c);

// Human-readable forms (several lines, ending in a newline).
// A receipt that is not "" gets a line "  receipt R" after the head.
std::string CheckText(const CheckResult& r, std::string_view receipt = {});
std::string MeasuresText(const MeasuresResult& r, std::string_view receipt = {});
std::string ErrorText(std::string_view input, std::string_view error);
std::string InfoText(const wire::InfoResponse& i, uint8_t version = 1);
std::string CatalogText(const wire::CatalogResponse& c);
// What `shixin feedback` prints: the request's items as the server recorded them.
std::string FeedbackJson(const wire::FeedbackRequest& request,
                         const wire::FeedbackResponse& response);
std::string FeedbackText(const wire::FeedbackRequest& request,
                         const wire::FeedbackResponse& response);

}  // namespace shixin

#endif  // SHIXIN_PROTOCOL_RENDER_H_
