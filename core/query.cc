#include "core/query.h"

#include "base/enum_names.h"
#include "base/status_macros.h"

namespace shixin {

absl::StatusOr<CheckResult> Check(const Snapshot& snap, const Id& id, bool with_cases) {
  CheckResult r;
  r.id = std::string(id.text());
  r.kind = id.subject_kind();
  const EntityNo e = snap.Find(id);
  if (e == kNoEntity) return r;
  r.listed = snap.IsListed(e);
  r.related = snap.IsRelated(e);
  r.name = std::string(snap.EntityName(e));
  if (with_cases) {
    CaseBuffer buffer;
    SHIXIN_ASSIGN_OR_RETURN(const std::span<const CaseView> cases,
                            snap.ReadCases(snap.FirstCase(e), snap.CaseCount(e), buffer));
    r.cases.reserve(cases.size());
    for (const CaseView& c : cases) r.cases.push_back(ConvertCase<CaseInfo>(c));
  }
  std::vector<RoleInfo>& links = r.kind == SubjectKind::kPerson ? r.roles : r.officers;
  for (uint32_t i = 0; i < snap.LinkCount(e); ++i) {
    const LinkView link = snap.Link(e, i);
    links.push_back(RoleInfo{link.role, std::string(snap.EntityId(link.other).text()),
                             std::string(snap.EntityName(link.other)), snap.IsListed(link.other)});
  }
  return r;
}

std::string_view BasisTypeName(BasisType type) {
  static constexpr std::string_view kNames[] = {"listed", "related", "officer"};
  return EnumName(type, kNames, "unknown");
}

}  // namespace shixin
