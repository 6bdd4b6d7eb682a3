#include "audit/reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "audit/audit_log.h"
#include "audit/audit_test_util.h"
#include "audit/format.h"
#include "core/test_util.h"

namespace shixin::audit {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::ScratchDir;
using testing::TypicalQuery;

constexpr int64_t kT0 = int64_t{1780000000} * 1000000;

class ReaderTest : public ::testing::Test {
 protected:
  // Writes `n` queries one second apart (and a feedback after every 10th) over small segments,
  // in `stream`.
  void Write(int n, uint32_t stream = 0) {
    AuditLog::Options o;
    o.dir = dir_;
    o.node = 7;
    o.stream = stream;
    o.segment_bytes = 2000;
    o.now_micros = [this] { return now_; };
    now_ = kT0;  // the segment is created when its first record is stamped, as in the daemon
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o, nullptr);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int i = 0; i < n; ++i) {
      now_ = kT0 + int64_t{i} * 1000000;
      const std::string subject = absl::StrCat("subject", i);  // the record views it
      QueryRecord q = TypicalQuery(subject, now_);
      absl::StatusOr<AuditLog::Appended> a = (*log)->Append(&q);
      ASSERT_TRUE(a.ok());
      if (i % 10 == 9) {
        FeedbackRecord f;
        f.time_micros = now_;
        const std::string receipt = a->receipt.ToString();
        f.receipt = receipt;
        f.entries = {{41, Outcome::kApplied, ""}};
        ASSERT_TRUE((*log)->Append(&f).ok());
      }
    }
  }
  ScratchDir tmp_;
  std::string dir_ = tmp_.path() + "/audit";
  int64_t now_ = kT0;
};

TEST_F(ReaderTest, ForEachRecordVisitsAllInOrderWithReceipts) {
  Write(100);
  int queries = 0, feedbacks = 0;
  uint64_t last_sequence = 0;
  ASSERT_TRUE(ForEachRecord(dir_, {}, [&](const Entry& e) {
                if (e.type == RecordType::kQuery) {
                  EXPECT_EQ(e.query.subject, absl::StrCat("subject", queries));
                  EXPECT_EQ(e.query.sequence, last_sequence + 1);
                  last_sequence = e.query.sequence;
                  EXPECT_EQ(e.receipt.node, 7u);
                  EXPECT_EQ(e.receipt.offset, e.offset);
                  ++queries;
                } else {
                  EXPECT_EQ(e.feedback.entries.size(), 1u);
                  last_sequence = e.feedback.sequence;
                  ++feedbacks;
                }
                return true;
              }).ok());
  EXPECT_EQ(queries, 100);
  EXPECT_EQ(feedbacks, 10);
}

TEST_F(ReaderTest, TimeRangeAndEarlyStop) {
  Write(100);
  int seen = 0;
  ReadOptions range;
  range.from_micros = kT0 + 20 * 1000000;
  range.to_micros = kT0 + 30 * 1000000;
  ASSERT_TRUE(ForEachRecord(dir_, range, [&](const Entry& e) {
                if (e.type == RecordType::kQuery) ++seen;
                return true;
              }).ok());
  EXPECT_EQ(seen, 10);
  seen = 0;
  ASSERT_TRUE(ForEachRecord(dir_, {}, [&](const Entry&) { return ++seen < 3; }).ok());
  EXPECT_EQ(seen, 3);
}

