// DeltaWatcher notices delta files arriving in `deltas_dir` (inotify: IN_CLOSE_WRITE and
// IN_MOVED_TO of a name that ends in .ndjson: a delta file's, or one misnamed, which the applier
// warns about) and calls `arrived` on its own thread, which only asks the Reloader to apply them
// (Reloader::Request with deltas_only): the files are read and applied on the reload thread,
// never on the I/O threads, and arrivals that come while an application runs are coalesced into
// the next one.
//
// Thread safety: Start() and Stop() from the owning thread; `arrived` runs on the watcher's
// thread.
#ifndef SHIXIN_DAEMON_DELTA_WATCHER_H_
#define SHIXIN_DAEMON_DELTA_WATCHER_H_

#include <string>
#include <thread>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"

namespace shixin {

class DeltaWatcher {
 public:
  // `arrived` receives the name of the file that arrived.
  DeltaWatcher(std::string dir, absl::AnyInvocable<void(const std::string&)> arrived);
  // Stops the thread (see Stop()).
  ~DeltaWatcher();
  DeltaWatcher(const DeltaWatcher&) = delete;
  DeltaWatcher& operator=(const DeltaWatcher&) = delete;

  // Starts watching. Returns the error of inotify (e.g. too many watches); nothing runs then.
  // REQUIRES: called once.
  absl::Status Start();
  // Stops watching and joins the thread. Idempotent.
  void Stop();

 private:
  void Run();

  const std::string dir_;
  absl::AnyInvocable<void(const std::string&)> arrived_;
  int inotify_fd_ = -1;
  int stop_fd_ = -1;  // an eventfd: written by Stop()
  std::thread thread_;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_DELTA_WATCHER_H_
