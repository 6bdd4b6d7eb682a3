// Tests of Reloader (load, validate, swap; a failed reload keeps the old list; deltas during a
// reload) and CheckShrink.
#include "daemon/reloader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_format.h"
#include "base/thread.h"
#include "core/builder.h"
#include "core/delta.h"
#include "core/id.h"
#include "core/list.h"
#include "core/overlay_checkpoint.h"
#include "core/test_util.h"
#include "core/validity.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/operator_messages.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::SourceDir;

// A one-shot event. (Not Event: Debian's Abseil is not instrumented for
// ThreadSanitizer, which would then report the ordering it provides as races.)
class Event {
 public:
  // Notifies under the lock: the waiter may destroy the event as soon as it wakes.
  void Notify() {
    std::lock_guard<std::mutex> lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return set_; });
  }
  // Waits at most `timeout`; returns whether it was notified.
  bool WaitFor(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return set_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

// A copy of the sample list in a temporary directory, which the tests may spoil.
class ReloaderTest : public ::testing::Test {
 protected:
  ReloaderTest()
      : dir_(::testing::TempDir() + "reloader_test_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    for (const char* f : {"debtors.ndjson", "relations.ndjson"}) {
      std::filesystem::copy_file(SourceDir() + "/data/sample/" + f, dir_ + "/" + f);
    }
  }
  ~ReloaderTest() override { std::filesystem::remove_all(dir_); }

  DatasetSource Source() const {
    return DatasetSource{dir_, SourceDir() + "/data/measures/hegang-2018.json", 0};
  }

  // Returns Source() with a deltas_dir holding one delta file, sequence 1, of `lines`.
  DatasetSource SourceWithDelta(const std::string& lines) const {
    DatasetSource source = Source();
    source.deltas_dir = dir_ + "/deltas";
    std::filesystem::create_directories(source.deltas_dir);
    std::ofstream(source.deltas_dir + "/" + DeltaFileName(1)) << lines;
    return source;
  }

  void Spoil() { std::ofstream(dir_ + "/debtors.ndjson", std::ios::app) << "{not json\n"; }

  // Requests a reload and waits for its result.
  static ReloadResult ReloadAndWait(Reloader& reloader,
                                    ReloadRequest request = ReloadRequest{"test"}) {
    Event done;
    ReloadResult result;
    EXPECT_TRUE(reloader.Request(std::move(request), [&](const ReloadResult& r) {
      result = r;
      done.Notify();
    }));
    done.Wait();
    return result;
  }

  // Copies the sample list over whatever the test left.
  void CopySample() const {
    for (const char* f : {"debtors.ndjson", "relations.ndjson"}) {
      std::filesystem::copy_file(SourceDir() + "/data/sample/" + f, dir_ + "/" + f,
                                 std::filesystem::copy_options::overwrite_existing);
    }
  }

  // Keeps the first `lines` lines of debtors.ndjson (written beside it, then renamed over it).
  void CutDebtorsTo(int lines) const {
    std::ifstream in(dir_ + "/debtors.ndjson");
    std::ofstream out(dir_ + "/debtors.tmp");
    std::string line;
    for (int i = 0; i < lines && std::getline(in, line); ++i) out << line << "\n";
    out.close();
    std::filesystem::rename(dir_ + "/debtors.tmp", dir_ + "/debtors.ndjson");
  }

  // Keeps the shortest prefix of debtors.ndjson that lists `subjects` subjects.
  void CutDebtorsToSubjects(uint64_t subjects) const {
    std::ifstream in(dir_ + "/debtors.ndjson");
    std::string line;
    int lines = 0;
    while (std::getline(in, line)) ++lines;
    for (int n = 1; n <= lines; ++n) {
      CutDebtorsTo(n);
      absl::StatusOr<std::unique_ptr<Dataset>> d = LoadDataset(Source());
      if (d.ok() && (*d)->snapshot->info().subjects == subjects) return;
      CopySample();
    }
    ADD_FAILURE() << "no prefix of the sample lists " << subjects << " subjects";
  }

  // A reload of a list cut short, and what the holder serves after it.
  struct CutReload {
    ReloadResult result;
    uint64_t subjects = 0;
    uint32_t generation = 0;
  };
  // Loads a fresh copy of the sample with `max_shrink`, cuts it with `cut` and reloads.
  CutReload ReloadAfterCut(double max_shrink, absl::FunctionRef<void()> cut) const {
    CopySample();
    SnapshotHolder holder;
    Reloader reloader(Source(), &holder, max_shrink);
    if (const absl::Status s = reloader.LoadFirst(); !s.ok()) {
      ADD_FAILURE() << s;
      return {};
    }
    if (const absl::Status s = reloader.Start(); !s.ok()) {
      ADD_FAILURE() << s;
      return {};
    }
    cut();
    CutReload out{ReloadAndWait(reloader), Subjects(holder), holder.generation()};
    reloader.Stop();
    return out;
  }

  static uint64_t Subjects(const SnapshotHolder& holder) {
    SnapshotHolder::ReadSection read(holder);
    return read.dataset()->snapshot->info().subjects;
  }
  static uint64_t Relations(const SnapshotHolder& holder) {
    SnapshotHolder::ReadSection read(holder);
    return read.dataset()->snapshot->info().relations;
  }

  // Loads `source` on another thread and returns its error. If the load is still running after
  // 5 s (blocked opening the FIFO `fifo`), opens `fifo` for writing to let it go, and fails.
  static std::string LoadUnblocked(const DatasetSource& source, const std::string& fifo) {
    auto load = std::async(std::launch::async, [&] { return LoadDataset(source).status(); });
    if (load.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
      ADD_FAILURE() << "the load blocked for 5 s on " << fifo;
      if (!fifo.empty()) ::close(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK));
    }
    const absl::Status s = load.get();
    EXPECT_FALSE(s.ok());
    return std::string(s.message());
  }

  // The sample's 高丽 and 王建国, each listed by one case.
  static constexpr char kGaoLi[] = "230407199103150045";
  static constexpr char kGaoLiCase[] = "（2017）黑04执31号";
  static constexpr char kWangJianguo[] = "230402198503150611";
  static constexpr char kWangJianguoCase[] = "（2020）黑0403执567号";

  // Writes delta file `sequence` into `deltas`: the removal of case `case_code` of `card_num`.
  static void WriteRemoval(const std::string& deltas, uint64_t sequence, std::string_view case_code,
                           std::string_view card_num) {
    std::ofstream(deltas + "/" + DeltaFileName(sequence))
        << absl::StrFormat(R"({"op":"remove","caseCode":"%s","cardNum":"%s",)"
                           R"("reason":"performed","at":"2026-06-09T15:30:00+08:00"})"
                           "\n",
                           case_code, card_num);
  }

  // Returns a delta line: `op` ("relate" or "unrelate") of `person` as `role` of the sample's
  // company 91350503MA2XK7R352, at `at`.
  static std::string RoleLine(std::string_view op, std::string_view person, std::string_view role,
                              std::string_view at) {
    return absl::StrFormat(
        R"({"op":"%s","orgId":"91350503MA2XK7R352","personId":"%s","personName":"赵六",)"
        R"("role":"%s","at":"%s"})"
        "\n",
        op, person, role, at);
  }

  // Returns whether the generation `holder` serves lists `id` now.
  static bool IsListed(const SnapshotHolder& holder, std::string_view id) {
    SnapshotHolder::ReadSection read(holder);
    const ListView list = read.dataset()->list();
    return list.IsListed(list.Find(*ParseId(id)), NowSeconds());
  }

  // While a reload is held (`reloaded` not notified yet), writes delta file `sequence` removing
  // 高丽's case, asks for it as the watcher would, and expects it applied at once, as generation
  // 2, while the reload still waits.
  static void ExpectRemovalAppliesAtOnce(Reloader& reloader, const SnapshotHolder& holder,
                                         const std::string& deltas, uint64_t sequence,
                                         Event& reloaded) {
    WriteRemoval(deltas, sequence, kGaoLiCase, kGaoLi);
    struct Outcome {
      Event applied;
      ReloadResult result;
    };
    // Shared with the callback: if it comes late, it comes after this function returned.
    auto delta = std::make_shared<Outcome>();
    ASSERT_TRUE(reloader.Request(ReloadRequest{"delta", false, /*deltas_only=*/true},
                                 [delta](const ReloadResult& r) {
                                   delta->result = r;
                                   delta->applied.Notify();
                                 }));
    const bool in_time = delta->applied.WaitFor(std::chrono::seconds(10));
    EXPECT_TRUE(in_time) << "the delta waited for the reload";
    EXPECT_FALSE(reloaded.WaitFor(std::chrono::milliseconds(0))) << "the reload was let go early";
    if (!in_time) return;
    EXPECT_TRUE(delta->result.status.ok()) << delta->result.status;
    EXPECT_EQ(delta->result.generation, 2u);
    EXPECT_FALSE(IsListed(holder, kGaoLi));
  }

  ReloadStatus Status(const SnapshotHolder& holder) {
    SnapshotHolder::ReadSection read(holder);
    return read.reload_status();
  }

  // Asks `reloader` for a reload that a test's hook holds until let_go_; its outcome is reload_,
  // and reloaded_ is notified with it.
  bool RequestHeldReload(Reloader& reloader) {
    return reloader.Request("test", [this](const ReloadResult& r) {
      reload_ = r;
      reloaded_.Notify();
    });
  }
  // Lets the held reload go however the test ends (an ASSERT returns early): declared after the
  // Reloader, it runs before the Reloader joins its threads.
  struct LetGo {
    Event* event;
    ~LetGo() { event->Notify(); }
  };

  RcuThread rcu_;
  const std::string dir_;
  // The held reload's; members, so that they outlive the Reloader's threads.
  Event let_go_;
  Event reloaded_;
  ReloadResult reload_;
};

