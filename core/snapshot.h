// The immutable in-memory list: every listed subject and every person related to a listed
// organisation (an "entity"), their cases, and the related-person index in both directions.
//
// Layout (compact; no per-record heap objects):
//   entities_  32 bytes each, sorted by PackedId; entity i's name, cases and links are the
//              ranges [i, i+1) of the name arena, the case table and the link table (a sentinel
//              entity closes the last range); its last listing block (below) is in the entity;
//   blocks_    the earlier listing blocks of the few entities that have several, by entity:
//              a block is a stretch of time during which the union of the entity's case
//              intervals (core/validity.h) is unbroken;
//   index_     an IdIndex (core/id_index.h) keyed by the XXH3 hash of the packed ID: 8-byte
//              slots of fingerprint and entity number; a hit is always verified against the
//              entity's full ID;
//   org_code_index_  the same over credit-code entities, keyed by their embedded organisation
//              code, so a query by the old 9-character code finds an organisation listed by its
//              credit code (the other way, a credit code the index_ lacks is looked up again in
//              the index_ as the organisation code it embeds: an organisation listed only by its
//              old code; entities keyed by organisation codes sort last, so the entity table's
//              last entity tells whether there are any);
//   links_     4 bytes each: (entity << 3 | role); a person's links name the organisations where
//              it holds roles, an organisation's links name its related persons;
//   link_intervals_  the few links that hold only for a while (a role begun or ended by a
//              delta and folded in by compaction), by link number; the others hold always;
//   cases_     byte offsets into one case blob of length-prefixed fields.
//
// The tables are read through spans over storage that is either owned (a snapshot built by
// SnapshotBuilder, in huge-page memory) or a snapshot file (core/snapshot_file.h, which checks
// the tables so that no accessor can read out of bounds): its hot tables copied into huge-page
// memory, its case tables left in the file and read by ReadCases() into a caller's CaseBuffer,
// verified against checksums kept in memory, so that a file changed in place gives an error,
// never wrong bytes or a fault.
//
// Thread safety: a Snapshot has only const methods and is shared between threads without locks.
#ifndef SHIXIN_CORE_SNAPSHOT_H_
#define SHIXIN_CORE_SNAPSHOT_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/block_checksum.h"
#include "core/huge_pages.h"
#include "core/id.h"
#include "core/id_index.h"
#include "core/record.h"
#include "core/types.h"
#include "core/validity.h"

namespace shixin {

// Entity numbers; kNoEntity means "not in the snapshot".
using EntityNo = uint32_t;
inline constexpr EntityNo kNoEntity = 0xFFFFFFFFu;

// A role link from an entity to another entity.
struct LinkView {
  EntityNo other;  // the organisation (from a person) or the person (from an organisation)
  Role role;
};

// Counts and identity of a snapshot.
struct SnapshotInfo {
  uint64_t version = 0;        // XXH3 content hash over every table
  int64_t build_time = 0;      // Unix seconds
  int64_t source_time = 0;     // Unix seconds: newest mtime of the source files, or 0
  uint64_t subjects = 0;       // subjects listed at build_time
  uint64_t persons = 0;        // listed persons
  uint64_t organizations = 0;  // listed organisations
  uint64_t cases = 0;
  uint64_t relations = 0;        // distinct (organisation, person, role) triples
  uint64_t related_persons = 0;  // persons holding a role in a listed organisation
  uint64_t entities = 0;         // subjects + related-only persons + unlisted organisations
  // the last delta folded into this base (shixin compile --deltas); 0: none
  uint64_t delta_sequence = 0;
};

// Returns why a list of `info` with no subject listed at its build is empty: "no valid record
// in debtors.ndjson", or that none of its cases counts then (in their grace period or ended).
std::string EmptyListReason(const SnapshotInfo& info);

class Snapshot;
class SnapshotBuilder;
class SnapshotFile;

// Memory owned by the caller that the cases returned by Snapshot::ReadCases() point into (a
// built snapshot's views point into the snapshot instead). Reusing one allocates only to grow.
//
// Thread safety: not thread-safe; one per thread or per call.
class CaseBuffer {
 public:
  CaseBuffer() = default;
  CaseBuffer(const CaseBuffer&) = delete;
  CaseBuffer& operator=(const CaseBuffer&) = delete;

 private:
  friend class ListView;
  friend class Snapshot;
  friend class SnapshotFile;

