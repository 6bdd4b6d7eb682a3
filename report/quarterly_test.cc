#include "report/quarterly.h"

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audit/audit_log.h"
#include "audit/audit_test_util.h"
#include "audit/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "report/report_test_util.h"

namespace shixin::report {
namespace {

using ::testing::ElementsAre;

const Catalog& Hegang() { return TestCatalog(); }

constexpr Quarter kQ4{2026, 4};
const int64_t kInQ4 = kQ4.BeginMicros() + 1000;

audit::QueryRecord Query(std::string_view caller, std::string_view subject, audit::Listing listing,
                         std::vector<uint16_t> measures, int64_t time = kInQ4) {
  audit::QueryRecord r;
  r.time_micros = time;
  r.opcode = measures.empty() ? 3 : 4;
  r.caller = caller;
  r.subject = subject;
  r.listing = listing;
  r.measures = std::move(measures);
  r.receipt_issued = true;
  return r;
}

audit::FeedbackRecord Feedback(std::string_view caller, const std::string& receipt,
                               std::vector<audit::FeedbackEntry> entries) {
  audit::FeedbackRecord r;
  r.caller = caller;
  r.receipt = receipt;
  r.entries = std::move(entries);
  return r;
}

// Adds `f` after every feedback added so far: stream 0, the next sequence.
void AddInOrder(QuarterlyBuilder& b, const audit::FeedbackRecord& f) {
  static uint64_t sequence = 0;
  b.Add(f, {0, 0, ++sequence});
}

const MeasureLine* FindMeasure(const CallerReport& c, int no) {
  for (const MeasureLine& m : c.measures) {
    if (m.no == no) return &m;
  }
  return nullptr;
}

TEST(QuarterlyTest, CountsQueriesSubjectsHitsAndMeasures) {
  QuarterlyBuilder b(Hegang(), kQ4, "");
  b.Add(Query("hotel", "A", audit::Listing::kListed, {41}), {1, 1, 100});
  b.Add(Query("hotel", "A", audit::Listing::kListed, {41}), {1, 1, 200});
  b.Add(Query("hotel", "B", audit::Listing::kUnlisted, {}), {1, 1, 300});
  b.Add(Query("bank", "C", audit::Listing::kRelated, {50, 52}), {1, 1, 400});
  // Outside the quarter: before it and after it.
  b.Add(Query("hotel", "D", audit::Listing::kListed, {41}, kQ4.BeginMicros() - 1), {1, 1, 10});
  b.Add(Query("hotel", "D", audit::Listing::kListed, {41}, kQ4.EndMicros()), {1, 1, 500});
  const QuarterlyReport r = b.Finish();
  EXPECT_FALSE(r.empty());
  ASSERT_EQ(r.callers.size(), 2u);
  const CallerReport& bank = r.callers[0];
  const CallerReport& hotel = r.callers[1];
  EXPECT_EQ(hotel.caller, "hotel");
  EXPECT_EQ(hotel.queries, 3u);
  EXPECT_EQ(hotel.subjects, 2u);
  EXPECT_EQ(hotel.hits, 2u);
  EXPECT_EQ(hotel.receipts_with_measures, 2u);
  EXPECT_EQ(hotel.receipts_without_feedback, 2u);
  EXPECT_THAT(hotel.pending_receipts, ElementsAre("00000001-1-100", "00000001-1-200"));
  ASSERT_NE(FindMeasure(hotel, 41), nullptr);
  EXPECT_EQ(FindMeasure(hotel, 41)->returned, 2u);
  EXPECT_EQ(FindMeasure(hotel, 41)->agency_id, "public_security");
  EXPECT_EQ(bank.hits, 1u);
  EXPECT_EQ(bank.related, 1u);
  ASSERT_EQ(bank.agencies.size(), 1u);  // 50 and 52 are both the banking regulator's
  EXPECT_EQ(bank.agencies[0].id, "banking_regulator");
  EXPECT_EQ(bank.agencies[0].queries, 1u);
  EXPECT_EQ(bank.agencies[0].returned, 2u);
  EXPECT_EQ(r.total.queries, 4u);
  EXPECT_EQ(r.total.subjects, 3u);
  EXPECT_EQ(r.total.hits, 3u);
  EXPECT_EQ(r.total.receipts_without_feedback, 3u);
}

// An answer of protocol versions 1-3 carried no receipt: its measures count as returned, but no
// receipt is owed feedback, and feedback naming it counts as outside (as INFO and the notice).
TEST(QuarterlyTest, AnswersWithoutReceiptOweNoFeedback) {
  QuarterlyBuilder b(Hegang(), kQ4, "");
  audit::QueryRecord old = Query("load", "A", audit::Listing::kListed, {41});
  old.receipt_issued = false;
  b.Add(old, {1, 1, 100});
  b.Add(Query("load", "B", audit::Listing::kListed, {41}), {1, 1, 200});
  AddInOrder(b, Feedback("load", "00000001-1-100", {{41, audit::Outcome::kApplied, ""}}));
  const QuarterlyReport r = b.Finish();
  ASSERT_EQ(r.callers.size(), 1u);
  const CallerReport& load = r.callers[0];
  EXPECT_EQ(load.queries, 2u);
  ASSERT_NE(FindMeasure(load, 41), nullptr);
  EXPECT_EQ(FindMeasure(load, 41)->returned, 2u);
  EXPECT_EQ(FindMeasure(load, 41)->applied, 0u);
  EXPECT_EQ(load.receipts_with_measures, 1u);
  EXPECT_EQ(load.receipts_without_feedback, 1u);
  EXPECT_THAT(load.pending_receipts, ElementsAre("00000001-1-200"));
  EXPECT_EQ(r.total.receipts_with_measures, 1u);
  EXPECT_EQ(r.total.receipts_without_feedback, 1u);
  EXPECT_EQ(r.feedback_outside, 1u);
}

// The receipts without feedback are listed as their answers carried them: keyed from the
// node's key on (x23 #1: opaque), in the position form before it; feedback in either form,
// stored by position, settles them.
TEST(QuarterlyTest, PendingReceiptsAreListedAsIssued) {
  const audit::ReceiptCipher cipher({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
                                    kInQ4 + 500);
  QuarterlyBuilder b(Hegang(), kQ4, "");
  b.SetReceiptCipher(cipher);
  b.Add(Query("hotel", "A", audit::Listing::kListed, {41}), {1, 1, 100});
  b.Add(Query("hotel", "A", audit::Listing::kListed, {41}, kInQ4 + 500), {1, 1, 200});
  b.Add(Query("hotel", "A", audit::Listing::kListed, {41}, kInQ4 + 600), {1, 1, 300});
  AddInOrder(b, Feedback("hotel", "00000001-1-300", {{41, audit::Outcome::kApplied, ""}}));
  const QuarterlyReport r = b.Finish();
  ASSERT_EQ(r.callers.size(), 1u);
  EXPECT_THAT(r.callers[0].pending_receipts,
              ElementsAre("00000001-1-100", cipher.Text(audit::Receipt{1, 1, 200})));
  EXPECT_THAT(r.callers[0].pending_receipts[1], ::testing::MatchesRegex("00000001-[0-9a-f]{32}"));
}

// Enough repeats that the distinct sets compact while reading (past 1,024 ids), overlapping
// between callers: the per-caller, per-agency and total counts are exact.
TEST(QuarterlyTest, DistinctSubjectsAreExactAcrossCompactions) {
  QuarterlyBuilder b(Hegang(), kQ4, "");
  uint64_t offset = 0;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 10000; ++i) {  // hotel: S0..S9999, 41 (public security) on even ones
      const bool even = i % 2 == 0;
      b.Add(Query("hotel", absl::StrCat("S", i), audit::Listing::kListed,
                  even ? std::vector<uint16_t>{41} : std::vector<uint16_t>{}),
            {1, 1, ++offset});
    }
    for (int i = 5000; i < 15000; ++i) {  // bank: S5000..S14999, 41 on multiples of 3
      b.Add(Query("bank", absl::StrCat("S", i), audit::Listing::kListed,
                  i % 3 == 0 ? std::vector<uint16_t>{41} : std::vector<uint16_t>{}),
            {1, 1, ++offset});
    }
  }
  const QuarterlyReport r = b.Finish();
  ASSERT_EQ(r.callers.size(), 2u);
  EXPECT_EQ(r.callers[0].caller, "bank");
  EXPECT_EQ(r.callers[0].queries, 30000u);
  EXPECT_EQ(r.callers[0].subjects, 10000u);
  EXPECT_EQ(r.callers[1].subjects, 10000u);
  EXPECT_EQ(r.total.subjects, 15000u);
  ASSERT_EQ(r.callers[0].agencies.size(), 1u);
  EXPECT_EQ(r.callers[0].agencies[0].subjects, 3333u);  // 5001, 5004, ..., 14997
  EXPECT_EQ(r.callers[1].agencies[0].subjects, 5000u);
  // The union: 5,000 even hotel subjects, plus bank's odd multiples of 3 (5,001..14,997: 1,667)
  // and its even multiples of 3 above 9,999 (10,002..14,994: 833).
  ASSERT_EQ(r.total.agencies.size(), 1u);
  EXPECT_EQ(r.total.agencies[0].subjects, 5000u + 1667u + 833u);
}

TEST(QuarterlyTest, FeedbackCorrectionsReasonsAndUnknownReceipts) {
  QuarterlyBuilder b(Hegang(), kQ4, "");
  b.Add(Query("bank", "C", audit::Listing::kListed, {50, 52}), {1, 2, 64});
  b.Add(Query("bank", "E", audit::Listing::kListed, {52}), {1, 2, 128});
  b.Add(Query("bank", "F", audit::Listing::kListed, {52}), {1, 2, 256});
  AddInOrder(b, Feedback("bank", "00000001-2-64",
                         {{50, audit::Outcome::kApplied, ""},
                          {52, audit::Outcome::kNotApplied, "loan withdrawn"}}));
  // A correction: 52 was applied after all.
  AddInOrder(b, Feedback("bank", "00000001-2-64", {{52, audit::Outcome::kApplied, ""}}));
  AddInOrder(
      b, Feedback("bank", "00000001-2-128", {{52, audit::Outcome::kCancelled, "listing removed"}}));
  // Unknown receipts (never issued, garbage) and a measure the receipt did not return.
  AddInOrder(b, Feedback("bank", "00000001-9-999", {{52, audit::Outcome::kApplied, ""}}));
  AddInOrder(b, Feedback("bank", "not a receipt", {{52, audit::Outcome::kApplied, ""}}));
  AddInOrder(b, Feedback("bank", "00000001-2-256", {{41, audit::Outcome::kApplied, ""}}));
  const QuarterlyReport r = b.Finish();
  ASSERT_EQ(r.callers.size(), 1u);
  const CallerReport& bank = r.callers[0];
  EXPECT_EQ(bank.corrections, 1u);
  EXPECT_EQ(r.feedback_outside, 2u);
  EXPECT_EQ(r.feedback_entries_ignored, 1u);
  const MeasureLine* m52 = FindMeasure(bank, 52);
  ASSERT_NE(m52, nullptr);
  EXPECT_EQ(m52->returned, 3u);
  EXPECT_EQ(m52->applied, 1u);
  EXPECT_EQ(m52->not_applied, 0u);  // replaced by the correction
  EXPECT_EQ(m52->cancelled, 1u);
  ASSERT_EQ(m52->cancelled_reasons.size(), 1u);
  EXPECT_EQ(m52->cancelled_reasons[0].reason, "listing removed");
  EXPECT_EQ(FindMeasure(bank, 50)->applied, 1u);
  // 256 got only an ignored entry: still without feedback.
  EXPECT_EQ(bank.receipts_without_feedback, 1u);
  EXPECT_THAT(bank.pending_receipts, ElementsAre("00000001-2-256"));
  EXPECT_EQ(r.total.corrections, 1u);
  EXPECT_EQ(FindMeasure(r.total, 52)->cancelled, 1u);
}

// The audit's streams are read one after another: feedback written in stream 0 on a receipt of
// stream 1 comes before its query, and a correction may come before what it corrects.
TEST(QuarterlyTest, FeedbackBeforeItsQueryAndCorrectionsInWriteOrder) {
  const uint32_t s1 = audit::FirstSegment(1);
  const std::string receipt = absl::StrCat("00000001-", s1, "-64");
  QuarterlyBuilder b(Hegang(), kQ4, "");
  audit::FeedbackRecord later = Feedback("bank", receipt, {{52, audit::Outcome::kApplied, ""}});
  audit::FeedbackRecord earlier =
      Feedback("bank", receipt, {{52, audit::Outcome::kNotApplied, "loan withdrawn"}});
  b.Add(Feedback("bank", "00000001-9-999", {{52, audit::Outcome::kApplied, ""}}), {});  // unknown
  b.Add(later, {kInQ4 + 3000, 0, 5});                                     // stream 0, read first
  b.Add(Query("bank", "C", audit::Listing::kListed, {52}), {1, s1, 64});  // stream 1
  b.Add(earlier, {kInQ4 + 2000, 1, 9});
  const QuarterlyReport r = b.Finish();
  ASSERT_EQ(r.callers.size(), 1u);
  const CallerReport& bank = r.callers[0];
  EXPECT_EQ(bank.corrections, 1u);
  EXPECT_EQ(r.feedback_outside, 1u);
  const MeasureLine* m52 = FindMeasure(bank, 52);
  ASSERT_NE(m52, nullptr);
  EXPECT_EQ(m52->applied, 1u);  // the later feedback, though read before the earlier
  EXPECT_EQ(m52->not_applied, 0u);
  EXPECT_EQ(bank.receipts_without_feedback, 0u);
}

// Finding 9: the bank applied 52, then, its host's clock set back 30 s, cancelled it. Read from
// the audit, the cancellation (the later sequence of the stream) is the latest, though dated
// earlier.
TEST(QuarterlyTest, ACorrectionDatedEarlierByAClockSetBackStillWins) {
  audit::testing::ScratchDir tmp;
  const std::string dir = tmp.path() + "/audit";
  audit::AuditLog::Options o;
  o.dir = dir;
  o.now_micros = [] { return kInQ4; };
  absl::StatusOr<std::unique_ptr<audit::AuditLog>> log = audit::AuditLog::Open(o, nullptr);
  ASSERT_TRUE(log.ok()) << log.status();
  audit::QueryRecord q = Query("bank", "C", audit::Listing::kListed, {52});
  absl::StatusOr<audit::AuditLog::Appended> asked = (*log)->Append(&q);
  ASSERT_TRUE(asked.ok());
  const std::string receipt = asked->receipt.ToString();
  audit::FeedbackRecord applied = Feedback("bank", receipt, {{52, audit::Outcome::kApplied, ""}});
  applied.time_micros = kInQ4 + 60'000'000;
  audit::FeedbackRecord cancelled =
      Feedback("bank", receipt, {{52, audit::Outcome::kCancelled, "误查，撤销"}});
  cancelled.time_micros = kInQ4 + 30'000'000;
  ASSERT_TRUE((*log)->Append(&applied).ok());
  absl::StatusOr<audit::AuditLog::Appended> last = (*log)->Append(&cancelled);
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE((*log)->Sync(last->ticket).ok());
  absl::StatusOr<QuarterlyReport> r =
      BuildQuarterlyReport(dir, kQ4, "", Hegang(), nullptr, "no calendar");
  ASSERT_TRUE(r.ok()) << r.status();
  const MeasureLine* m52 = FindMeasure(r->total, 52);
  ASSERT_NE(m52, nullptr);
  EXPECT_EQ(m52->applied, 0u);
  EXPECT_EQ(m52->cancelled, 1u);
  EXPECT_EQ(r->total.corrections, 1u);
}

// A closed segment cut short does not stop the report: it counts the other segments' records
// and says the audit is damaged.
TEST(QuarterlyTest, ASegmentCutShortIsDamageNotAnError) {
  audit::testing::ScratchDir tmp;
  const std::string dir = tmp.path() + "/audit";
  audit::ChainHash chain =
      audit::testing::WriteSegmentByHand(dir, 1, 1, audit::ChainHash{}, kInQ4, {kInQ4});
  chain = audit::testing::WriteSegmentByHand(dir, 2, 2, chain, kInQ4 + 10, {kInQ4 + 10});
  audit::testing::WriteSegmentByHand(dir, 3, 3, chain, kInQ4 + 20, {kInQ4 + 20});
  std::filesystem::resize_file(audit::SegmentPath(dir, 2), audit::kHeaderSize + 10);
  absl::StatusOr<QuarterlyReport> r =
      BuildQuarterlyReport(dir, kQ4, "", Hegang(), nullptr, "no calendar");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->total.queries, 2u);
  EXPECT_THAT(r->damage_note, ::testing::HasSubstr("the audit is damaged: "));
  EXPECT_THAT(r->damage_note, ::testing::HasSubstr("0000000002.audit: record at offset 64"));
}

