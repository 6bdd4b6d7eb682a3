// End-to-end tests of shixind started from a snapshot file (shixin compile; shixind
// --snapshot): it serves the compiled list, reloads from the replaced file, keeps serving when
// the replacement is corrupt, and refuses to start from a bad file.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "core/dataset.h"
#include "tests/daemon_harness.h"

namespace shixin::e2e {
namespace {

// In the sample: A is listed (two cases).
constexpr char kA[] = "11010519491231002X";

class DaemonSnapshotFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.path().empty());
    dir_ = scratch_.Path("data");
    ASSERT_TRUE(std::filesystem::create_directory(dir_, ec_)) << ec_.message();
    ASSERT_TRUE(CopyDataDir(SourceDir() + "/data/sample", dir_).ok());
    snap_ = scratch_.Path("list.snap");
  }

  // Runs shixin compile on the data directory; returns its standard output.
  std::string Compile(const std::string& out) {
    ProcessResult r = RunProcess({BinDir() + "/shixin", "compile", "--data", dir_, "-o", out});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  // shixind --snapshot FILE. The harness always passes --data; "--data=" clears it again.
  absl::StatusOr<std::unique_ptr<Daemon>> StartFromSnapshot() {
    DaemonOptions options;
    options.data_dir = dir_;
    options.flags = {"--data=", "--snapshot", snap_};
    return Daemon::Start(options);
  }

  wire::CheckStatus CheckA(Client& client, uint32_t* generation) {
    auto reply = client.Check({kA});
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok()) return wire::CheckStatus::kInvalid;
    *generation = reply->generation;
    return reply->value[0].status;
  }

  ScratchDir scratch_;
  std::error_code ec_;
  std::string dir_;
  std::string snap_;
};

TEST_F(DaemonSnapshotFileTest, ServesAndReloadsTheFileAndKeepsServingOnACorruptOne) {
  EXPECT_TRUE(absl::StrContains(Compile(snap_), "12 subjects"));
  auto daemon = StartFromSnapshot();
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  auto client = (*daemon)->Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  uint32_t generation = 0;
  EXPECT_EQ(CheckA(**client, &generation), wire::CheckStatus::kListed);
  EXPECT_EQ(generation, 1u);
  auto detail = (*client)->Detail(kA);
  ASSERT_TRUE(detail.ok()) << detail.status();
  EXPECT_EQ(detail->value.cases.size(), 2u);
  EXPECT_FALSE(detail->value.cases[0].case_code.empty());
  auto info = (*client)->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->value.data_source, snap_);
  EXPECT_EQ(info->value.snapshot.subjects, 12u);

  // A truncated replacement (renamed over the file): refused, generation 1 keeps serving.
  auto bytes = ReadFile(snap_);
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(WriteFileAtomically(snap_, bytes->substr(0, bytes->size() - 100)).ok());
  ASSERT_TRUE((*daemon)->Signal(SIGHUP).ok());
  info = (*daemon)->WaitForInfo(
      [](const wire::InfoResponse& i) { return i.reload_state == wire::ReloadState::kFailed; });
  ASSERT_TRUE(info.ok()) << info.status() << "\n" << (*daemon)->stderr_text();
  EXPECT_TRUE(absl::StrContains(info->value.last_reload_message, "truncated"))
      << info->value.last_reload_message;
  EXPECT_EQ(CheckA(**client, &generation), wire::CheckStatus::kListed);
  EXPECT_EQ(generation, 1u);

  // A flipped byte: the checksum refuses it, through RELOAD.
  std::string flipped = *bytes;
  flipped[flipped.size() - 10] ^= 1;
  ASSERT_TRUE(WriteFileAtomically(snap_, flipped).ok());
  auto reload = (*client)->Reload();
  EXPECT_TRUE(absl::IsAborted(reload.status())) << reload.status();
  EXPECT_TRUE(absl::StrContains(reload.status().message(), "checksum")) << reload.status();

  // A good replacement without A: generation 2, A no longer listed. (One of 12 subjects is
  // more than the default max_shrink of 5 %: the reload says it is intended.)
  auto debtors = ReadFile(dir_ + "/" + kDebtorsFile);
  ASSERT_TRUE(debtors.ok());
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/" + kDebtorsFile, LinesWithout(*debtors, kA)).ok());
  Compile(snap_);
  reload = (*client)->Reload(wire::ReloadRequest{.allow_shrink = true});
  ASSERT_TRUE(reload.ok()) << reload.status();
  EXPECT_EQ(reload->value.generation, 2u);
  EXPECT_EQ(CheckA(**client, &generation), wire::CheckStatus::kUnlisted);
  EXPECT_EQ(generation, 2u);
  info = (*client)->Info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->value.snapshot.subjects, 11u);
  EXPECT_EQ(info->value.reload_state, wire::ReloadState::kOk);
  EXPECT_TRUE((*daemon)->Running());
}

TEST_F(DaemonSnapshotFileTest, RefusesToStartFromABadFile) {
  Compile(snap_);
  auto bytes = ReadFile(snap_);
  ASSERT_TRUE(bytes.ok());
  std::string old_version = *bytes;
  old_version[8] = 99;  // the format version
  ASSERT_TRUE(WriteFileAtomically(snap_, old_version).ok());
  auto daemon = StartFromSnapshot();
  ASSERT_FALSE(daemon.ok());
  EXPECT_TRUE(absl::StrContains(daemon.status().message(), "snapshot format version 99"))
      << daemon.status();

  // Compiled against another catalog.
  const std::string other = scratch_.Path("other.json");
  auto catalog = ReadFile(SourceDir() + "/data/measures/hegang-2018.json");
  ASSERT_TRUE(catalog.ok());
  ASSERT_TRUE(WriteFileAtomically(other, *catalog + "\n").ok());
  ProcessResult r = RunProcess(
      {BinDir() + "/shixin", "compile", "--data", dir_, "--catalog", other, "-o", snap_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  daemon = StartFromSnapshot();
  ASSERT_FALSE(daemon.ok());
  EXPECT_TRUE(absl::StrContains(daemon.status().message(), "compiled against catalog"))
      << daemon.status();

  // Both --data and --snapshot: a configuration error.
  DaemonOptions options;
  options.data_dir = dir_;
  options.flags = {"--snapshot", snap_};
  daemon = Daemon::Start(options);
  ASSERT_FALSE(daemon.ok());
  EXPECT_TRUE(absl::StrContains(daemon.status().message(), "exclusive")) << daemon.status();
}

}  // namespace
}  // namespace shixin::e2e
