// Measures(): which measures of a catalog apply to a subject, and on what basis.
#include <algorithm>
#include <iterator>
#include <span>
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
  std::vector<std::pair<Role, SubjectRef>> related;
  // Organisations: officers (role, id, subject or not found), from the caller and the feed.
  std::vector<std::tuple<Role, Id, SubjectRef>> officers;
  int64_t at = 0;  // the instant asked about
};

// Merges the caller's officers with those the relations feed knows for organisation `e`.
void CollectOfficers(const ListView& list, SubjectRef s, const std::vector<Officer>& given,
                     Grounds* g) {
  for (const Officer& o : given) g->officers.emplace_back(o.role, o.id, list.Find(o.id));
  if (s.found()) {
    list.ForEachRole(s, g->at, [&](const RoleLink& link) {
      g->officers.emplace_back(link.role, list.SubjectId(link.other), link.other);
    });
  }
  auto key = [](const auto& o) { return std::make_tuple(std::get<0>(o), std::get<1>(o).text()); };
  std::sort(g->officers.begin(), g->officers.end(),
            [&](const auto& a, const auto& b) { return key(a) < key(b); });
  g->officers.erase(std::unique(g->officers.begin(), g->officers.end(),
                                [&](const auto& a, const auto& b) { return key(a) == key(b); }),
                    g->officers.end());
}

Basis OfficerBasis(const ListView& list, Role role, const Id& officer, SubjectRef officer_s) {
  Basis b;
  b.type = BasisType::kOfficer;
  b.role = role;
  b.officer = std::string(officer.text());
  if (officer_s.found()) b.officer_name = std::string(list.Name(officer_s));
  return b;
}

// Appends to `out` every basis on which measure `m` applies to the subject; only the listing
// itself unless `beyond_listed` (the scenarios asked for are some of m.related_scenarios).
void MatchMeasure(const ListView& list, const Measure& m, const Grounds& g, SubjectRef subject,
                  bool beyond_listed, std::vector<Basis>* out) {
  const bool kind_ok =
      g.kind == SubjectKind::kPerson ? m.applies_to_person : m.applies_to_organization;
  if (g.listed && kind_ok) out->push_back(Basis{});
  if (!beyond_listed) return;
  for (const auto& [role, org] : g.related) {
    if (!RoleSetHas(m.related_roles, role)) continue;
    Basis b;
    b.type = BasisType::kRelated;
    b.role = role;
    b.via = std::string(list.SubjectId(org).text());
    b.via_name = std::string(list.Name(org));
    out->push_back(std::move(b));
  }
  for (const auto& entry : g.officers) {
    // Named copies: a lambda below uses them (structured bindings cannot be captured in C++20).
    const Role role = std::get<0>(entry);
    const Id& officer = std::get<1>(entry);
    const SubjectRef officer_s = std::get<2>(entry);
    if (!officer_s.found()) continue;
    if (RoleSetHas(m.officer_listed_roles, role) && list.IsListed(officer_s, g.at)) {
      out->push_back(OfficerBasis(list, role, officer, officer_s));
    }
    if (!RoleSetHas(m.two_hop_officer_roles, role)) continue;
    // Two hops: the officer holds a qualifying role in another organisation that is listed.
    list.ForEachRole(officer_s, g.at, [&](const RoleLink& link) {
      if (link.other == subject || !link.other.found() || !list.IsListed(link.other, g.at) ||
          !RoleSetHas(m.two_hop_via_roles, link.role)) {
        return;
      }
      Basis b = OfficerBasis(list, role, officer, officer_s);
      b.via = std::string(list.SubjectId(link.other).text());
      b.via_name = std::string(list.Name(link.other));
      b.via_role = link.role;
      out->push_back(std::move(b));
    });
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

absl::Status MatchMeasures(const ListView& list, const Catalog& catalog, const Id& id,
                           const MeasureQuery& query, MeasureMatches* out) {
  SHIXIN_RETURN_IF_ERROR(ValidateQuery(catalog, id, query));
  out->measures.clear();
  out->bases.clear();
  // At most one measure a catalog entry; most answers have a basis a measure (no regrowth).
  out->measures.reserve(catalog.measures().size());
  out->bases.reserve(catalog.measures().size());
  const SubjectRef s = list.Find(id);
  SHIXIN_ASSIGN_OR_RETURN(out->subject, Check(list, id, s, query.at, /*with_cases=*/false));
  Grounds g;
  g.kind = id.subject_kind();
  g.at = query.at;
  g.listed = out->subject.listed;
  if (g.kind == SubjectKind::kPerson && s.found()) {
    list.ForEachRole(s, g.at, [&](const RoleLink& link) {
      if (link.other.found() && list.IsListed(link.other, g.at)) {
        g.related.emplace_back(link.role, link.other);
      }
    });
  } else if (g.kind == SubjectKind::kOrganization) {
    CollectOfficers(list, s, query.officers, &g);
  }
  const uint64_t scenarios = query.scenario >= 0 ? uint64_t{1} << query.scenario : query.scenarios;
  for (const Measure& m : catalog.measures()) {
    if (query.agency >= 0 && m.agency != query.agency) continue;
    if (scenarios != 0 && (m.scenarios & scenarios) == 0) continue;
    const size_t first = out->bases.size();
    MatchMeasure(list, m, g, s, scenarios == 0 || (m.related_scenarios & scenarios) != 0,
                 &out->bases);
    if (out->bases.size() == first) continue;
    out->measures.push_back(MeasureMatch{&m, static_cast<uint32_t>(&m - catalog.measures().data()),
                                         static_cast<uint32_t>(first),
                                         static_cast<uint32_t>(out->bases.size() - first)});
  }
  return absl::OkStatus();
}

absl::StatusOr<MeasuresResult> Measures(const ListView& list, const Catalog& catalog, const Id& id,
                                        const MeasureQuery& query) {
  MeasureMatches matches;
  SHIXIN_RETURN_IF_ERROR(MatchMeasures(list, catalog, id, query, &matches));
  MeasuresResult result;
  result.subject = std::move(matches.subject);
  result.measures.reserve(matches.measures.size());
  for (const MeasureMatch& m : matches.measures) {
    const std::span<Basis> basis = matches.BasesOf(m);
    const Agency& agency = catalog.agencies()[m.measure->agency];
    result.measures.push_back(
        MeasureInfo{m.measure->no, m.measure->title, agency.id, agency.name, m.measure->effect,
                    std::vector<Basis>(std::make_move_iterator(basis.begin()),
                                       std::make_move_iterator(basis.end()))});
  }
  return result;
}

}  // namespace shixin
