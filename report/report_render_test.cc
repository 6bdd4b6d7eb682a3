#include "report/report_render.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/csv.h"
#include "base/html.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "report/report_test_util.h"

namespace shixin::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(RenderCsvTest, HeaderAndRows) {
  const std::string csv = RenderCsv(TestReport());
  std::vector<std::string> lines = absl::StrSplit(csv, "\r\n", absl::SkipEmpty());
  ASSERT_GE(lines.size(), 6u);
  EXPECT_EQ(lines[0], std::string(kUtf8Bom) + std::string(kCsvColumns));  // read as UTF-8
  EXPECT_EQ(lines[1], "2026Q3,*,due_date,,,,,,,,,,,,,,,2026-10-13");
  EXPECT_EQ(lines[2], "2026Q3,*,caller,,,,47,10,10,,,,,10,8,1,,");
  EXPECT_THAT(csv, HasSubstr("\r\n2026Q3,hotel,caller,,,,42,10,7,,,,,7,6,0,,\r\n"));
  EXPECT_THAT(csv, HasSubstr("2026Q3,hotel,measure,public_security,41,"));
  // A reason with a comma is quoted.
  EXPECT_THAT(csv, HasSubstr(",1,,,,,\"guest, left\",\r\n"));
  EXPECT_THAT(csv,
              HasSubstr("2026Q3,bank,cancelled_reason,,52,授信限制,,,,,,,1,,,,paid <in full>,"));
  for (const std::string& line : lines) {
    EXPECT_GE(std::count(line.begin(), line.end(), ','), 17) << line;
  }
}

