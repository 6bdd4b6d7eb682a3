// Runs the shixin binary of this build tree for the CLI end-to-end tests.
//
// Thread safety: popen; one call at a time per test.
#ifndef SHIXIN_TESTS_CLI_RUN_H_
#define SHIXIN_TESTS_CLI_RUN_H_

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace shixin::testing {

struct RunResult {
  std::string out;
  int status = -1;
};

// Runs the shell `command` in the source directory, capturing its stdout. Returns the output and
// the exit status (-1: not exited).
inline RunResult RunInSourceDir(const std::string& command) {
  const std::string with_dir = std::string("cd ") + SHIXIN_TEST_SOURCE_DIR + " && " + command;
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

// Runs the shixin binary with `args` (a shell-quoted string) in the source directory, capturing
// stdout (stderr is dropped, or captured too with `with_stderr`). Returns the output and the
// exit status (-1: not exited).
inline RunResult Shixin(const std::string& args, bool with_stderr = false) {
  return RunInSourceDir(std::string(SHIXIN_TEST_BIN_DIR) + "/shixin " + args +
                        (with_stderr ? " 2>&1" : " 2>/dev/null"));
}

// Runs the shell `script` in the source directory with $SHIXIN naming the binary, capturing
// stdout and stderr. Returns them and the exit status (-1: not exited).
inline RunResult Shell(const std::string& script) {
  return RunInSourceDir(std::string("SHIXIN=") + SHIXIN_TEST_BIN_DIR + "/shixin bash -c '" +
                        script + "' 2>&1");
}

// Returns the bytes of the file at `path` ("" if it cannot be read).
inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Returns a fresh, empty directory `name` under the test's scratch directory.
inline std::string FreshDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/" + name;
  EXPECT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
  return dir;
}

}  // namespace shixin::testing

#endif  // SHIXIN_TESTS_CLI_RUN_H_
