// A caller of shixind (issue 11): one calling system (a bank's credit department, a hotel
// chain's front desk), what it may do (its scopes), what it may see (its view), how fast (its
// rate) and how it proves who it is (hashed tokens, TLS client certificate identities).
//
// Thread safety: plain values and pure functions.
#ifndef SHIXIN_CALLERS_CALLER_H_
#define SHIXIN_CALLERS_CALLER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/masking.h"
#include "core/scope.h"

namespace shixin {

// Returns whether `sector` is one of the known sectors (bank, hotel, travel, real_estate,
// procurement, subsidy, appointment, court, credit_office, admin, other).
bool IsKnownSector(std::string_view sector);
// Returns the known sectors, comma-separated (for error messages and usage texts).
const std::string& KnownSectors();

// Returns whether `id` is a valid caller id: [a-z0-9][a-z0-9._-]{0,63}.
bool IsValidCallerId(std::string_view id);

// Returns whether `text` is "sha256:" followed by 64 lower-case hex digits.
bool IsSha256Text(std::string_view text);
// Returns whether `text` is a certificate identity: "sha256:<64 hex>" (the DER's digest) or
// "cn:<name>" with a non-empty name.
bool IsCertificateIdentity(std::string_view text);

// The slowest rate a caller may have (one request per 100 days) and the longest its burst may
// take to refill at its rate (100 days): shixind's token bucket (daemon/rate_limiter.h) keeps
// at most 104 days' worth of one token or of a burst, and silently turns a slower rate into a
// faster one and a longer refill into a smaller burst.
inline constexpr double kMaxRefillSeconds = 100 * 86400.0;
inline constexpr double kMinRate = 1 / kMaxRefillSeconds;

struct Caller {
  std::string id;
  std::string name;
  std::string sector;
  // The memorandum agencies and scenarios it acts for (catalog ids): the default filter of its
  // MEASURES, when it names neither an agency nor a scenario.
  std::vector<std::string> agencies;
  std::vector<std::string> scenarios;
  ScopeSet scopes = 0;
  View view = View::kMasked;
  double rate = 10;                       // requests per second, >= kMinRate
  uint32_t burst = 20;                    // >= 1, (burst - 1) / rate <= kMaxRefillSeconds
  std::vector<std::string> token_hashes;  // "sha256:<hex>" (token.h HashToken)
  std::vector<std::string> certificates;  // "sha256:<hex>" or "cn:<name>"
};

// Returns OK if `caller`'s fields are each valid on their own (id, name, sector, rate, burst,
// token hashes, certificate identities) and its rate and burst are ones the daemon's limiter
// keeps (kMinRate, kMaxRefillSeconds); else InvalidArgument naming the field ("rate: ...").
absl::Status ValidateCaller(const Caller& caller);

}  // namespace shixin

#endif  // SHIXIN_CALLERS_CALLER_H_
