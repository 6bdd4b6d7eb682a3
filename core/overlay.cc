#include "core/overlay.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "base/allocator.h"
#include "base/status_macros.h"
#include "base/terminal.h"
#include "core/case_code.h"
#include "core/case_codec.h"
#include "core/entity_draft.h"
#include "core/grounds.h"
#include "core/list.h"
#include "core/prepared_delta.h"

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

namespace {

// Returns the bytes of a hash table of `capacity` slots of `slot` bytes: one allocation of a
// control byte per slot (plus a group's clones) and the slots.
size_t TableBytes(size_t capacity, size_t slot) {
  return capacity == 0 ? 0 : AllocationSize(capacity + 16 + capacity * slot);
}

// Notes in `codes` the organisation code that `key` embeds if it is a credit code, keeping the
// least credit code of several that embed one, whatever the order they come in.
void AddOrgCode(absl::flat_hash_map<PackedId, PackedId, PackedIdHash>& codes, const PackedId& key) {
  if (PackedKind(key) != IdKind::kCreditCode) return;
  const auto [it, fresh] = codes.try_emplace(EmbeddedOrgCodeKey(key).key, key);
  if (!fresh && key < it->second) it->second = key;
}

}  // namespace

size_t Overlay::Bytes() const {
  const size_t table =
      TableBytes(entities_.capacity(), sizeof(std::pair<PackedId, const OverlayEntity*>)) +
      TableBytes(org_codes_.capacity(), sizeof(std::pair<PackedId, PackedId>));
  size_t segments = segments_.capacity() * sizeof(segments_[0]);
  for (const auto& segment : segments_) {
    segments += segment->ListBytes();
  }
  return sizeof(*this) + table + filter_.Bytes() + segments +
         changed_base_.capacity() * sizeof(uint64_t) + entity_bytes_;
}

const OverlayEntity* Overlay::FindNamed(const PackedId& id, uint64_t hash) const {
  if (const OverlayEntity* e = Find(id, hash)) return e;
  switch (PackedKind(id)) {
    case IdKind::kCreditCode: {
      const HashedId embedded = EmbeddedOrgCodeKey(id);
      return Find(embedded.key, embedded.hash);
    }
    case IdKind::kOrgCode: {
      if (org_codes_.empty()) return nullptr;
      const auto it = org_codes_.find(id);
      return it == org_codes_.end() ? nullptr : Find(it->second);
    }
    default:
      return nullptr;
  }
}

void Overlay::AddOrgCodeOf(const PackedId& key) { AddOrgCode(org_codes_, key); }

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

// The subjects one delta changes, materialised as drafts on first touch (from the table of the
// deltas before it, or the base), then edited in place; frozen into the table if it is accepted.
class OverlayApplier {
 public:
  OverlayApplier(const Snapshot& base, const Overlay& table, PreparedDelta* prepared)
      : base_(base), table_(table), prepared_(prepared) {}

  // Returns the editable state of `id`, from this delta, the table or the base.
  absl::StatusOr<EntityDraft*> Mutable(const Id& id);
  // Returns the key of the subject that `key`, the packed ID of a subject the base does not
  // know, names among those the deltas brought (this one's drafts, then the table): itself, or
  // the organisation under its other code (Overlay::FindNamed()); `key` if none is there.
  PackedId AddedSubjectKey(const PackedId& key) const;

  // Applies one line: returns an error refusing the delta, or OK (with a note, maybe).
  absl::Status Apply(const DeltaChange& c, std::string* note);
  // Whether the last line applied changed nothing (a repeated or late message: its note says).
  bool unchanged() const { return unchanged_; }

  // Returns the drafts in the order they were first touched: that of the changes, in which
  // the prepared ones were allocated, so that reading them in it follows memory.
  const std::vector<EntityDraft*>& drafts() const { return drafts_; }

 private:
  absl::Status AddCase(const DeltaChange& c, std::string* note);
  absl::Status EndCase(const DeltaChange& c, std::string* note);
  absl::Status Correct(const DeltaChange& c, std::string* note);
  absl::Status Relate(const DeltaChange& c, std::string* note);
  absl::Status Unrelate(const DeltaChange& c, std::string* note);

