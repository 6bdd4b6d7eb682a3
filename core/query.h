// The query engine: "is this ID listed?" (Check) and "which measures apply to this subject,
// and why?" (Measures), at an instant: now, or an earlier one within the history window
// (docs/feed.md, section 4). Results own their strings, so they outlive the snapshot and can be
// printed or sent over the wire; the daemon's compact CHECK path reads the Snapshot directly, and
// its MEASURES path takes MeasureMatches, which refer to the catalog's texts.
//
// Thread safety: the functions only read the (immutable) snapshot and catalog.
#ifndef SHIXIN_CORE_QUERY_H_
#define SHIXIN_CORE_QUERY_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/catalog.h"
#include "core/id.h"
#include "core/list.h"
#include "core/record.h"
#include "core/snapshot.h"
#include "core/types.h"
#include "core/validity.h"

namespace shixin {

// A role that links the subject to another party: for a person, the organisation where it
// holds the role; for an organisation, the person holding the role in it (an officer).
struct RoleInfo {
  Role role = Role::kLegalRepresentative;
  std::string id;  // the other party's normalised ID
  std::string name;
  bool listed = false;  // whether the other party is listed

  bool operator==(const RoleInfo&) const = default;
};

struct CheckResult {
  std::string id;  // normalised
  SubjectKind kind = SubjectKind::kPerson;
  bool listed = false;
  bool related = false;  // a person holding a role in a listed organisation
  // Empty unless the subject is listed or related at the instant: an ID the list does not
  // hold, or one whose cases do not count then (removed, ended, not yet published), is not
  // named by any answer.
  std::string name;
  // When listed: the unbroken stretch of counting cases that holds the instant asked about.
  int64_t since = 0;         // 0: since ever (no publish date known)
  int64_t until = kForever;  // kForever: no known end
  // The case versions that count at the instant, in the order of the source list (one later
  // revoked has end == kRevoked and ended_at after the instant); roles and officers by the
  // other party's ID (by IdKind, then text), then role.
  std::vector<CaseInfo> cases;
  // Of a subject neither listed nor related: only the entries whose other party is listed.
  std::vector<RoleInfo> roles;     // persons: roles held in organisations
  std::vector<RoleInfo> officers;  // organisations: their related persons

  bool operator==(const CheckResult&) const = default;
};

// Returns what the list says of `id` at the instant `at` (Unix seconds); an unknown ID gives
// listed == related == false. `with_cases` = false leaves `cases` empty and never fails; with
// the cases, returns Snapshot::ReadCases()'s DataLoss when a snapshot file's case data changed
// after it was opened.
absl::StatusOr<CheckResult> Check(const ListView& list, const Id& id, int64_t at, bool with_cases);
// The same for a subject already looked up. REQUIRES: s == list.Find(id).
absl::StatusOr<CheckResult> Check(const ListView& list, const Id& id, SubjectRef s, int64_t at,
                                  bool with_cases);

// Returns OK if an answer as of `as_of` can be given at `now`, with `history_days` days of
// history kept, over a base whose history is whole from `history_from`
// (Snapshot::history_from()); OutOfRange naming the window otherwise (before it, or after now).
absl::Status ValidateAsOf(int64_t as_of, int64_t now, int history_days, int64_t history_from);
// Parses an as-of instant a user typed (RFC 3339, as ParseInstant()). Returns InvalidArgument
// if it is malformed, OutOfRange if it is at or before 1970-01-01T00:00:00Z: the protocol's
// as_of 0 means now, so such an instant could only be answered for another one.
absl::StatusOr<int64_t> ParseAsOf(std::string_view text);

// Why a measure applies.
enum class BasisType : uint8_t {
  kListed = 0,   // the subject is listed
  kRelated = 1,  // the subject holds `role` in the listed organisation `via`
  kOfficer = 2,  // the subject's officer (role `role`) is listed, or (two-hop) holds
                 // `via_role` in the listed organisation `via`
};

// Returns "listed", "related" or "officer".
std::string_view BasisTypeName(BasisType type);

// The fields each type sets; the others stay empty or nullopt (protocol/FORMAT.md 8.3):
//   kListed:  none;
//   kRelated: role (the subject's, in `via`), via, via_name;
//   kOfficer: role (the officer's, in the subject), officer, officer_name, and for two hops
//             via, via_name and via_role (the officer's role in `via`).
struct Basis {
  BasisType type = BasisType::kListed;
  std::optional<Role> role;
  std::string via;  // normalised ID of the listed organisation, or empty
  std::string via_name;
  std::optional<Role> via_role;
  std::string officer;  // normalised ID of the officer, or empty
  std::string officer_name;