TEST_F(ReloaderTest, FirstLoadThenReload) {
  SnapshotHolder holder;
  Reloader reloader(Source(), &holder);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  EXPECT_EQ(holder.generation(), 1u);
  {
    SnapshotHolder::ReadSection read(holder);
    EXPECT_EQ(read.dataset()->snapshot->info().subjects, 12u);
    EXPECT_EQ(read.dataset()->catalog.id(), "hegang-2018");
    EXPECT_EQ(read.dataset()->data_source, dir_);
    EXPECT_GT(read.dataset()->source_time, 0);
  }
  ASSERT_TRUE(reloader.Start().ok());
  const ReloadResult r = ReloadAndWait(reloader);
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.generation, 2u);
  EXPECT_EQ(holder.generation(), 2u);
  EXPECT_EQ(holder.released(), 1u);
  EXPECT_EQ(Status(holder).state, wire::ReloadState::kOk);
  EXPECT_THAT(Status(holder).message, HasSubstr("generation 2"));
}

// Data files dated in the future make the list as fresh as its load, not as then, and say so.
TEST_F(ReloaderTest, ASourceTimeInTheFutureCountsFromTheLoad) {
  const int64_t ahead = NowSeconds() + 2 * 86400;
  const timespec times[2] = {{ahead, 0}, {ahead, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir_ + "/debtors.ndjson").c_str(), times, 0), 0);
  ::testing::internal::CaptureStderr();
  absl::StatusOr<std::unique_ptr<Dataset>> d = LoadDataset(Source());
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_LE((*d)->source_time, NowSeconds());
  EXPECT_THAT(log, HasSubstr("data dir " + dir_ + ": its source time " + FormatInstant(ahead) +
                             " is in the future"));
}

