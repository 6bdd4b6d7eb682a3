#include "core/list.h"

#include <algorithm>
#include <cassert>

namespace shixin {

SubjectRef ListView::FromBase(EntityNo e) const {
  SubjectRef s{e, nullptr};
  if (overlay_ != nullptr && overlay_->Changed(e)) {
    s.changed = overlay_->Find(base_.EntityKey(e));
  }
  return s;
}

SubjectRef ListView::Find(const Id& id) const {
  const EntityNo e = base_.Find(id);
  if (e != kNoEntity) return FromBase(e);
  if (overlay_ == nullptr || id.empty()) return SubjectRef{};
  return SubjectRef{kNoEntity, overlay_->FindNamed(id.Pack())};
}

void ListView::FindBatch(std::span<const Id> ids, std::span<SubjectRef> out,
                         std::span<EntityNo> scratch) const {
  assert(ids.size() == out.size() && ids.size() == scratch.size());
  if (overlay_ == nullptr || overlay_->size() == 0) {
    base_.FindBatch(ids, scratch);
    for (size_t i = 0; i < ids.size(); ++i) out[i] = SubjectRef{scratch[i], nullptr};
    return;
  }
  // A group at a time, so that the base's keys and hashes are at hand for the overlay's.
  HashedId keys[Snapshot::kFindGroup];
  for (size_t at = 0; at < ids.size(); at += Snapshot::kFindGroup) {
    const size_t n = std::min(Snapshot::kFindGroup, ids.size() - at);
    base_.FindBatch(ids.subspan(at, n), scratch.subspan(at, n), std::span(keys, n));
    for (size_t i = 0; i < n; ++i) {
      const EntityNo e = scratch[at + i];
      if (e != kNoEntity && overlay_->Changed(e)) overlay_->Prefetch(base_.EntityKey(e));
    }
    for (size_t i = 0; i < n; ++i) {
      const EntityNo e = scratch[at + i];
      if (e != kNoEntity) {
        out[at + i] = FromBase(e);
      } else {
        out[at + i] = SubjectRef{kNoEntity, ids[at + i].empty()
                                                ? nullptr
                                                : overlay_->FindNamed(keys[i].key, keys[i].hash)};
      }
    }
  }
}

void ListView::PrefetchAnswers(std::span<const SubjectRef> found) const {
  for (const SubjectRef& s : found) {
    if (s.base != kNoEntity && s.changed == nullptr) base_.PrefetchAnswer(s.base);
  }
  // A second pass, one level deeper, once the first pass's lines are on their way.
  for (const SubjectRef& s : found) {
    if (s.base != kNoEntity && s.changed == nullptr) base_.PrefetchLinked(s.base);
  }
}

Id ListView::SubjectId(SubjectRef s) const {
  return s.changed != nullptr ? s.changed->id() : base_.EntityId(s.base);
}

std::string_view ListView::Name(SubjectRef s) const {
  return s.changed != nullptr ? s.changed->name() : base_.EntityName(s.base);
}

std::optional<Interval> ListView::ListingAt(SubjectRef s, int64_t t) const {
  if (s.changed == nullptr) return base_.ListingAt(s.base, t);
  const std::span<const Interval> blocks = s.changed->blocks();
  // The last block that starts at or before t.
  auto it = std::upper_bound(blocks.begin(), blocks.end(), t,
                             [](int64_t t, const Interval& b) { return t < b.from; });
  if (it == blocks.begin() || !(--it)->Contains(t)) return std::nullopt;
  // As the base stores it: a stretch begun before 1970 (a publishDate up to 1970-01-01) is
  // since 0, "since ever", the protocol's earliest (core/SNAPSHOT_FORMAT.md, "Listing").
  return Interval{std::max<int64_t>(it->from, 0), it->until};
}

bool ListView::IsListed(SubjectRef s, int64_t t) const {
  return s.changed == nullptr ? base_.IsListed(s.base, t) : ListingAt(s, t).has_value();
}

bool ListView::AnyListed(int64_t t, absl::FunctionRef<bool(SubjectRef)> skip) const {
  for (EntityNo e = 0; e < base_.entity_count(); ++e) {
    const SubjectRef s = FromBase(e);
    if (!skip(s) && IsListed(s, t)) return true;
  }
  if (overlay_ == nullptr) return false;
  bool listed = false;
  overlay_->ForEach([&](const OverlayEntity& e) {
    if (listed || base_.Find(e.id()) != kNoEntity) return;  // a base subject: seen above
    const SubjectRef s{kNoEntity, &e};
    listed = !skip(s) && IsListed(s, t);
  });
  return listed;
}

bool ListView::IsRelated(SubjectRef s, int64_t t) const {
  if (Kind(s) != SubjectKind::kPerson) return false;
  if (s.changed == nullptr && (overlay_ == nullptr || overlay_->size() == 0)) {
    return base_.IsRelated(s.base, t);
  }
  bool related = false;
  ForEachRole(s, t, [&](const RoleLink& l) { related |= l.other.found() && IsListed(l.other, t); });
  return related;
}

uint32_t ListView::CaseCount(SubjectRef s) const {
  return s.changed != nullptr ? static_cast<uint32_t>(s.changed->case_count())
                              : base_.CaseCount(s.base);
}

absl::StatusOr<std::span<const CaseView>> ListView::ReadCases(SubjectRef s,
                                                              CaseBuffer& buffer) const {
  if (s.changed != nullptr) {
    buffer.cases_.clear();
    for (size_t i = 0; i < s.changed->case_count(); ++i) {
      buffer.cases_.push_back(s.changed->Case(i));
    }
    return std::span<const CaseView>(buffer.cases_);
  }
  return base_.ReadCases(base_.FirstCase(s.base), base_.CaseCount(s.base), buffer);
}

}  // namespace shixin
