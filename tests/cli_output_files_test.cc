// End to end: the files the CLI writes (-o FILE, the callers file) under the conditions a
// reviewer found them mishandled (/tmp/x24 findings 1, 9, 15).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/cli_run.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using shixin::testing::RunResult;
using shixin::testing::Shixin;

// Runs the shell `script` in the source directory with $SHIXIN naming the binary, capturing
// stdout and stderr. Returns them and the exit status (-1: not exited).
RunResult Shell(const std::string& script) {
  const std::string command = std::string("cd ") + SHIXIN_TEST_SOURCE_DIR +
                              " && SHIXIN=" + SHIXIN_TEST_BIN_DIR + "/shixin bash -c '" + script +
                              "' 2>&1";
  RunResult run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) run.out.append(buf, n);
  const int status = pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A fresh directory of the test's own.
std::string FreshDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/" + name;
  EXPECT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
  return dir;
}

const char kExport[] = "$SHIXIN export --public --format csv --data data/sample";

// x24 #1: a write past `ulimit -f` is the documented exit 3 with the reason, not a death by
// SIGXFSZ (exit 153, no message).
TEST(CliOutputFilesTest, AFileSizeLimitIsReportedNotASignal) {
  const std::string dir = FreshDir("out_fsize");
  const RunResult big = Shell("ulimit -f 1; " + std::string(kExport) + " -o " + dir + "/big.csv");
  EXPECT_EQ(big.status, 3) << big.out;
  EXPECT_THAT(big.out, HasSubstr("File too large")) << big.out;
}

// x24 #9: -o /dev/stdout with standard output appended to a log appends to it; the log is not
// replaced by a new file (its earlier lines were lost).
TEST(CliOutputFilesTest, DevStdoutAppendsToTheRedirectedFile) {
  const std::string dir = FreshDir("out_stdout");
  const std::string log = dir + "/log.txt";
  std::ofstream(log) << "previous log line\n";
  const RunResult run = Shell(std::string(kExport) + " -o /dev/stdout >> " + log + " && " +
                              kExport + " -o /dev/fd/1 >> " + log);
  ASSERT_EQ(run.status, 0) << run.out;
  const std::string text = Slurp(log);
  EXPECT_EQ(text.substr(0, 18), "previous log line\n");
  const std::string csv = text.substr(18);
  ASSERT_EQ(csv.size() % 2, 0u);
  EXPECT_EQ(csv.substr(0, csv.size() / 2), csv.substr(csv.size() / 2));  // the export, twice
  EXPECT_THAT(csv, HasSubstr("name"));
}

// x24 #15: -o "" is a usage error and a missing directory is named, both before any work.
TEST(CliOutputFilesTest, AnEmptyOrUnwritableOutputIsRefusedFirst) {
  const RunResult empty = Shell(std::string(kExport) + " -o \"\"");
  EXPECT_EQ(empty.status, 2) << empty.out;
  EXPECT_THAT(empty.out, HasSubstr("-o: empty file name"));
  EXPECT_THAT(empty.out, Not(HasSubstr("subjects")));  // no export was made
  const RunResult missing = Shell(std::string(kExport) + " -o /nonexistent/dir/x.csv");
  EXPECT_EQ(missing.status, 3) << missing.out;
  EXPECT_THAT(missing.out, HasSubstr("directory /nonexistent/dir (of /nonexistent/dir/x.csv)"));
  EXPECT_THAT(missing.out, Not(HasSubstr(".tmp.")));
  EXPECT_THAT(missing.out, Not(HasSubstr("subjects")));
  const RunResult compile = Shell("$SHIXIN compile --data data/sample -o \"\"");
  EXPECT_EQ(compile.status, 2) << compile.out;
}

}  // namespace
