#include "audit/record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "audit/audit_test_util.h"

namespace shixin::audit {
namespace {

using ::testing::HasSubstr;

TEST(RecordTest, QueryRoundTrip) {
  QueryRecord r = testing::TypicalQuery("110101199003074514", -5);
  r.sequence = 1234567;
  r.as_of = -86400;
  r.agency_filter = "税务";
  std::string bytes;
  EncodeQuery(r, &bytes);
  absl::StatusOr<QueryRecord> back = DecodeQuery(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->sequence, 1234567u);
  EXPECT_EQ(back->time_micros, -5);
  EXPECT_EQ(back->opcode, 4);
  EXPECT_EQ(back->caller, "court-agency-17");
  EXPECT_EQ(back->operator_id, "op0421");
  EXPECT_EQ(back->matter, "11100000MB0143871P");
  EXPECT_EQ(back->subject, "110101199003074514");
  EXPECT_EQ(back->listing, Listing::kListed);
  EXPECT_EQ(back->agency_filter, "税务");
  EXPECT_EQ(back->as_of, -86400);
  EXPECT_EQ(back->list_version, "20261130.3");
  EXPECT_EQ(back->generation, 412u);
  EXPECT_EQ(back->delta_sequence, 77u);
  EXPECT_EQ(back->measures, r.measures);
  EXPECT_TRUE(back->receipt_issued);
  // Compact: the strings plus about one byte per other field (the time takes 8).
  const size_t strings = r.caller.size() + r.operator_id.size() + r.matter.size() +
                         r.subject.size() + r.agency_filter.size() + r.list_version.size();
  EXPECT_LE(bytes.size(), strings + 40);
}

TEST(RecordTest, FeedbackRoundTrip) {
  FeedbackRecord r;
  r.sequence = 9;
  r.time_micros = 1780000000000000;
  r.caller = "c";
  r.operator_id = "op";
  r.receipt = "9f2c41d0-3-1048576";
  r.entries = {{41, Outcome::kApplied, ""},
               {52, Outcome::kNotApplied, "已履行"},
               {29, Outcome::kCancelled, "x"}};
  std::string bytes;
  EncodeFeedback(r, &bytes);
  absl::StatusOr<FeedbackRecord> back = DecodeFeedback(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->time_micros, r.time_micros);
  EXPECT_EQ(back->receipt, r.receipt);
  ASSERT_EQ(back->entries.size(), 3u);
  EXPECT_EQ(back->entries[1].measure, 52);
  EXPECT_EQ(back->entries[1].outcome, Outcome::kNotApplied);
  EXPECT_EQ(back->entries[1].reason, "已履行");
  EXPECT_EQ(back->entries[2].outcome, Outcome::kCancelled);
}

TEST(RecordTest, TruncatedAndTrailingBytesRefused) {
  std::string bytes;
  EncodeQuery(testing::TypicalQuery("110101199003074514", 1), &bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeQuery(std::string_view(bytes).substr(0, n)).ok()) << n;
  }
  absl::StatusOr<QueryRecord> trailing = DecodeQuery(bytes + "x");
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(trailing.status().message(), HasSubstr("trailing"));

  FeedbackRecord f;
  f.entries = {{1, Outcome::kApplied, ""}};
  std::string fb;
  EncodeFeedback(f, &fb);
  for (size_t n = 0; n < fb.size(); ++n) {
    EXPECT_FALSE(DecodeFeedback(std::string_view(fb).substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(DecodeFeedback(fb + "\x01").ok());
}

TEST(RecordTest, OutOfRangeValuesRefused) {
  FeedbackRecord f;
  f.entries = {{1, Outcome::kApplied, ""}};
  std::string fb;
  EncodeFeedback(f, &fb);
  // The outcome is the second-last byte before the empty reason's length: make it 3.
  fb[fb.size() - 2] = 3;
  absl::StatusOr<FeedbackRecord> back = DecodeFeedback(fb);
  ASSERT_FALSE(back.ok());
  EXPECT_THAT(back.status().message(), HasSubstr("outcome"));

  QueryRecord q = testing::TypicalQuery("x", 1);
  q.listing = static_cast<Listing>(0);
  std::string qb;
  EncodeQuery(q, &qb);
  EXPECT_THAT(DecodeQuery(qb).status().message(), HasSubstr("listing"));
}

TEST(RecordTest, OutcomeNames) {
  Outcome o;
  ASSERT_TRUE(OutcomeFromName("not_applied", &o));
  EXPECT_EQ(o, Outcome::kNotApplied);
  EXPECT_EQ(OutcomeName(Outcome::kCancelled), "cancelled");
  EXPECT_FALSE(OutcomeFromName("done", &o));
}

}  // namespace
}  // namespace shixin::audit