TEST_F(ReaderTest, VerifyCountsAndFindsAFlippedByteInAnOldSegment) {
  Write(100);
  absl::StatusOr<VerifyReport> clean = Verify(dir_);
  ASSERT_TRUE(clean.ok());
  EXPECT_THAT(clean->problems, ::testing::IsEmpty());
  EXPECT_EQ(clean->records, 110u);
  EXPECT_EQ(clean->queries, 100u);
  EXPECT_EQ(clean->feedbacks, 10u);
  ASSERT_EQ(clean->streams.size(), 1u);
  EXPECT_EQ(clean->streams[0].first_sequence, 1u);
  EXPECT_EQ(clean->streams[0].last_sequence, 110u);
  EXPECT_FALSE(clean->streams[0].chain_start_cut);
  ASSERT_GE(clean->segments, 3u);
  // Flip a byte in the payload of the third frame of segment 2: a record whose sequence goes on
  // from segment 1's (verify names it by that number, as `audit query` prints it).
  const std::string path = SegmentPath(dir_, 2);
  size_t offset = kHeaderSize;
  absl::StatusOr<SegmentHeader> header = ReadHeader(path);
  ASSERT_TRUE(header.ok());
  uint64_t sequence = header->first_sequence;
  ASSERT_GT(sequence, 3u);
  {
    std::ifstream in(path, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), {});
    for (int i = 0; i < 2; ++i) {
      FramedRecord r;
      ASSERT_EQ(ParseRecord(std::string_view(data).substr(offset), kFormatVersion, &r),
                FrameStatus::kOk);
      offset += r.size;
      sequence += r.type == RecordType::kSeal ? 0 : 1;
    }
  }
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset + 12));
    const char c = static_cast<char>(f.get());
    f.seekp(static_cast<std::streamoff>(offset + 12));
    f.put(static_cast<char>(c ^ 0x01));
  }
  absl::StatusOr<VerifyReport> bad = Verify(dir_);
  ASSERT_TRUE(bad.ok());
  ASSERT_FALSE(bad->problems.empty());
  const std::string named =
      absl::StrCat("0000000002.audit: record at offset ", offset, " (seq=", sequence, " expected)");
  EXPECT_THAT(bad->problems[0], HasSubstr(named));
  absl::Status visit = ForEachRecord(dir_, {}, [](const Entry&) { return true; });
  EXPECT_EQ(visit.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(visit.message(), HasSubstr(named));
  // The writer opens: it checks only the last segment's tail (documented in audit_log.h).
  AuditLog::Options o;
  o.dir = dir_;
  o.node = 7;
  EXPECT_TRUE(AuditLog::Open(o, nullptr).ok());
}

TEST_F(ReaderTest, VerifyFindsARecordRemovedWithEveryChecksumIntact) {
  Write(100);
  const std::string path = SegmentPath(dir_, 2);
  std::string data;
  {
    std::ifstream in(path, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  // Cut record 1 out whole: every frame left still parses, only the seal can tell.
  size_t offset = kHeaderSize;
  FramedRecord r;
  ASSERT_EQ(ParseRecord(std::string_view(data).substr(offset), kFormatVersion, &r),
            FrameStatus::kOk);
  offset += r.size;
  ASSERT_EQ(ParseRecord(std::string_view(data).substr(offset), kFormatVersion, &r),
            FrameStatus::kOk);
  ASSERT_NE(r.type, RecordType::kSeal);
  data.erase(offset, r.size);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
  }
  absl::StatusOr<VerifyReport> report = Verify(dir_);
  ASSERT_TRUE(report.ok());
  absl::StatusOr<SegmentHeader> header = ReadHeader(path);
  ASSERT_TRUE(header.ok());
  // Named by sequence numbers: the first record of the write is the segment's first.
  EXPECT_THAT(report->problems, ::testing::Contains(::testing::AllOf(
                                    HasSubstr("0000000002.audit: seal at offset"),
                                    HasSubstr(absl::StrCat("chain mismatch over records seq=",
                                                           header->first_sequence, " to")))));
}

// What the checksums cannot see, a reader that counts the records (a report, `audit query`)
// learns as it reads: a record changed with its checksum recomputed, a record or a segment
// removed.
TEST_F(ReaderTest, ForEachRecordFindsWhatOnlyTheChainAndTheSequenceShow) {
  Write(100);
  auto read = [this] {
    ReadCheck check;
    EXPECT_TRUE(ForEachRecord(
                    dir_, {}, [](const Entry&) { return true; }, &check)
                    .ok());
    return check.problems;
  };
  EXPECT_THAT(read(), ::testing::IsEmpty());
  ASSERT_TRUE(testing::RewriteRecord(SegmentPath(dir_, 2), "subject2", "subject9"));
  EXPECT_THAT(read(), ::testing::ElementsAre(
                          ::testing::AllOf(HasSubstr("0000000002.audit: seal at offset"),
                                           HasSubstr("chain mismatch over records seq="))));
  std::filesystem::remove(SegmentPath(dir_, 3));
  EXPECT_THAT(read(), ::testing::Contains(HasSubstr("0000000004.audit: segment 3 is missing")));
}

// The chain is unkeyed: whoever can write a segment can change a record and recompute every
// checksum and seal, and verify finds the audit intact. The chain value where each stream ends,
// which verify and a reading give, is what a copy kept elsewhere compares.
TEST_F(ReaderTest, TheChainValueWhereAStreamEndsShowsARewriteWithSealsRecomputed) {
  Write(100);
  absl::StatusOr<VerifyReport> before = Verify(dir_);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->streams.size(), 1u);
  const VerifyReport::Stream st = before->streams[0];
  EXPECT_EQ(st.sealed_sequence, 110u);
  EXPECT_NE(st.last_chain, ChainHash{});
  ReadCheck read;
  ASSERT_TRUE(ForEachRecord(
                  dir_, {}, [](const Entry&) { return true; }, &read)
                  .ok());
  ASSERT_EQ(read.streams.size(), 1u);
  EXPECT_EQ(read.streams[0].sealed_sequence, 110u);
  EXPECT_EQ(read.streams[0].chain, st.last_chain);
  // A reading from late in the stream ends at the same value (each segment starts its chain
  // from its header).
  ReadCheck late;
  ReadOptions range;
  range.from_micros = kT0 + 95 * 1000000;
  ASSERT_TRUE(ForEachRecord(
                  dir_, range, [](const Entry&) { return true; }, &late)
                  .ok());
  ASSERT_EQ(late.streams.size(), 1u);
  EXPECT_EQ(late.streams[0].chain, st.last_chain);
  const std::string last = SegmentPath(dir_, static_cast<uint32_t>(before->segments));
  ASSERT_TRUE(testing::ResealSegment(last, "subject99", "subject00"));
  absl::StatusOr<VerifyReport> after = Verify(dir_);
  ASSERT_TRUE(after.ok());
  EXPECT_THAT(after->problems, ::testing::IsEmpty());  // every seal recomputed
  ASSERT_EQ(after->streams.size(), 1u);
  EXPECT_EQ(after->streams[0].sealed_sequence, 110u);
  EXPECT_NE(after->streams[0].last_chain, st.last_chain);  // but the value kept shows it
}

