// Helpers shared by the core tests: valid IDs made from a number, and case/relation inputs.
//
// Thread safety: pure functions.
#ifndef SHIXIN_CORE_TEST_UTIL_H_
#define SHIXIN_CORE_TEST_UTIL_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"
#include "core/id.h"
#include "core/record.h"
#include "core/validity.h"

namespace shixin::testing {

// "Now" for tests whose data carries no dates that could end before it.
inline const int64_t kNow = NowSeconds();

// Returns a valid resident ID born 1980-01-01 in Hegang (230400) with sequence `n` (< 1000).
inline Id PersonId(int n) {
  std::string first17 = absl::StrFormat("23040219800101%03d", n);
  return MakeIdUnchecked(IdKind::kResident, first17 + ResidentCheckChar(first17));
}

// Returns a valid credit code "91230400" + an organisation code derived from `n`.
inline Id CreditCode(int n) {
  std::string org8 = absl::StrFormat("%08d", 10000000 + n);
  std::string org9 = org8 + OrgCodeCheckChar(org8);
  std::string first17 = "91230400" + org9;
  return MakeIdUnchecked(IdKind::kCreditCode, first17 + CreditCodeCheckChar(first17));
}

// Returns a valid 9-character organisation code derived from `n`.
inline Id OrgCode(int n) {
  std::string org8 = absl::StrFormat("%08d", 20000000 + n);
  return MakeIdUnchecked(IdKind::kOrgCode, org8 + OrgCodeCheckChar(org8));
}

// Returns a case of `id` named `name` with case number `code`.
inline CaseInput MakeCase(const Id& id, std::string_view name, std::string_view code) {
  CaseInput c;
  c.id = id;
  c.name = name;
  c.case_code = code;
  c.court = "鹤岗市中级人民法院";
  c.area = "黑龙江";
  c.performance = "全部未履行";
  c.disrupt_type = "违反财产报告制度";
  c.reg_date = 20180114;
  c.publish_date = 20180713;
  return c;
}

inline RelationInput MakeRelation(const Id& org, const Id& person, std::string_view name,
                                  Role role) {
  return RelationInput{org, person, name, role};
}

}  // namespace shixin::testing

#endif  // SHIXIN_CORE_TEST_UTIL_H_
