#include "base/adaptive_mutex.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace shixin {
namespace {

TEST(AdaptiveMutexTest, ExcludesOtherThreads) {
  AdaptiveMutex mu;
  int64_t counter = 0;  // unsynchronised but for the mutex: TSan and the sum would see a race
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) {
        std::lock_guard<AdaptiveMutex> lock(mu);
        ++counter;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(counter, 400000);
}

TEST(AdaptiveMutexTest, TryLockFailsWhileHeld) {
  AdaptiveMutex mu;
  ASSERT_TRUE(mu.try_lock());
  bool other = true;
  std::thread([&] { other = mu.try_lock(); }).join();
  EXPECT_FALSE(other);
  mu.unlock();
  std::thread([&] {
    other = mu.try_lock();
    if (other) mu.unlock();
  }).join();
  EXPECT_TRUE(other);
}

TEST(AdaptiveMutexTest, WorksWithConditionVariableAny) {
  AdaptiveMutex mu;
  std::condition_variable_any cv;
  bool ready = false;
  std::thread waker([&] {
    std::lock_guard<AdaptiveMutex> lock(mu);
    ready = true;
    cv.notify_all();
  });
  {
    std::unique_lock<AdaptiveMutex> lock(mu);
    cv.wait(lock, [&] { return ready; });
    EXPECT_TRUE(ready);
  }
  waker.join();
}

}  // namespace
}  // namespace shixin
