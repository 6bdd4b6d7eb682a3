#include "audit/format.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace shixin::audit {
namespace {

TEST(FormatTest, HeaderRoundTripAndChecksum) {
  SegmentHeader h;
  h.node = 0x9f2c41d0;
  h.segment = 3;
  h.first_sequence = 1000001;
  h.prev_chain[0] = 7;
  h.prev_chain[15] = 9;
  h.created_micros = 1780000000123456;
  const std::string bytes = EncodeHeader(h);
  ASSERT_EQ(bytes.size(), kHeaderSize);
  EXPECT_EQ(bytes.substr(0, 8), "SHXAUDT1");
  absl::StatusOr<SegmentHeader> back = DecodeHeader(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->node, h.node);
  EXPECT_EQ(back->segment, 3u);
  EXPECT_EQ(back->first_sequence, 1000001u);
  EXPECT_EQ(back->prev_chain, h.prev_chain);
  EXPECT_EQ(back->created_micros, h.created_micros);
  for (size_t i = 0; i < kHeaderSize; ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x20;
    EXPECT_FALSE(DecodeHeader(bad).ok()) << i;
  }
  EXPECT_FALSE(DecodeHeader(bytes.substr(0, 63)).ok());
}

TEST(FormatTest, RecordFraming) {
  std::string out;
  const ChainHash zero{};
  const ChainHash c1 = AppendRecord(zero, RecordType::kQuery, "hello", &out);
  const ChainHash c2 = AppendRecord(c1, RecordType::kFeedback, "", &out);
  EXPECT_EQ(out.size(), 5 + kRecordOverhead + kRecordOverhead);
  FramedRecord r;
  ASSERT_EQ(ParseRecord(out, &r), FrameStatus::kOk);
  EXPECT_EQ(r.payload, "hello");
  EXPECT_EQ(r.chain, c1);
  EXPECT_EQ(NextChain(zero, RecordType::kQuery, "hello"), c1);
  ASSERT_EQ(ParseRecord(std::string_view(out).substr(r.size), &r), FrameStatus::kOk);
  EXPECT_EQ(r.type, RecordType::kFeedback);
  EXPECT_EQ(r.chain, c2);
  EXPECT_EQ(ParseRecord(std::string_view(out).substr(0, 20), &r), FrameStatus::kIncomplete);
  std::string bad = out;
  bad[6] ^= 1;
  EXPECT_EQ(ParseRecord(bad, &r), FrameStatus::kBadChecksum);
  bad = out;
  bad[3] = '\x7f';
  EXPECT_EQ(ParseRecord(bad, &r), FrameStatus::kBadLength);
}

TEST(FormatTest, RecordsFramedThenSealedAreTheRecordsAppended) {
  const ChainHash prev = NextChain(ChainHash{}, RecordType::kQuery, "before");
  std::string appended;
  ChainHash chain = AppendRecord(prev, RecordType::kQuery, "first payload", &appended);
  chain = AppendRecord(chain, RecordType::kFeedback, "", &appended);
  chain = AppendRecord(chain, RecordType::kQuery, std::string(300, 'x'), &appended);

  std::string framed = "spare";  // frames need not start the buffer
  for (const auto& [type, payload] : {std::pair{RecordType::kQuery, std::string("first payload")},
                                      std::pair{RecordType::kFeedback, std::string()},
                                      std::pair{RecordType::kQuery, std::string(300, 'x')}}) {
    const size_t start = BeginRecord(type, &framed);
    framed += payload;
    FrameRecord(start, &framed);
  }
  EXPECT_EQ(framed.size(), 5 + appended.size());
  EXPECT_NE(framed.substr(5), appended);  // no checksum or chain yet
  EXPECT_EQ(SealRecords(prev, framed.data() + 5, framed.size() - 5), chain);
  EXPECT_EQ(framed.substr(5), appended);
  EXPECT_EQ(SealRecords(prev, framed.data() + 5, 0), prev);
}

TEST(FormatTest, SegmentNames) {
  EXPECT_EQ(SegmentFileName(42), "0000000042.audit");
  uint32_t n = 0;
  EXPECT_TRUE(ParseSegmentFileName("0000000042.audit", &n));
  EXPECT_EQ(n, 42u);
  EXPECT_FALSE(ParseSegmentFileName("0000000000.audit", &n));
  EXPECT_FALSE(ParseSegmentFileName("000000042.audit", &n));
  EXPECT_FALSE(ParseSegmentFileName("0000000042.audit.tmp", &n));
}

}  // namespace
}  // namespace shixin::audit
