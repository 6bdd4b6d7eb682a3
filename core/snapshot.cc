#include "core/snapshot.h"

#include <sys/mman.h>

#include <algorithm>
#include <cassert>
#include <cstring>

#include "core/case_codec.h"

namespace shixin {
namespace {

constexpr uint32_t kKindShift = 30;

}  // namespace

Snapshot::Snapshot() = default;
Snapshot::~Snapshot() = default;

Snapshot::Mapping::~Mapping() {
  munmap(address, size);
  FreeHuge(hot, hot_size);
}

void Snapshot::ViewOwnedStorage() {
  entities_ = entity_storage_;
  names_ = name_storage_;
  links_ = link_storage_;
  case_offsets_ = case_offset_storage_;
  case_blob_ = case_blob_storage_;
}

PackedId Snapshot::OrgCodeKey(EntityNo e) const {
  return Id::Unpack(entities_[e].id).EmbeddedOrgCode().Pack();
}

EntityNo Snapshot::FindPacked(const PackedId& id, uint64_t hash) const {
  EntityNo e = index_.Find(hash, [&](EntityNo c) { return entities_[c].id == id; });
  if (e == kNoEntity && static_cast<IdKind>(id.w[2] >> kKindShift) == IdKind::kOrgCode) {
    e = org_code_index_.Find(hash, [&](EntityNo c) { return OrgCodeKey(c) == id; });
  }
  return e;
}

EntityNo Snapshot::Find(const Id& id) const {
  if (id.empty()) return kNoEntity;
  const PackedId packed = id.Pack();
  return FindPacked(packed, HashPackedId(packed));
}

void Snapshot::FindBatch(std::span<const Id> ids, std::span<EntityNo> out) const {
  assert(ids.size() == out.size());
  // A three-stage pipeline keeps many cache misses in flight: the bucket of lookup i + 2W is
  // prefetched, the candidate entity of lookup i + W is prefetched, and lookup i is verified.
  // On this class of machine a dependent miss costs hundreds of nanoseconds, an overlapped
  // one tens.
  constexpr size_t kWindow = 16;
  constexpr size_t kChunk = 256;
  PackedId packed[kChunk];
  uint64_t hash[kChunk];
  EntityNo candidate[kChunk];
  for (size_t base = 0; base < ids.size(); base += kChunk) {
    const size_t n = std::min(kChunk, ids.size() - base);
    for (size_t i = 0; i < n + 2 * kWindow; ++i) {
      if (i < n) {
        packed[i] = ids[base + i].Pack();
        hash[i] = HashPackedId(packed[i]);
        index_.Prefetch(hash[i]);
      }
      if (i >= kWindow && i - kWindow < n) {
        const size_t j = i - kWindow;
        candidate[j] = ids[base + j].empty() ? kNoEntity : index_.FirstCandidate(hash[j]);
        if (candidate[j] != kNoEntity) __builtin_prefetch(&entities_[candidate[j]]);
      }
      if (i >= 2 * kWindow) {
        const size_t k = i - 2 * kWindow;
        const EntityNo c = candidate[k];
        out[base + k] = c != kNoEntity && entities_[c].id == packed[k] ? c
                        : ids[base + k].empty()                        ? kNoEntity
                                                : FindPacked(packed[k], hash[k]);
      }
    }
  }
}

SubjectKind Snapshot::EntityKind(EntityNo e) const {
  const auto kind = static_cast<IdKind>(entities_[e].id.w[2] >> kKindShift);
  return kind == IdKind::kResident ? SubjectKind::kPerson : SubjectKind::kOrganization;
}

std::string_view Snapshot::EntityName(EntityNo e) const {
  const uint32_t begin = entities_[e].name_begin;
  return names_.substr(begin, entities_[e + 1].name_begin - begin);
}

bool Snapshot::IsRelated(EntityNo e) const {
  if (EntityKind(e) != SubjectKind::kPerson) return false;
  const uint32_t n = LinkCount(e);
  for (uint32_t i = 0; i < n; ++i) {
    if (IsListed(Link(e, i).other)) return true;
  }
  return false;
}

LinkView Snapshot::Link(EntityNo e, uint32_t i) const {
  const uint32_t packed = links_[entities_[e].link_begin + i];
  return LinkView{packed >> 3, static_cast<Role>(packed & 7)};
}

CaseView Snapshot::Case(uint32_t c) const {
  // Bounded by the blob's end: a mapped file's offsets are checked to lie within the blob, and
  // the decoder reads nothing beyond it.
  return DecodeCase(case_blob_.data() + case_offsets_[c], case_blob_.data() + case_blob_.size());
}

size_t Snapshot::IndexBytes() const {
  const size_t index_bytes = index_.bytes() + org_code_index_.bytes();
  return entities_.size_bytes() + names_.size() + links_.size_bytes() + index_bytes;
}

size_t Snapshot::CaseBytes() const { return case_offsets_.size_bytes() + case_blob_.size(); }

}  // namespace shixin
