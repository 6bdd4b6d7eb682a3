// What core/ingest.cc (records) and core/ingest_file.cc (files) share; not a public API.
#ifndef SHIXIN_CORE_INGEST_INTERNAL_H_
#define SHIXIN_CORE_INGEST_INTERNAL_H_

#include <simdjson.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/ingest.h"

namespace shixin::ingest_internal {

inline constexpr size_t kPadding = simdjson::SIMDJSON_PADDING;

// Abseil's string_view is not std::string_view in this build (Debian), so messages are built
// with StrFormat, which takes both, and Status messages are converted back.
inline std::string_view StdView(absl::string_view view) { return {view.data(), view.size()}; }

inline bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Where the string values of one record go. Values without escapes are views into the input
// (moved from the parsed copy to `out_base` when the input had to be copied for padding);
// values with escapes are unescaped by simdjson and copied into `scratch`, which is reserved
// up front (unescaping never lengthens a string) so that appending never moves earlier values.
class StringStore {
 public:
  StringStore(std::string* scratch, const char* parse_base, const char* out_base, size_t len)
      : scratch_(scratch), parse_base_(parse_base), out_base_(out_base) {
    scratch_->clear();
    scratch_->reserve(len);
  }

  std::string_view Raw(std::string_view view) const {
    return {out_base_ + (view.data() - parse_base_), view.size()};
  }
  std::string_view Copy(std::string_view unescaped) {
    size_t at = scratch_->size();
    scratch_->append(unescaped);
    return {scratch_->data() + at, unescaped.size()};
  }

 private:
  std::string* scratch_;
  const char* parse_base_;
  const char* out_base_;
};

// Keys other than the record's, read as strings along with it (RecordParser::Case).
struct ExtraKeys {
  std::span<const std::string_view> keys;
  std::span<std::optional<std::string_view>> values;
};

// The keys of one object, to refuse one given twice (core/ingest.cc).
struct LineKeys;

// Parses the debtor record in [data, data + len) into `*out`, reading `extra` along with it.
// With `line_keys`, a key given twice is refused. REQUIRES: capacity >= len + kPadding bytes are
// readable at `data`.
absl::Status ParseCase(simdjson::ondemand::parser& parser, const char* data, size_t len,
                       size_t capacity, StringStore& strings, CaseInput* out, ExtraKeys extra,
                       LineKeys* line_keys = nullptr);

// Parses the relation in [data, data + len) into `*out`, its personName required. REQUIRES as
// ParseCase().
absl::Status ParseRequiredRelation(simdjson::ondemand::parser& parser, const char* data, size_t len,
                                   size_t capacity, StringStore& strings, RelationInput* out);

}  // namespace shixin::ingest_internal

#endif  // SHIXIN_CORE_INGEST_INTERNAL_H_
