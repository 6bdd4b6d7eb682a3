// SnapshotHolder publishes the list the daemon serves (a Dataset: snapshot, overlay of the
// deltas applied since, catalog, generation, source time) and the state of the last reload, with
// userspace RCU (liburcu, memb flavour).
//
// Readers open a ReadSection: rcu_read_lock + rcu_dereference, no lock and no shared reference
// count, so queries on all threads never contend. Publish() swaps the pointer with
// rcu_xchg_pointer (a query running meanwhile keeps the dataset it started with), then waits
// for a grace period (synchronize_rcu: every read section that could still see the old
// dataset has ended) and frees it. The old dataset is therefore released before Publish()
// returns, a bounded time after the last query that used it: read sections are short and
// never block.
//
// Thread safety: ReadSection may be used on any thread registered with RcuThread; Publish()
// and SetReloadStatus() may be called from any thread not inside a read section (writers are
// serialised by a mutex).
#ifndef SHIXIN_DAEMON_SNAPSHOT_HOLDER_H_
#define SHIXIN_DAEMON_SNAPSHOT_HOLDER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/catalog.h"
#include "core/list.h"
#include "core/overlay.h"
#include "core/overlay_checkpoint.h"
#include "core/snapshot.h"
#include "protocol/messages.h"
#include "protocol/operator_messages.h"

namespace shixin {

// One published list: everything a query needs, immutable once published. The snapshot and
// the overlay are shared between generations: applying a delta copies the dataset and replaces
// the overlay.
struct Dataset {
  std::shared_ptr<const Snapshot> snapshot;  // the base; never null once published
  std::shared_ptr<const Overlay> overlay;    // the deltas applied on top, or null: none
  uint64_t sequence = 0;                     // the last delta applied (0: none)
  Catalog catalog;
  uint32_t generation = 0;  // set by Publish(): 1 for the first, +1 per swap
  int64_t source_time = 0;  // Unix seconds: newest mtime of the data files
  int64_t loaded_time = 0;  // Unix seconds: when it was published
  // Unix seconds: when its last delta was applied, here or before a restart (the overlay
  // checkpoint keeps it); 0: none, or unknown
  int64_t delta_time = 0;
  std::string data_source;  // the data directory or snapshot file it was loaded from
  // The delta files in `overlay` as they were applied, in sequence order (the overlay
  // checkpoint keeps them, so that a file changed afterwards is noticed after a restart too).
  std::vector<AppliedDeltaFile> applied_files;
  // The snapshot file's format version (0: built from a data directory). One older than this
  // build writes had its indexes built at open; the next compaction writes the current one.
  uint32_t snapshot_format = 0;

  // Returns the list as queries read it: the base with the overlay. Valid while this is.
  ListView list() const { return ListView(*snapshot, overlay.get()); }
};

// The outcome of the last reload, shown by INFO.
struct ReloadStatus {
  wire::ReloadState state = wire::ReloadState::kNone;
  int64_t time = 0;     // Unix seconds of the last change
  std::string message;  // e.g. "generation 3: 10000000 subjects" or the error
};

// Registers the calling thread as an RCU reader for its lifetime. Every thread that opens a
// ReadSection must hold one (the I/O threads, tests' reader threads).
class RcuThread {
 public:
  RcuThread();
  ~RcuThread();
  RcuThread(const RcuThread&) = delete;
  RcuThread& operator=(const RcuThread&) = delete;
};

class SnapshotHolder {
 public:
  SnapshotHolder();
  // REQUIRES: no read section is open and no writer is running.
  ~SnapshotHolder();
  SnapshotHolder(const SnapshotHolder&) = delete;
  SnapshotHolder& operator=(const SnapshotHolder&) = delete;

  // An RCU read-side critical section: the pointers it returns stay valid until it ends.
  // Keep it short and never block inside it (no I/O, no waiting): Publish() waits for it.
  // Sections nest. REQUIRES: the thread holds an RcuThread.
  class ReadSection {
   public:
    explicit ReadSection(const SnapshotHolder& holder);
    ~ReadSection();
    ReadSection(const ReadSection&) = delete;
    ReadSection& operator=(const ReadSection&) = delete;

    // Returns the published dataset, or nullptr before the first Publish().
    const Dataset* dataset() const { return dataset_; }
    // Returns the last reload status (never null).
    const ReloadStatus& reload_status() const;

   private:
    const SnapshotHolder& holder_;
    const Dataset* dataset_;
  };

  // Publishes `dataset` with the next generation, waits until no reader can see the previous
  // one and frees it. Returns the new generation.
  // REQUIRES: dataset->snapshot is not null; the caller is not inside a ReadSection.
  uint32_t Publish(std::unique_ptr<Dataset> dataset);

  // Replaces the reload status; the previous one is freed as in Publish().
  // REQUIRES: the caller is not inside a ReadSection.
  void SetReloadStatus(ReloadStatus status);

  // Returns the generation last published (0 before the first), without a read section.
  uint32_t generation() const { return generation_.load(std::memory_order_acquire); }
  // Returns how many datasets Publish() has freed so far.
  uint64_t released() const { return released_.load(std::memory_order_acquire); }

 private:
  std::mutex writer_mu_;        // serialises writers (std::mutex: ThreadSanitizer sees it)
  Dataset* dataset_ = nullptr;  // written with rcu_xchg_pointer only
  ReloadStatus* reload_status_ = nullptr;  // likewise; never null
  char grace_period_ = 0;                  // only its address: a ThreadSanitizer annotation
  std::atomic<uint32_t> generation_{0};
  std::atomic<uint64_t> released_{0};
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_SNAPSHOT_HOLDER_H_
