#include "cli/caller_commands.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "base/terminal.h"
#include "callers/callers_file.h"
#include "callers/token.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "core/catalog.h"
#include "core/paths.h"
#include "nlohmann/json.hpp"

namespace shixin {
namespace {

const std::vector<FlagSpec> kAddFlags = {
    {"file", true},     {"id", true},        {"name", true},        {"sector", true},
    {"scopes", true},   {"view", true},      {"rate", true},        {"burst", true, true},
    {"agencies", true}, {"scenarios", true}, {"certificate", true}, {"catalog", true}};
const std::vector<FlagSpec> kTokenFlags = {{"file", true}, {"id", true}, {"replace", false}};
const std::vector<FlagSpec> kListFlags = {{"file", true}, {"json", false}};
const std::vector<FlagSpec> kRemoveFlags = {{"file", true}, {"id", true}};

// A failure and the exit status it leads to.
struct Failure {
  int exit_status;
  absl::Status status;
};

absl::StatusOr<std::string> Required(const Flags& flags, std::string_view name) {
  std::optional<std::string> value = flags.Get(name);
  if (!value || value->empty()) {
    return absl::InvalidArgumentError(absl::StrFormat("--%s is required", name));
  }
  return *value;
}

std::vector<std::string> SplitList(const std::optional<std::string>& text) {
  if (!text) return {};
  return absl::StrSplit(*text, ',', absl::SkipWhitespace());
}

// Returns the callers of `path`, none if it does not exist (but an error if it cannot be read:
// rewriting it would lose its callers).
absl::StatusOr<std::vector<Caller>> ReadCallers(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 && errno == ENOENT) return std::vector<Caller>{};
  absl::StatusOr<CallerTable> table = LoadCallersFile(path);
  if (!table.ok()) return table.status();
  return table->callers();
}

// Prints a new token once; the file keeps only its hash. Returns whether it reached standard
// output (a full disk, a closed pipe: the token would be lost).
bool PrintToken(const std::string& token, const std::string& id, const std::string& path) {
  std::printf("%s\n", token.c_str());
  std::printf(
      "# the token of caller \"%s\", shown only now: %s stores only its hash. Hand it to the "
      "caller over a secure channel.\n",
      id.c_str(), path.c_str());
  return std::fflush(stdout) == 0 && std::ferror(stdout) == 0;
}

// A new token to print for caller `id`.
struct NewTokenOf {
  const std::string& token;
  const std::string& id;
};

// Builds the table of `callers` and writes it to `path`; the table's errors are usage errors.
// With `printed`, prints that token once the file holding its hash is in place: a token is
// never shown (and saved by `| head -n1 > X.token`) for a file that could not be written.
int WriteCallers(std::string_view command, const std::string& path, std::vector<Caller> callers,
                 std::optional<NewTokenOf> printed = std::nullopt) {
  absl::StatusOr<CallerTable> table = CallerTable::Create(std::move(callers));
  if (!table.ok()) return UsageError(command, table.status());
  if (absl::Status s = WriteCallersFile(path, *table); !s.ok()) {
    if (printed.has_value()) {
      return LoadFailed(
          command, absl::Status(s.code(), absl::StrCat(s.message(), " (no token was issued)")));
    }
    return LoadFailed(command, s);
  }
  if (printed.has_value() && !PrintToken(printed->token, printed->id, path)) {
    return LoadFailed(
        command,
        absl::ErrnoToStatus(
            errno, absl::StrFormat("cannot print the new token: %s holds its hash, but nobody has "
                                   "it; issue another: shixin caller token --file %s --id %s "
                                   "--replace",
                                   path, path, printed->id)));
  }
  return kExitOk;
}

// Returns the caller described by the flags of `caller add` (without a token yet).
absl::StatusOr<Caller> CallerFromFlags(const Flags& flags) {
  Caller caller;
  SHIXIN_ASSIGN_OR_RETURN(caller.id, Required(flags, "id"));
  SHIXIN_ASSIGN_OR_RETURN(caller.name, Required(flags, "name"));
  SHIXIN_ASSIGN_OR_RETURN(caller.sector, Required(flags, "sector"));
  SHIXIN_ASSIGN_OR_RETURN(std::string scopes, Required(flags, "scopes"));
  SHIXIN_ASSIGN_OR_RETURN(caller.scopes, ParseScopes(scopes));
  SHIXIN_ASSIGN_OR_RETURN(std::string view, Required(flags, "view"));
  std::optional<View> parsed_view = ParseView(view);
  if (!parsed_view) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--view \"%s\": expected full or masked", view));
  }
  caller.view = *parsed_view;
  SHIXIN_ASSIGN_OR_RETURN(std::string rate, Required(flags, "rate"));
  if (!absl::SimpleAtod(rate, &caller.rate)) {
    return absl::InvalidArgumentError(absl::StrFormat("--rate \"%s\" is not a number", rate));
  }
  SHIXIN_ASSIGN_OR_RETURN(uint64_t burst, flags.GetUint("burst", 0));
  if (!flags.Get("burst")) return absl::InvalidArgumentError("--burst is required");
  if (burst > UINT32_MAX) return absl::InvalidArgumentError("--burst is out of range");
  caller.burst = static_cast<uint32_t>(burst);
  caller.agencies = SplitList(flags.Get("agencies"));
  caller.scenarios = SplitList(flags.Get("scenarios"));
  caller.certificates = flags.GetAll("certificate");
  SHIXIN_RETURN_IF_ERROR(ValidateCaller(caller));
  return caller;
}

