#include "core/delta.h"

#include <dirent.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <functional>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/background.h"
#include "base/status_macros.h"
#include "base/terminal.h"
#include "base/thread.h"
#include "core/case_code.h"
#include "core/ingest.h"
#include "core/paths.h"
#include "core/validity.h"

namespace shixin {
namespace {

constexpr std::string_view kSuffix = ".ndjson";
constexpr size_t kSequenceDigits = 20;
// Why 00000000000000000000.ndjson is no delta file's name.
constexpr std::string_view kSequenceZero =
    "sequence numbers start at 1 (a base without deltas counts as 0, so a file 0 would never "
    "apply)";

constexpr std::pair<std::string_view, DeltaOp> kOps[] = {
    {"add", DeltaOp::kAdd},         {"remove", DeltaOp::kRemove}, {"revoke", DeltaOp::kRevoke},
    {"correct", DeltaOp::kCorrect}, {"relate", DeltaOp::kRelate}, {"unrelate", DeltaOp::kUnrelate},
};

// Returns InvalidArgument "PREFIX: MESSAGE" (a key or an op, then what `status` says).
absl::Status Prefixed(std::string_view prefix, const absl::Status& status) {
  return absl::InvalidArgumentError(absl::StrFormat("%s: %s", prefix, status.message()));
}

// The delta's own keys, read in one pass with RecordParser::StringFields (a line's record or
// relation keys by its Case() and Relation()). Each op uses only some: the others may be
// anything, so their errors are kept apart and reported only for the keys the op uses.
enum Key : size_t { kOpKey, kAtKey, kCaseCodeKey, kCardNumKey, kReasonKey, kKeyCount };
constexpr std::string_view kKeys[kKeyCount] = {"op", "at", "caseCode", "cardNum", "reason"};
using Values = std::array<std::optional<std::string_view>, kKeyCount>;

absl::StatusOr<int64_t> ParseAt(const std::optional<std::string_view>& at) {
  if (!at) return FeedFieldError("at", "missing");
  absl::StatusOr<int64_t> instant = ParseInstant(*at);
  if (!instant.ok()) return Prefixed("at", instant.status());
  if (*instant < kFirstDeltaInstant || *instant > kLastDeltaInstant) {
    return FeedFieldError("at",
                          "outside the list's range (after 1970-01-01T00:00:00Z, before "
                          "2106-02-07T06:28:15Z): " +
                              QuoteFeedValue(*at));
  }
  return *instant;
}

// A thread's lines are parsed with one parser. The delta's keys and the record's values have
// scratches of their own: the keys' values are still read after the record is parsed. The
// texts a change keeps are views of the file's text, or of a copy of an unescaped value in the
// deque of the piece being parsed.
struct LineParser {
  RecordParser json{/*unique_keys=*/true};  // a key given twice refuses the line
  std::string keys_scratch;
  std::string record_scratch;
  std::string_view text;                         // the file's
  std::deque<std::string>* unescaped = nullptr;  // the piece's

