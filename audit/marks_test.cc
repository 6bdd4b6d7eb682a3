#include "audit/marks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "audit/audit_log.h"
#include "audit/audit_test_util.h"
#include "audit/format.h"
#include "audit/reader.h"
#include "core/test_util.h"

namespace shixin::audit {
namespace {

using testing::ForgedQueryFrame;
using ::testing::HasSubstr;
using testing::ScratchDir;
using testing::TypicalQuery;

constexpr uint32_t kNode = 0x0750feee;

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

AuditLog::Options MakeOptions(const std::string& dir) {
  AuditLog::Options o;
  o.dir = dir + "/audit";
  o.node = kNode;
  o.segment_bytes = 512 << 10;
  return o;
}

std::unique_ptr<AuditLog> MustOpen(const AuditLog::Options& o) {
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o, nullptr);
  EXPECT_TRUE(log.ok()) << log.status();
  return log.ok() ? *std::move(log) : nullptr;
}

template <typename Record>
Receipt AppendOne(AuditLog* log, Record* record) {
  absl::StatusOr<AuditLog::Appended> a = log->Append(record);
  EXPECT_TRUE(a.ok()) << a.status();
  if (!a.ok()) return {};
  EXPECT_TRUE(log->Sync(a->ticket).ok());
  return a->receipt;
}

std::vector<Receipt> AppendQueries(AuditLog* log, int n) {
  std::vector<Receipt> receipts;
  for (int i = 0; i < n; ++i) {
    const std::string subject = absl::StrCat("1101011990030", 10000 + i);
    QueryRecord q = TypicalQuery(subject, NowMicros());
    receipts.push_back(AppendOne(log, &q));
  }
  return receipts;
}

TEST(MarksTest, ScanFindsABoundaryEveryStride) {
  std::string segment(kHeaderSize, '\0');
  std::vector<uint64_t> written = FirstMarks();
  for (int i = 0; i < 3000; ++i) {
    std::string batch;
    const size_t start = BeginRecord(RecordType::kFeedback, &batch);
    batch.append(100 + i % 50, 'x');
    FrameRecord(start, &batch);
    SealBatch(ChainHash{}, &batch);
    AddFrameMarks(segment.size(), batch, kFormatVersion, &written);
    segment += batch;
  }
  const SegmentMarks marks = ScanMarks(segment, kFormatVersion);
  EXPECT_EQ(marks.covered, segment.size());
  // The writer's marks (per write) are the walk's (per frame): the same rule.
  EXPECT_EQ(marks.offsets, written);
  ASSERT_GE(marks.offsets.size(), segment.size() / kMarkStride);
  for (size_t i = 1; i < marks.offsets.size(); ++i) {
    EXPECT_GE(marks.offsets[i] - marks.offsets[i - 1], kMarkStride);
    EXPECT_LT(marks.offsets[i] - marks.offsets[i - 1], kMarkStride + 200);
  }
  EXPECT_EQ(MarkBefore(marks.offsets, kHeaderSize), kHeaderSize);
  EXPECT_EQ(MarkBefore(marks.offsets, marks.offsets[2]), marks.offsets[2]);
  EXPECT_EQ(MarkBefore(marks.offsets, marks.offsets[2] + 1), marks.offsets[2]);
  // A torn tail: the walk stops before it.
  const SegmentMarks torn = ScanMarks(segment.substr(0, segment.size() - 3), kFormatVersion);
  EXPECT_LT(torn.covered, segment.size() - 3);
}

TEST(MarksTest, FileRoundTripsAndDamageIsRefused) {
  ScratchDir tmp;
  SegmentMarks marks{300000, {kHeaderSize, 70000, 140000, 210000}};
  ASSERT_TRUE(WriteMarks(DefaultFileOps(), tmp.path(), 7, marks).ok());
  absl::StatusOr<SegmentMarks> read = ReadMarks(tmp.path(), 7);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->covered, marks.covered);
  EXPECT_EQ(read->offsets, marks.offsets);
  EXPECT_TRUE(absl::IsNotFound(ReadMarks(tmp.path(), 8).status()));
  std::filesystem::copy_file(MarksPath(tmp.path(), 7), MarksPath(tmp.path(), 8));
  EXPECT_TRUE(absl::IsDataLoss(ReadMarks(tmp.path(), 8).status()));  // another segment's
  std::string bytes = ReadFile(MarksPath(tmp.path(), 7));
  bytes[30] ^= 1;
  std::ofstream(MarksPath(tmp.path(), 7), std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_TRUE(absl::IsDataLoss(ReadMarks(tmp.path(), 7).status()));
}

// x24 #8: a symbolic link planted at the fixed temporary name NNN.marks.tmp is never written
// through (its target was truncated and overwritten, then the link renamed into place), and a
// link at the marks file's own name is not read through.
TEST(MarksTest, ALinkAtTheTemporaryOrTheMarksNameIsNeverFollowed) {
  ScratchDir tmp;
  const std::string victim = tmp.path() + "/victim.txt";
  std::ofstream(victim) << "IMPORTANT VICTIM DATA";
  const std::string path = MarksPath(tmp.path(), 7);
  std::filesystem::create_symlink(victim, path + ".tmp");
  SegmentMarks marks{300000, {kHeaderSize, 70000, 140000, 210000}};
  ASSERT_TRUE(WriteMarks(DefaultFileOps(), tmp.path(), 7, marks).ok());
  EXPECT_EQ(ReadFile(victim), "IMPORTANT VICTIM DATA");
  EXPECT_TRUE(std::filesystem::is_regular_file(std::filesystem::symlink_status(path)));
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(path + ".tmp")));
  ASSERT_TRUE(ReadMarks(tmp.path(), 7).ok());
  // A link at the marks name to a genuine marks file is refused, not followed.
  std::filesystem::rename(path, tmp.path() + "/elsewhere");
  std::filesystem::create_symlink(tmp.path() + "/elsewhere", path);
  absl::StatusOr<SegmentMarks> linked = ReadMarks(tmp.path(), 7);
  EXPECT_TRUE(absl::IsDataLoss(linked.status())) << linked.status();
  EXPECT_THAT(linked.status().message(), ::testing::HasSubstr(path + ": cannot open"));
}

