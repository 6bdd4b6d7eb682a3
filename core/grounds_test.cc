#include "core/grounds.h"

#include <gtest/gtest.h>

#include <string>

#include "core/validity.h"

namespace shixin {
namespace {

constexpr char kOne[] = "有履行能力而拒不履行生效法律文书确定义务";
constexpr char kReport[] = "违反财产报告制度";
constexpr char kConsumption[] = "违反限制消费令";
constexpr char kObstruct[] = "以伪造证据、暴力、威胁等方法妨碍、抗拒执行";
constexpr char kEvade[] = "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行";
constexpr char kSettlement[] = "无正当理由拒不履行执行和解协议";

TEST(GroundsTest, EachOfGroundsTwoToSixAloneHasATerm) {
  for (const char* ground : {kReport, kConsumption, kObstruct, kEvade, kSettlement}) {
    EXPECT_TRUE(OnlyFixedTermGrounds(ground)) << ground;
  }
}

// Two grounds contain "、" themselves, which also separates grounds.
TEST(GroundsTest, SeveralFixedTermGroundsInAnySeparatorHaveATerm) {
  for (const std::string& text :
       {std::string(kReport) + "," + kConsumption, std::string(kReport) + "，" + kObstruct,
        std::string(kObstruct) + "、" + kEvade, std::string(kEvade) + " , " + kSettlement,
        std::string(" ") + kReport + "\u3000、" + kConsumption + " "}) {
    EXPECT_TRUE(OnlyFixedTermGrounds(text)) << text;
  }
}

TEST(GroundsTest, GroundOneAnUnknownTextOrNothingHasNoTerm) {
  for (const std::string& text :
       {std::string(kOne), std::string(kReport) + "," + kOne, std::string(kOne) + "、" + kReport,
        std::string(kReport) + ",拒不履行", std::string("拒不履行"), std::string(""),
        std::string(" "), std::string(kReport) + ",", std::string(kReport) + kConsumption,
        std::string(kReport) + "等", std::string("以伪造证据")}) {
    EXPECT_FALSE(OnlyFixedTermGrounds(text)) << text;
  }
}

TEST(GroundsTest, ACaseWithATermEndIsNotTermless) {
  CaseView c;
  c.disrupt_type = kReport;
  EXPECT_TRUE(TermlessFixedTermCase(c));
  c.term_end = 20221020;
  EXPECT_FALSE(TermlessFixedTermCase(c));
  c.term_end = 0;
  c.disrupt_type = kOne;
  EXPECT_FALSE(TermlessFixedTermCase(c));
}

TEST(GroundsTest, TheNoteCountsAllAndNamesTheFirstFew) {
  TermlessCases none;
  EXPECT_EQ(none.count(), 0u);
  EXPECT_EQ(none.Note(), "");

  TermlessCases one;
  one.Add("（2020）黑0403执567号", DayStart(20201021));
  EXPECT_EQ(one.Note(),
            "1 case for grounds (2)-(6) only has no termEnd: it counts until the court removes "
            "it, though SPC rules Art. 2 give such a listing 2 years (（2020）黑0403执567号 since "
            "2020-10-21)");

  TermlessCases four;
  four.Add("c1", DayStart(20201021));
  four.Add("c2\n", 0);  // escaped; no publish date: since ever
  four.Add("c3", DayStart(20230815));
  four.Add("c4", DayStart(20200619));
  EXPECT_EQ(four.count(), 4u);
  EXPECT_EQ(four.Note(),
            "4 cases for grounds (2)-(6) only have no termEnd: they count until the court removes "
            "them, though SPC rules Art. 2 give such a listing 2 years (c1 since 2020-10-21, c2\\n "
            "since ever, c3 since 2023-08-15 and 1 more)");
}

}  // namespace
}  // namespace shixin
