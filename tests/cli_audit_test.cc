// End-to-end tests of `shixin audit verify` and `shixin audit query` on an audit written by
// AuditLog: output, exit statuses, a damaged audit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "audit/audit_log.h"
#include "audit/audit_test_util.h"
#include "audit/format.h"
#include "audit/reader.h"
#include "tests/cli_run.h"

namespace shixin::audit {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using shixin::testing::RunResult;
using shixin::testing::Shixin;

class CliAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // 2026-11-30T10:00:00+08:00 and a day later.
    constexpr int64_t kStart = int64_t{1796004000} * 1000000;
    AuditLog::Options o;
    o.dir = dir_;
    o.node = 0x9f2c41d0;
    // The segment is created when its records are stamped, as in the daemon: the reader skips
    // a segment created after a --to (on the real clock this test failed from 2026-12-02 on).
    o.now_micros = [] { return kStart; };
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o, nullptr);
    ASSERT_TRUE(log.ok());
    QueryRecord a = testing::TypicalQuery("110101199003074514", kStart);
    QueryRecord b = testing::TypicalQuery("91110000600037341L", kStart + int64_t{86400} * 1000000);
    b.caller = "other";
    b.purpose = "two\nlines \x1b[2J";     // a caller's text: one line, no escape sequence
    b.operator_id = "alice matter=FAKE";  // nor more fields (x34 F4)
    b.receipt_issued = false;             // e.g. protocol version 3
    b.as_of = 1780000000;                 // 2026-05-29T04:26:40+08:00
    b.scenario_filter = "hotel";
    absl::StatusOr<AuditLog::Appended> ra = (*log)->Append(&a);
    ASSERT_TRUE(ra.ok() && (*log)->Append(&b).ok());
    receipt_ = ra->receipt.ToString();
    FeedbackRecord f;
    f.time_micros = kStart + 1000;
    f.caller = "court-agency-17";
    f.receipt = receipt_;
    f.entries = {{41, Outcome::kApplied, ""}, {52, Outcome::kNotApplied, "已履行"}};
    absl::StatusOr<AuditLog::Appended> rf = (*log)->Append(&f);
    ASSERT_TRUE(rf.ok());
    feedback_receipt_ = rf->receipt.ToString();
    ASSERT_TRUE((*log)->SyncToDisk().ok());
  }
  testing::ScratchDir tmp_;
  std::string dir_ = tmp_.path() + "/audit";
  std::string receipt_, feedback_receipt_;
};

TEST_F(CliAuditTest, VerifyCountsAndChain) {
  const RunResult r = Shixin("audit verify " + dir_);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("records   3 (2 queries, 1 feedbacks)"));
  EXPECT_THAT(r.out, HasSubstr("stream    0: 1 segments from 0000000001.audit, 3 records, "
                               "sequence 1..3"));
  EXPECT_THAT(r.out, HasSubstr("chain     intact"));
  const RunResult j = Shixin("audit verify --json " + dir_);
  EXPECT_THAT(j.out, HasSubstr(R"("chain_intact":true)"));
}

