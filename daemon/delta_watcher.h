// DeltaWatcher notices delta files arriving in `deltas_dir` (inotify: IN_CLOSE_WRITE and
// IN_MOVED_TO of a name that ends in .ndjson: a delta file's, or one misnamed, which the applier
// warns about) and calls `arrived` on its own thread, which only asks the Reloader to apply them
// (Reloader::Request with deltas_only): the files are read and applied on the reload thread,
// never on the I/O threads, and arrivals that come while an application runs are coalesced into
// the next one.
//
// Settling (Options::settle): a file renamed into place (IN_MOVED_TO) is whole; one written in
// place is applied only once it settles, and the watcher wakes then to ask for it.
//
// Rescan: inotify only reports what passes through this kernel, so a file that another host
// writes on shared storage (NFS, a network volume) raises no event. Every `rescan` the watcher
// therefore lists the directory too, and calls `arrived` when the delta files it holds (names,
// sizes, modification times) differ from the last listing (taken at Start() and after each
// batch of events).
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
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "daemon/delta_settle.h"

namespace shixin {

class DeltaWatcher {
 public:
  using Arrived = absl::AnyInvocable<void(const std::string&)>;
  // The default interval of the rescan (the daemon's deltas_rescan_ms).
  static constexpr absl::Duration kDefaultRescan = absl::Seconds(5);

  struct Options {
    absl::Duration retry = absl::Seconds(1);  // a lost watch is tried again this often
    absl::Duration rescan = kDefaultRescan;   // the directory is listed this often; 0: never
    // For tests: false watches the directory itself only (it going away), so that files land
    // without an event, as another host's do on NFS.
    bool file_events = true;
    // Not owned; it outlives the watcher. The files renamed into place are told to it, and the
    // watcher asks for an application when a file waiting for it settles. Null: none.
    DeltaSettle* settle = nullptr;
  };

  // `arrived` receives the name of the file that arrived (or what happened, in parentheses).
  DeltaWatcher(std::string dir, Arrived arrived, Options options);
  DeltaWatcher(std::string dir, Arrived arrived)
      : DeltaWatcher(std::move(dir), std::move(arrived), Options()) {}
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
  // The delta files of dir_: name -> (size, modification time in ns); empty if unreadable.
  using Listing = std::map<std::string, std::pair<int64_t, int64_t>>;
  Listing List() const;
  // Lists dir_ and returns the name of a delta file that is new or changed since the last
  // listing ("(a delta file left)" if one only went away), or "" if none.
  std::string Rescan();

  const std::string dir_;
  Arrived arrived_;
  const Options options_;
  Listing listed_;  // the last listing; the watcher's thread's (and Start()'s)
  int inotify_fd_ = -1;
  int wake_fd_ = -1;                  // an eventfd: written by Stop() and Rewatch()
  int watch_ = -1;                    // the watch descriptor of dir_, or -1 while it is lost
  std::atomic<bool> running_{false};  // between Start() and Stop(): Rewatch() may wake it
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_DELTA_WATCHER_H_
