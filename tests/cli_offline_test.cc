// End-to-end tests of the shixin CLI in offline mode on the shipped sample list: JSON output,
// exit statuses and error reporting, as a script would see them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "tests/cli_pipe.h"
#include "tests/cli_run.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using shixin::testing::PipedRun;
using shixin::testing::RunInSourceDir;
using shixin::testing::RunResult;
using shixin::testing::Shixin;

// What each load of the sample says on stderr: its four cases for grounds (2)-(6) only without
// termEnd count on (docs/feed.md, section 1).
const std::string kSampleNote =
    "shixin: note: debtors.ndjson:3: 4 cases for grounds (2)-(6) only have no termEnd: they "
    "count until the court removes them, though SPC rules Art. 2 give such a listing 2 years "
    "(（2020）黑0403执567号 since 2020-10-21, (2021)浙0111执恢286号 since 2021-05-27, "
    "（2023）黑0402执1024号 since 2023-08-15 and 1 more)\n";

// Runs shixin with `args`; expects exit status `status` and each of `shown` in its output.
void ExpectShixin(const std::string& args, int status, const std::vector<std::string>& shown) {
  const RunResult r = Shixin(args);
  EXPECT_EQ(r.status, status) << args;
  for (const std::string& part : shown) EXPECT_THAT(r.out, HasSubstr(part)) << args;
}

TEST(CliOfflineTest, CheckListedPersonJson) {
  ExpectShixin(
      "check --json --data data/sample 11010519491231002X", 0,
      {R"({"id":"11010519491231002X","listed":true,"related":false,"kind":"person","name":"张秀兰",)"
       R"("since":"2015-09-08T00:00:00+08:00","until":null,"cases":[)",
       R"("case_code":"（2018）黑0402执恢45号")"});
}

TEST(CliOfflineTest, TolerantInputIsNormalised) {
  ExpectShixin("check --json --data data/sample ' 110105491231002 ' '23098761-3'", 0,
               {R"({"id":"11010519491231002X","listed":true)",
                R"({"id":"230987613","listed":true,"related":false,"kind":"organization")"});
}

// The sample lists 230987613 by its old organisation code only; banks ask by the credit code
// embedding it (characters 9-17, GB 32100): the same subject, listed, with its measures; the
// answer's id is the ID asked.
TEST(CliOfflineTest, ACreditCodeFindsTheOrganisationListedByItsOrgCode) {
  ExpectShixin("check --json --data data/sample 912304002309876133", 0,
               {R"({"id":"912304002309876133","listed":true,"related":false,"kind":"organization",)"
                R"("name":"鹤岗市龙腾煤业有限责任公司")",
                R"("case_code":"(2016)黑0403执302号")"});
  ExpectShixin("measures --json --data data/sample --scenario bank_credit 912304002309876133", 0,
               {R"("measures":[{"no":52,)", R"("basis":[{"type":"listed"}])"});
}

TEST(CliOfflineTest, RelatedPersonAndItsMeasures) {
  ExpectShixin(
      "measures --json --data data/sample --scenario real_estate_signing 230402197203140038", 0,
      {R"("listed":false,"related":true)", R"("measures":[{"no":29,)",
       R"("basis":[{"type":"related","role":"legal_representative","via":"91350503MA2XK7R352")"});
}

TEST(CliOfflineTest, UnlistedIsNotAnError) {
  ExpectShixin("measures --json --data data/sample 230402199001010015", 0,
               {R"("listed":false,"related":false)", R"("measures":[])"});
}

TEST(CliOfflineTest, InvalidIdGivesErrorObjectAndExitStatus1) {
  ExpectShixin(
      "check --json --data data/sample 110105194912310021 11010519491231002X", 1,
      {R"({"input":"110105194912310021","error":"bad check character: expected X, found 1"})",
       R"({"id":"11010519491231002X")"});  // the batch goes on
}

TEST(CliOfflineTest, OfficerTwoHop) {
  ExpectShixin(
      "measures --json --data data/sample --agency banking_regulator "
      "--officer legal_representative=230402197203140038 912304216987123405",
      0, {R"("no":52)", R"("via_role":"legal_representative")"});
}

// MEASURES carries at most 16 officers; offline refuses more as server mode does (exit 2, the
// same message), not answering what a server would refuse.
TEST(CliOfflineTest, MoreOfficersThanMeasuresCarriesIsAUsageError) {
  std::string officers;
  for (int i = 0; i < 16; ++i) officers += "--officer director=230403197011230713 ";
  const std::string measures = "measures --data data/sample " + officers;
  const RunResult over =
      Shixin(measures + "--officer director=230403197011230713 91350503MA2XK7R352", true);
  EXPECT_EQ(over.status, 2) << over.out;
  EXPECT_THAT(over.out, HasSubstr("shixin measures: 17 --officer flags exceed MEASURES' limit of "
                                  "16"));
  const RunResult at = Shixin(measures + "91350503MA2XK7R352");
  EXPECT_EQ(at.status, 0) << at.out;
}

// x27 #8: shixin prints its version as shixind does, from the same source.
TEST(CliOfflineTest, VersionIsTheDaemons) {
  const RunResult daemon = RunInSourceDir(std::string(SHIXIN_TEST_BIN_DIR) + "/shixind --version");
  ASSERT_EQ(daemon.status, 0);
  ASSERT_THAT(daemon.out, ::testing::StartsWith("shixind/"));
  const std::string want = "shixin/" + daemon.out.substr(std::string("shixind/").size());
  for (const std::string args : {"--version", "version"}) {
    const RunResult r = Shixin(args, true);
    EXPECT_EQ(r.status, 0) << args;
    EXPECT_EQ(r.out, want) << args;
  }
  EXPECT_THAT(Shixin("help").out, HasSubstr("print shixin/VERSION"));
}

TEST(CliOfflineTest, UsageAndLoadErrors) {
  EXPECT_EQ(Shixin("check --data data/sample --bogus 1").status, 2);
  EXPECT_EQ(Shixin("measures --data data/sample --scenario nope 11010519491231002X").status, 2);
  EXPECT_EQ(
      Shixin("measures --data data/sample --officer king=11010519491231002X 230987613").status, 2);
  EXPECT_EQ(Shixin("check --data /nonexistent 11010519491231002X").status, 3);
  EXPECT_EQ(Shixin("frobnicate").status, 2);
  // Server mode: a bad address or flag is a usage error; a refused connection is not.
  EXPECT_EQ(Shixin("check --server 127.0.0.1 11010519491231002X").status, 2);
  EXPECT_EQ(Shixin("info --server 127.0.0.1:1 --timeout-ms 0").status, 2);
  EXPECT_EQ(Shixin("info --server 127.0.0.1:1 --ca ca.pem").status, 2);
  EXPECT_EQ(Shixin("info --server 127.0.0.1:1").status, 5);  // the server is not reached
  EXPECT_EQ(Shixin("info --server 127.0.0.1:1 extra").status, 2);
  EXPECT_EQ(Shixin("check --server 127.0.0.1:1 --data /nonexistent 11010519491231002X").status, 2);
  EXPECT_EQ(Shixin("measures --server 127.0.0.1:1 --catalog x.json 11010519491231002X").status, 2);
  EXPECT_EQ(Shixin("export --public -o - --format csv --data data/sample extra").status, 2);
  const RunResult format = Shixin("export --public -o - --format CSV --data data/sample", true);
  EXPECT_EQ(format.status, 2);
  EXPECT_THAT(format.out, HasSubstr("--format CSV: expected ndjson or csv"));
  // A number flag's bad value is a usage error (2), not data that could not be read (3).
  for (const std::string args :
       {"compile --data data/sample --delta-sequence abc -o x.snap",
        "compile --data data/sample --delta-sequence -1 -o x.snap",
        "compile --data data/sample --deltas d --history-days 0 -o x.snap",
        "compile --data data/sample --history-days abc -o x.snap",
        "check --data data/sample --max-errors abc 11010519491231002X",
        "gen --out g --subjects many", "delta check --data data/sample --max-delta-mb x f"}) {
    const RunResult r = Shixin(args, true);
    EXPECT_EQ(r.status, 2) << args << ": " << r.out;
    EXPECT_THAT(r.out, HasSubstr("see shixin help")) << args;
  }
}

// Server-mode flags without --server are a usage error, as --matter is: a script that lost its
// --server must not answer from a local copy as if it had authenticated.
TEST(CliOfflineTest, ServerFlagsWithoutServerAreAUsageError) {
  for (const std::string flag :
       {"--caller x", "--token-file /nonexistent", "--tls", "--ca /nonexistent", "--cert c.pem",
        "--key k.pem", "--no-going-back", "--no-retry", "--timeout-ms 5", "--fail-stale"}) {
    for (const std::string command : {"check", "measures"}) {
      std::string args = command;
      args.append(" --data data/sample ").append(flag).append(" 11010519491231002X");
      const RunResult r = Shixin(args, true);
      EXPECT_EQ(r.status, 2) << command << " " << flag;
      EXPECT_THAT(r.out, HasSubstr(flag.substr(0, flag.find(' ')) + " needs --server"))
          << command << " " << flag;
      EXPECT_THAT(r.out, Not(HasSubstr("LISTED"))) << command << " " << flag;
    }
  }
  EXPECT_EQ(Shixin("catalog --tls").status, 2);
  EXPECT_EQ(Shixin("catalog").status, 0);
}

// compile writes a snapshot file for shixind to map: "-o -" is refused (export, report and
// notice write standard output for it), not written to a file named "-".
TEST(CliOfflineTest, CompileRefusesStandardOutput) {
  const std::string stray = std::string(SHIXIN_TEST_SOURCE_DIR) + "/-";
  std::remove(stray.c_str());
  const RunResult r = Shixin("compile --data data/sample -o -", true);
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.out, HasSubstr("-o -: a snapshot is written to a file"));
  EXPECT_NE(std::remove(stray.c_str()), 0) << "a file named \"-\" was written";
}

// The same condition exits the same way in every command (shixin help: exit status): a file
// that cannot be read is this run's failure on stderr (3), not a refusal on stdout (1).
TEST(CliOfflineTest, DeltaCheckOfAFileThatCannotBeReadExits3) {
  const RunResult out = Shixin("delta check /nonexistent/00000000000000000001.ndjson");
  EXPECT_EQ(out.status, 3);
  EXPECT_EQ(out.out, "");
  const RunResult err =
      Shixin("delta check /nonexistent/00000000000000000001.ndjson 2>&1 >/dev/null | cat");
  EXPECT_THAT(err.out, HasSubstr("shixin delta check: "));
  EXPECT_THAT(err.out, HasSubstr("No such file"));
}