// A segment dated in the future (its queries' times are stored against its creation) moves
// queries out of their quarter: the report says so, and does not say that a quarter not begun
// counts nothing while it counts them.
TEST(QuarterlyTest, RecordsDatedAfterTheReportAreDamage) {
  audit::testing::ScratchDir tmp;
  const std::string dir = tmp.path() + "/audit";
  const int64_t day = int64_t{86400} * 1000000;
  const int64_t ahead = kQ4.EndMicros() + 10 * day;  // in 2027Q1
  const audit::ChainHash chain =
      audit::testing::WriteSegmentByHand(dir, 1, 1, audit::ChainHash{}, kInQ4, {kInQ4});
  audit::testing::WriteSegmentByHand(dir, 2, 2, chain, ahead, {ahead});
  const int64_t made = kInQ4 + day;
  auto complete = [](const std::string&) -> absl::StatusOr<audit::Coverage> {
    return audit::Coverage{};
  };
  absl::StatusOr<QuarterlyReport> r =
      BuildQuarterlyReport(dir, kQ4, "", Hegang(), nullptr, "", ReadAudit, complete, made);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->total.queries, 1u);
  EXPECT_THAT(r->damage_note,
              ::testing::HasSubstr("1 records dated after this report was made (2026-10-02"));
  EXPECT_THAT(r->damage_note, ::testing::HasSubstr("the first 0000000002.audit: query seq=2"));
  r = BuildQuarterlyReport(dir, Quarter{2027, 1}, "", Hegang(), nullptr, "", ReadAudit, complete,
                           made);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->total.queries, 1u);
  EXPECT_THAT(r->incomplete_note, ::testing::HasSubstr("yet the audit has 1 queries dated in it"));
  EXPECT_THAT(r->incomplete_note, ::testing::Not(::testing::HasSubstr("counts nothing")));
  EXPECT_THAT(r->damage_note, ::testing::HasSubstr("0000000002.audit: query seq=2"));
}

