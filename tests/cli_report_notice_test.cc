// End-to-end tests of `shixin report` and `shixin notice` on an audit written by AuditLog:
// MEASURES and CHECK answers on subjects of data/sample, feedback (applied, not applied,
// cancelled, a correction); the numbers of the report in each format (answers without receipt
// owing nothing, reasons that would be formulas), a quarter without data, a caller without
// record, a year without a calendar, the notice of a receipt in text and HTML (its issuer, an
// answer without measures or with none applied, an officer's measure, an as-of answer and a case
// revoked since), unknown receipts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "audit/audit_log.h"
#include "audit/audit_test_util.h"
#include "audit/format.h"
#include "audit/receipt.h"
#include "tests/cli_run.h"

namespace shixin::audit {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using shixin::testing::RunResult;
using shixin::testing::Shixin;

constexpr int64_t kT0 = 1780000000LL * 1000000;   // 2026-05-29T04:26:40+08:00 (2026Q2)
constexpr char kPerson[] = "11010519491231002X";  // 张秀兰, listed in data/sample

class CliReportNoticeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AuditLog::Options o;
    o.dir = dir_;
    o.node = 0x9f2c41d0;
    o.now_micros = [] { return kT0; };  // the segment is created when its records are stamped
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o, nullptr);
    ASSERT_TRUE(log.ok());
    QueryRecord housing = Query("hegang-housing", 4, {7, 41}, kT0);
    QueryRecord check = Query("hegang-housing", 3, {}, kT0 + 1000);
    QueryRecord bank = Query("bank", 4, {41}, kT0 + 2000);
    absl::StatusOr<AuditLog::Appended> a = (*log)->Append(&housing);
    absl::StatusOr<AuditLog::Appended> b = (*log)->Append(&check);
    absl::StatusOr<AuditLog::Appended> c = (*log)->Append(&bank);
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    receipt_ = a->receipt.ToString();
    bank_receipt_ = c->receipt.ToString();
    // Housing: 7 applied, 41 not applied; then a correction: 41 cancelled.
    ASSERT_TRUE(Feedback(log->get(), "hegang-housing", receipt_, kT0 + 5000,
                         {{7, Outcome::kApplied, ""}, {41, Outcome::kNotApplied, "已履行"}}));
    ASSERT_TRUE(Feedback(log->get(), "hegang-housing", receipt_, kT0 + 6000,
                         {{41, Outcome::kCancelled, "误报更正"}}));
    ASSERT_TRUE((*log)->SyncToDisk().ok());
  }

  QueryRecord Query(const char* caller, uint8_t opcode, std::vector<uint16_t> measures,
                    int64_t time) {
    QueryRecord q = testing::TypicalQuery(kPerson, time);
    q.delta_sequence = 0;  // answered from data/sample alone
    q.caller = caller;
    q.opcode = opcode;
    q.measures = std::move(measures);
    return q;
  }

  static bool Feedback(AuditLog* log, const char* caller, const std::string& receipt, int64_t time,
                       std::vector<FeedbackEntry> entries) {
    FeedbackRecord f;
    f.time_micros = time;
    f.caller = caller;
    f.receipt = receipt;
    f.entries = std::move(entries);
    return log->Append(&f).ok();
  }

  // Appends `q`, the records of the officers its request sent (IDs and listings, as shixind
  // writes them right after it) and, if `entries` is not empty, its caller's feedback on it;
  // returns its receipt.
  std::string Append(QueryRecord q, std::vector<FeedbackEntry> entries = {},
                     const std::vector<std::pair<std::string, Listing>>& officers = {}) {
    AuditLog::Options o;
    o.dir = dir_;
    o.node = 0x9f2c41d0;
    o.now_micros = [t = q.time_micros] { return t; };
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o, nullptr);
    EXPECT_TRUE(log.ok());
    if (!log.ok()) return "";
    absl::StatusOr<AuditLog::Appended> a = (*log)->Append(&q);
    EXPECT_TRUE(a.ok());
    if (!a.ok()) return "";
    std::string receipt = a->receipt.ToString();
    for (const auto& [id, listing] : officers) {
      QueryRecord officer = q;
      officer.subject = id;
      officer.kind = 0;
      officer.listing = listing;
      officer.measures.clear();
      officer.receipt_issued = false;
      EXPECT_TRUE((*log)->Append(&officer).ok());
    }
    if (!entries.empty()) {
      EXPECT_TRUE(Feedback(log->get(), std::string(q.caller).c_str(), receipt, q.time_micros + 1000,
                           std::move(entries)));
    }
    EXPECT_TRUE((*log)->SyncToDisk().ok());
    return receipt;
  }

  std::string Report(const std::string& quarter, const std::string& format) {
    return absl::StrCat("report --audit ", dir_, " --quarter ", quarter, " --format ", format);
  }
  std::string Notice(const std::string& receipt, const std::string& format) {
    return absl::StrCat("notice --receipt ", receipt, " --audit ", dir_,
                        " --data data/sample --format ", format);
  }
  // A delta directory with `lines` as its file 1.
  std::string Deltas(const std::string& lines) {
    std::string deltas = tmp_.path() + "/deltas";
    EXPECT_EQ(std::system(("mkdir -p " + deltas).c_str()), 0);
    std::ofstream(deltas + "/00000000000000000001.ndjson") << lines;
    return deltas;
  }

  testing::ScratchDir tmp_;
  std::string dir_ = tmp_.path() + "/audit";
  std::string receipt_, bank_receipt_;
};

