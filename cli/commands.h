// The shixin tool's subcommands. Each takes its arguments (after the command name) and returns
// the process exit status: 0 success, 1 some queried ID was invalid (or a receipt has no
// record), 2 usage error, 3 the data or catalog could not be loaded, 4-6 the server's failures
// (below; main.cc's usage has the whole table).
//
// Thread safety: run from main() only.
#ifndef SHIXIN_CLI_COMMANDS_H_
#define SHIXIN_CLI_COMMANDS_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/flags.h"
#include "core/id.h"
#include "core/ingest.h"
#include "core/snapshot.h"

namespace shixin {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalidId = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitLoad = 3;
// The server's list is out of date: check/measures --fail-stale with a stale answer, a request
// refused for it (STALE_REFUSED, --no-going-back), reload with a delta file refused or missing.
inline constexpr int kExitStale = 4;
// The server could not be reached or did not answer (connect, TLS, timeout, connection lost,
// not shixind's binary port, BUSY, UNAVAILABLE).
inline constexpr int kExitServer = 5;
// The server refused the caller (UNAUTHENTICATED, PERMISSION_DENIED).
inline constexpr int kExitDenied = 6;

// Returns the exit status for a request the server failed or refused with `status` (the
// client's, protocol/client.h): kExitDenied, kExitStale, kExitInvalidId for NOT_FOUND (a
// receipt with no record, as offline), kExitLoad for RELOAD_FAILED (the daemon could not load
// the list), else kExitServer.
int ServerExitStatus(const absl::Status& status);

// Prints "shixin COMMAND: MESSAGE (see shixin help)" on stderr; returns kExitUsage.
int UsageError(std::string_view command, const absl::Status& status);
// Prints "shixin COMMAND: MESSAGE" on stderr; returns kExitLoad.
int LoadFailed(std::string_view command, const absl::Status& status);

// Checks -o FILE (`path`; "-" is standard output) before the work (core/paths.h
// CheckOutputPath): returns kExitOk, a usage error for an empty name, else LoadFailed's status
// naming the directory that is missing or not writable (a compile of minutes must not fail
// only then, naming a temporary file).
int CheckOutput(std::string_view command, const std::string& path);

// Returns the list loaded from the data directory `data`, or that of --data without it,
// tolerating --max-errors bad lines (each reported on stderr, as the load's notes are: a case
// given again with other content). InvalidArgument when neither names a directory; else
// LoadDataDir()'s errors. The load's report goes to `report` if not null.
absl::StatusOr<std::unique_ptr<const Snapshot>> LoadData(
    const Flags& flags, const std::optional<std::string>& data = std::nullopt,
    LoadReport* report = nullptr);
// LoadData() of --data for a command that answers from the list (check, measures, export,
// notice): FailedPrecondition for an empty one, as shixind refuses to serve one (a feed cut
// short would answer "not listed" for everyone). compile may write it: shixind refuses it then.
absl::StatusOr<std::unique_ptr<const Snapshot>> LoadListToAnswer(const Flags& flags);

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
