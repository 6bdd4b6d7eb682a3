#include "audit/audit_log.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "audit/audit_test_util.h"
#include "audit/reader.h"
#include "core/test_util.h"

namespace shixin::audit {
namespace {

using ::testing::HasSubstr;
using testing::ScratchDir;
using testing::TypicalQuery;

constexpr uint32_t kNode = 0x9f2c41d0;

AuditLog::Options MakeOptions(const std::string& dir) {
  AuditLog::Options o;
  o.dir = dir + "/audit";
  o.node = kNode;
  return o;
}

std::unique_ptr<AuditLog> MustOpen(const AuditLog::Options& o, AuditLog::Recovery* rec = nullptr) {
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o, rec);
  EXPECT_TRUE(log.ok()) << log.status();
  return log.ok() ? *std::move(log) : nullptr;
}

// Records are dated now: verify checks them against their segment's creation time.
int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

// Appends and syncs `n` typical queries dated `time` (+1 us each); returns their receipts.
std::vector<Receipt> AppendQueries(AuditLog* log, int n, int64_t time = NowMicros()) {
  std::vector<Receipt> receipts;
  for (int i = 0; i < n; ++i) {
    const std::string subject = absl::StrCat("1101011990030", 10000 + i);
    QueryRecord q = TypicalQuery(subject, time + i);
    absl::StatusOr<AuditLog::Appended> a = log->Append(&q);
    EXPECT_TRUE(a.ok()) << a.status();
    if (!a.ok()) break;
    EXPECT_TRUE(log->Sync(a->ticket).ok());
    receipts.push_back(a->receipt);
  }
  return receipts;
}

void ExpectVerifies(const std::string& dir, uint64_t records) {
  absl::StatusOr<VerifyReport> report = Verify(dir);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(report->problems, ::testing::IsEmpty());
  EXPECT_EQ(report->records, records);
  uint64_t sequences = 0;  // each stream numbers its records 1, 2, ...
  for (const VerifyReport::Stream& s : report->streams) {
    sequences += s.last_sequence - s.first_sequence + 1;
  }
  if (records > 0) {
    EXPECT_EQ(sequences, records);
  }
}

TEST(AuditLogTest, AppendSyncReopenContinuesChainAndSequence) {
  ScratchDir tmp;
  const AuditLog::Options o = MakeOptions(tmp.path());
  std::vector<Receipt> first;
  {
    std::unique_ptr<AuditLog> log = MustOpen(o);
    first = AppendQueries(log.get(), 10);
    ASSERT_TRUE(log->SyncToDisk().ok());
    EXPECT_EQ(log->GetStats().records, 10u);
  }
  struct stat st;
  ASSERT_EQ(stat(o.dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(stat(SegmentPath(o.dir, 1).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  AuditLog::Recovery rec;
  std::unique_ptr<AuditLog> log = MustOpen(o, &rec);
  EXPECT_FALSE(rec.torn);
  EXPECT_EQ(rec.records, 10u);
  QueryRecord q = TypicalQuery("110101199003074514", NowMicros());
  absl::StatusOr<AuditLog::Appended> a = log->Append(&q);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(q.sequence, 11u);
  ASSERT_TRUE(log->Sync(a->ticket).ok());
  ExpectVerifies(o.dir, 11);
  absl::StatusOr<AuditLog::LookedUp> found = log->Lookup(first[3]);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->record.subject, "110101199003010003");
  EXPECT_EQ(found->record.sequence, 4u);
}

TEST(AuditLogTest, LookupRefusesOtherNodeFeedbackAndUnwritten) {
  ScratchDir tmp;
  std::unique_ptr<AuditLog> log = MustOpen(MakeOptions(tmp.path()));
  std::vector<Receipt> receipts = AppendQueries(log.get(), 2);
  FeedbackRecord f;
  f.receipt = "x";
  f.entries = {{1, Outcome::kApplied, ""}};
  absl::StatusOr<AuditLog::Appended> fa = log->Append(&f);
  ASSERT_TRUE(fa.ok());
  EXPECT_EQ(log->Lookup(fa->receipt).status().code(), absl::StatusCode::kNotFound);  // pending
  ASSERT_TRUE(log->Sync(fa->ticket).ok());
  EXPECT_EQ(log->Lookup(fa->receipt).status().code(), absl::StatusCode::kNotFound);  // feedback
  Receipt other = receipts[0];
  other.node ^= 1;
  EXPECT_EQ(log->Lookup(other).status().code(), absl::StatusCode::kNotFound);
  Receipt shifted = receipts[1];
  shifted.offset += 1;
  EXPECT_EQ(log->Lookup(shifted).status().code(), absl::StatusCode::kNotFound);
  Receipt segment = receipts[0];
  segment.segment = 7;
  EXPECT_EQ(log->Lookup(segment).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(log->Lookup(receipts[1]).ok());
}

// INFO's "receipts without feedback" rests on these: the written records that await feedback,
// and whether a receipt is of this run.
TEST(AuditLogTest, CountsWrittenRecordsAwaitingFeedbackAndKnowsReceiptsSinceOpen) {
  ScratchDir tmp;
  testing::FaultyOps ops;
  AuditLog::Options o = MakeOptions(tmp.path());
  o.file_ops = &ops;
  o.retry_interval = absl::ZeroDuration();
  const std::vector<Receipt> before = AppendQueries(MustOpen(o).get(), 2);
  std::unique_ptr<AuditLog> log = MustOpen(o);
  EXPECT_EQ(log->GetStats().awaiting_feedback, 0u);  // counted since Open
  QueryRecord awaits = TypicalQuery("11010519491231002X", NowMicros());
  QueryRecord check = TypicalQuery("11010519491231002X", NowMicros());
  check.measures.clear();  // a CHECK answer: no measures
  QueryRecord v3 = TypicalQuery("11010519491231002X", NowMicros());
  v3.receipt_issued = false;  // the answer carried no receipt
  uint64_t ticket = 0;
  for (QueryRecord* q : {&awaits, &check, &v3, &awaits}) {
    absl::StatusOr<AuditLog::Appended> a = log->Append(q);
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_TRUE(log->IssuedSinceOpen(a->receipt));
    ticket = a->ticket;
  }
  EXPECT_EQ(log->GetStats().awaiting_feedback, 0u);  // not yet written
  ASSERT_TRUE(log->Sync(ticket).ok());
  EXPECT_EQ(log->GetStats().awaiting_feedback, 2u);
  // A failed write discards its records: they await nothing.
  ops.error = ENOSPC;
  absl::StatusOr<AuditLog::Appended> lost = log->Append(&awaits);
  ASSERT_TRUE(lost.ok()) << lost.status();
  EXPECT_FALSE(log->Sync(lost->ticket).ok());
  ops.error = 0;
  EXPECT_EQ(AppendQueries(log.get(), 1).size(), 1u);
  EXPECT_EQ(log->GetStats().awaiting_feedback, 3u);
  // The receipts of the previous run, of another node or stream, are not of this one.
  for (const Receipt& r : before) EXPECT_FALSE(log->IssuedSinceOpen(r));
  Receipt other = before.back();
  other.offset += 100000;
  EXPECT_TRUE(log->IssuedSinceOpen(other));
  other.node ^= 1;
  EXPECT_FALSE(log->IssuedSinceOpen(other));
  other = before.back();
  other.segment = FirstSegment(1);
  EXPECT_FALSE(log->IssuedSinceOpen(other));
}

TEST(AuditLogTest, RotatesBySizeAndChainsAcrossSegments) {
  ScratchDir tmp;
  AuditLog::Options o = MakeOptions(tmp.path());
  o.segment_bytes = 1000;
  std::vector<Receipt> receipts;
  {
    std::unique_ptr<AuditLog> log = MustOpen(o);
    receipts = AppendQueries(log.get(), 50);
    EXPECT_GE(log->GetStats().segments, 5u);
    for (const Receipt& r : receipts) EXPECT_TRUE(log->Lookup(r).ok()) << r.ToString();
  }
  EXPECT_GT(receipts.back().segment, 4u);
  ExpectVerifies(o.dir, 50);
  std::unique_ptr<AuditLog> log = MustOpen(o);
  AppendQueries(log.get(), 5);
  ExpectVerifies(o.dir, 55);
}

TEST(AuditLogTest, StreamsShareTheDirectoryEachWithItsChainAndSequence) {
  ScratchDir tmp;
  AuditLog::Options o0 = MakeOptions(tmp.path()), o1 = MakeOptions(tmp.path());
  o0.segment_bytes = o1.segment_bytes = 1000;
  o1.stream = 1;
  std::vector<Receipt> r0, r1;
  {
    std::unique_ptr<AuditLog> log0 = MustOpen(o0), log1 = MustOpen(o1);
    // Interleaved on two threads, as two I/O threads append.
    std::thread t([&] { r1 = AppendQueries(log1.get(), 40); });
    r0 = AppendQueries(log0.get(), 30);
    t.join();
    EXPECT_EQ(log0->GetStats().records, 30u);
    EXPECT_EQ(log1->GetStats().records, 40u);
    ASSERT_FALSE(r1.empty());
    EXPECT_EQ(StreamOf(r0.back().segment), 0u);
    EXPECT_EQ(StreamOf(r1.front().segment), 1u);
    EXPECT_EQ(r1.front().segment, FirstSegment(1));
    EXPECT_GT(r1.back().segment, FirstSegment(1));  // rotated within its range
    for (const Receipt& r : r1) EXPECT_TRUE(log1->Lookup(r).ok()) << r.ToString();
    absl::Status other = log0->Lookup(r1[0]).status();
    EXPECT_TRUE(absl::IsNotFound(other)) << other;
    EXPECT_THAT(other.message(), HasSubstr("of stream 1"));
  }
  absl::StatusOr<VerifyReport> report = Verify(o0.dir);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(report->problems, ::testing::IsEmpty());
  EXPECT_EQ(report->records, 70u);
  ASSERT_EQ(report->streams.size(), 2u);
  EXPECT_EQ(report->streams[0].last_sequence, 30u);
  EXPECT_EQ(report->streams[1].stream, 1u);
  EXPECT_EQ(report->streams[1].first_segment, FirstSegment(1));
  EXPECT_EQ(report->streams[1].first_sequence, 1u);
  EXPECT_EQ(report->streams[1].last_sequence, 40u);
  EXPECT_EQ(report->streams[1].records, 40u);
  uint64_t visited = 0;
  ASSERT_TRUE(ForEachRecord(o0.dir, {}, [&](const Entry&) { return ++visited > 0; }).ok());
  EXPECT_EQ(visited, 70u);
  // Reopened, each goes on from its own last record; stream 0's tail is recovered alone.
  AuditLog::Recovery rec;
  std::unique_ptr<AuditLog> log1 = MustOpen(o1, &rec);
  EXPECT_EQ(rec.segments, report->streams[1].segments);
  QueryRecord q = TypicalQuery("110101199003074514", NowMicros());
  absl::StatusOr<AuditLog::Appended> a = log1->Append(&q);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(q.sequence, 41u);
  ASSERT_TRUE(log1->Sync(a->ticket).ok());
  ExpectVerifies(o0.dir, 71);
  // A stream beyond the segment numbers' range is refused.
  AuditLog::Options bad = MakeOptions(tmp.path());
  bad.stream = kMaxStreams;
  EXPECT_TRUE(absl::IsInvalidArgument(AuditLog::Open(bad, nullptr).status()));
}

// A clock stepped back (NTP, a restored VM, a wrong RTC at boot) between two runs and during
// one: the stream's times never go back, the log says so once, and verify finds nothing.
TEST(AuditLogTest, AClockSetBackNeverStampsARecordOrSegmentEarlier) {
  ScratchDir tmp;
  AuditLog::Options o = MakeOptions(tmp.path());
  o.segment_bytes = 1000;
  constexpr int64_t kT0 = int64_t{1790784030} * 1000000;  // 2026-09-30T16:00:30Z
  std::atomic<int64_t> now{kT0};
  o.now_micros = [&now] { return now.load(); };
  std::vector<std::string> warned;
  o.log_warning = [&warned](const std::string& line) { warned.push_back(line); };
  MustOpen(o).reset();                // the segment is created at kT0
  now = kT0 - int64_t{70} * 1000000;  // corrected back 70 s
  std::unique_ptr<AuditLog> log = MustOpen(o);
  ASSERT_EQ(warned.size(), 1u);  // at the start
  EXPECT_THAT(warned[0], HasSubstr("audit stream 0: the stream's newest record or segment "
                                   "(2026-09-30T16:00:30Z) is dated 1m10s after the clock "
                                   "(2026-09-30T15:59:20Z): the clock was set back, or the audit "
                                   "was dated ahead"));
  EXPECT_THAT(log->GetStats().clock_note, HasSubstr("records are stamped 2026-09-30T16:00:30Z"));
  AppendQueries(log.get(), 20, now.load());  // rotates: segments "created" then too
  EXPECT_EQ(warned.size(), 1u);              // said once until the clock catches up
  now = kT0 + int64_t{3600} * 1000000;
  AppendQueries(log.get(), 1, now.load());
  now = kT0;  // back again: said again
  AppendQueries(log.get(), 1, now.load());
  EXPECT_EQ(warned.size(), 2u);
  log.reset();
  int64_t last = 0;
  ASSERT_TRUE(ForEachRecord(o.dir, {}, [&](const Entry& e) {
                EXPECT_GE(e.query.time_micros, last);
                EXPECT_GE(e.query.time_micros, kT0);
                last = e.query.time_micros;
                return true;
              }).ok());
  absl::StatusOr<VerifyReport> report = Verify(o.dir);
  ASSERT_TRUE(report.ok());
  EXPECT_GE(report->segments, 3u);
  EXPECT_THAT(report->problems, ::testing::IsEmpty());
  EXPECT_THAT(report->time_anomalies, ::testing::IsEmpty());
}

// Finding 2 (x26): one segment or record dated 40 days ahead (a header edited and the chain
// recomputed, or a writer whose clock ran ahead) made the daemon stamp every record of the next
// 40 days with that date. An audit more than an hour ahead of the clock is refused at start,
// naming the record and both times; within the hour its time is kept, said, and shown in Stats.
TEST(AuditLogTest, AnAuditDatedFarAheadOfTheClockIsRefusedAtStart) {
  ScratchDir tmp;
  AuditLog::Options o = MakeOptions(tmp.path());
  constexpr int64_t kT0 = int64_t{1790784030} * 1000000;  // 2026-09-30T16:00:30Z
  std::atomic<int64_t> now{kT0 + 40 * kMicrosPerDay};
  o.now_micros = [&now] { return now.load(); };
  std::unique_ptr<AuditLog> log = MustOpen(o);
  AppendQueries(log.get(), 3, now.load());
  log.reset();
  const uint64_t size = std::filesystem::file_size(SegmentPath(o.dir, 1));
  now = kT0;
  absl::StatusOr<std::unique_ptr<AuditLog>> refused = AuditLog::Open(o, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_THAT(refused.status().message(),
              HasSubstr(absl::StrCat("audit stream 0: ", SegmentPath(o.dir, 1),
                                     ", record seq=3 at offset ")));
  EXPECT_THAT(refused.status().message(),
              HasSubstr("is dated 2026-11-09T16:00:30Z (40 days after the clock, "
                        "2026-09-30T16:00:30Z): the clock was set back, or the audit was dated "
                        "ahead"));
  EXPECT_THAT(refused.status().message(), HasSubstr("run `shixin audit verify " + o.dir));
  EXPECT_EQ(std::filesystem::file_size(SegmentPath(o.dir, 1)), size);  // nothing written
  // Within the bound it starts, its records stamped with the audit's newest time.
  now = kT0 + 40 * kMicrosPerDay - int64_t{1800} * 1000000;
  log = MustOpen(o);
  EXPECT_THAT(log->GetStats().clock_note,
              HasSubstr("stream 0's records are stamped 2026-11-09T16:00:30Z, its newest "
                        "time, 30m0.000002s after the clock (2026-11-09T15:30:30Z)"));
  now += int64_t{3600} * 1000000;  // the clock passes it: nothing to say
  AppendQueries(log.get(), 1, now.load());
  EXPECT_EQ(log->GetStats().clock_note, "");
}

// Finding 1 (x21): the daemon reads a record's time before the log's lock, and a rotation in
// that Append stamps the new segment with a later clock reading. A steady clock is no clock set
// back: many rotations, no warning; a real step back afterwards still gets its one.
TEST(AuditLogTest, RotationsUnderASteadyClockWarnOfNoClockSetBack) {
  ScratchDir tmp;
  AuditLog::Options o = MakeOptions(tmp.path());
  o.segment_bytes = 1000;
  std::atomic<int64_t> now{int64_t{1790784030} * 1000000};
  o.now_micros = [&now] { return now.fetch_add(1); };  // 1 us later at every reading
  std::vector<std::string> warned;
  o.log_warning = [&warned](const std::string& line) { warned.push_back(line); };
  std::unique_ptr<AuditLog> log = MustOpen(o);
  uint32_t last_segment = 0;
  int rotations = 0;
  for (int i = 0; i < 60; ++i) {
    QueryRecord q = TypicalQuery("110101199003074514", now.fetch_add(1));  // as Auditor::Record
    absl::StatusOr<AuditLog::Appended> a = log->Append(&q);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(log->Sync(a->ticket).ok());
    rotations += last_segment != 0 && a->receipt.segment != last_segment ? 1 : 0;
    last_segment = a->receipt.segment;
  }
  EXPECT_GE(rotations, 5);
  EXPECT_THAT(warned, ::testing::IsEmpty());
  now -= int64_t{30} * 1000000;  // an NTP step back of 30 s
  AppendQueries(log.get(), 3, now.load());
  ASSERT_EQ(warned.size(), 1u);
  EXPECT_THAT(warned[0], HasSubstr("the clock was set back, or the audit was dated ahead"));
  EXPECT_THAT(warned[0], ::testing::ContainsRegex(" is dated 29\\.9999[0-9]*s after the clock "));
}

// Finding 8 (x21): a file-size limit below the segment size fails every write once a segment
// reaches it. The start is warned, and the write's error names the limit and what to change.
// In a child: the limit is the process's.
TEST(AuditLogTest, AFileSizeLimitBelowTheSegmentSizeIsNamedWithItsFix) {
  ScratchDir tmp;
  EXPECT_EQ(FileSizeLimitWarning(uint64_t{64} << 20), "");  // the test runs without a limit
  AuditLog::Options o = MakeOptions(tmp.path());
  o.segment_bytes = uint64_t{1} << 20;
  EXPECT_EXIT(
      {
        rlimit limit{};
        limit.rlim_cur = limit.rlim_max = 8192;
        ::setrlimit(RLIMIT_FSIZE, &limit);
        ::signal(SIGXFSZ, SIG_IGN);  // as shixind: EFBIG, not a killed process
        std::fprintf(stderr, "warning: %s\n", FileSizeLimitWarning(o.segment_bytes).c_str());
        absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o, nullptr);
        absl::Status failed;
        for (int i = 0; log.ok() && failed.ok() && i < 1000; ++i) {
          QueryRecord q = TypicalQuery("110101199003074514", NowMicros());
          absl::StatusOr<AuditLog::Appended> a = (*log)->Append(&q);
          failed = a.ok() ? (*log)->Sync(a->ticket) : a.status();
        }
        std::fprintf(stderr, "failed: %s\n", std::string(failed.message()).c_str());
        std::fflush(stderr);
        std::_Exit(failed.ok() ? 1 : 0);
      },
      ::testing::ExitedWithCode(0),
      "warning: the process's file-size limit \\(RLIMIT_FSIZE\\) is 8192 bytes, below "
      "audit_segment_mb \\(1048576 bytes\\).*LimitFSIZE=infinity in the systemd unit, "
      "ulimit -f unlimited in a shell\\)\n"
      "failed: write .*0000000001.audit: File too large; the process's file-size limit "
      "\\(RLIMIT_FSIZE: 8192 bytes\\) is below audit_segment_mb .*LimitFSIZE=infinity");
}

// The daemon's log, kept elsewhere, holds where each stream's chain ends at start and stop.
TEST(AuditLogTest, OpenAndCloseLogWhereTheChainEnds) {
  ScratchDir tmp;
  AuditLog::Options o = MakeOptions(tmp.path());
  std::vector<std::string> logged;
  o.log_info = [&logged](const std::string& line) { logged.push_back(line); };
  std::unique_ptr<AuditLog> log = MustOpen(o);
  AppendQueries(log.get(), 5);
  log.reset();
  absl::StatusOr<VerifyReport> report = Verify(o.dir);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->streams.size(), 1u);
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_THAT(logged[0], HasSubstr("audit stream 0 opened: 0000000001.audit, chain through "
                                   "seq=0: "));
  EXPECT_EQ(logged[1], "audit stream 0 closed: 0000000001.audit, chain through seq=5: " +
                           ChainText(report->streams[0].last_chain));
}

TEST(AuditLogTest, RetentionDeletesOldSegmentsButNotTheCurrent) {
  ScratchDir tmp;
  AuditLog::Options o = MakeOptions(tmp.path());
  o.segment_bytes = 1000;
  o.retention_days = 10;
  std::atomic<int64_t> now{int64_t{1700000000} * 1000000};
  o.now_micros = [&now] { return now.load(); };
  std::vector<std::string> logged;
  o.log_info = [&logged](const std::string& line) {
    if (line.find("retention") != std::string::npos) logged.push_back(line);
  };
  std::unique_ptr<AuditLog> log = MustOpen(o);
  const uint32_t current = AppendQueries(log.get(), 30, now.load()).back().segment;
  const uint64_t before = log->GetStats().segments;
  ASSERT_GE(before, 3u);
  now += int64_t{11} * 86400 * 1000000;  // everything written so far is 11 days old
  // Appends until the log rotates once: the old segments go.
  for (int i = 0; i < 100 && AppendQueries(log.get(), 1, now.load()).at(0).segment == current;
       ++i) {
  }
  const AuditLog::Stats stats = log->GetStats();
  EXPECT_LE(stats.segments, 2u);
  log.reset();
  // Each deletion said, with the file and its records.
  ASSERT_EQ(logged.size(), before + 1 - stats.segments);
  EXPECT_THAT(logged[0], HasSubstr("retention (10 days) deleted "));
  EXPECT_THAT(logged[0], HasSubstr("0000000001.audit"));
  EXPECT_THAT(logged[0], HasSubstr("records 1 to "));
  // A start counts the segments it keeps, after retention.
  now += int64_t{11} * 86400 * 1000000;
  AuditLog::Recovery rec;
  log = MustOpen(o, &rec);
  EXPECT_EQ(rec.segments, log->GetStats().segments);
  EXPECT_EQ(rec.segments, 1u);
  log.reset();
  absl::StatusOr<VerifyReport> report = Verify(o.dir);
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report->problems, ::testing::IsEmpty());
  ASSERT_EQ(report->streams.size(), 1u);
  EXPECT_TRUE(report->streams[0].chain_start_cut);
  EXPECT_GT(report->streams[0].first_segment, 1u);
}

// Appends `n` records, closes, and returns the segment path.
std::string WriteAndClose(const AuditLog::Options& o, int n) {
  std::unique_ptr<AuditLog> log = MustOpen(o);
  AppendQueries(log.get(), n);
  return SegmentPath(o.dir, 1);
}

TEST(AuditLogTest, TornTailPartialRecordIsCutAndReported) {
  ScratchDir tmp;
  const AuditLog::Options o = MakeOptions(tmp.path());
  const std::string path = WriteAndClose(o, 5);
  const uint64_t good = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, good - 7);  // the last record loses its chain's end
  AuditLog::Recovery rec;
  std::unique_ptr<AuditLog> log = MustOpen(o, &rec);
  EXPECT_TRUE(rec.torn);
  EXPECT_EQ(rec.records, 4u);
  EXPECT_THAT(rec.message, HasSubstr("0000000001.audit"));
  EXPECT_LT(std::filesystem::file_size(path), good - 7);
  AppendQueries(log.get(), 1);
  ExpectVerifies(o.dir, 5);
}

TEST(AuditLogTest, BadChecksumOfTheLastRecordIsCut) {
  ScratchDir tmp;
  const AuditLog::Options o = MakeOptions(tmp.path());
  const std::string path = WriteAndClose(o, 5);
  const uint64_t size = std::filesystem::file_size(path);
  {
    // The last write's seal, changed whatever it was (setting a byte of a hash to a constant
    // would leave it as it was once in 256 runs).
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(size - 10));
    const int c = f.get();
    f.seekp(static_cast<std::streamoff>(size - 10));
    f.put(static_cast<char>(c ^ 0xff));
  }
  AuditLog::Recovery rec;
  std::unique_ptr<AuditLog> log = MustOpen(o, &rec);
  EXPECT_TRUE(rec.torn);
  EXPECT_THAT(rec.message, HasSubstr("checksum"));
  EXPECT_EQ(rec.records, 4u);
  ExpectVerifies(o.dir, 4);
}

TEST(AuditLogTest, RecordsOfAWriteWithoutItsSealAreCut) {
  ScratchDir tmp;
  const AuditLog::Options o = MakeOptions(tmp.path());
  std::string path;
  {
    std::unique_ptr<AuditLog> log = MustOpen(o);
    AppendQueries(log.get(), 3);
    // Two more in one write, whose seal is then lost: never acknowledged, so cut.
    uint64_t ticket = 0;
    for (int i = 0; i < 2; ++i) {
      QueryRecord q = TypicalQuery("110101199003071234", 1780000001000000 + i);
      absl::StatusOr<AuditLog::Appended> a = log->Append(&q);
      ASSERT_TRUE(a.ok());
      ticket = a->ticket;
    }
    ASSERT_TRUE(log->Sync(ticket).ok());
    path = SegmentPath(o.dir, 1);
  }
  const uint64_t size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - kSealSize);
  AuditLog::Recovery rec;
  std::unique_ptr<AuditLog> log = MustOpen(o, &rec);
  EXPECT_TRUE(rec.torn);
  EXPECT_THAT(rec.message, HasSubstr("2 records after the last seal"));
  EXPECT_EQ(rec.records, 3u);
  AppendQueries(log.get(), 1);
  ExpectVerifies(o.dir, 4);
}