TEST_F(ReaderTest, ForEachRecordFindsARecordRemovedWhole) {
  Write(100);
  const std::string path = SegmentPath(dir_, 2);
  std::string data;
  {
    std::ifstream in(path, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  FramedRecord r;
  ASSERT_EQ(ParseRecord(std::string_view(data).substr(kHeaderSize), kFormatVersion, &r),
            FrameStatus::kOk);
  data.erase(kHeaderSize, r.size);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
  ReadCheck check;
  ASSERT_TRUE(ForEachRecord(
                  dir_, {}, [](const Entry&) { return true; }, &check)
                  .ok());
  EXPECT_THAT(check.problems, ::testing::Contains(HasSubstr("0000000002.audit: record at offset "
                                                            "64: sequence")));
  EXPECT_THAT(check.problems, ::testing::Contains(HasSubstr("0000000002.audit: seal at offset")));
}

TEST_F(ReaderTest, VerifyFindsARemovedSegment) {
  Write(100);
  std::filesystem::remove(SegmentPath(dir_, 2));
  absl::StatusOr<VerifyReport> report = Verify(dir_);
  ASSERT_TRUE(report.ok());
  ASSERT_FALSE(report->problems.empty());
  EXPECT_THAT(report->problems[0], HasSubstr("segment 2 is missing"));
}

TEST_F(ReaderTest, StreamsAreReadAndVerifiedEachApart) {
  Write(50, 0);
  Write(50, 1);
  absl::StatusOr<VerifyReport> clean = Verify(dir_);
  ASSERT_TRUE(clean.ok());
  EXPECT_THAT(clean->problems, ::testing::IsEmpty());
  EXPECT_EQ(clean->records, 110u);
  ASSERT_EQ(clean->streams.size(), 2u);
  for (const VerifyReport::Stream& s : clean->streams) {
    EXPECT_EQ(s.first_sequence, 1u);
    EXPECT_EQ(s.last_sequence, 55u);
    EXPECT_FALSE(s.chain_start_cut);
  }
  // A time range takes the records of both streams in it (each stream's segments skipped by
  // their own header times).
  ReadOptions range;
  range.from_micros = kT0 + 20 * 1000000;
  range.to_micros = kT0 + 30 * 1000000;
  int queries[2] = {0, 0};
  ASSERT_TRUE(ForEachRecord(dir_, range, [&](const Entry& e) {
                if (e.type == RecordType::kQuery) ++queries[StreamOf(e.segment)];
                return true;
              }).ok());
  EXPECT_EQ(queries[0], 10);
  EXPECT_EQ(queries[1], 10);
  // A segment removed from stream 1 is named; stream 0 is intact.
  std::filesystem::remove(SegmentPath(dir_, FirstSegment(1) + 1));
  absl::StatusOr<VerifyReport> report = Verify(dir_);
  ASSERT_TRUE(report.ok());
  ASSERT_FALSE(report->problems.empty());
  EXPECT_THAT(report->problems[0],
              HasSubstr(absl::StrCat("segment ", FirstSegment(1) + 1, " is missing")));
  for (const std::string& p : report->problems) {  // the gap breaks stream 1's links only
    EXPECT_THAT(p, HasSubstr(SegmentFileName(FirstSegment(1) + 2))) << p;
  }
}

// The writer's rule for the last segment's tail: a frame that does not parse is a torn tail
// (cut at the next start) if nothing valid follows it, else damage. Verify, the reader and the
// writer apply the same rule.
TEST_F(ReaderTest, TheLastSegmentsTailIsJudgedAsTheWriterJudgesIt) {
  Write(100);
  std::vector<uint32_t> segments = *ListSegments(dir_);
  const std::string path = SegmentPath(dir_, segments.back());
  std::string data;
  {
    std::ifstream in(path, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(data.size(), kHeaderSize + 100);
  auto write = [&](const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  };
  auto open_writer = [&] {
    AuditLog::Options o;
    o.dir = dir_;
    o.node = 7;
    return AuditLog::Open(o, nullptr).status();
  };
  // The first record's length damaged: the records after it still parse.
  std::string damaged = data;
  damaged[kHeaderSize] = static_cast<char>(damaged[kHeaderSize] ^ 0x01);
  write(damaged);
  absl::StatusOr<VerifyReport> report = Verify(dir_);
  ASSERT_TRUE(report.ok());
  ASSERT_FALSE(report->problems.empty());
  EXPECT_THAT(report->problems[0], HasSubstr("damage, not a torn tail"));
  EXPECT_LT(report->streams[0].last_sequence, 110u);  // as far as it reads: no wrap
  EXPECT_EQ(ForEachRecord(dir_, {}, [](const Entry&) { return true; }).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(open_writer().code(), absl::StatusCode::kDataLoss);
  // Cut inside the last frame: a torn tail, noted; the records before it are read.
  write(data.substr(0, data.size() - 3));
  report = Verify(dir_);
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report->problems, ::testing::IsEmpty());
  ASSERT_FALSE(report->notes.empty());  // the cut frame, and the records its seal would seal
  EXPECT_THAT(report->notes[0], HasSubstr("torn tail"));
  int records = 0;
  EXPECT_TRUE(ForEachRecord(dir_, {}, [&](const Entry&) { return ++records > 0; }).ok());
  EXPECT_GT(records, 90);
  EXPECT_TRUE(open_writer().ok());
}

// Moves the creation time in the header of `path` by `delta` microseconds, with the header's
// checksum recomputed (as anyone can: it is a plain XXH32).
void ShiftCreated(const std::string& path, int64_t delta) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  std::string head(kHeaderSize, '\0');
  ASSERT_TRUE(f.read(head.data(), static_cast<std::streamsize>(head.size())));
  absl::StatusOr<SegmentHeader> header = DecodeHeader(head);
  ASSERT_TRUE(header.ok()) << header.status();
  header->created_micros += delta;
  f.seekp(0);
  f << EncodeHeader(*header);
}

constexpr int64_t kDay = int64_t{86400} * 1000000;

TEST_F(ReaderTest, AHeaderTimeRewrittenBreaksTheChain) {
  Write(100);
  // Within the minute's margin of the time checks: only the chain can tell.
  ShiftCreated(SegmentPath(dir_, 2), 30 * 1000000);
  absl::StatusOr<VerifyReport> report = Verify(dir_);
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report->problems,
              ::testing::Contains(::testing::AllOf(HasSubstr("0000000002.audit: seal at offset"),
                                                   HasSubstr("the segment header changed"))));
}

// An audit written by a writer whose clock was set back a day (before writers kept a stream's
// times from going back): the chain covers the times, so they are as written. Verify lists them
// apart from the chain, which is intact.
TEST_F(ReaderTest, VerifyListsTimesGoingBackwardsApartFromTheChain) {
  const ChainHash first =
      testing::WriteSegmentByHand(dir_, 1, 1, ChainHash{}, kT0, {kT0, kT0 + 1000000});
  testing::WriteSegmentByHand(dir_, 2, 3, first, kT0 - kDay, {kT0 - kDay - 120 * 1000000});
  absl::StatusOr<VerifyReport> report = Verify(dir_);
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report->problems, ::testing::IsEmpty());
  EXPECT_THAT(report->time_anomalies,
              ::testing::UnorderedElementsAre(
                  HasSubstr("0000000002.audit: created 2026-05-27T20:26:40Z, before the previous "
                            "segment"),
                  AllOf(HasSubstr("0000000002.audit: 1 records dated before the segment's "
                                  "creation"),
                        HasSubstr("the writer's clock was set back"))));
}

// A segment created before the one before it bounds the times of neither: a range reads the
// same records as a whole reading, and the segments it skips break no link.
TEST_F(ReaderTest, AHeaderDatedBackHidesNoOtherSegmentFromARange) {
  auto read = [this](int64_t from, std::vector<uint64_t>* sequences) {
    ReadOptions range;
    range.from_micros = from;
    ReadCheck check;
    EXPECT_TRUE(ForEachRecord(
                    dir_, range,
                    [&](const Entry& e) {
                      sequences->push_back(e.query.sequence);
                      return true;
                    },
                    &check)
                    .ok());
    return check.problems;
  };
  // Segment 3 dated 100 days back, after a segment 2 of ten days later than segment 1.
  ChainHash chain = testing::WriteSegmentByHand(dir_, 1, 1, ChainHash{}, kT0, {kT0});
  chain = testing::WriteSegmentByHand(dir_, 2, 2, chain, kT0 + 10 * kDay,
                                      {kT0 + 10 * kDay, kT0 + 10 * kDay + 1000000});
  testing::WriteSegmentByHand(dir_, 3, 4, chain, kT0 - 100 * kDay, {kT0 + 20 * kDay});
  std::vector<uint64_t> seen;
  EXPECT_THAT(read(kT0 + 5 * kDay, &seen), ::testing::IsEmpty());
  EXPECT_THAT(seen, ::testing::ElementsAre(2, 3, 4));
  // Segment 2 dated back: segment 1 is read, segment 2 is skipped (segment 3 follows it in
  // time), and segment 3 is not taken for segment 1's successor.
  std::filesystem::remove_all(dir_);
  chain = testing::WriteSegmentByHand(dir_, 1, 1, ChainHash{}, kT0, {kT0});
  chain = testing::WriteSegmentByHand(dir_, 2, 2, chain, kT0 - 10 * kDay, {kT0 - 10 * kDay});
  testing::WriteSegmentByHand(dir_, 3, 3, chain, kT0 - 9 * kDay, {kT0 - 9 * kDay});
  seen.clear();
  EXPECT_THAT(read(kT0 - 5 * kDay, &seen), ::testing::IsEmpty());
  EXPECT_THAT(seen, ::testing::ElementsAre(1));
}

// A closed segment cut short: a reading that says what it found (a report, `audit query`) names
// it and goes on with the next segment; one that does not, stops.
TEST_F(ReaderTest, ASegmentCutShortIsAProblemAndTheNextSegmentIsRead) {
  ChainHash chain = testing::WriteSegmentByHand(dir_, 1, 1, ChainHash{}, kT0, {kT0});
  chain = testing::WriteSegmentByHand(dir_, 2, 2, chain, kT0 + 10, {kT0 + 10, kT0 + 11});
  testing::WriteSegmentByHand(dir_, 3, 4, chain, kT0 + 20, {kT0 + 20});
  std::filesystem::resize_file(SegmentPath(dir_, 2), kHeaderSize + 10);
  std::vector<uint64_t> seen;
  ReadCheck check;
  ASSERT_TRUE(ForEachRecord(
                  dir_, {},
                  [&](const Entry& e) {
                    seen.push_back(e.query.sequence);
                    return true;
                  },
                  &check)
                  .ok());
  EXPECT_THAT(seen, ::testing::ElementsAre(1, 4));
  EXPECT_THAT(check.problems,
              ::testing::ElementsAre(AllOf(
                  HasSubstr("0000000002.audit: record at offset 64 (seq=2 expected): incomplete"),
                  HasSubstr("the rest of the segment is not read"))));
  ASSERT_EQ(check.streams.size(), 1u);
  EXPECT_EQ(check.streams[0].last_sequence, 4u);
  const absl::Status status = ForEachRecord(dir_, {}, [](const Entry&) { return true; });
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr("0000000002.audit: record at offset 64"));
}

