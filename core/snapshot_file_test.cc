#include "core/snapshot_file.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/thread.h"
#include "core/builder.h"
#include "core/dataset.h"
#include "core/test_util.h"
#include "synthetic/synthetic.h"
#include "xxhash.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kFingerprint = 0x1234abcd5678ef01ull;
const CatalogIdentity kCatalog{"hegang-2018", kFingerprint};

// Byte offsets of the format (SNAPSHOT_FORMAT.md).
constexpr size_t kVersionOffset = 8;
constexpr size_t kHeaderChecksumOffset = 248;
constexpr size_t kTableOffset = 256;
constexpr int kSections = 9;
constexpr size_t kEntityBytes = 32;

using testing::SourceDir;

std::string TempPath(const std::string& name) {
  return absl::StrFormat("%ssnapshot_file_test_%d_%s", ::testing::TempDir(), getpid(), name);
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <typename T>
T Get(const std::string& bytes, size_t offset) {
  T v;
  std::memcpy(&v, bytes.data() + offset, sizeof(v));
  return v;
}

template <typename T>
void Put(std::string& bytes, size_t offset, T v) {
  std::memcpy(bytes.data() + offset, &v, sizeof(v));
}

struct Section {
  uint32_t kind;
  uint64_t offset;
  uint64_t size;
};

Section SectionOf(const std::string& bytes, int i) {
  const size_t at = kTableOffset + 32 * static_cast<size_t>(i);
  return Section{Get<uint32_t>(bytes, at), Get<uint64_t>(bytes, at + 8),
                 Get<uint64_t>(bytes, at + 16)};
}

// Recomputes the checksum of section `i` (the hash of its 4 KiB blocks' hashes) and the
// header's, as a crafter would.
void Reseal(std::string& bytes, int i) {
  const Section s = SectionOf(bytes, i);
  std::vector<uint64_t> blocks;
  for (uint64_t at = 0; at < s.size; at += 4096) {
    blocks.push_back(
        XXH3_64bits(bytes.data() + s.offset + at, std::min<uint64_t>(4096, s.size - at)));
  }
  Put<uint64_t>(bytes, kTableOffset + 32 * i + 24,
                XXH3_64bits(blocks.data(), blocks.size() * sizeof(uint64_t)));
  std::string covered = bytes.substr(0, kHeaderChecksumOffset) +
                        bytes.substr(kTableOffset, 32 * static_cast<size_t>(kSections));
  Put<uint64_t>(bytes, kHeaderChecksumOffset, XXH3_64bits(covered.data(), covered.size()));
}

std::unique_ptr<const Snapshot> Synthetic(uint64_t subjects, uint64_t seed = 7) {
  SnapshotBuilder builder;
  GenerateSynthetic(
      SyntheticOptions{subjects, seed}, [&](const CaseInput& c) { builder.AddCase(c); },
      [&](const RelationInput& r) { builder.AddRelation(r); });
  // A subject listed twice with a gap between: an earlier listing block in its own table.
  for (const auto& [code, publish, term_end] :
       {std::tuple("（2016）黑04执1号", 20160104u, 20180103u),
        std::tuple("（2020）黑04执2号", 20200601u, 0u)}) {
    CaseInput c = testing::MakeCase(testing::PersonId(999), "两段", code);
    c.publish_date = publish;
    c.start = DayStart(publish);
    c.term_end = term_end;
    builder.AddCase(c);
  }
  // A role that held for a while only (a link_intervals entry from each side).
  builder.AddRelation(testing::MakeRelation(testing::CreditCode(999), testing::PersonId(999),
                                            "两段", Role::kDirector),
                      Interval{DayStart(20200601), DayStart(20240101)});
  auto snap = builder.Build();
  EXPECT_TRUE(snap.ok()) << snap.status();
  return *std::move(snap);
}

void ExpectCaseEqual(const CaseView& a, const CaseView& b) {
  ForEachCaseField(
      [](const CaseField& f, const auto& x, const auto& y) { EXPECT_EQ(x, y) << f.name; }, a, b);
}

// Writes `data` at `offset` of the existing file `path`, in place (same inode, no truncation).
void WriteInPlace(const std::string& path, uint64_t offset, const std::string& data) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(data.size()));
  ::close(fd);
}

ino_t Inode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_ino;
}

// A range of file bytes.
struct Range {
  uint64_t begin;
  uint64_t end;
};

