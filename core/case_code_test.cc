#include "core/case_code.h"

#include <gtest/gtest.h>

#include <string_view>

namespace shixin {
namespace {

TEST(CaseCodeTest, TrimRemovesSurroundingWhitespaceOnly) {
  EXPECT_EQ(TrimCaseCode(" \t（2020）黑0403执567号 \t\r"), "（2020）黑0403执567号");
  EXPECT_EQ(TrimCaseCode("\xE3\x80\x80（2020）黑 执567号\xC2\xA0"), "（2020）黑 执567号");
  EXPECT_EQ(TrimCaseCode(" \t "), "");
  EXPECT_EQ(TrimCaseCode(""), "");
}

TEST(CaseCodeTest, FullWidthAsciiAndSurroundingSpacesNameTheSameCase) {
  constexpr std::string_view kCode = "（2020）黑0403执567号";
  for (const std::string_view other :
       {"(2020)黑0403执567号", "（2020）黑0403执567号 ", "（2020）黑0403执567号\t",
        "（２０２０）黑０４０３执５６７号", " (２０２0)黑0403执567号\xE3\x80\x80"}) {
    EXPECT_TRUE(SameCaseCode(kCode, other)) << other;
    EXPECT_TRUE(SameCaseCode(other, kCode)) << other;
    EXPECT_EQ(CaseCodeHash(kCode), CaseCodeHash(other)) << other;
  }
  // Full-width letters are their ASCII letters; U+3000 inside is a space.
  EXPECT_TRUE(SameCaseCode("（2019）京ＡＢ执１号", "(2019)京AB执1号"));
  EXPECT_TRUE(SameCaseCode("a\xE3\x80\x80号", "a 号"));
  for (const std::string_view other :
       {"（2020）黑0403执568号", "（2020）黑0403执567", "（2020）黑0403执567号号",
        "（2020）黑0403执 567号", "（2020）黑0403执恢567号", "（2020）黑0403执567號", ""}) {
    EXPECT_FALSE(SameCaseCode(kCode, other)) << other;
  }
  EXPECT_FALSE(SameCaseCode("ab", "AB"));  // letters keep their case, as the court writes them
}

// What reads the same is the same case: any whitespace inside is a space (U+00A0 as U+3000 was),
// invisible characters are left out, inside and around.
TEST(CaseCodeTest, WhitespaceAndInvisibleCharactersReadAsOnScreen) {
  constexpr std::string_view kCode = "(2021) 黑04执8号";
  for (const std::string_view other :
       {"(2021)\xC2\xA0黑04执8号", "(2021)\t黑04执8号", "(2021)\xE2\x80\xA8黑04执8号",
        "(2021)\xE2\x80\xAF黑04执8号", "(2021)\xE2\x80\x8B \xE2\x80\x8D黑04执8号",
        "\xEF\xBB\xBF(2021) 黑0\u00AD4执8号\xE2\x80\x8B",
        "(2021) 黑04\xE2\x81\xA0执8号\xE2\x80\x8E", "\xE2\x80\xAE(2021) 黑04执8号\xE2\x80\xAC"}) {
    EXPECT_TRUE(SameCaseCode(kCode, other)) << other;
    EXPECT_TRUE(SameCaseCode(other, kCode)) << other;
    EXPECT_EQ(CaseCodeHash(kCode), CaseCodeHash(other)) << other;
  }
  EXPECT_EQ(
      TrimCaseCode("\xE2\x80\x8B\xEF\xBB\xBF(2021)黑04执9号\xE2\x80\x8B \xC2\xA0\xE2\x80\xA8"),
      "(2021)黑04执9号");
  EXPECT_EQ(TrimCaseCode("\xE2\x80\x8B\xC2\xAD "), "");
  // A space is not nothing; other characters, and bytes that are not UTF-8, stay themselves.
  EXPECT_FALSE(SameCaseCode(kCode, "(2021)黑04执8号"));
  EXPECT_FALSE(SameCaseCode(kCode, "(2021)  黑04执8号"));
  EXPECT_FALSE(SameCaseCode("a\xC2", "a"));
  EXPECT_FALSE(SameCaseCode("a\xE2\x80", "a"));
  EXPECT_EQ(TrimCaseCode("a\xE2\x80"), "a\xE2\x80");
}

}  // namespace
}  // namespace shixin
