// Small vocabulary types shared by the whole core: subject kinds and roles.
//
// Thread safety: constants and pure functions only.
#ifndef SHIXIN_CORE_TYPES_H_
#define SHIXIN_CORE_TYPES_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace shixin {

// The two kinds of listed subject (自然人 / 单位).
enum class SubjectKind : uint8_t { kPerson = 0, kOrganization = 1 };

// Returns "person" or "organization".
std::string_view SubjectKindName(SubjectKind kind);

// The role of a person in an organisation, as carried by the relations feed.
enum class Role : uint8_t {
  kLegalRepresentative = 0,  // 法定代表人
  kPrincipal = 1,            // 主要负责人
  kActualController = 2,     // 实际控制人
  kDirectlyResponsible = 3,  // 影响债务履行的直接责任人员
  kDirector = 4,             // 董事
  kSupervisor = 5,           // 监事
  kSeniorManager = 6,        // 高级管理人员
};
inline constexpr int kRoleCount = 7;

// Returns the feed's name of `role`, e.g. "legal_representative".
std::string_view RoleName(Role role);
// Returns the role named `name` (the feed's names above), or nullopt.
std::optional<Role> RoleFromName(std::string_view name);

// A set of roles as a bit mask (bit i = Role i).
using RoleSet = uint8_t;
inline constexpr RoleSet RoleBit(Role role) {
  return static_cast<RoleSet>(1u << static_cast<int>(role));
}
inline constexpr bool RoleSetHas(RoleSet set, Role role) { return (set & RoleBit(role)) != 0; }

}  // namespace shixin

#endif  // SHIXIN_CORE_TYPES_H_
