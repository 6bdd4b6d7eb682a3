#include "daemon/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace shixin {
namespace {

constexpr double kUnitsPerSecond = 256e9;  // 1/256 ns
constexpr double kUnitsPerMs = 256e6;
constexpr uint64_t kUnitsPerNs = 256;
// The caps keep interval + depth + kBackStep below 2^63, so that a TAT's lead over now, taken
// modulo 2^64 as a signed number, is never ambiguous for a state this class wrote.
constexpr uint64_t kMaxInterval = uint64_t{1} << 61;
constexpr uint64_t kMaxDepth = uint64_t{1} << 61;
// How far behind the TAT's own clock a `now` may be and still be believed: a thread that read
// the clock and was preempted. Further back, the clock stepped back (or the state wrapped).
constexpr uint64_t kBackStep = static_cast<uint64_t>(kUnitsPerSecond);
constexpr uint64_t kFresh = 0;

uint64_t IntervalUnits(double rate_per_second) {
  if (!(rate_per_second > 0)) return 0;  // also NaN
  const double units = std::ceil(kUnitsPerSecond / rate_per_second);
  if (units >= static_cast<double>(kMaxInterval)) return kMaxInterval;
  return std::max<uint64_t>(1, static_cast<uint64_t>(units));
}

uint64_t DepthUnits(uint64_t interval, uint32_t burst) {
  const uint64_t extra = burst > 1 ? burst - 1 : 0;
  if (interval != 0 && extra > kMaxDepth / interval) return kMaxDepth;
  return extra * interval;
}

// Returns `units` in milliseconds, rounded up, at most UINT32_MAX.
uint32_t WaitMs(uint64_t units) {
  const double ms = std::ceil(static_cast<double>(units) / kUnitsPerMs);
  return static_cast<uint32_t>(std::min(ms, double{std::numeric_limits<uint32_t>::max()}));
}

}  // namespace

TokenBucket::TokenBucket(double rate_per_second, uint32_t burst)
    : rate_per_second_(rate_per_second),
      burst_(std::max<uint32_t>(burst, 1)),
      interval_(IntervalUnits(rate_per_second)),
      depth_(DepthUnits(interval_, burst_)) {}

uint32_t TokenBucket::Take(int64_t now_ns, uint32_t cost) {
  if (interval_ == 0) return std::numeric_limits<uint32_t>::max();
  const uint64_t now = static_cast<uint64_t>(now_ns) * kUnitsPerNs;  // modulo 2^64
  // The tokens beyond the first: they must be in the bucket too (burst caps them with depth_).
  const uint64_t extra = std::min(DepthUnits(interval_, std::max<uint32_t>(cost, 1)), depth_);
  uint64_t tat = tat_.load(std::memory_order_relaxed);
  for (;;) {
    // How far the TAT is ahead of now: 0 when the bucket is full.
    int64_t lead = tat == kFresh ? 0 : static_cast<int64_t>(tat - now);
    if (lead < 0) lead = 0;
    const uint64_t ahead = static_cast<uint64_t>(lead);
    uint64_t next = 0;  // the TAT to store
    if (ahead > depth_ + interval_ + kBackStep) {
      // Unbelievable: empty the bucket as of now.
      next = now + depth_ + interval_;
    } else if (ahead + extra > depth_) {
      return WaitMs(ahead + extra - depth_);
    } else {
      next = now + ahead + extra + interval_;
    }
    if (next == kFresh) next = 1;  // 1/256 ns later, rather than "fresh"
    if (tat_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) {
      if (ahead + extra <= depth_ && ahead <= depth_ + interval_ + kBackStep) return 0;
      return WaitMs(interval_ + extra);  // the emptied bucket: the cost's time
    }
  }
}

}  // namespace shixin
