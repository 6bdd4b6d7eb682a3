#include "audit/start_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "audit/audit_log.h"
#include "audit/audit_test_util.h"
#include "audit/format.h"
#include "audit/reader.h"

namespace shixin::audit {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::ScratchDir;
using testing::TypicalQuery;

constexpr uint32_t kNode = 0x2a6c0de5;
constexpr int64_t kDay = kMicrosPerDay;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Finding 1 (x26): shixind started on, and appended to, an audit whose closed segments were
// missing, cut, swapped or replayed, without a word. Each damage below refuses the start with
// DataLoss naming the file and what to do; the audit is left as it was.
class StartCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    o_.dir = tmp_.path() + "/audit";
    o_.node = kNode;
    o_.segment_bytes = 2000;
    o_.now_micros = [this] { return now_; };
    std::unique_ptr<AuditLog> log = AuditLog::Open(o_, nullptr).value();
    for (int i = 0; log->GetStats().segments < 4; ++i) {
      const std::string subject = absl::StrCat("1101011990030", 10000 + i);  // q refers to it
      QueryRecord q = TypicalQuery(subject, now_ + i);
      AuditLog::Appended a = log->Append(&q).value();
      ASSERT_TRUE(log->Sync(a.ticket).ok());
      if (i % 5 == 0) {  // feedback records carry their sequence in full
        FeedbackRecord f;
        f.time_micros = now_ + i;
        f.caller = "court-agency-17";
        f.operator_id = "op0421";
        const std::string receipt = a.receipt.ToString();  // f refers to it
        f.receipt = receipt;
        f.entries = {{1, Outcome::kApplied, ""}};
        ASSERT_TRUE(log->Sync(log->Append(&f).value().ticket).ok());
      }
    }
  }

  std::string Path(uint32_t segment) const { return SegmentPath(o_.dir, segment); }

  // Expects the start refused with DataLoss saying `what`, the advice, and no file changed.
  void ExpectRefused(const std::string& what) {
    std::vector<std::pair<std::string, uint64_t>> before;
    for (const auto& e : std::filesystem::directory_iterator(o_.dir)) {
      before.emplace_back(e.path().string(), e.file_size());
    }
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o_, nullptr);
    ASSERT_FALSE(log.ok());
    EXPECT_TRUE(absl::IsDataLoss(log.status())) << log.status();
    EXPECT_THAT(log.status().message(), HasSubstr(what));
    EXPECT_THAT(log.status().message(),
                HasSubstr(absl::StrCat("run `shixin audit verify ", o_.dir, "`")));
    EXPECT_THAT(log.status().message(),
                HasSubstr(absl::StrCat("mv ", o_.dir, " ", tmp_.path(), "/node_id AWAY/")));
    for (const auto& [path, size] : before) {
      EXPECT_EQ(std::filesystem::file_size(path), size) << path;
    }
  }

  ScratchDir tmp_;
  AuditLog::Options o_;
  int64_t now_ = absl::ToUnixMicros(absl::Now());
};

TEST_F(StartCheckTest, AnIntactAuditStarts) {
  EXPECT_TRUE(AuditLog::Open(o_, nullptr).ok());
  std::filesystem::remove(MarksPath(o_.dir, 3));  // rebuilt: not the audit's
  EXPECT_TRUE(AuditLog::Open(o_, nullptr).ok());
}

TEST_F(StartCheckTest, AMiddleSegmentRemovedIsRefused) {
  std::filesystem::remove(Path(2));
  std::filesystem::remove(MarksPath(o_.dir, 2));
  ExpectRefused(absl::StrCat(o_.dir, ": segment 0000000002.audit of stream 0 is missing"));
}

TEST_F(StartCheckTest, TheSecondToLastSegmentRemovedIsRefused) {
  std::filesystem::remove(Path(3));
  ExpectRefused("segment 0000000003.audit of stream 0 is missing");
}

TEST_F(StartCheckTest, AClosedSegmentCutIsRefused) {
  std::filesystem::resize_file(Path(1), std::filesystem::file_size(Path(1)) - 30);
  ExpectRefused(Path(1) + " is ");
  std::filesystem::remove(MarksPath(o_.dir, 1));  // without its marks: not ending with a seal
  ExpectRefused(Path(1) + " (");
  ExpectRefused("does not end with a seal");
}

