// The UTF-8 byte order mark that editors such as Windows Notepad write at the start of a text
// file: readers of such files (token files, IDs on standard input) skip it.
//
// Thread safety: a pure function.
#ifndef SHIXIN_BASE_BOM_H_
#define SHIXIN_BASE_BOM_H_

#include <string_view>

namespace shixin {

// Returns `text` without a leading UTF-8 byte order mark (U+FEFF, bytes EF BB BF); any other
// text unchanged. Only one mark is removed: a second is part of the text.
inline std::string_view StripUtf8Bom(std::string_view text) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.starts_with(kBom)) text.remove_prefix(kBom.size());
  return text;
}

}  // namespace shixin

#endif  // SHIXIN_BASE_BOM_H_
