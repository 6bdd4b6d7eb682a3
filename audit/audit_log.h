// AuditLog: the writer of the durable audit (issue 12; layout in audit/FORMAT.md). Append frames
// a record into a pending buffer and returns its receipt and a ticket; Sync(ticket) seals every
// pending record (checksum, chain: outside the lock Appends take) and writes them in one write
// (group write: after it returns OK the records survive kill -9); a background thread
// fdatasyncs at most every fsync_interval (group commit).
//
// A log writes one stream of the directory (audit/format.h: several logs, one per I/O thread,
// share a directory without sharing a lock, a sequence or a chain).
//
// Open recovers a torn tail of the stream's last segment (cut off, reported in Recovery); it
// reads only that segment whole, and checks the older ones without reading them whole
// (audit/start_check.h: a segment missing, cut, swapped or replaced): a record changed inside
// an older segment is found by Verify (reader.h).
//
// Thread safety: thread-safe. Append does not wait for a write in progress (double buffer); its
// lock spins before it sleeps (AdaptiveMutex). The daemon gives each I/O thread a log (stream)
// of its own: one write at a time per log, and threads sharing one wait for each other's.
#ifndef SHIXIN_AUDIT_AUDIT_LOG_H_
#define SHIXIN_AUDIT_AUDIT_LOG_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "audit/file_ops.h"
#include "audit/format.h"
#include "audit/marks.h"
#include "audit/node_id.h"
#include "audit/reader.h"
#include "audit/receipt.h"
#include "audit/record.h"
#include "base/adaptive_mutex.h"
#include "base/latency_histogram.h"

namespace shixin::audit {

// Returns a warning line when the process's file-size limit (RLIMIT_FSIZE: ulimit -f, systemd's
// LimitFSIZE=) is below `segment_bytes`: every write fails (EFBIG) once a segment reaches the
// limit, until a restart with a higher one; "" when there is no such limit. A write that fails
// with EFBIG says the same in its error.
std::string FileSizeLimitWarning(uint64_t segment_bytes);

// Open refuses an audit whose newest record or segment is dated more than this after the clock:
// its records would all be stamped with that time (times never go back) until the clock passes
// it. Below it (an NTP step, a resumed VM) they are, with a warning.
inline constexpr int64_t kMaxAheadOfClockMicros = int64_t{3600} * 1000 * 1000;

class AuditLog {
 public:
  struct Options {
    std::string dir;  // the audit directory (state_dir/audit), created 0700
    uint64_t segment_bytes = uint64_t{64} << 20;
    absl::Duration fsync_interval = absl::Milliseconds(10);
    int retention_days = 1826;  // <= 0: keep everything
    absl::Duration retry_interval = absl::Seconds(1);
    FileOps* file_ops = nullptr;          // nullptr: DefaultFileOps()
    std::function<int64_t()> now_micros;  // empty: the real clock
    uint32_t node = 0;                    // from LoadOrCreateNodeId
    uint32_t stream = 0;                  // < kMaxStreams: the segments it numbers and owns
    // Called with a line saying which segment retention deleted (the daemon's info log: the
    // audit is the legal record, its deletion must show). Empty: not said.
    std::function<void(const std::string&)> log_info;
    // Called with a line when the clock is found earlier than the stream's newest record or
    // segment (a clock stepped back: NTP, a restored VM; or an audit dated ahead), once until
    // it catches up. Empty: not said.
    std::function<void(const std::string&)> log_warning;
  };

  struct Recovery {
    uint64_t segments = 0;  // segment files of the stream kept (after retention)
    uint64_t records = 0;   // records in the last segment (after the cut)
    bool torn = false;      // a torn tail was cut off
    uint64_t cut_bytes = 0;
    std::string message;  // what was cut, where ("" when nothing)
  };

  struct Appended {
    Receipt receipt;
    uint64_t ticket = 0;  // pass to Sync
  };

  // The record views its payload, owned on the heap so that moving keeps the views valid.
  using LookedUp = OwnedQuery;

  struct Stats {
    bool failing = false;
    std::string error;  // the last write error while failing
    // Records written since the audit began (the last written sequence number; counts those
    // removed by retention too).
    uint64_t records = 0;
    uint64_t bytes = 0;  // bytes of all segment files (written)
    // Query records written since Open whose receipt awaits feedback (AwaitsFeedback).
    uint64_t awaiting_feedback = 0;
    uint64_t segments = 0;
    uint64_t write_count = 0;
    absl::Duration write_time;
    uint64_t fsync_count = 0;
    absl::Duration fsync_time;
    int64_t last_fsync_micros = 0;
    // While the clock is behind the stream's newest time (by at most kMaxAheadOfClockMicros
    // at Open, any amount later: a clock stepped back): the time its records are stamped
    // with, how far ahead and why. "" otherwise.
    std::string clock_note;
  };