TEST_F(CliReportNoticeTest, ReportCsvCountsQueriesMeasuresFeedbackAndCorrections) {
  const RunResult r = Shixin(Report("2026Q2", "csv"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.substr(0, 11), "\xEF\xBB\xBFquarter,");  // the byte order mark: read as UTF-8
  EXPECT_THAT(r.out, HasSubstr("\r\n2026Q2,*,due_date,,,,,,,,,,,,,,,2026-07-07\r\n"));
  // Total: 3 queries on 1 subject, 2 receipts with measures, 1 without feedback, 1 correction.
  EXPECT_THAT(r.out, HasSubstr("\r\n2026Q2,*,caller,,,,3,1,3,,,,,2,1,1,,\r\n"));
  // The correction wins: 41 counts as cancelled, not as not applied.
  EXPECT_THAT(r.out, HasSubstr("\r\n2026Q2,hegang-housing,measure,public_security,41,"
                               "协助法院进行住宿宾馆饭店限制,,,,1,0,0,1,,,,,\r\n"));
  EXPECT_THAT(r.out, HasSubstr("\r\n2026Q2,hegang-housing,measure,staffing_office,7,"
                               "担任事业单位法定代表人限制,,,,1,1,0,0,,,,,\r\n"));
  EXPECT_THAT(r.out, HasSubstr(",41,协助法院进行住宿宾馆饭店限制,,,,,,,1,,,,误报更正,\r\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("已履行")));  // the corrected reason is gone
  EXPECT_THAT(r.out, HasSubstr("\r\n2026Q2,bank,caller,,,,1,1,1,,,,,1,1,0,,\r\n"));
  // The receipt to chase, under its caller.
  EXPECT_THAT(r.out,
              HasSubstr("\r\n2026Q2,bank,pending_receipt,,,,,,,,,,,,,,," + bank_receipt_ + "\r\n"));
}

// An answer to a client of versions 1-3 returned measures but carried no receipt: the report
// owes no feedback on it (as INFO and the notice).
TEST_F(CliReportNoticeTest, ReportOwesNoFeedbackOnAnswersWithoutReceipt) {
  QueryRecord v3 = Query("loadtest", 4, {41}, kT0 + 3000);
  v3.receipt_issued = false;
  const std::string never_issued = Append(v3);
  const RunResult r = Shixin(Report("2026Q2", "csv"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\r\n2026Q2,loadtest,caller,,,,1,1,1,,,,,0,0,0,,\r\n"));
  EXPECT_THAT(r.out, HasSubstr("\r\n2026Q2,*,caller,,,,4,1,4,,,,,2,1,1,,\r\n"));
  EXPECT_THAT(r.out, Not(HasSubstr(never_issued)));
}

// A caller id with no record looks like a caller that asked nothing: the report says so.
TEST_F(CliReportNoticeTest, ReportOfACallerWithoutRecordSaysSo) {
  RunResult r = Shixin(Report("2026Q2", "csv") + " --caller nobody", /*with_stderr=*/true);
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("no record of caller \"nobody\" in the audit for 2026Q2"));
  r = Shixin(Report("2026Q2", "csv") + " --caller bank", /*with_stderr=*/true);
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, Not(HasSubstr("no record")));
}

// Callers' reasons are free text; the credit office opens the CSV in a spreadsheet.
TEST_F(CliReportNoticeTest, ReportCsvReasonsAreNeverFormulas) {
  Append(Query("bank", 4, {41, 52}, kT0 + 3000),
         {{41, Outcome::kNotApplied, "=HYPERLINK(\"http://evil\",\"点击\")"},
          {52, Outcome::kCancelled, "+1+1"}});
  const RunResult r = Shixin(Report("2026Q2", "csv"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr(",\"'=HYPERLINK(\"\"http://evil\"\",\"\"点击\"\")\",\r\n"));
  EXPECT_THAT(r.out, HasSubstr(",'+1+1,\r\n"));
}

TEST_F(CliReportNoticeTest, ReportJsonAndHtml) {
  const RunResult j = Shixin(Report("2026Q2", "json"));
  ASSERT_EQ(j.status, 0);
  EXPECT_THAT(j.out, HasSubstr(R"("due_date":"2026-07-07")"));
  EXPECT_THAT(j.out, HasSubstr(R"("pending_receipts":[")" + bank_receipt_ + "\"]"));
  EXPECT_THAT(j.out,
              HasSubstr(R"("caller":"hegang-housing","corrections":1,"feedback_entries":2)"));
  EXPECT_THAT(j.out, HasSubstr(R"("queries":3,"receipts_with_measures":2,)"
                               R"("receipts_without_feedback":1)"));
  const RunResult h = Shixin(Report("2026Q2", "html"));
  ASSERT_EQ(h.status, 0);
  EXPECT_THAT(h.out, HasSubstr("<td data-key=\"due_date\">2026-07-07</td>"));
  EXPECT_THAT(h.out, HasSubstr("<td class=\"n\" data-key=\"queries\">3</td>"));
  EXPECT_THAT(h.out, HasSubstr("<td>" + bank_receipt_ + "</td>"));
  EXPECT_THAT(h.out, HasSubstr("误报更正 (1)"));
}

TEST_F(CliReportNoticeTest, ReportOfAQuarterWithoutData) {
  const RunResult r = Shixin(Report("2026Q4", "json"));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr(R"("empty":true)"));
  EXPECT_THAT(r.out, HasSubstr(R"("quarter":"2026Q4")"));
  EXPECT_THAT(Shixin(Report("2026Q4", "html")).out, HasSubstr("no queries in 2026Q4"));
  // A quarter over before the audit began: no record of it, not a certified "no queries".
  const RunResult before = Shixin(Report("2026Q1", "json"));
  EXPECT_EQ(before.status, 0) << before.out;
  EXPECT_THAT(before.out, HasSubstr(R"("empty":true)"));
  EXPECT_THAT(before.out, HasSubstr(R"("incomplete":true)"));
  EXPECT_THAT(before.out, HasSubstr("the audit begins at 2026-05-29T04:26:40+08:00, after this "
                                    "quarter: it holds no record of the quarter"));
}

// The shipped calendar belongs to the package: a missing year goes in a directory of one's own,
// whose years add to the shipped ones (--calendar DIR).
TEST_F(CliReportNoticeTest, ReportForAYearWithoutCalendarSaysWhichFileToAdd) {
  RunResult r = Shixin(Report("2031Q1", "html"), /*with_stderr=*/true);
  EXPECT_THAT(r.out, HasSubstr("no calendar for 2031: add 2031.toml to a directory named by "
                               "--calendar DIR; its years add to the shipped calendar"));
  const std::string local = tmp_.path() + "/calendar";
  std::filesystem::create_directory(local);
  r = Shixin(Report("2031Q1", "json") + " --calendar " + local, /*with_stderr=*/true);
  EXPECT_THAT(r.out, HasSubstr("add " + local + "/2031.toml"));
  std::ofstream(local + "/2031.toml") << "year = 2031\nsource = \"test\"\nholidays = []\n"
                                         "working_days = []\n";
  // Apr 1 2031 is a Tuesday: 1, 2, 3, 4, 7.
  r = Shixin(Report("2031Q1", "json") + " --calendar " + local, /*with_stderr=*/true);
  EXPECT_THAT(r.out, HasSubstr(R"("due_date":"2031-04-07")"));
  // The shipped years stay: 2026Q2's date needs 2026.
  r = Shixin(Report("2026Q2", "json") + " --calendar " + local, /*with_stderr=*/true);
  EXPECT_THAT(r.out, HasSubstr(R"("due_date":"2026-07-07")"));
}

TEST_F(CliReportNoticeTest, NoticeTextOfAReceipt) {
  const RunResult r = Shixin(Notice(receipt_, "txt"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("失信被执行人联合惩戒告知书\n\n张秀兰：\n"));
  EXPECT_THAT(r.out, HasSubstr("公民身份号码：1101051949****002X\n"));
  EXPECT_THAT(r.out, Not(HasSubstr(kPerson)));
  EXPECT_THAT(r.out, HasSubstr("(2015)鹤向法执字第00232号 | 鹤岗市向阳区人民法院"));
  // Feedback: 7 applied; 41 cancelled by the correction, so not listed.
  EXPECT_THAT(r.out, HasSubstr("  7 | 担任事业单位法定代表人限制 | 鹤岗市机构编制委员会办公室 |"));
  EXPECT_THAT(r.out, Not(HasSubstr("协助法院进行住宿宾馆饭店限制")));
  EXPECT_THAT(r.out, HasSubstr("第十一条，向执行法院（鹤岗市向阳区人民法院）书面申请纠正。"));
  EXPECT_THAT(r.out, HasSubstr("回执编号：" + receipt_ + "\n"));
}

// -o FILE of a report (the callers' activity) or a notice (a subject's full ID and cases): the
// owner's only, whatever the file replaced, and never through a link planted at FILE.tmp.
TEST_F(CliReportNoticeTest, ReportAndNoticeFilesAreTheOwnersOnly) {
  const std::string victim = tmp_.path() + "/victim";
  std::ofstream(victim) << "precious";
  for (const std::string& command : {Report("2026Q2", "csv"), Notice(receipt_, "txt")}) {
    const std::string out = tmp_.path() + "/out";
    std::ofstream(out) << "old";
    ASSERT_EQ(::chmod(out.c_str(), 0644), 0);
    ASSERT_EQ(::symlink(victim.c_str(), (out + ".tmp").c_str()), 0);
    ASSERT_EQ(Shixin(absl::StrCat(command, " -o ", out)).status, 0) << command;
    struct stat st {};
    ASSERT_EQ(::stat(out.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u) << command;
    EXPECT_NE(st.st_size, 3) << command;
    ::unlink((out + ".tmp").c_str());
    ::unlink(out.c_str());
  }
  std::ifstream in(victim);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "precious");
}

TEST_F(CliReportNoticeTest, NoticeHtmlOfAReceiptWithoutFeedbackListsTheMeasuresReturned) {
  const RunResult r = Shixin(Notice(bank_receipt_, "html"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("<title>"));
  EXPECT_THAT(r.out, HasSubstr("惩戒告知书"));
  EXPECT_THAT(r.out, HasSubstr("张秀兰"));
  EXPECT_THAT(r.out, HasSubstr("1101051949****002X"));
  EXPECT_THAT(r.out, Not(HasSubstr(kPerson)));
  EXPECT_THAT(r.out, HasSubstr("（2018）黑0402执恢45号"));
  EXPECT_THAT(r.out, HasSubstr("协助法院进行住宿宾馆饭店限制"));
  EXPECT_THAT(r.out, HasSubstr("书面申请纠正"));
  EXPECT_THAT(r.out, HasSubstr("@page"));
}

// The notice of an answer given from a list with deltas is drawn from that list: with the
// delta files (a case removed as performed is not cited), never from an older list.
TEST_F(CliReportNoticeTest, NoticeOfAnAnswerAfterDeltasNeedsThem) {
  const std::string deltas = Deltas(
      absl::StrCat(R"({"op":"remove","caseCode":"(2015)鹤向法执字第00232号","cardNum":")", kPerson,
                   R"(","reason":"performed","at":"2026-05-01T00:00:00+08:00"})", "\n"));
  QueryRecord q = Query("bank", 4, {41}, kT0 + 10000);
  q.delta_sequence = 1;
  const std::string receipt = Append(q);
  RunResult r = Shixin(Notice(receipt, "txt"), /*with_stderr=*/true);
  EXPECT_EQ(r.status, 3);
  EXPECT_THAT(r.out, HasSubstr("with deltas up to 1, the list given has them up to 0"));
  r = Shixin(Notice(receipt, "txt") + " --deltas " + deltas);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("（2018）黑0402执恢45号"));
  EXPECT_THAT(r.out, Not(HasSubstr("(2015)鹤向法执字第00232号")));
}

// Finding 2 of /tmp/x31: the court revokes the case an answer rested on with an `at` before the
// answer, in a file pushed after it. The notice states the answer's basis (listed), the
// subject's name and case, the revocation flagged as retroactive; it never turns the measure
// into one "through officers the caller sent". A snapshot that folds the revoke into its base
// cannot show the answer's list: refused, naming the case, the change and its instant.
TEST_F(CliReportNoticeTest, NoticeAfterARetroactiveRevokeStatesTheAnswersBasisFlagged) {
  const std::string deltas =
      Deltas(R"({"op":"revoke","caseCode":"（2020）黑04执77号","cardNum":"91230402MA1B7Q2C9U",)"
             R"("at":"2026-05-29T00:00:00+08:00"})"
             "\n");
  QueryRecord q = Query("bank", 4, {52}, kT0 + 20000);
  q.subject = "91230402MA1B7Q2C9U";
  q.kind = 1;
  q.scenario_filter = "bank_credit";
  const std::string receipt = Append(q);
  RunResult r = Shixin(Notice(receipt, "txt") + " --deltas " + deltas, /*with_stderr=*/true);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\n鹤岗市宏达建筑工程有限公司：\n"));
  EXPECT_THAT(r.out, HasSubstr("告知对象已被纳入失信被执行人名单"));
  EXPECT_THAT(r.out, HasSubstr(" | （2020）黑04执77号 | "));
  EXPECT_THAT(r.out,
              HasSubstr("2026年05月29日00时00分00秒撤销（不应纳入）（查询后通报，追溯生效）\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("本单位在查询时提供")));
  EXPECT_THAT(r.out, Not(HasSubstr("未载明其名称")));
  const std::string snap = tmp_.path() + "/folded.snap";
  ASSERT_EQ(Shixin("compile --data data/sample --deltas " + deltas + " -o " + snap).status, 0);
  r = Shixin(absl::StrCat("notice --receipt ", receipt, " --audit ", dir_, " --snapshot ", snap,
                          " --format txt"),
             /*with_stderr=*/true);
  EXPECT_EQ(r.status, 3) << r.out;
  EXPECT_THAT(r.out, HasSubstr("the court changed the list with effect at or before that instant "
                               "(case （2020）黑04执77号 revoked at 2026-05-29T00:00:00+08:00)"));
}

// Finding 3 of /tmp/x31: the same for a person after a late removal: the notice is printed, the
// removal flagged with its ground, not refused as if the list were another.
TEST_F(CliReportNoticeTest, NoticeAfterARetroactiveRemovalOfAPersonIsPrintedFlagged) {
  const std::string deltas =
      Deltas(R"({"op":"remove","caseCode":"（2021）黑0422执210号","cardNum":"230422196705050033",)"
             R"("reason":"performed","at":"2026-05-29T00:00:00+08:00"})"
             "\n");
  QueryRecord q = Query("hotel", 4, {41}, kT0 + 20000);
  q.subject = "230422196705050033";
  q.scenario_filter = "hotel";
  const RunResult r =
      Shixin(Notice(Append(q), "txt") + " --deltas " + deltas, /*with_stderr=*/true);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\n周福贵：\n"));
  EXPECT_THAT(r.out, HasSubstr(" | （2021）黑0422执210号 | "));
  EXPECT_THAT(r.out, HasSubstr("2026年05月29日00时00分00秒删除（已履行全部义务）"
                               "（查询后通报，追溯生效）"));
  EXPECT_THAT(r.out, Not(HasSubstr("give the list and catalog")));
}

// The issuing unit is --issuer, else the caller's name in --callers, else a blank to fill in
// by hand (open mode has the caller id "open", never a unit's name).
TEST_F(CliReportNoticeTest, NoticeIssuerIsNamedOrLeftBlank) {
  RunResult r = Shixin(Notice(receipt_, "txt"), /*with_stderr=*/true);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\n告知单位：＿＿＿＿＿＿＿＿＿＿\n"));
  EXPECT_THAT(r.out, HasSubstr("shixin notice: no name for caller \"hegang-housing\" (give "
                               "--issuer NAME or --callers FILE)"));
  EXPECT_THAT(r.out, Not(HasSubstr("告知单位：hegang-housing")));
  r = Shixin(Notice(receipt_, "txt") + " --issuer 鹤岗市住房保障局", /*with_stderr=*/true);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\n告知单位：鹤岗市住房保障局\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("no name for caller")));
}

// No measure, no notice: an answer that returned none (a supervisor of a listed organisation),
// or one whose measures the caller reported none applied.
TEST_F(CliReportNoticeTest, NoticeOfNoMeasureIsRefused) {
  QueryRecord supervisor = Query("bank", 4, {}, kT0 + 20000);
  supervisor.subject = "230407198812250028";
  supervisor.listing = Listing::kRelated;
  RunResult r = Shixin(Notice(Append(supervisor), "txt"), /*with_stderr=*/true);
  EXPECT_EQ(r.status, 3);
  EXPECT_THAT(r.out, HasSubstr("shixin notice: the answer returned no measure: no punishment "
                               "notice"));
  const std::string none_applied =
      Append(Query("bank", 4, {7, 41}, kT0 + 30000),
             {{7, Outcome::kNotApplied, "无申请"}, {41, Outcome::kNotApplied, "无申请"}});
  r = Shixin(Notice(none_applied, "txt"), /*with_stderr=*/true);
  EXPECT_EQ(r.status, 3);
  EXPECT_THAT(r.out, HasSubstr("reported none of the answer's measures applied"));
}

// An unlisted organisation restricted through an officer the caller sent (its record follows
// the subject's, its role is not kept) gets its notice once the measure is reported applied;
// without such a record the notice states no officer basis (finding 2 of /tmp/x31).
TEST_F(CliReportNoticeTest, NoticeOfAnOfficerMeasure) {
  QueryRecord q = Query("bank", 4, {18, 22}, kT0 + 20000);
  q.subject = "91230400MA1DDDDD69";
  q.kind = 1;
  q.listing = Listing::kUnlisted;
  const std::string unsent =
      Append(q, {{18, Outcome::kNotApplied, "无申请"}, {22, Outcome::kApplied, ""}});
  RunResult r = Shixin(Notice(unsent, "txt"), /*with_stderr=*/true);
  EXPECT_EQ(r.status, 3) << r.out;
  EXPECT_THAT(r.out, HasSubstr("measure 18 of the answer does not apply to 91230400MA1DDDDD69"));
  EXPECT_THAT(r.out, Not(HasSubstr("本单位在查询时提供")));
  q.time_micros += 1000;
  const std::string receipt =
      Append(q, {{18, Outcome::kNotApplied, "无申请"}, {22, Outcome::kApplied, ""}},
             {{"230402198503150611", Listing::kListed}});
  r = Shixin(Notice(receipt, "txt"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("统一社会信用代码（组织机构代码）：91230400MA1DDDDD69\n"));
  EXPECT_THAT(r.out,
              HasSubstr("  22 | 授予市内慈善类奖项限制 | 鹤岗市民政局 | 告知对象的法定代表人、"
                        "实际控制人、董事、监事或者高级管理人员中有人已被纳入失信被执行人"
                        "名单（该人员由本单位在查询时提供，查询记录未保存其身份） | "));
  EXPECT_THAT(r.out, Not(HasSubstr("  18 | ")));
}

// An as-of answer's notice says the instant it was about, and flags a case revoked since.
TEST_F(CliReportNoticeTest, NoticeOfAnAsOfAnswerFlagsARevocationSince) {
  const std::string deltas =
      Deltas(absl::StrCat(R"({"op":"revoke","caseCode":"（2018）黑0402执恢45号","cardNum":")",
                          kPerson, R"(","at":"2026-05-29T00:00:00+08:00"})", "\n"));
  QueryRecord q = Query("bank", 4, {41}, kT0 + 20000);
  q.as_of = 1779940800;  // 2026-05-28T12:00:00+08:00
  q.delta_sequence = 1;
  const RunResult r = Shixin(Notice(Append(q), "txt") + " --deltas " + deltas);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("本单位查询的是失信被执行人名单在2026年05月28日12时00分00秒"
                               "（北京时间）的状态，以下所述均为该时点的情况。"));
  EXPECT_THAT(r.out,
              HasSubstr(" | （2018）黑0402执恢45号 | 鹤岗市向阳区人民法院 | 2018年07月13日 | "));
  EXPECT_THAT(r.out, HasSubstr(" | 2026年05月29日00时00分00秒撤销（不应纳入）\n"));
  EXPECT_THAT(r.out, HasSubstr("查询所针对的时点：2026-05-28T12:00:00+08:00\n"));
}

// Finding 7 of /tmp/x31: a remove dated before the case's correction applies at the correction;
// the notice of an as-of answer before it tells the subject the case was deleted (performed)
// then, not only corrected.
TEST_F(CliReportNoticeTest, NoticeFlagsARemovalAppliedAtACorrectionAsTheRemoval) {
  const std::string deltas = Deltas(absl::StrCat(
      R"({"op":"correct","caseCode":"(2015)鹤向法执字第00232号","iname":"张秀兰","cardNum":")",
      kPerson,
      R"(","partyTypeName":"0","courtName":"鹤岗市向阳区人民法院","publishDate":"2015-09-08",)"
      R"("duty":"偿还借款本金8万元及利息","at":"2026-05-28T10:00:00+08:00"})",
      "\n", R"({"op":"remove","caseCode":"(2015)鹤向法执字第00232号","cardNum":")", kPerson,
      R"(","reason":"performed","at":"2026-05-28T09:00:00+08:00"})", "\n"));
  QueryRecord q = Query("bank", 4, {41}, kT0 + 20000);
  q.as_of = 1779931800;  // 2026-05-28T09:30:00+08:00
  q.delta_sequence = 1;
  const RunResult r = Shixin(Notice(Append(q), "txt") + " --deltas " + deltas);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr(" | (2015)鹤向法执字第00232号 | "));
  EXPECT_THAT(r.out, HasSubstr(" | 2026年05月28日10时00分00秒删除（已履行全部义务）\n")) << r.out;
  EXPECT_THAT(r.out, Not(HasSubstr("更正\n"))) << r.out;
}

