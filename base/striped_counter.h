// StripedCounter: a counter that many threads add to without sharing a cache line. Each thread
// adds to one of kStripes padded cells (its own, up to kStripes threads), so the I/O threads of
// the query path do not pass one line between their cores on every request; Read() sums them.
//
// Thread safety: Add() and Read() may be called from any thread at once; a Read() racing Add()
// sees each cell's value before or after the add.
#ifndef SHIXIN_BASE_STRIPED_COUNTER_H_
#define SHIXIN_BASE_STRIPED_COUNTER_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace shixin {

class StripedCounter {
 public:
  static constexpr size_t kStripes = 8;

  // Adds `n`.
  void Add(uint64_t n = 1) { cells_[ThreadStripe()].value.fetch_add(n, std::memory_order_relaxed); }

  // Subtracts `n` added before (a count taken back). The thread's cell may wrap below 0 when
  // another thread added: the sum, modulo 2^64, is right all the same.
  void Subtract(uint64_t n = 1) {
    cells_[ThreadStripe()].value.fetch_sub(n, std::memory_order_relaxed);
  }

  // Returns the sum of every Add() so far, less every Subtract().
  uint64_t Read() const {
    uint64_t sum = 0;
    for (const Cell& c : cells_) sum += c.value.load(std::memory_order_relaxed);
    return sum;
  }

  // Returns the calling thread's stripe: threads take the stripes in turn as they first ask.
  static size_t ThreadStripe() {
    static std::atomic<size_t> next{0};
    thread_local const size_t stripe = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
    return stripe;
  }

 private:
  struct alignas(64) Cell {
    std::atomic<uint64_t> value{0};
  };
  std::array<Cell, kStripes> cells_{};
};

}  // namespace shixin

#endif  // SHIXIN_BASE_STRIPED_COUNTER_H_
