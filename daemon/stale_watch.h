// StaleWatch logs when the serving list crosses max_age_seconds: one warning when it becomes
// stale (at start too: a list already stale when the daemon starts), with its age and the
// limit, and one info line when it is fresh again (a new generation or delta file). Staleness
// is the handler's: the list's source time is more than max_age_seconds before now. Without
// these lines an operator would see /readyz answer 503 and MEASURES refused (refuse_stale) with
// nothing in the journal saying when or why.
//
// The Server observes the serving list once a second on its main thread; the clock is the
// caller's, so tests drive it directly.
//
// Thread safety: not thread-safe; one thread observes.
#ifndef SHIXIN_DAEMON_STALE_WATCH_H_
#define SHIXIN_DAEMON_STALE_WATCH_H_

#include <cstdint>

namespace shixin {

class StaleWatch {
 public:
  // `max_age_seconds` 0: the list is never stale, and nothing is logged. `refuse_stale`: a
  // stale list refuses MEASURES (the warning says so).
  StaleWatch(uint32_t max_age_seconds, bool refuse_stale);

  // Observes the serving list (`generation`, whose newest source data is of `source_time`) at
  // Unix time `now`; logs a crossing of max_age_seconds since the previous observation, or
  // the stale state of the first one.
  void Observe(int64_t now, int64_t source_time, uint32_t generation);

  // Whether the list was stale at the last observation.
  bool stale() const { return stale_; }

 private:
  const int64_t max_age_;
  const bool refuse_stale_;
  bool stale_ = false;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_STALE_WATCH_H_
