#include "core/overlay.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "core/case_codec.h"

namespace shixin {

CaseView OverlayEntity::Case(size_t i) const {
  const char* begin = records_.data() + offsets_[i];
  const char* end = i + 1 < offsets_.size() ? records_.data() + offsets_[i + 1]
                                            : records_.data() + records_.size();
  return DecodeCase(begin, end);
}

size_t OverlayEntity::Bytes() const {
  return sizeof(*this) + name.capacity() + links.capacity() * sizeof(OverlayLink) +
         records_.capacity() + offsets_.capacity() * sizeof(uint32_t) +
         blocks_.capacity() * sizeof(Interval);
}

void OverlayEntity::AddCase(const CaseView& c) {
  offsets_.push_back(static_cast<uint32_t>(records_.size()));
  EncodeCase(c, &records_);
}

void OverlayEntity::EndCase(size_t i, int64_t at, EndReason end) {
  // Re-encode every version: the record's size may change, the rest must move.
  std::vector<std::string> records;
  for (size_t k = 0; k < case_count(); ++k) {
    CaseView c = Case(k);
    if (k == i) {
      c.ended_at = at;
      c.end = end;
    }
    records.emplace_back();
    EncodeCase(c, &records.back());
  }
  records_.clear();
  for (size_t k = 0; k < records.size(); ++k) {
    offsets_[k] = static_cast<uint32_t>(records_.size());
    records_ += records[k];
  }
}

void OverlayEntity::Finish() {
  std::vector<Interval> intervals;
  for (size_t i = 0; i < case_count(); ++i) intervals.push_back(CaseInterval(Case(i)));
  blocks_ = MergeIntervals(std::move(intervals));
  records_.shrink_to_fit();
}

size_t Overlay::Bytes() const {
  size_t n = entities_.capacity() * (sizeof(PackedId) + sizeof(std::shared_ptr<OverlayEntity>)) +
             changed_base_.size() * sizeof(uint64_t);
  for (const auto& [id, e] : entities_) n += e->Bytes();
  return n;
}

namespace {

// Case numbers are compared with full-width brackets as ASCII ones: feeds write both.
std::string CaseKey(std::string_view code) {
  std::string key(code);
  for (const auto& [wide, ascii] : {std::pair<std::string_view, std::string_view>{"（", "("},
                                    std::pair<std::string_view, std::string_view>{"）", ")"}}) {
    for (size_t at = key.find(wide); at != std::string::npos; at = key.find(wide, at)) {
      key.replace(at, wide.size(), ascii);
    }
  }
  return key;
}

// The subjects one delta changes, materialised on first touch, then edited in place.
class Applier {
 public:
  Applier(const Snapshot& base, const Overlay* previous) : base_(base), previous_(previous) {}

  // Returns the key (canonical packed ID) of `id`: its base entity's, or its own.
  PackedId KeyOf(const Id& id) const {
    const EntityNo e = base_.Find(id);
    return e != kNoEntity ? base_.EntityId(e).Pack() : id.Pack();
  }

  // Returns the editable state of `id`, from this delta, the previous overlay or the base.
  absl::StatusOr<OverlayEntity*> Mutable(const Id& id);

  // Applies one line: returns an error refusing the delta, or OK (with a note, maybe).
  absl::Status Apply(const DeltaChange& c, std::string* note);

  absl::flat_hash_map<PackedId, std::shared_ptr<OverlayEntity>, PackedIdHash>& touched() {
    return touched_;
  }

 private:
  absl::Status AddCase(const DeltaChange& c);
  absl::Status EndCase(const DeltaChange& c, std::string* note);
  absl::Status Correct(const DeltaChange& c);
  absl::Status Relate(const DeltaChange& c, std::string* note);
  absl::Status Unrelate(const DeltaChange& c, std::string* note);

