// End-to-end tests of shixind's delta application (docs/feed.md, section 3): files renamed into
// deltas_dir are applied within a bounded time, a refused file keeps the last good generation
// serving and holds back the files after it until it is replaced, a gap is reported and never
// skipped, and a restart replays the files to the same answers.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/delta.h"
#include "core/test_util.h"
#include "core/validity.h"
#include "protocol/operator_messages.h"
#include "tests/daemon_harness.h"
#include "tests/http_socket.h"

namespace shixin::e2e {
namespace {

// In the sample, 高丽 is listed with one case and holds no role; kNew is not in the sample.
constexpr char kOneCase[] = "230407199103150045";
constexpr char kNew[] = "230402198001011232";

const std::string kRemove =
    R"({"op":"remove","caseCode":"（2017）黑04执31号","cardNum":"230407199103150045",)"
    R"("reason":"performed","at":"2026-06-09T15:30:00+08:00"})"
    "\n";
const std::string kAdd = shixin::testing::AddCaseLine(kNew, "2099-05-31");
const std::string kUnknownOp = R"({"op":"frobnicate","cardNum":"230407199103150045"})"
                               "\n";

constexpr absl::Duration kPoll = absl::Milliseconds(20);
constexpr absl::Duration kWait = absl::Seconds(5);

class DaemonDeltaTest : public SampleListTest {
 protected:
  void SetUp() override {
    SampleListTest::SetUp();
    deltas_ = scratch_.Path("deltas");
    ASSERT_EQ(::mkdir(deltas_.c_str(), 0755), 0);
  }

  void Start() { ASSERT_NO_FATAL_FAILURE(StartDaemon({"--deltas-dir", deltas_})); }

  // Writes delta file `sequence` by rename.
  void Write(uint64_t sequence, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomically(deltas_ + "/" + DeltaFileName(sequence), text).ok());
  }

  wire::CheckStatus StatusOf(const std::string& id) {
    auto reply = client_->Check({id});
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? reply->value[0].status : wire::CheckStatus::kInvalid;
  }

  // Polls CHECK of `id` every 20 ms, at most 5 s, until it answers `want`; returns whether it
  // did.
  bool WaitForStatus(const std::string& id, wire::CheckStatus want) {
    const absl::Time deadline = absl::Now() + kWait;
    while (StatusOf(id) != want) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(kPoll);
    }
    return true;
  }

  // Waits, at most 5 s, until the daemon's log says `text`.
  bool WaitForLog(const std::string& text) {
    const absl::Time deadline = absl::Now() + kWait;
    while (!absl::StrContains(daemon_->stderr_text(), text)) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(kPoll);
    }
    return true;
  }

  // A readable dump of the CHECK answers of `ids`.
  std::string Answers(const std::vector<std::string>& ids) {
    auto reply = client_->Check(ids);
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok()) return "";
    std::string out;
    for (const CheckAnswerCopy& a : reply->value) {
      absl::StrAppendFormat(&out, "%s %d %s cases=%d roles=%d %d..%d\n", a.id,
                            static_cast<int>(a.status), a.name, a.cases, a.roles, a.since, a.until);
    }
    return out;
  }

  // Polls INFO on `client` every 20 ms, at most 5 s, until `done` holds; returns the last INFO.
  Reply<wire::InfoResponse> WaitForInfo(Client& client,
                                        const std::function<bool(const wire::DeltaInfo&)>& done) {
    const absl::Time deadline = absl::Now() + kWait;
    for (;;) {
      auto info = client.Info();
      EXPECT_TRUE(info.ok()) << info.status();
      if (!info.ok() || done(info->value.deltas) || absl::Now() > deadline) {
        return info.ok() ? *std::move(info) : Reply<wire::InfoResponse>{};
      }
      absl::SleepFor(kPoll);
    }
  }

  std::string deltas_;
};

// INFO's delta numbers, for comparing them at once.
std::string Counts(const wire::DeltaInfo& d) {
  return absl::StrFormat(
      "base %d sequence %d pending %d files %d changes %d notes %d refusals %d gap %d/%d overlay "
      "%d",
      d.base_sequence, d.sequence, d.pending, d.applied_files, d.applied_changes, d.notes,
      d.refusals, d.gap ? 1 : 0, d.gap_after, d.overlay_subjects);
}

