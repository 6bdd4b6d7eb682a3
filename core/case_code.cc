#include "core/case_code.h"

#include <cstddef>

namespace shixin {
namespace {

// Returns the length of the whitespace character at the start of `s` (ASCII, U+3000 = E3 80 80,
// U+00A0 = C2 A0), or 0.
size_t SpaceAt(std::string_view s) {
  if (s.empty()) return 0;
  const char c = s[0];
  if (c == ' ' || (c >= '\t' && c <= '\r')) return 1;
  if (s.starts_with("\xE3\x80\x80")) return 3;
  if (s.starts_with("\xC2\xA0")) return 2;
  return 0;
}

// Returns the next character of `code` at `*at`, full-width ASCII and U+3000 made ASCII (one
// byte), any other byte as it is, and advances `*at`. REQUIRES: *at < code.size().
char NextCaseChar(std::string_view code, size_t* at) {
  const std::string_view rest = code.substr(*at);
  // U+FF01-U+FF3F are EF BC 81-BF, U+FF40-U+FF5E are EF BD 80-9E; each is U+0021-U+007E + 0xFEE0.
  if (rest.size() >= 3 && rest[0] == '\xEF') {
    const auto second = static_cast<unsigned char>(rest[1]);
    const auto third = static_cast<unsigned char>(rest[2]);
    if ((second == 0xBC && third >= 0x81 && third <= 0xBF) ||
        (second == 0xBD && third >= 0x80 && third <= 0x9E)) {
      *at += 3;
      return static_cast<char>(0x21 + ((second - 0xBC) << 6) + third - 0x81);
    }
  }
  if (rest.starts_with("\xE3\x80\x80")) {
    *at += 3;
    return ' ';
  }
  return code[(*at)++];
}

}  // namespace

std::string_view TrimCaseCode(std::string_view code) {
  while (const size_t n = SpaceAt(code)) code.remove_prefix(n);
  for (;;) {
    if (!code.empty() && SpaceAt(code.substr(code.size() - 1)) == 1) {
      code.remove_suffix(1);
    } else if (code.ends_with("\xE3\x80\x80")) {
      code.remove_suffix(3);
    } else if (code.ends_with("\xC2\xA0")) {
      code.remove_suffix(2);
    } else {
      return code;
    }
  }
}

bool SameCaseCode(std::string_view a, std::string_view b) {
  a = TrimCaseCode(a);
  b = TrimCaseCode(b);
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (NextCaseChar(a, &i) != NextCaseChar(b, &j)) return false;
  }
  return i == a.size() && j == b.size();
}

uint64_t CaseCodeHash(std::string_view code) {
  code = TrimCaseCode(code);
  uint64_t hash = 14695981039346656037u;  // FNV-1a
  for (size_t i = 0; i < code.size();) {
    hash = (hash ^ static_cast<unsigned char>(NextCaseChar(code, &i))) * 1099511628211u;
  }
  return hash;
}

}  // namespace shixin
