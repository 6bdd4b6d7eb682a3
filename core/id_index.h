// IdIndex: the immutable hash index from an ID to its entity number, laid out for lookups whose
// cost is memory latency. Each 64-byte bucket (one cache line) holds 16 slots of 32 bits: the
// entry (an entity number) in the low bits, as many as entries below the index's limit need,
// and a fingerprint of the hash in the bits above (8 at 13.8 M entities). An entry lives in the
// bucket its hash picks or, when that is full, in the following ones (linear probing over
// buckets, load factor at most 0.75). A lookup touches one bucket line and then, for a
// candidate, the entity itself, and both can be prefetched ahead: batches keep many lookups in
// flight instead of waiting on each miss.
//
// The fingerprint only filters: callers always verify a candidate against the full ID (a short
// fingerprint lets a few more candidates through, for half the memory of a 32-bit one).
// Plain arrays of integers, so a snapshot file can map them directly: an index either owns its
// buckets (Build()) or views buckets held elsewhere (View(), e.g. a mapped snapshot file).
//
// Thread safety: immutable after Build() or View(); safe to share between threads.
#ifndef SHIXIN_CORE_ID_INDEX_H_
#define SHIXIN_CORE_ID_INDEX_H_

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/functional/function_ref.h"
#include "core/huge_pages.h"

namespace shixin {

class IdIndex {
 public:
  static constexpr uint32_t kEmpty = 0xFFFFFFFFu;
  static constexpr int kSlots = 16;

  struct alignas(64) Bucket {
    // kEmpty for a free slot (the entry bits all ones: never an entry); slots fill from 0 up.
    uint32_t slot[kSlots];
  };
  static_assert(sizeof(Bucket) == 64);

  IdIndex() = default;
  // Moving keeps the bucket storage (a vector's buffer moves with it), so views stay valid.
  IdIndex(IdIndex&&) = default;
  IdIndex& operator=(IdIndex&&) = default;
  IdIndex(const IdIndex&) = delete;
  IdIndex& operator=(const IdIndex&) = delete;

  // Returns an index of the entries entry_of(0) .. entry_of(count - 1), entry x having hash
  // `hash_of(x)`. REQUIRES: count <= limit < kEmpty and every entry below `limit`.
  static IdIndex Build(uint32_t count, uint32_t limit,
                       absl::FunctionRef<uint32_t(uint32_t)> entry_of,
                       absl::FunctionRef<uint64_t(uint32_t)> hash_of);
  // Returns an index over `buckets`, built with `limit`, which must outlive it. A bucket array
  // that Build() did not make is safe to search (every search ends) but may miss entries or
  // return wrong ones; callers check its entries against their tables (EntryOf()) and still
  // verify every entry they use. REQUIRES: limit < kEmpty.
  static IdIndex View(std::span<const Bucket> buckets, uint32_t limit);

  // Prefetches the bucket line where the search for `hash` starts, and the next one, where
  // it continues when that bucket is full (nearly always on the same page: no second TLB
  // walk).
  void Prefetch(uint64_t hash) const {
    if (buckets_.empty()) return;
    const size_t b = BucketOf(hash);
    __builtin_prefetch(&buckets_[b]);
    __builtin_prefetch(&buckets_[b + 1 < buckets_.size() ? b + 1 : 0]);
  }

  // Returns the first entry whose fingerprint matches `hash` and for which `is_match(entry)`
  // holds, or kEmpty.
  template <typename Match>
  uint32_t Find(uint64_t hash, Match is_match) const;

  // Returns the first entry whose fingerprint matches `hash` (unverified), or kEmpty. The
  // candidate of a pipelined lookup: verify it, and fall back to Find() when it is wrong.
  uint32_t FirstCandidate(uint64_t hash) const {
    return Find(hash, [](uint32_t) { return true; });
  }

