// ConnectionLimits counts the open connections of a server, in total and per client address,
// and decides whether a new one may be admitted: at most max_per_address from one address
// (0: no per-address limit), and at most max_total in all; over the total, the connection may
// still get in by displacing the oldest idle one (ConnectionManager::EvictOne()), but
// only a few at a time (kEvictionSlack), so that a flood of connections cannot hold
// descriptors while they wait for their turn.
//
// Thread safety: thread-safe (accepting on one thread, closing on the I/O threads).
#ifndef SHIXIN_DAEMON_CONNECTION_LIMITS_H_
#define SHIXIN_DAEMON_CONNECTION_LIMITS_H_

#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <mutex>

#include "absl/container/flat_hash_map.h"

namespace shixin {

class ConnectionLimits {
 public:
  ConnectionLimits(uint32_t max_total, uint32_t max_per_address);
  ConnectionLimits(const ConnectionLimits&) = delete;
  ConnectionLimits& operator=(const ConnectionLimits&) = delete;

  // How many connections over max_total may wait for an idle one to displace.
  static constexpr uint32_t kEvictionSlack = 8;

  enum class Admission {
    kAdmitted,        // counted, within both limits
    kMustEvict,       // counted, but over max_total: it needs an idle connection to displace
    kRefusedAddress,  // not counted: its address has max_per_address connections already
    kRefusedTotal,    // not counted: max_total + kEvictionSlack are open
  };

  // Counts a new connection from `address` unless its address is at its limit.
  Admission Admit(const boost::asio::ip::address& address);
  // Forgets a connection counted by Admit().
  void Release(const boost::asio::ip::address& address);

  // Returns the connections counted now.
  int64_t open() const;
  // Counts a connection admitted kMustEvict but closed after all: none was idle to displace.
  // The caller Release()s it too, as any connection closed.
  void CountRefused();
  // Returns the connections refused since the start: by Admit() (kRefusedAddress,
  // kRefusedTotal) and by CountRefused().
  uint64_t refused() const;
  uint32_t max_total() const { return max_total_; }
  uint32_t max_per_address() const { return max_per_address_; }

 private:
  using Key = std::array<unsigned char, 16>;
  static Key KeyOf(const boost::asio::ip::address& address);

  const uint32_t max_total_;
  const uint32_t max_per_address_;
  // A std::mutex rather than absl::Mutex: Debian's Abseil is not built for ThreadSanitizer,
  // which could then not see the lock.
  mutable std::mutex mu_;
  int64_t open_ = 0;                                // guarded by mu_
  uint64_t refused_ = 0;                            // guarded by mu_
  absl::flat_hash_map<Key, uint32_t> per_address_;  // guarded by mu_
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_CONNECTION_LIMITS_H_
