#include "callers/callers_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <limits>
#include <sstream>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "base/toml.h"
#include "callers/token.h"
#include "core/block_checksum.h"
#include "core/paths.h"

namespace shixin {
namespace {

// The keys of a [[caller]] table, each at its line (for ValidateCaller's "key: ..." errors).
using KeyLines = absl::flat_hash_map<std::string, int>;

int LineOf(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

absl::Status ErrorAt(std::string_view origin, int line, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrFormat("%s:%d: %s", origin, line, message));
}

absl::Status WrongType(std::string_view key, std::string_view expected, const toml::node& node) {
  std::ostringstream got;
  got << node.type();
  return absl::InvalidArgumentError(
      absl::StrFormat("%s: expected %s, got %s", key, expected, got.str()));
}

absl::StatusOr<std::string> GetString(std::string_view key, const toml::node& node) {
  if (!node.is_string()) return WrongType(key, "a string", node);
  return node.as_string()->get();
}

absl::StatusOr<std::vector<std::string>> GetStrings(std::string_view key, const toml::node& node) {
  if (!node.is_array()) return WrongType(key, "an array of strings", node);
  std::vector<std::string> out;
  for (const toml::node& element : *node.as_array()) {
    if (!element.is_string()) return WrongType(key, "an array of strings", element);
    out.push_back(element.as_string()->get());
  }
  return out;
}

// Sets the field `key` of `caller` from `node`; InvalidArgument "key: ..." on an unknown key,
// a wrong type, or an unknown scope or view (the other values are checked by ValidateCaller).
absl::Status SetKey(std::string_view key, const toml::node& node, Caller* caller) {
  static constexpr std::pair<std::string_view, std::string Caller::*> kStrings[] = {
      {"id", &Caller::id}, {"name", &Caller::name}, {"sector", &Caller::sector}};
  static constexpr std::pair<std::string_view, std::vector<std::string> Caller::*> kLists[] = {
      {"agencies", &Caller::agencies},
      {"scenarios", &Caller::scenarios},
      {"tokens", &Caller::token_hashes},
      {"certificates", &Caller::certificates}};
  for (const auto& [name, field] : kStrings) {
    if (key != name) continue;
    SHIXIN_ASSIGN_OR_RETURN(caller->*field, GetString(key, node));
    return absl::OkStatus();
  }
  for (const auto& [name, field] : kLists) {
    if (key != name) continue;
    SHIXIN_ASSIGN_OR_RETURN(caller->*field, GetStrings(key, node));
    return absl::OkStatus();
  }
  if (key == "scopes") {
    SHIXIN_ASSIGN_OR_RETURN(std::vector<std::string> names, GetStrings(key, node));
    caller->scopes = 0;
    for (const std::string& name : names) {
      std::optional<Scope> scope = ParseScope(name);
      if (!scope) {
        return absl::InvalidArgumentError(absl::StrCat("scopes: unknown scope \"", name, "\""));
      }
      caller->scopes |= ScopeBit(*scope);
    }
    return absl::OkStatus();
  }
  if (key == "view") {
    SHIXIN_ASSIGN_OR_RETURN(std::string name, GetString(key, node));
    std::optional<View> view = ParseView(name);
    if (!view) {
      return absl::InvalidArgumentError(
          absl::StrCat("view: unknown view \"", name, "\" (full or masked)"));
    }
    caller->view = *view;
    return absl::OkStatus();
  }
  if (key == "rate") {
    if (node.is_integer()) {
      caller->rate = static_cast<double>(node.as_integer()->get());
    } else if (node.is_floating_point()) {
      caller->rate = node.as_floating_point()->get();
    } else {
      return WrongType(key, "a number", node);
    }
    return absl::OkStatus();
  }
  if (key == "burst") {
    if (!node.is_integer()) return WrongType(key, "an integer", node);
    const int64_t burst = node.as_integer()->get();
    if (burst < 1 || burst > std::numeric_limits<uint32_t>::max()) {
      return absl::InvalidArgumentError(absl::StrCat("burst: ", burst, " is out of range (1..",
                                                     std::numeric_limits<uint32_t>::max(), ")"));
    }
    caller->burst = static_cast<uint32_t>(burst);
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrFormat("unknown key \"%s\"", key));
}

constexpr std::string_view kRequired[] = {"id",   "name", "sector", "scopes",
                                          "view", "rate", "burst"};

// Returns `status` (a "key: ..." error) as "ORIGIN:LINE: key: ...", at the key's line if
// `lines` has it, else at `table_line`.
absl::Status AtKey(std::string_view origin, const KeyLines& lines, int table_line,
                   const absl::Status& status) {
  const absl::string_view message = status.message();
  auto it = lines.find(message.substr(0, message.find(':')));
  return ErrorAt(origin, it == lines.end() ? table_line : it->second, message);
}

// Returns the caller of one [[caller]] table, its agencies as ids if `catalog` is given
// (ResolveAgainstCatalog); errors are "ORIGIN:LINE: ...".
absl::StatusOr<Caller> ParseCaller(const toml::table& table, std::string_view origin,
                                   const Catalog* catalog) {
  Caller caller;
  KeyLines lines;
  for (auto&& [name, node] : table) {
    const std::string_view key = name.str();
    if (absl::Status s = SetKey(key, node, &caller); !s.ok()) {
      return ErrorAt(origin, LineOf(node), s.message());
    }
    lines[std::string(key)] = LineOf(node);
  }
  const int table_line = static_cast<int>(table.source().begin.line);
  for (std::string_view key : kRequired) {
    if (!lines.contains(absl::string_view(key.data(), key.size()))) {
      return ErrorAt(origin, table_line,
                     absl::StrCat("[[caller]] lacks the key \"",
                                  absl::string_view(key.data(), key.size()), "\""));
    }
  }
  // ValidateCaller and ResolveAgainstCatalog name the key first ("rate: ..."): report its line.
  if (absl::Status s = ValidateCaller(caller); !s.ok()) return AtKey(origin, lines, table_line, s);
  if (catalog != nullptr) {
    if (absl::Status s = ResolveAgainstCatalog(*catalog, &caller); !s.ok()) {
      return AtKey(origin, lines, table_line, s);
    }
  }
  return caller;
}

// Returns the callers of the parsed file, checking the ids, certificates and token hashes are
// unique: a token two callers list would authenticate as either.
absl::StatusOr<std::vector<Caller>> ParseCallers(const toml::table& root, std::string_view origin,
                                                 const Catalog* catalog) {
  std::vector<Caller> callers;
  absl::flat_hash_map<std::string, std::string> certificate_owner;
  absl::flat_hash_map<std::string, std::string> token_owner;
  for (auto&& [name, node] : root) {
    const std::string_view key = name.str();
    if (key == "version") {
      if (!node.is_integer() || node.as_integer()->get() != 1) {
        return ErrorAt(origin, LineOf(node), "version: expected 1 (the only version)");
      }
      continue;
    }
    if (key != "caller") {
      return ErrorAt(origin, LineOf(node), absl::StrFormat("unknown key \"%s\"", key));
    }
    if (!node.is_array_of_tables()) {
      return ErrorAt(origin, LineOf(node), "caller: expected [[caller]] tables");
    }
    for (const toml::node& entry : *node.as_array()) {
      SHIXIN_ASSIGN_OR_RETURN(Caller caller, ParseCaller(*entry.as_table(), origin, catalog));
      const int line = static_cast<int>(entry.source().begin.line);
      for (const Caller& earlier : callers) {
        if (earlier.id == caller.id) {
          return ErrorAt(origin, line, absl::StrCat("id: duplicate caller id \"", caller.id, "\""));
        }
      }
      for (const std::string& cert : caller.certificates) {
        auto [it, inserted] = certificate_owner.emplace(cert, caller.id);
        if (!inserted && it->second != caller.id) {
          return ErrorAt(origin, line,
                         absl::StrCat("certificates: \"", cert, "\" is claimed by caller \"",
                                      it->second, "\" too"));
        }
      }
      for (const std::string& hash : caller.token_hashes) {
        auto [it, inserted] = token_owner.emplace(hash, caller.id);
        if (!inserted && it->second != caller.id) {
          const toml::node* tokens = entry.as_table()->get("tokens");
          return ErrorAt(origin, tokens == nullptr ? line : LineOf(*tokens),
                         absl::StrCat("tokens: \"", hash, "\" of caller \"", caller.id,
                                      "\" is listed by caller \"", it->second,
                                      "\" too: that token would authenticate as either (give "
                                      "each caller its own: shixin caller token --replace)"));
        }
      }
      callers.push_back(std::move(caller));
    }
  }
  return callers;
}

// Returns `text` as a TOML basic string, quoted and escaped.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u == 0x7f) {
      out += absl::StrFormat("\\u%04x", u);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

std::string QuoteAll(const std::vector<std::string>& texts) {
  std::vector<std::string> quoted;
  quoted.reserve(texts.size());
  for (const std::string& text : texts) quoted.push_back(Quote(text));
  return absl::StrCat("[", absl::StrJoin(quoted, ", "), "]");
}

// Returns `value` as the shortest TOML float that reads back as the same double.
std::string FormatRate(double value) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  std::string out(buf, ec == std::errc() ? end : buf);
  if (out.find_first_of(".e") == std::string::npos) out += ".0";
  return out;
}

constexpr std::string_view kHeader =
    "# shixind callers file (docs/shixind.md, \"Callers\"); written by `shixin caller`.\n"
    "# Tokens are stored only as their SHA-256 hashes: NEVER put a plain token in this file.\n"
    "# Keep it readable by the daemon only: root:shixin 0640 under the packaged unit (its\n"
    "# dynamic user reads it through the group); `shixin caller` keeps the file's owner, group\n"
    "# and mode.\n";

}  // namespace

