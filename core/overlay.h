// The changes applied on top of an immutable base snapshot (docs/feed.md, section 3): for every
// subject a delta touched since the base, its whole state as it is now (an OverlayEntity), which
// supersedes the base's entity. Queries read a generation through ListView (core/list.h).
//
// ApplyDelta() makes the overlay of the next generation from the previous one without touching
// the base: it copies the previous overlay's table of entities (pointers; the entities are
// shared, immutable), materialises each subject a change touches from the overlay or the base,
// and applies the delta's lines in order. The cost is linear in the overlay's size plus the
// delta's; nightly compaction (`shixin compile --deltas`) keeps the overlay to about a day.
//
// Thread safety: an Overlay is immutable once ApplyDelta() returns it and is shared between
// threads without locks.
#ifndef SHIXIN_CORE_OVERLAY_H_
#define SHIXIN_CORE_OVERLAY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
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
// Its case versions are kept encoded (core/case_codec.h) back to back, to keep a changed case
// small; Case() decodes one. Immutable once its generation is published.
class OverlayEntity {
 public:
  Id id;
  std::string name;
  std::vector<OverlayLink> links;  // a person's organisations, an organisation's persons

  // Returns the number of case versions (the base's, then the deltas', in arrival order), and
  // version `i` as views into this entity. REQUIRES: i < case_count().
  size_t case_count() const { return offsets_.size(); }
  CaseView Case(size_t i) const;
  // Returns the listing blocks (the merged case intervals), by start.
  std::span<const Interval> blocks() const { return blocks_; }
  // Returns the bytes this entity holds.
  size_t Bytes() const;

  // Appends a case version, or replaces version `i`'s end. Call Finish() after the changes.
  void AddCase(const CaseView& c);
  void EndCase(size_t i, int64_t at, EndReason end);  // REQUIRES: i < case_count()
  // Recomputes the blocks.
  void Finish();

 private:
  std::string records_;            // the EncodeCase()d versions, back to back
  std::vector<uint32_t> offsets_;  // where each begins in records_
  std::vector<Interval> blocks_;
};

// What an application noted without refusing the delta: a repeated or late message.
struct DeltaReport {
  uint64_t changes = 0;            // lines applied
  std::vector<std::string> notes;  // "00000000000000000042.ndjson:7: remove: case not listed"
};

class Overlay {
 public:
  Overlay(const Overlay&) = delete;
  Overlay& operator=(const Overlay&) = delete;

  // Returns the state of the subject whose canonical ID packs to `id`, or null if unchanged.
  const OverlayEntity* Find(const PackedId& id) const {
    auto it = entities_.find(id);
    return it == entities_.end() ? nullptr : it->second.get();
  }
  // Whether base entity `e` has a state here (then Find(its ID) returns it).
  bool Changed(EntityNo e) const {
    return e < changed_base_.size() * 64 && (changed_base_[e / 64] >> (e % 64) & 1) != 0;
  }
  // Calls f(const PackedId& id) with the canonical ID (as Find() takes it) of every subject
  // with a state here, in no order.
  template <typename F>
  void ForEach(F&& f) const {
    for (const auto& [id, state] : entities_) f(id);
  }
  // The last delta applied, and how many subjects have a state here.
  uint64_t sequence() const { return sequence_; }
  size_t size() const { return entities_.size(); }
  // Returns the bytes the overlay holds (its table, entities and their texts), for INFO.
  size_t Bytes() const;

 private:
  friend absl::StatusOr<std::unique_ptr<const Overlay>> ApplyDelta(const Snapshot&, const Overlay*,
                                                                   const Delta&, DeltaReport*);
  Overlay() = default;

  absl::flat_hash_map<PackedId, std::shared_ptr<const OverlayEntity>, PackedIdHash> entities_;
  std::vector<uint64_t> changed_base_;  // a bit per base entity
  uint64_t sequence_ = 0;
};

// Returns the overlay of the generation after `previous` (null: the base alone, which contains
// the deltas up to base.info().delta_sequence) with `delta` applied on top of `base`.
// Returns FailedPrecondition if delta.sequence is not the next one; InvalidArgument naming the
// file, the line and the reason if a line contradicts the list (an add of a case that counts at
// its start, a correct of a case that is unknown, removed or revoked): nothing of the delta is
// applied then. Lines that change nothing (a removal of a case that does not count, a role
// added twice or ended twice) are noted in `report`.
absl::StatusOr<std::unique_ptr<const Overlay>> ApplyDelta(const Snapshot& base,
                                                          const Overlay* previous,
                                                          const Delta& delta, DeltaReport* report);

}  // namespace shixin

#endif  // SHIXIN_CORE_OVERLAY_H_
