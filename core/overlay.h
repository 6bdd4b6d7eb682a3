// The changes applied on top of an immutable base snapshot (docs/feed.md, section 3): for every
// subject a delta touched since the base, its whole state as it is now (an OverlayEntity), which
// supersedes the base's entity. Queries read a generation through ListView (core/list.h).
//
// OverlayBuilder makes the overlay of the next generation from the previous one without
// touching the base: it copies the previous overlay's table of entities once (pointers; the
// entities are shared, immutable), materialises each subject a change touches from the table
// or the base as a draft, applies the delta's lines in order and freezes the drafts into
// compact entities when the delta is accepted. One delta online (ApplyDelta()) costs the
// overlay's size plus the delta's; a restart's fold of many (ApplyDeltas()) the overlay's size
// once plus their changes. Nightly compaction (`shixin compile --deltas`) keeps the overlay to
// about a day. A lookup of an ID the base does not know (most IDs asked) reads a filter of the
// overlay's keys (base/hash_filter.h) before its table: only a subject the deltas added, or
// one in ~200, reads the table.
//
// Thread safety: an Overlay is immutable once made and is shared between threads without locks
// (entities are reference-counted atomically).
#ifndef SHIXIN_CORE_OVERLAY_H_
#define SHIXIN_CORE_OVERLAY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "base/allocator.h"
#include "base/hash_filter.h"
#include "core/delta.h"
#include "core/id.h"
#include "core/record.h"
#include "core/snapshot.h"
#include "core/validity.h"

namespace shixin {

// A role between a person and an organisation, as the overlay keeps it: the other party by ID
// and when the role holds.
struct OverlayLink {
  PackedId other;
  Role role = Role::kLegalRepresentative;
  Interval valid;  // [0, kForever) for a role from the base list
};

// One subject's state in a generation: everything the base held for it and every change since.
// One allocation holds it all (docs/feed.md, section 3): a 40-byte header (its segment, key,
// sizes), then the listing blocks, the links, the case versions' offsets, the name and the case
// versions encoded back to back (core/case_codec.h). Immutable once a reader can see it (until
// then its place in its segment's list may change); owned by the OverlaySegment of the
// application that made it, which every later generation shares.
class alignas(8) OverlayEntity {
 public:
  OverlayEntity(const OverlayEntity&) = delete;
  OverlayEntity& operator=(const OverlayEntity&) = delete;

  // Returns the subject's canonical ID (its base entity's, or its own), and its packed form.
  Id id() const { return Id::Unpack(key_); }
  const PackedId& key() const { return key_; }
  std::string_view name() const;
  // Returns its roles: a person's organisations, an organisation's persons.
  std::span<const OverlayLink> links() const;
  // Returns the number of case versions (the base's, then the deltas', in arrival order), and
  // version `i` as views into this entity. REQUIRES: i < case_count().
  size_t case_count() const { return case_count_; }
  CaseView Case(size_t i) const;
  // Returns the listing blocks (the merged case intervals), by start.
  std::span<const Interval> blocks() const;
  // Returns the bytes of the encoded case versions (the entity's text).
  size_t record_bytes() const { return records_size_; }
  // Returns the bytes this entity's allocation takes from malloc, its overhead included.
  size_t Bytes() const;

 private:
  friend class OverlaySegment;
  friend class OverlayCheckpoint;
  friend struct EntityDraft;
  OverlayEntity() = default;
  const char* data() const { return reinterpret_cast<const char*>(this + 1); }
  // The bytes of the header and the data, as its counts and sizes say.
  size_t Size() const;

  uint32_t segment_ = 0;  // its segment's id, and its place in that segment's list
  uint32_t place_ = 0;
  PackedId key_;
  uint32_t block_count_ = 0;
  uint32_t link_count_ = 0;
  uint32_t case_count_ = 0;
  uint32_t name_size_ = 0;
  uint32_t records_size_ = 0;
};

// The entities one application (one delta online, or a restart's batch) made. A generation
// holds every segment since its base, so its table can hold plain pointers: copying the table
// for the next generation then touches no entity (no reference count, no key read through a
// pointer). Entities a later delta supersedes stay until their segment goes, with the overlay
// at the next base (compaction, reload), except within one batch, whose intermediate states no
// reader ever sees: there a superseded entity of the batch's own segment is freed at once.
// An entity knows its segment and its place in the segment's list, so that telling whether a
// batch made an entity, and freeing it, touch no hash table.
class OverlaySegment {
 public:
  OverlaySegment();
  OverlaySegment(const OverlaySegment&) = delete;
  OverlaySegment& operator=(const OverlaySegment&) = delete;
  ~OverlaySegment();

  // Takes `e`, just made by EntityDraft::Freeze(), into this segment.
  void Adopt(OverlayEntity* e);
  // Whether this segment holds `e`.
  bool Holds(const OverlayEntity* e) const {
    return e->segment_ == id_ && e->place_ < entities_.size() && entities_[e->place_] == e;
  }
  // Destroys and frees `e`. REQUIRES: Holds(e), and no reader can reach `e`.
  void Free(const OverlayEntity* e);
  // Returns the bytes the segment's list takes (its entities' not included).
  size_t ListBytes() const;

