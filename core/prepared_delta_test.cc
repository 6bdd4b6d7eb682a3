// The starting states of a delta's subjects, prepared ahead of its application or alongside
// it, on several threads, over a snapshot in memory or a file out of the page cache: the
// overlays are the same as without them.
#include "core/prepared_delta.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/delta.h"
#include "core/overlay.h"
#include "core/snapshot_file.h"
#include "core/synthetic_deltas_test.h"
#include "core/test_util.h"

namespace shixin {
namespace {

class PreparedDeltaTest : public testing::SyntheticDeltasTest {};

// The starting states PrepareDelta() builds ahead change nothing: online (over the previous
// generation, built on three threads) and in a batch whose files were all prepared before the
// first was applied (on one thread; every mark of ChangedEntities late, so states the batch
// already changed are built and must be dropped), the overlays equal those applied without them.
TEST_F(PreparedDeltaTest, PreparedStatesChangeNothing) {
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

// States built alongside the application (by two helpers and by the application itself,
// which builds those it reaches first) change nothing either, over a snapshot in memory and
// over a file whose pages left the page cache (the helpers defer those reads, and whoever
// reaches a deferred state first builds it); and a delta refused on its last line while the
// helpers may still be building leaves the generation before it as it was.
TEST_F(PreparedDeltaTest, StatesBuiltAlongsideChangeNothing) {
  const std::string path = dir_ + "/base.snap";
  ASSERT_TRUE(WriteSnapshotFile(*base_, CatalogIdentity{"test", 1}, path).ok());
  auto file = OpenSnapshotFile(path, 1);
  ASSERT_TRUE(file.ok()) << file.status();
  std::unique_ptr<const Overlay> plain, warm, cold;
  for (const Delta& d : deltas_) {
    DeltaReport report;
    auto next = ApplyDelta(*base_, plain.get(), d, &report);
    ASSERT_TRUE(next.ok()) << next.status();
    plain = *std::move(next);
    PreparedDelta states =
        PrepareDelta(*base_, warm.get(), d, nullptr, /*threads=*/3, Prepare::kAlongside);
    OverlayBuilder builder(*base_, warm.get());
    ASSERT_TRUE(builder.Apply(d, &report, &states).ok());
    warm = builder.Finish();
    EXPECT_EQ(testing::OverlayDifferences(*plain, *warm), 0u) << d.name;

    testing::DropFromPageCache(path);
    PreparedDelta cold_states =
        PrepareDelta(**file, cold.get(), d, nullptr, /*threads=*/2, Prepare::kAlongside);
    OverlayBuilder cold_builder(**file, cold.get());
    ASSERT_TRUE(cold_builder.Apply(d, &report, &cold_states).ok());
    cold = cold_builder.Finish();
    EXPECT_EQ(testing::OverlayDifferences(*plain, *cold), 0u) << d.name;
  }
  EXPECT_GT(warm->size(), 1000u);

  Delta refused = deltas_.front();
  refused.sequence = warm->sequence() + 1;
  DeltaChange bad;
  bad.op = DeltaOp::kCorrect;
  bad.id = testing::PersonId(999);
  bad.record.case_code = "（2026）黑04执999号";
  bad.at = last_at_;
  bad.line = refused.changes.size() + 1;
  refused.changes.push_back(bad);
  PreparedDelta states =
      PrepareDelta(*base_, warm.get(), refused, nullptr, /*threads=*/3, Prepare::kAlongside);
  OverlayBuilder builder(*base_, warm.get());
  DeltaReport report;
  const absl::Status status = builder.Apply(refused, &report, &states);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_EQ(report.changes, 0u);
  EXPECT_EQ(testing::OverlayDifferences(*plain, *warm), 0u);
}

// States prepared over a snapshot file whose pages have left the page cache (most reads are
// deferred until the disk has them, by each of two threads) are those prepared over the
// snapshot it was written from.
TEST_F(PreparedDeltaTest, StatesPreparedOutOfThePageCacheAreTheSame) {
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

}  // namespace
}  // namespace shixin
