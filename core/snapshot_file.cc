#include "core/snapshot_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "base/thread.h"
#include "core/block_checksum.h"
#include "core/case_codec.h"
#include "core/case_offset_index.h"
#include "core/huge_pages.h"
#include "core/id.h"
#include "core/link.h"
#include "core/paths.h"
#include "xxhash.h"

namespace shixin {
namespace {

std::atomic<void (*)(uint64_t)> read_hook{nullptr};  // SetSnapshotReadHookForTesting()

constexpr char kMagic[8] = {'S', 'H', 'I', 'X', 'S', 'N', 'A', 'P'};
constexpr uint32_t kEndianMarker = 0x01020304;
constexpr uint64_t kAlignment = 4096;
constexpr size_t kCatalogIdBytes = 64;

// The fixed header at offset 0 (SNAPSHOT_FORMAT.md); little-endian on every supported host.
struct FileHeader {
  char magic[8];
  uint32_t format_version;
  uint32_t endian;
  uint32_t header_size;  // sizeof(FileHeader)
  uint32_t section_count;
  uint64_t file_size;
  int64_t write_time;
  int64_t history_from;  // Snapshot::history_from(); 0 in files of earlier builds
  SnapshotInfo info;
  char catalog_id[kCatalogIdBytes];  // NUL-padded
  uint64_t catalog_fingerprint;
  uint8_t reserved1[40];
  uint64_t header_checksum;  // XXH3-64 of bytes [0, 248) and of the section table
};
static_assert(sizeof(SnapshotInfo) == 88);
static_assert(offsetof(FileHeader, info) == 48);
static_assert(offsetof(FileHeader, catalog_id) == 136);
static_assert(offsetof(FileHeader, catalog_fingerprint) == 200);
static_assert(offsetof(FileHeader, header_checksum) == 248);
static_assert(sizeof(FileHeader) == 256);

struct SectionEntry {
  uint32_t kind;
  uint32_t element_size;
  uint64_t offset;
  uint64_t size;
  uint64_t checksum;  // XXH3-64 of the section's bytes
};
static_assert(sizeof(SectionEntry) == 32);

// Section kinds: a section's kind is its place in the file, counted from 1.
enum Kind : uint32_t {
  kIdIndex = 1,
  kEntities = 2,
  kOrgCodeIndex = 3,
  kNames = 4,
  kLinks = 5,
  kBlocks = 6,
  kLinkIntervals = 7,
  kCaseOffsets = 8,
  kCaseBlob = 9,
};
constexpr int kSectionCount = 9;

// What the format says of one section, and which table of a Snapshot it holds: the writer,
// the reader and the checks all go by SnapshotFile::kSections, one of these per kind.
struct SectionFormat {
  Kind kind;
  const char* name;
  uint32_t element_size;
  bool hot;  // read into huge-page memory at open; a cold section stays in the file
  // Writes the section's bytes for the built snapshot `snap` (for the writer); false on a
  // write error.
  bool (*write)(const Snapshot& snap, BlockHashingWriter& out);
  // Points the table in `snap` at `count` elements at `data` (for the reader; hot sections).
  void (*view)(const char* data, size_t count, Snapshot& snap);
};

// The format of a section holding the table `Snapshot::*kTable` (a std::span or a
// std::string_view), elements stored as they are in memory.
template <auto kTable>
constexpr SectionFormat TableSection(Kind kind, const char* name) {
  using Table = std::remove_cvref_t<decltype(std::declval<const Snapshot&>().*kTable)>;
  using Element = typename Table::value_type;
  return SectionFormat{
      kind,
      name,
      sizeof(Element),
      true,
      [](const Snapshot& snap, BlockHashingWriter& out) {
        const Table& t = snap.*kTable;
        return out.Append(
            std::string_view(reinterpret_cast<const char*>(t.data()), t.size() * sizeof(Element)));
      },
      [](const char* data, size_t count, Snapshot& snap) {
        snap.*kTable = Table(reinterpret_cast<const Element*>(data), count);
      },
  };
}

// The format of a section holding the bucket array of the IdIndex `Snapshot::*kIndex`.
template <IdIndex Snapshot::*kIndex>
constexpr SectionFormat IndexSection(Kind kind, const char* name) {
  using Bucket = IdIndex::Bucket;
  return SectionFormat{
      kind,
      name,
      sizeof(Bucket),
      true,
      [](const Snapshot& snap, BlockHashingWriter& out) {
        const std::span<const Bucket> b = (snap.*kIndex).buckets();
        return out.Append(
            std::string_view(reinterpret_cast<const char*>(b.data()), b.size_bytes()));
      },
      [](const char* data, size_t count, Snapshot& snap) {
        // The entry bits follow the entity count (checked against the table later).
        const auto limit =
            static_cast<uint32_t>(std::min<uint64_t>(snap.info().entities, kMaxEntities));
        snap.*kIndex =
            IdIndex::View(std::span(reinterpret_cast<const Bucket*>(data), count), limit);
      },
  };
}

// Whether `sections` describe kinds 1, 2, ... in order, the hot ones first, at least one cold.
constexpr bool InFileOrder(std::span<const SectionFormat> sections) {
  bool cold = false;
  for (size_t i = 0; i < sections.size(); ++i) {
    if (sections[i].kind != i + 1 || (cold && sections[i].hot)) return false;
    cold |= !sections[i].hot;
  }
  return cold;
}

uint64_t AlignUp(uint64_t n) { return (n + kAlignment - 1) & ~(kAlignment - 1); }

uint64_t HeaderChecksum(const FileHeader& h, const SectionEntry* sections, uint32_t count) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  XXH3_64bits_update(state, &h, offsetof(FileHeader, header_checksum));
  XXH3_64bits_update(state, sections, count * sizeof(SectionEntry));
  const uint64_t sum = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return sum;
}

}  // namespace

