// The IDs `shixin check` and `shixin measures` query: the positional arguments, then the lines
// of standard input, read as they come in chunks of a bounded size. A batch of millions of IDs
// then holds one chunk at a time, and a line typed at a terminal or written by a slow producer
// (`tail -f`, a queue consumer) is answered soon after it arrives, not at the end of the input.
//
// Thread safety: run from main() only (QueryInputs reads a descriptor; InputIds prints).
#ifndef SHIXIN_CLI_QUERY_INPUTS_H_
#define SHIXIN_CLI_QUERY_INPUTS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/id.h"

namespace shixin {

// One input of a query: an ID as typed, and where: its line of standard input (1-based), or 0
// for a command-line argument. `refused`, when not empty, is why the input is invalid before it
// is parsed (a line over kMaxInputLine bytes: `text` is then its beginning).
struct QueryInput {
  std::string text;
  size_t line = 0;
  std::string refused;
};

// The longest line of standard input taken as an ID (an ID is at most a few dozen bytes): a
// longer one is refused as its line's answer, and its rest skipped unread into memory.
inline constexpr size_t kMaxInputLine = 4096;
// The most inputs answered together: a chunk's IDs are parsed, then asked (server mode: one
// pipeline), then printed, before more input is read.
inline constexpr size_t kInputChunk = 4096;

// The inputs of a query, in order: the positional arguments, then the lines of `fd` (blank
// lines skipped; a UTF-8 byte order mark, as Windows editors write, skipped on the first line).
class QueryInputs {
 public:
  // The arguments of a check or measures: `positional` less "-", then standard input when there
  // are none or one is "-". `fd` is the input to read (standard input's, or a test's), not owned.
  QueryInputs(const std::vector<std::string>& positional, int fd, size_t chunk = kInputChunk);

  // Returns the next inputs: the arguments (at most `chunk`), or else the lines of the input,
  // once `chunk` are read, or as soon as at least one is read and no more input is ready
  // (poll): so a line that arrives alone is answered at once. Returns none at the end.
  // The errno's status "standard input: read: REASON" when the input cannot be read (after
  // returning the inputs read before the failure).
  absl::StatusOr<std::vector<QueryInput>> Next();

  // Reads the rest of the input, discarding it, and returns how many inputs it held; with
  // `*ended` false, how many it held before it stopped reading without the end (a read failure,
  // or nothing came for a second, or more kept coming for 10 seconds: an open terminal or a
  // producer still writing must not hold back the exit).
  size_t CountRest(bool* ended);

 private:
  // Takes the next whole line of buf_ into `out` (nothing for a blank one) and returns true, or
  // returns false when more input is needed (a line's rest being skipped is discarded).
  bool TakeLine(std::vector<QueryInput>* out);
  // Reads more of the input into buf_ (eof_ at its end).
  absl::Status Read();
  // Returns whether a read would not block (or poll cannot say).
  bool Ready(int timeout_ms) const;

  std::vector<std::string> args_;
  size_t next_arg_ = 0;
  int fd_;  // -1: no input read after the arguments
  size_t chunk_;
  std::string buf_;  // read and not yet taken from pos_ on: at most a line and one read
  size_t pos_ = 0;
  size_t line_ = 0;        // the number of the last line taken
  bool skipping_ = false;  // in a refused line, up to its end
  bool eof_ = false;
  absl::Status error_;  // a read failure, returned by the next Next()
};

// The inputs of a query answered chunk by chunk: the IDs of each chunk that parse, in order, and
// the reason for each input that does not, printed (as JSON with `json`) in its place among the
// answers that the caller prints. One from standard input is also named by its line: "line" in
// the JSON object, "line N: " in front of the reason in text, and "shixin: stdin:N: ..." on
// stderr (blank lines are skipped, so the output's line numbers are not the input's).
class InputIds {
 public:
  // `command` names the run in a read failure's message.
  InputIds(QueryInputs& source, std::string_view command, bool json);

  // Flushes the answers printed so far (the input may wait for them: a terminal, a pipe) and
  // reads the next chunk. Returns false at the end of the input, once stopped(), or when the
  // input cannot be read: said on stderr ("shixin COMMAND: standard input: read: ..."), and
  // the run's status is kExitLoad.
  bool Next();
  // Returns the inputs of the chunk that parse as IDs, in their order.
  const std::vector<Id>& ids() const { return ids_; }
  // Prints the reasons of the chunk's invalid inputs before ids()[j], or of all those left for
  // j == ids().size(). REQUIRES: j does not decrease from call to call within a chunk.
  void Reach(size_t j);
  // Records the exit status of an answer; any above kExitInvalidId (kExitUsage: the request
  // itself is wrong, every ID would fail alike; a load or server failure) stops the run.
  void Record(int status);
  // Returns whether the run was stopped: nothing more is to be printed.
  bool stopped() const;
  // Returns the status that stopped the run, else kExitInvalidId if any input (reached) or
  // answer failed, else kExitOk.
  int status() const { return status_; }
  // Says on stderr where a run stopped before answering ids()[j] (a server gone midway): its
  // line (or argument) and ID, and how many inputs were answered before it and were left after
  // it (the rest of the input is read to count them: QueryInputs::CountRest(), "at least" when
  // it did not end), so that a script can resume. REQUIRES: j < ids().size().
  void SayStoppedAt(size_t j);

 private:
  QueryInputs& source_;
  std::string command_;
  bool json_;
  size_t first_input_ = 0;  // the number of the chunk's first input in the run
  size_t chunk_inputs_ = 0;
  std::vector<Id> ids_;
  std::vector<size_t> input_of_;  // ids_[j] is the chunk's input number input_of_[j]
  std::vector<size_t> line_of_;   // and on line line_of_[j] of standard input (0: an argument)
  // The chunk's invalid inputs: number, text and reason; those before next_invalid_ are printed.
  struct Invalid {
    size_t input;
    size_t line;  // QueryInput::line
    std::string text;
    std::string reason;
  };
  std::vector<Invalid> invalid_;
  size_t next_invalid_ = 0;
  int status_;
};

// Runs `query` on each input that parses as an ID and prints the reason for each that does not
// (InputIds), chunk by chunk. `query` returns an exit status; above kExitInvalidId stops the
// run. Returns InputIds::status().
int ForEachId(QueryInputs& inputs, std::string_view command, bool json,
              absl::FunctionRef<int(const Id&, bool json)> query);

}  // namespace shixin

#endif  // SHIXIN_CLI_QUERY_INPUTS_H_
