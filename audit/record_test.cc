#include "audit/record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "audit/audit_test_util.h"
#include "audit/format.h"

namespace shixin::audit {
namespace {

using ::testing::HasSubstr;

// A segment of the current format: its first sequence and creation time.
constexpr QueryBase kSegment{kFormatVersion, 1234000, 1780000000000000};

TEST(RecordTest, QueryRoundTrip) {
  QueryRecord r = testing::TypicalQuery("110101199003074514", kSegment.created_micros + 123456);
  r.sequence = 1234567;
  r.as_of = -86400;
  r.agency_filter = "税务";
  std::string bytes;
  EncodeQuery(r, kSegment, &bytes);
  absl::StatusOr<QueryRecord> back = DecodeQuery(bytes, kSegment);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->sequence, 1234567u);
  EXPECT_EQ(back->time_micros, r.time_micros);
  EXPECT_EQ(back->opcode, 4);
  EXPECT_EQ(back->caller, "court-agency-17");
  EXPECT_EQ(back->operator_id, "op0421");
  EXPECT_EQ(back->matter, "11100000MB0143871P");
  EXPECT_EQ(back->subject, "110101199003074514");
  EXPECT_EQ(back->listing, Listing::kListed);
  EXPECT_EQ(back->agency_filter, "税务");
  EXPECT_EQ(back->as_of, -86400);
  EXPECT_EQ(back->list_version, 0x7beca307fd538fafULL);
  EXPECT_EQ(ListVersionText(*back), "7beca307fd538faf");
  EXPECT_EQ(back->generation, 412u);
  EXPECT_EQ(back->delta_sequence, 77u);
  EXPECT_EQ(back->measures, r.measures);
  EXPECT_TRUE(back->receipt_issued);
  // Compact: the strings, the version's 8 bytes and about one byte per other field.
  const size_t strings = r.caller.size() + r.operator_id.size() + r.matter.size() +
                         r.subject.size() + r.agency_filter.size();
  EXPECT_LE(bytes.size(), strings + 8 + 32);
  // The same record in a segment of format 3: the sequence, the time and the version's 16
  // digits in full.
  std::string v3;
  EncodeQuery(r, QueryBase{3}, &v3);
  back = DecodeQuery(v3, QueryBase{3});
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->sequence, 1234567u);
  EXPECT_EQ(back->time_micros, r.time_micros);
  EXPECT_EQ(back->list_version, r.list_version);
  EXPECT_THAT(v3, HasSubstr("7beca307fd538faf"));
  EXPECT_GE(v3.size(), bytes.size() + 9 + 5);
}

// Format 4's differences: a record before its segment's creation (another thread's clock), and
// a sequence whose difference would overflow, which is damage.
TEST(RecordTest, DifferencesFromTheSegment) {
  QueryRecord r = testing::TypicalQuery("x", kSegment.created_micros - 5);
  r.sequence = kSegment.first_sequence;
  std::string bytes;
  EncodeQuery(r, kSegment, &bytes);
  absl::StatusOr<QueryRecord> back = DecodeQuery(bytes, kSegment);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->time_micros, kSegment.created_micros - 5);
  EXPECT_EQ(back->sequence, kSegment.first_sequence);
  EXPECT_EQ(bytes.substr(0, 2), std::string("\x00\x09", 2));  // 0; zigzag(-5)

  r.sequence = std::numeric_limits<uint64_t>::max();
  std::string far;
  EncodeQuery(r, QueryBase{kFormatVersion, 0, 0}, &far);
  back = DecodeQuery(far, kSegment);
  ASSERT_FALSE(back.ok());
  EXPECT_THAT(back.status().message(), HasSubstr("sequence: out of range"));
}

