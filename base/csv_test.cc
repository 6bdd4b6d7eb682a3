#include "base/csv.h"

#include "gtest/gtest.h"

namespace shixin {
namespace {

TEST(CsvFieldTest, QuotesWhatRfc4180Needs) {
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("张秀兰"), "张秀兰");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("line1\nline2"), "\"line1\nline2\"");
  EXPECT_EQ(CsvField("cr\r"), "\"cr\r\"");
  EXPECT_EQ(CsvField(" padded"), "\" padded\"");
  EXPECT_EQ(CsvField("'quote'"), "'quote'");
}

TEST(CsvFieldTest, DefusesFormulas) {
  EXPECT_EQ(CsvField("=1+1"), "'=1+1");
  EXPECT_EQ(CsvField("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
  EXPECT_EQ(CsvField("-旧法人"), "'-旧法人");
  EXPECT_EQ(CsvField("@SUM(1)"), "'@SUM(1)");
  EXPECT_EQ(CsvField("\tx"), "'\tx");
  EXPECT_EQ(CsvField("\rx"), "\"'\rx\"");
  EXPECT_EQ(CsvField("=HYPERLINK(\"http://e/\",\"x\")"),
            "\"'=HYPERLINK(\"\"http://e/\"\",\"\"x\"\")\"");
  EXPECT_EQ(CsvField("a=b"), "a=b");
}

TEST(CsvFieldTest, ReplacesStrayControlCharacters) {
  EXPECT_EQ(CsvField("a\x1b[31mb"), "a\xEF\xBF\xBD[31mb");
  EXPECT_EQ(CsvField(std::string_view("a\0b", 3)),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(CsvField("del\x7f"), "del\xEF\xBF\xBD");
  EXPECT_EQ(CsvField("tab\tinside"), "tab\tinside");  // tab, LF and CR stay
}

// A byte that is not UTF-8 would make a strict UTF-8 reader fail on the whole file (x33 #1).
TEST(CsvFieldTest, ReplacesBytesThatAreNotUtf8) {
  EXPECT_EQ(CsvField("\xFF\xFE"), "\uFFFD\uFFFD");
  EXPECT_EQ(CsvField("已\xE5\xB7"), "已\uFFFD\uFFFD");  // a character cut short
  EXPECT_EQ(CsvField("a\xC0\xA0"
                     "b"),
            "a\uFFFD\uFFFDb");                                    // an overlong space
  EXPECT_EQ(CsvField("\xED\xA0\x80"), "\uFFFD\uFFFD\uFFFD");      // a surrogate
  EXPECT_EQ(CsvField("张秀兰 \U0001F600"), "张秀兰 \U0001F600");  // 4-byte UTF-8 stays
}

// A direction override would make a name read as another's; a line separator, one row as two.
TEST(CsvFieldTest, ReplacesDisplayControls) {
  EXPECT_EQ(CsvField("周\u2028八\u202e九\u0007"), "周\uFFFD八\uFFFD九\uFFFD");
  EXPECT_EQ(CsvField("a\u2066b\u2069\u200e\u200f\u061c\u2029"),
            "a\uFFFDb\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(CsvField("=\u202e,x"), "\"'=\uFFFD,x\"");
}

TEST(CsvFieldTest, ByteOrderMark) { EXPECT_EQ(kUtf8Bom, "\xEF\xBB\xBF"); }

}  // namespace
}  // namespace shixin
