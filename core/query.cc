#include "core/query.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/enum_names.h"
#include "base/status_macros.h"

namespace shixin {

absl::StatusOr<CheckResult> Check(const ListView& list, const Id& id, int64_t at, bool with_cases) {
  return Check(list, id, list.Find(id), at, with_cases);
}

absl::StatusOr<CheckResult> Check(const ListView& list, const Id& id, SubjectRef s, int64_t at,
                                  bool with_cases) {
  CheckResult r;
  r.id = std::string(id.text());
  r.kind = id.subject_kind();
  if (!s.found()) return r;
  if (const std::optional<Interval> block = list.ListingAt(s, at)) {
    r.listed = true;
    r.since = block->from;
    r.until = block->until;
  }
  r.related = list.IsRelated(s, at);
  // A subject neither listed nor related at `at` is not on the list then (its cases removed,
  // ended or not yet published): no request type names it.
  const bool on_list = r.listed || r.related;
  if (on_list) r.name = std::string(list.Name(s));
  if (with_cases && r.listed) {
    CaseBuffer buffer;
    SHIXIN_ASSIGN_OR_RETURN(const std::span<const CaseView> cases, list.ReadCases(s, buffer));
    for (const CaseView& c : cases) {
      if (CaseInterval(c).Contains(at)) r.cases.push_back(ConvertCase<CaseInfo>(c));
    }
  }
  std::vector<RoleInfo>& links = r.kind == SubjectKind::kPerson ? r.roles : r.officers;
  std::vector<std::pair<PackedId, Role>> order;  // the base's order: by the other's ID, role
  list.ForEachRole(s, at, [&](const RoleLink& link) {
    const bool other_listed = list.IsListed(link.other, at);
    // Off the list, only the listed officers that measures 18 and 22 rest on are shown: a
    // role in an unlisted organisation would name it and tell what the subject was.
    if (!on_list && !other_listed) return;
    const Id other = list.SubjectId(link.other);
    order.emplace_back(other.Pack(), link.role);
    // Nor is the other party named when it is off the list (a listed officer's organisation,
    // delisted): the entry keeps its ID and role.
    const bool other_named = other_listed || list.IsRelated(link.other, at);
    links.push_back(RoleInfo{link.role, std::string(other.text()),
                             other_named ? std::string(list.Name(link.other)) : std::string(),
                             other_listed});
  });
  if (s.changed != nullptr) {
    std::vector<size_t> index(links.size());
    for (size_t i = 0; i < index.size(); ++i) index[i] = i;
    std::sort(index.begin(), index.end(), [&](size_t a, size_t b) {
      return order[a].first < order[b].first ||
             (order[a].first == order[b].first && order[a].second < order[b].second);
    });
    std::vector<RoleInfo> sorted;
    sorted.reserve(index.size());
    for (size_t i : index) sorted.push_back(std::move(links[i]));
    links = std::move(sorted);
  }
  return r;
}

absl::Status ValidateAsOf(int64_t as_of, int64_t now, int history_days, int64_t history_from) {
  const int64_t kept = now - int64_t{history_days} * 86400;
  // Instants start after the epoch: the protocol's as_of 0 means now (ParseAsOf()).
  const int64_t first = std::max({kept, history_from, int64_t{1}});
  if (as_of < first || as_of > now) {
    // Names the cause when the window starts later than history_days says.
    const char* why = "";
    if (as_of < first && first == 1 && kept < 1) {
      why = "; instants before 1970-01-01T00:00:01Z cannot be asked";
    } else if (as_of < first && history_from > kept) {
      why = "; the base snapshot holds no earlier history (shixin compile --history-days)";
    }
    return absl::OutOfRangeError(
        absl::StrCat("as-of ", FormatInstant(as_of), " is outside the history window (",
                     FormatInstant(first), " to now, ", FormatInstant(now), why, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ParseAsOf(std::string_view text) {
  SHIXIN_ASSIGN_OR_RETURN(const int64_t at, ParseInstant(text));
  if (at <= 0) {
    return absl::OutOfRangeError(
        absl::StrCat("as-of ", FormatInstant(at),
                     " is outside the history window: instants start after 1970-01-01T00:00:00Z"));
  }
  return at;
}

std::string_view BasisTypeName(BasisType type) {
  static constexpr std::string_view kNames[] = {"listed", "related", "officer"};
  return EnumName(type, kNames, "unknown");
}

}  // namespace shixin