// FORMAT.md 13: INFO of version 2 reports where the serving generation stands in the feed.
TEST_F(DaemonDeltaTest, InfoOfVersion2ReportsTheRefusedFileAndTheGap) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto v2 = daemon_->Connect(absl::Seconds(5), /*hello=*/true);
  ASSERT_TRUE(v2.ok()) << v2.status();
  Client& client = **v2;
  ASSERT_GE(client.version(), 2);  // 3 with shixind: the delta state is the same
  Write(1, kRemove);
  ASSERT_TRUE(WaitForStatus(kOneCase, wire::CheckStatus::kUnlisted));
  Write(2, kRemove + kUnknownOp);  // refused at its line 2
  Write(3, kAdd);                  // waits behind it
  Reply<wire::InfoResponse> r =
      WaitForInfo(client, [](const wire::DeltaInfo& d) { return d.pending == 2; });
  const wire::DeltaInfo* d = &r.value.deltas;
  EXPECT_EQ(r.value.generation, r.generation);  // the generation that answered
  EXPECT_EQ(Counts(*d),
            "base 0 sequence 1 pending 2 files 1 changes 1 notes 0 refusals 1 gap 0/0 "
            "overlay 1");  // 高丽
  EXPECT_TRUE(absl::StartsWith(d->refused, DeltaFileName(2) + ":2:")) << d->refused;
  EXPECT_GT(d->overlay_bytes, 0u);
  EXPECT_EQ(d->delta_error, "");
  EXPECT_GE(d->last_delta_time, absl::ToUnixSeconds(absl::Now()) - 60);
  EXPECT_EQ(d->lag_seconds, d->last_delta_time - 1780990200);  // kRemove's at

  Write(2, kRemove);  // replaced: applied (its line a note), then file 3
  Write(5, kRemove);  // 4 is missing
  r = WaitForInfo(client, [](const wire::DeltaInfo& d) { return d.gap && d.sequence == 3; });
  EXPECT_EQ(Counts(r.value.deltas),
            "base 0 sequence 3 pending 1 files 3 changes 3 notes 1 refusals 1 gap 1/3 overlay 2");
  EXPECT_EQ(r.value.deltas.refused, "");
  EXPECT_EQ(StatusOf(kNew), wire::CheckStatus::kListed);

  // A refused file the operator deletes is no longer reported, without waiting for another
  // file or a RELOAD (the gap stays: 4 is still missing).
  Write(4, kUnknownOp);
  r = WaitForInfo(client, [](const wire::DeltaInfo& d) { return !d.refused.empty(); });
  EXPECT_TRUE(absl::StartsWith(r.value.deltas.refused, DeltaFileName(4) + ":1:"))
      << r.value.deltas.refused;
  ASSERT_EQ(std::remove((deltas_ + "/" + DeltaFileName(4)).c_str()), 0);
  r = WaitForInfo(client, [](const wire::DeltaInfo& d) { return d.refused.empty() && d.gap; });
  EXPECT_EQ(r.value.deltas.refused, "");
  EXPECT_TRUE(r.value.deltas.gap);
}

TEST_F(DaemonDeltaTest, RemovalAndAdditionApplyOnline) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_EQ(StatusOf(kOneCase), wire::CheckStatus::kListed);
  ASSERT_EQ(StatusOf(kNew), wire::CheckStatus::kUnlisted);
  const uint32_t generation = client_->Ping()->generation;

  Write(1, kRemove);
  EXPECT_TRUE(WaitForStatus(kOneCase, wire::CheckStatus::kUnlisted));
  Write(2, kAdd);
  EXPECT_TRUE(WaitForStatus(kNew, wire::CheckStatus::kListed));
  EXPECT_EQ(client_->Ping()->generation, generation + 2);  // a generation per file
  EXPECT_EQ(StatusOf(kOneCase), wire::CheckStatus::kUnlisted);
}

