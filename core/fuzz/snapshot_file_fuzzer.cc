// libFuzzer target for compiled snapshot files (core/snapshot_file.h): OpenSnapshotFile() on
// arbitrary bytes and, when it accepts them, every accessor of the opened Snapshot over every
// entity and every case, FindBatch() over all IDs, and Check() and Measures() for a few
// entities. What it holds the code to: a crafted or corrupt file is either refused with a Status
// (InvalidArgument, FailedPrecondition or DataLoss, the message starting with the path) or safe
// to query; and once opened, a file changed in place makes case reads fail with DataLoss, never
// return other bytes.
//
// ASan does not know where a section ends (the hot sections share one buffer with their
// padding, the case sections are read into reused buffers), so for an accepted file the fuzzer
// also checks, from its own copy of the bytes, that the file keeps every promise of
// SNAPSHOT_FORMAT.md's "Verification at open" (checksums computed as the format says, layout,
// table structure, the listing blocks' order), and that every accessor returns what the format
// says it must: IsListed(), ListingAt(), IsRelated() and Check() at 0, the header's build time, a
// late instant and around each entity's block boundaries, as computed from the entity's last
// block and the listing_blocks table; each case is decoded again from an exact-size heap copy of
// its record, whose end ASan guards, and its fixed-width fields compared with the record's bytes.
//
// The first input byte is a mode, the rest is the file:
//   bit 0  reseal: recompute each section's checksum (over its 4 KiB blocks), then the header's
//          file size and checksum, so that mutations get past the checksums to the structural
//          checks (with bits 0 and 1 clear the bytes are opened unchanged);
//   bit 1  packed: the sections follow the section table back to back, without padding; they
//          are laid out at multiples of 4096 and the table's offsets and sizes, the header's
//          file size and its checksum rewritten (so that no mutation is wasted on padding);
//   bit 2  pass the fingerprint of the default catalog (scripts/fuzz.sh compiles the seeds
//          against it) instead of 0, which accepts any catalog;
//   bit 3  once an accepted file is verified, change it in place (bit 4: truncate it; else
//          overwrite 16 bytes), at a place the file's hash picks, and read every entity's cases
//          again: each read must fail with DataLoss or return the same cases as before.
// Each input is written to the same memfd and opened as /proc/self/fd/N: nothing on disk.
// SNAPSHOT_FILE_FUZZER_VERBOSE=1 prints why each input was refused.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "core/case_codec.h"
#include "core/catalog.h"
#include "core/id.h"
#include "core/paths.h"
#include "core/query.h"
#include "core/snapshot.h"
#include "core/snapshot_file.h"
#include "core/types.h"
#include "core/validity.h"
#include "xxhash.h"

namespace shixin {
namespace {

static_assert(std::endian::native == std::endian::little, "snapshot files are little-endian");

// Byte offsets and sizes of SNAPSHOT_FORMAT.md. This file is an independent spec checker: it
// deliberately does not use the code's own layouts (the section table in snapshot_file.cc,
// core/link.h, IsCanonicalPacked() and PackedKind() in core/id.h), but restates them from
// the document, so that a mistake in the one place the code keeps a layout is not copied here.
constexpr char kMagic[] = "SHIXSNAP";
constexpr size_t kVersionAt = 8;
constexpr size_t kEndianAt = 12;
constexpr size_t kHeaderSizeAt = 16;
constexpr size_t kSectionCountAt = 20;
constexpr size_t kFileSizeAt = 24;
constexpr size_t kWriteTimeAt = 32;
constexpr size_t kInfoAt = 48;  // eleven u64: version, build time, source time, subjects, ...
constexpr size_t kInfoBuildTimeAt = kInfoAt + 8;
constexpr size_t kInfoCasesAt = kInfoAt + 6 * 8;
constexpr size_t kInfoEntitiesAt = kInfoAt + 9 * 8;
constexpr size_t kInfoBytes = 88;
constexpr size_t kCatalogIdAt = 136;
constexpr size_t kCatalogIdBytes = 64;
constexpr size_t kFingerprintAt = 200;
constexpr size_t kHeaderChecksumAt = 248;
constexpr size_t kTableAt = 256;
constexpr size_t kEntryBytes = 32;
constexpr int kSections = 9;
constexpr size_t kTableEnd = kTableAt + kSections * kEntryBytes;  // 544
constexpr uint64_t kAlignment = 4096;
constexpr uint64_t kChecksumBlock = 4096;
constexpr uint64_t kMaxEntities = (uint64_t{1} << 29) - 1;
constexpr uint32_t kFreeSlot = 0xFFFFFFFFu;
constexpr size_t kEntityBytes = 32;
constexpr size_t kBlockBytes = 12;
constexpr size_t kLinkIntervalBytes = 12;
constexpr uint32_t kNoEnd = 0xFFFFFFFFu;  // a listing block's until: no known end
constexpr size_t kCaseFixedBytes = 31;    // a case record's fixed-width fields

// Section kinds, in file order.
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
constexpr uint32_t kElementSize[kSections + 1] = {0, 64, 32, 64, 1, 4, 12, 12, 8, 1};

// The bits of the mode byte.
enum ModeBit : uint8_t { kReseal = 1, kPacked = 2, kCheckCatalog = 4, kChange = 8, kTruncate = 16 };

void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "snapshot_file_fuzzer: %s\n", what);
    std::abort();
  }
}

