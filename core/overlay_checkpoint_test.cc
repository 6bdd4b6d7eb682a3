#include "core/overlay_checkpoint.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/builder.h"
#include "core/list.h"
#include "core/overlay.h"
#include "core/synthetic_deltas_test.h"
#include "core/test_util.h"
#include "xxhash.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;

class OverlayCheckpointTest : public testing::SyntheticDeltasTest {
 protected:
  // Returns the overlay of the first `k` delta files folded over the base.
  std::unique_ptr<const Overlay> Fold(size_t k) {
    DeltaReport report;
    DeltaBatchResult batch =
        ApplyDeltas(*base_, nullptr, std::span<const Delta>(deltas_).first(k), &report);
    EXPECT_TRUE(batch.refusal.ok()) << batch.refusal;
    return std::move(batch.overlay);
  }
  // Returns how many of the IDs get another answer from `a` than from `b` at a few instants.
  size_t WrongAnswers(const Overlay& a, const Overlay& b) const {
    const ListView x(*base_, &a), y(*base_, &b);
    size_t wrong = 0;
    for (const Id& id : ids_) {
      for (int64_t t : {last_at_ - 86400 * 30, last_at_ + 1}) {
        wrong += testing::DescribeCheck(x, id, t) != testing::DescribeCheck(y, id, t);
      }
    }
    return wrong;
  }
  std::string File(const std::string& name) const { return absl::StrCat(dir_, "/", name); }
  static std::string Bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static void Put(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }
};

TEST_F(OverlayCheckpointTest, ReadBackHoldsTheSameStatesAndAnswers) {
  const std::unique_ptr<const Overlay> folded = Fold(4);
  ASSERT_GT(folded->size(), 500u);
  const std::string path = File("overlay.checkpoint");
  // A file at the old fixed temporary name (a crash's, or another user's) is never reused.
  std::ofstream(path + ".tmp") << "left by a crash, 0644";
  ASSERT_EQ(::chmod((path + ".tmp").c_str(), 0644), 0);
  // What was applied of each file, which a daemon resumed from it compares the files with.
  std::vector<AppliedDeltaFile> files;
  for (uint64_t k = 1; k <= 4; ++k) {
    files.push_back({.sequence = k,
                     .inode = 100 + k,
                     .size = 1000 * static_cast<int64_t>(k),
                     .mtime_ns = -7,
                     .digest = 0xfeedface00000000 + k,
                     .changes = 10 * k,
                     .applied_at = 5600 + static_cast<int64_t>(k)});
  }
  ASSERT_TRUE(OverlayCheckpoint::Write(*base_, *folded, 1234, 5678, path, {}, files).ok());
  EXPECT_EQ(Bytes(path + ".tmp"), "left by a crash, 0644");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // state_dir's files are the service user's only
  CheckpointInfo info;
  auto read = OverlayCheckpoint::Read(*base_, path, &info);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(info.sequence, 4u);
  EXPECT_EQ(info.source_time, 1234);
  EXPECT_EQ(info.applied_time, 5678);
  EXPECT_EQ(info.entities, folded->size());
  EXPECT_EQ(info.base_version, base_->info().version);
  EXPECT_EQ(info.bytes, std::filesystem::file_size(path));
  EXPECT_EQ(info.files, files);
  const Overlay& loaded = **read;
  EXPECT_EQ(loaded.sequence(), 4u);
  EXPECT_EQ(testing::OverlayDifferences(*folded, loaded), 0u);
  EXPECT_EQ(loaded.Stats().record_bytes, folded->Stats().record_bytes);
  EXPECT_EQ(loaded.Stats().entities, folded->size());
  EXPECT_EQ(WrongAnswers(*folded, loaded), 0u);
  // The bit per base entity came along: an unchanged base subject is told by it.
  for (EntityNo e = 0; e < base_->entity_count(); ++e) {
    ASSERT_EQ(loaded.Changed(e), folded->Changed(e)) << "entity " << e;
  }
}