int Add(const Flags& flags) {
  absl::StatusOr<std::string> path = Required(flags, "file");
  if (!path.ok()) return UsageError("caller add", path.status());
  absl::StatusOr<Caller> caller = CallerFromFlags(flags);
  if (!caller.ok()) return UsageError("caller add", caller.status());
  if (!caller->agencies.empty() || !caller->scenarios.empty()) {
    absl::StatusOr<Catalog> catalog =
        Catalog::LoadFile(flags.Get("catalog").value_or(DefaultCatalogPath()));
    if (!catalog.ok()) return LoadFailed("caller add", catalog.status());
    // The file gets ids: an agency named by its name is written as its id (the daemon would
    // resolve it too, but the file then says what the daemon compares).
    const std::vector<std::string> given = caller->agencies;
    if (absl::Status s = ResolveAgainstCatalog(*catalog, &*caller); !s.ok()) {
      return UsageError("caller add", s);
    }
    for (size_t i = 0; i < given.size(); ++i) {
      if (given[i] == caller->agencies[i]) continue;
      std::cerr << absl::StrFormat("shixin caller add: agency \"%s\" is written as its id \"%s\"\n",
                                   TerminalSafe(given[i]), caller->agencies[i]);
    }
  }
  // Held until the file is written: a concurrent add or remove takes its turn (WriteCallers).
  absl::StatusOr<CallersFileLock> lock = CallersFileLock::Acquire(*path);
  if (!lock.ok()) return LoadFailed("caller add", lock.status());
  absl::StatusOr<std::vector<Caller>> callers = ReadCallers(*path);
  if (!callers.ok()) return LoadFailed("caller add", callers.status());
  for (const Caller& c : *callers) {
    if (c.id == caller->id) {
      return UsageError("caller add",
                        absl::AlreadyExistsError(absl::StrFormat(
                            "caller \"%s\" exists in %s (use shixin caller token)", c.id, *path)));
    }
  }
  absl::StatusOr<std::string> token = NewToken();
  if (!token.ok()) return LoadFailed("caller add", token.status());
  caller->token_hashes.push_back(HashToken(*token));
  const std::string id = caller->id;
  callers->push_back(*std::move(caller));
  return WriteCallers("caller add", *path, *std::move(callers), NewTokenOf{*token, id});
}