// The friend of Snapshot that writes and opens its tables.
class SnapshotFile {
 public:
  static absl::Status Write(const Snapshot& snap, const CatalogIdentity& catalog,
                            const std::string& path, const std::vector<std::string>& access_of);
  static absl::StatusOr<std::unique_ptr<const Snapshot>> Open(const std::string& path,
                                                              uint64_t expected_catalog,
                                                              SnapshotFileHeader* out,
                                                              unsigned threads,
                                                              const std::string& catalog_path);

 private:
  using Sections = std::array<SectionEntry, kSectionCount>;              // indexed by kind - 1
  using BlockHashes = std::array<std::vector<uint64_t>, kSectionCount>;  // indexed by kind - 1
  class Storage;

  // The case sections of a built snapshot: its records in case order, back to back (a built
  // snapshot keeps them in arrival order), and the offset of each.
  static std::string_view Record(const Snapshot& snap, uint32_t c);
  static bool WriteCaseOffsets(const Snapshot& snap, BlockHashingWriter& out);
  static bool WriteCaseRecords(const Snapshot& snap, BlockHashingWriter& out);

  // The sections, in file order (kSections[k - 1] is kind k). A hot section takes its element
  // size from its table's type and its bytes from the table itself: it is the table in memory.
  static constexpr SectionFormat kSections[kSectionCount] = {
      IndexSection<&Snapshot::index_>(kIdIndex, "id_index"),
      TableSection<&Snapshot::entities_>(kEntities, "entities"),
      IndexSection<&Snapshot::org_code_index_>(kOrgCodeIndex, "org_code_index"),
      TableSection<&Snapshot::names_>(kNames, "names"),
      TableSection<&Snapshot::links_>(kLinks, "links"),
      TableSection<&Snapshot::blocks_>(kBlocks, "listing_blocks"),
      TableSection<&Snapshot::link_intervals_>(kLinkIntervals, "link_intervals"),
      SectionFormat{kCaseOffsets, "case_offsets", sizeof(uint64_t), false, &WriteCaseOffsets,
                    nullptr},
      SectionFormat{kCaseBlob, "case_blob", 1, false, &WriteCaseRecords, nullptr},
  };
  static_assert(InFileOrder(kSections));

  // Returns the format of section `kind`. REQUIRES: 1 <= kind <= kSectionCount.
  static const SectionFormat& Format(uint32_t kind) { return kSections[kind - 1]; }
  // Returns the offset of the first cold section: the hot part of the file ends there.
  static uint64_t HotEnd(const Sections& sections);
  static absl::Status WriteFile(int fd, const Snapshot& snap, const CatalogIdentity& catalog,
                                const std::string& tmp);
  static absl::Status ReadHeader(int fd, uint64_t file_size, const std::string& path, FileHeader* h,
                                 Sections* sections);
  static absl::Status CheckLayout(const FileHeader& h, const Sections& sections, uint64_t file_size,
                                  const std::string& path);
  // Reads the hot sections into `hot` (at their file offsets) and verifies, on `threads`
  // threads, every section's checksum and that the case offsets delimit the records (below);
  // `hashes` receives the hashes of every section's blocks, `offset_index` the case offsets.
  // The cold sections are read into a buffer and left in the file.
  // A read that fails names the section, the bytes and the error, or the file's size now and
  // `file_size`, the one the layout was checked against, if the file ended before them.
  static absl::Status ReadAndVerifySections(int fd, uint64_t file_size, char* hot,
                                            const Sections& sections, const std::string& path,
                                            unsigned threads, BlockHashes* hashes,
                                            CaseOffsetIndex* offset_index);
  // Points the snapshot's hot tables at their sections in `hot` (indexed by file offset).
  static void ViewSections(const char* hot, const Sections& sections, Snapshot& snap);
  // With `parallel`, the indexes are checked on another thread meanwhile.
  static absl::Status CheckTables(const Snapshot& snap, const FileHeader& h, uint64_t case_count,
                                  bool parallel);
  static absl::Status CheckEntitiesAndLinks(const Snapshot& snap);
  static absl::Status CheckIndex(const Snapshot& snap, const IdIndex& index, bool credit_codes);
};