// Deltas applied on top of a checkpoint give what the whole fold gives (a restart from it).
TEST_F(OverlayCheckpointTest, DeltasAfterACheckpointAnswerAsTheWholeFold) {
  const std::string path = File("overlay.checkpoint");
  ASSERT_TRUE(OverlayCheckpoint::Write(*base_, *Fold(3), 0, 0, path).ok());
  auto read = OverlayCheckpoint::Read(*base_, path);
  ASSERT_TRUE(read.ok()) << read.status();
  DeltaReport report;
  DeltaBatchResult rest =
      ApplyDeltas(*base_, read->get(), std::span<const Delta>(deltas_).subspan(3), &report);
  ASSERT_TRUE(rest.refusal.ok()) << rest.refusal;
  const std::unique_ptr<const Overlay> whole = Fold(kFiles);
  EXPECT_EQ(rest.overlay->sequence(), whole->sequence());
  EXPECT_EQ(testing::OverlayDifferences(*whole, *rest.overlay), 0u);
  EXPECT_EQ(WrongAnswers(*whole, *rest.overlay), 0u);
  // The checkpoint's overlay is shared by the generation after it and still reads the same.
  EXPECT_EQ(WrongAnswers(*Fold(3), **read), 0u);
}

TEST_F(OverlayCheckpointTest, NoFileIsNotFound) {
  auto read = OverlayCheckpoint::Read(*base_, File("none"));
  EXPECT_TRUE(absl::IsNotFound(read.status())) << read.status();
}

// x24 #13: a FIFO at the checkpoint's name is reported at once (the start waited in open()
// for a writer, forever), as not a checkpoint to warn of; it is never written through.
TEST_F(OverlayCheckpointTest, AFifoIsNeitherWaitedForNorWrittenThrough) {
  const std::string path = File("overlay.checkpoint");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  absl::Status read;
  const bool returned = shixin::testing::ReturnsWithoutTheOtherSideOfAFifo(
      path, O_WRONLY, [&] { read = OverlayCheckpoint::Read(*base_, path).status(); });
  ASSERT_TRUE(returned) << "Read waited for a writer of the FIFO";
  EXPECT_TRUE(absl::IsInternal(read)) << read;  // a warning, not "of another base"
  EXPECT_EQ(read.message(), path + ": not a regular file (a FIFO)");
  const absl::Status written = OverlayCheckpoint::Write(*base_, *Fold(2), 0, 0, path);
  EXPECT_EQ(written.message(), path + ": not a regular file (a FIFO): not written");
}

TEST_F(OverlayCheckpointTest, AnotherBaseIsRefused) {
  const std::string path = File("overlay.checkpoint");
  ASSERT_TRUE(OverlayCheckpoint::Write(*base_, *Fold(2), 0, 0, path).ok());
  SnapshotBuilder other;
  other.AddCase(testing::MakeCase(testing::PersonId(1), "张三", "(2019)黑0402执1号"));
  auto other_base = other.Build();
  ASSERT_TRUE(other_base.ok());
  CheckpointInfo info;
  auto read = OverlayCheckpoint::Read(**other_base, path, &info);
  EXPECT_TRUE(absl::IsFailedPrecondition(read.status())) << read.status();
  EXPECT_THAT(read.status().message(), HasSubstr("made over base"));
  EXPECT_EQ(info.sequence, 2u);  // what the header says, for the log
}

// Any byte changed, the file cut short or grown: refused, never a wrong overlay.
TEST_F(OverlayCheckpointTest, DamagedFilesAreRefusedAsDataLoss) {
  const std::string path = File("overlay.checkpoint");
  ASSERT_TRUE(OverlayCheckpoint::Write(*base_, *Fold(2), 0, 0, path).ok());
  const std::string good = Bytes(path);
  ASSERT_GT(good.size(), 10000u);
  const std::string bad = File("bad.checkpoint");
  // A byte of the header, of the bits, of an entity's head, of its records, and the last.
  for (size_t at : {size_t{40}, size_t{100}, good.size() / 3, good.size() / 2, good.size() - 1}) {
    std::string bytes = good;
    bytes[at] = static_cast<char>(bytes[at] ^ 0x20);
    Put(bad, bytes);
    auto read = OverlayCheckpoint::Read(*base_, bad);
    EXPECT_TRUE(absl::IsDataLoss(read.status())) << "byte " << at << ": " << read.status();
  }
  for (size_t size : {size_t{0}, size_t{50}, good.size() / 2, good.size() - 1}) {
    Put(bad, good.substr(0, size));
    auto read = OverlayCheckpoint::Read(*base_, bad);
    EXPECT_TRUE(absl::IsDataLoss(read.status())) << size << " bytes: " << read.status();
  }
  Put(bad, good + "x");
  auto grown = OverlayCheckpoint::Read(*base_, bad);
  EXPECT_TRUE(absl::IsDataLoss(grown.status())) << grown.status();
  EXPECT_THAT(grown.status().message(), HasSubstr("the header says"));
  Put(bad, good);
  EXPECT_TRUE(OverlayCheckpoint::Read(*base_, bad).ok());
}

