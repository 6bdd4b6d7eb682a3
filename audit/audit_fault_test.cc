// Fault injection: the audit writer under a full disk (ENOSPC) and I/O errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "audit/audit_log.h"
#include "audit/audit_test_util.h"
#include "audit/file_ops.h"
#include "audit/reader.h"

namespace shixin::audit {
namespace {

using testing::FaultyOps;
using ::testing::HasSubstr;
using testing::ScratchDir;
using testing::TypicalQuery;

class AuditFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.dir = tmp_.path() + "/audit";
    options_.node = 1;
    options_.file_ops = &ops_;
    options_.retry_interval = absl::Seconds(1);
    options_.now_micros = [this] { return now_.load(); };
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(options_, nullptr);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
  }

  absl::StatusOr<AuditLog::Appended> AppendOne() {
    QueryRecord q = TypicalQuery("110101199003074514", now_.load());
    return log_->Append(&q);
  }

  void ExpectClean(uint64_t records) {
    absl::StatusOr<VerifyReport> report = Verify(options_.dir);
    ASSERT_TRUE(report.ok());
    EXPECT_THAT(report->problems, ::testing::IsEmpty());
    EXPECT_THAT(report->notes, ::testing::IsEmpty());
    EXPECT_EQ(report->records, records);
  }

  void FailWhileFull(size_t partial) {
    for (int i = 0; i < 5; ++i) {
      absl::StatusOr<AuditLog::Appended> a = AppendOne();
      ASSERT_TRUE(a.ok());
      ASSERT_TRUE(log_->Sync(a->ticket).ok());
    }
    const uint64_t writes = log_->GetStats().write_count;
    ops_.error = ENOSPC;
    ops_.partial = partial;
    std::vector<uint64_t> tickets;
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<AuditLog::Appended> a = AppendOne();
      ASSERT_TRUE(a.ok());
      tickets.push_back(a->ticket);
    }
    absl::Status first = log_->Sync(tickets[1]);
    EXPECT_EQ(first.code(), absl::StatusCode::kResourceExhausted) << first;
    for (uint64_t t : tickets) EXPECT_EQ(log_->Sync(t).code(), first.code());  // all discarded
    EXPECT_EQ(log_->GetStats().write_count, writes + 1);  // one failed write discarded the three
    ExpectClean(5);                                       // nothing half-written stays in the file
    const AuditLog::Stats stats = log_->GetStats();
    EXPECT_TRUE(stats.failing);
    EXPECT_THAT(stats.error, HasSubstr("write"));
    absl::StatusOr<AuditLog::Appended> refused = AppendOne();
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(refused.status().message(), HasSubstr("audit cannot be written"));
  }

  ScratchDir tmp_;
  FaultyOps ops_;
  std::atomic<int64_t> now_{int64_t{1780000000} * 1000000};
  AuditLog::Options options_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditFaultTest, DiskFullFailsClosedAndRecoversWhenSpaceReturns) {
  FailWhileFull(0);
  // Retry interval passed, still full: one attempt, fails again.
  now_ += 1000001;
  absl::StatusOr<AuditLog::Appended> again = AppendOne();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(log_->Sync(again->ticket).ok());
  EXPECT_EQ(AppendOne().status().code(), absl::StatusCode::kUnavailable);
  // Space back; after the interval appends work, the chain continues.
  ops_.error = 0;
  now_ += 1000001;
  QueryRecord q = TypicalQuery("110101199003074514", now_.load());
  absl::StatusOr<AuditLog::Appended> a = log_->Append(&q);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(q.sequence, 6u);  // the discarded records' sequence numbers are reused
  ASSERT_TRUE(log_->Sync(a->ticket).ok());
  EXPECT_FALSE(log_->GetStats().failing);
  EXPECT_TRUE(log_->Lookup(a->receipt).ok());
  ASSERT_TRUE(log_->SyncToDisk().ok());
  ExpectClean(6);
}

// A log nobody appends to (a replica whose /readyz took it out of the pool while its audit
// failed) finds out by itself that space has returned: its fsync thread probes it once a retry
// is due, and the probe leaves nothing in the file.
TEST_F(AuditFaultTest, AFailingLogProbesItselfAndRecoversWithoutAppends) {
  FailWhileFull(0);
  const uint64_t bytes = log_->GetStats().bytes;
  // Still full when the retry is due: the probe fails, the log keeps failing.
  now_ += 1000001;
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_TRUE(log_->GetStats().failing);
  ExpectClean(5);
  // Space back: the next probe ends the failing state, without a record.
  ops_.error = 0;
  now_ += 1000001;
  bool failing = true;
  for (int i = 0; i < 500 && failing; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
    failing = log_->GetStats().failing;
  }
  EXPECT_FALSE(failing);
  EXPECT_EQ(log_->GetStats().bytes, bytes);
  ExpectClean(5);
  absl::StatusOr<AuditLog::Appended> a = AppendOne();
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(log_->Sync(a->ticket).ok());
  ASSERT_TRUE(log_->SyncToDisk().ok());
  ExpectClean(6);
}

// A log opened on a disk already full (a replica started on it) fails from Open, before any
// record, so that /readyz keeps it out of the pool; a probe finds the space when it returns.
TEST_F(AuditFaultTest, ALogOpenedOnAFullDiskFailsBeforeItsFirstRecord) {
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<AuditLog::Appended> a = AppendOne();
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(log_->Sync(a->ticket).ok());
  }
  log_.reset();
  ops_.error = ENOSPC;
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(options_, nullptr);
  ASSERT_TRUE(log.ok()) << log.status();
  log_ = *std::move(log);
  const AuditLog::Stats stats = log_->GetStats();
  EXPECT_TRUE(stats.failing);
  EXPECT_THAT(stats.error, HasSubstr("probe write"));
  EXPECT_EQ(AppendOne().status().code(), absl::StatusCode::kUnavailable);
  ExpectClean(2);
  ops_.error = 0;
  now_ += 1000001;
  bool failing = true;
  for (int i = 0; i < 500 && failing; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
    failing = log_->GetStats().failing;
  }
  EXPECT_FALSE(failing);
  ExpectClean(2);
}

TEST_F(AuditFaultTest, TornWriteIsCutBack) {
  FailWhileFull(30);  // 30 bytes of the batch reached the file before the error
  ops_.error = 0;
  now_ += 1000001;
  absl::StatusOr<AuditLog::Appended> a = AppendOne();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(log_->Sync(a->ticket).ok());
  log_.reset();
  ExpectClean(6);
}

TEST_F(AuditFaultTest, IoErrorIsReportedAndReopenIsClean) {
  ops_.error = EIO;
  absl::StatusOr<AuditLog::Appended> a = AppendOne();
  ASSERT_TRUE(a.ok());
  const absl::Status status = log_->Sync(a->ticket);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("Input/output error"));
  ops_.error = 0;
  log_.reset();
  ExpectClean(0);
  AuditLog::Recovery rec;
  ASSERT_TRUE(AuditLog::Open(options_, &rec).ok());
  EXPECT_FALSE(rec.torn);
}

}  // namespace
}  // namespace shixin::audit
