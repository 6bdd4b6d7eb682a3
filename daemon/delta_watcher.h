// DeltaWatcher notices delta files arriving in `deltas_dir` (inotify: IN_CLOSE_WRITE and
// IN_MOVED_TO of a name that ends in .ndjson: a delta file's, or one misnamed, which the applier
// warns about) and calls `arrived` on its own thread, which only asks the Reloader to apply them
// (Reloader::Request with deltas_only): the files are read and applied on the reload thread,
// never on the I/O threads, and arrivals that come while an application runs are coalesced into
// the next one.
//
// A directory deleted or moved away loses its watch: the watcher logs it, calls `arrived` (the
// applier's listing then fails, and INFO's delta_error says why) and looks for the directory
// again every `retry` and on Rewatch() (a RELOAD); once it is back it is watched again and
// `arrived` applies the files it holds.
//
// Thread safety: Start() and Stop() from the owning thread; Rewatch() from any thread;
// `arrived` runs on the watcher's thread.
#ifndef SHIXIN_DAEMON_DELTA_WATCHER_H_
#define SHIXIN_DAEMON_DELTA_WATCHER_H_

#include <atomic>
#include <string>
#include <thread>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"

namespace shixin {

class DeltaWatcher {
 public:
  // `arrived` receives the name of the file that arrived. A lost watch is tried again every
  // `retry`.
  DeltaWatcher(std::string dir, absl::AnyInvocable<void(const std::string&)> arrived,
               absl::Duration retry = absl::Seconds(1));
  // Stops the thread (see Stop()).
  ~DeltaWatcher();
  DeltaWatcher(const DeltaWatcher&) = delete;
  DeltaWatcher& operator=(const DeltaWatcher&) = delete;

  // Starts watching. Returns the error of inotify (e.g. too many watches) or of starting its
  // thread (StartThread(), base/thread.h); nothing runs then.
  // REQUIRES: called once.
  absl::Status Start();
  // Stops watching and joins the thread. Idempotent.
  void Stop();
  // Asks the thread to watch the directory again now if its watch was lost. Does nothing
  // before Start().
  void Rewatch();

 private:
  void Run();
  // Wakes the thread: it stops if stopping_, else watches the directory again if it can.
  void Wake();
  // Adds the watch on dir_ and returns whether it holds.
  bool Watch();
  // Drops the lost watch, says so and watches the directory again if it is back already.
  void Lost();

  const std::string dir_;
  absl::AnyInvocable<void(const std::string&)> arrived_;
  const absl::Duration retry_;
  int inotify_fd_ = -1;
  int wake_fd_ = -1;                  // an eventfd: written by Stop() and Rewatch()
  int watch_ = -1;                    // the watch descriptor of dir_, or -1 while it is lost
  std::atomic<bool> running_{false};  // between Start() and Stop(): Rewatch() may wake it
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_DELTA_WATCHER_H_