// A snapshot file's storage: the huge-page copy of its hot tables, and the open file, from
// which ReadCases() reads the case sections with ReadVerified(): a file truncated or rewritten
// in place meanwhile makes the read fail (DataLoss); it never faults and never returns bytes
// other than those verified at open.
class SnapshotFile::Storage final : public Snapshot::FileStorage {
 public:
  // Takes `fd` (closed on destruction).
  explicit Storage(int fd) : fd_(fd) {}
  ~Storage() override;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // Takes `hot`, allocated by AllocateHuge(`size`).
  void TakeHot(void* hot, size_t size) {
    hot_ = hot;
    hot_size_ = size;
  }
  void SetCaseSections(VerifiedRegion offsets, VerifiedRegion records,
                       CaseOffsetIndex offset_index) {
    offsets_ = std::move(offsets);
    records_ = std::move(records);
    offset_index_ = std::move(offset_index);
  }

  absl::StatusOr<std::span<const CaseView>> ReadCases(uint32_t first, uint32_t count,
                                                      CaseBuffer& buffer) const override;
  absl::StatusOr<CaseRecords> ReadCaseRecords(uint32_t first, uint32_t count, CaseBuffer& buffer,
                                              OnCacheMiss on_miss) const override;
  void ReadCaseRecordsBatch(std::span<CaseRecordsRead> reads, OnCacheMiss on_miss) const override;
  size_t CaseBytes() const override { return offsets_.size + records_.size; }

 private:
  // Sets buffer.record_offsets_ to where each of the cases [first, first + count) begins and,
  // last, where the group ends, from the group's start, and returns the group's start in the
  // case blob; or the error of reading or checking the offsets. REQUIRES: count > 0.
  absl::StatusOr<uint64_t> PlanCaseRecords(uint32_t first, uint32_t count, CaseBuffer& buffer,
                                           OnCacheMiss on_miss) const;
  int fd_;
  void* hot_ = nullptr;
  size_t hot_size_ = 0;
  VerifiedRegion offsets_;        // the case_offsets section
  VerifiedRegion records_;        // the case_blob section
  CaseOffsetIndex offset_index_;  // offsets_, in memory as far as it can hold them
};

SnapshotFile::Storage::~Storage() {
  ::close(fd_);
  if (hot_ != nullptr) FreeHuge(hot_, hot_size_);
}

namespace {

absl::Status Unreadable(const absl::Status& s) {
  if (absl::IsUnavailable(s)) return s;  // not in memory yet: not a fault of the file
  return absl::DataLossError(absl::StrCat(
      "cannot read the cases: ", s.message(),
      "; a snapshot file must be replaced by renaming a new one over it, then reloaded"));
}

}  // namespace

absl::StatusOr<CaseRecords> SnapshotFile::Storage::ReadCaseRecords(uint32_t first, uint32_t count,
                                                                   CaseBuffer& buffer,
                                                                   OnCacheMiss on_miss) const {
  CaseRecordsRead read{first, count, &buffer, CaseRecords{}};
  ReadCaseRecordsBatch({&read, 1}, on_miss);
  return std::move(read.result);
}

void SnapshotFile::Storage::ReadCaseRecordsBatch(std::span<CaseRecordsRead> reads,
                                                 OnCacheMiss on_miss) const {
  // First each group's bytes in the case blob, then the blob's reads together.
  absl::InlinedVector<VerifiedRead, 1> verified;
  absl::InlinedVector<CaseRecordsRead*, 1> readers;
  for (CaseRecordsRead& read : reads) {
    CaseBuffer& buffer = *read.buffer;
    buffer.record_offsets_.clear();
    read.result = CaseRecords{};
    if (read.count == 0) continue;
    absl::StatusOr<uint64_t> begin = PlanCaseRecords(read.first, read.count, buffer, on_miss);
    if (!begin.ok()) {
      read.result = Unreadable(begin.status());
      continue;
    }
    const uint64_t end = *begin + buffer.record_offsets_.back();
    verified.push_back(VerifiedRead{*begin, end, &buffer.records_, std::string_view()});
    readers.push_back(&read);
  }
  if (verified.size() == 1) {
    VerifiedRead& v = verified[0];
    v.result = ReadVerified(fd_, records_, v.begin, v.end, *v.buffer, on_miss);
  } else {
    ReadVerifiedBatch(fd_, records_, std::span<VerifiedRead>(verified.data(), verified.size()),
                      on_miss);
  }
  for (size_t k = 0; k < verified.size(); ++k) {
    CaseRecordsRead& read = *readers[k];
    if (!verified[k].result.ok()) {
      read.result = Unreadable(verified[k].result.status());
      continue;
    }
    read.buffer->record_offsets_.pop_back();  // the end, which PlanCaseRecords() appended
    read.result = CaseRecords{*verified[k].result, read.buffer->record_offsets_};
  }
}