// Finding 12 of /tmp/x11: a caller sends a whole query frame (checksum included) as its own
// purpose, operator, matter code or feedback reason, then uses the receipt of the frame's
// offset inside its record. Only record boundaries the writer produced resolve: by the daemon
// (AuditLog::Lookup, FEEDBACK) and by the commands (LookUpQuery: notice, audit query) alike,
// in the current segment, after a restart, after rotation and with the marks files rebuilt.
class ForgedFrameTest : public ::testing::Test {
 protected:
  void SetUp() override {
    o_ = MakeOptions(tmp_.path());
    o_.log_warning = [this](const std::string& line) { warned_.push_back(line); };
    log_ = MustOpen(o_);
    genuine_ = AppendQueries(log_.get(), 1500);  // past the first marks
    absl::StatusOr<SegmentHeader> header = ReadHeader(SegmentPath(o_.dir, 1));
    ASSERT_TRUE(header.ok());
    QueryRecord forged = TypicalQuery("11010519491231002X", NowMicros());
    forged.caller = "bank-a";
    forged.operator_id = "teller-9";
    forged.matter = "LOAN-2026-77";
    forged.sequence = 3;
    frame_ = ForgedQueryFrame(forged, header->query_base());
    for (int field = 0; field < 3; ++field) {
      QueryRecord q = TypicalQuery("230402199001010015", NowMicros());
      q.caller = "fb2";
      (field == 0 ? q.purpose : field == 1 ? q.operator_id : q.matter) = frame_;
      genuine_.push_back(AppendOne(log_.get(), &q));
    }
    const std::string receipt = genuine_.back().ToString();  // the record views it
    FeedbackRecord f;
    f.time_micros = NowMicros();
    f.caller = "fb2";
    f.receipt = receipt;
    f.entries = {{1, Outcome::kNotApplied, frame_}};
    AppendOne(log_.get(), &f);
    const std::string data = ReadFile(SegmentPath(o_.dir, 1));
    for (size_t at = data.find(frame_); at != std::string::npos; at = data.find(frame_, at + 1)) {
      FramedRecord r;  // the attack's premise: a frame that parses at that offset
      ASSERT_EQ(ParseRecord(std::string_view(data).substr(at), kFormatVersion, &r),
                FrameStatus::kOk);
      forged_.push_back(Receipt{kNode, 1, at});
    }
    ASSERT_EQ(forged_.size(), 4u);
  }