  const Snapshot& base_;
  const Overlay& table_;
  PreparedDelta* prepared_;  // may be null
  CaseBuffer buffer_;        // the base's cases being copied into a draft (reused: no allocation)
  // Drafts by key; on the heap, so that a pointer to one outlives the map's growth.
  absl::flat_hash_map<PackedId, std::unique_ptr<EntityDraft>, PackedIdHash> touched_;
  std::vector<EntityDraft*> drafts_;  // touched_'s, in the order they were added
  // The organisation code each credit-code subject this delta brought embeds, to its key.
  absl::flat_hash_map<PackedId, PackedId, PackedIdHash> touched_org_codes_;
  bool unchanged_ = false;  // unchanged()
};

PackedId OverlayApplier::AddedSubjectKey(const PackedId& key) const {
  if (touched_.contains(key)) return key;
  if (const OverlayEntity* e = table_.FindNamed(key)) return e->key();
  if (PackedKind(key) == IdKind::kCreditCode) {
    const PackedId embedded = EmbeddedOrgCodeKey(key).key;
    if (touched_.contains(embedded)) return embedded;
  } else if (PackedKind(key) == IdKind::kOrgCode) {
    if (auto it = touched_org_codes_.find(key); it != touched_org_codes_.end()) return it->second;
  }
  return key;
}

absl::StatusOr<EntityDraft*> OverlayApplier::Mutable(const Id& id) {
  PreparedDelta::Named* named = prepared_ != nullptr ? prepared_->Lookup(id) : nullptr;
  const EntityNo e = named != nullptr ? named->base : base_.Find(id);
  PackedId key = named != nullptr ? named->key : (e != kNoEntity ? base_.EntityKey(e) : id.Pack());
  // An organisation the deltas brought under one of its codes is named by either.
  if (e == kNoEntity) key = AddedSubjectKey(key);
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
  if (e == kNoEntity) AddOrgCode(touched_org_codes_, key);
  return added;
}