// An audit left by an older writer (testdata: a format-1, -2 and -3 segment) verifies, its
// records are found by receipt, and the writer goes on in a new segment of its own format.
class OlderFormatTest : public ::testing::TestWithParam<const char*> {};

TEST_P(OlderFormatTest, AnAuditOfAnOlderFormatGoesOnInANewSegment) {
  ScratchDir tmp;
  AuditLog::Options o = MakeOptions(tmp.path());
  std::filesystem::create_directories(o.dir);
  std::filesystem::copy_file(shixin::testing::SourceDir() + "/audit/testdata/" + GetParam(),
                             SegmentPath(o.dir, 1));
  absl::StatusOr<SegmentHeader> written = ReadHeader(SegmentPath(o.dir, 1));
  ASSERT_TRUE(written.ok()) << written.status();
  o.node = written->node;  // the node that wrote it goes on (another one is refused)
  absl::StatusOr<VerifyReport> before = Verify(o.dir);
  ASSERT_TRUE(before.ok());
  ASSERT_THAT(before->problems, ::testing::IsEmpty());
  ASSERT_GT(before->queries, 0u);
  std::vector<Receipt> old;
  ASSERT_TRUE(ForEachRecord(o.dir, ReadOptions{}, [&old](const Entry& e) {
                if (e.type == RecordType::kQuery) old.push_back(e.receipt);
                return true;
              }).ok());
  ASSERT_EQ(old.size(), before->queries);
  AuditLog::Recovery rec;
  std::unique_ptr<AuditLog> log = MustOpen(o, &rec);
  EXPECT_FALSE(rec.torn);
  EXPECT_EQ(rec.records, before->records);
  const std::vector<Receipt> receipts = AppendQueries(log.get(), 3);
  ASSERT_EQ(receipts.size(), 3u);
  EXPECT_EQ(receipts[0].segment, 2u);
  EXPECT_TRUE(log->Lookup(receipts[2]).ok());
  log.reset();
  // Found by its receipt (the reader's lookup, as `shixin audit query`).
  absl::StatusOr<OwnedQuery> first = LookUpQuery(o.dir, old.front());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->record.subject.empty());
  ExpectVerifies(o.dir, before->records + 3);
  std::ifstream in(SegmentPath(o.dir, 2), std::ios::binary);
  std::string head(kHeaderSize, '\0');
  ASSERT_TRUE(in.read(head.data(), static_cast<std::streamsize>(head.size())));
  absl::StatusOr<SegmentHeader> header = DecodeHeader(head);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->version, kFormatVersion);
}

