// The punishment notice's renderers (notice/notice.h): its document (notice_document.h) as
// plain text or as printable HTML.
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/html.h"
#include "base/terminal.h"
#include "notice/notice.h"
#include "notice/notice_document.h"

namespace shixin {
namespace {

// Returns `text` (a line of the notice, the list's and the caller's values in it) as the text
// output writes such values: control characters and line separators escaped (TerminalSafe), so
// that the notice, on a terminal by default, cannot drive it and each line stays one.
std::string TextLine(std::string_view text) { return TerminalSafe(text, Quoting::kKept); }

void AppendTextTable(const notice::Table& table, std::string* out) {
  if (table.header.empty()) return;
  absl::StrAppend(out, "  ", TextLine(absl::StrJoin(table.header, " | ")), "\n");
  for (const std::vector<std::string>& row : table.rows) {
    absl::StrAppend(out, "  ", TextLine(absl::StrJoin(row, " | ")), "\n");
  }
}

void AppendHtmlTable(const notice::Table& table, std::string* out) {
  if (table.header.empty()) return;
  absl::StrAppend(out, "<table",
                  table.html_class.empty() ? "" : absl::StrCat(" class=\"", table.html_class, "\""),
                  ">\n<thead><tr>");
  for (const std::string& h : table.header) absl::StrAppend(out, "<th>", HtmlEscape(h), "</th>");
  absl::StrAppend(out, "</tr></thead>\n<tbody>\n");
  for (const std::vector<std::string>& row : table.rows) {
    absl::StrAppend(out, "<tr>");
    for (const std::string& cell : row) absl::StrAppend(out, "<td>", HtmlEscape(cell), "</td>");
    absl::StrAppend(out, "</tr>\n");
  }
  absl::StrAppend(out, "</tbody>\n</table>\n");
}

// The notice's own look over base/html.h's A4 page: a letter, not a table of numbers.
constexpr char kStyle[] =
    R"(body { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", "Source Han Serif SC", "SimSun",
  serif; font-size: 11pt; line-height: 1.6; color: #000; margin: 0; }
h1 { font-size: 18pt; text-align: center; letter-spacing: 0.1em; margin: 0 0 1em; }
h2 { font-size: 12pt; margin: 1em 0 0.3em; }
p { margin: 0.2em 0; text-indent: 2em; }
p.addressee { text-indent: 0; }
table { width: 100%; border-collapse: collapse; margin: 0.4em 0; page-break-inside: auto; }
tr { page-break-inside: avoid; }
th, td { border: 1px solid #000; padding: 2pt 4pt; vertical-align: top; font-size: 10pt; }
th { background: #eee; white-space: nowrap; }
table.measures th:nth-child(1) { width: 2.5em; }
table.measures th:nth-child(2), table.measures th:nth-child(3) { width: 6.5em; white-space: normal; }
table.measures th:nth-child(4) { width: 28%; }
.closing { text-align: right; margin-top: 2em; }
.closing p { text-indent: 0; }
.footnote { margin-top: 2em; font-size: 9pt; color: #333; border-top: 1px solid #999; }
.footnote p { text-indent: 0; }
)";

}  // namespace

std::string RenderNoticeText(const NoticeInput& input) {
  const notice::Document doc = notice::BuildDocument(input);
  std::string out = absl::StrCat(TextLine(doc.title), "\n\n", TextLine(doc.addressee), "\n");
  for (const notice::Section& s : doc.sections) {
    absl::StrAppend(&out, "\n", TextLine(s.heading), "\n");
    for (const std::string& p : s.before) absl::StrAppend(&out, "  ", TextLine(p), "\n");
    AppendTextTable(s.table, &out);
    for (const std::string& p : s.after) absl::StrAppend(&out, "  ", TextLine(p), "\n");
  }
  absl::StrAppend(&out, "\n");
  for (const std::string& line : doc.closing) absl::StrAppend(&out, TextLine(line), "\n");
  absl::StrAppend(&out, "\n");
  for (const std::string& line : doc.footnote) absl::StrAppend(&out, TextLine(line), "\n");
  return out;
}

std::string RenderNoticeHtml(const NoticeInput& input) {
  const notice::Document doc = notice::BuildDocument(input);
  std::string out;
  HtmlBegin(doc.title, kStyle, &out);
  absl::StrAppend(&out, "<h1>", HtmlEscape(doc.title), "</h1>\n<p class=\"addressee\">",
                  HtmlEscape(doc.addressee), "</p>\n");
  for (const notice::Section& s : doc.sections) {
    absl::StrAppend(&out, "<section>\n<h2>", HtmlEscape(s.heading), "</h2>\n");
    for (const std::string& p : s.before) absl::StrAppend(&out, "<p>", HtmlEscape(p), "</p>\n");
    AppendHtmlTable(s.table, &out);
    for (const std::string& p : s.after) absl::StrAppend(&out, "<p>", HtmlEscape(p), "</p>\n");
    absl::StrAppend(&out, "</section>\n");
  }
  absl::StrAppend(&out, "<div class=\"closing\">\n");
  for (const std::string& line : doc.closing) {
    absl::StrAppend(&out, "<p>", HtmlEscape(line), "</p>\n");
  }
  absl::StrAppend(&out, "</div>\n<div class=\"footnote\">\n");
  for (const std::string& line : doc.footnote) {
    absl::StrAppend(&out, "<p>", HtmlEscape(line), "</p>\n");
  }
  absl::StrAppend(&out, "</div>\n");
  HtmlEnd(&out);
  return out;
}

}  // namespace shixin