// Returns the file bytes that reading cases [first, first + count) depends on, as
// SNAPSHOT_FORMAT.md says: their records, and their offsets and the next case's when a group of
// 32 cases they fall in spans 64 KiB or more (others are in memory from the open), each in the
// whole 4 KiB blocks of its section that hold it.
std::vector<Range> BytesRead(const std::string& file, uint64_t first, uint64_t count) {
  const Section offsets = SectionOf(file, kSections - 2);
  const Section blob = SectionOf(file, kSections - 1);
  const uint64_t cases = offsets.size / 8;
  const auto offset = [&](uint64_t c) {
    return c == cases ? blob.size : Get<uint64_t>(file, offsets.offset + 8 * c);
  };
  const auto blocks = [](const Section& s, uint64_t begin, uint64_t end) {
    return Range{s.offset + begin / 4096 * 4096,
                 s.offset + std::min((end + 4095) / 4096 * 4096, s.size)};
  };
  bool wide = false;
  for (uint64_t g = first / 32; g <= std::min(first + count, cases - 1) / 32; ++g) {
    wide |= offset(std::min(g * 32 + 31, cases - 1)) - offset(g * 32) > 65535;
  }
  std::vector<Range> ranges = {blocks(blob, offset(first), offset(first + count))};
  if (wide) ranges.push_back(blocks(offsets, 8 * first, 8 * std::min(first + count + 1, cases)));
  return ranges;
}

// Reads the case records of every entity of `snap` in batches (of 7, so that batches mix
// entities and, after a change in place, failures with reads that succeed) and expects each
// result to be the one ReadCaseRecords() alone returns. Returns the number of failed reads.
int ExpectBatchesReadAsSingleReads(const Snapshot& snap) {
  std::vector<EntityNo> entities;
  for (EntityNo e = 0; e < snap.entity_count(); ++e) {
    if (snap.CaseCount(e) > 0) entities.push_back(e);
  }
  int failed = 0;
  for (size_t at = 0; at < entities.size(); at += 7) {
    std::vector<CaseBuffer> buffers(7);
    std::vector<CaseRecordsRead> reads;
    for (size_t i = at; i < std::min(at + 7, entities.size()); ++i) {
      reads.push_back(CaseRecordsRead{snap.FirstCase(entities[i]), snap.CaseCount(entities[i]),
                                      &buffers[i - at], CaseRecords{}});
    }
    snap.ReadCaseRecordsBatch(reads);
    for (const CaseRecordsRead& read : reads) {
      CaseBuffer alone;
      auto single = snap.ReadCaseRecords(read.first, read.count, alone);
      EXPECT_EQ(read.result.status(), single.status()) << "case " << read.first;
      if (!single.ok() || !read.result.ok()) {
        ++failed;
        continue;
      }
      EXPECT_EQ(read.result->bytes, single->bytes) << "case " << read.first;
      EXPECT_THAT(read.result->offsets, ::testing::ElementsAreArray(single->offsets));
      EXPECT_EQ(read.result->offsets.size(), read.count);
    }
  }
  return failed;
}

// Reads the cases of every entity of `snap`, opened from the file `before` that has since been
// changed in place into `after`: a read whose bytes are unchanged returns the cases of `built`,
// any other returns DataLoss. Returns the number of reads that failed.
int ExpectReadsAfterChange(const Snapshot& snap, const Snapshot& built, const std::string& before,
                           const std::string& after) {
  int failed = 0;
  for (EntityNo e = 0; e < snap.entity_count(); ++e) {
    if (snap.CaseCount(e) == 0) continue;
    bool unchanged = true;
    for (const Range& r : BytesRead(before, snap.FirstCase(e), snap.CaseCount(e))) {
      unchanged &= r.end <= after.size() &&
                   before.compare(r.begin, r.end - r.begin, after, r.begin, r.end - r.begin) == 0;
    }
    CaseBuffer buffer;
    CaseBuffer expected_buffer;
    auto cases = snap.ReadCases(snap.FirstCase(e), snap.CaseCount(e), buffer);
    auto expected = built.ReadCases(built.FirstCase(e), built.CaseCount(e), expected_buffer);
    EXPECT_TRUE(expected.ok());
    if (!unchanged) {
      EXPECT_EQ(cases.status().code(), absl::StatusCode::kDataLoss) << "entity " << e;
      EXPECT_THAT(cases.status().message(),
                  HasSubstr("cannot read the cases: the snapshot file's"));
      ++failed;
    } else if (cases.ok() && expected.ok()) {
      EXPECT_EQ(cases->size(), expected->size());
      for (size_t c = 0; c < std::min(cases->size(), expected->size()); ++c) {
        ExpectCaseEqual((*cases)[c], (*expected)[c]);
      }
    } else {
      ADD_FAILURE() << "entity " << e << ": " << cases.status();
    }
  }
  EXPECT_EQ(ExpectBatchesReadAsSingleReads(snap), failed);
  return failed;
}

