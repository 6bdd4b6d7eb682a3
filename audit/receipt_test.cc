#include "audit/receipt.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
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

const ReceiptCipher::Key kKey = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

TEST(ReceiptCipherTest, KeyedTextRoundTrips) {
  const ReceiptCipher cipher(kKey, 0);
  for (const Receipt& r : {Receipt{0x9f2c41d0, 3, 1048576}, Receipt{0, 0, 0},
                           Receipt{0xffffffff, 4294967295u, (uint64_t{1} << 32) - 1}}) {
    const std::string text = cipher.Text(r);
    EXPECT_THAT(text, ::testing::MatchesRegex("[0-9a-f]{8}-[0-9a-f]{32}"));
    EXPECT_EQ(text.size(), kMaxReceiptText);
    EXPECT_EQ(text.substr(0, 9), absl::StrFormat("%08x-", r.node));  // the node in clear
    absl::StatusOr<ParsedReceipt> parsed = ParseReceipt(text, &cipher);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_TRUE(parsed->keyed);
    EXPECT_EQ(parsed->receipt, r);
  }
  // AppendTo keeps what was there and allocates nothing once there is room.
  std::string out = "receipt ";
  out.reserve(64);
  const char* before = out.data();
  cipher.AppendTo(Receipt{1, 2, 3}, &out);
  EXPECT_EQ(out.data(), before);
  EXPECT_EQ(out, "receipt " + cipher.Text(Receipt{1, 2, 3}));
}

// Finding x23 #1: a caller's receipts said where its records were, so two of them told it how
// many records the others wrote in between. The keyed texts of increasing offsets are not in
// order and hold no offset.
TEST(ReceiptCipherTest, TextsRevealNoPosition) {
  const ReceiptCipher cipher(kKey, 0);
  std::vector<std::string> texts;
  for (uint64_t offset = 1710; offset < 1710 + 85 * 64; offset += 85) {
    texts.push_back(cipher.Text(Receipt{0x1c5aeb98, 1, offset}));
    EXPECT_EQ(texts.back().find(absl::StrCat(offset)), std::string::npos) << texts.back();
  }
  EXPECT_FALSE(std::is_sorted(texts.begin(), texts.end()));
  EXPECT_FALSE(std::is_sorted(texts.rbegin(), texts.rend()));
  // Neighbouring offsets share no prefix past the node beyond chance.
  EXPECT_NE(texts[0].substr(0, 13), texts[1].substr(0, 13));
}

// A changed digit, another key's receipt or the keyed form without a key is no receipt: the
// same NotFound "no record" as a position without one.
TEST(ReceiptCipherTest, TamperedOrForeignTextsAreNotFound) {
  const ReceiptCipher cipher(kKey, 0);
  const std::string text = cipher.Text(Receipt{0x9f2c41d0, 1, 439});
  for (size_t i = 9; i < text.size(); ++i) {
    std::string tampered = text;
    tampered[i] = tampered[i] == '0' ? '1' : '0';
    absl::StatusOr<ParsedReceipt> parsed = ParseReceipt(tampered, &cipher);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kNotFound) << tampered;
    EXPECT_EQ(parsed.status().message(), absl::StrCat("receipt ", tampered, ": no record"));
  }
  ReceiptCipher::Key other = kKey;
  other[0] ^= 1;
  const ReceiptCipher another(other, 0);
  EXPECT_EQ(ParseReceipt(text, &another).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ParseReceipt(text, nullptr).status().code(), absl::StatusCode::kNotFound);
  // Two ciphers used in turn on one thread each keep their own key.
  EXPECT_TRUE(ParseReceipt(text, &cipher).ok());
  EXPECT_NE(another.Text(Receipt{0x9f2c41d0, 1, 439}), text);
  EXPECT_EQ(cipher.Text(Receipt{0x9f2c41d0, 1, 439}), text);
}

