// shixind warns, at start and on each SIGHUP, about a callers file or state_dir that other
// accounts can write (docs/shixind.md, "Callers"): one log line, and it serves all the same.
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

}  // namespace
}  // namespace shixin::e2e
