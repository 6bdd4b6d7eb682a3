#include "loadtest/workload.h"

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace shixin::loadtest {
namespace {

int64_t Noon(int y, int m, int d) {
  return absl::ToUnixSeconds(absl::FromCivil(absl::CivilHour(y, m, d, 12), absl::UTCTimeZone()));
}

TEST(CaseCountsAtTest, FromThePublishDateToTheEndOfTheTerm) {
  const std::string line =
      R"({"cardNum":"x","publishDate":"2021年03月13日","termEnd":"2027-06-12","iname":"y"})";
  EXPECT_FALSE(CaseCountsAt(line, Noon(2021, 3, 12)));  // not yet published
  EXPECT_TRUE(CaseCountsAt(line, Noon(2021, 3, 13)));
  EXPECT_TRUE(CaseCountsAt(line, Noon(2027, 6, 12)));
  EXPECT_FALSE(CaseCountsAt(line, Noon(2027, 6, 14)));  // term over
}

TEST(CaseCountsAtTest, NoPublishDateCountsFromTheStartAnUnreadableDateNever) {
  EXPECT_TRUE(CaseCountsAt(R"({"cardNum":"x","termEnd":"2027-06-12"})", Noon(2000, 1, 1)));
  EXPECT_FALSE(CaseCountsAt(R"({"cardNum":"x","termEnd":"2027-06-12"})", Noon(2027, 6, 14)));
  EXPECT_FALSE(CaseCountsAt(R"({"cardNum":"x","publishDate":"bad","termEnd":"2027-06-12"})",
                            Noon(2025, 1, 1)));
}

}  // namespace
}  // namespace shixin::loadtest