// The receipts to chase are listed once, under their caller; the total's count says how many.
TEST(RenderCsvTest, PendingReceiptsAndDueNote) {
  QuarterlyReport r = TestReport();
  const std::string csv = RenderCsv(r);
  EXPECT_THAT(csv, HasSubstr("\r\n2026Q3,hotel,pending_receipt,,,,,,,,,,,,,,,abcdef01-1-1001\r\n"));
  EXPECT_THAT(csv, HasSubstr("\r\n2026Q3,bank,pending_receipt,,,,,,,,,,,,,,,abcdef01-2-2001\r\n"));
  EXPECT_THAT(csv, Not(HasSubstr("2026Q3,*,pending_receipt")));
  const auto count = [&](std::string_view what) {
    size_t n = 0;
    for (size_t at = csv.find(what); at != std::string::npos; at = csv.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count(",pending_receipt,"), r.total.receipts_without_feedback);
  r.due_date = "";
  r.due_note = "no calendar for 2027: add data/calendar/2027.toml";
  EXPECT_THAT(RenderCsv(r),
              HasSubstr("\r\n2026Q3,*,due_date,,,,,,,,,,,,,,no calendar for 2027: add "
                        "data/calendar/2027.toml,\r\n"));
}

// Callers' reasons are free text: what a spreadsheet would run is text, control characters go.
TEST(RenderCsvTest, ReasonsCannotBeFormulas) {
  QuarterlyBuilder b(TestCatalog(), {2026, 3}, "");
  audit::QueryRecord q;
  q.time_micros = Quarter{2026, 3}.BeginMicros() + 1;
  q.caller = "bank";
  q.subject = "S";
  q.listing = audit::Listing::kListed;
  q.measures = {50, 51, 52};
  q.receipt_issued = true;
  b.Add(q, {0xabcdef01, 1, 100});
  audit::FeedbackRecord f;
  f.caller = "bank";
  f.receipt = "abcdef01-1-100";
  f.entries = {{50, audit::Outcome::kNotApplied, "=HYPERLINK(\"http://evil\",\"点击\")"},
               {51, audit::Outcome::kNotApplied, "+1+1"},
               {52, audit::Outcome::kCancelled, "@SUM(1)\x1b[2J"}};
  b.Add(f, {});
  const std::string csv = RenderCsv(b.Finish());
  EXPECT_THAT(csv, HasSubstr(",\"'=HYPERLINK(\"\"http://evil\"\",\"\"点击\"\")\","));
  EXPECT_THAT(csv, HasSubstr(",'+1+1,"));
  EXPECT_THAT(csv, HasSubstr(",'@SUM(1)\xEF\xBF\xBD[2J,"));
  EXPECT_THAT(csv, Not(HasSubstr("\x1b")));
}

TEST(RenderJsonTest, Parses) {
  const std::string text = RenderJson(TestReport());
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << text;
  EXPECT_EQ(j["quarter"], "2026Q3");
  EXPECT_EQ(j["due_date"], "2026-10-13");
  EXPECT_EQ(j["empty"], false);
  EXPECT_EQ(j["total"]["queries"], 47);
  ASSERT_EQ(j["callers"].size(), 2u);
  EXPECT_EQ(j["callers"][0]["caller"], "bank");
  EXPECT_EQ(j["callers"][0]["corrections"], 1);
  EXPECT_EQ(j["callers"][0]["measures"][0]["cancelled_reasons"][0]["reason"], "paid <in full>");
  EXPECT_EQ(j["callers"][1]["pending_receipts"].size(), 6u);
}

TEST(RenderHtmlTest, ContainsTheNumbersEscaped) {
  const std::string html = RenderHtml(TestReport());
  EXPECT_THAT(html, HasSubstr("@page { size: A4;"));
  EXPECT_THAT(html, HasSubstr("<td data-key=\"quarter\">2026Q3</td>"));
  EXPECT_THAT(html, HasSubstr("<td data-key=\"due_date\">2026-10-13</td>"));
  EXPECT_THAT(html, HasSubstr("data-key=\"queries\">42<"));
  EXPECT_THAT(html, HasSubstr("data-key=\"queries\">47<"));
  EXPECT_THAT(html, HasSubstr("协助法院进行住宿宾馆饭店限制"));
  EXPECT_THAT(html, HasSubstr("paid &lt;in full&gt; (1)"));
  EXPECT_THAT(html, HasSubstr("abcdef01-1-1001"));
  EXPECT_THAT(html, Not(HasSubstr("paid <in full>")));
  EXPECT_THAT(html, Not(HasSubstr("http")));  // self-contained: no external assets
}

TEST(RenderHtmlTest, EmptyQuarterAndCalendarNote) {
  QuarterlyBuilder b(TestCatalog(), {2026, 4}, "");
  QuarterlyReport r = b.Finish();
  r.due_note = "no calendar for 2027: add data/calendar/2027.toml";
  const std::string html = RenderHtml(r);
  EXPECT_THAT(html, HasSubstr("no queries in 2026Q4"));
  EXPECT_THAT(html, HasSubstr("no calendar for 2027: add data/calendar/2027.toml"));
  EXPECT_EQ(RenderCsv(r).substr(kUtf8Bom.size(), kCsvColumns.size()), kCsvColumns);
  EXPECT_THAT(RenderJson(r), HasSubstr("\"empty\":true"));
}

TEST(RenderTest, AnIncompleteAuditIsSaidInEveryFormat) {
  QuarterlyReport r = TestReport();
  r.incomplete_note = "the audit starts at X: this report is incomplete";
  EXPECT_THAT(RenderCsv(r), HasSubstr(",incomplete,"));
  EXPECT_THAT(RenderCsv(r), HasSubstr("the audit starts at X: this report is incomplete,\r\n"));
  EXPECT_THAT(RenderJson(r), HasSubstr("\"incomplete\":true"));
  EXPECT_THAT(RenderJson(r), HasSubstr("this report is incomplete"));
  EXPECT_THAT(RenderHtml(r), HasSubstr("data-key=\"incomplete\""));
  EXPECT_THAT(RenderHtml(r), HasSubstr("this report is incomplete"));
  EXPECT_THAT(RenderJson(TestReport()), HasSubstr("\"incomplete\":false"));
}

TEST(RenderTest, Formats) {
  const QuarterlyReport r = TestReport();
  EXPECT_TRUE(Render(r, "csv").ok());
  EXPECT_TRUE(Render(r, "json").ok());
  EXPECT_TRUE(Render(r, "html").ok());
  EXPECT_EQ(Render(r, "pdf").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shixin::report
