// Text from others (a caller's purpose or feedback reason, an operator id, a delta file's values
// quoted in its notes and refusals, a request's bytes quoted in an error message) printed on an
// operator's terminal or in a log, or sent to a client as a UTF-8 message: escape sequences in it
// must not reach the terminal, a line break in it must not split a record printed one per line,
// and bytes that are not UTF-8 must not make a strict decoder of the message fail.
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
// bidirectional embeddings, overrides, isolates and marks) as \uNNNN, each byte that is not part
// of well-formed UTF-8 (a stray or cut-short sequence, an overlong form, a surrogate) as \xNN,
// and `"` and `\` as `quoting` says; the rest of the text as it is. The result is well-formed
// UTF-8 without controls, so that kKept changes nothing in it.
std::string TerminalSafe(std::string_view text, Quoting quoting = Quoting::kEscaped);

}  // namespace shixin

#endif  // SHIXIN_BASE_TERMINAL_H_