INSTANTIATE_TEST_SUITE_P(Testdata, OlderFormatTest,
                         ::testing::Values("sample.audit", "sample-v2.audit", "sample-v3.audit",
                                           "sample-v4.audit"));

TEST(AuditLogTest, BadRecordFollowedByGoodOnesRefusesToOpen) {
  ScratchDir tmp;
  const AuditLog::Options o = MakeOptions(tmp.path());
  const std::string path = WriteAndClose(o, 5);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(kHeaderSize + 10));
    const int c = f.get();
    f.seekp(static_cast<std::streamoff>(kHeaderSize + 10));
    f.put(static_cast<char>(c ^ 0xff));  // changed, whatever it was
  }
  const uint64_t size = std::filesystem::file_size(path);
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o, nullptr);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(log.status().message(),
              HasSubstr("0000000001.audit: record at offset 64 (seq=1 expected)"));
  EXPECT_EQ(std::filesystem::file_size(path), size);  // nothing cut
}

TEST(AuditLogTest, ConcurrentAppendAndSync) {
  ScratchDir tmp;
  const AuditLog::Options o = MakeOptions(tmp.path());
  std::unique_ptr<AuditLog> log = MustOpen(o);
  constexpr int kThreads = 4, kPerThread = 500;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::vector<std::vector<Receipt>> receipts(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        QueryRecord q = TypicalQuery("110101199003074514", NowMicros() + i);
        absl::StatusOr<AuditLog::Appended> a = log->Append(&q);
        ASSERT_TRUE(a.ok());
        ASSERT_TRUE(log->Sync(a->ticket).ok());
        receipts[t].push_back(a->receipt);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& list : receipts) {
    for (const Receipt& r : list) ASSERT_TRUE(log->Lookup(r).ok());
  }
  EXPECT_LT(log->GetStats().write_count, uint64_t{kThreads * kPerThread} + 1);
  log.reset();
  ExpectVerifies(o.dir, kThreads * kPerThread);
}

