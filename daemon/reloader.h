// Reloader loads the configured list and publishes it: the first load at start (synchronous),
// then reloads on a background thread when SIGHUP or the RELOAD operation asks. A reload
// loads the catalog and the data directory (or maps and verifies the snapshot file at the
// configured path, core/snapshot_file.h), validates them fully, and only then swaps; a
// failure keeps the old list serving, is logged, and shows in INFO's reload status. One
// reload runs at a time: a request while one is running or queued is refused (the RELOAD
// operation answers BUSY; SIGHUP logs and ignores it). It tells systemd RELOADING=1 and
// READY=1 around each reload.
//
// Thread safety: Request() may be called from any thread; the other methods from the thread
// that owns the Reloader.
#ifndef SHIXIN_DAEMON_RELOADER_H_
#define SHIXIN_DAEMON_RELOADER_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/snapshot_holder.h"

namespace shixin {

// Where the list comes from.
struct DatasetSource {
  std::string data_dir;         // holds debtors.ndjson and relations.ndjson
  std::string catalog_path;     // the measure catalog
  uint64_t max_errors = 0;      // bad lines tolerated (LoadOptions::max_errors)
  std::string snapshot = {};    // a snapshot file from shixin compile; if set, used, not data_dir
  unsigned verify_threads = 0;  // threads reading and verifying `snapshot`; 0: one per core
};

// Loads and validates a dataset from `source` without publishing it; logs the bad lines
// skipped. Returns the first error of the data or the catalog.
absl::StatusOr<std::unique_ptr<Dataset>> LoadDataset(const DatasetSource& source);

// The outcome of one reload request.
struct ReloadResult {
  // OK; ResourceExhausted if another reload was running; Unavailable if the daemon stopped
  // first; Aborted if the new list was refused (the old one keeps serving).
  absl::Status status;
  uint32_t generation = 0;  // the generation serving afterwards
  std::string message;      // what happened, for the log and the client
};

class Reloader {
 public:
  // Called once per accepted request, on the reload thread, when it is done.
  using Done = absl::AnyInvocable<void(const ReloadResult&) &&>;

  // `holder` must outlive the Reloader.
  Reloader(DatasetSource source, SnapshotHolder* holder);
  // Stops the thread (see Stop()).
  ~Reloader();
  Reloader(const Reloader&) = delete;
  Reloader& operator=(const Reloader&) = delete;

  // Loads and publishes generation 1. Returns the load's error; nothing is published then.
  // REQUIRES: called once, before Start().
  absl::Status LoadFirst();

  // Starts the reload thread.
  void Start();
  // Waits for a running reload to finish and joins the thread; a queued request that has not
  // started is completed with Unavailable. Idempotent.
  void Stop();

  // Queues a reload requested by `origin` (for the log, e.g. "SIGHUP"). Returns false, and
  // drops `done`, if a reload is already running or queued, or after Stop(). Otherwise
  // `done` (may be empty) is called exactly once.
  bool Request(std::string origin, Done done);

 private:
  struct Pending {
    std::string origin;
    Done done;
  };

  void Run();
  // Loads and publishes; returns the result.
  ReloadResult Reload(const std::string& origin);

  const DatasetSource source_;
  SnapshotHolder* const holder_;
  // A std::mutex rather than absl::Mutex: ThreadSanitizer understands it (Debian's Abseil
  // is not instrumented).
  std::mutex mu_;
  std::condition_variable wake_;      // pending_ or stopping_ was set
  bool busy_ = false;                 // guarded by mu_: a request is queued or running
  bool stopping_ = false;             // guarded by mu_
  std::unique_ptr<Pending> pending_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_RELOADER_H_