// Output lost to a full disk is an error (exit 3), not a silent success.
TEST(CliOfflineTest, OutputThatCannotBeWrittenFails) {
  const std::string errors = ::testing::TempDir() + "/cli_full_stderr";
  const int status =
      std::system((std::string("cd ") + SHIXIN_TEST_SOURCE_DIR + " && " + SHIXIN_TEST_BIN_DIR +
                   "/shixin check --data data/sample 11010519491231002X >/dev/full 2>" + errors)
                      .c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << status;
  std::ifstream in(errors);
  EXPECT_THAT(std::string(std::istreambuf_iterator<char>(in), {}),
              HasSubstr("cannot write to standard output: No space left on device"));
  std::remove(errors.c_str());
  EXPECT_EQ(Shixin("catalog --json >/dev/full").status, 3);
}

// shixin COMMAND --help and shixin help COMMAND: that command's usage.
TEST(CliOfflineTest, HelpOfOneCommand) {
  for (const std::string args : {"measures --help", "measures -h", "help measures"}) {
    const RunResult help = Shixin(args);
    EXPECT_EQ(help.status, 0) << args;
    EXPECT_THAT(help.out, HasSubstr("usage: shixin measures")) << args;
    EXPECT_THAT(help.out, HasSubstr("--scenario S")) << args;
    EXPECT_THAT(help.out, Not(HasSubstr("caller add"))) << args;
  }
  EXPECT_THAT(Shixin("help").out, HasSubstr("caller add"));  // everything
  // After a two-word command, or after other flags.
  for (const std::string args :
       {"caller add --help", "delta check --help", "check --data data/sample -h"}) {
    const RunResult help = Shixin(args);
    EXPECT_EQ(help.status, 0) << args << help.out;
    EXPECT_THAT(help.out, HasSubstr("usage: shixin ")) << args;
  }
}

// --as-of: an instant outside the last 1826 days (before, or in the future) or malformed is a
// usage error, and nothing is answered. The epoch's instant is the protocol's "now": it is
// refused too, not answered for now.
TEST(CliOfflineTest, AsOfOutsideTheHistoryIsAUsageError) {
  for (const char* at : {"1999-01-01T00:00:00+08:00", "2999-01-01T00:00:00Z", "yesterday",
                         "1970-01-01T00:00:00Z", "1970-01-01T08:00:00.9+08:00"}) {
    for (const char* command : {"check", "measures"}) {
      const RunResult r = Shixin(std::string(command) + " --json --as-of " + at +
                                 " --data data/sample 11010519491231002X");
      EXPECT_EQ(r.status, 2) << command << " " << at;
      EXPECT_EQ(r.out, "") << command << " " << at;
      if (absl::StartsWith(at, "1970")) {
        EXPECT_THAT(Shixin(std::string(command) + " --as-of " + at +
                               " --data data/sample 11010519491231002X",
                           /*with_stderr=*/true)
                        .out,
                    HasSubstr("instants start after 1970-01-01T00:00:00Z"))
            << at;
      }
    }
  }
}

TEST(CliOfflineTest, ReadsIdsFromStandardInput) {
  const std::string input = ::testing::TempDir() + "/ids.txt";
  FILE* f = std::fopen(input.c_str(), "w");
  ASSERT_NE(f, nullptr);
  // A byte order mark first (Notepad's UTF-8), blank lines, CRLF and no last newline.
  std::fputs(
      "\xEF\xBB\xBF"
      "11010519491231002X\r\n\n230402199001010015",
      f);
  std::fclose(f);
  ExpectShixin("check --json --data data/sample - < " + input, 0,
               {R"("id":"11010519491231002X","listed":true)",
                R"("id":"230402199001010015","listed":false)"});
  // Input that cannot be read is an error, not an empty run.
  EXPECT_EQ(Shixin("check --data data/sample < " + ::testing::TempDir()).status, 3);
}

// Blank lines are skipped, so an invalid ID from standard input is named by its line: in its
// JSON object ("line"), in text ("line N: "), and on stderr ("shixin: stdin:N: ..."), once.
TEST(CliOfflineTest, AnInvalidIdOnStandardInputIsNamedByItsLine) {
  const std::string input = ::testing::TempDir() + "/blank.txt";
  FILE* f = std::fopen(input.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("11010519491231002X\n\n   \n11010519491231002Y\n230402199001010015\n", f);
  std::fclose(f);
  const RunResult json = Shixin("check --json --data data/sample - < " + input);
  EXPECT_EQ(json.status, 1);
  EXPECT_THAT(json.out, HasSubstr(R"({"line":4,"input":"11010519491231002Y","error":"bad check)"));
  const RunResult text = Shixin("check --data data/sample - < " + input);
  EXPECT_THAT(text.out, HasSubstr("11010519491231002Y  INVALID  line 4: bad check character"));
  const RunResult err = Shixin("check --data data/sample - < " + input + " 2>&1 >/dev/null | cat");
  EXPECT_EQ(err.out, kSampleNote +
                         "shixin: stdin:4: \"11010519491231002Y\": bad check character: "
                         "expected X, found Y\n");
  // An argument is where the user typed it: no line, nothing on stderr but the load's note.
  const RunResult arg = Shixin("check --json --data data/sample 11010519491231002Y", true);
  EXPECT_EQ(arg.out, kSampleNote + R"({"input":"11010519491231002Y","error":"bad check character: )"
                                   "expected X, found Y\"}\n");
}

// Writes `text` to `path`.
void WriteFile(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr) << path;
  std::fwrite(text.data(), 1, text.size(), f);  // binary too
  std::fclose(f);
}

// Returns the lines of `text`, and what follows the last newline ("" after a last newline).
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines(1);
  for (const char c : text) {
    if (c == '\n') {
      lines.emplace_back();
    } else {
      lines.back() += c;
    }
  }
  return lines;
}

// Standard input is answered as it comes, not at its end: an operator typing IDs, or a producer
// that keeps the pipe open (`tail -f`, a queue consumer), reads each answer while the input is
// still open; the line numbers and the exit status are those of the whole run.
TEST(CliOfflineTest, StandardInputIsAnsweredWhileItIsOpen) {
  const std::chrono::seconds wait(10);  // an upper bound: the answers come at once
  for (const std::string command : {"check", "measures"}) {
    SCOPED_TRACE(command);
    PipedRun run({std::string(SHIXIN_TEST_BIN_DIR) + "/shixin", command, "--json", "--data",
                  std::string(SHIXIN_TEST_SOURCE_DIR) + "/data/sample"});
    ASSERT_TRUE(run.started());
    ASSERT_TRUE(run.Write("11010519491231002X\n"));
    EXPECT_THAT(run.ReadLines(1, wait), HasSubstr(R"({"id":"11010519491231002X","listed":true)"));
    ASSERT_TRUE(run.Write("\n110105194912310021\n"));  // line 3: invalid
    EXPECT_THAT(run.ReadLines(2, wait), HasSubstr(R"({"line":3,"input":"110105194912310021",)"));
    ASSERT_TRUE(run.Write("230402199001010015"));  // the last line, without a newline
    EXPECT_EQ(run.Wait(wait), 1);
    const std::vector<std::string> lines = Lines(run.out());
    ASSERT_EQ(lines.size(), 4u) << run.out();
    EXPECT_THAT(lines[2], HasSubstr(R"({"id":"230402199001010015","listed":false)"));
  }
}

// Writes `lines` IDs to `path`: the sample's IDs in turn, an invalid one on line `bad`, a blank
// line before each hundredth. Returns the IDs expected in the output, in order ("" for `bad`).
std::vector<std::string> WriteManyIds(const std::string& path, size_t lines, size_t bad) {
  const std::vector<std::string> sample = {"11010519491231002X", "230402198503150611", "230987613",
                                           "91350503MA2XK7R352", "230402199001010015"};
  std::string text;
  std::vector<std::string> expected;
  for (size_t line = 1; line <= lines; ++line) {
    if (line % 100 == 0) {
      text += "\n";
      continue;
    }
    if (line == bad) {
      text += "110105194912310021\n";
      expected.push_back("");
      continue;
    }
    text += sample[line % sample.size()] + "\n";
    expected.push_back(sample[line % sample.size()]);
  }
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return {};
  std::fputs(text.c_str(), f);
  std::fclose(f);
  return expected;
}

// More IDs than one chunk (4,096) read at a time: the answers keep the input's order across
// chunks, an invalid ID in a later chunk is named by its line of the whole input, and the exit
// status is the run's; from a file or a pipe alike.
TEST(CliOfflineTest, MoreIdsThanAChunkKeepOrderLinesAndStatus) {
  const std::string input = ::testing::TempDir() + "/many_ids.txt";
  const std::vector<std::string> expected = WriteManyIds(input, 10000, 6001);
  ASSERT_FALSE(expected.empty());
  const std::string out = ::testing::TempDir() + "/many_ids.out";
  const std::string piped = "cat " + input + " | " + SHIXIN_TEST_BIN_DIR +
                            "/shixin check --json --data " + SHIXIN_TEST_SOURCE_DIR +
                            "/data/sample > " + out;
  for (const bool pipe : {false, true}) {
    SCOPED_TRACE(pipe ? "a pipe" : "a file");
    RunResult r;
    if (pipe) {
      const int status = std::system(piped.c_str());
      r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      std::ifstream file(out);
      r.out.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    } else {
      r = Shixin("check --json --data data/sample - < " + input);
    }
    EXPECT_EQ(r.status, 1);
    const std::vector<std::string> lines = Lines(r.out);
    ASSERT_EQ(lines.size(), expected.size() + 1);
    for (size_t i = 0; i < expected.size(); ++i) {
      if (expected[i].empty()) {
        EXPECT_THAT(lines[i], HasSubstr(R"({"line":6001,"input":"110105194912310021",)"));
      } else {
        ASSERT_THAT(lines[i], HasSubstr("{\"id\":\"" + expected[i] + "\"")) << "answer " << i;
      }
    }
  }
  const RunResult err = Shixin("check --data data/sample < " + input + " 2>&1 >/dev/null | cat");
  EXPECT_EQ(err.out, kSampleNote +
                         "shixin: stdin:6001: \"110105194912310021\": bad check character: "
                         "expected X, found 1\n");
}

// A line longer than 4 KiB is no ID: refused as that line's answer (its beginning shown), not
// held in memory whole, and the lines after it are answered.
TEST(CliOfflineTest, AnOverlongLineIsRefusedAsItsLinesAnswer) {
  const std::string input = ::testing::TempDir() + "/long_line.txt";
  const std::string kept(4096, '1');  // the longest taken: an invalid ID, for its length
  WriteFile(input, "11010519491231002X\n" + std::string(1 << 20, '9') + "\n" + kept +
                       "\n230402199001010015\n" + std::string(5000, 'x'));
  const RunResult r = Shixin("check --json --data data/sample < " + input);
  EXPECT_EQ(r.status, 1);
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 6u) << r.out.substr(0, 1000);
  EXPECT_THAT(lines[0], HasSubstr(R"({"id":"11010519491231002X")"));
  EXPECT_EQ(lines[1], R"({"line":2,"input":")" + std::string(32, '9') +
                          R"(...","error":"line longer than 4096 bytes"})");
  EXPECT_THAT(lines[2], HasSubstr(R"({"line":3,"input":")" + kept + "\""));
  EXPECT_THAT(lines[2], Not(HasSubstr("longer than")));
  EXPECT_THAT(lines[3], HasSubstr(R"({"id":"230402199001010015")"));
  EXPECT_THAT(lines[4], HasSubstr(R"({"line":5,"input":"xxxx)"));
  EXPECT_THAT(lines[4], HasSubstr("line longer than 4096 bytes"));
  const RunResult text = Shixin("check --data data/sample < " + input + " 2>&1 >/dev/null | cat");
  EXPECT_THAT(text.out, HasSubstr("shixin: stdin:2: \"" + std::string(32, '9') +
                                  "...\": line longer than 4096 bytes\n"));
}

