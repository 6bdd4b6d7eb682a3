// Replay equals online application: the generator's delta stream applied file by file (each
// generation kept) and folded in one batch up to each generation give the same answers for
// 10,000 IDs (listed, related, unlisted, touched) at every generation and several instants,
// and the same overlay, notes and refusal.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/builder.h"
#include "core/delta.h"
#include "core/list.h"
#include "core/overlay.h"
#include "core/query.h"
#include "core/snapshot_file.h"
#include "core/test_util.h"
#include "synthetic/deltas.h"
#include "synthetic/synthetic.h"

namespace shixin {
namespace {

constexpr int kFiles = 6;

// Returns everything Check() says of `id` at `t`, as text to compare.
std::string Describe(const ListView& view, const Id& id, int64_t t) {
  absl::StatusOr<CheckResult> r = Check(view, id, t, true);
  if (!r.ok()) return r.status().ToString();
  std::string s = absl::StrCat(r->id, " ", r->listed, r->related, " ", r->name, " ", r->since, "-",
                               r->until, "\n");
  for (const CaseInfo& c : r->cases) {
    absl::StrAppend(&s, " case ", c.case_code, " ", c.start, " ", c.ended_at, " ",
                    static_cast<int>(c.end), " ", c.publish_date, "\n");
  }
  for (const auto* roles : {&r->roles, &r->officers}) {
    for (const RoleInfo& l : *roles) {
      absl::StrAppend(&s, " role ", static_cast<int>(l.role), " ", l.id, " ", l.name, " ", l.listed,
                      "\n");
    }
  }
  return s;
}

class OverlayReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / absl::StrCat("overlay_replay_test_", getpid()))
               .string();
    const SyntheticOptions list{.subjects = 3000, .seed = 11, .today = 20251231};
    ASSERT_TRUE(
        WriteSyntheticDeltas(list, {.deltas = kFiles, .changes_per_delta = 500}, dir_).ok());
    SnapshotBuilder builder;
    GenerateSynthetic(
        list,
        [&](const CaseInput& c) {
          builder.AddCase(c);
          ids_.push_back(c.id);
        },
        [&](const RelationInput& r) {
          builder.AddRelation(r);
          ids_.push_back(r.person);
          ids_.push_back(r.org);
        });
    auto base = builder.Build();
    ASSERT_TRUE(base.ok()) << base.status();
    base_ = *std::move(base);
    auto files = ListDeltaFiles(dir_);
    ASSERT_TRUE(files.ok()) << files.status();
    ASSERT_EQ(files->size(), static_cast<size_t>(kFiles));
    for (const DeltaFile& f : *files) {
      auto delta = ReadDelta(f.path);
      ASSERT_TRUE(delta.ok()) << delta.status();
      for (const DeltaChange& c : delta->changes) {
        ids_.push_back(c.id);
        if (!c.org.empty()) ids_.push_back(c.org);
        last_at_ = std::max(last_at_, c.at);
      }
      deltas_.push_back(*std::move(delta));
    }
    // Mostly unlisted IDs: valid resident IDs of a fixed birth day and area.
    for (int i = 0; i < 500; ++i) ids_.push_back(testing::PersonId(i));
    std::mt19937_64 rng(5);
    std::shuffle(ids_.begin(), ids_.end(), rng);
    ids_.resize(std::min<size_t>(ids_.size(), 10000));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::unique_ptr<const Snapshot> base_;
  std::vector<Delta> deltas_;
  std::vector<Id> ids_;
  int64_t last_at_ = 0;
};