// An audit that began after the quarter holds no record of it: its empty report says so rather
// than read as "no queries"; one that began during the quarter says from when it counts.
TEST(QuarterlyTest, AQuarterBeforeTheAuditBeganIsNotCovered) {
  auto none = [](const std::string&, int64_t, const QueryVisitor&, const FeedbackVisitor&,
                 audit::ReadCheck*) { return absl::OkStatus(); };
  const int64_t day = int64_t{86400} * 1000000;
  int64_t began = kQ4.EndMicros() + 5 * day;
  auto start = [&began](const std::string&) -> absl::StatusOr<audit::Coverage> {
    return audit::Coverage{began, /*removed=*/false};
  };
  const int64_t made = kQ4.EndMicros() + 10 * day;
  absl::StatusOr<QuarterlyReport> r =
      BuildQuarterlyReport("dir", kQ4, "", Hegang(), nullptr, "", none, start, made);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(r->incomplete_before_micros, began);
  EXPECT_EQ(r->incomplete_note,
            "the audit begins at 2027-01-06T00:00:00+08:00, after this quarter: it holds no "
            "record of the quarter, and this report counts none of its queries");
  began = kQ4.BeginMicros() + day;
  r = BuildQuarterlyReport("dir", kQ4, "", Hegang(), nullptr, "", none, start, made);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->incomplete_note,
            "the audit begins at 2026-10-02T00:00:00+08:00, after the quarter began: queries "
            "answered before then were not recorded and are not in this report");
  began = kQ4.BeginMicros();  // from the quarter's first instant: whole
  r = BuildQuarterlyReport("dir", kQ4, "", Hegang(), nullptr, "", none, start, made);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->incomplete_before_micros, 0);
  EXPECT_EQ(r->incomplete_note, "");
}

