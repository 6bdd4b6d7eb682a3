#include "core/snapshot_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <memory>
#include <span>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "core/huge_pages.h"
#include "core/id.h"
#include "core/link.h"
#include "core/paths.h"
#include "xxhash.h"
#if defined(__x86_64__)
#include "xxh_x86dispatch.h"
#endif

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14
#endif

namespace shixin {
namespace {

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
  uint64_t reserved0;
  SnapshotInfo info;
  char catalog_id[kCatalogIdBytes];  // NUL-padded
  uint64_t catalog_fingerprint;
  uint8_t reserved1[48];
  uint64_t header_checksum;  // XXH3-64 of bytes [0, 248) and of the section table
};
static_assert(sizeof(SnapshotInfo) == 80);
static_assert(offsetof(FileHeader, info) == 48);
static_assert(offsetof(FileHeader, catalog_id) == 128);
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
  kCaseOffsets = 6,
  kCaseBlob = 7,
};
constexpr int kSectionCount = 7;

// What the format says of one section, and which table of a Snapshot it holds: the writer,
// the reader and the checks all go by SnapshotFile::kSections, one of these per kind.
struct SectionFormat {
  Kind kind;
  const char* name;
  uint32_t element_size;
  bool hot;  // read into huge-page memory at open; a cold section is read through the mapping
  // Returns the bytes of the table in `snap` (for the writer).
  std::string_view (*bytes)(const Snapshot& snap);
  // Points the table in `snap` at `count` elements at `data` (for the reader).
  void (*view)(const char* data, size_t count, Snapshot& snap);
};

// The format of a section holding the table `Snapshot::*kTable` (a std::span or a
// std::string_view), elements stored as they are in memory.
template <auto kTable>
constexpr SectionFormat TableSection(Kind kind, const char* name, bool hot) {
  using Table = std::remove_cvref_t<decltype(std::declval<const Snapshot&>().*kTable)>;
  using Element = typename Table::value_type;
  return SectionFormat{
      kind,
      name,
      sizeof(Element),
      hot,
      [](const Snapshot& snap) {
        const Table& t = snap.*kTable;
        return std::string_view(reinterpret_cast<const char*>(t.data()),
                                t.size() * sizeof(Element));
      },
      [](const char* data, size_t count, Snapshot& snap) {
        snap.*kTable = Table(reinterpret_cast<const Element*>(data), count);
      },
  };
}

