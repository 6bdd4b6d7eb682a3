// End to end: the files the CLI writes (-o FILE, the callers file) under the conditions a
// reviewer found them mishandled (/tmp/x24 findings 1, 9, 15, 19; /tmp/x22 finding 5; /tmp/x27
// finding 1; /tmp/x30 finding 7).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/cli_run.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using shixin::testing::FreshDir;
using shixin::testing::RunResult;
using shixin::testing::Shell;
using shixin::testing::Shixin;
using shixin::testing::Slurp;

const char kExport[] = "$SHIXIN export --public --format csv --data data/sample";
const char kAdd[] = " --name N --sector bank --scopes check --view masked --rate 1 --burst 1";

// x24 #1: a write past `ulimit -f` is the documented exit 3 with the reason, not a death by
// SIGXFSZ (exit 153, no message).
TEST(CliOutputFilesTest, AFileSizeLimitIsReportedNotASignal) {
  const std::string dir = FreshDir("out_fsize");
  const RunResult big = Shell("ulimit -f 1; " + std::string(kExport) + " -o " + dir + "/big.csv");
  EXPECT_EQ(big.status, 3) << big.out;
  EXPECT_THAT(big.out, HasSubstr("File too large")) << big.out;
  const RunResult add =
      Shell("ulimit -f 0; $SHIXIN caller add --file " + dir + "/callers.toml --id bank1" + kAdd);
  EXPECT_EQ(add.status, 3) << add.out;
  EXPECT_THAT(add.out, HasSubstr("File too large"));
  EXPECT_THAT(add.out, Not(HasSubstr("shx_")));  // no token for a file not written
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

// x22 #5: a callers file that cannot be written gets no token printed: README's
// `| head -n1 > X.token` saves nothing.
TEST(CliOutputFilesTest, NoTokenIsPrintedForACallersFileNotWritten) {
  const std::string dir = FreshDir("out_token");
  const RunResult run =
      Shell("$SHIXIN caller add --file /proc/callers.toml --id hotel-b" + std::string(kAdd) +
            " 2>" + dir + "/err | head -n1 > " + dir + "/hotel-b.token; echo ${PIPESTATUS[0]}");
  EXPECT_EQ(run.out, "3\n");
  EXPECT_EQ(Slurp(dir + "/hotel-b.token"), "");
  EXPECT_THAT(Slurp(dir + "/err"), HasSubstr("no token was issued"));
}

// x24 #19: parallel adds on one callers file each keep their caller (the last rename won: 9 of
// 10 were lost, each with a token printed).
TEST(CliOutputFilesTest, ParallelCallerAddsLoseNoCaller) {
  const std::string dir = FreshDir("out_parallel");
  const std::string file = dir + "/cr.toml";
  ASSERT_EQ(Shell("$SHIXIN caller add --file " + file + " --id seed" + kAdd).status, 0);
  const RunResult run = Shell("for i in $(seq 1 12); do $SHIXIN caller add --file " + file +
                              " --id c$i" + kAdd + " > /dev/null & done; wait; $SHIXIN caller " +
                              "remove --file " + file + " --id seed & $SHIXIN caller add --file " +
                              file + " --id c13" + kAdd + " > /dev/null & wait");
  EXPECT_EQ(run.status, 0) << run.out;
  const RunResult list = Shixin("caller list --file " + file);
  ASSERT_EQ(list.status, 0);
  for (int i = 1; i <= 13; ++i) {
    EXPECT_THAT(list.out, HasSubstr("c" + std::to_string(i) + "\t")) << list.out;
  }
  EXPECT_THAT(list.out, Not(HasSubstr("seed\t")));
}

// x27 #1: `shixin caller add|token|remove` keep the callers file's group and mode (root:shixin
// 0640 is how the packaged unit's dynamic user reads it); they made it 0600 of the writer's group,
// so the next reload failed and the next restart refused to start.
TEST(CliOutputFilesTest, CallerEditsKeepTheFilesGroupAndMode) {
  const std::string dir = FreshDir("out_callers_mode");
  const std::string file = dir + "/callers.toml";
  ASSERT_EQ(Shell("$SHIXIN caller add --file " + file + " --id ops" + kAdd).status, 0);
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);                    // a new file: its owner's only
  const gid_t group = geteuid() == 0 ? 4242 : getegid();  // root may set any group
  ASSERT_EQ(chown(file.c_str(), static_cast<uid_t>(-1), group), 0);
  ASSERT_EQ(chmod(file.c_str(), 0640), 0);
  for (const std::string& command : {"caller add --file " + file + " --id bank1" + kAdd,
                                     "caller token --file " + file + " --id bank1 --replace",
                                     "caller remove --file " + file + " --id ops"}) {
    SCOPED_TRACE(command);
    const RunResult run = Shell("$SHIXIN " + command);
    ASSERT_EQ(run.status, 0) << run.out;
    ASSERT_EQ(stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    EXPECT_EQ(st.st_gid, group);
    EXPECT_EQ(st.st_uid, geteuid());
  }
}

// x27 #3: `shixin caller add` on a copy of the example keeps its header, which says its two
// tokens are published (every comment was dropped: the file then looked like a real one).
TEST(CliOutputFilesTest, CallerEditsKeepTheFilesHeader) {
  const std::string dir = FreshDir("out_callers_header");
  const std::string file = dir + "/callers.toml";
  ASSERT_EQ(
      std::system(
          ("cp " + std::string(SHIXIN_TEST_SOURCE_DIR) + "/systemd/callers.toml " + file).c_str()),
      0);
  const std::string example = Slurp(file);
  const std::string header = example.substr(0, example.find("\nversion = 1"));
  ASSERT_THAT(header, HasSubstr("published tokens"));
  ASSERT_EQ(Shell("$SHIXIN caller add --file " + file + " --id ops" + kAdd).status, 0);
  const std::string text = Slurp(file);
  EXPECT_EQ(text.substr(0, header.size()), header) << text;
  EXPECT_THAT(text, HasSubstr("id = \"ops\""));
}

}  // namespace

