// RenderHtml() of report_render.h: the printable page.
#include <string>

#include "absl/strings/str_cat.h"
#include "audit/format.h"
#include "base/html.h"
#include "report/report_render.h"

namespace shixin::report {
namespace {

// A header cell in Chinese with its English below.
std::string Th(std::string_view zh, std::string_view en) {
  return absl::StrCat("<th>", HtmlEscape(zh), "<br><span class=\"en\">", HtmlEscape(en),
                      "</span></th>");
}

// A number cell; `key` names the figure for scripts and tests (data-key).
std::string Td(uint64_t n, std::string_view key = "") {
  if (key.empty()) return absl::StrCat("<td class=\"n\">", n, "</td>");
  return absl::StrCat("<td class=\"n\" data-key=\"", HtmlEscape(key), "\">", n, "</td>");
}

std::string TdText(std::string_view text) {
  return absl::StrCat("<td>", HtmlEscape(text), "</td>");
}

void AppendSummary(const CallerReport& c, std::string* out) {
  absl::StrAppend(out, "<table class=\"summary\"><thead><tr>", Th("查询次数", "queries"),
                  Th("查询主体数", "distinct subjects"), Th("命中", "hits"), Th("失信", "listed"),
                  Th("关联", "related"), Th("返回措施的回执", "receipts with measures"),
                  Th("未反馈回执", "receipts without feedback"), Th("更正", "corrections"),
                  "</tr></thead><tbody><tr>", Td(c.queries, "queries"), Td(c.subjects, "subjects"),
                  Td(c.hits, "hits"), Td(c.listed), Td(c.related),
                  Td(c.receipts_with_measures, "receipts_with_measures"),
                  Td(c.receipts_without_feedback, "receipts_without_feedback"),
                  Td(c.corrections, "corrections"), "</tr></tbody></table>\n");
}

void AppendAgencies(const CallerReport& c, std::string* out) {
  if (c.agencies.empty()) return;
  absl::StrAppend(out, "<h3>按实施单位 <span class=\"en\">By implementing agency</span></h3>",
                  "<table class=\"agencies\"><thead><tr>", Th("实施单位", "agency"),
                  Th("查询次数", "queries"), Th("主体数", "subjects"), Th("返回措施", "returned"),
                  Th("已实施", "applied"), Th("未实施", "not applied"), Th("已撤销", "cancelled"),
                  "</tr></thead><tbody>");
  for (const AgencyLine& a : c.agencies) {
    absl::StrAppend(out, "<tr>", TdText(a.name), Td(a.queries), Td(a.subjects), Td(a.returned),
                    Td(a.applied), Td(a.not_applied), Td(a.cancelled), "</tr>");
  }
  out->append("</tbody></table>\n");
}

std::string ReasonList(const std::vector<ReasonCount>& reasons) {
  std::string out;
  for (const ReasonCount& r : reasons) {
    absl::StrAppend(&out, out.empty() ? "" : "<br>", HtmlEscape(r.reason), " (", r.count, ")");
  }
  return out;
}

void AppendMeasures(const CallerReport& c, std::string* out) {
  if (c.measures.empty()) return;
  absl::StrAppend(out, "<h3>按惩戒措施 <span class=\"en\">By measure</span></h3>",
                  "<table class=\"measures\"><thead><tr>", Th("编号", "no."),
                  Th("惩戒措施", "measure"), Th("返回", "returned"), Th("已实施", "applied"),
                  Th("未实施", "not applied"), Th("已撤销", "cancelled"),
                  Th("未实施原因", "reasons not applied"), Th("撤销原因", "reasons cancelled"),
                  "</tr></thead><tbody>");
  for (const MeasureLine& m : c.measures) {
    absl::StrAppend(out, "<tr>", Td(m.no), TdText(m.title), Td(m.returned), Td(m.applied),
                    Td(m.not_applied), Td(m.cancelled), "<td>", ReasonList(m.not_applied_reasons),
                    "</td><td>", ReasonList(m.cancelled_reasons), "</td></tr>");
  }
  out->append("</tbody></table>\n");
}

void AppendPending(const CallerReport& c, std::string* out) {
  if (c.pending_receipts.empty()) return;
  absl::StrAppend(out, "<h3>未反馈的回执 <span class=\"en\">Receipts without feedback</span></h3>",
                  "<table class=\"pending\"><thead><tr>", Th("回执", "receipt"),
                  "</tr></thead><tbody>");
  for (const std::string& receipt : c.pending_receipts) {
    absl::StrAppend(out, "<tr>", TdText(receipt), "</tr>");
  }
  out->append("</tbody></table>\n");
  if (c.receipts_without_feedback > c.pending_receipts.size()) {
    absl::StrAppend(out, "<p class=\"note\">… ",
                    c.receipts_without_feedback - c.pending_receipts.size(),
                    " more / 另有未列出的回执</p>\n");
  }
}

void AppendCaller(const CallerReport& c, bool pending, std::string* out) {
  if (c.caller == "*") {
    out->append(
        "<section class=\"caller\" data-caller=\"*\"><h2>全部调用单位 "
        "<span class=\"en\">All callers</span></h2>\n");
  } else {
    absl::StrAppend(out, "<section class=\"caller\" data-caller=\"", HtmlEscape(c.caller),
                    "\"><h2>调用单位 <span class=\"en\">Caller</span> ",
                    HtmlEscape(c.caller.empty() ? "(open mode)" : c.caller), "</h2>\n");
  }
  AppendSummary(c, out);
  AppendAgencies(c, out);
  AppendMeasures(c, out);
  if (pending) AppendPending(c, out);
  out->append("</section>\n");
}

}  // namespace

std::string RenderHtml(const QuarterlyReport& report) {
  const std::string quarter = report.quarter.ToString();
  std::string out;
  HtmlBegin(absl::StrCat("联合惩戒季度报告 ", quarter),
            "th { word-break: keep-all; } table.meta th { width: 8em; }\n", &out);
  absl::StrAppend(&out,
                  "<h1>失信被执行人联合惩戒情况季度报告<br><span class=\"en\">Quarterly report "
                  "of joint punishment of dishonest judgment debtors</span></h1>\n",
                  "<table class=\"meta\"><tbody><tr>", Th("季度", "quarter"),
                  "<td data-key=\"quarter\">", HtmlEscape(quarter), "</td></tr><tr>",
                  Th("报送截止日", "due date"), "<td data-key=\"due_date\">",
                  HtmlEscape(report.due_date.empty() ? report.due_note : report.due_date),
                  "</td></tr><tr>", Th("备忘录", "memorandum"), TdText(report.catalog_title),
                  "</tr><tr>", Th("调用单位", "caller"),
                  TdText(report.caller_filter.empty() ? "全部 / all" : report.caller_filter),
                  "</tr><tr>", Th("生成时间", "made at"), "<td data-key=\"made_at\">",
                  HtmlEscape(MadeAt(report)), "</td></tr>");
  // Where each stream's chain ends: the records the report rests on, as a later copy can check.
  for (const audit::ReadCheck::Stream& st : report.audit_streams) {
    absl::StrAppend(&out, "<tr>", Th("审计链", "audit chain"), "<td data-key=\"audit_stream\">",
                    HtmlEscape(absl::StrCat(StreamRead(st), ": ", audit::ChainText(st.chain))),
                    "</td></tr>");
  }
  out.append("</tbody></table>\n");
  if (!report.incomplete_note.empty()) {
    absl::StrAppend(&out, "<p class=\"note\" data-key=\"incomplete\">本季度的审计记录不完整 / ",
                    HtmlEscape(report.incomplete_note), "</p>\n");
  }
  if (!report.damage_note.empty()) {
    absl::StrAppend(&out, "<p class=\"note\" data-key=\"damaged\">审计记录有损坏或被改动 / ",
                    HtmlEscape(report.damage_note), "</p>\n");
  }
  if (report.empty()) {
    absl::StrAppend(&out, "<p class=\"empty\" data-key=\"empty\">本季度无查询记录 / no queries in ",
                    HtmlEscape(quarter), "</p>\n");
  } else {
    // The total's pending list would repeat the callers'.
    AppendCaller(report.total, false, &out);
    for (const CallerReport& c : report.callers) AppendCaller(c, true, &out);
  }
  if (report.feedback_outside + report.feedback_entries_ignored > 0) {
    absl::StrAppend(&out,
                    "<p class=\"note\">其他季度或未知回执的反馈 / feedback on receipts of "
                    "other quarters or unknown: <span data-key=\"feedback_outside\">",
                    report.feedback_outside,
                    "</span>; 忽略的反馈条目 / entries ignored: ", report.feedback_entries_ignored,
                    "</p>\n");
  }
  HtmlEnd(&out);
  return out;
}

}  // namespace shixin::report
