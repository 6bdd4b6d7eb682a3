#include "core/query.h"

namespace shixin {
namespace {

CaseInfo ToCaseInfo(const CaseView& v) {
  CaseInfo c;
  c.case_code = v.case_code;
  c.court = v.court;
  c.area = v.area;
  c.gist_id = v.gist_id;
  c.gist_unit = v.gist_unit;
  c.duty = v.duty;
  c.performance = v.performance;
  c.performed_part = v.performed_part;
  c.unperform_part = v.unperform_part;
  c.disrupt_type = v.disrupt_type;
  c.business_entity = v.business_entity;
  c.reg_date = v.reg_date;
  c.publish_date = v.publish_date;
  c.age = v.age;
  c.sex = v.sex;
  return c;
}

}  // namespace

CheckResult Check(const Snapshot& snap, const Id& id, bool with_cases) {
  CheckResult r;
  r.id = std::string(id.text());
  r.kind = id.subject_kind();
  const EntityNo e = snap.Find(id);
  if (e == kNoEntity) return r;
  r.listed = snap.IsListed(e);
  r.related = snap.IsRelated(e);
  r.name = std::string(snap.EntityName(e));
  if (with_cases) {
    const uint32_t first = snap.FirstCase(e);
    for (uint32_t i = 0; i < snap.CaseCount(e); ++i)
      r.cases.push_back(ToCaseInfo(snap.Case(first + i)));
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
  switch (type) {
    case BasisType::kListed:
      return "listed";
    case BasisType::kRelated:
      return "related";
    case BasisType::kOfficer:
      return "officer";
  }
  return "unknown";
}

}  // namespace shixin