 private:
  uint32_t id_;                           // unique among the segments alive
  std::vector<OverlayEntity*> entities_;  // entities_[e->place_] == e
};

// What an application noted without refusing the delta: a repeated or late message, or a
// change the court's rules would not allow (docs/feed.md, section 3).
struct DeltaReport {
  uint64_t changes = 0;            // lines applied
  std::vector<std::string> notes;  // "00000000000000000042.ndjson:7: remove: case not listed"
  // The changes that changed nothing (a remove of a case that no longer counts, an unrelate of
  // a role that does not hold, a relate of one that does), as (sequence, line): noted above.
  std::vector<std::pair<uint64_t, uint64_t>> unchanged;
  // ApplyDeltaDir(): the latest modification time of the files it applied (Unix seconds; 0:
  // none), which makes the list as fresh as they are (docs/feed.md, freshness).
  int64_t newest_file_time = 0;
};

// What an overlay holds, for INFO and the benchmarks (Overlay::Stats()).
struct OverlayStats {
  size_t entities = 0;
  size_t case_versions = 0;  // of all entities: the base's copied along and the deltas'
  size_t links = 0;
  size_t record_bytes = 0;  // the encoded case versions: the text
  size_t fixed_bytes = 0;   // the bit per base entity, whatever the overlay holds
  size_t bytes = 0;         // Overlay::Bytes(), fixed_bytes included
};

class Overlay {
 public:
  Overlay(const Overlay&) = delete;
  Overlay& operator=(const Overlay&) = delete;

  // Returns the state of the subject whose canonical ID packs to `id`, or null if unchanged.
  const OverlayEntity* Find(const PackedId& id) const { return Find(id, HashPackedId(id)); }
  // The same with the key's hash already known (a batched base lookup computed it): a key the
  // overlay never held costs one word of its filter, not the table's cache misses (most IDs
  // the base does not know are unknown to the list). REQUIRES: hash == HashPackedId(id).
  const OverlayEntity* Find(const PackedId& id, uint64_t hash) const {
    if (!filter_.MayContain(hash)) return nullptr;
    auto it = entities_.find(id, hash);
    return it == entities_.end() ? nullptr : it->second;
  }
  // Returns the state of the subject that the ID packed as `id` names among those the base
  // does not know: Find(id), or else the organisation under its other code (as
  // Snapshot::Find()): for a credit code, the subject keyed by the organisation code it embeds;
  // for an organisation code, a subject keyed by a credit code embedding it. Null if none.
  const OverlayEntity* FindNamed(const PackedId& id, uint64_t hash) const;
  const OverlayEntity* FindNamed(const PackedId& id) const {
    return FindNamed(id, HashPackedId(id));
  }
  // Whether base entity `e` has a state here (then Find(its ID) returns it).
  bool Changed(EntityNo e) const {
    return e < changed_base_.size() * 64 && (changed_base_[e / 64] >> (e % 64) & 1) != 0;
  }
  // Returns Find(key) for the subject whose canonical ID packs to `key` and whose base entity
  // is `e` (kNoEntity: none): an unchanged base subject is told by its bit, without the
  // table's cache miss.
  const OverlayEntity* Find(EntityNo e, const PackedId& key) const {
    return e != kNoEntity && !Changed(e) ? nullptr : Find(key);
  }
  // Prefetches the table's lines Find(id) reads (its control bytes and slots).
  void Prefetch(const PackedId& id) const { entities_.prefetch(id); }
  // Calls f(const OverlayEntity&) for every subject with a state here, in no order.
  template <typename F>
  void ForEach(F&& f) const {
    for (const auto& [key, e] : entities_) f(*e);
  }
  // The last delta applied, and how many subjects have a state here.
  uint64_t sequence() const { return sequence_; }
  size_t size() const { return entities_.size(); }
  // Returns the bytes the overlay holds: the table's slots and control bytes (and those of the
  // organisation codes' table), the bit per base entity, and every entity's allocation with
  // malloc's overhead, those superseded by a later delta included (they stay with their
  // segment; entities shared with another generation counted in full). O(1): kept as the
  // entities are added, so that INFO may ask at any time.
  size_t Bytes() const;
  // Returns the counts above and Bytes(); O(size()).
  OverlayStats Stats() const;

 private:
  friend class OverlayBuilder;
  friend class OverlayCheckpoint;
  Overlay() = default;
  // Makes room in the filter for `keys` keys, inserting every key of the table again when it
  // grows. REQUIRES: keys >= entities_.size().
  void ReserveFilter(size_t keys);
  // Notes the organisation code that `key`, a subject's key here, embeds if it is a credit
  // code. Of several credit codes embedding one code the least is kept, whatever the order
  // they come in (a checkpoint's or the deltas').
  void AddOrgCodeOf(const PackedId& key);

