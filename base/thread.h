// Threads started without exceptions. std::thread's constructor throws std::system_error when
// the system cannot create a thread (the unit's TasksMax, RLIMIT_NPROC, memory); the code is
// built with -fno-exceptions, so that throw would abort the whole process. StartThread() is the
// one place that creates threads, and turns that failure into a Status the caller handles (a
// reload fails, a helper's work is done by the caller, the daemon exits at start).
//
// Thread safety: StartThread() may be called from any thread; so may ScopedThreadStartFailure
// be constructed, but one at a time.
#ifndef SHIXIN_BASE_THREAD_H_
#define SHIXIN_BASE_THREAD_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"

namespace shixin {

// Starts `body` on a new thread, named `name` (shown by top -H and perf; at most 15 characters
// are kept) or, if `name` is empty, keeping the name of the calling thread. Returns the thread
// (to be joined), or ResourceExhausted "cannot start thread NAME: REASON" if the system cannot
// create it (EAGAIN: the task limit; another error with its own code), and then `body` is not
// run.
absl::StatusOr<std::thread> StartThread(std::string_view name, absl::AnyInvocable<void() &&> body);

// Starts up to `count` unnamed helper threads, each running a copy of `body`, and stops at the
// first the system cannot create. Returns those started (perhaps none), to be joined: for work
// that the helpers and the caller share out as they go, which gets done whatever their number.
template <typename F>
std::vector<std::thread> StartHelpers(size_t count, const F& body) {
  std::vector<std::thread> helpers;
  helpers.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    absl::StatusOr<std::thread> helper = StartThread("", body);
    if (!helper.ok()) break;
    helpers.push_back(*std::move(helper));
  }
  return helpers;
}

// For tests: while it lives, StartThread() fails for a thread named `name` ("" for the unnamed
// helpers) as if the system had no task left (EAGAIN). REQUIRES: no other one lives.
class ScopedThreadStartFailure {
 public:
  explicit ScopedThreadStartFailure(std::string name);
  ~ScopedThreadStartFailure();
  ScopedThreadStartFailure(const ScopedThreadStartFailure&) = delete;
  ScopedThreadStartFailure& operator=(const ScopedThreadStartFailure&) = delete;
};

}  // namespace shixin

#endif  // SHIXIN_BASE_THREAD_H_
