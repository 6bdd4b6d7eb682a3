#include "loadtest/tool_flags.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace shixin {
namespace {

// `arg` with '-' for '_' in a flag's name ("--reload-every=5" -> "--reload_every=5"); other
// arguments (values, "-", "--") unchanged.
std::string NormalizeFlagName(const std::string& arg) {
  const size_t dashes = arg.rfind("--", 0) == 0 ? 2 : arg.rfind('-', 0) == 0 ? 1 : 0;
  if (dashes == 0 || arg.size() == dashes) return arg;
  const size_t end = std::min(arg.find('='), arg.size());
  std::string out = arg;
  std::replace(out.begin() + static_cast<std::ptrdiff_t>(dashes),
               out.begin() + static_cast<std::ptrdiff_t>(end), '-', '_');
  return out;
}

bool IsHelp(std::string_view arg) { return arg == "--help" || arg == "-h" || arg == "-help"; }

}  // namespace

std::string ToolFlagsHelp(std::string_view usage, const absl::CommandLineFlag& own) {
  std::vector<const absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (flag->Filename() == own.Filename()) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(),
            [](const auto* a, const auto* b) { return a->Name() < b->Name(); });
  std::string out(usage);
  out += "\nflags ('-' or '_' in names; --name=value or --name value):\n";
  for (const absl::CommandLineFlag* flag : flags) {
    const std::string name = absl::StrReplaceAll(flag->Name(), {{"_", "-"}});
    const std::string value = flag->DefaultValue();
    const bool no_default = value.empty() || (flag->IsOfType<bool>() && value == "false");
    absl::StrAppendFormat(&out, "  --%-16s %s%s\n", name, flag->Help(),
                          no_default ? "" : absl::StrFormat(" (default %s)", value));
  }
  return out;
}

std::vector<std::string> ParseToolFlags(int argc, char** argv, std::string_view usage,
                                        const absl::CommandLineFlag& own) {
  static std::once_flag usage_set;  // absl allows one usage message per process
  std::call_once(usage_set, [usage] {
    absl::SetProgramUsageMessage(absl::string_view(usage.data(), usage.size()));
  });
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 1; i < args.size() && args[i] != "--"; ++i) {
    if (IsHelp(args[i])) {
      std::fputs(ToolFlagsHelp(usage, own).c_str(), stdout);
      std::exit(0);
    }
    args[i] = NormalizeFlagName(args[i]);
    // "--name value": the value is left as it is, even if it starts with '-'.
    const size_t start = args[i].find_first_not_of('-');
    if (start == 0 || start == std::string::npos || args[i].find('=') != std::string::npos) {
      continue;
    }
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(args[i].substr(start));
    if (flag != nullptr && !flag->IsOfType<bool>()) ++i;
  }
  std::vector<char*> pointers;
  pointers.reserve(args.size());
  for (std::string& arg : args) pointers.push_back(arg.data());
  const std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(pointers.size()), pointers.data());
  return std::vector<std::string>(positional.begin() + 1, positional.end());
}

}  // namespace shixin
