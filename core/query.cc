#include "core/query.h"

#include "absl/strings/str_cat.h"
#include "base/enum_names.h"
#include "base/status_macros.h"

namespace shixin {

absl::StatusOr<CheckResult> Check(const Snapshot& snap, const Id& id, int64_t at, bool with_cases) {
  CheckResult r;
  r.id = std::string(id.text());
  r.kind = id.subject_kind();
  const EntityNo e = snap.Find(id);
  if (e == kNoEntity) return r;
  if (const std::optional<Interval> block = snap.ListingAt(e, at)) {
    r.listed = true;
    r.since = block->from;
    r.until = block->until;
  }
  r.related = snap.IsRelated(e, at);
  r.name = std::string(snap.EntityName(e));
  if (with_cases && r.listed) {
    CaseBuffer buffer;
    SHIXIN_ASSIGN_OR_RETURN(const std::span<const CaseView> cases,
                            snap.ReadCases(snap.FirstCase(e), snap.CaseCount(e), buffer));
    for (const CaseView& c : cases) {
      if (CaseInterval(c).Contains(at)) r.cases.push_back(ConvertCase<CaseInfo>(c));
    }
  }
  std::vector<RoleInfo>& links = r.kind == SubjectKind::kPerson ? r.roles : r.officers;
  for (uint32_t i = 0; i < snap.LinkCount(e); ++i) {
    const LinkView link = snap.Link(e, i);
    links.push_back(RoleInfo{link.role, std::string(snap.EntityId(link.other).text()),
                             std::string(snap.EntityName(link.other)),
                             snap.IsListed(link.other, at)});
  }
  return r;
}

absl::Status ValidateAsOf(int64_t as_of, int64_t now, int history_days) {
  const int64_t first = now - int64_t{history_days} * 86400;
  if (as_of < first || as_of > now) {
    return absl::OutOfRangeError(
        absl::StrCat("as-of ", FormatInstant(as_of), " is outside the history window (",
                     FormatInstant(first), " to now, ", FormatInstant(now), ")"));
  }
  return absl::OkStatus();
}

std::string_view BasisTypeName(BasisType type) {
  static constexpr std::string_view kNames[] = {"listed", "related", "officer"};
  return EnumName(type, kNames, "unknown");
}

}  // namespace shixin