// The format of a section holding the bucket array of the IdIndex `Snapshot::*kIndex`.
template <IdIndex Snapshot::*kIndex>
constexpr SectionFormat IndexSection(Kind kind, const char* name, bool hot) {
  using Bucket = IdIndex::Bucket;
  return SectionFormat{
      kind,
      name,
      sizeof(Bucket),
      hot,
      [](const Snapshot& snap) {
        const std::span<const Bucket> b = (snap.*kIndex).buckets();
        return std::string_view(reinterpret_cast<const char*>(b.data()), b.size_bytes());
      },
      [](const char* data, size_t count, Snapshot& snap) {
        snap.*kIndex = IdIndex::View(std::span(reinterpret_cast<const Bucket*>(data), count));
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

// A section's checksum is the XXH3-64 of the little-endian XXH3-64s of its 64 MiB chunks, so
// that a multi-gigabyte section is verified by several threads.
constexpr uint64_t kChecksumChunk = 64u << 20;

uint64_t ChunkCount(uint64_t size) { return (size + kChecksumChunk - 1) / kChecksumChunk; }

uint64_t Hash(const void* data, size_t size) {
#if defined(__x86_64__)
  return XXH3_64bits_dispatch(data, size);  // AVX2 or AVX-512 where the CPU has them
#else
  return XXH3_64bits(data, size);
#endif
}

uint64_t SectionChecksum(const std::vector<uint64_t>& chunk_hashes) {
  return Hash(chunk_hashes.data(), chunk_hashes.size() * sizeof(uint64_t));
}

uint64_t ChecksumOf(std::string_view bytes) {
  std::vector<uint64_t> chunks(ChunkCount(bytes.size()));
  for (uint64_t i = 0; i < chunks.size(); ++i) {
    const uint64_t begin = i * kChecksumChunk;
    chunks[i] = Hash(bytes.data() + begin, std::min(kChecksumChunk, bytes.size() - begin));
  }
  return SectionChecksum(chunks);
}

uint64_t HeaderChecksum(const FileHeader& h, const SectionEntry* sections, uint32_t count) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  XXH3_64bits_update(state, &h, offsetof(FileHeader, header_checksum));
  XXH3_64bits_update(state, sections, count * sizeof(SectionEntry));
  const uint64_t sum = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return sum;
}

// Writes all of `data` at the current position.
bool WriteAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, std::min<size_t>(size, size_t{1} << 30));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Reads exactly `size` bytes at `offset`; false on an error or a short file.
bool ReadAllAt(int fd, void* data, size_t size, uint64_t offset) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::pread(fd, p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

}  // namespace

// The friend of Snapshot that writes and maps its tables.
class SnapshotFile {
 public:
  static absl::Status Write(const Snapshot& snap, const CatalogIdentity& catalog,
                            const std::string& path);
  static absl::StatusOr<std::unique_ptr<const Snapshot>> Open(const std::string& path,
                                                              uint64_t expected_catalog,
                                                              SnapshotFileHeader* out,
                                                              unsigned threads);

 private:
  using Sections = std::array<SectionEntry, kSectionCount>;  // indexed by kind - 1

  // The sections, in file order (kSections[k - 1] is kind k). Each takes its element size from
  // its table's type and its bytes from the table itself: the file is the tables in memory.
  static constexpr SectionFormat kSections[kSectionCount] = {
      IndexSection<&Snapshot::index_>(kIdIndex, "id_index", true),
      TableSection<&Snapshot::entities_>(kEntities, "entities", true),
      IndexSection<&Snapshot::org_code_index_>(kOrgCodeIndex, "org_code_index", true),
      TableSection<&Snapshot::names_>(kNames, "names", true),
      TableSection<&Snapshot::links_>(kLinks, "links", true),
      TableSection<&Snapshot::case_offsets_>(kCaseOffsets, "case_offsets", false),
      TableSection<&Snapshot::case_blob_>(kCaseBlob, "case_blob", false),
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
  // threads, every section's checksum and that every case offset lies within the case blob.
  // The cold sections are read with pread, so that verifying does not page them into the
  // mapping.
  static absl::Status ReadAndVerifySections(int fd, char* hot, const Sections& sections,
                                            const std::string& path, unsigned threads);
  // Points the snapshot's tables at the hot sections in `hot` and the cold ones in the
  // mapping at `mapped` (both indexed by file offset).
  static void ViewSections(const char* hot, const char* mapped, const Sections& sections,
                           Snapshot& snap);
  // With `parallel`, the indexes are checked on another thread meanwhile.
  static absl::Status CheckTables(const Snapshot& snap, const FileHeader& h, bool parallel);
  static absl::Status CheckEntitiesAndLinks(const Snapshot& snap);
  static absl::Status CheckIndex(const Snapshot& snap, const IdIndex& index, bool credit_codes);
};

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
  h.info = snap.info();
  std::memcpy(h.catalog_id, catalog.id.data(), std::min(catalog.id.size(), kCatalogIdBytes - 1));
  h.catalog_fingerprint = catalog.fingerprint;
  Sections table{};
  const std::string zeros(kAlignment, '\0');
  if (!WriteAll(fd, zeros.data(), kAlignment)) return fail();  // header and table, later
  uint64_t offset = kAlignment;
  for (const SectionFormat& f : kSections) {
    const std::string_view bytes = f.bytes(snap);
    const uint64_t begin = AlignUp(offset);
    if (!WriteAll(fd, zeros.data(), begin - offset)) return fail();
    if (!WriteAll(fd, bytes.data(), bytes.size())) return fail();
    table[f.kind - 1] =
        SectionEntry{f.kind, f.element_size, begin, bytes.size(), ChecksumOf(bytes)};
    offset = begin + bytes.size();
  }
  h.file_size = offset;
  h.header_checksum = HeaderChecksum(h, table.data(), kSectionCount);
  if (::pwrite(fd, &h, sizeof(h), 0) != sizeof(h) ||
      ::pwrite(fd, table.data(), sizeof(table), sizeof(h)) != sizeof(table) || ::fsync(fd) != 0) {
    return fail();
  }
  return absl::OkStatus();
}

absl::Status SnapshotFile::Write(const Snapshot& snap, const CatalogIdentity& catalog,
                                 const std::string& path) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", tmp));
  absl::Status s = WriteFile(fd, snap, catalog, tmp);
  if (::close(fd) != 0 && s.ok()) {
    s = absl::ErrnoToStatus(errno, tmp);
  }
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = absl::ErrnoToStatus(errno, absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  // Make the rename durable too.
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

absl::Status SnapshotFile::ReadHeader(int fd, uint64_t file_size, const std::string& path,
                                      FileHeader* h, Sections* sections) {
  *h = FileHeader{};
  const bool whole = ReadAllAt(fd, h, std::min<uint64_t>(file_size, sizeof(*h)), 0);
  if (!whole || file_size < sizeof(kMagic) || std::memcmp(h->magic, kMagic, 8) != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: not a shixin snapshot file (no SHIXSNAP magic)", path));
  }
  if (file_size >= 12 && h->format_version != kSnapshotFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: snapshot format version %d, this build reads %d", path,
                        h->format_version, kSnapshotFormatVersion));
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

absl::Status SnapshotFile::ReadAndVerifySections(int fd, char* hot, const Sections& sections,
                                                 const std::string& path, unsigned threads) {
  struct Chunk {
    uint32_t kind;
    uint64_t index;
  };
  std::vector<Chunk> chunks;
  std::array<std::vector<uint64_t>, kSectionCount> hashes;
  for (const SectionEntry& s : sections) {
    hashes[s.kind - 1].resize(ChunkCount(s.size));
    for (uint64_t i = 0; i < ChunkCount(s.size); ++i) chunks.push_back(Chunk{s.kind, i});
  }
  const uint64_t blob_size = sections[kCaseBlob - 1].size;
  std::atomic<size_t> next{0};
  std::atomic<bool> read_error{false};
  std::atomic<bool> bad_offset{false};
  // A chunk is read and hashed in small pieces that stay in the core's cache: a hot piece
  // straight into its place in `hot`, a cold one into a reused buffer.
  constexpr size_t kPiece = 1u << 20;
  const auto work = [&] {
    std::unique_ptr<char[]> buffer(new char[kPiece]);
    XXH3_state_t* state = XXH3_createState();
    for (size_t c = next++; c < chunks.size(); c = next++) {
      const SectionEntry& s = sections[chunks[c].kind - 1];
      const uint64_t begin = chunks[c].index * kChecksumChunk;
      const uint64_t n = std::min(kChecksumChunk, s.size - begin);
      XXH3_64bits_reset(state);
      bool bad = false;
      for (uint64_t at = begin; at < begin + n; at += kPiece) {
        const size_t m = static_cast<size_t>(std::min<uint64_t>(kPiece, begin + n - at));
        char* data = Format(s.kind).hot ? hot + s.offset + at : buffer.get();
        if (!ReadAllAt(fd, data, m, s.offset + at)) read_error = true;
        XXH3_64bits_update(state, data, m);
        if (s.kind == kCaseOffsets) {  // a piece holds whole offsets
          for (size_t i = 0; i < m; i += sizeof(uint64_t)) {
            uint64_t offset;
            std::memcpy(&offset, data + i, sizeof(offset));
            bad |= offset >= blob_size;
          }
        }
      }
      hashes[s.kind - 1][chunks[c].index] = XXH3_64bits_digest(state);
      if (bad) bad_offset = true;
    }
    XXH3_freeState(state);
  };
  std::vector<std::thread> workers;
  for (unsigned i = 1; i < threads; ++i) workers.emplace_back(work);
  work();
  for (std::thread& t : workers) t.join();
  if (read_error) return absl::DataLossError(absl::StrFormat("%s: read error", path));
  for (const SectionEntry& s : sections) {
    const uint64_t sum = SectionChecksum(hashes[s.kind - 1]);
    if (sum != s.checksum) {
      return absl::DataLossError(
          absl::StrFormat("%s: section %s is corrupt (checksum %016x, expected %016x)", path,
                          Format(s.kind).name, sum, s.checksum));
    }
  }
  if (bad_offset) {
    return absl::DataLossError(
        absl::StrFormat("%s: inconsistent tables: a case offset lies beyond the %d-byte case blob",
                        path, blob_size));
  }
  return absl::OkStatus();
}

void SnapshotFile::ViewSections(const char* hot, const char* mapped, const Sections& sections,
                                Snapshot& snap) {
  for (const SectionFormat& f : kSections) {
    const SectionEntry& s = sections[f.kind - 1];
    f.view((f.hot ? hot : mapped) + s.offset, s.size / f.element_size, snap);
  }
}

absl::Status SnapshotFile::CheckIndex(const Snapshot& snap, const IdIndex& index,
                                      bool credit_codes) {
  const size_t n = snap.entity_count();
  for (const IdIndex::Bucket& b : index.buckets()) {
    for (uint32_t e : b.entity) {
      if (e == IdIndex::kEmpty) continue;
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

absl::Status SnapshotFile::CheckTables(const Snapshot& snap, const FileHeader& h, bool parallel) {
  if (snap.entities_.empty()) return absl::DataLossError("no entity table sentinel");
  const size_t n = snap.entity_count();
  if (n > kMaxEntities || n != h.info.entities || snap.case_offsets_.size() != h.info.cases) {
    return absl::DataLossError(
        absl::StrFormat("%d entities and %d cases, but the header says %d and %d", n,
                        snap.case_offsets_.size(), h.info.entities, h.info.cases));
  }
  const Snapshot::Entity& end = snap.entities_[n];
  if (end.name_begin != snap.names_.size() || end.case_begin != snap.case_offsets_.size() ||
      end.link_begin != snap.links_.size()) {
    return absl::DataLossError("the entity sentinel does not close the tables");
  }
  absl::Status indexes;
  const auto check_indexes = [&] {
    indexes = CheckIndex(snap, snap.index_, false);
    if (indexes.ok()) indexes = CheckIndex(snap, snap.org_code_index_, true);
  };
  std::thread index_checker;
  if (parallel) index_checker = std::thread(check_indexes);
  const absl::Status tables = CheckEntitiesAndLinks(snap);
  if (parallel) {
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

absl::StatusOr<std::unique_ptr<const Snapshot>> SnapshotFile::Open(const std::string& path,
                                                                   uint64_t expected_catalog,
                                                                   SnapshotFileHeader* out,
                                                                   unsigned threads) {
  if (threads == 0) threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  absl::StatusOr<int> opened = OpenRegularFile(path);  // never blocks on a FIFO
  if (!opened.ok()) return opened.status();
  const int fd = *opened;
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) return absl::ErrnoToStatus(errno, path);
  const auto file_size = static_cast<uint64_t>(st.st_size);
  FileHeader h{};
  Sections sections{};
  SHIXIN_RETURN_IF_ERROR(ReadHeader(fd, file_size, path, &h, &sections));
  const std::string catalog_id(h.catalog_id, strnlen(h.catalog_id, kCatalogIdBytes));
  if (expected_catalog != 0 && h.catalog_fingerprint != expected_catalog) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: compiled against catalog %s (fingerprint %016x), but the catalog in use has "
        "fingerprint %016x; compile the list again with this catalog",
        path, catalog_id, h.catalog_fingerprint, expected_catalog));
  }
  SHIXIN_RETURN_IF_ERROR(CheckLayout(h, sections, file_size, path));

  // The hot tables are copied into anonymous huge-page memory: lookups miss the TLB less than
  // on a file mapping's 4 KiB pages, the kernel cannot evict them under page-cache pressure,
  // and the first queries after a swap do not fault. The case tables stay in the file, read
  // at random by DETAIL only.
  const uint64_t hot_size = HotEnd(sections);
  void* hot = AllocateHuge(hot_size);
  if (hot == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("%s: cannot allocate %d bytes for the hot tables", path, hot_size));
  }
  void* base = ::mmap(nullptr, file_size, PROT_READ, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    FreeHuge(hot, hot_size);
    return absl::ErrnoToStatus(errno, absl::StrCat(path, ": mmap"));
  }
  std::unique_ptr<Snapshot> snap(new Snapshot());
  snap->mapping_ = std::make_unique<Snapshot::Mapping>(base, file_size, hot, hot_size);
  ::madvise(static_cast<char*>(base) + hot_size, file_size - hot_size, MADV_RANDOM);
  if (absl::Status s = ReadAndVerifySections(fd, static_cast<char*>(hot), sections, path, threads);
      !s.ok()) {
    return s;
  }
  // The structure is checked on the verified copy: a file changed after verification cannot
  // reach the hot tables.
  ViewSections(static_cast<const char*>(hot), static_cast<const char*>(base), sections, *snap);
  snap->info_ = h.info;
  const absl::Status structure = CheckTables(*snap, h, threads > 1);
  if (!structure.ok()) {
    return absl::DataLossError(
        absl::StrFormat("%s: inconsistent tables: %s", path, structure.message()));
  }
  if (out != nullptr) {
    *out = SnapshotFileHeader{h.format_version, h.write_time, h.file_size,
                              CatalogIdentity{catalog_id, h.catalog_fingerprint}};
  }
  return std::unique_ptr<const Snapshot>(std::move(snap));
}

absl::Status WriteSnapshotFile(const Snapshot& snap, const CatalogIdentity& catalog,
                               const std::string& path) {
  return SnapshotFile::Write(snap, catalog, path);
}

absl::StatusOr<std::unique_ptr<const Snapshot>> OpenSnapshotFile(
    const std::string& path, uint64_t expected_catalog_fingerprint, SnapshotFileHeader* header,
    unsigned threads) {
  return SnapshotFile::Open(path, expected_catalog_fingerprint, header, threads);
}

}  // namespace shixin
