// A test fixture: a synthetic base list of 3,000 subjects built in memory and the generator's
// stream of six delta files over it, read, with up to 10,000 IDs to ask about (listed,
// related, touched by the deltas, unlisted), for the tests that compare overlays made in
// different ways (replay, checkpoints).
//
// Thread safety: a test fixture; one thread.
#ifndef SHIXIN_CORE_SYNTHETIC_DELTAS_TEST_H_
#define SHIXIN_CORE_SYNTHETIC_DELTAS_TEST_H_

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
#include "core/snapshot.h"
#include "core/test_util.h"
#include "synthetic/deltas.h"
#include "synthetic/synthetic.h"

namespace shixin::testing {

class SyntheticDeltasTest : public ::testing::Test {
 protected:
  static constexpr int kFiles = 6;

  void SetUp() override {
    dir_ =
        (std::filesystem::temp_directory_path() / absl::StrCat("synthetic_deltas_test_", getpid()))
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
    for (int i = 0; i < 500; ++i) ids_.push_back(PersonId(i));
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

}  // namespace shixin::testing

#endif  // SHIXIN_CORE_SYNTHETIC_DELTAS_TEST_H_
