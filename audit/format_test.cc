#include "audit/format.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/test_util.h"

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

// Frames `payloads` (a query, then alternately feedback and query) and seals them.
std::string SealedBatch(const ChainHash& prev, const std::vector<std::string>& payloads,
                        ChainHash* chain) {
  std::string batch;
  for (size_t i = 0; i < payloads.size(); ++i) {
    const size_t start =
        BeginRecord(i % 2 == 0 ? RecordType::kQuery : RecordType::kFeedback, &batch);
    batch += payloads[i];
    FrameRecord(start, &batch);
  }
  *chain = SealBatch(prev, &batch);
  return batch;
}

TEST(FormatTest, RecordFramingAndTheSealOfAWrite) {
  const ChainHash zero{};
  ChainHash chain;
  const std::string out = SealedBatch(zero, {"hello", ""}, &chain);
  ASSERT_EQ(out.size(), 5 + kRecordOverhead + kRecordOverhead + kSealSize);
  FramedRecord r;
  ASSERT_EQ(ParseRecord(out, kFormatVersion, &r), FrameStatus::kOk);
  EXPECT_EQ(r.type, RecordType::kQuery);
  EXPECT_EQ(r.payload, "hello");
  EXPECT_EQ(r.size, 5 + kRecordOverhead);
  ASSERT_EQ(ParseRecord(std::string_view(out).substr(r.size), kFormatVersion, &r),
            FrameStatus::kOk);
  EXPECT_EQ(r.type, RecordType::kFeedback);
  const size_t seal_at = out.size() - kSealSize;
  ASSERT_EQ(ParseRecord(std::string_view(out).substr(seal_at), kFormatVersion, &r),
            FrameStatus::kOk);
  EXPECT_EQ(r.type, RecordType::kSeal);
  EXPECT_EQ(r.chain, chain);
  EXPECT_EQ(BatchChain(zero, std::string_view(out).substr(0, seal_at)), chain);
  // A seal is no record of format 1, whose frames also carry a chain each.
  EXPECT_NE(ParseRecord(std::string_view(out).substr(seal_at), 1, &r), FrameStatus::kOk);

  EXPECT_EQ(ParseRecord(std::string_view(out).substr(0, 13), kFormatVersion, &r),
            FrameStatus::kIncomplete);
  std::string bad = out;
  bad[6] ^= 1;
  EXPECT_EQ(ParseRecord(bad, kFormatVersion, &r), FrameStatus::kBadChecksum);
  bad = out;
  bad[3] = '\x7f';
  EXPECT_EQ(ParseRecord(bad, kFormatVersion, &r), FrameStatus::kBadLength);
}

// Feeds every frame of `frames` to a format-2 ChainCheck from `prev`; returns how many failed.
int ChainFailures(const ChainHash& prev, std::string_view frames, ChainHash* last = nullptr) {
  ChainCheck check(kFormatVersion, prev);
  int failures = 0;
  while (!frames.empty()) {
    FramedRecord r;
    EXPECT_EQ(ParseRecord(frames, kFormatVersion, &r), FrameStatus::kOk);
    if (!check.Add(r)) ++failures;
    frames.remove_prefix(r.size);
  }
  EXPECT_EQ(check.unsealed(), 0u);
  if (last != nullptr) *last = check.chain();
  return failures;
}

TEST(FormatTest, TheSealFindsARecordRemovedOrReorderedWithItsChecksumIntact) {
  const ChainHash prev = BatchChain(ChainHash{}, "before");
  ChainHash c1, c2;
  const std::string first = SealedBatch(prev, {"one", "two", std::string(300, 'x')}, &c1);
  const std::string second = SealedBatch(c1, {"four"}, &c2);
  ChainHash last;
  EXPECT_EQ(ChainFailures(prev, first + second, &last), 0);
  EXPECT_EQ(last, c2);
  // The second write alone does not follow `prev`; nor does the first one's seal after a
  // record removed (every frame's checksum still valid).
  EXPECT_EQ(ChainFailures(prev, second), 1);
  ChainHash unused;
  const std::string two = SealedBatch(prev, {"one", "two"}, &unused);
  const std::string removed =
      two.substr(0, two.size() - kSealSize) + first.substr(first.size() - kSealSize);
  EXPECT_EQ(ChainFailures(prev, removed), 1);
  const std::string swapped = SealedBatch(prev, {"two", "one", std::string(300, 'x')}, &unused);
  EXPECT_EQ(ChainFailures(prev, swapped.substr(0, swapped.size() - kSealSize) +
                                    first.substr(first.size() - kSealSize)),
            1);
}

TEST(FormatTest, FormatOneSegmentsStillRead) {
  // audit/testdata/sample.audit was written by the format-1 writer: every record chained.
  const std::string path = testing::SourceDir() + "/audit/testdata/sample.audit";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path;
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  absl::StatusOr<SegmentHeader> header = DecodeHeader(data);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->version, 1u);
  ChainCheck check(1, header->prev_chain);
  std::string_view rest = std::string_view(data).substr(kHeaderSize);
  int records = 0;
  while (!rest.empty()) {
    FramedRecord r;
    ASSERT_EQ(ParseRecord(rest, 1, &r), FrameStatus::kOk) << records;
    EXPECT_EQ(r.size, r.payload.size() + RecordOverhead(1));
    EXPECT_TRUE(check.Add(r)) << records;
    EXPECT_EQ(check.unsealed(), 0u);
    rest.remove_prefix(r.size);
    ++records;
  }
  EXPECT_GT(records, 0);
}

TEST(FormatTest, TheChainStartsFromTheWholeHeaderFromFormatFive) {
  SegmentHeader h;
  h.prev_chain[3] = 1;
  h.created_micros = 1780000000000000;
  const ChainHash start = StartChain(h);
  EXPECT_NE(start, h.prev_chain);
  for (auto change :
       {+[](SegmentHeader* x) { ++x->created_micros; }, +[](SegmentHeader* x) { ++x->node; },
        +[](SegmentHeader* x) { ++x->first_sequence; }}) {
    SegmentHeader changed = h;
    change(&changed);
    EXPECT_NE(StartChain(changed), start);
  }
  h.version = 4;  // formats 1-4: the previous chain alone
  EXPECT_EQ(StartChain(h), h.prev_chain);
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
