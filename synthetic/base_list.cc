#include "synthetic/base_list.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "synthetic/generator.h"

namespace shixin::synthetic_internal {

void CaseRecord::Set(const CaseInput& from) {
  c = from;
  auto copy = [](auto& text, std::string_view value) {
    text.Clear();
    text.Add(value);
    return text.view();
  };
  c.case_code = copy(t.case_code, from.case_code);
  c.gist_id = copy(t.gist_id, from.gist_id);
  c.duty = copy(t.duty, from.duty);
  c.disrupt_type = copy(t.disrupt, from.disrupt_type);
  c.name = copy(name, from.name);
  c.business_entity = copy(entity, from.business_entity);
  // The other texts (court, area, performance, parts) are the generator's constants.
}

BaseList::BaseList(const SyntheticOptions& options) : options_(options) {
  options_.subjects = std::min(options_.subjects, kMaxSubjects);
  options_.today = SyntheticToday(options);
  fresh_at_.reserve(options_.subjects);
  first_case_.reserve(options_.subjects);
  // Named: the Generator keeps FunctionRefs to them, which must outlive the constructor call.
  const auto count_case = [&](const CaseInput&) { ++cases_; };
  const auto no_relation = [](const RelationInput&) {};
  Generator generator(options_, count_case, no_relation);
  for (uint64_t s = 0; s < options_.subjects; ++s) {
    // Both stay far below 2^32: at most 10^8 subjects, ~1.6 cases and ~0.5 fresh persons each.
    fresh_at_.push_back(static_cast<uint32_t>(generator.fresh()));
    first_case_.push_back(static_cast<uint32_t>(cases_));
    generator.GenerateSubject(s);
  }
}

std::pair<uint64_t, int> BaseList::Locate(uint64_t k) const {
  const auto it = std::upper_bound(first_case_.begin(), first_case_.end(), k);
  const uint64_t s = static_cast<uint64_t>(it - first_case_.begin()) - 1;
  return {s, static_cast<int>(k - first_case_[s])};
}

int BaseList::Regenerate(uint64_t s, int ordinal, CaseRecord* record, SubjectInfo* info,
                         RoleRecord* roles) const {
  int k = 0;
  int n = 0;
  const auto on_case = [&](const CaseInput& c) {
    if (k++ == ordinal && record != nullptr) record->Set(c);
  };
  const auto on_relation = [&](const RelationInput& r) {
    if (roles == nullptr || n == kMaxRoles) return;
    RoleRecord& role = roles[n++];
    role.org = r.org;
    role.person = r.person;
    role.person_name.Clear();
    role.person_name.Add(r.person_name);
    role.role = r.role;
  };
  Generator generator(options_, on_case, on_relation);
  generator.set_fresh(fresh_at_[s]);
  generator.GenerateSubject(s);
  if (info != nullptr) *info = generator.subject();
  return n;
}

}  // namespace shixin::synthetic_internal
