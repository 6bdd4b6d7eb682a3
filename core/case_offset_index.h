// The case offsets of a snapshot file (its case_offsets section: where each case's record
// begins in the case blob) kept in memory in 2.25 bytes a case instead of 8: per group of 32
// cases the first one's offset, and per case its distance from that in 16 bits. Reading an
// entity's cases then takes one verified pread (the records) instead of two (offsets, then
// records). A group whose records span 64 KiB or more cannot be held this way and is marked
// wide: its cases' offsets are read from the file as before.
//
// Thread safety: Fill() may run concurrently for disjoint groups; once filled, the index is
// immutable and its const methods are safe from any thread.
#ifndef SHIXIN_CORE_CASE_OFFSET_INDEX_H_
#define SHIXIN_CORE_CASE_OFFSET_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace shixin {

class CaseOffsetIndex {
 public:
  static constexpr uint64_t kGroup = 32;

  CaseOffsetIndex() = default;
  // An index of `case_count` cases whose records end at `blob_size`, every group wide until
  // Fill() gives its offsets.
  CaseOffsetIndex(uint64_t case_count, uint64_t blob_size);

  // Takes the offsets of cases [first, first + n) from `offsets` (n little-endian u64s, as the
  // section holds them). REQUIRES: first is a multiple of kGroup; n is too, or first + n is
  // the case count. Offsets that do not increase leave the index meaningless: the caller,
  // which checks the section, refuses the file then.
  void Fill(uint64_t first, const char* offsets, uint64_t n);

  // Returns whether the offsets of cases first..last (inclusive; last may be the case count,
  // whose offset is the blob's size) are all in memory. REQUIRES: first <= last <= case count.
  bool Holds(uint64_t first, uint64_t last) const;
  // Returns where case `c`'s record begins (for c == the case count, the blob's size).
  // REQUIRES: Holds(c, c).
  uint64_t Offset(uint64_t c) const;

  // Returns the bytes this index keeps in memory.
  size_t MemoryBytes() const;

 private:
  static constexpr uint64_t kWide = uint64_t{1} << 63;  // in bases_: the group is wide

  uint64_t case_count_ = 0;
  uint64_t blob_size_ = 0;
  std::vector<uint64_t> bases_;      // per group: its first case's offset, or kWide
  std::vector<uint16_t> distances_;  // per case: its offset minus its group's base
};

}  // namespace shixin

#endif  // SHIXIN_CORE_CASE_OFFSET_INDEX_H_
