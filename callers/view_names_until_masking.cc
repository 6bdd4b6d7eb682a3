// A stand-in for core/masking.cc's ViewName()/ParseView() until that file is merged (see
// callers/CMakeLists.txt): not compiled once core/masking.cc exists. Delete it then.
#include "core/masking.h"

namespace shixin {

std::string_view ViewName(View view) { return view == View::kFull ? "full" : "masked"; }

std::optional<View> ParseView(std::string_view name) {
  if (name == "full") return View::kFull;
  if (name == "masked") return View::kMasked;
  return std::nullopt;
}

}  // namespace shixin