  ReadBuffer offsets_;  // the case offsets read from a file
  ReadBuffer records_;  // the case records read from a file
  std::vector<CaseView> cases_;
  std::vector<uint32_t> record_offsets_;  // where each record begins, for ReadCaseRecords()
  std::string built_records_;             // a built snapshot's records, copied together
};

// Some cases' encoded records (core/case_codec.h) back to back, as Snapshot::ReadCaseRecords()
// returns them: record i is bytes [offsets[i], offsets[i + 1]), the last one up to bytes' end.
struct CaseRecords {
  std::string_view bytes;
  std::span<const uint32_t> offsets;
};

// One group of cases for Snapshot::ReadCaseRecordsBatch(): ReadCaseRecords()'s arguments, and
// its result once read.
struct CaseRecordsRead {
  uint32_t first = 0;
  uint32_t count = 0;
  CaseBuffer* buffer = nullptr;
  absl::StatusOr<CaseRecords> result;
};

class Snapshot {
 public:
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  ~Snapshot();

  // Returns the entity with this ID, or kNoEntity. An organisation is one entity under both its
  // codes (GB 32100: a credit code's characters 9-17 are its organisation code): an
  // organisation code also finds the organisation listed by the credit code embedding it, and
  // a credit code the snapshot lacks finds the organisation listed by the bare organisation
  // code it embeds (older court records). Never another credit code embedding the same code.
  EntityNo Find(const Id& id) const;
  // Looks up `ids` in a batch with software prefetching; out[i] = Find(ids[i]).
  // REQUIRES: out.size() == ids.size().
  void FindBatch(std::span<const Id> ids, std::span<EntityNo> out) const;
  // The same, and keys[i] = ids[i] packed and its HashPackedId(), which the lookup computed:
  // the misses' next lookup (the overlay's) need not compute them again. REQUIRES:
  // out.size() == ids.size() == keys.size().
  void FindBatch(std::span<const Id> ids, std::span<EntityNo> out, std::span<HashedId> keys) const;
  // The IDs whose misses the batched lookups overlap: a caller batching in groups of this size
  // loses nothing.
  static constexpr size_t kFindGroup = 32;

  // Prefetches the lines an answer about `e` reads besides its entity: the next entity (where
  // its name and links end), its name and its first links. REQUIRES: e < entity_count().
  void PrefetchAnswer(EntityNo e) const {
    const Entity& entity = entities_[e];
    __builtin_prefetch(&entities_[e + 1]);
    __builtin_prefetch(names_.data() + entity.name_begin);
    if (entity.link_begin < links_.size()) __builtin_prefetch(&links_[entity.link_begin]);
  }
  // Prefetches the entities of the organisations where person `e` holds a role (up to 4): an
  // answer reads whether each is listed. Best after PrefetchAnswer(e) has had time to bring the
  // links in. REQUIRES: e < entity_count().
  void PrefetchLinked(EntityNo e) const {
    if (EntityKind(e) != SubjectKind::kPerson) return;
    const uint32_t n = std::min<uint32_t>(LinkCount(e), 4);
    for (uint32_t i = 0; i < n; ++i) __builtin_prefetch(&entities_[Link(e, i).other]);
  }

  // Entity accessors. REQUIRES: e < entity_count().
  size_t entity_count() const { return entities_.size() - 1; }
  Id EntityId(EntityNo e) const { return Id::Unpack(entities_[e].id); }
  // Returns EntityId(e).Pack() without unpacking it.
  const PackedId& EntityKey(EntityNo e) const { return entities_[e].id; }
  SubjectKind EntityKind(EntityNo e) const;
  std::string_view EntityName(EntityNo e) const;
  // Whether a case of `e` counts at the instant `t` (Unix seconds). Nothing counts before 1970
  // (t < 0) or at kForever; ends beyond 2106 are kept as the last second before it.
  bool IsListed(EntityNo e, int64_t t) const;
  // Returns the listing block of `e` that holds `t` (since, until), or nullopt if not listed.
  std::optional<Interval> ListingAt(EntityNo e, int64_t t) const;
  // Whether `e` has any case (listed at some time, now, before or later).
  bool HasCases(EntityNo e) const { return CaseCount(e) > 0; }
  // A person holding, at `t`, a role in an organisation listed at `t`.
  bool IsRelated(EntityNo e, int64_t t) const;
  uint32_t CaseCount(EntityNo e) const {
    return entities_[e + 1].case_begin - entities_[e].case_begin;
  }
  uint32_t FirstCase(EntityNo e) const { return entities_[e].case_begin; }
  uint32_t LinkCount(EntityNo e) const {
    return entities_[e + 1].link_begin - entities_[e].link_begin;
  }
  // REQUIRES: i < LinkCount(e).
  LinkView Link(EntityNo e, uint32_t i) const;
  // Returns when link `i` of `e` holds: [0, kForever) unless a delta began or ended its role.
  // REQUIRES: i < LinkCount(e).
  Interval LinkValid(EntityNo e, uint32_t i) const;

