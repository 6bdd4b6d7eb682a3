// The daemon's log: one line per event on standard error, in the form journald reads.
//
// When stderr is not a terminal (under systemd it is the journal's stream, or a file or pipe),
// each line starts with its syslog priority, "<3>" error, "<4>" warning, "<6>" info,
// "<7>" debug, which journald turns into the entry's PRIORITY (SyslogLevelPrefix=yes, the
// default) and strips from the message. On a terminal the prefix is "E ", "W ", "I ", "D "
// after a local timestamp. Debug lines are written only after SetLogVerbose(true).
//
// Repeated events that a client can provoke at will (bad frames, refused connections, accept
// errors) go through LogLimited(): at most kLimitedBurst lines at once and kLimitedPerSecond
// lines a second per LogKind (a token bucket); the lines suppressed meanwhile are counted and
// the count is added to the next line of that kind: "... (1234 similar suppressed)". A
// flood then costs one mutex and one clock read per event, and journald keeps real errors.
//
// Never put a full ID number in a log line: log Id::Masked().
//
// Thread safety: every function may be called from any thread; each line is written with one
// write(2), so lines from different threads do not interleave.
#ifndef SHIXIN_DAEMON_LOG_H_
#define SHIXIN_DAEMON_LOG_H_

#include <cstdint>
#include <mutex>
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

// The kinds of repeated events whose lines LogLimited() rate-limits, each on its own.
enum class LogKind {
  kBadFrame,           // a connection closed for a malformed frame or a fatal error
  kRefusedConnection,  // a connection refused (max_connections, per-address limit)
  kAcceptError,        // accept() failed (EMFILE, ENFILE, ENOBUFS, ...)
  kPermissionDenied,   // a request refused for a missing scope or a FEEDBACK refused
  kAuthentication,     // a HELLO whose credentials were refused
  kReloadRequest,      // a reload request queued behind a running reload
  kDeadline,           // a connection closed by its frame or write deadline
  kCaseData,           // cases that could not be read (a snapshot file changed in place)
  kDeltaNote,          // a delta line that changed nothing (a repeated or late message)
  kLateChange,         // a delta line reported long after its `at` (a backfill has thousands)
  kTlsHandshake,       // a TLS handshake that failed (bad or missing client certificate, ...)
  kUring,              // io_uring refused a submission or its eventfd failed
  kCount,              // the number of kinds; not a kind
};

inline constexpr int kLimitedBurst = 5;      // lines of one kind written back to back at most
inline constexpr int kLimitedPerSecond = 5;  // lines of one kind per second in a long flood

// A token bucket that lets through at most `burst` events at once and `per_second` a second,
// and counts the events it holds back. Time comes from the caller (monotonic nanoseconds), so
// tests drive it with a fake clock.
//
// Thread safety: Allow() may be called from any thread.
class LogRateLimiter {
 public:
  // REQUIRES: burst >= 1, per_second >= 1.
  explicit LogRateLimiter(int burst = kLimitedBurst, int per_second = kLimitedPerSecond);

  // Returns whether an event at `now_ns` may be logged; if so, sets `*suppressed` to the number
  // of events held back since the last one let through.
  bool Allow(int64_t now_ns, uint64_t* suppressed);
  // Returns whether events were held back and the flood is over (an event at `now_ns` would be
  // let through); if so, sets `*suppressed` to their number, which the next Allow() no longer
  // reports, and takes an event's place in the schedule.
  bool TakeSuppressed(int64_t now_ns, uint64_t* suppressed);

 private:
  // The generic cell rate algorithm: one timestamp instead of a token count and a refill time.
  const int64_t interval_ns_;   // one event's worth of time: 1 s / per_second
  const int64_t tolerance_ns_;  // how far ahead of now the schedule may run: (burst - 1) events
  std::mutex mu_;
  int64_t next_ns_ = 0;      // guarded by mu_: when the schedule is free again
  uint64_t suppressed_ = 0;  // guarded by mu_
};

// Sets the clock of LogLimited() (monotonic nanoseconds); nullptr restores the steady clock.
// For tests; call it before any other thread logs.
void SetLogClockForTesting(int64_t (*now_ns)());

// Writes, for each LogKind whose flood is over, the number of its lines held back since its last
// line ("1694 lines of the kind 'a bad frame' suppressed"), which would otherwise wait for the
// next line of that kind. The daemon calls it once a second.
void FlushSuppressedLogLines();

// Returns `kind`'s name as a metric label: "bad_frame", "deadline", ...
std::string_view LogKindLabel(LogKind kind);
// Returns the number of LogLimited() events of `kind` since start, logged or suppressed (those at
// a disabled level are not events).
uint64_t LogKindEvents(LogKind kind);

// Counts an event of `kind` and returns whether its LogLimited() line may be written now; if so,
// `*suppressed` is the number of lines of that kind held back before it.
bool LogLimitedAllow(LogKind kind, uint64_t* suppressed);
// Writes `message`, followed by " (N similar suppressed)" when `suppressed` > 0.
void LogLimitedLine(LogLevel level, std::string_view message, uint64_t suppressed);

// Logs like LogError() etc. at `level`, unless lines of `kind` exceed their rate (see above);
// counts the event either way (unless `level` is disabled: verbose off). The arguments are
// formatted only for the lines that are written.
template <typename... Args>
void LogLimited(LogKind kind, LogLevel level, const absl::FormatSpec<Args...>& format,
                const Args&... args) {
  uint64_t suppressed = 0;
  if (!LogEnabled(level) || !LogLimitedAllow(kind, &suppressed)) return;
  LogLimitedLine(level, absl::StrFormat(format, args...), suppressed);
}

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
