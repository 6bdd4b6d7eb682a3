// Rendering of query results for the shixin CLI: one JSON object per queried ID (--json), or
// a short text form for people. Offline and server modes render through these same functions,
// so scripts can switch between them.
//
// The JSON is written by nlohmann::json, one line per object, keys in the documented order,
// UTF-8 as is, control characters escaped; invalid UTF-8 (which ingest never lets in) is
// written as U+FFFD.
//
// Thread safety: pure functions.
#ifndef SHIXIN_CLI_RENDER_H_
#define SHIXIN_CLI_RENDER_H_

#include <string>
#include <string_view>

#include "core/query.h"
#include "protocol/messages.h"

namespace shixin {

// Returns the JSON object (one line, no newline) for a check result; with a "receipt" (protocol
// version 4) when `receipt` is not "".
std::string CheckJson(const CheckResult& r, std::string_view receipt = {});
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

#endif  // SHIXIN_CLI_RENDER_H_