// A receipt with no record exits 1, as for audit query and feedback (the receipt's fault, not
// an audit that cannot be read: exit 3).
TEST_F(CliReportNoticeTest, NoticeOfAnUnknownReceiptOrAnotherNodeFails) {
  RunResult r = Shixin(Notice("9f2c41d0-1-65", "txt"), /*with_stderr=*/true);
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.out, HasSubstr("shixin notice: receipt 9f2c41d0-1-65: no record"));
  r = Shixin(Notice("9f2c41d0-7-64", "txt"), /*with_stderr=*/true);
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.out, HasSubstr("receipt 9f2c41d0-7-64: no such segment"));
  r = Shixin(Notice("0badc0de-1-64", "txt"), /*with_stderr=*/true);
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.out, HasSubstr("receipt 0badc0de-1-64: of another node"));
  r = Shixin(Notice("not-a-receipt", "txt"), /*with_stderr=*/true);
  EXPECT_EQ(r.status, 2);
}

// Finding 12 of /tmp/x11: a caller sends a whole query frame of another caller (checksum
// included) as its purpose; the offset of that frame inside its record is no receipt: no
// notice, no query, and the audit verifies (the bytes are the caller's own text).
TEST_F(CliReportNoticeTest, NoticeOfAFramePlantedInACallersTextFails) {
  absl::StatusOr<SegmentHeader> header = ReadHeader(SegmentPath(dir_, 1));
  ASSERT_TRUE(header.ok());
  QueryRecord forged = Query("bank", 4, {41}, kT0 + 3000);
  forged.sequence = 4;
  const std::string frame = testing::ForgedQueryFrame(forged, header->query_base());
  QueryRecord carrier = Query("hegang-housing", 4, {7}, kT0 + 3000);
  carrier.purpose = frame;
  const std::string genuine = Append(carrier);
  std::ifstream in(SegmentPath(dir_, 1), std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = data.find(frame);
  ASSERT_NE(at, std::string::npos);
  const std::string receipt = Receipt{0x9f2c41d0, 1, at}.ToString();
  RunResult r = Shixin(Notice(receipt, "txt"), /*with_stderr=*/true);
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.out, HasSubstr("receipt " + receipt + ": no record"));
  // audit query finds no record at that offset either, and says so.
  r = Shixin("audit query " + dir_ + " --receipt " + receipt, /*with_stderr=*/true);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "shixin audit query: receipt " + receipt + ": no record\n");
  EXPECT_THAT(Shixin("audit query " + dir_ + " --receipt " + genuine).out,
              HasSubstr("receipt=" + genuine));
  EXPECT_EQ(Shixin("audit verify " + dir_).status, 0);
}

}  // namespace
}  // namespace shixin::audit
