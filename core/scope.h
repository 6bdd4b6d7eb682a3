// The scopes of a caller (issue 11): what it may do. Scope s is bit static_cast<int>(s) of a
// ScopeSet; the bit order is fixed, as the protocol carries the set (FORMAT.md 14).
//
// Thread safety: constants and pure functions.
#ifndef SHIXIN_CORE_SCOPE_H_
#define SHIXIN_CORE_SCOPE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace shixin {

enum class Scope : uint8_t {
  kCheck = 0,
  kMeasures = 1,
  kDetail = 2,
  kFeedback = 3,
  kExport = 4,
  kAdmin = 5,
};
inline constexpr int kScopeCount = 6;

using ScopeSet = uint32_t;
inline constexpr ScopeSet kAllScopes = (ScopeSet{1} << kScopeCount) - 1;

// Returns the set holding only `scope`.
constexpr ScopeSet ScopeBit(Scope scope) { return ScopeSet{1} << static_cast<int>(scope); }
// Returns whether `set` holds `scope`.
constexpr bool HasScope(ScopeSet set, Scope scope) { return (set & ScopeBit(scope)) != 0; }

// Returns the lower-case name of `scope` ("check", ..., "admin").
std::string_view ScopeName(Scope scope);
// Returns the scope named `name`, or nullopt.
std::optional<Scope> ParseScope(std::string_view name);
// Returns the set of the comma-separated scope names in `list` ("check,measures"; blanks
// around names are ignored); InvalidArgument naming an unknown or empty name.
absl::StatusOr<ScopeSet> ParseScopes(std::string_view list);
// Returns the names of the scopes in `set`, in bit order (bits beyond kScopeCount ignored).
std::vector<std::string> ScopeNames(ScopeSet set);

}  // namespace shixin

#endif  // SHIXIN_CORE_SCOPE_H_
