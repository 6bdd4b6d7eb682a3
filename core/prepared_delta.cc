#include "core/prepared_delta.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "base/background.h"
#include "base/status_macros.h"
#include "base/thread.h"
#include "core/entity_draft.h"
#include "core/overlay.h"

namespace shixin {

// A helper is started for every this many states (~0.4 ms): fewer are not worth a thread.
constexpr size_t kMinShare = 64;
// Alongside the application: when it catches up with the helpers, they move on this many
// states past it and it builds those between itself (~0.6 ms), so that both work instead of
// one waiting for the other.
constexpr size_t kLead = 64;

// The states by the ID a change names (an alias or the canonical ID), and the work of
// building them: slot k of `todo` is built by whoever moves progress[k] from kPending, or by
// the application if it takes the slot first.
struct PreparedDelta::States {
  enum Progress : uint8_t {
    kPending,   // nobody has begun it
    kBuilding,  // a helper is building it
    kDone,      // built (its draft null if its cases could not be read): the application's
    kTaken,     // the application reads the base itself; a helper building it keeps its copy
  };

  absl::flat_hash_map<PackedId, Named, PackedIdHash> by_id;  // fixed once named
  std::vector<Id> ids;                                       // the IDs the changes name
  std::vector<std::pair<size_t, Named*>> todo;               // (index in ids, the subject)
  std::unique_ptr<std::atomic<uint8_t>[]> progress;          // one per todo slot
  std::atomic<size_t> claimed{0};                            // the next slot to claim
  std::atomic<bool> stop{false};
  std::vector<std::thread> helpers;
  std::vector<CaseBuffer> own_buffers;  // the application's, for Take()

  ~States() { Join(); }

  Named* Lookup(const Id& id) {
    auto it = by_id.find(id.Pack());
    return it == by_id.end() ? nullptr : &it->second;
  }

  // Moves slot k from `from` to `to`; false if it was not at `from`.
  bool Move(size_t k, Progress from, Progress to) {
    uint8_t expected = from;
    return progress[k].compare_exchange_strong(expected, to, std::memory_order_acq_rel);
  }

  // Claims and builds states until none is left (or stop): on a helper at nice 10, or on the
  // caller of PrepareDelta(). Claims kLoadBatch slots at a time, whose cases it reads together.
  void Build(const Snapshot& base, bool helper) {
    if (helper) RunInBackground();  // it takes a core when it is idle, not from the I/O threads
    std::vector<CaseBuffer> buffers(kLoadBatch);
    // States whose cases are not in the page cache are built last: by then the disk has read
    // them, all at once, while the others were built. Until then anyone may claim them again.
    std::vector<size_t> deferred;
    absl::InlinedVector<size_t, kLoadBatch> batch;
    for (size_t first;
         (first = claimed.fetch_add(kLoadBatch, std::memory_order_relaxed)) < todo.size() &&
         !stop.load(std::memory_order_relaxed);) {
      batch.clear();
      for (size_t k = first; k < std::min(first + kLoadBatch, todo.size()); ++k) {
        if (Move(k, kPending, kBuilding)) batch.push_back(k);
      }
      BuildBatch(base, batch, buffers, OnCacheMiss::kPrefetch, &deferred);
    }
    for (size_t at = 0; at < deferred.size() && !stop.load(std::memory_order_relaxed);) {
      batch.clear();
      for (; at < deferred.size() && batch.size() < kLoadBatch; ++at) {
        if (Move(deferred[at], kPending, kBuilding)) batch.push_back(deferred[at]);
      }
      BuildBatch(base, batch, buffers, OnCacheMiss::kWait, nullptr);
    }
  }

