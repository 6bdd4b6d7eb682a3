// IDs for end-to-end tests: valid IDs made up, and IDs picked from a list by what it says of
// them (listed, related, known, unknown, invalid, as people type them), with readable dumps of
// results to compare.
//
// Thread safety: the functions are reentrant.
#ifndef SHIXIN_TESTS_ID_SAMPLE_H_
#define SHIXIN_TESTS_ID_SAMPLE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/query.h"
#include "core/snapshot.h"

namespace shixin::e2e {

// A valid resident ID: area (6 digits), birth date YYYYMMDD, sequence 0-999.
std::string MakeResidentId(std::string_view area, std::string_view birth, int sequence);
// A valid unified social credit code "91" + area + the 8-character organisation code
// `org8` (digits and capitals) with its check characters.
std::string MakeCreditCode(std::string_view area, std::string_view org8);

// IDs picked from a snapshot, by what the snapshot says of them.
struct IdSample {
  std::vector<std::string> listed_persons;   // listed, resident IDs
  std::vector<std::string> listed_orgs;      // listed, credit or organisation codes
  std::vector<std::string> related_persons;  // not listed, related to a listed organisation
  std::vector<std::string> other_entities;   // known but neither listed nor related
  std::vector<std::string> unlisted;         // valid IDs the snapshot does not know
  std::vector<std::string> invalid;          // inputs ParseId() rejects
  std::vector<std::string> typed;            // listed IDs as people type them
  // Everything above, interleaved.
  std::vector<std::string> All() const;
};
// Picks up to `per_kind` IDs of each kind, spread over the snapshot.
IdSample SampleIds(const Snapshot& snap, size_t per_kind);
// Loads the list in `dir` (LoadSnapshot) and picks IDs from it as SampleIds() does. Returns an
// error if it does not load.
absl::StatusOr<IdSample> SampleIdsOf(const std::string& dir, size_t per_kind);

// A readable, complete dump of a result, for comparisons whose failure shows the difference.
std::string Dump(const CheckResult& r);
std::string Dump(const MeasuresResult& r);

}  // namespace shixin::e2e

#endif  // SHIXIN_TESTS_ID_SAMPLE_H_
