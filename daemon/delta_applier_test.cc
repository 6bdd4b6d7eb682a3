#include "daemon/delta_applier.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/allocator.h"
#include "core/compaction.h"
#include "core/delta.h"
#include "core/id.h"
#include "core/overlay_checkpoint.h"
#include "core/snapshot_file.h"
#include "core/test_util.h"
#include "core/validity.h"
#include "daemon/delta_settle.h"
#include "daemon/reloader.h"

namespace shixin {
namespace {

// 高丽: listed in the sample with one case.
constexpr char kId[] = "230407199103150045";
const char kRemove[] =
    R"({"op":"remove","caseCode":"（2017）黑04执31号","cardNum":"230407199103150045",)"
    R"("reason":"performed","at":"2026-06-09T15:30:00+08:00"})"
    "\n";
const char kBad[] = R"({"op":"frobnicate"})"
                    "\n";

// The counts of `s`, in one line, to compare whole.
std::string Counts(const DeltaStatus& s) {
  return absl::StrFormat("sequence %d files %d changes %d notes %d refusals %d pending %d gap %d",
                         s.sequence, s.applied_files, s.applied_changes, s.notes, s.refusals,
                         s.pending, s.gap);
}

class DeltaApplierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string root = testing::SourceDir();
    absl::StatusOr<std::unique_ptr<Dataset>> d = LoadDataset(
        DatasetSource{root + "/data/sample", root + "/data/measures/hegang-2018.json", 0});
    ASSERT_TRUE(d.ok()) << d.status();
    dataset_ = *std::move(d);
    dir_ = ::testing::TempDir() + "delta_applier_test_" + std::to_string(getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes delta file `sequence` by rename (a new inode each time).
  void Write(uint64_t sequence, const std::string& text) {
    const std::string path = dir_ + "/" + DeltaFileName(sequence);
    std::ofstream(path + ".tmp") << text;
    std::filesystem::rename(path + ".tmp", path);
  }

  bool Listed() const {
    const ListView list = dataset_->list();
    return list.IsListed(list.Find(*ParseId(kId)), static_cast<int64_t>(std::time(nullptr)));
  }

  std::unique_ptr<Dataset> dataset_;
  std::string dir_;
};

TEST_F(DeltaApplierTest, AppliesInOrderCountsNotesAndSkipsWhatIsApplied) {
  Write(1, kRemove);
  Write(2, kRemove);  // a repeated message: noted, not refused
  DeltaApplier applier(dir_);
  EXPECT_EQ(applier.Apply(dataset_.get()), 2u);
  EXPECT_EQ(dataset_->sequence, 2u);
  ASSERT_NE(dataset_->overlay, nullptr);
  const DeltaStatus s = applier.status();
  EXPECT_EQ(Counts(s), "sequence 2 files 2 changes 2 notes 1 refusals 0 pending 0 gap 0");
  EXPECT_GT(s.last_delta_time, 0);
  EXPECT_GT(s.lag_seconds, 0);                   // the removal's `at` is in the past
  EXPECT_EQ(applier.Apply(dataset_.get()), 0u);  // nothing after 2
}

// A removal dated in the future applies now and ends the listing at its `at`: no lag, and the
// log says how far ahead it is.
TEST_F(DeltaApplierTest, AChangeDatedInTheFutureHasNoLag) {
  std::string later = kRemove;
  later.replace(later.find("2026-06-09"), 10, "2099-06-09");
  Write(1, later);
  DeltaApplier applier(dir_);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(applier.Apply(dataset_.get()), 1u);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(applier.status().lag_seconds, 0);
  EXPECT_TRUE(absl::StrContains(log, "its newest change ")) << log;
  EXPECT_TRUE(absl::StrContains(log, " s in the future;")) << log;
  EXPECT_TRUE(Listed());  // until 2099
}

// A file whose mtime is in the future (a pusher's skewed clock, a touch) gives the list the time
// it arrived, not that mtime, and is warned about: it cannot keep the list "fresh" for days.
TEST_F(DeltaApplierTest, AnMtimeInTheFutureCountsFromTheFilesArrival) {
  Write(1, kRemove);
  const int64_t before = static_cast<int64_t>(std::time(nullptr));
  const std::string path = dir_ + "/" + DeltaFileName(1);
  const timespec ahead[2] = {{before + 2 * 86400, 0}, {before + 2 * 86400, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), ahead, 0), 0);
  DeltaApplier applier(dir_);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(applier.Apply(dataset_.get()), 1u);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_GE(dataset_->source_time, before);
  EXPECT_LE(dataset_->source_time, static_cast<int64_t>(std::time(nullptr)));
  EXPECT_TRUE(absl::StrContains(log, "delta " + path + ": its mtime " +
                                         FormatInstant(before + 2 * 86400) +
                                         " is after it arrived"))
      << log;
}

// A file appended to in place after it was applied is warned about once and not applied again:
// a change must come as a new file.
TEST_F(DeltaApplierTest, AFileChangedAfterItWasAppliedIsWarnedAboutOnce) {
  Write(1, kRemove);
  DeltaApplier applier(dir_);
  EXPECT_EQ(applier.Apply(dataset_.get()), 1u);
  std::ofstream(dir_ + "/" + DeltaFileName(1), std::ios::app) << kBad;
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(applier.Apply(dataset_.get()), 0u);
  EXPECT_EQ(applier.Apply(dataset_.get()), 0u);
  const std::string log = ::testing::internal::GetCapturedStderr();
  const std::string warning = DeltaFileName(1) + " changed after it was applied";
  EXPECT_NE(log.find(warning), std::string::npos) << log;
  EXPECT_EQ(log.find(warning), log.rfind(warning)) << log;  // once
  // What was applied of it, so that the operator knows what to push again.
  EXPECT_NE(log.find(absl::StrFormat("it was applied as it was at %s (%d bytes, 1 changes)",
                                     FormatInstant(applier.status().last_delta_time),
                                     sizeof(kRemove) - 1)),
            std::string::npos)
      << log;
  EXPECT_EQ(Counts(applier.status()),
            "sequence 1 files 1 changes 1 notes 0 refusals 0 pending 0 gap 0");
}

// x31 finding 5: a file replaced after it was applied is warned about after a restart from the
// overlay checkpoint too (which keeps what was applied of each file), once per change, always
// with what was applied (not the size of the replacement); a touch that leaves its bytes is not.
TEST_F(DeltaApplierTest, AFileChangedAfterARestartFromTheCheckpointIsWarnedAboutOnce) {
  Write(1, kRemove);
  {
    DeltaApplier before(dir_);
    EXPECT_EQ(before.Apply(dataset_.get()), 1u);
  }
  ASSERT_EQ(dataset_->applied_files.size(), 1u);
  EXPECT_EQ(dataset_->applied_files[0].size, static_cast<int64_t>(sizeof(kRemove) - 1));
  const int64_t applied_at = dataset_->applied_files[0].applied_at;
  // The restart: the base again, and the overlay and files the checkpoint kept.
  const std::string checkpoint = dir_ + "/overlay.checkpoint";
  ASSERT_TRUE(OverlayCheckpoint::Write(*dataset_->snapshot, *dataset_->overlay, 0, applied_at,
                                       checkpoint, {}, dataset_->applied_files)
                  .ok());
  const std::string root = testing::SourceDir();
  absl::StatusOr<std::unique_ptr<Dataset>> restarted = LoadDataset(
      DatasetSource{root + "/data/sample", root + "/data/measures/hegang-2018.json", 0});
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  CheckpointInfo info;
  absl::StatusOr<std::unique_ptr<const Overlay>> overlay =
      OverlayCheckpoint::Read(*(*restarted)->snapshot, checkpoint, &info);
  ASSERT_TRUE(overlay.ok()) << overlay.status();
  dataset_ = *std::move(restarted);
  dataset_->overlay = *std::move(overlay);
  dataset_->sequence = info.sequence;
  dataset_->applied_files = info.files;
  DeltaApplier after(dir_);
  const std::string path = dir_ + "/" + DeltaFileName(1);
  const std::string warning = DeltaFileName(1) + " changed after it was applied";
  const std::string applied =
      absl::StrFormat("it was applied as it was at %s (%d bytes, 1 changes)",
                      FormatInstant(applied_at), sizeof(kRemove) - 1);

  // Touched: the same bytes, no warning.
  const timespec later[2] = {{applied_at + 60, 0}, {applied_at + 60, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), later, 0), 0);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(after.Apply(dataset_.get()), 0u);
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(log.find(warning), std::string::npos) << log;

