// shixind warns, at start and on each SIGHUP, about a callers file or state_dir that other
// accounts can write (docs/shixind.md, "Callers"): one log line, and it serves all the same; and
// about callers holding the example file's published tokens.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "tests/daemon_harness.h"

namespace shixin::e2e {
namespace {

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(DaemonFileModesTest, LooseCallersFileAndStateDirAreSaidAtStartAndOnSighup) {
  ScratchDir scratch;
  const std::string callers = scratch.Path("callers.toml");
  const std::string state = scratch.Path("state");
  std::filesystem::copy_file(SampleDir() + "/../../systemd/callers.toml", callers);
  ASSERT_EQ(::chmod(callers.c_str(), 0666), 0);
  ASSERT_TRUE(std::filesystem::create_directory(state));
  ASSERT_EQ(::chmod(state.c_str(), 0777), 0);
  auto daemon = StartOrDie(SampleDir(), {"--callers-file", callers, "--state-dir", state});
  ASSERT_NE(daemon, nullptr);
  const std::string started = daemon->stderr_text();
  EXPECT_EQ(Count(started, "loose permissions: "), 1u) << started;
  EXPECT_TRUE(absl::StrContains(
      started, "callers_file " + callers + " is writable by its group and others (0666)"))
      << started;
  EXPECT_TRUE(absl::StrContains(started, "state_dir " + state + " is writable")) << started;
  // Fixed: the next SIGHUP is quiet; loosened again: said again.
  ASSERT_EQ(::chmod(callers.c_str(), 0600), 0);
  ASSERT_EQ(::chmod(state.c_str(), 0700), 0);
  ASSERT_TRUE(daemon->Signal(SIGHUP).ok());
  ASSERT_TRUE(daemon->WaitForStderr("SIGHUP: callers reloaded")) << daemon->stderr_text();
  ASSERT_TRUE(daemon->WaitForStderr("reloaded generation 2")) << daemon->stderr_text();
  EXPECT_FALSE(absl::StrContains(daemon->stderr_text(), "SIGHUP: loose permissions"));
  ASSERT_EQ(::chmod(callers.c_str(), 0620), 0);
  ASSERT_TRUE(daemon->Signal(SIGHUP).ok());
  ASSERT_TRUE(daemon->WaitForStderr("SIGHUP: loose permissions: callers_file " + callers +
                                    " is writable by its group (0620)"))
      << daemon->stderr_text();
  EXPECT_TRUE(daemon->Running());
}

// x27 #3: the example callers file's tokens are published. Copied into place, it is said at
// start and on every SIGHUP on loopback, and refused (exit 2) on a listener beyond it.
TEST(DaemonFileModesTest, PublishedExampleTokensAreSaidOnLoopbackAndRefusedBeyondIt) {
  ScratchDir scratch;
  const std::string callers = scratch.Path("callers.toml");
  std::filesystem::copy_file(SampleDir() + "/../../systemd/callers.toml", callers);
  const std::string said =
      "PUBLISHED CREDENTIAL: caller(s) example-bank, example-hotel of " + callers;
  auto daemon = StartOrDie(SampleDir(), {"--callers-file", callers});
  ASSERT_NE(daemon, nullptr);
  EXPECT_TRUE(absl::StrContains(daemon->stderr_text(), said)) << daemon->stderr_text();
  EXPECT_TRUE(absl::StrContains(daemon->stderr_text(), "--id ID --replace"));
  ASSERT_TRUE(daemon->Signal(SIGHUP).ok());
  ASSERT_TRUE(daemon->WaitForStderr("SIGHUP: " + said)) << daemon->stderr_text();

  const ProcessResult wide =
      RunProcess({BinDir() + "/shixind", "--data", SampleDir(), "--listen", "0.0.0.0:0",
                  "--http-listen", "", "--callers-file", callers},
                 "", absl::Seconds(30));
  EXPECT_EQ(wide.exit_code, 2) << wide.err;
  EXPECT_TRUE(absl::StrContains(wide.err, said)) << wide.err;
  EXPECT_TRUE(absl::StrContains(wide.err,
                                "refused: shixind listens beyond loopback, listen "
                                "\"0.0.0.0:0\""))
      << wide.err;
  EXPECT_FALSE(absl::StrContains(wide.out, "listening")) << wide.out;
}

}  // namespace
}  // namespace shixin::e2e
