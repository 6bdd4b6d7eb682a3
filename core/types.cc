#include "core/types.h"

#include <array>

namespace shixin {
namespace {

constexpr std::array<std::string_view, kRoleCount> kRoleNames = {
    "legal_representative", "principal", "actual_controller",
    "directly_responsible", "director",  "supervisor",
    "senior_manager",
};

}  // namespace

std::string_view SubjectKindName(SubjectKind kind) {
  return kind == SubjectKind::kPerson ? "person" : "organization";
}

std::string_view RoleName(Role role) { return kRoleNames[static_cast<int>(role)]; }

std::optional<Role> RoleFromName(std::string_view name) {
  for (int i = 0; i < kRoleCount; ++i) {
    if (kRoleNames[i] == name) return static_cast<Role>(i);
  }
  return std::nullopt;
}

}  // namespace shixin
