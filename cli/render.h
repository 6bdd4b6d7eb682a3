// Rendering of query results for the shixin CLI: one JSON object per queried ID (--json), or
// a short text form for people. Offline and server modes render through these same functions,
// so scripts can switch between them.
//
// Thread safety: pure functions.
#ifndef SHIXIN_CLI_RENDER_H_
#define SHIXIN_CLI_RENDER_H_

#include <string>
#include <string_view>

#include "core/query.h"

namespace shixin {

// Returns the JSON object (one line, no newline) for a check result.
std::string CheckJson(const CheckResult& r);
// Returns the JSON object for a measures result: the check fields plus "measures".
std::string MeasuresJson(const MeasuresResult& r);
// Returns {"input": ..., "error": ...} for an ID that could not be queried.
std::string ErrorJson(std::string_view input, std::string_view error);

// Human-readable forms (several lines, ending in a newline).
std::string CheckText(const CheckResult& r);
std::string MeasuresText(const MeasuresResult& r);
std::string ErrorText(std::string_view input, std::string_view error);

// Returns "2019-01-14" for 20190114, or "" for 0.
std::string FormatDate(uint32_t yyyymmdd);

}  // namespace shixin

#endif  // SHIXIN_CLI_RENDER_H_
