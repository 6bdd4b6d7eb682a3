// The quarterly report of issue 12 (memorandum sections 二 and 四): per caller and per
// implementing agency, what was asked in a quarter, what was answered, and what the callers
// reported back on the measures. QuarterlyBuilder is fed the audit's records in one pass;
// Finish() returns the QuarterlyReport that report_render.h prints.
//
// Thread safety: a QuarterlyBuilder is used by one thread at a time; a QuarterlyReport is a
// plain value.
#ifndef SHIXIN_REPORT_QUARTERLY_H_
#define SHIXIN_REPORT_QUARTERLY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "audit/reader.h"
#include "audit/receipt.h"
#include "audit/record.h"
#include "audit/write_order.h"
#include "core/catalog.h"
#include "report/calendar.h"

namespace shixin::report {

struct ReasonCount {
  std::string reason;
  uint64_t count = 0;
};

// One measure number of one caller (or of all callers).
struct MeasureLine {
  int no = 0;
  std::string title;      // from the catalog, "" for a number it lacks
  int agency = -1;        // index into the catalog's agencies, -1 unknown
  std::string agency_id;  // its id, "" unknown
  uint64_t returned = 0;  // times the measure was in an answer
  uint64_t applied = 0;   // feedback (the latest per receipt and measure)
  uint64_t not_applied = 0;
  uint64_t cancelled = 0;
  std::vector<ReasonCount> not_applied_reasons;  // most frequent first
  std::vector<ReasonCount> cancelled_reasons;
};

// One implementing agency of one caller (or of all callers): the sums of its measures.
struct AgencyLine {
  int agency = 0;
  std::string id, name;
  uint64_t queries = 0;   // answers that returned at least one of its measures
  uint64_t subjects = 0;  // distinct subjects of those answers (SubjectKey)
  uint64_t returned = 0, applied = 0, not_applied = 0, cancelled = 0;
};

struct CallerReport {
  std::string caller;  // "" for open mode; the total's is "*"
  uint64_t queries = 0;
  uint64_t subjects = 0;  // distinct subjects asked about (core/id.h's SubjectKey)
  uint64_t hits = 0;      // answers listed or related
  uint64_t listed = 0;
  uint64_t related = 0;
  uint64_t receipts_with_measures = 0;        // answers that await feedback (AwaitsFeedback)
  uint64_t receipts_without_feedback = 0;     // of those, with no feedback at all
  uint64_t feedback_entries = 0;              // counted entries (after corrections)
  uint64_t corrections = 0;                   // entries replaced by a later one
  std::vector<AgencyLine> agencies;           // agencies with any count, by catalog order
  std::vector<MeasureLine> measures;          // measures with any count, by number
  std::vector<std::string> pending_receipts;  // receipts without feedback (first kMaxPending)
};

struct QuarterlyReport {
  Quarter quarter;
  std::string caller_filter;  // "" = every caller
  std::string catalog_id, catalog_title;
  std::vector<CallerReport> callers;  // by caller id
  CallerReport total;                 // every caller together (caller "*")
  // Feedback records naming a receipt not issued in the quarter (unknown, another quarter's,
  // one without measures, or one the answer did not carry): ignored, but counted. Entries naming a
  // measure the receipt did not return are ignored and counted too.
  uint64_t feedback_outside = 0;
  uint64_t feedback_entries_ignored = 0;
  // The due date, as report/calendar.h computes it, or why it is unknown.
  std::string due_date;  // "YYYY-MM-DD" or ""
  std::string due_note;  // e.g. "no calendar for 2027: add data/calendar/2027.toml"
  // Set when the audit holds every record only from after the quarter's start: it began then
  // (nothing before was recorded), or its older segments were removed (retention); the report
  // undercounts, or for a quarter over before then counts nothing. audit::CompleteSince();
  // 0: complete.
  int64_t incomplete_before_micros = 0;
  // Says so, and that the quarter had not ended (or begun) when the report was made; "" when
  // complete.
  std::string incomplete_note;
  // Set when the read found damage the checksums cannot see (audit::ReadCheck: a seal whose
  // chain does not follow, a segment missing, a sequence gap): the records counted may not be
  // those written. Says what and where; "" when none.
  std::string damage_note;
  // Each stream of the audit read, where its chain ends (its last seal's value and the sequence
  // it covers): a copy of the report kept elsewhere shows a later rewrite of those records.
  std::vector<audit::ReadCheck::Stream> audit_streams;
  // When the report was made (it read the audit): feedback counts whenever it arrived before,
  // so two reports of a quarter may differ; this and each stream's last sequence read tell
  // which is the later and what it rests on. Unix microseconds, 0 unknown.
  int64_t made_micros = 0;