  // Returns `value` (a view into the file's text or a scratch) as a view that lives as long as
  // the delta's texts do.
  std::string_view Keep(std::string_view value) {
    if (value.empty()) return {};
    const std::less_equal<const char*> before_or_at;  // total order, unlike <= on raw pointers
    if (before_or_at(text.data(), value.data()) &&
        before_or_at(value.data() + value.size(), text.data() + text.size())) {
      return value;
    }
    return unescaped->emplace_back(value);
  }
};

// add, correct: the court's record; `at` optional for an add.
absl::Status ParseCaseChange(LineParser& parser, const CaseInput& input, const Values& values,
                             DeltaChange* change) {
  change->id = input.id;
  change->name = parser.Keep(input.name);
  ForEachCaseField(
      [&]<typename M>(const CaseField&, M& to, const M& from) {
        if constexpr (kIsCaseText<M>) {
          to = parser.Keep(from);
        } else {
          to = from;
        }
      },
      change->record, static_cast<const CaseView&>(input));
  if (change->op != DeltaOp::kAdd || values[kAtKey]) {
    SHIXIN_ASSIGN_OR_RETURN(change->at, ParseAt(values[kAtKey]));
    change->record.start = std::max(change->record.start, change->at);
  }
  // A publishDate was checked by the parse; only a person can be a minor.
  if (input.publish_date != 0 || input.id.kind() != IdKind::kResident) return absl::OkStatus();
  // SPC rules Art. 4 on the day the case starts counting: its `at`, or (an add without one counts
  // since ever, as a base line does) today.
  if (change->at == 0) {
    const uint32_t today = DayOf(NowSeconds());
    return CheckOfAge(
        input.id, today,
        absl::StrCat("the load date ", FormatDate(today), ", the case having no publishDate"));
  }
  const uint32_t start = DayOf(change->at);
  return CheckOfAge(
      input.id, start,
      absl::StrCat(FormatDate(start), ", the day of its at, the case having no publishDate"));
}

// remove, revoke: the case's name (caseCode, cardNum), the reason of a remove, and `at`.
absl::Status ParseEndChange(LineParser& parser, const Values& values, DeltaChange* change) {
  const std::string_view code = TrimCaseCode(values[kCaseCodeKey].value_or(""));
  if (code.empty()) return FeedFieldError("caseCode", "missing or empty");
  change->record.case_code = parser.Keep(code);
  if (!values[kCardNumKey]) return FeedFieldError("cardNum", "missing");
  absl::StatusOr<Id> id = ParseId(*values[kCardNumKey]);
  if (!id.ok()) return Prefixed("cardNum", id.status());
  change->id = *id;
  if (change->op == DeltaOp::kRemove) {
    const std::optional<std::string_view>& name = values[kReasonKey];
    if (!name) return FeedFieldError("reason", "missing");
    std::optional<EndReason> reason = RemoveReasonFromName(*name);
    if (!reason) return FeedFieldError("reason", "unknown " + QuoteFeedValue(*name));
    change->reason = *reason;
  }
  SHIXIN_ASSIGN_OR_RETURN(change->at, ParseAt(values[kAtKey]));
  return absl::OkStatus();
}

// relate, unrelate: a relations line (personName optional for an unrelate) and `at`.
absl::Status ParseRelationChange(LineParser& parser, const Values& values, DeltaChange* change) {
  const PersonName person_name =
      change->op == DeltaOp::kUnrelate ? PersonName::kOptional : PersonName::kRequired;
  SHIXIN_ASSIGN_OR_RETURN(const RelationInput input,
                          parser.json.Relation(&parser.record_scratch, person_name));
  change->org = input.org;
  change->id = input.person;
  change->name = parser.Keep(input.person_name);
  change->role = input.role;
  SHIXIN_ASSIGN_OR_RETURN(change->at, ParseAt(values[kAtKey]));
  return absl::OkStatus();
}

// Refuses a line that names a key its op does not use, which parsing passed over (`unread`; a
// revoke's `reason` is read with a remove's keys, so `reason_given` says whether it had one): a
// misspelt key (`term_end`) would otherwise be dropped without a word and change what the line
// says, a fixed term into none. The JSON API refuses an unknown field too.
absl::Status CheckKeys(DeltaOp op, std::span<const std::string_view> unread, bool reason_given) {
  std::vector<std::string_view> unknown;
  for (std::string_view key : unread) {
    // A relations line's parse leaves the delta's own keys unread.
    if ((op == DeltaOp::kRelate || op == DeltaOp::kUnrelate) && (key == "op" || key == "at")) {
      continue;
    }
    unknown.push_back(key);
  }
  if (op == DeltaOp::kRevoke && reason_given) unknown.push_back("reason");
  if (unknown.empty()) return absl::OkStatus();
  std::string quoted;
  for (std::string_view key : unknown) {
    absl::StrAppend(&quoted, quoted.empty() ? "" : ", ", QuoteFeedValue(key));
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "unknown key%s %s (not one of a%s %s's keys)", unknown.size() == 1 ? "" : "s", quoted,
      op == DeltaOp::kAdd || op == DeltaOp::kUnrelate ? "n" : "", DeltaOpName(op)));
}

// The keys of an add or a correct besides the record's.
constexpr std::string_view kCaseLineKeys[] = {"op", "at"};

// Returns the op of a line that starts as the feeds write it, `{"op":"add",`; else nullopt.
std::optional<DeltaOp> LeadingOp(std::string_view line) {
  constexpr std::string_view kLead = "{\"op\":\"";
  if (!line.starts_with(kLead)) return std::nullopt;
  const std::string_view rest = line.substr(kLead.size());
  const size_t quote = rest.find('"');
  if (quote == std::string_view::npos) return std::nullopt;
  for (const auto& [name, op] : kOps) {
    if (name == rest.substr(0, quote)) return op;
  }
  return std::nullopt;
}

// An add or a correct whose op leads the line, read in one pass over the JSON (the record and
// the delta's own keys together): half the work of the general path for the longest lines.
// Returns false, leaving `change` to be parsed again from scratch, on any fault: the general
// path then finds it and names it as it always does.
bool ParseLeadingCaseLine(std::string_view line, LineParser& parser, DeltaChange* change) {
  const std::optional<DeltaOp> op = LeadingOp(line);
  if (op != DeltaOp::kAdd && op != DeltaOp::kCorrect) return false;
  std::array<std::optional<std::string_view>, std::size(kCaseLineKeys)> values;
  parser.json.Load(line);
  absl::StatusOr<CaseInput> input = parser.json.Case(&parser.record_scratch, kCaseLineKeys, values);
  if (!input.ok() || values[0] != DeltaOpName(*op) || !parser.json.UnreadKeys().empty()) {
    return false;
  }
  change->op = *op;
  Values keys;
  keys[kAtKey] = values[1];
  return ParseCaseChange(parser, *input, keys, change).ok();
}

// Parses one non-blank line. Errors name the op once it is known ("remove: reason: ...").
absl::Status ParseLine(std::string_view line, LineParser& parser, DeltaChange* change) {
  if (ParseLeadingCaseLine(line, parser, change)) return absl::OkStatus();
  const uint64_t line_number = change->line;
  *change = DeltaChange();
  change->line = line_number;
  Values values;
  std::array<absl::Status, kKeyCount> errors;
  parser.json.Load(line);
  SHIXIN_RETURN_IF_ERROR(parser.json.StringFields(kKeys, values, &parser.keys_scratch, errors));
  SHIXIN_RETURN_IF_ERROR(errors[kOpKey]);
  const std::optional<std::string_view>& op_value = values[kOpKey];
  if (!op_value) return FeedFieldError("op", "missing");
  const auto* op = std::find_if(std::begin(kOps), std::end(kOps),
                                [&](const auto& entry) { return entry.first == *op_value; });
  if (op == std::end(kOps)) return FeedFieldError("op", "unknown " + QuoteFeedValue(*op_value));
  change->op = op->second;

  // The keys this op uses: a remove's all, a revoke's up to `reason`, the others' only `at`.
  const size_t used = change->op == DeltaOp::kRemove   ? kKeyCount
                      : change->op == DeltaOp::kRevoke ? kReasonKey
                                                       : kAtKey + 1;
  absl::Status status;
  std::array<std::optional<std::string_view>, std::size(kCaseLineKeys)> case_line_values;
  for (size_t k = kAtKey; k < used && status.ok(); ++k) status = errors[k];
  if (status.ok()) {
    switch (change->op) {
      case DeltaOp::kAdd:
      case DeltaOp::kCorrect:
        // `op` and `at` read along (as strings, checked above), so that they are not unread.
        if (absl::StatusOr<CaseInput> input =
                parser.json.Case(&parser.record_scratch, kCaseLineKeys, case_line_values);
            input.ok()) {
          status = ParseCaseChange(parser, *input, values, change);
        } else {
          status = input.status();
        }
        break;
      case DeltaOp::kRemove:
      case DeltaOp::kRevoke:
        status = ParseEndChange(parser, values, change);
        break;
      case DeltaOp::kRelate:
      case DeltaOp::kUnrelate:
        status = ParseRelationChange(parser, values, change);
        break;
    }
  }
  if (status.ok()) {
    status = CheckKeys(change->op, parser.json.UnreadKeys(),
                       values[kReasonKey].has_value() || !errors[kReasonKey].ok());
  }
  if (status.ok()) return status;
  return Prefixed(op->first, status);
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

// Whether the file's size or modification time differs between two looks at it.
bool Changed(const struct stat& before, const struct stat& after) {
  return before.st_size != after.st_size || before.st_mtim.tv_sec != after.st_mtim.tv_sec ||
         before.st_mtim.tv_nsec != after.st_mtim.tv_nsec;
}

}  // namespace

std::vector<std::string> LateChangeNotes(const Delta& delta, int64_t arrival,
                                         std::span<const std::pair<uint64_t, uint64_t>> unchanged) {
  std::vector<std::string> notes;
  for (const DeltaChange& c : delta.changes) {
    if (c.op == DeltaOp::kAdd || c.op == DeltaOp::kRelate) continue;  // they end nothing
    if (arrival - c.at <= kLateChangeSeconds) continue;
    const std::pair<uint64_t, uint64_t> where{delta.sequence, c.line};
    if (std::find(unchanged.begin(), unchanged.end(), where) != unchanged.end()) continue;
    const int64_t late = arrival - c.at;
    const std::string what =
        c.op == DeltaOp::kUnrelate
            ? absl::StrFormat("role %s of %s in %s", RoleName(c.role), c.id.Masked(), c.org.text())
            : absl::StrFormat("case %s of %s", TerminalSafe(c.record.case_code, Quoting::kKept),
                              c.id.Masked());
    notes.push_back(absl::StrFormat(
        "%s:%d: %s: %s: at %s, %d days %d h before the file arrived at %s: as-of answers after %s "
        "change (what shixind answered before its arrival is in the audit)",
        delta.name, c.line, DeltaOpName(c.op), what, FormatInstant(c.at), late / 86400,
        late % 86400 / 3600, FormatInstant(arrival), FormatInstant(c.at)));
  }
  return notes;
}

std::string_view DeltaOpName(DeltaOp op) {
  for (const auto& [name, value] : kOps) {
    if (value == op) return name;
  }
  return "";
}

std::string DeltaFileName(uint64_t sequence) {
  return absl::StrFormat("%020d%s", sequence, kSuffix);
}

std::optional<uint64_t> DeltaSequence(std::string_view file_name) {
  if (file_name.size() != kSequenceDigits + kSuffix.size() || !file_name.ends_with(kSuffix)) {
    return std::nullopt;
  }
  uint64_t sequence = 0;
  for (char c : file_name.substr(0, kSequenceDigits)) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (sequence > (UINT64_MAX - digit) / 10) return std::nullopt;
    sequence = sequence * 10 + digit;
  }
  if (sequence == 0) return std::nullopt;  // what a base without deltas counts as
  return sequence;
}