// The sample's four cases for grounds (2)-(6) only without termEnd count on, and the load logs
// one note saying so, at the start and on each reload from the data directory.
TEST_F(ReloaderTest, TheLoadNotesCasesForFixedTermGroundsWithoutATermEnd) {
  ::testing::internal::CaptureStderr();
  absl::StatusOr<std::unique_ptr<Dataset>> d = LoadDataset(Source());
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(log, HasSubstr("note: debtors.ndjson:3: 4 cases for grounds (2)-(6) only have no "
                             "termEnd: they count until the court removes them, though SPC "
                             "rules Art. 2 give such a listing 2 years (（2020）黑0403执567号 "
                             "since 2020-10-21, (2021)浙0111执恢286号 since 2021-05-27, （2023）"
                             "黑0402执1024号 since 2023-08-15 and 1 more)"));
  // Counted on, not ended: 王建国 (listed 2020-10-21 for 违反财产报告制度) is listed now.
  const Snapshot& snap = *(*d)->snapshot;
  const absl::StatusOr<Id> wang = ParseId("230402198503150611");
  ASSERT_TRUE(wang.ok());
  EXPECT_TRUE(snap.IsListed(snap.Find(*wang), NowSeconds()));
}

TEST_F(ReloaderTest, FailedReloadKeepsTheOldList) {
  SnapshotHolder holder;
  Reloader reloader(Source(), &holder);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  ASSERT_TRUE(reloader.Start().ok());
  Spoil();
  const ReloadResult r = ReloadAndWait(reloader);
  EXPECT_TRUE(absl::IsAborted(r.status)) << r.status;
  EXPECT_EQ(r.generation, 1u);
  EXPECT_THAT(r.message, HasSubstr("debtors.ndjson"));
  EXPECT_EQ(holder.generation(), 1u);
  EXPECT_EQ(holder.released(), 0u);
  EXPECT_EQ(Status(holder).state, wire::ReloadState::kFailed);
  SnapshotHolder::ReadSection read(holder);
  EXPECT_EQ(read.dataset()->snapshot->info().subjects, 12u);
}

// Requests are never refused: those queued while the reload thread is busy (here: before it
// starts, then from inside a done callback) are served together by one more reload.
TEST_F(ReloaderTest, QueuedRequestsAreCoalescedIntoOneReload) {
  SnapshotHolder holder;
  Reloader reloader(Source(), &holder);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  constexpr int kLater = 10;
  std::mutex mu;
  std::vector<uint32_t> first, later;  // the generations each request was answered with
  Event done;
  const auto answer = [&](std::vector<uint32_t>* to) {
    return [&, to](const ReloadResult& r) {
      std::lock_guard<std::mutex> lock(mu);
      EXPECT_TRUE(r.status.ok()) << r.status;
      to->push_back(r.generation);
      if (later.size() == kLater) done.Notify();
    };
  };
  ASSERT_TRUE(reloader.Request("first", [&](const ReloadResult& r) {
    answer (&first)(r);
    // The reload thread is busy until this returns: these all wait for the next reload.
    for (int i = 0; i < kLater; ++i) {
      EXPECT_TRUE(reloader.Request(ReloadRequest{absl::StrFormat("later %d", i)}, answer(&later)));
    }
  }));
  ASSERT_TRUE(reloader.Request("second", answer(&first)));  // queued, not refused
  ASSERT_TRUE(reloader.Start().ok());
  done.Wait();
  EXPECT_THAT(first, ::testing::ElementsAre(2u, 2u));
  EXPECT_EQ(later, std::vector<uint32_t>(kLater, 3u));
  EXPECT_EQ(reloader.reloads(), 2u);
  EXPECT_EQ(holder.generation(), 3u);
  // Free again once done.
  EXPECT_EQ(ReloadAndWait(reloader).generation, 4u);
}

TEST_F(ReloaderTest, StopCompletesAQueuedRequest) {
  SnapshotHolder holder;
  Reloader reloader(Source(), &holder);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  ReloadResult result;
  ASSERT_TRUE(reloader.Request("late", [&](const ReloadResult& r) { result = r; }));
  reloader.Stop();
  EXPECT_TRUE(absl::IsUnavailable(result.status)) << result.status;
  EXPECT_FALSE(reloader.Request("after stop", nullptr));
}

TEST_F(ReloaderTest, FirstLoadFailuresPublishNothing) {
  SnapshotHolder holder;
  Spoil();
  Reloader reloader(Source(), &holder);
  const absl::Status s = reloader.LoadFirst();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("debtors.ndjson"));
  EXPECT_EQ(holder.generation(), 0u);

  DatasetSource missing = Source();
  missing.catalog_path = dir_ + "/no-catalog.json";
  EXPECT_THAT(Reloader(missing, &holder).LoadFirst().message(), HasSubstr("catalog"));
}

// Counts of subjects only (as many relations on both sides).
ListCounts OnlySubjects(uint64_t subjects) { return ListCounts{subjects, 0}; }