  const Snapshot& base_;
  const Overlay* previous_;
  absl::flat_hash_map<PackedId, std::shared_ptr<OverlayEntity>, PackedIdHash> touched_;
};

absl::StatusOr<OverlayEntity*> Applier::Mutable(const Id& id) {
  const EntityNo e = base_.Find(id);
  const PackedId key = e != kNoEntity ? base_.EntityId(e).Pack() : id.Pack();
  if (auto it = touched_.find(key); it != touched_.end()) return it->second.get();
  std::shared_ptr<OverlayEntity> state;
  if (const OverlayEntity* old = previous_ != nullptr ? previous_->Find(key) : nullptr) {
    state = std::make_shared<OverlayEntity>(*old);  // copy on write
  } else {
    state = std::make_shared<OverlayEntity>();
    state->id = e != kNoEntity ? base_.EntityId(e) : id;
    if (e != kNoEntity) {
      state->name = std::string(base_.EntityName(e));
      CaseBuffer buffer;
      SHIXIN_ASSIGN_OR_RETURN(const std::span<const CaseView> cases,
                              base_.ReadCases(base_.FirstCase(e), base_.CaseCount(e), buffer));
      for (const CaseView& c : cases) state->AddCase(c);
      for (uint32_t i = 0; i < base_.LinkCount(e); ++i) {
        const LinkView link = base_.Link(e, i);
        state->links.push_back(
            OverlayLink{base_.EntityId(link.other).Pack(), link.role, base_.LinkValid(e, i)});
      }
    }
    state->Finish();
  }
  return touched_.emplace(key, std::move(state)).first->second.get();
}

// Returns the index of the version of case `code` that has not ended by a change, or -1.
int CurrentVersion(const OverlayEntity& e, std::string_view code) {
  const std::string key = CaseKey(code);
  for (size_t i = e.case_count(); i-- > 0;) {
    const CaseView c = e.Case(i);
    if (c.end == EndReason::kNone && CaseKey(c.case_code) == key) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

absl::Status Applier::AddCase(const DeltaChange& c) {
  SHIXIN_ASSIGN_OR_RETURN(OverlayEntity * e, Mutable(c.id));
  const int i = CurrentVersion(*e, c.record.case_code);
  if (i >= 0 && CaseInterval(e->Case(static_cast<size_t>(i))).until > c.record.start) {
    return absl::InvalidArgumentError(
        absl::StrFormat("case %s of %s is listed already", c.record.case_code, c.id.text()));
  }
  if (e->name.empty()) e->name = c.name;
  e->AddCase(ConvertCase<CaseView>(c.record));
  e->Finish();
  return absl::OkStatus();
}

absl::Status Applier::EndCase(const DeltaChange& c, std::string* note) {
  SHIXIN_ASSIGN_OR_RETURN(OverlayEntity * e, Mutable(c.id));
  const int i = CurrentVersion(*e, c.record.case_code);
  if (i < 0 || !(c.at < CaseInterval(e->Case(static_cast<size_t>(i))).until)) {
    *note = absl::StrFormat("case %s of %s %s: nothing to end", c.record.case_code, c.id.text(),
                            i < 0 ? "is not in the list" : "no longer counts");
    return absl::OkStatus();
  }
  e->EndCase(static_cast<size_t>(i), c.at,
             c.op == DeltaOp::kRevoke ? EndReason::kRevoked : c.reason);
  e->Finish();
  return absl::OkStatus();
}

absl::Status Applier::Correct(const DeltaChange& c) {
  SHIXIN_ASSIGN_OR_RETURN(OverlayEntity * e, Mutable(c.id));
  const int i = CurrentVersion(*e, c.record.case_code);
  if (i < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "case %s of %s is unknown, removed or revoked", c.record.case_code, c.id.text()));
  }
  e->EndCase(static_cast<size_t>(i), c.at, EndReason::kCorrected);
  e->AddCase(ConvertCase<CaseView>(c.record));
  if (!c.name.empty()) e->name = c.name;
  e->Finish();
  return absl::OkStatus();
}

// Returns the link of `e` to `other` in `role` that has no end yet, or null.
OverlayLink* OpenLink(OverlayEntity& e, const PackedId& other, Role role) {
  for (OverlayLink& l : e.links) {
    if (l.other == other && l.role == role && l.valid.until == kForever) return &l;
  }
  return nullptr;
}

absl::Status Applier::Relate(const DeltaChange& c, std::string* note) {
  SHIXIN_ASSIGN_OR_RETURN(OverlayEntity * org, Mutable(c.org));
  SHIXIN_ASSIGN_OR_RETURN(OverlayEntity * person, Mutable(c.id));
  const PackedId org_key = KeyOf(c.org);
  const PackedId person_key = KeyOf(c.id);
  if (OpenLink(*org, person_key, c.role) != nullptr) {
    *note = absl::StrFormat("%s is %s of %s already", c.id.text(), RoleName(c.role), c.org.text());
    return absl::OkStatus();
  }
  org->links.push_back(OverlayLink{person_key, c.role, Interval{c.at, kForever}});
  person->links.push_back(OverlayLink{org_key, c.role, Interval{c.at, kForever}});
  if (person->name.empty()) person->name = c.name;
  return absl::OkStatus();
}

absl::Status Applier::Unrelate(const DeltaChange& c, std::string* note) {
  SHIXIN_ASSIGN_OR_RETURN(OverlayEntity * org, Mutable(c.org));
  SHIXIN_ASSIGN_OR_RETURN(OverlayEntity * person, Mutable(c.id));
  OverlayLink* from_org = OpenLink(*org, KeyOf(c.id), c.role);
  OverlayLink* from_person = OpenLink(*person, KeyOf(c.org), c.role);
  if (from_org == nullptr || from_person == nullptr || c.at < from_org->valid.from) {
    *note = absl::StrFormat("%s is not %s of %s: nothing to end", c.id.text(), RoleName(c.role),
                            c.org.text());
    return absl::OkStatus();
  }
  from_org->valid.until = c.at;
  from_person->valid.until = c.at;
  return absl::OkStatus();
}

absl::Status Applier::Apply(const DeltaChange& c, std::string* note) {
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

}  // namespace

absl::StatusOr<std::unique_ptr<const Overlay>> ApplyDelta(const Snapshot& base,
                                                          const Overlay* previous,
                                                          const Delta& delta, DeltaReport* report) {
  // The base contains the deltas up to its own sequence (compaction folded them in).
  const uint64_t last = previous != nullptr ? previous->sequence() : base.info().delta_sequence;
  if (delta.sequence != last + 1) {
    return absl::FailedPreconditionError(absl::StrCat(delta.name, ": delta ", delta.sequence,
                                                      " does not follow ", last, " (expected ",
                                                      last + 1, ")"));
  }
  Applier applier(base, previous);
  for (const DeltaChange& c : delta.changes) {
    std::string note;
    const absl::Status s = applier.Apply(c, &note);
    const std::string where = absl::StrFormat("%s:%d: %s: ", delta.name, c.line, DeltaOpName(c.op));
    if (!s.ok()) return absl::Status(s.code(), where + std::string(s.message()));
    if (!note.empty()) report->notes.push_back(where + note);
  }
  report->changes += delta.changes.size();

  std::unique_ptr<Overlay> next(new Overlay());
  if (previous != nullptr) {
    next->entities_ = previous->entities_;
    next->changed_base_ = previous->changed_base_;
  }
  next->changed_base_.resize((base.entity_count() + 63) / 64);
  next->sequence_ = delta.sequence;
  for (auto& [key, state] : applier.touched()) {
    state->Finish();
    const EntityNo e = base.Find(state->id);
    if (e != kNoEntity) next->changed_base_[e / 64] |= uint64_t{1} << (e % 64);
    next->entities_[key] = std::move(state);
  }
  return std::unique_ptr<const Overlay>(std::move(next));
}

}  // namespace shixin