// Finding 5: an organisation asked by its organisation code and by the credit code embedding it
// (characters 9-17) is one subject, as the daemon answers; a person's ID is not cut.
TEST(QuarterlyTest, AnOrganisationIsOneSubjectUnderBothItsCodes) {
  QuarterlyBuilder b(Hegang(), kQ4, "");
  audit::QueryRecord org = Query("proc", "230987613", audit::Listing::kListed, {41});
  org.kind = 1;
  b.Add(org, {1, 1, 100});
  audit::QueryRecord credit = Query("proc", "912304002309876133", audit::Listing::kListed, {41});
  credit.kind = 1;
  b.Add(credit, {1, 1, 200});
  // A person whose ID holds the same nine characters at 9-17 is another subject.
  b.Add(Query("proc", "112304002309876133", audit::Listing::kUnlisted, {}), {1, 1, 300});
  const QuarterlyReport r = b.Finish();
  ASSERT_EQ(r.callers.size(), 1u);
  EXPECT_EQ(r.callers[0].queries, 3u);
  EXPECT_EQ(r.callers[0].subjects, 2u);
  EXPECT_EQ(r.total.subjects, 2u);
  ASSERT_EQ(r.total.agencies.size(), 1u);
  EXPECT_EQ(r.total.agencies[0].subjects, 1u);
}