  bool operator==(const Basis&) const = default;
};

struct MeasureInfo {
  int no = 0;
  std::string title;
  std::string agency;       // the agency's id
  std::string agency_name;  // the agency's name
  Effect effect = Effect::kRestrict;
  // Never empty: listed first, then related (in the subject's role order), then officer (by
  // role, officer ID; a listed officer before its two-hop bases).
  std::vector<Basis> basis;

  bool operator==(const MeasureInfo&) const = default;
};

// An officer of the queried organisation, as the caller knows it.
struct Officer {
  Role role = Role::kLegalRepresentative;
  Id id;
};

struct MeasureQuery {
  std::vector<Officer> officers;  // the queried organisation's officers known to the caller
  int agency = -1;                // only this agency (Catalog::agencies() index), or -1
  int scenario = -1;              // only this scenario (Catalog::scenarios() index), or -1
  // When `scenario` is -1: only these scenarios (bit i = Catalog::scenarios()[i]; a caller's
  // default), or 0 for all.
  uint64_t scenarios = 0;
  int64_t at = 0;  // the instant asked about (Unix seconds)
};

struct MeasuresResult {
  CheckResult subject;                // without cases
  std::vector<MeasureInfo> measures;  // in catalog order

  bool operator==(const MeasuresResult&) const = default;
};

// Returns the measures of `catalog` that apply to `id` at `query.at`, each with every basis
// that applies.
// Officers known from the relations feed are used together with `query.officers`.
// Returns InvalidArgument if an officer is not a person, if officers are given for a person,
// or if the agency or scenario index is out of range.
absl::StatusOr<MeasuresResult> Measures(const ListView& list, const Catalog& catalog, const Id& id,
                                        const MeasureQuery& query);

// A measure that applies, by reference into the catalog (MatchMeasures()).
struct MeasureMatch {
  const Measure* measure = nullptr;
  uint32_t measure_index = 0;  // its place in Catalog::measures()
  uint32_t first_basis = 0;    // its bases: MeasureMatches::bases[first_basis, + basis_count)
  uint32_t basis_count = 0;    // never 0
};

// Measures()'s answer without a copy of the catalog's texts per measure: what the daemon
// encodes. Valid while the catalog is.
struct MeasureMatches {
  CheckResult subject;                 // without cases
  std::vector<MeasureMatch> measures;  // in catalog order
  std::vector<Basis> bases;            // the measures', in the order of `measures`

  std::span<const Basis> BasesOf(const MeasureMatch& m) const {
    return std::span<const Basis>(bases).subspan(m.first_basis, m.basis_count);
  }
  std::span<Basis> BasesOf(const MeasureMatch& m) {
    return std::span<Basis>(bases).subspan(m.first_basis, m.basis_count);
  }
};

// As Measures(), into `out` (its vectors cleared first, their capacity kept). Returns the same
// errors; `out` is unspecified after one.
absl::Status MatchMeasures(const ListView& list, const Catalog& catalog, const Id& id,
                           const MeasureQuery& query, MeasureMatches* out);

}  // namespace shixin

#endif  // SHIXIN_CORE_QUERY_H_