// A pusher that forgot the rename appends to the file in place, a line at a time (each append
// closes it: an inotify event): the file is applied whole once it has settled (delta_settle_ms,
// 1 s), never the lines written so far (x25 finding 1: 1 of 50 changes applied, the rest lost).
TEST_F(DaemonDeltaTest, AFileWrittenInPlaceIsAppliedWholeOnceItSettles) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const std::string path = deltas_ + "/" + DeltaFileName(1);
  const auto append = [&](const std::string& line) {
    std::FILE* f = std::fopen(path.c_str(), "a");
    ASSERT_NE(f, nullptr);
    std::fputs(line.c_str(), f);
    std::fclose(f);
  };
  ASSERT_NO_FATAL_FAILURE(append(kRemove));
  absl::SleepFor(absl::Milliseconds(500));  // a renamed file is served ~200 ms after it lands
  EXPECT_EQ(StatusOf(kOneCase), wire::CheckStatus::kListed) << "applied while being written";
  ASSERT_NO_FATAL_FAILURE(append(kAdd));
  EXPECT_TRUE(WaitForStatus(kNew, wire::CheckStatus::kListed));
  EXPECT_EQ(StatusOf(kOneCase), wire::CheckStatus::kUnlisted);
  EXPECT_TRUE(WaitForLog("applied delta " + DeltaFileName(1) + ": 2 changes"))
      << daemon_->stderr_text();
  EXPECT_TRUE(absl::StrContains(daemon_->stderr_text(), "waiting for delta " + path))
      << daemon_->stderr_text();
  EXPECT_FALSE(absl::StrContains(daemon_->stderr_text(), "changed after it was applied"))
      << daemon_->stderr_text();
}

// An organisation is one subject under both its codes (GB 32100: a credit code's characters
// 9-17 are its organisation code): the sample's 230987613, listed by that old code only, is
// listed when asked by its credit code, and so is one a delta adds by its organisation code.
// Each answer's id is the ID asked.
TEST_F(DaemonDeltaTest, ACreditCodeFindsTheOrganisationListedByItsOrgCode) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto reply = client_->Check({"912304002309876133", "230987613"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  for (const CheckAnswerCopy& a : reply->value) {
    EXPECT_EQ(a.status, wire::CheckStatus::kListed) << a.id;
    EXPECT_EQ(a.name, "鹤岗市龙腾煤业有限责任公司") << a.id;
  }
  EXPECT_EQ(reply->value[0].id, "912304002309876133");
  EXPECT_EQ(reply->value[1].id, "230987613");

  constexpr char kNewCredit[] = "91230400230987621X";  // embeds 230987621, not in the sample
  ASSERT_EQ(StatusOf(kNewCredit), wire::CheckStatus::kUnlisted);
  Write(1,
        R"({"op":"add","caseCode":"（2026）黑0402执89号","iname":"鹤岗市新煤业有限公司",)"
        R"("cardNum":"230987621","partyTypeName":"1","courtName":"鹤岗市向阳区人民法院",)"
        R"("areaName":"黑龙江","gistId":"(2025)黑0402民初13号","gistUnit":"鹤岗市向阳区人民法院",)"
        R"("regDate":"20260310","publishDate":"2026-06-01","duty":"偿还借款50万元",)"
        R"("performance":"全部未履行","performedPart":"暂无","unperformPart":"暂无",)"
        R"("disruptTypeName":"有履行能力而拒不履行生效法律文书确定义务"})"
        "\n");
  EXPECT_TRUE(WaitForStatus(kNewCredit, wire::CheckStatus::kListed));
  EXPECT_EQ(StatusOf("230987621"), wire::CheckStatus::kListed);
}

// The thread that applies deltas runs at a lower priority than the I/O threads (nice 10), so
// that a swap does not take the cores from the queries.
TEST_F(DaemonDeltaTest, RefusedFileKeepsServingAndHoldsBackLaterFilesUntilReplaced) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Write(1, kRemove + kUnknownOp);
  ASSERT_TRUE(WaitForLog("delta refused")) << daemon_->stderr_text();
  EXPECT_TRUE(absl::StrContains(daemon_->stderr_text(), DeltaFileName(1) + ":2:"));
  Write(2, kAdd);
  absl::SleepFor(absl::Milliseconds(300));  // time enough to apply file 2 if it did not wait
  EXPECT_EQ(StatusOf(kOneCase), wire::CheckStatus::kListed);  // nothing of file 1 applies
  EXPECT_EQ(StatusOf(kNew), wire::CheckStatus::kUnlisted);    // file 2 waits behind it

  Write(1, kRemove);  // the court replaces it
  EXPECT_TRUE(WaitForStatus(kOneCase, wire::CheckStatus::kUnlisted));
  EXPECT_TRUE(WaitForStatus(kNew, wire::CheckStatus::kListed));
}

