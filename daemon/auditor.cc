#include "daemon/auditor.h"

#include <time.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "base/terminal.h"
#include "core/paths.h"
#include "core/validity.h"
#include "daemon/log.h"
#include "protocol/wire.h"

namespace shixin {
namespace {

// Offsets are below 2^32 (audit_segment_mb <= 4096).
uint64_t ReceiptKey(const audit::Receipt& r) { return uint64_t{r.segment} << 32 | r.offset; }

// At most this many streams: each one's group commit is an fdatasync of its own every
// audit_fsync_ms, so beyond it the I/O threads share streams.
constexpr unsigned kMaxAuditStreams = 8;

std::atomic<uint64_t> next_auditor_id{1};

// The audit's outcome for the wire's (the same three values, kept apart as storage and wire).
audit::Outcome OutcomeOf(wire::FeedbackOutcome o) {
  switch (o) {
    case wire::FeedbackOutcome::kApplied:
      return audit::Outcome::kApplied;
    case wire::FeedbackOutcome::kNotApplied:
      return audit::Outcome::kNotApplied;
    case wire::FeedbackOutcome::kCancelled:
      return audit::Outcome::kCancelled;
  }
  return audit::Outcome::kApplied;
}

// Returns why a write was refused, said once: the log's refusals while it fails already begin
// with what Unwritable() adds.
absl::string_view WhyUnwritable(const absl::Status& status) {
  absl::string_view why = status.message();
  absl::ConsumePrefix(&why, "audit cannot be written: ");
  return why;
}

// Returns Unavailable for a write the audit refused with `status`.
absl::Status Unwritable(const absl::Status& status) {
  return absl::UnavailableError(
      absl::StrCat("the audit cannot be written: ", WhyUnwritable(status)));
}

// Returns OK if feedback can name `asked`'s receipt `receipt`: its answer carried the receipt
// and returned measures (audit::AwaitsFeedback); else why not.
absl::Status CheckFeedbackTarget(const audit::QueryRecord& asked, std::string_view receipt) {
  if (!asked.receipt_issued) {  // an answer to a client of versions 1-3, or an unlisted CHECK
    return absl::NotFoundError(absl::StrFormat(
        "no answer carried receipt %s: feedback names a receipt a MEASURES answer gave", receipt));
  }
  if (!asked.measures.empty()) return absl::OkStatus();
  if (asked.opcode == static_cast<uint8_t>(wire::Opcode::kMeasures)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "receipt %s is of a MEASURES answer that returned no measure: there is nothing to report",
        receipt));
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("receipt %s is of a %s answer, which carries no measures; feedback is for "
                      "MEASURES answers",
                      receipt, wire::OpcodeName(static_cast<wire::Opcode>(asked.opcode))));
}

// Read for every audited answer: clock_gettime is half of absl::Now()'s cost here (27 ns
// against 55).
int64_t NowMicros() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
}

// Returns the histogram `histogram` of every log, summed.
LatencyHistogram::Counts SumOverLogs(const std::vector<std::unique_ptr<audit::AuditLog>>& logs,
                                     const LatencyHistogram& (audit::AuditLog::*histogram)()
                                         const) {
  LatencyHistogram::Counts counts;
  for (const std::unique_ptr<audit::AuditLog>& log : logs) counts.Add(((*log).*histogram)().Read());
  return counts;
}

// Returns OK while no log fails, else Unavailable with the first failing one's error.
absl::Status StreamsWritable(const std::vector<std::unique_ptr<audit::AuditLog>>& logs) {
  for (const std::unique_ptr<audit::AuditLog>& log : logs) {
    const audit::AuditLog::Stats stats = log->GetStats();
    if (stats.failing) {
      return absl::UnavailableError(absl::StrCat("the audit cannot be written: ", stats.error));
    }
  }
  return absl::OkStatus();
}

// A year added to calendar_dir counts from the next reload (Auditor::ReloadCalendar()).
constexpr absl::string_view kCalendarReadOnReload =
    " (then reload shixind: a reload reads the calendar again)";

// The calendar directories `local_dir` ("": none) is read with, for messages.
std::string CalendarDirs(const std::string& local_dir) {
  return local_dir.empty() ? DefaultCalendarDir()
                           : absl::StrCat(DefaultCalendarDir(), " and ", local_dir);
}

