#include "base/ordered_parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "base/thread.h"

namespace shixin {
namespace {

TEST(RunOrderedTest, ConsumesEveryItemInOrder) {
  for (int threads : {1, 3}) {
    std::vector<size_t> seen;
    const size_t done = RunOrdered<std::string>(
        50, threads, 4, [](size_t i) { return std::to_string(i * i); },
        [&](size_t i, std::string& s) {
          EXPECT_EQ(s, std::to_string(i * i));
          seen.push_back(i);
          return true;
        });
    EXPECT_EQ(done, 50u);
    ASSERT_EQ(seen.size(), 50u);
    for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i);
  }
}

// No thread can be created (the task limit; before: std::thread threw and the process aborted):
// the caller makes and consumes every item itself, and stops when consume says so.
TEST(RunOrderedTest, WorksWithoutAnyThread) {
  ScopedThreadStartFailure no_tasks("");
  std::vector<size_t> seen;
  const size_t done = RunOrdered<std::string>(
      50, 3, 4, [](size_t i) { return std::to_string(i); },
      [&](size_t i, std::string& s) {
        EXPECT_EQ(s, std::to_string(i));
        seen.push_back(i);
        return i < 19;
      });
  EXPECT_EQ(done, 20u);
  ASSERT_EQ(seen.size(), 20u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i);
}

TEST(RunOrderedTest, StopsWhenConsumeSaysSoAndReadsBoundedAhead) {
  std::atomic<size_t> produced{0};
  const size_t done = RunOrdered<int>(
      1000, 2, 3,
      [&](size_t i) {
        ++produced;
        return static_cast<int>(i);
      },
      [](size_t i, int&) { return i < 9; });
  EXPECT_EQ(done, 10u);
  // Items 0-9 consumed, at most `window` more made after the last consumed, plus one per
  // worker that had started before it stopped.
  EXPECT_LE(produced.load(), 10u + 3u + 2u);
}

TEST(RunOrderedTest, NoItems) {
  EXPECT_EQ(RunOrdered<int>(
                0, 4, 2, [](size_t) { return 0; }, [](size_t, int&) { return true; }),
            0u);
}

}  // namespace
}  // namespace shixin
