#include "core/case_offset_index.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace shixin {
namespace {

constexpr uint64_t kGroup = CaseOffsetIndex::kGroup;

// The section's bytes for `offsets`.
std::string Bytes(const std::vector<uint64_t>& offsets) {
  std::string bytes(offsets.size() * sizeof(uint64_t), '\0');
  std::memcpy(bytes.data(), offsets.data(), bytes.size());
  return bytes;
}

// An index of `offsets` filled in pieces of `piece` cases, as the open fills it.
CaseOffsetIndex Filled(const std::vector<uint64_t>& offsets, uint64_t blob_size, uint64_t piece) {
  CaseOffsetIndex index(offsets.size(), blob_size);
  const std::string bytes = Bytes(offsets);
  for (uint64_t first = 0; first < offsets.size(); first += piece) {
    index.Fill(first, bytes.data() + first * sizeof(uint64_t),
               std::min<uint64_t>(piece, offsets.size() - first));
  }
  return index;
}

TEST(CaseOffsetIndexTest, HoldsEveryOffsetOfNarrowGroups) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> offsets;
  uint64_t at = 0;
  for (int c = 0; c < 1000; ++c) {  // 31 whole groups and a part one
    offsets.push_back(at);
    at += 1 + rng() % 1500;
  }
  for (uint64_t piece : {kGroup, 4 * kGroup, uint64_t{1024}}) {
    const CaseOffsetIndex index = Filled(offsets, at, piece);
    ASSERT_TRUE(index.Holds(0, offsets.size()));
    for (uint64_t c = 0; c < offsets.size(); ++c) ASSERT_EQ(index.Offset(c), offsets[c]) << c;
    EXPECT_EQ(index.Offset(offsets.size()), at);  // the end of the last record
    EXPECT_LE(index.MemoryBytes(), offsets.size() * 9 / 4 + 16);
  }
}

// A group whose records span 64 KiB or more stays in the file: Holds() says so for exactly the
// ranges that touch it.
TEST(CaseOffsetIndexTest, AWideGroupIsNotHeld) {
  std::vector<uint64_t> offsets;
  uint64_t at = 0;
  for (uint64_t c = 0; c < 3 * kGroup; ++c) {
    offsets.push_back(at);
    at += c == kGroup + 5 ? 70000 : 100;  // case 37's record: 70,000 bytes
  }
  const CaseOffsetIndex index = Filled(offsets, at, kGroup);
  EXPECT_TRUE(index.Holds(0, kGroup - 1));
  EXPECT_FALSE(index.Holds(0, kGroup));  // reaches into the wide group
  EXPECT_FALSE(index.Holds(kGroup + 5, kGroup + 6));
  EXPECT_FALSE(index.Holds(2 * kGroup - 1, 2 * kGroup));
  EXPECT_TRUE(index.Holds(2 * kGroup, 3 * kGroup));  // the last group and the end
  for (uint64_t c = 2 * kGroup; c < 3 * kGroup; ++c) EXPECT_EQ(index.Offset(c), offsets[c]);
  EXPECT_EQ(index.Offset(3 * kGroup), at);
  // Exactly 65,535 bytes from a group's first record to its last one still fits.
  offsets.assign(kGroup, 0);
  for (uint64_t c = 1; c < kGroup; ++c) offsets[c] = c == kGroup - 1 ? 65535 : c;
  EXPECT_TRUE(Filled(offsets, 70000, kGroup).Holds(0, kGroup));
  offsets[kGroup - 1] = 65536;
  EXPECT_FALSE(Filled(offsets, 70000, kGroup).Holds(0, kGroup - 1));
}

TEST(CaseOffsetIndexTest, UnfilledGroupsAndEmptyIndexes) {
  const CaseOffsetIndex unfilled(100, 5000);
  EXPECT_FALSE(unfilled.Holds(0, 0));
  EXPECT_TRUE(unfilled.Holds(100, 100));  // the end alone is the blob's size
  EXPECT_EQ(unfilled.Offset(100), 5000u);
  const CaseOffsetIndex empty(0, 0);
  EXPECT_TRUE(empty.Holds(0, 0));
  EXPECT_EQ(empty.Offset(0), 0u);
}

}  // namespace
}  // namespace shixin
