#include "base/thread.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "base/sanitizers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;

// The name of the calling thread.
std::string ThreadName() {
  std::array<char, 16> name{};
  pthread_getname_np(pthread_self(), name.data(), name.size());
  return name.data();
}

TEST(StartThreadTest, RunsTheBodyUnderTheName) {
  std::string name;
  absl::StatusOr<std::thread> t =
      StartThread("shixin-test-thread-long", [&name] { name = ThreadName(); });
  ASSERT_TRUE(t.ok()) << t.status();
  t->join();
  EXPECT_EQ(name, "shixin-test-thr");  // Linux keeps 15 characters
}

TEST(StartThreadTest, AnEmptyNameKeepsTheCallersName) {
  std::string name;
  absl::StatusOr<std::thread> t = StartThread("", [&name] { name = ThreadName(); });
  ASSERT_TRUE(t.ok()) << t.status();
  t->join();
  EXPECT_EQ(name, ThreadName());
}

TEST(StartThreadTest, AnInjectedFailureIsAStatusAndTheBodyDoesNotRun) {
  bool ran = false;
  {
    ScopedThreadStartFailure fail("victim");
    absl::StatusOr<std::thread> t = StartThread("victim", [&ran] { ran = true; });
    EXPECT_TRUE(absl::IsResourceExhausted(t.status())) << t.status();
    EXPECT_EQ(t.status().message(), "cannot start thread victim: Resource temporarily unavailable");
    absl::StatusOr<std::thread> other = StartThread("other", [] {});
    ASSERT_TRUE(other.ok());
    other->join();
  }
  EXPECT_FALSE(ran);
  absl::StatusOr<std::thread> t = StartThread("victim", [&ran] { ran = true; });
  ASSERT_TRUE(t.ok());
  t->join();
  EXPECT_TRUE(ran);
}

TEST(StartHelpersTest, StartsAsManyAsTheSystemCreates) {
  std::atomic<int> ran{0};
  std::vector<std::thread> helpers = StartHelpers(3, [&ran] { ++ran; });
  EXPECT_EQ(helpers.size(), 3u);
  for (std::thread& h : helpers) h.join();
  EXPECT_EQ(ran.load(), 3);
  ScopedThreadStartFailure no_tasks("");
  EXPECT_TRUE(StartHelpers(3, [&ran] { ++ran; }).empty());
  EXPECT_EQ(ran.load(), 3);
}

// Returns the size of the address space the process maps now.
rlim_t MappedBytes() {
  std::ifstream statm("/proc/self/statm");
  rlim_t pages = 0;
  statm >> pages;
  return pages * static_cast<rlim_t>(sysconf(_SC_PAGESIZE));
}

// In a child process: limits the address space to what it maps now and a little more, so that
// a thread's stack cannot be mapped, and exits 0 if StartThread() says so.
[[noreturn]] void StartWithoutRoomForAStack() {
  constexpr rlim_t kSlack = rlim_t{1} << 20;  // less than a thread's stack (8 MiB)
  const rlim_t room = MappedBytes() + kSlack;
  const rlimit limit{room, room};
  if (setrlimit(RLIMIT_AS, &limit) != 0) std::_Exit(2);
  absl::StatusOr<std::thread> t = StartThread("no-room", [] {});
  if (t.ok()) {
    t->join();
    std::_Exit(3);
  }
  std::fprintf(stderr, "%s\n", std::string(t.status().message()).c_str());
  std::_Exit(absl::IsResourceExhausted(t.status()) ? 0 : 4);
}

// The real failure: a thread's stack cannot be mapped (std::thread throws std::system_error,
// which would abort a program built without exceptions).
TEST(StartThreadDeathTest, ASystemFailureIsAStatus) {
  if (kSanitizedBuild) GTEST_SKIP() << "the sanitizers' runtimes need address space of their own";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(StartWithoutRoomForAStack(), ::testing::ExitedWithCode(0),
              HasSubstr("cannot start thread no-room: "));
}

}  // namespace
}  // namespace shixin