// Where each stream's chain ends, in verify (text, JSON) and the report (every format): the value
// a court keeps to find a record rewritten later with its seals recomputed.
TEST_F(CliAuditTest, VerifyAndTheReportPrintTheChainValue) {
  absl::StatusOr<VerifyReport> v = Verify(dir_);
  ASSERT_TRUE(v.ok());
  const std::string chain = ChainText(v->streams.at(0).last_chain);
  ASSERT_EQ(chain.size(), 32u);
  RunResult r = Shixin("audit verify " + dir_);
  EXPECT_THAT(r.out, HasSubstr("seal      stream 0 through seq=3: " + chain + "\n"));
  r = Shixin("audit verify --json " + dir_);
  EXPECT_THAT(r.out, HasSubstr(R"("chain":")" + chain + R"(")"));
  EXPECT_THAT(r.out, HasSubstr(R"("sealed_sequence":3)"));
  const std::string report = "report --audit " + dir_ + " --quarter 2026Q4 --format ";
  r = Shixin(report + "csv");
  EXPECT_THAT(r.out, HasSubstr("2026Q4,*,audit_stream,,,,,,,,,,,,,,\"stream 0 read through seq=3, "
                               "sealed through seq=3\"," +
                               chain + "\r\n"));
  r = Shixin(report + "json");
  EXPECT_THAT(r.out, HasSubstr(R"("audit_streams":[{"chain":")" + chain +
                               R"(","last_sequence":3,"sealed_sequence":3,"stream":0}])"));
  r = Shixin(report + "html");
  EXPECT_THAT(r.out, HasSubstr("stream 0 read through seq=3, sealed through seq=3: " + chain));
  // The tester's rewrite: 已履行 -> 已撤诉 with every checksum and seal recomputed. Verify finds
  // nothing; the chain value differs from the one kept.
  ASSERT_TRUE(testing::ResealSegment(SegmentPath(dir_, 1), "已履行", "已撤诉"));
  r = Shixin("audit verify " + dir_);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("seal      stream 0 through seq=3: "));
  EXPECT_THAT(r.out, Not(HasSubstr(chain)));
  EXPECT_THAT(Shixin(report + "csv").out, Not(HasSubstr(chain)));
}

TEST_F(CliAuditTest, VerifyNamesTheDamagedRecord) {
  {
    std::fstream f(SegmentPath(dir_, 1), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(kHeaderSize + 20));
    f.put('#');
  }
  const RunResult r = Shixin("audit verify " + dir_);
  EXPECT_EQ(r.status, 1);
  // Named by its sequence number, as `audit query` prints it (seq=1), not its index.
  EXPECT_THAT(r.out, HasSubstr("problem   " + SegmentPath(dir_, 1) +
                               ": record at offset 64 (seq=1 expected)"));
}

// The tester's rewrite: the header's creation time moved (every query's time with it, as they
// are stored against it) and its XXH32 recomputed. The chain covers the header.
TEST_F(CliAuditTest, VerifyFindsAHeaderTimeRewritten) {
  {
    std::fstream f(SegmentPath(dir_, 1), std::ios::in | std::ios::out | std::ios::binary);
    std::string head(kHeaderSize, '\0');
    ASSERT_TRUE(f.read(head.data(), static_cast<std::streamsize>(head.size())));
    absl::StatusOr<SegmentHeader> header = DecodeHeader(head);
    ASSERT_TRUE(header.ok());
    header->created_micros += int64_t{25} * 86400 * 1000000;
    f.seekp(0);
    f << EncodeHeader(*header);
  }
  const RunResult r = Shixin("audit verify " + dir_);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("problem   " + SegmentPath(dir_, 1) + ": seal at offset"));
  EXPECT_THAT(r.out, HasSubstr("or the segment header changed"));
}

// A record changed with its checksum recomputed (not the seal): verify finds it, and the report
// and `audit query`, which print it, say that the audit is damaged instead of using it silently.
TEST_F(CliAuditTest, ReportAndQueryOfADamagedAuditSayItIsDamaged) {
  const std::string report = "report --audit " + dir_ + " --quarter 2026Q4 --format ";
  RunResult r = Shixin(report + "csv", /*with_stderr=*/true);
  EXPECT_THAT(r.out, Not(HasSubstr("damaged")));
  ASSERT_TRUE(testing::RewriteRecord(SegmentPath(dir_, 1), "已履行", "已撤诉"));
  EXPECT_EQ(Shixin("audit verify " + dir_).status, 1);
  r = Shixin(report + "csv", /*with_stderr=*/true);
  EXPECT_EQ(r.status, 0) << r.out;
  const std::string note = "the audit is damaged: " + SegmentPath(dir_, 1) +
                           ": seal at offset 358: chain mismatch over records seq=1 to 3 (a record "
                           "changed, removed or inserted): this report may count "
                           "records changed since they were written, or miss some (run `shixin "
                           "audit verify`)";
  EXPECT_THAT(r.out, HasSubstr("shixin report: " + note));  // stderr
  EXPECT_THAT(r.out, HasSubstr("2026Q4,*,incomplete,,,,,,,,,,,,,,\"" + note + "\",\r\n"));
  r = Shixin(report + "json");
  EXPECT_THAT(r.out, HasSubstr(R"("incomplete":true)"));
  EXPECT_THAT(r.out, HasSubstr(R"("damaged":true)"));
  EXPECT_THAT(r.out, HasSubstr(R"("damage_note":")" + note));
  r = Shixin(report + "html");
  EXPECT_THAT(r.out, HasSubstr(R"(data-key="damaged")"));
  r = Shixin("audit query " + dir_ + " --receipt " + receipt_, /*with_stderr=*/true);
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("52=not_applied(\"已撤诉\")"));
  EXPECT_THAT(r.out, HasSubstr("shixin audit query: damaged audit: " + SegmentPath(dir_, 1) +
                               ": seal at offset 358"));
  EXPECT_THAT(r.out, HasSubstr("the records printed may not be as written"));
}