// Formats 1-3 wrote the version as its 16 lower-case hex digits: any other text is damage.
TEST(RecordTest, OlderFormatsRefuseAVersionThatIsNotSixteenHexDigits) {
  const QueryRecord r = testing::TypicalQuery("x", 1);
  std::string bytes;
  EncodeQuery(r, QueryBase{3}, &bytes);
  const size_t at = bytes.find("7beca307fd538faf");
  ASSERT_NE(at, std::string::npos);
  for (const char bad : {'G', 'A', '.'}) {
    std::string damaged = bytes;
    damaged[at + 3] = bad;
    absl::StatusOr<QueryRecord> back = DecodeQuery(damaged, QueryBase{3});
    ASSERT_FALSE(back.ok()) << bad;
    EXPECT_THAT(back.status().message(), HasSubstr("list_version: not 16 hex digits"));
  }
}

// Every varint at its longest (10 bytes) and long strings: the encoder's one-time growth must
// cover the worst case (ASan checks the writes), and what it wrote must be all that is kept.
TEST(RecordTest, LargestValuesRoundTripAppendedAfterOtherBytes) {
  const std::string text(300, 'x');
  QueryRecord r = testing::TypicalQuery(text, std::numeric_limits<int64_t>::min());
  r.sequence = std::numeric_limits<uint64_t>::max();
  r.opcode = 255;
  r.caller = r.operator_id = r.matter = r.purpose = r.agency_filter = r.scenario_filter = text;
  r.list_version = std::numeric_limits<uint64_t>::max();
  r.as_of = std::numeric_limits<int64_t>::max();
  r.generation = r.delta_sequence = std::numeric_limits<uint64_t>::max();
  r.measures.assign(1000, 65535);
  std::string bytes = "prefix";
  EncodeQuery(r, kSegment, &bytes);  // differences that wrap around
  ASSERT_EQ(bytes.substr(0, 6), "prefix");
  absl::StatusOr<QueryRecord> back = DecodeQuery(std::string_view(bytes).substr(6), kSegment);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->sequence, r.sequence);
  EXPECT_EQ(back->time_micros, r.time_micros);
  EXPECT_EQ(back->as_of, r.as_of);
  EXPECT_EQ(back->generation, r.generation);
  EXPECT_EQ(back->scenario_filter, text);
  EXPECT_EQ(back->list_version, r.list_version);
  EXPECT_EQ(back->measures, r.measures);

  FeedbackRecord f;
  f.sequence = std::numeric_limits<uint64_t>::max();
  f.time_micros = std::numeric_limits<int64_t>::min();
  f.caller = f.operator_id = f.receipt = text;
  f.entries.assign(200, FeedbackEntry{65535, Outcome::kCancelled, text});
  std::string fb = "p";
  EncodeFeedback(f, &fb);
  absl::StatusOr<FeedbackRecord> fback = DecodeFeedback(std::string_view(fb).substr(1));
  ASSERT_TRUE(fback.ok()) << fback.status();
  EXPECT_EQ(fback->sequence, f.sequence);
  ASSERT_EQ(fback->entries.size(), 200u);
  EXPECT_EQ(fback->entries[199].reason, text);
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
  QueryRecord r = testing::TypicalQuery("110101199003074514", 1);
  r.sequence = kSegment.first_sequence + 1;
  EncodeQuery(r, kSegment, &bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeQuery(std::string_view(bytes).substr(0, n), kSegment).ok()) << n;
  }
  absl::StatusOr<QueryRecord> trailing = DecodeQuery(bytes + "x", kSegment);
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
  q.sequence = kSegment.first_sequence;
  q.listing = static_cast<Listing>(0);
  std::string qb;
  EncodeQuery(q, kSegment, &qb);
  EXPECT_THAT(DecodeQuery(qb, kSegment).status().message(), HasSubstr("listing"));
}