// Rotations while other threads append (a segment of ~30 records): each record keeps its own
// sequence number (consecutive across segments, as Verify checks), the chain runs on across
// the segments, and every receipt finds the record it was issued for.
TEST(AuditLogTest, ConcurrentAppendAcrossRotations) {
  ScratchDir tmp;
  AuditLog::Options o = MakeOptions(tmp.path());
  o.segment_bytes = 4096;
  std::unique_ptr<AuditLog> log = MustOpen(o);
  constexpr int kThreads = 4, kPerThread = 300;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::vector<std::vector<std::pair<std::string, Receipt>>> issued(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string subject = absl::StrCat("subject-", t, "-", i);
        QueryRecord q = TypicalQuery(subject, NowMicros() + i);
        absl::StatusOr<AuditLog::Appended> a = log->Append(&q);
        ASSERT_TRUE(a.ok()) << a.status();
        if (i % 3 == 2) {  // some left for others' writes
          ASSERT_TRUE(log->Sync(a->ticket).ok());
        }
        issued[t].emplace_back(std::move(subject), a->receipt);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(log->SyncToDisk().ok());
  EXPECT_GT(log->GetStats().segments, 20u);
  for (const auto& list : issued) {
    for (const auto& [subject, receipt] : list) {
      absl::StatusOr<AuditLog::LookedUp> found = log->Lookup(receipt);
      ASSERT_TRUE(found.ok()) << found.status();
      EXPECT_EQ(found->record.subject, subject);
    }
  }
  log.reset();
  ExpectVerifies(o.dir, kThreads * kPerThread);
}

TEST(AuditLogTest, KillNineLosesNothingAcknowledged) {
  ScratchDir tmp;
  const AuditLog::Options o = MakeOptions(tmp.path());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o, nullptr);
    if (!log.ok()) _exit(2);
    for (int i = 0; i < 10000; ++i) {
      QueryRecord q = TypicalQuery("110101199003074514", NowMicros() + i);
      absl::StatusOr<AuditLog::Appended> a = (*log)->Append(&q);
      if (!a.ok() || !(*log)->Sync(a->ticket).ok()) _exit(3);
      const std::string line = a->receipt.ToString() + "\n";
      if (write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
    }
    _exit(0);
  }
  close(fds[1]);
  FILE* in = fdopen(fds[0], "r");
  std::vector<Receipt> acknowledged;
  char line[128];
  while (acknowledged.size() < 3000 && fgets(line, sizeof(line), in) != nullptr) {
    std::string_view text(line);
    text.remove_suffix(1);
    absl::StatusOr<Receipt> r = Receipt::Parse(text);
    ASSERT_TRUE(r.ok()) << r.status();
    acknowledged.push_back(*r);
  }
  kill(child, SIGKILL);
  // Receipts already in the pipe were acknowledged too.
  while (fgets(line, sizeof(line), in) != nullptr) {
    std::string_view text(line);
    if (text.empty() || text.back() != '\n') break;
    text.remove_suffix(1);
    absl::StatusOr<Receipt> r = Receipt::Parse(text);
    ASSERT_TRUE(r.ok());
    acknowledged.push_back(*r);
  }
  fclose(in);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_GE(acknowledged.size(), 3000u);
  AuditLog::Recovery rec;
  std::unique_ptr<AuditLog> log = MustOpen(o, &rec);
  for (const Receipt& r : acknowledged) ASSERT_TRUE(log->Lookup(r).ok()) << r.ToString();
  absl::StatusOr<VerifyReport> report = Verify(o.dir);
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report->problems, ::testing::IsEmpty());
  EXPECT_GE(report->records, acknowledged.size());
}