// Loads the shipped calendar and the years of `local_dir` (config.calendar_dir) over it, and
// warns if the current quarter's report has no due date in it: said when loaded, months ahead,
// since INFO alone would tell only whoever reads it.
absl::StatusOr<report::Calendar> LoadCalendar(const std::string& local_dir) {
  absl::StatusOr<report::Calendar> calendar = report::Calendar::LoadShippedAndLocal(
      DefaultCalendarDir(), local_dir, "calendar_dir (e.g. /etc/shixin/calendar)");
  if (!calendar.ok()) return calendar;
  const report::Quarter current = report::Quarter::Of(absl::ToCivilDay(absl::Now(), ChinaTime()));
  if (absl::StatusOr<absl::CivilDay> due = calendar->DueDate(current); !due.ok()) {
    LogWarning("holiday calendar %s: %s's report has no due date: %s%s", CalendarDirs(local_dir),
               current.ToString(), due.status().message(), kCalendarReadOnReload);
  }
  return calendar;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Auditor>> Auditor::Open(const Config& config,
                                                       audit::AuditLog::Recovery* recovery) {
  return Open(config, audit::AuditLog::Options{}, recovery);
}

absl::StatusOr<std::unique_ptr<Auditor>> Auditor::Open(const Config& config,
                                                       audit::AuditLog::Options options,
                                                       audit::AuditLog::Recovery* recovery) {
  // A new key is dated by the clock the records' times are (NowMicros, not options'): the
  // position form is taken for the records written before it.
  absl::StatusOr<audit::NodeIdentity> node = audit::LoadOrCreateNode(config.state_dir);
  if (!node.ok()) return node.status();
  if (node->key_added) {
    LogInfo(
        "audit: %s/node_id had no receipt key (an earlier version's): added one; receipts are "
        "opaque from now on, and those issued before still take feedback",
        config.state_dir);
  }
  options.dir = config.state_dir + "/audit";
  options.node = node->node;
  options.fsync_interval = absl::Milliseconds(config.audit_fsync_ms);
  options.segment_bytes = uint64_t{config.audit_segment_mb} << 20;
  options.retention_days = static_cast<int>(config.audit_retention_days);
  options.log_info = [](const std::string& line) { LogInfo("%s", line); };
  options.log_warning = [](const std::string& line) { LogWarning("%s", line); };
  // A stream per I/O thread, and every stream already on disk (a start with fewer threads
  // still recovers their tails and answers feedback on their receipts).
  uint32_t streams = std::min(IoThreads(config), kMaxAuditStreams);
  if (absl::StatusOr<std::vector<uint32_t>> on_disk = audit::ListSegments(options.dir);
      on_disk.ok() && !on_disk->empty()) {
    streams = std::max(streams, audit::StreamOf(on_disk->back()) + 1);
  }
  if (const std::string limit = audit::FileSizeLimitWarning(options.segment_bytes);
      !limit.empty()) {
    LogWarning("audit: %s", limit);
  }
  std::vector<std::unique_ptr<audit::AuditLog>> logs;
  audit::AuditLog::Recovery total;
  for (uint32_t stream = 0; stream < streams; ++stream) {
    audit::AuditLog::Options o = options;
    o.stream = stream;
    audit::AuditLog::Recovery r;
    absl::StatusOr<std::unique_ptr<audit::AuditLog>> log = audit::AuditLog::Open(std::move(o), &r);
    if (!log.ok()) return log.status();
    logs.push_back(*std::move(log));
    total.segments += r.segments;
    total.records += r.records;
    total.torn = total.torn || r.torn;
    total.cut_bytes += r.cut_bytes;
    if (!r.message.empty()) {
      absl::StrAppend(&total.message, total.message.empty() ? "" : "; ", r.message);
    }
  }
  if (recovery != nullptr) *recovery = std::move(total);
  CalendarState state;
  if (absl::StatusOr<report::Calendar> calendar = LoadCalendar(config.calendar_dir);
      calendar.ok()) {
    state.calendar = *std::move(calendar);
  } else {
    state.error = std::string(calendar.status().message());
    LogWarning("holiday calendar %s: %s; report due dates unknown",
               CalendarDirs(config.calendar_dir), state.error);
  }
  return std::unique_ptr<Auditor>(new Auditor(std::move(logs), *node->cipher, config.audit_required,
                                              config.calendar_dir, std::move(state)));
}

Auditor::Auditor(std::vector<std::unique_ptr<audit::AuditLog>> logs,
                 const audit::ReceiptCipher& cipher, bool required, std::string calendar_dir,
                 CalendarState calendar)
    : logs_(std::move(logs)),
      cipher_(cipher),
      id_(next_auditor_id.fetch_add(1, std::memory_order_relaxed)),
      required_(required),
      calendar_dir_(std::move(calendar_dir)),
      calendar_(std::make_shared<const CalendarState>(std::move(calendar))) {}

absl::Status Auditor::ReloadCalendar() {
  absl::StatusOr<report::Calendar> calendar = LoadCalendar(calendar_dir_);
  if (!calendar.ok()) {
    return absl::Status(calendar.status().code(),
                        absl::StrCat("holiday calendar ", CalendarDirs(calendar_dir_), ": ",
                                     calendar.status().message()));
  }
  auto state = std::make_shared<const CalendarState>(CalendarState{*std::move(calendar), ""});
  std::lock_guard<std::mutex> lock(calendar_mu_);
  calendar_ = std::move(state);
  return absl::OkStatus();
}

std::shared_ptr<const Auditor::CalendarState> Auditor::CurrentCalendar() const {
  std::lock_guard<std::mutex> lock(calendar_mu_);
  return calendar_;
}

void Auditor::Observe(const absl::Status& status) const {
  // Rare: only an outcome that disagrees with the logged state is checked against the streams.
  if (status.ok() != failing_.load(std::memory_order_relaxed)) return;
  Reconcile().IgnoreError();
}

absl::Status Auditor::Reconcile() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  absl::Status writable = StreamsWritable(logs_);
  const bool failing = !writable.ok();
  if (failing_.load(std::memory_order_relaxed) == failing) return writable;
  failing_.store(failing, std::memory_order_relaxed);
  if (failing) {
    LogError("%s; %s", writable.message(),
             required_ ? "MEASURES is refused (AUDIT_UNAVAILABLE) until it can"
                       : "answers carry no receipts until it can (audit_required = false)");
  } else {
    LogInfo("the audit is written again");
  }
  return writable;
}