template <typename T>
T Load(std::string_view bytes, size_t at) {
  Require(at <= bytes.size() && sizeof(T) <= bytes.size() - at, "fuzzer bug: read past its copy");
  T v;
  std::memcpy(&v, bytes.data() + at, sizeof(v));
  return v;
}

template <typename T>
void Store(std::string& bytes, size_t at, T v) {
  Require(at <= bytes.size() && sizeof(T) <= bytes.size() - at, "fuzzer bug: write past its copy");
  std::memcpy(bytes.data() + at, &v, sizeof(v));
}

uint64_t AlignUp(uint64_t n) { return (n + kAlignment - 1) & ~(kAlignment - 1); }

// A section's checksum: the XXH3-64 of the little-endian XXH3-64s of its 4 KiB blocks (the
// last may be shorter; an empty section has none).
uint64_t SectionChecksum(std::string_view section) {
  std::vector<uint64_t> blocks;
  for (uint64_t begin = 0; begin < section.size(); begin += kChecksumBlock) {
    blocks.push_back(
        XXH3_64bits(section.data() + begin, std::min(kChecksumBlock, section.size() - begin)));
  }
  return XXH3_64bits(blocks.data(), blocks.size() * sizeof(uint64_t));
}

// The header checksum: the XXH3-64 of header bytes [0, 248) followed by the section table.
// REQUIRES: file.size() >= kTableEnd.
uint64_t HeaderChecksum(std::string_view file) {
  char covered[kHeaderChecksumAt + kSections * kEntryBytes];
  std::memcpy(covered, file.data(), kHeaderChecksumAt);
  std::memcpy(covered + kHeaderChecksumAt, file.data() + kTableAt, kSections * kEntryBytes);
  return XXH3_64bits(covered, sizeof(covered));
}

struct Entry {
  uint32_t kind;
  uint32_t element_size;
  uint64_t offset;
  uint64_t size;
  uint64_t checksum;
};

size_t EntryAt(int i) { return kTableAt + kEntryBytes * static_cast<size_t>(i); }

// REQUIRES: file.size() >= kTableEnd.
Entry ReadEntry(std::string_view file, int i) {
  const size_t at = EntryAt(i);
  return Entry{Load<uint32_t>(file, at), Load<uint32_t>(file, at + 4), Load<uint64_t>(file, at + 8),
               Load<uint64_t>(file, at + 16), Load<uint64_t>(file, at + 24)};
}

// Whether [offset, offset + size) lies within `file_size` bytes (no overflow).
bool Within(uint64_t offset, uint64_t size, uint64_t file_size) {
  return offset <= file_size && size <= file_size - offset;
}

// Mode bit 1: the file of the packed form `in` (header and table, then the sections back to
// back in table order, each of the size its entry says or what is left). Shorter than the
// table: unchanged.
std::string LayOut(std::string_view in) {
  if (in.size() < kTableEnd) return std::string(in);
  std::string file(in.substr(0, kTableEnd));
  file.resize(kAlignment, '\0');
  size_t next = kTableEnd;
  for (int i = 0; i < kSections; ++i) {
    const uint64_t size = std::min<uint64_t>(ReadEntry(file, i).size, in.size() - next);
    const uint64_t offset = AlignUp(file.size());
    file.resize(offset, '\0');
    file.append(in.substr(next, size));
    next += size;
    Store<uint64_t>(file, EntryAt(i) + 8, offset);
    Store<uint64_t>(file, EntryAt(i) + 16, size);
  }
  return file;
}

// Recomputes the checksum of every section that lies within the file (if `sections`), then
// the header's file size and the header checksum. Shorter than the table: unchanged.
void Reseal(std::string& file, bool sections) {
  if (file.size() < kTableEnd) return;
  for (int i = 0; sections && i < kSections; ++i) {
    const Entry e = ReadEntry(file, i);
    if (!Within(e.offset, e.size, file.size())) continue;
    Store<uint64_t>(file, EntryAt(i) + 24,
                    SectionChecksum(std::string_view(file).substr(e.offset, e.size)));
  }
  Store<uint64_t>(file, kFileSizeAt, file.size());
  Store<uint64_t>(file, kHeaderChecksumAt, HeaderChecksum(file));
}

// Whether `id` is canonical as SNAPSHOT_FORMAT.md defines it: kind 1 - 3; a resident ID below
// 10^17; 17 credit-code characters of 5 bits below 31; 8 organisation-code characters of 6
// bits below 36; unused bits zero. Restated from the document, not IsCanonicalPacked() (above).
bool IsCanonical(const PackedId& id) {
  const uint32_t high = id.w[2] & 0x3FFFFFFFu;
  const uint64_t low = (static_cast<uint64_t>(id.w[1]) << 32) | id.w[0];
  switch (id.w[2] >> 30) {
    case 1:
      return high == 0 && low < 100000000000000000ull;
    case 2:
      if ((high >> 21) != 0) return false;
      for (int bit = 0; bit < 85; bit += 5) {
        uint64_t c = bit >= 64 ? high >> (bit - 64) : low >> bit;
        if (bit < 64 && bit + 5 > 64) c |= static_cast<uint64_t>(high) << (64 - bit);
        if ((c & 31) == 31) return false;
      }
      return true;
    case 3:
      if (high != 0 || (low >> 48) != 0) return false;
      for (int bit = 0; bit < 48; bit += 6) {
        if (((low >> bit) & 63) >= 36) return false;
      }
      return true;
    default:
      return false;
  }
}

