#include "audit/write_order.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "audit/audit_log.h"
#include "audit/audit_test_util.h"
#include "audit/format.h"
#include "audit/reader.h"

namespace shixin::audit {
namespace {

using testing::ScratchDir;
using testing::TypicalQuery;

constexpr int64_t kT0 = int64_t{1780000000} * 1000000;
constexpr int64_t kSecond = 1000000;

// Stream 0 wrote at T0 + 100 s, then (the clock set back) at T0 + 50 s; stream 1 at T0 + 75 s.
TEST(WriteOrderTest, TheSequenceDecidesWithinAStreamAndTimesAcrossStreams) {
  const uint32_t s0 = FirstSegment(0), s1 = FirstSegment(1);
  WriteOrderer orderer;
  const WriteOrder first = orderer.Next(s0, 1, kT0 + 100 * kSecond);
  const WriteOrder second = orderer.Next(s0, 2, kT0 + 50 * kSecond);
  const WriteOrder other = orderer.Next(s1, 1, kT0 + 75 * kSecond);
  EXPECT_LT(first, second);  // written later, though dated earlier
  EXPECT_EQ(second.time_micros, kT0 + 100 * kSecond);
  EXPECT_LT(other, first);  // its time is before the 100 s stream 0 had reached
  // The same orders whichever stream is read first.
  WriteOrderer reversed;
  EXPECT_EQ(reversed.Next(s1, 1, kT0 + 75 * kSecond), other);
  EXPECT_EQ(reversed.Next(s0, 1, kT0 + 100 * kSecond), first);
  EXPECT_EQ(reversed.Next(s0, 2, kT0 + 50 * kSecond), second);
  // Equal times across streams: the stream number, then the sequence.
  WriteOrderer ties;
  EXPECT_LT(ties.Next(s0, 9, kT0), ties.Next(s1, 1, kT0));
}

// Appends to stream `stream` of `dir` (node 7) a query at T0 when `receipt` is "" (returns its
// receipt), then `feedback` on it (or on `receipt`).
Receipt WriteStream(const std::string& dir, uint32_t stream, const std::string& receipt,
                    const std::vector<FeedbackRecord>& feedback) {
  AuditLog::Options o;
  o.dir = dir;
  o.node = 7;
  o.stream = stream;
  o.now_micros = [] { return kT0; };
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o, nullptr);
  EXPECT_TRUE(log.ok()) << log.status();
  Receipt out;
  uint64_t ticket = 0;
  if (receipt.empty()) {
    QueryRecord q = TypicalQuery("110101199003074514", kT0);
    q.measures = {41, 52};
    absl::StatusOr<AuditLog::Appended> a = (*log)->Append(&q);
    EXPECT_TRUE(a.ok());
    out = a->receipt;
    ticket = a->ticket;
  }
  for (FeedbackRecord f : feedback) {
    const std::string text = receipt.empty() ? out.ToString() : receipt;
    f.receipt = text;
    absl::StatusOr<AuditLog::Appended> a = (*log)->Append(&f);
    EXPECT_TRUE(a.ok());
    ticket = a->ticket;
  }
  EXPECT_TRUE((*log)->Sync(ticket).ok());
  return out;
}

FeedbackRecord Feedback(int64_t time, Outcome outcome, std::string_view reason) {
  FeedbackRecord f;
  f.time_micros = time;
  f.caller = "court-agency-17";
  f.entries = {{52, outcome, reason}};
  return f;
}

// Finding 9: the caller applied 52, then (its host's clock set back 30 s) cancelled it: the
// cancellation is its latest word, though dated earlier. Feedback of another stream is ordered
// by time against the first stream's latest.
TEST(WriteOrderTest, LookUpReceiptGivesTheFeedbackInTheOrderWritten) {
  ScratchDir tmp;
  const std::string dir = tmp.path() + "/audit";
  const Receipt receipt =
      WriteStream(dir, 0, "",
                  {Feedback(kT0 + 60 * kSecond, Outcome::kApplied, ""),
                   Feedback(kT0 + 30 * kSecond, Outcome::kCancelled, "误查，撤销")});
  WriteStream(dir, 1, receipt.ToString(),
              {Feedback(kT0 + 45 * kSecond, Outcome::kNotApplied, "客户放弃")});
  absl::StatusOr<ReceiptRecords> found = LookUpReceipt(dir, receipt);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->feedback.size(), 3u);
  EXPECT_EQ(found->feedback[0].entries[0].outcome, Outcome::kNotApplied);  // stream 1, 45 s
  EXPECT_EQ(found->feedback[1].entries[0].outcome, Outcome::kApplied);
  EXPECT_EQ(found->feedback[2].entries[0].outcome, Outcome::kCancelled);
  EXPECT_EQ(found->feedback[2].entries[0].reason, "误查，撤销");
}

}  // namespace
}  // namespace shixin::audit