  // Builds the states of `slots` (each claimed: kBuilding) into their drafts, which nobody
  // else touches until a slot is kDone, their cases read together (and with those of `also`,
  // if not null: a state of the application's, first), and marks them kDone; a state that
  // cannot be read is left null. With OnCacheMiss::kPrefetch a slot whose cases are not in
  // memory yet goes back to kPending and onto `deferred`.
  void BuildBatch(const Snapshot& base, std::span<const size_t> slots,
                  std::span<CaseBuffer> buffers, OnCacheMiss on_miss, std::vector<size_t>* deferred,
                  BaseLoad* also = nullptr) {
    absl::InlinedVector<std::unique_ptr<EntityDraft>, kLoadBatch> drafts;
    absl::InlinedVector<BaseLoad, kLoadBatch> loads;
    if (also != nullptr) loads.push_back(*also);
    for (const size_t k : slots) {
      const auto [i, named] = todo[k];
      drafts.push_back(std::make_unique<EntityDraft>());
      loads.push_back(BaseLoad{named->base, &ids[i], drafts.back().get(), absl::OkStatus()});
    }
    LoadBases(base, std::span<BaseLoad>(loads.data(), loads.size()), buffers, on_miss);
    const size_t skip = also != nullptr ? 1 : 0;
    if (also != nullptr) *also = loads[0];
    for (size_t j = 0; j < slots.size(); ++j) {
      const size_t k = slots[j];
      const absl::Status& status = loads[skip + j].status;
      if (on_miss == OnCacheMiss::kPrefetch && absl::IsUnavailable(status)) {
        if (Move(k, kBuilding, kPending)) deferred->push_back(k);
        continue;
      }
      if (status.ok()) todo[k].second->draft = std::move(drafts[j]);
      Move(k, kBuilding, kDone);
    }
  }

  // Returns the application's state of `named` (whose ID is `id`): built ahead or alongside,
  // or else built now, together with the pending states after it (claimed as a helper claims
  // them); or the error of reading its cases. Called by the application only.
  absl::StatusOr<std::unique_ptr<EntityDraft>> Take(const Snapshot& base, Named& named,
                                                    const Id& id) {
    if (named.slot != kNotBuilt && Settle(named.slot) && named.draft != nullptr) {
      return std::move(named.draft);
    }
    // Not prepared, taken from the helpers, or its cases could not be read (read again for
    // the error).
    auto draft = std::make_unique<EntityDraft>();
    absl::InlinedVector<size_t, kLoadBatch> batch;
    if (named.slot != kNotBuilt) {
      for (size_t k = named.slot + 1; k < todo.size() && batch.size() + 1 < kLoadBatch; ++k) {
        if (Move(k, kPending, kBuilding)) batch.push_back(k);
      }
    }
    if (own_buffers.empty()) own_buffers = std::vector<CaseBuffer>(kLoadBatch);
    BaseLoad load{named.base, &id, draft.get(), absl::OkStatus()};
    BuildBatch(base, batch, own_buffers, OnCacheMiss::kWait, nullptr, &load);
    SHIXIN_RETURN_IF_ERROR(load.status);
    return draft;
  }

  // Returns whether slot k is built; if not, takes it for the application (which then builds
  // it rather than wait for a helper).
  bool Settle(size_t k) {
    uint8_t seen = progress[k].load(std::memory_order_acquire);
    if (seen == kDone) return true;  // built ahead, or by a helper in time
    while (!progress[k].compare_exchange_weak(seen, kTaken, std::memory_order_acq_rel)) {
      if (seen == kDone) return true;
    }
    // Caught up with the helpers if one was building it or they claim next at or before it:
    // they move on ahead of the caller, which builds the states between.
    size_t at = claimed.load(std::memory_order_relaxed);
    if (seen == kBuilding || at <= k + 1) {
      while (at < k + kLead &&
             !claimed.compare_exchange_weak(at, k + kLead, std::memory_order_relaxed)) {
      }
    }
    return false;
  }