IdKind KindOf(const PackedId& id) { return static_cast<IdKind>(id.w[2] >> 30); }

// The tables of a file that OpenSnapshotFile() accepted, read from the fuzzer's copy of its
// bytes as SNAPSHOT_FORMAT.md lays them out. Construction aborts if the file breaks a promise
// of "Verification at open": the accessors' bounds then rest on a check that is missing.
class Tables {
 public:
  explicit Tables(std::string_view file);

  size_t entity_count() const { return entity_count_; }
  uint32_t version() const { return version_; }
  size_t case_count() const { return section_[kCaseOffsets].size() / 8; }
  std::string_view section(Kind kind) const { return section_[kind]; }

  PackedId Id(size_t e) const {
    PackedId id;
    for (int i = 0; i < 3; ++i) id.w[i] = Load<uint32_t>(section_[kEntities], Record(e) + 4 * i);
    return id;
  }
  uint32_t NameBegin(size_t e) const { return Load<uint32_t>(section_[kEntities], Record(e) + 12); }
  uint32_t CaseBegin(size_t e) const { return Load<uint32_t>(section_[kEntities], Record(e) + 16); }
  uint32_t LinkBegin(size_t e) const { return Load<uint32_t>(section_[kEntities], Record(e) + 20); }
  uint32_t Link(size_t i) const { return Load<uint32_t>(section_[kLinks], 4 * i); }
  uint64_t CaseOffset(size_t c) const { return Load<uint64_t>(section_[kCaseOffsets], 8 * c); }
  // Case c's record: from its offset to the next case's, the last one's to the end of the blob.
  std::string_view CaseRecord(size_t c) const {
    const uint64_t end = c + 1 == case_count() ? section_[kCaseBlob].size() : CaseOffset(c + 1);
    return section_[kCaseBlob].substr(CaseOffset(c), end - CaseOffset(c));
  }
  // Entity e's last listing block [ListedFrom, ListedUntil), u32 seconds.
  uint32_t ListedFrom(size_t e) const {
    return Load<uint32_t>(section_[kEntities], Record(e) + 24);
  }
  uint32_t ListedUntil(size_t e) const {
    return Load<uint32_t>(section_[kEntities], Record(e) + 28);
  }
  // An earlier listing block: {entity, from, until}.
  struct Block {
    uint32_t entity, from, until;
  };
  size_t block_count() const { return section_[kBlocks].size() / kBlockBytes; }
  Block BlockAt(size_t i) const {
    const size_t at = kBlockBytes * i;
    return Block{Load<uint32_t>(section_[kBlocks], at), Load<uint32_t>(section_[kBlocks], at + 4),
                 Load<uint32_t>(section_[kBlocks], at + 8)};
  }
  // Entity e's earlier blocks are [BlocksBegin(e), BlocksBegin(e + 1)).
  size_t BlocksBegin(size_t e) const { return blocks_begin_[e]; }
  // Whether e is listed at `at` (u32 seconds), as SNAPSHOT_FORMAT.md ("Listing") says: from its
  // last block at or after its start, else from its earlier block starting last at or before it.
  bool ListedAt(size_t e, uint32_t at) const { return Listing(e, at).has_value(); }
  // The block [from, until) that says e is listed at `at`, or nullopt.
  std::optional<std::pair<uint32_t, uint32_t>> Listing(size_t e, uint32_t at) const;
  // Whether link number i holds at `at` (u32 seconds): always, unless link_intervals has it.
  bool LinkHolds(size_t i, uint32_t at) const {
    const auto& v = link_interval_[i];
    return !v || (v->first <= at && at < v->second);
  }

 private:
  static size_t Record(size_t e) { return kEntityBytes * e; }
  void CheckIndex(Kind kind) const;
  void CheckBlocks();
  void CheckLinkIntervals();

  std::string_view section_[kSections + 1];                                  // by kind
  std::vector<std::optional<std::pair<uint32_t, uint32_t>>> link_interval_;  // by link
  uint32_t version_ = 0;
  size_t entity_count_ = 0;
  std::vector<size_t> blocks_begin_;  // by entity, plus the end
};

std::optional<std::pair<uint32_t, uint32_t>> Tables::Listing(size_t e, uint32_t at) const {
  if (at >= ListedFrom(e)) {
    if (at < ListedUntil(e)) return std::make_pair(ListedFrom(e), ListedUntil(e));
    return std::nullopt;
  }
  std::optional<Block> last;  // of the blocks starting at or before `at`
  for (size_t i = BlocksBegin(e); i < BlocksBegin(e + 1); ++i) {
    const Block b = BlockAt(i);
    if (b.from <= at && (!last || b.from > last->from)) last = b;
  }
  if (!last || at >= last->until) return std::nullopt;
  return std::make_pair(last->from, last->until);
}

