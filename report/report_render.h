// The renderings of a quarterly report (report/quarterly.h): CSV (one table, a `level` column
// telling caller, agency, measure and reason rows apart), JSON (one object), and HTML (one
// self-contained page in Chinese and English that prints on A4).
//
// Thread safety: pure functions.
#ifndef SHIXIN_REPORT_REPORT_RENDER_H_
#define SHIXIN_REPORT_REPORT_RENDER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "report/quarterly.h"

namespace shixin::report {

// The CSV header line's columns, in order.
inline constexpr std::string_view kCsvColumns =
    "quarter,caller,level,agency,measure,title,queries,subjects,hits,returned,applied,"
    "not_applied,cancelled,receipts_with_measures,receipts_without_feedback,corrections,reason,"
    "detail";

// Returns the CSV: a UTF-8 byte order mark, the header line, then the rows (RFC 4180, fields
// as base/csv.h writes them, "\r\n" line ends). First the `incomplete` rows (the notes in
// `reason`), the `due_date` row (the due date in `detail`, or "" and the note why in `reason`),
// the `made_at` row (when, in `detail`; none when made_micros is 0) and an `audit_stream` row
// per stream read (StreamRead() in `reason`, its chain value in `detail`); the caller "*" rows
// are the total over every caller; reason rows carry their count in not_applied or cancelled; a
// `pending_receipt` row per receipt without feedback (its caller's first kMaxPending) has it in
// `detail`.
std::string RenderCsv(const QuarterlyReport& report);
// Returns the JSON object (one line): quarter, due_date, due_note, incomplete, incomplete_note,
// damaged, damage_note, made_at, audit_streams, caller_filter, catalog, empty,
// feedback_outside, feedback_entries_ignored, total, callers.
std::string RenderJson(const QuarterlyReport& report);
// Returns the HTML page. Also for an empty quarter (it says "no queries in QUARTER").
std::string RenderHtml(const QuarterlyReport& report);

// Returns when the report was made, "2026-10-01T00:00:15+08:00" (China time; "" unknown).
std::string MadeAt(const QuarterlyReport& report);
// Returns "stream S read through seq=N, sealed through seq=M": up to which record the report
// read a stream, and up to which its chain value covers.
std::string StreamRead(const audit::ReadCheck::Stream& stream);

// Returns the rendering named `format` ("csv", "json" or "html"), or InvalidArgument.
absl::StatusOr<std::string> Render(const QuarterlyReport& report, std::string_view format);

}  // namespace shixin::report

#endif  // SHIXIN_REPORT_REPORT_RENDER_H_
