// The shixin tool's server mode: the same commands and the same output as offline mode, but
// answered by a running shixind (--server HOST:PORT) over the binary protocol.
//
// Thread safety: run from main() only.
#ifndef SHIXIN_CLI_REMOTE_H_
#define SHIXIN_CLI_REMOTE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "cli/flags.h"
#include "core/query.h"

namespace shixin {

// Each returns the process exit status (see commands.h).
// Each connection starts with HELLO and speaks the version the daemon agrees (2 with shixind).
// check/detail: one DETAIL per valid ID (invalid IDs are reported without a round trip), as of
// `as_of` (wire::kAsOfNow: now).
int RemoteCheck(const Flags& flags, const std::vector<std::string>& inputs, int64_t as_of);
// measures: one MEASURES per valid ID, with the flags' officers, agency and scenario.
int RemoteMeasures(const Flags& flags, const std::vector<std::string>& inputs,
                   const std::vector<Officer>& officers, int64_t as_of);
int RemoteInfo(const Flags& flags);
// catalog: the daemon's CATALOG answer, printed as offline mode prints the catalog file.
int RemoteCatalog(const Flags& flags);
// reload: waits for the reload that serves the request; exits kExitLoad if the daemon refused
// the new list (--allow-shrink accepts one that removes more than its max_shrink).
int RemoteReload(const Flags& flags);

}  // namespace shixin

#endif  // SHIXIN_CLI_REMOTE_H_
