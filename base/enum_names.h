// EnumName(): an enumerator's name from a table of names in enumerator order, in place of a
// switch per enum. For enums whose enumerators run without gaps from `first`.
//
//   std::string_view ColorName(Color c) {
//     static constexpr std::string_view kNames[] = {"red", "green", "blue"};
//     return EnumName(c, kNames, "unknown");
//   }
//
// Thread safety: a pure function.
#ifndef SHIXIN_BASE_ENUM_NAMES_H_
#define SHIXIN_BASE_ENUM_NAMES_H_

#include <cstddef>
#include <string_view>

namespace shixin {

// Returns names[value - first], or `unknown` for a value outside the table.
template <typename Enum, size_t N>
constexpr std::string_view EnumName(Enum value, const std::string_view (&names)[N],
                                    std::string_view unknown, int first = 0) {
  const int i = static_cast<int>(value) - first;
  return i >= 0 && i < static_cast<int>(N) ? names[i] : unknown;
}

}  // namespace shixin

#endif  // SHIXIN_BASE_ENUM_NAMES_H_