  // Replaced by a rename with other bytes: warned once, however often it is looked at.
  std::string other = kRemove;
  other.replace(other.find("15:30"), 5, "16:45");
  other += kRemove;
  Write(1, other);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(after.Apply(dataset_.get()), 0u);
  EXPECT_EQ(after.Apply(dataset_.get()), 0u);
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find(warning), std::string::npos) << log;
  EXPECT_EQ(log.find(warning), log.rfind(warning)) << log;
  EXPECT_NE(log.find(applied + " and is not applied again; what it holds now (" +
                     std::to_string(other.size()) + " bytes) is ignored"),
            std::string::npos)
      << log;

  // A reload's fold, which resumes from the checkpoint too, starts from what the online
  // applier knows: the change is not warned about a second time.
  DeltaApplier fold(dir_);
  fold.KnowApplied(after);
  Dataset again = *dataset_;
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(fold.Apply(&again), 0u);
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(log.find(warning), std::string::npos) << log;

  // Appended to: warned again, still with what was applied, not the replacement's size.
  std::ofstream(path, std::ios::app) << kBad;
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(after.Apply(dataset_.get()), 0u);
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find(applied), std::string::npos) << log;
  EXPECT_FALSE(Listed()) << "the removal applied before the restart still holds";
}

// A file written in place (not renamed into place) is read only once it has settled: it and
// the files after it wait, with no refusal and no gap (x25 finding 1: the rescan applied 99 of
// a file's 300 lines as it was being written, and the rest never).
TEST_F(DeltaApplierTest, AFileWrittenInPlaceWaitsUntilItHasSettled) {
  DeltaSettle settle(absl::Milliseconds(300));
  DeltaApplier applier(dir_, UINT64_MAX, &settle);
  const std::string path = dir_ + "/" + DeltaFileName(1);
  std::ofstream(path) << kRemove;
  Write(2, kRemove);  // renamed, but behind the waiting file
  settle.Renamed(dir_ + "/" + DeltaFileName(2));
  EXPECT_EQ(applier.Apply(dataset_.get()), 0u);
  EXPECT_EQ(Counts(applier.status()),
            "sequence 0 files 0 changes 0 notes 0 refusals 0 pending 2 gap 0");
  EXPECT_TRUE(Listed());
  EXPECT_NE(settle.NextCheck(), absl::InfiniteFuture());
  // Written to again: the wait starts over.
  absl::SleepFor(absl::Milliseconds(200));
  std::ofstream(path, std::ios::app) << kRemove;
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(applier.Apply(dataset_.get()), 0u);
  EXPECT_TRUE(Listed());
  absl::SleepFor(absl::Milliseconds(350));
  EXPECT_EQ(applier.Apply(dataset_.get()), 2u);
  EXPECT_FALSE(Listed());
  // Both lines of file 1 (the second a note: a repeat) and file 2's.
  EXPECT_EQ(Counts(applier.status()),
            "sequence 2 files 2 changes 3 notes 2 refusals 0 pending 0 gap 0");
}

