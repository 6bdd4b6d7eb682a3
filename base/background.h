// Background threads: work that should take a core only when nothing else wants it, so that
// the queries keep theirs (a full reload's load, a delta's helpers, the overlay checkpoint).
//
// Thread safety: RunInBackground() acts on the calling thread only; SetBackgroundNice() is
// called once at start, before any background thread runs.
#ifndef SHIXIN_BASE_BACKGROUND_H_
#define SHIXIN_BASE_BACKGROUND_H_

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>

namespace shixin {

// The default nice value of background threads: at 10 a thread gets about a tenth of a core
// that a thread at 0 wants, and all of an idle one.
inline constexpr int kBackgroundNice = 10;
inline constexpr int kMaxNice = 19;

namespace background_internal {
inline std::atomic<int>& Nice() {
  static std::atomic<int> nice{kBackgroundNice};
  return nice;
}
}  // namespace background_internal

// Sets the nice value that RunInBackground() gives, 0 (background work competes with the
// queries as an equal) to kMaxNice. Requires 0 <= nice <= kMaxNice.
inline void SetBackgroundNice(int nice) {
  background_internal::Nice().store(nice, std::memory_order_relaxed);
}

// Returns the nice value that RunInBackground() gives.
inline int BackgroundNice() { return background_internal::Nice().load(std::memory_order_relaxed); }

// Lowers the calling thread (Linux keeps a nice value per thread, and the threads it starts
// inherit it) to BackgroundNice(). Returns whether it could (a thread that stays at its
// priority still works, only less politely).
inline bool RunInBackground() {
  return setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), BackgroundNice()) == 0;
}

}  // namespace shixin

#endif  // SHIXIN_BASE_BACKGROUND_H_