void ExpectSameSnapshot(const Snapshot& a, const Snapshot& b) {
  EXPECT_EQ(a.history_from(), b.history_from());
  const SnapshotInfo& x = a.info();
  const SnapshotInfo& y = b.info();
  EXPECT_EQ(x.version, y.version);
  EXPECT_EQ(x.build_time, y.build_time);
  EXPECT_EQ(x.source_time, y.source_time);
  EXPECT_EQ(x.subjects, y.subjects);
  EXPECT_EQ(x.persons, y.persons);
  EXPECT_EQ(x.organizations, y.organizations);
  EXPECT_EQ(x.cases, y.cases);
  EXPECT_EQ(x.relations, y.relations);
  EXPECT_EQ(x.related_persons, y.related_persons);
  EXPECT_EQ(x.entities, y.entities);
  EXPECT_EQ(a.IndexBytes(), b.IndexBytes());
  EXPECT_EQ(a.CaseBytes(), b.CaseBytes());
  ASSERT_EQ(a.entity_count(), b.entity_count());
  std::vector<Id> ids;
  for (EntityNo e = 0; e < a.entity_count(); ++e) {
    const Id id = a.EntityId(e);
    ids.push_back(id);
    ASSERT_EQ(id, b.EntityId(e));
    ASSERT_EQ(b.Find(id), e);
    if (id.kind() == IdKind::kCreditCode) {
      EXPECT_EQ(a.Find(id.EmbeddedOrgCode()), b.Find(id.EmbeddedOrgCode()));
    }
    EXPECT_EQ(a.EntityKind(e), b.EntityKind(e));
    EXPECT_EQ(a.EntityName(e), b.EntityName(e));
    for (int64_t t : {int64_t{0}, a.info().build_time, NowSeconds(), kForever}) {
      EXPECT_EQ(a.ListingAt(e, t), b.ListingAt(e, t));
      EXPECT_EQ(a.IsRelated(e, t), b.IsRelated(e, t));
    }
    ASSERT_EQ(a.CaseCount(e), b.CaseCount(e));
    ASSERT_EQ(a.FirstCase(e), b.FirstCase(e));
    CaseBuffer buffer_a;
    CaseBuffer buffer_b;
    auto cases_a = a.ReadCases(a.FirstCase(e), a.CaseCount(e), buffer_a);
    auto cases_b = b.ReadCases(b.FirstCase(e), b.CaseCount(e), buffer_b);
    ASSERT_TRUE(cases_a.ok() && cases_b.ok()) << cases_a.status() << cases_b.status();
    ASSERT_EQ(cases_a->size(), a.CaseCount(e));
    ASSERT_EQ(cases_b->size(), a.CaseCount(e));
    for (uint32_t c = 0; c < a.CaseCount(e); ++c) {
      ExpectCaseEqual((*cases_a)[c], (*cases_b)[c]);
      CaseBuffer one;  // one case at a time reads the same
      auto single = b.ReadCases(b.FirstCase(e) + c, 1, one);
      ASSERT_TRUE(single.ok()) << single.status();
      ExpectCaseEqual((*cases_a)[c], (*single)[0]);
    }
    ASSERT_EQ(a.LinkCount(e), b.LinkCount(e));
    for (uint32_t i = 0; i < a.LinkCount(e); ++i) {
      EXPECT_EQ(a.Link(e, i).other, b.Link(e, i).other);
      EXPECT_EQ(a.Link(e, i).role, b.Link(e, i).role);
    }
  }
  std::vector<EntityNo> found(ids.size());
  b.FindBatch(ids, found);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(found[i], i);
  EXPECT_EQ(ExpectBatchesReadAsSingleReads(a), 0);
  EXPECT_EQ(ExpectBatchesReadAsSingleReads(b), 0);
}

class SnapshotFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    built_ = Synthetic(300);
    path_ = TempPath("snap");
    ASSERT_TRUE(WriteSnapshotFile(*built_, kCatalog, path_).ok());
    bytes_ = ReadBytes(path_);
  }
  void TearDown() override { std::remove(path_.c_str()); }

  // Writes `bytes` to the file and returns the error of opening it with `threads`.
  absl::Status OpenBytes(const std::string& bytes, unsigned threads = 0) {
    WriteBytes(path_, bytes);
    auto snap = OpenSnapshotFile(path_, kFingerprint, nullptr, threads);
    return snap.ok() ? absl::OkStatus() : snap.status();
  }

  std::unique_ptr<const Snapshot> built_;
  std::string path_;
  std::string bytes_;
};

