// Ingest of the court's records and of the relations feed, with simdjson.
//
// Debtor files are NDJSON (one case per line) or a single JSON array of cases; relation files
// are NDJSON. Every bad line (malformed JSON, missing or ill-typed field, invalid ID, unknown
// party type or role, a party type that contradicts the ID, a person under 18 on the
// publishDate, or without one on the load date, by the ID's birth date: SPC rules Art. 4) is
// reported with its file, line number and reason. A load fails as a whole when the errors exceed
// LoadOptions::max_errors.
//
// Thread safety: the functions are reentrant; each call uses its own parser.
#ifndef SHIXIN_CORE_INGEST_H_
#define SHIXIN_CORE_INGEST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/record.h"

namespace shixin {

struct LoadOptions {
  // The number of bad lines tolerated (skipped and reported) before the load fails.
  uint64_t max_errors = 0;
  // The last delta file the data already contains (a full re-issue of the list), recorded as
  // the snapshot's delta sequence by LoadDataDir(): later files are replayed on it, not these.
  uint64_t delta_sequence = 0;
  // The load's instant, Unix seconds (0: the clock's). A case without a publish date counts
  // since ever: its person must be of age on this day (SPC rules Art. 4, CheckOfAge()).
  int64_t now = 0;
};

struct LoadError {
  std::string file;
  uint64_t line = 0;  // 1-based
  std::string reason;
};

// What a load saw. Appended to by each Load* call.
struct LoadReport {
  uint64_t lines = 0;                   // non-blank lines (or array elements) read
  uint64_t records = 0;                 // records passed to the sink
  uint64_t errors = 0;                  // bad lines
  std::vector<LoadError> first_errors;  // at most kMaxKeptErrors of them
  static constexpr size_t kMaxKeptErrors = 100;
  // While the sink runs: the line of the record it is given (an array element's first line).
  uint64_t record_line = 0;
  // Set by LoadDataDir() (SnapshotBuilder::Build()): lines that repeat the case of an earlier
  // line as it is (merged), and remarks on lines that are loaded, e.g. a case given again with
  // other content (the later line's is kept).
  uint64_t duplicates = 0;
  uint64_t notes = 0;
  std::vector<LoadError> first_notes;  // at most kMaxKeptErrors of them
};

// Parses one court record (a JSON object; `json` need not be padded).
// Returns the case, or InvalidArgument naming the field and the reason. A person's case is
// checked for a minor (CheckOfAge()) on its publish date; one without a publish date is the
// caller's to check, on the day it starts counting (LoadCaseFile(): the load date).
// The views in the result point into `json` or into `scratch`, which the call may overwrite.
absl::StatusOr<CaseInput> ParseCaseRecord(std::string_view json, std::string* scratch);

// Whether a relations line must name the person (a delta's `unrelate` need not).
enum class PersonName : uint8_t { kRequired, kOptional };

// Parses one relations line (a JSON object) like ParseCaseRecord. With PersonName::kOptional,
// a missing or empty personName leaves person_name empty.
absl::StatusOr<RelationInput> ParseRelationRecord(std::string_view json, std::string* scratch,
                                                  PersonName person_name = PersonName::kRequired);

// Parses one JSON object and reads the strings at `keys` (other keys are skipped): values[i]
// is set when keys[i] is present and not null. Returns InvalidArgument naming the key ("at:
// expected a string, found a number") or the JSON's fault. The views point into `json` or
// `scratch`, which the call may overwrite. REQUIRES: values.size() == keys.size().
absl::Status ParseStringFields(std::string_view json, std::span<const std::string_view> keys,
                               std::span<std::optional<std::string_view>> values,
                               std::string* scratch);

// Parses single lines of the feed (JSON objects, need not be padded), one line after another,
// with one parser and one padded copy that grow to the longest line and are then reused: a
// file's lines cost no allocation each. Each call below parses the line Load() took again; the
// views in its result point into that line or into its `scratch`, which it overwrites.
//
// Thread safety: not thread-safe; one per thread.
class RecordParser {
 public:
  // With `unique_keys`, StringFields(), Case() and Relation() refuse a line that names a key
  // twice ("names key \"op\" twice"), as the delta files require (otherwise the last one
  // counts), and keep the keys they did not read for UnreadKeys().
  explicit RecordParser(bool unique_keys = false);
  ~RecordParser();
  RecordParser(const RecordParser&) = delete;
  RecordParser& operator=(const RecordParser&) = delete;