// The promises of the listing_blocks table: sorted by (entity, from) without repeats, each
// from < until, every entity below the entity count.
void Tables::CheckBlocks() {
  blocks_begin_.assign(entity_count_ + 1, block_count());
  for (size_t i = block_count(); i-- > 0;) {
    const Block b = BlockAt(i);
    Require(b.entity < entity_count_, "accepted: a listing block of an entity out of range");
    Require(b.from < b.until, "accepted: an empty listing block");
    if (i > 0) {
      const Block a = BlockAt(i - 1);
      Require(a.entity < b.entity || (a.entity == b.entity && a.from < b.from),
              "accepted: listing blocks not sorted by (entity, from)");
    }
    blocks_begin_[b.entity] = i;
  }
  for (size_t e = entity_count_; e-- > 0;) {
    blocks_begin_[e] = std::min(blocks_begin_[e], blocks_begin_[e + 1]);
  }
}

// The promises of the link_intervals table: by link number, strictly increasing, each below
// the link count, each from < until.
void Tables::CheckLinkIntervals() {
  const size_t links = section_[kLinks].size() / 4;
  link_interval_.assign(links, std::nullopt);
  const std::string_view table = section_[kLinkIntervals];
  for (size_t i = 0; i < table.size() / kLinkIntervalBytes; ++i) {
    const size_t at = kLinkIntervalBytes * i;
    const uint32_t link = Load<uint32_t>(table, at);
    const uint32_t from = Load<uint32_t>(table, at + 4);
    const uint32_t until = Load<uint32_t>(table, at + 8);
    Require(link < links, "accepted: a link interval of a link out of range");
    Require(from < until, "accepted: an empty link interval");
    Require(i == 0 || Load<uint32_t>(table, at - kLinkIntervalBytes) < link,
            "accepted: link intervals not strictly increasing by link");
    link_interval_[link] = std::make_pair(from, until);
  }
}

Tables::Tables(std::string_view file) {
  Require(file.size() >= kTableEnd, "accepted: a file shorter than its section table");
  Require(file.substr(0, 8) == std::string_view(kMagic, 8), "accepted: bad magic");
  version_ = Load<uint32_t>(file, kVersionAt);
  Require(version_ == kSnapshotFormatVersion || version_ == kOldestSnapshotFormatVersion,
          "accepted: bad version");
  Require(Load<uint32_t>(file, kEndianAt) == 0x01020304u, "accepted: bad endianness marker");
  Require(Load<uint32_t>(file, kHeaderSizeAt) == 256 &&
              Load<uint32_t>(file, kSectionCountAt) == kSections,
          "accepted: bad header size or section count");
  Require(Load<uint64_t>(file, kHeaderChecksumAt) == HeaderChecksum(file),
          "accepted: header checksum mismatch (as SNAPSHOT_FORMAT.md computes it)");
  Require(Load<uint64_t>(file, kFileSizeAt) == file.size(), "accepted: wrong file size");
  Entry by_kind[kSections + 1] = {};
  for (int i = 0; i < kSections; ++i) {
    const Entry e = ReadEntry(file, i);
    Require(e.kind >= 1 && e.kind <= kSections && by_kind[e.kind].kind == 0,
            "accepted: a section kind missing or repeated");
    by_kind[e.kind] = e;
  }
  uint64_t previous_end = kAlignment;
  for (uint32_t kind = 1; kind <= kSections; ++kind) {
    const Entry& e = by_kind[kind];
    Require(e.element_size == kElementSize[kind] && e.size % kElementSize[kind] == 0,
            "accepted: bad element size");
    Require(e.offset % kAlignment == 0 && e.offset >= previous_end,
            "accepted: misaligned, unordered or overlapping section");
    Require(Within(e.offset, e.size, file.size()), "accepted: a section outside the file");
    section_[kind] = file.substr(e.offset, e.size);
    Require(SectionChecksum(section_[kind]) == e.checksum,
            "accepted: section checksum mismatch (as SNAPSHOT_FORMAT.md computes it)");
    previous_end = e.offset + e.size;
  }
  const size_t records = section_[kEntities].size() / kEntityBytes;
  Require(records >= 1, "accepted: no entity sentinel");
  entity_count_ = records - 1;
  Require(entity_count_ <= kMaxEntities, "accepted: too many entities");
  Require(entity_count_ == Load<uint64_t>(file, kInfoEntitiesAt) &&
              case_count() == Load<uint64_t>(file, kInfoCasesAt),
          "accepted: counts differ from the header's");
  const size_t n = entity_count_;
  Require(NameBegin(n) == section_[kNames].size() && CaseBegin(n) == case_count() &&
              LinkBegin(n) * uint64_t{4} == section_[kLinks].size(),
          "accepted: the sentinel does not close the tables");
  for (size_t e = 0; e < n; ++e) {
    Require(NameBegin(e) <= NameBegin(e + 1) && CaseBegin(e) <= CaseBegin(e + 1) &&
                LinkBegin(e) <= LinkBegin(e + 1),
            "accepted: ranges not monotone");
    Require(IsCanonical(Id(e)), "accepted: a non-canonical ID");
    Require(e + 1 == n || Id(e) < Id(e + 1), "accepted: IDs not strictly increasing");
  }
  for (size_t i = 0; i < section_[kLinks].size() / 4; ++i) {
    Require((Link(i) >> 3) < n && (Link(i) & 7) < kRoleCount, "accepted: link out of range");
  }
  if (version_ == kSnapshotFormatVersion) {  // the older format's indexes are built again
    CheckIndex(kIdIndex);
    CheckIndex(kOrgCodeIndex);
  }
  CheckBlocks();
  CheckLinkIntervals();
  for (size_t c = 0; c < case_count(); ++c) {
    Require(CaseOffset(c) < section_[kCaseBlob].size(), "accepted: case offset beyond the blob");
    Require(c == 0 ? CaseOffset(c) == 0 : CaseOffset(c) > CaseOffset(c - 1),
            "accepted: case records not back to back from the start of the blob");
  }
  Require(case_count() > 0 || section_[kCaseBlob].empty(), "accepted: a blob without cases");
}

