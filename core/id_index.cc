#include "core/id_index.h"

#include <cassert>
#include <cstring>

namespace shixin {

IdIndex IdIndex::Build(uint32_t count, absl::FunctionRef<uint32_t(uint32_t)> entry_of,
                       absl::FunctionRef<uint64_t(uint32_t)> hash_of) {
  assert(count < kEmpty);
  IdIndex index;
  if (count == 0) return index;
  // At most 90 % of the slots are used, which keeps chains short (mostly one bucket).
  const size_t buckets = (static_cast<size_t>(count) * 10 / 9 + kSlots - 1) / kSlots + 1;
  index.owned_.resize(buckets);
  index.buckets_ = index.owned_;
  for (Bucket& b : index.owned_) std::memset(b.entity, 0xFF, sizeof(b.entity));
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t entry = entry_of(i);
    const uint64_t hash = hash_of(entry);
    size_t b = index.BucketOf(hash);
    for (;;) {
      Bucket& bucket = index.owned_[b];
      int s = 0;
      while (s < kSlots && bucket.entity[s] != kEmpty) ++s;
      if (s < kSlots) {
        bucket.fingerprint[s] = FingerprintOf(hash);
        bucket.entity[s] = entry;
        break;
      }
      if (++b == buckets) b = 0;
    }
  }
  return index;
}

IdIndex IdIndex::View(std::span<const Bucket> buckets) {
  IdIndex index;
  index.buckets_ = buckets;
  return index;
}

}  // namespace shixin