  // Takes `json` as the line to parse. REQUIRES: `json` outlives the views of the results.
  void Load(std::string_view json);
  // As ParseStringFields(), ParseCaseRecord() and ParseRelationRecord() on the line. With
  // `errors` (REQUIRES: errors.size() == keys.size()), a key whose value is not a string does
  // not fail the call: errors[i] says why keys[i] has no value (OK if it has one or is absent).
  absl::Status StringFields(std::span<const std::string_view> keys,
                            std::span<std::optional<std::string_view>> values, std::string* scratch,
                            std::span<absl::Status> errors = {});
  // With `keys`, the line's keys among them that are not the record's own are read as by
  // StringFields() into `values` (REQUIRES: values.size() == keys.size()) in the same pass; a
  // value there that is not a string fails the call.
  absl::StatusOr<CaseInput> Case(std::string* scratch, std::span<const std::string_view> keys = {},
                                 std::span<std::optional<std::string_view>> values = {});
  absl::StatusOr<RelationInput> Relation(std::string* scratch,
                                         PersonName person_name = PersonName::kRequired);
  // With `unique_keys`: the keys of the line that the last call above to succeed did not read
  // (neither the record's nor among its `keys`), in the line's order; views valid until the next
  // call. Empty without `unique_keys`. A base list's lines may carry keys of the court's that
  // shixin does not use; a delta's are refused (core/delta.h).
  std::span<const std::string_view> UnreadKeys() const;

 private:
  struct Impl;  // simdjson stays out of this header
  std::unique_ptr<Impl> impl_;
};

// Reads the debtor file at `path` and calls `sink` with each valid case.
// Returns OK when the bad lines (counted in `report` across calls) are within
// `options.max_errors`; NotFound if the file cannot be opened; InvalidArgument otherwise, with
// the first errors ("debtors.ndjson:12: cardNum: bad check character ...") in the message.
// A file cut short fails whatever `options.max_errors` says (that is for the court's bad
// records, not for an interrupted copy): "debtors.ndjson:5: cut short: the last line has no
// newline and ends inside a string (invalid UTF-8); ...", for a last line without its newline
// that ends inside a string or an object (cut in a character too; one that ends outside of both
// is a bad line, or a good one), or a JSON array without its end. A line that is not valid
// UTF-8 otherwise is a bad line like any other (a record the court's export mis-encoded).
// A file that changed while it was read (truncated, grown, rewritten in place: FileData::
// CheckUnchanged()) fails with Aborted "PATH changed while it was read (truncated from N to M
// bytes); replace the file by renaming ...", whatever the sink was given meanwhile.
absl::Status LoadCaseFile(const std::string& path, const LoadOptions& options,
                          absl::FunctionRef<void(const CaseInput&)> sink, LoadReport* report);

// Reads the relations file at `path` and calls `sink` with each valid relation; as above.
absl::Status LoadRelationFile(const std::string& path, const LoadOptions& options,
                              absl::FunctionRef<void(const RelationInput&)> sink,
                              LoadReport* report);

// SPC rules Art. 4: returns InvalidArgument "cardNum: born B, under 18 on WHEN (of age on A): SPC
// rules Art. 4: minors are not listed" if `id` is a resident ID whose holder is under 18 on `day`
// (YYYYMMDD), by the ID's birth date (one born on 29 February is of age on 1 March of a common
// year); OK otherwise. `when` names the day ("publishDate 2025-03-01").
absl::Status CheckOfAge(const Id& id, uint32_t day, std::string_view when);

// Returns InvalidArgument "FIELD: REASON", the form of the feeds' errors about one key.
absl::Status FeedFieldError(std::string_view field, std::string_view reason);
// Returns `value` in double quotes for an error message, or "(N bytes)" if it is longer than 40;
// its control characters, quotes and backslashes escaped (TerminalSafe(): it is another
// system's text, printed on a terminal and in the log).
std::string QuoteFeedValue(std::string_view value);

// Converts a date as the feeds write it ("20190114", "2017年08月11日", "2019-07-13") to
// YYYYMMDD. Returns 0 for an empty string, nullopt for anything else that is not a real date.
std::optional<uint32_t> ParseFeedDate(std::string_view text);

}  // namespace shixin

#endif  // SHIXIN_CORE_INGEST_H_
