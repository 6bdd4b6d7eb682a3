#include "core/case_code.h"

#include <cstddef>

namespace shixin {
namespace {

// Returns the code point of the UTF-8 character of 2 or 3 bytes at the start of `s` and its
// length in `*length`, or -1 (ASCII, 4 bytes, or not UTF-8): the spaces and ignorable characters
// below are all of 2 or 3 bytes.
int32_t CodePointAt(std::string_view s, size_t* length) {
  const auto byte = [&s](size_t i) { return static_cast<unsigned char>(s[i]); };
  if (s.size() >= 2 && byte(0) >= 0xC2 && byte(0) <= 0xDF && (byte(1) & 0xC0) == 0x80) {
    *length = 2;
    return ((byte(0) & 0x1F) << 6) | (byte(1) & 0x3F);
  }
  if (s.size() >= 3 && (byte(0) & 0xF0) == 0xE0 && (byte(1) & 0xC0) == 0x80 &&
      (byte(2) & 0xC0) == 0x80) {
    *length = 3;
    return ((byte(0) & 0x0F) << 12) | ((byte(1) & 0x3F) << 6) | (byte(2) & 0x3F);
  }
  return -1;
}

// Returns the length of the whitespace character at the start of `s`, or 0: Unicode's
// White_Space (ASCII's, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F,
// U+3000).
size_t SpaceAt(std::string_view s) {
  if (s.empty()) return 0;
  const char c = s[0];
  if (c == ' ' || (c >= '\t' && c <= '\r')) return 1;
  size_t n = 0;
  const int32_t cp = CodePointAt(s, &n);
  const bool space = cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
                     cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
  return space ? n : 0;
}

// Returns the length of the invisible character at the start of `s`, or 0: the format
// characters and others Unicode says to ignore in display (Default_Ignorable_Code_Point) that a
// copy from a web page or a word processor leaves in a text: soft hyphen, combining grapheme
// joiner, Arabic letter mark, Mongolian selectors, zero-width space, non-joiner and joiner,
// direction marks, embeddings and overrides, word joiner and invisible operators, variation
// selectors, the byte order mark.
size_t IgnorableAt(std::string_view s) {
  size_t n = 0;
  const int32_t cp = CodePointAt(s, &n);
  const bool ignorable = cp == 0xAD || cp == 0x34F || cp == 0x61C ||
                         (cp >= 0x180B && cp <= 0x180F) || (cp >= 0x200B && cp <= 0x200F) ||
                         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F) ||
                         (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF;
  return ignorable ? n : 0;
}

// Returns the next character of `code` at `*at` and advances `*at` past it: full-width ASCII
// made ASCII, any whitespace a space, an ignorable character skipped, any other byte as it is
// (0-255); -1 at the end.
int NextCaseChar(std::string_view code, size_t* at) {
  while (*at < code.size()) {
    const std::string_view rest = code.substr(*at);
    if (const size_t n = IgnorableAt(rest)) {
      *at += n;
      continue;
    }
    if (const size_t n = SpaceAt(rest)) {
      *at += n;
      return ' ';
    }
    // U+FF01-U+FF3F are EF BC 81-BF, U+FF40-U+FF5E are EF BD 80-9E; each is U+0021-U+007E +
    // 0xFEE0.
    if (rest.size() >= 3 && rest[0] == '\xEF') {
      const auto second = static_cast<unsigned char>(rest[1]);
      const auto third = static_cast<unsigned char>(rest[2]);
      if ((second == 0xBC && third >= 0x81 && third <= 0xBF) ||
          (second == 0xBD && third >= 0x80 && third <= 0x9E)) {
        *at += 3;
        return 0x21 + ((second - 0xBC) << 6) + third - 0x81;
      }
    }
    return static_cast<unsigned char>(code[(*at)++]);
  }
  return -1;
}

// Returns the length of the whitespace or ignorable character ending `s`, or 0.
size_t TrailingBlankLength(std::string_view s) {
  for (size_t n = 1; n <= 3 && n <= s.size(); ++n) {
    const std::string_view last = s.substr(s.size() - n);
    const size_t length = SpaceAt(last) + IgnorableAt(last);
    if (length == n) return n;
  }
  return 0;
}

}  // namespace

std::string_view TrimCaseCode(std::string_view code) {
  for (;;) {
    const size_t n = SpaceAt(code) + IgnorableAt(code);
    if (n == 0) break;
    code.remove_prefix(n);
  }
  while (const size_t n = TrailingBlankLength(code)) code.remove_suffix(n);
  return code;
}

bool SameCaseCode(std::string_view a, std::string_view b) {
  a = TrimCaseCode(a);
  b = TrimCaseCode(b);
  size_t i = 0, j = 0;
  for (;;) {
    const int x = NextCaseChar(a, &i);
    if (x != NextCaseChar(b, &j)) return false;
    if (x < 0) return true;
  }
}

uint64_t CaseCodeHash(std::string_view code) {
  code = TrimCaseCode(code);
  uint64_t hash = 14695981039346656037u;  // FNV-1a
  size_t i = 0;
  for (int c = 0; (c = NextCaseChar(code, &i)) >= 0;) {
    hash = (hash ^ static_cast<uint64_t>(c)) * 1099511628211u;
  }
  return hash;
}

}  // namespace shixin
