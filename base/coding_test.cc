#include "base/coding.h"

#include <cstdint>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace shixin {
namespace {

TEST(CodingTest, BigEndianByteOrder) {
  std::string out;
  PutBigEndian16(0x0102, &out);
  PutBigEndian32(0x03040506, &out);
  PutBigEndian64(0x0708090A0B0C0D0E, &out);
  EXPECT_EQ(out, std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0A\x0B\x0C\x0D\x0E", 14));
  EXPECT_EQ(DecodeBigEndian16(out.data()), 0x0102);
  EXPECT_EQ(DecodeBigEndian32(out.data() + 2), 0x03040506u);
  EXPECT_EQ(DecodeBigEndian64(out.data() + 6), 0x0708090A0B0C0D0Eu);
}

TEST(CodingTest, EncodeWritesInPlace) {
  char buffer[14] = {};
  EncodeBigEndian16(0xFFEE, buffer);
  EncodeBigEndian32(0xDDCCBBAA, buffer + 2);
  EncodeBigEndian64(0x9988776655443322, buffer + 6);
  std::string appended;
  PutBigEndian16(0xFFEE, &appended);
  PutBigEndian32(0xDDCCBBAA, &appended);
  PutBigEndian64(0x9988776655443322, &appended);
  EXPECT_EQ(std::string(buffer, sizeof(buffer)), appended);
}

TEST(CodingTest, LittleEndianByteOrder) {
  std::string out;
  PutLittleEndian32(0x04030201, &out);
  PutLittleEndian64(0x0C0B0A0908070605, &out);
  EXPECT_EQ(out, std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0A\x0B\x0C", 12));
  EXPECT_EQ(DecodeLittleEndian32(out.data()), 0x04030201u);
  EXPECT_EQ(DecodeLittleEndian64(out.data() + 4), 0x0C0B0A0908070605u);
}

// High bits set in every byte: a sign extension of `char` would show here.
TEST(CodingTest, RoundTripsExtremes) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{0x80}, uint64_t{0xFF},
                     uint64_t{0x8080808080808080}, std::numeric_limits<uint64_t>::max()}) {
    std::string out;
    PutBigEndian16(static_cast<uint16_t>(v), &out);
    PutBigEndian32(static_cast<uint32_t>(v), &out);
    PutBigEndian64(v, &out);
    PutLittleEndian32(static_cast<uint32_t>(v), &out);
    PutLittleEndian64(v, &out);
    ASSERT_EQ(out.size(), 2u + 4 + 8 + 4 + 8);
    const char* p = out.data();
    EXPECT_EQ(DecodeBigEndian16(p), static_cast<uint16_t>(v));
    EXPECT_EQ(DecodeBigEndian32(p + 2), static_cast<uint32_t>(v));
    EXPECT_EQ(DecodeBigEndian64(p + 6), v);
    EXPECT_EQ(DecodeLittleEndian32(p + 14), static_cast<uint32_t>(v));
    EXPECT_EQ(DecodeLittleEndian64(p + 18), v);
  }
}

}  // namespace
}  // namespace shixin