// A file renamed into place is read at once, and so is one left alone for the settle time
// before it is first seen (the files there when the daemon starts).
TEST_F(DeltaApplierTest, AFileRenamedOrLeftAloneIsReadAtOnce) {
  DeltaSettle settle(absl::Milliseconds(300));
  std::ofstream(dir_ + "/" + DeltaFileName(1)) << kRemove;
  absl::SleepFor(absl::Milliseconds(350));
  Write(2, kRemove);
  settle.Renamed(dir_ + "/" + DeltaFileName(2));
  DeltaApplier applier(dir_, UINT64_MAX, &settle);
  EXPECT_EQ(applier.Apply(dataset_.get()), 2u);
  EXPECT_EQ(settle.NextCheck(), absl::InfiniteFuture());
}

// A note (a removal repeated) and a refusal (a correct of the removed case) as the daemon logs
// them and shows them (INFO, /status): the ID masked, never in full (docs/shixind.md, Logging).
TEST_F(DeltaApplierTest, NotesAndRefusalsMaskTheId) {
  const std::string masked = ParseId(kId)->Masked();
  ASSERT_EQ(masked, "2304071991****0045");
  Write(1, kRemove);
  Write(2, kRemove);
  Write(3, R"({"op":"correct","caseCode":"（2017）黑04执31号","iname":"高丽",)"
           R"("cardNum":"230407199103150045","courtName":"鹤岗市中级人民法院",)"
           R"("publishDate":"2017-06-30","at":"2026-06-10T09:00:00+08:00"})"
           "\n");
  DeltaApplier applier(dir_);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(applier.Apply(dataset_.get()), 2u);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(absl::StrContains(log, "delta note: " + DeltaFileName(2) +
                                         ":1: remove: case （2017）黑04执31号 of " + masked + " "))
      << log;
  EXPECT_TRUE(absl::StrContains(log, DeltaFileName(3) + ":1: correct: case （2017）黑04执31号 of " +
                                         masked + " was removed (performed) at "))
      << log;
  EXPECT_FALSE(absl::StrContains(log, kId)) << log;
  const DeltaStatus s = applier.status();
  EXPECT_EQ(s.refusals, 1u);
  EXPECT_TRUE(absl::StrContains(s.refused_reason, masked)) << s.refused_reason;
  EXPECT_FALSE(absl::StrContains(s.refused_reason, kId)) << s.refused_reason;
}

