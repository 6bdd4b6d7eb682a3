#include "core/overlay.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/allocator.h"
#include "base/background.h"
#include "base/status_macros.h"
#include "core/case_codec.h"

namespace shixin {

namespace {

constexpr size_t kBlocksAt = sizeof(OverlayEntity);
static_assert(kBlocksAt % alignof(Interval) == 0 && sizeof(Interval) % alignof(OverlayLink) == 0);
static_assert(sizeof(OverlayLink) % alignof(uint32_t) == 0);
static_assert(kBlocksAt == 40, "the header of docs/feed.md");

}  // namespace

std::span<const Interval> OverlayEntity::blocks() const {
  return {reinterpret_cast<const Interval*>(reinterpret_cast<const char*>(this) + kBlocksAt),
          block_count_};
}

std::span<const OverlayLink> OverlayEntity::links() const {
  return {reinterpret_cast<const OverlayLink*>(blocks().data() + block_count_), link_count_};
}

std::string_view OverlayEntity::name() const {
  const char* at =
      reinterpret_cast<const char*>(links().data() + link_count_) + case_count_ * sizeof(uint32_t);
  return {at, name_size_};
}

CaseView OverlayEntity::Case(size_t i) const {
  const auto* offsets = reinterpret_cast<const uint32_t*>(links().data() + link_count_);
  const char* records = name().data() + name_size_;
  const char* end = records + (i + 1 < case_count_ ? offsets[i + 1] : records_size_);
  return DecodeCase(records + offsets[i], end);
}

size_t OverlayEntity::Size() const {
  return kBlocksAt + size_t{block_count_} * sizeof(Interval) +
         size_t{link_count_} * sizeof(OverlayLink) + size_t{case_count_} * sizeof(uint32_t) +
         name_size_ + records_size_;
}

size_t OverlayEntity::Bytes() const { return AllocationSize(Size()); }

namespace {

// Destroys and frees an entity made by EntityDraft::Freeze().
void Destroy(OverlayEntity* e) {
  e->~OverlayEntity();
  FreeBulk(e);
}

}  // namespace

// Ids are not reused while the daemon runs unless 2^32 segments were made: one a delta file.
OverlaySegment::OverlaySegment() {
  static std::atomic<uint32_t> next_id{1};
  id_ = next_id.fetch_add(1, std::memory_order_relaxed);
}

OverlaySegment::~OverlaySegment() {
  for (OverlayEntity* e : entities_) Destroy(e);
}

void OverlaySegment::Adopt(OverlayEntity* e) {
  e->segment_ = id_;
  e->place_ = static_cast<uint32_t>(entities_.size());
  entities_.push_back(e);
}

void OverlaySegment::Free(const OverlayEntity* e) {
  assert(Holds(e));
  OverlayEntity* own = entities_[e->place_];
  OverlayEntity* last = entities_.back();
  last->place_ = own->place_;
  entities_[last->place_] = last;
  entities_.pop_back();
  Destroy(own);
}

size_t OverlaySegment::ListBytes() const {
  return AllocationSize(sizeof(OverlaySegment)) +
         AllocationSize(entities_.capacity() * sizeof(void*));  // a pointer each
}

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

void EntityDraft::EndCase(size_t i, int64_t at, EndReason end) {
  SetEncodedCaseEnd(records.data() + offsets[i], at, end);  // in place: nothing moves
  intervals[i] = CaseInterval(Head(i));
}

EntityDraft EntityDraft::Thaw(const OverlayEntity& e) {
  EntityDraft d;
  d.key = e.key();
  d.name = std::string(e.name());
  d.links.assign(e.links().begin(), e.links().end());
  const char* records = e.name().data() + e.name_size_;
  d.records.assign(records, e.records_size_);
  const auto* offsets = reinterpret_cast<const uint32_t*>(e.links().data() + e.link_count_);
  d.offsets.assign(offsets, offsets + e.case_count_);
  d.intervals.reserve(e.case_count_);
  for (size_t i = 0; i < e.case_count_; ++i) d.intervals.push_back(CaseInterval(d.Head(i)));
  return d;
}

const OverlayEntity* EntityDraft::Freeze(OverlaySegment* segment) const {
  const std::vector<Interval> blocks = MergeIntervals(intervals);
  const size_t size = kBlocksAt + blocks.size() * sizeof(Interval) +
                      links.size() * sizeof(OverlayLink) + offsets.size() * sizeof(uint32_t) +
                      name.size() + records.size();
  // Huge pages: a fold of many files makes gigabytes of entities (docs/performance.md).
  void* memory = AllocateBulk(size);
  if (memory == nullptr) std::abort();  // as operator new without exceptions
  auto* e = new (memory) OverlayEntity();
  e->key_ = key;
  e->block_count_ = static_cast<uint32_t>(blocks.size());
  e->link_count_ = static_cast<uint32_t>(links.size());
  e->case_count_ = static_cast<uint32_t>(offsets.size());
  e->name_size_ = static_cast<uint32_t>(name.size());
  e->records_size_ = static_cast<uint32_t>(records.size());
  char* at = static_cast<char*>(memory) + kBlocksAt;
  auto append = [&at](const void* p, size_t n) {
    if (n > 0) std::memcpy(at, p, n);
    at += n;
  };
  append(blocks.data(), blocks.size() * sizeof(Interval));
  append(links.data(), links.size() * sizeof(OverlayLink));
  append(offsets.data(), offsets.size() * sizeof(uint32_t));
  append(name.data(), name.size());
  append(records.data(), records.size());
  segment->Adopt(e);
  return e;
}

size_t Overlay::Bytes() const {
  // The table: one allocation of a control byte per slot (plus a group's clones) and the slots.
  const size_t capacity = entities_.capacity();
  const size_t table =
      capacity == 0 ? 0
                    : AllocationSize(capacity + 16 +
                                     capacity * sizeof(std::pair<PackedId, const OverlayEntity*>));
  size_t segments = segments_.capacity() * sizeof(segments_[0]);
  for (const auto& segment : segments_) {
    segments += segment->ListBytes();
  }
  return sizeof(*this) + table + filter_.Bytes() + segments +
         changed_base_.capacity() * sizeof(uint64_t) + entity_bytes_;
}

void Overlay::ReserveFilter(size_t keys) {
  assert(keys >= entities_.size());
  if (keys <= filter_.capacity()) return;
  filter_.Reset(keys * 2);  // doubling: the keys are inserted again a bounded number of times
  for (const auto& [key, e] : entities_) filter_.Insert(HashPackedId(key));
}

OverlayStats Overlay::Stats() const {
  OverlayStats s;
  ForEach([&s](const OverlayEntity& e) {
    ++s.entities;
    s.case_versions += e.case_count();
    s.links += e.links().size();
    s.record_bytes += e.record_bytes();
  });
  s.fixed_bytes = changed_base_.capacity() * sizeof(uint64_t);
  s.bytes = Bytes();
  return s;
}

namespace {

// Case numbers are compared with full-width brackets as ASCII ones: feeds write both. Returns
// the next character of `code` at `*at` with the brackets made ASCII, and advances `*at`.
char NextCaseChar(std::string_view code, size_t* at) {
  static constexpr std::string_view kOpen = "（", kClose = "）";
  for (const auto& [wide, ascii] : {std::pair{kOpen, '('}, std::pair{kClose, ')'}}) {
    if (code.substr(*at, wide.size()) == wide) {
      *at += wide.size();
      return ascii;
    }
  }
  return code[(*at)++];
}

// Whether two case numbers name the same case (without allocating: it runs per version).
bool SameCase(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (NextCaseChar(a, &i) != NextCaseChar(b, &j)) return false;
  }
  return i == a.size() && j == b.size();
}

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
constexpr size_t kLoadBatch = 16;

// Sets each load's state to the base's state of its subject, the cases of all read together.
// REQUIRES: loads.size() <= buffers.size().
void LoadBases(const Snapshot& base, std::span<BaseLoad> loads, std::span<CaseBuffer> buffers,
               OnCacheMiss on_miss = OnCacheMiss::kWait) {
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

// LoadBases() for one subject: returns its status.
absl::Status LoadBase(const Snapshot& base, EntityNo e, const Id& id, CaseBuffer& buffer,
                      EntityDraft* state) {
  BaseLoad load{e, &id, state, absl::OkStatus()};
  LoadBases(base, {&load, 1}, {&buffer, 1});
  return load.status;
}

}  // namespace

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
  for (size_t t = 0; t < helpers; ++t) {
    states.helpers.emplace_back([&states, &base] { states.Build(base, true); });
  }
  if (when == Prepare::kAhead) {
    states.Build(base, false);
    for (std::thread& helper : states.helpers) helper.join();
    states.helpers.clear();
  }
  return prepared;
}

