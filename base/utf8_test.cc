#include "base/utf8.h"

#include <string_view>

#include "gtest/gtest.h"

namespace shixin {
namespace {

TEST(Utf8Test, SequenceLengths) {
  EXPECT_EQ(Utf8SequenceAt("a"), 1u);
  EXPECT_EQ(Utf8SequenceAt("\xC2\xA0"), 2u);          // U+00A0
  EXPECT_EQ(Utf8SequenceAt("张"), 3u);                // U+5F20
  EXPECT_EQ(Utf8SequenceAt("\xF0\x9F\x98\x80"), 4u);  // U+1F600
  EXPECT_EQ(Utf8SequenceAt("\xF4\x8F\xBF\xBF"), 4u);  // U+10FFFF
}

TEST(Utf8Test, IllFormedSequencesAreNone) {
  EXPECT_EQ(Utf8SequenceAt("\x80"), 0u);              // a continuation byte
  EXPECT_EQ(Utf8SequenceAt("\xC0\xA0"), 0u);          // overlong
  EXPECT_EQ(Utf8SequenceAt("\xE0\x80\xA0"), 0u);      // overlong
  EXPECT_EQ(Utf8SequenceAt("\xED\xA0\x80"), 0u);      // a surrogate
  EXPECT_EQ(Utf8SequenceAt("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(Utf8SequenceAt("\xE5\xB7"), 0u);          // cut short
  EXPECT_EQ(Utf8SequenceAt("\xFF"), 0u);
}

TEST(Utf8Test, FirstNonUtf8) {
  EXPECT_EQ(FirstNonUtf8(""), std::string_view::npos);
  EXPECT_EQ(FirstNonUtf8("张秀兰 ok"), std::string_view::npos);
  EXPECT_EQ(FirstNonUtf8("已\xFF"), 3u);
  EXPECT_EQ(FirstNonUtf8("ab\xE5\xB7"), 2u);
}

}  // namespace
}  // namespace shixin