TEST_F(DeltaApplierTest, AMisnamedFileIsWarnedAboutOnceAndNeverApplied) {
  Write(1, kRemove);
  std::ofstream(dir_ + "/2.ndjson") << kRemove;
  std::ofstream(dir_ + "/" + DeltaFileName(2) + ".tmp") << kRemove;  // in the making: silent
  DeltaApplier applier(dir_);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(applier.Apply(dataset_.get()), 1u);
  EXPECT_EQ(applier.Apply(dataset_.get()), 0u);
  const std::string log = ::testing::internal::GetCapturedStderr();
  const std::string warning = MisnamedDeltaWarning(dir_ + "/2.ndjson");
  EXPECT_NE(log.find(warning), std::string::npos) << log;
  EXPECT_EQ(log.find(warning), log.rfind(warning)) << log;  // once
  EXPECT_EQ(log.find(".tmp"), std::string::npos) << log;
  EXPECT_EQ(dataset_->sequence, 1u);
}

// A compacted base that contains delta 1 starts the dataset at 1: file 1 is not replayed (here
// replaced by a file that would be refused), file 2 is.
TEST_F(DeltaApplierTest, ACompactedBaseReplaysOnlyTheLaterFiles) {
  Write(1, kRemove);
  DeltaReport report;
  auto overlay = ApplyDeltaDir(*dataset_->snapshot, dir_, &report);
  ASSERT_TRUE(overlay.ok()) << overlay.status();
  auto compacted = Compact(ListView(*dataset_->snapshot, overlay->get()), {});
  ASSERT_TRUE(compacted.ok()) << compacted.status();
  const std::string snap = dir_ + "/base.snap";
  ASSERT_TRUE(WriteSnapshotFile(**compacted,
                                {dataset_->catalog.id(), dataset_->catalog.fingerprint()}, snap)
                  .ok());
  const std::string root = testing::SourceDir();
  absl::StatusOr<std::unique_ptr<Dataset>> d =
      LoadDataset(DatasetSource{"", root + "/data/measures/hegang-2018.json", 0, snap, 1, dir_});
  ASSERT_TRUE(d.ok()) << d.status();
  dataset_ = *std::move(d);
  EXPECT_EQ(dataset_->sequence, 1u);
  EXPECT_FALSE(Listed());  // the removal is in the base
  Write(1, kBad);
  Write(2, kRemove);  // the removal again: noted
  DeltaApplier applier(dir_);
  EXPECT_EQ(applier.Apply(dataset_.get()), 1u);
  EXPECT_EQ(Counts(applier.status()),
            "sequence 2 files 1 changes 1 notes 1 refusals 0 pending 0 gap 0");
  EXPECT_FALSE(Listed());
}

