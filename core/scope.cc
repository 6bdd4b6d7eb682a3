#include "core/scope.h"

#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/enum_names.h"

namespace shixin {
namespace {

constexpr std::string_view kScopeNames[] = {"check",    "measures", "detail",
                                            "feedback", "export",   "admin"};
static_assert(std::size(kScopeNames) == kScopeCount);

}  // namespace

std::string_view ScopeName(Scope scope) { return EnumName(scope, kScopeNames, "unknown"); }

std::optional<Scope> ParseScope(std::string_view name) {
  for (int i = 0; i < kScopeCount; ++i) {
    if (kScopeNames[i] == name) return static_cast<Scope>(i);
  }
  return std::nullopt;
}

absl::StatusOr<ScopeSet> ParseScopes(std::string_view list) {
  ScopeSet set = 0;
  for (absl::string_view part : absl::StrSplit(absl::string_view(list.data(), list.size()), ',')) {
    part = absl::StripAsciiWhitespace(part);
    std::optional<Scope> scope = ParseScope(std::string_view(part.data(), part.size()));
    if (!scope) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown scope \"", part, "\" (known: ",
                       absl::StrJoin(kScopeNames, ", ",
                                     [](std::string* out, std::string_view s) { out->append(s); }),
                       ")"));
    }
    set |= ScopeBit(*scope);
  }
  return set;
}

std::vector<std::string> ScopeNames(ScopeSet set) {
  std::vector<std::string> names;
  for (int i = 0; i < kScopeCount; ++i) {
    if (HasScope(set, static_cast<Scope>(i))) names.emplace_back(kScopeNames[i]);
  }
  return names;
}

}  // namespace shixin