void Tables::CheckIndex(Kind kind) const {
  const std::string_view buckets = section_[kind];
  // A slot's entity is its low b bits, b the bit width of the entity count.
  const uint32_t entity_mask =
      entity_count_ == 0 ? 0 : kFreeSlot >> (32 - std::bit_width(entity_count_));
  for (size_t bucket = 0; bucket < buckets.size(); bucket += 64) {
    for (size_t slot = 0; slot < 16; ++slot) {
      const uint32_t s = Load<uint32_t>(buckets, bucket + 4 * slot);
      if (s == kFreeSlot) continue;
      const uint32_t e = s & entity_mask;
      Require(e < entity_count_, "accepted: index entry out of range");
      Require(kind != kOrgCodeIndex || KindOf(Id(e)) == IdKind::kCreditCode,
              "accepted: organisation-code index entry is not a credit code");
    }
  }
}

// Checks that `found` = Find(id) is a possible answer: no entity, the entity with this ID, for
// an organisation code a credit-code entity embedding it, or for a credit code the entity of
// the organisation code it embeds (a crafted index may miss).
void CheckFound(const Snapshot& snap, const Tables& t, const Id& id, EntityNo found) {
  if (found == kNoEntity) return;
  Require(found < t.entity_count(), "Find returned an entity out of range");
  const PackedId key = id.Pack();
  if (t.Id(found) == key) return;
  if (id.kind() == IdKind::kCreditCode) {
    Require(t.Id(found) == id.EmbeddedOrgCode().Pack(), "Find returned an entity with another ID");
    return;
  }
  Require(id.kind() == IdKind::kOrgCode && KindOf(t.Id(found)) == IdKind::kCreditCode &&
              snap.EntityId(found).EmbeddedOrgCode().Pack() == key,
          "Find returned an entity with another ID");
}

// Returns a credit code embedding organisation code `org`, or nullopt if one of its characters
// is not a credit code's (I, O, S, V, Z).
std::optional<Id> CreditCodeEmbedding(const Id& org) {
  static constexpr std::string_view kCreditChars = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  if (org.text().find_first_not_of(kCreditChars) != std::string_view::npos) return std::nullopt;
  const std::string first17 = "91230400" + std::string(org.text());
  return MakeIdUnchecked(IdKind::kCreditCode, first17 + CreditCodeCheckChar(first17));
}

// Requires `got` to be case `c` of `t`, decoded from an exact-size heap copy of its record.
void RequireCase(const CaseView& got, const Tables& t, size_t c) {
  const std::string_view record = t.CaseRecord(c);
  std::unique_ptr<char[]> copy(new char[record.size()]);
  if (!record.empty()) std::memcpy(copy.get(), record.data(), record.size());
  Require(got == DecodeCase(copy.get(), copy.get() + record.size()),
          "ReadCases() differs from the blob's record");
  // The fixed-width fields, restated from SNAPSHOT_FORMAT.md (a record shorter than them
  // decodes to an empty case).
  const bool fixed = record.size() >= kCaseFixedBytes;
  const auto field = [&]<typename T>(T, size_t at) { return fixed ? Load<T>(record, at) : T{0}; };
  Require(got.reg_date == field(uint32_t{}, 0) && got.publish_date == field(uint32_t{}, 4) &&
              got.age == field(uint8_t{}, 8) &&
              static_cast<uint8_t>(got.sex) == field(uint8_t{}, 9) &&
              got.term_end == field(uint32_t{}, 10) && got.start == field(int64_t{}, 14) &&
              got.ended_at == field(int64_t{}, 22) &&
              static_cast<uint8_t>(got.end) == field(uint8_t{}, 30),
          "a case's fixed-width fields differ from the record's bytes");
}

// The instants the listing is checked at: 0, the header's build time, the last second a u32
// holds before "no known end" (instants are u32 seconds in the tables), within [0, kNoEnd).
int64_t Instant(int64_t t) { return std::clamp<int64_t>(t, 0, kNoEnd - 1); }

// The instants around entity e's block boundaries (a few of its earlier blocks).
std::vector<int64_t> BoundaryInstants(const Tables& t, size_t e) {
  std::vector<int64_t> at;
  const auto around = [&](int64_t b) {
    for (int64_t d = -1; d <= 0; ++d) at.push_back(Instant(b + d));
  };
  around(t.ListedFrom(e));
  around(t.ListedUntil(e));
  for (size_t i = t.BlocksBegin(e); i < std::min(t.BlocksBegin(e + 1), t.BlocksBegin(e) + 4); ++i) {
    around(t.BlockAt(i).from);
    around(t.BlockAt(i).until);
  }
  return at;
}

