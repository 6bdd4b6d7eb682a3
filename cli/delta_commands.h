// `shixin delta check FILE...`: delta files checked before they are pushed, as shixind takes
// them (docs/feed.md, section 3): each parsed whole (every line, the file's name, its size
// against max_delta_mb) and, with a base (--snapshot FILE or --data DIR, and the files already
// applied on it in --deltas DIR), applied after it in sequence order, so that a file the
// daemon would refuse (a bad line, a case that does not exist or already counts, a gap) is
// found before it holds up the feed.
//
// Thread safety: run from main() only.
#ifndef SHIXIN_CLI_DELTA_COMMANDS_H_
#define SHIXIN_CLI_DELTA_COMMANDS_H_

#include <string>
#include <vector>

namespace shixin {

// Runs `shixin delta check ...` (`args` starts with the subcommand). Prints a line per file
// ("NAME: ok, ..." or "NAME: refused: REASON") and the notes of the lines that change nothing.
// Returns the exit status: 0 every file would apply, 1 one would be refused, 2 usage error,
// 3 the base or the catalog could not be loaded.
int RunDelta(const std::vector<std::string>& args);

}  // namespace shixin

#endif  // SHIXIN_CLI_DELTA_COMMANDS_H_
