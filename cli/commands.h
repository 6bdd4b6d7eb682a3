// The shixin tool's subcommands. Each takes its arguments (after the command name) and returns
// the process exit status: 0 success, 1 some queried ID was invalid, 2 usage error,
// 3 the data or catalog could not be loaded.
//
// Thread safety: run from main() only.
#ifndef SHIXIN_CLI_COMMANDS_H_
#define SHIXIN_CLI_COMMANDS_H_

#include <string>
#include <vector>

namespace shixin {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalidId = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitLoad = 3;

// check and detail (the same: a subject's status, cases and roles), offline or --server.
int RunCheck(const std::vector<std::string>& args);
int RunMeasures(const std::vector<std::string>& args);
int RunGen(const std::vector<std::string>& args);
// compile --data DIR -o FILE: writes the built snapshot to a snapshot file (core/snapshot_file.h).
int RunCompile(const std::vector<std::string>& args);
// Server-only commands.
int RunInfo(const std::vector<std::string>& args);
int RunReload(const std::vector<std::string>& args);

}  // namespace shixin

#endif  // SHIXIN_CLI_COMMANDS_H_
