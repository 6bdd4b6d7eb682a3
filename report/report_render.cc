#include "report/report_render.h"

#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "audit/format.h"
#include "base/csv.h"
#include "base/html.h"
#include "core/validity.h"
#include "nlohmann/json.hpp"

namespace shixin::report {
namespace {

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// One CSV row; empty strings for the columns a level does not use.
struct CsvRow {
  std::string level, agency, measure, title, queries, subjects, hits, returned, applied,
      not_applied, cancelled, with_measures, without_feedback, corrections, reason, detail;
};

void AppendCsvRow(const QuarterlyReport& r, const std::string& caller, const CsvRow& row,
                  std::string* out) {
  const std::string* fields[] = {
      &row.level,     &row.agency,        &row.measure,          &row.title,       &row.queries,
      &row.subjects,  &row.hits,          &row.returned,         &row.applied,     &row.not_applied,
      &row.cancelled, &row.with_measures, &row.without_feedback, &row.corrections, &row.reason,
      &row.detail};
  absl::StrAppend(out, CsvField(r.quarter.ToString()), ",", CsvField(caller));
  for (const std::string* f : fields) absl::StrAppend(out, ",", CsvField(*f));
  out->append("\r\n");
}

std::string N(uint64_t n) { return absl::StrCat(n); }

// Appends the rows of `c`; its pending receipts' rows when `list_pending`.
void AppendCsvCaller(const QuarterlyReport& r, const CallerReport& c, bool list_pending,
                     std::string* out) {
  AppendCsvRow(
      r, c.caller,
      {"caller", "", "", "", N(c.queries), N(c.subjects), N(c.hits), "", "", "", "",
       N(c.receipts_with_measures), N(c.receipts_without_feedback), N(c.corrections), "", ""},
      out);
  for (const AgencyLine& a : c.agencies) {
    AppendCsvRow(r, c.caller,
                 {"agency", a.id, "", a.name, N(a.queries), N(a.subjects), "", N(a.returned),
                  N(a.applied), N(a.not_applied), N(a.cancelled), "", "", "", "", ""},
                 out);
  }
  for (const MeasureLine& m : c.measures) {
    CsvRow row{"measure",    m.agency_id,      N(m.no),        m.title, "", "", "", N(m.returned),
               N(m.applied), N(m.not_applied), N(m.cancelled), "",      "", "", "", ""};
    AppendCsvRow(r, c.caller, row, out);
    for (const ReasonCount& reason : m.not_applied_reasons) {
      AppendCsvRow(r, c.caller,
                   {"not_applied_reason", "", N(m.no), m.title, "", "", "", "", "", N(reason.count),
                    "", "", "", "", reason.reason, ""},
                   out);
    }
    for (const ReasonCount& reason : m.cancelled_reasons) {
      AppendCsvRow(r, c.caller,
                   {"cancelled_reason", "", N(m.no), m.title, "", "", "", "", "", "",
                    N(reason.count), "", "", "", reason.reason, ""},
                   out);
    }
  }
  for (const std::string& receipt : c.pending_receipts) {
    if (!list_pending) break;
    CsvRow row;
    row.level = "pending_receipt";
    row.detail = receipt;
    AppendCsvRow(r, c.caller, row, out);
  }
}

nlohmann::json Reasons(const std::vector<ReasonCount>& reasons) {
  nlohmann::json out = nlohmann::json::array();
  for (const ReasonCount& r : reasons) out.push_back({{"reason", r.reason}, {"count", r.count}});
  return out;
}

nlohmann::json CallerJson(const CallerReport& c) {
  nlohmann::json j = {{"caller", c.caller},
                      {"queries", c.queries},
                      {"subjects", c.subjects},
                      {"hits", c.hits},
                      {"listed", c.listed},
                      {"related", c.related},
                      {"receipts_with_measures", c.receipts_with_measures},
                      {"receipts_without_feedback", c.receipts_without_feedback},
                      {"feedback_entries", c.feedback_entries},
                      {"corrections", c.corrections}};
  nlohmann::json agencies = nlohmann::json::array();
  for (const AgencyLine& a : c.agencies) {
    agencies.push_back({{"agency", a.id},
                        {"name", a.name},
                        {"queries", a.queries},
                        {"subjects", a.subjects},
                        {"returned", a.returned},
                        {"applied", a.applied},
                        {"not_applied", a.not_applied},
                        {"cancelled", a.cancelled}});
  }
  nlohmann::json measures = nlohmann::json::array();
  for (const MeasureLine& m : c.measures) {
    measures.push_back({{"no", m.no},
                        {"title", m.title},
                        {"agency", m.agency_id},
                        {"returned", m.returned},
                        {"applied", m.applied},
                        {"not_applied", m.not_applied},
                        {"cancelled", m.cancelled},
                        {"not_applied_reasons", Reasons(m.not_applied_reasons)},
                        {"cancelled_reasons", Reasons(m.cancelled_reasons)}});
  }
  j["agencies"] = std::move(agencies);
  j["measures"] = std::move(measures);
  j["pending_receipts"] = c.pending_receipts;
  return j;
}

}  // namespace

std::string MadeAt(const QuarterlyReport& report) {
  return report.made_micros == 0 ? "" : FormatInstant(report.made_micros / 1000000);
}

std::string StreamRead(const audit::ReadCheck::Stream& stream) {
  return absl::StrFormat("stream %u read through seq=%u, sealed through seq=%u", stream.stream,
                         stream.last_sequence, stream.sealed_sequence);
}

std::string RenderCsv(const QuarterlyReport& report) {
  std::string out = absl::StrCat(Sv(kUtf8Bom), Sv(kCsvColumns), "\r\n");
  // An audit cut at its head, or damaged: each note a row of its own.
  for (const std::string* note : {&report.incomplete_note, &report.damage_note}) {
    if (note->empty()) continue;
    CsvRow row;
    row.level = "incomplete";
    row.reason = *note;
    AppendCsvRow(report, "*", row, &out);
  }
  CsvRow due;
  due.level = "due_date";
  due.reason = report.due_note;
  due.detail = report.due_date;
  AppendCsvRow(report, report.total.caller, due, &out);
  // When it was made, up to which record of each stream it read and where the stream's chain
  // ends: what the numbers rest on, as a later copy of the audit can check.
  if (report.made_micros != 0) {
    CsvRow made;
    made.level = "made_at";
    made.detail = MadeAt(report);
    AppendCsvRow(report, "*", made, &out);
  }
  for (const audit::ReadCheck::Stream& st : report.audit_streams) {
    CsvRow row;
    row.level = "audit_stream";
    row.reason = StreamRead(st);
    row.detail = audit::ChainText(st.chain);
    AppendCsvRow(report, "*", row, &out);
  }
  // The total's pending receipts are the callers' again: listed per caller only.
  AppendCsvCaller(report, report.total, /*list_pending=*/false, &out);
  for (const CallerReport& c : report.callers) AppendCsvCaller(report, c, true, &out);
  return out;
}

std::string RenderJson(const QuarterlyReport& report) {
  nlohmann::json j = {
      {"quarter", report.quarter.ToString()},
      {"due_date", report.due_date},
      {"due_note", report.due_note},
      {"incomplete", !report.incomplete_note.empty() || !report.damage_note.empty()},
      {"incomplete_note", report.incomplete_note},
      {"damaged", !report.damage_note.empty()},
      {"damage_note", report.damage_note},
      {"caller_filter", report.caller_filter},
      {"catalog", report.catalog_id},
      {"empty", report.empty()},
      {"feedback_outside", report.feedback_outside},
      {"feedback_entries_ignored", report.feedback_entries_ignored},
      {"total", CallerJson(report.total)}};
  nlohmann::json streams = nlohmann::json::array();
  for (const audit::ReadCheck::Stream& st : report.audit_streams) {
    streams.push_back({{"stream", st.stream},
                       {"last_sequence", st.last_sequence},
                       {"sealed_sequence", st.sealed_sequence},
                       {"chain", audit::ChainText(st.chain)}});
  }
  j["made_at"] = MadeAt(report);
  j["audit_streams"] = std::move(streams);
  nlohmann::json callers = nlohmann::json::array();
  for (const CallerReport& c : report.callers) callers.push_back(CallerJson(c));
  j["callers"] = std::move(callers);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<std::string> Render(const QuarterlyReport& report, std::string_view format) {
  if (format == "csv") return RenderCsv(report);
  if (format == "json") return RenderJson(report);
  if (format == "html") return RenderHtml(report);
  return absl::InvalidArgumentError(
      absl::StrCat("unknown format \"", Sv(format), "\" (csv, json or html)"));
}

}  // namespace shixin::report