absl::StatusOr<CallerTable> ParseCallersFile(std::string_view text, std::string_view origin,
                                             const Catalog* catalog) {
  SHIXIN_ASSIGN_OR_RETURN(const toml::table document, ParseToml(text, origin));
  SHIXIN_ASSIGN_OR_RETURN(std::vector<Caller> callers, ParseCallers(document, origin, catalog));
  absl::StatusOr<CallerTable> table = CallerTable::Create(std::move(callers));
  if (!table.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s", origin, table.status().message()));
  }
  return table;
}

absl::StatusOr<CallerTable> LoadCallersFile(const std::string& path, const Catalog* catalog) {
  SHIXIN_ASSIGN_OR_RETURN(const int fd, OpenRegularFile(path));  // never blocks on a FIFO
  absl::StatusOr<FileBytes> text = ReadOpenFile(fd, path, kMaxCallersFileBytes);
  ::close(fd);
  if (!text.ok()) return text.status();
  return ParseCallersFile(text->view(), path, catalog);
}

std::string FormatCallersFile(const CallerTable& table, std::string_view header) {
  std::string out(header.empty() ? kHeader : header);
  if (!out.empty() && out.back() != '\n') out += '\n';
  out += "\nversion = 1\n";
  for (const Caller& c : table.callers()) {
    absl::StrAppend(&out, "\n[[caller]]\nid = ", Quote(c.id), "\nname = ", Quote(c.name),
                    "\nsector = ", Quote(c.sector), "\nagencies = ", QuoteAll(c.agencies),
                    "\nscenarios = ", QuoteAll(c.scenarios),
                    "\nscopes = ", QuoteAll(ScopeNames(c.scopes)));
    const std::string_view view = ViewName(c.view);
    absl::StrAppend(&out, "\nview = ", Quote(view), "\nrate = ", FormatRate(c.rate),
                    "\nburst = ", c.burst, "\ntokens = ", QuoteAll(c.token_hashes),
                    "\ncertificates = ", QuoteAll(c.certificates), "\n");
  }
  return out;
}

