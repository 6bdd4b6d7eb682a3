// The daemon's messages to its service manager (sd_notify(3)): readiness, reloads, shutdown
// and a one-line status. Without systemd ($NOTIFY_SOCKET unset) every call does nothing.
//
// Thread safety: every function may be called from any thread.
#ifndef SHIXIN_DAEMON_NOTIFY_H_
#define SHIXIN_DAEMON_NOTIFY_H_

#include <string_view>

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

}  // namespace shixin

#endif  // SHIXIN_DAEMON_NOTIFY_H_
