// `shixin caller add|token|list|remove`: manages the callers file of shixind (callers/,
// docs/shixind.md "Callers"). A new token is printed once on standard output; the file keeps
// only its hash.
//
// Thread safety: run from main() only.
#ifndef SHIXIN_CLI_CALLER_COMMANDS_H_
#define SHIXIN_CLI_CALLER_COMMANDS_H_

#include <string>
#include <vector>

namespace shixin {

// Runs `shixin caller SUBCOMMAND ...` (`args` starts with the subcommand). Returns the exit
// status: 0 ok, 2 usage error (also a duplicate or unknown caller id, an invalid value),
// 3 the callers file or the catalog could not be read or written.
int RunCaller(const std::vector<std::string>& args);

}  // namespace shixin

#endif  // SHIXIN_CLI_CALLER_COMMANDS_H_
