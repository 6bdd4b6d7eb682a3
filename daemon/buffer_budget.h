// BufferBudget bounds the memory that all connections together hold in buffers: for requests
// read but not yet answered (a partial frame, frames held back by the in-flight bound) and for
// responses not yet written. Each connection charges what its buffers take; once the total is
// over the limit, a connection with work pending whose buffers take more than its fair share
// (the limit divided by max_connections, at least kMinFairShare) stops reading until its own
// writes have drained it. A connection whose client does not read is then closed by its write
// deadline, so the memory comes back; well-behaved clients, which hold little, keep being served.
//
// Thread safety: thread-safe; Charge() is one relaxed atomic add.
#ifndef SHIXIN_DAEMON_BUFFER_BUDGET_H_
#define SHIXIN_DAEMON_BUFFER_BUDGET_H_

#include <atomic>
#include <cstdint>

namespace shixin {

class BufferBudget {
 public:
  // A connection may always hold this much, however full the budget is.
  static constexpr uint64_t kMinFairShare = 64 * 1024;

  // `limit` bytes for all connections together, shared fairly among `max_connections`.
  BufferBudget(uint64_t limit, uint32_t max_connections);
  BufferBudget(const BufferBudget&) = delete;
  BufferBudget& operator=(const BufferBudget&) = delete;

  // Sets what one holder holds from `*charged` to `held` bytes (updating *charged).
  void Charge(uint64_t* charged, uint64_t held) {
    if (held == *charged) return;
    used_.fetch_add(held - *charged, std::memory_order_relaxed);  // wraps to a subtraction
    *charged = held;
  }

  // Returns whether a holder of `held` bytes must stop reading: the budget is exhausted and
  // it holds more than its share.
  bool MustPause(uint64_t held) const {
    return held > fair_share_ && used_.load(std::memory_order_relaxed) > limit_;
  }

  // Returns the bytes charged in total.
  uint64_t used() const { return used_.load(std::memory_order_relaxed); }
  uint64_t limit() const { return limit_; }
  uint64_t fair_share() const { return fair_share_; }

 private:
  const uint64_t limit_;
  const uint64_t fair_share_;
  std::atomic<uint64_t> used_{0};
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_BUFFER_BUDGET_H_