TEST(CheckShrinkTest, RefusesMoreThanTheShareByCount) {
  EXPECT_TRUE(CheckShrink(OnlySubjects(100), OnlySubjects(95), 0.05).ok());
  EXPECT_TRUE(CheckShrink(OnlySubjects(100), OnlySubjects(100), 0.0).ok());
  EXPECT_TRUE(
      CheckShrink(OnlySubjects(100), OnlySubjects(250), 0.0).ok());  // growth is never refused
  EXPECT_TRUE(CheckShrink(OnlySubjects(100), OnlySubjects(0), 1.0).ok());  // 1.0: off
  EXPECT_TRUE(CheckShrink(OnlySubjects(0), OnlySubjects(0), 0.0).ok());
  EXPECT_TRUE(absl::IsAborted(CheckShrink(OnlySubjects(100), OnlySubjects(94), 0.05)));
  EXPECT_TRUE(absl::IsAborted(CheckShrink(OnlySubjects(100), OnlySubjects(99), 0.0)));
  const absl::Status s = CheckShrink(OnlySubjects(200000), OnlySubjects(1), 0.05);
  EXPECT_TRUE(absl::IsAborted(s));
  EXPECT_THAT(s.message(), HasSubstr("the new list has 1 subjects, 199999 (100.0%) fewer than "
                                     "the 200000 serving, more than max_shrink (5.0%)"));
  EXPECT_THAT(s.message(), HasSubstr("old list keeps serving"));
  EXPECT_THAT(s.message(), HasSubstr("--allow-shrink"));
}

// The relations are guarded as the subjects are: without them every related person (a listed
// company's legal representative) would be answered "not listed".
TEST(CheckShrinkTest, GuardsTheRelationsToo) {
  EXPECT_TRUE(CheckShrink({100, 40}, {100, 38}, 0.05).ok());
  EXPECT_TRUE(CheckShrink({100, 40}, {100, 0}, 1.0).ok());
  EXPECT_TRUE(CheckShrink({100, 0}, {100, 0}, 0.0).ok());
  absl::Status s = CheckShrink({100, 40}, {100, 0}, 0.05);
  EXPECT_TRUE(absl::IsAborted(s));
  EXPECT_THAT(s.message(), HasSubstr("the new list has 0 relations, 40 (100.0%) fewer than the "
                                     "40 serving, more than max_shrink (5.0%)"));
  EXPECT_THAT(s.message(), Not(HasSubstr("subjects")));
  s = CheckShrink({100, 40}, {50, 30}, 0.05);
  EXPECT_THAT(
      s.message(),
      HasSubstr("the new list has 50 subjects, 50 (50.0%) fewer than the 100 serving and "
                "30 relations, 10 (25.0%) fewer than the 40 serving, more than max_shrink"));
}

// The attack: debtors.ndjson cut to one line, then a reload. Refused (the 12 subjects keep
// serving) unless the request allows the shrink; the first load is not guarded.
TEST_F(ReloaderTest, AListCutShortIsRefusedUnlessTheShrinkIsAllowed) {
  SnapshotHolder holder;
  Reloader reloader(Source(), &holder, /*max_shrink=*/0.05);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  ASSERT_TRUE(reloader.Start().ok());
  CutDebtorsTo(1);
  ReloadResult r = ReloadAndWait(reloader);
  EXPECT_TRUE(absl::IsAborted(r.status)) << r.status;
  EXPECT_THAT(r.message, HasSubstr("fewer than the 12 serving, more than max_shrink (5.0%)"));
  EXPECT_EQ(r.generation, 1u);
  EXPECT_EQ(holder.generation(), 1u);
  EXPECT_EQ(Status(holder).state, wire::ReloadState::kFailed);
  EXPECT_THAT(Status(holder).message, HasSubstr("max_shrink"));
  EXPECT_EQ(Subjects(holder), 12u);
  std::printf("list cut to 1 line: %d subjects serving after the reload (was 12)\n",
              static_cast<int>(Subjects(holder)));

  r = ReloadAndWait(reloader, ReloadRequest{"operator", /*allow_shrink=*/true});
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.generation, 2u);
  const uint64_t shrunk = Subjects(holder);
  EXPECT_LT(shrunk, 12u);
  // The shrunk list is now the reference: reloading it again needs no flag.
  EXPECT_TRUE(ReloadAndWait(reloader).status.ok());
  EXPECT_EQ(Subjects(holder), shrunk);

  // A fresh daemon loads the short list at start without a question.
  SnapshotHolder fresh;
  EXPECT_TRUE(Reloader(Source(), &fresh, 0.05).LoadFirst().ok());
}

// A reload whose loader thread cannot be created (the unit's TasksMax reached; before:
// std::thread threw and the daemon aborted) fails: the old list keeps serving, INFO and the
// metrics say so, and the next reload works.
TEST_F(ReloaderTest, AReloadWithoutALoaderThreadFailsAndTheOldListServes) {
  SnapshotHolder holder;
  Reloader reloader(Source(), &holder);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  ASSERT_TRUE(reloader.Start().ok());
  {
    ScopedThreadStartFailure no_tasks("shixind-load");
    const ReloadResult r = ReloadAndWait(reloader);
    EXPECT_TRUE(absl::IsAborted(r.status)) << r.status;
    EXPECT_EQ(r.message, "cannot start thread shixind-load: Resource temporarily unavailable");
    EXPECT_EQ(r.generation, 1u);
  }
  EXPECT_EQ(holder.generation(), 1u);
  EXPECT_EQ(Status(holder).state, wire::ReloadState::kFailed);
  EXPECT_THAT(Status(holder).message, HasSubstr("cannot start thread"));
  EXPECT_EQ(reloader.stats().reloads_failed, 1u);
  EXPECT_EQ(Subjects(holder), 12u);
  const ReloadResult r = ReloadAndWait(reloader);
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(holder.generation(), 2u);
}

TEST_F(ReloaderTest, StartFailsWithoutAReloadThread) {
  SnapshotHolder holder;
  Reloader reloader(Source(), &holder);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  ScopedThreadStartFailure no_tasks("shixind-reload");
  EXPECT_TRUE(absl::IsResourceExhausted(reloader.Start()));
  bool completed = false;
  EXPECT_TRUE(reloader.Request("test", [&](const ReloadResult& r) {
    completed = true;
    EXPECT_TRUE(absl::IsUnavailable(r.status));
  }));
  reloader.Stop();
  EXPECT_TRUE(completed);
}