namespace {

// Lines a piece of a file parsed apart holds at least (~0.6 ms of parsing): fewer are not
// worth a claim and a merge.
constexpr size_t kMinPieceLines = 256;
// The pieces each thread gets on average: a helper kept from a core by the queries holds up
// the caller's end by no more than one piece.
constexpr size_t kPiecesPerThread = 8;

// A piece of a file: from the start of a line to the start of another (or the end). Its
// changes go straight into the delta's slots of its lines (a slot per line: pieces parsed apart
// leave nothing to merge); a blank line leaves its slot empty (line 0).
struct Piece {
  size_t begin = 0, end = 0;
  uint64_t first_line = 1;
  size_t blank = 0;     // lines left empty
  absl::Status status;  // the first bad line's error
};

// Parses piece `p` of `text` into the slots of its lines in `slots` (slot k: line k + 1), or
// sets p->status to its first bad line's error.
void ParsePiece(std::string_view name, std::string_view text, LineParser& parser, Piece* p,
                DeltaChange* slots) {
  uint64_t line = p->first_line;
  for (size_t pos = p->begin; pos < p->end; ++line) {
    // A reason may quote the line's text: escaped, so that it cannot forge a line or reach the
    // terminal as an escape sequence (its values are quoted escaped already, QuoteFeedValue()).
    const auto error = [&](absl::string_view reason) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s:%d: %s", name, line, TerminalSafe({reason.data(), reason.size()}, Quoting::kKept)));
    };
    const size_t end = text.find('\n', pos);
    if (end == std::string_view::npos || end >= p->end) {
      p->status = error("cut short: no newline at the end of the file");
      return;
    }
    std::string_view content = text.substr(pos, end - pos);
    pos = end + 1;
    if (content.ends_with('\r')) content.remove_suffix(1);
    if (line == 1 && content.starts_with("\xEF\xBB\xBF")) content.remove_prefix(3);  // a BOM
    if (!simdjson::validate_utf8(content.data(), content.size())) {
      p->status = error("not valid UTF-8");
      return;
    }
    if (IsBlank(content)) {
      ++p->blank;
      continue;
    }
    DeltaChange& change = slots[line - 1];
    change.line = line;
    const absl::Status status = ParseLine(content, parser, &change);
    if (!status.ok()) {
      p->status = error(status.message());
      return;
    }
  }
}

