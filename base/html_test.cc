#include "base/html.h"

#include <string>

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