  // Returns whether the quarter has no query (of the caller filtered on).
  bool empty() const { return total.queries == 0; }
};

// The receipts without feedback listed per caller (the counts are complete).
inline constexpr size_t kMaxPending = 1000;

class QuarterlyBuilder {
 public:
  // `catalog` must outlive the builder. `caller_filter` "" takes every caller.
  QuarterlyBuilder(const Catalog& catalog, Quarter quarter, std::string caller_filter);
  ~QuarterlyBuilder();
  QuarterlyBuilder(const QuarterlyBuilder&) = delete;
  QuarterlyBuilder& operator=(const QuarterlyBuilder&) = delete;

  // Lists the receipts without feedback of records written from cipher.keyed_since_micros() in
  // the keyed form, as their answers carried them (without a cipher: all in the position form).
  // Before any Add().
  void SetReceiptCipher(const audit::ReceiptCipher& cipher);
  // Counts a query record whose time is in the quarter (others are skipped); `receipt` is
  // where the record is (its receipt, whether or not the answer carried it).
  void Add(const audit::QueryRecord& record, const audit::Receipt& receipt);
  // Counts a feedback record toward the receipt it names, whenever it was written, and whether
  // it comes before or after its query (the audit's streams are read one after another). The
  // latest entry for the same measure of a receipt (by `order`, where the record was written:
  // audit/write_order.h) replaces the earlier ones (a correction); of equal orders, the one
  // added last.
  void Add(const audit::FeedbackRecord& record, const audit::WriteOrder& order);

  // Returns the report. The due date fields are left for the caller (SetDueDate()).
  QuarterlyReport Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads the audit directory `dir`, calling `on_query` and `on_feedback` for each record written
// at or after `from_micros`, in order (audit/reader.h's ForEachRecord), the feedback with its
// WriteOrder, and adds the damage found on the way to `check`. Returns its errors.
using QueryVisitor = std::function<void(const audit::QueryRecord&, const audit::Receipt&)>;
using FeedbackVisitor = std::function<void(const audit::FeedbackRecord&, const audit::WriteOrder&)>;
absl::Status ReadAudit(const std::string& dir, int64_t from_micros, const QueryVisitor& on_query,
                       const FeedbackVisitor& on_feedback, audit::ReadCheck* check);

// The reading of an audit directory, as ReadAudit() (tests pass their own records).
using AuditSource =
    std::function<absl::Status(const std::string& dir, int64_t from_micros, const QueryVisitor&,
                               const FeedbackVisitor&, audit::ReadCheck* check)>;

// Where the audit holds every record from (audit::CompleteSince(); tests pass their own).
using AuditStart = std::function<absl::StatusOr<audit::Coverage>(const std::string& dir)>;

// Returns the report of `quarter` over the audit in `audit_dir` read through `source` from the
// quarter's start (feedback written later counts), with its due date from `calendar` (nullptr:
// `calendar_error` is the note) and, from `start`, whether the audit still holds the quarter's
// beginning; damage the read found sets damage_note (the report is made all the same, and says
// so). made_micros is `now_micros` (0: the real clock) taken before the read. The receipts
// without feedback are listed as their answers carried them, keyed ones with the key in the
// node_id beside `audit_dir` (audit/node_id.h; none there: all in the position form). Returns
// the source's or `start`'s error, or the error reading that node_id (not its absence).
absl::StatusOr<QuarterlyReport> BuildQuarterlyReport(
    const std::string& audit_dir, Quarter quarter, const std::string& caller_filter,
    const Catalog& catalog, const Calendar* calendar, std::string_view calendar_error,
    const AuditSource& source = ReadAudit, const AuditStart& start = audit::CompleteSince,
    int64_t now_micros = 0);

}  // namespace shixin::report

#endif  // SHIXIN_REPORT_QUARTERLY_H_
