// Text from others (a caller's purpose or feedback reason, an operator id, a delta file's values
// quoted in its notes and refusals) printed on an operator's terminal or in a log: escape
// sequences in it must not reach the terminal, and a line break in it must not split a record
// printed one per line.
//
// Thread safety: pure functions.
#ifndef SHIXIN_BASE_TERMINAL_H_
#define SHIXIN_BASE_TERMINAL_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace shixin {

// How TerminalSafe() writes `"` and `\`.
enum class Quoting : uint8_t {
  kEscaped,  // as \" and \\, so that a quoted field ends where it seems to
  kKept,     // as they are: a message around values quoted already (idempotent then)
};

// Returns `text` with the C0 and C1 control characters and DEL written as \n, \r, \t, \xNN or
// \uNNNN, the display controls (base/display_controls.h: the line and paragraph separators, the
// bidirectional embeddings, overrides, isolates and marks) as \uNNNN, and `"` and `\` as
// `quoting` says; every other byte, UTF-8 text included, as it is.
std::string TerminalSafe(std::string_view text, Quoting quoting = Quoting::kEscaped);

}  // namespace shixin

#endif  // SHIXIN_BASE_TERMINAL_H_