  // Opens (or creates) the audit in options.dir. Returns DataLoss naming the segment file,
  // offset and record when the last segment is damaged before its tail (a frame, the chain, a
  // record out of sequence), or CheckStreamSegments finds the older ones damaged, with what
  // the operator can do (DamageAdvice); FailedPrecondition when the stream's last segment was
  // written by another node than options.node (a state_dir restored with another node_id), or
  // when its newest record or segment is dated more than kMaxAheadOfClockMicros after the clock
  // (naming it, both times and what to do); the errors of the file calls otherwise, or
  // StartThread()'s (base/thread.h) if the fsync thread cannot be created. `recovery` (may be null)
  // gets what was found. A log that cannot be written (a probe past its end fails: a disk
  // already full) opens failing (GetStats().failing, Append Unavailable until the retry).
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(Options options, Recovery* recovery);

  // Stops the fsync thread, writes and fdatasyncs what is pending (errors ignored: call Sync
  // and SyncToDisk first to see them).
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Sets the record's sequence, frames and chains it into the pending buffer. A record's time is
  // never earlier than the stream's newest record or current segment's creation: a clock stepped
  // back stamps records with that time until it passes it (said once through log_warning), so
  // that times in a stream never go back (audit/FORMAT.md). Returns the
  // receipt and ticket; Unavailable (with the reason) while the log is failing and the retry
  // interval has not passed; the error of a rotation. The record's strings must live until
  // the call returns.
  absl::StatusOr<Appended> Append(QueryRecord* record);
  absl::StatusOr<Appended> Append(FeedbackRecord* record);

  // Writes every pending record up to `ticket` (and any later one pending: one write). OK: they
  // are in the file. Error: they and every later pending record are discarded, the chain and
  // sequence roll back to the last written record, the file is cut back to its last good size
  // and the log is failing until a later write succeeds.
  absl::Status Sync(uint64_t ticket);

  // Writes what is pending and fdatasyncs the current segment. Returns the first error.
  absl::Status SyncToDisk();

  // Returns the query record of `receipt` as written. NotFound when the receipt is of another
  // node or does not point at a written query record of this audit (a record boundary: an
  // offset inside a record is none). Reads at most a marks file and kMarkStride bytes and the
  // record, walked from the last mark before the offset (audit/marks.h). A closed segment's
  // marks file that is missing or damaged is rebuilt (the segment read once, logged through
  // log_warning), and so is one whose mark before the offset is no frame (a file edited, its
  // checksum recomputed), the walk then made again before NotFound; Internal, without the cause (a
  // path and the system's error, logged once a segment), when the segment cannot be read either.
  absl::StatusOr<LookedUp> Lookup(const Receipt& receipt) const;

  // Returns whether `receipt` points at a record appended since Open (of this log's stream and
  // at or after the position the first one took).
  bool IssuedSinceOpen(const Receipt& receipt) const;

  // Returns the last ticket decided: every record appended up to it is written, or discarded by
  // a failed write (Sync of it returns at once).
  uint64_t decided_ticket() const;

  Stats GetStats() const;
  uint32_t node() const { return options_.node; }
  // Returns the durations of the segment writes and of the fdatasyncs (for the metrics; read
  // without the log's lock).
  const LatencyHistogram& write_latency() const { return write_latency_; }
  const LatencyHistogram& fsync_latency() const { return fsync_latency_; }

 private:
  explicit AuditLog(Options options);