absl::StatusOr<uint64_t> SnapshotFile::Storage::PlanCaseRecords(uint32_t first, uint32_t count,
                                                                CaseBuffer& buffer,
                                                                OnCacheMiss on_miss) const {
  // Case c's record is the bytes from its offset to the next case's (the last case's to the end
  // of the blob): the cases' offsets and the next one delimit them.
  const uint64_t cases = offsets_.size / sizeof(uint64_t);
  const uint64_t end_case = uint64_t{first} + count;
  assert(end_case <= cases);
  // The offsets come from memory, or for a group too wide for it from the file.
  const bool in_memory = offset_index_.Holds(first, end_case);
  absl::StatusOr<std::string_view> offsets;
  if (!in_memory) {
    offsets =
        ReadVerified(fd_, offsets_, first * sizeof(uint64_t),
                     std::min(end_case + 1, cases) * sizeof(uint64_t), buffer.offsets_, on_miss);
    if (!offsets.ok()) return offsets.status();
  }
  const auto boundary = [&](uint32_t i) {
    if (in_memory) return offset_index_.Offset(first + i);
    if (first + i == cases) return records_.size;
    uint64_t offset;
    std::memcpy(&offset, offsets->data() + i * sizeof(uint64_t), sizeof(offset));
    return offset;
  };
  // Checked at open, and these are the blocks checked then: checked again all the same, so
  // that no view can point outside the buffer whatever the file holds.
  for (uint32_t i = 0; i < count; ++i) {
    if (boundary(i) >= boundary(i + 1) || boundary(i + 1) > records_.size ||
        boundary(i + 1) - boundary(0) > UINT32_MAX) {
      return absl::DataLossError(
          absl::StrFormat("case offsets %d and %d out of order", first + i, first + i + 1));
    }
  }
  const uint64_t begin = boundary(0);
  buffer.record_offsets_.reserve(count + 1);
  for (uint32_t i = 0; i <= count; ++i) {
    buffer.record_offsets_.push_back(static_cast<uint32_t>(boundary(i) - begin));
  }
  return begin;
}

absl::StatusOr<std::span<const CaseView>> SnapshotFile::Storage::ReadCases(
    uint32_t first, uint32_t count, CaseBuffer& buffer) const {
  buffer.cases_.clear();
  SHIXIN_ASSIGN_OR_RETURN(const CaseRecords records,
                          ReadCaseRecords(first, count, buffer, OnCacheMiss::kWait));
  const char* data = records.bytes.data();
  for (uint32_t i = 0; i < count; ++i) {
    const char* end = data + (i + 1 < count ? records.offsets[i + 1] : records.bytes.size());
    buffer.cases_.push_back(DecodeCase(data + records.offsets[i], end));
  }
  return std::span<const CaseView>(buffer.cases_);
}

std::string_view SnapshotFile::Record(const Snapshot& snap, uint32_t c) {
  const char* record = snap.case_blob_.data() + snap.case_offsets_[c];
  size_t size = 0;
  DecodeCase(record, snap.case_blob_.data() + snap.case_blob_.size(), &size);
  return std::string_view(record, size);
}

bool SnapshotFile::WriteCaseOffsets(const Snapshot& snap, BlockHashingWriter& out) {
  uint64_t offset = 0;
  for (uint32_t c = 0; c < snap.case_offsets_.size(); ++c) {
    if (!out.Append(std::string_view(reinterpret_cast<const char*>(&offset), sizeof(offset)))) {
      return false;
    }
    offset += Record(snap, c).size();
  }
  return true;
}

bool SnapshotFile::WriteCaseRecords(const Snapshot& snap, BlockHashingWriter& out) {
  for (uint32_t c = 0; c < snap.case_offsets_.size(); ++c) {
    if (!out.Append(Record(snap, c))) return false;
  }
  return true;
}

uint64_t SnapshotFile::HotEnd(const Sections& sections) {
  for (const SectionFormat& f : kSections) {
    if (!f.hot) return sections[f.kind - 1].offset;
  }
  return 0;  // unreachable: InFileOrder() requires a cold section
}

absl::Status SnapshotFile::WriteFile(int fd, const Snapshot& snap, const CatalogIdentity& catalog,
                                     const std::string& tmp) {
  const auto fail = [&] { return absl::ErrnoToStatus(errno, tmp); };
  FileHeader h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.format_version = kSnapshotFormatVersion;
  h.endian = kEndianMarker;
  h.header_size = sizeof(FileHeader);
  h.section_count = kSectionCount;
  h.write_time = static_cast<int64_t>(std::time(nullptr));
  h.history_from = snap.history_from();
  h.info = snap.info();
  std::memcpy(h.catalog_id, catalog.id.data(), std::min(catalog.id.size(), kCatalogIdBytes - 1));
  h.catalog_fingerprint = catalog.fingerprint;
  Sections table{};
  const std::string zeros(kAlignment, '\0');
  if (!WriteAll(fd, zeros.data(), kAlignment)) return fail();  // header and table, later
  uint64_t offset = kAlignment;
  for (const SectionFormat& f : kSections) {
    const uint64_t begin = AlignUp(offset);
    if (!WriteAll(fd, zeros.data(), begin - offset)) return fail();
    BlockHashingWriter out(fd);
    if (!f.write(snap, out) || !out.Finish()) return fail();
    table[f.kind - 1] = SectionEntry{f.kind, f.element_size, begin, out.size(), out.checksum()};
    offset = begin + out.size();
  }
  h.file_size = offset;
  h.header_checksum = HeaderChecksum(h, table.data(), kSectionCount);
  if (::pwrite(fd, &h, sizeof(h), 0) != sizeof(h) ||
      ::pwrite(fd, table.data(), sizeof(table), sizeof(h)) != sizeof(table)) {
    return fail();
  }
  return absl::OkStatus();
}