  void ExpectOnlyGenuineResolve() {
    for (const Receipt& r : forged_) {
      absl::Status daemon = log_->Lookup(r).status();
      EXPECT_TRUE(absl::IsNotFound(daemon)) << r.ToString() << ": " << daemon;
      absl::Status command = LookUpQuery(o_.dir, r).status();
      EXPECT_TRUE(absl::IsNotFound(command)) << r.ToString() << ": " << command;
      EXPECT_TRUE(absl::IsNotFound(LookUpReceipt(o_.dir, r).status()));
    }
    for (const Receipt& r : genuine_) {
      ASSERT_TRUE(log_->Lookup(r).ok()) << r.ToString() << ": " << log_->Lookup(r).status();
      ASSERT_TRUE(LookUpQuery(o_.dir, r).ok()) << r.ToString();
    }
    absl::StatusOr<VerifyReport> report = Verify(o_.dir);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_THAT(report->problems, ::testing::IsEmpty());
  }

  ScratchDir tmp_;
  AuditLog::Options o_;
  std::unique_ptr<AuditLog> log_;
  std::string frame_;
  std::vector<Receipt> genuine_, forged_;
  std::vector<std::string> warned_;
};

TEST_F(ForgedFrameTest, IsNoRecordInTheCurrentSegment) { ExpectOnlyGenuineResolve(); }

TEST_F(ForgedFrameTest, IsNoRecordAfterARestart) {
  log_.reset();
  log_ = MustOpen(o_);
  ExpectOnlyGenuineResolve();
}

TEST_F(ForgedFrameTest, IsNoRecordAfterRotationWithTheMarksFileOrWithout) {
  while (log_->GetStats().segments < 3) {
    for (const Receipt& r : AppendQueries(log_.get(), 100)) genuine_.push_back(r);
  }
  ExpectOnlyGenuineResolve();
  // The writer's marks of a closed segment are those a walk finds.
  absl::StatusOr<SegmentMarks> marks = ReadMarks(o_.dir, 1);
  ASSERT_TRUE(marks.ok()) << marks.status();
  const SegmentMarks scanned = ScanMarks(ReadFile(SegmentPath(o_.dir, 1)), kFormatVersion);
  EXPECT_EQ(marks->offsets, scanned.offsets);
  EXPECT_EQ(marks->covered, scanned.covered);
  // Finding 10 (x21): a marks file removed while the daemon runs is rebuilt from the segment
  // by the first lookup that needs it (its receipts were NOT_FOUND until a restart), and that
  // is logged; a forged frame still resolves to nothing.
  std::filesystem::remove(MarksPath(o_.dir, 1));
  EXPECT_TRUE(log_->Lookup(genuine_[0]).ok()) << log_->Lookup(genuine_[0]).status();
  ASSERT_EQ(warned_.size(), 1u);
  EXPECT_THAT(warned_[0],
              HasSubstr("audit stream 0: rebuilt the record boundaries of " +
                        SegmentPath(o_.dir, 1) + " for a receipt (" + MarksPath(o_.dir, 1) +
                        ": cannot open: No such file or directory)"));
  ASSERT_TRUE(ReadMarks(o_.dir, 1).ok());
  EXPECT_EQ(ReadMarks(o_.dir, 1)->offsets, scanned.offsets);
  ExpectOnlyGenuineResolve();
  EXPECT_EQ(warned_.size(), 1u);  // once
  EXPECT_TRUE(LookUpQuery(o_.dir, genuine_[0]).ok());
  std::ofstream(MarksPath(o_.dir, 2), std::ios::trunc) << "torn";
  std::ofstream(MarksPath(o_.dir, 2) + ".tmp") << "left by a crash";
  log_.reset();
  log_ = MustOpen(o_);
  EXPECT_FALSE(std::filesystem::exists(MarksPath(o_.dir, 2) + ".tmp"));
  EXPECT_TRUE(ReadMarks(o_.dir, 1).ok());
  EXPECT_TRUE(ReadMarks(o_.dir, 2).ok());
  ExpectOnlyGenuineResolve();
}