  // Returns the cases [first, first + count) (an entity's are [FirstCase(e), + CaseCount(e))),
  // as views into `buffer` or into the snapshot, valid until `buffer` is used again or
  // destroyed. A snapshot file's cases are read from the file and verified against the
  // checksums computed when it was opened: returns DataLoss if the file has been truncated or
  // modified in place since (the message names the case data, not the path). A built snapshot
  // never fails.
  // REQUIRES: first + count <= info().cases.
  absl::StatusOr<std::span<const CaseView>> ReadCases(uint32_t first, uint32_t count,
                                                      CaseBuffer& buffer) const;
  // Returns the same cases as ReadCases() as their encoded records, without decoding them (an
  // overlay copies them as they are), in `buffer`, with the same errors. With
  // OnCacheMiss::kPrefetch a snapshot file's cases not in the page cache are not waited for:
  // returns Unavailable and they are being read, so that a later call finds them sooner.
  // REQUIRES: first + count <= info().cases.
  absl::StatusOr<CaseRecords> ReadCaseRecords(uint32_t first, uint32_t count, CaseBuffer& buffer,
                                              OnCacheMiss on_miss = OnCacheMiss::kWait) const;
  // Reads every group of `reads` as ReadCaseRecords() would (the same results and errors); a
  // snapshot file's reads are submitted together (one system call for the batch: a delta's
  // preparation reads the cases of thousands of subjects). REQUIRES: distinct buffers, and
  // first + count <= info().cases for each.
  void ReadCaseRecordsBatch(std::span<CaseRecordsRead> reads,
                            OnCacheMiss on_miss = OnCacheMiss::kWait) const;

  const SnapshotInfo& info() const { return info_; }
  // Returns the instant (Unix seconds) from which the snapshot holds the whole history: a
  // compaction dropped the case versions and roles that ended before it, so an answer as of an
  // earlier instant could miss them. 0: the history is whole (built from a data directory).
  int64_t history_from() const { return history_from_; }

  // Returns the bytes of the index and summary tables (entities, names, links, indexes),
  // and of the case tables, for the memory report. For a snapshot file the case tables are
  // the sizes of its case sections, which stay in the file.
  size_t IndexBytes() const;
  size_t CaseBytes() const;
  // Whether the snapshot was opened from a snapshot file rather than built in memory.
  bool from_file() const { return file_ != nullptr; }

 private:
  friend class SnapshotBuilder;
  friend class SnapshotFile;

  struct Entity {
    PackedId id;
    uint32_t name_begin;    // into names_
    uint32_t case_begin;    // the number of its first case
    uint32_t link_begin;    // into links_
    uint32_t listed_from;   // its last listing block, as StoredTime()s (from == until: none)
    uint32_t listed_until;  // kStoredForever: no known end
  };
  static_assert(sizeof(Entity) == 32);
  using EntityTable = std::vector<Entity, HugePageAllocator<Entity>>;

  // An earlier listing block of `entity` (one that ends before its last block starts).
  struct Block {
    EntityNo entity;
    uint32_t from;
    uint32_t until;
    friend bool operator<(const Block& a, const Block& b) {
      return a.entity != b.entity ? a.entity < b.entity : a.from < b.from;
    }
  };
  static_assert(sizeof(Block) == 12);

  // When link number `link` (into links_) holds, for a link that does not hold always: from
  // `from` until `until` (StoredTime()s; kStoredForever: no end).
  struct LinkInterval {
    uint32_t link;
    uint32_t from;
    uint32_t until;
  };
  static_assert(sizeof(LinkInterval) == 12);

