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
  EXPECT_EQ(TerminalSafe("\xc2"), "\xc2");          // a lone lead byte stays
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
  EXPECT_EQ(TerminalSafe("\xe2\x80\xa7\xe2\x80"), "\xe2\x80\xa7\xe2\x80");  // U+2027, cut short
  // The direction marks too (base/display_controls.h).
  EXPECT_EQ(TerminalSafe("a\u200eb\u200fc\u061c"), "a\\u200eb\\u200fc\\u061c");
}

}  // namespace
}  // namespace shixin
