// The command line of the single-purpose tools (shixin-loadtest, shixin-latency-probe): their
// flags are ABSL_FLAGs, parsed by absl::ParseCommandLine, with two conveniences on top.
//
// - A flag's name may be written with '-' for '_' (--reload-every sets FLAGS_reload_every), as
//   the tools' flags have always been spelled.
// - --help (or -h) prints the usage text and the tool's flags (help and default, from their
//   ABSL_FLAG definitions) on standard output and exits 0.
//
// Whatever absl::ParseCommandLine rejects (an unknown flag, a malformed value) it reports on
// standard error, and the process exits 1.
//
// Thread safety: call once, from main(), before any thread starts.
#ifndef SHIXIN_LOADTEST_TOOL_FLAGS_H_
#define SHIXIN_LOADTEST_TOOL_FLAGS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/commandlineflag.h"

namespace shixin {

// Parses `argv` into the ABSL_FLAGs as described above. `usage` is the usage text; the flags
// listed by --help are those defined in the same file as `own` (any one of the tool's flags,
// e.g. absl::GetFlagReflectionHandle(FLAGS_server)). Returns the positional arguments (without
// the program name).
std::vector<std::string> ParseToolFlags(int argc, char** argv, std::string_view usage,
                                        const absl::CommandLineFlag& own);

// Returns the help text of --help: `usage`, then one line per flag defined in the file of
// `own`, sorted by name, written with '-' for '_'.
std::string ToolFlagsHelp(std::string_view usage, const absl::CommandLineFlag& own);

}  // namespace shixin

#endif  // SHIXIN_LOADTEST_TOOL_FLAGS_H_
