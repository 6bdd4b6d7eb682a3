#include "base/background.h"

#include <sys/resource.h>
#include <unistd.h>

#include <thread>
#include <utility>

#include "gtest/gtest.h"

namespace shixin {
namespace {

// The nice value of the calling thread.
int ThreadNice() { return getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())); }

// Runs RunInBackground() in a new thread; returns the nice values it then had and a thread it
// started.
std::pair<int, int> NiceInANewThread() {
  int own = -100;
  int child = -100;
  std::thread t([&] {
    EXPECT_TRUE(RunInBackground());
    own = ThreadNice();
    std::thread helper([&] { child = ThreadNice(); });
    helper.join();
  });
  t.join();
  return {own, child};
}

TEST(BackgroundTest, ABackgroundThreadAndItsHelpersRunAtTheSetNiceValue) {
  ASSERT_EQ(BackgroundNice(), kBackgroundNice);
  const int caller = ThreadNice();
  if (caller != 0) GTEST_SKIP() << "the test runs at nice " << caller << ", not 0";
  EXPECT_EQ(NiceInANewThread(), std::make_pair(kBackgroundNice, kBackgroundNice));
  EXPECT_EQ(ThreadNice(), caller) << "only the calling thread is lowered";

  SetBackgroundNice(3);
  EXPECT_EQ(NiceInANewThread(), std::make_pair(3, 3));
  SetBackgroundNice(0);  // background work as an equal of the queries
  EXPECT_EQ(NiceInANewThread(), std::make_pair(0, 0));
  SetBackgroundNice(kBackgroundNice);
}

}  // namespace
}  // namespace shixin
