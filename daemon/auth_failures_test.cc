#include "daemon/auth_failures.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace shixin {
namespace {

namespace asio = boost::asio;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kT0 = 1000 * kSecond;

const asio::ip::address kA = asio::ip::make_address("192.0.2.1");
const asio::ip::address kB = asio::ip::make_address("192.0.2.2");

// Returns the IPv4 address 10.(i / 65536).(i / 256 % 256).(i % 256).
asio::ip::address V4(uint32_t i) { return asio::ip::address_v4((10u << 24) | i); }

// Records `n` failures of `address`, one second apart from `start`.
void Fail(AuthFailures& f, const asio::ip::address& address, int n, int64_t start) {
  for (int i = 0; i < n; ++i) f.RecordFailure(address, start + i * kSecond);
}

TEST(AuthFailuresTest, FiveFailuresInAMinuteBlock) {
  AuthFailures f(AuthFailures::Options{});
  Fail(f, kA, 4, kT0);
  EXPECT_EQ(f.BlockedFor(kA, kT0 + 4 * kSecond), 0);
  f.RecordFailure(kA, kT0 + 4 * kSecond);
  EXPECT_EQ(f.BlockedFor(kA, kT0 + 4 * kSecond), 300);
  EXPECT_EQ(f.BlockedFor(kA, kT0 + 5 * kSecond), 299);
  EXPECT_EQ(f.BlockedFor(kA, kT0 + 5 * kSecond + 1), 299);  // rounded up
  EXPECT_EQ(f.BlockedFor(kB, kT0 + 5 * kSecond), 0);        // others are not affected
}

TEST(AuthFailuresTest, FailuresSpreadOverMoreThanAMinuteDoNotBlock) {
  AuthFailures f(AuthFailures::Options{});
  // One every 15 s: never 5 within 60 s.
  for (int i = 0; i < 100; ++i) {
    f.RecordFailure(kA, kT0 + i * 15 * kSecond + 1);
    EXPECT_EQ(f.BlockedFor(kA, kT0 + i * 15 * kSecond + 1), 0) << i;
  }
  // Four in a burst, a fifth just after the first left the window.
  AuthFailures g(AuthFailures::Options{});
  Fail(g, kB, 4, kT0);
  g.RecordFailure(kB, kT0 + 60 * kSecond);
  EXPECT_EQ(g.BlockedFor(kB, kT0 + 60 * kSecond), 0);
  g.RecordFailure(kB, kT0 + 60 * kSecond + 1);           // kT0+1..+3 s, +60 s, +60 s: five in 60 s
  EXPECT_EQ(g.BlockedFor(kB, kT0 + 61 * kSecond), 300);  // 299 s and 1 ns, rounded up
}

TEST(AuthFailuresTest, ABlockExpiresAndCountingStartsAfresh) {
  AuthFailures f(AuthFailures::Options{});
  Fail(f, kA, 5, kT0);
  const int64_t blocked_at = kT0 + 4 * kSecond;
  EXPECT_EQ(f.BlockedFor(kA, blocked_at + 300 * kSecond - 1), 1);
  // Failures while blocked neither extend the block nor count.
  Fail(f, kA, 10, blocked_at + 1);
  EXPECT_EQ(f.BlockedFor(kA, blocked_at + 300 * kSecond), 0);
  EXPECT_EQ(f.size(), 0u);  // an ended block is forgotten
  Fail(f, kA, 4, blocked_at + 300 * kSecond);
  EXPECT_EQ(f.BlockedFor(kA, blocked_at + 304 * kSecond), 0);
  // A failure after the block ended, without a BlockedFor() in between, also counts afresh.
  AuthFailures g(AuthFailures::Options{});
  Fail(g, kA, 5, kT0);
  Fail(g, kA, 4, kT0 + 400 * kSecond);
  EXPECT_EQ(g.BlockedFor(kA, kT0 + 404 * kSecond), 0);
  g.RecordFailure(kA, kT0 + 404 * kSecond);
  EXPECT_EQ(g.BlockedFor(kA, kT0 + 404 * kSecond), 300);
}

TEST(AuthFailuresTest, ASuccessResets) {
  AuthFailures f(AuthFailures::Options{});
  Fail(f, kA, 4, kT0);
  f.RecordSuccess(kA);
  EXPECT_EQ(f.size(), 0u);
  Fail(f, kA, 4, kT0 + 5 * kSecond);
  EXPECT_EQ(f.BlockedFor(kA, kT0 + 9 * kSecond), 0);
  f.RecordSuccess(kB);  // unknown: nothing to do
  EXPECT_EQ(f.size(), 1u);
}

TEST(AuthFailuresTest, OptionsAreHonoured) {
  AuthFailures f(AuthFailures::Options{
      .max_failures = 2, .window_seconds = 10, .block_seconds = 30, .max_addresses = 8});
  f.RecordFailure(kA, kT0);
  f.RecordFailure(kA, kT0 + 11 * kSecond);
  EXPECT_EQ(f.BlockedFor(kA, kT0 + 11 * kSecond), 0);
  f.RecordFailure(kA, kT0 + 12 * kSecond);
  EXPECT_EQ(f.BlockedFor(kA, kT0 + 12 * kSecond), 30);
  // A clock stepping back reports at most the block.
  EXPECT_EQ(f.BlockedFor(kA, kT0), 30);

  AuthFailures one(AuthFailures::Options{.max_failures = 0});  // taken as 1
  one.RecordFailure(kA, kT0);
  EXPECT_EQ(one.BlockedFor(kA, kT0), 300);
}

TEST(AuthFailuresTest, MemoryIsBoundedAndBlocksOutliveCounts) {
  AuthFailures f(AuthFailures::Options{.max_addresses = 100});
  Fail(f, kA, 5, kT0);  // blocked
  f.RecordFailure(kB, kT0);
  // A flood of new addresses displaces counts, oldest first, but not the block.
  for (uint32_t i = 0; i < 10000; ++i) {
    f.RecordFailure(V4(i), kT0 + 10 * kSecond);
    ASSERT_LE(f.size(), 100u);
  }
  EXPECT_EQ(f.size(), 100u);
  EXPECT_EQ(f.BlockedFor(kA, kT0 + 10 * kSecond), 294);
  // kB's count was displaced: four more failures do not block it.
  Fail(f, kB, 4, kT0 + 11 * kSecond);
  EXPECT_EQ(f.BlockedFor(kB, kT0 + 15 * kSecond), 0);
  // The newest counts are still there.
  Fail(f, V4(9999), 4, kT0 + 20 * kSecond);
  EXPECT_EQ(f.BlockedFor(V4(9999), kT0 + 24 * kSecond), 300 - 1);
}

TEST(AuthFailuresTest, WhenAllAreBlockedTheEarliestBlockGoes) {
  AuthFailures f(AuthFailures::Options{.max_failures = 1, .max_addresses = 3});
  for (uint32_t i = 0; i < 3; ++i) f.RecordFailure(V4(i), kT0 + i * kSecond);
  f.RecordFailure(V4(3), kT0 + 3 * kSecond);
  EXPECT_EQ(f.size(), 3u);
  EXPECT_EQ(f.BlockedFor(V4(0), kT0 + 3 * kSecond), 0);
  EXPECT_EQ(f.BlockedFor(V4(1), kT0 + 3 * kSecond), 298);
  EXPECT_EQ(f.BlockedFor(V4(3), kT0 + 3 * kSecond), 300);
}

TEST(AuthFailuresTest, AnIpV6Slash64IsOneSource) {
  AuthFailures f(AuthFailures::Options{});
  for (int i = 0; i < 5; ++i) {
    f.RecordFailure(asio::ip::make_address("2001:db8:1:2::" + std::to_string(i + 1)), kT0);
  }
  EXPECT_EQ(f.size(), 1u);
  EXPECT_EQ(f.BlockedFor(asio::ip::make_address("2001:db8:1:2:ffff:ffff:ffff:ffff"), kT0), 300);
  // The neighbouring /64 is another source.
  EXPECT_EQ(f.BlockedFor(asio::ip::make_address("2001:db8:1:3::1"), kT0), 0);
  EXPECT_EQ(f.BlockedFor(asio::ip::make_address("2001:db8:1:1::1"), kT0), 0);
}

TEST(AuthFailuresTest, IpV4IsCountedPerAddress) {
  AuthFailures f(AuthFailures::Options{});
  for (uint32_t i = 0; i < 5; ++i) f.RecordFailure(V4(i), kT0);
  EXPECT_EQ(f.size(), 5u);
  EXPECT_EQ(f.BlockedFor(V4(0), kT0), 0);
  // The IPv4-mapped IPv6 form is the same source.
  Fail(f, kA, 4, kT0);
  f.RecordFailure(asio::ip::make_address("::ffff:192.0.2.1"), kT0 + 4 * kSecond);
  EXPECT_EQ(f.BlockedFor(kA, kT0 + 4 * kSecond), 300);
}

TEST(AuthFailuresTest, Keys) {
  using Key = AuthFailures::Key;
  const Key v4 = AuthFailures::KeyOf(asio::ip::make_address("0.0.0.0"));
  const Key v6 = AuthFailures::KeyOf(asio::ip::make_address("::"));
  EXPECT_NE(v4, v6);
  EXPECT_EQ(v4, AuthFailures::KeyOf(asio::ip::make_address("::ffff:0.0.0.0")));
  EXPECT_EQ(AuthFailures::KeyOf(asio::ip::make_address("::1")), v6);
  EXPECT_NE(AuthFailures::KeyOf(kA), AuthFailures::KeyOf(kB));
}

TEST(AuthFailuresTest, TwoThreadsCountEveryFailure) {
  constexpr uint32_t kAddresses = 2000;
  AuthFailures f(AuthFailures::Options{.max_addresses = 4 * kAddresses});
  // Both threads record two failures on each shared address (four in all: not blocked) and
  // churn their own addresses with successes, checking as they go.
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < 2; ++t) {
    threads.emplace_back([&f, t] {
      for (uint32_t i = 0; i < kAddresses; ++i) {
        f.RecordFailure(V4(i), kT0);
        EXPECT_EQ(f.BlockedFor(V4(i), kT0), 0);
        const asio::ip::address own = V4((t + 1) * 100000 + i);
        f.RecordFailure(own, kT0);
        f.RecordSuccess(own);
        f.RecordFailure(V4(i), kT0 + 1);
        f.size();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(f.size(), kAddresses);
  for (uint32_t i = 0; i < kAddresses; ++i) {
    ASSERT_EQ(f.BlockedFor(V4(i), kT0 + 2), 0) << i;
    f.RecordFailure(V4(i), kT0 + 2);  // the fifth
    ASSERT_EQ(f.BlockedFor(V4(i), kT0 + 2), 300) << i;
  }
}

// Failures count per (source, identity): a source held off naming one caller or token may
// still name another (the clients of one proxy), and a success forgets only its own.
TEST(AuthFailuresTest, IdentitiesAreCountedApart) {
  AuthFailures f(AuthFailures::Options{});
  for (int i = 0; i < 5; ++i) f.RecordFailure(kA, kT0 + i * kSecond, "hello:stale");
  EXPECT_EQ(f.BlockedFor(kA, kT0 + 5 * kSecond, "hello:stale"), 299);
  EXPECT_EQ(f.BlockedFor(kA, kT0 + 5 * kSecond, "hello:other"), 0);
  EXPECT_EQ(f.BlockedFor(kA, kT0 + 5 * kSecond), 0);
  for (int i = 0; i < 4; ++i) f.RecordFailure(kA, kT0 + i * kSecond, "bearer:x");
  f.RecordSuccess(kA, "bearer:y");
  f.RecordFailure(kA, kT0 + 4 * kSecond, "bearer:x");
  EXPECT_EQ(f.BlockedFor(kA, kT0 + 4 * kSecond, "bearer:x"), 300);
  EXPECT_EQ(f.size(), 2u);
}

}  // namespace
}  // namespace shixin
