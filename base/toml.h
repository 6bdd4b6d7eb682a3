// toml++ as this project builds it (header-only, without exceptions), and a parse whose error
// names the place. Include this header instead of <toml++/toml.h>.
//
// Thread safety: ParseToml() is reentrant.
#ifndef SHIXIN_BASE_TOML_H_
#define SHIXIN_BASE_TOML_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"

#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

namespace shixin {

// Returns the table of the TOML document `text`, or InvalidArgument "ORIGIN:LINE:COLUMN: what"
// for a syntax error (`origin` names the text, e.g. its file).
inline absl::StatusOr<toml::table> ParseToml(std::string_view text, std::string_view origin) {
  toml::parse_result parsed = toml::parse(text, origin);
  if (!parsed) {
    const toml::parse_error& e = parsed.error();
    return absl::InvalidArgumentError(absl::StrFormat("%s:%d:%d: %s", origin, e.source().begin.line,
                                                      e.source().begin.column,
                                                      std::string_view(e.description())));
  }
  return std::move(parsed).table();
}

}  // namespace shixin

#endif  // SHIXIN_BASE_TOML_H_