// Format 3 writes an ascending list of measures as a bitmap when that is shorter; formats 1 and
// 2 (and format 3 otherwise) list the numbers. Each decodes to the list it was given.
TEST(RecordTest, MeasuresAsABitmapFromFormatThree) {
  QueryRecord r = testing::TypicalQuery("110101199003074514", 1);
  const std::vector<std::vector<uint16_t>> lists = {
      {},                  // nothing: the count alone
      {41},                // one: its number is shorter than a bitmap reaching it
      {0},                 // a bitmap of one byte is no shorter than the list
      {1, 2, 3},           // a bitmap of one byte
      {18, 3, 26},         // not ascending: listed, in order
      {5, 5},              // repeated: listed
      {1, 2, 300, 65535},  // sparse and high: listed
  };
  std::vector<uint16_t> many;  // a listed subject's answer: 49 of measures 1-53
  for (uint16_t m = 1; m <= 53; ++m) {
    if (m != 8 && m != 12 && m != 15 && m != 31) many.push_back(m);
  }
  std::vector<std::vector<uint16_t>> all = lists;
  all.push_back(many);
  std::vector<uint16_t> spread, late;  // bitmaps over several 64-bit words, the first empty
  for (uint16_t m = 0; m < 200; m += 2) spread.push_back(m);
  for (uint16_t m = 70; m <= 200; ++m) late.push_back(m);
  all.push_back(spread);
  all.push_back(late);
  for (const std::vector<uint16_t>& measures : all) {
    r.measures = measures;
    std::string v2, v3;
    EncodeQuery(r, QueryBase{2}, &v2);
    EncodeQuery(r, QueryBase{3}, &v3);
    for (const auto& [format, bytes] : {std::pair{2u, &v2}, std::pair{3u, &v3}}) {
      absl::StatusOr<QueryRecord> back = DecodeQuery(*bytes, QueryBase{format});
      ASSERT_TRUE(back.ok()) << back.status() << " format " << format;
      EXPECT_EQ(back->measures, measures) << "format " << format;
      EXPECT_TRUE(back->receipt_issued);
    }
    // The bitmap's size byte is all format 3 adds to a list.
    EXPECT_LE(v3.size(), v2.size() + (measures.empty() ? 0 : 1));
    if (measures.size() > 50) {
      EXPECT_LT(v3.size() + 50, v2.size());
    }
  }
  r.measures = many;
  std::string v2, v3;
  EncodeQuery(r, QueryBase{2}, &v2);
  EncodeQuery(r, QueryBase{3}, &v3);
  EXPECT_EQ(v2.size() - v3.size(), 49u - 1 - 7);  // 49 bytes listed; size and 7 bytes of bitmap
}

// A format-3 query's measures in every form but the encoder's are damage, as a bad value is.
TEST(RecordTest, FormatThreeRefusesMeasuresInAnotherForm) {
  QueryRecord r = testing::TypicalQuery("x", 1);
  r.measures.clear();
  std::string head;
  EncodeQuery(r, QueryBase{3}, &head);
  ASSERT_EQ(head.substr(head.size() - 2), std::string("\x00\x01", 2));  // no measures; receipt
  head.resize(head.size() - 2);
  const auto decode = [&head](std::string_view measures) {
    return DecodeQuery(head + std::string(measures) + "\x01", QueryBase{3});
  };
  absl::StatusOr<QueryRecord> ok = decode(std::string_view("\x03\x01\x0e", 3));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->measures, (std::vector<uint16_t>{1, 2, 3}));
  for (std::string_view bad : {
           std::string_view("\x03\x00\x01\x02\x03", 5),  // listed where the bitmap is shorter
           std::string_view("\x03\x02\x0e\x00", 4),      // a bitmap longer than needed
           std::string_view("\x02\x01\x0e", 3),          // three bits for a count of two
           std::string_view("\x04\x01\x0e", 3),          // and for four
       }) {
    absl::StatusOr<QueryRecord> back = decode(bad);
    ASSERT_FALSE(back.ok()) << absl::CEscape(absl::string_view(bad.data(), bad.size()));
    EXPECT_EQ(back.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(back.status().message(), HasSubstr("measures"));
  }
  // Format 2 reads the same bytes as a list: 0x03 measures 0x01 0x0e ... then runs short.
  EXPECT_FALSE(DecodeQuery(head + std::string("\x03\x01\x0e\x01", 4), QueryBase{2}).ok());
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
