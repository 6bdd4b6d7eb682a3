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

// Returns the list loaded from the data directory `data`, or that of --data without it,
// tolerating --max-errors bad lines (each reported on stderr). InvalidArgument when neither
// names a directory; else LoadDataDir()'s errors.
absl::StatusOr<std::unique_ptr<const Snapshot>> LoadData(
    const Flags& flags, const std::optional<std::string>& data = std::nullopt);
// LoadData() of --data for a command that answers from the list (check, measures, export,
// notice): FailedPrecondition for an empty one, as shixind refuses to serve one (a feed cut
// short would answer "not listed" for everyone). compile may write it: shixind refuses it then.
absl::StatusOr<std::unique_ptr<const Snapshot>> LoadListToAnswer(const Flags& flags);

// One input of a query: an ID as typed, and where: its line of standard input (1-based), or 0
// for a command-line argument.
struct QueryInput {
  std::string text;
  size_t line = 0;
};

// The inputs of a query: the IDs that parse, in order, and the reason for each input that does
// not, printed (as JSON with `json`) in its place among the answers that the caller prints.
// One from standard input is also named by its line: "line" in the JSON object, "line N: " in
// front of the reason in text, and "shixin: stdin:N: ..." on stderr (blank lines are skipped,
// so the output's line numbers are not the input's).
class InputIds {
 public:
  InputIds(const std::vector<QueryInput>& inputs, bool json);

  // Returns the inputs that parse as IDs, in their order.
  const std::vector<Id>& ids() const { return ids_; }
  // Prints the reasons of the invalid inputs before ids()[j], or of all those left for
  // j == ids().size(). REQUIRES: j does not decrease from call to call.
  void Reach(size_t j);
  // Records the exit status of an answer; any above kExitInvalidId (kExitUsage: the request
  // itself is wrong, every ID would fail alike; a load or server failure) stops the run.
  void Record(int status);
  // Returns whether the run was stopped: nothing more is to be printed.
  bool stopped() const { return status_ > kExitInvalidId; }
  // Returns the status that stopped the run, else kExitInvalidId if any input (reached) or
  // answer failed, else kExitOk.
  int status() const { return status_; }
  // Says on stderr where a run stopped before answering ids()[j] (a server gone midway): its
  // line (or argument) and ID, and how many inputs were answered before it, so that a script
  // can resume. REQUIRES: j < ids().size().
  void SayStoppedAt(size_t j) const;

 private:
  bool json_;
  std::vector<Id> ids_;
  std::vector<size_t> input_of_;  // ids_[j] is input number input_of_[j]
  std::vector<size_t> line_of_;   // and on line line_of_[j] of standard input (0: an argument)
  size_t inputs_ = 0;
  // The invalid inputs: number, text and reason; those before next_invalid_ are printed.
  struct Invalid {
    size_t input;
    size_t line;  // QueryInput::line
    std::string text;
    std::string reason;
  };
  std::vector<Invalid> invalid_;
  size_t next_invalid_ = 0;
  int status_ = kExitOk;
};

// Runs `query` on each input that parses as an ID and prints the reason for each that does not
// (InputIds). `query` returns an exit status; kExitLoad stops the run. Returns
// InputIds::status().
int ForEachId(const std::vector<QueryInput>& inputs, bool json,
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