TEST_F(StartCheckTest, TheSecondToLastSegmentCutAfterASealIsRefused) {
  // Cut right after an earlier seal: it still ends with a seal, but not the one chained on.
  const std::string data = ReadFile(Path(3));
  size_t cut = kHeaderSize, at = kHeaderSize;
  FramedRecord r;
  while (at < data.size() - kSealSize &&
         ParseRecord(std::string_view(data).substr(at), kFormatVersion, &r) == FrameStatus::kOk) {
    at += r.size;
    if (r.type == RecordType::kSeal && at < data.size()) cut = at;
  }
  ASSERT_GT(cut, kHeaderSize);
  WriteFile(Path(3), data.substr(0, cut));
  std::filesystem::remove(MarksPath(o_.dir, 3));
  ExpectRefused("0000000004.audit: its header's previous chain");
  ExpectRefused("is not the chain value");
}

TEST_F(StartCheckTest, SwappedSegmentsAreRefused) {
  std::filesystem::rename(Path(1), o_.dir + "/x");
  std::filesystem::rename(Path(2), Path(1));
  std::filesystem::rename(o_.dir + "/x", Path(2));
  ExpectRefused(Path(1) + ": its header says segment 2");
}

TEST_F(StartCheckTest, ASegmentReplayedAsTheLastIsRefused) {
  // Segment 1 copied as segment 5, its header made to follow segment 4 and every seal
  // recomputed: the chain holds, the feedback records' sequences do not.
  std::unique_ptr<AuditLog> log = AuditLog::Open(o_, nullptr).value();
  const uint64_t last = log->GetStats().records;
  log.reset();
  const std::string four = ReadFile(Path(4));
  SegmentHeader header = DecodeHeader(ReadFile(Path(1))).value();
  header.segment = 5;
  header.first_sequence = last + 1;
  FramedRecord seal;
  ASSERT_EQ(
      ParseRecord(std::string_view(four).substr(four.size() - kSealSize), kFormatVersion, &seal),
      FrameStatus::kOk);
  header.prev_chain = seal.chain;
  WriteFile(Path(5), EncodeHeader(header) + ReadFile(Path(1)).substr(kHeaderSize));
  ASSERT_TRUE(testing::ResealSegment(Path(5), "", ""));
  ExpectRefused(Path(5) + ": record at offset ");
  ExpectRefused(absl::StrCat("expected seq=", last + 2));
}

// The head removed is not refused: a retention shorter before (audit_retention_days raised since)
// removed it as legitimately. Said at start when today's retention cannot have removed it.
TEST_F(StartCheckTest, TheHeadRemovedIsSaidWhenTodaysRetentionCannotHaveRemovedIt) {
  std::filesystem::remove(Path(1));
  std::filesystem::remove(MarksPath(o_.dir, 1));
  std::vector<std::string> missing;  // the warnings about it, not the others (marks rebuilt...)
  o_.log_warning = [&](const std::string& w) {
    if (absl::StrContains(w, "are missing")) missing.push_back(w);
  };
  o_.retention_days = 1826;
  EXPECT_TRUE(AuditLog::Open(o_, nullptr).ok());
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_THAT(missing[0], HasSubstr(absl::StrCat(
                              o_.dir,
                              ": the segments of stream 0 before 0000000002.audit are missing, "
                              "and today's retention cannot have removed them")));
  missing.clear();
  o_.retention_days = 0;
  EXPECT_TRUE(AuditLog::Open(o_, nullptr).ok());
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_THAT(missing[0], HasSubstr("kept forever (audit_retention_days <= 0)"));
  // Once segment 2 is older than the retention period, retention may have removed segment 1.
  missing.clear();
  o_.retention_days = 30;
  now_ += 31 * kDay;
  EXPECT_TRUE(AuditLog::Open(o_, nullptr).ok());
  EXPECT_THAT(missing, IsEmpty());
}

TEST_F(StartCheckTest, AFirstSegmentThatDoesNotStartTheStreamIsRefused) {
  SegmentHeader header = DecodeHeader(ReadFile(Path(1))).value();
  header.first_sequence = 7;
  WriteFile(Path(1), EncodeHeader(header) + ReadFile(Path(1)).substr(kHeaderSize));
  ExpectRefused(Path(1) + ": the stream's first segment starts at seq=7");
}

}  // namespace
}  // namespace shixin::audit