absl::Status SnapshotFile::Write(const Snapshot& snap, const CatalogIdentity& catalog,
                                 const std::string& path,
                                 const std::vector<std::string>& access_of) {
  if (snap.from_file()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", path, ": the snapshot was opened from a file, not built"));
  }
  return WriteFileAtomically(path, [&](int fd, const std::string& tmp) {
    SHIXIN_RETURN_IF_ERROR(NarrowAccessTo(fd, access_of, tmp));  // before the list is in it
    return WriteFile(fd, snap, catalog, tmp);
  });
}

absl::Status SnapshotFile::ReadHeader(int fd, uint64_t file_size, const std::string& path,
                                      FileHeader* h, Sections* sections) {
  *h = FileHeader{};
  const bool whole = ReadAllAt(fd, h, std::min<uint64_t>(file_size, sizeof(*h)), 0);
  if (!whole || file_size < sizeof(kMagic) || std::memcmp(h->magic, kMagic, 8) != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: not a shixin snapshot file (no SHIXSNAP magic)", path));
  }
  if (file_size >= 12 && (h->format_version < kOldestSnapshotFormatVersion ||
                          h->format_version > kSnapshotFormatVersion)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: snapshot format version %d, this build reads %d and %d; compile the list again "
        "with this build's shixin compile",
        path, h->format_version, kOldestSnapshotFormatVersion, kSnapshotFormatVersion));
  }
  const uint64_t table_end = sizeof(FileHeader) + kSectionCount * sizeof(SectionEntry);
  if (file_size < table_end) {
    return absl::DataLossError(
        absl::StrFormat("%s: truncated: the header ends at byte %d but the file has %d", path,
                        table_end, file_size));
  }
  if (h->endian != kEndianMarker) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: written on a host of the other byte order", path));
  }
  if (h->header_size != sizeof(FileHeader) || h->section_count != kSectionCount) {
    return absl::DataLossError(
        absl::StrFormat("%s: corrupt header (header size %d, %d sections; expected %d, %d)", path,
                        h->header_size, h->section_count, sizeof(FileHeader), kSectionCount));
  }
  SectionEntry table[kSectionCount];
  if (!ReadAllAt(fd, table, sizeof(table), sizeof(FileHeader))) {
    return absl::DataLossError(absl::ErrnoToStatus(errno, path).message());
  }
  const uint64_t sum = HeaderChecksum(*h, table, kSectionCount);
  if (sum != h->header_checksum) {
    return absl::DataLossError(
        absl::StrFormat("%s: header checksum mismatch (computed %016x, stored %016x)", path, sum,
                        h->header_checksum));
  }
  if (h->history_from < 0) {
    return absl::DataLossError(
        absl::StrFormat("%s: corrupt header (history kept from %d)", path, h->history_from));
  }
  for (const SectionEntry& s : table) {
    if (s.kind < 1 || s.kind > kSectionCount || (*sections)[s.kind - 1].kind != 0) {
      return absl::DataLossError(
          absl::StrFormat("%s: corrupt section table (kind %d missing or repeated)", path, s.kind));
    }
    (*sections)[s.kind - 1] = s;
  }
  return absl::OkStatus();
}

absl::Status SnapshotFile::CheckLayout(const FileHeader& h, const Sections& sections,
                                       uint64_t file_size, const std::string& path) {
  uint64_t previous_end = kAlignment;
  for (const SectionEntry& s : sections) {
    const char* name = Format(s.kind).name;
    if (s.element_size != Format(s.kind).element_size || s.size % s.element_size != 0 ||
        s.offset % kAlignment != 0 || s.offset < previous_end || s.size > (1ull << 48) ||
        s.offset > (1ull << 48)) {
      return absl::DataLossError(absl::StrFormat(
          "%s: corrupt section table (section %s: offset %d, size %d, element size %d)", path, name,
          s.offset, s.size, s.element_size));
    }
    const uint64_t end = s.offset + s.size;
    if (end > file_size) {
      return absl::DataLossError(
          absl::StrFormat("%s: truncated: section %s ends at byte %d but the file has %d", path,
                          name, end, file_size));
    }
    previous_end = end;
  }
  if (h.file_size != file_size) {
    return absl::DataLossError(absl::StrFormat(
        "%s: %s: the header says %d bytes but the file has %d", path,
        file_size < h.file_size ? "truncated" : "trailing bytes", h.file_size, file_size));
  }
  return absl::OkStatus();
}