uint32_t Auditor::StreamOfThread() {
  thread_local uint64_t owner = 0;  // the auditor the stream below is of
  thread_local uint32_t stream = 0;
  if (owner != id_) {
    owner = id_;
    stream = next_stream_.fetch_add(1, std::memory_order_relaxed) % logs_.size();
  }
  return stream;
}

absl::StatusOr<audit::AuditLog::Appended> Auditor::Record(audit::QueryRecord* record) {
  record->time_micros = NowMicros();
  const uint32_t stream = StreamOfThread();
  absl::StatusOr<audit::AuditLog::Appended> appended = logs_[stream]->Append(record);
  if (!appended.ok()) {
    Observe(appended.status());
    return Unwritable(appended.status());
  }
  appended->ticket = Ticket(stream, appended->ticket);
  return appended;
}

void Auditor::Settle(uint32_t stream, uint64_t log_ticket) {
  std::lock_guard<AdaptiveMutex> lock(mu_);
  const auto undecided = std::partition(pending_.begin(), pending_.end(), [&](const Pending& p) {
    return TicketStream(p.ticket) == stream && LogTicket(p.ticket) <= log_ticket;
  });
  audit::AuditLog& log = *logs_[stream];
  for (auto it = pending_.begin(); it != undecided; ++it) {
    // Decided: returns at once, OK if the record was written, its failure if discarded.
    if (!log.Sync(LogTicket(it->ticket)).ok()) continue;
    if (fed_back_.contains(it->key)) continue;
    if (fed_back_.size() < kMaxFedBack) {
      fed_back_.insert(it->key);
    } else {
      ++untracked_;
    }
  }
  pending_.erase(pending_.begin(), undecided);
  pending_count_.store(pending_.size(), std::memory_order_relaxed);
}

