// The daemon's audit: Auditor (records, feedback, INFO's block, the failing audit) and the
// handler's use of it (receipts, records, fail closed, FEEDBACK's statuses).
#include "daemon/auditor.h"

#include <sys/stat.h>

#include <atomic>
#include <barrier>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "audit/audit_test_util.h"
#include "audit/format.h"
#include "audit/node_id.h"
#include "audit/reader.h"
#include "audit/receipt.h"
#include "callers/callers_file.h"
#include "callers/token.h"
#include "daemon/handler.h"
#include "daemon/handler_test_util.h"
#include "daemon/log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shixin {
namespace {

using audit::testing::FaultyOps;
using audit::testing::ScratchDir;
using audit::testing::TypicalQuery;
using handler_testing::Answer;
using handler_testing::Frames;
using handler_testing::Payload;
using handler_testing::Sample;
using handler_testing::SourceDir;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Unix seconds of `day` at noon, China time.
int64_t NoonOf(absl::CivilDay day) {
  return absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilSecond(day) + 12 * 3600, absl::FixedTimeZone(8 * 3600)));
}

wire::FeedbackItem Item(uint16_t measure, wire::FeedbackOutcome outcome = {},
                        std::string reason = "") {
  return wire::FeedbackItem{measure, outcome, std::move(reason)};
}

// A state directory, an empty local calendar directory (years over the shipped 2024-2026), and
// the config naming them.
class AuditorTest : public ::testing::Test {
 protected:
  AuditorTest() {
    config_.state_dir = tmp_.path() + "/state";
    config_.calendar_dir = tmp_.path() + "/calendar";
    std::filesystem::create_directory(config_.calendar_dir);
    options_.file_ops = &ops_;
    options_.retry_interval = absl::Seconds(1);
    options_.now_micros = [this] { return now_micros_.load(); };
  }

  void Open() {
    absl::StatusOr<std::unique_ptr<Auditor>> auditor = Auditor::Open(config_, options_, nullptr);
    ASSERT_TRUE(auditor.ok()) << auditor.status();
    auditor_ = *std::move(auditor);
  }

  // Records and writes a typical MEASURES record of `caller`; returns its receipt.
  std::string RecordOne(std::string_view caller = "agency-a") {
    audit::QueryRecord r = TypicalQuery("11010519491231002X", 0);
    r.caller = caller;
    absl::StatusOr<audit::AuditLog::Appended> a = auditor_->Record(&r);
    EXPECT_TRUE(a.ok()) << a.status();
    if (!a.ok()) return "";
    EXPECT_TRUE(auditor_->Sync(a->ticket).ok());
    return Text(a->receipt);
  }

  // The node's receipt key, from state_dir/node_id. REQUIRES: Open() was called.
  const audit::ReceiptCipher& Cipher() {
    if (!cipher_.has_value()) {
      absl::StatusOr<audit::NodeIdentity> node = audit::ReadNodeIdentity(config_.state_dir);
      EXPECT_TRUE(node.ok()) << node.status();
      cipher_ = node.ok() && node->cipher.has_value() ? node->cipher : audit::ReceiptCipher({}, 0);
    }
    return *cipher_;
  }
  // The text an answer carries for `receipt`, and back.
  std::string Text(const audit::Receipt& receipt) { return Cipher().Text(receipt); }
  audit::Receipt Position(std::string_view text) {
    absl::StatusOr<audit::ParsedReceipt> parsed = audit::ParseReceipt(text, &Cipher());
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    return parsed.ok() ? parsed->receipt : audit::Receipt{};
  }

  absl::StatusOr<Auditor::Recorded> Feedback(std::string receipt,
                                             std::vector<wire::FeedbackItem> items,
                                             std::string_view caller = "agency-a") {
    return auditor_->Feedback(caller,
                              wire::FeedbackRequest{std::move(receipt), "op7", std::move(items)});
  }

  // Makes the audit fail: writes get ENOSPC.
  void FillDisk() { ops_.error = ENOSPC; }

  ScratchDir tmp_;
  Config config_;
  FaultyOps ops_;
  std::atomic<int64_t> now_micros_{absl::ToUnixMicros(absl::Now())};
  audit::AuditLog::Options options_;
  std::unique_ptr<Auditor> auditor_;
  std::optional<audit::ReceiptCipher> cipher_;
};

