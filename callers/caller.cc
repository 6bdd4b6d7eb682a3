#include "callers/caller.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/enum_names.h"

namespace shixin {
namespace {

constexpr std::string_view kSectors[] = {"bank",          "hotel",   "travel",      "real_estate",
                                         "procurement",   "subsidy", "appointment", "court",
                                         "credit_office", "admin",   "other"};

constexpr std::string_view kSha256Prefix = "sha256:";

// Joins std::string_views (absl::StrJoin's default formatter takes only absl::string_view here).
template <size_t N>
std::string JoinNames(const std::string_view (&names)[N]) {
  return absl::StrJoin(names, ", ", [](std::string* out, std::string_view s) { out->append(s); });
}

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

bool IsKnownSector(std::string_view sector) {
  return std::find(std::begin(kSectors), std::end(kSectors), sector) != std::end(kSectors);
}

const std::string& KnownSectors() {
  static const std::string* const list = new std::string(JoinNames(kSectors));
  return *list;
}

bool IsValidCallerId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

bool IsSha256Text(std::string_view text) {
  if (text.size() != kSha256Prefix.size() + 64 ||
      text.substr(0, kSha256Prefix.size()) != kSha256Prefix) {
    return false;
  }
  return std::all_of(text.begin() + kSha256Prefix.size(), text.end(), IsLowerHex);
}

bool IsCertificateIdentity(std::string_view text) {
  if (text.substr(0, 3) == "cn:") return text.size() > 3;
  return IsSha256Text(text);
}

absl::Status ValidateCaller(const Caller& caller) {
  if (!IsValidCallerId(caller.id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("id: \"", caller.id, "\" is not a caller id ([a-z0-9][a-z0-9._-]{0,63})"));
  }
  if (caller.name.empty()) return absl::InvalidArgumentError("name: must not be empty");
  if (!IsKnownSector(caller.sector)) {
    return absl::InvalidArgumentError(absl::StrCat("sector: unknown sector \"", caller.sector,
                                                   "\" (known: ", KnownSectors(), ")"));
  }
  if (!(caller.rate > 0) || !std::isfinite(caller.rate)) {
    return absl::InvalidArgumentError(
        absl::StrCat("rate: ", caller.rate, " is not a positive number of requests per second"));
  }
  if (caller.rate < kMinRate) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "rate: %g is below the slowest rate shixind keeps, %.17g per second (one request per "
        "100 days)",
        caller.rate, kMinRate));
  }
  if (caller.burst < 1) return absl::InvalidArgumentError("burst: must be at least 1");
  if ((caller.burst - 1.0) / caller.rate > kMaxRefillSeconds) {
    const double most = std::min(std::floor(caller.rate * kMaxRefillSeconds) + 1, 4294967295.0);
    return absl::InvalidArgumentError(absl::StrFormat(
        "burst: %d at a rate of %g per second takes %.0f days to refill, more than the 100 "
        "shixind keeps: at most %.0f at this rate, or a higher rate",
        caller.burst, caller.rate, (caller.burst - 1.0) / caller.rate / 86400, most));
  }
  for (const std::string& hash : caller.token_hashes) {
    if (!IsSha256Text(hash)) {
      return absl::InvalidArgumentError(
          absl::StrCat("tokens: \"", hash, "\" is not a token hash (sha256:<64 hex>)"));
    }
  }
  for (const std::string& cert : caller.certificates) {
    if (!IsCertificateIdentity(cert)) {
      return absl::InvalidArgumentError(
          absl::StrCat("certificates: \"", cert, "\" is neither sha256:<64 hex> nor cn:<name>"));
    }
  }
  return absl::OkStatus();
}

}  // namespace shixin
