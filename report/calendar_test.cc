#include "report/calendar.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shixin::report {
namespace {

using ::testing::HasSubstr;

Calendar Shipped() {
  absl::StatusOr<Calendar> calendar = Calendar::LoadDir(SHIXIN_TEST_SOURCE_DIR "/data/calendar");
  EXPECT_TRUE(calendar.ok()) << calendar.status();
  return calendar.ok() ? *std::move(calendar) : Calendar();
}

std::string Due(const Calendar& calendar, std::string_view quarter) {
  absl::StatusOr<Quarter> q = Quarter::Parse(quarter);
  if (!q.ok()) return std::string(q.status().message());
  absl::StatusOr<absl::CivilDay> due = calendar.DueDate(*q);
  return due.ok() ? FormatDay(*due) : std::string(due.status().message());
}

TEST(QuarterTest, ParsesAndBounds) {
  absl::StatusOr<Quarter> q = Quarter::Parse("2026Q4");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->ToString(), "2026Q4");
  EXPECT_EQ(q->FirstDay(), absl::CivilDay(2026, 10, 1));
  EXPECT_EQ(q->LastDay(), absl::CivilDay(2026, 12, 31));
  EXPECT_EQ(q->Next(), (Quarter{2027, 1}));
  EXPECT_EQ((Quarter{2026, 1}).Previous(), (Quarter{2025, 4}));
  EXPECT_EQ(Quarter::Of(absl::CivilDay(2026, 6, 30)), (Quarter{2026, 2}));
  // 2026-10-01T00:00:00+08:00 = 2026-09-30T16:00:00Z.
  EXPECT_EQ(q->BeginMicros(), int64_t{1790784000} * 1000000);
  EXPECT_EQ((Quarter{2026, 3}).EndMicros(), q->BeginMicros());
  for (const char* bad : {"2026Q5", "2026Q0", "2026-4", "26Q4", "2026Q", "", "20x6Q1"}) {
    EXPECT_FALSE(Quarter::Parse(bad).ok()) << bad;
  }
  EXPECT_THAT(Quarter::Parse("2026Q5").status().message(),
              HasSubstr("there is no quarter 5 (a year's quarters are 1 to 4)"));
  EXPECT_THAT(Quarter::Parse("2026-Q4").status().message(), HasSubstr("expected YYYYQN"));
}

TEST(CalendarTest, WorkingDaysOfTheShippedYears) {
  const Calendar calendar = Shipped();
  EXPECT_FALSE(*calendar.IsWorkingDay(absl::CivilDay(2026, 10, 1)));   // National Day
  EXPECT_TRUE(*calendar.IsWorkingDay(absl::CivilDay(2026, 10, 10)));   // Saturday, 调休
  EXPECT_FALSE(*calendar.IsWorkingDay(absl::CivilDay(2026, 10, 11)));  // Sunday
  EXPECT_TRUE(*calendar.IsWorkingDay(absl::CivilDay(2024, 2, 4)));     // Sunday, 调休
  EXPECT_FALSE(*calendar.IsWorkingDay(absl::CivilDay(2025, 2, 4)));    // Spring Festival
  EXPECT_TRUE(*calendar.IsWorkingDay(absl::CivilDay(2025, 2, 5)));
  EXPECT_EQ(calendar.Source(2026), "国务院办公厅关于2026年部分节假日安排的通知");
}

// Checked by hand against the notices (see the comments).
TEST(CalendarTest, DueDates) {
  const Calendar calendar = Shipped();
  // Apr 1-3 working, Apr 4-6 off, Apr 7 (Sunday) working, Apr 8 the fifth.
  EXPECT_EQ(Due(calendar, "2024Q1"), "2024-04-08");
  // Jul 1-5 (Mon-Fri).
  EXPECT_EQ(Due(calendar, "2024Q2"), "2024-07-05");
  // Oct 1-7 off; Oct 8 Tue, 9, 10, 11, 12 (Saturday, working).
  EXPECT_EQ(Due(calendar, "2024Q3"), "2024-10-12");
  // Jan 1 off; Jan 2, 3, 6 (Mon), 7, 8.
  EXPECT_EQ(Due(calendar, "2024Q4"), "2025-01-08");
  // Oct 1-8 off; Oct 9 Thu, 10 Fri, 11 Sat (working), 13 Mon, 14 Tue.
  EXPECT_EQ(Due(calendar, "2025Q3"), "2025-10-14");
  // Jan 1-3 off, Jan 4 (Sunday) working: 4, 5, 6, 7, 8.
  EXPECT_EQ(Due(calendar, "2025Q4"), "2026-01-08");
  // Oct 1-7 off; Oct 8 Thu, 9 Fri, 10 Sat (working), 12 Mon, 13 Tue.
  EXPECT_EQ(Due(calendar, "2026Q3"), "2026-10-13");
}

