// RunOrdered: work items made on a few threads and consumed in order on the caller's thread,
// with a bounded read-ahead (a restart parses its pending delta files in parallel while it
// applies them one after another).
//
// Thread safety: `produce` runs on the worker threads concurrently (it must be safe to call for
// different items at once); `consume` runs on the caller's thread only.
#ifndef SHIXIN_BASE_ORDERED_PARALLEL_H_
#define SHIXIN_BASE_ORDERED_PARALLEL_H_

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "base/thread.h"

namespace shixin {

// Calls produce(i) for i in [0, n) on `threads` threads (at least 1), never more than `window`
// items ahead of the one consumed, and consume(i, result) for i = 0, 1, ... in order on the
// caller's thread, until consume returns false or every item is consumed (if the system cannot
// create a thread, with fewer, or on the caller's thread alone). Returns the number
// of items consumed (those for which consume returned true, plus the one that returned false).
template <typename T>
size_t RunOrdered(size_t n, int threads, size_t window, const std::function<T(size_t)>& produce,
                  const std::function<bool(size_t, T&)>& consume) {
  window = std::max<size_t>(window, 1);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::optional<T>> slots(n);
  size_t next = 0;      // the next item to produce
  size_t consumed = 0;  // items consumed
  bool stop = false;
  auto work = [&] {
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      cv.wait(lock, [&] { return stop || next >= n || next < consumed + window; });
      if (stop || next >= n) return;
      const size_t i = next++;
      lock.unlock();
      T result = produce(i);
      lock.lock();
      slots[i].emplace(std::move(result));
      cv.notify_all();
    }
  };
  const size_t count = std::min<size_t>(std::max(threads, 1), std::max<size_t>(n, 1));
  std::vector<std::thread> workers = StartHelpers(count, work);
  size_t done = 0;
  for (size_t i = 0; i < n; ++i) {
    std::optional<T> item;
    if (workers.empty()) {  // the system created none: the caller makes each item itself
      ++done;
      T made = produce(i);
      if (!consume(i, made)) break;
      continue;
    }
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return slots[i].has_value(); });
      item = std::move(slots[i]);
      slots[i].reset();
    }
    ++done;
    const bool more = consume(i, *item);
    std::lock_guard<std::mutex> lock(mu);
    consumed = i + 1;
    if (!more) stop = true;
    cv.notify_all();
    if (stop) break;
  }
  for (std::thread& w : workers) w.join();
  return done;
}

}  // namespace shixin

#endif  // SHIXIN_BASE_ORDERED_PARALLEL_H_
