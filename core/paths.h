// Where shixin finds the files it ships: the measure catalog, installed under
// <prefix>/share/shixin/measures/ beside the binaries' <prefix>/bin/, or in the source tree.
//
// Thread safety: the functions read the environment and the file system; they are reentrant.
#ifndef SHIXIN_CORE_PATHS_H_
#define SHIXIN_CORE_PATHS_H_

#include <string>

namespace shixin {

// Returns the catalog used when none is configured: $SHIXIN_CATALOG if set and non-empty, the
// installed copy (<prefix>/share/shixin/measures/hegang-2018.json, found from the running
// binary's <prefix>/bin/), or the source tree's data/measures/hegang-2018.json. The returned
// file need not exist; loading it reports that.
std::string DefaultCatalogPath();

}  // namespace shixin

#endif  // SHIXIN_CORE_PATHS_H_
