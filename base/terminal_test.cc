#include "base/terminal.h"

#include <gtest/gtest.h>

namespace shixin {
namespace {

TEST(TerminalSafeTest, ControlsAreEscapedAndTextIsKept) {
  EXPECT_EQ(TerminalSafe("查询 ok"), "查询 ok");
  EXPECT_EQ(TerminalSafe("a\nb\r\tc"), "a\\nb\\r\\tc");
  EXPECT_EQ(TerminalSafe("\x1b[2J"), "\\x1b[2J");
  EXPECT_EQ(TerminalSafe(std::string_view("\0\x7f", 2)), "\\x00\\x7f");
  EXPECT_EQ(TerminalSafe("say \"hi\" \\ bye"), "say \\\"hi\\\" \\\\ bye");
  // Around values quoted already: the quotes kept, the controls escaped all the same, and a
  // second pass changes nothing.
  const std::string message = TerminalSafe(
      "reason: unknown \"" + TerminalSafe("pa\nid\x1b[2J") + "\"\x1b[31m", Quoting::kKept);
  EXPECT_EQ(message, "reason: unknown \"pa\\nid\\x1b[2J\"\\x1b[31m");
  EXPECT_EQ(TerminalSafe(message, Quoting::kKept), message);
  EXPECT_EQ(TerminalSafe(std::string_view("a\0b", 3), Quoting::kKept), "a\\x00b");
  EXPECT_EQ(TerminalSafe("\xc2\x9b"
                         "31m"),
            "\\u009b31m");                          // U+009B, a C1 CSI
  EXPECT_EQ(TerminalSafe("\xc2\xa0"), "\xc2\xa0");  // U+00A0 is text
  // Direction overrides and isolates reorder what follows them on the line.
  EXPECT_EQ(TerminalSafe("a\xe2\x80\xae"
                         "b\xe2\x81\xa6"
                         "c\xe2\x80\xaa\xe2\x81\xa9"),
            "a\\u202eb\\u2066c\\u202a\\u2069");
  EXPECT_EQ(TerminalSafe("\xe2\x80\xaf\xe2\x81\xa5"),
            "\xe2\x80\xaf\xe2\x81\xa5");  // U+202F, U+2065
  // Line and paragraph separators break a line in many viewers.
  EXPECT_EQ(TerminalSafe("a\xe2\x80\xa8"
                         "b\xe2\x80\xa9"),
            "a\\u2028b\\u2029");
  EXPECT_EQ(TerminalSafe("\xe2\x80\xa7"), "\xe2\x80\xa7");  // U+2027 is text
  // The direction marks too (base/display_controls.h).
  EXPECT_EQ(TerminalSafe("a\u200eb\u200fc\u061c"), "a\\u200eb\\u200fc\\u061c");
}

// Bytes that are not UTF-8 are escaped one by one: the result decodes strictly, whatever came in.
TEST(TerminalSafeTest, BytesThatAreNotUtf8AreEscaped) {
  EXPECT_EQ(TerminalSafe("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(TerminalSafe("\xc2"), "\\xc2");             // a lone lead byte
  EXPECT_EQ(TerminalSafe("a\xe2\x80"), "a\\xe2\\x80");  // cut short
  EXPECT_EQ(TerminalSafe("\xe5\xbc"
                         "b"),
            "\\xe5\\xbc"
            "b");                                                       // cut short, then ASCII
  EXPECT_EQ(TerminalSafe("\x80\xbf"), "\\x80\\xbf");                    // continuations alone
  EXPECT_EQ(TerminalSafe("\xc0\xb1"), "\\xc0\\xb1");                    // an overlong '1'
  EXPECT_EQ(TerminalSafe("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");           // an overlong '/'
  EXPECT_EQ(TerminalSafe("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // a surrogate
  EXPECT_EQ(TerminalSafe("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
  EXPECT_EQ(TerminalSafe("\xf0\x9f\x98\x80\xe4\xb8\xad"),
            "\xf0\x9f\x98\x80\xe4\xb8\xad");  // U+1F600, U+4E2D
  // A stray byte does not swallow the character after it.
  EXPECT_EQ(TerminalSafe("\xff\xe4\xb8\xad\x1b[31m"), "\\xff\xe4\xb8\xad\\x1b[31m");
  // The result is UTF-8 without controls: a second pass, quotes kept, changes nothing.
  const std::string once = TerminalSafe("receipt \"\xff\x1b]0;pwn\x07\xc3\"", Quoting::kKept);
  EXPECT_EQ(once, "receipt \"\\xff\\x1b]0;pwn\\x07\\xc3\"");
  EXPECT_EQ(TerminalSafe(once, Quoting::kKept), once);
}

}  // namespace
}  // namespace shixin
