#include "base/display_controls.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>

namespace shixin {
namespace {

TEST(DisplayControlsTest, FindsSeparatorsAndDirectionControls) {
  for (const auto& [text, code_point] : {std::pair<std::string_view, uint32_t>{"\u2028", 0x2028},
                                         {"\u2029", 0x2029},
                                         {"\u202A", 0x202A},
                                         {"\u202E", 0x202E},
                                         {"\u2066", 0x2066},
                                         {"\u2069", 0x2069},
                                         {"\u200E", 0x200E},
                                         {"\u200F", 0x200F},
                                         {"\u061C", 0x061C}}) {
    const DisplayControl d = DisplayControlAt(std::string(text) + "x");
    EXPECT_EQ(d.code_point, code_point) << text;
    EXPECT_EQ(d.length, text.size()) << text;
  }
  // Their neighbours, text, and a control cut short are none.
  for (std::string_view none : {"\u2027", "\u202F", "\u2065", "\u206A", "\u200D", "\u2010",
                                "\u061B", "张", "a", "", "\xe2\x80", "\xd8"}) {
    EXPECT_EQ(DisplayControlAt(none).length, 0u) << none;
  }
}

TEST(DisplayControlsTest, ReplacesThemWithTheReplacementCharacter) {
  EXPECT_EQ(ReplaceDisplayControls("周\u2028八\u202e九\u0007"), "周\uFFFD八\uFFFD九\u0007");
  EXPECT_EQ(ReplaceDisplayControls("\u200f\u061c\u2066a\u2069"), "\uFFFD\uFFFD\uFFFDa\uFFFD");
  EXPECT_EQ(ReplaceDisplayControls("陈海波 (2015)鹤向法执字第00232号"),
            "陈海波 (2015)鹤向法执字第00232号");
}

// What the CSV and HTML writers share: each character as text shown to others carries it.
TEST(DisplayControlsTest, AppendShownCharacter) {
  const auto shown = [](std::string_view s) {
    std::string out;
    const size_t n = AppendShownCharacter(s, &out);
    return std::make_pair(n, out);
  };
  EXPECT_EQ(shown("a,b"), std::make_pair(size_t{0}, std::string()));  // the caller's to write
  EXPECT_EQ(shown("\x1b["), std::make_pair(size_t{1}, std::string("\uFFFD")));
  EXPECT_EQ(shown("\u202ex"), std::make_pair(size_t{3}, std::string("\uFFFD")));
  EXPECT_EQ(shown("\xff\xfe"), std::make_pair(size_t{1}, std::string("\uFFFD")));
  EXPECT_EQ(shown("张三"), std::make_pair(size_t{3}, std::string("张")));
}

}  // namespace
}  // namespace shixin
