// Auditor: the daemon's side of the audit (issue 12; docs/audit.md). It owns the AuditLog of
// state_dir (audit/audit_log.h): the handler records every answered query through it before the
// answer leaves (once per turn of an I/O thread: daemon/audit_batch.h), it answers FEEDBACK against
// the receipts it issued, and it fills INFO's audit block (state, size, the next report due date
// from the holiday calendar, receipts still without feedback).
//
// While the audit cannot be written, Record() fails: MEASURES is refused when `required()`
// (fail closed), CHECK answers without receipts. The failure and the recovery are logged once
// each.
//
// Thread safety: thread-safe; every method may be called from any I/O thread.
#ifndef SHIXIN_DAEMON_AUDITOR_H_
#define SHIXIN_DAEMON_AUDITOR_H_

#include <atomic>
#include <cstdint>
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
#include "daemon/config.h"
#include "protocol/feedback_messages.h"
#include "report/calendar.h"

namespace shixin {

class Auditor {
 public:
  // Opens the audit in config.state_dir/audit (creating state_dir 0700 and its node id) with
  // the config's fsync interval, segment size and retention, and loads the holiday calendar
  // (config.calendar_dir, or the shipped one; a calendar that cannot be loaded only leaves the
  // due date unknown, with the reason). Returns the audit's error: DataLoss for a damaged
  // last segment (a torn tail is cut and reported in `recovery` instead).
  // REQUIRES: !config.state_dir.empty().
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

  // Writes the records appended up to `ticket`. Returns OK when they are in the file; else the
  // error, and those records are gone (AuditLog::Sync).
  absl::Status Sync(uint64_t ticket);

  // Records FEEDBACK from caller `caller` ("" in open mode). Returns the response and the ticket
  // of its record; NotFound for a receipt this audit did not issue (or not for a MEASURES or
  // CHECK answer), PermissionDenied for another caller's receipt, InvalidArgument for a measure
  // that the receipt's answer did not return or items that break wire::CheckFeedbackItems,
  // Unavailable when the audit cannot be written.
  struct Recorded {
    wire::FeedbackResponse response;
    uint64_t ticket = 0;
  };
  absl::StatusOr<Recorded> Feedback(std::string_view caller, const wire::FeedbackRequest& request);

  // Returns INFO's audit block at Unix time `now`; the error text only for an admin.
  wire::AuditInfo Info(int64_t now, bool admin) const;

  // Returns the audit log (its write and fsync latencies, for the metrics).
  const audit::AuditLog& log() const { return *log_; }

 private:
  Auditor(std::unique_ptr<audit::AuditLog> log, bool required,
          std::optional<report::Calendar> calendar, std::string calendar_error);
  // Logs the audit's state when it changes (failing, writable again).
  void Observe(const absl::Status& status);

  const std::unique_ptr<audit::AuditLog> log_;
  const bool required_;
  const std::optional<report::Calendar> calendar_;
  const std::string calendar_error_;
  std::atomic<bool> failing_{false};

  // Applies to awaiting_feedback_ the pending changes of records up to `ticket` that were
  // written, and drops those of records the audit discarded. REQUIRES: the log decided
  // `ticket` (its Sync returned).
  void Settle(uint64_t ticket);

  // MEASURES receipts since the start that returned measures and have had no feedback yet
  // (keyed by segment and offset: the node is this one's), at most kMaxAwaiting; those beyond
  // are only counted (`untracked_`) and stay counted after their feedback. A record changes
  // them only once it is written (a record the audit discards never counts): until then its
  // change waits in `pending_`.
  struct Pending {
    uint64_t ticket;
    uint64_t key;
    bool feedback;  // the receipt's feedback (erase), else a new receipt (insert)
  };
  static constexpr size_t kMaxAwaiting = size_t{4} << 20;
  mutable AdaptiveMutex mu_;
  absl::flat_hash_set<uint64_t> awaiting_feedback_;
  uint64_t untracked_ = 0;
  std::vector<Pending> pending_;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_AUDITOR_H_