  // Instants as the tables keep them: seconds from 1970 to 2106; kForever is kStoredForever.
  // An end (or an instant asked about) beyond 2106 is kept as the last second before it.
  static constexpr uint32_t kStoredForever = 0xFFFFFFFFu;
  static uint32_t StoredTime(int64_t t) {
    return t <= 0 ? 0 : t >= kStoredForever ? kStoredForever - 1 : static_cast<uint32_t>(t);
  }
  static uint32_t StoredEnd(int64_t t) { return t == kForever ? kStoredForever : StoredTime(t); }
  static int64_t Instant(uint32_t stored) {
    return stored == kStoredForever ? kForever : static_cast<int64_t>(stored);
  }
  // Whether anything can be listed at `t`: not before 1970, which the tables do not keep, nor
  // at kForever, which never comes; as CaseInterval(), whose intervals start at 0 or later.
  static bool Listable(int64_t t) { return t >= 0 && t != kForever; }

  Snapshot();

  // Returns Find() of the ID that packs to `id` (hashing to `hash`).
  EntityNo FindPacked(const PackedId& id, uint64_t hash) const;
  // FindBatch() of ids[0, n) into out and keys. REQUIRES: n <= kFindGroup.
  void FindGroup(const Id* ids, size_t n, EntityNo* out, HashedId* keys) const;
  // Returns the embedded organisation code of credit-code entity `e`.
  PackedId OrgCodeKey(EntityNo e) const;
  // Whether some entity is keyed by an organisation code (only then can a credit code missing
  // from the index be an organisation listed by its old code).
  bool HasOrgCodeEntities() const {
    return entities_.size() > 1 &&
           PackedKind(entities_[entities_.size() - 2].id) == IdKind::kOrgCode;
  }
  // Returns the entity keyed by organisation code `embedded` (EmbeddedOrgCodeKey() of a credit
  // code), or kNoEntity.
  EntityNo FindEmbedded(const HashedId& embedded) const;

  // Builds the two indexes over the entity table (a builder's, or a file's whose index layout
  // is an older one). REQUIRES: the entities are final, with canonical IDs.
  void BuildIndexes();

  // Points the table views at the owned storage. Called by the builder once the storage is
  // final (a std::string's buffer may move with it).
  void ViewOwnedStorage();

  // The tables, as read by every accessor.
  std::span<const Entity> entities_;  // sorted by id, plus a sentinel
  std::string_view names_;
  std::span<const uint32_t> links_;
  std::span<const Block> blocks_;                 // sorted
  std::span<const LinkInterval> link_intervals_;  // sorted by link, at most one per link
  // A built snapshot's case tables (empty for a snapshot file: its cases stay in the file).
  std::span<const uint64_t> case_offsets_;  // into case_blob_, one per case
  std::string_view case_blob_;
  IdIndex index_;           // by the entity's ID
  IdIndex org_code_index_;  // credit-code entities, by their embedded organisation code
  SnapshotInfo info_;
  int64_t history_from_ = 0;

  // Owned storage of a built snapshot (empty for a snapshot file).
  EntityTable entity_storage_;
  std::string name_storage_;
  std::vector<uint32_t> link_storage_;
  std::vector<Block> block_storage_;
  std::vector<LinkInterval> link_interval_storage_;
  std::vector<uint64_t> case_offset_storage_;
  std::string case_blob_storage_;

  // What a snapshot opened from a file holds besides the table views (core/snapshot_file.cc):
  // the huge-page copy of its hot tables, and the open file with its case tables.
  class FileStorage {
   public:
    virtual ~FileStorage() = default;
    // As Snapshot::ReadCases() for a snapshot file.
    virtual absl::StatusOr<std::span<const CaseView>> ReadCases(uint32_t first, uint32_t count,
                                                                CaseBuffer& buffer) const = 0;
    // As Snapshot::ReadCaseRecords() for a snapshot file.
    virtual absl::StatusOr<CaseRecords> ReadCaseRecords(uint32_t first, uint32_t count,
                                                        CaseBuffer& buffer,
                                                        OnCacheMiss on_miss) const = 0;
    // As Snapshot::ReadCaseRecordsBatch() for a snapshot file.
    virtual void ReadCaseRecordsBatch(std::span<CaseRecordsRead> reads,
                                      OnCacheMiss on_miss) const = 0;
    // Returns the bytes of the case tables in the file.
    virtual size_t CaseBytes() const = 0;
  };
  std::unique_ptr<const FileStorage> file_;  // null for a built snapshot
};

}  // namespace shixin

#endif  // SHIXIN_CORE_SNAPSHOT_H_
