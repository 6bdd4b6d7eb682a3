// Loading of debtor and relation files: NDJSON lines or a JSON array, one record parsed at a
// time (core/ingest.cc), errors counted into the LoadReport.
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "core/file_data.h"
#include "core/ingest.h"
#include "core/ingest_internal.h"
#include "core/validity.h"

namespace shixin {
namespace {

namespace ondemand = simdjson::ondemand;
using ingest_internal::ExtraKeys;
using ingest_internal::IsJsonSpace;
using ingest_internal::kPadding;
using ingest_internal::ParseCase;
using ingest_internal::ParseRequiredRelation;
using ingest_internal::StdView;
using ingest_internal::StringStore;

constexpr size_t kMaxLineBytes = size_t{1} << 20;
constexpr size_t kListedErrors = 5;  // errors quoted in the failure message

// Parses a record (padded as ParseCase() requires) and, when it is good, hands it to the sink.
using RecordFn = absl::FunctionRef<absl::Status(ondemand::parser&, const char* data, size_t len,
                                                size_t capacity, std::string* scratch)>;

// Splits a file into records, parses them in place and fills the report.
class FileLoader {
 public:
  FileLoader(const std::string& path, std::string_view data, LoadReport* report, RecordFn fn)
      : file_(path.substr(path.find_last_of('/') + 1)), data_(data), report_(report), fn_(fn) {}

  void LoadLines(size_t pos);
  void LoadArray(size_t pos, uint64_t line);

  // The error that shows the file was cut short (a copy or an export interrupted), if it was:
  // the load fails whatever max_errors says, which is for the court's bad records.
  const std::optional<LoadError>& cut_short() const { return cut_short_; }

 private:
  void Error(uint64_t line, std::string_view reason) {
    ++report_->errors;
    if (report_->first_errors.size() < LoadReport::kMaxKeptErrors) {
      report_->first_errors.push_back(LoadError{file_, line, std::string(reason)});
    }
  }
  void CutShort(uint64_t line, std::string_view reason) {
    Error(line, reason);
    if (!cut_short_) cut_short_ = LoadError{file_, line, absl::StrFormat("cut short: %s", reason)};
  }

  // Parses the record `text` and hands it to the sink; returns the reason it is bad, if it is,
  // which is counted as an error unless `last` (the caller's to judge: a line cut short?).
  std::optional<std::string> Record(std::string_view text, uint64_t line, bool last = false);

