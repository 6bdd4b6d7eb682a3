#include "daemon/delta_settle.h"

#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <utility>

#include "daemon/log.h"

namespace shixin {

FileVersion StatFileVersion(const std::string& path, int64_t* ctime_ns) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  if (ctime_ns != nullptr) {
    *ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  }
  return {static_cast<uint64_t>(st.st_ino), static_cast<int64_t>(st.st_size),
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

void DeltaSettle::Renamed(const std::string& path) {
  const FileVersion version = StatFileVersion(path);
  if (version.size < 0) return;  // gone again: nothing to apply
  std::lock_guard<std::mutex> lock(mu_);
  seen_[path] = Seen{version, absl::Now(), /*whole=*/true, /*announced=*/true};
}

bool DeltaSettle::Settled(const std::string& path, const FileVersion& version, int64_t ctime_ns,
                          absl::Time now) {
  if (settle_ <= absl::ZeroDuration()) return true;
  std::unique_lock<std::mutex> lock(mu_);
  const auto it = seen_.find(path);
  if (it != seen_.end() && it->second.version == version) {
    if (now - it->second.since >= settle_) it->second.whole = true;
    return it->second.whole;
  }
  // New, or changed since it was seen: a file left alone for the settle time already is whole.
  if (now - absl::FromUnixNanos(ctime_ns) >= settle_) {
    seen_[path] = Seen{version, now, /*whole=*/true, /*announced=*/true};
    return true;
  }
  const bool logged = it != seen_.end() && it->second.logged;
  seen_[path] = Seen{version, now, /*whole=*/false, /*announced=*/false, /*logged=*/true};
  if (!logged) {
    LogInfo(
        "waiting for delta %s to settle: it is written in place, not renamed into place; "
        "applied once it is unchanged for %s",
        path, absl::FormatDuration(settle_));
  }
  if (waker_) waker_();
  return false;
}

void DeltaSettle::Retain(const absl::flat_hash_set<std::string>& paths) {
  std::lock_guard<std::mutex> lock(mu_);
  // One seen lately may have been renamed into place after the applier listed the directory.
  const absl::Time lately = absl::Now() - settle_;
  absl::erase_if(seen_, [&](const auto& entry) {
    return !paths.contains(entry.first) && entry.second.since < lately;
  });
}

absl::Time DeltaSettle::NextCheck() const {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Time next = absl::InfiniteFuture();
  for (const auto& [path, seen] : seen_) {
    if (!seen.announced) next = std::min(next, seen.since + settle_);
  }
  return next;
}

bool DeltaSettle::Announced(absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  bool any = false;
  for (auto& [path, seen] : seen_) {
    if (!seen.announced && seen.since + settle_ <= now) {
      seen.announced = true;
      any = true;
    }
  }
  return any;
}

void DeltaSettle::SetWaker(absl::AnyInvocable<void()> waker) {
  std::lock_guard<std::mutex> lock(mu_);
  waker_ = std::move(waker);
}

}  // namespace shixin
