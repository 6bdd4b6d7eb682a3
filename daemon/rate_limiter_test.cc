#include "daemon/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "callers/caller.h"

namespace shixin {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSecond = 1'000'000'000;
// An arbitrary steady-clock reading, far from zero.
constexpr int64_t kT0 = 123 * 3600 * kSecond + 456;

// Returns how many of `n` takes at `now` succeed.
int TakeMany(TokenBucket& bucket, int n, int64_t now) {
  int granted = 0;
  for (int i = 0; i < n; ++i) granted += bucket.Take(now) == 0;
  return granted;
}

TEST(TokenBucketTest, ABurstThenRefusal) {
  TokenBucket bucket(10, 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(bucket.Take(kT0), 0u) << i;
  EXPECT_EQ(bucket.Take(kT0), 100u);  // one token per 100 ms
  EXPECT_EQ(bucket.Take(kT0), 100u);  // refusals take nothing
  EXPECT_EQ(bucket.burst(), 5u);
  EXPECT_EQ(bucket.rate_per_second(), 10);
}

TEST(TokenBucketTest, ACostTakesThatManyTokensOrNone) {
  TokenBucket bucket(10, 5);
  EXPECT_EQ(bucket.Take(kT0, 3), 0u);
  EXPECT_EQ(bucket.Take(kT0, 3), 100u);  // 2 left: the third comes in 100 ms
  EXPECT_EQ(bucket.Take(kT0, 2), 0u);    // the refusal took nothing
  EXPECT_EQ(bucket.Take(kT0 + 99 * kMs, 1), 1u);
  EXPECT_EQ(bucket.Take(kT0 + 500 * kMs, 5), 0u);  // refilled whole: the whole burst at once
  EXPECT_EQ(bucket.Take(kT0 + 500 * kMs, 1), 100u);
}

TEST(TokenBucketTest, RefillsAtTheRateUpToTheBurst) {
  TokenBucket bucket(10, 5);
  EXPECT_EQ(TakeMany(bucket, 5, kT0), 5);
  EXPECT_EQ(TakeMany(bucket, 10, kT0 + 99 * kMs), 0);
  EXPECT_EQ(TakeMany(bucket, 10, kT0 + 100 * kMs), 1);
  EXPECT_EQ(TakeMany(bucket, 10, kT0 + 350 * kMs), 2);  // 0.5 token left over
  EXPECT_EQ(TakeMany(bucket, 10, kT0 + 400 * kMs), 1);  // ... and counted: no drift
  // A long pause refills only up to the burst.
  EXPECT_EQ(TakeMany(bucket, 100, kT0 + 3600 * kSecond), 5);
}

TEST(TokenBucketTest, NoDriftOverManyTakes) {
  // 3 per second is not a whole number of nanoseconds per token; takes every 10 ms are late
  // for each token by up to 10 ms, which a burst of 2 absorbs (with a burst of 1, a bucket
  // that is full has no room for what refills while it waits).
  TokenBucket bucket(3, 2);
  int granted = 0;
  for (int64_t t = 0; t <= 1000 * kSecond; t += 10 * kMs) granted += bucket.Take(kT0 + t) == 0;
  EXPECT_GE(granted, 3001);  // 2 + 3000 at most; rounding up may cost one at the very end
  EXPECT_LE(granted, 3002);
}

TEST(TokenBucketTest, TheWaitReturnedIsRight) {
  for (double rate : {0.5, 3.0, 7.0, 1000.0, 1e5}) {
    TokenBucket bucket(rate, 2);
    int64_t now = kT0;
    for (int i = 0; i < 20; ++i) {
      while (bucket.Take(now) == 0) {
      }
      const uint32_t wait = bucket.Take(now);
      ASSERT_GT(wait, 0u) << rate;
      // Not much before the wait, refused; after it, granted.
      EXPECT_GT(bucket.Take(now + wait * kMs - kMs), 0u) << rate;
      now += wait * kMs;
      EXPECT_EQ(bucket.Take(now), 0u) << rate << " after " << wait << " ms";
    }
  }
}

TEST(TokenBucketTest, WaitIsRoundedUpAndCapped) {
  TokenBucket slow(1e-9, 1);  // one token every 31 years (capped at 104 days)
  EXPECT_EQ(slow.Take(kT0), 0u);
  EXPECT_EQ(slow.Take(kT0), std::numeric_limits<uint32_t>::max());
  TokenBucket fast(1e6, 1);
  EXPECT_EQ(fast.Take(kT0), 0u);
  EXPECT_EQ(fast.Take(kT0), 1u);  // 1 us, rounded up to 1 ms
  EXPECT_EQ(fast.Take(kT0 + 1000), 0u);
}

// The slowest rate and the longest refill a callers file may give (callers/caller.h) are kept
// as given: a bucket neither runs faster nor holds a smaller burst.
TEST(TokenBucketTest, TheCallersFilesLimitsAreKept) {
  constexpr int64_t kDay = 86400 * kSecond;
  TokenBucket slowest(kMinRate, 2);  // 2 at once, then one per 100 days
  EXPECT_EQ(slowest.Take(kT0, 2), 0u);
  const uint32_t wait = slowest.Take(kT0 + 60 * kDay);  // 40 days (1/rate rounds up a hair)
  EXPECT_GE(wait, 40u * 86'400'000);
  EXPECT_LE(wait, 40u * 86'400'000 + 1);
  TokenBucket deep(1e-3, 8641);  // one token per 1000 s, 8641 at once
  EXPECT_EQ(deep.Take(kT0, 8641), 0u);
  EXPECT_GT(deep.Take(kT0 + 99 * kDay, 8641), 0u);
  EXPECT_EQ(deep.Take(kT0 + 8641 * 1000 * kSecond + kSecond, 8641), 0u);  // all of it back
}

TEST(TokenBucketTest, NonPositiveRatesGrantNothing) {
  for (double rate : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN()}) {
    TokenBucket bucket(rate, 10);
    EXPECT_EQ(bucket.Take(kT0), std::numeric_limits<uint32_t>::max()) << rate;
  }
}

TEST(TokenBucketTest, BurstZeroMeansOne) {
  TokenBucket bucket(1, 0);
  EXPECT_EQ(bucket.burst(), 1u);
  EXPECT_EQ(bucket.Take(kT0), 0u);
  EXPECT_EQ(bucket.Take(kT0), 1000u);
}

TEST(TokenBucketTest, HugeRatesAndBursts) {
  TokenBucket huge(1e15, 1);
  EXPECT_EQ(huge.Take(kT0), 0u);
  EXPECT_GT(huge.Take(kT0), 0u);  // even a huge rate has no token at the same instant
  for (int64_t t = 1; t <= 1000; ++t) EXPECT_EQ(huge.Take(kT0 + t), 0u) << t;
  // 1e9 per second: one token per nanosecond, exactly.
  TokenBucket giga(1e9, 1000);
  EXPECT_EQ(TakeMany(giga, 5000, kT0), 1000);
  EXPECT_EQ(TakeMany(giga, 5000, kT0 + 500), 500);
  // The largest burst does not overflow (it is capped at 104 days of refill: 9 M tokens here).
  TokenBucket deep(1, std::numeric_limits<uint32_t>::max());
  EXPECT_EQ(TakeMany(deep, 10000, kT0), 10000);
  TokenBucket wide(1e9, std::numeric_limits<uint32_t>::max());
  EXPECT_EQ(TakeMany(wide, 10000, kT0), 10000);
}

TEST(TokenBucketTest, ARateChangeIsANewBucket) {
  TokenBucket slow(1, 1);
  EXPECT_EQ(slow.Take(kT0), 0u);
  EXPECT_EQ(slow.Take(kT0 + 500 * kMs), 500u);
  TokenBucket fast(100, 1);  // the reloaded caller's new rate, full
  EXPECT_EQ(fast.Take(kT0 + 500 * kMs), 0u);
  EXPECT_EQ(fast.Take(kT0 + 500 * kMs), 10u);
  EXPECT_EQ(fast.Take(kT0 + 510 * kMs), 0u);
}

TEST(TokenBucketTest, ANowSlightlyBehindIsStricterNeverLaxer) {
  TokenBucket bucket(10, 1);
  EXPECT_EQ(bucket.Take(kT0), 0u);
  // Another thread read the clock 50 ms earlier: the token is further away for it.
  EXPECT_EQ(bucket.Take(kT0 - 50 * kMs), 150u);
  EXPECT_EQ(bucket.Take(kT0 + 100 * kMs), 0u);
}

TEST(TokenBucketTest, AClockSteppingFarBackDoesNotBlockForLong) {
  TokenBucket bucket(10, 3);
  EXPECT_EQ(TakeMany(bucket, 3, kT0), 3);
  const int64_t back = kT0 - 3600 * kSecond;  // an hour back
  EXPECT_EQ(bucket.Take(back), 100u);         // empty, one token's wait, not an hour
  EXPECT_EQ(bucket.Take(back + 100 * kMs), 0u);
  EXPECT_EQ(TakeMany(bucket, 10, back + 100 * kMs), 0);
  EXPECT_EQ(TakeMany(bucket, 10, back + 400 * kMs), 3);  // refills up to the burst again
}

TEST(TokenBucketTest, ClockValuesNearZeroAndNegative) {
  for (int64_t start : {int64_t{0}, int64_t{-1}, -5 * kSecond, int64_t{1}}) {
    TokenBucket bucket(1000, 2);
    EXPECT_EQ(TakeMany(bucket, 5, start), 2) << start;
    EXPECT_EQ(TakeMany(bucket, 5, start + kMs), 1) << start;
    EXPECT_EQ(TakeMany(bucket, 5, start + 10 * kMs), 2) << start;
  }
}

// Property: with random, mostly increasing instants (some behind, as from another thread),
// the tokens granted in [first, last] never exceed burst + rate * (last - first).
TEST(TokenBucketTest, NeverGrantsMoreThanBurstPlusRateTimesElapsed) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 200; ++round) {
    const double rate = std::uniform_real_distribution<double>(1, 1e6)(rng);
    const uint32_t burst = std::uniform_int_distribution<uint32_t>(1, 50)(rng);
    TokenBucket bucket(rate, burst);
    const int64_t step = std::max<int64_t>(1, static_cast<int64_t>(kSecond / rate / 3));
    int64_t now = kT0, first = kT0, last = kT0;
    int64_t granted = 0;
    for (int i = 0; i < 2000; ++i) {
      now += std::uniform_int_distribution<int64_t>(0, step)(rng);
      const int64_t t = now - std::uniform_int_distribution<int64_t>(0, step / 2)(rng);
      first = std::min(first, t);
      last = std::max(last, t);
      granted += bucket.Take(t) == 0;
    }
    const double bound = burst + rate * static_cast<double>(last - first) / kSecond;
    EXPECT_LE(granted, bound) << "rate " << rate << " burst " << burst;
    // And the bucket is not needlessly strict: with room for one token more than the one
    // taken, takes at least every half interval lose no refill time.
    if (burst >= 2) {
      EXPECT_GE(granted + 2, rate * static_cast<double>(now - kT0 - step) / kSecond)
          << "rate " << rate << " burst " << burst;
    }
  }
}

TEST(TokenBucketTest, TwoThreadsNeverExceedBurstPlusRateTimesElapsed) {
  constexpr double kRate = 20000;
  constexpr uint32_t kBurst = 100;
  TokenBucket bucket(kRate, kBurst);
  std::atomic<int64_t> granted{0};
  const auto now_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  const int64_t start = now_ns();
  std::vector<std::thread> threads;
  threads.reserve(2);
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      int64_t mine = 0;
      for (int i = 0; i < 200'000; ++i) mine += bucket.Take(now_ns()) == 0;
      granted.fetch_add(mine);
    });
  }
  for (std::thread& t : threads) t.join();
  const int64_t end = now_ns();
  const double bound = kBurst + kRate * static_cast<double>(end - start) / kSecond;
  EXPECT_LE(granted.load(), bound);
  EXPECT_GE(granted.load(), kBurst);  // the burst at least was granted
}

}  // namespace
}  // namespace shixin