TEST_F(SnapshotFileTest, RoundTripsEveryAccessor) {
  SnapshotFileHeader header;
  auto mapped = OpenSnapshotFile(path_, kFingerprint, &header);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_TRUE((*mapped)->from_file());
  EXPECT_FALSE(built_->from_file());
  EXPECT_EQ(header.format_version, kSnapshotFormatVersion);
  EXPECT_EQ(header.catalog.id, "hegang-2018");
  EXPECT_EQ(header.catalog.fingerprint, kFingerprint);
  EXPECT_EQ(header.file_size, bytes_.size());
  EXPECT_GT(built_->info().relations, 0u);
  ExpectSameSnapshot(*built_, **mapped);
  // Only a built snapshot is written.
  EXPECT_EQ(WriteSnapshotFile(**mapped, kCatalog, TempPath("again")).code(),
            absl::StatusCode::kFailedPrecondition);
  // 0 accepts any catalog.
  EXPECT_TRUE(OpenSnapshotFile(path_, 0).ok());
  // Any number of verifying threads reads the same snapshot.
  for (unsigned threads : {1u, 2u, 5u}) {
    auto opened = OpenSnapshotFile(path_, kFingerprint, nullptr, threads);
    ASSERT_TRUE(opened.ok()) << threads << ": " << opened.status();
    ExpectSameSnapshot(*built_, **opened);
  }
  // No thread the system can create (the task limit; before: std::thread threw and the process
  // aborted): the caller verifies alone.
  ScopedThreadStartFailure no_tasks("");
  auto alone = OpenSnapshotFile(path_, kFingerprint, nullptr, 5);
  ASSERT_TRUE(alone.ok()) << alone.status();
  ExpectSameSnapshot(*built_, **alone);
}

TEST_F(SnapshotFileTest, RoundTripsTheSample) {
  auto sample = LoadDataDir(SourceDir() + "/data/sample", LoadOptions{}, nullptr);
  ASSERT_TRUE(sample.ok()) << sample.status();
  ASSERT_TRUE(WriteSnapshotFile(**sample, kCatalog, path_).ok());
  auto mapped = OpenSnapshotFile(path_, kFingerprint);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  ExpectSameSnapshot(**sample, **mapped);
}

TEST_F(SnapshotFileTest, RoundTripsAnEmptySnapshot) {
  SnapshotBuilder builder;
  auto empty = builder.Build();
  ASSERT_TRUE(empty.ok());
  ASSERT_TRUE(WriteSnapshotFile(**empty, kCatalog, path_).ok());
  auto mapped = OpenSnapshotFile(path_, kFingerprint);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_EQ((*mapped)->entity_count(), 0u);
  EXPECT_EQ((*mapped)->Find(built_->EntityId(0)), kNoEntity);
}