// A segment created 40 days after the check, as a writer whose clock ran ahead (or a header
// rewritten and resealed) leaves it: not written yet, a problem naming segment and record. The
// feedback dated before that creation, and the next segment created before it, are no clock
// set back.
TEST_F(ReaderTest, TimesAfterTheCheckAreProblemsNotAClockSetBack) {
  ChainHash chain = testing::WriteSegmentByHand(dir_, 1, 1, ChainHash{}, kT0, {kT0});
  chain = testing::WriteSegmentByHand(dir_, 2, 2, chain, kT0 + 40 * kDay,
                                      {kT0 + 40 * kDay, kT0 + 1000000});
  testing::WriteSegmentByHand(dir_, 3, 4, chain, kT0 + 2000000, {kT0 + 2000000});
  VerifyOptions options;
  options.now_micros = kT0 + kDay;
  absl::StatusOr<VerifyReport> report = Verify(dir_, options);
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report->time_anomalies, ::testing::IsEmpty());
  EXPECT_THAT(
      report->problems,
      ::testing::UnorderedElementsAre(
          AllOf(HasSubstr("0000000002.audit: created 2026-07-07T20:26:40Z, after this check "
                          "(2026-05-29T20:26:40Z)"),
                HasSubstr("dated in the future")),
          AllOf(HasSubstr("0000000002.audit: 1 records dated after this check"),
                HasSubstr("record seq=2 at offset 64, dated 2026-07-07T20:26:40Z")),
          AllOf(HasSubstr("0000000002.audit: 1 records dated before the segment's creation"),
                HasSubstr("which is in the future"))));
  // Checked 41 days later, the same audit is as written (a clock set back after segment 2).
  options.now_micros = kT0 + 41 * kDay;
  report = Verify(dir_, options);
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report->problems, ::testing::IsEmpty());
  EXPECT_EQ(report->time_anomalies.size(), 2u);
}

