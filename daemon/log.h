// The daemon's log: one line per event on standard error, in the form journald reads.
//
// When stderr is not a terminal (under systemd it is the journal's stream, or a file or pipe),
// each line starts with its syslog priority, "<3>" error, "<4>" warning, "<6>" info,
// "<7>" debug, which journald turns into the entry's PRIORITY (SyslogLevelPrefix=yes, the
// default) and strips from the message. On a terminal the prefix is "E ", "W ", "I ", "D "
// after a local timestamp. Debug lines are written only after SetLogVerbose(true).
//
// Never put a full ID number in a log line: log Id::Masked().
//
// Thread safety: every function may be called from any thread; each line is written with one
// write(2), so lines from different threads do not interleave.
#ifndef SHIXIN_DAEMON_LOG_H_
#define SHIXIN_DAEMON_LOG_H_

#include <string_view>

#include "absl/strings/str_format.h"

namespace shixin {

enum class LogLevel { kError = 3, kWarning = 4, kInfo = 6, kDebug = 7 };

// Enables or disables debug lines (off by default).
void SetLogVerbose(bool verbose);
// Returns whether lines of `level` are written.
bool LogEnabled(LogLevel level);

// Writes `message` as one line at `level` (a trailing newline is added).
void LogLine(LogLevel level, std::string_view message);

template <typename... Args>
void LogError(const absl::FormatSpec<Args...>& format, const Args&... args) {
  LogLine(LogLevel::kError, absl::StrFormat(format, args...));
}
template <typename... Args>
void LogWarning(const absl::FormatSpec<Args...>& format, const Args&... args) {
  LogLine(LogLevel::kWarning, absl::StrFormat(format, args...));
}
template <typename... Args>
void LogInfo(const absl::FormatSpec<Args...>& format, const Args&... args) {
  LogLine(LogLevel::kInfo, absl::StrFormat(format, args...));
}
template <typename... Args>
void LogDebug(const absl::FormatSpec<Args...>& format, const Args&... args) {
  if (LogEnabled(LogLevel::kDebug)) LogLine(LogLevel::kDebug, absl::StrFormat(format, args...));
}

}  // namespace shixin

#endif  // SHIXIN_DAEMON_LOG_H_
