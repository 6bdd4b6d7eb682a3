// The base list as the delta generator sees it (internal to synthetic/): not its records but
// the two numbers per subject that regenerate them (see generator.h), so a change can name any
// case or role of a 10 M-subject list in 8 bytes per subject.
//
// Thread safety: a BaseList is immutable after construction; a CaseRecord belongs to one thread.
#ifndef SHIXIN_SYNTHETIC_BASE_LIST_H_
#define SHIXIN_SYNTHETIC_BASE_LIST_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "core/id.h"
#include "core/record.h"
#include "core/types.h"
#include "synthetic/fields.h"
#include "synthetic/generator.h"
#include "synthetic/synthetic.h"

namespace shixin::synthetic_internal {

// One case, owning its texts (the CaseInput points into the record: it cannot be copied).
struct CaseRecord {
  CaseRecord() = default;
  CaseRecord(const CaseRecord&) = delete;
  CaseRecord& operator=(const CaseRecord&) = delete;

  // Makes this record a copy of `from`, whose texts may point anywhere.
  void Set(const CaseInput& from);

  CaseInput c;
  CaseTexts t;
  Text<96> name;
  Text<16> entity;
};

// One role of a person in an organisation, as the relations feed names it.
struct RoleRecord {
  Id org;
  Id person;
  Text<16> person_name;
  Role role = Role::kLegalRepresentative;
};

// A subject has at most this many roles in the base list.
inline constexpr int kMaxRoles = 12;

class BaseList {
 public:
  // Runs the generator over the list once, keeping where each subject starts.
  explicit BaseList(const SyntheticOptions& options);

  uint64_t subjects() const { return first_case_.size(); }
  uint64_t cases() const { return cases_; }

  // Returns the subject of base case `k` (< cases()) and the case's ordinal among the
  // subject's cases.
  std::pair<uint64_t, int> Locate(uint64_t k) const;

  // Regenerates subject `s` (< subjects()). Copies its case `ordinal` into `record` (unless
  // null or out of range), its identity into `info` (unless null) and its roles (an
  // organisation's; at most kMaxRoles) into `roles` (unless null). Returns the number of roles.
  int Regenerate(uint64_t s, int ordinal, CaseRecord* record, SubjectInfo* info,
                 RoleRecord* roles) const;

 private:
  SyntheticOptions options_;
  uint64_t cases_ = 0;
  std::vector<uint32_t> fresh_at_;    // Generator::fresh() before each subject
  std::vector<uint32_t> first_case_;  // the number of cases before each subject
};

}  // namespace shixin::synthetic_internal

#endif  // SHIXIN_SYNTHETIC_BASE_LIST_H_
