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

}  // namespace
}  // namespace shixin
