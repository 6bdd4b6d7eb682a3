#include "base/terminal.h"

#include "absl/strings/str_format.h"
#include "base/display_controls.h"

namespace shixin {
namespace {

// Returns the length of the well-formed UTF-8 sequence `s` starts with (RFC 3629: no overlong
// form, no surrogate, nothing above U+10FFFF), or 0. REQUIRES: s is not empty.
size_t Utf8SequenceAt(std::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return 1;
  // The lead byte's length and the range its second byte must be in (the Unicode standard's
  // table 3-7), which excludes the overlong forms, the surrogates and what is above U+10FFFF.
  size_t n = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    low = b0 == 0xe0 ? 0xa0 : 0x80;
    high = b0 == 0xed ? 0x9f : 0xbf;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    low = b0 == 0xf0 ? 0x90 : 0x80;
    high = b0 == 0xf4 ? 0x8f : 0xbf;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < (i == 1 ? low : 0x80) || b > (i == 1 ? high : 0xbf)) return 0;
  }
  return n;
}

}  // namespace

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
