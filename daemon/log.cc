#include "daemon/log.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <iterator>
#include <string>
#include <string_view>

namespace shixin {
namespace {

std::atomic<bool> verbose{false};

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::atomic<int64_t (*)()> log_clock{&SteadyNowNs};

// Whether stderr is a terminal, decided once.
bool StderrIsTerminal() {
  static const bool terminal = ::isatty(STDERR_FILENO) == 1;
  return terminal;
}

// Indexed by the syslog priority that LogLevel's values are.
char LevelLetter(LogLevel level) {
  static constexpr std::string_view kLetters = "???EW?ID";
  const auto i = static_cast<size_t>(level);
  return i < kLetters.size() ? kLetters[i] : '?';
}

// Appends the line's prefix: "<6>" for journald, or a timestamp and a letter on a terminal.
void AppendPrefix(LogLevel level, std::string* line) {
  if (!StderrIsTerminal()) {
    absl::StrAppendFormat(line, "<%d>", static_cast<int>(level));
    return;
  }
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  tm local;
  ::localtime_r(&ts.tv_sec, &local);
  // The host's zone, named: the lines' texts give times in +08:00, which it need not be.
  char stamp[32];
  char zone[8];
  const size_t n = std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &local);
  const size_t z = std::strftime(zone, sizeof(zone), "%z", &local);
  absl::StrAppendFormat(line, "%s.%03d%s %c ", std::string_view(stamp, n),
                        static_cast<int>(ts.tv_nsec / 1000000), std::string_view(zone, z),
                        LevelLetter(level));
}

constexpr size_t kKinds = static_cast<size_t>(LogKind::kCount);

// Each LogKind's metric label and its name in a line about suppressed lines.
struct KindNames {
  std::string_view label;
  std::string_view what;
};
constexpr KindNames kKindNames[] = {
    {"bad_frame", "a bad frame"},
    {"refused_connection", "a refused connection"},
    {"accept_error", "an accept error"},
    {"permission_denied", "a permission denied"},
    {"authentication", "an authentication"},
    {"reload_request", "a reload request"},
    {"deadline", "a deadline"},
    {"case_data", "case data"},
    {"delta_note", "a delta note"},
    {"late_change", "a change reported late"},
    {"tls_handshake", "a TLS handshake"},
    {"uring", "io_uring"},
};
static_assert(std::size(kKindNames) == kKinds);

// One limiter per LogKind, never destroyed (lines may be logged during exit).
LogRateLimiter& Limiter(LogKind kind) {
  static auto* limiters = new std::array<LogRateLimiter, kKinds>();
  return (*limiters)[static_cast<size_t>(kind)];
}

// Events per LogKind, logged or suppressed.
std::atomic<uint64_t>& EventCount(LogKind kind) {
  static auto* counts = new std::array<std::atomic<uint64_t>, kKinds>();
  return (*counts)[static_cast<size_t>(kind)];
}

}  // namespace

LogRateLimiter::LogRateLimiter(int burst, int per_second)
    : interval_ns_(1000000000 / per_second), tolerance_ns_((burst - 1) * interval_ns_) {}

bool LogRateLimiter::Allow(int64_t now_ns, uint64_t* suppressed) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t start = std::max(next_ns_, now_ns);
  if (start - now_ns > tolerance_ns_) {
    ++suppressed_;
    return false;
  }
  next_ns_ = start + interval_ns_;
  *suppressed = suppressed_;
  suppressed_ = 0;
  return true;
}

bool LogRateLimiter::TakeSuppressed(int64_t now_ns, uint64_t* suppressed) {
  std::lock_guard<std::mutex> lock(mu_);
  if (suppressed_ == 0 || next_ns_ > now_ns) return false;
  next_ns_ = now_ns + interval_ns_;
  *suppressed = suppressed_;
  suppressed_ = 0;
  return true;
}

void FlushSuppressedLogLines() {
  const int64_t now = log_clock.load(std::memory_order_relaxed)();
  for (size_t kind = 0; kind < kKinds; ++kind) {
    uint64_t suppressed = 0;
    if (!Limiter(static_cast<LogKind>(kind)).TakeSuppressed(now, &suppressed)) continue;
    LogLine(LogLevel::kInfo, absl::StrFormat("%d lines of the kind '%s' suppressed", suppressed,
                                             kKindNames[kind].what));
  }
}

std::string_view LogKindLabel(LogKind kind) { return kKindNames[static_cast<size_t>(kind)].label; }

uint64_t LogKindEvents(LogKind kind) { return EventCount(kind).load(std::memory_order_relaxed); }

void SetLogClockForTesting(int64_t (*now_ns)()) {
  log_clock.store(now_ns != nullptr ? now_ns : &SteadyNowNs, std::memory_order_relaxed);
}

bool LogLimitedAllow(LogKind kind, uint64_t* suppressed) {
  EventCount(kind).fetch_add(1, std::memory_order_relaxed);
  const int64_t now = log_clock.load(std::memory_order_relaxed)();
  return Limiter(kind).Allow(now, suppressed);
}

void LogLimitedLine(LogLevel level, std::string_view message, uint64_t suppressed) {
  if (suppressed == 0) {
    LogLine(level, message);
    return;
  }
  LogLine(level, absl::StrFormat("%s (%d similar suppressed)", message, suppressed));
}

void SetLogVerbose(bool on) { verbose.store(on, std::memory_order_relaxed); }

bool LogEnabled(LogLevel level) {
  return level != LogLevel::kDebug || verbose.load(std::memory_order_relaxed);
}

void LogLine(LogLevel level, std::string_view message) {
  if (!LogEnabled(level)) return;
  std::string line;
  line.reserve(message.size() + 32);
  AppendPrefix(level, &line);
  // One entry per line: a newline inside the message would start an entry without a priority.
  for (char c : message) line.push_back(c == '\n' ? ' ' : c);
  line.push_back('\n');
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace shixin
