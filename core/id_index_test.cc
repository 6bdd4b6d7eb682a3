#include "core/id_index.h"

#include <gtest/gtest.h>

#include <vector>

namespace shixin {
namespace {

// A hash with a chosen bucket (high half) and fingerprint (low half).
uint64_t MakeHash(uint32_t high, uint32_t low) { return static_cast<uint64_t>(high) << 32 | low; }

TEST(IdIndexTest, EmptyIndexFindsNothing) {
  IdIndex index = IdIndex::Build(
      0, [](uint32_t i) { return i; }, [](uint32_t) { return uint64_t{0}; });
  EXPECT_EQ(index.FirstCandidate(123), IdIndex::kEmpty);
  index.Prefetch(123);  // harmless on an empty index
}

TEST(IdIndexTest, FindsEveryEntryAndNothingElse) {
  std::vector<uint64_t> hashes;
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 100000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    hashes.push_back(x);
  }
  IdIndex index = IdIndex::Build(
      static_cast<uint32_t>(hashes.size()), [](uint32_t i) { return i; },
      [&](uint32_t e) { return hashes[e]; });
  for (uint32_t e = 0; e < hashes.size(); ++e) {
    ASSERT_EQ(index.Find(hashes[e], [&](uint32_t c) { return c == e; }), e);
  }
  // A hash nobody has: the verification never accepts, so the answer is "not found".
  EXPECT_EQ(index.Find(12345, [](uint32_t) { return false; }), IdIndex::kEmpty);
  // Load factor at most 0.9.
  EXPECT_GE(index.bucket_count() * IdIndex::kSlots * 9, hashes.size() * 10);
}

TEST(IdIndexTest, OverflowChainsAndFingerprintCollisions) {
  // 40 entries all starting in the same bucket with the same fingerprint: they overflow into
  // the following buckets (wrapping around the end), and only verification tells them apart.
  const uint32_t n = 40;
  IdIndex index = IdIndex::Build(
      n, [](uint32_t i) { return i * 3; }, [](uint32_t) { return MakeHash(0xFFFFFFFFu, 7); });
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t entry = i * 3;
    EXPECT_EQ(index.Find(MakeHash(0xFFFFFFFFu, 7), [&](uint32_t c) { return c == entry; }), entry);
  }
  EXPECT_EQ(index.FirstCandidate(MakeHash(0xFFFFFFFFu, 7)), 0u);
  EXPECT_EQ(index.Find(MakeHash(0xFFFFFFFFu, 7), [](uint32_t c) { return c == 1; }),
            IdIndex::kEmpty);
  EXPECT_EQ(index.FirstCandidate(MakeHash(0xFFFFFFFFu, 8)), IdIndex::kEmpty);
}

}  // namespace
}  // namespace shixin
