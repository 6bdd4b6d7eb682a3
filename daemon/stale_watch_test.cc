#include "daemon/stale_watch.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "core/validity.h"

namespace shixin {
namespace {

// Returns what `observe` logs.
template <typename F>
std::string Logged(F observe) {
  ::testing::internal::CaptureStderr();
  observe();
  return ::testing::internal::GetCapturedStderr();
}

constexpr int64_t kT = 1'780'000'000;  // a fake clock's instant

TEST(StaleWatchTest, AListStaleAtStartIsWarnedAboutOnce) {
  StaleWatch watch(60, /*refuse_stale=*/true);
  const std::string log = Logged([&] { watch.Observe(kT, kT - 240, 1); });
  EXPECT_TRUE(watch.stale());
  EXPECT_TRUE(
      absl::StrContains(log, "the list is stale: generation 1's data is 240 s old (source time " +
                                 FormatInstant(kT - 240) + "), past max_age_seconds 60"))
      << log;
  EXPECT_TRUE(absl::StrContains(log, "MEASURES is refused (refuse_stale)")) << log;
  EXPECT_EQ(Logged([&] { watch.Observe(kT + 1, kT - 240, 1); }), "");  // once
}

TEST(StaleWatchTest, CrossingTheLimitAndAFresherGenerationAreLoggedOnce) {
  StaleWatch watch(8, /*refuse_stale=*/false);
  EXPECT_EQ(Logged([&] { watch.Observe(kT, kT, 1); }), "");      // fresh at start: nothing
  EXPECT_EQ(Logged([&] { watch.Observe(kT + 8, kT, 1); }), "");  // at the limit: fresh
  std::string log = Logged([&] { watch.Observe(kT + 9, kT, 1); });
  EXPECT_TRUE(absl::StrContains(log, "the list is stale: generation 1's data is 9 s old")) << log;
  EXPECT_FALSE(absl::StrContains(log, "refuse_stale")) << log;
  EXPECT_EQ(Logged([&] { watch.Observe(kT + 10, kT, 1); }), "");
  log = Logged([&] { watch.Observe(kT + 11, kT + 10, 2); });
  EXPECT_FALSE(watch.stale());
  EXPECT_TRUE(absl::StrContains(
      log, "the list is fresh again: generation 2's data is 1 s old (max_age_seconds 8)"))
      << log;
  EXPECT_EQ(Logged([&] { watch.Observe(kT + 12, kT + 10, 2); }), "");
}

TEST(StaleWatchTest, NoLimitLogsNothing) {
  StaleWatch watch(0, /*refuse_stale=*/true);
  EXPECT_EQ(Logged([&] { watch.Observe(kT, 0, 1); }), "");
  EXPECT_FALSE(watch.stale());
}

}  // namespace
}  // namespace shixin
