// EntityDraft: one subject's state while deltas are applied to it, editable, then frozen into
// an OverlayEntity (core/overlay.h); and the reading of a subject's state from the base, one
// subject or a batch. Shared by the overlay's builder (core/overlay.cc) and the preparation of
// a delta's states (core/prepared_delta.cc); not for other users.
//
// Thread safety: a draft belongs to one thread at a time; LoadBases() reads the immutable base
// and may run on many threads at once, each with its own buffers.
#ifndef SHIXIN_CORE_ENTITY_DRAFT_H_
#define SHIXIN_CORE_ENTITY_DRAFT_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/case_codec.h"
#include "core/id.h"
#include "core/overlay.h"
#include "core/snapshot.h"
#include "core/validity.h"

namespace shixin {

// One subject's state while deltas are applied to it: editable, then frozen into an entity.
struct EntityDraft {
  PackedId key;
  EntityNo base = kNoEntity;  // its base entity, if any
  std::string name;
  std::vector<OverlayLink> links;
  std::string records;              // the EncodeCase()d versions, back to back
  std::vector<uint32_t> offsets;    // where each begins in records
  std::vector<Interval> intervals;  // each one's CaseInterval()

  size_t case_count() const { return offsets.size(); }
  // Version i's fixed-width fields and case code (all that finding and ending it needs).
  CaseView Head(size_t i) const {
    return DecodeCaseHead(records.data() + offsets[i], RecordEnd(i));
  }
  const char* RecordEnd(size_t i) const {
    return records.data() + (i + 1 < offsets.size() ? offsets[i + 1] : records.size());
  }
  void AddCase(const CaseView& c) {
    offsets.push_back(static_cast<uint32_t>(records.size()));
    EncodeCase(c, &records);
    intervals.push_back(CaseInterval(c));
  }
  // Replaces version `i`'s end. REQUIRES: i < case_count().
  void EndCase(size_t i, int64_t at, EndReason end);

  // Asks the CPU for the memory Freeze() reads (the start of the records: most are short).
  void Prefetch() const {
    for (size_t at = 0; at < std::min<size_t>(records.size(), 512); at += 64) {
      __builtin_prefetch(records.data() + at);
    }
    __builtin_prefetch(offsets.data());
    __builtin_prefetch(intervals.data());
  }

  // Returns the draft of `e`'s state.
  static EntityDraft Thaw(const OverlayEntity& e);
  // Returns the entity of this state, its blocks computed, owned by `segment`.
  const OverlayEntity* Freeze(OverlaySegment* segment) const;
};

// A subject whose base state LoadBases() builds: its base entity (kNoEntity: none, then an empty
// state), its ID, the state to fill (empty) and, after, the outcome.
struct BaseLoad {
  EntityNo e = kNoEntity;
  const Id* id = nullptr;
  EntityDraft* state = nullptr;
  absl::Status status;  // Snapshot::ReadCaseRecords()'s error: Unavailable, with `on_miss`
                        // kPrefetch, if the cases are not in memory yet
};

// The states one batch of LoadBases() builds at most: their cases are read with one system call.
inline constexpr size_t kLoadBatch = 16;

// Sets each load's state to the base's state of its subject, the cases of all read together.
// REQUIRES: loads.size() <= buffers.size().
void LoadBases(const Snapshot& base, std::span<BaseLoad> loads, std::span<CaseBuffer> buffers,
               OnCacheMiss on_miss = OnCacheMiss::kWait);

// LoadBases() for one subject: returns its status.
absl::Status LoadBase(const Snapshot& base, EntityNo e, const Id& id, CaseBuffer& buffer,
                      EntityDraft* state);

}  // namespace shixin

#endif  // SHIXIN_CORE_ENTITY_DRAFT_H_