// A write's only record removed leaves its seal covering no record: verify and a reading say
// which record is missing, not an empty range.
TEST_F(ReaderTest, ASealThatCoversNoRecordNamesTheRecordMissing) {
  SegmentHeader header;
  header.node = 7;
  header.segment = 1;
  header.first_sequence = 1;
  header.created_micros = kT0;
  std::string out = EncodeHeader(header);
  ChainHash chain = StartChain(header);
  size_t seal_at = 0;
  for (uint64_t sequence = 1; sequence <= 3; ++sequence) {
    std::string batch;
    QueryRecord q = TypicalQuery("11010519491231002X", kT0 + static_cast<int64_t>(sequence));
    q.sequence = sequence;
    const size_t start = BeginRecord(RecordType::kQuery, &batch);
    EncodeQuery(q, header.query_base(), &batch);
    FrameRecord(start, &batch);
    const size_t record = batch.size();
    chain = SealBatch(chain, &batch);
    if (sequence == 2) {  // the record removed, its seal left
      seal_at = out.size();
      batch.erase(0, record);
    }
    out += batch;
  }
  std::filesystem::create_directories(dir_);
  std::ofstream(SegmentPath(dir_, 1), std::ios::binary) << out;
  const std::string named = absl::StrCat("0000000001.audit: seal at offset ", seal_at,
                                         " covers no record: seq=2 is missing before it");
  absl::StatusOr<VerifyReport> report = Verify(dir_);
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report->problems, ::testing::Contains(HasSubstr(named)));
  ReadCheck check;
  ASSERT_TRUE(ForEachRecord(
                  dir_, {}, [](const Entry&) { return true; }, &check)
                  .ok());
  EXPECT_THAT(check.problems, ::testing::Contains(HasSubstr(named)));
}

