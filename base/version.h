// The version of shixin, CMake's PROJECT_VERSION (the top CMakeLists.txt): the one source of
// what `shixind --version` ("shixind/VERSION", also the HELLO server name) and
// `shixin --version` ("shixin/VERSION") print, so that both programs of one build say the same.
//
// Thread safety: a constant.
#ifndef SHIXIN_BASE_VERSION_H_
#define SHIXIN_BASE_VERSION_H_

#include <string_view>

namespace shixin {

// Returns the project's version, e.g. "0.1.0".
std::string_view Version();

}  // namespace shixin

#endif  // SHIXIN_BASE_VERSION_H_
