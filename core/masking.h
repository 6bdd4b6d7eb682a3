// What a caller may see of the list (issue 11): a `full` caller (a bank's credit department,
// the court) gets answers whole; a `masked` caller (a hotel front desk, a travel agent) gets
// whether the subject is listed or related and the measures with their basis, but third
// persons' IDs masked (Id::Masked(): first 10 + "****" + last 4), the names of related
// persons who are not themselves listed masked but for their first character, and no case
// texts (duties, judgment details). The queried subject's own ID is never masked: the caller
// sent it.
//
// Thread safety: plain functions on values; reentrant.
#ifndef SHIXIN_CORE_MASKING_H_
#define SHIXIN_CORE_MASKING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/query.h"

namespace shixin {

enum class View : uint8_t {
  kFull = 0,
  kMasked = 1,
};

// Returns "full" or "masked".
std::string_view ViewName(View view);
// Returns the View named `name` ("full", "masked"), or nullopt.
std::optional<View> ParseView(std::string_view name);

}  // namespace shixin

#endif  // SHIXIN_CORE_MASKING_H_
