#include "core/entity_draft.h"

#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"

namespace shixin {

void LoadBases(const Snapshot& base, std::span<BaseLoad> loads, std::span<CaseBuffer> buffers,
               OnCacheMiss on_miss) {
  absl::InlinedVector<CaseRecordsRead, kLoadBatch> reads;
  for (size_t i = 0; i < loads.size(); ++i) {
    const BaseLoad& load = loads[i];
    if (load.e == kNoEntity) continue;
    reads.push_back(CaseRecordsRead{base.FirstCase(load.e), base.CaseCount(load.e), &buffers[i],
                                    CaseRecords{}});
  }
  base.ReadCaseRecordsBatch(std::span<CaseRecordsRead>(reads.data(), reads.size()), on_miss);
  size_t r = 0;
  for (BaseLoad& load : loads) {
    EntityDraft* state = load.state;
    const EntityNo e = load.e;
    state->key = e != kNoEntity ? base.EntityKey(e) : load.id->Pack();
    state->base = e;
    load.status = absl::OkStatus();
    if (e == kNoEntity) continue;
    const absl::StatusOr<CaseRecords>& records = reads[r++].result;
    if (!records.ok()) {
      load.status = records.status();
      continue;
    }
    state->name = std::string(base.EntityName(e));
    // The snapshot's records are EncodeCase()'s: copied as they are, decoded only for intervals.
    state->records.assign(records->bytes);
    state->offsets.assign(records->offsets.begin(), records->offsets.end());
    state->intervals.reserve(records->offsets.size());
    for (size_t i = 0; i < state->offsets.size(); ++i) {
      state->intervals.push_back(CaseInterval(state->Head(i)));
    }
    const uint32_t links = base.LinkCount(e);
    state->links.reserve(links);
    for (uint32_t i = 0; i < links; ++i) {
      const LinkView link = base.Link(e, i);
      state->links.push_back(
          OverlayLink{base.EntityKey(link.other), link.role, base.LinkValid(e, i)});
    }
  }
}

absl::Status LoadBase(const Snapshot& base, EntityNo e, const Id& id, CaseBuffer& buffer,
                      EntityDraft* state) {
  BaseLoad load{e, &id, state, absl::OkStatus()};
  LoadBases(base, {&load, 1}, {&buffer, 1});
  return load.status;
}

}  // namespace shixin