  std::string file_;  // the basename, for errors
  std::string_view data_;
  LoadReport* report_;
  RecordFn fn_;
  ondemand::parser parser_;  // one per load: its buffers are reused for every line
  std::string scratch_;
  std::string padded_;
  std::optional<LoadError> cut_short_;
};

std::optional<std::string> FileLoader::Record(std::string_view text, uint64_t line, bool last) {
  ++report_->lines;
  if (text.size() > kMaxLineBytes) {
    std::string reason =
        absl::StrCat("line too long (", text.size(), " bytes; the limit is 1 MiB)");
    if (!last) Error(line, reason);
    return reason;
  }
  const char* parse = text.data();
  size_t capacity = text.size() + kPadding;
  // Parse in place unless the padding would run past the end of the file.
  if (static_cast<size_t>(data_.data() + data_.size() - text.data()) < capacity) {
    padded_.assign(text.data(), text.size());
    padded_.resize(capacity, '\0');
    parse = padded_.data();
  }
  report_->record_line = line;
  absl::Status status = fn_(parser_, parse, text.size(), capacity, &scratch_);
  if (status.ok()) {
    ++report_->records;
    return std::nullopt;
  }
  if (!last) Error(line, StdView(status.message()));
  return std::string(StdView(status.message()));
}

// Returns what `text` ends inside of, "a string" or "an object or array", or "" if it ends
// outside of both: a line that ends inside of one was cut short.
std::string_view OpenAtEnd(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // the escaped character, whatever it is
      if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return in_string ? "a string" : depth > 0 ? "an object or array" : "";
}

void FileLoader::LoadLines(size_t pos) {
  for (uint64_t line = 1; pos < data_.size(); ++line) {
    const void* nl = std::memchr(data_.data() + pos, '\n', data_.size() - pos);
    size_t end = nl ? static_cast<const char*>(nl) - data_.data() : data_.size();
    std::string_view text = data_.substr(pos, end - pos);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    // A byte-order mark starts a line as it starts the file (two exports concatenated).
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
    if (text.find_first_not_of(" \t") != std::string_view::npos) {
      const std::optional<std::string> bad = Record(text, line, /*last=*/nl == nullptr);
      // A last line without its newline that ends inside a string or an object (cut in a
      // character too) is a file cut short; one that ends outside of both is a bad record.
      if (bad && nl == nullptr) {
        if (const std::string_view open = OpenAtEnd(text); !open.empty()) {
          CutShort(line, absl::StrFormat("the last line has no newline and ends inside %s (%s)",
                                         open, *bad));
        } else {
          Error(line, *bad);
        }
      }
    }
    pos = end + 1;
  }
}

// Finds the end of the array element at `pos`: the ',' or ']' at depth 0, or data.size().
// Counts newlines into `*line`. Sets `*closed` unless the input ends inside a string or a
// nested value.
size_t ScanElement(std::string_view data, size_t pos, uint64_t* line, bool* closed) {
  int depth = 0;
  bool in_string = false;
  // Most bytes are text that matters to none of the branches below: skip them fast.
  static constexpr auto kSpecial = [] {
    std::array<bool, 256> special{};
    for (unsigned char c : std::string_view("\n\"\\{}[],")) special[c] = true;
    return special;
  }();
  for (; pos < data.size(); ++pos) {
    char c = data[pos];
    if (!kSpecial[static_cast<unsigned char>(c)]) continue;
    if (c == '\n') {
      ++*line;
    } else if (in_string) {
      if (c == '"') in_string = false;
      if (c == '\\' && pos + 1 < data.size() && data[++pos] == '\n') ++*line;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0 && c == ']') break;
      if (depth > 0) --depth;  // a stray '}' stays in the element, for simdjson to reject
    } else if (c == ',' && depth == 0) {
      break;
    }
  }
  *closed = depth == 0 && !in_string;
  return pos;
}

// Loads the array whose '[' is at `pos`, on line `line`. Each element is parsed on its own, so
// that a bad element costs one error, not the whole file.
void FileLoader::LoadArray(size_t pos, uint64_t line) {
  ++pos;
  for (;;) {
    while (pos < data_.size() && IsJsonSpace(data_[pos])) line += data_[pos++] == '\n';
    if (pos == data_.size()) return CutShort(line, "truncated array: no closing ']'");
    if (data_[pos] == ']') {
      ++pos;
      break;
    }
    uint64_t start_line = line;
    bool closed = false;
    size_t end = ScanElement(data_, pos, &line, &closed);
    if (!closed) return CutShort(start_line, "truncated array: element not closed");
    std::string_view element = data_.substr(pos, end - pos);
    while (!element.empty() && IsJsonSpace(element.back())) element.remove_suffix(1);
    if (element.empty()) {
      ++report_->lines;
      Error(start_line, "malformed JSON: empty array element");
    } else {
      Record(element, start_line);
    }
    if (end == data_.size()) return CutShort(line, "truncated array: no closing ']'");
    pos = end;
    if (data_[pos++] == ']') break;
    size_t next = data_.find_first_not_of(" \t\r\n", pos);
    if (next != std::string_view::npos && data_[next] == ']') {
      Error(line, "malformed JSON: trailing comma in the array");
    }
  }
  for (; pos < data_.size(); ++pos) {
    if (!IsJsonSpace(data_[pos])) return Error(line, "trailing characters after the array");
    line += data_[pos] == '\n';
  }
}

std::string TooManyErrors(const LoadOptions& options, const LoadReport& report) {
  std::string message;
  for (size_t i = 0; i < report.first_errors.size() && i < kListedErrors; ++i) {
    const LoadError& e = report.first_errors[i];
    absl::StrAppend(&message, i == 0 ? "" : "; ", e.file, ":", e.line, ": ", e.reason);
  }
  absl::StrAppend(&message, " (", report.errors, " errors in all; --max-errors is ",
                  options.max_errors, ")");
  return message;
}

template <typename Record, typename ParseFn>
absl::Status LoadFile(const std::string& path, const LoadOptions& options, bool allow_array,
                      ParseFn parse, absl::FunctionRef<void(const Record&)> sink,
                      LoadReport* report) {
  LoadReport local;
  if (report == nullptr) report = &local;
  FileData file;
  SHIXIN_RETURN_IF_ERROR(file.Open(path));
  std::string_view data = file.data();
  Record record;
  auto parse_and_sink = [&](ondemand::parser& parser, const char* text, size_t len, size_t capacity,
                            std::string* scratch) {
    StringStore strings(scratch, text, text, len);
    absl::Status status = parse(parser, text, len, capacity, strings, &record);
    if (status.ok()) sink(record);
    return status;
  };
  FileLoader loader(path, data, report, parse_and_sink);
  size_t pos = data.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  size_t first = std::min(data.find_first_not_of(" \t\r\n", pos), data.size());
  if (allow_array && first < data.size() && data[first] == '[') {
    loader.LoadArray(first, 1 + std::count(data.begin(), data.begin() + first, '\n'));
  } else {
    loader.LoadLines(pos);
  }
  // First: a file changed under the parse explains whatever the parse found wrong after it.
  if (absl::Status unchanged = file.CheckUnchanged(); absl::IsAborted(unchanged)) {
    return absl::AbortedError(absl::StrCat(
        unchanged.message(),
        "; replace the file by renaming a complete copy into place, never rewrite it in place"));
  } else if (!unchanged.ok()) {
    return unchanged;
  }
  if (const std::optional<LoadError>& cut = loader.cut_short()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s:%d: %s; the load fails whatever --max-errors says", cut->file, cut->line, cut->reason));
  }
  if (report->errors <= options.max_errors) return absl::OkStatus();
  return absl::InvalidArgumentError(TooManyErrors(options, *report));
}

}  // namespace

absl::Status LoadCaseFile(const std::string& path, const LoadOptions& options,
                          absl::FunctionRef<void(const CaseInput&)> sink, LoadReport* report) {
  // A case without a publish date counts since ever: its person must be of age today at least.
  const uint32_t today = DayOf(options.now != 0 ? options.now : NowSeconds());
  const std::string on_today =
      absl::StrCat("the load date ", FormatDate(today), ", the case having no publishDate");
  const auto parse = [&](ondemand::parser& parser, const char* data, size_t len, size_t capacity,
                         StringStore& strings, CaseInput* out) {
    SHIXIN_RETURN_IF_ERROR(ParseCase(parser, data, len, capacity, strings, out, ExtraKeys{}));
    return out->publish_date != 0 ? absl::OkStatus() : CheckOfAge(out->id, today, on_today);
  };
  return LoadFile(path, options, /*allow_array=*/true, parse, sink, report);
}

absl::Status LoadRelationFile(const std::string& path, const LoadOptions& options,
                              absl::FunctionRef<void(const RelationInput&)> sink,
                              LoadReport* report) {
  return LoadFile(path, options, /*allow_array=*/false, ParseRequiredRelation, sink, report);
}

}  // namespace shixin
