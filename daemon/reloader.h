// Reloader loads the configured list and publishes it: the first load at start (synchronous),
// then reloads on a background thread when SIGHUP or the RELOAD operation asks. A reload
// loads the catalog and the data directory (or maps and verifies the snapshot file at the
// configured path, core/snapshot_file.h), validates them fully, and only then swaps; a
// failure keeps the old list serving, is logged, and shows in INFO's reload status. Only
// regular files are read: a FIFO or a device at a configured path fails the load at once.
//
// Shrink guard: a reloaded list (its base with the delta files folded in, counted as the serving
// generation is, CountsOf) that removes more than `max_shrink` of the serving list's
// subjects, or of its relations (the links that list an organisation's legal representative and
// other related persons), by count, is refused unless the request allows it (RELOAD's
// ALLOW_SHRINK flag, shixin reload --allow-shrink); a feed cut short must not unlist debtors
// nor the persons related to them. The same flag lets a reload take the list back to an
// earlier delta sequence than it serves (CheckNotGoingBack: applied files removed before a base
// contains them), which is refused otherwise. The first load is not guarded.
//
// Deltas: with a `deltas_dir`, the delta files after the base's sequence (a base carries none
// yet: 0, so all of them) are folded into the first load and into every reload before it is
// published (DeltaApplier, daemon/delta_applier.h), so that a generation never shows a base
// without its deltas; a reload also tries a refused file again. A request with `deltas_only`
// (a file arrived) applies the new files on top of the serving generation, one generation per
// file, without reloading the base. A reload loads its base and folds the files into it on a
// loader thread at background priority, with an applier of its own, and meanwhile serves the
// deltas-only requests that arrive at once, on top of the generation still serving, so that a
// removal stays visible within its deadline however long the load and the fold take; the new
// base then gets the files that landed meanwhile, on the reload thread, before its swap. With a
// `checkpoint`, the overlay it holds (made over the same base) is taken first and only the
// files after it are folded, provided the files it holds are all still in `deltas_dir`: else
// the base replays what is there (a checkpoint only saves time).
//
// Coalescing: one reload runs at a time, and requests are never refused while the daemon
// runs. Every request that arrives while a reload runs (but a deltas-only one while the load
// and fold run, above) joins the next batch, and the whole batch is served by exactly one reload
// that starts when the running one ends, so the newest files always win; each request's `done`
// receives the result of the reload that served it.
// It tells systemd RELOADING=1 and READY=1 around each reload.
//
// Thread safety: Request() may be called from any thread; the other methods from the thread
// that owns the Reloader.
#ifndef SHIXIN_DAEMON_RELOADER_H_
#define SHIXIN_DAEMON_RELOADER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/latency_histogram.h"
#include "core/overlay_checkpoint.h"
#include "daemon/delta_applier.h"
#include "daemon/snapshot_holder.h"