// A segment removed from the middle of a stream: no checksum fails, the numbers say it.
TEST_F(CliAuditTest, ReportOfAnAuditWithASegmentMissingSaysItIsIncomplete) {
  constexpr int64_t kLater = int64_t{1796100000} * 1000000;  // 2026-12-01
  AuditLog::Options o;
  o.dir = dir_;
  o.node = 0x9f2c41d0;
  o.segment_bytes = 600;
  o.now_micros = [] { return kLater; };
  {
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o, nullptr);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int i = 0; i < 20; ++i) {
      QueryRecord q = testing::TypicalQuery("110101199003074514", kLater);
      ASSERT_TRUE((*log)->Append(&q).ok());
    }
  }
  ASSERT_TRUE(std::filesystem::exists(SegmentPath(dir_, 4)));
  std::filesystem::remove(SegmentPath(dir_, 3));
  const RunResult r = Shixin("report --audit " + dir_ + " --quarter 2026Q4 --format csv",
                             /*with_stderr=*/true);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("2026Q4,*,incomplete,,,,,,,,,,,,,,\"the audit is damaged: " +
                               SegmentPath(dir_, 4) + ": segment 3 is missing: "));
}

// The tester's case: the daemon's clock corrected back 70 s after it created its segment, by an
// older writer (today's keeps a stream's times from going back). Not a broken chain.
TEST(CliAuditVerifyTest, TimesGoingBackwardsAreListedApartFromAnIntactChain) {
  testing::ScratchDir tmp;
  const std::string dir = tmp.path() + "/audit";
  constexpr int64_t kCreated = int64_t{1790784030} * 1000000;  // 2026-09-30T16:00:30Z
  testing::WriteSegmentByHand(dir, 1, 1, ChainHash{}, kCreated,
                              {kCreated - 70 * 1000000, kCreated - 69 * 1000000});
  const RunResult r = Shixin("audit verify " + dir);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("chain     intact\ntimes     1 anomalies"));
  EXPECT_THAT(r.out, HasSubstr("time      " + SegmentPath(dir, 1) +
                               ": 2 records dated before the segment's creation "
                               "2026-09-30T16:00:30Z (the writer's clock was set back)"));
  const RunResult j = Shixin("audit verify --json " + dir);
  EXPECT_EQ(j.status, 0);
  EXPECT_THAT(j.out, HasSubstr(R"("chain_intact":true)"));
  EXPECT_THAT(j.out, HasSubstr(R"("time_anomalies":[")"));
}

// Two reports of one quarter may differ (feedback counts whenever it arrives before the report
// is made): each says when it was made and up to which record of each stream it read.
TEST_F(CliAuditTest, TheReportSaysWhenItWasMadeAndUpToWhichRecordItRead) {
  const std::string report = "report --audit " + dir_ + " --quarter 2026Q4 --format ";
  RunResult r = Shixin(report + "csv");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out,
              ::testing::ContainsRegex("\r\n2026Q4,\\*,made_at,,,,,,,,,,,,,,,"
                                       "20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:]+\\+08:00\r\n"));
  EXPECT_THAT(r.out, HasSubstr("stream 0 read through seq=3, sealed through seq=3"));
  r = Shixin(report + "json");
  EXPECT_THAT(r.out, ::testing::ContainsRegex(R"("made_at":"20[0-9-]+T[0-9:]+\+08:00")"));
  EXPECT_THAT(r.out, HasSubstr(R"("last_sequence":3)"));
  r = Shixin(report + "html");
  EXPECT_THAT(r.out, ::testing::ContainsRegex(R"(data-key="made_at">20[0-9-]+T[0-9:]+\+08:00<)"));
  EXPECT_THAT(r.out, HasSubstr("stream 0 read through seq=3"));
}