// Returns the pieces `text` is parsed in on `threads` threads: one, or a few of about the same
// size, each starting after a newline. Sets `*lines` to the lines that end with one.
std::vector<Piece> CutIntoPieces(std::string_view text, int threads, size_t* lines) {
  *lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  const size_t count = threads <= 1
                           ? 1
                           : std::clamp<size_t>(*lines / kMinPieceLines, 1,
                                                static_cast<size_t>(threads) * kPiecesPerThread);
  std::vector<Piece> pieces;
  pieces.reserve(count);
  size_t begin = 0;
  uint64_t first_line = 1;
  for (size_t k = 1; k <= count; ++k) {
    size_t end = text.size();
    if (k < count) {
      const size_t newline = text.find('\n', std::max(begin, text.size() / count * k));
      if (newline != std::string_view::npos) end = newline + 1;
    }
    Piece& piece = pieces.emplace_back();
    piece.begin = begin;
    piece.end = end;
    piece.first_line = first_line;
    if (end == text.size()) break;
    first_line += static_cast<uint64_t>(std::count(text.begin() + begin, text.begin() + end, '\n'));
    begin = end;
  }
  return pieces;
}

}  // namespace

absl::StatusOr<Delta> ParseDelta(std::string_view name, std::string_view text, int threads) {
  return ParseDelta(name, FileBytes::Copy(text), threads);
}