absl::Status Auditor::Sync(uint64_t ticket) {
  const uint32_t stream = TicketStream(ticket);
  if (stream >= logs_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("no ticket ", ticket));
  }
  audit::AuditLog& log = *logs_[stream];
  absl::Status s = log.Sync(LogTicket(ticket));
  // Everything the log has decided, not only up to `ticket`: the first connection of a turn to
  // sync settles the feedback of all of them, and the others find nothing left to partition.
  // Feedback is rare: most syncs have none pending and take no lock here.
  if (!absl::IsInvalidArgument(s) && pending_count_.load(std::memory_order_relaxed) != 0) {
    Settle(stream, log.decided_ticket());
  }
  Observe(s);
  if (!s.ok()) {
    return Unwritable(s);
  }
  return s;
}

absl::StatusOr<Auditor::Recorded> Auditor::Feedback(std::string_view caller,
                                                    const wire::FeedbackRequest& request,
                                                    const MayApply& may_apply) {
  if (absl::Status s = wire::CheckFeedbackItems(request.items); !s.ok()) return s;
  // Each replica has its own audit: a receipt of another node is not "no record" but elsewhere.
  if (uint32_t node = 0; audit::ReceiptNode(request.receipt, &node) && node != logs_[0]->node()) {
    return absl::NotFoundError(absl::StrFormat(
        "receipt %s was issued by node %08x, this is node %08x: send the feedback to the replica "
        "that issued it (docs/replicas.md)",
        TerminalSafe(request.receipt.substr(0, audit::kMaxReceiptText)), node, logs_[0]->node()));
  }
  // InvalidArgument: not a receipt's form; NotFound: a keyed text the key does not open.
  absl::StatusOr<audit::ParsedReceipt> parsed = audit::ParseReceipt(request.receipt, &cipher_);
  if (!parsed.ok()) return parsed.status();
  const audit::Receipt* receipt = &parsed->receipt;
  // The answer for a receipt of no record, whatever the reason (Lookup's messages name the
  // position and the reason, which tell a prober where records are).
  const absl::Status no_record =
      absl::NotFoundError(absl::StrCat("receipt ", request.receipt, ": no record"));
  const uint32_t receipt_stream = audit::StreamOf(receipt->segment);
  if (receipt_stream >= logs_.size()) return no_record;
  absl::StatusOr<audit::AuditLog::LookedUp> answer = logs_[receipt_stream]->Lookup(*receipt);
  if (!answer.ok()) {
    // The position form learns nothing. A keyed text the key opened is one this node issued
    // (a feedback record's, one whose segment is gone): why is said, with the caller's text
    // in place of the position.
    if (absl::IsNotFound(answer.status()) && !parsed->keyed) return no_record;
    absl::string_view why = answer.status().message();
    absl::ConsumePrefix(&why, absl::StrCat("receipt ", receipt->ToString()));
    return absl::Status(answer.status().code(), absl::StrCat("receipt ", request.receipt, why));
  }
  const audit::QueryRecord& asked = answer->record;
  // A position form is a receipt only of a record written before the key (its answer carried
  // it), and only for its caller: anything else would let a caller probe positions, the other
  // callers' volume (FORMAT.md 15).
  if (!parsed->keyed &&
      (asked.time_micros >= cipher_.keyed_since_micros() || asked.caller != caller)) {
    return no_record;
  }
  // Before the caller: a receipt no answer carried was issued to no one.
  if (!asked.receipt_issued) return CheckFeedbackTarget(asked, request.receipt);
  if (asked.caller != caller) {
    return absl::PermissionDeniedError(
        absl::StrFormat("receipt %s was issued to another caller", request.receipt));
  }
  if (absl::Status s = CheckFeedbackTarget(asked, request.receipt); !s.ok()) return s;
  audit::FeedbackRecord record;
  for (const wire::FeedbackItem& item : request.items) {
    if (std::find(asked.measures.begin(), asked.measures.end(), item.measure) ==
        asked.measures.end()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("measure %d is not in the answer of receipt %s (it returned %d measures)",
                          item.measure, request.receipt, asked.measures.size()));
    }
    record.entries.push_back({item.measure, OutcomeOf(item.outcome), item.reason});
  }
  // The agency rule last: its advice (report the measure not applied) is for a measure of the
  // caller's own answer.
  for (const wire::FeedbackItem& item : request.items) {
    if (item.outcome != wire::FeedbackOutcome::kApplied || !may_apply) continue;
    if (absl::Status s = may_apply(item.measure); !s.ok()) return s;
  }
  record.time_micros = NowMicros();
  record.caller = caller;
  record.operator_id = request.operator_id;
  // The audit names the record reported on by its position, whichever form the caller sent.
  const std::string position = receipt->ToString();
  record.receipt = position;
  const uint32_t stream = StreamOfThread();
  absl::StatusOr<audit::AuditLog::Appended> appended = logs_[stream]->Append(&record);
  if (!appended.ok()) {
    Observe(appended.status());
    return Unwritable(appended.status());
  }
  appended->ticket = Ticket(stream, appended->ticket);
  // Only feedback on a receipt counted as awaiting it (issued since Open, with measures).
  if (audit::AwaitsFeedback(asked) && logs_[receipt_stream]->IssuedSinceOpen(*receipt)) {
    std::lock_guard<AdaptiveMutex> lock(mu_);
    pending_.push_back({appended->ticket, ReceiptKey(*receipt)});
    pending_count_.store(pending_.size(), std::memory_order_relaxed);
  }
  Recorded recorded;
  recorded.response.recorded = static_cast<uint16_t>(request.items.size());
  recorded.response.feedback_receipt = cipher_.Text(appended->receipt);
  recorded.ticket = appended->ticket;
  return recorded;
}