// As shixind, offline mode never answers from an empty list ("not listed" for everyone).
TEST(CliOfflineTest, AnEmptyListIsRefused) {
  const std::string dir = ::testing::TempDir() + "/cli_empty_list";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir + " && : > " + dir +
                         "/debtors.ndjson && : > " + dir + "/relations.ndjson")
                            .c_str()),
            0);
  const RunResult check = Shixin("check --data " + dir + " 11010519491231002X", true);
  EXPECT_EQ(check.status, 3);
  EXPECT_THAT(check.out, HasSubstr("the list is empty"));
  EXPECT_EQ(Shixin("export --public -o - --format csv --data " + dir).status, 3);
  // Nor does compile write it, for shixind to refuse at its next start: nothing is written.
  const RunResult compile = Shixin("compile --data " + dir + " -o " + dir + "/list.snap", true);
  EXPECT_EQ(compile.status, 3);
  EXPECT_THAT(compile.out, HasSubstr("the list is empty (0 subjects: no valid record in "
                                     "debtors.ndjson), which shixind refuses"));
  EXPECT_NE(std::system(("test -e " + dir + "/list.snap").c_str()), 0);
  // A valid case that does not count yet (its grace period) is no bad record: said apart.
  ASSERT_EQ(std::system(("head -1 " SHIXIN_TEST_SOURCE_DIR "/data/sample/debtors.ndjson | sed -E "
                         "'s/\"publishDate\":\"[^\"]*\"/\"publishDate\":\"2099-01-15\"/' > " +
                         dir + "/debtors.ndjson")
                            .c_str()),
            0);
  EXPECT_THAT(Shixin("check --data " + dir + " 11010519491231002X", true).out,
              HasSubstr("the list is empty (none of its 1 cases counts at "));
  ASSERT_EQ(std::system((": > " + dir + "/debtors.ndjson").c_str()), 0);
  // Unless asked (a fuzzer's seed).
  EXPECT_EQ(Shixin("compile --allow-empty --data " + dir + " -o " + dir + "/list.snap").status, 0);
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// Names in the list are not the CLI's to trust: text output writes their control characters
// escaped (TerminalSafe), so that an escape sequence does not reach the terminal and a line
// break does not split a record an `awk '$2=="LISTED"'` reads; JSON escapes them already.
TEST(CliOfflineTest, TextOutputEscapesControlCharactersInNames) {
  const std::string dir = ::testing::TempDir() + "/cli_evil_names";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
  std::ifstream sample(std::string(SHIXIN_TEST_SOURCE_DIR) + "/data/sample/debtors.ndjson");
  std::string line;
  ASSERT_TRUE(std::getline(sample, line));
  const std::string name = R"("iname":"张秀兰")";
  ASSERT_NE(line.find(name), std::string::npos) << line;
  line.replace(line.find(name), name.size(), R"("iname":"王\u001b[31m红\n四")");
  WriteFile(dir + "/debtors.ndjson", line + "\n");
  WriteFile(dir + "/relations.ndjson", "");
  for (const char* command : {"check", "measures"}) {
    const RunResult r = Shixin(std::string(command) + " --data " + dir + " 11010519491231002X");
    EXPECT_EQ(r.status, 0) << command;
    EXPECT_THAT(r.out, HasSubstr("  王\\x1b[31m红\\n四")) << command;
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << command;
  }
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// An error message quotes what was given escaped, as the server's messages do (FORMAT.md 6):
// an escape sequence and bytes that are not UTF-8 in --agency reach stderr as \xNN.
TEST(CliOfflineTest, ErrorMessagesQuoteTheArgumentEscaped) {
  const RunResult r = Shixin(
      "measures --data data/sample --agency \"$(printf '\\033[31m\\377')\" 11010519491231002X",
      true);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out,
              HasSubstr("shixin measures: unknown agency \"\\x1b[31m\\xff\" (see shixin help)"));
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
}

// `gen --today` dates the list and its deltas: the first delta is on the next working day (the
// 2nd of January 2025 was a Thursday); a day that is not a date is a usage error.
TEST(CliOfflineTest, GenDatesTheListAndItsDeltasOnToday) {
  const std::string dir = ::testing::TempDir() + "/cli_gen_today";
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
  ExpectShixin("gen --subjects 50 --today 20250102 --deltas 2 --changes-per-delta 20 --out " + dir,
               0, {"2 delta files"});
  const auto read = [&dir](const std::string& name) {
    std::ifstream in(dir + "/deltas/" + name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string first = read("00000000000000000001.ndjson");
  EXPECT_THAT(first, HasSubstr("\"at\":\"2025-01-03T")) << first;
  EXPECT_THAT(first, ::testing::Not(HasSubstr("\"at\":\"2025-01-06T")));
  EXPECT_THAT(read("00000000000000000002.ndjson"), HasSubstr("\"at\":\"2025-01-06T"))
      << "the Monday after";
  EXPECT_EQ(Shixin("gen --subjects 50 --today 20250230 --out " + dir + "/x").status, 2);
  EXPECT_EQ(Shixin("gen --subjects 50 --today 2025 --out " + dir + "/x").status, 2);
  // Outside the days it can write a loadable list for (2024: subjects born in 2005 turn 19; 2090:
  // subjects born in 1940 would be over 150, x31 #11).
  for (const char* today : {"20231231", "20200101", "20900101"}) {
    const RunResult r =
        Shixin(std::string("gen --subjects 50 --today ") + today + " --out " + dir + "/x",
               /*with_stderr=*/true);
    EXPECT_EQ(r.status, 2) << today;
    EXPECT_THAT(r.out, HasSubstr("outside the days gen writes a list for (2024-01-01 to "
                                 "2089-12-31)"))
        << today;
  }
  EXPECT_THAT(Shixin("gen --subjects 50 --today 20270229 --out " + dir + "/x", true).out,
              HasSubstr("--today 20270229: no such day"));
  // The last day allowed writes a list, and deltas, that load.
  ExpectShixin("gen --subjects 3000 --today 20891231 --deltas 3 --changes-per-delta 500 --out " +
                   dir + "/last",
               0, {"3 delta files"});
  ExpectShixin(
      "compile --data " + dir + "/last --deltas " + dir + "/last/deltas -o " + dir + "/last.snap",
      0, {});
}

// A gen into the directory of an earlier one removes the delta files that run left: made
// against another base, they would apply to the new one. Other files stay.
TEST(CliOfflineTest, GenRemovesTheDeltasOfAnEarlierRun) {
  const std::string dir = ::testing::TempDir() + "/cli_gen_again";
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
  ExpectShixin("gen --subjects 50 --today 20250102 --deltas 3 --changes-per-delta 5 --out " + dir,
               0, {"3 delta files"});
  WriteFile(dir + "/deltas/notes.txt", "mine\n");
  ExpectShixin("gen --subjects 50 --seed 9 --today 20250102 --out " + dir, 0,
               {"removed " + dir + "/deltas: 3 delta files of an earlier run"});
  EXPECT_FALSE(std::filesystem::exists(dir + "/deltas/00000000000000000001.ndjson"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/deltas/notes.txt"));
  ExpectShixin("gen --subjects 50 --seed 9 --today 20250102 --deltas 1 --out " + dir, 0,
               {"1 delta files"});
  EXPECT_FALSE(std::filesystem::exists(dir + "/deltas/00000000000000000002.ndjson"));
}

// A list generated for a day holds cases published after it only in the documented share
// (synthetic.h: 0.3 %, 31-92 days later, their grace period), and gen says how many.
TEST(CliOfflineTest, GenSaysHowManyCasesAreInTheirGracePeriod) {
  const std::string dir = ::testing::TempDir() + "/cli_gen_grace";
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
  const RunResult r = Shixin("gen --subjects 5000 --today 20250102 --out " + dir);
  ASSERT_EQ(r.status, 0);
  const size_t at = r.out.find(" in their grace period: published after 20250102)");
  ASSERT_NE(at, std::string::npos) << r.out;
  const size_t from = r.out.rfind('(', at) + 1;
  const int said = std::atoi(r.out.substr(from, at - from).c_str());
  std::ifstream in(dir + "/debtors.ndjson");
  int later = 0;
  int cases = 0;
  for (std::string line; std::getline(in, line); ++cases) {
    const size_t p = line.find("\"publishDate\":\"");
    ASSERT_NE(p, std::string::npos) << line;
    // "2025年01月02日": compared as YYYYMMDD.
    std::string date;
    for (char c : line.substr(p + 15, 20)) {
      if (c >= '0' && c <= '9' && date.size() < 8) date += c;
    }
    if (date > "20250102") {
      ++later;
      EXPECT_LE(date, "20250405") << line;  // 92 days at most
    }
  }
  EXPECT_EQ(later, said);
  EXPECT_GT(later, 0);
  EXPECT_LT(later, cases / 100) << "more than the documented 0.3 %";
}

// `delta check` finds before a file is pushed what shixind would refuse or wait for: a bad line
// or size alone; with the list and the files applied on it, a change the list contradicts and a
// gap. Files are taken in sequence order, and a refused one holds up those after it.
TEST(CliOfflineTest, DeltaCheckFindsWhatShixindWouldRefuse) {
  const std::string dir = ::testing::TempDir() + "/cli_delta_check";
  ASSERT_EQ(
      std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/applied " + dir + "/push").c_str()),
      0);
  const std::string file1 = "00000000000000000001.ndjson", file2 = "00000000000000000002.ndjson",
                    file3 = "00000000000000000003.ndjson", file4 = "00000000000000000004.ndjson";
  WriteFile(dir + "/applied/" + file1,
            R"({"op":"remove","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
            R"("reason":"performed","at":"2026-06-01T09:00:00+08:00"})"
            "\n");
  WriteFile(dir + "/push/" + file2,
            R"({"op":"revoke","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
            R"("at":"2026-06-02T09:00:00+08:00"})"
            "\n");
  WriteFile(dir + "/push/" + file3,
            R"({"op":"correct","caseCode":"（2018）黑0402执恢45号","iname":"张秀兰",)"
            R"("cardNum":"11010519491231002X","courtName":"鹤岗市向阳区人民法院",)"
            R"("publishDate":"2015-09-08","duty":"偿还借款","performance":"全部未履行",)"
            R"("at":"2026-06-10T09:00:00+08:00"})"
            "\n");
  WriteFile(dir + "/push/" + file4, "");
  const std::string base = "delta check --data data/sample --deltas " + dir + "/applied ";

  // Alone, the revoke parses; against the list, its case was removed already: a note.
  ExpectShixin("delta check " + dir + "/push/" + file2, 0,
               {file2 + ": ok, 1 changes (1 revoke), not checked against a list"});
  // Reported more than 72 hours after its `at`, but it changed nothing: no late-report note.
  const RunResult checked = Shixin(base + dir + "/push/" + file2);
  EXPECT_EQ(checked.status, 0);
  EXPECT_THAT(checked.out, HasSubstr(file2 + ": note: " + file2 + ":1: revoke: "));
  EXPECT_THAT(checked.out, HasSubstr(file2 + ": ok, 1 changes (1 revoke), 1 notes"));
  EXPECT_THAT(checked.out, Not(HasSubstr("before the file arrived")));
  // A correct of the removed case is refused, and file 4 waits behind it, in any order given.
  const RunResult refused = Shixin(base + dir + "/push/" + file4 + " " + dir + "/push/" + file3 +
                                   " " + dir + "/push/" + file2);
  EXPECT_EQ(refused.status, 1);
  EXPECT_THAT(refused.out, HasSubstr(file2 + ": ok"));
  EXPECT_THAT(refused.out, HasSubstr(file3 + ": refused: " + file3 + ":1: correct: "));
  EXPECT_THAT(refused.out, HasSubstr(file4 + ": waits behind " + file3));
  // Without file 2 and 3, file 4 waits for the missing one.
  ExpectShixin(base + dir + "/push/" + file4, 1, {file4 + ": waits: " + file2 + " is missing"});
  // The file that unblocks a stuck feed is checked against the files before it: one filling a
  // gap (3 there, 2 missing), one replacing a refused file (a bad 2 there).
  ASSERT_EQ(std::system(("cp " + dir + "/push/" + file3 + " " + dir + "/applied/").c_str()), 0);
  ExpectShixin(base + dir + "/push/" + file2, 0, {file2 + ": ok, 1 changes (1 revoke), 1 notes"});
  WriteFile(dir + "/applied/" + file2, "{\"op\":\"frobnicate\"}\n");
  ExpectShixin(base + dir + "/push/" + file2, 0, {file2 + ": ok, 1 changes (1 revoke), 1 notes"});
  ASSERT_EQ(
      std::system(("rm " + dir + "/applied/" + file2 + " " + dir + "/applied/" + file3).c_str()),
      0);
  // A removal because the term ended, of a case without a term: applied, and noted (Art. 10).
  WriteFile(dir + "/push/" + file1,
            R"({"op":"remove","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
            R"("reason":"term_ended","at":"2026-06-01T09:00:00+08:00"})"
            "\n");
  ExpectShixin("delta check --data data/sample " + dir + "/push/" + file1, 0,
               {file1 + ": note: " + file1 +
                    ":1: remove: case （2018）黑0402执恢45号 of 1101051949****002X: removed as "
                    "term_ended at 2026-06-01T09:00:00+08:00, but it has no fixed term",
                file1 + ": ok, 1 changes (1 remove), 2 notes"});
  // A bad line, and a file over the size limit, need no list.
  WriteFile(dir + "/push/" + file1, "{\"op\":\"frobnicate\"}\n");
  ExpectShixin("delta check " + dir + "/push/" + file1, 1,
               {file1 + ": refused: " + file1 + ":1: op: unknown \"frobnicate\""});
  const std::string line = "{\"op\":\"revoke\"}\n";  // never parsed: refused by its size
  std::string large;
  while (large.size() <= (1u << 20)) large += line;
  WriteFile(dir + "/push/" + file1, large);
  ExpectShixin("delta check --max-delta-mb 1 " + dir + "/push/" + file1, 1,
               {"more than 1048576 bytes (--max-delta-mb)"});
  EXPECT_EQ(Shixin("delta check --data data/sample").status, 2);              // no file
  EXPECT_EQ(Shixin("delta check --deltas " + dir + "/applied x").status, 2);  // no base
  EXPECT_EQ(Shixin("delta check --max-delta-mb 0 x").status, 2);
  EXPECT_EQ(Shixin("delta frobnicate").status, 2);
}

// A file of --deltas that shixind refuses holds up the files checked after it, as shixind makes
// them wait behind it: `NAME: refused: REASON`, then `FILE: waits behind NAME`, exit 1 (not 3,
// "could not be loaded"); a gap in --deltas makes the first file checked wait for the missing one.
TEST(CliOfflineTest, DeltaCheckWaitsBehindARefusedFileOfDeltas) {
  const std::string dir = ::testing::TempDir() + "/cli_delta_check_behind";
  ASSERT_EQ(
      std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/applied " + dir + "/push").c_str()),
      0);
  const std::string file1 = "00000000000000000001.ndjson", file2 = "00000000000000000002.ndjson",
                    file3 = "00000000000000000003.ndjson", file4 = "00000000000000000004.ndjson";
  const std::string remove =
      R"({"op":"remove","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
      R"("reason":"performed","at":"2026-06-01T09:00:00+08:00"})"
      "\n";
  WriteFile(dir + "/applied/" + file1, remove);
  WriteFile(dir + "/applied/" + file2,
            R"({"op":"remove","caseCode":"x","cardNum":"11010519491231002X","reason":"paid",)"
            R"("at":"2026-06-01T09:00:00+08:00"})"
            "\n");
  WriteFile(dir + "/push/" + file3, remove);
  WriteFile(dir + "/push/" + file4, remove);
  const std::string base = "delta check --data data/sample --deltas " + dir + "/applied ";
  const RunResult behind = Shixin(base + dir + "/push/" + file3 + " " + dir + "/push/" + file4);
  EXPECT_EQ(behind.status, 1);
  EXPECT_THAT(behind.out,
              HasSubstr(file2 + ": refused: " + file2 + ":1: remove: reason: unknown \"paid\"\n"));
  EXPECT_THAT(behind.out, HasSubstr(file3 + ": waits behind " + file2 + "\n"));
  EXPECT_THAT(behind.out, HasSubstr(file4 + ": waits behind " + file2 + "\n"));
  // Its replacement is checked in its place.
  WriteFile(dir + "/push/" + file2, remove);
  ExpectShixin(base + dir + "/push/" + file2, 0, {file2 + ": ok"});
  // A gap in --deltas (2 missing, 3 there): the file checked after it waits for 2.
  ASSERT_EQ(std::system(("mv " + dir + "/push/" + file3 + " " + dir + "/applied/ && rm " + dir +
                         "/applied/" + file2)
                            .c_str()),
            0);
  ExpectShixin(base + dir + "/push/" + file4, 1, {file4 + ": waits: " + file2 + " is missing"});
  // A --deltas that cannot be listed is the infrastructure's fault: exit 3.
  EXPECT_EQ(
      Shixin("delta check --data data/sample --deltas " + dir + "/none " + dir + "/push/" + file4)
          .status,
      3);
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// A file checked whose sequence a valid file of --deltas holds is never applied by shixind (it
// applies the directory's own): skipped, as with a snapshot folded past it, and exit 1.
TEST(CliOfflineTest, DeltaCheckSkipsAFileWhoseSequenceDeltasHoldsApplied) {
  const std::string dir = ::testing::TempDir() + "/cli_delta_check_skipped";
  ASSERT_EQ(
      std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/applied " + dir + "/push").c_str()),
      0);
  const std::string file1 = "00000000000000000001.ndjson", file2 = "00000000000000000002.ndjson";
  const std::string remove =
      R"({"op":"remove","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
      R"("reason":"performed","at":"2026-06-01T09:00:00+08:00"})"
      "\n";
  WriteFile(dir + "/applied/" + file1, remove);
  WriteFile(dir + "/applied/" + file2,
            R"({"op":"revoke","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
            R"("at":"2026-06-02T09:00:00+08:00"})"
            "\n");
  WriteFile(dir + "/push/" + file1, remove);
  WriteFile(dir + "/push/" + file2, remove);
  const std::string base = "delta check --data data/sample --deltas " + dir + "/applied ";
  ExpectShixin(base + dir + "/push/" + file2, 1,
               {file2 + ": skipped: at or below the sequence applied (2), as shixind skips it"});
  ExpectShixin(base + dir + "/push/" + file1, 1,
               {file1 + ": skipped: at or below the sequence applied (2), as shixind skips it"});
  // Refused there (a bad 2), it is the one checked that shixind takes in its place.
  WriteFile(dir + "/applied/" + file2, "{\"op\":\"frobnicate\"}\n");
  const RunResult replaced = Shixin(base + dir + "/push/" + file2);
  EXPECT_EQ(replaced.status, 0);
  EXPECT_THAT(replaced.out, HasSubstr(file2 + ": note: "));
  EXPECT_THAT(replaced.out, Not(HasSubstr("refused")));
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// A file numbered 0 can never apply (a base without deltas counts as 0): misnamed, refused by
// `delta check` (exit 1), not "skipped" as if it had been applied.
TEST(CliOfflineTest, DeltaCheckRefusesAFileNumberedZero) {
  const std::string dir = ::testing::TempDir() + "/cli_delta_check_zero";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/deltas").c_str()), 0);
  const std::string zero = "00000000000000000000.ndjson";
  WriteFile(
      dir + "/deltas/" + zero,
      R"({"op":"remove","caseCode":"（2015）鹤向法执字第00232号","cardNum":"11010519491231002X",)"
      R"("reason":"performed","at":"2026-12-01T10:00:00+08:00"})"
      "\n");
  ExpectShixin(
      "delta check --data data/sample " + dir + "/deltas/" + zero, 1,
      {zero + ": refused: " + zero + ": not a delta file name: sequence numbers start at 1"});
  // In --deltas it is never applied, and said so.
  const RunResult compiled =
      Shixin("compile --data data/sample --deltas " + dir + "/deltas -o " + dir + "/x.snap",
             /*with_stderr=*/true);
  EXPECT_EQ(compiled.status, 0);
  EXPECT_THAT(compiled.out, HasSubstr(zero + " is not applied: sequence numbers start at 1"));
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// A change reported more than 72 hours after its `at` is noted: it changes as-of answers about
// instants shixind answered before it came (docs/feed.md, section 4); one on time is not.
TEST(CliOfflineTest, DeltaCheckNotesAChangeReportedLate) {
  const std::string dir = ::testing::TempDir() + "/cli_delta_check_late";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
  const std::string file1 = "00000000000000000001.ndjson";
  WriteFile(dir + "/" + file1,
            R"({"op":"remove","caseCode":"（2021）黑0422执210号","cardNum":"230422196705050033",)"
            R"("reason":"performed","at":"2026-06-01T00:00:00+08:00"})"
            "\n"
            R"({"op":"remove","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
            R"("reason":"performed","at":"2099-06-01T00:00:00+08:00"})"
            "\n");
  const RunResult late = Shixin("delta check --data data/sample " + dir + "/" + file1);
  EXPECT_EQ(late.status, 0);
  EXPECT_THAT(late.out,
              HasSubstr(file1 + ": note: " + file1 +
                        ":1: remove: case （2021）黑0422执210号 of 2304221967****0033: at "
                        "2026-06-01T00:00:00+08:00, "));
  EXPECT_THAT(late.out, HasSubstr("before the file arrived at "));
  EXPECT_THAT(late.out, HasSubstr("as-of answers after 2026-06-01T00:00:00+08:00 change"));
  EXPECT_THAT(late.out, Not(HasSubstr(":2: remove:")));
  EXPECT_THAT(late.out, HasSubstr(file1 + ": ok, 2 changes (2 remove), 1 notes"));
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// Delta files are another system's text: control characters their values quote into notes and
// refusals are escaped, so that they cannot forge an output line or drive the terminal.
TEST(CliOfflineTest, DeltaCheckEscapesControlCharactersOfTheFile) {
  const std::string dir = ::testing::TempDir() + "/cli_delta_check_controls";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
  const std::string file1 = "00000000000000000001.ndjson", file2 = "00000000000000000002.ndjson";
  WriteFile(dir + "/" + file1,
            R"({"op":"remove","caseCode":"x\n<6>applied delta 00000000000000000173.ndjson: 1 )"
            R"(changes, 0 notes\u001b[31m","cardNum":"11010519491231002X","reason":"performed",)"
            R"("at":"2099-12-01T10:00:00+08:00"})"
            "\n"
            R"({"op":"remove","caseCode":"a\u0000b","cardNum":"11010519491231002X",)"
            R"("reason":"performed","at":"2099-12-01T10:00:00+08:00"})"
            "\n");
  const RunResult notes = Shixin("delta check --data data/sample " + dir + "/" + file1);
  EXPECT_EQ(notes.status, 0);
  EXPECT_THAT(
      notes.out,
      HasSubstr(file1 + ":1: remove: case x\\n<6>applied delta 00000000000000000173.ndjson: "
                        "1 changes, 0 notes\\x1b[31m of 1101051949****002X is not in the "
                        "list: nothing to end\n"));
  EXPECT_THAT(notes.out, HasSubstr(":2: remove: case a\\x00b of "));
  EXPECT_EQ(notes.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(notes.out.find('\0'), std::string::npos);
  EXPECT_EQ(std::count(notes.out.begin(), notes.out.end(), '\n'), 3) << notes.out;
  WriteFile(dir + "/" + file2, R"({"op":"remove","caseCode":"k","cardNum":"11010519491231002X",)"
                               R"("reason":"pa\nid\u001b[2J","at":"2026-12-01T10:00:00+08:00"})"
                               "\n");
  ExpectShixin(
      "delta check " + dir + "/" + file2, 1,
      {file2 + ": refused: " + file2 + ":1: remove: reason: unknown \"pa\\nid\\x1b[2J\"\n"});
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// The bad lines a load skipped: the first 100 on stderr, and how many in all, as shixind logs it
// (the operator must tell 100 skipped court records from 100,000).
TEST(CliOfflineTest, CompileSaysHowManyBadLinesInAll) {
  const std::string dir = ::testing::TempDir() + "/cli_compile_bad_lines";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/d && cp " +
                         SHIXIN_TEST_SOURCE_DIR + "/data/sample/*.ndjson " + dir + "/d/")
                            .c_str()),
            0);
  {
    std::ofstream debtors(dir + "/d/debtors.ndjson", std::ios::app);
    for (int i = 0; i < 150; ++i) debtors << "{}\n";
  }
  const RunResult r =
      Shixin("compile --data " + dir + "/d --max-errors 1000 -o " + dir + "/x.snap", true);
  EXPECT_EQ(r.status, 0) << r.out;
  size_t shown = 0;
  for (size_t at = r.out.find("shixin: skipped debtors.ndjson:"); at != std::string::npos;
       at = r.out.find("shixin: skipped debtors.ndjson:", at + 1)) {
    ++shown;
  }
  EXPECT_EQ(shown, 100u) << r.out;
  EXPECT_THAT(r.out, HasSubstr("shixin: skipped 150 bad lines in all (max_errors 1000)\n"));
  // With none skipped, nothing is said.
  const RunResult clean = Shixin("compile --data data/sample -o " + dir + "/y.snap", true);
  EXPECT_EQ(clean.status, 0) << clean.out;
  EXPECT_THAT(clean.out, Not(HasSubstr("skipped")));
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// The sample's four cases for grounds (2)-(6) only without termEnd (SPC rules Art. 2: 2 years)
// count on as the court has them: every load of the list says so in one note on stderr, and a
// delta's add of such a case in one note of its file; the answers are the court's.
TEST(CliOfflineTest, ALoadNotesCasesForFixedTermGroundsWithoutATermEnd) {
  const std::string dir = ::testing::TempDir() + "/cli_termless";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
  for (const std::string& args :
       {"compile --data data/sample -o " + dir + "/s.snap",
        "export --public --data data/sample --format csv -o " + dir + "/pub.csv",
        std::string("check --data data/sample 230402198503150611")}) {
    const RunResult r = Shixin(args + " 2>&1 >/dev/null | cat");
    EXPECT_EQ(r.out.find(kSampleNote), r.out.rfind(kSampleNote)) << args;  // once
    EXPECT_THAT(r.out, HasSubstr(kSampleNote)) << args;
    EXPECT_THAT(r.out, Not(HasSubstr("notes in all"))) << args;
  }
  // Listed now, with no end: the four subjects are published.
  std::ifstream in(dir + "/pub.csv");
  const std::string csv((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* name : {"王建国", "马俊峰", "黄宇", "鹤岗市宏达建筑工程有限公司"}) {
    EXPECT_THAT(csv, HasSubstr(name));
  }
  ExpectShixin("check --json --data data/sample 230402198503150611", 0, {R"("listed":true)"});
  // A delta's adds: one note for the file, not for ground (1) or a case with its term.
  const std::string file1 = "00000000000000000001.ndjson";
  const auto line = [](int n, const std::string& id, const std::string& grounds,
                       const std::string& term) {
    return R"({"op":"add","caseCode":"（2026）黑0402执8)" + std::to_string(n) +
           R"(号","iname":"李明","cardNum":")" + id +
           R"(","partyTypeName":"0","courtName":"鹤岗市向阳区人民法院","areaName":"黑龙江",)"
           R"("publishDate":"2026-06-01","disruptTypeName":")" +
           grounds + "\"" + term + "}\n";
  };
  WriteFile(dir + "/" + file1,
            line(1, "230402198001011232", "违反限制消费令", "") +
                line(2, "230402198001011232", "有履行能力而拒不履行生效法律文书确定义务", "") +
                line(3, "230402198001011232", "违反财产报告制度", R"(,"termEnd":"2028-05-31")"));
  const RunResult delta = Shixin("delta check --data data/sample " + dir + "/" + file1);
  EXPECT_EQ(delta.status, 0);
  EXPECT_THAT(delta.out,
              HasSubstr(file1 + ": note: " + file1 +
                        ":1: 1 case for grounds (2)-(6) only has no termEnd: it counts until the "
                        "court removes it, though SPC rules Art. 2 give such a listing 2 years "
                        "(（2026）黑0402执81号 since 2026-06-01)\n"));
  EXPECT_THAT(delta.out, HasSubstr(file1 + ": ok, 3 changes (3 add), 1 notes"));
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// The snapshot holds the whole list and the related persons with full IDs: it is no more
// readable than the files it was compiled from, whatever the umask lets through.
TEST(CliOfflineTest, CompileKeepsTheSourcesAccess) {
  const std::string dir = ::testing::TempDir() + "/cli_compile_access";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/priv && cp " +
                         SHIXIN_TEST_SOURCE_DIR + "/data/sample/*.ndjson " + dir + "/priv/ && " +
                         "chmod 600 " + dir + "/priv/*.ndjson && chmod 640 " + dir +
                         "/priv/relations.ndjson")
                            .c_str()),
            0);
  const auto mode = [](const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  };
  ExpectShixin("compile --data " + dir + "/priv -o " + dir + "/priv.snap", 0, {"wrote"});
  EXPECT_EQ(mode(dir + "/priv.snap"), 0600u);
  ASSERT_EQ(::chmod((dir + "/priv.snap").c_str(), 0640), 0);
  ExpectShixin("compile --snapshot " + dir + "/priv.snap -o " + dir + "/again.snap", 0, {"wrote"});
  EXPECT_EQ(mode(dir + "/again.snap"), 0640u);
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// `compile --snapshot X --deltas D -o Y` folds the delta files into a new base, which a later
// compaction continues, and `compile --snapshot X -o Y` writes a base again; a refused delta
// writes nothing.
TEST(CliOfflineTest, CompileFoldsDeltas) {
  const std::string dir = ::testing::TempDir() + "/cli_compile";
  ASSERT_EQ(
      std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/deltas " + dir + "/bad").c_str()),
      0);
  ExpectShixin("compile --data data/sample -o " + dir + "/base.snap", 0, {"wrote"});
  WriteFile(dir + "/deltas/00000000000000000001.ndjson",
            R"({"op":"remove","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
            R"("reason":"performed","at":"2026-06-01T09:00:00+08:00"})"
            "\n");
  ExpectShixin("compile --snapshot " + dir + "/base.snap --deltas " + dir + "/deltas -o " + dir +
                   "/new.snap",
               0, {"wrote", "deltas folded up to 1"});
  // The data directory as the positional argument; and the new base as the next one's base.
  ExpectShixin("compile data/sample --deltas " + dir + "/deltas -o " + dir + "/new2.snap", 0,
               {"deltas folded up to 1"});
  WriteFile(dir + "/deltas/00000000000000000002.ndjson",
            R"({"op":"revoke","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
            R"("at":"2026-06-02T09:00:00+08:00"})"
            "\n");
  const RunResult third = Shixin("compile --snapshot " + dir + "/new.snap --deltas " + dir +
                                 "/deltas -o " + dir + "/new3.snap");
  EXPECT_EQ(third.status, 0);
  EXPECT_THAT(third.out, HasSubstr("deltas folded up to 2"));
  // A base alone is written again (this build's format: an upgrade's path), keeping its
  // subjects, cases, relations and the deltas it holds.
  const RunResult again =
      Shixin("compile --snapshot " + dir + "/new3.snap -o " + dir + "/again.snap");
  EXPECT_EQ(again.status, 0);
  const auto counts = [](const std::string& out) {
    const size_t from = out.find(": "), to = out.find("; catalog");
    return from < to && to != std::string::npos ? out.substr(from, to - from) : std::string();
  };
  EXPECT_NE(counts(third.out), "") << third.out;
  EXPECT_EQ(counts(again.out), counts(third.out)) << again.out;
  EXPECT_THAT(again.out, HasSubstr("deltas folded up to 2"));

  WriteFile(dir + "/bad/00000000000000000001.ndjson", "{\"op\":\"frobnicate\"}\n");
  const RunResult refused = Shixin("compile --snapshot " + dir + "/base.snap --deltas " + dir +
                                   "/bad -o " + dir + "/never.snap");
  EXPECT_EQ(refused.status, 3);
  FILE* never = std::fopen((dir + "/never.snap").c_str(), "r");
  EXPECT_EQ(never, nullptr) << "a refused compaction wrote its output";
  if (never != nullptr) std::fclose(never);
  EXPECT_EQ(
      Shixin("compile --snapshot " + dir + "/base.snap data/sample -o " + dir + "/x.snap").status,
      2);
  // Less history than a daemon keeps would answer "not listed" about instants it dropped.
  const RunResult no_history = Shixin(
      "compile --snapshot " + dir + "/new3.snap --history-days 0 -o " + dir + "/h0.snap", true);
  EXPECT_NE(no_history.status, 0);
  EXPECT_THAT(no_history.out, HasSubstr("--history-days 0 is out of range (1..36500"));
  // A base that keeps 30 days answers no earlier instant, offline as in shixind: it would miss
  // what the compaction dropped.
  ExpectShixin("compile --snapshot " + dir + "/new3.snap --history-days 30 -o " + dir + "/h30.snap",
               0, {"wrote", "history kept from "});
  const auto days_ago = [](int days) {
    const std::time_t t = std::time(nullptr) - days * 86400;
    char text[32];
    std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S+00:00", std::gmtime(&t));
    return std::string(text);
  };
  for (const char* command : {"check", "measures"}) {
    const RunResult cut = Shixin(std::string(command) + " --snapshot " + dir +
                                     "/h30.snap --as-of " + days_ago(40) + " 11010519491231002X",
                                 true);
    EXPECT_EQ(cut.status, 2) << cut.out;
    EXPECT_THAT(cut.out, HasSubstr("the base snapshot holds no earlier history")) << command;
    EXPECT_EQ(Shixin(std::string(command) + " --snapshot " + dir + "/h30.snap --as-of " +
                     days_ago(20) + " 11010519491231002X")
                  .status,
              0)
        << command;
  }
  // A base written again from a file that is not a snapshot: refused by name, nothing written.
  WriteFile(dir + "/not.snap", "debtors, not a snapshot\n");
  const RunResult bad =
      Shixin("compile --snapshot " + dir + "/not.snap -o " + dir + "/never2.snap", true);
  EXPECT_EQ(bad.status, 3);
  EXPECT_THAT(bad.out, HasSubstr("not.snap: not a shixin snapshot file"));
  FILE* never2 = std::fopen((dir + "/never2.snap").c_str(), "r");
  EXPECT_EQ(never2, nullptr) << "a refused base was written";
  if (never2 != nullptr) std::fclose(never2);
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// Returns the contents of `path` ("" if it cannot be read).
std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A package upgrade that revises the shipped catalog: a base compiled against the old one is
// refused, by a message naming the command that moves it; `compile --snapshot BASE --catalog
// NEW --retarget` moves it, keeping its deltas and its whole history, and the moved base then
// answers as a list compiled afresh against NEW does. Only a valid snapshot is moved.
TEST(CliOfflineTest, CompileRetargetsABaseToARevisedCatalog) {
  const std::string dir = ::testing::TempDir() + "/cli_retarget";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/deltas").c_str()), 0);
  // The revised catalog: measure 1 renamed (its answers show which catalog gave them).
  std::string revised =
      ReadWholeFile(std::string(SHIXIN_TEST_SOURCE_DIR) + "/data/measures/hegang-2018.json");
  const std::string title = "\"担任国企高管限制\"";
  ASSERT_NE(revised.find(title), std::string::npos);
  revised.replace(revised.find(title), title.size(), "\"担任国企高管限制（修订）\"");
  const std::string catalog = dir + "/revised.json";
  WriteFile(catalog, revised);
  WriteFile(dir + "/deltas/00000000000000000001.ndjson",
            R"({"op":"remove","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
            R"("reason":"performed","at":"2026-06-01T09:00:00+08:00"})"
            "\n");
  ExpectShixin("compile --data data/sample -o " + dir + "/old.snap", 0, {"wrote"});
  // A base that keeps the whole history, as a fresh compile does.
  ExpectShixin("compile --snapshot " + dir + "/old.snap --deltas " + dir +
                   "/deltas --history-days 36500 -o " + dir + "/base.snap",
               0, {"deltas folded up to 1"});

  // Without --retarget: refused, the message says what to run.
  const std::string base = dir + "/base.snap";
  const RunResult refused = Shixin(
      "compile --snapshot " + base + " --catalog " + catalog + " -o " + dir + "/x.snap", true);
  EXPECT_EQ(refused.status, 3);
  EXPECT_THAT(refused.out, HasSubstr("compiled against catalog hegang-2018"));
  EXPECT_THAT(refused.out, HasSubstr("move the list to it with: shixin compile --snapshot " + base +
                                     " --catalog " + catalog + " --retarget -o " + base));
  // An offline query given another catalog does not own the file: it is told to give the
  // catalog the file was compiled against, not to move a list a daemon may be serving (x32 #2).
  const RunResult query =
      Shixin("measures --snapshot " + base + " --catalog " + catalog + " 11010519491231002X", true);
  EXPECT_EQ(query.status, 3);
  EXPECT_THAT(query.out, HasSubstr("give --catalog the catalog it was compiled against"));
  EXPECT_THAT(query.out, Not(HasSubstr("--retarget")));

  const RunResult moved = Shixin("compile --snapshot " + base + " --catalog " + catalog +
                                 " --retarget -o " + dir + "/moved.snap");
  EXPECT_EQ(moved.status, 0);
  EXPECT_THAT(moved.out, HasSubstr("moved from catalog hegang-2018 ("));
  EXPECT_THAT(moved.out, HasSubstr("deltas folded up to 1"));
  EXPECT_THAT(moved.out, Not(HasSubstr("history kept from")));  // the base's whole history
  ExpectShixin("compile --data data/sample --deltas " + dir + "/deltas --catalog " + catalog +
                   " -o " + dir + "/fresh.snap",
               0, {"deltas folded up to 1"});
  // The same answers as the fresh compile, now and before the delta, with the revised
  // catalog's measures.
  for (const char* command : {"check", "measures"}) {
    for (const char* at : {"", " --as-of 2026-03-01T00:00:00+08:00"}) {
      const bool measures = std::string(command) == "measures";
      const std::string query = std::string(command) + " --json" + at +
                                (measures ? " --catalog " + catalog : "") +
                                " 11010519491231002X 91350503MA2XK7R352 --snapshot ";
      const RunResult answer = Shixin(query + dir + "/moved.snap");
      EXPECT_EQ(answer.status, 0) << query;
      EXPECT_EQ(answer.out, Shixin(query + dir + "/fresh.snap").out) << query;
      if (measures) {
        EXPECT_THAT(answer.out, HasSubstr("担任国企高管限制（修订）")) << query;
      }
    }
  }
  const std::string exported = "export --public --format ndjson -o - --catalog " + catalog;
  const RunResult moved_export = Shixin(exported + " --snapshot " + dir + "/moved.snap");
  EXPECT_EQ(moved_export.status, 0);
  EXPECT_EQ(moved_export.out, Shixin(exported + " --snapshot " + dir + "/fresh.snap").out);
  // The moved base is the revised catalog's: compacted on it without --retarget, refused by
  // the old one.
  ExpectShixin("compile --snapshot " + dir + "/moved.snap --catalog " + catalog + " -o " + dir +
                   "/again.snap",
               0, {"deltas folded up to 1"});
  EXPECT_EQ(Shixin("measures --snapshot " + dir + "/moved.snap 11010519491231002X").status, 3);

  // What is not a valid snapshot is refused as ever; a data directory has no catalog to leave.
  std::string corrupt = ReadWholeFile(base);
  corrupt[corrupt.size() - 10] ^= 1;
  WriteFile(dir + "/corrupt.snap", corrupt);
  for (const auto& [input, why] : std::vector<std::pair<std::string, std::string>>{
           {dir + "/corrupt.snap", "section case_blob is corrupt (checksum"},
           {"data/sample/debtors.ndjson", "debtors.ndjson: not a shixin snapshot file"},
           {dir + "/missing.snap", "missing.snap"}}) {
    std::string command = "compile --snapshot ";
    command.append(input).append(" --catalog ").append(catalog);
    const RunResult r =
        Shixin(command.append(" --retarget -o ").append(dir).append("/never.snap"), true);
    EXPECT_EQ(r.status, 3) << input;
    EXPECT_THAT(r.out, HasSubstr(why)) << input;
  }
  const RunResult data =
      Shixin("compile --data data/sample --retarget -o " + dir + "/never.snap", true);
  EXPECT_EQ(data.status, 2);
  EXPECT_THAT(data.out, HasSubstr("--retarget moves a base snapshot (--snapshot FILE)"));
  FILE* never = std::fopen((dir + "/never.snap").c_str(), "r");
  EXPECT_EQ(never, nullptr) << "a refused input was written";
  if (never != nullptr) std::fclose(never);
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// The example delta lines of docs/feed.md are a file shixind takes as it is: a pusher starting
// from the docs must not get its first file refused.
TEST(CliOfflineTest, TheFeedDocsExamplesAreAValidDelta) {
  const std::string doc = ReadWholeFile(std::string(SHIXIN_TEST_SOURCE_DIR) + "/docs/feed.md");
  const size_t intro = doc.find("Examples (one line each in the file):");
  ASSERT_NE(intro, std::string::npos);
  const size_t from = doc.find("```json\n", intro);
  ASSERT_NE(from, std::string::npos);
  const size_t begin = from + std::string_view("```json\n").size();
  const size_t end = doc.find("```", begin);
  ASSERT_NE(end, std::string::npos);
  const std::string dir = ::testing::TempDir() + "/cli_feed_examples";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
  WriteFile(dir + "/00000000000000000001.ndjson", doc.substr(begin, end - begin));
  const RunResult checked =
      Shixin("delta check --data data/sample " + dir + "/00000000000000000001.ndjson");
  EXPECT_EQ(checked.status, 0);
  EXPECT_THAT(checked.out,
              HasSubstr("ok, 6 changes (1 add, 1 remove, 1 revoke, 1 correct, 1 relate, 1 "
                        "unrelate), "));
  // The only notes: changes reported late, as of today (the examples are dated June 2026).
  const auto count = [&](std::string_view part) {
    size_t n = 0;
    for (size_t at = checked.out.find(part); at != std::string::npos;
         at = checked.out.find(part, at + 1)) {
      ++n;
    }
    return n;
  };
  EXPECT_EQ(count(": note: "), count(" before the file arrived at ")) << checked.out;
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// check and measures answer offline from the list as shixind serves it: a data directory or
// a compiled snapshot, with delta files; an as-of answer shows a case revoked since.
TEST(CliOfflineTest, CheckAndMeasuresReadASnapshotAndDeltas) {
  const std::string dir = ::testing::TempDir() + "/cli_snapshot_deltas";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/deltas").c_str()), 0);
  ExpectShixin("compile --data data/sample -o " + dir + "/base.snap", 0, {"wrote"});
  WriteFile(dir + "/deltas/00000000000000000001.ndjson",
            R"({"op":"revoke","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
            R"("at":"2026-06-02T09:00:00+08:00"})"
            "\n");
  const std::string deltas = " --deltas " + dir + "/deltas";
  // Each list source with the deltas on it.
  std::string from_snapshot = "--snapshot " + dir + "/base.snap";
  from_snapshot += deltas;
  for (const std::string& base : {"--data data/sample" + deltas, from_snapshot}) {
    const RunResult then =
        Shixin("check " + base + " --as-of 2026-06-01T12:00:00+08:00 11010519491231002X");
    EXPECT_EQ(then.status, 0) << base;
    EXPECT_THAT(then.out, HasSubstr("（2018）黑0402执恢45号"));
    EXPECT_THAT(then.out, HasSubstr("  revoked since 2026-06-02T09:00:00+08:00 (should never have "
                                    "been listed)\n"))
        << base << then.out;
    const RunResult now = Shixin("check " + base + " 11010519491231002X");
    EXPECT_EQ(now.status, 0) << base;
    EXPECT_THAT(now.out, Not(HasSubstr("（2018）黑0402执恢45号"))) << base << now.out;
    ExpectShixin("measures " + base + " --scenario hotel 11010519491231002X", 0, {"41  restrict"});
  }
  const RunResult both =
      Shixin("check --data data/sample --snapshot " + dir + "/base.snap 11010519491231002X", true);
  EXPECT_EQ(both.status, 2);
  EXPECT_THAT(both.out, HasSubstr("one of --data DIR or --snapshot FILE is required"));
  EXPECT_EQ(Shixin("check --server 127.0.0.1:1 --snapshot x.snap 11010519491231002X").status, 2);
  EXPECT_EQ(Shixin("measures --server 127.0.0.1:1 --deltas d 11010519491231002X").status, 2);
  EXPECT_EQ(Shixin("check --snapshot " + dir + "/none.snap 11010519491231002X").status, 3);
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// Finding 1 of /tmp/x31: a gap or a refused file in --deltas stops the offline list where it
// stops shixind's, and check and measures answer from it, as shixind does meanwhile, saying so
// on stderr (and the sequence in --json); export writes nothing, saying what to do.
TEST(CliOfflineTest, AGapOrARefusedDeltaStopsTheListWhereShixindStopsIt) {
  const std::string dir = ::testing::TempDir() + "/cli_deltas_stopped";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/deltas").c_str()), 0);
  // 1 revokes 45号; 3 (after the gap) removes 00232号, which only a list with 3 would lose.
  WriteFile(dir + "/deltas/00000000000000000001.ndjson",
            R"({"op":"revoke","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
            R"("at":"2026-06-02T09:00:00+08:00"})"
            "\n");
  WriteFile(
      dir + "/deltas/00000000000000000003.ndjson",
      R"({"op":"remove","caseCode":"(2015)鹤向法执字第00232号","cardNum":"11010519491231002X",)"
      R"("reason":"performed","at":"2026-06-03T09:00:00+08:00"})"
      "\n");
  const std::string list = "--data data/sample --deltas " + dir + "/deltas ";
  const std::string gap =
      "shixin check: warning: --deltas " + dir +
      "/deltas: delta gap: 00000000000000000002.ndjson is missing, 00000000000000000003.ndjson "
      "and later wait (applied up to 1): answered from the list with deltas up to 1, as shixind "
      "answers until 00000000000000000002.ndjson is in place\n";
  const RunResult check = Shixin("check " + list + "11010519491231002X", true);
  EXPECT_EQ(check.status, 0) << check.out;
  EXPECT_THAT(check.out, HasSubstr(gap));
  EXPECT_THAT(check.out, HasSubstr("11010519491231002X  LISTED"));
  EXPECT_THAT(check.out, HasSubstr("00232号"));    // 3 is not applied
  EXPECT_THAT(check.out, Not(HasSubstr("45号")));  // 1 is
  const RunResult json = Shixin("check --json " + list + "11010519491231002X");
  EXPECT_EQ(json.status, 0);
  EXPECT_THAT(json.out, HasSubstr(",\"delta_sequence\":1}\n")) << json.out;
  const RunResult measures =
      Shixin("measures --json " + list + "--scenario hotel 11010519491231002X", true);
  EXPECT_EQ(measures.status, 0) << measures.out;
  EXPECT_THAT(measures.out, HasSubstr("shixin measures: warning: --deltas " + dir +
                                      "/deltas: delta gap: 00000000000000000002.ndjson"));
  EXPECT_THAT(measures.out, HasSubstr(R"("measures":[{"no":41,)"));
  EXPECT_THAT(measures.out, HasSubstr(",\"delta_sequence\":1}\n"));
  const std::string out = dir + "/public.csv";
  const RunResult exported = Shixin("export --public --format csv " + list + "-o " + out, true);
  EXPECT_EQ(exported.status, 3);
  EXPECT_THAT(exported.out,
              HasSubstr("delta gap: 00000000000000000002.ndjson is missing, "
                        "00000000000000000003.ndjson and later wait (applied up to 1): the public "
                        "list is not written from the deltas up to 1 only: the files from "
                        "00000000000000000003.ndjson on may remove cases it would still show; put "
                        "00000000000000000002.ndjson in place, then run this again"))
      << exported.out;
  EXPECT_FALSE(std::filesystem::exists(out));

  // 2 is refused: the list stays at 1, as shixind's does until 2 is replaced.
  WriteFile(dir + "/deltas/00000000000000000002.ndjson", "{\"op\":\"frobnicate\"}\n");
  const RunResult refused = Shixin("check " + list + "11010519491231002X", true);
  EXPECT_EQ(refused.status, 0) << refused.out;
  EXPECT_THAT(refused.out, HasSubstr("shixin check: warning: --deltas " + dir +
                                     "/deltas: 00000000000000000002.ndjson:1: "));
  EXPECT_THAT(refused.out,
              HasSubstr(": answered from the list with deltas up to 1, as shixind answers until "
                        "00000000000000000002.ndjson, refused, is replaced (it and the files "
                        "after it wait)\n"));
  EXPECT_THAT(refused.out, HasSubstr("00232号"));
  const RunResult refused_export =
      Shixin("export --public --format csv " + list + "-o " + out, true);
  EXPECT_EQ(refused_export.status, 3);
  EXPECT_THAT(refused_export.out,
              HasSubstr("replace 00000000000000000002.ndjson with a corrected file (shixin delta "
                        "check checks it), then run this again"))
      << refused_export.out;

  // Replaced by a valid file: every file applies, and no warning.
  WriteFile(dir + "/deltas/00000000000000000002.ndjson",
            R"({"op":"relate","orgId":"91350503MA2XK7R352","personId":"230402198001011232",)"
            R"("personName":"李明","role":"senior_manager","at":"2026-06-10T09:00:00+08:00"})"
            "\n");
  const RunResult whole = Shixin("check --json " + list + "11010519491231002X", true);
  EXPECT_EQ(whole.status, 0) << whole.out;
  EXPECT_THAT(whole.out, Not(HasSubstr("warning")));
  EXPECT_THAT(whole.out, HasSubstr(R"({"id":"11010519491231002X","listed":false,)"));
  EXPECT_THAT(whole.out, HasSubstr(",\"delta_sequence\":3}\n"));
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// Finding 7 of /tmp/x31: a remove dated before the case's correction applies at the correction,
// and an as-of answer before it shows the case removed then (performed), not only corrected.
TEST(CliOfflineTest, ARemoveAtACorrectionShowsAsTheRemovalInAsOfAnswers) {
  const std::string dir = ::testing::TempDir() + "/cli_remove_at_correction";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/deltas").c_str()), 0);
  WriteFile(dir + "/deltas/00000000000000000001.ndjson",
            R"({"op":"correct","caseCode":"(2015)鹤向法执字第00232号","iname":"张秀兰",)"
            R"("cardNum":"11010519491231002X","partyTypeName":"0",)"
            R"("courtName":"鹤岗市向阳区人民法院","publishDate":"2015-09-08",)"
            R"("duty":"偿还借款本金8万元及利息","at":"2026-06-10T10:00:00+08:00"})"
            "\n");
  WriteFile(dir + "/deltas/00000000000000000002.ndjson",
            R"({"op":"remove","caseCode":"(2015)鹤向法执字第00232号",)"
            R"("cardNum":"11010519491231002X","reason":"performed",)"
            R"("at":"2026-06-10T09:00:00+08:00"})"
            "\n");
  const std::string check = "check --data data/sample --deltas " + dir +
                            "/deltas --as-of 2026-06-10T09:30:00+08:00 11010519491231002X";
  const RunResult text = Shixin(check);
  ASSERT_EQ(text.status, 0) << text.out;
  EXPECT_THAT(text.out, HasSubstr("removed since 2026-06-10T10:00:00+08:00 (performed)"))
      << text.out;
  EXPECT_THAT(text.out, Not(HasSubstr("corrected since"))) << text.out;
  const RunResult json = Shixin(check + " --json");
  ASSERT_EQ(json.status, 0) << json.out;
  EXPECT_THAT(json.out, HasSubstr(R"("ended_at":"2026-06-10T10:00:00+08:00","end":"performed")"))
      << json.out;
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// An export that gives a case twice (a paging overlap) lists it once: compile says so, and the
// court's removal of the case delists the person, from the data directory or the snapshot. A
// repeat with other content is kept as the later line gives it, and noted with both lines.
TEST(CliOfflineTest, ACaseExportedTwiceIsOneCaseAndItsRemovalDelists) {
  const std::string dir = ::testing::TempDir() + "/cli_case_twice";
  ASSERT_EQ(
      std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/data " + dir + "/deltas").c_str()),
      0);
  const std::string line =
      R"({"caseCode":"（2019）黑0402执13号","iname":"重复","cardNum":"230402198010100018",)"
      R"("partyTypeName":"0","courtName":"鹤岗市向阳区人民法院","publishDate":"2019-03-01",)"
      R"("duty":"%s"})"
      "\n";
  const auto with_duty = [&line](std::string_view duty) {
    std::string s = line;
    s.replace(s.find("%s"), 2, duty);
    return s;
  };
  WriteFile(dir + "/data/debtors.ndjson",
            with_duty("还款") + with_duty("还款") + with_duty("还款1万元") +
                R"({"caseCode":"（2019）黑0402执14号","iname":"别人",)"
                R"("cardNum":"11010519491231002X","partyTypeName":"0",)"
                R"("courtName":"c","publishDate":"2019-03-01"})"
                "\n");
  WriteFile(dir + "/data/relations.ndjson", "");
  const RunResult compile =
      Shixin("compile --data " + dir + "/data -o " + dir + "/list.snap", true);
  EXPECT_EQ(compile.status, 0) << compile.out;
  EXPECT_THAT(compile.out, HasSubstr(", 2 cases (1 duplicate lines merged), "));
  EXPECT_THAT(compile.out,
              HasSubstr("shixin: note: debtors.ndjson:3: case （2019）黑0402执13号 of "
                        "2304021980****0018 repeats line 2 with other content: this line's is "
                        "kept\n"));
  const RunResult check =
      Shixin("check --json --snapshot " + dir + "/list.snap 230402198010100018");
  EXPECT_THAT(check.out, HasSubstr(R"("duty":"还款1万元")"));
  EXPECT_THAT(check.out, Not(HasSubstr(R"("duty":"还款")")));
  WriteFile(dir + "/deltas/00000000000000000001.ndjson",
            R"({"op":"remove","caseCode":"（2019）黑0402执13号","cardNum":"230402198010100018",)"
            R"("reason":"performed","at":"2026-06-09T15:30:00+08:00"})"
            "\n");
  const std::string deltas = " --deltas " + dir + "/deltas";
  ExpectShixin(
      "delta check --snapshot " + dir + "/list.snap " + dir + "/deltas/00000000000000000001.ndjson",
      0, {"ok, 1 changes (1 remove), "});
  for (const std::string& base : {"--data " + dir + "/data", "--snapshot " + dir + "/list.snap"}) {
    std::string check_cmd = "check ";
    check_cmd += base;
    check_cmd += deltas;
    ExpectShixin(check_cmd + " 230402198010100018", 0, {"230402198010100018  not listed"});
    ExpectShixin(check_cmd + " --as-of 2026-06-09T15:00:00+08:00 230402198010100018", 0,
                 {"230402198010100018  LISTED"});
  }
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// Compaction waits for the delta files to settle, as shixind does: a file written in place under
// its final name and folded in part would never be read again. One that keeps changing past the
// wait is left, with the files after it, for the next run.
TEST(CliOfflineTest, CompileFoldsOnlySettledDeltaFiles) {
  const std::string dir = ::testing::TempDir() + "/cli_compile_settle";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/deltas").c_str()), 0);
  ExpectShixin("compile --data data/sample -o " + dir + "/base.snap", 0, {"wrote"});
  WriteFile(dir + "/deltas/00000000000000000001.ndjson",
            R"({"op":"remove","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
            R"("reason":"performed","at":"2026-06-01T09:00:00+08:00"})"
            "\n");
  // Just written: waited for (under a second), then folded.
  const auto start = std::chrono::steady_clock::now();
  ExpectShixin("compile --snapshot " + dir + "/base.snap --deltas " + dir + "/deltas -o " + dir +
                   "/one.snap",
               0, {"deltas folded up to 1"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  WriteFile(dir + "/deltas/00000000000000000002.ndjson",
            R"({"op":"revoke","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
            R"("at":"2026-06-02T09:00:00+08:00"})"
            "\n");
  // A settle time beyond the wait: file 2 counts as still being written, and is left.
  const RunResult left = Shixin("compile --snapshot " + dir + "/one.snap --deltas " + dir +
                                    "/deltas --delta-settle-ms 600000 -o " + dir + "/two.snap",
                                /*with_stderr=*/true);
  EXPECT_EQ(left.status, 0) << left.out;
  EXPECT_THAT(left.out, HasSubstr("00000000000000000002.ndjson changed "));
  EXPECT_THAT(left.out, HasSubstr("it and the files after it are left for the next compaction"));
  EXPECT_THAT(left.out, HasSubstr("deltas folded up to 1"));
  EXPECT_THAT(left.out, Not(HasSubstr("deltas folded up to 2")));
  // No wait: folded at once.
  ExpectShixin("compile --snapshot " + dir + "/one.snap --deltas " + dir +
                   "/deltas --delta-settle-ms 0 -o " + dir + "/two.snap",
               0, {"deltas folded up to 2"});
  const RunResult range = Shixin("compile --snapshot " + dir + "/one.snap --deltas " + dir +
                                     "/deltas --delta-settle-ms 600001 -o " + dir + "/x.snap",
                                 /*with_stderr=*/true);
  EXPECT_EQ(range.status, 2);
  EXPECT_THAT(range.out, HasSubstr("--delta-settle-ms 600001 is out of range (0..600000"));
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// A full re-issue of the list compiled with --delta-sequence N contains the delta files up to
// N: those are not replayed on it (file 1's add would refuse, as the case is in the export),
// the later ones are.
TEST(CliOfflineTest, AReissueNamesTheDeltasItContains) {
  const std::string dir = ::testing::TempDir() + "/cli_reissue";
  ASSERT_EQ(
      std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/deltas " + dir + "/reissue && cp " +
                   SHIXIN_TEST_SOURCE_DIR + "/data/sample/*.ndjson " + dir + "/reissue/")
                      .c_str()),
      0);
  const std::string added =  // kNew's case of the other tests
      R"({"op":"add","caseCode":"（2026）黑0402执88号","iname":"李明","cardNum":"230402198001011232",)"
      R"("partyTypeName":"0","courtName":"鹤岗市向阳区人民法院","areaName":"黑龙江",)"
      R"("gistId":"(2025)黑0402民初12号","gistUnit":"鹤岗市向阳区人民法院","regDate":"20260310",)"
      R"("publishDate":"2026-06-01","duty":"偿还借款5万元","performance":"全部未履行",)"
      R"("performedPart":"暂无","unperformPart":"暂无","disruptTypeName":"违反财产报告制度",)"
      R"("termEnd":"2099-05-31"})"
      "\n";
  WriteFile(dir + "/deltas/00000000000000000001.ndjson", added);
  WriteFile(dir + "/deltas/00000000000000000002.ndjson",
            R"({"op":"remove","caseCode":"（2017）黑04执31号","cardNum":"230407199103150045",)"
            R"("reason":"performed","at":"2026-06-09T15:30:00+08:00"})"
            "\n");
  // The court's export after file 1: the sample and the case file 1 added, without "op".
  std::ofstream(dir + "/reissue/debtors.ndjson", std::ios::app)
      << "{" << added.substr(added.find("\"caseCode\""));
  ExpectShixin("compile --data " + dir + "/reissue --delta-sequence 1 -o " + dir + "/re.snap", 0,
               {"wrote", "deltas folded up to 1"});
  const std::string list = "--json --snapshot " + dir + "/re.snap --deltas " + dir + "/deltas ";
  ExpectShixin("check " + list + "230402198001011232", 0, {R"("listed":true)"});
  ExpectShixin("check " + list + "230407199103150045", 0, {R"("listed":false)"});  // file 2
  // Without it, file 1 is replayed on the re-issue and refused, and file 2 waits behind it, as
  // on shixind: the answer is the re-issue's, with a warning.
  ExpectShixin("compile --data " + dir + "/reissue -o " + dir + "/re0.snap", 0, {"wrote"});
  const RunResult replayed = Shixin(
      "check --snapshot " + dir + "/re0.snap --deltas " + dir + "/deltas 230407199103150045", true);
  EXPECT_EQ(replayed.status, 0);
  EXPECT_THAT(replayed.out, HasSubstr("is on the list already"));
  EXPECT_THAT(replayed.out, HasSubstr("answered from the list with deltas up to 0"));
  EXPECT_THAT(replayed.out, HasSubstr("230407199103150045  LISTED"));
  // Folded: the later files only; a snapshot carries its own sequence.
  ExpectShixin("compile --data " + dir + "/reissue --delta-sequence 1 --deltas " + dir +
                   "/deltas -o " + dir + "/folded.snap",
               0, {"deltas folded up to 2"});
  const RunResult on_snapshot = Shixin(
      "compile --snapshot " + dir + "/re.snap --delta-sequence 1 -o " + dir + "/x.snap", true);
  EXPECT_EQ(on_snapshot.status, 2);
  EXPECT_THAT(on_snapshot.out, HasSubstr("--delta-sequence: a snapshot carries its own"));
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// A subject neither listed nor related at the instant asked (its only case removed) is named by
// no answer, as CHECK over the wire names it: its name and its role in an unlisted
// organisation stay off check and measures; as of before the removal they show.
TEST(CliOfflineTest, ASubjectOffTheListIsNotNamed) {
  const std::string dir = ::testing::TempDir() + "/cli_off_the_list";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/deltas").c_str()), 0);
  WriteFile(dir + "/deltas/00000000000000000001.ndjson",
            R"({"op":"remove","caseCode":"（2020）黑0403执567号","cardNum":"230402198503150611",)"
            R"("reason":"performed","at":"2026-06-02T09:00:00+08:00"})"
            "\n");
  const std::string base = "--json --data data/sample --deltas " + dir + "/deltas ";
  for (const char* command : {"check ", "measures "}) {
    const RunResult now = Shixin(command + base + "230402198503150611");
    EXPECT_EQ(now.status, 0) << command;
    EXPECT_THAT(now.out,
                HasSubstr(R"("listed":false,"related":false,"kind":"person","name":null,)"))
        << command << now.out;
    EXPECT_THAT(now.out, HasSubstr(R"("roles":[])")) << command << now.out;
    EXPECT_THAT(now.out, Not(HasSubstr("王建国"))) << command << now.out;
    ExpectShixin(command + base + "--as-of 2026-06-01T12:00:00+08:00 230402198503150611", 0,
                 {R"("name":"王建国")", R"("org":"912304216987123405")"});
  }
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// Nor is a delisted organisation named as the other party of a listed person's role: its
// entry keeps the ID and role (its name went with its last case).
TEST(CliOfflineTest, ADelistedOrganisationIsNotNamedInAListedPersonsRoles) {
  const std::string dir = ::testing::TempDir() + "/cli_delisted_org";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/deltas").c_str()), 0);
  std::string removals;
  for (const char* code : {"（2018）黑04执123号", "（2019）黑0402执456号"}) {
    removals += std::string(R"({"op":"remove","caseCode":")") + code +
                R"(","cardNum":"91350503MA2XK7R352","reason":"performed",)"
                R"("at":"2026-06-02T09:00:00+08:00"})"
                "\n";
  }
  WriteFile(dir + "/deltas/00000000000000000001.ndjson", removals);
  const std::string base = "--json --data data/sample --deltas " + dir + "/deltas ";
  // 李志强, listed, is directly responsible in the organisation.
  const RunResult now = Shixin("check " + base + "230404197808082013");
  EXPECT_EQ(now.status, 0);
  EXPECT_THAT(now.out, HasSubstr(R"("listed":true)")) << now.out;
  EXPECT_THAT(now.out, HasSubstr("91350503MA2XK7R352")) << now.out;
  EXPECT_THAT(now.out, Not(HasSubstr("泉州市恒泰贸易有限公司"))) << now.out;
  ExpectShixin("check " + base + "--as-of 2026-06-01T12:00:00+08:00 230404197808082013", 0,
               {"泉州市恒泰贸易有限公司"});
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// shixin caller add|token|list|remove on a callers file: a token is printed once and only its
// hash is written.
TEST(CliOfflineTest, CallerCommands) {
  const std::string dir = ::testing::TempDir() + "/cli_callers";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
  const std::string file = "--file " + dir + "/callers.toml";
  const std::string bank = "caller add " + file +
                           " --id acme-bank --name 'Acme Bank' --sector bank --scopes "
                           "check,measures --view full --rate 50 --burst 100 --agencies housing";
  const RunResult added = Shixin(bank);
  ASSERT_EQ(added.status, 0);
  EXPECT_THAT(added.out, HasSubstr("shown only now"));
  ASSERT_EQ(added.out.substr(0, 4), "shx_");
  const std::string token1 = added.out.substr(0, added.out.find('\n'));
  EXPECT_EQ(token1.size(), 47u);

  EXPECT_EQ(Shixin(bank).status, 2) << "a duplicate id";
  EXPECT_EQ(Shixin("caller add " + file +
                   " --id hotel --name H --sector hotel --scopes check,root --view masked "
                   "--rate 1 --burst 1")
                .status,
            2)
      << "an unknown scope";
  const RunResult hotel = Shixin("caller add " + file +
                                 " --id hotel --name 'Hotel' --sector hotel --scopes check "
                                 "--view masked --rate 2.5 --burst 5 --certificate cn:hotel-desk");
  ASSERT_EQ(hotel.status, 0);
  const std::string token2 = hotel.out.substr(0, hotel.out.find('\n'));

  const RunResult renewed = Shixin("caller token " + file + " --id acme-bank");
  ASSERT_EQ(renewed.status, 0);
  const std::string token3 = renewed.out.substr(0, renewed.out.find('\n'));
  EXPECT_NE(token3, token1);
  EXPECT_EQ(Shixin("caller token " + file + " --id nobody").status, 2);

  ExpectShixin("caller list " + file, 0,
               {"acme-bank\tAcme Bank\tbank\tscopes=check,measures\tview=full\trate=50\t"
                "burst=100\ttokens=2\tcertificates=0",
                "hotel\tHotel\thotel\tscopes=check\tview=masked\trate=2.5\tburst=5\ttokens=1\t"
                "certificates=1"});
  const RunResult listed = Shixin("caller list --json " + file);
  EXPECT_THAT(listed.out, HasSubstr(R"("id":"hotel")"));
  EXPECT_THAT(listed.out, Not(HasSubstr("sha256:")));

  std::ifstream in(dir + "/callers.toml");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("sha256:"));
  for (const std::string& token : {token1, token2, token3}) {
    EXPECT_THAT(text, Not(HasSubstr(token))) << "the file holds a plain token";
    EXPECT_THAT(text, Not(HasSubstr(token.substr(4))));
  }

  const RunResult replaced = Shixin("caller token --replace " + file + " --id acme-bank");
  ASSERT_EQ(replaced.status, 0);
  ExpectShixin("caller list " + file, 0, {"burst=100\ttokens=1\t"});
  ASSERT_EQ(Shixin("caller remove " + file + " --id acme-bank").status, 0);
  EXPECT_EQ(Shixin("caller remove " + file + " --id acme-bank").status, 2);
  const RunResult left = Shixin("caller list " + file);
  EXPECT_THAT(left.out, Not(HasSubstr("acme-bank")));
  EXPECT_THAT(left.out, HasSubstr("hotel\t"));
  EXPECT_EQ(Shixin("caller frobnicate " + file).status, 2);
  // An agency given by its name is written as its id (the id is what the daemon compares).
  const RunResult estate =
      Shixin("caller add " + file +
                 " --id estate --name E --sector real_estate --scopes measures "
                 "--view masked --rate 5 --burst 5 --agencies 鹤岗市住房保障局",
             /*with_stderr=*/true);
  ASSERT_EQ(estate.status, 0) << estate.out;
  EXPECT_THAT(estate.out,
              HasSubstr("agency \"鹤岗市住房保障局\" is written as its id \"housing\""));
  EXPECT_THAT(ReadWholeFile(dir + "/callers.toml"), HasSubstr("agencies = [\"housing\"]"));
  EXPECT_THAT(ReadWholeFile(dir + "/callers.toml"), Not(HasSubstr("鹤岗市住房保障局")));
  ASSERT_EQ(Shixin("caller remove " + file + " --id estate").status, 0);
  // The token is printed only once the file holds its hash (x22 #5: never a token for a file
  // not written); one that cannot be printed then is exit 3, saying how to issue another.
  const std::string before = ReadWholeFile(dir + "/callers.toml");
  EXPECT_EQ(Shixin("caller token " + file + " --id hotel --replace >/dev/full").status, 3);
  EXPECT_EQ(Shixin("caller add " + file +
                   " --id lost --name L --sector bank --scopes check --view full --rate 1 "
                   "--burst 1 >/dev/full")
                .status,
            3);
  EXPECT_NE(ReadWholeFile(dir + "/callers.toml"), before);
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// Returns every person ID of the sample's feeds (the values of "cardNum" and "personId" that
// are resident IDs: 18 characters, digits but the last).
std::vector<std::string> SamplePersonIds() {
  std::vector<std::string> ids;
  const std::string dir = std::string(SHIXIN_TEST_SOURCE_DIR) + "/data/sample/";
  for (const char* file : {"debtors.ndjson", "relations.ndjson"}) {
    const std::string text = ReadWholeFile(dir + file);
    for (const std::string key : {"\"cardNum\":\"", "\"personId\":\""}) {
      for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
        const std::string id = text.substr(at + key.size(), 18);
        if (id.find_first_not_of("0123456789") >= 17) ids.push_back(id);
      }
    }
  }
  return ids;
}

// shixin export --public on the sample: every listed subject, no person's whole ID (nor its
// old 15-digit form), the masked form instead; usage errors.
TEST(CliOfflineTest, PublicExport) {
  const std::vector<std::string> person_ids = SamplePersonIds();
  ASSERT_GE(person_ids.size(), 15u);
  for (const std::string format : {"ndjson", "csv"}) {
    const std::string out = ::testing::TempDir() + "/public." + format;
    const RunResult run = Shixin(std::string("export --public -o ")
                                     .append(out)
                                     .append(" --format ")
                                     .append(format)
                                     .append(" --data data/sample"));
    EXPECT_EQ(run.status, 0) << format;
    const std::string text = ReadWholeFile(out);
    EXPECT_THAT(text, HasSubstr("1101051949****002X")) << format;
    EXPECT_THAT(text, HasSubstr("泉州市恒泰贸易有限公司")) << format;
    for (const std::string& id : person_ids) {
      EXPECT_THAT(text, Not(HasSubstr(id))) << format;
      EXPECT_THAT(text, Not(HasSubstr(id.substr(0, 6) + id.substr(8, 9)))) << format;  // 15-digit
    }
    std::remove(out.c_str());
  }
  // A file that cannot be written whole leaves the previous export as it was.
  const std::string kept = ::testing::TempDir() + "/public-kept.csv";
  std::ofstream(kept) << "the previous export\n";
  const std::string limited = std::string("cd ") + SHIXIN_TEST_SOURCE_DIR +
                              " && (ulimit -f 2; exec " + SHIXIN_TEST_BIN_DIR +
                              "/shixin export --public -o " + kept +
                              " --format ndjson --data data/sample) 2>/dev/null";
  EXPECT_NE(std::system(limited.c_str()), 0);  // SIGXFSZ past 1 KiB (2 blocks of 512 bytes)
  EXPECT_EQ(ReadWholeFile(kept), "the previous export\n");
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(kept).parent_path())) {
    if (absl::StartsWith(entry.path().string(), kept + ".tmp.")) std::filesystem::remove(entry);
  }
  EXPECT_EQ(Shixin("export --public -o " + kept + " --format csv --data data/sample").status, 0);
  EXPECT_THAT(ReadWholeFile(kept), HasSubstr("1101051949****002X"));
  std::remove(kept.c_str());
  ExpectShixin("export --public -o - --format ndjson --data data/sample", 0,
               {R"({"kind":"organization","name":"鹤岗市龙腾煤业有限责任公司","id":"230987613",)"});
  EXPECT_EQ(Shixin("export -o - --format csv --data data/sample").status, 2);
  EXPECT_EQ(Shixin("export --public -o - --format xml --data data/sample").status, 2);
  EXPECT_EQ(Shixin("export --public --format csv --data data/sample").status, 2);
  EXPECT_EQ(Shixin("export --public -o - --format csv --data /nonexistent").status, 3);
  EXPECT_EQ(Shixin("export --public -o - --format csv").status, 2);  // no list
  EXPECT_EQ(Shixin("notice --receipt x --audit /tmp --format txt --data data/sample").status, 2);

  // The list as shixind serves it: a base (a directory or a compiled snapshot) and its deltas.
  // A subject removed since the base is not published.
  const std::string deltas = ::testing::TempDir() + "/export-deltas";
  ASSERT_EQ(std::system(("rm -rf " + deltas + " && mkdir -p " + deltas).c_str()), 0);
  std::ofstream(deltas + "/00000000000000000001.ndjson")
      << R"({"op":"revoke","caseCode":"(2015)鹤向法执字第00232号","cardNum":"11010519491231002X",)"
      << R"("at":"2025-12-01T00:00:00Z"})"
      << "\n"
      << R"({"op":"remove","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
      << R"("reason":"performed","at":"2025-12-01T00:00:00Z"})"
      << "\n";
  const std::string snap = ::testing::TempDir() + "/export-sample.snap";
  ASSERT_EQ(Shixin("compile --data data/sample -o " + snap).status, 0);
  const std::string with_deltas = " --deltas " + deltas;
  for (const std::string& list : {std::string("--data data/sample"), "--snapshot " + snap}) {
    const RunResult run = Shixin("export --public -o - --format ndjson " + list);
    EXPECT_EQ(run.status, 0) << list;
    EXPECT_THAT(run.out, HasSubstr("1101051949****002X")) << list;
    std::string command = "export --public -o - --format ndjson " + list;
    command += with_deltas;
    const RunResult after = Shixin(command);
    EXPECT_EQ(after.status, 0) << list;
    EXPECT_THAT(after.out, Not(HasSubstr("1101051949****002X"))) << list;
    EXPECT_THAT(after.out, HasSubstr("泉州市恒泰贸易有限公司")) << list;
  }
  EXPECT_EQ(
      Shixin("export --public -o - --format csv --data data/sample --snapshot " + snap).status, 2);
  std::remove(snap.c_str());
}

}  // namespace