absl::StatusOr<Delta> ParseDelta(std::string_view name, FileBytes file_text, int threads) {
  auto texts = std::make_shared<DeltaTexts>();
  texts->text = std::move(file_text);
  const std::string_view text = texts->text.view();
  Delta delta;
  delta.name = std::string(name);
  const std::optional<uint64_t> sequence = DeltaSequence(name);
  if (!sequence) {
    return absl::InvalidArgumentError(
        name == DeltaFileName(0)
            ? absl::StrFormat("%s: not a delta file name: %s", name, kSequenceZero)
            : absl::StrFormat("%s: not a delta file name (20 digits, then .ndjson)", name));
  }
  delta.sequence = *sequence;
  size_t lines = 0;
  std::vector<Piece> pieces = CutIntoPieces(text, threads, &lines);
  texts->unescaped.resize(pieces.size());
  // From the bulk arena (base/allocator.h), which reuses the memory of the file before: ~300
  // bytes a line, faulted in afresh for every file and merged from the pieces, were a quarter
  // of the read on two threads.
  delta.changes.resize(lines);
  // The pieces are claimed in turn by the caller and the helpers, each with a parser of its own.
  std::atomic<size_t> claimed{0};
  auto parse = [&](bool helper) {
    if (helper) RunInBackground();
    LineParser parser;
    parser.text = text;
    for (size_t k; (k = claimed.fetch_add(1, std::memory_order_relaxed)) < pieces.size();) {
      parser.unescaped = &texts->unescaped[k];
      ParsePiece(name, text, parser, &pieces[k], delta.changes.data());
    }
  };
  // One helper per piece beyond the caller's, as many as the system creates.
  const size_t helper_count =
      std::min<size_t>(threads > 1 ? threads - 1 : 0, pieces.empty() ? 0 : pieces.size() - 1);
  std::vector<std::thread> helpers = StartHelpers(helper_count, [&parse] { parse(true); });
  parse(false);
  for (std::thread& helper : helpers) helper.join();
  size_t blank = 0;
  for (const Piece& piece : pieces) {
    if (!piece.status.ok()) return piece.status;  // the first bad line of the file
    blank += piece.blank;
  }
  if (blank > 0) {
    std::erase_if(delta.changes, [](const DeltaChange& c) { return c.line == 0; });
  }
  delta.texts = std::move(texts);
  return delta;
}

absl::StatusOr<Delta> ReadDelta(const std::string& path, int threads, size_t max_bytes) {
  return delta_internal::ReadDelta(path, threads, max_bytes, [] {});
}

