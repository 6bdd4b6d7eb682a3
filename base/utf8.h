// Well-formed UTF-8 (RFC 3629, the Unicode standard's table 3-7): what the escaping of text for
// a terminal, a CSV cell or an HTML page, and the protocol's recorded texts, check bytes
// against, so that what they write is read by a strict UTF-8 reader.
//
// Thread safety: pure functions.
#ifndef SHIXIN_BASE_UTF8_H_
#define SHIXIN_BASE_UTF8_H_

#include <cstddef>
#include <string_view>

namespace shixin {

// Returns the length (1 to 4) of the well-formed UTF-8 sequence `s` starts with (no overlong
// form, no surrogate, nothing above U+10FFFF), or 0 if it starts with none. REQUIRES: s is not
// empty.
size_t Utf8SequenceAt(std::string_view s);

// Returns the offset of the first byte of `s` that does not start a well-formed UTF-8
// sequence, or std::string_view::npos if `s` is UTF-8 throughout.
size_t FirstNonUtf8(std::string_view s);

// U+FFFD, the replacement character, in UTF-8: what a byte that is not UTF-8 is written as.
inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";

}  // namespace shixin

#endif  // SHIXIN_BASE_UTF8_H_