// The attack: relations.ndjson emptied (a feed copy that failed), or cut at a line boundary,
// then a reload (before: accepted, and every related person was answered "not listed"). Refused
// by the shrink guard, naming the relation counts, unless the request allows it.
TEST_F(ReloaderTest, RelationsCutShortAreRefusedUnlessTheShrinkIsAllowed) {
  SnapshotHolder holder;
  Reloader reloader(Source(), &holder, /*max_shrink=*/0.05);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  const uint64_t relations = Relations(holder);
  ASSERT_GT(relations, 2u);
  ASSERT_TRUE(reloader.Start().ok());
  for (const int kept_lines : {0, 2}) {
    {
      std::ifstream in(dir_ + "/relations.ndjson");
      std::ofstream out(dir_ + "/relations.tmp");
      std::string line;
      for (int i = 0; i < kept_lines && std::getline(in, line); ++i) out << line << "\n";
    }
    std::filesystem::rename(dir_ + "/relations.tmp", dir_ + "/relations.ndjson");
    const ReloadResult r = ReloadAndWait(reloader);
    EXPECT_TRUE(absl::IsAborted(r.status)) << kept_lines << " lines kept: " << r.status;
    EXPECT_THAT(r.message, HasSubstr(absl::StrFormat("has %d relations, %d (", kept_lines,
                                                     relations - kept_lines)));
    EXPECT_THAT(r.message, HasSubstr(absl::StrFormat("fewer than the %d serving", relations)));
    EXPECT_EQ(holder.generation(), 1u);
    EXPECT_EQ(Relations(holder), relations);
    CopySample();
  }
  std::filesystem::resize_file(dir_ + "/relations.ndjson", 0);
  const ReloadResult r = ReloadAndWait(reloader, ReloadRequest{"operator", /*allow_shrink=*/true});
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(Relations(holder), 0u);
  EXPECT_EQ(Subjects(holder), 12u);
}

TEST_F(ReloaderTest, MaxShrinkSetsTheShareAndOneDisablesTheGuard) {
  // One of the 12 subjects gone (8.3 %): within 10 %, not within 5 %.
  const auto one_subject_gone = [this] { CutDebtorsToSubjects(11); };
  const CutReload tolerant = ReloadAfterCut(/*max_shrink=*/0.10, one_subject_gone);
  EXPECT_TRUE(tolerant.result.status.ok());
  EXPECT_EQ(tolerant.subjects, 11u);
  EXPECT_TRUE(absl::IsAborted(ReloadAfterCut(/*max_shrink=*/0.05, one_subject_gone).result.status));
  // 1.0 disables the guard.
  const CutReload off = ReloadAfterCut(/*max_shrink=*/1.0, [this] { CutDebtorsTo(1); });
  EXPECT_TRUE(off.result.status.ok());
  EXPECT_EQ(off.generation, 2u);
}

// The attack: a FIFO (or a directory) at a path the daemon reads. Each load fails at once
// instead of blocking the reload thread for ever.
TEST_F(ReloaderTest, NonRegularFilesAreRefusedWithoutBlocking) {
  const std::string debtors = dir_ + "/debtors.ndjson";
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::filesystem::create_directory(dir_ + "/a-directory");

  DatasetSource source = Source();
  std::filesystem::remove(debtors);
  ASSERT_EQ(::mkfifo(debtors.c_str(), 0600), 0);
  EXPECT_THAT(LoadUnblocked(source, debtors), HasSubstr("not a regular file (a FIFO)"));
  std::filesystem::remove(debtors);
  std::filesystem::create_directory(debtors);
  EXPECT_THAT(LoadUnblocked(source, ""), HasSubstr("not a regular file (a directory)"));
  std::filesystem::remove(debtors);
  CopySample();

  source = Source();
  source.catalog_path = fifo;
  EXPECT_THAT(LoadUnblocked(source, fifo), HasSubstr("not a regular file (a FIFO)"));
  source.catalog_path = "/dev/zero";
  EXPECT_THAT(LoadUnblocked(source, ""), HasSubstr("not a regular file (a character device)"));

  source = Source();
  source.snapshot = fifo;
  EXPECT_THAT(LoadUnblocked(source, fifo), HasSubstr("not a regular file (a FIFO)"));
  source.snapshot = dir_ + "/a-directory";
  EXPECT_THAT(LoadUnblocked(source, ""), HasSubstr("not a regular file (a directory)"));
}

// reloader.h: a delta file that lands while a reload loads its base goes on the serving
// generation at once, not after the load (which may take long at background priority), and is
// in the reloaded generation too.
TEST_F(ReloaderTest, ADeltaLandingDuringALoadAppliesAtOnce) {
  const std::string deltas = dir_ + "/deltas";
  std::filesystem::create_directories(deltas);
  DatasetSource source = Source();
  source.deltas_dir = deltas;
  Event loading;  // before the Reloader: its threads use it until it is gone
  SnapshotHolder holder;
  Reloader reloader(source, &holder);
  const LetGo guard{&let_go_};
  ASSERT_TRUE(reloader.LoadFirst().ok());
  reloader.SetLoadFunctionForTesting([&](const DatasetSource& s) {
    loading.Notify();
    let_go_.Wait();
    return LoadDataset(s);
  });
  ASSERT_TRUE(reloader.Start().ok());
  const auto is_listed = [&] { return IsListed(holder, kGaoLi); };
  ASSERT_TRUE(is_listed());

  ASSERT_TRUE(RequestHeldReload(reloader));
  ASSERT_TRUE(loading.WaitFor(std::chrono::seconds(10)));
  ExpectRemovalAppliesAtOnce(reloader, holder, deltas, 1, reloaded_);

  let_go_.Notify();
  ASSERT_TRUE(reloaded_.WaitFor(std::chrono::seconds(10)));
  EXPECT_TRUE(reload_.status.ok()) << reload_.status;
  EXPECT_EQ(reload_.generation, 3u);
  {
    SnapshotHolder::ReadSection read(holder);
    EXPECT_EQ(read.dataset()->sequence, 1u);
  }
  EXPECT_FALSE(is_listed());
  EXPECT_EQ(reloader.stats().delta_runs, 1u);
  reloader.Stop();
}

