#include "cli/flags.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace shixin {

absl::StatusOr<Flags> Flags::Parse(const std::vector<std::string>& args,
                                   const std::vector<FlagSpec>& specs) {
  Flags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      flags.positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrFormat("unknown flag --%s", name));
    }
    if (spec->takes_value && !value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrFormat("flag --%s needs a value", name));
      }
      value = args[++i];
    }
    if (!spec->takes_value && value) {
      return absl::InvalidArgumentError(absl::StrFormat("flag --%s takes no value", name));
    }
    flags.values_.emplace_back(name, value.value_or(""));
    if (spec->number) SHIXIN_RETURN_IF_ERROR(flags.GetUint(name, 0).status());
  }
  return flags;
}

bool Flags::Has(std::string_view name) const {
  for (const auto& [n, v] : values_) {
    if (n == name) return true;
  }
  return false;
}

std::optional<std::string> Flags::Get(std::string_view name) const {
  std::optional<std::string> result;
  for (const auto& [n, v] : values_) {
    if (n == name) result = v;
  }
  return result;
}

std::vector<std::string> Flags::GetAll(std::string_view name) const {
  std::vector<std::string> result;
  for (const auto& [n, v] : values_) {
    if (n == name) result.push_back(v);
  }
  return result;
}

absl::StatusOr<uint64_t> Flags::GetUint(std::string_view name, uint64_t fallback) const {
  const std::optional<std::string> value = Get(name);
  if (!value) return fallback;
  uint64_t n = 0;
  if (!absl::SimpleAtoi(*value, &n)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("flag --%s: \"%s\" is not a non-negative integer", name, *value));
  }
  return n;
}

std::vector<std::string> WithShortOut(std::vector<std::string> args) {
  for (std::string& arg : args) {
    if (arg == "-o") arg = "--out";
  }
  return args;
}

absl::Status Flags::NoPositional() const {
  if (positional_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat("unexpected argument \"%s\"", positional_[0]));
}

}  // namespace shixin