  void Join() {
    stop.store(true, std::memory_order_relaxed);
    for (std::thread& helper : helpers) helper.join();
    helpers.clear();
  }
};

PreparedDelta::PreparedDelta() = default;
PreparedDelta::~PreparedDelta() = default;
PreparedDelta::PreparedDelta(PreparedDelta&&) noexcept = default;
PreparedDelta& PreparedDelta::operator=(PreparedDelta&&) noexcept = default;

size_t PreparedDelta::size() const {
  if (states_ == nullptr) return 0;
  size_t n = 0;
  for (const auto& [id, named] : states_->by_id) n += named.draft != nullptr;
  return n;
}

PreparedDelta::Named* PreparedDelta::Lookup(const Id& id) {
  return states_ == nullptr ? nullptr : states_->Lookup(id);
}

absl::StatusOr<std::unique_ptr<EntityDraft>> PreparedDelta::Take(const Snapshot& base, Named& named,
                                                                 const Id& id) {
  return states_->Take(base, named, id);
}

void PreparedDelta::Join() {
  if (states_ != nullptr) states_->Join();
}

void ChangedEntities::Add(const PreparedDelta& applied) {
  if (applied.states_ == nullptr) return;
  for (const auto& [id, named] : applied.states_->by_id) {
    const EntityNo e = named.base;
    if (e != kNoEntity && e / 64 < bits_.size()) {
      bits_[e / 64].fetch_or(uint64_t{1} << (e % 64), std::memory_order_relaxed);
    }
  }
}

PreparedDelta PrepareDelta(const Snapshot& base, const Overlay* previous, const Delta& delta,
                           const ChangedEntities* changed, int threads, Prepare when) {
  PreparedDelta prepared;
  prepared.states_ = std::make_unique<PreparedDelta::States>();
  PreparedDelta::States& states = *prepared.states_;
  auto& by_id = states.by_id;
  // The base's index is looked up in one batch: its misses overlap.
  std::vector<Id>& ids = states.ids;
  ids.reserve(delta.changes.size());
  for (const DeltaChange& c : delta.changes) {
    ids.push_back(c.id);
    if (c.op == DeltaOp::kRelate || c.op == DeltaOp::kUnrelate) ids.push_back(c.org);
  }
  by_id.reserve(ids.size());
  std::vector<EntityNo> found(ids.size());
  base.FindBatch(ids, found);
  // The subjects whose states are built: first every one is named (the map no longer changes
  // after, so its entries stay put while threads fill them in).
  for (size_t i = 0; i < ids.size(); ++i) {
    auto [it, fresh] = by_id.try_emplace(ids[i].Pack());
    if (!fresh) continue;
    PreparedDelta::Named& named = it->second;
    named.base = found[i];
    named.key = named.base != kNoEntity ? base.EntityKey(named.base) : it->first;
    if (changed != nullptr && named.base != kNoEntity && changed->Has(named.base)) continue;
    if (previous != nullptr && previous->Find(named.base, named.key) != nullptr) continue;
    named.slot = static_cast<uint32_t>(states.todo.size());
    states.todo.emplace_back(i, &named);
  }
  states.progress = std::make_unique<std::atomic<uint8_t>[]>(states.todo.size());
  for (size_t k = 0; k < states.todo.size(); ++k) {
    states.progress[k].store(PreparedDelta::States::kPending, std::memory_order_relaxed);
  }
  // The states are claimed one by one in turn. The caller's thread (ahead) or the
  // application (alongside) claims them until none is left; helpers, at a lower priority, claim
  // what they get to on cores nothing else wants (under load the queries keep those, and the
  // caller builds nearly all as alone).
  const size_t helpers = std::min<size_t>(std::max(threads, 1) - 1, states.todo.size() / kMinShare);
  states.helpers = StartHelpers(helpers, [&states, &base] { states.Build(base, true); });
  if (when == Prepare::kAhead) {
    states.Build(base, false);
    for (std::thread& helper : states.helpers) helper.join();
    states.helpers.clear();
  }
  return prepared;
}

}  // namespace shixin