// A reload's fold replays the files served already: they count once, as applied, and their
// replays apart, so that replicas fed the same files agree however often they reload.
TEST_F(DeltaApplierTest, AReloadsReplayIsCountedApartFromTheFilesApplied) {
  const Dataset base = *dataset_;
  Write(1, kRemove);
  Write(2, kRemove);
  DeltaApplier applier(dir_);
  EXPECT_EQ(applier.Apply(dataset_.get()), 2u);
  Write(3, kRemove);
  for (int reload = 0; reload < 2; ++reload) {
    Dataset fresh = base;
    DeltaApplier fold(dir_);
    EXPECT_EQ(fold.Apply(&fresh), 3u);
    applier.Adopt(fold);
    EXPECT_EQ(applier.Apply(&fresh), 0u);
  }
  const DeltaStatus s = applier.status();
  EXPECT_EQ(Counts(s), "sequence 3 files 3 changes 3 notes 2 refusals 0 pending 0 gap 0");
  EXPECT_EQ(s.replayed_files, 5u);  // 1 and 2 at the first reload, 1 to 3 at the second
}

// The files a restart took from the overlay checkpoint were not applied by this process: a
// reload that replays them does not count them either.
TEST_F(DeltaApplierTest, TheFilesOfACheckpointAreNotCountedWhenReplayed) {
  const Dataset base = *dataset_;
  Write(1, kRemove);
  Write(2, kRemove);
  dataset_->sequence = 2;  // as resumed from a checkpoint
  DeltaApplier applier(dir_);
  EXPECT_EQ(applier.Apply(dataset_.get()), 0u);
  Dataset fresh = base;
  DeltaApplier fold(dir_);
  EXPECT_EQ(fold.Apply(&fresh), 2u);
  applier.Adopt(fold);
  EXPECT_EQ(applier.status().applied_files, 0u);
  EXPECT_EQ(applier.status().replayed_files, 2u);
}

TEST_F(DeltaApplierTest, RefusedFileWaitsUntilReplacedOrTriedAgainByAReload) {
  Write(1, std::string(kRemove) + kBad);
  Write(2, kRemove);
  DeltaApplier applier(dir_);
  EXPECT_EQ(applier.Apply(dataset_.get()), 0u);
  EXPECT_EQ(dataset_->overlay, nullptr);
  DeltaStatus s = applier.status();
  EXPECT_TRUE(absl::EndsWith(s.refused_file, DeltaFileName(1)));
  EXPECT_TRUE(absl::StrContains(s.refused_reason, DeltaFileName(1) + ":2:")) << s.refused_reason;
  EXPECT_EQ(Counts(s), "sequence 0 files 0 changes 0 notes 0 refusals 1 pending 2 gap 0");
  EXPECT_EQ(applier.Apply(dataset_.get()), 0u);
  EXPECT_EQ(applier.status().refusals, 1u);  // the same version: not tried, not counted again
  applier.Adopt(DeltaApplier(dir_));         // a reload's fold that found nothing to refuse
  EXPECT_EQ(applier.status().refused_file, "");
  EXPECT_EQ(applier.Apply(dataset_.get()), 0u);
  EXPECT_EQ(applier.status().refusals, 2u);  // tried again after the reload

  Write(1, kRemove);
  EXPECT_EQ(applier.Apply(dataset_.get()), 2u);
  s = applier.status();
  EXPECT_EQ(s.refused_file, "");
  EXPECT_EQ(Counts(s), "sequence 2 files 2 changes 2 notes 1 refusals 2 pending 0 gap 0");
}

// A file over the size limit is refused unread, with the setting and the remedies named; a
// smaller file put in its place applies, and so do the files waiting behind it.
TEST_F(DeltaApplierTest, AFileOverTheSizeLimitIsRefusedUntilReplaced) {
  const std::string remove(kRemove);
  Write(1, remove + remove);  // the removal, then the same again: a note
  Write(2, kRemove);
  DeltaApplier applier(dir_, remove.size() + 1);
  EXPECT_EQ(applier.Apply(dataset_.get()), 0u);
  EXPECT_TRUE(Listed());
  const DeltaStatus s = applier.status();
  EXPECT_TRUE(absl::EndsWith(s.refused_file, DeltaFileName(1)));
  EXPECT_TRUE(absl::StrContains(s.refused_reason,
                                absl::StrCat(DeltaFileName(1), ": more than ", remove.size() + 1,
                                             " bytes (max_delta_mb): split it")))
      << s.refused_reason;
  EXPECT_EQ(Counts(s), "sequence 0 files 0 changes 0 notes 0 refusals 1 pending 2 gap 0");

  Write(1, kRemove);
  EXPECT_EQ(applier.Apply(dataset_.get()), 2u);
  EXPECT_FALSE(Listed());
  EXPECT_EQ(applier.status().refused_file, "");
}