// Receipts handed out before the key keep their form and are read as they were.
TEST(ReceiptCipherTest, ThePositionFormIsStillRead) {
  const ReceiptCipher cipher(kKey, 1000);
  absl::StatusOr<ParsedReceipt> parsed = ParseReceipt("9f2c41d0-3-1048576", &cipher);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->keyed);
  EXPECT_EQ(parsed->receipt, (Receipt{0x9f2c41d0, 3, 1048576}));
  EXPECT_TRUE(ParseReceipt("9f2c41d0-3-1048576", nullptr).ok());
  EXPECT_EQ(ParseReceipt("ee2a7ac7-01-293", &cipher).status().message(),
            "receipt \"ee2a7ac7-01-293\": the segment has a leading zero");
  const Receipt r{0x9f2c41d0, 3, 64};
  EXPECT_EQ(cipher.IssuedText(r, 999), "9f2c41d0-3-64");
  EXPECT_EQ(cipher.IssuedText(r, 1000), cipher.Text(r));
}

TEST(ReceiptCipherTest, RefusesMalformedKeyedText) {
  const ReceiptCipher cipher(kKey, 0);
  const auto message = [&](std::string_view text) {
    const absl::Status s = ParseReceipt(text, &cipher).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << text;
    return std::string(s.message());
  };
  EXPECT_THAT(message("9f2c41d0-0123456789ABCDEF0123456789abcdef"),
              ::testing::HasSubstr("after the node must come 32 lower-case hex digits"));
  EXPECT_THAT(message("9f2c41d0-0123456789abcdef0123456789abcde"),
              ::testing::HasSubstr("after the node must come 32 lower-case hex digits"));
  EXPECT_THAT(message("9F2C41D0-0123456789abcdef0123456789abcdef"),
              ::testing::HasSubstr("the node must be 8 lower-case hex digits"));
  EXPECT_THAT(message("no-such-receipt-at-all"), ::testing::HasSubstr("is not of the form"));
  EXPECT_EQ(message("9f2c41d0-0123456789abcdef0123456789abcdef0"),
            "receipt \"9f2c41d0-0123456789abcdef0123456789abcdef0\" is 42 bytes, more than a "
            "receipt's 41");
  // A newline read back with it (x33 #5): quoted whole, escaped, and named.
  EXPECT_EQ(message("9f2c41d0-0123456789abcdef0123456789abcdef\n"),
            "receipt \"9f2c41d0-0123456789abcdef0123456789abcdef\\n\" is 42 bytes, more than a "
            "receipt's 41 (white space at its start or end)");
  // A full-width digit, a Unicode hyphen, an invisible space: where (x34 F7).
  EXPECT_EQ(message("9f2c41d0\xE2\x80\x90"
                    "0123456789abcdef0123456789abcdef"),
            "receipt \"9f2c41d0\xE2\x80\x90"
            "0123456789abcdef0123456789abcdef\" holds a character "
            "that is not ASCII at byte 8 (a receipt is lower-case hex digits, decimal digits and "
            "'-')");
  EXPECT_THAT(message("\xEF\xBC\x99"  // U+FF19 FULLWIDTH DIGIT NINE
                      "f2c41d0-1-64"),
              ::testing::HasSubstr("not ASCII at byte 0"));
  EXPECT_THAT(message(std::string(100, 'a')),
              ::testing::HasSubstr(absl::StrCat("\"", std::string(82, 'a'), "...\" is 100 bytes")));
  EXPECT_THAT(message(""), ::testing::HasSubstr("is not of the form"));
}

// The message quotes the client's text escaped: UTF-8 without controls, whatever was sent.
TEST(ReceiptCipherTest, MessagesQuoteTheTextEscaped) {
  const ReceiptCipher cipher(kKey, 0);
  const auto message = [&](std::string_view text) {
    return std::string(ParseReceipt(text, &cipher).status().message());
  };
  EXPECT_EQ(message("\xff\xff\xff\xff\xff"),
            "receipt \"\\xff\\xff\\xff\\xff\\xff\" holds a character that is not ASCII at byte 0 "
            "(a receipt is lower-case hex digits, decimal digits and '-')");
  EXPECT_THAT(message("ad95ba86-\xff"),
              ::testing::HasSubstr("receipt \"ad95ba86-\\xff\" holds a character that is not ASCII "
                                   "at byte 9"));
  EXPECT_EQ(message("\x1b]0;pwn\x07"),
            "receipt \"\\x1b]0;pwn\\x07\" is not of the form <node>-<32 hex digits> (or "
            "<node>-<segment>-<offset>)");
  EXPECT_EQ(message("9f2c41d0-\"-1"),
            "receipt \"9f2c41d0-\\\"-1\": the segment is not a decimal number");
}

}  // namespace
}  // namespace shixin::audit