namespace shixin {

// Where the list comes from.
struct DatasetSource {
  std::string data_dir;         // holds debtors.ndjson and relations.ndjson
  std::string catalog_path;     // the measure catalog
  uint64_t max_errors = 0;      // bad lines tolerated (LoadOptions::max_errors)
  std::string snapshot = {};    // a snapshot file from shixin compile; if set, used, not data_dir
  unsigned verify_threads = 0;  // threads reading and verifying `snapshot`; 0: one per core
  std::string deltas_dir = {};  // delta files applied on top; empty: none
  uint64_t max_delta_bytes = UINT64_MAX;  // a larger delta file is refused unread
  // the overlay checkpoint (core/overlay_checkpoint.h) read before the delta files, if it was
  // made over the loaded base; empty: none
  std::string checkpoint = {};
  // a delta file not renamed into place is read once unchanged this long (daemon/delta_settle.h);
  // zero: at once
  absl::Duration delta_settle = absl::ZeroDuration();
};

// Loads and validates a dataset from `source` without publishing it; logs the bad lines
// skipped. Returns the first error of the data or the catalog.
absl::StatusOr<std::unique_ptr<Dataset>> LoadDataset(const DatasetSource& source);

// One request for a reload.
struct ReloadRequest {
  std::string origin;  // for the log, e.g. "SIGHUP", "RELOAD from 127.0.0.1:52314"
  bool allow_shrink =
      false;  // accept a list that removes more than max_shrink (subjects, relations)
  bool deltas_only = false;  // only apply the delta files that arrived (no base reload)
};

// What the shrink guard counts of a list (its base snapshot's SnapshotInfo).
struct ListCounts {
  uint64_t subjects = 0;
  uint64_t relations = 0;  // (organisation, person, role) links
};

// Returns the counts the shrink guard compares for `dataset` at `now` (Unix seconds): its base's
// (the snapshot's header, which counts every subject and relation it holds), with what the
// deltas applied on it changed: less the base's subjects they unlisted (listed at `now` in the
// base, not now), plus the subjects they brought, and the relations of their organisations that
// hold at `now` against those that held in the base (an ended or future role counts on neither
// side). The same base with the same files counts the same. O(overlay size).
ListCounts CountsOf(const Dataset& dataset, int64_t now);

// Returns OK if replacing the `serving` list by the `loaded` one removes at most `max_shrink`
// (0..1) of its subjects and at most `max_shrink` of its relations, else Aborted naming each
// count that shrinks too much (loaded and serving), that the old list keeps serving, and how to
// accept the shrink.
absl::Status CheckShrink(ListCounts serving, ListCounts loaded, double max_shrink);

// Returns OK if the `loaded` list holds the delta files up to at least `served` (the serving
// generation's sequence), else Aborted: a reload must not take the list back in time (a file
// applied and served, then removed before a base contains it, or refused when folded again).
// The error names the first file the new list lacks and why (missing from `deltas_dir`, or
// `refused_reason`), that the old list keeps serving, and the override (RELOAD's ALLOW_SHRINK).
absl::Status CheckNotGoingBack(const Dataset& loaded, uint64_t served,
                               const std::string& deltas_dir, std::string_view refused_reason);

// The outcome of one reload request.
struct ReloadResult {
  // OK; Unavailable if the daemon stopped first; Aborted if the new list was refused (the old
  // one keeps serving).
  absl::Status status;
  uint32_t generation = 0;  // the generation serving afterwards
  std::string message;      // what happened, for the log and the client
  int64_t source_time = 0;  // OK: that generation's source time, for its STALE flag
};

// One generation the Reloader published, for the status page.
struct PublishedGeneration {
  uint32_t generation = 0;
  int64_t time = 0;           // Unix seconds
  uint64_t base_version = 0;  // the snapshot's version
  uint64_t sequence = 0;      // the last delta applied on top (0: none)
  uint64_t subjects = 0;      // of the base
  std::string kind;           // "load" (the first), "reload" or "delta"
};

// What the Reloader has done since the start, for the metrics.
struct ReloadStats {
  uint64_t reloads_ok = 0;      // full reloads that published
  uint64_t reloads_failed = 0;  // full reloads refused (the old list kept serving)
  uint64_t delta_runs = 0;      // requests that only applied arrived delta files
  LatencyHistogram::Counts reload_durations;
  LatencyHistogram::Counts delta_durations;
};

class Reloader {
 public:
  // How many published generations generations() keeps (the oldest are dropped).
  static constexpr size_t kMaxGenerations = 1000;

  // Called once per accepted request, on the reload thread, when it is done.
  using Done = absl::AnyInvocable<void(const ReloadResult&) &&>;

  // `holder` must outlive the Reloader. `max_shrink` (0..1) guards reloads; 1 (the default
  // here; the daemon's configuration has its own) disables the guard.
  Reloader(DatasetSource source, SnapshotHolder* holder, double max_shrink = 1.0);
  // Stops the thread (see Stop()).
  ~Reloader();
  Reloader(const Reloader&) = delete;
  Reloader& operator=(const Reloader&) = delete;

  // Loads and publishes generation 1. Returns the load's error; nothing is published then.
  // REQUIRES: called once, before Start().
  absl::Status LoadFirst();

