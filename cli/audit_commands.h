// `shixin audit verify DIR` and `shixin audit query DIR ...`: the audit of issue 12 read from
// its directory (state_dir/audit), without the daemon (audit/reader.h).
//
// Thread safety: run from main() only.
#ifndef SHIXIN_CLI_AUDIT_COMMANDS_H_
#define SHIXIN_CLI_AUDIT_COMMANDS_H_

#include <string>
#include <vector>

namespace shixin {

// Runs `shixin audit verify|query ...` (`args` starts with the subcommand). Returns the exit
// status: 0 ok, 1 verify found problems or query's --receipt points at no record (said on
// stderr), 2 usage error, 3 the audit could not be read.
int RunAudit(const std::vector<std::string>& args);

}  // namespace shixin

#endif  // SHIXIN_CLI_AUDIT_COMMANDS_H_
