// Caller tokens (issue 11): a token is "shx_" + 43 base64url characters (32 random bytes); the
// callers file stores only "sha256:" + the 64 lower-case hex digits of SHA-256(token text).
//
// Thread safety: reentrant (OpenSSL's RAND_bytes and SHA-256 are thread-safe).
#ifndef SHIXIN_CALLERS_TOKEN_H_
#define SHIXIN_CALLERS_TOKEN_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace shixin {

inline constexpr std::string_view kTokenPrefix = "shx_";

// Returns a new random token, or Internal if the system's random source failed.
absl::StatusOr<std::string> NewToken();

// Returns "sha256:<hex>" of `token`'s text (any text: HELLO's token is hashed as sent).
std::string HashToken(std::string_view token);

// Returns whether `token` hashes to `stored_hash`, comparing the digests in constant time.
// A malformed `stored_hash` (not sha256:<64 lower-case hex>) never matches.
bool TokenMatches(std::string_view token, std::string_view stored_hash);

}  // namespace shixin

#endif  // SHIXIN_CALLERS_TOKEN_H_
