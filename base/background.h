// Background threads: work that should take a core only when nothing else wants it, so that
// the queries keep theirs (a delta's helpers, the overlay checkpoint).
//
// Thread safety: acts on the calling thread only.
#ifndef SHIXIN_BASE_BACKGROUND_H_
#define SHIXIN_BASE_BACKGROUND_H_

#include <sys/resource.h>
#include <unistd.h>

namespace shixin {

// The nice value of background threads: at 10 a thread gets about a tenth of a core that a
// thread at 0 wants, and all of an idle one.
inline constexpr int kBackgroundNice = 10;

// Lowers the calling thread (Linux keeps a nice value per thread) to kBackgroundNice. Returns
// whether it could (a thread that stays at its priority still works, only less politely).
inline bool RunInBackground() {
  return setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kBackgroundNice) == 0;
}

}  // namespace shixin

#endif  // SHIXIN_BASE_BACKGROUND_H_