// x30 #7: shixind never serves an empty list, its deltas' included: a file that would unlist
// the last listed subjects is refused at start (the base serves) and online (the list before
// it serves on), the log saying why.
TEST_F(DaemonDeltaTest, AFileThatWouldEmptyTheListIsRefusedAtStartAndOnline) {
  std::string all_but_one;
  const std::string all = shixin::testing::RemovalsOfEveryCase(
      Debtors(), "2026-06-09T15:30:00+08:00", kOneCase, &all_but_one);
  Write(1, all);
  ASSERT_NO_FATAL_FAILURE(Start());
  EXPECT_EQ(StatusOf(kOneCase), wire::CheckStatus::kListed);
  EXPECT_EQ(StatusOf("11010519491231002X"), wire::CheckStatus::kListed);
  EXPECT_TRUE(absl::StrContains(daemon_->stderr_text(),
                                "delta refused, it and the files after it wait until it is "
                                "replaced: " +
                                    DeltaFileName(1) + ": it unlists the last 12 subject(s)"))
      << daemon_->stderr_text();
  Write(1, all_but_one);
  ASSERT_TRUE(WaitForStatus("11010519491231002X", wire::CheckStatus::kUnlisted));
  EXPECT_EQ(StatusOf(kOneCase), wire::CheckStatus::kListed);
  Write(2, kRemove);  // 高丽's case, the last one listed
  ASSERT_TRUE(WaitForLog(DeltaFileName(2) + ": it unlists the last 1 subject(s) listed at "))
      << daemon_->stderr_text();
  EXPECT_EQ(StatusOf(kOneCase), wire::CheckStatus::kListed);
}

// `shixin reload` with a delta file refused: the reload succeeds but the list does not advance,
// so it names the file (file:line: reason) and exits 4, and exits 0 once the file is replaced.
TEST_F(DaemonDeltaTest, ShixinReloadFailsWhileADeltaFileIsRefused) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Write(1, kRemove + kUnknownOp);
  ASSERT_TRUE(WaitForLog("delta refused")) << daemon_->stderr_text();
  Write(2, kAdd);
  const std::vector<std::string> reload = {BinDir() + "/shixin", "reload", "--server",
                                           daemon_->address()};
  ProcessResult r = RunProcess(reload);
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "reloaded generation")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.err, "a delta file is refused: " + DeltaFileName(1) + ":2:"))
      << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "(2 pending)")) << r.err;

  Write(1, kRemove);  // the court replaces it
  ASSERT_TRUE(WaitForStatus(kNew, wire::CheckStatus::kListed));
  r = RunProcess(reload);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
}

// max_delta_mb reaches the applier: a file over it is refused unread, and INFO says why.
TEST_F(DaemonDeltaTest, AFileOverMaxDeltaMbIsRefusedUntilReplaced) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--deltas-dir", deltas_, "--max-delta-mb", "1"}));
  std::string large;
  while (large.size() <= (1u << 20)) large += kRemove;  // the removal, then notes
  Write(1, large);
  ASSERT_TRUE(WaitForLog("delta refused")) << daemon_->stderr_text();
  auto v2 = daemon_->Connect(absl::Seconds(5), /*hello=*/true);
  ASSERT_TRUE(v2.ok()) << v2.status();
  Reply<wire::InfoResponse> r =
      WaitForInfo(**v2, [](const wire::DeltaInfo& d) { return d.refusals == 1; });
  EXPECT_TRUE(absl::StrContains(r.value.deltas.refused,
                                DeltaFileName(1) + ": more than 1048576 bytes (max_delta_mb)"))
      << r.value.deltas.refused;
  EXPECT_EQ(StatusOf(kOneCase), wire::CheckStatus::kListed);

  Write(1, kRemove);
  EXPECT_TRUE(WaitForStatus(kOneCase, wire::CheckStatus::kUnlisted));
}

// A deltas_dir deleted (or moved away) loses its inotify watch: INFO says the directory is
// missing, and once it is made again its files apply, the later ones too.
TEST_F(DaemonDeltaTest, ADeltasDirDeletedAndMadeAgainIsWatchedAgain) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto v2 = daemon_->Connect(absl::Seconds(5), /*hello=*/true);
  ASSERT_TRUE(v2.ok()) << v2.status();
  Client& client = **v2;
  std::filesystem::remove_all(deltas_);
  Reply<wire::InfoResponse> r =
      WaitForInfo(client, [](const wire::DeltaInfo& d) { return !d.delta_error.empty(); });
  EXPECT_TRUE(absl::StrContains(r.value.deltas.delta_error, deltas_)) << r.value.deltas.delta_error;
  EXPECT_TRUE(WaitForLog("no delta file is applied until it is back")) << daemon_->stderr_text();

  ASSERT_EQ(::mkdir(deltas_.c_str(), 0755), 0);
  Write(1, kRemove);
  EXPECT_TRUE(WaitForStatus(kOneCase, wire::CheckStatus::kUnlisted));
  Write(2, kAdd);  // lands after the directory is watched again
  EXPECT_TRUE(WaitForStatus(kNew, wire::CheckStatus::kListed));
  r = WaitForInfo(client, [](const wire::DeltaInfo& d) { return d.delta_error.empty(); });
  EXPECT_EQ(r.value.deltas.delta_error, "");

  // Deleted and made again at once, as `rm -rf deltas; mkdir deltas` does (the watcher may see
  // the new directory at once, or a second later).
  std::filesystem::remove_all(deltas_);
  ASSERT_EQ(::mkdir(deltas_.c_str(), 0755), 0);
  Write(3, kRemove);
  r = WaitForInfo(client, [](const wire::DeltaInfo& d) { return d.sequence == 3; });
  EXPECT_EQ(r.value.deltas.sequence, 3u);
}