TEST(CalendarTest, AMissingYearNamesTheFileToAdd) {
  const Calendar calendar = Shipped();
  EXPECT_EQ(Due(calendar, "2026Q4"),
            "no calendar for 2027: add " SHIXIN_TEST_SOURCE_DIR "/data/calendar/2027.toml");
  EXPECT_EQ(Due(Calendar(), "2026Q4"), "no calendar for 2027: add data/calendar/2027.toml");
  absl::StatusOr<bool> working = calendar.IsWorkingDay(absl::CivilDay(2023, 5, 1));
  EXPECT_EQ(working.status().code(), absl::StatusCode::kNotFound);
}

TEST(CalendarTest, NextDue) {
  const Calendar calendar = Shipped();
  // On 2026-10-13 the Q3 report is still due today; the day after, Q4's (not in the calendar).
  EXPECT_EQ(FormatDay(*calendar.NextDue(absl::CivilDay(2026, 10, 2))), "2026-10-13");
  EXPECT_EQ(FormatDay(*calendar.NextDue(absl::CivilDay(2026, 10, 13))), "2026-10-13");
  EXPECT_THAT(calendar.NextDue(absl::CivilDay(2026, 10, 14)).status().message(),
              HasSubstr("no calendar for 2027"));
  // From November on, Q3's date has certainly passed: 2026 is not read for it.
  Calendar only_2027;
  ASSERT_TRUE(
      only_2027
          .AddYear("year = 2027\nsource = \"n\"\nholidays = []\nworking_days = []\n", "2027.toml")
          .ok());
  EXPECT_EQ(FormatDay(*only_2027.NextDue(absl::CivilDay(2026, 12, 6))), "2027-01-07");
  EXPECT_THAT(only_2027.NextDue(absl::CivilDay(2026, 10, 20)).status().message(),
              HasSubstr("no calendar for 2026"));
  EXPECT_EQ(FormatDay(*calendar.NextDue(absl::CivilDay(2026, 2, 1))), "2026-04-08");
}

absl::Status Add(std::string_view text, std::string_view name = "2026.toml") {
  Calendar calendar;
  return calendar.AddYear(text, name);
}

TEST(CalendarTest, MalformedFiles) {
  const std::string ok =
      "year = 2026\nsource = \"notice\"\nholidays = [\"2026-01-01\"]\nworking_days = "
      "[\"2026-01-04\"]\n";
  EXPECT_TRUE(Add(ok).ok()) << Add(ok);
  struct Case {
    std::string text;
    std::string name;
    std::string error;
  } cases[] = {
      {ok, "2025.toml", "2025.toml:1: year: expected 2025 (the file name's)"},
      {ok, "calendar.toml", "expected a file named YYYY.toml"},
      {"year = 2026\nsource = \"n\"\nholidays = [\"2025-12-31\"]\nworking_days = []\n", "2026.toml",
       "2026.toml:3: holidays: 2025-12-31 is not in 2026"},
      {"year = 2026\nsource = \"n\"\nholidays = []\nworking_days = [\"2026-01-05\"]\n", "2026.toml",
       "2026-01-05 is a weekday"},
      {"year = 2026\nsource = \"n\"\nholidays = [\"2026-01-04\"]\nworking_days = "
       "[\"2026-01-04\"]\n",
       "2026.toml", "2026-01-04 is both a holiday and a working day"},
      {"year = 2026\nsource = \"n\"\nholidays = [\"2026-02-30\"]\nworking_days = []\n", "2026.toml",
       "2026.toml:3: holidays: \"2026-02-30\" is no such day"},
      {"year = 2026\nsource = \"n\"\nholidays = [\"2026-2-3\"]\nworking_days = []\n", "2026.toml",
       "2026.toml:3: holidays: \"2026-2-3\" is not a YYYY-MM-DD date"},
      {"year = 2026\nsource = \"n\"\nholidays = [\"2026-01-01\", \"2026-01-01\"]\nworking_days = "
       "[]\n",
       "2026.toml", "listed twice"},
      {"year = 2026\nsource = \"n\"\nholidays = []\n", "2026.toml",
       "lacks the key \"working_days\""},
      {"year = 2026\nsource = \"n\"\nholidays = []\nworking_days = []\nextra = 1\n", "2026.toml",
       "2026.toml:5: unknown key \"extra\""},
      {"year = 2026\nholidays = [\n", "2026.toml", "2026.toml:"},
  };
  for (const Case& c : cases) {
    absl::Status s = Add(c.text, c.name);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(s.message(), HasSubstr(c.error)) << c.text;
  }
}

