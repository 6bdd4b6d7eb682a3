// The shixin tool's subcommands. Each takes its arguments (after the command name) and returns
// the process exit status: 0 success, 1 some queried ID was invalid, 2 usage error,
// 3 the data or catalog could not be loaded.
//
// Thread safety: run from main() only.
#ifndef SHIXIN_CLI_COMMANDS_H_
#define SHIXIN_CLI_COMMANDS_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/flags.h"
#include "core/id.h"
#include "core/snapshot.h"

namespace shixin {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalidId = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitLoad = 3;

// Prints "shixin COMMAND: MESSAGE (see shixin help)" on stderr; returns kExitUsage.
int UsageError(std::string_view command, const absl::Status& status);
// Prints "shixin COMMAND: MESSAGE" on stderr; returns kExitLoad.
int LoadFailed(std::string_view command, const absl::Status& status);

// Returns the list loaded from the data directory `data`, or that of --data without it,
// tolerating --max-errors bad lines (each reported on stderr). InvalidArgument when neither
// names a directory; else LoadDataDir()'s errors.
absl::StatusOr<std::unique_ptr<const Snapshot>> LoadData(
    const Flags& flags, const std::optional<std::string>& data = std::nullopt);

// Runs `query` on each input that parses as an ID and prints the reason for each that does not
// (as JSON with `json`). `query` returns an exit status; kExitLoad stops the run. Returns
// kExitLoad, else kExitInvalidId if any input or query failed, else kExitOk.
int ForEachId(const std::vector<std::string>& inputs, bool json,
              absl::FunctionRef<int(const Id&, bool json)> query);

// check and detail (the same: a subject's status, cases and roles), offline or --server.
int RunCheck(const std::vector<std::string>& args);
int RunMeasures(const std::vector<std::string>& args);
int RunGen(const std::vector<std::string>& args);
// compile --data DIR -o FILE: writes the built snapshot to a snapshot file (core/snapshot_file.h).
int RunCompile(const std::vector<std::string>& args);
// catalog: the measure catalog (agencies, scenarios, measures), of a file or of the daemon.
int RunCatalog(const std::vector<std::string>& args);
// Server-only commands.
int RunInfo(const std::vector<std::string>& args);
int RunReload(const std::vector<std::string>& args);

}  // namespace shixin

#endif  // SHIXIN_CLI_COMMANDS_H_