TEST_F(ReaderTest, RetentionDaysFindSegmentsRemovedTooEarly) {
  Write(100);
  std::filesystem::remove(SegmentPath(dir_, 1));
  std::filesystem::remove(SegmentPath(dir_, 2));
  absl::StatusOr<VerifyReport> report = Verify(dir_);
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report->problems, ::testing::IsEmpty());  // without the retention: not known
  ASSERT_EQ(report->streams.size(), 1u);
  EXPECT_TRUE(report->streams[0].chain_start_cut);
  VerifyOptions options;
  options.retention_days = 30;
  options.now_micros = kT0 + kDay;
  report = Verify(dir_, options);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_THAT(report->problems[0], HasSubstr("0000000003.audit: the segments before it were "
                                             "removed"));
  EXPECT_THAT(report->problems[0], HasSubstr("less than 30 days ago"));
  options.now_micros = kT0 + 31 * kDay;  // retention would have removed them by now
  report = Verify(dir_, options);
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report->problems, ::testing::IsEmpty());
}

TEST_F(ReaderTest, CompleteSinceIsTheBeginningOrTheFirstKeptSegmentAfterARemoval) {
  Write(100);
  absl::StatusOr<SegmentHeader> first = ReadHeader(SegmentPath(dir_, 1));
  ASSERT_TRUE(first.ok());
  absl::StatusOr<Coverage> since = CompleteSince(dir_);
  ASSERT_TRUE(since.ok()) << since.status();
  EXPECT_EQ(since->since_micros, first->created_micros);  // when the audit began
  EXPECT_FALSE(since->removed);
  absl::StatusOr<SegmentHeader> second = ReadHeader(SegmentPath(dir_, 2));
  ASSERT_TRUE(second.ok());
  std::filesystem::remove(SegmentPath(dir_, 1));
  since = CompleteSince(dir_);
  ASSERT_TRUE(since.ok()) << since.status();
  EXPECT_EQ(since->since_micros, second->created_micros);
  EXPECT_TRUE(since->removed);
}

