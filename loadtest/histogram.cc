#include "loadtest/histogram.h"

#include <algorithm>
#include <cmath>

namespace shixin::loadtest {
namespace {

constexpr uint64_t kExact = 1ULL << Histogram::kSubBits;       // 256
constexpr uint64_t kHalf = 1ULL << (Histogram::kSubBits - 1);  // 128 buckets per octave

}  // namespace

size_t Histogram::BucketOf(uint64_t v) {
  if (v > kMaxTrackable) v = kMaxTrackable;
  if (v < kExact) return static_cast<size_t>(v);
  const int msb = 63 - __builtin_clzll(v);  // >= kSubBits
  const int shift = msb - (kSubBits - 1);   // >= 1; v >> shift is in [128, 256)
  return kExact + (shift - 1) * kHalf + ((v >> shift) - kHalf);
}

uint64_t Histogram::BucketLow(size_t b) {
  if (b < kExact) return b;
  const uint64_t shift = (b - kExact) / kHalf + 1;
  const uint64_t sub = (b - kExact) % kHalf + kHalf;
  return sub << shift;
}

uint64_t Histogram::BucketHigh(size_t b) {
  if (b < kExact) return b;
  const uint64_t shift = (b - kExact) / kHalf + 1;
  return BucketLow(b) + (1ULL << shift) - 1;
}

void Histogram::Record(uint64_t v) {
  ++counts_[BucketOf(v)];
  ++count_;
  sum_ += v;
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
}

void Histogram::Merge(const Histogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void Histogram::Clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  sum_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
}

uint64_t Histogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  uint64_t target = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  target = std::clamp<uint64_t>(target, 1, count_);
  if (target == count_) return max_;  // the largest value is known exactly
  uint64_t seen = 0;
  for (size_t b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= target) {
      const uint64_t mid = BucketLow(b) + (BucketHigh(b) - BucketLow(b)) / 2;
      return std::clamp(mid, min(), max_);
    }
  }
  return max_;
}

}  // namespace shixin::loadtest
