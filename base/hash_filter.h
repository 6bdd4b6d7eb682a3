// HashFilter: a blocked Bloom filter of 64-bit hashes: four bits of one 64-bit word a key, so a
// question reads one word. It answers "certainly not inserted" or "maybe"; full (16 bits a key)
// about 0.5 % of the keys never inserted are a "maybe", at half its capacity 0.1 %. Keys are hashes
// that are already well mixed (XXH3); the filter does not hash them again.
//
// Thread safety: const methods may run concurrently; Insert and Reset need exclusive access.
#ifndef SHIXIN_BASE_HASH_FILTER_H_
#define SHIXIN_BASE_HASH_FILTER_H_

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace shixin {

class HashFilter {
 public:
  // An empty filter with room for kKeysPerWord keys.
  HashFilter() : words_(1, 0) {}

  // Empties the filter and makes room for `keys` keys (at least 16 bits each).
  void Reset(size_t keys) {
    const size_t words =
        std::bit_ceil(std::max<size_t>(1, (keys + kKeysPerWord - 1) / kKeysPerWord));
    words_.assign(words, 0);
    mask_ = words - 1;
  }

  // Returns how many keys the filter holds at its density: Insert beyond it raises the rate of
  // false "maybe"s (it stays correct).
  size_t capacity() const { return words_.size() * kKeysPerWord; }

  // Adds `hash`: MayContain(hash) is true from now on.
  void Insert(uint64_t hash) { words_[Word(hash)] |= Bits(hash); }

  // Returns false when `hash` was certainly not inserted since the last Reset.
  bool MayContain(uint64_t hash) const {
    const uint64_t bits = Bits(hash);
    return (words_[Word(hash)] & bits) == bits;
  }

  // Returns the bytes its words take.
  size_t Bytes() const { return words_.capacity() * sizeof(uint64_t); }

 private:
  static constexpr size_t kKeysPerWord = 4;  // 16 bits a key when full

  // The word from the high bits, the four bit positions from the low 24: independent of each
  // other for a mixed hash.
  size_t Word(uint64_t hash) const { return static_cast<size_t>(hash >> 32) & mask_; }
  static uint64_t Bits(uint64_t hash) {
    return uint64_t{1} << (hash & 63) | uint64_t{1} << (hash >> 6 & 63) |
           uint64_t{1} << (hash >> 12 & 63) | uint64_t{1} << (hash >> 18 & 63);
  }

  std::vector<uint64_t> words_;
  size_t mask_ = 0;
};

}  // namespace shixin

#endif  // SHIXIN_BASE_HASH_FILTER_H_
