// The immutable in-memory list: every listed subject and every person related to a listed
// organisation (an "entity"), their cases, and the related-person index in both directions.
//
// Layout (compact; no per-record heap objects):
//   entities_  24 bytes each, sorted by PackedId; entity i's name, cases and links are the
//              ranges [i, i+1) of the name arena, the case table and the link table (a sentinel
//              entity closes the last range);
//   index_     an IdIndex (core/id_index.h) keyed by the XXH3 hash of the packed ID: 8-byte
//              slots of fingerprint and entity number; a hit is always verified against the
//              entity's full ID;
//   org_code_index_  the same over credit-code entities, keyed by their embedded organisation
//              code, so a query by the old 9-character code finds an organisation listed by its
//              credit code;
//   links_     4 bytes each: (entity << 3 | role); a person's links name the organisations where
//              it holds roles, an organisation's links name its related persons;
//   cases_     byte offsets into one case blob of length-prefixed fields.
//
// The tables are read through spans over storage that is either owned (a snapshot built by
// SnapshotBuilder, in huge-page memory) or a snapshot file (core/snapshot_file.h, which checks
// the tables so that no accessor can read out of bounds): its hot tables copied into huge-page
// memory, its case tables read through a read-only mapping.
//
// Thread safety: a Snapshot has only const methods and is shared between threads without locks.
#ifndef SHIXIN_CORE_SNAPSHOT_H_
#define SHIXIN_CORE_SNAPSHOT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/huge_pages.h"
#include "core/id.h"
#include "core/id_index.h"
#include "core/record.h"
#include "core/types.h"

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
  uint64_t subjects = 0;       // listed subjects
  uint64_t persons = 0;        // listed persons
  uint64_t organizations = 0;  // listed organisations
  uint64_t cases = 0;
  uint64_t relations = 0;        // distinct (organisation, person, role) triples
  uint64_t related_persons = 0;  // persons holding a role in a listed organisation
  uint64_t entities = 0;         // subjects + related-only persons + unlisted organisations
};

class SnapshotBuilder;
class SnapshotFile;

class Snapshot {
 public:
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  ~Snapshot();

  // Returns the entity with this ID (for an organisation code, also the organisation listed by
  // the credit code embedding it), or kNoEntity.
  EntityNo Find(const Id& id) const;
  // Looks up `ids` in a batch with software prefetching; out[i] = Find(ids[i]).
  // REQUIRES: out.size() == ids.size().
  void FindBatch(std::span<const Id> ids, std::span<EntityNo> out) const;

  // Entity accessors. REQUIRES: e < entity_count().
  size_t entity_count() const { return entities_.size() - 1; }
  Id EntityId(EntityNo e) const { return Id::Unpack(entities_[e].id); }
  SubjectKind EntityKind(EntityNo e) const;
  std::string_view EntityName(EntityNo e) const;
  // A listed subject has at least one case.
  bool IsListed(EntityNo e) const { return CaseCount(e) > 0; }
  // A person holding a role in a listed organisation.
  bool IsRelated(EntityNo e) const;
  uint32_t CaseCount(EntityNo e) const {
    return entities_[e + 1].case_begin - entities_[e].case_begin;
  }
  uint32_t FirstCase(EntityNo e) const { return entities_[e].case_begin; }
  uint32_t LinkCount(EntityNo e) const {
    return entities_[e + 1].link_begin - entities_[e].link_begin;
  }
  // REQUIRES: i < LinkCount(e).
  LinkView Link(EntityNo e, uint32_t i) const;

  // REQUIRES: c < info().cases.
  CaseView Case(uint32_t c) const;

  const SnapshotInfo& info() const { return info_; }

  // Returns the bytes of the index and summary tables (entities, names, links, indexes),
  // and of the case tables, for the memory report. For a mapped file these are the sizes of
  // its sections, resident or not.
  size_t IndexBytes() const;
  size_t CaseBytes() const;
  // Whether the tables are a mapped snapshot file rather than built in memory.
  bool mapped() const { return mapping_ != nullptr; }

 private:
  friend class SnapshotBuilder;
  friend class SnapshotFile;

  struct Entity {
    PackedId id;
    uint32_t name_begin;  // into names_
    uint32_t case_begin;  // into case_offsets_
    uint32_t link_begin;  // into links_
  };
  static_assert(sizeof(Entity) == 24);
  using EntityTable = std::vector<Entity, HugePageAllocator<Entity>>;

  Snapshot();

  // Returns the entity whose ID packs to `id` (hashing to `hash`), or kNoEntity; an
  // organisation code also finds a credit-code entity embedding it.
  EntityNo FindPacked(const PackedId& id, uint64_t hash) const;
  // Returns the embedded organisation code of credit-code entity `e`.
  PackedId OrgCodeKey(EntityNo e) const;

  // Points the table views at the owned storage. Called by the builder once the storage is
  // final (a std::string's buffer may move with it).
  void ViewOwnedStorage();

  // The tables, as read by every accessor.
  std::span<const Entity> entities_;  // sorted by id, plus a sentinel
  std::string_view names_;
  std::span<const uint32_t> links_;
  std::span<const uint64_t> case_offsets_;  // into case_blob_, one per case
  std::string_view case_blob_;
  IdIndex index_;           // by the entity's ID
  IdIndex org_code_index_;  // credit-code entities, by their embedded organisation code
  SnapshotInfo info_;

  // Owned storage of a built snapshot (empty for a mapped one).
  EntityTable entity_storage_;
  std::string name_storage_;
  std::vector<uint32_t> link_storage_;
  std::vector<uint64_t> case_offset_storage_;
  std::string case_blob_storage_;
  // A snapshot file: its first `hot_size` bytes (header and hot tables) copied into huge-page
  // memory, the rest read through a read-only mapping of the whole file. Both are released on
  // destruction.
  struct Mapping {
    Mapping(void* address, size_t size, void* hot, size_t hot_size)
        : address(address), size(size), hot(hot), hot_size(hot_size) {}
    ~Mapping();
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    void* address;
    size_t size;
    void* hot;
    size_t hot_size;
  };
  std::unique_ptr<Mapping> mapping_;  // null for a built snapshot
};

}  // namespace shixin

#endif  // SHIXIN_CORE_SNAPSHOT_H_