TEST_F(DaemonDeltaTest, GapIsReportedAndNotSkipped) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Write(2, kAdd);
  ASSERT_TRUE(WaitForLog("delta gap")) << daemon_->stderr_text();
  EXPECT_TRUE(absl::StrContains(daemon_->stderr_text(), DeltaFileName(1) + " is missing"));
  EXPECT_EQ(StatusOf(kNew), wire::CheckStatus::kUnlisted);

  Write(1, kRemove);
  EXPECT_TRUE(WaitForStatus(kOneCase, wire::CheckStatus::kUnlisted));
  EXPECT_TRUE(WaitForStatus(kNew, wire::CheckStatus::kListed));
}

// A pusher that names a file by the date instead of its sequence is told, not silently ignored.
TEST_F(DaemonDeltaTest, AMisnamedFileIsWarnedAboutAndNotApplied) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(WriteFileAtomically(deltas_ + "/2026-06-09.ndjson", kRemove).ok());
  ASSERT_TRUE(
      WaitForLog("2026-06-09.ndjson is not applied: a delta file is named by its "
                 "sequence number in 20 digits"))
      << daemon_->stderr_text();
  EXPECT_EQ(StatusOf(kOneCase), wire::CheckStatus::kListed);
  Write(1, kRemove);  // named right, it applies
  EXPECT_TRUE(WaitForStatus(kOneCase, wire::CheckStatus::kUnlisted));
}

// A file numbered 0 can never apply (a base without deltas counts as 0): a misnamed file, warned
// about, not silently skipped as if applied.
TEST_F(DaemonDeltaTest, AFileNumberedZeroIsWarnedAboutAndNotApplied) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Write(0, kRemove);
  ASSERT_TRUE(WaitForLog(DeltaFileName(0) + " is not applied: sequence numbers start at 1"))
      << daemon_->stderr_text();
  EXPECT_EQ(StatusOf(kOneCase), wire::CheckStatus::kListed);
}

// A removal reported long after its `at` changes as-of answers about instants shixind answered
// before it came: the log says so, naming the file, the line, the case and how late it is.
TEST_F(DaemonDeltaTest, AChangeReportedLateIsLogged) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Write(1, kRemove);  // at 2026-06-09T15:30:00+08:00
  ASSERT_TRUE(WaitForLog(DeltaFileName(1) +
                         ":1: remove: case （2017）黑04执31号 of 2304071991****0045: at "
                         "2026-06-09T15:30:00+08:00, "))
      << daemon_->stderr_text();
  EXPECT_TRUE(absl::StrContains(daemon_->stderr_text(),
                                "as-of answers after 2026-06-09T15:30:00+08:00 change"));
  EXPECT_EQ(StatusOf(kOneCase), wire::CheckStatus::kUnlisted);
}