// The receipt a FEEDBACK answer gave (the agency's proof of having reported) finds its record
// and the query it reports on; a receipt with no record is said, exit 1, not an empty answer.
TEST_F(CliAuditTest, QueryByAFeedbackReceiptAndByAReceiptWithNoRecord) {
  RunResult r = Shixin("audit query " + dir_ + " --receipt " + feedback_receipt_);
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr(" query seq=1 receipt=" + receipt_ + " "));
  EXPECT_THAT(r.out,
              HasSubstr(" feedback seq=3 receipt=" + feedback_receipt_ + " for=" + receipt_));
  EXPECT_THAT(r.out, Not(HasSubstr("seq=2")));
  r = Shixin("audit query " + dir_ + " --receipt " + feedback_receipt_ + " --json");
  EXPECT_THAT(r.out, HasSubstr(R"("type":"feedback")"));
  EXPECT_THAT(r.out, HasSubstr(R"("type":"query")"));
  // One byte past the feedback record: no record there.
  const std::string none =
      feedback_receipt_.substr(0, feedback_receipt_.rfind('-') + 1) +
      std::to_string(std::stoul(feedback_receipt_.substr(feedback_receipt_.rfind('-') + 1)) + 1);
  r = Shixin("audit query " + dir_ + " --receipt " + none, /*with_stderr=*/true);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "shixin audit query: receipt " + none + ": no record\n");
  r = Shixin("audit query " + dir_ + " --receipt 99999999-1-64", /*with_stderr=*/true);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out,
            "shixin audit query: receipt 99999999-1-64: of another node (this audit is "
            "9f2c41d0)\n");
  r = Shixin("audit query " + dir_ + " --receipt 9f2c41d0-7-64", /*with_stderr=*/true);
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.out, HasSubstr("receipt 9f2c41d0-7-64: no such segment in "));
}

TEST_F(CliAuditTest, VerifyTakesTheRetention) {
  // Nothing removed: whatever the retention, intact.
  EXPECT_EQ(Shixin("audit verify --retention-days 30 " + dir_).status, 0);
  EXPECT_EQ(Shixin("audit verify --retention-days x " + dir_).status, 2);
  EXPECT_EQ(Shixin("audit verify --retention-days 99999999 " + dir_).status, 2);
}