// reloader.h: a reload folds the delta files into its new base on its loader thread, and a file
// that lands meanwhile goes on the serving generation at once; the new base gets it before its
// swap, on the reload thread.
TEST_F(ReloaderTest, ADeltaLandingDuringTheFoldAppliesAtOnce) {
  const std::string deltas = dir_ + "/deltas";
  std::filesystem::create_directories(deltas);
  WriteRemoval(deltas, 1, kWangJianguoCase, kWangJianguo);
  DatasetSource source = Source();
  source.deltas_dir = deltas;
  Event folded;  // before the Reloader: its threads use them until it is gone
  uint64_t folded_sequence = 0;
  SnapshotHolder holder;
  Reloader reloader(source, &holder);
  const LetGo guard{&let_go_};
  ASSERT_TRUE(reloader.LoadFirst().ok());
  ASSERT_FALSE(IsListed(holder, kWangJianguo));
  reloader.SetFoldedHookForTesting([&](const Dataset& d) {
    folded_sequence = d.sequence;
    folded.Notify();
    let_go_.Wait();
  });
  ASSERT_TRUE(reloader.Start().ok());
  ASSERT_TRUE(RequestHeldReload(reloader));
  ASSERT_TRUE(folded.WaitFor(std::chrono::seconds(10)));
  EXPECT_EQ(folded_sequence, 1u);  // folded on the loader thread, before the reload thread

  ExpectRemovalAppliesAtOnce(reloader, holder, deltas, 2, reloaded_);

  let_go_.Notify();
  ASSERT_TRUE(reloaded_.WaitFor(std::chrono::seconds(10)));
  EXPECT_TRUE(reload_.status.ok()) << reload_.status;
  EXPECT_EQ(reload_.generation, 3u);
  {
    SnapshotHolder::ReadSection read(holder);
    EXPECT_EQ(read.dataset()->sequence, 2u);  // file 2 caught up with on the reload thread
  }
  EXPECT_FALSE(IsListed(holder, kGaoLi));
  EXPECT_FALSE(IsListed(holder, kWangJianguo));
  const DeltaStatus status = reloader.delta_status();
  EXPECT_EQ(status.sequence, 2u);
  EXPECT_EQ(status.pending, 0u);
  // Each file counts once as applied (file 1 at the first load, file 2 online), and its second
  // application apart (file 1 in the fold, whose counts are adopted; file 2 in the catch-up).
  EXPECT_EQ(status.applied_files, 2u);
  EXPECT_EQ(status.replayed_files, 2u);
  reloader.Stop();
}

// A file that the reload's fold refuses is the reloader's refused file afterwards (the reload
// tried it again), counted once, and the serving list keeps what came before it.
TEST_F(ReloaderTest, AFileTheFoldRefusesStaysRefused) {
  const std::string deltas = dir_ + "/deltas";
  std::filesystem::create_directories(deltas);
  WriteRemoval(deltas, 1, kWangJianguoCase, kWangJianguo);
  DatasetSource source = Source();
  source.deltas_dir = deltas;
  SnapshotHolder holder;
  Reloader reloader(source, &holder);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  ASSERT_TRUE(reloader.Start().ok());
  std::ofstream(deltas + "/" + DeltaFileName(2)) << R"({"op":"explode"})"
                                                 << "\n";
  const ReloadResult r = ReloadAndWait(reloader);
  EXPECT_TRUE(r.status.ok()) << r.status;
  const DeltaStatus status = reloader.delta_status();
  EXPECT_EQ(status.sequence, 1u);
  EXPECT_EQ(status.pending, 1u);
  EXPECT_EQ(status.refusals, 1u);
  EXPECT_EQ(status.refused_file, deltas + "/" + DeltaFileName(2));
  EXPECT_THAT(status.refused_reason, HasSubstr(DeltaFileName(2) + ":1:"));
  EXPECT_FALSE(IsListed(holder, kWangJianguo));
  {
    SnapshotHolder::ReadSection read(holder);
    EXPECT_EQ(read.dataset()->sequence, 1u);
  }
  // Replaced by the court: the next reload applies it.
  WriteRemoval(deltas, 2, kGaoLiCase, kGaoLi);
  EXPECT_TRUE(ReloadAndWait(reloader).status.ok());
  EXPECT_FALSE(IsListed(holder, kGaoLi));
  EXPECT_EQ(reloader.delta_status().refused_file, "");
  reloader.Stop();
}