TEST(AuditLogTest, NodeIdIsCreatedOnceWithMode0600) {
  ScratchDir tmp;
  const std::string state = tmp.path() + "/state";
  absl::StatusOr<uint32_t> a = LoadOrCreateNodeId(state);
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<uint32_t> b = LoadOrCreateNodeId(state);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  struct stat st;
  ASSERT_EQ(stat((state + "/node_id").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ofstream(state + "/node_id") << "XYZ\n";
  EXPECT_EQ(LoadOrCreateNodeId(state).status().code(), absl::StatusCode::kInvalidArgument);
}

// x24 #14: node_id is read as a small regular file: a link to a device, a FIFO (which hung
// the start in open()) or a huge file is an error naming the file and what it is.
TEST(AuditLogTest, NodeIdThatIsNoSmallRegularFileIsAnErrorNamingIt) {
  ScratchDir tmp;
  const std::string state = tmp.path() + "/state";
  ASSERT_TRUE(LoadOrCreateNodeId(state).ok());
  const std::string path = state + "/node_id";
  ASSERT_EQ(::unlink(path.c_str()), 0);
  ASSERT_EQ(::symlink("/dev/null", path.c_str()), 0);
  EXPECT_EQ(LoadOrCreateNodeId(state).status().message(),
            path + ": not a regular file (a character device)");
  ASSERT_EQ(::unlink(path.c_str()), 0);
  std::ofstream(path) << std::string(1 << 20, '0');
  EXPECT_EQ(LoadOrCreateNodeId(state).status().message(), path + ": more than 4096 bytes");
  ASSERT_EQ(::unlink(path.c_str()), 0);
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  absl::Status fifo;
  const bool returned = shixin::testing::ReturnsWithoutTheOtherSideOfAFifo(
      path, O_WRONLY, [&] { fifo = LoadOrCreateNodeId(state).status(); });
  ASSERT_TRUE(returned) << "the read of node_id waited for a writer of the FIFO";
  EXPECT_EQ(fifo.message(), path + ": not a regular file (a FIFO)");
}

// Finding 4 (x21): a state_dir restored with its audit but without node_id, or with another
// node's, is refused: a new node id would write into the old node's segments, and neither the
// old receipts (FEEDBACK) nor the new ones (audit query, notice) would resolve.
TEST(AuditLogTest, AnAuditOfAnotherNodeIsRefusedNotWrittenInto) {
  ScratchDir tmp;
  const std::string state = tmp.path() + "/state";
  absl::StatusOr<uint32_t> node = LoadOrCreateNodeId(state);
  ASSERT_TRUE(node.ok()) << node.status();
  AuditLog::Options o = MakeOptions(state);
  o.node = *node;
  MustOpen(o).reset();  // 0000000001.audit, of `node`
  const std::string written = absl::StrFormat("%08x", *node);
  ASSERT_EQ(::unlink((state + "/node_id").c_str()), 0);  // restored without it
  absl::StatusOr<uint32_t> lost = LoadOrCreateNodeId(state);
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(lost.status().message(), HasSubstr(state + "/node_id is missing"));
  EXPECT_THAT(lost.status().message(), HasSubstr("1 segments of node " + written));
  EXPECT_THAT(lost.status().message(), HasSubstr("printf '" + written + "\\n' > "));
  EXPECT_NE(::access((state + "/node_id").c_str(), F_OK), 0);  // no new one made
  // Restored as said: the same node again.
  std::ofstream(state + "/node_id") << written << "\n";
  ASSERT_EQ(LoadOrCreateNodeId(state).value_or(0), *node);
  // Another node's id over this audit: the log refuses its segments.
  o.node = *node ^ 1;
  absl::StatusOr<std::unique_ptr<AuditLog>> other = AuditLog::Open(o, nullptr);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(other.status().message(),
              HasSubstr(absl::StrFormat("0000000001.audit was written by node %s, but this is "
                                        "node %08x",
                                        written, *node ^ 1)));
  // A new stream of the right node (no segments yet) and the right node itself open.
  o.node = *node;
  MustOpen(o).reset();
  o.stream = 1;
  MustOpen(o).reset();
}

}  // namespace
}  // namespace shixin::audit