TEST_F(SnapshotFileTest, MissingFileIsNotFound) {
  auto snap = OpenSnapshotFile(TempPath("missing"), 0);
  EXPECT_EQ(snap.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SnapshotFileTest, TruncatedFileIsRefused) {
  const Section blob = SectionOf(bytes_, kSections - 1);
  for (size_t size : {size_t{0}, size_t{5}, size_t{100}, size_t{300}, size_t{4096},
                      static_cast<size_t>(SectionOf(bytes_, 1).offset + 10),
                      static_cast<size_t>(blob.offset + blob.size / 2), bytes_.size() - 1}) {
    const absl::Status s = OpenBytes(bytes_.substr(0, size));
    EXPECT_FALSE(s.ok()) << size;
    if (size >= 8) {
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << size << ": " << s;
      EXPECT_THAT(s.message(), HasSubstr("truncated")) << size;
    }
  }
  const absl::Status s = OpenBytes(bytes_.substr(0, blob.offset + 100));
  EXPECT_THAT(s.message(),
              HasSubstr(absl::StrFormat("truncated: section case_blob ends at byte %d but the "
                                        "file has %d",
                                        blob.offset + blob.size, blob.offset + 100)));
  EXPECT_THAT(OpenBytes(bytes_ + "x").message(), HasSubstr("trailing bytes"));
}

// Where SetSnapshotReadHookForTesting() cuts the file, once.
std::string cut_path;
off_t cut_size = 0;

// A file cut short while a reload reads it (finding #4 of tester x25): the error says which
// read failed and that the file shrank, not a bare "read error".
TEST_F(SnapshotFileTest, FileTruncatedWhileOpenedNamesTheReadThatFailed) {
  const Section blob = SectionOf(bytes_, kSections - 1);
  ASSERT_LT(blob.size, 1u << 20);  // read as one piece
  cut_path = path_;
  cut_size = static_cast<off_t>(blob.offset + 100);
  SetSnapshotReadHookForTesting([](uint64_t) {
    if (cut_path.empty()) return;
    EXPECT_EQ(::truncate(cut_path.c_str(), cut_size), 0);
    cut_path.clear();
  });
  auto snap = OpenSnapshotFile(path_, kFingerprint, nullptr, /*threads=*/1);
  SetSnapshotReadHookForTesting(nullptr);
  ASSERT_EQ(snap.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(snap.status().message(),
            absl::StrFormat("%s: cannot read section case_blob, bytes %d to %d: the file ends "
                            "before them: it has %d bytes now, %d when it was opened (changed "
                            "while it was read? replace the file by renaming a complete one into "
                            "place, never rewrite it in place)",
                            path_, blob.offset, blob.offset + blob.size, cut_size, bytes_.size()));
}

TEST_F(SnapshotFileTest, FlippedByteInEverySectionIsRefused) {
  for (int i = 0; i < kSections; ++i) {
    const Section s = SectionOf(bytes_, i);
    ASSERT_GT(s.size, 0u) << i;
    for (uint64_t at : {s.offset, s.offset + s.size / 2, s.offset + s.size - 1}) {
      std::string bad = bytes_;
      bad[at] ^= 0x10;
      const absl::Status st = OpenBytes(bad);
      EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << i << "@" << at;
      EXPECT_THAT(st.message(), HasSubstr("is corrupt (checksum")) << st;
    }
  }
  std::string bad = bytes_;
  bad[100] ^= 1;  // in the SnapshotInfo
  EXPECT_THAT(OpenBytes(bad).message(), HasSubstr("header checksum mismatch"));
}

// The instant from which a compacted base holds the whole history is kept in the header (bytes
// 40-47, zero in the files of earlier builds: a whole history); a negative one is refused.
TEST_F(SnapshotFileTest, TheHistoryCutRoundTrips) {
  EXPECT_EQ(built_->history_from(), 0);
  EXPECT_EQ(OpenSnapshotFile(path_, kFingerprint).value()->history_from(), 0);
  SnapshotBuilder builder;
  builder.AddCase(testing::MakeCase(testing::PersonId(1), "张一", "（2024）黑04执1号"));
  const int64_t cut = 1700000000;
  builder.set_history_from(cut);
  const std::unique_ptr<const Snapshot> cut_base = builder.Build().value();
  EXPECT_EQ(cut_base->history_from(), cut);
  ASSERT_TRUE(WriteSnapshotFile(*cut_base, kCatalog, path_).ok());
  std::string bytes = ReadBytes(path_);
  EXPECT_EQ(Get<int64_t>(bytes, 40), cut);
  const auto opened = OpenSnapshotFile(path_, kFingerprint);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ExpectSameSnapshot(*cut_base, **opened);

  Put<int64_t>(bytes, 40, -1);
  Reseal(bytes, 0);
  const absl::Status s = OpenBytes(bytes);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("corrupt header (history kept from -1)"));
}

TEST_F(SnapshotFileTest, WrongMagicAndVersionAreRefused) {
  std::string bad = bytes_;
  bad[0] = 'X';
  absl::Status s = OpenBytes(bad);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("not a shixin snapshot file"));
  bad = bytes_;
  Put<uint32_t>(bad, kVersionOffset, kSnapshotFormatVersion + 1);
  s = OpenBytes(bad);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(),
              HasSubstr(absl::StrFormat("snapshot format version %d, this build reads %d and %d",
                                        kSnapshotFormatVersion + 1, kOldestSnapshotFormatVersion,
                                        kSnapshotFormatVersion)));
  // Files of the formats before per-block checksums (1), case validity (2) and compaction (3):
  // refused by their version.
  for (uint32_t old : {1, 2, 3}) {
    bad = bytes_;
    Put<uint32_t>(bad, kVersionOffset, old);
    s = OpenBytes(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(s.message(),
                HasSubstr(absl::StrFormat(
                    "snapshot format version %d, this build reads %d and %d; compile the list "
                    "again",
                    old, kOldestSnapshotFormatVersion, kSnapshotFormatVersion)));
  }
}

// A file of the format before (4) opens: its indexes (another layout) are built again from
// the entities, never read, so an upgraded daemon keeps serving and compacting its base.
TEST_F(SnapshotFileTest, AFileOfTheFormatBeforeOpensWithItsIndexesBuiltAgain) {
  std::string old = bytes_;
  Put<uint32_t>(old, kVersionOffset, kOldestSnapshotFormatVersion);
  for (const int index : {0, 2}) {  // id_index and org_code_index: bytes no reader may use
    const Section s = SectionOf(old, index);
    std::memset(old.data() + s.offset, 0xAB, s.size);
    Reseal(old, index);
  }
  WriteBytes(path_, old);
  SnapshotFileHeader header;
  for (unsigned threads : {1u, 3u}) {
    auto opened = OpenSnapshotFile(path_, kFingerprint, &header, threads);
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_EQ(header.format_version, kOldestSnapshotFormatVersion);
    ExpectSameSnapshot(*built_, **opened);
    EXPECT_EQ((*opened)->IndexBytes(), built_->IndexBytes());
  }
}

