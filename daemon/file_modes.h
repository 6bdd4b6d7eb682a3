// Who else may change the daemon's trust or read its secrets: the callers file decides who is
// admin, state_dir holds the audit that must prove what was asked, the TLS key is the server's
// identity (sshd's StrictModes, as a warning); and a core file would hold the key and the list.
//
// Thread safety: a plain function of the file system.
#ifndef SHIXIN_DAEMON_FILE_MODES_H_
#define SHIXIN_DAEMON_FILE_MODES_H_

#include <string>

#include "absl/status/status.h"
#include "daemon/config.h"

namespace shixin {

// Returns one log line naming every configured file that other accounts could use, or "" if
// there is none: the callers file writable by its group or others, or its directory writable by
// them without the sticky bit (the file can be replaced); state_dir writable by its group or
// others; the TLS key readable or writable by others, or by a group the daemon is not in (the
// key's group is how a dynamic user reads it, e.g. shixin). Each with its mode and what to do:
// "loose permissions: callers_file /etc/shixin/callers.toml is writable by others (0666); ...;
// chmod go-w / o-r them (docs/shixind.md)". A file that cannot be stat'ed is left out: using it
// reports that.
// Also counts state_dir's node_id, audit directory and audit files that their group or others
// have any access to (they hold every subject asked): "3 of state_dir's node_id, ...".
std::string LooseFileModesWarning(const Config& config);

// Takes group and others' access away from state_dir's node_id, audit directory and audit files
// (chmod to their owner's bits only: 0600, 0700), as a start sets the audit directory to 0700:
// a backup restored under umask 0, or by a tool that does not keep modes, leaves them open.
// Returns one log line naming what was changed (the first few) and what chmod refused, or "" if
// nothing was open. Call it holding state_dir's lock, before the audit is opened.
std::string TightenStateDirModes(const std::string& state_dir);

// Unless `config.core_dumps`, marks the process not dumpable (prctl PR_SET_DUMPABLE 0): a crash
// writes no core file (which would hold the TLS key and the whole list, related persons
// included, outside state_dir), and only root may ptrace it or read its /proc/PID files that
// need ptrace access (maps, environ, fd; perf and gdb as root still work). Returns the errno's
// status if prctl fails.
absl::Status ApplyCoreDumps(const Config& config);

}  // namespace shixin

#endif  // SHIXIN_DAEMON_FILE_MODES_H_
