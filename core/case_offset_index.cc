#include "core/case_offset_index.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace shixin {

CaseOffsetIndex::CaseOffsetIndex(uint64_t case_count, uint64_t blob_size)
    : case_count_(case_count),
      blob_size_(blob_size),
      bases_((case_count + kGroup - 1) / kGroup, kWide),
      distances_(case_count) {}

void CaseOffsetIndex::Fill(uint64_t first, const char* offsets, uint64_t n) {
  assert(first % kGroup == 0 && first + n <= case_count_);
  assert(n % kGroup == 0 || first + n == case_count_);
  for (uint64_t begin = 0; begin < n; begin += kGroup) {
    const uint64_t size = std::min(kGroup, n - begin);
    uint64_t base;
    std::memcpy(&base, offsets + begin * sizeof(uint64_t), sizeof(base));
    uint64_t last;
    std::memcpy(&last, offsets + (begin + size - 1) * sizeof(uint64_t), sizeof(last));
    if (last - base > UINT16_MAX || base >= kWide) continue;  // wide: stays on disk
    for (uint64_t i = 0; i < size; ++i) {
      uint64_t offset;
      std::memcpy(&offset, offsets + (begin + i) * sizeof(uint64_t), sizeof(offset));
      distances_[first + begin + i] = static_cast<uint16_t>(offset - base);
    }
    bases_[(first + begin) / kGroup] = base;
  }
}

bool CaseOffsetIndex::Holds(uint64_t first, uint64_t last) const {
  assert(first <= last && last <= case_count_);
  if (first == case_count_) return true;  // only the end, which is the blob's size
  const uint64_t end_group = std::min(last, case_count_ - 1) / kGroup;
  for (uint64_t g = first / kGroup; g <= end_group; ++g) {
    if (bases_[g] == kWide) return false;
  }
  return true;
}

uint64_t CaseOffsetIndex::Offset(uint64_t c) const {
  if (c == case_count_) return blob_size_;
  return bases_[c / kGroup] + distances_[c];
}

size_t CaseOffsetIndex::MemoryBytes() const {
  return bases_.capacity() * sizeof(uint64_t) + distances_.capacity() * sizeof(uint16_t);
}

}  // namespace shixin