TEST_F(SnapshotFileTest, CatalogMismatchIsRefused) {
  auto snap = OpenSnapshotFile(path_, 0x42);
  EXPECT_EQ(snap.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(snap.status().message(), HasSubstr("1234abcd5678ef01"));
  EXPECT_THAT(snap.status().message(), HasSubstr("0000000000000042"));
  EXPECT_THAT(snap.status().message(), HasSubstr("hegang-2018"));
  // The refusal names the command that moves the file to the catalog in use.
  snap = OpenSnapshotFile(path_, 0x42, nullptr, 0, "/usr/share/shixin/measures/new.json");
  EXPECT_THAT(snap.status().message(),
              HasSubstr(absl::StrFormat("the catalog file /usr/share/shixin/measures/new.json "
                                        "has fingerprint 0000000000000042")));
  EXPECT_THAT(snap.status().message(),
              HasSubstr(absl::StrFormat("shixin compile --snapshot %s --catalog "
                                        "/usr/share/shixin/measures/new.json --retarget -o %s",
                                        path_, path_)));
}

// Crafted files with valid checksums but tables that would make a query read out of bounds.
TEST_F(SnapshotFileTest, InconsistentTablesAreRefused) {
  const Section index = SectionOf(bytes_, 0);
  const Section entities = SectionOf(bytes_, 1);
  const Section links = SectionOf(bytes_, 4);
  const Section offsets = SectionOf(bytes_, kSections - 2);
  const Section link_intervals = SectionOf(bytes_, kSections - 3);
  ASSERT_EQ(entities.kind, 2u);
  ASSERT_EQ(link_intervals.kind, 7u);
  ASSERT_EQ(link_intervals.size, 24u);  // the fixture's dated role, from both sides
  const uint32_t n = static_cast<uint32_t>(entities.size / kEntityBytes - 1);
  struct Craft {
    const char* what;
    int section;
    size_t at;
    uint32_t value32;
    uint64_t value64;
    bool wide;
  };
  const Craft crafts[] = {
      {"name range", 1, entities.offset + kEntityBytes * 3 + 12, 0xFFFFFF00u, 0, false},
      {"case range", 1, entities.offset + kEntityBytes * 3 + 16, 0xFFFFFF00u, 0, false},
      {"link range", 1, entities.offset + kEntityBytes * 3 + 20, 0xFFFFFF00u, 0, false},
      {"sentinel", 1, entities.offset + kEntityBytes * n + 12, 1u << 30, 0, false},
      {"bad id", 1, entities.offset + kEntityBytes * 5 + 8, 0, 0, false},
      {"link entity", 4, links.offset, (n + 5) << 3, 0, false},
      {"link role", 4, links.offset, 7, 0, false},
      {"case offset", kSections - 2, offsets.offset + 8, 0, 1ull << 40, true},
      {"case order", kSections - 2, offsets.offset + 16, 0, 0, true},
      {"first case offset", kSections - 2, offsets.offset, 0, 1, true},
      {"link interval's link", kSections - 3, link_intervals.offset,
       static_cast<uint32_t>(links.size / 4), 0, false},
      {"empty link interval", kSections - 3, link_intervals.offset + 8, 0, 0, false},
      {"link intervals out of order", kSections - 3, link_intervals.offset + 12,
       Get<uint32_t>(bytes_, link_intervals.offset), 0, false},
      {"index entry", 0, index.offset + 32, n + 1, 0, false},
  };
  // With one thread the tables are checked one after another, with more concurrently.
  for (unsigned threads : {1u, 3u}) {
    for (const Craft& c : crafts) {
      std::string bad = bytes_;
      if (c.wide) {
        Put<uint64_t>(bad, c.at, c.value64);
      } else {
        Put<uint32_t>(bad, c.at, c.value32);
      }
      Reseal(bad, c.section);
      const absl::Status s = OpenBytes(bad, threads);
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << c.what << ": " << s;
      EXPECT_THAT(s.message(), HasSubstr("inconsistent tables")) << c.what << ": " << s;
    }
  }
  std::string duplicate = bytes_;  // entity 5 gets entity 4's ID: no longer strictly sorted
  std::memcpy(duplicate.data() + entities.offset + kEntityBytes * 5,
              bytes_.data() + entities.offset + kEntityBytes * 4, 12);
  Reseal(duplicate, 1);
  EXPECT_THAT(OpenBytes(duplicate).message(), HasSubstr("unsorted ID"));
  // A resealed but unchanged file still opens: the crafts above are caught by structure.
  std::string same = bytes_;
  Reseal(same, 1);
  EXPECT_TRUE(OpenBytes(same).ok());
}

// The listing_blocks table (12 bytes a block: entity, from, until), grown into its padding by
// one block: refused unless the blocks stay sorted by (entity, from), each from < until, and
// name an entity in range.
TEST_F(SnapshotFileTest, ListingBlocksOutOfOrderOrRangeAreRefused) {
  constexpr int kBlocks = 5;  // the section's place in the table: kind 6
  constexpr size_t kBlockBytes = 12;
  const Section blocks = SectionOf(bytes_, kBlocks);
  ASSERT_EQ(blocks.kind, 6u);
  ASSERT_EQ(blocks.size, kBlockBytes);  // the fixture's one subject with two blocks
  ASSERT_LT(blocks.size + kBlockBytes, SectionOf(bytes_, kBlocks + 1).offset - blocks.offset);
  const uint32_t n = static_cast<uint32_t>(SectionOf(bytes_, 1).size / kEntityBytes - 1);
  const uint32_t entity = Get<uint32_t>(bytes_, blocks.offset);
  const uint32_t from = Get<uint32_t>(bytes_, blocks.offset + 4);
  const uint32_t until = Get<uint32_t>(bytes_, blocks.offset + 8);
  ASSERT_LT(from, until);
  ASSERT_LT(entity + 2, n);
  // Returns the file with a second block {e, f, u} after the fixture's, whose entity becomes
  // `first`.
  const auto with_second = [&](uint32_t e, uint32_t f, uint32_t u, uint32_t first) {
    std::string bad = bytes_;
    Put<uint32_t>(bad, blocks.offset, first);
    Put<uint32_t>(bad, blocks.offset + kBlockBytes, e);
    Put<uint32_t>(bad, blocks.offset + kBlockBytes + 4, f);
    Put<uint32_t>(bad, blocks.offset + kBlockBytes + 8, u);
    Put<uint64_t>(bad, kTableOffset + 32 * kBlocks + 16, 2 * kBlockBytes);
    Reseal(bad, kBlocks);
    return bad;
  };
  // In order: accepted, so that the refusals below are for the order and ranges alone.
  EXPECT_TRUE(OpenBytes(with_second(entity + 1, 10, 20, entity)).ok());
  EXPECT_TRUE(OpenBytes(with_second(entity, from + 1, from + 2, entity)).ok());
  const struct {
    const char* what;
    std::string bytes;
  } crafts[] = {
      {"an earlier entity after", with_second(entity + 1, 10, 20, entity + 2)},
      {"an earlier start after", with_second(entity, from - 1, until, entity)},
      {"the same start twice", with_second(entity, from, until, entity)},
      {"an empty block", with_second(entity + 1, 20, 20, entity)},
      {"an end before the start", with_second(entity + 1, 20, 10, entity)},
      {"an entity out of range", with_second(n, 10, 20, entity)},
  };
  for (unsigned threads : {1u, 3u}) {
    for (const auto& c : crafts) {
      const absl::Status s = OpenBytes(c.bytes, threads);
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << c.what << ": " << s;
      EXPECT_THAT(s.message(), HasSubstr("inconsistent tables: listing block 1 out of order or "
                                         "range"))
          << c.what << ": " << s;
    }
  }
}

// A file changed in place after it was opened (cp over it, truncate, a write into it): no
// read crashes, and none returns bytes other than those verified at open.
TEST_F(SnapshotFileTest, CaseBytesOverwrittenInPlaceAreAnErrorNotText) {
  auto snap = OpenSnapshotFile(path_, kFingerprint);
  ASSERT_TRUE(snap.ok()) << snap.status();
  const Section blob = SectionOf(bytes_, kSections - 1);
  ASSERT_GT(blob.size, 3 * 4096u);  // several blocks, so that most reads still succeed
  std::string after = bytes_;
  const uint64_t at = blob.offset + blob.size / 2;
  after.replace(at, 8, "XXXXXXXX");
  WriteInPlace(path_, at, after.substr(at, 8));
  const int failed = ExpectReadsAfterChange(**snap, *built_, bytes_, after);
  EXPECT_GE(failed, 1);
  EXPECT_LT(failed, static_cast<int>(built_->info().subjects) / 2);
  // The record holding the byte: a checksum error naming the block.
  CaseBuffer buffer;
  const uint64_t cases = SectionOf(bytes_, kSections - 2).size / 8;
  uint32_t c = 0;
  while (c + 1 < cases && Get<uint64_t>(bytes_, SectionOf(bytes_, kSections - 2).offset +
                                                    8 * (c + 1)) <= blob.size / 2) {
    ++c;
  }
  auto read = (*snap)->ReadCases(c, 1, buffer);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(
      read.status().message(),
      HasSubstr(absl::StrFormat("case_blob section: block %d (file bytes %d-%d) fails its "
                                "checksum",
                                blob.size / 2 / 4096, at / 4096 * 4096, at / 4096 * 4096 + 4095)));
  // The case offsets: kept in memory from the open, so reads go on with the verified ones.
  const Section offsets = SectionOf(bytes_, kSections - 2);
  after.replace(offsets.offset + 8, 8, std::string(8, '\xFF'));
  WriteInPlace(path_, offsets.offset + 8, after.substr(offsets.offset + 8, 8));
  EXPECT_EQ(ExpectReadsAfterChange(**snap, *built_, bytes_, after), failed);
  // Reopening refuses the file.
  EXPECT_EQ(OpenSnapshotFile(path_, kFingerprint).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(SnapshotFileTest, FileTruncatedInPlaceGivesErrorsNotFaults) {
  const Section offsets = SectionOf(bytes_, kSections - 2);
  const Section blob = SectionOf(bytes_, kSections - 1);
  for (uint64_t size : {blob.offset + blob.size - 1, blob.offset + blob.size / 2, blob.offset + 10,
                        offsets.offset + 100, uint64_t{0}}) {
    WriteBytes(path_, bytes_);
    auto snap = OpenSnapshotFile(path_, kFingerprint);
    ASSERT_TRUE(snap.ok()) << snap.status();
    ASSERT_EQ(::truncate(path_.c_str(), static_cast<off_t>(size)), 0);
    const int failed = ExpectReadsAfterChange(**snap, *built_, bytes_, bytes_.substr(0, size));
    EXPECT_GE(failed, 1) << size;
    CaseBuffer buffer;
    auto last = (*snap)->ReadCases(static_cast<uint32_t>(built_->info().cases - 1), 1, buffer);
    EXPECT_THAT(last.status().message(), HasSubstr("past the end of the file")) << size;
  }
}

TEST_F(SnapshotFileTest, FileReplacedInPlaceByAnotherSnapshotGivesErrorsNotItsCases) {
  auto snap = OpenSnapshotFile(path_, kFingerprint);
  ASSERT_TRUE(snap.ok()) << snap.status();
  const ino_t inode = Inode(path_);
  const std::string other_path = TempPath("other");
  ASSERT_TRUE(WriteSnapshotFile(*Synthetic(400, 8), kCatalog, other_path).ok());
  const std::string other = ReadBytes(other_path);
  std::remove(other_path.c_str());
  WriteBytes(path_, other);  // as cp does: truncate, then write, the same inode
  ASSERT_EQ(Inode(path_), inode);
  EXPECT_GT(ExpectReadsAfterChange(**snap, *built_, bytes_, other),
            static_cast<int>(built_->info().subjects) / 2);
  // Random bytes over the whole case blob: every read fails.
  const Section blob = SectionOf(bytes_, kSections - 1);
  std::string noise = bytes_;
  uint64_t x = 1;
  for (uint64_t i = blob.offset; i < blob.offset + blob.size; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    noise[i] = static_cast<char>(x >> 56);
  }
  WriteBytes(path_, noise);
  ASSERT_EQ(Inode(path_), inode);
  int with_cases = 0;  // every subject with a case, listed at build time or not
  for (EntityNo e = 0; e < built_->entity_count(); ++e) with_cases += built_->HasCases(e) ? 1 : 0;
  EXPECT_EQ(ExpectReadsAfterChange(**snap, *built_, bytes_, noise), with_cases);
  // The same bytes again: every read succeeds again.
  WriteBytes(path_, bytes_);
  EXPECT_EQ(ExpectReadsAfterChange(**snap, *built_, bytes_, bytes_), 0);
}

// A group of 32 cases whose records span 64 KiB or more keeps its offsets in the file: its
// cases are read through them (and fail when they change), the others' from memory.
TEST_F(SnapshotFileTest, CasesOfAWideGroupReadTheirOffsetsFromTheFile) {
  SnapshotBuilder builder;
  constexpr int kSubjects = 100;
  std::deque<std::string> texts;  // the builder keeps views until Build()
  for (int i = 0; i < kSubjects; ++i) {
    const std::string& code = texts.emplace_back(absl::StrCat("（2018）黑04执", i, "号"));
    CaseInput c = testing::MakeCase(testing::PersonId(i + 1), "张三", code);
    c.duty = texts.emplace_back(i == 40 ? 70000 : 100, 'x');  // subject 40's record: 70 KB
    builder.AddCase(c);
  }
  absl::StatusOr<std::unique_ptr<const Snapshot>> built = builder.Build();
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_TRUE(WriteSnapshotFile(**built, kCatalog, path_).ok());
  const std::string before = ReadBytes(path_);
  auto snap = OpenSnapshotFile(path_, kFingerprint);
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_EQ(ExpectReadsAfterChange(**snap, **built, before, before), 0);
  // Every offset of the file's section changed in place: only the wide group's reads see it.
  const Section offsets = SectionOf(before, kSections - 2);
  ASSERT_EQ(offsets.size, 8u * kSubjects);
  std::string after = before;
  after.replace(offsets.offset, offsets.size, std::string(offsets.size, '\x01'));
  WriteInPlace(path_, offsets.offset, after.substr(offsets.offset, offsets.size));
  const int failed = ExpectReadsAfterChange(**snap, **built, before, after);
  EXPECT_GE(failed, 1);
  EXPECT_LE(failed, 33);  // the group of cases 32-63, and case 31 whose end is case 32's offset
}

TEST_F(SnapshotFileTest, WriteFailureLeavesNoFile) {
  const absl::Status s = WriteSnapshotFile(*built_, kCatalog, "/nonexistent-dir/x.snap");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("/nonexistent-dir/x.snap.tmp"));
}

}  // namespace
}  // namespace shixin
