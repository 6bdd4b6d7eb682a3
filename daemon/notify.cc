#include "daemon/notify.h"

#include <systemd/sd-daemon.h>

#include <cstring>
#include <ctime>
#include <string>

#include "absl/strings/str_format.h"
#include "daemon/log.h"

namespace shixin {
namespace {

// Sends `state` (newline-separated assignments). A status line must be one line.
void Send(const std::string& state) {
  const int r = sd_notify(/*unset_environment=*/0, state.c_str());
  if (r < 0) LogWarning("sd_notify failed: %s", std::string(strerror(-r)));
}

std::string OneLine(std::string_view status) {
  std::string s(status);
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  return s;
}

uint64_t MonotonicMicros() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

}  // namespace

void NotifyReady(std::string_view status) {
  Send(absl::StrFormat("READY=1\nSTATUS=%s", OneLine(status)));
}

void NotifyReloading(std::string_view status) {
  Send(absl::StrFormat("RELOADING=1\nMONOTONIC_USEC=%d\nSTATUS=%s", MonotonicMicros(),
                       OneLine(status)));
}

void NotifyStopping(std::string_view status) {
  Send(absl::StrFormat("STOPPING=1\nSTATUS=%s", OneLine(status)));
}

void NotifyStatus(std::string_view status) { Send(absl::StrFormat("STATUS=%s", OneLine(status))); }

absl::Duration WatchdogInterval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(/*unset_environment=*/0, &usec) <= 0 || usec == 0) {
    return absl::ZeroDuration();
  }
  return absl::Microseconds(usec) / 4;
}

void NotifyWatchdog() { Send("WATCHDOG=1"); }

}  // namespace shixin
