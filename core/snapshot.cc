#include "core/snapshot.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/case_codec.h"
#include "core/link.h"

namespace shixin {
namespace {

bool IsOrgCode(const PackedId& id) { return PackedKind(id) == IdKind::kOrgCode; }

}  // namespace

Snapshot::Snapshot() = default;
Snapshot::~Snapshot() = default;

void Snapshot::ViewOwnedStorage() {
  entities_ = entity_storage_;
  names_ = name_storage_;
  links_ = link_storage_;
  blocks_ = block_storage_;
  link_intervals_ = link_interval_storage_;
  case_offsets_ = case_offset_storage_;
  case_blob_ = case_blob_storage_;
}

PackedId Snapshot::OrgCodeKey(EntityNo e) const { return EmbeddedOrgCodeKey(entities_[e].id).key; }

EntityNo Snapshot::FindEmbedded(const HashedId& embedded) const {
  return index_.Find(embedded.hash, [&](EntityNo c) { return entities_[c].id == embedded.key; });
}

EntityNo Snapshot::FindPacked(const PackedId& id, uint64_t hash) const {
  const EntityNo e = index_.Find(hash, [&](EntityNo c) { return entities_[c].id == id; });
  if (e != kNoEntity) return e;
  switch (PackedKind(id)) {
    case IdKind::kOrgCode:
      return org_code_index_.Find(hash, [&](EntityNo c) { return OrgCodeKey(c) == id; });
    case IdKind::kCreditCode:
      return HasOrgCodeEntities() ? FindEmbedded(EmbeddedOrgCodeKey(id)) : kNoEntity;
    default:
      return kNoEntity;
  }
}

EntityNo Snapshot::Find(const Id& id) const {
  if (id.empty()) return kNoEntity;
  const PackedId packed = id.Pack();
  return FindPacked(packed, HashPackedId(packed));
}

void Snapshot::FindBatch(std::span<const Id> ids, std::span<EntityNo> out) const {
  assert(ids.size() == out.size());
  HashedId keys[kFindGroup];
  for (size_t at = 0; at < ids.size(); at += kFindGroup) {
    FindGroup(ids.data() + at, std::min(kFindGroup, ids.size() - at), out.data() + at, keys);
  }
}

void Snapshot::FindBatch(std::span<const Id> ids, std::span<EntityNo> out,
                         std::span<HashedId> keys) const {
  assert(ids.size() == out.size() && ids.size() == keys.size());
  for (size_t at = 0; at < ids.size(); at += kFindGroup) {
    FindGroup(ids.data() + at, std::min(kFindGroup, ids.size() - at), out.data() + at,
              keys.data() + at);
  }
}

void Snapshot::FindGroup(const Id* ids, size_t n, EntityNo* out, HashedId* keys) const {
  // Group prefetching: each stage runs over a whole group before the next stage starts, so
  // the lines one stage prefetches arrive while it works on the rest of the group (a group's
  // packing and hashing takes longer than a miss). On this class of machine a dependent miss
  // costs hundreds of nanoseconds, overlapped ones a few each.
  EntityNo candidate[kFindGroup];
  for (size_t i = 0; i < n; ++i) {
    keys[i].key = ids[i].Pack();
    keys[i].hash = HashPackedId(keys[i].key);
    index_.Prefetch(keys[i].hash);
  }
  // A credit code no fingerprint matched is looked up again, as the organisation code it
  // embeds, once the group's other lines have had time to arrive (its own stage below).
  uint32_t credit_misses[kFindGroup];
  HashedId embedded[kFindGroup];
  size_t credit_miss_count = 0;
  const bool bare_org_codes = HasOrgCodeEntities();
  for (size_t i = 0; i < n; ++i) {
    candidate[i] = ids[i].empty() ? kNoEntity : index_.FirstCandidate(keys[i].hash);
    if (candidate[i] != kNoEntity) {
      __builtin_prefetch(&entities_[candidate[i]]);
    } else if (bare_org_codes && !ids[i].empty() &&
               PackedKind(keys[i].key) == IdKind::kCreditCode) {
      embedded[credit_miss_count] = EmbeddedOrgCodeKey(keys[i].key);
      index_.Prefetch(embedded[credit_miss_count].hash);
      credit_misses[credit_miss_count++] = static_cast<uint32_t>(i);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const EntityNo c = candidate[i];
    const PackedId& key = keys[i].key;
    if (c != kNoEntity && entities_[c].id == key) {
      out[i] = c;
    } else if (ids[i].empty() || (c == kNoEntity && !IsOrgCode(key))) {
      out[i] = kNoEntity;  // no fingerprint matched: not in the index
    } else {
      out[i] = FindPacked(key, keys[i].hash);  // a fingerprint collision, or an org code
    }
  }
  for (size_t j = 0; j < credit_miss_count; ++j) {
    out[credit_misses[j]] = FindEmbedded(embedded[j]);
  }
}

SubjectKind Snapshot::EntityKind(EntityNo e) const {
  return PackedKind(entities_[e].id) == IdKind::kResident ? SubjectKind::kPerson
                                                          : SubjectKind::kOrganization;
}

std::string_view Snapshot::EntityName(EntityNo e) const {
  const uint32_t begin = entities_[e].name_begin;
  return names_.substr(begin, entities_[e + 1].name_begin - begin);
}

std::optional<Interval> Snapshot::ListingAt(EntityNo e, int64_t t) const {
  if (!Listable(t)) return std::nullopt;
  const uint32_t at = StoredTime(t);
  const Entity& entity = entities_[e];
  if (at >= entity.listed_from) {
    if (at >= entity.listed_until) return std::nullopt;
    return Interval{Instant(entity.listed_from), Instant(entity.listed_until)};
  }
  // Before its last block: one of its earlier blocks, if it has any (few entities do).
  auto it = std::upper_bound(blocks_.begin(), blocks_.end(), Block{e, at, 0});
  if (it == blocks_.begin()) return std::nullopt;
  --it;
  if (it->entity != e || at >= it->until) return std::nullopt;
  return Interval{Instant(it->from), Instant(it->until)};
}

bool Snapshot::IsListed(EntityNo e, int64_t t) const {
  if (!Listable(t)) return false;
  const Entity& entity = entities_[e];
  const uint32_t at = StoredTime(t);
  // The common case, answered from the entity's own line.
  if (at >= entity.listed_from) return at < entity.listed_until;
  return ListingAt(e, t).has_value();
}

bool Snapshot::IsRelated(EntityNo e, int64_t t) const {
  if (EntityKind(e) != SubjectKind::kPerson) return false;
  const uint32_t n = LinkCount(e);
  if (link_intervals_.empty()) {  // every link holds always: the common case, kept lean
    for (uint32_t i = 0; i < n; ++i) {
      if (IsListed(Link(e, i).other, t)) return true;
    }
    return false;
  }
  // The dated links of `e`, walked alongside its links.
  const uint32_t begin = entities_[e].link_begin;
  auto dated = std::lower_bound(link_intervals_.begin(), link_intervals_.end(), begin,
                                [](const LinkInterval& l, uint32_t link) { return l.link < link; });
  const uint32_t at = StoredTime(t);
  for (uint32_t i = 0; i < n; ++i) {
    if (dated != link_intervals_.end() && dated->link == begin + i) {
      const bool holds = Listable(t) && at >= dated->from && at < dated->until;
      ++dated;
      if (!holds) continue;
    }
    if (IsListed(Link(e, i).other, t)) return true;
  }
  return false;
}

Interval Snapshot::LinkValid(EntityNo e, uint32_t i) const {
  if (link_intervals_.empty()) return Interval{};  // every link holds always
  const uint32_t link = entities_[e].link_begin + i;
  auto it = std::lower_bound(link_intervals_.begin(), link_intervals_.end(), link,
                             [](const LinkInterval& l, uint32_t n) { return l.link < n; });
  if (it == link_intervals_.end() || it->link != link) return Interval{};
  return Interval{Instant(it->from), Instant(it->until)};
}

LinkView Snapshot::Link(EntityNo e, uint32_t i) const {
  const DecodedLink link = DecodeLink(links_[entities_[e].link_begin + i]);
  return LinkView{link.other, static_cast<Role>(link.role)};
}

absl::StatusOr<std::span<const CaseView>> Snapshot::ReadCases(uint32_t first, uint32_t count,
                                                              CaseBuffer& buffer) const {
  if (file_ != nullptr) return file_->ReadCases(first, count, buffer);
  // A built snapshot keeps its records in arrival order: each is bounded by the blob's end only.
  buffer.cases_.clear();
  const char* end = case_blob_.data() + case_blob_.size();
  for (uint32_t c = first; c < first + count; ++c) {
    buffer.cases_.push_back(DecodeCase(case_blob_.data() + case_offsets_[c], end));
  }
  return std::span<const CaseView>(buffer.cases_);
}

absl::StatusOr<CaseRecords> Snapshot::ReadCaseRecords(uint32_t first, uint32_t count,
                                                      CaseBuffer& buffer,
                                                      OnCacheMiss on_miss) const {
  if (file_ != nullptr) return file_->ReadCaseRecords(first, count, buffer, on_miss);
  buffer.built_records_.clear();
  buffer.record_offsets_.clear();
  const char* end = case_blob_.data() + case_blob_.size();
  for (uint32_t c = first; c < first + count; ++c) {
    const char* record = case_blob_.data() + case_offsets_[c];
    size_t size = 0;
    DecodeCase(record, end, &size);
    buffer.record_offsets_.push_back(static_cast<uint32_t>(buffer.built_records_.size()));
    buffer.built_records_.append(record, size);
  }
  return CaseRecords{buffer.built_records_, buffer.record_offsets_};
}

void Snapshot::ReadCaseRecordsBatch(std::span<CaseRecordsRead> reads, OnCacheMiss on_miss) const {
  if (file_ != nullptr) return file_->ReadCaseRecordsBatch(reads, on_miss);
  for (CaseRecordsRead& r : reads) r.result = ReadCaseRecords(r.first, r.count, *r.buffer, on_miss);
}

void Snapshot::BuildIndexes() {
  const auto n = static_cast<EntityNo>(entity_count());
  index_ = IdIndex::Build(
      n, n, [](uint32_t i) { return i; },
      [this](uint32_t e) { return HashPackedId(entities_[e].id); });
  std::vector<EntityNo> credit_codes;
  for (EntityNo e = 0; e < n; ++e) {
    if (PackedKind(entities_[e].id) == IdKind::kCreditCode) credit_codes.push_back(e);
  }
  org_code_index_ = IdIndex::Build(
      static_cast<uint32_t>(credit_codes.size()), n, [&](uint32_t i) { return credit_codes[i]; },
      [this](uint32_t e) { return HashPackedId(OrgCodeKey(e)); });
}

size_t Snapshot::IndexBytes() const {
  const size_t index_bytes = index_.bytes() + org_code_index_.bytes();
  return entities_.size_bytes() + names_.size() + links_.size_bytes() + blocks_.size_bytes() +
         link_intervals_.size_bytes() + index_bytes;
}

size_t Snapshot::CaseBytes() const {
  return file_ != nullptr ? file_->CaseBytes() : case_offsets_.size_bytes() + case_blob_.size();
}

std::string EmptyListReason(const SnapshotInfo& info) {
  if (info.cases == 0) return "no valid record in debtors.ndjson";
  return absl::StrFormat(
      "none of its %d cases counts at %s: each is in its grace period (publishDate later) or "
      "ended",
      info.cases, FormatInstant(info.build_time));
}

}  // namespace shixin