// A format-4 audit (testdata, written by that writer) verifies by its own rule: the header
// outside the chain, said in a note. Its header time moved checks against the feedback records,
// whose times are stored in full.
TEST(ReaderFormatFourTest, VerifiesWithANoteAndFindsAHeaderTimeMoved) {
  ScratchDir tmp;
  const std::string path = SegmentPath(tmp.path(), 1);
  std::filesystem::copy_file(shixin::testing::SourceDir() + "/audit/testdata/sample-v4.audit",
                             path);
  absl::StatusOr<VerifyReport> report = Verify(tmp.path());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(report->problems, ::testing::IsEmpty());
  EXPECT_GT(report->feedbacks, 0u);
  EXPECT_THAT(report->notes, ::testing::Contains(HasSubstr("are not chained")));
  ShiftCreated(path, 30 * kDay);  // every query moves with it
  report = Verify(tmp.path());
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report->problems, ::testing::Contains(::testing::AllOf(
                                    HasSubstr("0000000001.audit: "),
                                    HasSubstr("records dated before the segment's creation"))));
}

TEST(ReaderMissingTest, MissingDirectoryIsNotFound) {
  EXPECT_EQ(Verify("/nonexistent/audit").status().code(), absl::StatusCode::kNotFound);
}

TEST(ReaderMissingTest, ADirectoryWithoutSegmentsIsNotFound) {
  ScratchDir tmp;
  const absl::Status verify = Verify(tmp.path()).status();
  EXPECT_EQ(verify.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(verify.message(), HasSubstr("no audit segments"));
  EXPECT_EQ(ForEachRecord(tmp.path(), {}, [](const Entry&) { return true; }).code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace shixin::audit

namespace shixin::audit {
namespace {

// A query on subject "a" (measures 41, 52), feedback on it, a correction, and feedback on
// another receipt, over small segments so the feedback is in later segments.
class LookUpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AuditLog::Options o;
    o.dir = dir_;
    o.node = 7;
    o.segment_bytes = 600;
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o, nullptr);
    ASSERT_TRUE(log.ok()) << log.status();
    QueryRecord q = testing::TypicalQuery("110101199003074514", kT0);
    q.measures = {41, 52};
    absl::StatusOr<AuditLog::Appended> a = (*log)->Append(&q);
    ASSERT_TRUE(a.ok());
    receipt_ = a->receipt;
    QueryRecord other = testing::TypicalQuery("110101199003074515", kT0 + 1);
    absl::StatusOr<AuditLog::Appended> b = (*log)->Append(&other);
    ASSERT_TRUE(b.ok());
    other_ = b->receipt;
    const std::string text = receipt_.ToString(), other_text = other_.ToString();
    for (int i = 0; i < 12; ++i) {
      FeedbackRecord f;
      f.time_micros = kT0 + 10 + i;
      f.caller = "court-agency-17";
      f.receipt = i % 4 == 0 ? text : other_text;
      f.entries = {{41, i == 8 ? Outcome::kCancelled : Outcome::kApplied, i == 8 ? "更正" : ""}};
      ASSERT_TRUE((*log)->Append(&f).ok());
    }
    ASSERT_TRUE((*log)->Sync((*log)->Append(&other)->ticket).ok());
  }
  testing::ScratchDir tmp_;
  std::string dir_ = tmp_.path() + "/audit";
  Receipt receipt_, other_;
};

TEST_F(LookUpTest, QueryAtItsOffsetSurvivesAMove) {
  absl::StatusOr<OwnedQuery> found = LookUpQuery(dir_, receipt_);
  ASSERT_TRUE(found.ok()) << found.status();
  OwnedQuery moved = *std::move(found);  // a short payload: the views must still hold
  EXPECT_EQ(moved.record.subject, "110101199003074514");
  EXPECT_EQ(moved.record.caller, "court-agency-17");
  EXPECT_THAT(moved.record.measures, ::testing::ElementsAre(41, 52));
}

TEST_F(LookUpTest, ReceiptWithItsFeedbackInAuditOrder) {
  absl::StatusOr<ReceiptRecords> found = LookUpReceipt(dir_, receipt_);
  ASSERT_TRUE(found.ok()) << found.status();
  ReceiptRecords r = *std::move(found);
  EXPECT_EQ(r.query.subject, "110101199003074514");
  ASSERT_EQ(r.feedback.size(), 3u);  // i = 0, 4, 8
  EXPECT_LT(r.feedback[0].sequence, r.feedback[1].sequence);
  EXPECT_LT(r.feedback[1].sequence, r.feedback[2].sequence);
  EXPECT_EQ(r.feedback[2].entries[0].outcome, Outcome::kCancelled);
  EXPECT_EQ(r.feedback[2].entries[0].reason, "更正");
  EXPECT_EQ(r.feedback[0].receipt, receipt_.ToString());
  EXPECT_EQ(LookUpReceipt(dir_, other_)->feedback.size(), 9u);
}

TEST_F(LookUpTest, NotFoundForOtherNodeOffsetSegmentOrFeedback) {
  Receipt node = receipt_;
  node.node = 8;
  EXPECT_THAT(LookUpQuery(dir_, node).status().message(), HasSubstr("of another node"));
  Receipt shifted = receipt_;
  shifted.offset += 1;
  EXPECT_EQ(LookUpQuery(dir_, shifted).status().code(), absl::StatusCode::kNotFound);
  Receipt segment = receipt_;
  segment.segment = 999;
  EXPECT_EQ(LookUpReceipt(dir_, segment).status().code(), absl::StatusCode::kNotFound);
  Receipt past_end = receipt_;
  past_end.offset = 1 << 20;
  EXPECT_EQ(LookUpQuery(dir_, past_end).status().code(), absl::StatusCode::kNotFound);
  // A feedback record's own position is not a query record.
  Receipt feedback = other_;
  bool seen = false;
  ASSERT_TRUE(ForEachRecord(dir_, {}, [&](const Entry& e) {
                if (e.type != RecordType::kFeedback) return true;
                feedback = e.receipt;
                seen = true;
                return false;
              }).ok());
  ASSERT_TRUE(seen);
  EXPECT_EQ(LookUpQuery(dir_, feedback).status().code(), absl::StatusCode::kNotFound);
}

// Either record a receipt points at: a query's, or a feedback's (the FEEDBACK answer's receipt).
TEST_F(LookUpTest, LookUpRecordFindsAFeedbackRecordByItsReceipt) {
  absl::StatusOr<OwnedRecord> query = LookUpRecord(dir_, receipt_);
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(query->type, RecordType::kQuery);
  EXPECT_EQ(query->query.subject, "110101199003074514");
  Receipt feedback;
  ASSERT_TRUE(ForEachRecord(dir_, {}, [&](const Entry& e) {
                if (e.type != RecordType::kFeedback) return true;
                feedback = e.receipt;
                return false;
              }).ok());
  absl::StatusOr<OwnedRecord> found = LookUpRecord(dir_, feedback);
  ASSERT_TRUE(found.ok()) << found.status();
  OwnedRecord moved = *std::move(found);  // the views must still hold
  EXPECT_EQ(moved.type, RecordType::kFeedback);
  EXPECT_EQ(moved.feedback.receipt, receipt_.ToString());  // i = 0 reports on receipt_
  EXPECT_EQ(moved.feedback.caller, "court-agency-17");
  Receipt shifted = feedback;
  shifted.offset += 1;
  EXPECT_EQ(LookUpRecord(dir_, shifted).status().message(),
            absl::StrCat("receipt ", shifted.ToString(), ": no record"));
  Receipt node = feedback;
  node.node = 8;
  EXPECT_THAT(LookUpRecord(dir_, node).status().message(), HasSubstr("of another node"));
}

}  // namespace
}  // namespace shixin::audit