// The local directory's years add to the shipped ones; a year in both is the local one's; a
// missing year is to be added to the local directory, never to the shipped one.
TEST(CalendarTest, LoadShippedAndLocal) {
  const std::string shipped = SHIXIN_TEST_SOURCE_DIR "/data/calendar";
  absl::StatusOr<Calendar> none = Calendar::LoadShippedAndLocal(shipped, "", "--calendar DIR");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(Due(*none, "2026Q3"), "2026-10-13");
  EXPECT_EQ(Due(*none, "2026Q4"),
            "no calendar for 2027: add 2027.toml to a directory named by --calendar DIR; its "
            "years add to the shipped calendar");

  const std::string local =
      ::testing::TempDir() + "calendar_test_local_" + std::to_string(getpid());
  std::filesystem::create_directories(local);
  std::ofstream(local + "/2027.toml") << "year = 2027\nsource = \"n\"\nholidays = []\n"
                                         "working_days = []\n";
  std::ofstream(local + "/2026.toml") << "year = 2026\nsource = \"n\"\nholidays = []\n"
                                         "working_days = []\n";
  absl::StatusOr<Calendar> both = Calendar::LoadShippedAndLocal(shipped, local, "--calendar DIR");
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(Due(*both, "2026Q3"), "2026-10-07");  // the local 2026: no holidays
  EXPECT_EQ(Due(*both, "2026Q4"), "2027-01-07");
  EXPECT_EQ(Due(*both, "2025Q3"), "2025-10-14");  // shipped
  EXPECT_EQ(Due(*both, "2027Q4"), absl::StrCat("no calendar for 2028: add ", local, "/2028.toml"));

  std::ofstream(local + "/2028.toml") << "year = 2027\n";
  absl::StatusOr<Calendar> bad = Calendar::LoadShippedAndLocal(shipped, local, "--calendar DIR");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr(local + "/2028.toml:1"));
  EXPECT_EQ(Calendar::LoadShippedAndLocal(shipped, local + "/none", "x").status().code(),
            absl::StatusCode::kNotFound);
  // Without the shipped directory (a copied binary), the local years are read alone.
  std::filesystem::remove(local + "/2028.toml");
  absl::StatusOr<Calendar> alone =
      Calendar::LoadShippedAndLocal(local + "/no-share", local, "--calendar DIR");
  ASSERT_TRUE(alone.ok()) << alone.status();
  EXPECT_EQ(Due(*alone, "2026Q4"), "2027-01-07");
  EXPECT_EQ(Due(*alone, "2025Q3"), absl::StrCat("no calendar for 2025: add ", local, "/2025.toml"));
  EXPECT_EQ(Calendar::LoadShippedAndLocal(local + "/no-share", "", "x").status().code(),
            absl::StatusCode::kNotFound);
  std::filesystem::remove_all(local);
}

TEST(CalendarTest, LoadDirErrors) {
  EXPECT_EQ(Calendar::LoadDir("/nonexistent-calendar").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace shixin::report