// Finding 7 of /tmp/x31: a remove dated before the case's correction applies at the correction,
// and answers about an instant before it, binary (DETAIL) and HTTP, show the case removed then
// with its reason, not only "corrected".
TEST(DaemonDeltaHistoryTest, ARemoveAtACorrectionShowsAsTheRemovalInAsOfAnswers) {
  ScratchDir scratch;
  const std::string deltas = scratch.Path("deltas");
  ASSERT_EQ(::mkdir(deltas.c_str(), 0755), 0);
  ASSERT_TRUE(
      WriteFileAtomically(
          deltas + "/" + DeltaFileName(1),
          R"({"op":"correct","caseCode":"(2015)鹤向法执字第00232号","iname":"张秀兰",)"
          R"("cardNum":"11010519491231002X","partyTypeName":"0","courtName":"鹤岗市向阳区人民法院",)"
          R"("publishDate":"2015-09-08","duty":"偿还借款本金8万元及利息",)"
          R"("at":"2026-06-10T10:00:00+08:00"})"
          "\n")
          .ok());
  ASSERT_TRUE(
      WriteFileAtomically(
          deltas + "/" + DeltaFileName(2),
          R"({"op":"remove","caseCode":"(2015)鹤向法执字第00232号","cardNum":"11010519491231002X",)"
          R"("reason":"performed","at":"2026-06-10T09:00:00+08:00"})"
          "\n")
          .ok());
  std::unique_ptr<Daemon> daemon = StartHttpDaemon(SampleDir(), {"--deltas-dir", deltas});
  ASSERT_NE(daemon, nullptr);
  constexpr int64_t kHalfPastNine = 1781055000, kTen = 1781056800;  // 2026-06-10, +08:00
  auto client = daemon->Connect(absl::Seconds(5), /*hello=*/true);
  ASSERT_TRUE(client.ok()) << client.status();
  // Both files are applied once the case no longer counts now.
  const auto counts_now = [&] {
    auto now = (*client)->Detail("11010519491231002X");
    EXPECT_TRUE(now.ok()) << now.status();
    return !now.ok() ||
           std::any_of(now->value.cases.begin(), now->value.cases.end(), [](const CaseInfo& c) {
             return c.case_code == "(2015)鹤向法执字第00232号";
           });
  };
  const absl::Time deadline = absl::Now() + kWait;
  while (counts_now() && absl::Now() < deadline) absl::SleepFor(kPoll);
  ASSERT_FALSE(counts_now()) << daemon->stderr_text();
  auto detail = (*client)->Detail("11010519491231002X", kHalfPastNine);
  ASSERT_TRUE(detail.ok()) << detail.status();
  bool found = false;
  for (const CaseInfo& c : detail->value.cases) {
    if (c.case_code != "(2015)鹤向法执字第00232号") continue;
    found = true;
    EXPECT_EQ(c.ended_at, kTen);
    EXPECT_EQ(c.end, EndReason::kPerformed);
  }
  EXPECT_TRUE(found);
  const std::optional<HttpResponse> r = HttpRoundTrip(
      *daemon, HttpGet("/v1/subjects/11010519491231002X?asOf=2026-06-10T09:30:00%2B08:00"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200) << r->head << r->body;
  EXPECT_TRUE(
      absl::StrContains(r->body, R"("ended_at":"2026-06-10T10:00:00+08:00","end":"performed")"))
      << r->body;
  EXPECT_FALSE(absl::StrContains(r->body, "\"corrected\"")) << r->body;
}

TEST_F(DaemonDeltaTest, QueriesAcrossManyDeltaGenerationsNeverFail) {
  ASSERT_NO_FATAL_FAILURE(Start());
  std::atomic<bool> done{false};
  std::atomic<int> errors{0}, relisted{0}, answers{0};
  std::thread reader([&] {
    auto client = daemon_->Connect();
    if (!client.ok()) {
      ++errors;
      return;
    }
    bool unlisted = false;
    while (!done.load()) {
      auto reply = (*client)->Check({kOneCase, kNew});
      if (!reply.ok()) {
        ++errors;
        return;
      }
      ++answers;
      const wire::CheckStatus s = reply->value[0].status;
      if (s == wire::CheckStatus::kListed && unlisted) ++relisted;  // generations go back
      if (s == wire::CheckStatus::kUnlisted) unlisted = true;
    }
  });
  Write(1, kRemove);
  for (uint64_t sequence = 2; sequence <= 20; ++sequence) Write(sequence, kRemove);  // notes
  Write(21, kAdd);
  EXPECT_TRUE(WaitForStatus(kNew, wire::CheckStatus::kListed));
  done = true;
  reader.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(relisted.load(), 0);
  EXPECT_GT(answers.load(), 0);
  EXPECT_EQ(StatusOf(kOneCase), wire::CheckStatus::kUnlisted);
}

TEST_F(DaemonDeltaTest, RestartReplaysTheFilesToTheSameAnswers) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Write(1, kRemove);
  Write(2, kAdd);
  ASSERT_TRUE(WaitForStatus(kNew, wire::CheckStatus::kListed));
  ASSERT_EQ(StatusOf(kOneCase), wire::CheckStatus::kUnlisted);
  const std::vector<std::string> ids = {kOneCase, kNew, "11010519491231002X", "230402198503150611",
                                        "91230402MA1B7Q2C9U"};
  const std::string before = Answers(ids);

  ASSERT_TRUE(daemon_->Signal(SIGTERM).ok());
  ASSERT_TRUE(daemon_->WaitForExit(absl::Seconds(5)).ok());
  ASSERT_NO_FATAL_FAILURE(Start());
  EXPECT_EQ(Answers(ids), before);  // replayed before serving: no wait
}

