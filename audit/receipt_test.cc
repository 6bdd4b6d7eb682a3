#include "audit/receipt.h"

#include <string>

#include "gtest/gtest.h"

namespace shixin::audit {
namespace {

TEST(ReceiptTest, RoundTrips) {
  const Receipt r{0x9f2c41d0, 3, 1048576};
  EXPECT_EQ(r.ToString(), "9f2c41d0-3-1048576");
  auto parsed = Receipt::Parse("9f2c41d0-3-1048576");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, r);
  EXPECT_EQ(Receipt{}.ToString(), "00000000-0-0");
  EXPECT_TRUE(Receipt::Parse("00000000-0-0").ok());
}

TEST(ReceiptTest, LargestValuesFitAndAppendKeepsWhatWasThere) {
  const Receipt r{0xffffffff, 4294967295u, 18446744073709551615u};
  std::string text = "receipt ";
  r.AppendTo(&text);
  EXPECT_EQ(text, "receipt ffffffff-4294967295-18446744073709551615");
  auto parsed = Receipt::Parse(text.substr(8));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, r);
  EXPECT_EQ((Receipt{0x0000a00b, 0, 7}.ToString()), "0000a00b-0-7");
}

TEST(ReceiptTest, RefusesMalformedText) {
  for (const char* bad :
       {"", "9f2c41d0", "9f2c41d0-3", "9f2c41d0-3-1-2", "9F2C41D0-3-1", "9f2c41d-3-1",
        "9f2c41d0x-3-1", "9f2c41d0-03-1", "9f2c41d0--1", "9f2c41d0-3-", "9f2c41d0-+3-1",
        "9f2c41d0-4294967296-1", "9f2c41d0-3-18446744073709551616", "+f2c41d0-3-1",
        "9f2c41d0-3-1048576-0000000000000000000000"}) {
    EXPECT_FALSE(Receipt::Parse(bad).ok()) << bad;
  }
}

// The message says what is wrong, not merely that something is.
TEST(ReceiptTest, SaysWhatIsWrong) {
  const auto message = [](std::string_view text) {
    return std::string(Receipt::Parse(text).status().message());
  };
  EXPECT_EQ(message("ee2a7ac7-01-293"),
            "receipt \"ee2a7ac7-01-293\": the segment has a leading zero");
  EXPECT_EQ(message("ee2a7ac7-1-0293"),
            "receipt \"ee2a7ac7-1-0293\": the offset has a leading zero");
  EXPECT_EQ(message("ee2a7ac7-x-293"),
            "receipt \"ee2a7ac7-x-293\": the segment is not a decimal number");
  EXPECT_EQ(message("ee2a7ac7--293"),
            "receipt \"ee2a7ac7--293\": the segment is not a decimal number");
  EXPECT_EQ(message("ee2a7ac7-4294967296-1"),
            "receipt \"ee2a7ac7-4294967296-1\": the segment is out of range (at most 4294967295)");
  EXPECT_EQ(message("ee2a7ac7-1-18446744073709551616"),
            "receipt \"ee2a7ac7-1-18446744073709551616\": the offset is out of range (at most "
            "18446744073709551615)");
  EXPECT_EQ(Receipt::Parse("ee2a7ac7-01-293").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shixin::audit