// A credit-code subject a delta brought is found by its organisation code after a read too (the
// overlay notes the codes again). A checkpoint of format 1 may hold a case added under a
// credit code as a subject apart from the organisation the base lists by the code it embeds,
// which lookups no longer reach: it is refused, and the deltas are replayed.
TEST_F(OverlayCheckpointTest, OrgCodesFindTheirOrganisationsAndFormat1IsReplayed) {
  const Id credit = testing::CreditCodeEmbedding(testing::OrgCode(901));
  ASSERT_EQ(base_->Find(credit), kNoEntity);
  const CaseInput added = testing::MakeCase(credit, "新公司", "（2026）黑04执901号");
  Delta delta;
  delta.sequence = 1;
  delta.name = DeltaFileName(1);
  DeltaChange& change = delta.changes.emplace_back();
  change.line = 1;
  change.id = credit;
  change.name = added.name;
  change.record = added;
  change.record.start = DayStart(20260601);
  DeltaReport report;
  auto overlay = ApplyDelta(*base_, nullptr, delta, &report);
  ASSERT_TRUE(overlay.ok()) << overlay.status();
  const std::string path = File("overlay.checkpoint");
  ASSERT_TRUE(OverlayCheckpoint::Write(*base_, **overlay, 0, 0, path).ok());
  auto read = OverlayCheckpoint::Read(*base_, path);
  ASSERT_TRUE(read.ok()) << read.status();
  const ListView view(*base_, read->get());
  const SubjectRef s = view.Find(testing::OrgCode(901));
  ASSERT_TRUE(s.found());
  EXPECT_EQ(view.SubjectId(s), credit);
  EXPECT_EQ(view.Find(credit), s);

  std::string bytes = Bytes(path);
  constexpr size_t kVersionAt = 8, kHeaderHashAt = 88;  // docs/feed.md, the checkpoint's header
  const uint32_t format1 = 1;
  std::memcpy(bytes.data() + kVersionAt, &format1, sizeof(format1));
  const uint64_t header_hash = XXH3_64bits(bytes.data(), kHeaderHashAt);
  std::memcpy(bytes.data() + kHeaderHashAt, &header_hash, sizeof(header_hash));
  Put(File("format1.checkpoint"), bytes);
  auto old = OverlayCheckpoint::Read(*base_, File("format1.checkpoint"));
  EXPECT_TRUE(absl::IsFailedPrecondition(old.status())) << old.status();
  EXPECT_THAT(old.status().message(), HasSubstr("format 1 of another layout"));
  // Nor one of format 2, without the table of delta files: replayed once, it has one.
  const uint32_t format2 = 2;
  std::memcpy(bytes.data() + kVersionAt, &format2, sizeof(format2));
  const uint64_t header_hash2 = XXH3_64bits(bytes.data(), kHeaderHashAt);
  std::memcpy(bytes.data() + kHeaderHashAt, &header_hash2, sizeof(header_hash2));
  Put(File("format2.checkpoint"), bytes);
  auto two = OverlayCheckpoint::Read(*base_, File("format2.checkpoint"));
  EXPECT_TRUE(absl::IsFailedPrecondition(two.status())) << two.status();
  EXPECT_THAT(two.status().message(), HasSubstr("format 2 of another layout"));
}

TEST_F(OverlayCheckpointTest, AFailedWriteLeavesTheOldCheckpoint) {
  const std::string path = File("overlay.checkpoint");
  ASSERT_TRUE(OverlayCheckpoint::Write(*base_, *Fold(2), 0, 0, path).ok());
  const std::string before = Bytes(path);
  // The temporary file cannot be written whole: a file-size limit below the checkpoint's size.
  struct rlimit old_limit {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old_limit;
  small.rlim_cur = before.size() / 2;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const absl::Status s = OverlayCheckpoint::Write(*base_, *Fold(3), 0, 0, path);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(path + ".tmp"));
  EXPECT_EQ(Bytes(path), before);
}

}  // namespace
}  // namespace shixin