  // Starts the reload thread. Returns its error (StartThread(), base/thread.h) if the system
  // cannot create it; the Reloader then serves no request (Stop() completes them).
  absl::Status Start();
  // Waits for a running reload to finish and joins the thread; the requests queued behind it
  // are completed with Unavailable. Idempotent.
  void Stop();
  // Completes at once, with Unavailable "the daemon is stopping", the requests of the reload
  // running (it runs on; its outcome is answered to nobody) and those queued: a stop's drain
  // does not wait for a reload (minutes at background priority) to answer a RELOAD. May be
  // called from any thread; the requests made after it are queued as before.
  void Abandon();

  // Queues a reload: it joins the batch that the next reload to start will serve (see the top
  // of this file). Returns false, and drops `done`, after Stop(); otherwise `done` (may be
  // empty) is called exactly once, on the reload thread (or in Stop()).
  bool Request(ReloadRequest request, Done done);
  // Same as Request(ReloadRequest{origin}, done).
  bool Request(std::string origin, Done done);
  // Calls `hook` on the requesting thread for each request that is not deltas-only (RELOAD,
  // SIGHUP): the delta watcher then watches a lost deltas_dir again. REQUIRES: before Start().
  void SetReloadHook(absl::AnyInvocable<void()> hook) { reload_hook_ = std::move(hook); }
  // Returns what decides whether a delta file is whole, for the delta watcher to tell of files
  // renamed into place and to wake when a waiting one settles.
  DeltaSettle* delta_settle() { return &settle_; }

  // The function that loads a dataset for a reload (LoadDataset, unless a test sets another).
  using LoadFunction =
      std::function<absl::StatusOr<std::unique_ptr<Dataset>>(const DatasetSource&)>;
  // For tests: reloads load with `load` (e.g. one that waits to be let go).
  // REQUIRES: before Start().
  void SetLoadFunctionForTesting(LoadFunction load) { load_ = std::move(load); }
  // For tests: `folded` is called on the loader thread with a reload's new base once the delta
  // files are folded into it, before the reload thread takes it (e.g. one that waits).
  // REQUIRES: before Start().
  void SetFoldedHookForTesting(std::function<void(const Dataset&)> folded) {
    folded_ = std::move(folded);
  }

  // Returns how many reloads have ended (for tests); each serves a batch of requests.
  uint64_t reloads() const;
  // Returns whether a reload (or an application of arrived delta files) is running. May be
  // called from any thread.
  bool busy() const;
  // Returns what the overlay checkpoint held when LoadFirst() took it (sequence 0: none taken).
  // REQUIRES: after LoadFirst(), before Start().
  const CheckpointInfo& resumed() const { return resumed_; }
  // Returns the state of the delta application; a default one without a deltas_dir. May be
  // called from any thread (INFO).
  DeltaStatus delta_status() const;
  // Returns the counts and durations of reloads. May be called from any thread.
  ReloadStats stats() const;
  // Returns the generations published, oldest first (at most kMaxGenerations). May be called
  // from any thread.
  std::vector<PublishedGeneration> generations() const;

 private:
  struct Pending {
    ReloadRequest request;
    Done done;
  };

