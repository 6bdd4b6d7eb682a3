#include "base/display_controls.h"

#include "base/utf8.h"

namespace shixin {

DisplayControl DisplayControlAt(std::string_view s) {
  if (s.size() >= 2 && s[0] == '\xd8' && s[1] == '\x9c') return {0x061C, 2};
  if (s.size() < 3 || s[0] != '\xe2') return {};
  const auto second = static_cast<unsigned char>(s[1]);
  const auto third = static_cast<unsigned char>(s[2]);
  // U+2000-U+203F are E2 80 80-BF, U+2040-U+207F E2 81 80-BF.
  const bool control = (second == 0x80 && (third == 0x8e || third == 0x8f)) ||  // U+200E, 200F
                       (second == 0x80 && third >= 0xa8 && third <= 0xae) ||    // U+2028-202E
                       (second == 0x81 && third >= 0xa6 && third <= 0xa9);      // U+2066-2069
  if (!control) return {};
  return {0x2000 + ((second - 0x80u) << 6) + (third - 0x80u), 3};
}

size_t AppendShownCharacter(std::string_view s, std::string* out) {
  const char c = s.front();
  if (IsStrayControl(c)) {
    out->append(kReplacementCharacter);
    return 1;
  }
  if (static_cast<unsigned char>(c) < 0x80) return 0;
  if (const DisplayControl d = DisplayControlAt(s); d.length > 0) {
    out->append(kReplacementCharacter);
    return d.length;
  }
  // A byte that is not UTF-8 would make the text unreadable to a strict UTF-8 reader.
  const size_t n = Utf8SequenceAt(s);
  if (n == 0) {
    out->append(kReplacementCharacter);
    return 1;
  }
  out->append(s.substr(0, n));
  return n;
}

std::string ReplaceDisplayControls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (const DisplayControl c = DisplayControlAt(text.substr(i)); c.length > 0) {
      out.append(kReplacementCharacter);
      i += c.length;
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

}  // namespace shixin
