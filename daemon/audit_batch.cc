#include "daemon/audit_batch.h"

#include <boost/asio/post.hpp>

namespace shixin {

void AuditBatch::Join(Waiter* waiter, std::shared_ptr<void> keep_alive) {
  waiting_.emplace_back(waiter, std::move(keep_alive));
  if (posted_) return;
  posted_ = true;
  // Posted behind the completions the thread's reactor has already queued: every connection
  // that has input in this turn answers it before the one write.
  boost::asio::post(executor_, [this] { Flush(); });
}

void AuditBatch::Flush() {
  posted_ = false;
  flushing_.swap(waiting_);
  for (auto& [waiter, keep_alive] : flushing_) waiter->OnAuditTurn();
  flushing_.clear();
}

}  // namespace shixin
