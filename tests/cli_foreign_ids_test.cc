// End to end: the documents of foreign nationals in the court's list. The foreigner's permanent
// residence ID of 2023 is compiled, found, masked and exported as a person's ID; numbers shixin
// cannot hold (passports, permits, the old 15-character foreigner's card) are refused lines.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/cli_run.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using shixin::testing::RunResult;
using shixin::testing::Shixin;

// Writes `text` to `path`.
void WriteFile(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr) << path;
  std::fputs(text.c_str(), f);
  std::fclose(f);
}

// A person's debtor line naming `card_num`.
std::string PersonLine(int n, const std::string& name, const std::string& card_num) {
  return R"({"caseCode":"（2024）黑0402执)" + std::to_string(n) + R"(号","iname":")" + name +
         R"(","cardNum":")" + card_num +
         R"(","partyTypeName":"0","courtName":"鹤岗市向阳区人民法院","areaName":"黑龙江",)"
         R"("publishDate":"2024-03-01"})"
         "\n";
}

// Makes a fresh data directory `name` holding `debtors` and no relations; returns its path.
std::string MakeList(const std::string& name, const std::string& debtors) {
  std::string dir = ::testing::TempDir() + "/" + name;
  EXPECT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
  WriteFile(dir + "/debtors.ndjson", debtors);
  WriteFile(dir + "/relations.ndjson", "");
  return dir;
}

TEST(CliForeignIdsTest, AForeignersPermanentResidenceIdIsListedAsAPerson) {
  const std::string dir =
      MakeList("cli_foreign_pr", PersonLine(1, "约翰·史密斯", "933840198001010019"));
  const RunResult compiled = Shixin("compile --data " + dir + " -o " + dir + "/list.snap", true);
  EXPECT_EQ(compiled.status, 0) << compiled.out;
  EXPECT_THAT(compiled.out, Not(HasSubstr("skipped"))) << compiled.out;
  // Asked as people type it, from the snapshot and from the data directory.
  for (const std::string& source : {"--snapshot " + dir + "/list.snap", "--data " + dir}) {
    const RunResult r = Shixin("check --json " + source + " '933840 19800101 0019'");
    EXPECT_EQ(r.status, 0) << source;
    EXPECT_THAT(r.out, HasSubstr(R"({"id":"933840198001010019","listed":true,"related":false,)"
                                 R"("kind":"person","name":"约翰·史密斯")"))
        << r.out;
  }
  // The public export masks it as any person's ID.
  const RunResult exported =
      Shixin("export --public --data " + dir + " --format csv -o " + dir + "/public.csv");
  EXPECT_EQ(exported.status, 0) << exported.out;
  FILE* f = std::fopen((dir + "/public.csv").c_str(), "r");
  ASSERT_NE(f, nullptr);
  std::string text;
  for (int c; (c = std::fgetc(f)) != EOF;) text += static_cast<char>(c);
  std::fclose(f);
  EXPECT_THAT(text, HasSubstr("9338401980****0019"));
  EXPECT_THAT(text, Not(HasSubstr("933840198001010019")));
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// The foreigner's lines of one export (passport, permits, the old foreigner's card): each
// skipped with the reason that shixin cannot hold the document, the valid one listed; with
// --max-errors 0 the first stops the compile, naming its line.
TEST(CliForeignIdsTest, APersonsOtherDocumentsAreSkippedSayingSo) {
  const std::string dir =
      MakeList("cli_foreign_documents", PersonLine(1, "约翰·史密斯", "933840198001010019") +
                                            PersonLine(2, "JOHN SMITH", "USA330101800101") +
                                            PersonLine(3, "某港人", "H01234567") +
                                            PersonLine(4, "某护照", "E12345678"));
  const RunResult r =
      Shixin("compile --max-errors 5 --data " + dir + " -o " + dir + "/list.snap", true);
  EXPECT_EQ(r.status, 0) << r.out;
  for (const char* line : {"debtors.ndjson:2: ", "debtors.ndjson:3: ", "debtors.ndjson:4: "}) {
    EXPECT_THAT(r.out, HasSubstr(std::string(line) +
                                 "cardNum: not an ID number shixin can hold for a person"))
        << r.out;
  }
  EXPECT_THAT(r.out, Not(HasSubstr("check character"))) << r.out;
  EXPECT_THAT(r.out, Not(HasSubstr("bad character"))) << r.out;
  EXPECT_THAT(r.out, HasSubstr("1 persons")) << r.out;
  const RunResult strict = Shixin("compile --data " + dir + " -o " + dir + "/strict.snap", true);
  EXPECT_NE(strict.status, 0);
  EXPECT_THAT(strict.out, HasSubstr("debtors.ndjson:2: cardNum: not an ID number shixin can hold "
                                    "for a person: expected a resident ID"))
      << strict.out;
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

}  // namespace