  // The key inline: copying the table reads no entity.
  absl::flat_hash_map<PackedId, const OverlayEntity*, PackedIdHash, std::equal_to<PackedId>,
                      BulkAllocator<std::pair<const PackedId, const OverlayEntity*>>>
      entities_;
  HashFilter filter_;  // every key of entities_ (the table's hashes): an unknown ID's question
  // The organisation code each credit-code key of entities_ embeds, to that key (FindNamed()).
  absl::flat_hash_map<PackedId, PackedId, PackedIdHash> org_codes_;
  std::vector<std::shared_ptr<const OverlaySegment>> segments_;  // every entity's owner
  std::vector<uint64_t> changed_base_;                           // a bit per base entity
  uint64_t sequence_ = 0;
  size_t entity_bytes_ = 0;  // the sum of the segments' entities' Bytes()
};

class PreparedDelta;  // core/prepared_delta.h

// Applies deltas one after another on top of an overlay, building one table for all of them:
// a batch (a restart's fold of the pending files) costs the previous overlay's size once plus
// the deltas' changes. Each delta is all or nothing. Not thread-safe; one per batch.
class OverlayBuilder {
 public:
  // Starts from `previous` (null: the base alone, sequence 0) over `base`, which must outlive
  // the builder and the overlays it makes.
  OverlayBuilder(const Snapshot& base, const Overlay* previous);
  ~OverlayBuilder();
  OverlayBuilder(const OverlayBuilder&) = delete;
  OverlayBuilder& operator=(const OverlayBuilder&) = delete;

  // Applies `delta` on top of the deltas applied so far. Returns FailedPrecondition if
  // delta.sequence is not the next one; InvalidArgument naming the file, the line and the
  // reason if a line contradicts the list (an add of a case that counts at its start, a correct
  // of a case that is unknown, removed or revoked): nothing of the delta is applied then, and
  // nothing is added to `report`. Lines that change nothing (a removal of a case that does not
  // count, a role added twice or ended twice) are noted in `report`, and so are lines that apply
  // against the SPC rules (Art. 10: a term_ended removal of a term still running or of no term,
  // a re-listing within 6 months of a deletion at the creditor's request); the adds and corrects
  // for grounds (2)-(6) only without termEnd (Art. 2) in one note first (core/grounds.h).
  // `prepared`, if not null, is PrepareDelta()'s for `delta` over the same base: the states it
  // holds are used instead of reading the base again (it is spent).
  absl::Status Apply(const Delta& delta, DeltaReport* report, PreparedDelta* prepared = nullptr);
  // Makes Apply() refuse, FailedPrecondition with nothing applied, a delta that would unlist the
  // last subject listed at `at`: none listed then after it, some before (an empty list answers
  // "not listed" for everyone). 0, the default: any delta may empty the list.
  void KeepListedAt(int64_t at) { keep_listed_at_ = at; }
  // Returns the sequence of the last delta applied (that of `previous` before any).
  uint64_t sequence() const { return table_->sequence_; }
  // Returns the overlay with every delta applied; the builder is spent (call nothing after).
  std::unique_ptr<const Overlay> Finish() { return std::move(table_); }

 private:
  const Snapshot& base_;
  std::unique_ptr<Overlay> table_;           // the deltas applied so far
  std::shared_ptr<OverlaySegment> segment_;  // owns the entities this builder makes
  int64_t keep_listed_at_ = 0;               // KeepListedAt()'s instant, 0: none
};

// Returns the overlay of the generation after `previous` (null: the base alone, which contains
// the deltas up to base.info().delta_sequence) with `delta` applied on top of `base`, or
// OverlayBuilder::Apply()'s error (nothing of the delta applied); `keep_listed_at` not 0 refuses
// a delta that would empty the list then (OverlayBuilder::KeepListedAt()).
absl::StatusOr<std::unique_ptr<const Overlay>> ApplyDelta(const Snapshot& base,
                                                          const Overlay* previous,
                                                          const Delta& delta, DeltaReport* report,
                                                          int64_t keep_listed_at = 0);

// The outcome of ApplyDeltas(): the overlay after the longest prefix of deltas applied, and
// why the next one was refused.
struct DeltaBatchResult {
  std::unique_ptr<const Overlay> overlay;  // null if `deltas` was empty or its first refused
  size_t applied = 0;                      // deltas applied: overlay has the first `applied`
  absl::Status refusal;                    // OK, or the error of deltas[applied]
};

// Applies `deltas` in order after `previous` as ApplyDelta() would one by one (the same
// overlay, notes and refusal), but builds the table once: O(previous) + O(changes).
DeltaBatchResult ApplyDeltas(const Snapshot& base, const Overlay* previous,
                             std::span<const Delta> deltas, DeltaReport* report);

}  // namespace shixin

#endif  // SHIXIN_CORE_OVERLAY_H_