// Returns the index of the version of case `code` that has not ended by a change, or -1.
static int CurrentVersion(const EntityDraft& e, std::string_view code) {
  for (size_t i = e.case_count(); i-- > 0;) {
    const CaseView c = e.Head(i);
    if (c.end == EndReason::kNone && SameCaseCode(c.case_code, code)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// Ends at `at` (a removal's or correction's at each one's start, if that is later) every version
// of case `code` but `i` that has not ended by a change and still counts then: a base list compiled
// before the export's repeated lines were merged (SnapshotBuilder) holds a case more than once,
// and a change of the case is a change of every copy.
static void EndCopies(EntityDraft& e, size_t i, std::string_view code, int64_t at, EndReason end) {
  for (size_t j = 0; j < e.case_count(); ++j) {
    if (j == i || e.Head(j).end != EndReason::kNone || !SameCaseCode(e.Head(j).case_code, code)) {
      continue;
    }
    const int64_t at_j = end == EndReason::kRevoked ? at : std::max(at, e.intervals[j].from);
    if (at_j < e.intervals[j].until) e.EndCase(j, at_j, end);
  }
}

// Returns the index of the last version of case `code` (ended or not), or -1.
static int LastVersion(const EntityDraft& e, std::string_view code) {
  for (size_t i = e.case_count(); i-- > 0;) {
    if (SameCaseCode(e.Head(i).case_code, code)) return static_cast<int>(i);
  }
  return -1;
}

// Returns the instant of the last correction of case `code` (the end of its version it
// replaced), or 0 if it was never corrected.
static int64_t LastCorrection(const EntityDraft& e, std::string_view code) {
  int64_t last = 0;
  for (size_t i = 0; i < e.case_count(); ++i) {
    const CaseView c = e.Head(i);
    if (c.end == EndReason::kCorrected && SameCaseCode(c.case_code, code)) {
      last = std::max(last, c.ended_at);
    }
  }
  return last;
}

// Returns the instant change `c` of case `c.record.case_code` applies at: its `at`, or the
// case's last correction if that is later, since the version before it has ended at it
// already (docs/feed.md, section 3); notes that in `note`.
static int64_t EffectiveAt(const EntityDraft& e, const DeltaChange& c, std::string* note) {
  const int64_t corrected = LastCorrection(e, c.record.case_code);
  if (c.at >= corrected) return c.at;
  *note = absl::StrFormat("case %s of %s: at %s is before its correction at %s: applied at %s",
                          c.record.case_code, c.id.Masked(), FormatInstant(c.at),
                          FormatInstant(corrected), FormatInstant(corrected));
  return corrected;
}

// Returns the note of change `c` whose `at` is before its case version counts from `from`.
static std::string BeforeStartNote(const DeltaChange& c, int64_t at, int64_t from) {
  return absl::StrFormat("case %s of %s: at %s is before it counts from %s: applied at %s",
                         c.record.case_code, c.id.Masked(), FormatInstant(at), FormatInstant(from),
                         FormatInstant(from));
}

// Returns the court's keys (docs/feed.md, section 1) that `old` has and `now` leaves empty,
// comma-separated, or "" if none.
static std::string EmptiedKeys(const CaseView& old, const CaseView& now) {
  const std::pair<std::string_view, bool> keys[] = {
      {"areaName", !old.area.empty() && now.area.empty()},
      {"gistId", !old.gist_id.empty() && now.gist_id.empty()},
      {"gistUnit", !old.gist_unit.empty() && now.gist_unit.empty()},
      {"regDate", old.reg_date != 0 && now.reg_date == 0},
      {"publishDate", old.publish_date != 0 && now.publish_date == 0},
      {"duty", !old.duty.empty() && now.duty.empty()},
      {"performance", !old.performance.empty() && now.performance.empty()},
      {"performedPart", !old.performed_part.empty() && now.performed_part.empty()},
      {"unperformPart", !old.unperform_part.empty() && now.unperform_part.empty()},
      {"disruptTypeName", !old.disrupt_type.empty() && now.disrupt_type.empty()},
      {"businessEntity", !old.business_entity.empty() && now.business_entity.empty()},
      {"age", old.age != 0 && now.age == 0},
      {"sexy", old.sex != Sex::kUnknown && now.sex == Sex::kUnknown},
      {"termEnd", old.term_end != 0 && now.term_end == 0},
  };
  std::string out;
  for (const auto& [key, emptied] : keys) {
    if (!emptied) continue;
    if (!out.empty()) out.append(", ");
    out.append(key);
  }
  return out;
}

// Appends `more` to the note `note` of one change ("; " between two).
static void AppendNote(std::string* note, std::string_view more) {
  if (!note->empty()) note->append("; ");
  note->append(more);
}

// Returns the instant 6 calendar months after `t` in China Standard Time; a day the month lacks
// is its last day (31 August: the end of February), as periods in months are counted.
static int64_t SixMonthsAfter(int64_t t) {
  const absl::CivilSecond s = absl::ToCivilSecond(absl::FromUnixSeconds(t), ChinaTime());
  const absl::CivilMonth month = absl::CivilMonth(s) + 6;
  const absl::CivilDay last = absl::CivilDay(month + 1) - 1;
  const absl::CivilSecond then(month.year(), month.month(), std::min<int>(s.day(), last.day()),
                               s.hour(), s.minute(), s.second());
  return absl::ToUnixSeconds(absl::FromCivil(then, ChinaTime()));
}

// Returns the version of `e` (any case) deleted at the creditor's request at or before `start`
// and less than 6 months before it, the latest such, or -1 (SPC rules Art. 10).
static int LastCreditorRequestDeletion(const EntityDraft& e, int64_t start) {
  int last = -1;
  int64_t last_at = 0;
  for (size_t i = 0; i < e.case_count(); ++i) {
    const CaseView v = e.Head(i);
    if (v.end != EndReason::kCreditorRequest || v.ended_at > start || v.ended_at < last_at) {
      continue;
    }
    if (start < SixMonthsAfter(v.ended_at)) {
      last = static_cast<int>(i);
      last_at = v.ended_at;
    }
  }
  return last;
}

// An add of a case that has a version without an end counting at or after the add's start is
// refused; one whose earlier listing ends after that start (a removal scheduled later, or one
// after a `publishDate` the re-listing counts from) starts at that end, noted, so that no two
// versions of one case count at once (docs/feed.md, section 3).
absl::Status OverlayApplier::AddCase(const DeltaChange& c, std::string* note) {
  SHIXIN_ASSIGN_OR_RETURN(EntityDraft * e, Mutable(c.id));
  const std::string_view code = c.record.case_code;
  const int open = CurrentVersion(*e, code);
  if (open >= 0 && e->intervals[static_cast<size_t>(open)].until > c.record.start) {
    const int64_t from = e->intervals[static_cast<size_t>(open)].from;
    // A case in its grace period does not count yet: say from when it does.
    return absl::InvalidArgumentError(
        from > 0 ? absl::StrFormat("case %s of %s is on the list already (counting from %s)", code,
                                   c.id.Masked(), FormatInstant(from))
                 : absl::StrFormat("case %s of %s is on the list already", code, c.id.Masked()));
  }
  CaseView record = c.record;
  int64_t previous_end = 0;
  for (size_t i = 0; i < e->case_count(); ++i) {
    const Interval v = e->intervals[i];
    if (v.until > record.start && v.from < v.until && SameCaseCode(e->Head(i).case_code, code)) {
      previous_end = std::max(previous_end, v.until);
    }
  }
  if (previous_end > record.start) {
    *note = absl::StrFormat(
        "case %s of %s counts until %s by its earlier listing: listed again from %s, not %s", code,
        c.id.Masked(), FormatInstant(previous_end), FormatInstant(previous_end),
        FormatInstant(record.start));
    record.start = previous_end;
  }
  if (record.term_end != 0 && TermEndInstant(record.term_end) <= record.start) {
    AppendNote(note, absl::StrFormat("case %s of %s: its term ended on %s: it never counts", code,
                                     c.id.Masked(), FormatDate(record.term_end)));
  }
  const int last_deleted = LastCreditorRequestDeletion(*e, record.start);
  if (last_deleted >= 0) {
    const CaseView v = e->Head(static_cast<size_t>(last_deleted));
    AppendNote(note, absl::StrFormat("%s is listed again from %s, less than 6 months after case %s "
                                     "was deleted at the creditor's request at %s (SPC rules "
                                     "Art. 10: not before %s)",
                                     c.id.Masked(), FormatInstant(record.start), v.case_code,
                                     FormatInstant(v.ended_at),
                                     FormatInstant(SixMonthsAfter(v.ended_at))));
  }
  if (e->name.empty()) e->name = c.name;
  e->AddCase(record);
  return absl::OkStatus();
}

absl::Status OverlayApplier::EndCase(const DeltaChange& c, std::string* note) {
  SHIXIN_ASSIGN_OR_RETURN(EntityDraft * e, Mutable(c.id));
  const int i = CurrentVersion(*e, c.record.case_code);
  if (i < 0) {
    // Every version has ended by a change: say which, e.g. a revocation still to come.
    const int last = LastVersion(*e, c.record.case_code);
    if (last < 0) {
      *note = absl::StrFormat("case %s of %s is not in the list: nothing to end",
                              c.record.case_code, c.id.Masked());
    } else {
      const CaseView v = e->Head(static_cast<size_t>(last));
      *note = absl::StrFormat("case %s of %s is %s from %s on already: nothing to end",
                              c.record.case_code, c.id.Masked(),
                              v.end == EndReason::kRevoked ? "revoked" : "removed",
                              FormatInstant(v.ended_at));
    }
    unchanged_ = true;
    return absl::OkStatus();
  }
  int64_t at = EffectiveAt(*e, c, note);
  const int64_t from = e->intervals[static_cast<size_t>(i)].from;
  // A removal before the version counts: it was listed from its start, and no earlier. (A
  // revocation before it is kept as it stands: the case should never have counted at all.)
  if (c.op == DeltaOp::kRemove && at < from) {
    *note = BeforeStartNote(c, at, from);
    at = from;
  }
  if (!(at < e->intervals[static_cast<size_t>(i)].until)) {
    *note = absl::StrFormat("case %s of %s no longer counts: nothing to end", c.record.case_code,
                            c.id.Masked());
    unchanged_ = true;
    return absl::OkStatus();
  }
  if (c.op == DeltaOp::kRemove && c.reason == EndReason::kTermEnded) {
    // Art. 10 deletes "when the term ended": a term that is still running (its last day
    // included), or none at all (ground (1), Art. 2), makes that ground false; the court
    // decides, the operator is told.
    const uint32_t term_end = e->Head(static_cast<size_t>(i)).term_end;
    if (term_end == 0) {
      AppendNote(note, absl::StrFormat("case %s of %s: removed as term_ended at %s, but it has no "
                                       "fixed term (SPC rules Art. 2, 10)",
                                       c.record.case_code, c.id.Masked(), FormatInstant(at)));
    } else if (at < TermEndInstant(term_end)) {
      AppendNote(note, absl::StrFormat("case %s of %s: removed as term_ended at %s, but its term "
                                       "runs until %s (SPC rules Art. 10)",
                                       c.record.case_code, c.id.Masked(), FormatInstant(at),
                                       FormatDate(term_end)));
    }
  }
  const EndReason end = c.op == DeltaOp::kRevoke ? EndReason::kRevoked : c.reason;
  EndCopies(*e, static_cast<size_t>(i), c.record.case_code, at, end);
  e->EndCase(static_cast<size_t>(i), at, end);
  // Applied at a correction: the version the correction replaced ends then, as the case does.
  // "Corrected" alone never takes a case off the list, so that version, which as-of answers
  // and notices show, ends by the removal or revocation, its reason kept.
  for (size_t j = 0; j < e->case_count(); ++j) {
    const CaseView v = e->Head(j);
    if (v.end == EndReason::kCorrected && v.ended_at == at &&
        SameCaseCode(v.case_code, c.record.case_code)) {
      e->EndCase(j, at, end);
    }
  }
  return absl::OkStatus();
}

absl::Status OverlayApplier::Correct(const DeltaChange& c, std::string* note) {
  SHIXIN_ASSIGN_OR_RETURN(EntityDraft * e, Mutable(c.id));
  const int i = CurrentVersion(*e, c.record.case_code);
  if (i < 0) {
    // Say which of the three holds, and since when: the court decides what to send instead.
    const int last = LastVersion(*e, c.record.case_code);
    if (last < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("case %s of %s is unknown: a correct applies only to a case on the "
                          "list; to list it, send an add",
                          c.record.case_code, c.id.Masked()));
    }
    const CaseView v = e->Head(static_cast<size_t>(last));
    return absl::InvalidArgumentError(absl::StrFormat(
        "case %s of %s was %s at %s: a correct applies only to a case on the list; to list it "
        "again, send an add",
        c.record.case_code, c.id.Masked(),
        v.end == EndReason::kRevoked
            ? std::string("revoked")
            : absl::StrCat("removed (", std::string(EndReasonName(v.end)), ")"),
        FormatInstant(v.ended_at)));
  }
  int64_t at = EffectiveAt(*e, c, note);
  const int64_t from = e->intervals[static_cast<size_t>(i)].from;
  if (at < from) {  // the new version follows the one it replaces, never before its start
    *note = BeforeStartNote(c, at, from);
    at = from;
  }
  const size_t v = static_cast<size_t>(i);
  const CaseView replaced = DecodeCase(e->records.data() + e->offsets[v], e->RecordEnd(v));
  const std::string emptied = EmptiedKeys(replaced, c.record);
  if (!emptied.empty()) {
    AppendNote(note, absl::StrFormat("case %s of %s: the correction empties %s (a correct "
                                     "replaces the whole record)",
                                     c.record.case_code, c.id.Masked(), emptied));
  }
  EndCopies(*e, v, c.record.case_code, at, EndReason::kCorrected);
  e->EndCase(v, at, EndReason::kCorrected);
  CaseView record = c.record;
  record.start = std::max(record.start, at);
  // A new version that never counts, or that counts only later, takes the case off the list
  // from `at` on: what an add in that state is noted for, or a break in the listing.
  if (record.term_end != 0 && TermEndInstant(record.term_end) <= record.start) {
    AppendNote(note,
               absl::StrFormat("case %s of %s: its term ended on %s: it never counts",
                               c.record.case_code, c.id.Masked(), FormatDate(record.term_end)));
  } else if (record.start > at) {
    AppendNote(note, absl::StrFormat("case %s of %s: the corrected version counts from %s (its "
                                     "publishDate), not from %s: the case does not count between",
                                     c.record.case_code, c.id.Masked(), FormatInstant(record.start),
                                     FormatInstant(at)));
  }
  e->AddCase(record);
  if (!c.name.empty() && c.name != e->name) {
    // A subject has one name, not one per version: the operator is told it applies at once
    // (without the names: a note goes to the log).
    if (!e->name.empty()) {
      AppendNote(note, absl::StrFormat("case %s of %s: the correction renames the subject at once, "
                                       "in every answer now and as of any instant, not from %s "
                                       "(a name has no history)",
                                       c.record.case_code, c.id.Masked(), FormatInstant(at)));
    }
    e->name = c.name;
  }
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
    *note =
        absl::StrFormat("%s is %s of %s already", c.id.Masked(), RoleName(c.role), c.org.Masked());
    unchanged_ = true;
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
    *note = absl::StrFormat("%s is not %s of %s: nothing to end", c.id.Masked(), RoleName(c.role),
                            c.org.Masked());
    unchanged_ = true;
    return absl::OkStatus();
  }
  from_org->valid.until = c.at;
  from_person->valid.until = c.at;
  return absl::OkStatus();
}

absl::Status OverlayApplier::Apply(const DeltaChange& c, std::string* note) {
  unchanged_ = false;
  switch (c.op) {
    case DeltaOp::kAdd:
      return AddCase(c, note);
    case DeltaOp::kRemove:
    case DeltaOp::kRevoke:
      return EndCase(c, note);
    case DeltaOp::kCorrect:
      return Correct(c, note);
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
    table_->org_codes_ = previous->org_codes_;
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

namespace {

// Returns FailedPrecondition if, with `drafts` (a delta's states, not yet in `table`), no subject
// would be listed at `at` while one of them is before: the delta unlists the last listed.
absl::Status KeepsAListing(const Snapshot& base, const Overlay& table,
                           const std::vector<EntityDraft*>& drafts, std::string_view name,
                           int64_t at) {
  for (const EntityDraft* d : drafts) {
    if (BlockAt(d->intervals, at)) return absl::OkStatus();  // the common case: at once
  }
  absl::flat_hash_set<EntityNo> drafted_base;
  absl::flat_hash_set<PackedId, PackedIdHash> drafted_added;
  for (const EntityDraft* d : drafts) {
    if (d->base != kNoEntity) {
      drafted_base.insert(d->base);
    } else {
      drafted_added.insert(d->key);
    }
  }
  const ListView before(base, &table);
  if (before.AnyListed(at, [&](SubjectRef s) {
        return s.base != kNoEntity ? drafted_base.contains(s.base)
                                   : drafted_added.contains(s.changed->key());
      })) {
    return absl::OkStatus();
  }
  uint64_t unlisted = 0;
  for (const EntityDraft* d : drafts) {
    const SubjectRef s = d->base != kNoEntity ? before.Find(base.EntityId(d->base))
                                              : before.Find(Id::Unpack(d->key));
    if (s.found() && before.IsListed(s, at)) ++unlisted;
  }
  if (unlisted == 0) return absl::OkStatus();  // empty before it already (terms ran out)
  return absl::FailedPreconditionError(absl::StrFormat(
      "%s: it unlists the last %d subject(s) listed at %s, leaving the list empty: an "
      "empty list answers \"not listed\" for everyone (a feed cut short, a removal reason "
      "applied to all by mistake)",
      name, unlisted, FormatInstant(at)));
}

}  // namespace

// Returns the note on the adds and corrects of `delta` whose grounds give them a term they lack
// (core/grounds.h), on the first one's line; "" if none.
static std::string TermlessNote(const Delta& delta) {
  TermlessCases termless;
  uint64_t first_line = 0;
  for (const DeltaChange& c : delta.changes) {
    if (c.op != DeltaOp::kAdd && c.op != DeltaOp::kCorrect) continue;
    if (!TermlessFixedTermCase(c.record)) continue;
    termless.Add(c.record.case_code, c.record.start);
    if (first_line == 0) first_line = c.line;
  }
  if (termless.count() == 0) return "";
  return absl::StrFormat("%s:%d: %s", delta.name, first_line, termless.Note());
}

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
  std::vector<uint64_t> unchanged;  // the lines that changed nothing
  absl::Status refusal;
  for (const DeltaChange& c : delta.changes) {
    std::string note;
    const absl::Status s = applier.Apply(c, &note);
    if (s.ok() && note.empty()) continue;
    // Notes and refusals quote the line's values (a case code): escaped, as a parse's refusal
    // is (core/delta.cc), for the terminal and the log they are printed in.
    const std::string where = absl::StrFormat("%s:%d: %s: ", delta.name, c.line, DeltaOpName(c.op));
    if (!s.ok()) {
      const std::string_view message(s.message().data(), s.message().size());
      refusal = absl::Status(s.code(), where + TerminalSafe(message, Quoting::kKept));
      break;
    }
    notes.push_back(where + TerminalSafe(note, Quoting::kKept));
    if (applier.unchanged()) unchanged.push_back(c.line);
  }
  if (prepared != nullptr) prepared->Join();  // states built alongside: every helper is done
  if (!refusal.ok()) return refusal;
  if (keep_listed_at_ != 0) {
    SHIXIN_RETURN_IF_ERROR(
        KeepsAListing(base_, *table_, applier.drafts(), delta.name, keep_listed_at_));
  }
  report->changes += delta.changes.size();
  if (std::string note = TermlessNote(delta); !note.empty()) {
    report->notes.push_back(std::move(note));
  }
  for (std::string& note : notes) report->notes.push_back(std::move(note));
  for (uint64_t line : unchanged) report->unchanged.emplace_back(delta.sequence, line);

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
    table_->AddOrgCodeOf(state.key);
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
                                                          const Delta& delta, DeltaReport* report,
                                                          int64_t keep_listed_at) {
  OverlayBuilder builder(base, previous);
  builder.KeepListedAt(keep_listed_at);
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