// x30 #7: deltas that unlist every case empty the list as an empty base would: the export is
// refused the same way (exit 3, saying the deltas emptied it), the published file untouched,
// on standard output nothing, and delta check refuses the file as shixind does; a list they
// leave one case is exported.
TEST(CliOutputFilesTest, AnExportTheDeltasEmptyIsRefusedAndLeavesTheFile) {
  const std::string dir = FreshDir("out_emptied");
  ASSERT_EQ(std::system(("mkdir -p " + dir + "/deltas").c_str()), 0);
  // One removal per case of the sample (14), from its caseCode and cardNum.
  std::istringstream debtors(Slurp(SHIXIN_TEST_SOURCE_DIR "/data/sample/debtors.ndjson"));
  std::vector<std::string> removals;
  const auto value = [](const std::string& line, const std::string& key) {
    const size_t from = line.find("\"" + key + "\":\"") + key.size() + 4;
    return line.substr(from, line.find('"', from) - from);
  };
  for (std::string line; std::getline(debtors, line);) {
    removals.push_back(R"({"op":"remove","caseCode":")" + value(line, "caseCode") +
                       R"(","cardNum":")" + value(line, "cardNum") +
                       R"(","reason":"other","at":"2026-11-02T09:00:00+08:00"})" + "\n");
  }
  ASSERT_EQ(removals.size(), 14u);
  const auto write = [&](const std::string& path) {
    std::ofstream out(path);
    for (const std::string& line : removals) out << line;
  };
  std::ofstream(dir + "/public.csv") << "the published list\n";
  const std::string file = dir + "/deltas/00000000000000000001.ndjson";
  const std::string export_with_deltas = std::string(kExport) + " --deltas " + dir + "/deltas -o ";
  write(file);
  const RunResult emptied = Shell(export_with_deltas + dir + "/public.csv");
  EXPECT_EQ(emptied.status, 3) << emptied.out;
  EXPECT_THAT(emptied.out, HasSubstr("00000000000000000001.ndjson: it unlists the last 12 "
                                     "subject(s) listed at "));
  EXPECT_THAT(emptied.out, HasSubstr("replace 00000000000000000001.ndjson with a corrected file"));
  // Offline answers stop before it, as shixind's do (x32 #3: they answered "not listed" for
  // everyone, exit 0, silently).
  const RunResult checked_offline =
      Shell("$SHIXIN check --data data/sample --deltas " + dir + "/deltas 11010519491231002X");
  EXPECT_EQ(checked_offline.status, 0) << checked_offline.out;
  EXPECT_THAT(checked_offline.out, HasSubstr("LISTED"));
  EXPECT_THAT(checked_offline.out, HasSubstr("warning: --deltas " + dir + "/deltas: "));
  EXPECT_THAT(checked_offline.out, HasSubstr("answered from the list with deltas up to 0"));
  EXPECT_EQ(Slurp(dir + "/public.csv"), "the published list\n");
  EXPECT_FALSE(std::ifstream(dir + "/public.csv.manifest.json"));  // x30 #4: nor its manifest
  const RunResult piped = Shell(export_with_deltas + "- 2>/dev/null | wc -c");
  EXPECT_EQ(piped.out, "0\n");  // not even the header
  // delta check says so before the file is pushed: shixind refuses it (docs/feed.md).
  const RunResult checked = Shell("$SHIXIN delta check --data data/sample " + file);
  EXPECT_EQ(checked.status, 1) << checked.out;
  EXPECT_THAT(checked.out, HasSubstr("00000000000000000001.ndjson: refused: "
                                     "00000000000000000001.ndjson: it unlists the last 12 "
                                     "subject(s) listed at "));
  // Without the last removal, one case stays: exported.
  removals.pop_back();
  write(file);
  const RunResult one = Shell(export_with_deltas + dir + "/public.csv");
  EXPECT_EQ(one.status, 0) << one.out;
  EXPECT_THAT(one.out, HasSubstr("1 subjects, 1 cases"));
  EXPECT_THAT(Slurp(dir + "/public.csv.manifest.json"), HasSubstr("\"delta_sequence\": 1\n"));
}
