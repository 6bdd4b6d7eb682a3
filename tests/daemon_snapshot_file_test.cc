// End-to-end tests of shixind started from a snapshot file (shixin compile; shixind
// --snapshot): it serves the compiled list, reloads from the replaced file, keeps serving when
// the replacement is corrupt, refuses to start from a bad file, and survives the file being
// rewritten or truncated in place under it without ever answering with bytes it did not verify.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "core/query.h"
#include "protocol/operator_messages.h"
#include "tests/daemon_harness.h"

namespace shixin::e2e {
namespace {

// In the sample: A is listed (two cases).
constexpr char kA[] = "11010519491231002X";

class DaemonSnapshotFileTest : public SampleListTest {
 protected:
  void SetUp() override {
    SampleListTest::SetUp();
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
  ASSERT_TRUE(WriteFileAtomically(Debtors(), LinesWithout(sample_debtors_, kA)).ok());
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
  // The message names the command that moves the file to the daemon's catalog (as a package
  // upgrade revising the shipped one requires), and after it the daemon starts.
  const std::string shipped = SourceDir() + "/data/measures/hegang-2018.json";
  const std::string command = absl::StrFormat(
      "shixin compile --snapshot %s --catalog %s --retarget -o %s", snap_, shipped, snap_);
  EXPECT_TRUE(absl::StrContains(daemon.status().message(), command)) << daemon.status();
  r = RunProcess({BinDir() + "/shixin", "compile", "--snapshot", snap_, "--catalog", shipped,
                  "--retarget", "-o", snap_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  daemon = StartFromSnapshot();
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  daemon->reset();

  // Both --data and --snapshot: a configuration error.
  DaemonOptions options;
  options.data_dir = dir_;
  options.flags = {"--snapshot", snap_};
  daemon = Daemon::Start(options);
  ASSERT_FALSE(daemon.ok());
  EXPECT_TRUE(absl::StrContains(daemon.status().message(), "exclusive")) << daemon.status();
}

ino_t Inode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

// A list of 3,000 subjects (a case blob of many 4 KiB blocks), compiled; shixind serves it, and
// the file is then changed in place as an operator might by mistake. Every DETAIL must answer
// the compiled list's cases or an error; the daemon keeps running and serving CHECK.
class DaemonSnapshotInPlaceTest : public DaemonSnapshotFileTest {
 protected:
  void SetUp() override {
    DaemonSnapshotFileTest::SetUp();
    ASSERT_TRUE(MakeSyntheticDataDir(dir_, 3000, 1).ok());
    Compile(snap_);
    other_dir_ = scratch_.Path("other");
    std::error_code ec;
    ASSERT_TRUE(std::filesystem::create_directory(other_dir_, ec)) << ec.message();
    ASSERT_TRUE(MakeSyntheticDataDir(other_dir_, 3500, 2).ok());
    other_ = scratch_.Path("other.snap");
    ProcessResult r =
        RunProcess({BinDir() + "/shixin", "compile", "--data", other_dir_, "-o", other_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto snap = LoadSnapshot(dir_);
    ASSERT_TRUE(snap.ok()) << snap.status();
    const IdSample sample = SampleIds(**snap, 150);
    for (const auto* ids : {&sample.listed_persons, &sample.listed_orgs}) {
      for (const std::string& text : *ids) {
        absl::StatusOr<Id> id = ParseId(text);
        ASSERT_TRUE(id.ok());
        auto expected = Check(**snap, *id, NowSeconds(), /*with_cases=*/true);
        ASSERT_TRUE(expected.ok());
        ids_.push_back(text);
        expected_.push_back(Dump(*expected));
      }
    }
    ASSERT_GE(ids_.size(), 200u);
    auto daemon = StartFromSnapshot();
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
    auto client = daemon_->Connect(absl::Seconds(5), /*hello=*/true);  // version 2: all fields
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    inode_ = Inode(snap_);
  }

  // DETAIL of every sampled ID: the compiled list's answer or an INTERNAL error that says the
  // cases cannot be read. Returns the number of errors.
  int DetailAll(const std::string& phase) {
    int errors = 0;
    for (size_t i = 0; i < ids_.size(); ++i) {
      auto reply = client_->Detail(ids_[i]);
      if (reply.ok()) {
        EXPECT_EQ(Dump(reply->value), expected_[i]) << phase << ": " << ids_[i];
        continue;
      }
      ++errors;
      EXPECT_TRUE(absl::IsInternal(reply.status())) << phase << ": " << reply.status();
      EXPECT_TRUE(absl::StartsWith(reply.status().message(), "INTERNAL: cannot read the cases: "))
          << phase << ": " << reply.status();
      EXPECT_FALSE(absl::StrContains(reply.status().message(), snap_)) << "a path to a client";
    }
    // CHECK reads only the tables copied at open: unaffected.
    uint32_t generation = 0;
    auto check = client_->Check({ids_[0], ids_[ids_.size() / 2]});
    EXPECT_TRUE(check.ok()) << phase << ": " << check.status();
    if (check.ok()) {
      generation = check->generation;
      for (const auto& answer : check->value) {
        EXPECT_EQ(answer.status, wire::CheckStatus::kListed) << phase;
      }
    }
    EXPECT_EQ(generation, generation_) << phase;
    EXPECT_TRUE(daemon_->Running()) << phase << "\n" << daemon_->stderr_text();
    EXPECT_EQ(Inode(snap_), inode_) << phase << ": the file must be changed in place";
    return errors;
  }

  std::string other_dir_;
  std::string other_;
  std::vector<std::string> ids_;
  std::vector<std::string> expected_;  // Dump() of each one's DETAIL
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<Client> client_;
  ino_t inode_ = 0;
  uint32_t generation_ = 1;
};

TEST_F(DaemonSnapshotInPlaceTest, RewritesAndTruncationsInPlaceNeverCrashOrAnswerOtherBytes) {
  EXPECT_EQ(DetailAll("intact"), 0);
  auto bytes = ReadFile(snap_);
  ASSERT_TRUE(bytes.ok());

  // Random bytes written into the middle of the file.
  {
    std::string noise(64 * 1024, '\0');
    uint64_t x = 42;
    for (char& c : noise) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      c = static_cast<char>(x >> 56);
    }
    const int fd = ::open(snap_.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, noise.data(), noise.size(), static_cast<off_t>(bytes->size() / 2)),
              static_cast<ssize_t>(noise.size()));
    ::close(fd);
  }
  const int noise_errors = DetailAll("random bytes");
  EXPECT_GE(noise_errors, 1);
  EXPECT_LT(noise_errors, static_cast<int>(ids_.size()));

  // cp another list's snapshot over it (the same inode, truncated and rewritten).
  ProcessResult r = RunProcess({"/bin/cp", other_, snap_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(DetailAll("cp other.snap"), static_cast<int>(ids_.size()) / 2);

  // The original content again, then truncate -s to half, then to nothing.
  {
    const int fd = ::open(snap_.c_str(), O_WRONLY | O_TRUNC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, bytes->data(), bytes->size()), static_cast<ssize_t>(bytes->size()));
    ::close(fd);
  }
  EXPECT_EQ(DetailAll("original bytes again"), 0);
  r = RunProcess({"/usr/bin/truncate", "-s", std::to_string(bytes->size() / 2), snap_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const int half_errors = DetailAll("truncated to half");
  EXPECT_GE(half_errors, 1);
  r = RunProcess({"/usr/bin/truncate", "-s", "0", snap_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(DetailAll("truncated to 0"), static_cast<int>(ids_.size()));

  // The daemon said why in its log, rate-limited (a few lines for the hundreds of errors),
  // without the IDs in full.
  const std::string log = daemon_->stderr_text();
  int lines = 0;
  for (size_t at = log.find("cannot read the cases"); at != std::string::npos;
       at = log.find("cannot read the cases", at + 1)) {
    ++lines;
  }
  EXPECT_GE(lines, 2) << log;
  EXPECT_LT(lines, 60) << log;
  EXPECT_FALSE(absl::StrContains(log, ids_[0])) << log;

  // A reload of the empty file is refused; a good file renamed over it is served again.
  auto reload = client_->Reload();
  EXPECT_TRUE(absl::IsAborted(reload.status())) << reload.status();
  EXPECT_EQ(DetailAll("after a refused reload"), static_cast<int>(ids_.size()));
  Compile(snap_ + ".new");
  ASSERT_EQ(::rename((snap_ + ".new").c_str(), snap_.c_str()), 0);
  reload = client_->Reload();
  ASSERT_TRUE(reload.ok()) << reload.status();
  inode_ = Inode(snap_);
  generation_ = 2;
  EXPECT_EQ(DetailAll("a new file, renamed over it and reloaded"), 0);
}

}  // namespace
}  // namespace shixin::e2e