absl::Status SnapshotFile::ReadAndVerifySections(int fd, uint64_t file_size, char* hot,
                                                 const Sections& sections, const std::string& path,
                                                 unsigned threads, BlockHashes* hashes,
                                                 CaseOffsetIndex* offset_index) {
  // The threads take stripes of 64 MiB; a stripe is read and hashed in pieces that stay in the
  // core's cache: a hot piece straight into its place in `hot`, a cold one into a buffer.
  constexpr uint64_t kStripe = 64u << 20;
  constexpr size_t kPiece = 1u << 20;
  static_assert(kStripe % kPiece == 0 && kPiece % kChecksumBlock == 0);
  struct Stripe {
    uint32_t kind;
    uint64_t begin;  // within the section
  };
  // What the case offsets of one stripe say (the stripes are checked against each other after).
  struct OffsetRun {
    uint64_t first = 0;
    uint64_t last = 0;
    bool beyond = false;     // an offset at or beyond the end of the blob
    bool unordered = false;  // an offset not above the one before it
  };
  std::vector<Stripe> stripes;
  for (const SectionEntry& s : sections) {
    (*hashes)[s.kind - 1].assign(BlockCount(s.size), 0);
    for (uint64_t at = 0; at < s.size; at += kStripe) stripes.push_back(Stripe{s.kind, at});
  }
  const uint64_t blob_size = sections[kCaseBlob - 1].size;
  const uint64_t case_count = sections[kCaseOffsets - 1].size / sizeof(uint64_t);
  *offset_index = CaseOffsetIndex(case_count, blob_size);
  static_assert(kPiece % (CaseOffsetIndex::kGroup * sizeof(uint64_t)) == 0);
  std::vector<OffsetRun> runs((sections[kCaseOffsets - 1].size + kStripe - 1) / kStripe);
  std::atomic<size_t> next{0};
  // The read that failed at the lowest offset: a disk's error, or the file cut short since its
  // size was checked (truncated or rewritten in place under the reader).
  struct ReadFailure {
    uint64_t offset;
    size_t size;
    uint32_t kind;
    int error;  // 0: the file ended before
  };
  std::mutex failure_mu;
  std::optional<ReadFailure> failure;
  const auto work = [&] {
    std::unique_ptr<char[]> buffer(new char[kPiece]);
    for (size_t i = next++; i < stripes.size(); i = next++) {
      const SectionEntry& s = sections[stripes[i].kind - 1];
      std::vector<uint64_t>& block_hashes = (*hashes)[s.kind - 1];
      const uint64_t begin = stripes[i].begin;
      const uint64_t end = std::min(begin + kStripe, s.size);
      for (uint64_t at = begin; at < end; at += kPiece) {
        const size_t m = static_cast<size_t>(std::min<uint64_t>(kPiece, end - at));
        char* data = Format(s.kind).hot ? hot + s.offset + at : buffer.get();
        if (void (*hook)(uint64_t) = read_hook.load(std::memory_order_relaxed)) hook(s.offset + at);
        errno = 0;  // stays 0 if the file ends early
        if (!ReadAllAt(fd, data, m, s.offset + at)) {
          const ReadFailure read{s.offset + at, m, s.kind, errno};
          std::lock_guard<std::mutex> lock(failure_mu);
          if (!failure || read.offset < failure->offset) failure = read;
        }
        for (size_t b = 0; b < m; b += kChecksumBlock) {
          block_hashes[(at + b) / kChecksumBlock] =
              BlockHash(data + b, std::min(kChecksumBlock, m - b));
        }
        if (s.kind != kCaseOffsets) continue;
        offset_index->Fill(at / sizeof(uint64_t), data, m / sizeof(uint64_t));
        OffsetRun& run = runs[begin / kStripe];  // a piece holds whole offsets
        for (size_t b = 0; b < m; b += sizeof(uint64_t)) {
          uint64_t offset;
          std::memcpy(&offset, data + b, sizeof(offset));
          run.beyond |= offset >= blob_size;
          if (at + b == begin) {
            run.first = offset;
          } else {
            run.unordered |= offset <= run.last;
          }
          run.last = offset;
        }
      }
    }
  };
  // Fewer workers if the system cannot create them all: the stripes are claimed as they go.
  std::vector<std::thread> workers = StartHelpers(threads > 0 ? threads - 1 : 0, work);
  work();
  for (std::thread& t : workers) t.join();
  if (failure) {
    std::string why;
    struct stat st;
    if (failure->error != 0) {
      why = std::strerror(failure->error);
    } else {
      why = ::fstat(fd, &st) != 0
                ? "the file ends before them"
                : absl::StrFormat(
                      "the file ends before them: it has %d bytes now, %d when it was "
                      "opened (changed while it was read? replace the file by renaming "
                      "a complete one into place, never rewrite it in place)",
                      st.st_size, file_size);
    }
    return absl::DataLossError(absl::StrFormat("%s: cannot read section %s, bytes %d to %d: %s",
                                               path, Format(failure->kind).name, failure->offset,
                                               failure->offset + failure->size, why));
  }
  for (const SectionEntry& s : sections) {
    const uint64_t sum = ChecksumOfBlocks((*hashes)[s.kind - 1]);
    if (sum != s.checksum) {
      return absl::DataLossError(
          absl::StrFormat("%s: section %s is corrupt (checksum %016x, expected %016x)", path,
                          Format(s.kind).name, sum, s.checksum));
    }
  }
  // The records lie back to back from the start of the blob: the offsets start at 0 and
  // increase, and a blob without cases is empty.
  bool beyond = false;
  bool unordered = case_count == 0 ? blob_size != 0 : runs[0].first != 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    beyond |= runs[i].beyond;
    unordered |= runs[i].unordered || (i > 0 && runs[i].first <= runs[i - 1].last);
  }
  if (beyond) {
    return absl::DataLossError(
        absl::StrFormat("%s: inconsistent tables: a case offset lies beyond the %d-byte case blob",
                        path, blob_size));
  }
  if (unordered) {
    return absl::DataLossError(absl::StrFormat(
        "%s: inconsistent tables: the case records do not lie back to back from the start of "
        "the case blob (the case offsets must start at 0 and increase)",
        path));
  }
  return absl::OkStatus();
}

