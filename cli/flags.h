// Command-line parsing for the shixin tool: "--name value", "--name=value" and boolean
// "--name" flags, repeatable flags, and positional arguments, checked against a per-command
// list of known flags.
//
// Thread safety: plain values.
#ifndef SHIXIN_CLI_FLAGS_H_
#define SHIXIN_CLI_FLAGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace shixin {

struct FlagSpec {
  std::string_view name;  // without the leading "--"
  bool takes_value;
  // A value that must be a non-negative integer: Parse() refuses another (a usage error, not
  // one of the data the command goes on to read).
  bool number = false;
};

// Returns `args` with each "-o" spelled "--out" (its short form, for commands that write a file).
std::vector<std::string> WithShortOut(std::vector<std::string> args);

class Flags {
 public:
  // Parses args (without the program and command names) against `specs`.
  // Returns InvalidArgument naming an unknown flag, a flag missing its value, or a number
  // flag's value that is not one.
  static absl::StatusOr<Flags> Parse(const std::vector<std::string>& args,
                                     const std::vector<FlagSpec>& specs);

  // Returns whether boolean flag `name` was given.
  bool Has(std::string_view name) const;
  // Returns the last value of `name`, or nullopt.
  std::optional<std::string> Get(std::string_view name) const;
  // Returns every value of the repeatable flag `name`, in order.
  std::vector<std::string> GetAll(std::string_view name) const;
  // Returns the value of `name` as an unsigned integer, `fallback` if absent, or
  // InvalidArgument if it is not a number.
  absl::StatusOr<uint64_t> GetUint(std::string_view name, uint64_t fallback) const;

  const std::vector<std::string>& positional() const { return positional_; }
  // Returns OK if there are no positional arguments, else InvalidArgument naming the first
  // (a command that takes none must not ignore one).
  absl::Status NoPositional() const;

 private:
  std::vector<std::pair<std::string, std::string>> values_;
  std::vector<std::string> positional_;
};

}  // namespace shixin

#endif  // SHIXIN_CLI_FLAGS_H_