// Requires IsListed() and ListingAt() of entity e at `at` to be the oracle's.
void RequireListing(const Snapshot& snap, const Tables& t, EntityNo e, int64_t at) {
  const auto expected = t.Listing(e, static_cast<uint32_t>(at));
  Require(snap.IsListed(e, at) == expected.has_value(), "IsListed() differs from the format");
  const std::optional<Interval> got = snap.ListingAt(e, at);
  Require(got.has_value() == expected.has_value(), "ListingAt() differs from the format");
  if (!got) return;
  Require(got->from == expected->first &&
              got->until == (expected->second == kNoEnd ? kForever : expected->second),
          "ListingAt() returned another block than the format's");
}

// Whether entity e is a person linked to an entity the oracle lists at `at`.
bool RelatedAt(const Tables& t, size_t e, int64_t at) {
  if (KindOf(t.Id(e)) != IdKind::kResident) return false;
  for (size_t i = t.LinkBegin(e); i < t.LinkBegin(e + 1); ++i) {
    if (t.LinkHolds(i, static_cast<uint32_t>(at)) &&
        t.ListedAt(t.Link(i) >> 3, static_cast<uint32_t>(at))) {
      return true;
    }
  }
  return false;
}

// Requires ReadCases() of entity `e` to return its cases, or, with `may_fail` (the file has
// changed since it was opened), to fail with DataLoss.
void RequireEntityCases(const Snapshot& snap, const Tables& t, EntityNo e, bool may_fail) {
  CaseBuffer buffer;
  const absl::StatusOr<std::span<const CaseView>> cases =
      snap.ReadCases(snap.FirstCase(e), snap.CaseCount(e), buffer);
  if (!cases.ok()) {
    Require(may_fail, "ReadCases() failed on an unchanged file");
    Require(absl::IsDataLoss(cases.status()), "ReadCases() failed with another code than DataLoss");
    return;
  }
  Require(cases->size() == snap.CaseCount(e), "ReadCases() returned another number of cases");
  for (uint32_t i = 0; i < snap.CaseCount(e); ++i) RequireCase((*cases)[i], t, t.CaseBegin(e) + i);
}

// Check() and Measures() of `id`; `persons` are officers to give for an organisation, `salt`
// picks the agency and scenario filters.
void Query(const Snapshot& snap, const Tables& t, const Catalog& catalog, const Id& id,
           const std::vector<Id>& persons, size_t salt, int64_t at) {
  const EntityNo found = snap.Find(id);
  const absl::StatusOr<CheckResult> checked = Check(snap, id, at, /*with_cases=*/true);
  Require(checked.ok(), "Check() failed on an unchanged file");
  const CheckResult& r = *checked;
  Require(r.id == id.text(), "Check(): id");
  if (found == kNoEntity) {
    Require(!r.listed && !r.related && r.name.empty() && r.cases.empty() && r.roles.empty() &&
                r.officers.empty(),
            "Check() of an unknown ID");
  } else {
    const auto listing = t.Listing(found, static_cast<uint32_t>(at));
    // Off the list at `at` (neither listed nor related), no answer names the subject, and its
    // roles show only listed parties (FORMAT.md, the subject block).
    const bool on_list = listing.has_value() || RelatedAt(t, found, at);
    Require(r.listed == listing.has_value() && r.related == RelatedAt(t, found, at) &&
                r.name == (on_list ? snap.EntityName(found) : std::string_view()) &&
                r.cases.size() <= snap.CaseCount(found) &&
                r.roles.size() + r.officers.size() <= snap.LinkCount(found),
            "Check() differs from the format");
    Require(!listing || (r.since == listing->first &&
                         r.until == (listing->second == kNoEnd ? kForever : listing->second)),
            "Check(): since or until differs from the format's block");
    // The roles' `listed`, as (ID, role, listed) in any order.
    std::vector<std::tuple<std::string, int, bool>> expected, got;
    for (size_t i = t.LinkBegin(found); i < t.LinkBegin(found + 1); ++i) {
      if (!t.LinkHolds(i, static_cast<uint32_t>(at))) continue;
      const uint32_t other = t.Link(i) >> 3;
      const bool other_listed = t.ListedAt(other, static_cast<uint32_t>(at));
      if (!on_list && !other_listed) continue;
      expected.emplace_back(snap.EntityId(other).text(), t.Link(i) & 7, other_listed);
    }
    for (const RoleInfo& role : r.roles.empty() ? r.officers : r.roles) {
      got.emplace_back(role.id, static_cast<int>(role.role), role.listed);
    }
    std::sort(expected.begin(), expected.end());
    std::sort(got.begin(), got.end());
    Require(got == expected, "Check(): the roles differ from the format");
  }
  MeasureQuery plain;
  plain.at = at;
  absl::StatusOr<MeasuresResult> all = Measures(snap, catalog, id, plain);
  Require(all.ok(), "Measures() failed");
  MeasureQuery query;
  query.at = at;
  query.agency = static_cast<int>(salt % (catalog.agencies().size() + 1)) - 1;
  query.scenario = static_cast<int>(salt % (catalog.scenarios().size() + 1)) - 1;
  if (id.subject_kind() == SubjectKind::kOrganization) {
    for (size_t i = 0; i < persons.size(); ++i) {
      query.officers.push_back(Officer{static_cast<Role>((salt + i) % kRoleCount), persons[i]});
    }
  }
  absl::StatusOr<MeasuresResult> some = Measures(snap, catalog, id, query);
  Require(some.ok(), "Measures() with filters and officers failed");
  for (const MeasureInfo& m : some->measures) Require(!m.basis.empty(), "a measure without basis");
}