absl::StatusOr<std::vector<DeltaFile>> ListDeltaFiles(const std::string& dir,
                                                      std::vector<std::string>* misnamed) {
  DIR* listing = ::opendir(dir.c_str());
  if (listing == nullptr) return absl::ErrnoToStatus(errno, absl::StrCat(dir, ": cannot list"));
  const std::string prefix = dir.ends_with('/') ? dir : dir + "/";
  std::vector<DeltaFile> files;
  if (misnamed != nullptr) misnamed->clear();
  errno = 0;
  while (const struct dirent* entry = ::readdir(listing)) {
    const std::string_view name = entry->d_name;
    if (std::optional<uint64_t> sequence = DeltaSequence(name)) {
      files.push_back(DeltaFile{*sequence, prefix + entry->d_name});
    } else if (misnamed != nullptr && EndsAsDeltaFile(name)) {
      misnamed->push_back(prefix + entry->d_name);
    }
  }
  const int error = errno;  // readdir returns nullptr at the end and on errors
  ::closedir(listing);
  if (error != 0) return absl::ErrnoToStatus(error, absl::StrCat(dir, ": cannot list"));
  std::sort(files.begin(), files.end(),
            [](const DeltaFile& a, const DeltaFile& b) { return a.sequence < b.sequence; });
  if (misnamed != nullptr) std::sort(misnamed->begin(), misnamed->end());
  return files;
}

DeltaRun FollowingDeltas(std::span<const DeltaFile> files, uint64_t applied) {
  DeltaRun r;
  r.next = std::span<const DeltaFile>(
      std::upper_bound(files.begin(), files.end(), applied,
                       [](uint64_t sequence, const DeltaFile& f) { return sequence < f.sequence; }),
      files.end());
  while (r.run < r.next.size() && r.next[r.run].sequence == applied + r.run + 1) ++r.run;
  return r;
}

std::string DeltaGapMessage(uint64_t applied, uint64_t waiting) {
  return absl::StrFormat("delta gap: %s is missing, %s and later wait (applied up to %d)",
                         DeltaFileName(applied + 1), DeltaFileName(waiting), applied);
}

bool EndsAsDeltaFile(std::string_view file_name) { return file_name.ends_with(kSuffix); }

std::string MisnamedDeltaWarning(std::string_view path) {
  const std::string safe = TerminalSafe(path, Quoting::kKept);  // a name is anyone's text
  path = safe;
  const std::string_view name = path.substr(path.find_last_of('/') + 1);  // npos + 1 == 0
  const std::string_view digits = name.substr(0, name.size() - kSuffix.size());
  if (name == DeltaFileName(0)) {
    return absl::StrFormat("%s is not applied: %s", path, kSequenceZero);
  }
  if (name.size() == kSequenceDigits + kSuffix.size() &&
      digits.find_first_not_of("0123456789") == std::string_view::npos) {
    return absl::StrFormat(
        "%s is not applied: its sequence number is out of range (the largest is %d)", path,
        UINT64_MAX);
  }
  return absl::StrFormat(
      "%s is not applied: a delta file is named by its sequence number in %d digits, e.g. %s", path,
      kSequenceDigits, DeltaFileName(1));
}

namespace delta_internal {

absl::StatusOr<Delta> ReadDelta(const std::string& path, int threads, size_t max_bytes,
                                absl::FunctionRef<void()> between) {
  SHIXIN_ASSIGN_OR_RETURN(const int fd, OpenRegularFile(path));
  struct stat before {};
  struct stat after {};
  absl::StatusOr<FileBytes> text = ::fstat(fd, &before) == 0
                                       ? ReadOpenFile(fd, path, max_bytes)
                                       : absl::ErrnoToStatus(errno, path + ": stat");
  if (text.ok()) {
    between();
    if (::fstat(fd, &after) != 0) text = absl::ErrnoToStatus(errno, path + ": stat");
  }
  ::close(fd);
  if (!text.ok()) return text.status();
  if (Changed(before, after) || static_cast<off_t>(text->size()) != after.st_size) {
    return absl::UnavailableError(
        absl::StrCat(path, ": changed while it was read (size or mtime); try again later"));
  }
  return ParseDelta(path.substr(path.find_last_of('/') + 1), *std::move(text), threads);
}

}  // namespace delta_internal
}  // namespace shixin