TEST_F(OverlayReplayTest, BatchReplayAnswersAsOnlineAtEveryGeneration) {
  ASSERT_GE(ids_.size(), 5000u);
  std::vector<std::unique_ptr<const Overlay>> online;
  DeltaReport online_report;
  for (const Delta& d : deltas_) {
    auto next =
        ApplyDelta(*base_, online.empty() ? nullptr : online.back().get(), d, &online_report);
    ASSERT_TRUE(next.ok()) << next.status();
    online.push_back(*std::move(next));
  }
  const int64_t first_at = deltas_.front().changes.front().at;
  const std::vector<int64_t> instants = {first_at - 86400, (first_at + last_at_) / 2, last_at_ + 1,
                                         last_at_ + 3 * 365 * 86400};
  for (size_t k = 1; k <= deltas_.size(); ++k) {
    DeltaReport report;
    DeltaBatchResult batch =
        ApplyDeltas(*base_, nullptr, std::span<const Delta>(deltas_).first(k), &report);
    ASSERT_TRUE(batch.refusal.ok()) << batch.refusal;
    ASSERT_EQ(batch.applied, k);
    const Overlay& replayed = *batch.overlay;
    const Overlay& applied = *online[k - 1];
    EXPECT_EQ(replayed.sequence(), applied.sequence());
    ASSERT_EQ(replayed.size(), applied.size());
    EXPECT_EQ(testing::OverlayDifferences(applied, replayed), 0u) << "generation " << k;
    const ListView a(*base_, &applied), b(*base_, &replayed);
    size_t wrong = 0;
    for (const Id& id : ids_) {
      for (int64_t t : instants) wrong += Describe(a, id, t) != Describe(b, id, t);
    }
    EXPECT_EQ(wrong, 0u) << "generation " << k;
  }
  // The changes really change answers: the last generation differs from the base.
  size_t changed = 0;
  const ListView base_view(*base_), last(*base_, online.back().get());
  for (const Id& id : ids_) {
    changed += Describe(base_view, id, last_at_ + 1) != Describe(last, id, last_at_ + 1);
  }
  EXPECT_GT(changed, 500u);
}

// The starting states PrepareDelta() builds ahead change nothing: online (over the previous
// generation, built on three threads) and in a batch whose files were all prepared before the
// first was applied (on one thread; every mark of ChangedEntities late, so states the batch
// already changed are built and must be dropped), the overlays equal those applied without them.
TEST_F(OverlayReplayTest, PreparedStatesChangeNothing) {
  std::unique_ptr<const Overlay> plain, prepared;
  for (const Delta& d : deltas_) {
    DeltaReport report;
    auto next = ApplyDelta(*base_, plain.get(), d, &report);
    ASSERT_TRUE(next.ok()) << next.status();
    plain = *std::move(next);
    PreparedDelta states = PrepareDelta(*base_, prepared.get(), d, nullptr, /*threads=*/3);
    // Every share was built: as many states as one thread builds, most of the subjects named.
    const size_t built = states.size();
    EXPECT_EQ(built, PrepareDelta(*base_, prepared.get(), d).size()) << d.name;
    EXPECT_GT(built, d.changes.size() / 2) << d.name;
    OverlayBuilder builder(*base_, prepared.get());
    ASSERT_TRUE(builder.Apply(d, &report, &states).ok());
    prepared = builder.Finish();
    EXPECT_EQ(testing::OverlayDifferences(*plain, *prepared), 0u) << d.name;
  }

  ChangedEntities changed(base_->entity_count());
  std::vector<PreparedDelta> ahead;
  for (const Delta& d : deltas_) ahead.push_back(PrepareDelta(*base_, nullptr, d, &changed));
  OverlayBuilder batch(*base_, nullptr);
  for (size_t k = 0; k < deltas_.size(); ++k) {
    DeltaReport report;
    ASSERT_TRUE(batch.Apply(deltas_[k], &report, &ahead[k]).ok());
    changed.Add(ahead[k]);
  }
  const std::unique_ptr<const Overlay> folded = batch.Finish();
  EXPECT_EQ(testing::OverlayDifferences(*plain, *folded), 0u);
  EXPECT_GT(folded->size(), 1000u);  // the deltas changed many subjects
}

// States prepared over a snapshot file whose pages have left the page cache (most reads are
// deferred until the disk has them, by each of two threads) are those prepared over the
// snapshot it was written from.
TEST_F(OverlayReplayTest, StatesPreparedOutOfThePageCacheAreTheSame) {
  const std::string path = dir_ + "/base.snap";
  ASSERT_TRUE(WriteSnapshotFile(*base_, CatalogIdentity{"test", 1}, path).ok());
  auto file = OpenSnapshotFile(path, 1);
  ASSERT_TRUE(file.ok()) << file.status();
  std::unique_ptr<const Overlay> plain, cold;
  for (const Delta& d : deltas_) {
    DeltaReport report;
    auto next = ApplyDelta(*base_, plain.get(), d, &report);
    ASSERT_TRUE(next.ok()) << next.status();
    plain = *std::move(next);
    const int64_t resident = testing::DropFromPageCache(path);
    if (resident != 0) GTEST_SKIP() << "the page cache kept " << resident << " pages (tmpfs?)";
    PreparedDelta states = PrepareDelta(**file, cold.get(), d, nullptr, /*threads=*/2);
    OverlayBuilder builder(**file, cold.get());
    ASSERT_TRUE(builder.Apply(d, &report, &states).ok());
    cold = builder.Finish();
    EXPECT_EQ(testing::OverlayDifferences(*plain, *cold), 0u) << d.name;
  }
  EXPECT_GT(cold->size(), 1000u);
}