  absl::Status Recover(Recovery* recovery);
  // Writes the marks file of every segment of the stream but the current one that lacks a
  // whole one (the segments written before marks existed, or whose file a crash lost).
  void IndexOlderSegments();
  absl::Status CreateSegment(uint32_t number);
  // Returns the marks of closed segment `segment`, whose marks file could not be read (`why`),
  // walked from its segment file and written to a new marks file (kept in unsaved_marks_ if
  // that fails). The segment's error if it cannot be read.
  absl::StatusOr<SegmentMarks> RebuildMarks(uint32_t segment, const absl::Status& why) const;
  // Encodes (encode(sequence, the segment's QueryBase, the earliest time allowed, &payload),
  // which returns the record's own time), frames and chains one record.
  // `awaits_feedback`: the record counts in Stats::awaiting_feedback once written.
  template <typename Encode>
  absl::StatusOr<Appended> AppendWith(RecordType type, bool awaits_feedback, Encode encode);
  absl::Status CheckWritable();
  // Writes what is pending, fdatasyncs and starts the next segment. REQUIRES: no write or
  // fdatasync in progress.
  absl::Status Rotate(std::unique_lock<AdaptiveMutex>& lock);
  // Writes the pending buffer (the caller holds `lock`, and writing_ is false); releases the
  // lock during the write when `unlock` is true.
  absl::Status WritePending(std::unique_lock<AdaptiveMutex>& lock, bool unlock);
  absl::Status DataSyncCurrent(std::unique_lock<AdaptiveMutex>& lock);
  // About a group commit's write: a disk that takes it takes the next records. Open probes
  // with one page: enough to find a full disk, under any file-size limit a record fits in.
  static constexpr size_t kProbeBytes = size_t{64} << 10;
  static constexpr size_t kOpenProbeBytes = 4096;
  // Tests whether the log can be written: writes `bytes` of zeros past the end of the
  // current segment, cuts them off and fdatasyncs; a success ends the failing state, a failure
  // starts it. Open probes once (a disk already full fails before the first record), and the
  // fsync thread probes every retry_interval while the log fails, so that a log nobody appends
  // to (a replica whose /readyz took it out of the pool for it) learns that it is writable.
  // REQUIRES: the caller holds `lock`; no write or fdatasync in progress.
  void Probe(std::unique_lock<AdaptiveMutex>& lock, size_t bytes = kProbeBytes);
  void ApplyRetention();
  void FsyncLoop();
  int64_t Now() const;
  // Notes a record or segment time `micros` from the clock against last_time_: warns when the
  // clock is behind it (once until it catches up). REQUIRES: the caller holds mu_.
  void CheckClock(int64_t micros);
  // Logs (log_info) where the stream's chain ends, `when` "opened" or "closed": the log kept
  // elsewhere then holds the chain value a later rewrite of the records would change.
  void LogChainEnd(std::string_view when) const;

  Options options_;
  FileOps* ops_;

  mutable AdaptiveMutex mu_;
  std::condition_variable_any cv_;       // writing_ / fsyncing_ changes
  std::condition_variable_any stop_cv_;  // stop_
  int fd_ = -1;                          // the current segment
  uint32_t segment_ = 0;
  std::vector<uint32_t> segments_;  // on disk, ascending (the current one last)
  uint64_t other_bytes_ = 0;        // bytes of the segments before the current one
  // The written state: what the file holds.
  uint64_t file_size_ = 0;
  ChainHash written_chain_{};
  uint64_t written_sequence_ = 0;  // the last written record's sequence
  uint64_t written_ticket_ = 0;
  uint64_t written_awaiting_ = 0;  // Stats::awaiting_feedback
  bool segment_empty_ = true;      // the current segment has no record (written or pending)
  QueryBase query_base_;           // what the current segment's queries are encoded against
  std::vector<uint64_t> marks_ = FirstMarks();  // the current segment's written boundaries
  // Closed segments whose marks file could not be written: their marks (Lookup's fallback;
  // RebuildMarks adds to it).
  mutable std::vector<std::pair<uint32_t, SegmentMarks>> unsaved_marks_;
  mutable std::mutex rebuild_mu_;                     // RebuildMarks
  mutable absl::flat_hash_set<uint32_t> unreadable_;  // segments RebuildMarks said it cannot read
  // The newest record time appended (or the current segment's creation): no record or segment
  // of the stream is stamped earlier.
  int64_t last_time_ = 0;
  bool clock_behind_ = false;  // said through log_warning; cleared once the clock passes it
  std::string clock_note_;     // Stats::clock_note
  // The appended state: written + pending.
  std::string pending_;
  std::string spare_;  // the other buffer (written last time), reused
  uint64_t sequence_ = 0;
  uint64_t ticket_ = 0;
  uint64_t end_offset_ = 0;
  uint64_t pending_awaiting_ = 0;  // pending records that await feedback
  // Where the first record appended since Open went (or a later one): set by Open.
  uint32_t open_segment_ = 0;
  uint64_t open_offset_ = 0;
  bool writing_ = false;
  bool fsyncing_ = false;
  bool dirty_ = false;  // written since the last fdatasync
  bool stop_ = false;
  bool needs_truncate_ = false;  // a failed write's cut failed too: cut before the next write
  // Failures: the tickets in (from, to] were discarded with `status` (the latest kept).
  struct FailedRange {
    uint64_t from, to;
    absl::Status status;
  };
  std::vector<FailedRange> failed_;
  bool failing_ = false;
  absl::Status failure_;
  int64_t retry_at_micros_ = 0;
  int64_t probe_at_micros_ = 0;  // the fsync thread's next Probe() while failing
  Stats stats_;
  LatencyHistogram write_latency_;
  LatencyHistogram fsync_latency_;
  std::thread fsync_thread_;
};

}  // namespace shixin::audit

#endif  // SHIXIN_AUDIT_AUDIT_LOG_H_