// With a state_dir the applied deltas are kept in its overlay checkpoint: a restart reads it
// instead of replaying the files it holds, and goes on with the next file. It takes it only
// while those files are all in deltas_dir (moved away here, archived too early: a restart
// without the checkpoint would answer otherwise); a damaged checkpoint is named in the log too,
// and the files are replayed instead.
TEST_F(DaemonDeltaTest, RestartReadsTheCheckpointInsteadOfReplaying) {
  const std::string state = scratch_.Path("state");
  const std::vector<std::string> flags = {"--deltas-dir",         deltas_, "--state-dir", state,
                                          "--checkpoint-seconds", "1"};
  ASSERT_NO_FATAL_FAILURE(StartDaemon(flags));
  Write(1, kRemove);
  Write(2, kAdd);
  ASSERT_TRUE(WaitForStatus(kNew, wire::CheckStatus::kListed));
  ASSERT_TRUE(WaitForLog("written: 2 subjects at delta 2, "));  // written within a second
  const std::vector<std::string> ids = {kOneCase, kNew, "11010519491231002X"};
  const std::string before = Answers(ids);
  // When file 2 was applied: INFO says so after the restart too (before: "never").
  const auto applied_time = [this] {
    auto v2 = daemon_->Connect(absl::Seconds(5), /*hello=*/true);
    if (!v2.ok()) return int64_t{-1};
    return WaitForInfo(**v2, [](const wire::DeltaInfo& d) { return d.sequence == 2; })
        .value.deltas.last_delta_time;
  };
  const int64_t applied_at = applied_time();
  EXPECT_GT(applied_at, 0);
  ASSERT_TRUE(daemon_->Signal(SIGTERM).ok());
  ASSERT_TRUE(daemon_->WaitForExit(absl::Seconds(5)).ok());

  // A write cut short by a kill left its temporary file: the restart removes it.
  const std::string stale = state + "/overlay.checkpoint.tmp.Kill9abc";
  ASSERT_TRUE(WriteFileAtomically(stale, "1234567").ok());
  ASSERT_NO_FATAL_FAILURE(StartDaemon(flags));
  EXPECT_TRUE(absl::StrContains(daemon_->stderr_text(), "2 subjects at delta 2, read in"))
      << daemon_->stderr_text();
  EXPECT_TRUE(absl::StrContains(daemon_->stderr_text(),
                                "removed 1 temporary overlay checkpoint files left by writes cut "
                                "short (the daemon killed during one), 7 bytes freed: "
                                "overlay.checkpoint.tmp.Kill9abc"))
      << daemon_->stderr_text();
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_EQ(Answers(ids), before);
  EXPECT_EQ(applied_time(), applied_at);
  absl::SleepFor(absl::Milliseconds(1500));  // a checkpointer's turn: the file holds it all
  EXPECT_FALSE(absl::StrContains(daemon_->stderr_text(), " written: ")) << daemon_->stderr_text();
  Write(3, kRemove);  // a late message: noted, applied as file 3
  auto v2 = daemon_->Connect(absl::Seconds(5), /*hello=*/true);
  ASSERT_TRUE(v2.ok()) << v2.status();
  auto info = WaitForInfo(**v2, [](const wire::DeltaInfo& d) { return d.sequence == 3; });
  EXPECT_EQ(Counts(info.value.deltas),
            "base 0 sequence 3 pending 0 files 1 changes 1 notes 1 refusals 0 gap 0/0 overlay 2");
  EXPECT_TRUE(WaitForLog("written: 2 subjects at delta 3, "));
  ASSERT_TRUE(daemon_->Signal(SIGTERM).ok());
  ASSERT_TRUE(daemon_->WaitForExit(absl::Seconds(5)).ok());

  // Files 1 and 2 archived too early: replayed from the base, which waits at the gap.
  const std::string held = scratch_.Path("held");
  ASSERT_EQ(::mkdir(held.c_str(), 0755), 0);
  const auto move_files = [](const std::string& from, const std::string& to) {
    for (uint64_t sequence : {1, 2}) {
      const std::string name = DeltaFileName(sequence);
      ASSERT_EQ(
          std::rename(absl::StrCat(from, "/", name).c_str(), absl::StrCat(to, "/", name).c_str()),
          0);
    }
  };
  ASSERT_NO_FATAL_FAILURE(move_files(deltas_, held));
  ASSERT_NO_FATAL_FAILURE(StartDaemon(flags));
  EXPECT_TRUE(absl::StrContains(
      daemon_->stderr_text(),
      absl::StrCat("overlay checkpoint not used, the delta files are replayed: it holds the deltas "
                   "up to 3, but ",
                   DeltaFileName(1), ", ", DeltaFileName(2), " are missing from ", deltas_)))
      << daemon_->stderr_text();
  EXPECT_EQ(StatusOf(kOneCase), wire::CheckStatus::kListed);  // as without the checkpoint
  EXPECT_EQ(StatusOf(kNew), wire::CheckStatus::kUnlisted);
  v2 = daemon_->Connect(absl::Seconds(5), /*hello=*/true);
  ASSERT_TRUE(v2.ok()) << v2.status();
  info = WaitForInfo(**v2, [](const wire::DeltaInfo& d) { return d.gap; });
  EXPECT_EQ(info.value.deltas.sequence, 0u);
  ASSERT_TRUE(daemon_->Signal(SIGTERM).ok());
  ASSERT_TRUE(daemon_->WaitForExit(absl::Seconds(5)).ok());

  // One byte of the checkpoint changed: replayed from the files, which are back.
  ASSERT_NO_FATAL_FAILURE(move_files(held, deltas_));
  const std::string checkpoint = state + "/overlay.checkpoint";
  absl::StatusOr<std::string> bytes = ReadFile(checkpoint);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  (*bytes)[bytes->size() / 2] ^= 1;
  ASSERT_TRUE(WriteFileAtomically(checkpoint, *bytes).ok());
  ASSERT_NO_FATAL_FAILURE(StartDaemon(flags));
  EXPECT_TRUE(absl::StrContains(daemon_->stderr_text(),
                                "overlay checkpoint not used, the delta files are replayed"))
      << daemon_->stderr_text();
  EXPECT_EQ(Answers(ids), before);
}

