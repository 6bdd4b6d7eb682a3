#include "core/id_index.h"

#include <gtest/gtest.h>

#include <vector>

namespace shixin {
namespace {

// A hash with a chosen bucket (high half) and fingerprint (low half).
uint64_t MakeHash(uint32_t high, uint32_t low) { return static_cast<uint64_t>(high) << 32 | low; }

TEST(IdIndexTest, EmptyIndexFindsNothing) {
  IdIndex index = IdIndex::Build(
      0, 0, [](uint32_t i) { return i; }, [](uint32_t) { return uint64_t{0}; });
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
  const auto n = static_cast<uint32_t>(hashes.size());
  IdIndex index = IdIndex::Build(
      n, n, [](uint32_t i) { return i; }, [&](uint32_t e) { return hashes[e]; });
  for (uint32_t e = 0; e < hashes.size(); ++e) {
    ASSERT_EQ(index.Find(hashes[e], [&](uint32_t c) { return c == e; }), e);
  }
  // A hash nobody has: the verification never accepts, so the answer is "not found".
  EXPECT_EQ(index.Find(12345, [](uint32_t) { return false; }), IdIndex::kEmpty);
  // Load factor at most 0.75.
  EXPECT_GE(index.bucket_count() * IdIndex::kSlots * 3, hashes.size() * 4);
}

TEST(IdIndexTest, OverflowChainsAndFingerprintCollisions) {
  // 40 entries all starting in the same bucket with the same fingerprint: they overflow into
  // the following buckets (wrapping around the end), and only verification tells them apart.
  const uint32_t n = 40;
  IdIndex index = IdIndex::Build(
      n, 3 * n, [](uint32_t i) { return i * 3; },
      [](uint32_t) { return MakeHash(0xFFFFFFFFu, 7); });
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t entry = i * 3;
    EXPECT_EQ(index.Find(MakeHash(0xFFFFFFFFu, 7), [&](uint32_t c) { return c == entry; }), entry);
  }
  EXPECT_EQ(index.FirstCandidate(MakeHash(0xFFFFFFFFu, 7)), 0u);
  EXPECT_EQ(index.Find(MakeHash(0xFFFFFFFFu, 7), [](uint32_t c) { return c == 1; }),
            IdIndex::kEmpty);
  // 8 differs from 7 in the entry bits only (7 of them for entries below 120): the same
  // fingerprint, so the same candidates; a difference above them is another fingerprint.
  EXPECT_EQ(index.FirstCandidate(MakeHash(0xFFFFFFFFu, 8)), 0u);
  EXPECT_EQ(index.FirstCandidate(MakeHash(0xFFFFFFFFu, 7 | (1u << 7))), IdIndex::kEmpty);
}

// A slot keeps the entry in the bits that entries below the limit need, all ones excepted,
// and the hash's bits above them: 20 entry bits for a limit of 2^20 - 1 (entries up to
// 2^20 - 2), 12 fingerprint bits.
TEST(IdIndexTest, SlotsHoldTheEntryBelowTheFingerprint) {
  const uint32_t limit = (1u << 20) - 1;
  const uint32_t entry = limit - 1;
  const uint64_t hash = MakeHash(0x12345678u, 0xABCDEF01u);
  IdIndex index = IdIndex::Build(
      1, limit, [&](uint32_t) { return entry; }, [&](uint32_t) { return hash; });
  uint32_t used = 0;
  for (const IdIndex::Bucket& b : index.buckets()) {
    for (uint32_t slot : b.slot) {
      if (slot == IdIndex::kEmpty) continue;
      ++used;
      EXPECT_EQ(index.EntryOf(slot), entry);
      EXPECT_EQ(slot >> 20, 0xABCDEF01u >> 20);
    }
  }
  EXPECT_EQ(used, 1u);
  EXPECT_EQ(index.FirstCandidate(hash), entry);
  EXPECT_EQ(index.FirstCandidate(hash ^ 0xFFFFFu), entry);  // the entry bits do not filter
  EXPECT_EQ(index.FirstCandidate(hash ^ (1u << 20)), IdIndex::kEmpty);

  // A view of the same buckets with the same limit finds the same entry.
  const IdIndex view = IdIndex::View(index.buckets(), limit);
  EXPECT_EQ(view.Find(hash, [&](uint32_t c) { return c == entry; }), entry);
  EXPECT_EQ(view.bytes(), index.bytes());
}

}  // namespace
}  // namespace shixin