// A reload whose replay ends below the delta served (an applied file removed before a base
// contains it) would undo that file: it is refused, naming it, and the old list keeps serving,
// unless going back is allowed (ALLOW_SHRINK).
TEST_F(ReloaderTest, AReloadThatWouldUndoServedDeltasIsRefusedUnlessAllowed) {
  const std::string deltas = dir_ + "/deltas";
  std::filesystem::create_directories(deltas);
  WriteRemoval(deltas, 1, kGaoLiCase, kGaoLi);
  WriteRemoval(deltas, 2, kWangJianguoCase, kWangJianguo);
  DatasetSource source = Source();
  source.deltas_dir = deltas;
  SnapshotHolder holder;
  Reloader reloader(source, &holder);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  ASSERT_TRUE(reloader.Start().ok());
  ASSERT_FALSE(IsListed(holder, kWangJianguo));
  std::filesystem::remove(deltas + "/" + DeltaFileName(2));
  ReloadResult r = ReloadAndWait(reloader);
  EXPECT_TRUE(absl::IsAborted(r.status)) << r.status;
  EXPECT_THAT(r.message, HasSubstr("holds the deltas up to 1 (its base up to 0) but the serving "
                                   "one up to 2"));
  EXPECT_THAT(r.message, HasSubstr(DeltaFileName(2) + " is missing from " + deltas));
  EXPECT_EQ(holder.generation(), 1u);
  EXPECT_EQ(Status(holder).state, wire::ReloadState::kFailed);
  EXPECT_FALSE(IsListed(holder, kWangJianguo));  // file 2 still served
  EXPECT_EQ(reloader.delta_status().sequence, 2u);
  r = ReloadAndWait(reloader, ReloadRequest{"test", /*allow_shrink=*/true});
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(holder.generation(), 2u);
  EXPECT_TRUE(IsListed(holder, kWangJianguo));
  EXPECT_FALSE(IsListed(holder, kGaoLi));
  reloader.Stop();
}

TEST_F(ReloaderTest, AnEmptyListIsRefused) {
  std::ofstream(dir_ + "/debtors.ndjson", std::ios::trunc);    // NOLINT(bugprone-unused-raii)
  std::ofstream(dir_ + "/relations.ndjson", std::ios::trunc);  // NOLINT(bugprone-unused-raii)
  SnapshotHolder holder;
  const absl::Status s = Reloader(Source(), &holder).LoadFirst();
  EXPECT_THAT(s.message(), HasSubstr("the list is empty"));
  EXPECT_EQ(holder.generation(), 0u);
}

// x30 #7: shixind never serves an empty list, its deltas' included. A delta file that would
// unlist the last listed subjects is refused, at start and online: the list before it serves
// on, and the log and INFO say why. A base that lists no one now is refused by a reload, the
// old list serving on.
TEST_F(ReloaderTest, AListTheDeltasWouldEmptyIsNeverServed) {
  std::string all_but_gao_li;
  const std::string all = testing::RemovalsOfEveryCase(
      dir_ + "/debtors.ndjson", "2026-06-09T15:30:00+08:00", kGaoLi, &all_but_gao_li);
  const DatasetSource source = SourceWithDelta(all);
  SnapshotHolder holder;
  Reloader reloader(source, &holder);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  EXPECT_TRUE(IsListed(holder, kGaoLi));  // the base serves: file 1 is refused
  EXPECT_TRUE(IsListed(holder, kWangJianguo));
  EXPECT_EQ(reloader.delta_status().sequence, 0u);
  EXPECT_THAT(reloader.delta_status().refused_reason,
              HasSubstr(DeltaFileName(1) + ": it unlists the last 12 subject(s) listed at "));
  ASSERT_TRUE(reloader.Start().ok());
  const auto apply_deltas = [&] {
    return ReloadAndWait(reloader, ReloadRequest{"delta", false, /*deltas_only=*/true});
  };
  // Replaced by one that leaves 高丽 listed: applied. Then 高丽's removal alone: refused.
  std::ofstream(source.deltas_dir + "/" + DeltaFileName(1), std::ios::trunc) << all_but_gao_li;
  apply_deltas();
  EXPECT_EQ(reloader.delta_status().sequence, 1u);
  EXPECT_FALSE(IsListed(holder, kWangJianguo));
  EXPECT_EQ(reloader.delta_status().refused_file, "");
  WriteRemoval(source.deltas_dir, 2, kGaoLiCase, kGaoLi);
  apply_deltas();
  EXPECT_EQ(reloader.delta_status().sequence, 1u);
  EXPECT_TRUE(IsListed(holder, kGaoLi));
  EXPECT_THAT(reloader.delta_status().refused_reason,
              HasSubstr(DeltaFileName(2) + ": it unlists the last 1 subject(s) listed at "));
  // A reload folds the files again on its new base: file 2 is refused there too.
  ReloadResult r = ReloadAndWait(reloader);
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(IsListed(holder, kGaoLi));
  EXPECT_EQ(reloader.delta_status().sequence, 1u);
  // A base whose every case has ended (its terms ran out since it was compiled).
  reloader.SetLoadFunctionForTesting([](const DatasetSource& s) {
    absl::StatusOr<std::unique_ptr<Dataset>> d = LoadDataset(s);
    SnapshotBuilder builder;
    CaseInput c = testing::MakeCase(testing::PersonId(1), "张一", "（2018）黑04执1号");
    c.term_end = 20200712;
    builder.AddCase(c);
    if (d.ok()) (*d)->snapshot = *builder.Build();
    return d;
  });
  const uint32_t serving = holder.generation();
  r = ReloadAndWait(reloader);
  EXPECT_FALSE(r.status.ok());
  EXPECT_THAT(r.status.message(),
              HasSubstr(dir_ + ": the list is empty: none of its 1 cases counts at "));
  EXPECT_EQ(holder.generation(), serving);
  EXPECT_TRUE(IsListed(holder, kGaoLi));
  reloader.Stop();
}