TEST_F(DaemonDeltaTest, ReloadRebuildsTheOverlayOnTheNewBase) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Write(1, kRemove);
  ASSERT_TRUE(WaitForStatus(kOneCase, wire::CheckStatus::kUnlisted));
  auto reload = client_->Reload();
  ASSERT_TRUE(reload.ok()) << reload.status();
  EXPECT_EQ(StatusOf(kOneCase), wire::CheckStatus::kUnlisted);  // the new base, with file 1
}

// x30 #4: the manifest of a public export of the list the daemon serves (its base and delta
// files) names that list as INFO does: the base's version and source time, the delta sequence
// of the base and the last one applied.
TEST_F(DaemonDeltaTest, ThePublicExportsManifestNamesTheListAsInfoDoes) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto v2 = daemon_->Connect(absl::Seconds(5), /*hello=*/true);
  ASSERT_TRUE(v2.ok()) << v2.status();
  Write(1, kRemove);
  const Reply<wire::InfoResponse> info =
      WaitForInfo(**v2, [](const wire::DeltaInfo& d) { return d.sequence == 1; });
  ASSERT_EQ(info.value.deltas.sequence, 1u);
  const std::string out = scratch_.Path("public.ndjson");
  const ProcessResult run = RunProcess({BinDir() + "/shixin", "export", "--public", "--data", dir_,
                                        "--deltas", deltas_, "--format", "ndjson", "-o", out});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const absl::StatusOr<std::string> manifest = ReadFile(out + ".manifest.json");
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  for (const std::string& field :
       {absl::StrFormat("\"version\": \"%016x\"", info.value.snapshot.version),
        absl::StrCat("\"base_source_time\": \"", FormatInstant(info.value.snapshot.source_time),
                     "\""),
        absl::StrCat("\"base_delta_sequence\": ", info.value.deltas.base_sequence),
        absl::StrCat("\"delta_sequence\": ", info.value.deltas.sequence)}) {
    EXPECT_TRUE(absl::StrContains(*manifest, field)) << field << " in " << *manifest;
  }
}

}  // namespace
}  // namespace shixin::e2e