  void Run();
  // Publishes `dataset` and logs it in generations_ as `kind`. Returns its generation.
  uint32_t PublishLogged(std::unique_ptr<Dataset> dataset, const char* kind);
  // Returns whether every request of `batch` only asks for the arrived deltas.
  static bool OnlyDeltas(const std::vector<Pending>& batch);
  // Loads and publishes the list for the requests of `batch`; returns the result.
  ReloadResult Reload(const std::vector<Pending>& batch);
  // Runs LoadNewBase() on a loader thread at background priority while this thread serves the
  // deltas-only requests that arrive (ServeDeltasDuringLoad); returns what it loaded, or the
  // error of starting the loader thread (the reload fails; the old list keeps serving).
  absl::StatusOr<std::unique_ptr<Dataset>> LoadInBackground(DeltaApplier* fold);
  // Loads a reload's new base from `source` and folds the delta files into it with `fold` (null:
  // no deltas_dir). Runs on the loader thread. The shrink guard runs after the fold, on the
  // reload thread: the new base alone lacks what the day's files added.
  absl::StatusOr<std::unique_ptr<Dataset>> LoadNewBase(const DatasetSource& source,
                                                       DeltaApplier* fold) const;
  // Applies the delta files that arrived on top of the serving generation.
  ReloadResult ApplyArrivedDeltas();
  // Serves the deltas-only requests that arrive while a reload's load and fold run
  // (ApplyArrivedDeltas on the serving generation); returns when they are done or the Reloader
  // stops.
  void ServeDeltasDuringLoad();
  // Counts a request (or batch) that applied arrived deltas in `took`, for the metrics.
  void CountDeltaRun(absl::Duration took);
  // Takes the overlay of the checkpoint into `dataset` if it was made over its base and the
  // delta files it holds are all in deltas_dir, and logs why not otherwise (a missing one
  // silently). Returns what it held (sequence 0: not taken).
  CheckpointInfo Resume(Dataset* dataset) const;
  // Completes every request of `batch` with `result`.
  static void Complete(std::vector<Pending>& batch, const ReloadResult& result);

  const DatasetSource source_;
  SnapshotHolder* const holder_;
  const double max_shrink_;
  DeltaSettle settle_;  // whether a delta file is whole; shared with the delta watcher
  const std::unique_ptr<DeltaApplier> deltas_;  // null without a deltas_dir
  LoadFunction load_ = LoadDataset;
  std::function<void(const Dataset&)> folded_;  // null unless a test sets it
  absl::AnyInvocable<void()> reload_hook_;      // may be empty
  // Returns CountsOf() the generation published last, at `now`: a compaction of the day's
  // deltas is compared with what is served, not with the old base alone.
  ListCounts ServingCounts(int64_t now) const;
  // The base and overlay PublishLogged() published last (the reload thread and the delta
  // application publish), for ServingCounts().
  mutable std::mutex serving_mu_;
  std::shared_ptr<const Snapshot> serving_base_;    // guarded by serving_mu_
  std::shared_ptr<const Overlay> serving_overlay_;  // guarded by serving_mu_
  uint64_t serving_sequence_ = 0;                   // guarded by serving_mu_
  // Returns the delta sequence of the generation published last.
  uint64_t ServingSequence() const;
  CheckpointInfo resumed_;  // written by LoadFirst()
  // A std::mutex rather than absl::Mutex: ThreadSanitizer understands it (Debian's Abseil
  // is not instrumented).
  mutable std::mutex mu_;
  std::condition_variable wake_;  // queue_, stopping_ or load_done_ was set
  bool stopping_ = false;         // guarded by mu_
  bool running_ = false;          // guarded by mu_: a reload is running
  // Guarded by mu_: the running reload's requests (Run()'s batch), whose `done` Abandon() takes.
  std::vector<Pending>* running_batch_ = nullptr;
  bool load_done_ = false;      // guarded by mu_: the running reload's load and fold ended
  std::vector<Pending> queue_;  // guarded by mu_: the next reload's batch
  uint64_t reloads_ = 0;        // guarded by mu_
  std::thread thread_;

  std::atomic<uint64_t> reloads_ok_{0};
  std::atomic<uint64_t> reloads_failed_{0};
  std::atomic<uint64_t> delta_runs_{0};
  LatencyHistogram reload_latency_;
  LatencyHistogram delta_latency_;
  mutable std::mutex generations_mu_;
  std::deque<PublishedGeneration> generations_;  // guarded by generations_mu_
};

// What a RELOAD request is handed to: the Server, which reads its TLS and callers files again
// before it asks the Reloader for the list (Server::Reload()), as SIGHUP does.
class ReloadTarget {
 public:
  virtual ~ReloadTarget() = default;
  // As Reloader::Request(): false (and `done` dropped) once the daemon is stopping. May be
  // called from any thread.
  virtual bool Reload(ReloadRequest request, Reloader::Done done) = 0;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_RELOADER_H_
