#include "daemon/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shixin {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kSecond = 1000000000;

TEST(LogRateLimiterTest, BurstThenSteadyRateWithACountOfTheRest) {
  LogRateLimiter limiter(/*burst=*/3, /*per_second=*/2);
  uint64_t suppressed = 99;
  int64_t now = 10 * kSecond;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.Allow(now, &suppressed)) << i;
    EXPECT_EQ(suppressed, 0u);
  }
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(limiter.Allow(now, &suppressed));
  // Half a second later one token is back, and the line reports the 100 held back.
  now += kSecond / 2;
  ASSERT_TRUE(limiter.Allow(now, &suppressed));
  EXPECT_EQ(suppressed, 100u);
  EXPECT_FALSE(limiter.Allow(now, &suppressed));
  now += kSecond / 2;
  ASSERT_TRUE(limiter.Allow(now, &suppressed));
  EXPECT_EQ(suppressed, 1u);
  // After a quiet spell the whole burst is available again, not more.
  now += 60 * kSecond;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Allow(now, &suppressed)) << i;
  EXPECT_FALSE(limiter.Allow(now, &suppressed));
}

TEST(LogRateLimiterTest, AFloodOverTenSecondsWritesAFewLinesASecond) {
  LogRateLimiter limiter;  // kLimitedBurst, kLimitedPerSecond
  uint64_t allowed = 0, counted = 0, suppressed = 0;
  constexpr int kEvents = 100000;  // 10,000 a second for 10 s
  for (int i = 0; i < kEvents; ++i) {
    if (limiter.Allow(int64_t{i} * (10 * kSecond / kEvents), &suppressed)) {
      ++allowed;
      counted += suppressed;
    }
  }
  EXPECT_LE(allowed, static_cast<uint64_t>(kLimitedBurst + 10 * kLimitedPerSecond));
  EXPECT_GE(allowed, static_cast<uint64_t>(10 * kLimitedPerSecond));
  // Every event is either written or counted on a later line, except those after the last.
  EXPECT_GE(allowed + counted, static_cast<uint64_t>(kEvents - kEvents / 10 / kLimitedPerSecond));
  std::printf("%d events in 10 s: %llu lines\n", kEvents, static_cast<unsigned long long>(allowed));
}

TEST(LogRateLimiterTest, ThreadsShareTheBudget) {
  LogRateLimiter limiter(4, 1);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      uint64_t suppressed = 0;
      for (int i = 0; i < 10000; ++i) {
        if (limiter.Allow(kSecond, &suppressed)) ++allowed;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 4);
  uint64_t suppressed = 0;
  ASSERT_TRUE(limiter.Allow(3 * kSecond, &suppressed));
  EXPECT_EQ(suppressed, 40000u - 4u);
}

// LogLimited() end to end: standard error goes to a file, the clock is fake.
class LogLimitedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "log_test_" + std::to_string(::getpid());
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    saved_stderr_ = ::dup(STDERR_FILENO);
    ASSERT_EQ(::dup2(fd, STDERR_FILENO), STDERR_FILENO);
    ::close(fd);
    now_ = 1000 * kSecond;
    SetLogClockForTesting([] { return now_.load(); });
  }
  void TearDown() override {
    SetLogClockForTesting(nullptr);
    ::dup2(saved_stderr_, STDERR_FILENO);
    ::close(saved_stderr_);
    std::remove(path_.c_str());
  }

  std::vector<std::string> Lines() const {
    std::ifstream in(path_);
    std::stringstream text;
    text << in.rdbuf();
    return absl::StrSplit(text.str(), '\n', absl::SkipEmpty());
  }

  static std::atomic<int64_t> now_;
  std::string path_;
  int saved_stderr_ = -1;
};
std::atomic<int64_t> LogLimitedTest::now_{0};

TEST_F(LogLimitedTest, AFloodOfBadFramesIsCutToAFewLinesWithACount) {
  const uint64_t bad_frames = LogKindEvents(LogKind::kBadFrame);
  const uint64_t accept_errors = LogKindEvents(LogKind::kAcceptError);
  for (int i = 0; i < 10000; ++i) {
    LogLimited(LogKind::kBadFrame, LogLevel::kInfo, "closing connection from 127.0.0.1:%d: bad", i);
  }
  // Another kind has its own budget.
  LogLimited(LogKind::kAcceptError, LogLevel::kWarning, "accept: %s", "Too many open files");
  now_ += kSecond;
  LogLimited(LogKind::kBadFrame, LogLevel::kInfo, "closing connection from %s: bad", "later");
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), static_cast<size_t>(kLimitedBurst + 2));
  for (int i = 0; i < kLimitedBurst; ++i) {
    EXPECT_THAT(lines[i], HasSubstr(absl::StrFormat("127.0.0.1:%d: bad", i)));
    EXPECT_THAT(lines[i], Not(HasSubstr("suppressed")));
  }
  EXPECT_THAT(lines[kLimitedBurst], HasSubstr("accept: Too many open files"));
  EXPECT_THAT(
      lines[kLimitedBurst + 1],
      EndsWith(absl::StrFormat("from later: bad (%d similar suppressed)", 10000 - kLimitedBurst)));
  // The metric counts every event, the suppressed ones too.
  EXPECT_EQ(LogKindEvents(LogKind::kBadFrame) - bad_frames, 10001u);
  EXPECT_EQ(LogKindEvents(LogKind::kAcceptError) - accept_errors, 1u);
  EXPECT_EQ(LogKindLabel(LogKind::kBadFrame), "bad_frame");
  std::printf("10001 bad frames in 1 s: %d lines\n", kLimitedBurst + 1);
}

// A flood's count is written once it is over, without waiting for the next line of its kind.
TEST_F(LogLimitedTest, TheCountOfAFloodIsFlushedOnceItIsOver) {
  for (int i = 0; i < 100; ++i) {
    LogLimited(LogKind::kDeadline, LogLevel::kInfo, "closing connection %d: deadline", i);
  }
  FlushSuppressedLogLines();  // still in the flood: nothing
  ASSERT_EQ(Lines().size(), static_cast<size_t>(kLimitedBurst));
  now_ += 2 * kSecond;
  FlushSuppressedLogLines();
  FlushSuppressedLogLines();  // once
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), static_cast<size_t>(kLimitedBurst + 1));
  EXPECT_THAT(lines.back(), EndsWith(absl::StrFormat("%d lines of the kind 'a deadline' suppressed",
                                                     100 - kLimitedBurst)));
  // The next line of the kind does not count them again.
  now_ += kSecond;
  LogLimited(LogKind::kDeadline, LogLevel::kInfo, "closing connection %s: deadline", "later");
  lines = Lines();
  ASSERT_EQ(lines.size(), static_cast<size_t>(kLimitedBurst + 2));
  EXPECT_THAT(lines.back(), EndsWith("later: deadline"));
}

TEST_F(LogLimitedTest, DebugLinesAreNeitherWrittenNorCounted) {
  for (int i = 0; i < 100; ++i) LogLimited(LogKind::kPermissionDenied, LogLevel::kDebug, "x %d", i);
  LogLimited(LogKind::kPermissionDenied, LogLevel::kWarning, "refused");
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], EndsWith("refused"));
}

}  // namespace
}  // namespace shixin