  // Returns the entry that occupied slot `slot` (not kEmpty) holds.
  uint32_t EntryOf(uint32_t slot) const { return slot & entry_mask_; }

  // Returns the bytes of the bucket array.
  size_t bytes() const { return buckets_.size_bytes(); }
  size_t bucket_count() const { return buckets_.size(); }
  std::span<const Bucket> buckets() const { return buckets_; }

 private:
  size_t BucketOf(uint64_t hash) const {
    // Multiply-shift maps the high hash bits onto any bucket count without a division.
    return static_cast<size_t>(((hash >> 32) * buckets_.size()) >> 32);
  }
  // The fingerprint sits in a slot's bits above the entry's (the low hash half: the bucket
  // comes from the high one).
  uint32_t FingerprintOf(uint64_t hash) const { return static_cast<uint32_t>(hash) & ~entry_mask_; }
  // Returns the mask of the entry bits that entries below `limit` need, with all ones (kEmpty's)
  // never an entry.
  static uint32_t EntryMask(uint32_t limit);
  // Sets bit s of *free for each free slot s of `bucket`, and of *matches for each slot whose
  // bits under `mask` equal `value`. REQUIRES: both start at 0.
  static void Match16(const Bucket& bucket, uint32_t mask, uint32_t value, uint32_t* free,
                      uint32_t* matches);

  std::vector<Bucket, HugePageAllocator<Bucket>> owned_;  // empty for a View()
  std::span<const Bucket> buckets_;                       // owned_, or the viewed array
  uint32_t entry_mask_ = 0;
};

template <typename Match>
uint32_t IdIndex::Find(uint64_t hash, Match is_match) const {
  if (buckets_.empty()) return kEmpty;
  const uint32_t fingerprint = FingerprintOf(hash);
  size_t b = BucketOf(hash);
  for (size_t probes = 0; probes < buckets_.size(); ++probes) {
    const Bucket& bucket = buckets_[b];
    uint32_t free = 0;
    uint32_t candidates = 0;
    Match16(bucket, ~entry_mask_, fingerprint, &free, &candidates);
    // The chain ends at the first free slot: only the slots before it count.
    candidates &= free == 0 ? 0xFFFFu : (free & (0u - free)) - 1;
    for (; candidates != 0; candidates &= candidates - 1) {
      const uint32_t entry = bucket.slot[std::countr_zero(candidates)] & entry_mask_;
      if (is_match(entry)) return entry;
    }
    if (free != 0) return kEmpty;
    if (++b == buckets_.size()) b = 0;
  }
  return kEmpty;
}

inline void IdIndex::Match16(const Bucket& bucket, uint32_t mask, uint32_t value, uint32_t* free,
                             uint32_t* matches) {
#if defined(__SSE2__)
  // Four compares of four slots each instead of a branch per slot: a miss scans whole buckets.
  const __m128i empty = _mm_set1_epi32(-1);
  const __m128i m = _mm_set1_epi32(static_cast<int>(mask));
  const __m128i v = _mm_set1_epi32(static_cast<int>(value));
  for (int i = 0; i < kSlots / 4; ++i) {
    const __m128i x = _mm_load_si128(reinterpret_cast<const __m128i*>(bucket.slot) + i);
    const auto bits = [](__m128i eq) {
      return static_cast<uint32_t>(_mm_movemask_ps(_mm_castsi128_ps(eq)));
    };
    *free |= bits(_mm_cmpeq_epi32(x, empty)) << (4 * i);
    *matches |= bits(_mm_cmpeq_epi32(_mm_and_si128(x, m), v)) << (4 * i);
  }
#else
  for (int s = 0; s < kSlots; ++s) {
    *free |= static_cast<uint32_t>(bucket.slot[s] == kEmpty) << s;
    *matches |= static_cast<uint32_t>((bucket.slot[s] & mask) == value) << s;
  }
#endif
}

}  // namespace shixin

#endif  // SHIXIN_CORE_ID_INDEX_H_
