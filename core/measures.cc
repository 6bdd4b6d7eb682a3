// Measures(): which measures of a catalog apply to a subject, and on what basis.
#include <algorithm>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "core/query.h"

namespace shixin {
namespace {

// The facts about a subject that measure rules test, gathered once per query.
struct Grounds {
  bool listed = false;
  SubjectKind kind = SubjectKind::kPerson;
  // Persons: (role, listed organisation) for each role held in a listed organisation.
  std::vector<std::pair<Role, EntityNo>> related;
  // Organisations: officers (role, id, entity or kNoEntity), from the caller and the feed.
  std::vector<std::tuple<Role, Id, EntityNo>> officers;
  int64_t at = 0;  // the instant asked about
};

// Merges the caller's officers with those the relations feed knows for organisation `e`.
void CollectOfficers(const Snapshot& snap, EntityNo e, const std::vector<Officer>& given,
                     Grounds* g) {
  for (const Officer& o : given) g->officers.emplace_back(o.role, o.id, snap.Find(o.id));
  if (e != kNoEntity) {
    for (uint32_t i = 0; i < snap.LinkCount(e); ++i) {
      const LinkView link = snap.Link(e, i);
      g->officers.emplace_back(link.role, snap.EntityId(link.other), link.other);
    }
  }
  auto key = [](const auto& o) { return std::make_tuple(std::get<0>(o), std::get<1>(o).text()); };
  std::sort(g->officers.begin(), g->officers.end(),
            [&](const auto& a, const auto& b) { return key(a) < key(b); });
  g->officers.erase(std::unique(g->officers.begin(), g->officers.end(),
                                [&](const auto& a, const auto& b) { return key(a) == key(b); }),
                    g->officers.end());
}

Basis OfficerBasis(const Snapshot& snap, Role role, const Id& officer, EntityNo officer_e) {
  Basis b;
  b.type = BasisType::kOfficer;
  b.role = role;
  b.officer = std::string(officer.text());
  if (officer_e != kNoEntity) b.officer_name = std::string(snap.EntityName(officer_e));
  return b;
}

// Appends to `out` every basis on which measure `m` applies to the subject.
void MatchMeasure(const Snapshot& snap, const Measure& m, const Grounds& g, EntityNo subject,
                  std::vector<Basis>* out) {
  const bool kind_ok =
      g.kind == SubjectKind::kPerson ? m.applies_to_person : m.applies_to_organization;
  if (g.listed && kind_ok) out->push_back(Basis{});
  for (const auto& [role, org] : g.related) {
    if (!RoleSetHas(m.related_roles, role)) continue;
    Basis b;
    b.type = BasisType::kRelated;
    b.role = role;
    b.via = std::string(snap.EntityId(org).text());
    b.via_name = std::string(snap.EntityName(org));
    out->push_back(std::move(b));
  }
  for (const auto& [role, officer, officer_e] : g.officers) {
    if (officer_e == kNoEntity) continue;
    if (RoleSetHas(m.officer_listed_roles, role) && snap.IsListed(officer_e, g.at)) {
      out->push_back(OfficerBasis(snap, role, officer, officer_e));
    }
    if (!RoleSetHas(m.two_hop_officer_roles, role)) continue;
    // Two hops: the officer holds a qualifying role in another organisation that is listed.
    for (uint32_t i = 0; i < snap.LinkCount(officer_e); ++i) {
      const LinkView link = snap.Link(officer_e, i);
      if (link.other == subject || !snap.IsListed(link.other, g.at) ||
          !RoleSetHas(m.two_hop_via_roles, link.role)) {
        continue;
      }
      Basis b = OfficerBasis(snap, role, officer, officer_e);
      b.via = std::string(snap.EntityId(link.other).text());
      b.via_name = std::string(snap.EntityName(link.other));
      b.via_role = link.role;
      out->push_back(std::move(b));
    }
  }
}

absl::Status ValidateQuery(const Catalog& catalog, const Id& id, const MeasureQuery& query) {
  if (query.agency < -1 || query.agency >= static_cast<int>(catalog.agencies().size())) {
    return absl::InvalidArgumentError(absl::StrCat("no agency number ", query.agency));
  }
  if (query.scenario < -1 || query.scenario >= static_cast<int>(catalog.scenarios().size())) {
    return absl::InvalidArgumentError(absl::StrCat("no scenario number ", query.scenario));
  }
  if (!query.officers.empty() && id.subject_kind() != SubjectKind::kOrganization) {
    return absl::InvalidArgumentError("officers can only be given for an organisation");
  }
  for (const Officer& o : query.officers) {
    if (o.id.subject_kind() != SubjectKind::kPerson) {
      return absl::InvalidArgumentError(
          absl::StrFormat("officer %s %s is not a person's ID", RoleName(o.role), o.id.text()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MeasuresResult> Measures(const Snapshot& snap, const Catalog& catalog, const Id& id,
                                        const MeasureQuery& query) {
  SHIXIN_RETURN_IF_ERROR(ValidateQuery(catalog, id, query));
  MeasuresResult result;
  SHIXIN_ASSIGN_OR_RETURN(result.subject, Check(snap, id, query.at, /*with_cases=*/false));
  const EntityNo e = snap.Find(id);
  Grounds g;
  g.kind = id.subject_kind();
  g.at = query.at;
  g.listed = result.subject.listed;
  if (g.kind == SubjectKind::kPerson && e != kNoEntity) {
    for (uint32_t i = 0; i < snap.LinkCount(e); ++i) {
      const LinkView link = snap.Link(e, i);
      if (snap.IsListed(link.other, g.at)) g.related.emplace_back(link.role, link.other);
    }
  } else if (g.kind == SubjectKind::kOrganization) {
    CollectOfficers(snap, e, query.officers, &g);
  }
  for (const Measure& m : catalog.measures()) {
    if (query.agency >= 0 && m.agency != query.agency) continue;
    if (query.scenario >= 0 && (m.scenarios >> query.scenario & 1) == 0) continue;
    std::vector<Basis> basis;
    MatchMeasure(snap, m, g, e, &basis);
    if (basis.empty()) continue;
    const Agency& agency = catalog.agencies()[m.agency];
    result.measures.push_back(
        MeasureInfo{m.no, m.title, agency.id, agency.name, m.effect, std::move(basis)});
  }
  return result;
}

}  // namespace shixin
