#include "callers/token.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <cstdint>

#include "absl/status/status.h"
#include "callers/caller.h"

namespace shixin {
namespace {

using Digest = std::array<uint8_t, SHA256_DIGEST_LENGTH>;

constexpr std::string_view kHashPrefix = "sha256:";
constexpr char kHex[] = "0123456789abcdef";

Digest Sha256(std::string_view text) {
  Digest digest;
  SHA256(reinterpret_cast<const uint8_t*>(text.data()), text.size(), digest.data());
  return digest;
}

int HexValue(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

std::string Base64UrlNoPadding(const uint8_t* data, size_t size) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (size_t i = 0; i < size; ++i) {
    bits = (bits << 8) | data[i];
    count += 8;
    while (count >= 6) {
      count -= 6;
      out.push_back(kAlphabet[(bits >> count) & 63]);
    }
  }
  if (count > 0) out.push_back(kAlphabet[(bits << (6 - count)) & 63]);
  return out;
}

}  // namespace

absl::StatusOr<std::string> NewToken() {
  uint8_t bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return absl::InternalError("the random source failed (RAND_bytes)");
  }
  std::string token(kTokenPrefix);
  token += Base64UrlNoPadding(bytes, sizeof(bytes));
  OPENSSL_cleanse(bytes, sizeof(bytes));
  return token;
}

std::string HashToken(std::string_view token) {
  const Digest digest = Sha256(token);
  std::string out(kHashPrefix);
  for (uint8_t b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

bool TokenMatches(std::string_view token, std::string_view stored_hash) {
  // Hash first, whatever the stored hash looks like: the time spent does not depend on it.
  const Digest digest = Sha256(token);
  if (!IsSha256Text(stored_hash)) return false;
  Digest stored;
  const std::string_view hex = stored_hash.substr(kHashPrefix.size());
  for (size_t i = 0; i < stored.size(); ++i) {
    stored[i] = static_cast<uint8_t>(HexValue(hex[2 * i]) << 4 | HexValue(hex[2 * i + 1]));
  }
  return CRYPTO_memcmp(digest.data(), stored.data(), digest.size()) == 0;
}

}  // namespace shixin
