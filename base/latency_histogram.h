// LatencyHistogram: a fixed-bucket histogram of durations (1 µs .. 60 s) over relaxed atomics,
// for the daemon's metrics (request handling, reloads, audit writes and fsyncs). Observe() is
// one bucket search and two fetch_adds (ObserveAlone(), for a histogram one thread writes: a
// load and a store each): no lock, so it may sit on the query path. Read() gives a copy that
// the Prometheus exposition and the status page's percentiles are computed from.
//
// Thread safety: Observe() and Read() may be called from any thread at once; a Read() racing
// Observe() may see a sample's bucket without its sum (harmless for monitoring).
#ifndef SHIXIN_BASE_LATENCY_HISTOGRAM_H_
#define SHIXIN_BASE_LATENCY_HISTOGRAM_H_

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace shixin {

class LatencyHistogram {
 public:
  // The buckets' upper bounds in nanoseconds (1-2.5-5 steps); one more bucket holds the rest.
  static constexpr std::array<int64_t, 24> kBoundsNs = {
      1'000,         2'500,         5'000,         10'000,         25'000,         50'000,
      100'000,       250'000,       500'000,       1'000'000,      2'500'000,      5'000'000,
      10'000'000,    25'000'000,    50'000'000,    100'000'000,    250'000'000,    500'000'000,
      1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000, 30'000'000'000, 60'000'000'000};
  static constexpr size_t kBuckets = kBoundsNs.size() + 1;

  // A copy of the counts: per bucket (not cumulative) and the sum.
  struct Counts {
    std::array<uint64_t, kBuckets> buckets{};
    uint64_t sum_ns = 0;

    // Returns the number of samples.
    uint64_t count() const;
    // Returns the samples of `this` not in the earlier `before` (a window's).
    Counts Minus(const Counts& before) const;
    // Returns the `q` (0..1) quantile in nanoseconds, interpolated linearly inside its bucket
    // (the last bucket reports its lower bound); 0 when empty.
    double QuantileNs(double q) const;
    // Adds `other`'s samples.
    void Add(const Counts& other);
  };

  // Records one duration of `ns` nanoseconds (negative counts as 0).
  void Observe(int64_t ns) {
    const size_t i = static_cast<size_t>(std::lower_bound(kBoundsNs.begin(), kBoundsNs.end(), ns) -
                                         kBoundsNs.begin());
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(ns, 0)), std::memory_order_relaxed);
  }
  // Observe() for a histogram that one thread alone writes: a relaxed load and store instead
  // of a locked read-modify-write (the query path records every request).
  // REQUIRES: no other thread calls Observe() or ObserveAlone() on this histogram.
  void ObserveAlone(int64_t ns) {
    const size_t i = static_cast<size_t>(std::lower_bound(kBoundsNs.begin(), kBoundsNs.end(), ns) -
                                         kBoundsNs.begin());
    Bump(buckets_[i], 1);
    Bump(sum_ns_, static_cast<uint64_t>(std::max<int64_t>(ns, 0)));
  }
  // Adds `n` to `cell`, which one thread alone writes (ObserveAlone()).
  static void Bump(std::atomic<uint64_t>& cell, uint64_t n) {
    cell.store(cell.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  // Returns the counts so far.
  Counts Read() const;

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> sum_ns_{0};
};

inline uint64_t LatencyHistogram::Counts::count() const {
  uint64_t n = 0;
  for (uint64_t b : buckets) n += b;
  return n;
}

inline LatencyHistogram::Counts LatencyHistogram::Counts::Minus(const Counts& before) const {
  Counts out;
  for (size_t i = 0; i < kBuckets; ++i) {
    out.buckets[i] = buckets[i] >= before.buckets[i] ? buckets[i] - before.buckets[i] : 0;
  }
  out.sum_ns = sum_ns >= before.sum_ns ? sum_ns - before.sum_ns : 0;
  return out;
}

inline void LatencyHistogram::Counts::Add(const Counts& other) {
  for (size_t i = 0; i < kBuckets; ++i) buckets[i] += other.buckets[i];
  sum_ns += other.sum_ns;
}

inline double LatencyHistogram::Counts::QuantileNs(double q) const {
  const uint64_t n = count();
  if (n == 0) return 0;
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(n);
  double seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    const double lower = i == 0 ? 0.0 : static_cast<double>(kBoundsNs[i - 1]);
    if (i == kBoundsNs.size()) return lower;
    const double in_bucket = static_cast<double>(buckets[i]);
    if (in_bucket > 0 && seen + in_bucket >= rank) {
      const double upper = static_cast<double>(kBoundsNs[i]);
      return lower + (upper - lower) * ((rank - seen) / in_bucket);
    }
    seen += in_bucket;
  }
  return static_cast<double>(kBoundsNs.back());
}

inline LatencyHistogram::Counts LatencyHistogram::Read() const {
  Counts out;
  for (size_t i = 0; i < kBuckets; ++i) {
    out.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  out.sum_ns = sum_ns_.load(std::memory_order_relaxed);
  return out;
}

}  // namespace shixin

#endif  // SHIXIN_BASE_LATENCY_HISTOGRAM_H_