TEST_F(AuditorTest, OpenCreatesTheNodeIdAndAPrivateAuditDirectory) {
  Open();
  std::ifstream in(config_.state_dir + "/node_id");
  std::stringstream node;
  node << in.rdbuf();
  EXPECT_THAT(node.str(), ::testing::MatchesRegex("[0-9a-f]{8}\n[0-9a-f]{32} [0-9]+\n"));
  struct stat st;
  ASSERT_EQ(::stat((config_.state_dir + "/audit").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // The receipts name this node, in clear.
  const std::string receipt = RecordOne();
  EXPECT_EQ(receipt.substr(0, 9), node.str().substr(0, 8) + "-");
  EXPECT_EQ(absl::StrFormat("%08x", Position(receipt).node), node.str().substr(0, 8));
}

TEST_F(AuditorTest, RecordedQueriesAreInTheFileAfterSync) {
  Open();
  const std::string first = RecordOne();
  const std::string second = RecordOne("agency-b");
  EXPECT_NE(first, second);
  std::vector<std::string> callers;
  ASSERT_TRUE(audit::ForEachRecord(config_.state_dir + "/audit", {}, [&](const audit::Entry& e) {
                callers.emplace_back(e.query.caller);
                EXPECT_EQ(Text(e.receipt), callers.size() == 1 ? first : second);
                return true;
              }).ok());
  EXPECT_EQ(callers, (std::vector<std::string>{"agency-a", "agency-b"}));
}

TEST_F(AuditorTest, FeedbackIsRecordedAgainstTheReceipt) {
  Open();
  const std::string receipt = RecordOne();
  absl::StatusOr<Auditor::Recorded> r =
      Feedback(receipt, {Item(41), Item(52, wire::FeedbackOutcome::kNotApplied, "已履行")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->response.recorded, 2);
  EXPECT_TRUE(audit::ParseReceipt(r->response.feedback_receipt, &Cipher()).ok());
  EXPECT_NE(r->response.feedback_receipt, receipt);
  ASSERT_TRUE(auditor_->Sync(r->ticket).ok());
  int feedbacks = 0;
  ASSERT_TRUE(audit::ForEachRecord(config_.state_dir + "/audit", {}, [&](const audit::Entry& e) {
                if (e.type != audit::RecordType::kFeedback) return true;
                ++feedbacks;
                // The record names the receipt's record by its position.
                EXPECT_EQ(e.feedback.receipt, Position(receipt).ToString());
                EXPECT_EQ(e.feedback.caller, "agency-a");
                EXPECT_EQ(e.feedback.operator_id, "op7");
                EXPECT_EQ(e.feedback.entries.size(), 2u);
                return true;
              }).ok());
  EXPECT_EQ(feedbacks, 1);
  // A second feedback on the same measure is a correction, recorded too.
  r = Feedback(receipt, {Item(41, wire::FeedbackOutcome::kCancelled, "撤销")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->response.recorded, 1);
}

TEST_F(AuditorTest, FeedbackIsRefusedWithTheRightCode) {
  Open();
  const std::string receipt = RecordOne();
  const audit::Receipt parsed_receipt = Position(receipt);
  const audit::Receipt* parsed = &parsed_receipt;
  audit::Receipt unknown = *parsed;
  unknown.offset += 1 << 20;  // beyond the file
  EXPECT_EQ(Feedback(Text(unknown), {Item(41)}).status().code(), absl::StatusCode::kNotFound);
  audit::Receipt other_node = *parsed;
  other_node.node ^= 1;
  EXPECT_EQ(Feedback(Text(other_node), {Item(41)}).status().code(), absl::StatusCode::kNotFound);
  // Another replica's receipt (another node) says whose it is, in either form: not "no record".
  for (const std::string& text : {Text(other_node), other_node.ToString()}) {
    const absl::Status s = Feedback(text, {Item(41)}).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
    EXPECT_EQ(s.message(), absl::StrFormat("receipt %s was issued by node %08x, this is node %08x: "
                                           "send the feedback to the replica that issued it "
                                           "(docs/replicas.md)",
                                           text, other_node.node, parsed->node));
  }
  // Text that is not a receipt is an invalid argument, saying what is wrong.
  absl::Status malformed = Feedback("not a receipt", {Item(41)}).status();
  EXPECT_EQ(malformed.code(), absl::StatusCode::kInvalidArgument);
  malformed = Feedback("EE2A7AC7-1-293", {Item(41)}).status();
  EXPECT_EQ(malformed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(malformed.message(), HasSubstr("8 lower-case hex digits"));
  malformed =
      Feedback(absl::StrFormat("%08x-01-%d", parsed->node, parsed->offset), {Item(41)}).status();
  EXPECT_EQ(malformed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(malformed.message(), HasSubstr("the segment has a leading zero"));
  EXPECT_EQ(Feedback(receipt, {Item(41)}, "agency-b").status().code(),
            absl::StatusCode::kPermissionDenied);
  absl::StatusOr<Auditor::Recorded> r = Feedback(receipt, {Item(41), Item(3)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("measure 3"));
  EXPECT_EQ(Feedback(receipt, {Item(52, wire::FeedbackOutcome::kNotApplied)}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Feedback(receipt, {Item(41), Item(41)}).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Nothing refused was recorded: one query record only.
  EXPECT_EQ(auditor_->Info(0, true).records, 1u);
}

// Finding x23 #1: receipts were the audit's write position, so a caller comparing two of its
// own learnt how many records the other callers wrote in between (what INFO withholds), and
// FEEDBACK told another caller's record (PERMISSION_DENIED) from a position without one
// (NOT_FOUND). Receipts are now opaque; the position form is no receipt of a record written
// since the key, and a forged or tampered text is answered as a position without a record.
TEST_F(AuditorTest, ReceiptsDoNotTellAPosition) {
  Open();
  const std::string first = RecordOne("agency-a");
  std::vector<std::string> others(20);
  for (std::string& r : others) r = RecordOne("agency-b");
  const std::string second = RecordOne("agency-a");
  for (const std::string& r : {first, second}) {
    EXPECT_THAT(r, ::testing::MatchesRegex("[0-9a-f]{8}-[0-9a-f]{32}"));
    EXPECT_NE(r, Position(r).ToString());  // the position only the key opens
  }
  // agency-a asks with positions: that of agency-b's record, a position without a record
  // (inside one), and that of its own record: one answer for all, naming no position.
  const audit::Receipt b = Position(others[3]);
  const audit::Receipt inside{b.node, b.segment, b.offset + 1};
  const audit::Receipt own = Position(second);
  for (const audit::Receipt& r : {b, inside, own}) {
    const absl::Status s = Feedback(r.ToString(), {Item(41)}).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
    EXPECT_EQ(s.message(), absl::StrCat("receipt ", r.ToString(), ": no record"));
  }
  // A digit changed anywhere after the node, or the keyed text of a position without a record.
  for (size_t i = 9; i < second.size(); ++i) {
    std::string tampered = second;
    tampered[i] = tampered[i] == 'f' ? '0' : 'f';
    const absl::Status s = Feedback(tampered, {Item(41)}).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << tampered << ": " << s;
    EXPECT_EQ(s.message(), absl::StrCat("receipt ", tampered, ": no record"));
  }
  const absl::Status s = Feedback(Text(inside), {Item(41)}).status();
  EXPECT_EQ(s.message(), absl::StrCat("receipt ", Text(inside), ": no record"));
  // Another caller's genuine receipt is still PERMISSION_DENIED (it holds it: it learns
  // nothing), and the caller's own receipts work.
  EXPECT_TRUE(absl::IsPermissionDenied(Feedback(others[0], {Item(41)}).status()));
  EXPECT_TRUE(Feedback(second, {Item(41)}).ok());
  EXPECT_TRUE(Feedback(first, {Item(41)}).ok());
}

// Receipts handed out before the node had a key (an earlier version's node_id, one line) take
// feedback after the upgrade, from their caller; to another caller they are no record.
TEST_F(AuditorTest, ReceiptsHandedOutBeforeTheKeyStillTakeFeedback) {
  Open();
  const audit::Receipt before = Position(RecordOne("agency-a"));
  const audit::Receipt of_b = Position(RecordOne("agency-b"));
  auditor_.reset();
  // The node_id of the version before keys: the records above were written under it.
  const std::string node_id = config_.state_dir + "/node_id";
  std::string text;
  std::getline(std::ifstream(node_id), text);
  std::ofstream(node_id, std::ios::trunc) << text << "\n";
  cipher_.reset();
  Open();
  EXPECT_GT(Cipher().keyed_since_micros(), 0);  // a key added, dated now
  absl::StatusOr<Auditor::Recorded> fed = Feedback(before.ToString(), {Item(41)});
  ASSERT_TRUE(fed.ok()) << fed.status();
  EXPECT_THAT(fed->response.feedback_receipt, ::testing::MatchesRegex("[0-9a-f]{8}-[0-9a-f]{32}"));
  ASSERT_TRUE(auditor_->Sync(fed->ticket).ok());
  const absl::Status s = Feedback(of_b.ToString(), {Item(41)}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_EQ(s.message(), absl::StrCat("receipt ", of_b.ToString(), ": no record"));
  // A record written since: only its keyed text is its receipt.
  const std::string after = RecordOne("agency-a");
  EXPECT_TRUE(absl::IsNotFound(Feedback(Position(after).ToString(), {Item(41)}).status()));
  EXPECT_TRUE(Feedback(after, {Item(41)}).ok());
  // Restarted: the key is kept, and so are both kinds of receipt.
  auditor_.reset();
  Open();
  EXPECT_TRUE(Feedback(after, {Item(52, wire::FeedbackOutcome::kApplied)}).ok());
  EXPECT_TRUE(Feedback(before.ToString(), {Item(52, wire::FeedbackOutcome::kApplied)}).ok());
}

// Feedback is for the receipts of answers that returned measures; the refusals say what the
// receipt named is instead.
TEST_F(AuditorTest, FeedbackOnAReceiptOwedNoneSaysWhy) {
  Open();
  const auto record = [&](audit::QueryRecord r) {
    r.caller = "agency-a";
    absl::StatusOr<audit::AuditLog::Appended> a = auditor_->Record(&r);
    EXPECT_TRUE(a.ok()) << a.status();
    if (!a.ok()) return std::string();
    EXPECT_TRUE(auditor_->Sync(a->ticket).ok());
    return Text(a->receipt);
  };
  audit::QueryRecord v3 = TypicalQuery("11010519491231002X", 0);
  v3.receipt_issued = false;  // a version 3 answer: it carried no receipt
  const std::string v3_receipt = record(v3);
  absl::Status s = Feedback(v3_receipt, {Item(41)}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_THAT(s.message(), HasSubstr("no answer carried receipt " + v3_receipt));
  // Whosever it was: it was issued to no one.
  EXPECT_EQ(Feedback(v3_receipt, {Item(41)}, "agency-b").status().code(),
            absl::StatusCode::kNotFound);

  audit::QueryRecord check = TypicalQuery("11010519491231002X", 0);
  check.opcode = static_cast<uint8_t>(wire::Opcode::kCheck);
  check.measures.clear();
  const std::string check_receipt = record(check);
  s = Feedback(check_receipt, {Item(41)}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message(), absl::StrCat("receipt ", check_receipt,
                                      " is of a CHECK answer, which carries no measures; feedback "
                                      "is for MEASURES answers"));

  audit::QueryRecord none = TypicalQuery("230402199001010015", 0);
  none.measures.clear();
  s = Feedback(record(none), {Item(41)}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(s.message(), HasSubstr("returned no measure"));

  absl::StatusOr<Auditor::Recorded> fed = Feedback(RecordOne(), {Item(41)});
  ASSERT_TRUE(fed.ok()) << fed.status();
  ASSERT_TRUE(auditor_->Sync(fed->ticket).ok());
  const std::string& feedback_receipt = fed->response.feedback_receipt;
  s = Feedback(feedback_receipt, {Item(41)}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_EQ(s.message(), absl::StrCat("receipt ", feedback_receipt,
                                      " is of a feedback record, not of an answer"));
  EXPECT_EQ(auditor_->Info(0, true).records, 5u);  // 4 queries, 1 feedback
}

TEST_F(AuditorTest, InfoCountsRecordsAndReceiptsWithoutFeedback) {
  Open();
  const int64_t now = NoonOf(absl::CivilDay(2026, 10, 1));
  wire::AuditInfo info = auditor_->Info(now, true);
  EXPECT_EQ(info.state, wire::AuditState::kOk);
  EXPECT_EQ(info.records, 0u);
  EXPECT_EQ(info.receipts_without_feedback, 0u);
  const uint64_t empty_bytes = info.bytes;
  const std::string receipt = RecordOne();
  RecordOne();
  // A CHECK and a MEASURES without measures await no feedback.
  audit::QueryRecord check = TypicalQuery("11010519491231002X", 0);
  check.opcode = static_cast<uint8_t>(wire::Opcode::kCheck);
  check.measures.clear();
  ASSERT_TRUE(auditor_->Record(&check).ok());
  audit::QueryRecord none = TypicalQuery("230402199001010015", 0);
  none.measures.clear();
  absl::StatusOr<audit::AuditLog::Appended> last = auditor_->Record(&none);
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(auditor_->Sync(last->ticket).ok());
  info = auditor_->Info(now, true);
  EXPECT_EQ(info.records, 4u);
  EXPECT_GT(info.bytes, empty_bytes);
  EXPECT_EQ(info.receipts_without_feedback, 2u);
  absl::StatusOr<Auditor::Recorded> fed = Feedback(receipt, {Item(41)});
  ASSERT_TRUE(fed.ok()) << fed.status();
  // The feedback counts once it is written.
  EXPECT_EQ(auditor_->Info(now, true).receipts_without_feedback, 2u);
  ASSERT_TRUE(auditor_->Sync(fed->ticket).ok());
  info = auditor_->Info(now, true);
  EXPECT_EQ(info.records, 5u);
  EXPECT_EQ(info.receipts_without_feedback, 1u);
  fed = Feedback(receipt, {Item(52, wire::FeedbackOutcome::kApplied)});
  ASSERT_TRUE(fed.ok()) << fed.status();
  ASSERT_TRUE(auditor_->Sync(fed->ticket).ok());
  EXPECT_EQ(auditor_->Info(now, true).receipts_without_feedback, 1u);
  // The totals are every caller's: a caller that is not an admin gets the state and the due
  // date, not the other agencies' traffic or feedback backlog.
  info = auditor_->Info(now, false);
  EXPECT_EQ(info.state, wire::AuditState::kOk);
  EXPECT_EQ(info.records, 0u);
  EXPECT_EQ(info.bytes, 0u);
  EXPECT_EQ(info.receipts_without_feedback, 0u);
  EXPECT_NE(info.next_report_due, 0u);
}

// Finding 2 (x26): an audit dated ahead of the clock. Within an hour the records are stamped
// with its newest time, and INFO (an admin's) and /status say so; beyond, the start is refused.
TEST_F(AuditorTest, AnAuditDatedAheadOfTheClockIsShownOrRefused) {
  Open();
  RecordOne();  // dated by the real clock
  auditor_.reset();
  now_micros_ = absl::ToUnixMicros(absl::Now()) - int64_t{30} * 60 * 1000000;
  Open();
  const int64_t now = NoonOf(absl::CivilDay(2026, 10, 1));
  wire::AuditInfo info = auditor_->Info(now, true);
  EXPECT_EQ(info.state, wire::AuditState::kOk);
  EXPECT_THAT(info.error, HasSubstr("stream 0's records are stamped "));
  EXPECT_THAT(info.error, HasSubstr("after the clock ("));
  EXPECT_THAT(info.error, HasSubstr("the clock was set back, or the audit was dated ahead"));
  EXPECT_EQ(auditor_->ClockNote(), info.error);
  EXPECT_EQ(auditor_->Info(now, false).error, "");
  auditor_.reset();
  now_micros_ = absl::ToUnixMicros(absl::Now()) - 40 * audit::kMicrosPerDay;
  absl::StatusOr<std::unique_ptr<Auditor>> refused = Auditor::Open(config_, options_, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr("(40 days after the clock, "));
}

TEST_F(AuditorTest, ReceiptsWithoutFeedbackCountThoseIssuedSinceTheStart) {
  Open();
  const std::string old_receipt = RecordOne();
  auditor_.reset();
  Open();
  const std::string receipt = RecordOne();
  audit::QueryRecord v3 = TypicalQuery("230402199001010015", 0);
  v3.caller = "agency-a";
  v3.receipt_issued = false;  // a version 3 answer: no receipt, no feedback owed
  absl::StatusOr<audit::AuditLog::Appended> a = auditor_->Record(&v3);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(auditor_->Sync(a->ticket).ok());
  EXPECT_EQ(auditor_->Info(0, true).receipts_without_feedback, 1u);
  // Feedback on the receipt of the previous run is recorded, but was not counted as owed; on
  // the record without a receipt it is refused (no answer carried that receipt).
  absl::StatusOr<Auditor::Recorded> fed = Feedback(old_receipt, {Item(41)});
  ASSERT_TRUE(fed.ok()) << fed.status();
  ASSERT_TRUE(auditor_->Sync(fed->ticket).ok());
  EXPECT_EQ(auditor_->Info(0, true).receipts_without_feedback, 1u);
  EXPECT_TRUE(absl::IsNotFound(Feedback(Text(a->receipt), {Item(41)}).status()));
  fed = Feedback(receipt, {Item(41)});
  ASSERT_TRUE(fed.ok()) << fed.status();
  ASSERT_TRUE(auditor_->Sync(fed->ticket).ok());
  EXPECT_EQ(auditor_->Info(0, true).receipts_without_feedback, 0u);
  EXPECT_EQ(auditor_->Info(0, true).records, 5u);  // 3 queries, 2 feedback records
}

TEST_F(AuditorTest, OneSyncSettlesEveryRecordItsWriteCovered) {
  // As in a turn of an I/O thread: several connections append, the first to sync writes the
  // records of all of them, and that settles them all (the later syncs find nothing left).
  Open();
  const int64_t now = NoonOf(absl::CivilDay(2026, 10, 1));
  std::vector<uint64_t> tickets;
  for (const char* subject : {"11010519491231002X", "230402199001010015", "110101199003074514"}) {
    audit::QueryRecord r = TypicalQuery(subject, 0);
    absl::StatusOr<audit::AuditLog::Appended> a = auditor_->Record(&r);
    ASSERT_TRUE(a.ok()) << a.status();
    tickets.push_back(a->ticket);
  }
  ASSERT_TRUE(auditor_->Sync(tickets.front()).ok());
  EXPECT_EQ(auditor_->Info(now, true).receipts_without_feedback, 3u);
  for (uint64_t t : tickets) ASSERT_TRUE(auditor_->Sync(t).ok());
  EXPECT_EQ(auditor_->Info(now, true).receipts_without_feedback, 3u);
}

TEST_F(AuditorTest, EachThreadAppendsToAStreamOfItsOwn) {
  config_.threads = 2;
  Open();
  ASSERT_EQ(auditor_->streams(), 2u);
  const int64_t now = NoonOf(absl::CivilDay(2026, 10, 1));
  // The first thread to record takes stream 0, the second stream 1.
  const std::string first = RecordOne();
  std::string second;
  std::thread([&] {
    second = RecordOne();
    RecordOne();
  }).join();
  const audit::Receipt position0 = Position(first);
  const audit::Receipt position1 = Position(second);
  const audit::Receipt* r0 = &position0;
  const audit::Receipt* r1 = &position1;
  EXPECT_EQ(audit::StreamOf(r0->segment), 0u);
  EXPECT_EQ(audit::StreamOf(r1->segment), 1u);
  wire::AuditInfo info = auditor_->Info(now, true);
  EXPECT_EQ(info.records, 3u);  // both streams'
  EXPECT_EQ(info.receipts_without_feedback, 3u);
  // Feedback on a receipt of stream 1, from this thread (stream 0): found, recorded here.
  absl::StatusOr<Auditor::Recorded> fed = Feedback(second, {Item(41)});
  ASSERT_TRUE(fed.ok()) << fed.status();
  ASSERT_TRUE(auditor_->Sync(fed->ticket).ok());
  EXPECT_EQ(auditor_->Info(now, true).receipts_without_feedback, 2u);
  // A receipt of a stream the audit does not have.
  audit::Receipt beyond = *r1;
  beyond.segment = audit::FirstSegment(5);
  EXPECT_TRUE(absl::IsNotFound(Feedback(Text(beyond), {Item(41)}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(auditor_->Sync(uint64_t{5} << 56 | 1)));
  // Reopened with one I/O thread: the second stream is still opened, its receipts answered.
  auditor_.reset();
  config_.threads = 1;
  Open();
  EXPECT_EQ(auditor_->streams(), 2u);
  fed = Feedback(second, {Item(52, wire::FeedbackOutcome::kCancelled, "paid")});
  ASSERT_TRUE(fed.ok()) << fed.status();
  ASSERT_TRUE(auditor_->Sync(fed->ticket).ok());
  absl::StatusOr<audit::VerifyReport> report = audit::Verify(config_.state_dir + "/audit");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(report->problems, IsEmpty());
  EXPECT_EQ(report->records, 5u);
  EXPECT_EQ(report->streams.size(), 2u);
}

// 2026: Q3's report is due on the fifth working day after the National Day holidays
// (8, 9, 10 (调休), 12, 13 October); Q4's needs 2027, which the calendar lacks.
TEST_F(AuditorTest, InfoGivesTheNextReportDueDate) {
  Open();
  wire::AuditInfo info = auditor_->Info(NoonOf(absl::CivilDay(2026, 10, 1)), false);
  EXPECT_EQ(info.next_report_due, 20261013u);
  EXPECT_EQ(info.due_note, "");
  info = auditor_->Info(NoonOf(absl::CivilDay(2026, 11, 30)), true);
  EXPECT_EQ(info.next_report_due, 0u);
  EXPECT_THAT(info.due_note, HasSubstr("no calendar for 2027: add "));
  EXPECT_THAT(info.due_note, HasSubstr("/2027.toml (then reload shixind"));
  // An agency gets the reason, not the server's paths (x22 finding 4).
  info = auditor_->Info(NoonOf(absl::CivilDay(2026, 11, 30)), false);
  EXPECT_EQ(info.due_note, "no calendar for 2027");
}

// A reload reads the calendar again (no restart): next year's file added is used at once; a
// malformed file, or the directory gone, keeps the calendar in use and says which file and line.
TEST_F(AuditorTest, AReloadReadsTheCalendarAgain) {
  Open();
  const int64_t december = NoonOf(absl::CivilDay(2026, 12, 6));
  EXPECT_EQ(auditor_->Info(december, false).next_report_due, 0u);
  EXPECT_THAT(auditor_->Info(december, false).due_note, HasSubstr("no calendar for 2027"));
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(config_.calendar_dir + "/" + name) << text;
  };
  write("2027.toml",
        "year = 2027\nsource = \"test\"\nholidays = [\"2027-01-01\"]\nworking_days = []\n");
  ASSERT_TRUE(auditor_->ReloadCalendar().ok());
  wire::AuditInfo info = auditor_->Info(december, false);
  EXPECT_EQ(info.next_report_due, 20270108u);  // Jan 1 off; Jan 4 (Monday), 5, 6, 7, 8
  EXPECT_EQ(info.due_note, "");

  write("2028.toml",
        "year = 2028\nsource = \"test\"\nholidays = [\"2028-02-30\"]\nworking_days = []\n");
  const absl::Status bad = auditor_->ReloadCalendar();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument) << bad;
  EXPECT_THAT(bad.message(), HasSubstr("holiday calendar "));
  EXPECT_THAT(bad.message(), HasSubstr(absl::StrCat(" and ", config_.calendar_dir, ": ",
                                                    config_.calendar_dir, "/2028.toml:3: ")));
  EXPECT_THAT(bad.message(), HasSubstr("2028-02-30"));
  info = auditor_->Info(december, false);
  EXPECT_EQ(info.next_report_due, 20270108u) << "the calendar in use stays";
  EXPECT_EQ(info.due_note, "");

  std::filesystem::remove_all(config_.calendar_dir);
  EXPECT_EQ(auditor_->ReloadCalendar().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(auditor_->Info(december, false).next_report_due, 20270108u);
}

// A calendar that could not be loaded at start is replaced by the first one a reload loads.
TEST_F(AuditorTest, AReloadLoadsACalendarMissingAtStart) {
  const std::string dir = config_.calendar_dir;
  config_.calendar_dir = tmp_.path() + "/calendar-later";
  Open();
  EXPECT_EQ(auditor_->Info(NoonOf(absl::CivilDay(2026, 10, 1)), false).next_report_due, 0u);
  EXPECT_FALSE(auditor_->ReloadCalendar().ok());
  std::filesystem::copy(dir, config_.calendar_dir);
  ASSERT_TRUE(auditor_->ReloadCalendar().ok());
  EXPECT_EQ(auditor_->Info(NoonOf(absl::CivilDay(2026, 10, 1)), false).next_report_due, 20261013u);
}

// INFO reads the calendar while reloads replace it (the TSan build runs this).
TEST_F(AuditorTest, InfoWhileReloadsReplaceTheCalendar) {
  Open();
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      EXPECT_EQ(auditor_->Info(NoonOf(absl::CivilDay(2026, 10, 1)), false).next_report_due,
                20261013u);
    }
  });
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(auditor_->ReloadCalendar().ok());
  done = true;
  reader.join();
}

// calendar_dir adds years to the shipped calendar (x27 #12: the shipped directory belongs to the
// package), and a year in both is calendar_dir's: a correction of the shipped one.
TEST_F(AuditorTest, CalendarDirYearsAddToTheShippedOnes) {
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(config_.calendar_dir + "/" + name) << text;
  };
  write("2027.toml",
        "year = 2027\nsource = \"test\"\nholidays = [\"2027-01-01\"]\nworking_days = []\n");
  Open();
  // Jan 1 off; Jan 4 (Monday), 5, 6, 7, 8.
  EXPECT_EQ(auditor_->Info(NoonOf(absl::CivilDay(2026, 12, 6)), false).next_report_due, 20270108u);
  // 2026 is the shipped year: Oct 8, 9, 10 (调休), 12, 13.
  EXPECT_EQ(auditor_->Info(NoonOf(absl::CivilDay(2026, 10, 2)), false).next_report_due, 20261013u);
  // A corrected 2026 (no working Saturday) replaces the shipped one: Oct 8, 9, 12, 13, 14.
  write("2026.toml",
        "year = 2026\nsource = \"test\"\nholidays = [\"2026-10-01\", \"2026-10-02\", "
        "\"2026-10-05\", \"2026-10-06\", \"2026-10-07\"]\nworking_days = []\n");
  ASSERT_TRUE(auditor_->ReloadCalendar().ok());
  EXPECT_EQ(auditor_->Info(NoonOf(absl::CivilDay(2026, 10, 2)), false).next_report_due, 20261014u);
}

// Without calendar_dir a missing year is to be added to one: never to the package's directory.
TEST_F(AuditorTest, WithoutCalendarDirAMissingYearSaysToNameOne) {
  config_.calendar_dir = "";
  Open();
  const wire::AuditInfo info = auditor_->Info(NoonOf(absl::CivilDay(2026, 12, 6)), true);
  EXPECT_EQ(info.next_report_due, 0u);
  EXPECT_THAT(info.due_note, HasSubstr("no calendar for 2027: add 2027.toml to a directory named "
                                       "by calendar_dir (e.g. /etc/shixin/calendar)"));
  EXPECT_THAT(info.due_note, Not(HasSubstr("/data/calendar")));
}

TEST_F(AuditorTest, AMissingCalendarLeavesTheDueDateUnknown) {
  config_.calendar_dir = tmp_.path() + "/nowhere";
  Open();
  const wire::AuditInfo info = auditor_->Info(NoonOf(absl::CivilDay(2026, 10, 1)), false);
  EXPECT_EQ(info.state, wire::AuditState::kOk);
  EXPECT_EQ(info.next_report_due, 0u);
  EXPECT_THAT(info.due_note, Not(IsEmpty()));
}

TEST_F(AuditorTest, AFullDiskFailsRecordsUntilSpaceReturns) {
  Open();
  const std::string receipt = RecordOne();
  FillDisk();
  audit::QueryRecord r = TypicalQuery("11010519491231002X", 0);
  absl::StatusOr<audit::AuditLog::Appended> a = auditor_->Record(&r);
  ASSERT_TRUE(a.ok()) << a.status();  // buffered; the write fails
  const absl::Status synced = auditor_->Sync(a->ticket);
  EXPECT_EQ(synced.code(), absl::StatusCode::kUnavailable) << synced;
  EXPECT_EQ(auditor_->Record(&r).status().code(), absl::StatusCode::kUnavailable);
  const absl::Status refused = Feedback(receipt, {Item(41)}).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  // Said once, whichever layer refused.
  EXPECT_THAT(refused.message(), HasSubstr("the audit cannot be written: "));
  EXPECT_THAT(refused.message(), Not(HasSubstr("written: audit cannot be written")));
  EXPECT_THAT(auditor_->Record(&r).status().message(),
              Not(HasSubstr("written: audit cannot be written")));
  wire::AuditInfo info = auditor_->Info(0, true);
  EXPECT_EQ(info.state, wire::AuditState::kFailing);
  EXPECT_THAT(info.error, Not(IsEmpty()));
  EXPECT_EQ(info.records, 1u);
  EXPECT_EQ(auditor_->Info(0, false).error, "");  // the reason is for admins
  // The lost record awaits no feedback.
  EXPECT_EQ(info.receipts_without_feedback, 1u);
  // Space returns; after the retry interval the audit is written again.
  ops_.error = 0;
  now_micros_ += 2'000'000;
  RecordOne();
  info = auditor_->Info(0, true);
  EXPECT_EQ(info.state, wire::AuditState::kOk);
  EXPECT_EQ(info.records, 2u);
  EXPECT_EQ(info.receipts_without_feedback, 2u);
}

// POSIX, except that writes to the segment at `path` fail with EFBIG while `fail` is set: one
// stream full (a file-size limit) while the others write.
class OneStreamFullOps : public audit::FileOps {
 public:
  explicit OneStreamFullOps(std::string path) : path_(std::move(path)) {}
  int Open(const std::string& path, int flags, mode_t mode) override {
    const int fd = FileOps::Open(path, flags, mode);
    if (path == path_ || path == path_ + ".tmp") fd_ = fd;  // created, or reopened
    return fd;
  }
  ssize_t PWrite(int fd, const char* data, size_t n, off_t offset) override {
    if (fail.load() && fd == fd_.load()) return -EFBIG;
    return FileOps::PWrite(fd, data, n, offset);
  }
  std::atomic<bool> fail{false};

 private:
  const std::string path_;
  std::atomic<int> fd_{-1};
};

// Returns the lines of `log` that contain `text`.
size_t LinesWith(const std::string& log, const std::string& text) {
  size_t n = 0;
  for (absl::string_view line : absl::StrSplit(log, '\n')) n += absl::StrContains(line, text);
  return n;
}

// Stream 0 full, stream 1 writing, their outcomes interleaved: one error line when the audit
// starts failing, none while the streams' writes disagree, one info line when both write.
TEST_F(AuditorTest, AFailingStreamIsLoggedOnceAndTheRecoveryWhenEveryStreamWrites) {
  config_.threads = 2;
  OneStreamFullOps ops(audit::SegmentPath(config_.state_dir + "/audit", audit::FirstSegment(0)));
  options_.file_ops = &ops;
  Open();
  ASSERT_EQ(auditor_->streams(), 2u);
  RecordOne();  // this thread takes stream 0
  auto record_and_sync = [this] {
    audit::QueryRecord r = TypicalQuery("11010519491231002X", 0);
    absl::StatusOr<audit::AuditLog::Appended> a = auditor_->Record(&r);
    return a.ok() ? auditor_->Sync(a->ticket) : a.status();
  };
  ::testing::internal::CaptureStderr();
  ops.fail = true;
  constexpr int kRounds = 50;
  std::barrier turn(2);
  int written = 0;
  std::thread other([&] {  // the second thread to record: stream 1
    for (int i = 0; i < kRounds; ++i) {
      turn.arrive_and_wait();  // after stream 0's failure
      written += record_and_sync().ok();
      turn.arrive_and_wait();
    }
  });
  int refused = 0;
  for (int i = 0; i < kRounds; ++i) {
    refused += !record_and_sync().ok();
    turn.arrive_and_wait();
    turn.arrive_and_wait();
    EXPECT_FALSE(auditor_->Writable().ok());  // the gauge and /readyz, as the log says
  }
  other.join();
  EXPECT_EQ(refused, kRounds);
  EXPECT_EQ(written, kRounds);
  EXPECT_EQ(auditor_->Info(0, true).state, wire::AuditState::kFailing);
  // Space returns: the log's own probe finds it, with no query; Writable() reports and logs it.
  ops.fail = false;
  now_micros_ += 2'000'000;
  for (int i = 0; i < 500 && !auditor_->Writable().ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(auditor_->Writable().ok());
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(record_and_sync().ok());
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(LinesWith(log, "the audit cannot be written: write "), 1u) << log;
  // EFBIG says what to change (finding 8 of x21); no limit is set here.
  EXPECT_EQ(LinesWith(log,
                      "File too large; no file-size limit (RLIMIT_FSIZE) is set, so the file "
                      "system refuses a segment that large (audit_segment_mb: 67108864 "
                      "bytes): lower audit_segment_mb; MEASURES is refused "
                      "(AUDIT_UNAVAILABLE)"),
            1u)
      << log;
  EXPECT_EQ(LinesWith(log, "the audit is written again"), 1u) << log;
  EXPECT_LT(log.find("cannot be written"), log.find("written again")) << log;
  EXPECT_EQ(auditor_->Info(0, true).state, wire::AuditState::kOk);
  auditor_.reset();  // before `ops`, which its logs write through
}

TEST_F(AuditorTest, AFeedbackLostToAFullDiskLeavesItsReceiptAwaiting) {
  Open();
  const std::string receipt = RecordOne();
  absl::StatusOr<Auditor::Recorded> fed = Feedback(receipt, {Item(41)});
  ASSERT_TRUE(fed.ok()) << fed.status();
  FillDisk();
  EXPECT_EQ(auditor_->Sync(fed->ticket).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(auditor_->Info(0, true).receipts_without_feedback, 1u);
  // Space returns: the feedback sent again counts.
  ops_.error = 0;
  now_micros_ += 2'000'000;
  fed = Feedback(receipt, {Item(41)});
  ASSERT_TRUE(fed.ok()) << fed.status();
  ASSERT_TRUE(auditor_->Sync(fed->ticket).ok());
  EXPECT_EQ(auditor_->Info(0, true).receipts_without_feedback, 0u);
}

// Many I/O threads record, write, give feedback and read INFO at once (run under TSan).
TEST_F(AuditorTest, ConcurrentRecordsFeedbackAndInfo) {
  Open();
  Cipher();  // read once here: the threads' receipts only read it (a lazy first read would race)
  constexpr int kThreads = 4, kEach = 100;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) auditor_->Info(0, true);
  });
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string caller = absl::StrCat("agency-", t);
      for (int i = 0; i < kEach; ++i) {
        const std::string receipt = RecordOne(caller);
        if (i % 2 == 0) continue;
        absl::StatusOr<Auditor::Recorded> fed = Feedback(receipt, {Item(41)}, caller);
        EXPECT_TRUE(fed.ok()) << fed.status();
        if (fed.ok()) {
          EXPECT_TRUE(auditor_->Sync(fed->ticket).ok());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  done = true;
  reader.join();
  const wire::AuditInfo info = auditor_->Info(0, true);
  EXPECT_EQ(info.records, uint64_t{kThreads} * kEach * 3 / 2);
  EXPECT_EQ(info.receipts_without_feedback, uint64_t{kThreads} * kEach / 2);
}

constexpr char kListed[] = "11010519491231002X";    // 张秀兰
constexpr char kRelated[] = "230402197203140038";   // 陈海波
constexpr char kUnlisted[] = "230402199001010015";  // valid, on no list

// A handler with the audit, speaking to one connection (session_).
class HandlerAuditTest : public AuditorTest {
 protected:
  void Start(bool with_auditor = true) {
    holder_.Publish(Sample());
    if (with_auditor) Open();
    handler_ = std::make_unique<Handler>(config_, &holder_, NowSeconds, nullptr, nullptr,
                                         with_auditor ? auditor_.get() : nullptr);
  }

  // Negotiates `version` with the connection's first request.
  void Hello(uint8_t version) {
    const Answer a = Call(wire::Opcode::kHello, Payload(wire::HelloRequest{version, 0, "t"}));
    ASSERT_EQ(a.status(), wire::Status::kOk) << a.error();
    ASSERT_EQ(session_.version, version);
  }

  Answer Call(wire::Opcode op, std::string_view payload) {
    wire::FrameHeader h;
    h.version = session_.version;
    h.opcode = static_cast<uint8_t>(op);
    h.request_id = ++last_id_;
    std::string out;
    ReloadRequest reload;
    EXPECT_EQ(handler_->Handle(h, payload, Peer{"test", true}, &out, &reload, &session_),
              Handler::Next::kContinue);
    std::vector<Answer> frames = Frames(out, h.version);
    EXPECT_EQ(frames.size(), 1u);
    return frames.empty() ? Answer{} : frames[0];
  }

  // Returns the CHECK answers' receipts ("" for none) of `ids`.
  std::vector<std::string> CheckReceipts(const std::vector<std::string>& ids) {
    const Answer a = Call(wire::Opcode::kCheck,
                          Payload(wire::CheckRequest{ids, wire::kAsOfNow, context_}, version()));
    EXPECT_EQ(a.status(), wire::Status::kOk) << a.error();
    absl::StatusOr<std::vector<wire::CheckAnswer>> answers =
        wire::DecodeCheckResponse(a.payload, version());
    EXPECT_TRUE(answers.ok()) << answers.status();
    std::vector<std::string> receipts;
    if (answers.ok()) {
      for (const wire::CheckAnswer& c : *answers) receipts.emplace_back(c.receipt);
    }
    return receipts;
  }

  // Asks MEASURES of `id`; returns the answer, its receipt in `*receipt`.
  Answer Measures(std::string_view id, std::string* receipt = nullptr) {
    wire::MeasuresRequest request;
    request.id = id;
    request.context = context_;
    Answer a = Call(wire::Opcode::kMeasures, Payload(request, version()));
    if (a.status() == wire::Status::kOk && receipt != nullptr) {
      EXPECT_TRUE(wire::DecodeMeasuresResponseAndReceipt(a.payload, version(), receipt).ok());
    }
    return a;
  }

  Answer SendFeedback(std::string receipt, std::vector<wire::FeedbackItem> items) {
    return Call(wire::Opcode::kFeedback,
                Payload(wire::FeedbackRequest{std::move(receipt), "op7", std::move(items)}));
  }

  // Returns the audit's query records (owning copies of the fields the tests look at).
  struct Seen {
    std::string caller, operator_id, matter, purpose, subject;
    uint8_t opcode;
    audit::Listing listing;
    std::vector<uint16_t> measures;
    uint64_t generation;
    bool receipt_issued;
    std::string receipt;
  };
  std::vector<Seen> Records() {
    std::vector<Seen> seen;
    EXPECT_TRUE(audit::ForEachRecord(config_.state_dir + "/audit", {}, [&](const audit::Entry& e) {
                  if (e.type != audit::RecordType::kQuery) return true;
                  const audit::QueryRecord& q = e.query;
                  seen.push_back(Seen{std::string(q.caller), std::string(q.operator_id),
                                      std::string(q.matter), std::string(q.purpose),
                                      std::string(q.subject), q.opcode, q.listing, q.measures,
                                      q.generation, q.receipt_issued, Text(e.receipt)});
                  return true;
                }).ok());
    return seen;
  }

  // Makes the audit fail: a MEASURES whose record cannot be written.
  void FailTheAudit() {
    FillDisk();
    ASSERT_EQ(Measures(kListed).status(), wire::Status::kOk);
    ASSERT_FALSE(handler_->SyncAudit(session_.audit_ticket).ok());
  }

  uint8_t version() const { return session_.version; }

  RcuThread rcu_;
  SnapshotHolder holder_;
  std::unique_ptr<Handler> handler_;
  Session session_;
  uint32_t last_id_ = 0;
  wire::RequestContext context_{"11100000MB0143871P", "op0421", "贷款审批"};
};

TEST_F(HandlerAuditTest, Version4AnswersCarryReceiptsAndEveryQueryIsRecorded) {
  Start();
  Hello(4);
  const std::vector<std::string> check =
      CheckReceipts({kListed, kRelated, kUnlisted, "110105194912310021"});
  ASSERT_EQ(check.size(), 4u);
  EXPECT_TRUE(audit::ParseReceipt(check[0], &Cipher()).ok()) << check[0];
  EXPECT_TRUE(audit::ParseReceipt(check[1], &Cipher()).ok()) << check[1];
  EXPECT_NE(check[0], check[1]);
  EXPECT_EQ(check[2], "");  // unlisted: recorded, no receipt
  EXPECT_EQ(check[3], "");  // invalid: not recorded
  std::string receipt;
  const Answer a = Measures(kListed, &receipt);
  ASSERT_EQ(a.status(), wire::Status::kOk) << a.error();
  EXPECT_TRUE(audit::ParseReceipt(receipt, &Cipher()).ok()) << receipt;
  absl::StatusOr<MeasuresResult> result = wire::DecodeMeasuresResponse(a.payload, 4);
  ASSERT_TRUE(result.ok()) << result.status();
  std::vector<uint16_t> measures;
  for (const MeasureInfo& m : result->measures) measures.push_back(static_cast<uint16_t>(m.no));
  ASSERT_THAT(measures, Not(IsEmpty()));
  ASSERT_TRUE(handler_->SyncAudit(session_.audit_ticket).ok());

  const std::vector<Seen> seen = Records();
  ASSERT_EQ(seen.size(), 4u);
  for (const Seen& s : seen) {
    EXPECT_EQ(s.caller, "open");  // the open mode's caller
    EXPECT_EQ(s.operator_id, "op0421");
    EXPECT_EQ(s.matter, "11100000MB0143871P");
    EXPECT_EQ(s.purpose, "贷款审批");
    EXPECT_EQ(s.generation, 1u);
  }
  EXPECT_EQ(seen[0].subject, kListed);
  EXPECT_EQ(seen[0].listing, audit::Listing::kListed);
  EXPECT_EQ(seen[0].receipt, check[0]);
  EXPECT_EQ(seen[1].subject, kRelated);
  EXPECT_EQ(seen[1].listing, audit::Listing::kRelated);
  EXPECT_EQ(seen[1].receipt, check[1]);
  EXPECT_EQ(seen[2].subject, kUnlisted);
  EXPECT_EQ(seen[2].listing, audit::Listing::kUnlisted);
  EXPECT_FALSE(seen[2].receipt_issued);
  EXPECT_EQ(seen[3].opcode, static_cast<uint8_t>(wire::Opcode::kMeasures));
  EXPECT_EQ(seen[3].subject, kListed);
  EXPECT_EQ(seen[3].measures, measures);
  EXPECT_TRUE(seen[3].receipt_issued);
  EXPECT_EQ(seen[3].receipt, receipt);
}

TEST_F(HandlerAuditTest, Version3GetsNoReceiptsButIsRecorded) {
  Start();
  Hello(3);
  EXPECT_EQ(CheckReceipts({kListed}), std::vector<std::string>{""});
  std::string receipt = "x";
  ASSERT_EQ(Measures(kListed, &receipt).status(), wire::Status::kOk);
  EXPECT_EQ(receipt, "");
  ASSERT_TRUE(handler_->SyncAudit(session_.audit_ticket).ok());
  const std::vector<Seen> seen = Records();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_FALSE(seen[0].receipt_issued);
  EXPECT_FALSE(seen[1].receipt_issued);
  EXPECT_EQ(seen[1].operator_id, "");  // version 3 carries no context
}

TEST_F(HandlerAuditTest, AFailingAuditRefusesMeasuresAndDropsCheckReceipts) {
  Start();
  Hello(4);
  FailTheAudit();
  const Answer a = Measures(kListed);
  EXPECT_EQ(a.status(), wire::Status::kAuditUnavailable);
  EXPECT_THAT(a.error(), HasSubstr("cannot be written"));
  EXPECT_EQ(CheckReceipts({kListed, kRelated}), (std::vector<std::string>{"", ""}));
  // Before version 4 the refusal is UNAVAILABLE.
  session_ = Session();
  Hello(3);
  EXPECT_EQ(Measures(kListed).status(), wire::Status::kUnavailable);
}

TEST_F(HandlerAuditTest, AFailingAuditNotRequiredAnswersMeasuresWithoutReceipt) {
  config_.audit_required = false;
  Start();
  Hello(4);
  FailTheAudit();
  std::string receipt = "x";
  ASSERT_EQ(Measures(kListed, &receipt).status(), wire::Status::kOk);
  EXPECT_EQ(receipt, "");
}

TEST_F(HandlerAuditTest, AReplayAnswersLikeTheFailingAuditAndRecordsNothing) {
  Start();
  Hello(4);
  std::string receipt;
  ASSERT_EQ(Measures(kListed, &receipt).status(), wire::Status::kOk);
  ASSERT_TRUE(handler_->SyncAudit(session_.audit_ticket).ok());
  session_.audit_replay = true;
  EXPECT_EQ(Measures(kListed).status(), wire::Status::kAuditUnavailable);
  EXPECT_EQ(CheckReceipts({kListed}), std::vector<std::string>{""});
  EXPECT_EQ(SendFeedback(receipt, {Item(41)}).status(), wire::Status::kAuditUnavailable);
  EXPECT_EQ(auditor_->Info(0, true).records, 1u);
  EXPECT_EQ(Records().size(), 1u);
}

TEST_F(HandlerAuditTest, FeedbackStatuses) {
  Start();
  Hello(4);
  std::string receipt;
  const Answer m = Measures(kListed, &receipt);
  ASSERT_EQ(m.status(), wire::Status::kOk);
  ASSERT_TRUE(handler_->SyncAudit(session_.audit_ticket).ok());  // as the connection does
  absl::StatusOr<MeasuresResult> result = wire::DecodeMeasuresResponse(m.payload, 4);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_THAT(result->measures, Not(IsEmpty()));
  const auto measure = static_cast<uint16_t>(result->measures[0].no);
  Answer a = SendFeedback(receipt, {Item(measure)});
  ASSERT_EQ(a.status(), wire::Status::kOk) << a.error();
  absl::StatusOr<wire::FeedbackResponse> r = wire::DecodeFeedbackResponse(a.payload);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->recorded, 1);
  EXPECT_TRUE(audit::ParseReceipt(r->feedback_receipt, &Cipher()).ok());

  audit::Receipt unknown = Position(receipt);
  unknown.offset += 1 << 20;
  EXPECT_EQ(SendFeedback(Text(unknown), {Item(measure)}).status(), wire::Status::kNotFound);
  EXPECT_EQ(static_cast<int>(wire::Status::kNotFound), 17);
  EXPECT_EQ(SendFeedback("EE2A7AC7-1-293", {Item(measure)}).status(),
            wire::Status::kInvalidArgument);
  EXPECT_EQ(SendFeedback(RecordOne("agency-b"), {Item(41)}).status(),
            wire::Status::kPermissionDenied);
  EXPECT_EQ(SendFeedback(receipt, {Item(54)}).status(), wire::Status::kInvalidArgument);
  EXPECT_EQ(SendFeedback(receipt, {Item(measure, wire::FeedbackOutcome::kCancelled)}).status(),
            wire::Status::kInvalidArgument);
}

TEST_F(HandlerAuditTest, FeedbackWithoutAnAuditIsAuditUnavailable) {
  Start(/*with_auditor=*/false);
  Hello(4);
  std::string receipt = "x";
  ASSERT_EQ(Measures(kListed, &receipt).status(), wire::Status::kOk);
  EXPECT_EQ(receipt, "");
  EXPECT_EQ(SendFeedback("00000001-1-64", {Item(41)}).status(), wire::Status::kAuditUnavailable);
}

// Callers mode: "a", "b" and "bank" may check, ask measures and give feedback; "a" has one
// token; "bank" acts for the banking regulator.
class HandlerAuditCallersTest : public HandlerAuditTest {
 protected:
  void SetUp() override {
    std::vector<Caller> callers;
    for (const char* id : {"a", "b", "bank"}) {
      Caller c;
      c.id = id;
      c.name = absl::StrCat("Caller ", id);
      c.sector = "other";
      c.scopes = ScopeBit(Scope::kCheck) | ScopeBit(Scope::kMeasures) | ScopeBit(Scope::kFeedback);
      c.view = View::kFull;
      c.rate = c.id == "a" ? 0.001 : 1000;
      c.burst = c.id == "a" ? 1 : 1000;
      if (c.id == "bank") c.agencies = {"banking_regulator"};
      tokens_[c.id] = *NewToken();
      c.token_hashes = {HashToken(tokens_[c.id])};
      callers.push_back(std::move(c));
    }
    absl::StatusOr<CallerTable> table = CallerTable::Create(std::move(callers));
    ASSERT_TRUE(table.ok()) << table.status();
    const std::string file = tmp_.path() + "/callers.toml";
    ASSERT_TRUE(WriteCallersFile(file, *table).ok());
    absl::StatusOr<std::unique_ptr<Access>> access = Access::FromFile(file, Sample()->catalog);
    ASSERT_TRUE(access.ok()) << access.status();
    access_ = *std::move(access);
    holder_.Publish(Sample());
    Open();
    handler_ = std::make_unique<Handler>(config_, &holder_, NowSeconds, nullptr, access_.get(),
                                         auditor_.get());
  }

  // Starts a connection of version 4 as caller `id`.
  void HelloAs(const std::string& id) {
    session_ = Session();
    wire::HelloRequest hello{4, 0, "t"};
    hello.caller_id = id;
    hello.token = tokens_[id];
    const Answer a = Call(wire::Opcode::kHello, Payload(hello));
    ASSERT_EQ(a.status(), wire::Status::kOk) << a.error();
  }

  std::map<std::string, std::string> tokens_;
  std::unique_ptr<Access> access_;
};

TEST_F(HandlerAuditCallersTest, FeedbackOnAnotherCallersReceiptIsPermissionDenied) {
  HelloAs("b");
  std::string receipt;
  ASSERT_EQ(Measures(kListed, &receipt).status(), wire::Status::kOk);
  ASSERT_TRUE(handler_->SyncAudit(session_.audit_ticket).ok());
  EXPECT_EQ(Records().at(0).caller, "b");
  HelloAs("a");
  auto count_of_a = [&] {
    for (const CallerCount& c : access_->Counts()) {
      if (c.id == "a") return c;
    }
    return CallerCount{};
  };
  const CallerCount before = count_of_a();
  const uint64_t logged = LogKindEvents(LogKind::kPermissionDenied);
  EXPECT_EQ(SendFeedback(receipt, {Item(41)}).status(), wire::Status::kPermissionDenied);
  // Refused, not admitted: counted in `denied` and logged, as a scope refusal is.
  const CallerCount after = count_of_a();
  EXPECT_EQ(after.requests, before.requests);
  EXPECT_EQ(after.denied, before.denied + 1);
  EXPECT_EQ(LogKindEvents(LogKind::kPermissionDenied), logged + 1);
}

// A caller acting for named agencies reports applied only their measures: the bank asked for
// the police's (public_security: 41, 43) may report them not applied, never applied.
TEST_F(HandlerAuditCallersTest, ACallerAppliesOnlyItsAgenciesMeasures) {
  HelloAs("bank");
  wire::MeasuresRequest police;
  police.id = kListed;
  police.agency = "public_security";
  const Answer m = Call(wire::Opcode::kMeasures, Payload(police, 4));
  ASSERT_EQ(m.status(), wire::Status::kOk) << m.error();
  std::string receipt;
  ASSERT_TRUE(wire::DecodeMeasuresResponseAndReceipt(m.payload, 4, &receipt).ok());
  ASSERT_TRUE(handler_->SyncAudit(session_.audit_ticket).ok());
  const Answer applied = SendFeedback(receipt, {Item(43)});
  EXPECT_EQ(applied.status(), wire::Status::kPermissionDenied);
  EXPECT_THAT(applied.error(), HasSubstr("measure 43 is applied by public_security"));
  EXPECT_THAT(applied.error(), HasSubstr("caller bank acts for banking_regulator"));
  EXPECT_EQ(SendFeedback(receipt, {Item(43, wire::FeedbackOutcome::kNotApplied, "非本单位措施")})
                .status(),
            wire::Status::kOk);

  std::string own;
  ASSERT_EQ(Measures(kListed, &own).status(), wire::Status::kOk);  // its default: the bank's
  ASSERT_TRUE(handler_->SyncAudit(session_.audit_ticket).ok());
  EXPECT_EQ(SendFeedback(own, {Item(52)}).status(), wire::Status::kOk);
  // A caller that names no agency reports any measure it was answered.
  HelloAs("b");
  std::string any;
  ASSERT_EQ(Measures(kListed, &any).status(), wire::Status::kOk);
  ASSERT_TRUE(handler_->SyncAudit(session_.audit_ticket).ok());
  EXPECT_EQ(SendFeedback(any, {Item(43)}).status(), wire::Status::kOk);
}

// Finding 3: another caller's receipt is refused as such before the agency rule, whose advice
// (report it not applied) would only lead to that refusal; and a measure the answer did not
// return is refused as such.
TEST_F(HandlerAuditCallersTest, AnotherCallersReceiptIsRefusedBeforeTheAgencyRule) {
  HelloAs("b");
  wire::MeasuresRequest police;
  police.id = kListed;
  police.agency = "public_security";
  const Answer m = Call(wire::Opcode::kMeasures, Payload(police, 4));
  ASSERT_EQ(m.status(), wire::Status::kOk) << m.error();
  std::string receipt;
  ASSERT_TRUE(wire::DecodeMeasuresResponseAndReceipt(m.payload, 4, &receipt).ok());
  ASSERT_TRUE(handler_->SyncAudit(session_.audit_ticket).ok());
  HelloAs("bank");
  const Answer applied = SendFeedback(receipt, {Item(43)});
  EXPECT_EQ(applied.status(), wire::Status::kPermissionDenied);
  EXPECT_THAT(applied.error(), HasSubstr("was issued to another caller"));
  EXPECT_THAT(applied.error(), Not(HasSubstr("acts for")));

  std::string own;
  const Answer mine = Call(wire::Opcode::kMeasures, Payload(police, 4));
  ASSERT_TRUE(wire::DecodeMeasuresResponseAndReceipt(mine.payload, 4, &own).ok());
  ASSERT_TRUE(handler_->SyncAudit(session_.audit_ticket).ok());
  const Answer absent = SendFeedback(own, {Item(1)});  // org_dept's, not in the police's answer
  EXPECT_EQ(absent.status(), wire::Status::kInvalidArgument);
  EXPECT_THAT(absent.error(), HasSubstr("is not in the answer"));
}

// The replay answers a request admitted in the turn: it is not charged again.
TEST_F(HandlerAuditCallersTest, AReplayIsNotChargedAgain) {
  HelloAs("a");
  ASSERT_EQ(Measures(kListed).status(), wire::Status::kOk);  // a's only token
  session_.audit_replay = true;
  EXPECT_EQ(Measures(kListed).status(), wire::Status::kAuditUnavailable);
  session_.audit_replay = false;
  EXPECT_EQ(Measures(kListed).status(), wire::Status::kRateLimited);
}

// Finding 12 of /tmp/x11: a caller sends a whole query frame (its checksum is anyone's to
// compute) as its purpose, operator or matter code; FEEDBACK on the frame's offset inside the
// caller's record is NOT_FOUND, and the genuine receipts keep working.
TEST_F(AuditorTest, FeedbackOnAFramePlantedInACallersTextIsNotFound) {
  Open();
  const std::string genuine = RecordOne();
  const audit::Receipt parsed_genuine = Position(genuine);
  const audit::Receipt* parsed = &parsed_genuine;
  const std::string segment = audit::SegmentPath(config_.state_dir + "/audit", parsed->segment);
  absl::StatusOr<audit::SegmentHeader> header = audit::ReadHeader(segment);
  ASSERT_TRUE(header.ok());
  audit::QueryRecord forged = TypicalQuery("230402199001010015", now_micros_.load());
  forged.caller = "agency-a";
  forged.measures = {41, 52};
  forged.sequence = 2;
  const std::string frame = audit::testing::ForgedQueryFrame(forged, header->query_base());
  for (int field = 0; field < 3; ++field) {
    audit::QueryRecord carrier = TypicalQuery("11010519491231002X", now_micros_.load());
    (field == 0 ? carrier.purpose : field == 1 ? carrier.operator_id : carrier.matter) = frame;
    absl::StatusOr<audit::AuditLog::Appended> a = auditor_->Record(&carrier);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(auditor_->Sync(a->ticket).ok());
  }
  std::ifstream in(segment, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  int planted = 0;
  for (size_t at = data.find(frame); at != std::string::npos; at = data.find(frame, at + 1)) {
    ++planted;
    const audit::Receipt receipt{parsed->node, parsed->segment, at};
    absl::Status s = Feedback(Text(receipt), {Item(41)}).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << receipt.ToString() << ": " << s;
    EXPECT_THAT(s.message(), HasSubstr("no record"));
  }
  EXPECT_EQ(planted, 3);
  EXPECT_TRUE(Feedback(genuine, {Item(41)}).ok());
}

}  // namespace
}  // namespace shixin
