#include "base/terminal.h"

#include "absl/strings/str_format.h"
#include "base/display_controls.h"
#include "base/utf8.h"

namespace shixin {

std::string TerminalSafe(std::string_view text, Quoting quoting) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const size_t n = c < 0x80 ? 1 : Utf8SequenceAt(text.substr(i));  // 0: not UTF-8
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if ((c == '"' || c == '\\') && quoting == Quoting::kEscaped) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f || n == 0) {
      // A control, or a byte a strict UTF-8 reader of the result would fail on.
      absl::StrAppendFormat(&out, "\\x%02x", c);
    } else if (c == 0xc2 && static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      // U+0080..U+009F: C1 controls (U+009B is a CSI some terminals obey).
      absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(text[++i]));
    } else if (const DisplayControl d = DisplayControlAt(text.substr(i)); d.length > 0) {
      absl::StrAppendFormat(&out, "\\u%04x", d.code_point);
      i += d.length - 1;
    } else {
      out.append(text.substr(i, n));
      i += n - 1;
    }
  }
  return out;
}

}  // namespace shixin
