#include "base/utf8.h"

namespace shixin {

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

size_t FirstNonUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceAt(s.substr(i));
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

}  // namespace shixin
