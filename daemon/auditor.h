// Auditor: the daemon's side of the audit (issue 12; docs/audit.md). It owns the AuditLogs of
// state_dir (audit/audit_log.h): the handler records every answered query through it before the
// answer leaves (once per turn of an I/O thread: daemon/audit_batch.h), it answers FEEDBACK against
// the receipts it issued, and it fills INFO's audit block (state, size, the next report due date
// from the holiday calendar, receipts still without feedback). The calendar is loaded at Open()
// and again by each reload (ReloadCalendar()), so that a year added to calendar_dir needs no
// restart.
//
// While the audit cannot be written, Record() fails: MEASURES is refused when `required()`
// (fail closed), CHECK answers without receipts. The audit fails while any stream fails (as
// Writable() says); the start of a failure and the recovery of every stream are logged once
// each, whatever the streams' writes do in between.
//
// The audit is written in streams (audit/format.h), one AuditLog each: each I/O thread appends
// to its own, so that the threads share no lock and no write; a ticket names its stream.
//
// Thread safety: thread-safe; every method may be called from any I/O thread. The calendar is
// swapped whole under a mutex: Info() takes the one in use and reads it unlocked.
#ifndef SHIXIN_DAEMON_AUDITOR_H_
#define SHIXIN_DAEMON_AUDITOR_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "audit/audit_log.h"
#include "base/adaptive_mutex.h"
#include "base/latency_histogram.h"
#include "daemon/config.h"
#include "protocol/feedback_messages.h"
#include "report/calendar.h"

namespace shixin {

class Auditor {
 public:
  // Opens the audit in config.state_dir/audit (creating state_dir 0700 and its node id and
  // receipt key, audit/node_id.h; adding the key to an earlier version's node_id) with
  // the config's fsync interval, segment size and retention, and loads the holiday calendar
  // (the shipped one with config.calendar_dir's years over it; a calendar that cannot be loaded
  // only leaves the due date unknown, with the reason). Returns the audit's error: DataLoss for a
  // damaged last segment (a torn tail is cut and reported in `recovery` instead). REQUIRES:
  // !config.state_dir.empty().
  static absl::StatusOr<std::unique_ptr<Auditor>> Open(const Config& config,
                                                       audit::AuditLog::Recovery* recovery);
  // Same, with `options` for the log itself (tests inject file faults and clocks).
  static absl::StatusOr<std::unique_ptr<Auditor>> Open(const Config& config,
                                                       audit::AuditLog::Options options,
                                                       audit::AuditLog::Recovery* recovery);

  // Whether MEASURES must fail closed while the audit cannot be written (audit_required).
  bool required() const { return required_; }

  // Appends `record` (its time is set here). Returns its receipt and the ticket to Sync(), or
  // Unavailable saying why the audit cannot be written.
  absl::StatusOr<audit::AuditLog::Appended> Record(audit::QueryRecord* record);

  // Appends the text of `receipt` (Record()'s) that the answer carries: opaque, keyed with the
  // node's receipt key (audit/receipt.h). No allocation once `out` has room.
  void AppendReceipt(const audit::Receipt& receipt, std::string* out) const {
    cipher_.AppendTo(receipt, out);
  }

  // Writes the records appended up to `ticket`. Returns OK when they are in the file; else the
  // error, and those records are gone (AuditLog::Sync).
  absl::Status Sync(uint64_t ticket);

  // Records FEEDBACK from caller `caller` ("" in open mode). Returns the response and the ticket
  // of its record; InvalidArgument for text that is not a receipt; NotFound, saying only "no
  // record", for a receipt this audit has no answer of (a keyed one the key does not open, a
  // position form of a record written since the key or of another caller's), and for one whose
  // answer did not carry it (versions 1-3, an unlisted CHECK);
  // PermissionDenied for another caller's receipt; InvalidArgument for the receipt of an answer
  // without measures (CHECK), a measure that the receipt's answer did not return, or items that
  // break wire::CheckFeedbackItems; then `may_apply`'s error for the first measure reported
  // applied that it refuses (callers/caller_table.h's CheckMayApply: its advice, report it not
  // applied, holds only for the caller's own receipt and a measure it returned); Unavailable
  // when the audit cannot be written. An empty `may_apply` refuses none.
  struct Recorded {
    wire::FeedbackResponse response;
    uint64_t ticket = 0;
  };
  using MayApply = std::function<absl::Status(uint16_t measure)>;
  absl::StatusOr<Recorded> Feedback(std::string_view caller, const wire::FeedbackRequest& request,
                                    const MayApply& may_apply = nullptr);

  // Returns OK while every stream of the audit can be written, else Unavailable with the reason
  // (a write's error). A failing stream is probed by the log's own thread (AuditLog), so this
  // turns OK again once the disk takes writes, without a query; the recovery is logged then
  // if no query logged it before. For /readyz and the metrics.
  absl::Status Writable() const;