// The subjects one delta changes, materialised as drafts on first touch (from the table of the
// deltas before it, or the base), then edited in place; frozen into the table if it is accepted.
class OverlayApplier {
 public:
  OverlayApplier(const Snapshot& base, const Overlay& table, PreparedDelta* prepared)
      : base_(base), table_(table), prepared_(prepared) {}

  // Returns the editable state of `id`, from this delta, the table or the base.
  absl::StatusOr<EntityDraft*> Mutable(const Id& id);

  // Applies one line: returns an error refusing the delta, or OK (with a note, maybe).
  absl::Status Apply(const DeltaChange& c, std::string* note);

  // Returns the drafts in the order they were first touched: that of the changes, in which
  // the prepared ones were allocated, so that reading them in it follows memory.
  const std::vector<EntityDraft*>& drafts() const { return drafts_; }

 private:
  absl::Status AddCase(const DeltaChange& c);
  absl::Status EndCase(const DeltaChange& c, std::string* note);
  absl::Status Correct(const DeltaChange& c);
  absl::Status Relate(const DeltaChange& c, std::string* note);
  absl::Status Unrelate(const DeltaChange& c, std::string* note);

  const Snapshot& base_;
  const Overlay& table_;
  PreparedDelta* prepared_;  // may be null
  CaseBuffer buffer_;        // the base's cases being copied into a draft (reused: no allocation)
  // Drafts by key; on the heap, so that a pointer to one outlives the map's growth.
  absl::flat_hash_map<PackedId, std::unique_ptr<EntityDraft>, PackedIdHash> touched_;
  std::vector<EntityDraft*> drafts_;  // touched_'s, in the order they were added
};

