#include "loadtest/delta_feed.h"

#include <utility>
#include <vector>

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

}  // namespace
}  // namespace shixin::loadtest