TEST(QuarterlyTest, ReasonsAreCountedByText) {
  QuarterlyBuilder b(Hegang(), kQ4, "");
  for (uint64_t i = 0; i < 3; ++i) {
    b.Add(Query("hotel", "A", audit::Listing::kListed, {41}), {1, 1, i});
  }
  AddInOrder(b,
             Feedback("hotel", "00000001-1-0", {{41, audit::Outcome::kNotApplied, "guest left"}}));
  AddInOrder(b,
             Feedback("hotel", "00000001-1-1", {{41, audit::Outcome::kNotApplied, "guest left"}}));
  AddInOrder(b, Feedback("hotel", "00000001-1-2", {{41, audit::Outcome::kNotApplied, "no room"}}));
  const QuarterlyReport r = b.Finish();
  const MeasureLine* m = FindMeasure(r.callers[0], 41);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->not_applied, 3u);
  ASSERT_EQ(m->not_applied_reasons.size(), 2u);
  EXPECT_EQ(m->not_applied_reasons[0].reason, "guest left");
  EXPECT_EQ(m->not_applied_reasons[0].count, 2u);
  EXPECT_EQ(r.callers[0].agencies[0].not_applied, 3u);
}

TEST(QuarterlyTest, CallerFilter) {
  QuarterlyBuilder b(Hegang(), kQ4, "bank");
  b.Add(Query("hotel", "A", audit::Listing::kListed, {41}), {1, 1, 1});
  b.Add(Query("bank", "C", audit::Listing::kListed, {52}), {1, 1, 2});
  AddInOrder(b, Feedback("hotel", "00000001-1-1", {{41, audit::Outcome::kApplied, ""}}));
  const QuarterlyReport r = b.Finish();
  ASSERT_EQ(r.callers.size(), 1u);
  EXPECT_EQ(r.callers[0].caller, "bank");
  EXPECT_EQ(r.total.queries, 1u);
  EXPECT_EQ(r.feedback_outside, 0u);  // the hotel's feedback is filtered out, not unknown
  EXPECT_EQ(r.caller_filter, "bank");
}