// Exercises every accessor of `snap`, opened from `file`, against the format.
void Verify(const Snapshot& snap, std::string_view file, const SnapshotFileHeader& header,
            uint64_t expected_fingerprint, const Catalog& catalog) {
  const Tables t(file);
  const size_t n = t.entity_count();
  Require(snap.from_file() && snap.entity_count() == n, "entity_count()");
  Require(std::memcmp(&snap.info(), file.data() + kInfoAt, kInfoBytes) == 0, "info()");
  const size_t tables = t.section(kEntities).size() + t.section(kNames).size() +
                        t.section(kLinks).size() + t.section(kBlocks).size() +
                        t.section(kLinkIntervals).size();
  const size_t indexes = t.section(kIdIndex).size() + t.section(kOrgCodeIndex).size();
  Require(t.version() == kSnapshotFormatVersion ? snap.IndexBytes() == tables + indexes
                                                : snap.IndexBytes() >= tables,
          "IndexBytes()");
  Require(snap.CaseBytes() == t.section(kCaseOffsets).size() + t.section(kCaseBlob).size(),
          "CaseBytes()");
  const std::string_view catalog_id = file.substr(kCatalogIdAt, kCatalogIdBytes);
  Require(header.format_version == t.version() && header.file_size == file.size() &&
              header.write_time == Load<int64_t>(file, kWriteTimeAt) &&
              header.catalog.id == catalog_id.substr(0, catalog_id.find('\0')) &&
              header.catalog.fingerprint == Load<uint64_t>(file, kFingerprintAt),
          "SnapshotFileHeader");
  Require(expected_fingerprint == 0 || header.catalog.fingerprint == expected_fingerprint,
          "accepted another catalog");

  // Every case, alone, against a decoding of an exact-size heap copy of its record.
  for (size_t c = 0; c < t.case_count(); ++c) {
    CaseBuffer buffer;
    const absl::StatusOr<std::span<const CaseView>> one =
        snap.ReadCases(static_cast<uint32_t>(c), 1, buffer);
    Require(one.ok() && one->size() == 1, "ReadCases() of one case failed on an unchanged file");
    RequireCase((*one)[0], t, c);
  }

  const int64_t instants[] = {0, Instant(Load<int64_t>(file, kInfoBuildTimeAt)), kNoEnd - 1};

  // Every entity; the IDs to look up again in a batch.
  std::vector<Id> ids;
  std::vector<Id> persons;  // a few, as officers for Measures()
  const std::string_view names = t.section(kNames);
  for (EntityNo e = 0; e < n; ++e) {
    const PackedId packed = t.Id(e);
    const Id id = snap.EntityId(e);
    Require(id.Pack() == packed, "EntityId() does not pack to the stored ID");
    const bool person = KindOf(packed) == IdKind::kResident;
    Require(snap.EntityKind(e) == (person ? SubjectKind::kPerson : SubjectKind::kOrganization),
            "EntityKind()");
    Require(snap.EntityName(e) == names.substr(t.NameBegin(e), t.NameBegin(e + 1) - t.NameBegin(e)),
            "EntityName()");
    Require(snap.FirstCase(e) == t.CaseBegin(e) &&
                snap.CaseCount(e) == t.CaseBegin(e + 1) - t.CaseBegin(e) &&
                snap.HasCases(e) == (t.CaseBegin(e + 1) > t.CaseBegin(e)),
            "FirstCase(), CaseCount() or HasCases()");
    for (const int64_t at : instants) RequireListing(snap, t, e, at);
    for (const int64_t at : BoundaryInstants(t, e)) RequireListing(snap, t, e, at);
    RequireEntityCases(snap, t, e, /*may_fail=*/false);
    Require(snap.LinkCount(e) == t.LinkBegin(e + 1) - t.LinkBegin(e), "LinkCount()");
    for (uint32_t i = 0; i < snap.LinkCount(e); ++i) {
      const LinkView link = snap.Link(e, i);
      const uint32_t stored = t.Link(t.LinkBegin(e) + i);
      Require(link.other == stored >> 3 && static_cast<uint32_t>(link.role) == (stored & 7),
              "Link()");
      const Interval valid = snap.LinkValid(e, i);
      for (const int64_t at : instants) {
        Require(valid.Contains(at) == t.LinkHolds(t.LinkBegin(e) + i, static_cast<uint32_t>(at)),
                "LinkValid() differs from the format");
      }
    }
    for (const int64_t at : instants) {
      Require(snap.IsRelated(e, at) == RelatedAt(t, e, at), "IsRelated() differs from the format");
    }
    CheckFound(snap, t, id, snap.Find(id));
    ids.push_back(id);
    if (id.kind() == IdKind::kCreditCode) ids.push_back(id.EmbeddedOrgCode());
    if (id.kind() == IdKind::kOrgCode) {
      if (const std::optional<Id> credit = CreditCodeEmbedding(id)) ids.push_back(*credit);
    }
    PackedId next = packed;  // most likely not in the snapshot
    ++next.w[0];
    if (IsCanonical(next)) ids.push_back(Id::Unpack(next));
    if (person && persons.size() < 3) persons.push_back(id);
  }
  ids.push_back(Id());
  std::vector<EntityNo> found(ids.size());
  snap.FindBatch(ids, found);
  for (size_t i = 0; i < ids.size(); ++i) {
    Require(found[i] == snap.Find(ids[i]), "FindBatch() differs from Find()");
    CheckFound(snap, t, ids[i], found[i]);
  }

  // The query functions, for a handful of entities spread over the table.
  const size_t picks = std::min<size_t>(n, 6);
  for (size_t k = 0; k < picks; ++k) {
    const Id id = snap.EntityId(static_cast<EntityNo>(k * n / picks));
    const int64_t at = instants[k % std::size(instants)];
    Query(snap, t, catalog, id, persons, k, at);
    if (id.kind() == IdKind::kCreditCode) {
      Query(snap, t, catalog, id.EmbeddedOrgCode(), persons, k, at);
    }
    if (id.kind() == IdKind::kOrgCode) {
      if (const std::optional<Id> credit = CreditCodeEmbedding(id)) {
        Query(snap, t, catalog, *credit, persons, k, at);
      }
    }
  }
}