// Applies `change` to the caller --id of --file and writes the file back (then printing
// `token`, if given: WriteCallers()), holding the file's lock throughout.
int ChangeCaller(std::string_view command, const Flags& flags,
                 absl::FunctionRef<int(std::vector<Caller>&, size_t)> change,
                 const std::string* token = nullptr) {
  absl::StatusOr<std::string> path = Required(flags, "file");
  if (!path.ok()) return UsageError(command, path.status());
  absl::StatusOr<std::string> id = Required(flags, "id");
  if (!id.ok()) return UsageError(command, id.status());
  absl::StatusOr<CallersFileLock> lock = CallersFileLock::Acquire(*path);  // until written
  if (!lock.ok()) return LoadFailed(command, lock.status());
  absl::StatusOr<CallerTable> table = LoadCallersFile(*path);
  if (!table.ok()) return LoadFailed(command, table.status());
  std::vector<Caller> callers = table->callers();
  for (size_t i = 0; i < callers.size(); ++i) {
    if (callers[i].id != *id) continue;
    if (int status = change(callers, i); status != kExitOk) return status;
    if (token == nullptr) return WriteCallers(command, *path, std::move(callers));
    return WriteCallers(command, *path, std::move(callers), NewTokenOf{*token, *id});
  }
  return UsageError(command,
                    absl::NotFoundError(absl::StrFormat("no caller \"%s\" in %s", *id, *path)));
}

int Token(const Flags& flags) {
  absl::StatusOr<std::string> token = NewToken();
  if (!token.ok()) return LoadFailed("caller token", token.status());
  return ChangeCaller(
      "caller token", flags,
      [&](std::vector<Caller>& callers, size_t i) {
        if (flags.Has("replace")) callers[i].token_hashes.clear();
        callers[i].token_hashes.push_back(HashToken(*token));
        return kExitOk;
      },
      &*token);
}

int Remove(const Flags& flags) {
  return ChangeCaller("caller remove", flags, [](std::vector<Caller>& callers, size_t i) {
    callers.erase(callers.begin() + static_cast<ptrdiff_t>(i));
    return kExitOk;
  });
}

int List(const Flags& flags) {
  absl::StatusOr<std::string> path = Required(flags, "file");
  if (!path.ok()) return UsageError("caller list", path.status());
  absl::StatusOr<CallerTable> table = LoadCallersFile(*path);
  if (!table.ok()) return LoadFailed("caller list", table.status());
  for (const Caller& c : table->callers()) {
    const std::vector<std::string> scopes = ScopeNames(c.scopes);
    if (flags.Has("json")) {
      nlohmann::json j = {{"id", c.id},
                          {"name", c.name},
                          {"sector", c.sector},
                          {"agencies", c.agencies},
                          {"scenarios", c.scenarios},
                          {"scopes", scopes},
                          {"view", std::string(ViewName(c.view))},
                          {"rate", c.rate},
                          {"burst", c.burst},
                          {"tokens", c.token_hashes.size()},
                          {"certificates", c.certificates.size()}};
      std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      continue;
    }
    std::cout << absl::StrFormat(
        "%s\t%s\t%s\tscopes=%s\tview=%s\trate=%g\tburst=%u\ttokens=%u\tcertificates=%u\n",
        TerminalSafe(c.id), TerminalSafe(c.name), TerminalSafe(c.sector),
        absl::StrJoin(scopes, ","), ViewName(c.view), c.rate, c.burst, c.token_hashes.size(),
        c.certificates.size());
  }
  return kExitOk;
}

}  // namespace

int RunCaller(const std::vector<std::string>& args) {
  struct Subcommand {
    std::string_view name;
    const std::vector<FlagSpec>* flags;
    int (*run)(const Flags&);
  };
  static constexpr Subcommand kSubcommands[] = {{"add", &kAddFlags, Add},
                                                {"token", &kTokenFlags, Token},
                                                {"list", &kListFlags, List},
                                                {"remove", &kRemoveFlags, Remove}};
  const std::string name = args.empty() ? "" : args[0];
  for (const Subcommand& sub : kSubcommands) {
    if (sub.name != name) continue;
    const std::string command = "caller " + name;
    absl::StatusOr<Flags> flags =
        Flags::Parse(std::vector<std::string>(args.begin() + 1, args.end()), *sub.flags);
    if (!flags.ok()) return UsageError(command, flags.status());
    if (!flags->positional().empty()) {
      return UsageError(command, absl::InvalidArgumentError(absl::StrFormat(
                                     "unexpected argument \"%s\"", flags->positional()[0])));
    }
    return sub.run(*flags);
  }
  return UsageError("caller", absl::InvalidArgumentError(absl::StrFormat(
                                  "unknown subcommand \"%s\" (add, token, list, remove)", name)));
}

}  // namespace shixin
