#include "loadtest/workload.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

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

// Returns the UTC civil day `days` after today, formatted by `format` (absl::FormatTime).
std::string DayFromToday(int days, const char* format) {
  const absl::CivilDay day = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) + days;
  return absl::FormatTime(format, absl::FromCivil(day, absl::UTCTimeZone()), absl::UTCTimeZone());
}

// A run's answers must hold while it lasts: IDs whose listing a publication or an end of term
// changes in the next two days (at midnight in China, during a run) are in no class of the pool.
TEST(LoadIdPoolTest, LeavesOutWhatChangesWhileTheRunLasts) {
  const std::string dir = ::testing::TempDir() + "workload_test_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string tomorrow_ends = DayFromToday(1, "%Y-%m-%d");        // ends 16-40 h from now
  const std::string published_later = DayFromToday(2, "%Y年%m月%d日");  // 16-40 h from now
  const auto debtor = [](const std::string& id, const std::string& dates) {
    return R"({"cardNum":")" + id + R"(","iname":"x")" + dates + "}\n";
  };
  std::ofstream(dir + "/debtors.ndjson")
      << debtor("230402198503150611", R"(,"publishDate":"2020年01月01日")")  // a hit
      << debtor("230403199902020014", R"(,"termEnd":")" + tomorrow_ends + R"(")")
      << debtor("230404197808082013", R"(,"publishDate":")" + published_later + R"(")")
      << debtor("91230402MA1B7Q2C9U", "")  // an organisation listed all along
      << debtor("91350503MA2XK7R352", R"(,"termEnd":")" + tomorrow_ends + R"(")");
  const auto relation = [](const std::string& org, const std::string& person) {
    return R"({"orgId":")" + org + R"(","personId":")" + person + R"(","role":"legal"})" + "\n";
  };
  std::ofstream(dir + "/relations.ndjson")
      << relation("91230402MA1B7Q2C9U", "350502196609120051")   // related all along
      << relation("91350503MA2XK7R352", "230402197203140038")   // not after tomorrow
      << relation("91230402MA1B7Q2C9U", "230404197808082013");  // listed itself after tomorrow
  absl::StatusOr<IdPool> pool = LoadIdPool(PoolOptions{dir, 100, 1});
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(pool.ok()) << pool.status();
  const auto texts = [](const std::vector<FixedId>& ids) {
    std::vector<std::string> out;
    out.reserve(ids.size());
    for (const FixedId& id : ids) out.emplace_back(id.view());
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(texts(pool->hits),
            (std::vector<std::string>{"230402198503150611", "91230402MA1B7Q2C9U"}));
  EXPECT_EQ(texts(pool->related), (std::vector<std::string>{"350502196609120051"}));
  EXPECT_EQ(pool->listed_total, 4u);  // listed now: all but the one published later
  for (const FixedId& id : pool->misses) {
    EXPECT_NE(id.view(), "230404197808082013");
    EXPECT_NE(id.view(), "230402197203140038");
  }
}

// The mix as used: normalised over the classes with IDs; none left is an error, not a crash.
TEST(WorkloadTest, UsedMixIsNormalisedOverTheClassesWithIds) {
  IdPool pool;
  pool.hits.push_back(MakeFixedId("230402198503150611"));
  pool.misses.push_back(MakeFixedId("110105194001010016"));
  absl::StatusOr<Mix> used = UsedMix(pool, Mix{1, 0.4, 0.1, 0.2, 0.5});
  ASSERT_TRUE(used.ok()) << used.status();
  EXPECT_DOUBLE_EQ(used->hit, 1 / 1.4);
  EXPECT_DOUBLE_EQ(used->miss, 0.4 / 1.4);
  EXPECT_EQ(used->related, 0);  // no related IDs
  EXPECT_EQ(used->touched, 0);  // no touched IDs
  EXPECT_EQ(used->measures, 0.5);
  EXPECT_FALSE(UsedMix(pool, Mix{0, 0, 0.1, 0, 0}).ok());  // only related, and none of them
  EXPECT_FALSE(UsedMix(IdPool{}, Mix{}).ok());             // an empty pool (--sample 0)
}

}  // namespace
}  // namespace shixin::loadtest
