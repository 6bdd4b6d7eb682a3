#include "daemon/watchdog.h"

#include <boost/asio/post.hpp>
#include <utility>

namespace shixin {

Watchdog::Watchdog(boost::asio::io_context& main, std::vector<boost::asio::io_context*> loops,
                   absl::Duration interval, absl::AnyInvocable<void()> beat)
    : timer_(main),
      loops_(std::move(loops)),
      answered_(std::make_shared<std::vector<std::atomic<uint64_t>>>(loops_.size())),
      interval_(interval),
      beat_(std::move(beat)) {}

Watchdog::~Watchdog() { Stop(); }

void Watchdog::Start() {
  *stopped_ = true;  // a tick still queued from before belongs to the old flag
  stopped_ = std::make_shared<bool>(false);
  Tick();
}

void Watchdog::Stop() {
  *stopped_ = true;
  timer_.cancel();
}

void Watchdog::Tick() {
  bool alive = true;  // this runs on the main loop; every other loop answered the last round
  for (const std::atomic<uint64_t>& answered : *answered_) {
    alive = alive && answered.load(std::memory_order_relaxed) == round_;
  }
  if (alive) beat_();
  ++round_;
  for (size_t i = 0; i < loops_.size(); ++i) {
    boost::asio::post(*loops_[i], [answered = answered_, i, round = round_] {
      (*answered)[i].store(round, std::memory_order_relaxed);
    });
  }
  timer_.expires_after(absl::ToChronoNanoseconds(interval_));
  timer_.async_wait([this, stopped = stopped_](const boost::system::error_code& ec) {
    if (!ec && !*stopped) Tick();
  });
}

}  // namespace shixin