// A batch stops at the first refused delta with the refusal a file-by-file application gives,
// keeps the files before it whole and none of its lines, and notes the same lines.
TEST_F(OverlayReplayTest, BatchRefusesAndNotesAsFileByFile) {
  std::vector<Delta> deltas(deltas_.begin(), deltas_.begin() + 3);
  // A note (a removal of a case nobody has) in file 2; file 3 valid up to a correct of an
  // unknown case on its last line.
  DeltaChange note;
  note.op = DeltaOp::kRemove;
  note.id = testing::PersonId(999);
  note.record.case_code = "（2026）黑04执999号";
  note.reason = EndReason::kPerformed;
  note.at = last_at_;
  note.line = deltas[1].changes.size() + 1;
  deltas[1].changes.push_back(note);
  DeltaChange bad = note;
  bad.op = DeltaOp::kCorrect;
  bad.line = deltas[2].changes.size() + 1;
  deltas[2].changes.push_back(bad);

  DeltaReport one_by_one;
  std::unique_ptr<const Overlay> overlay;
  absl::Status refusal;
  for (const Delta& d : deltas) {
    auto next = ApplyDelta(*base_, overlay.get(), d, &one_by_one);
    if (!next.ok()) {
      refusal = next.status();
      break;
    }
    overlay = *std::move(next);
  }
  ASSERT_FALSE(refusal.ok());
  EXPECT_NE(refusal.message().find(":" + std::to_string(bad.line) + ": correct:"),
            std::string::npos)
      << refusal;

  DeltaReport batch_report;
  DeltaBatchResult batch = ApplyDeltas(*base_, nullptr, deltas, &batch_report);
  EXPECT_EQ(batch.applied, 2u);
  EXPECT_EQ(batch.refusal, refusal);
  EXPECT_EQ(batch_report.notes, one_by_one.notes);
  EXPECT_EQ(batch_report.changes, one_by_one.changes);
  ASSERT_EQ(batch_report.notes.size(), 1u);
  ASSERT_NE(batch.overlay, nullptr);
  EXPECT_EQ(batch.overlay->sequence(), 2u);
  ASSERT_EQ(batch.overlay->size(), overlay->size());
  EXPECT_EQ(testing::OverlayDifferences(*overlay, *batch.overlay), 0u);
  // Going on from a generation equals going on from scratch; a wrong sequence is refused.
  DeltaReport more;
  DeltaBatchResult rest =
      ApplyDeltas(*base_, overlay.get(), std::span<const Delta>(deltas_).subspan(2), &more);
  EXPECT_EQ(rest.applied, deltas_.size() - 2);
  DeltaBatchResult skip =
      ApplyDeltas(*base_, overlay.get(), std::span<const Delta>(deltas_).subspan(3), &more);
  EXPECT_EQ(skip.applied, 0u);
  EXPECT_EQ(skip.overlay, nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(skip.refusal)) << skip.refusal;
}

// Bytes() counts each entity's allocation and the table; Stats() adds up the texts.
TEST_F(OverlayReplayTest, StatsCountTheTextAndTheRest) {
  DeltaReport report;
  DeltaBatchResult batch = ApplyDeltas(*base_, nullptr, deltas_, &report);
  ASSERT_TRUE(batch.refusal.ok());
  const OverlayStats s = batch.overlay->Stats();
  EXPECT_EQ(s.entities, batch.overlay->size());
  EXPECT_EQ(s.bytes, batch.overlay->Bytes());
  EXPECT_GT(s.case_versions, s.entities / 2);
  EXPECT_GT(s.record_bytes, 30 * s.case_versions);
  // Every entity takes at least its 40-byte header, an 8-byte slot and malloc's 8 bytes.
  EXPECT_GT(s.bytes, s.record_bytes + s.fixed_bytes + 56 * s.entities);
  // The running sum Bytes() keeps holds at least the live entities (superseded ones stay with
  // their segment), and the rest is the table and the segments: 9 + 8 bytes an entity at most
  // (a slot >= 7/16 full, a segment's pointer) beyond the fixed bytes.
  size_t live = 0;
  batch.overlay->ForEach([&live](const OverlayEntity& e) { live += e.Bytes(); });
  EXPECT_GT(s.bytes, live + s.fixed_bytes);
  EXPECT_LT(s.bytes, 2 * live + s.fixed_bytes + 64 * s.entities);
}

}  // namespace
}  // namespace shixin
