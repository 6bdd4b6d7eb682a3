// Replay equals online application: the generator's delta stream applied file by file (each
// generation kept) and folded in one batch up to each generation give the same answers for
// 10,000 IDs (listed, related, unlisted, touched) at every generation and several instants,
// and the same overlay, notes and refusal.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/delta.h"
#include "core/list.h"
#include "core/overlay.h"
#include "core/snapshot_file.h"
#include "core/synthetic_deltas_test.h"
#include "core/test_util.h"

namespace shixin {
namespace {

class OverlayReplayTest : public testing::SyntheticDeltasTest {};

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
      for (int64_t t : instants) {
        wrong += testing::DescribeCheck(a, id, t) != testing::DescribeCheck(b, id, t);
      }
    }
    EXPECT_EQ(wrong, 0u) << "generation " << k;
  }
  // The changes really change answers: the last generation differs from the base.
  size_t changed = 0;
  const ListView base_view(*base_), last(*base_, online.back().get());
  for (const Id& id : ids_) {
    changed += testing::DescribeCheck(base_view, id, last_at_ + 1) !=
               testing::DescribeCheck(last, id, last_at_ + 1);
  }
  EXPECT_GT(changed, 500u);
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