absl::StatusOr<EntityDraft*> OverlayApplier::Mutable(const Id& id) {
  PreparedDelta::Named* named = prepared_ != nullptr ? prepared_->Lookup(id) : nullptr;
  const EntityNo e = named != nullptr ? named->base : base_.Find(id);
  const PackedId key =
      named != nullptr ? named->key : (e != kNoEntity ? base_.EntityKey(e) : id.Pack());
  if (auto it = touched_.find(key); it != touched_.end()) return it->second.get();
  std::unique_ptr<EntityDraft> draft;
  if (const OverlayEntity* old = table_.Find(e, key)) {
    draft = std::make_unique<EntityDraft>(EntityDraft::Thaw(*old));  // copy on write
    draft->base = e;
  } else if (named != nullptr) {
    SHIXIN_ASSIGN_OR_RETURN(draft, prepared_->Take(base_, *named, id));
  } else {
    draft = std::make_unique<EntityDraft>();
    SHIXIN_RETURN_IF_ERROR(LoadBase(base_, e, id, buffer_, draft.get()));
  }
  assert(draft->key == key);
  EntityDraft* added = touched_.emplace(key, std::move(draft)).first->second.get();
  drafts_.push_back(added);
  return added;
}

// Returns the index of the version of case `code` that has not ended by a change, or -1.
static int CurrentVersion(const EntityDraft& e, std::string_view code) {
  for (size_t i = e.case_count(); i-- > 0;) {
    const CaseView c = e.Head(i);
    if (c.end == EndReason::kNone && SameCase(c.case_code, code)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

absl::Status OverlayApplier::AddCase(const DeltaChange& c) {
  SHIXIN_ASSIGN_OR_RETURN(EntityDraft * e, Mutable(c.id));
  const int i = CurrentVersion(*e, c.record.case_code);
  if (i >= 0 && e->intervals[static_cast<size_t>(i)].until > c.record.start) {
    return absl::InvalidArgumentError(
        absl::StrFormat("case %s of %s is listed already", c.record.case_code, c.id.text()));
  }
  if (e->name.empty()) e->name = c.name;
  e->AddCase(c.record);
  return absl::OkStatus();
}

absl::Status OverlayApplier::EndCase(const DeltaChange& c, std::string* note) {
  SHIXIN_ASSIGN_OR_RETURN(EntityDraft * e, Mutable(c.id));
  const int i = CurrentVersion(*e, c.record.case_code);
  if (i < 0 || !(c.at < e->intervals[static_cast<size_t>(i)].until)) {
    *note = absl::StrFormat("case %s of %s %s: nothing to end", c.record.case_code, c.id.text(),
                            i < 0 ? "is not in the list" : "no longer counts");
    return absl::OkStatus();
  }
  e->EndCase(static_cast<size_t>(i), c.at,
             c.op == DeltaOp::kRevoke ? EndReason::kRevoked : c.reason);
  return absl::OkStatus();
}

absl::Status OverlayApplier::Correct(const DeltaChange& c) {
  SHIXIN_ASSIGN_OR_RETURN(EntityDraft * e, Mutable(c.id));
  const int i = CurrentVersion(*e, c.record.case_code);
  if (i < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "case %s of %s is unknown, removed or revoked", c.record.case_code, c.id.text()));
  }
  e->EndCase(static_cast<size_t>(i), c.at, EndReason::kCorrected);
  e->AddCase(c.record);
  if (!c.name.empty()) e->name = c.name;
  return absl::OkStatus();
}

// Returns the link of `e` to `other` in `role` that has no end yet, or null.
static OverlayLink* OpenLink(EntityDraft& e, const PackedId& other, Role role) {
  for (OverlayLink& l : e.links) {
    if (l.other == other && l.role == role && l.valid.until == kForever) return &l;
  }
  return nullptr;
}

absl::Status OverlayApplier::Relate(const DeltaChange& c, std::string* note) {
  SHIXIN_ASSIGN_OR_RETURN(EntityDraft * org, Mutable(c.org));
  SHIXIN_ASSIGN_OR_RETURN(EntityDraft * person, Mutable(c.id));
  const PackedId org_key = org->key;
  const PackedId person_key = person->key;
  if (OpenLink(*org, person_key, c.role) != nullptr) {
    *note = absl::StrFormat("%s is %s of %s already", c.id.text(), RoleName(c.role), c.org.text());
    return absl::OkStatus();
  }
  org->links.push_back(OverlayLink{person_key, c.role, Interval{c.at, kForever}});
  person->links.push_back(OverlayLink{org_key, c.role, Interval{c.at, kForever}});
  if (person->name.empty()) person->name = c.name;
  return absl::OkStatus();
}

absl::Status OverlayApplier::Unrelate(const DeltaChange& c, std::string* note) {
  SHIXIN_ASSIGN_OR_RETURN(EntityDraft * org, Mutable(c.org));
  SHIXIN_ASSIGN_OR_RETURN(EntityDraft * person, Mutable(c.id));
  OverlayLink* from_org = OpenLink(*org, person->key, c.role);
  OverlayLink* from_person = OpenLink(*person, org->key, c.role);
  if (from_org == nullptr || from_person == nullptr || c.at < from_org->valid.from) {
    *note = absl::StrFormat("%s is not %s of %s: nothing to end", c.id.text(), RoleName(c.role),
                            c.org.text());
    return absl::OkStatus();
  }
  from_org->valid.until = c.at;
  from_person->valid.until = c.at;
  return absl::OkStatus();
}

absl::Status OverlayApplier::Apply(const DeltaChange& c, std::string* note) {
  switch (c.op) {
    case DeltaOp::kAdd:
      return AddCase(c);
    case DeltaOp::kRemove:
    case DeltaOp::kRevoke:
      return EndCase(c, note);
    case DeltaOp::kCorrect:
      return Correct(c);
    case DeltaOp::kRelate:
      return Relate(c, note);
    case DeltaOp::kUnrelate:
      return Unrelate(c, note);
  }
  return absl::InternalError("unknown delta op");
}

OverlayBuilder::OverlayBuilder(const Snapshot& base, const Overlay* previous)
    : base_(base), table_(new Overlay()), segment_(std::make_shared<OverlaySegment>()) {
  if (previous != nullptr) {
    table_->entities_ = previous->entities_;
    table_->filter_ = previous->filter_;
    table_->segments_ = previous->segments_;
    table_->changed_base_ = previous->changed_base_;
    table_->sequence_ = previous->sequence_;
    table_->entity_bytes_ = previous->entity_bytes_;
  } else {
    table_->sequence_ = base.info().delta_sequence;  // compaction folded those deltas in
  }
  table_->changed_base_.resize((base.entity_count() + 63) / 64);
  table_->segments_.push_back(segment_);
}

OverlayBuilder::~OverlayBuilder() = default;

absl::Status OverlayBuilder::Apply(const Delta& delta, DeltaReport* report,
                                   PreparedDelta* prepared) {
  const uint64_t last = table_->sequence_;
  if (delta.sequence != last + 1) {
    return absl::FailedPreconditionError(absl::StrCat(delta.name, ": delta ", delta.sequence,
                                                      " does not follow ", last, " (expected ",
                                                      last + 1, ")"));
  }
  OverlayApplier applier(base_, *table_, prepared);
  std::vector<std::string> notes;
  absl::Status refusal;
  for (const DeltaChange& c : delta.changes) {
    std::string note;
    const absl::Status s = applier.Apply(c, &note);
    if (s.ok() && note.empty()) continue;
    const std::string where = absl::StrFormat("%s:%d: %s: ", delta.name, c.line, DeltaOpName(c.op));
    if (!s.ok()) {
      refusal = absl::Status(s.code(), where + std::string(s.message()));
      break;
    }
    notes.push_back(where + note);
  }
  if (prepared != nullptr) prepared->Join();  // states built alongside: every helper is done
  if (!refusal.ok()) return refusal;
  report->changes += delta.changes.size();
  for (std::string& note : notes) report->notes.push_back(std::move(note));

  table_->sequence_ = delta.sequence;
  // The drafts were last touched many changes ago and their table slots are anywhere: both
  // are asked for a few drafts ahead, so that their cache misses overlap.
  const std::vector<EntityDraft*>& drafts = applier.drafts();
  table_->ReserveFilter(table_->entities_.size() + drafts.size());
  constexpr size_t kAhead = 4;
  for (size_t i = 0; i < drafts.size(); ++i) {
    if (i + kAhead < drafts.size()) {
      drafts[i + kAhead]->Prefetch();
      table_->entities_.prefetch(drafts[i + kAhead]->key);
    }
    const EntityDraft& state = *drafts[i];
    const EntityNo e = state.base;
    if (e != kNoEntity) table_->changed_base_[e / 64] |= uint64_t{1} << (e % 64);
    const OverlayEntity* frozen = state.Freeze(segment_.get());
    table_->entity_bytes_ += frozen->Bytes();
    const OverlayEntity*& slot = table_->entities_[state.key];
    table_->filter_.Insert(HashPackedId(state.key));
    // A superseded entity stays with its segment, unless this batch made it: then no
    // generation holds it.
    if (slot != nullptr && segment_->Holds(slot)) {
      table_->entity_bytes_ -= slot->Bytes();
      segment_->Free(slot);
    }
    slot = frozen;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<const Overlay>> ApplyDelta(const Snapshot& base,
                                                          const Overlay* previous,
                                                          const Delta& delta, DeltaReport* report) {
  OverlayBuilder builder(base, previous);
  SHIXIN_RETURN_IF_ERROR(builder.Apply(delta, report));
  return builder.Finish();
}

DeltaBatchResult ApplyDeltas(const Snapshot& base, const Overlay* previous,
                             std::span<const Delta> deltas, DeltaReport* report) {
  DeltaBatchResult result;
  if (deltas.empty()) return result;
  OverlayBuilder builder(base, previous);
  for (const Delta& delta : deltas) {
    result.refusal = builder.Apply(delta, report);
    if (!result.refusal.ok()) break;
    ++result.applied;
  }
  if (result.applied > 0) result.overlay = builder.Finish();
  return result;
}

}  // namespace shixin
