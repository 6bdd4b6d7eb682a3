#include "cli/feedback_command.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace shixin {
namespace {

const std::vector<FlagSpec> kSpecs = {{"receipt", true},     {"operator", true}, {"applied", true},
                                      {"not-applied", true}, {"cancel", true},   {"matter", true},
                                      {"purpose", true}};

absl::StatusOr<std::vector<wire::FeedbackItem>> Items(const std::vector<std::string>& args) {
  absl::StatusOr<Flags> flags = Flags::Parse(args, kSpecs);
  if (!flags.ok()) return flags.status();
  return ParseFeedbackItems(*flags);
}

// Returns the message of `args`'s refusal, or "" if they parse.
std::string Refusal(const std::vector<std::string>& args) {
  absl::StatusOr<std::vector<wire::FeedbackItem>> items = Items(args);
  return items.ok() ? "" : std::string(items.status().message());
}

TEST(FeedbackFlagsTest, ParsesRepeatedFlags) {
  absl::StatusOr<std::vector<wire::FeedbackItem>> items =
      Items({"--receipt", "9f2c41d0-3-64", "--applied", "41", "--not-applied", "52=已履行完毕",
             "--cancel=29=查询有误=重复", "--applied=7"});
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 4u);
  EXPECT_EQ((*items)[0].measure, 41);
  EXPECT_EQ((*items)[0].outcome, wire::FeedbackOutcome::kApplied);
  EXPECT_EQ((*items)[1].measure, 7);
  EXPECT_EQ((*items)[2].measure, 52);
  EXPECT_EQ((*items)[2].outcome, wire::FeedbackOutcome::kNotApplied);
  EXPECT_EQ((*items)[2].reason, "已履行完毕");
  EXPECT_EQ((*items)[3].measure, 29);
  EXPECT_EQ((*items)[3].outcome, wire::FeedbackOutcome::kCancelled);
  EXPECT_EQ((*items)[3].reason, "查询有误=重复");  // only the first '=' separates
}

TEST(FeedbackFlagsTest, RefusesBadItems) {
  EXPECT_NE(Refusal({"--applied", "0"}).find("not a measure number"), std::string::npos);
  EXPECT_NE(Refusal({"--applied", "65536"}).find("not a measure number"), std::string::npos);
  EXPECT_NE(Refusal({"--applied", "x1"}).find("not a measure number"), std::string::npos);
  EXPECT_NE(Refusal({"--applied", "-1"}).find("not a measure number"), std::string::npos);
  EXPECT_EQ(Refusal({"--applied", "65535"}), "");
  EXPECT_NE(Refusal({"--not-applied", "52"}).find("needs a reason"), std::string::npos);
  EXPECT_NE(Refusal({"--not-applied", "52="}).find("needs a reason"), std::string::npos);
  EXPECT_NE(Refusal({"--cancel", "29"}).find("needs a reason"), std::string::npos);
  EXPECT_NE(Refusal({"--not-applied", "50=   "}).find("needs a reason"), std::string::npos);
  EXPECT_NE(Refusal({"--cancel", "29=\xE3\x80\x80"}).find("needs a reason"), std::string::npos);
  EXPECT_NE(Refusal({"--applied", "41=ok"}).find("takes no reason"), std::string::npos);
  EXPECT_NE(Refusal({"--applied", "41", "--cancel", "41=x"}).find("reported twice"),
            std::string::npos);
  EXPECT_NE(Refusal({"--receipt", "r"}).find("no measure"), std::string::npos);
  EXPECT_NE(Refusal({"--not-applied", "5=" + std::string(wire::kMaxReasonBytes + 1, 'r')})
                .find("exceeds the limit"),
            std::string::npos);
  std::vector<std::string> many;
  for (int i = 1; i <= 54; ++i) {
    many.push_back("--applied");
    many.push_back(std::to_string(i));
  }
  EXPECT_NE(Refusal(many).find("at most 53"), std::string::npos);
  many.resize(106);
  EXPECT_EQ(Refusal(many), "");
}

TEST(FeedbackFlagsTest, Context) {
  absl::StatusOr<Flags> flags =
      Flags::Parse({"--matter", "HG-1", "--operator", "op-7", "--purpose", "审查"}, kSpecs);
  ASSERT_TRUE(flags.ok());
  EXPECT_TRUE(HasContextFlags(*flags));
  absl::StatusOr<wire::RequestContext> c = ContextFromFlags(*flags);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->matter, "HG-1");
  EXPECT_EQ(c->operator_id, "op-7");
  EXPECT_EQ(c->purpose, "审查");
  flags = Flags::Parse({"--matter", std::string(wire::kMaxMatterBytes + 1, 'm')}, kSpecs);
  ASSERT_TRUE(flags.ok());
  EXPECT_FALSE(ContextFromFlags(*flags).ok());
  flags = Flags::Parse({}, kSpecs);
  ASSERT_TRUE(flags.ok());
  EXPECT_FALSE(HasContextFlags(*flags));
}

}  // namespace
}  // namespace shixin