// The file every input is written to: one memfd for the process, so nothing reaches the disk.
class MemFile {
 public:
  MemFile() : fd_(memfd_create("snapshot_file_fuzzer", MFD_CLOEXEC)) {
    Require(fd_ >= 0, "memfd_create failed");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }

  const std::string& path() const { return path_; }

  void Write(std::string_view bytes) {
    Truncate(0);
    WriteAt(0, bytes);
  }

  // In place: the open snapshot's descriptor sees the change.
  void WriteAt(uint64_t offset, std::string_view bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n =
          pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      Require(n > 0, "write to the memfd failed");
      done += static_cast<size_t>(n);
    }
  }
  void Truncate(uint64_t size) {
    Require(ftruncate(fd_, static_cast<off_t>(size)) == 0, "ftruncate of the memfd failed");
  }

 private:
  int fd_;
  std::string path_;
};

MemFile& File() {
  static MemFile* const file = new MemFile();
  return *file;
}

// Mode bit 3: changes `file`, which `snap` was opened from, in place in `mem` (bit 4: truncates
// it; else overwrites 16 bytes with others), somewhere in its case sections if it has any, and
// reads every entity's cases again: each read fails with DataLoss or returns the same cases.
void ChangeAndReread(const Snapshot& snap, std::string_view file, uint8_t mode, MemFile& mem) {
  const Tables t(file);
  const uint64_t cold = static_cast<uint64_t>(t.section(kCaseOffsets).data() - file.data());
  const uint64_t span = file.size() - std::min<uint64_t>(cold, file.size());
  const uint64_t hash = XXH3_64bits(file.data(), file.size());
  const uint64_t at = span > 0 ? cold + hash % span : hash % (file.size() + 1);
  if ((mode & kTruncate) != 0) {
    mem.Truncate(at);
  } else if (at < file.size()) {
    std::string other(file.substr(at, 16));
    for (char& c : other) c = static_cast<char>(c ^ 0xA5);
    mem.WriteAt(at, other);
  }
  for (EntityNo e = 0; e < t.entity_count(); ++e) RequireEntityCases(snap, t, e, true);
}

const Catalog& DefaultCatalog() {
  static const Catalog* const catalog = [] {
    absl::StatusOr<Catalog> c = Catalog::LoadFile(DefaultCatalogPath());
    if (!c.ok()) {
      std::fprintf(stderr, "snapshot_file_fuzzer: %s\n", std::string(c.status().message()).c_str());
      std::abort();
    }
    return new Catalog(*std::move(c));
  }();
  return *catalog;
}

bool Verbose() {
  static const bool verbose = [] {
    const char* v = std::getenv("SNAPSHOT_FILE_FUZZER_VERBOSE");
    return v != nullptr && *v != '\0' && *v != '0';
  }();
  return verbose;
}

}  // namespace
}  // namespace shixin

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace shixin;
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string file = (mode & kPacked) != 0 ? LayOut(input) : std::string(input);
  if ((mode & (kReseal | kPacked)) != 0) Reseal(file, (mode & kReseal) != 0);

  MemFile& mem = File();
  mem.Write(file);
  const Catalog& catalog = DefaultCatalog();
  const uint64_t expected = (mode & kCheckCatalog) != 0 ? catalog.fingerprint() : 0;
  SnapshotFileHeader header;
  absl::StatusOr<std::unique_ptr<const Snapshot>> snap =
      OpenSnapshotFile(mem.path(), expected, &header);
  if (!snap.ok()) {
    if (Verbose()) std::fprintf(stderr, "refused: %s\n", snap.status().ToString().c_str());
    const absl::StatusCode code = snap.status().code();
    Require(code == absl::StatusCode::kInvalidArgument ||
                code == absl::StatusCode::kFailedPrecondition ||
                code == absl::StatusCode::kDataLoss,
            "OpenSnapshotFile() returned an undocumented status code");
    Require(absl::StartsWith(snap.status().message(), mem.path()),
            "OpenSnapshotFile()'s message does not start with the path");
    return 0;
  }
  if (Verbose()) std::fprintf(stderr, "accepted: %zu entities\n", (*snap)->entity_count());
  Verify(**snap, file, header, expected, catalog);
  if ((mode & kChange) != 0) ChangeAndReread(**snap, file, mode, mem);
  return 0;
}
