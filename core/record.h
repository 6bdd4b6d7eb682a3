// The records that feed a snapshot: one enforcement case of a listed subject (the court's
// record) and one relation (organisation, person, role) from the relations feed.
//
// Both hold borrowed string_views: they are valid only while the buffer they point into is.
// Thread safety: plain values.
#ifndef SHIXIN_CORE_RECORD_H_
#define SHIXIN_CORE_RECORD_H_

#include <cstdint>
#include <string_view>

#include "core/id.h"
#include "core/types.h"

namespace shixin {

// One case of a listed subject, as ingested from the court's feed (keys in domain.md).
struct CaseInput {
  Id id;                             // cardNum, validated; id.subject_kind() is the kind
  std::string_view name;             // iname
  std::string_view case_code;        // caseCode, e.g. "（2018）黑04执123号"
  std::string_view court;            // courtName
  std::string_view area;             // areaName
  std::string_view gist_id;          // gistId
  std::string_view gist_unit;        // gistUnit
  std::string_view duty;             // duty (long free text)
  std::string_view performance;      // performance, e.g. "全部未履行"
  std::string_view performed_part;   // performedPart
  std::string_view unperform_part;   // unperformPart
  std::string_view disrupt_type;     // disruptTypeName
  std::string_view business_entity;  // businessEntity (legal representative's name, orgs)
  uint32_t reg_date = 0;             // regDate as YYYYMMDD, 0 if absent
  uint32_t publish_date = 0;         // publishDate as YYYYMMDD, 0 if absent
  uint8_t age = 0;                   // 0 if absent
  uint8_t sex = 0;                   // 0 unknown, 1 male, 2 female
};

// One line of the relations feed.
struct RelationInput {
  Id org;                        // orgId: a credit code or organisation code
  Id person;                     // personId: a resident ID
  std::string_view person_name;  // personName
  Role role = Role::kLegalRepresentative;
};

}  // namespace shixin

#endif  // SHIXIN_CORE_RECORD_H_