std::string_view LeadingComments(std::string_view text) {
  size_t end = 0;  // just past the block's last comment line
  size_t at = 0;
  while (at < text.size()) {
    size_t next = text.find('\n', at);
    next = next == std::string_view::npos ? text.size() : next + 1;
    const std::string_view line = text.substr(at, next - at);
    const size_t first = line.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && line[first] != '#') break;
    if (first != std::string_view::npos) end = next;
    at = next;
  }
  return text.substr(0, end);
}

std::vector<std::string> CallersWithPublishedTokens(const CallerTable& table) {
  std::vector<std::string> ids;
  for (const Caller& c : table.callers()) {
    for (const std::string_view token : kPublishedExampleTokens) {
      if (std::find(c.token_hashes.begin(), c.token_hashes.end(), HashToken(token)) !=
          c.token_hashes.end()) {
        ids.push_back(c.id);
        break;
      }
    }
  }
  return ids;
}

absl::Status WriteCallersFile(const std::string& path, const CallerTable& table) {
  // The admin's header stays (the example's says its tokens are published).
  std::string header;
  if (absl::StatusOr<int> fd = OpenRegularFile(path); fd.ok()) {
    absl::StatusOr<FileBytes> old = ReadOpenFile(*fd, path, kMaxCallersFileBytes);
    ::close(*fd);
    if (!old.ok()) return old.status();
    header = LeadingComments(old->view());
  }  // else a new file (or a device, written through): the header of our own
  const std::string text = FormatCallersFile(table, header);
  return WriteFileAtomically(
      path,
      [&](int fd, const std::string& tmp) {
        // Before anything is in it: the admin's root:shixin 0640 is how the daemon reads it.
        SHIXIN_RETURN_IF_ERROR(KeepAccessOf(fd, path, tmp));
        return WriteAll(fd, text.data(), text.size())
                   ? absl::OkStatus()
                   : absl::ErrnoToStatus(errno, absl::StrCat(tmp, ": write"));
      },
      0600);
}

absl::StatusOr<CallersFileLock> CallersFileLock::Acquire(const std::string& path) {
  // The directory the replaced file is in: a link "callers.toml -> /etc/shixin/callers.toml"
  // and the path it names lock the same one.
  std::error_code error;
  std::filesystem::path dir = std::filesystem::weakly_canonical(path, error).parent_path();
  if (error || dir.empty()) dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const auto failed = [&](int errno_value) {
    return absl::ErrnoToStatus(
        errno_value, absl::StrCat("cannot lock ", dir.string(), " (the directory of ", path, ")"));
  };
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return failed(errno);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int errno_value = errno;
    ::close(fd);
    return failed(errno_value);
  }
  return CallersFileLock(fd);
}

CallersFileLock::~CallersFileLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace shixin
