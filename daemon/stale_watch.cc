#include "daemon/stale_watch.h"

#include "core/validity.h"
#include "daemon/log.h"

namespace shixin {

StaleWatch::StaleWatch(uint32_t max_age_seconds, bool refuse_stale)
    : max_age_(max_age_seconds), refuse_stale_(refuse_stale) {}

void StaleWatch::Observe(int64_t now, int64_t source_time, uint32_t generation) {
  const int64_t age = now - source_time;
  const bool stale = max_age_ > 0 && age > max_age_;
  if (stale == stale_) return;
  stale_ = stale;
  if (stale) {
    LogWarning(
        "the list is stale: generation %d's data is %d s old (source time %s), past "
        "max_age_seconds %d: answers are flagged STALE, /readyz answers 503%s, until a newer "
        "base or delta file is applied",
        generation, age, FormatInstant(source_time), max_age_,
        refuse_stale_ ? " and MEASURES is refused (refuse_stale)" : "");
  } else {
    LogInfo("the list is fresh again: generation %d's data is %d s old (max_age_seconds %d)",
            generation, age, max_age_);
  }
}

}  // namespace shixin
