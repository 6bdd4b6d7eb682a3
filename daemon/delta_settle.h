// DeltaSettle decides when a delta file may be read: only once it is whole. A file renamed into
// place (inotify's IN_MOVED_TO, reported by the DeltaWatcher) is whole at once; any other (one
// written in place under its final name, or found by the rescan, as a file another host writes
// on NFS is) only once it has settled: the same version (inode, size, mtime) seen for the settle
// time, or a status change time (ctime: every write and rename sets it) that is that old
// already when it is first seen. A pusher that forgot the rename, appending line by line, thus
// has its file applied whole once it stops writing, never the lines it had written so far.
//
// The DeltaApplier asks Settled() of each file before it reads it, and stops its run before one
// that has not settled (neither a refusal nor a gap: it waits). The watcher's thread wakes when
// the first waiting file settles (NextCheck(), Announced()) and asks for an application.
//
// Thread safety: every method may be called from any thread.
#ifndef SHIXIN_DAEMON_DELTA_SETTLE_H_
#define SHIXIN_DAEMON_DELTA_SETTLE_H_

#include <cstdint>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

namespace shixin {

// Identifies one version of a file: a replaced or rewritten file differs in one of these.
struct FileVersion {
  uint64_t inode = 0;
  int64_t size = -1;
  int64_t mtime_ns = 0;
  bool operator==(const FileVersion&) const = default;
};

// Returns the version of the file at `path` (all zero, size -1, if it cannot be stat'ed), and
// its change time in ns in `*ctime_ns` if not null.
FileVersion StatFileVersion(const std::string& path, int64_t* ctime_ns = nullptr);

class DeltaSettle {
 public:
  // The default settle time (the daemon's delta_settle_ms).
  static constexpr absl::Duration kDefault = absl::Seconds(1);

  // `settle` zero: every file counts as settled (the behaviour before the settle time).
  explicit DeltaSettle(absl::Duration settle) : settle_(settle) {}
  DeltaSettle(const DeltaSettle&) = delete;
  DeltaSettle& operator=(const DeltaSettle&) = delete;

  absl::Duration settle() const { return settle_; }

  // Records that the file at `path` was renamed into place: the version it has now is whole.
  void Renamed(const std::string& path);

  // Returns whether the file at `path`, of `version` and change time `ctime_ns`, may be read at
  // `now`. If not, it is recorded as waiting (logged once per file) and the waker
  // is woken, so that NextCheck() counts it.
  bool Settled(const std::string& path, const FileVersion& version, int64_t ctime_ns,
               absl::Time now = absl::Now());

  // Drops what is known of the files not in `paths` (gone: applied and archived, or removed).
  // A file applied stays known: a reload's fold reads it again at once.
  void Retain(const absl::flat_hash_set<std::string>& paths);

  // The earliest time a waiting file, not announced yet, settles; InfiniteFuture() if none.
  absl::Time NextCheck() const;
  // Marks the waiting files that have settled by `now` as announced (an application was asked
  // for); returns whether there was one.
  bool Announced(absl::Time now);

  // Sets what wakes the watcher's thread when a file starts waiting (empty: none).
  void SetWaker(absl::AnyInvocable<void()> waker);

 private:
  struct Seen {
    FileVersion version;
    absl::Time since;        // when this version was first seen
    bool whole = false;      // renamed into place, or settled: read at once
    bool announced = false;  // its settling has been reported to the watcher's thread
    bool logged = false;     // its wait has been logged (once per file, not per version)
  };

  const absl::Duration settle_;
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, Seen> seen_;  // guarded by mu_
  absl::AnyInvocable<void()> waker_;             // guarded by mu_
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_DELTA_SETTLE_H_
