// AuthFailures limits failed authentications per source and identity (issue 11): after
// max_failures failed attempts within `window`, the source is refused for `block` when it
// names that identity again. A source is an IPv4 address (IPv4-mapped IPv6 counts as IPv4) or
// an IPv6 /64, since whoever has one IPv6 address normally has its whole /64. The identity is
// what the attempt claimed (the caller id a HELLO names; for a bearer token, the token): behind
// a proxy every client has the proxy's address, and one client retrying a stale token must not
// lock out the others (tokens are 256-bit random: the limit slows scanning, it does not guard
// guessable secrets). The daemon checks credentials before the hold (daemon/access.h): a hold
// refuses wrong ones only, so that naming a caller five times cannot lock that caller out.
//
// Memory is bounded: at most max_addresses sources are remembered. When full, a new source
// displaces the one whose last failure is oldest among those not blocked, or if all are
// blocked, the one whose block ends first; so a flood of new addresses forgets counts (which
// it could as well have spread over its own addresses) before it forgets a block.
//
// Time is a monotonic clock in nanoseconds (`now_ns`, e.g. steady_clock), given by the caller.
//
// Thread safety: thread-safe (one std::mutex: Debian's Abseil is not built for ThreadSanitizer,
// which could not see an absl::Mutex).
#ifndef SHIXIN_DAEMON_AUTH_FAILURES_H_
#define SHIXIN_DAEMON_AUTH_FAILURES_H_

#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace shixin {

class AuthFailures {
 public:
  struct Options {
    uint32_t max_failures = 5;  // within `window_seconds` block the source (at least 1)
    int64_t window_seconds = 60;
    int64_t block_seconds = 300;
    size_t max_addresses = 65536;  // sources remembered (at least 1)
  };

  explicit AuthFailures(const Options& options);
  AuthFailures(const AuthFailures&) = delete;
  AuthFailures& operator=(const AuthFailures&) = delete;

  // Returns 0 if `address` may try to authenticate as `identity` at `now_ns`, else the seconds
  // (rounded up, at most block_seconds) until it may. A block that has ended is forgotten.
  int64_t BlockedFor(const boost::asio::ip::address& address, int64_t now_ns,
                     std::string_view identity = {});

  // Counts a failed attempt from `address` as `identity` at `now_ns`; the max_failures-th
  // within the window blocks that (source, identity) for block_seconds from `now_ns`. A failure
  // while blocked changes nothing.
  void RecordFailure(const boost::asio::ip::address& address, int64_t now_ns,
                     std::string_view identity = {});

  // Forgets the failures of `address`'s source as `identity` (it authenticated).
  void RecordSuccess(const boost::asio::ip::address& address, std::string_view identity = {});

  // Returns the number of sources remembered.
  size_t size() const;

  // The source of an address: IPv4 as its IPv4-mapped IPv6 form, IPv6 with the interface
  // identifier (the last 64 bits) zeroed. The two never collide (a mapped address has
  // 0xffff in bits 80-95).
  using Key = std::array<unsigned char, 16>;
  static Key KeyOf(const boost::asio::ip::address& address);

 private:
  // What failures are counted by: a source and a hash of the identity it claimed.
  struct EntryKey {
    Key source;
    uint64_t identity;
    bool operator==(const EntryKey&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const EntryKey& k) {
      return H::combine(std::move(h), k.source, k.identity);
    }
  };
  static EntryKey EntryKeyOf(const boost::asio::ip::address& address, std::string_view identity);
  using Order = std::list<EntryKey>;
  struct Entry {
    std::vector<int64_t> failures;  // within the window, oldest first; empty when blocked
    int64_t blocked_until = 0;      // 0: not blocked
    Order::iterator position;       // in counting_ or blocked_ (as blocked_until says)
  };

  // Forgets the entry of `it`. REQUIRES: mu_ held.
  void EraseLocked(absl::flat_hash_map<EntryKey, Entry>::iterator it);
  // Makes room for one more entry. REQUIRES: mu_ held, entries_ not empty.
  void EvictOneLocked();

  const Options options_;
  mutable std::mutex mu_;
  absl::flat_hash_map<EntryKey, Entry> entries_;  // guarded by mu_
  Order counting_;                                // not blocked, by last failure; guarded by mu_
  Order blocked_;                                 // blocked, by block start; guarded by mu_
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_AUTH_FAILURES_H_