TEST(QuarterlyTest, EmptyQuarter) {
  QuarterlyBuilder b(Hegang(), kQ4, "");
  b.Add(Query("hotel", "A", audit::Listing::kListed, {41}, kQ4.BeginMicros() - 5), {1, 1, 1});
  const QuarterlyReport r = b.Finish();
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(r.callers.empty());
  EXPECT_TRUE(r.total.measures.empty());
}

TEST(QuarterlyTest, BuildReportWithASourceAndCalendarNotes) {
  auto source = [](const std::string& dir, int64_t from, const QueryVisitor& on_query,
                   const FeedbackVisitor& on_feedback, audit::ReadCheck*) {
    EXPECT_EQ(from, kQ4.BeginMicros());
    on_query(Query("hotel", "A", audit::Listing::kListed, {41}), {1, 1, 7});
    on_feedback(Feedback("hotel", "00000001-1-7", {{41, audit::Outcome::kApplied, ""}}), {});
    return absl::OkStatus();
  };
  auto complete = [](const std::string&) -> absl::StatusOr<audit::Coverage> {
    return audit::Coverage{};
  };
  const int64_t day = int64_t{86400} * 1000000;
  const int64_t after = kQ4.EndMicros() + day;
  absl::StatusOr<QuarterlyReport> r = BuildQuarterlyReport(
      "dir", kQ4, "", Hegang(), nullptr, "no calendar here", source, complete, after);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->due_note, "no calendar here");
  EXPECT_EQ(r->incomplete_note, "");
  r = BuildQuarterlyReport("dir", kQ4, "", Hegang(), nullptr, "", source, complete);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->made_micros, kQ4.BeginMicros());  // the real clock, today
  // When it was made: the instant given, before the read. The quarter still ran then, and
  // the report says so; made before the quarter began, it says that.
  r = BuildQuarterlyReport("dir", kQ4, "", Hegang(), nullptr, "", source, complete,
                           kQ4.BeginMicros() + 15);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->made_micros, kQ4.BeginMicros() + 15);
  EXPECT_EQ(r->incomplete_note,
            "the quarter runs until 2027-01-01T00:00:00+08:00 and this report was made at "
            "2026-10-01T00:00:00+08:00: queries and feedback after that are not in it");
  r = BuildQuarterlyReport("dir", kQ4, "", Hegang(), nullptr, "", source, complete,
                           kQ4.BeginMicros() - day);
  ASSERT_TRUE(r.ok());
  // The source's query is dated in the quarter, which had not begun: in the future.
  EXPECT_EQ(r->incomplete_note,
            "the quarter has not begun (this report was made at 2026-09-30T00:00:00+08:00), yet "
            "the audit has 1 queries dated in it (in the future)");
  EXPECT_THAT(r->damage_note,
              ::testing::HasSubstr("the audit is damaged: 1 records dated after this report was "
                                   "made (2026-09-30T00:00:00+08:00), the first 0000000001.audit: "
                                   "query seq=0 (receipt 00000001-1-7) dated "
                                   "2026-10-01T00:00:00+08:00: a segment header or records dated "
                                   "in the future"));
  EXPECT_EQ(r->total.receipts_without_feedback, 0u);
  Calendar calendar;
  r = BuildQuarterlyReport("dir", kQ4, "", Hegang(), &calendar, "", source, complete);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->due_note, "no calendar for 2027: add data/calendar/2027.toml");
  // Older segments removed (retention): an audit complete only from after the quarter's start
  // says so; from before it, the quarter is whole.
  int64_t since = kQ4.BeginMicros() + 10 * day;
  auto cut = [&since](const std::string&) -> absl::StatusOr<audit::Coverage> {
    return audit::Coverage{since, /*removed=*/true};
  };
  r = BuildQuarterlyReport("dir", kQ4, "", Hegang(), nullptr, "", source, cut, after);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->incomplete_before_micros, since);
  EXPECT_EQ(r->incomplete_note,
            "the audit starts at 2026-10-11T00:00:00+08:00 (older segments were removed), after "
            "the quarter began: this report is incomplete");
  since = kQ4.EndMicros() + day;
  r = BuildQuarterlyReport("dir", kQ4, "", Hegang(), nullptr, "", source, cut, after);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->incomplete_note,
            "the audit starts at 2027-01-02T00:00:00+08:00 (older segments were removed), after "
            "the quarter ended: this report counts none of it");
  since = kQ4.BeginMicros() - day;
  r = BuildQuarterlyReport("dir", kQ4, "", Hegang(), nullptr, "", source, cut, after);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->incomplete_note, "");
  // The reader's error reaches the caller: no audit in a missing directory.
  EXPECT_EQ(
      BuildQuarterlyReport("/nonexistent/audit", kQ4, "", Hegang(), nullptr, "").status().code(),
      absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace shixin::report

namespace shixin::report {
namespace {

// A million records of four callers over 200,000 subjects add up (the distinct-subject sets
// compact many times over). Its speed is bench/audit_report_bench's: a timed bound here failed
// under AddressSanitizer on a busy machine (6 us a record).
TEST(QuarterlyTest, AMillionRecordsAddUp) {
  QuarterlyBuilder b(Hegang(), kQ4, "");
  constexpr int kRecords = 1'000'000;
  const std::string callers[] = {"bank", "hotel", "housing", "procurement"};
  std::vector<std::string> subjects;
  subjects.reserve(200'000);
  for (int i = 0; i < 200'000; ++i) subjects.push_back(absl::StrCat("1101051949123100", i));
  audit::QueryRecord hit = Query("", "", audit::Listing::kListed, {41, 46, 52});
  audit::QueryRecord miss = Query("", "", audit::Listing::kUnlisted, {});
  for (int i = 0; i < kRecords; ++i) {
    audit::QueryRecord& r = i % 20 == 0 ? hit : miss;
    r.caller = callers[i & 3];
    r.subject = subjects[(static_cast<uint64_t>(i) * 7919) % subjects.size()];
    b.Add(r, {1, static_cast<uint32_t>(i >> 20), static_cast<uint64_t>(i)});
  }
  const QuarterlyReport r = b.Finish();
  EXPECT_EQ(r.total.queries, static_cast<uint64_t>(kRecords));
  EXPECT_EQ(r.total.hits, static_cast<uint64_t>(kRecords / 20));
  // 7919 is prime: i * 7919 reaches every subject, and each caller's quarter of them.
  EXPECT_EQ(r.total.subjects, subjects.size());
  ASSERT_EQ(r.callers.size(), 4u);
  for (const CallerReport& c : r.callers) {
    EXPECT_EQ(c.queries, static_cast<uint64_t>(kRecords / 4)) << c.caller;
    EXPECT_EQ(c.subjects, subjects.size() / 4) << c.caller;
    // Every 20th record is a hit, and 20 is a multiple of 4: all of them the bank's.
    EXPECT_EQ(c.hits, c.caller == "bank" ? static_cast<uint64_t>(kRecords / 20) : 0u) << c.caller;
  }
}

}  // namespace
}  // namespace shixin::report
