// End-to-end tests of the shixin CLI in offline mode on the shipped sample list: JSON output,
// exit statuses and error reporting, as a script would see them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct RunResult {
  std::string out;
  int status = -1;
};

// Runs the shixin binary with `args` (a shell-quoted string), capturing stdout.
RunResult Shixin(const std::string& args) {
  const std::string command = std::string(SHIXIN_TEST_BIN_DIR) + "/shixin " + args + " 2>/dev/null";
  std::string with_dir = std::string("cd ") + SHIXIN_TEST_SOURCE_DIR + " && " + command;
  RunResult run;
  FILE* pipe = popen(with_dir.c_str(), "r");
  if (pipe == nullptr) return run;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) run.out.append(buf, n);
  const int status = pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

TEST(CliOfflineTest, CheckListedPersonJson) {
  RunResult r = Shixin("check --json --data data/sample 11010519491231002X");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(
      r.out,
      HasSubstr(
          R"({"id":"11010519491231002X","listed":true,"related":false,"kind":"person","name":"张秀兰","cases":[)"));
  EXPECT_THAT(r.out, HasSubstr(R"("case_code":"（2018）黑0402执恢45号")"));
}

TEST(CliOfflineTest, TolerantInputIsNormalised) {
  RunResult r = Shixin("check --json --data data/sample ' 110105491231002 ' '23098761-3'");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr(R"({"id":"11010519491231002X","listed":true)"));
  EXPECT_THAT(
      r.out, HasSubstr(R"({"id":"230987613","listed":true,"related":false,"kind":"organization")"));
}

TEST(CliOfflineTest, RelatedPersonAndItsMeasures) {
  RunResult r = Shixin(
      "measures --json --data data/sample --scenario real_estate_signing 230402197203140038");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr(R"("listed":false,"related":true)"));
  EXPECT_THAT(r.out, HasSubstr(R"("measures":[{"no":29,)"));
  EXPECT_THAT(
      r.out,
      HasSubstr(
          R"("basis":[{"type":"related","role":"legal_representative","via":"91350503MA2XK7R352")"));
}

TEST(CliOfflineTest, UnlistedIsNotAnError) {
  RunResult r = Shixin("measures --json --data data/sample 230402199001010015");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr(R"("listed":false,"related":false)"));
  EXPECT_THAT(r.out, HasSubstr(R"("measures":[])"));
}

TEST(CliOfflineTest, InvalidIdGivesErrorObjectAndExitStatus1) {
  RunResult r = Shixin("check --json --data data/sample 110105194912310021 11010519491231002X");
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(
      r.out,
      HasSubstr(
          R"({"input":"110105194912310021","error":"bad check character: expected X, found 1"})"));
  EXPECT_THAT(r.out, HasSubstr(R"({"id":"11010519491231002X")"));  // the batch goes on
}

TEST(CliOfflineTest, OfficerTwoHop) {
  RunResult r = Shixin(
      "measures --json --data data/sample --agency banking_regulator "
      "--officer legal_representative=230402197203140038 912304216987123405");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr(R"("no":52)"));
  EXPECT_THAT(r.out, HasSubstr(R"("via_role":"legal_representative")"));
}

TEST(CliOfflineTest, UsageAndLoadErrors) {
  EXPECT_EQ(Shixin("check --data data/sample --bogus 1").status, 2);
  EXPECT_EQ(Shixin("measures --data data/sample --scenario nope 11010519491231002X").status, 2);
  EXPECT_EQ(
      Shixin("measures --data data/sample --officer king=11010519491231002X 230987613").status, 2);
  EXPECT_EQ(Shixin("check --data /nonexistent 11010519491231002X").status, 3);
  EXPECT_EQ(Shixin("frobnicate").status, 2);
}

TEST(CliOfflineTest, ReadsIdsFromStandardInput) {
  const std::string input = ::testing::TempDir() + "/ids.txt";
  FILE* f = std::fopen(input.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("11010519491231002X\n\n230402199001010015\n", f);
  std::fclose(f);
  RunResult r = Shixin("check --json --data data/sample - < " + input);
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr(R"("id":"11010519491231002X","listed":true)"));
  EXPECT_THAT(r.out, HasSubstr(R"("id":"230402199001010015","listed":false)"));
}

}  // namespace
