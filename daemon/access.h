// Access is the daemon's door (issue 11): who the callers are (the callers file, read at start
// and again on SIGHUP), who a connection is (HELLO's credentials, or a TLS client certificate),
// what each caller may do (its scopes), how fast (one token bucket per caller, shared by its
// connections), and which source addresses are held off after failed attempts.
//
// Without a callers file Access is open (development mode, loopback only: config.cc refuses
// anything else): every connection holds the grant of the caller "open", with every scope, the
// full view and no rate limit.
//
// A connection keeps the Grant it was given when it authenticated. Reload() publishes a new
// table and bumps epoch(); a connection that sees another epoch asks Revalidate() for the grant
// that replaces its own, which is null when its caller, token or certificate was revoked.
//
// Thread safety: every method may be called from any thread. Reload() and the table swap take
// a mutex; Admit(), the per-request check, touches only the grant's atomics.
#ifndef SHIXIN_DAEMON_ACCESS_H_
#define SHIXIN_DAEMON_ACCESS_H_

#include <array>
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/striped_counter.h"
#include "callers/caller.h"
#include "callers/caller_table.h"
#include "core/catalog.h"
#include "daemon/auth_failures.h"
#include "daemon/rate_limiter.h"
#include "protocol/wire.h"

namespace shixin {

// One caller's counters since the daemon started (they survive reloads of the callers file).
struct CallerCounters {
  StripedCounter requests;                 // requests admitted (every request: striped)
  std::atomic<uint64_t> rate_limited{0};   // refused RATE_LIMITED
  std::atomic<uint64_t> denied{0};         // refused PERMISSION_DENIED (scopes, FEEDBACK)
  std::atomic<uint64_t> auth_failures{0};  // HELLOs naming it whose token was refused
};

// What a connection was granted when it authenticated.
struct Grant {
  Caller caller;
  // What it proved: "token:sha256:<hex>" (the token's hash), "cert:sha256:<hex>" or
  // "cert:cn:<name>" (the certificate entry of the caller it matched); "" in open mode.
  std::string credential;
  std::shared_ptr<TokenBucket> bucket;       // null: no limit (open mode)
  std::shared_ptr<CallerCounters> counters;  // never null
  // Returns whether the caller holds `scope`.
  bool Has(Scope scope) const { return HasScope(caller.scopes, scope); }
  // Returns whether a TLS client certificate proved it.
  bool ByCertificate() const;
};

// A caller's counters, read for INFO.
struct CallerCount {
  std::string id;
  uint64_t requests = 0;
  uint64_t rate_limited = 0;
  uint64_t denied = 0;
  uint64_t auth_failures = 0;
};

// How a refused authentication came: HELLO (binary protocol) or a bearer token (JSON API).
enum class AuthVia { kHello, kBearer };

class Access {
 public:
  // Returns an open Access (no callers file).
  static std::unique_ptr<Access> OpenMode();
  // Reads `callers_file` and checks its agencies and scenarios against `catalog`, each agency
  // kept as its id (ParseCallersFile). Returns its error (naming file, line and key) if it
  // cannot be used. `beyond_loopback` names a listener not on loopback (NonLoopbackListener(),
  // daemon/config.h), or is "": a file with a published example token (Reload()) is then
  // refused rather than warned of.
  static absl::StatusOr<std::unique_ptr<Access>> FromFile(std::string callers_file, Catalog catalog,
                                                          std::string beyond_loopback = "");

  // Returns whether no callers file is used (development mode).
  bool open() const { return path_.empty(); }

  // Returns the grant of a connection that has not authenticated: in open mode the grant of
  // "open" (every scope), in callers mode null.
  std::shared_ptr<const Grant> Anonymous() const { return open_grant_; }

  // Checks HELLO's credentials from `address`. Returns the grant, or Unauthenticated: the id
  // or token is wrong (the message says no more than that, or, when the address (its /64 for
  // IPv6) failed too often lately naming this caller, how long it must wait:
  // daemon/auth_failures.h). Right credentials pass during a hold: it guards against guessing,
  // and must not let whoever can name a caller lock it out.
  absl::StatusOr<std::shared_ptr<const Grant>> Authenticate(
      std::string_view caller_id, std::string_view token, const boost::asio::ip::address& address);
  // Checks a bearer `token` (the JSON API's Authorization header) from `address`: the caller
  // whose entry holds the token's hash. Returns its grant (in open mode the open grant, whatever
  // the token), or Unauthenticated as Authenticate() does, failures counted per token.
  absl::StatusOr<std::shared_ptr<const Grant>> AuthenticateToken(
      std::string_view token, const boost::asio::ip::address& address);
  // Returns the grant of the caller holding the TLS client certificate with `fingerprint`
  // ("sha256:<hex>") or common name `cn`, or Unauthenticated if none does.
  absl::StatusOr<std::shared_ptr<const Grant>> ForCertificate(std::string_view fingerprint,
                                                              std::string_view cn) const;