absl::Status Auditor::Writable() const {
  absl::Status writable = StreamsWritable(logs_);
  // A recovery the log's probe found with no query to observe it is logged here, with the
  // gauge or /readyz that shows it.
  if (writable.ok() == failing_.load(std::memory_order_relaxed)) return Reconcile();
  return writable;
}

wire::AuditInfo Auditor::Info(int64_t now, bool admin) const {
  wire::AuditInfo info;
  info.state = wire::AuditState::kOk;
  uint64_t awaiting = 0;
  for (const std::unique_ptr<audit::AuditLog>& log : logs_) {
    const audit::AuditLog::Stats stats = log->GetStats();
    if (stats.failing && info.state != wire::AuditState::kFailing) {
      info.state = wire::AuditState::kFailing;
      if (admin) info.error = stats.error;
    }
    // Finding 2 (x26): records stamped ahead of the clock are an audit problem too; shown
    // while none fails.
    if (admin && info.error.empty() && !stats.clock_note.empty()) info.error = stats.clock_note;
    info.records += stats.records;
    info.bytes += stats.bytes;
    awaiting += stats.awaiting_feedback;
  }
  if (!admin) {
    // The audit's totals are every caller's: polled, they would tell one agency how many
    // queries the others make and how much feedback they owe (FORMAT.md 15).
    info.records = 0;
    info.bytes = 0;
  }
  // Read unlocked: a reload swaps in a new one, this one lives on until Info() lets it go.
  if (const std::shared_ptr<const CalendarState> calendar = CurrentCalendar(); calendar->calendar) {
    const absl::CivilDay today = absl::ToCivilDay(absl::FromUnixSeconds(now), ChinaTime());
    absl::StatusOr<absl::CivilDay> due = calendar->calendar->NextDue(today);
    if (due.ok()) {
      info.next_report_due = DayNumber(*due);
    } else if (admin) {
      info.due_note = absl::StrCat(due.status().message(), kCalendarReadOnReload);
    } else {
      // Paths and what the operator must do are not an agency's (docs/shixind.md): the reason
      // alone, "no calendar for 2027".
      const absl::string_view message = due.status().message();
      info.due_note = std::string(message.substr(0, message.find(':')));
    }
  } else {
    info.due_note = admin ? calendar->error : "the holiday calendar could not be loaded";
  }
  if (!admin) return info;
  std::lock_guard<AdaptiveMutex> lock(mu_);
  const uint64_t fed_back = fed_back_.size() + untracked_;
  info.receipts_without_feedback = awaiting > fed_back ? awaiting - fed_back : 0;
  return info;
}

std::string Auditor::ClockNote() const {
  for (const std::unique_ptr<audit::AuditLog>& log : logs_) {
    if (std::string note = log->GetStats().clock_note; !note.empty()) return note;
  }
  return "";
}

LatencyHistogram::Counts Auditor::WriteLatency() const {
  return SumOverLogs(logs_, &audit::AuditLog::write_latency);
}

LatencyHistogram::Counts Auditor::FsyncLatency() const {
  return SumOverLogs(logs_, &audit::AuditLog::fsync_latency);
}

}  // namespace shixin
