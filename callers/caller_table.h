// CallerTable: the callers of one callers file, immutable once built; looked up by id, by TLS
// client certificate identity, and by id and token (Authenticate).
//
// Thread safety: immutable after Create(); its const methods may be called from any number of
// threads at once.
#ifndef SHIXIN_CALLERS_CALLER_TABLE_H_
#define SHIXIN_CALLERS_CALLER_TABLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "callers/caller.h"
#include "core/catalog.h"

namespace shixin {

class CallerTable {
 public:
  // An empty table (no caller authenticates).
  CallerTable() = default;

  // Returns the table of `callers` (kept in their order), or InvalidArgument naming a caller
  // whose fields are invalid (ValidateCaller), a duplicate id, or a certificate identity or token
  // hash claimed by two callers (a token must name one caller: the JSON API finds the caller by
  // its hash alone).
  static absl::StatusOr<CallerTable> Create(std::vector<Caller> callers);

  // Returns the caller `id`, or nullptr.
  const Caller* Find(std::string_view id) const;

  // Returns the caller that lists the certificate whose DER digest is `fingerprint`
  // ("sha256:<hex>"), else the one that lists "cn:<common_name>" (a non-empty name), or nullptr.
  const Caller* FindByCertificate(std::string_view fingerprint, std::string_view common_name) const;

  // Returns the caller `id` if `token` matches one of its token hashes; else
  // Unauthenticated("unknown caller or wrong token"), whether the id is unknown or the token
  // wrong. The token is hashed and compared in constant time in every case.
  absl::StatusOr<const Caller*> Authenticate(std::string_view id, std::string_view token) const;

  const std::vector<Caller>& callers() const { return callers_; }
  bool empty() const { return callers_.empty(); }

 private:
  std::vector<Caller> callers_;
  absl::flat_hash_map<std::string, size_t> by_id_;
  absl::flat_hash_map<std::string, size_t> by_certificate_;  // "sha256:..." and "cn:..."
};

// Checks `caller`'s agencies and scenarios against `catalog` and rewrites each agency as its
// catalog id: a file may name an agency by its id or its name (Catalog::FindAgency, as MEASURES'
// `agency`), and MEASURES' default filter and CheckMayApply() compare ids, so a name kept as
// written would filter every measure out. Returns InvalidArgument "agencies: ..." or
// "scenarios: ..." (the key first, as ValidateCaller's) naming the caller and the unknown agency
// or scenario (`caller` then half rewritten).
absl::Status ResolveAgainstCatalog(const Catalog& catalog, Caller* caller);

// Returns `caller`'s default scenarios as a mask of `catalog`'s scenario indexes (the filter of
// a MEASURES that names no agency and no scenario; MeasureQuery::scenarios), leaving out ids
// the catalog lacks.
uint64_t DefaultScenarioMask(const Caller& caller, const Catalog& catalog);

// Returns OK if `caller` may report measure `no` of `catalog` applied: it names no agencies, or
// the measure's implementing agency is one of them (or the catalog lacks the measure: the
// receipt's check refuses it). PermissionDenied naming both agencies otherwise: a bank does not
// apply the police's measure, though it may report it not applied.
absl::Status CheckMayApply(const Caller& caller, const Catalog& catalog, int no);

}  // namespace shixin

#endif  // SHIXIN_CALLERS_CALLER_TABLE_H_
