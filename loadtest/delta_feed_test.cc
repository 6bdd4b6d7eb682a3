#include "loadtest/delta_feed.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/builder.h"
#include "core/snapshot_file.h"
#include "core/test_util.h"
#include "core/validity.h"
#include "gtest/gtest.h"

namespace shixin::loadtest {
namespace {

// Two touched IDs over two fed files (sequences 8 and 9; the daemon was at 7): the first is
// listed until file 9 removes it, the second becomes related with file 8.
FeedPlan TwoFiles() {
  FeedPlan plan;
  plan.files = {"00000000000000000008.ndjson", "00000000000000000009.ndjson"};
  plan.first_sequence = 8;
  plan.touched = {MakeFixedId("11010519491231002X"), MakeFixedId("230402198001011232")};
  plan.expected = {Answer::kListed,   Answer::kUnlisted,  // before the feed
                   Answer::kListed,   Answer::kRelated,   // after file 8
                   Answer::kUnlisted, Answer::kRelated};  // after file 9
  return plan;
}

// Judges `answers` (one thread's) against TwoFiles(), INFO having shown generations 3, 4 and 5
// at sequences 7, 8 and 9.
TouchedJudgement Judge(std::vector<std::vector<TouchedAnswer>> answers) {
  FeedResult feed;
  feed.generations = {{3, 7}, {4, 8}, {5, 9}};
  std::vector<ThreadResult> results(answers.size());
  for (size_t i = 0; i < answers.size(); ++i) results[i].touched = std::move(answers[i]);
  return JudgeTouched(TwoFiles(), feed, results);
}

TEST(DeltaFeedTest, AnswersAreJudgedByTheSequenceOfTheirGeneration) {
  const TouchedJudgement j =
      Judge({{{0, 3, Answer::kListed}, {0, 5, Answer::kUnlisted}, {1, 4, Answer::kRelated}},
             {{1, 3, Answer::kUnlisted}, {0, 4, Answer::kListed}}});
  EXPECT_EQ(j.judged, 5u);
  EXPECT_EQ(j.wrong, 0u);
  EXPECT_EQ(j.unjudged, 0u);
  EXPECT_TRUE(j.samples.empty());
}

TEST(DeltaFeedTest, AnAnswerOfAnotherGenerationIsWrongAndNamed) {
  // Still listed after the removal (generation 5 = sequence 9), and an unknown generation.
  const TouchedJudgement j =
      Judge({{{0, 5, Answer::kListed}, {1, 4, Answer::kRelated}, {1, 6, Answer::kRelated}}});
  EXPECT_EQ(j.judged, 2u);
  EXPECT_EQ(j.wrong, 1u);
  EXPECT_EQ(j.unjudged, 1u);
  ASSERT_EQ(j.samples.size(), 1u);
  EXPECT_NE(j.samples[0].find("11010519491231002X at generation 5 (sequence 9): listed, expected "
                              "unlisted"),
            std::string::npos)
      << j.samples[0];
}

TEST(DeltaFeedTest, TouchedIdsLeaveTheStaticClasses) {
  const FeedPlan plan = TwoFiles();
  IdPool pool;
  pool.hits = {MakeFixedId("11010519491231002X"), MakeFixedId("110105194912310021")};
  pool.misses = {MakeFixedId("230402198001011232")};
  UseTouched(plan, &pool);
  ASSERT_EQ(pool.hits.size(), 1u);
  EXPECT_EQ(pool.hits[0].view(), "110105194912310021");
  EXPECT_TRUE(pool.misses.empty());
  EXPECT_EQ(pool.touched.size(), 2u);
}

// The plan's expectations are for its own instant and the daemon answers for its clock's: a
// subject whose answer changes between them (a removal that takes effect during the run) is
// left out of the pool, one whose change took effect before is judged.
TEST(DeltaFeedTest, SubjectsWhoseAnswerChangesDuringTheRunAreNotJudged) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / absl::StrFormat("delta_feed_test_%d", getpid()))
          .string();
  std::filesystem::create_directories(dir + "/live");
  std::filesystem::create_directories(dir + "/feed");
  SnapshotBuilder builder;
  for (int n : {1, 2}) {
    builder.AddCase(testing::MakeCase(testing::PersonId(n), "李明", "（2018）黑04执1号"));
  }
  auto built = builder.Build();
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_TRUE(WriteSnapshotFile(**built, {"test", 1}, dir + "/base.snap").ok());
  const auto remove = [](const Id& id, int64_t at) {
    return absl::StrFormat(
        R"({"op":"remove","caseCode":"（2018）黑04执1号","cardNum":"%s","reason":"performed",)"
        R"("at":"%s"})"
        "\n",
        id.text(), FormatInstant(at));
  };
  const int64_t now = NowSeconds();
  std::ofstream(dir + "/feed/00000000000000000001.ndjson")
      << remove(testing::PersonId(1), now - 2 * 86400) << remove(testing::PersonId(2), now + 120);