void SnapshotFile::ViewSections(const char* hot, const Sections& sections, Snapshot& snap) {
  for (const SectionFormat& f : kSections) {
    const SectionEntry& s = sections[f.kind - 1];
    if (f.hot) f.view(hot + s.offset, s.size / f.element_size, snap);
  }
}

absl::Status SnapshotFile::CheckIndex(const Snapshot& snap, const IdIndex& index,
                                      bool credit_codes) {
  const size_t n = snap.entity_count();
  for (const IdIndex::Bucket& b : index.buckets()) {
    for (const uint32_t slot : b.slot) {
      if (slot == IdIndex::kEmpty) continue;
      const uint32_t e = index.EntryOf(slot);
      if (e >= n) {
        return absl::DataLossError(absl::StrFormat("index entry %d >= %d entities", e, n));
      }
      if (credit_codes && PackedKind(snap.entities_[e].id) != IdKind::kCreditCode) {
        return absl::DataLossError(
            absl::StrFormat("organisation-code index entry %d is not a credit code", e));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status SnapshotFile::CheckTables(const Snapshot& snap, const FileHeader& h,
                                       uint64_t case_count, bool parallel) {
  if (snap.entities_.empty()) return absl::DataLossError("no entity table sentinel");
  const size_t n = snap.entity_count();
  if (n > kMaxEntities || n != h.info.entities || case_count != h.info.cases) {
    return absl::DataLossError(
        absl::StrFormat("%d entities and %d cases, but the header says %d and %d", n, case_count,
                        h.info.entities, h.info.cases));
  }
  const Snapshot::Entity& end = snap.entities_[n];
  if (end.name_begin != snap.names_.size() || end.case_begin != case_count ||
      end.link_begin != snap.links_.size()) {
    return absl::DataLossError("the entity sentinel does not close the tables");
  }
  absl::Status indexes;
  const auto check_indexes = [&] {
    if (h.format_version != kSnapshotFormatVersion) return;  // built again after this check
    indexes = CheckIndex(snap, snap.index_, false);
    if (indexes.ok()) indexes = CheckIndex(snap, snap.org_code_index_, true);
  };
  std::thread index_checker;
  if (parallel) {
    absl::StatusOr<std::thread> checker = StartThread("", check_indexes);
    if (checker.ok()) index_checker = *std::move(checker);  // else checked below, on this thread
  }
  absl::Status tables = CheckEntitiesAndLinks(snap);
  for (size_t i = 0; tables.ok() && i < snap.blocks_.size(); ++i) {
    const Snapshot::Block& b = snap.blocks_[i];
    if (b.entity >= n || b.from >= b.until || (i > 0 && !(snap.blocks_[i - 1] < b))) {
      tables = absl::DataLossError(absl::StrFormat("listing block %d out of order or range", i));
    }
  }
  for (size_t i = 0; tables.ok() && i < snap.link_intervals_.size(); ++i) {
    const Snapshot::LinkInterval& l = snap.link_intervals_[i];
    if (l.link >= snap.links_.size() || l.from >= l.until ||
        (i > 0 && snap.link_intervals_[i - 1].link >= l.link)) {
      tables = absl::DataLossError(absl::StrFormat("link interval %d out of order or range", i));
    }
  }
  if (index_checker.joinable()) {
    index_checker.join();
  } else {
    check_indexes();
  }
  return tables.ok() ? indexes : tables;
}

absl::Status SnapshotFile::CheckEntitiesAndLinks(const Snapshot& snap) {
  const size_t n = snap.entity_count();
  for (size_t e = 0; e < n; ++e) {
    const Snapshot::Entity& a = snap.entities_[e];
    const Snapshot::Entity& b = snap.entities_[e + 1];
    if (a.name_begin > b.name_begin || a.case_begin > b.case_begin || a.link_begin > b.link_begin) {
      return absl::DataLossError(absl::StrFormat("entity %d: ranges not monotone", e));
    }
    if (!IsCanonicalPacked(a.id) || (e + 1 < n && !(a.id < b.id))) {
      return absl::DataLossError(absl::StrFormat("entity %d: bad or unsorted ID", e));
    }
  }
  for (uint32_t link : snap.links_) {
    const DecodedLink d = DecodeLink(link);
    if (d.other >= n || d.role >= kRoleCount) {
      return absl::DataLossError(absl::StrFormat("link %08x out of range", link));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<const Snapshot>> SnapshotFile::Open(
    const std::string& path, uint64_t expected_catalog, SnapshotFileHeader* out, unsigned threads,
    const std::string& catalog_path) {
  if (threads == 0) threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  SHIXIN_ASSIGN_OR_RETURN(const int fd, OpenRegularFile(path));  // never blocks on a FIFO
  auto storage = std::make_unique<Storage>(fd);                  // closes it
  struct stat st;
  if (::fstat(fd, &st) != 0) return absl::ErrnoToStatus(errno, path);
  const auto file_size = static_cast<uint64_t>(st.st_size);
  FileHeader h{};
  Sections sections{};
  SHIXIN_RETURN_IF_ERROR(ReadHeader(fd, file_size, path, &h, &sections));
  const std::string catalog_id(h.catalog_id, strnlen(h.catalog_id, kCatalogIdBytes));
  if (expected_catalog != 0 && h.catalog_fingerprint != expected_catalog) {
    if (catalog_path.empty()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: compiled against catalog %s (fingerprint %016x), but --catalog's has fingerprint "
          "%016x: give --catalog the catalog it was compiled against (a daemon serving it shows "
          "its catalog in `shixin info`)",
          path, catalog_id, h.catalog_fingerprint, expected_catalog));
    }
    // Absolute paths: the command is run from another directory than the daemon's (systemd: /).
    std::error_code ec;
    const std::string file = std::filesystem::absolute(path, ec).string();
    const std::string catalog = std::filesystem::absolute(catalog_path, ec).string();
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: compiled against catalog %s (fingerprint %016x), but the catalog file %s has "
        "fingerprint %016x (an upgrade may have revised it); move the list to it with: "
        "shixin compile --snapshot %s --catalog %s --retarget -o %s",
        path, catalog_id, h.catalog_fingerprint, catalog, expected_catalog, file, catalog, file));
  }
  SHIXIN_RETURN_IF_ERROR(CheckLayout(h, sections, file_size, path));

  // The hot tables are copied into anonymous huge-page memory: lookups miss the TLB less than
  // on a file mapping's 4 KiB pages, the kernel cannot evict them under page-cache pressure,
  // the first queries after a swap do not fault, and nothing done to the file later reaches
  // them. The case tables stay in the file, read at random by DETAIL only.
  const uint64_t hot_size = HotEnd(sections);
  char* hot = static_cast<char*>(AllocateHuge(hot_size));
  if (hot == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("%s: cannot allocate %d bytes for the hot tables", path, hot_size));
  }
  storage->TakeHot(hot, hot_size);
  BlockHashes hashes;
  CaseOffsetIndex offset_index;
  SHIXIN_RETURN_IF_ERROR(
      ReadAndVerifySections(fd, file_size, hot, sections, path, threads, &hashes, &offset_index));
  const auto cold = [&](Kind kind) {
    const SectionEntry& s = sections[kind - 1];
    return VerifiedRegion{absl::StrCat("the snapshot file's ", Format(kind).name, " section"),
                          s.offset, s.size, std::move(hashes[kind - 1])};
  };
  storage->SetCaseSections(cold(kCaseOffsets), cold(kCaseBlob), std::move(offset_index));
  ::posix_fadvise(fd, static_cast<off_t>(hot_size), 0, POSIX_FADV_RANDOM);  // DETAIL's reads
  // The structure is checked on the verified copy.
  std::unique_ptr<Snapshot> snap(new Snapshot());
  snap->info_ = h.info;  // before the views: the indexes' entry bits follow its entity count
  snap->history_from_ = h.history_from;
  ViewSections(hot, sections, *snap);
  snap->file_ = std::move(storage);
  const absl::Status structure =
      CheckTables(*snap, h, sections[kCaseOffsets - 1].size / sizeof(uint64_t), threads > 1);
  if (!structure.ok()) {
    return absl::DataLossError(
        absl::StrFormat("%s: inconsistent tables: %s", path, structure.message()));
  }
  if (h.format_version != kSnapshotFormatVersion) {
    // An older layout of the indexes: built again from the checked entities, and the memory
    // of the file's copy given back.
    snap->BuildIndexes();
    for (const Kind kind : {kIdIndex, kOrgCodeIndex}) {
      const SectionEntry& s = sections[kind - 1];
      ::madvise(hot + s.offset, s.size / kAlignment * kAlignment, MADV_DONTNEED);
    }
  }
  if (out != nullptr) {
    *out = SnapshotFileHeader{h.format_version, h.write_time, h.file_size,
                              CatalogIdentity{catalog_id, h.catalog_fingerprint}};
  }
  return std::unique_ptr<const Snapshot>(std::move(snap));
}

absl::Status WriteSnapshotFile(const Snapshot& snap, const CatalogIdentity& catalog,
                               const std::string& path, const std::vector<std::string>& access_of) {
  return SnapshotFile::Write(snap, catalog, path, access_of);
}

void SetSnapshotReadHookForTesting(void (*hook)(uint64_t offset)) { read_hook = hook; }

absl::StatusOr<std::unique_ptr<const Snapshot>> OpenSnapshotFile(
    const std::string& path, uint64_t expected_catalog_fingerprint, SnapshotFileHeader* header,
    unsigned threads, const std::string& catalog_path) {
  return SnapshotFile::Open(path, expected_catalog_fingerprint, header, threads, catalog_path);
}

}  // namespace shixin