// Finding 4 (x26): a marks file edited with its checksum recomputed (a mark moved 7 bytes into
// a record) made every genuine receipt after that mark NOT_FOUND, silently and for good. A walk
// from a mark that is no frame says the file is damaged: it is rebuilt, logged, and the lookup
// tried again; a forged receipt is still no record, and causes no rebuild.
TEST_F(ForgedFrameTest, AMarkThatIsNoFrameIsRebuiltNotAnsweredNotFound) {
  while (log_->GetStats().segments < 2) AppendQueries(log_.get(), 100);
  absl::StatusOr<SegmentMarks> marks = ReadMarks(o_.dir, 1);
  ASSERT_TRUE(marks.ok()) << marks.status();
  ASSERT_GE(marks->offsets.size(), 3u);
  const std::vector<uint64_t> written = marks->offsets;
  marks->offsets[1] += 7;
  ASSERT_TRUE(WriteMarks(DefaultFileOps(), o_.dir, 1, *marks).ok());  // its XXH32 recomputed
  Receipt moved{};  // a genuine receipt between the moved mark and the next
  for (const Receipt& r : genuine_) {
    if (r.segment == 1 && r.offset > written[1] + 7 && r.offset < written[2]) moved = r;
  }
  ASSERT_NE(moved.offset, 0u);
  absl::StatusOr<AuditLog::LookedUp> found = log_->Lookup(moved);
  EXPECT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(warned_.size(), 1u);
  EXPECT_THAT(warned_[0], HasSubstr(absl::StrCat(
                              "audit stream 0: rebuilt the record boundaries of ",
                              SegmentPath(o_.dir, 1), " for a receipt (", MarksPath(o_.dir, 1),
                              ": its mark at offset ", written[1] + 7, " is no record boundary)")));
  ASSERT_TRUE(ReadMarks(o_.dir, 1).ok());
  EXPECT_EQ(ReadMarks(o_.dir, 1)->offsets, written);
  ExpectOnlyGenuineResolve();
  EXPECT_EQ(warned_.size(), 1u);  // forged receipts are no record, and rebuild nothing
}

// Finding 10 (x21): when neither a closed segment's marks nor the segment can be read, its
// receipts are answered Internal, without state_dir's paths or the system's error (the caller
// sees that message); the log gets them, once.
TEST_F(ForgedFrameTest, AnUnreadableClosedSegmentIsLoggedNotToldToTheCaller) {
  while (log_->GetStats().segments < 2) AppendQueries(log_.get(), 100);
  std::filesystem::remove(MarksPath(o_.dir, 1));
  std::filesystem::remove(SegmentPath(o_.dir, 1));
  for (int i = 0; i < 2; ++i) {
    const absl::Status s = log_->Lookup(genuine_[0]).status();
    EXPECT_TRUE(absl::IsInternal(s)) << s;
    EXPECT_EQ(s.message(), "receipt " + genuine_[0].ToString() +
                               ": the audit cannot be read now (the server's log says why)");
  }
  ASSERT_EQ(warned_.size(), 1u);
  EXPECT_THAT(warned_[0], HasSubstr("the receipts of " + SegmentPath(o_.dir, 1) +
                                    " cannot be resolved: its marks file cannot be read (" +
                                    MarksPath(o_.dir, 1) +
                                    ": cannot open: No such file or directory), nor "
                                    "the segment ("));
}

TEST(ReceiptLookupTest, GenuineReceiptsOfAnOlderFormatStillResolve) {
  ScratchDir tmp;
  const std::string dir = tmp.path() + "/audit";
  std::filesystem::create_directory(dir);
  std::filesystem::copy_file(shixin::testing::SourceDir() + "/audit/testdata/sample-v4.audit",
                             SegmentPath(dir, 1));
  absl::StatusOr<SegmentHeader> header = ReadHeader(SegmentPath(dir, 1));
  ASSERT_TRUE(header.ok());
  std::vector<Receipt> receipts;
  ASSERT_TRUE(ForEachRecord(dir, {}, [&](const Entry& e) {
                if (e.type == RecordType::kQuery) receipts.push_back(e.receipt);
                return true;
              }).ok());
  ASSERT_FALSE(receipts.empty());
  AuditLog::Options o;
  o.dir = dir;
  o.node = header->node;
  o.retention_days = 0;
  std::unique_ptr<AuditLog> log = MustOpen(o);  // goes on in segment 2, of format 5
  EXPECT_TRUE(ReadMarks(dir, 1).ok());
  for (const Receipt& r : receipts) {
    EXPECT_TRUE(log->Lookup(r).ok()) << r.ToString();
    EXPECT_TRUE(LookUpQuery(dir, r).ok()) << r.ToString();
    Receipt inside = r;
    inside.offset += 7;
    EXPECT_TRUE(absl::IsNotFound(log->Lookup(inside).status()));
  }
}

}  // namespace
}  // namespace shixin::audit