  // What Admit() decided.
  struct Decision {
    wire::Status status = wire::Status::kOk;  // kOk, kPermissionDenied or kRateLimited
    uint32_t retry_after_ms = 0;              // kRateLimited: when a token is available
  };
  // Charges a request that needs `scope` (nullopt: none) and costs `cost` tokens (a CHECK: one
  // per ID) to `grant`. Returns kOk, kPermissionDenied (the scope is missing) or kRateLimited
  // with the wait. REQUIRES: 1 <= cost <= grant.caller.burst.
  Decision Admit(const Grant& grant, std::optional<Scope> scope, uint32_t cost) const;
  // Moves a request Admit() admitted for `grant` from its `requests` to its `denied`: it was
  // answered PERMISSION_DENIED after all, for what only its payload told (FEEDBACK on another
  // caller's receipt, or `applied` for another agency's measure).
  void Deny(const Grant& grant) const;

  // Reads the callers file again. Returns its error and keeps the old table if it cannot be
  // used (FailedPrecondition if it names no caller while the old table names some, or if a
  // caller holds a token the example callers file publishes while the daemon listens beyond
  // loopback: "PUBLISHED CREDENTIAL: ..."); else publishes the new one and bumps epoch().
  absl::Status Reload();
  // Returns the warning that the current table has callers holding a published example token
  // (callers/callers_file.h kPublishedExampleTokens), naming them and what to run, or "".
  std::string PublishedTokenWarning() const;
  // Returns the number of tables published; a connection compares it with its own.
  uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  // Returns the grant that replaces `grant` in the current table (the same caller, still
  // holding the credential `grant` proved), or null if it was revoked.
  std::shared_ptr<const Grant> Revalidate(const Grant& grant) const;
  // Brings a connection's `*grant`, checked in `*epoch`, up to the current epoch(): replaced
  // by Revalidate() after a reload. Returns false if it was revoked (`*grant` is then null);
  // true if it holds, or there is none.
  bool Refresh(std::shared_ptr<const Grant>* grant, uint64_t* epoch) const;

  // Returns every caller's counters, in the table's order (and, in open mode, "open"'s).
  std::vector<CallerCount> Counts() const;
  // Counts a refused authentication that never reached Authenticate() or AuthenticateToken()
  // (e.g. a request without an Authorization header); those two count their own.
  void CountRefused(AuthVia via) const {
    refused_[static_cast<int>(via)].fetch_add(1, std::memory_order_relaxed);
  }
  // Returns the authentications refused `via` since start, whoever they named (an unknown
  // caller or token too), unlike Counts()' auth_failures, which count per caller named.
  uint64_t refused(AuthVia via) const {
    return refused_[static_cast<int>(via)].load(std::memory_order_relaxed);
  }
  // Returns the error of the last Reload() ("" if it succeeded), for INFO and the log.
  std::string last_error() const;

 private:
  Access(std::string path, Catalog catalog, std::string beyond_loopback);
  // Returns the grant of `caller` for `credential`, with its bucket and counters.
  // REQUIRES: mu_ is held.
  std::shared_ptr<const Grant> MakeGrant(const Caller& caller, std::string credential) const;
  // Returns Unauthenticated with the wait if `address` failed too often lately (at `now`) with
  // `identity` (what it claims: "hello:<caller id>" or "bearer:<token hash>").
  absl::Status HeldOff(const boost::asio::ip::address& address, std::string_view identity,
                       int64_t now);
  // Returns the current table. Thread safety: takes mu_.
  std::shared_ptr<const CallerTable> table() const;

  const std::string path_;             // empty: open mode
  const Catalog catalog_;              // checks a reloaded file's agencies and scenarios
  const std::string beyond_loopback_;  // a listener not on loopback, or ""
  std::shared_ptr<const Grant> open_grant_;
  std::atomic<uint64_t> epoch_{1};
  AuthFailures failures_{AuthFailures::Options{}};
  mutable std::array<std::atomic<uint64_t>, 2> refused_{};  // by AuthVia

  mutable std::mutex mu_;
  std::shared_ptr<const CallerTable> table_;  // guarded by mu_
  // One bucket per caller, made anew when its rate or burst changes; guarded by mu_.
  struct Limit {
    double rate = 0;
    uint32_t burst = 0;
    std::shared_ptr<TokenBucket> bucket;
  };
  mutable absl::flat_hash_map<std::string, Limit> limits_;
  mutable absl::flat_hash_map<std::string, std::shared_ptr<CallerCounters>> counters_;
  std::string last_error_;  // guarded by mu_
  std::string published_;   // PublishedTokenWarning(); guarded by mu_
};

// Returns the scope an operation needs, or nullopt for those every authenticated caller may
// use (PING, INFO's public part, CATALOG) and HELLO.
std::optional<Scope> ScopeOf(wire::Opcode op);

}  // namespace shixin

#endif  // SHIXIN_DAEMON_ACCESS_H_