  FeedOptions options{dir + "/base.snap", dir + "/live", dir + "/feed"};
  options.horizon = 600;
  absl::StatusOr<FeedPlan> plan = PlanFeed(options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->touched.size(), 1u);
  EXPECT_EQ(plan->touched[0].view(), testing::PersonId(1).text());
  EXPECT_EQ(plan->Expected(0, 0), Answer::kListed);
  EXPECT_EQ(plan->Expected(1, 0), Answer::kUnlisted);
  ASSERT_EQ(plan->untracked.size(), 1u);
  EXPECT_EQ(plan->untracked[0].view(), testing::PersonId(2).text());

  options.horizon = 60;  // the removal comes after the run: judged, still listed
  plan = PlanFeed(options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->touched.size(), 2u);
  EXPECT_TRUE(plan->untracked.empty());
  std::filesystem::remove_all(dir);
}

// The pool holds the base's answers: the IDs that the files the daemon has applied already
// touched are left out of it, unless a fed file touches them too (then judged from the list
// after those files).
TEST(DeltaFeedTest, SubjectsTouchedByTheFilesAppliedAlreadyAreLeftOutOfThePool) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / absl::StrFormat("delta_feed_applied_%d", getpid()))
          .string();
  std::filesystem::create_directories(dir + "/live");
  std::filesystem::create_directories(dir + "/feed");
  SnapshotBuilder builder;
  for (int n : {1, 2, 3}) {
    builder.AddCase(testing::MakeCase(testing::PersonId(n), "李明", "（2018）黑04执1号"));
  }
  auto built = builder.Build();
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_TRUE(WriteSnapshotFile(**built, {"test", 1}, dir + "/base.snap").ok());
  const int64_t at = NowSeconds() - 2 * 86400;
  const auto remove = [&](int n) {
    return absl::StrFormat(
        R"({"op":"remove","caseCode":"（2018）黑04执1号","cardNum":"%s","reason":"performed",)"
        R"("at":"%s"})"
        "\n",
        testing::PersonId(n).text(), FormatInstant(at));
  };
  std::ofstream(dir + "/live/00000000000000000001.ndjson") << remove(1) << remove(2);
  std::ofstream(dir + "/feed/00000000000000000002.ndjson") << remove(2) << remove(3);

  absl::StatusOr<FeedPlan> plan =
      PlanFeed(FeedOptions{dir + "/base.snap", dir + "/live", dir + "/feed"});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->first_sequence, 2u);
  ASSERT_EQ(plan->untracked.size(), 1u);
  EXPECT_EQ(plan->untracked[0].view(), testing::PersonId(1).text());
  ASSERT_EQ(plan->touched.size(), 2u);  // 2 (a repeated removal: a note) and 3
  for (size_t i = 0; i < plan->touched.size(); ++i) {
    const bool two = plan->touched[i].view() == testing::PersonId(2).text();
    EXPECT_EQ(plan->Expected(0, i), two ? Answer::kUnlisted : Answer::kListed);
    EXPECT_EQ(plan->Expected(1, i), Answer::kUnlisted);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace shixin::loadtest