// A fold of many files (read ahead in parallel, one table) keeps the files before a refused one
// whole and nothing of it, and the refused file's lines before its bad one are not visible.
TEST_F(DeltaApplierTest, FoldStopsAtARefusedFileKeepingTheFilesBefore) {
  const std::string note =
      R"({"op":"remove","caseCode":"（2099）黑04执1号","cardNum":"230407199103150045",)"
      R"("reason":"performed","at":"2026-06-09T15:30:00+08:00"})"
      "\n";
  for (uint64_t i = 1; i <= 9; ++i) Write(i, note);  // each a note: applied, nothing changes
  Write(10, std::string(kRemove) + kBad);
  Write(11, kRemove);
  DeltaApplier applier(dir_);
  EXPECT_EQ(applier.Apply(dataset_.get()), 9u);
  EXPECT_EQ(dataset_->sequence, 9u);
  ASSERT_NE(dataset_->overlay, nullptr);
  EXPECT_EQ(dataset_->overlay->sequence(), 9u);
  EXPECT_TRUE(Listed());  // file 10's removal is not applied
  const DeltaStatus s = applier.status();
  EXPECT_EQ(Counts(s), "sequence 9 files 9 changes 9 notes 9 refusals 1 pending 2 gap 0");
  EXPECT_TRUE(absl::EndsWith(s.refused_file, DeltaFileName(10)));
}

TEST_F(DeltaApplierTest, GapStopsAndIsReported) {
  Write(2, kRemove);
  DeltaApplier applier(dir_);
  EXPECT_EQ(applier.Apply(dataset_.get()), 0u);
  DeltaStatus s = applier.status();
  EXPECT_EQ(Counts(s), "sequence 0 files 0 changes 0 notes 0 refusals 0 pending 1 gap 1");
  EXPECT_EQ(s.gap_after, 0u);
  Write(1, kRemove);
  EXPECT_EQ(applier.Apply(dataset_.get()), 2u);
  EXPECT_FALSE(applier.status().gap);
}

TEST_F(DeltaApplierTest, PublishesAGenerationPerFile) {
  ASSERT_TRUE(Listed());
  Write(1, kRemove);
  Write(2, kRemove);
  DeltaApplier applier(dir_);
  std::vector<uint64_t> published;
  applier.Apply(dataset_.get(), [&](std::unique_ptr<Dataset> d) {
    published.push_back(d->sequence);
    EXPECT_EQ(d->snapshot, dataset_->snapshot);  // shared, not copied
  });
  EXPECT_EQ(published, (std::vector<uint64_t>{1, 2}));
  EXPECT_FALSE(Listed());
  // The next file's entities will grow into memory faulted in now.
  if (AllocatorName() == "jemalloc") {
    EXPECT_GE(PrefaultBulk(0), size_t{4} << 20);
  }
}

// Online application leaves a builder ready for the next file; a dataset that starts elsewhere
// (a reload's fold from the base) must not use it: it would start after file 1 and refuse it.
TEST_F(DeltaApplierTest, TheNextFilesBuilderIsUsedOnlyForTheDatasetItWasMadeFrom) {
  const Dataset base = *dataset_;
  Write(1, kRemove);
  DeltaApplier applier(dir_);
  std::vector<uint64_t> published;
  auto publish = [&](std::unique_ptr<Dataset> d) { published.push_back(d->sequence); };
  EXPECT_EQ(applier.Apply(dataset_.get(), publish), 1u);
  Write(2, kRemove);  // repeated: a note
  EXPECT_EQ(applier.Apply(dataset_.get(), publish), 1u);
  EXPECT_EQ(published, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(dataset_->sequence, 2u);

  Write(3, kRemove);
  auto reloaded = std::make_unique<Dataset>(base);  // as a reload of the base would give
  EXPECT_EQ(applier.Apply(reloaded.get()), 3u);
  EXPECT_EQ(reloaded->sequence, 3u);
  const DeltaStatus s = applier.status();
  EXPECT_EQ(s.refusals, 0u) << s.refused_reason;
  dataset_ = std::move(reloaded);
  EXPECT_FALSE(Listed());
  EXPECT_EQ(applier.Apply(dataset_.get(), publish), 0u);
}

}  // namespace
}  // namespace shixin
