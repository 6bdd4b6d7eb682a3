// Watchdog feeds systemd's watchdog (WATCHDOG=1, WatchdogSec= in the unit) only while the event
// loops it watches run. Every `interval` a tick on the main loop's io_context sends a beat if
// every watched loop has run the handler that the previous tick posted to it, then posts the
// next ones. A loop that hangs (a deadlock, a read stuck on a dead disk), the main loop
// included, stops the beats, and systemd kills and restarts the daemon after WatchdogSec=; a
// timer thread of its own would keep beating for a daemon that no longer answers.
//
// Thread safety: construct, Start() and Stop() on the main loop's thread.
#ifndef SHIXIN_DAEMON_WATCHDOG_H_
#define SHIXIN_DAEMON_WATCHDOG_H_

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

namespace shixin {

class Watchdog {
 public:
  // Ticks on `main` every `interval`, watching `loops` (they must outlive the Watchdog, as must
  // `main`); `beat` sends the beat (NotifyWatchdog(), daemon/notify.h).
  Watchdog(boost::asio::io_context& main, std::vector<boost::asio::io_context*> loops,
           absl::Duration interval, absl::AnyInvocable<void()> beat);
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  // Stops: a tick already queued on `main` finds the Watchdog gone and does nothing.
  ~Watchdog();

  // Ticks now (a beat: the loops have just started) and every `interval` until Stop().
  void Start();
  // Cancels the tick; no beat follows. Idempotent.
  void Stop();

 private:
  void Tick();

  boost::asio::steady_timer timer_;
  const std::vector<boost::asio::io_context*> loops_;
  // The last round each loop answered; shared with the handlers posted to the loops, which may
  // run (or be destroyed) after the Watchdog is gone.
  const std::shared_ptr<std::vector<std::atomic<uint64_t>>> answered_;
  const absl::Duration interval_;
  absl::AnyInvocable<void()> beat_;
  uint64_t round_ = 0;  // the round posted last
  // Read by the timer's handler, which may already be queued (expired, not cancellable) when
  // Stop() or the destructor runs; only the main loop's thread touches it.
  std::shared_ptr<bool> stopped_ = std::make_shared<bool>(false);
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_WATCHDOG_H_
