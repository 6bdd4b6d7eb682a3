#include "base/html.h"

#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace shixin {
namespace {

TEST(HtmlTest, EscapesTextAndAttributeCharacters) {
  EXPECT_EQ(HtmlEscape("a&<>\"'b"), "a&amp;&lt;&gt;&quot;&#39;b");
  EXPECT_EQ(HtmlEscape("张三"), "张三");
  EXPECT_EQ(HtmlEscape(""), "");
}

// The pages say charset=utf-8: a byte that is not UTF-8 becomes U+FFFD (x33 #1).
TEST(HtmlTest, EscapesBytesThatAreNotUtf8) {
  EXPECT_EQ(HtmlEscape("已<\xFF>\xE5\xB7"), "已&lt;\uFFFD&gt;\uFFFD\uFFFD");
  EXPECT_EQ(HtmlEscape("张秀兰\U0001F600"), "张秀兰\U0001F600");
}

// A NUL breaks the parser, an escape sequence the terminal of who cats the file, a direction
// override makes the text after it read backwards (x34 F5): as the CSV writes them.
TEST(HtmlTest, ReplacesControlsAndDisplayControls) {
  EXPECT_EQ(HtmlEscape(std::string_view("a\0b\x1b[2J\x7f", 8)), "a\uFFFDb\uFFFD[2J\uFFFD");
  EXPECT_EQ(HtmlEscape("x\u202e<y>\u2028z"), "x\uFFFD&lt;y&gt;\uFFFDz");
  EXPECT_EQ(HtmlEscape("tab\tline\r\n"), "tab\tline\r\n");
}

TEST(HtmlTest, PageFramePrintsOnA4WithoutExternalAssets) {
  std::string page;
  HtmlBegin("<标题>", "h1 { color: red; }", &page);
  page += "<p>x</p>";
  HtmlEnd(&page);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("<title>&lt;标题&gt;</title>"), std::string::npos);
  EXPECT_NE(page.find("size: A4"), std::string::npos);
  EXPECT_NE(page.find("h1 { color: red; }"), std::string::npos);
  EXPECT_EQ(page.find("http"), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(page.size() - page.rfind("</html>\n"), 8u);
}

}  // namespace
}  // namespace shixin
