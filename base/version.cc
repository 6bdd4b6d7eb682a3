#include "base/version.h"

#include <string_view>

namespace shixin {

// SHIXIN_VERSION is defined for this file alone (base/CMakeLists.txt), so that a new version
// recompiles one file.
std::string_view Version() { return SHIXIN_VERSION; }

}  // namespace shixin
