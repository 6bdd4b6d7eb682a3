#include "base/striped_counter.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace shixin {
namespace {

TEST(StripedCounterTest, SumsTheAddsOfEveryThread) {
  StripedCounter counter;
  EXPECT_EQ(counter.Read(), 0u);
  counter.Add();
  counter.Add(41);
  EXPECT_EQ(counter.Read(), 42u);
  constexpr int kThreads = 12;  // more threads than stripes: some share one
  constexpr int kAdds = 10'000;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&counter] {
      for (int i = 0; i < kAdds; ++i) counter.Add();
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(counter.Read(), 42u + kThreads * kAdds);
}

TEST(StripedCounterTest, ThreadsTakeTheStripesInTurn) {
  std::set<size_t> stripes;
  for (size_t t = 0; t < StripedCounter::kStripes; ++t) {
    std::thread([&stripes] { stripes.insert(StripedCounter::ThreadStripe()); }).join();
  }
  EXPECT_EQ(stripes.size(), StripedCounter::kStripes);  // consecutive threads, distinct stripes
  EXPECT_EQ(StripedCounter::ThreadStripe(), StripedCounter::ThreadStripe());
}

}  // namespace
}  // namespace shixin
