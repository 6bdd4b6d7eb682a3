#include "core/record.h"

#include "base/enum_names.h"

namespace shixin {
namespace {

constexpr std::string_view kEndReasonNames[] = {
    "",           "performed", "settled",      "creditor_request",
    "no_assets",  "suspended", "not_enforced", "terminated",
    "term_ended", "other",     "revoked",      "corrected",
};
static_assert(std::size(kEndReasonNames) == kEndReasonCount);

}  // namespace

std::string_view EndReasonName(EndReason reason) { return EnumName(reason, kEndReasonNames, ""); }

std::optional<EndReason> RemoveReasonFromName(std::string_view name) {
  for (int i = static_cast<int>(EndReason::kPerformed); i <= static_cast<int>(EndReason::kOther);
       ++i) {
    if (kEndReasonNames[i] == name) return static_cast<EndReason>(i);
  }
  return std::nullopt;
}

}  // namespace shixin