// The nightly compaction folds the day's deltas into a new base; reloading it must not look
// like a shrink because the old base still counts what the deltas removed: the guard compares
// with the generation served (base and overlay), and CountsOf() counts what the deltas changed.
TEST_F(ReloaderTest, ACompactionOfTheDeltasServedIsNoShrink) {
  const std::string deltas = dir_ + "/deltas";
  std::filesystem::create_directories(deltas);
  WriteRemoval(deltas, 1, kGaoLiCase, kGaoLi);  // 1 of the sample's 12 subjects: 8.3 % > 5 %
  DatasetSource source = Source();
  source.deltas_dir = deltas;
  SnapshotHolder holder;
  Reloader reloader(source, &holder);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  ASSERT_FALSE(IsListed(holder, kGaoLi));
  {
    SnapshotHolder::ReadSection read(holder);
    const ListCounts counts = CountsOf(*read.dataset(), NowSeconds());
    EXPECT_EQ(counts.subjects, read.dataset()->snapshot->info().subjects - 1);
    EXPECT_EQ(counts.relations, read.dataset()->snapshot->info().relations);
  }
  // The compacted list: the data without 高丽's case (the delta is at or below its sequence in
  // a real compaction; here it is replayed on the new base as a removal of an unknown case).
  {
    std::ifstream in(dir_ + "/debtors.ndjson");
    std::ofstream out(dir_ + "/debtors.tmp");
    std::string line;
    while (std::getline(in, line)) {
      if (line.find(kGaoLi) == std::string::npos) out << line << "\n";
    }
  }
  std::filesystem::rename(dir_ + "/debtors.tmp", dir_ + "/debtors.ndjson");
  ASSERT_TRUE(reloader.Start().ok());
  const ReloadResult r = ReloadAndWait(reloader);
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.generation, 2u);
  reloader.Stop();
}

// A reload of the same base and the same files (SIGHUP for a renewed certificate) is no shrink,
// however much the day's files added: the guard compares the new base with its files folded in
// (here one new subject and one new relation: 8 % of the sample's subjects, 7 % of its
// relations, beyond max_shrink) with the generation served.
TEST_F(ReloaderTest, AReloadOfTheSameFilesIsNoShrink) {
  const DatasetSource source = SourceWithDelta(
      testing::AddCaseLine("230402198001011232", "2099-05-31") +
      RoleLine("relate", "230402199001010015", "senior_manager", "2026-01-01T00:00:00+08:00"));
  SnapshotHolder holder;
  Reloader reloader(source, &holder, /*max_shrink=*/0.05);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  ASSERT_TRUE(reloader.Start().ok());
  const ReloadResult r = ReloadAndWait(reloader);
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.generation, 2u);
  reloader.Stop();
}

// CountsOf() counts the relations that hold now, in the base state and in the generation alike:
// a role ended by unrelate is one fewer, a role that starts later or that began and ended since
// the base counts on neither side; each subject the deltas brought counts once.
TEST_F(ReloaderTest, CountsOfCountsTheRolesThatHoldNow) {
  const DatasetSource source = SourceWithDelta(
      RoleLine("relate", "230402199001010015", "senior_manager", "2099-01-01T00:00:00+08:00") +
      RoleLine("relate", "230402199002020012", "director", "2026-01-01T00:00:00+08:00") +
      RoleLine("unrelate", "230402199002020012", "director", "2026-02-01T00:00:00+08:00") +
      RoleLine("unrelate", "230403197011230713", "director", "2026-01-01T00:00:00+08:00"));
  SnapshotHolder holder;
  Reloader reloader(source, &holder);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  SnapshotHolder::ReadSection read(holder);
  ASSERT_EQ(read.dataset()->sequence, 1u);
  const SnapshotInfo& base = read.dataset()->snapshot->info();
  const ListCounts counts = CountsOf(*read.dataset(), NowSeconds());
  EXPECT_EQ(counts.relations, base.relations - 1);
  EXPECT_EQ(counts.subjects, base.subjects + 2);  // the two persons the relates named
}

// A restart takes the overlay checkpoint only while the files it holds (after the base's
// sequence) are all in deltas_dir: otherwise a restart without the checkpoint, a replica or the
// compaction would answer otherwise. It replays from the base, says why, and waits at the gap.
TEST_F(ReloaderTest, TheCheckpointIsNotUsedWhenFilesItHoldsAreMissing) {
  const std::string deltas = dir_ + "/deltas";
  std::filesystem::create_directories(deltas);
  WriteRemoval(deltas, 1, kGaoLiCase, kGaoLi);
  WriteRemoval(deltas, 2, kWangJianguoCase, kWangJianguo);
  DatasetSource source = Source();
  source.deltas_dir = deltas;
  source.checkpoint = dir_ + "/overlay.checkpoint";
  {
    SnapshotHolder holder;
    Reloader reloader(source, &holder);
    ASSERT_TRUE(reloader.LoadFirst().ok());
    SnapshotHolder::ReadSection read(holder);
    const Dataset& d = *read.dataset();
    ASSERT_EQ(d.sequence, 2u);
    ASSERT_TRUE(OverlayCheckpoint::Write(*d.snapshot, *d.overlay, d.source_time, NowSeconds(),
                                         source.checkpoint)
                    .ok());
  }
  {
    SnapshotHolder holder;  // all the files there: the checkpoint is taken
    Reloader reloader(source, &holder);
    ASSERT_TRUE(reloader.LoadFirst().ok());
    EXPECT_EQ(reloader.resumed().sequence, 2u);
  }
  std::filesystem::remove(deltas + "/" + DeltaFileName(1));  // archived too early
  SnapshotHolder holder;
  Reloader reloader(source, &holder);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  EXPECT_EQ(reloader.resumed().sequence, 0u);
  EXPECT_TRUE(IsListed(holder, kGaoLi));
  EXPECT_TRUE(IsListed(holder, kWangJianguo));  // file 2 waits behind the gap
  const DeltaStatus status = reloader.delta_status();
  EXPECT_EQ(status.sequence, 0u);
  EXPECT_TRUE(status.gap);
}

}  // namespace
}  // namespace shixin