TEST_F(CliAuditTest, QueryBySubjectCallerReceiptAndDates) {
  RunResult r = Shixin("audit query " + dir_ + " --subject '110101 19900307 4514'");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("2026-11-30T10:00:00.000000+08:00 query seq=1 receipt=" + receipt_));
  EXPECT_THAT(r.out, HasSubstr("measures=1,2,5,17,29,41,52"));
  EXPECT_THAT(r.out, HasSubstr(" op=MEASURES"));
  EXPECT_THAT(r.out, Not(HasSubstr("91110000600037341L")));
  r = Shixin("audit query " + dir_ + " --receipt " + receipt_);
  EXPECT_THAT(r.out, HasSubstr("feedback seq=3"));
  EXPECT_THAT(r.out, HasSubstr("41=applied 52=not_applied(\"已履行\")"));
  // What makes an answer what it was: the operation, the instant asked about, the filters; a
  // receipt the caller never got is named record=.
  r = Shixin("audit query " + dir_ + " --caller other");
  EXPECT_THAT(r.out, HasSubstr(" query seq=2 record="));
  EXPECT_THAT(r.out, HasSubstr(" op=MEASURES as_of=2026-05-29T04:26:40+08:00 scenario=hotel"));
  r = Shixin("audit query " + dir_ + " --caller other --json");
  EXPECT_THAT(r.out, HasSubstr(R"("subject":"91110000600037341L")"));
  EXPECT_THAT(r.out, Not(HasSubstr("110101199003074514")));
  r = Shixin("audit query " + dir_ + " --caller other --from 2026-11-30 --to 2026-11-30");
  EXPECT_EQ(r.out, "");
  r = Shixin("audit query " + dir_ + " --caller other --from 2026-12-01 --to 2026-12-01");
  EXPECT_THAT(r.out, HasSubstr("subject=91110000600037341L"));
  EXPECT_THAT(r.out, HasSubstr(R"( purpose="two\nlines \x1b[2J")"));
  EXPECT_THAT(r.out, HasSubstr(R"( operator="alice matter=FAKE" matter=")"));
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one record, one line";
  EXPECT_EQ(Shixin("audit query " + dir_).status, 2);
  EXPECT_EQ(Shixin("audit query " + dir_ + " --caller x --from 2026-13-01").status, 2);
  EXPECT_THAT(Shixin("audit query " + dir_ + " --caller x --from 2026-02-29", true).out,
              HasSubstr("--from: \"2026-02-29\" is no such day"));
  EXPECT_THAT(Shixin("audit query " + dir_ + " --caller x --to 2026-2-1", true).out,
              HasSubstr("--to: \"2026-2-1\" is not a YYYY-MM-DD date"));
  EXPECT_EQ(Shixin("audit query " + dir_ + " --caller x --from 2026-12-02 --to 2026-12-01").status,
            2);
  EXPECT_EQ(Shixin("audit query " + dir_ + " --subject bogus").status, 2);  // matches nothing
  EXPECT_EQ(Shixin("audit verify " + tmp_.path()).status, 3);  // the state dir: no segments
  EXPECT_EQ(Shixin("audit verify /nonexistent/audit").status, 3);
}

// Finding 5: an organisation is one subject under its organisation code and the credit code
// embedding it (characters 9-17), as the daemon answers; asked by either, every query of it.
TEST(CliAuditSubjectTest, AnOrganisationIsFoundUnderBothItsCodes) {
  constexpr int64_t kStart = int64_t{1796004000} * 1000000;
  testing::ScratchDir tmp;
  AuditLog::Options o;
  o.dir = tmp.path() + "/audit";
  o.now_micros = [] { return kStart; };
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o, nullptr);
  ASSERT_TRUE(log.ok());
  QueryRecord by_org = testing::TypicalQuery("600037341", kStart);
  by_org.kind = 1;
  QueryRecord by_credit = testing::TypicalQuery("91110000600037341L", kStart + 1);
  by_credit.kind = 1;
  QueryRecord other = testing::TypicalQuery("9111000060003735XC", kStart + 2);  // another org
  other.kind = 1;
  QueryRecord person = testing::TypicalQuery("110101199003074514", kStart + 3);
  for (QueryRecord* r : {&by_org, &by_credit, &other, &person}) ASSERT_TRUE((*log)->Append(r).ok());
  ASSERT_TRUE((*log)->SyncToDisk().ok());
  for (const char* asked : {"60003734-1", "91 110000 600037341L"}) {
    const RunResult r = Shixin(absl::StrCat("audit query ", o.dir, " --subject '", asked, "'"));
    EXPECT_EQ(r.status, 0) << asked;
    EXPECT_THAT(r.out, HasSubstr("subject=600037341 ")) << asked;
    EXPECT_THAT(r.out, HasSubstr("subject=91110000600037341L ")) << asked;
    EXPECT_THAT(r.out, Not(HasSubstr("60003735X"))) << asked;
    EXPECT_THAT(r.out, Not(HasSubstr("110101199003074514"))) << asked;
  }
  const RunResult r = Shixin(absl::StrCat("audit query ", o.dir, " --subject 110101199003074514"));
  EXPECT_THAT(r.out, Not(HasSubstr("600037341")));
}

}  // namespace
}  // namespace shixin::audit
