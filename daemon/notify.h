// The daemon's messages to its service manager (sd_notify(3)): readiness, reloads, shutdown,
// a one-line status and the watchdog's beats. Without systemd ($NOTIFY_SOCKET unset) every call
// does nothing.
//
// Thread safety: every function may be called from any thread.
#ifndef SHIXIN_DAEMON_NOTIFY_H_
#define SHIXIN_DAEMON_NOTIFY_H_

#include <string_view>

#include "absl/time/time.h"

namespace shixin {

// Sends READY=1 and STATUS=`status`: the first load is done and the daemon listens, or a
// reload has ended.
void NotifyReady(std::string_view status);
// Sends RELOADING=1, MONOTONIC_USEC=<now> and STATUS=`status`: a reload has started.
void NotifyReloading(std::string_view status);
// Sends STOPPING=1 and STATUS=`status`: shutdown has begun.
void NotifyStopping(std::string_view status);
// Sends STATUS=`status` only.
void NotifyStatus(std::string_view status);

// Returns how often the daemon must send WATCHDOG=1: a quarter of the $WATCHDOG_USEC that
// systemd sets with WatchdogSec= (sd_watchdog_enabled(3); for this process, $WATCHDOG_PID), so
// that a late beat or two do not get it killed; zero without a watchdog.
absl::Duration WatchdogInterval();
// Sends WATCHDOG=1: the daemon's loops are alive (daemon/watchdog.h).
void NotifyWatchdog();

}  // namespace shixin

#endif  // SHIXIN_DAEMON_NOTIFY_H_
