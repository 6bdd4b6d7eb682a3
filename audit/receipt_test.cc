#include "audit/receipt.h"

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

TEST(ReceiptTest, RefusesMalformedText) {
  for (const char* bad :
       {"", "9f2c41d0", "9f2c41d0-3", "9f2c41d0-3-1-2", "9F2C41D0-3-1", "9f2c41d-3-1",
        "9f2c41d0x-3-1", "9f2c41d0-03-1", "9f2c41d0--1", "9f2c41d0-3-", "9f2c41d0-+3-1",
        "9f2c41d0-4294967296-1", "9f2c41d0-3-18446744073709551616", "+f2c41d0-3-1",
        "9f2c41d0-3-1048576-0000000000000000000000"}) {
    EXPECT_FALSE(Receipt::Parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace shixin::audit
