// TokenBucket: a caller's quota (issue 11), `rate` requests per second with bursts of up to
// `burst`, charged by many I/O threads at once without a lock.
//
// It is the generic cell rate algorithm: the one word of state is the theoretical arrival
// time (TAT), the instant at which the bucket would be full again, in fixed-point units of
// 1/256 ns (so rates far above a million per second keep their precision). Taking a token
// adds one emission interval (1/rate, rounded up: the bucket never grants more than
// burst + rate * elapsed) to max(TAT, now); it is refused while that would put the TAT more
// than burst intervals after now. Nothing is lost to rounding between takes (no drift).
//
// Time comes from the caller (`now_ns`, a monotonic clock such as steady_clock). A `now` a
// little behind another thread's (read before a preemption) only makes the answer stricter.
// A clock that steps back by more than a second, or a bucket left unused for over 417 days
// (the units wrap every 834 days), empties the bucket: one token's wait, never a longer block.
//
// Thread safety: thread-safe; Take() is lock-free (a compare-and-swap loop).
#ifndef SHIXIN_DAEMON_RATE_LIMITER_H_
#define SHIXIN_DAEMON_RATE_LIMITER_H_

#include <atomic>
#include <cstdint>

namespace shixin {

class TokenBucket {
 public:
  // A full bucket of `burst` tokens (at least 1) refilled at `rate_per_second`. A rate that is
  // not positive (or NaN) grants nothing; rates above 2.56e11/s are that rate, rates below one
  // token per 104 days are that rate, and a burst holds at most 104 days' worth of tokens.
  TokenBucket(double rate_per_second, uint32_t burst);
  TokenBucket(const TokenBucket&) = delete;
  TokenBucket& operator=(const TokenBucket&) = delete;

  // Returns 0 if `cost` tokens were taken at `now_ns`, else the wait in milliseconds (at least
  // 1, rounded up, at most UINT32_MAX) after which the Take() would succeed if no one else took
  // any. REQUIRES: 1 <= cost <= burst() (more could never be granted).
  uint32_t Take(int64_t now_ns, uint32_t cost = 1);

  double rate_per_second() const { return rate_per_second_; }
  uint32_t burst() const { return burst_; }

 private:
  const double rate_per_second_;
  const uint32_t burst_;
  const uint64_t interval_;  // units per token; 0: nothing is ever granted
  const uint64_t depth_;     // (burst - 1) * interval_, capped: how far the TAT may lead now
  // The TAT in units, modulo 2^64; kFresh (0) until the first token is taken.
  std::atomic<uint64_t> tat_{0};
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_RATE_LIMITER_H_
