#include "cli/query_inputs.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/bom.h"
#include "base/terminal.h"
#include "cli/commands.h"
#include "protocol/render.h"

namespace shixin {
namespace {

// A read of the input: a pipe's buffer, ~3,000 IDs.
constexpr size_t kReadSize = 64 * 1024;
// CountRest(): how long the input may be idle, and how long it may be read in all.
constexpr absl::Duration kRestIdle = absl::Seconds(1);
constexpr absl::Duration kRestMax = absl::Seconds(10);
// How much of a refused line its answer shows.
constexpr size_t kRefusedShown = 32;

bool Blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// Returns the beginning of an over-long `line`, cut before a UTF-8 character, with "...".
std::string Beginning(std::string_view line) {
  size_t end = std::min(line.size(), kRefusedShown);
  while (end > 0 && end < line.size() && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) {
    --end;
  }
  return absl::StrFormat("%s...", line.substr(0, end));
}

}  // namespace

QueryInputs::QueryInputs(const std::vector<std::string>& positional, int fd, size_t chunk)
    : fd_(positional.empty() ? fd : -1), chunk_(std::max<size_t>(chunk, 1)) {
  for (const std::string& arg : positional) {
    if (arg == "-") {
      fd_ = fd;
    } else {
      args_.push_back(arg);
    }
  }
}

absl::StatusOr<std::vector<QueryInput>> QueryInputs::Next() {
  if (!error_.ok()) return std::exchange(error_, absl::OkStatus());
  std::vector<QueryInput> chunk;
  // The arguments are a chunk of their own: answered before the input is waited for.
  for (; next_arg_ < args_.size() && chunk.size() < chunk_; ++next_arg_) {
    chunk.push_back(QueryInput{args_[next_arg_], 0, ""});
  }
  if (!chunk.empty() || fd_ < 0) return chunk;
  while (chunk.size() < chunk_) {
    if (TakeLine(&chunk)) continue;
    if (eof_ || (!chunk.empty() && !Ready(0))) break;
    if (absl::Status read = Read(); !read.ok()) {
      if (chunk.empty()) return read;
      error_ = read;  // the lines before it are answered first
      break;
    }
  }
  return chunk;
}

bool QueryInputs::TakeLine(std::vector<QueryInput>* out) {
  const std::string_view pending = std::string_view(buf_).substr(pos_);
  const size_t newline = pending.find('\n');
  if (skipping_) {
    pos_ = newline == std::string_view::npos ? buf_.size() : pos_ + newline + 1;
    skipping_ = newline == std::string_view::npos;
    return !skipping_;
  }
  std::string_view line;
  if (newline != std::string_view::npos) {
    line = pending.substr(0, newline);
    pos_ += newline + 1;
  } else if (pending.size() > kMaxInputLine) {
    line = pending;  // its rest is not held: skipped up to its end
    pos_ = buf_.size();
    skipping_ = true;
  } else if (eof_ && !pending.empty()) {
    line = pending;  // the last line, without a newline
    pos_ = buf_.size();
  } else {
    return false;
  }
  ++line_;
  if (line_ == 1) line = StripUtf8Bom(line);
  if (line.size() > kMaxInputLine) {
    out->push_back(QueryInput{Beginning(line), line_,
                              absl::StrFormat("line longer than %d bytes", kMaxInputLine)});
  } else if (!Blank(line)) {
    out->push_back(QueryInput{std::string(line), line_, ""});
  }
  return true;
}

absl::Status QueryInputs::Read() {
  buf_.erase(0, pos_);
  pos_ = 0;
  const size_t held = buf_.size();
  buf_.resize(held + kReadSize);
  ssize_t n;
  do {
    n = read(fd_, buf_.data() + held, kReadSize);
  } while (n < 0 && errno == EINTR);
  const int error = errno;
  buf_.resize(held + (n > 0 ? static_cast<size_t>(n) : 0));
  if (n < 0) {
    return absl::ErrnoToStatus(error, "standard input: read");  // as ReadOpenFile() said it
  }
  eof_ = n == 0;
  return absl::OkStatus();
}

bool QueryInputs::Ready(int timeout_ms) const {
  pollfd p{fd_, POLLIN, 0};
  int n;
  do {
    n = poll(&p, 1, timeout_ms);
  } while (n < 0 && errno == EINTR);
  return n != 0;
}

size_t QueryInputs::CountRest(bool* ended) {
  size_t rest = args_.size() - next_arg_;
  next_arg_ = args_.size();
  *ended = true;
  if (fd_ < 0) return rest;
  const absl::Time deadline = absl::Now() + kRestMax;
  std::vector<QueryInput> lines;
  while (true) {
    while (TakeLine(&lines)) {
      rest += lines.size();
      lines.clear();
    }
    if (eof_) return rest;
    if (!error_.ok() || absl::Now() >= deadline ||
        !Ready(static_cast<int>(absl::ToInt64Milliseconds(kRestIdle))) || !Read().ok()) {
      *ended = false;
      return rest;
    }
  }
}

InputIds::InputIds(QueryInputs& source, std::string_view command, bool json)
    : source_(source), command_(command), json_(json), status_(kExitOk) {}

bool InputIds::Next() {
  std::cout.flush();
  if (stopped()) return false;
  absl::StatusOr<std::vector<QueryInput>> inputs = source_.Next();
  if (!inputs.ok()) {
    Record(LoadFailed(command_, inputs.status()));
    return false;
  }
  first_input_ += chunk_inputs_;
  chunk_inputs_ = inputs->size();
  ids_.clear();
  input_of_.clear();
  line_of_.clear();
  invalid_.clear();
  next_invalid_ = 0;
  for (size_t i = 0; i < inputs->size(); ++i) {
    QueryInput& input = (*inputs)[i];
    absl::StatusOr<Id> id =
        input.refused.empty() ? ParseId(input.text) : absl::InvalidArgumentError(input.refused);
    if (id.ok()) {
      ids_.push_back(*id);
      input_of_.push_back(i);
      line_of_.push_back(input.line);
    } else {
      invalid_.push_back(
          {i, input.line, std::move(input.text), std::string(id.status().message())});
    }
  }
  return !inputs->empty();
}

void InputIds::Reach(size_t j) {
  const size_t end = j < input_of_.size() ? input_of_[j] : SIZE_MAX;
  for (; next_invalid_ < invalid_.size() && invalid_[next_invalid_].input < end; ++next_invalid_) {
    const Invalid& bad = invalid_[next_invalid_];
    if (bad.line == 0) {
      std::cout << (json_ ? ErrorJson(bad.text, bad.reason) + "\n"
                          : ErrorText(bad.text, bad.reason));
    } else {
      // Blank lines are skipped: the line number is what ties the answer to its input.
      std::fprintf(stderr, "shixin: stdin:%zu: \"%s\": %s\n", bad.line,
                   TerminalSafe(bad.text).c_str(), bad.reason.c_str());
      std::cout << (json_ ? absl::StrFormat("{\"line\":%d,%s\n", bad.line,
                                            ErrorJson(bad.text, bad.reason).substr(1))
                          : ErrorText(bad.text,
                                      absl::StrFormat("line %d: %s", bad.line, bad.reason)));
    }
    Record(kExitInvalidId);
  }
}

void InputIds::SayStoppedAt(size_t j) {
  const size_t input = first_input_ + input_of_[j];
  const std::string where = line_of_[j] != 0 ? absl::StrFormat("stdin:%d", line_of_[j])
                                             : absl::StrFormat("argument %d", input + 1);
  const size_t left = chunk_inputs_ - input_of_[j] - 1;
  bool ended = false;
  const size_t rest = source_.CountRest(&ended);
  std::fprintf(stderr,
               "shixin: stopped at %s (ID %s): %zu input(s) before it answered, it and %s%zu "
               "after it not answered\n",
               where.c_str(), std::string(ids_[j].text()).c_str(), input, ended ? "" : "at least ",
               left + rest);
}

bool InputIds::stopped() const { return status_ > kExitInvalidId; }

void InputIds::Record(int status) {
  if (status != kExitOk && !stopped()) status_ = status;
}

int ForEachId(QueryInputs& inputs, std::string_view command, bool json,
              absl::FunctionRef<int(const Id&, bool json)> query) {
  InputIds in(inputs, command, json);
  while (in.Next()) {
    for (size_t j = 0; j < in.ids().size(); ++j) {
      in.Reach(j);
      in.Record(query(in.ids()[j], json));
      if (in.stopped()) {
        // A request refused whatever the ID (usage) is said once; a failure midway says where.
        if (in.status() != kExitUsage) in.SayStoppedAt(j);
        return in.status();
      }
    }
    in.Reach(in.ids().size());
  }
  return in.status();
}

}  // namespace shixin
