#include "daemon/watchdog.h"

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace shixin {
namespace {

namespace asio = boost::asio;

// A loop run by a thread of its own until the fixture ends.
struct Loop {
  Loop() : thread([this] { context.run(); }) {}
  ~Loop() {
    work.reset();
    context.stop();
    thread.join();
  }
  asio::io_context context;
  asio::executor_work_guard<asio::io_context::executor_type> work{context.get_executor()};
  std::thread thread;
};

// Returns the beats counted after `wait`.
int BeatsAfter(const std::atomic<int>& beats, std::chrono::milliseconds wait) {
  std::this_thread::sleep_for(wait);
  return beats.load();
}

// The beats come from the loops: an I/O loop that hangs stops them, and they resume when it
// runs again (a timer thread of its own would beat on).
TEST(WatchdogTest, BeatsOnlyWhileEveryLoopRuns) {
  Loop main;
  Loop io[2];
  std::atomic<int> beats{0};
  std::unique_ptr<Watchdog> watchdog;
  asio::post(main.context, [&] {
    watchdog = std::make_unique<Watchdog>(
        main.context, std::vector<asio::io_context*>{&io[0].context, &io[1].context},
        absl::Milliseconds(10), [&beats] { ++beats; });
    watchdog->Start();
  });
  const int running = BeatsAfter(beats, std::chrono::milliseconds(300));
  EXPECT_GT(running, 5);

  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  asio::post(io[1].context, [released] { released.wait(); });  // the loop hangs
  const int hung = BeatsAfter(beats, std::chrono::milliseconds(50));
  EXPECT_LE(BeatsAfter(beats, std::chrono::milliseconds(300)), hung + 1);

  release.set_value();
  const int back = BeatsAfter(beats, std::chrono::milliseconds(300));
  EXPECT_GT(back, hung + 5);

  std::promise<void> stopped;
  asio::post(main.context, [&] {
    watchdog->Stop();
    watchdog.reset();
    stopped.set_value();
  });
  stopped.get_future().wait();
  const int after = beats.load();
  EXPECT_EQ(BeatsAfter(beats, std::chrono::milliseconds(100)), after);
}

// The main loop hanging stops the beats too.
TEST(WatchdogTest, NoBeatWhileTheMainLoopHangs) {
  Loop main;
  Loop io;
  std::atomic<int> beats{0};
  std::unique_ptr<Watchdog> watchdog;
  asio::post(main.context, [&] {
    watchdog = std::make_unique<Watchdog>(main.context, std::vector<asio::io_context*>{&io.context},
                                          absl::Milliseconds(10), [&beats] { ++beats; });
    watchdog->Start();
  });
  EXPECT_GT(BeatsAfter(beats, std::chrono::milliseconds(200)), 3);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  asio::post(main.context, [released] { released.wait(); });
  const int hung = BeatsAfter(beats, std::chrono::milliseconds(50));
  EXPECT_EQ(BeatsAfter(beats, std::chrono::milliseconds(300)), hung);
  release.set_value();
  EXPECT_GT(BeatsAfter(beats, std::chrono::milliseconds(300)), hung + 3);
  std::promise<void> stopped;
  asio::post(main.context, [&] {
    watchdog.reset();
    stopped.set_value();
  });
  stopped.get_future().wait();
}

// A tick whose timer expired before the Watchdog went away is already queued and cannot be
// cancelled; it must find the Watchdog gone (ASan: heap-use-after-free before the fix).
TEST(WatchdogTest, ATickQueuedWhenTheWatchdogGoesIsHarmless) {
  Loop main;
  Loop io;
  std::atomic<int> beats{0};
  for (int round = 0; round < 20; ++round) {
    std::promise<void> gone;
    asio::post(main.context, [&] {
      auto watchdog =
          std::make_shared<Watchdog>(main.context, std::vector<asio::io_context*>{&io.context},
                                     absl::Microseconds(100), [&beats] { ++beats; });
      watchdog->Start();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the timer expires meanwhile
      // Half the rounds Stop() first, half only destroy it.
      asio::post(main.context,
                 [watchdog = std::move(watchdog), stop = round % 2 == 0, &gone]() mutable {
                   if (stop) watchdog->Stop();
                   watchdog.reset();
                   gone.set_value();
                 });
    });
    gone.get_future().wait();
  }
  const int after = beats.load();
  EXPECT_EQ(BeatsAfter(beats, std::chrono::milliseconds(50)), after);
}

}  // namespace
}  // namespace shixin
