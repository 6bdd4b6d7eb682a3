// Delta files: the court's daily changes to the list (docs/feed.md, section 3), parsed and
// checked line by line, all or nothing. What a change means for the list (is the case known,
// does it still count) is decided where it is applied, not here.
//
// Thread safety: pure functions and plain values.
#ifndef SHIXIN_CORE_DELTA_H_
#define SHIXIN_CORE_DELTA_H_

#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "base/allocator.h"
#include "core/id.h"
#include "core/paths.h"
#include "core/record.h"
#include "core/types.h"

namespace shixin {

enum class DeltaOp : uint8_t { kAdd, kRemove, kRevoke, kCorrect, kRelate, kUnrelate };

// Returns the feed's name of `op` ("add", "remove", ...).
std::string_view DeltaOpName(DeltaOp op);

// One line of a delta file. Its texts are views into its Delta's `texts` (or, for a change made
// by hand, into whatever the maker keeps alive). Which members are set depends on `op`:
//   kAdd, kCorrect: id, name, record (every field the line gave; record.start is 00:00 of the
//                   publishDate, or `at` when that is later), at (0 if an add has none);
//   kRemove:        id, record.case_code, reason, at;
//   kRevoke:        id, record.case_code, at;
//   kRelate:        org, id (the person), name (personName), role, at;
//   kUnrelate:      org, id (the person), role, at.
struct DeltaChange {
  DeltaOp op = DeltaOp::kAdd;
  uint64_t line = 0;      // 1-based, in its file
  Id id;                  // cardNum, or personId for relate/unrelate
  std::string_view name;  // iname, or personName
  CaseView record;
  EndReason reason = EndReason::kNone;  // kRemove: one of kPerformed .. kOther
  int64_t at = 0;                       // Unix seconds
  Id org;                               // orgId
  Role role = Role::kLegalRepresentative;
};

// The bytes a parsed delta's changes point into: the file's text (most values, which have no
// escapes, are views of it) and the values that had escapes, unescaped: one deque per piece of
// the file parsed apart (sized before the parse; adding to a deque moves none of its strings).
struct DeltaTexts {
  FileBytes text;
  std::vector<std::deque<std::string>> unescaped;
};

// A delta's changes, in its file's order.
using DeltaChanges = std::vector<DeltaChange, BulkAllocator<DeltaChange>>;

// One delta file, parsed whole.
struct Delta {
  uint64_t sequence = 0;
  std::string name;  // the file's name, for messages ("00000000000000000042.ndjson")
  DeltaChanges changes;
  // Shared, so that a copy of the delta keeps its changes' texts alive too.
  std::shared_ptr<const DeltaTexts> texts;
};

// Returns "<20-digit sequence>.ndjson".
std::string DeltaFileName(uint64_t sequence);
// Returns the sequence a delta file's name carries (exactly 20 digits, then ".ndjson"), or
// nullopt for any other name, for 20 digits above the largest uint64_t and for 0 (which a base
// without deltas counts as: a file 0 could never apply).
std::optional<uint64_t> DeltaSequence(std::string_view file_name);

// Parses the text of the delta file `name` (its sequence from the name). Returns the delta, or
// InvalidArgument whose message names the file, the line and the reason
// ("00000000000000000042.ndjson:17: remove: reason: unknown \"paid\""): any bad line refuses
// the whole file, as does a last line without its newline, or text that is not UTF-8; also a
// `name` that is not a delta file's, or a line that names a key twice. Blank lines, a leading
// UTF-8 BOM and "\r\n" line ends are accepted. A line that names a key its op does not use is
// refused too ("...:3: add: unknown key \"term_end\" (not one of an add's keys)").
// The delta keeps `text`: its changes' texts are views of it (Delta::texts).
// With `threads` > 1 the file is parsed in pieces claimed in turn by the caller's thread and
// helpers in the background (base/background.h: they take idle cores only); the result is the
// same for any number.
absl::StatusOr<Delta> ParseDelta(std::string_view name, FileBytes text, int threads = 1);
// The same for text held in a string (copied).
absl::StatusOr<Delta> ParseDelta(std::string_view name, std::string_view text, int threads = 1);

// A change reported late: a remove, revoke, correct or unrelate whose `at` is more than this
// before its file arrived (72 hours: about the 3 working days the SPC rules give a court to
// act). It changes the as-of answers about the instants after its `at`, which shixind may have
// answered otherwise before it arrived (docs/feed.md, section 4).
inline constexpr int64_t kLateChangeSeconds = 72 * 3600;

// Returns a note for each change of `delta` reported late, its file having arrived at `arrival`
// (Unix seconds): "NAME:LINE: OP: case C of ID: at T, N days H h before the file arrived at A:
// as-of answers after T change" (for an unrelate, the role instead of the case; the ID masked,
// the case code escaped). A change its application found changed nothing (`unchanged`,
// DeltaReport::unchanged: (sequence, line)) changes no answer: no note.
std::vector<std::string> LateChangeNotes(
    const Delta& delta, int64_t arrival,
    std::span<const std::pair<uint64_t, uint64_t>> unchanged = {});

// The largest delta file shixind takes by default (its max_delta_mb) and `shixin delta check`
// checks against: a day's changes at national scale are ~6 MB.
inline constexpr uint32_t kDefaultMaxDeltaMb = 256;
// The largest value either accepts for it.
inline constexpr uint32_t kMaxDeltaMbLimit = 65536;

// Reads and parses the delta file at `path` (on up to `threads` threads, as ParseDelta).
// Besides ParseDelta's errors: NotFound if it does not exist, Unavailable if it changed while
// it was read (size or mtime; try again later), ResourceExhausted "PATH: more than N bytes" if
// it is larger than `max_bytes` (refused before it is read: a file of any size must not take
// the reader's memory; its changes take about twice its text again once parsed).
absl::StatusOr<Delta> ReadDelta(const std::string& path, int threads = 1,
                                size_t max_bytes = std::numeric_limits<size_t>::max());

// The longest settle time for delta files written in place (shixind's delta_settle_ms, shixin
// compile's --delta-settle-ms): 10 minutes.
inline constexpr uint64_t kMaxDeltaSettleMs = 600000;

// A delta file in a directory.
struct DeltaFile {
  uint64_t sequence = 0;
  std::string path;
};

// Returns the delta files of `dir` in sequence order, or the error that listing it gave
// (NotFound for a missing directory). Other names are ignored (a pusher's files in the making);
// the paths of those that end in ".ndjson" all the same, likely delta files misnamed, go to
// `*misnamed` in name order if it is not null.
absl::StatusOr<std::vector<DeltaFile>> ListDeltaFiles(const std::string& dir,
                                                      std::vector<std::string>* misnamed = nullptr);

// The delta files that follow a list at sequence `applied` (docs/feed.md, section 3, "Order"),
// as shixind and the offline commands take them: of `files` (in sequence order, as
// ListDeltaFiles() returns them) those after `applied` (the ones at or below it are skipped), of
// which the first `run` are consecutive (applied + 1, applied + 2, ...) and apply in that order,
// each stopping the rest if it is refused; a file after the run waits behind a gap.
struct DeltaRun {
  std::span<const DeltaFile> next;  // the files after `applied`
  size_t run = 0;                   // how many of them are consecutive from applied + 1
};
DeltaRun FollowingDeltas(std::span<const DeltaFile> files, uint64_t applied);
// Returns the message for a gap: the list stops at `applied`, `waiting` is the first file after
// it ("delta gap: ...0043.ndjson is missing, ...0044.ndjson and later wait (applied up to 42)").
std::string DeltaGapMessage(uint64_t applied, uint64_t waiting);

// Returns whether `file_name` ends in ".ndjson": a delta file's, or one misnamed.
bool EndsAsDeltaFile(std::string_view file_name);
// Returns the warning for a misnamed delta file at `path`, which is never applied.
std::string MisnamedDeltaWarning(std::string_view path);

namespace delta_internal {
// ReadDelta, calling `between` after the file is read and before it is checked for changes:
// the seam through which the tests change a file while it is read.
absl::StatusOr<Delta> ReadDelta(const std::string& path, int threads, size_t max_bytes,
                                absl::FunctionRef<void()> between);
}  // namespace delta_internal

}  // namespace shixin

#endif  // SHIXIN_CORE_DELTA_H_