  // Reads the holiday calendar (the shipped one and config.calendar_dir) again: on
  // success the new calendar replaces the one in use (Info() gives its due date from then on;
  // a current quarter still without a due date is warned about, as at Open()). Returns the error
  // ("holiday calendar DIRS: DIR/2027.toml:3: ..."), and keeps the calendar in use, if it cannot be
  // loaded. For Server::Reload().
  absl::Status ReloadCalendar();

  // Returns INFO's audit block at Unix time `now`: the state and the report due date for
  // anyone; the error text (why it fails, else ClockNote()), the records, the bytes and the
  // receipts without feedback (every caller's) only for an admin (else "" and 0).
  wire::AuditInfo Info(int64_t now, bool admin) const;

  // Returns why records are stamped ahead of the clock (AuditLog::Stats::clock_note: the clock
  // set back, or the audit dated ahead), the first stream's that says so; "" when none is.
  // Times only: for /status too.
  std::string ClockNote() const;

  // Returns the durations of the audit's segment writes and fdatasyncs, every stream's (for the
  // metrics).
  LatencyHistogram::Counts WriteLatency() const;
  LatencyHistogram::Counts FsyncLatency() const;

  // Returns how many streams the audit is written in (one log each).
  size_t streams() const { return logs_.size(); }

 private:
  // The holiday calendar, or why it could not be loaded at start.
  struct CalendarState {
    std::optional<report::Calendar> calendar;
    std::string error;  // when !calendar
  };

  Auditor(std::vector<std::unique_ptr<audit::AuditLog>> logs, const audit::ReceiptCipher& cipher,
          bool required, std::string calendar_dir, CalendarState calendar);
  // Returns the calendar in use (takes calendar_mu_).
  std::shared_ptr<const CalendarState> CurrentCalendar() const;
  // Called with the outcome of a write (Append, Sync): logs the audit's state when it changes.
  // The state is the streams' (Writable()), not the outcome's: a stream writing while another
  // fails, or the OK of a ticket written before the failure, changes nothing.
  void Observe(const absl::Status& status) const;
  // Sets the logged state to the streams' and logs a change. Returns the streams' state.
  absl::Status Reconcile() const;
  // Returns the stream the calling thread appends to: threads take streams in turn the first
  // time they append (an I/O thread keeps its stream, so a connection's records share one).
  uint32_t StreamOfThread();

  // A ticket of the auditor: the stream in the top bits, the stream's log's ticket below.
  static constexpr int kTicketStreamShift = 56;
  static uint64_t Ticket(uint32_t stream, uint64_t log_ticket) {
    return uint64_t{stream} << kTicketStreamShift | log_ticket;
  }
  static uint32_t TicketStream(uint64_t ticket) {
    return static_cast<uint32_t>(ticket >> kTicketStreamShift);
  }
  static uint64_t LogTicket(uint64_t ticket) {
    return ticket & ((uint64_t{1} << kTicketStreamShift) - 1);
  }

  // One log per stream (audit/format.h), logs_[s] writing stream s; the I/O threads share none.
  const std::vector<std::unique_ptr<audit::AuditLog>> logs_;
  const audit::ReceiptCipher cipher_;  // state_dir/node_id's receipt key
  const uint64_t id_;                  // tells this auditor's thread assignments from another's
  std::atomic<uint32_t> next_stream_{0};
  const bool required_;
  const std::string calendar_dir_;  // config.calendar_dir: years over the shipped calendar
  mutable std::mutex calendar_mu_;
  std::shared_ptr<const CalendarState> calendar_;  // guarded by calendar_mu_; never null
  // The state last logged: whether the audit fails. Read without state_mu_ on every write's
  // outcome; changed (and logged) under it, so that two threads do not log one change twice.
  mutable std::atomic<bool> failing_{false};
  mutable std::mutex state_mu_;

  // Counts in fed_back_ the feedback records of `stream` up to its log's ticket `log_ticket`
  // that were written, and drops those the audit discarded.
  // REQUIRES: the stream's log decided `log_ticket` (its Sync returned).
  void Settle(uint32_t stream, uint64_t log_ticket);

  // Receipts without feedback = the query records awaiting feedback that the logs wrote since
  // Open (AuditLog::Stats, counted there: nothing per record here) minus the receipts of them
  // that have had feedback since: fed_back_ (keyed by segment and offset: the node is this
  // one's), at most kMaxFedBack; feedback on receipts beyond that is only counted
  // (`untracked_`), a second feedback on one of those counting again. A feedback record counts
  // only once it is written: until then it waits in `pending_`.
  struct Pending {
    uint64_t ticket;  // the auditor's (stream and log ticket)
    uint64_t key;
  };
  static constexpr size_t kMaxFedBack = size_t{4} << 20;
  mutable AdaptiveMutex mu_;
  absl::flat_hash_set<uint64_t> fed_back_;
  uint64_t untracked_ = 0;
  std::vector<Pending> pending_;
  std::atomic<size_t> pending_count_{0};  // pending_.size(), read by Sync without the lock
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_AUDITOR_H_
