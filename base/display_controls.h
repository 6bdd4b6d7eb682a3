// Characters that change how the text around them is shown, not what it says: the line and
// paragraph separators (U+2028, U+2029: a line break to many viewers, Python's splitlines() and
// older JavaScript) and the bidirectional controls (the embeddings, overrides and isolates
// U+202A-U+202E and U+2066-U+2069, which reorder what follows them on the line, and the marks
// U+200E, U+200F and U+061C). In a court's or a caller's text shown to others (a terminal, a
// spreadsheet, the public website) they could make a name read as another's, or one record as
// two: the one list of them that the CSV, the public export and the terminal's escaping share.
//
// Thread safety: pure functions.
#ifndef SHIXIN_BASE_DISPLAY_CONTROLS_H_
#define SHIXIN_BASE_DISPLAY_CONTROLS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shixin {

// A display control at the start of a text: its code point and its UTF-8 length.
struct DisplayControl {
  uint32_t code_point = 0;  // 0: none
  size_t length = 0;
};

// Whether `c` is a C0 control other than tab, LF and CR, or DEL: what a CSV cell or an HTML page
// writes as U+FFFD (a NUL breaks an HTML parser, an ESC sequence the terminal of who cats it).
inline bool IsStrayControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7F;
}

// Returns the display control (above) that `s` starts with, or {0, 0}.
DisplayControl DisplayControlAt(std::string_view s);

// Appends to `out` the character `s` starts with as text shown to others (a CSV cell, an HTML
// page) carries it, unless it is ASCII and no stray control: U+FFFD for a stray control, a
// display control or a byte that is not UTF-8, else the UTF-8 character as it is. Returns the
// bytes of `s` it took, or 0 (nothing appended) for the ASCII character the caller writes with
// its own escaping. REQUIRES: s is not empty.
size_t AppendShownCharacter(std::string_view s, std::string* out);

// Returns `text` with every display control written as U+FFFD, the replacement character (as
// base/csv.h writes control characters); every other byte as it is.
std::string ReplaceDisplayControls(std::string_view text);

}  // namespace shixin

#endif  // SHIXIN_BASE_DISPLAY_CONTROLS_H_
