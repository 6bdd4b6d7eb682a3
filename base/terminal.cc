#include "base/terminal.h"

#include "absl/strings/str_format.h"

namespace shixin {
namespace {

// Returns the code point of the character `s` starts with if it is a line or paragraph
// separator (U+2028, U+2029: a line break to many viewers) or a bidirectional embedding,
// override or isolate (U+202A-U+202E, U+2066-U+2069: they reorder the rest of the line), else 0.
int SeparatorOrDirectionAt(std::string_view s) {
  if (s.size() < 3 || s[0] != '\xe2') return 0;
  const auto second = static_cast<unsigned char>(s[1]);
  const auto third = static_cast<unsigned char>(s[2]);
  if (second == 0x80 && third >= 0xa8 && third <= 0xae) return 0x2000 + third - 0x80;
  if (second == 0x81 && third >= 0xa6 && third <= 0xa9) return 0x2040 + third - 0x80;
  return 0;
}

}  // namespace

std::string TerminalSafe(std::string_view text, Quoting quoting) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if ((c == '"' || c == '\\') && quoting == Quoting::kEscaped) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    } else if (c == 0xc2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      // U+0080..U+009F: C1 controls (U+009B is a CSI some terminals obey).
      absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(text[++i]));
    } else if (const int cp = SeparatorOrDirectionAt(text.substr(i)); cp != 0) {
      absl::StrAppendFormat(&out, "\\u%04x", cp);
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace shixin
