#include "callers/caller_table.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "callers/token.h"

namespace shixin {
namespace {

// Compared against when the id is unknown, so that an unknown id costs what a known one does.
constexpr std::string_view kNoHash =
    "sha256:0000000000000000000000000000000000000000000000000000000000000000";

}  // namespace

absl::StatusOr<CallerTable> CallerTable::Create(std::vector<Caller> callers) {
  CallerTable table;
  absl::flat_hash_map<std::string, size_t> by_token;
  for (size_t i = 0; i < callers.size(); ++i) {
    const Caller& caller = callers[i];
    if (absl::Status s = ValidateCaller(caller); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("caller \"", caller.id, "\": ", s.message()));
    }
    if (!table.by_id_.emplace(caller.id, i).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate caller id \"", caller.id, "\""));
    }
    for (const std::string& cert : caller.certificates) {
      auto [it, inserted] = table.by_certificate_.emplace(cert, i);
      if (!inserted && it->second != i) {
        return absl::InvalidArgumentError(absl::StrCat("certificate \"", cert, "\" of caller \"",
                                                       caller.id, "\" is claimed by caller \"",
                                                       callers[it->second].id, "\" too"));
      }
    }
    for (const std::string& hash : caller.token_hashes) {
      auto [it, inserted] = by_token.emplace(hash, i);
      if (!inserted && it->second != i) {
        return absl::InvalidArgumentError(absl::StrCat("token hash \"", hash, "\" of caller \"",
                                                       caller.id, "\" is listed by caller \"",
                                                       callers[it->second].id, "\" too"));
      }
    }
  }
  table.callers_ = std::move(callers);
  return table;
}

const Caller* CallerTable::Find(std::string_view id) const {
  auto it = by_id_.find(absl::string_view(id.data(), id.size()));
  return it == by_id_.end() ? nullptr : &callers_[it->second];
}

const Caller* CallerTable::FindByCertificate(std::string_view fingerprint,
                                             std::string_view common_name) const {
  if (auto it = by_certificate_.find(absl::string_view(fingerprint.data(), fingerprint.size()));
      it != by_certificate_.end() && IsSha256Text(fingerprint)) {
    return &callers_[it->second];
  }
  if (common_name.empty()) return nullptr;
  auto it = by_certificate_.find(
      absl::StrCat("cn:", absl::string_view(common_name.data(), common_name.size())));
  return it == by_certificate_.end() ? nullptr : &callers_[it->second];
}

absl::StatusOr<const Caller*> CallerTable::Authenticate(std::string_view id,
                                                        std::string_view token) const {
  const Caller* caller = Find(id);
  bool matched = false;
  if (caller == nullptr || caller->token_hashes.empty()) {
    // The same work as a known caller's (an all-zero digest, never matched).
    static_cast<void>(TokenMatches(token, kNoHash));
  } else {
    // Every hash is compared: the time does not tell which one matched.
    for (const std::string& hash : caller->token_hashes) matched |= TokenMatches(token, hash);
  }
  if (!matched) return absl::UnauthenticatedError("unknown caller or wrong token");
  return caller;
}

absl::Status ResolveAgainstCatalog(const Catalog& catalog, Caller* caller) {
  for (std::string& agency : caller->agencies) {
    const int i = catalog.FindAgency(agency);
    if (i < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("agencies: caller \"%s\": unknown agency \"%s\" (not in catalog %s: "
                          "`shixin catalog` lists its agencies)",
                          caller->id, agency, catalog.id()));
    }
    agency = catalog.agencies()[i].id;
  }
  for (const std::string& scenario : caller->scenarios) {
    if (catalog.FindScenario(scenario) < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("scenarios: caller \"%s\": unknown scenario \"%s\" (not in catalog %s: "
                          "`shixin catalog` lists its scenarios)",
                          caller->id, scenario, catalog.id()));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckMayApply(const Caller& caller, const Catalog& catalog, int no) {
  const Measure* measure = catalog.FindMeasure(no);
  if (caller.agencies.empty() || measure == nullptr) return absl::OkStatus();
  const Agency& agency = catalog.agencies()[measure->agency];
  if (std::find(caller.agencies.begin(), caller.agencies.end(), agency.id) !=
      caller.agencies.end()) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrFormat(
      "measure %d is applied by %s (%s), and caller %s acts for %s: report it not applied or "
      "cancelled",
      no, agency.id, agency.name, caller.id, absl::StrJoin(caller.agencies, ", ")));
}

uint64_t DefaultScenarioMask(const Caller& caller, const Catalog& catalog) {
  uint64_t mask = 0;
  for (const std::string& scenario : caller.scenarios) {
    if (const int i = catalog.FindScenario(scenario); i >= 0) mask |= uint64_t{1} << i;
  }
  return mask;
}

}  // namespace shixin
