#include "core/snapshot.h"

#include <cassert>
#include <cstring>

#include "core/case_codec.h"

namespace shixin {
namespace {

constexpr uint32_t kKindShift = 30;

}  // namespace

Snapshot::Snapshot()
    : index_(0, EntityHash{&entities_, false}, EntityEq{&entities_, false}),
      org_code_index_(0, EntityHash{&entities_, true}, EntityEq{&entities_, true}) {}

PackedId Snapshot::EntityEq::Key(EntityNo e) const {
  const PackedId& id = (*entities)[e].id;
  if (!by_org_code) return id;
  return Id::Unpack(id).EmbeddedOrgCode().Pack();
}

size_t Snapshot::EntityHash::operator()(EntityNo e) const {
  return HashPackedId(EntityEq{entities, by_org_code}.Key(e));
}

EntityNo Snapshot::FindPacked(const PackedId& id) const {
  auto it = index_.find(id);
  return it == index_.end() ? kNoEntity : *it;
}

EntityNo Snapshot::Find(const Id& id) const {
  if (id.empty()) return kNoEntity;
  const PackedId packed = id.Pack();
  EntityNo e = FindPacked(packed);
  if (e == kNoEntity && id.kind() == IdKind::kOrgCode) {
    auto it = org_code_index_.find(packed);
    if (it != org_code_index_.end()) e = *it;
  }
  return e;
}

void Snapshot::FindBatch(std::span<const Id> ids, std::span<EntityNo> out) const {
  assert(ids.size() == out.size());
  // Prefetch the table group of the query kAhead places ahead, so that several cache misses
  // are in flight at once instead of one per lookup.
  constexpr size_t kAhead = 8;
  const size_t n = ids.size();
  for (size_t i = 0; i < n && i < kAhead; ++i) index_.prefetch(ids[i].Pack());
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) index_.prefetch(ids[i + kAhead].Pack());
    out[i] = Find(ids[i]);
  }
}

SubjectKind Snapshot::EntityKind(EntityNo e) const {
  const auto kind = static_cast<IdKind>(entities_[e].id.w[2] >> kKindShift);
  return kind == IdKind::kResident ? SubjectKind::kPerson : SubjectKind::kOrganization;
}

std::string_view Snapshot::EntityName(EntityNo e) const {
  const uint32_t begin = entities_[e].name_begin;
  return std::string_view(names_).substr(begin, entities_[e + 1].name_begin - begin);
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
  return DecodeCase(case_blob_.data() + case_offsets_[c]);
}

size_t Snapshot::IndexBytes() const {
  // A flat_hash_set slot costs its element plus one control byte.
  const size_t index_bytes =
      (index_.capacity() + org_code_index_.capacity()) * (sizeof(EntityNo) + 1);
  return entities_.capacity() * sizeof(Entity) + names_.capacity() +
         links_.capacity() * sizeof(uint32_t) + index_bytes;
}

size_t Snapshot::CaseBytes() const {
  return case_offsets_.capacity() * sizeof(uint64_t) + case_blob_.capacity();
}

}  // namespace shixin
