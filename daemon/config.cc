#include "daemon/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "base/enum_names.h"
#include "base/status_macros.h"
#include "base/toml.h"
#include "core/delta.h"
#include "core/paths.h"
#include "daemon/tls_context.h"
#include "protocol/wire.h"

namespace shixin {
namespace {

using Field = std::variant<std::string Config::*, uint32_t Config::*, uint64_t Config::*,
                           bool Config::*, double Config::*>;

// What the value 0 of a number key means.
enum class Zero {
  kValue,      // an ordinary value (or out of range)
  kUnbounded,  // "no limit": see ValidateUnbounded()
};

// One configuration key: its name in the file, where it lives, its range (numbers only), and
// its line in the usage text. The default is Config's initialiser (config.h), read from
// Config{} when the usage text is made.
struct Key {
  std::string_view name;
  Field field;
  uint64_t min = 0;
  uint64_t max = 0;
  std::string_view arg;      // the flag's value in the usage text: "N", "DIR" (none for booleans)
  std::string_view help;     // '\n' continues on the next line
  std::string_view unset;    // what 0 or "" means, if not literally that: "one per core"
  std::string_view alias;    // another flag name, without "--"
  Zero zero = Zero::kValue;  // what 0 means, for ValidateUnbounded()
};

constexpr uint64_t kU32Max = std::numeric_limits<uint32_t>::max();

// name, field, min, max (numbers), arg, help, unset, alias
const Key kKeys[] = {
    {"data_dir", &Config::data_dir, 0, 0, "DIR", "the data directory", "", "data"},
    {"snapshot", &Config::snapshot, 0, 0, "FILE",
     "a snapshot file from shixin compile, mapped rather than parsed\n"
     "(exclusive with --data; compiled against the same catalog)",
     "", ""},
    {"deltas_dir", &Config::deltas_dir, 0, 0, "DIR",
     "delta files (docs/feed.md), applied as they arrive", "none", ""},
    {"deltas_rescan_ms", &Config::deltas_rescan_ms, 0, 3600000, "MS",
     "list deltas_dir this often too: a file another host writes\non shared storage (NFS) raises "
     "no inotify event",
     "inotify only", ""},
    {"delta_settle_ms", &Config::delta_settle_ms, 0, kMaxDeltaSettleMs, "MS",
     "a delta file not renamed into place (written in place, or\nfound by the rescan) is applied "
     "once unchanged this long",
     "at once", ""},
    {"max_delta_mb", &Config::max_delta_mb, 1, kMaxDeltaMbLimit, "MB",
     "a larger delta file is refused unread (split it, or fold it\ninto a base with shixin "
     "compile --deltas)",
     "", ""},
    {"listen", &Config::listen, 0, 0, "HOST:PORT",
     "[::1]:PORT for IPv6; port 0 picks one; \"\": TLS only", "", ""},
    {"tls_listen", &Config::tls_listen, 0, 0, "HOST:PORT", "TLS listener (needs tls_cert, tls_key)",
     "none", ""},
    {"http_listen", &Config::http_listen, 0, 0, "HOST:PORT",
     "HTTP listener: /healthz, /readyz, /metrics, /status, /v1/ (JSON API)", "none", ""},
    {"callers_file", &Config::callers_file, 0, 0, "FILE",
     "who may call, with what scopes and rates (docs/shixind.md);\nwithout one: open development "
     "mode, loopback only",
     "open mode", ""},
    {"tls_cert", &Config::tls_cert, 0, 0, "FILE", "PEM server certificate, then its chain", "", ""},
    {"tls_key", &Config::tls_key, 0, 0, "FILE", "PEM private key of tls_cert", "", ""},
    {"tls_client_ca", &Config::tls_client_ca, 0, 0, "FILE",
     "PEM CA bundle: clients must show a certificate it signed", "no client certificates", ""},
    {"catalog", &Config::catalog, 0, 0, "FILE", "measure catalog",
     "the shipped hegang-2018.json, in ../share/shixin/measures/ from the binary's directory", ""},
    {"threads", &Config::threads, 0, 1024, "N", "I/O threads", "one per core", ""},
    {"io_uring", &Config::io_uring, 0, 0, "",
     "plain TCP connections (binary, HTTP) read and write through\nio_uring (one system call a "
     "turn); false, or a kernel without it:\nepoll",
     "", ""},
    {"max_errors", &Config::max_errors, 0, std::numeric_limits<uint64_t>::max(), "N",
     "bad input lines tolerated per load", "", ""},
    {"max_connections", &Config::max_connections, 1, 1000000, "N",
     "open connections; more displace the idlest", "", ""},
    {"max_connections_per_ip", &Config::max_connections_per_ip, 0, 1000000, "N",
     "open connections from one client address", "no limit", "", Zero::kUnbounded},
    {"max_payload", &Config::max_payload, 1024, wire::kMaxPayloadLimit, "BYTES",
     "largest request payload", "", ""},
    {"max_batch", &Config::max_batch, 1, kMaxBatchLimit, "N",
     "IDs per CHECK (at most those whose answer fits 16 MiB)", "", ""},
    {"max_in_flight", &Config::max_in_flight, 1, 65535, "N", "pipelined requests per connection",
     "", ""},
    {"idle_timeout_seconds", &Config::idle_timeout_seconds, 0, kU32Max, "N",
     "close connections with no request this long", "never", "", Zero::kUnbounded},
    {"frame_timeout_seconds", &Config::frame_timeout_seconds, 1, 3600, "N",
     "seconds for a frame to arrive whole", "", ""},
    {"write_timeout_seconds", &Config::write_timeout_seconds, 1, 3600, "N",
     "close when answers make no write progress", "", ""},
    {"drain_seconds", &Config::drain_seconds, 1, 300, "N",
     "on SIGTERM: the most the daemon waits for its connections\n(answers, idle HTTP clients' "
     "last requests) before it\ncloses them and exits",
     "", ""},
    {"max_buffered_bytes", &Config::max_buffered_bytes, 1u << 20, uint64_t{1} << 40, "BYTES",
     "all connections' buffers", "", ""},
    {"max_age_seconds", &Config::max_age_seconds, 0, kU32Max, "N",
     "flag answers from an older list STALE", "off", ""},
    {"history_days", &Config::history_days, 1, 36500, "DAYS",
     "as-of answers reach back this many days", "", ""},
    {"refuse_stale", &Config::refuse_stale, 0, 0, "", "refuse MEASURES from a stale list", "", ""},
    {"admin_loopback_only", &Config::admin_loopback_only, 0, 0, "",
     "open mode: RELOAD and the full INFO only for loopback peers", "", ""},
    {"max_shrink", &Config::max_shrink, 0, 1, "FRACTION",
     "refuse a reload that removes more than this share of the\nsubjects or relations, unless "
     "asked",
     "never refuse", ""},
    {"background_nice", &Config::background_nice, 0, kMaxNice, "N",
     "nice value of a full reload's load, a delta's helper threads\nand the overlay checkpoint: "
     "a core the I/O threads want goes\nto them first; 0: they compete as equals",
     "", ""},
    {"verbose", &Config::verbose, 0, 0, "", "debug log lines", "", ""},
    {"core_dumps", &Config::core_dumps, 0, 0, "",
     "stay dumpable: a crash may write a core file (it holds the\nTLS key and the list), and "
     "the daemon's user may ptrace it;\nfalse: no core, no ptrace but by root",
     "", ""},
    {"state_dir", &Config::state_dir, 0, 0, "DIR",
     "keep the audit (answers carry receipts) and the overlay\ncheckpoint here", "no audit", ""},
    {"checkpoint_seconds", &Config::checkpoint_seconds, 0, kU32Max, "N",
     "with state_dir and deltas_dir: write the deltas applied to\nstate_dir/overlay.checkpoint at "
     "most this often (a restart\nreads it instead of replaying them)",
     "never", ""},
    {"audit_fsync_ms", &Config::audit_fsync_ms, 1, 10000, "MS",
     "group commit: the audit reaches the disk at most this late", "", ""},
    {"audit_segment_mb", &Config::audit_segment_mb, 1, 4096, "MB", "audit segment size", "", ""},
    {"audit_retention_days", &Config::audit_retention_days, 1, 36500, "DAYS",
     "delete audit segments older than this", "", ""},
    {"audit_required", &Config::audit_required, 0, 0, "",
     "MEASURES fails closed (AUDIT_UNAVAILABLE) while the audit\ncannot be written", "", ""},
    {"calendar_dir", &Config::calendar_dir, 0, 0, "DIR", "public holidays, for report due dates",
     "the shipped one, ../share/shixin/calendar/ from the binary's directory", ""},
};

const Key* FindKey(std::string_view name) {
  for (const Key& key : kKeys) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

std::string FlagName(std::string_view key) {
  std::string flag = "--" + std::string(key);
  for (char& c : flag) {
    if (c == '_') c = '-';
  }
  return flag;
}

// Returns the key of flag `name` (without "--"), or nullptr.
const Key* FindFlag(std::string_view name) {
  for (const Key& key : kKeys) {
    if (FlagName(key.name) == absl::StrFormat("--%s", name) || (name == key.alias)) return &key;
  }
  return nullptr;
}

absl::Status CheckRange(const Key& key, uint64_t value) {
  if (value < key.min || value > key.max) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s = %d is out of range (%d..%d)", key.name, value, key.min, key.max));
  }
  return absl::OkStatus();
}

absl::Status CheckRange(const Key& key, double value) {
  // Written so that NaN fails too.
  if (!(value >= static_cast<double>(key.min) && value <= static_cast<double>(key.max))) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s = %g is out of range (%d.0..%d.0)", key.name, value, key.min, key.max));
  }
  return absl::OkStatus();
}

std::string_view TypeName(const Field& field) {
  if (std::holds_alternative<std::string Config::*>(field)) return "a string";
  if (std::holds_alternative<bool Config::*>(field)) return "a boolean";
  if (std::holds_alternative<double Config::*>(field)) return "a number";
  return "a non-negative integer";
}

// Sets the fractional key `key`; checks the range.
absl::Status SetFraction(const Key& key, double value, Config* config) {
  SHIXIN_RETURN_IF_ERROR(CheckRange(key, value));
  config->*std::get<double Config::*>(key.field) = value;
  return absl::OkStatus();
}

// Returns the value of the integer key `key`, or nullopt for other keys.
std::optional<uint64_t> IntegerOf(const Key& key, const Config& config) {
  if (auto* f = std::get_if<uint32_t Config::*>(&key.field)) return config.*(*f);
  if (auto* f = std::get_if<uint64_t Config::*>(&key.field)) return config.*(*f);
  return std::nullopt;
}

// Sets `key` from a number; checks the range.
absl::Status SetNumber(const Key& key, uint64_t value, Config* config) {
  SHIXIN_RETURN_IF_ERROR(CheckRange(key, value));
  if (auto* f = std::get_if<uint32_t Config::*>(&key.field)) {
    config->*(*f) = static_cast<uint32_t>(value);
  } else {
    config->*std::get<uint64_t Config::*>(key.field) = value;
  }
  return absl::OkStatus();
}

std::string_view TomlTypeName(const toml::node& node) {
  // In toml::node_type order: none, table, array, string, integer, floating_point, boolean, ...
  static constexpr std::string_view kNames[] = {"nothing",    "a table", "an array", "a string",
                                                "an integer", "a float", "a boolean"};
  return EnumName(node.type(), kNames, "a date or time");
}

// Sets `key` from a TOML value; returns InvalidArgument (without location) on a type mismatch.
absl::Status SetFromToml(const Key& key, const toml::node& node, Config* config) {
  const auto mismatch = [&] {
    return absl::InvalidArgumentError(absl::StrFormat("%s: expected %s, got %s", key.name,
                                                      TypeName(key.field), TomlTypeName(node)));
  };
  if (auto* f = std::get_if<std::string Config::*>(&key.field)) {
    if (!node.is_string()) return mismatch();
    config->*(*f) = node.as_string()->get();
    return absl::OkStatus();
  }
  if (auto* f = std::get_if<bool Config::*>(&key.field)) {
    if (!node.is_boolean()) return mismatch();
    config->*(*f) = node.as_boolean()->get();
    return absl::OkStatus();
  }
  if (std::holds_alternative<double Config::*>(key.field)) {
    if (node.is_floating_point()) return SetFraction(key, node.as_floating_point()->get(), config);
    if (node.is_integer()) {
      return SetFraction(key, static_cast<double>(node.as_integer()->get()), config);
    }
    return mismatch();
  }
  if (!node.is_integer()) return mismatch();
  const int64_t value = node.as_integer()->get();
  if (value < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s = %d is out of range (%d..%d)", key.name, value, key.min, key.max));
  }
  return SetNumber(key, static_cast<uint64_t>(value), config);
}

// Sets `key` from a flag's text value.
absl::Status SetFromFlag(const Key& key, std::string_view flag, std::string_view text,
                         Config* config) {
  if (auto* f = std::get_if<std::string Config::*>(&key.field)) {
    config->*(*f) = std::string(text);
    return absl::OkStatus();
  }
  if (auto* f = std::get_if<bool Config::*>(&key.field)) {
    if (text == "true" || text == "1" || text == "yes") {
      config->*(*f) = true;
    } else if (text == "false" || text == "0" || text == "no") {
      config->*(*f) = false;
    } else {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s=%s: expected true or false", flag, text));
    }
    return absl::OkStatus();
  }
  if (std::holds_alternative<double Config::*>(key.field)) {
    double fraction = 0;
    if (!absl::SimpleAtod(std::string(text), &fraction)) {
      return absl::InvalidArgumentError(absl::StrFormat("%s %s: expected a number", flag, text));
    }
    return SetFraction(key, fraction, config);
  }
  uint64_t value = 0;
  if (!absl::SimpleAtoi(std::string(text), &value)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s %s: expected a non-negative integer", flag, text));
  }
  return SetNumber(key, value, config);
}

// What a configured path must be.
enum class PathKind { kFile, kDirectory };

// Returns why `path` is not a `want` (following symbolic links), or nullopt if it is one: "no
// such file" ("no such directory"), "is a directory", "not a regular file (a FIFO)", "is not a
// directory (a regular file)", or the system's reason ("Permission denied"). A relative path
// that cannot be found also names the working directory it was looked up in (systemd's is /).
std::optional<std::string> PathProblem(const std::string& path, PathKind want) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int error = errno;
    std::string reason = error == ENOENT
                             ? (want == PathKind::kFile ? "no such file" : "no such directory")
                             : std::strerror(error);
    std::error_code ec;
    if (!path.starts_with('/')) {
      const std::filesystem::path cwd = std::filesystem::current_path(ec);
      if (!ec) absl::StrAppendFormat(&reason, " (relative to the working directory %s)", cwd);
    }
    return reason;
  }
  if (want == PathKind::kFile) {
    if (S_ISREG(st.st_mode)) return std::nullopt;
    if (S_ISDIR(st.st_mode)) return "is a directory";
    return absl::StrFormat("not a regular file (%s)", FileTypeName(st.st_mode));
  }
  if (S_ISDIR(st.st_mode)) return std::nullopt;
  return absl::StrFormat("is not a directory (%s)", FileTypeName(st.st_mode));
}

// Returns InvalidArgument `KEY "PATH": PROBLEM` if `path` (the value of `key`) is not a `want`.
absl::Status CheckPath(std::string_view key, const std::string& path, PathKind want) {
  if (std::optional<std::string> problem = PathProblem(path, want)) {
    return absl::InvalidArgumentError(absl::StrFormat("%s \"%s\": %s", key, path, *problem));
  }
  return absl::OkStatus();
}

// A missing state_dir is created at start (one level, as StateDirLock does): its parent must be a
// directory. Something else in its place, or a parent that is none, is an error now.
absl::Status CheckStateDir(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
    std::filesystem::path dir = std::filesystem::path(path).lexically_normal();
    if (!dir.has_filename()) dir = dir.parent_path();  // "/srv/state/"
    std::string parent = dir.parent_path().string();
    if (parent.empty()) parent = ".";
    if (std::optional<std::string> problem = PathProblem(parent, PathKind::kDirectory)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "state_dir \"%s\": cannot be created: its parent %s: %s", path, parent, *problem));
    }
    return absl::OkStatus();
  }
  return CheckPath("state_dir", path, PathKind::kDirectory);
}

// Exactly one of data_dir and snapshot, and it must be readable.
absl::Status ValidateSource(const Config& config) {
  if (config.data_dir.empty() == config.snapshot.empty()) {
    return absl::InvalidArgumentError(
        config.data_dir.empty()
            ? "data_dir is not set: give --data DIR or data_dir in the config file, or "
              "--snapshot FILE (snapshot)"
            : "data_dir and snapshot are exclusive: give one of them");
  }
  if (!config.snapshot.empty()) {
    SHIXIN_RETURN_IF_ERROR(CheckPath("snapshot", config.snapshot, PathKind::kFile));
    if (::access(config.snapshot.c_str(), R_OK) != 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("snapshot \"%s\": not readable", config.snapshot));
    }
    return absl::OkStatus();
  }
  SHIXIN_RETURN_IF_ERROR(CheckPath("data_dir", config.data_dir, PathKind::kDirectory));
  if (::access(config.data_dir.c_str(), R_OK | X_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("data_dir \"%s\": not readable", config.data_dir));
  }
  return absl::OkStatus();
}

// One line of the usage text (more if `help` has '\n'): the flag, then its help, aligned.
std::string UsageLine(std::string_view flag, std::string_view help) {
  constexpr int kHelpColumn = 30;
  std::string line = absl::StrFormat("  %-*s", kHelpColumn - 2, flag);
  if (line.size() > kHelpColumn) line = absl::StrFormat("  %s ", flag);
  for (const char c : help) {
    line += c;
    if (c == '\n') line += std::string(kHelpColumn, ' ');
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line + "\n";
}

// A key's usage line: its flag (and alias), what it takes, its help and its default (the
// value in `defaults`).
std::string UsageLine(const Key& key, const Config& defaults) {
  std::string flag = FlagName(key.name);
  if (!key.alias.empty()) flag = absl::StrFormat("--%s, %s", key.alias, flag);
  std::string def;
  if (auto* f = std::get_if<bool Config::*>(&key.field)) {
    // A false default is turned on by the bare flag; a true one off with =false.
    const bool on = defaults.*(*f);
    flag += on ? "=BOOL" : "[=BOOL]";
    if (on) def = " (default true)";
  } else if (auto* s = std::get_if<std::string Config::*>(&key.field)) {
    flag = absl::StrFormat("%s %s", flag, key.arg);
    const std::string& value = defaults.*(*s);
    if (!value.empty()) def = absl::StrFormat(" (default %s)", value);
    if (value.empty() && !key.unset.empty()) def = absl::StrFormat(" (default: %s)", key.unset);
  } else if (auto* d = std::get_if<double Config::*>(&key.field)) {
    flag = absl::StrFormat("%s %s", flag, key.arg);
    def = absl::StrFormat(" (default %g; %d: %s)", defaults.*(*d), key.max, key.unset);
  } else {
    flag = absl::StrFormat("%s %s", flag, key.arg);
    const uint64_t value = std::holds_alternative<uint32_t Config::*>(key.field)
                               ? defaults.*std::get<uint32_t Config::*>(key.field)
                               : defaults.*std::get<uint64_t Config::*>(key.field);
    def = absl::StrFormat(" (default %d)", value);
    if (!key.unset.empty()) {
      def = value == 0 ? absl::StrFormat(" (default 0: %s)", key.unset)
                       : absl::StrFormat(" (default %d; 0: %s)", value, key.unset);
    }
  }
  return UsageLine(flag, absl::StrFormat("%s%s", key.help, def));
}

// A limit of 0 ("none") is refused together with idle_timeout_seconds = 0 (idle connections
// are never closed): a client could then hold what that limit no longer bounds for ever.
absl::Status ValidateUnbounded(const Config& config) {
  if (config.idle_timeout_seconds != 0) return absl::OkStatus();
  for (const Key& key : kKeys) {
    if (key.zero != Zero::kUnbounded || key.name == "idle_timeout_seconds") continue;
    if (IntegerOf(key, config) == 0u) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "idle_timeout_seconds = 0 (idle connections are never closed) together with %s = 0 "
          "(no limit) lets clients hold resources for ever: set one of them",
          key.name));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseConfig(std::string_view text, std::string_view origin, Config* config) {
  SHIXIN_ASSIGN_OR_RETURN(const toml::table table, ParseToml(text, origin));
  for (auto&& [name, node] : table) {
    const int line = static_cast<int>(node.source().begin.line);
    const Key* key = FindKey(name.str());
    if (key == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s:%d: unknown key \"%s\"", origin, line, name.str()));
    }
    if (absl::Status s = SetFromToml(*key, node, config); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrFormat("%s:%d: %s", origin, line, s.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadConfigFile(const std::string& path) {
  SHIXIN_ASSIGN_OR_RETURN(const int fd, OpenRegularFile(path));  // never blocks on a FIFO
  absl::StatusOr<FileBytes> bytes = ReadOpenFile(fd, path, kMaxConfigFileBytes);
  ::close(fd);
  if (!bytes.ok()) return bytes.status();
  return std::string(bytes->view());
}

absl::Status LoadConfigFile(const std::string& path, Config* config, std::string* text_read) {
  if (std::optional<std::string> problem = PathProblem(path, PathKind::kFile)) {
    return absl::NotFoundError(absl::StrFormat("config file %s: %s", path, *problem));
  }
  absl::StatusOr<std::string> text = ReadConfigFile(path);
  if (!text.ok()) {
    return absl::NotFoundError(absl::StrFormat("config file %s", text.status().message()));
  }
  absl::Status s = ParseConfig(*text, path, config);
  if (text_read != nullptr) *text_read = *std::move(text);
  return s;
}

absl::StatusOr<CommandLine> ApplyFlags(const std::vector<std::string>& args, Config* config) {
  CommandLine cl;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      cl.help = true;
      continue;
    }
    if (arg == "--version") {
      cl.version = true;
      continue;
    }
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      return absl::InvalidArgumentError(absl::StrFormat("unexpected argument \"%s\"", arg));
    }
    const size_t eq = arg.find('=');
    const std::string flag = arg.substr(0, eq);
    std::optional<std::string> value;
    if (eq != std::string::npos) value = arg.substr(eq + 1);
    const Key* key = flag == "--config" ? nullptr : FindFlag(std::string_view(flag).substr(2));
    if (flag != "--config" && key == nullptr) {
      return absl::InvalidArgumentError(absl::StrFormat("unknown flag %s", flag));
    }
    const bool is_bool = key != nullptr && std::holds_alternative<bool Config::*>(key->field);
    if (!value && is_bool) value = "true";
    if (!value) {
      if (i + 1 == args.size()) {
        return absl::InvalidArgumentError(absl::StrFormat("%s needs a value", flag));
      }
      value = args[++i];
    }
    if (key == nullptr) {
      cl.config_file = *value;
      continue;
    }
    SHIXIN_RETURN_IF_ERROR(SetFromFlag(*key, flag, *value, config));
  }
  return cl;
}

namespace {

// Returns whether `host` (a listen address's host) is a loopback address or "localhost".
bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

// listen and tls_listen: at least one, well-formed; TLS files that make a context.
absl::Status ValidateListeners(const Config& config) {
  if (config.listen.empty() && config.tls_listen.empty()) {
    return absl::InvalidArgumentError("listen and tls_listen are both empty: nothing to serve");
  }
  const auto key = [&config](const std::string* address) {
    return address == &config.listen       ? "listen"
           : address == &config.tls_listen ? "tls_listen"
                                           : "http_listen";
  };
  std::vector<std::pair<const std::string*, ListenAddress>> parsed;
  for (const std::string* address : {&config.listen, &config.tls_listen, &config.http_listen}) {
    if (address->empty()) continue;
    absl::StatusOr<ListenAddress> a = ParseHostPort(*address, key(address), PortZero::kAllow);
    if (!a.ok()) return a.status();
    // Two listeners on one address would fail only at the bind; port 0 picks one each.
    for (const auto& [other, seen] : parsed) {
      if (a->port != 0 && a->port == seen.port && a->host == seen.host) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s and %s are the same address \"%s\": give each its own port",
                            key(other), key(address), *address));
      }
    }
    parsed.emplace_back(address, *std::move(a));
  }
  // Without callers anyone who reaches the port reads everything: loopback only.
  if (config.callers_file.empty()) {
    for (const std::string* address : {&config.listen, &config.tls_listen, &config.http_listen}) {
      if (address->empty() || IsLoopbackHost(ParseListenAddress(*address)->host)) continue;
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s \"%s\" is not a loopback address: without callers_file shixind runs in open "
          "development mode and listens on loopback only (127.0.0.1, ::1, localhost)",
          key(address), *address));
    }
  }
  if (config.tls_listen.empty()) {
    if (config.tls_cert.empty() && config.tls_key.empty() && config.tls_client_ca.empty()) {
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError("tls_cert, tls_key and tls_client_ca need tls_listen");
  }
  if (config.tls_cert.empty() || config.tls_key.empty()) {
    return absl::InvalidArgumentError("tls_listen needs tls_cert and tls_key");
  }
  SHIXIN_RETURN_IF_ERROR(CheckPath("tls_cert", config.tls_cert, PathKind::kFile));
  SHIXIN_RETURN_IF_ERROR(CheckPath("tls_key", config.tls_key, PathKind::kFile));
  if (!config.tls_client_ca.empty()) {
    SHIXIN_RETURN_IF_ERROR(CheckPath("tls_client_ca", config.tls_client_ca, PathKind::kFile));
  }
  return MakeServerTlsContext(TlsFiles{config.tls_cert, config.tls_key, config.tls_client_ca})
      .status();
}

}  // namespace

absl::StatusOr<ListenAddress> ParseListenAddress(std::string_view text) {
  return ParseHostPort(text, "listen", PortZero::kAllow);
}

absl::Status Validate(const Config& config) {
  for (const Key& key : kKeys) {
    absl::Status s = absl::OkStatus();
    if (std::optional<uint64_t> value = IntegerOf(key, config)) {
      s = CheckRange(key, *value);
    } else if (auto* f = std::get_if<double Config::*>(&key.field)) {
      s = CheckRange(key, config.*(*f));
    }
    if (!s.ok()) return s;
  }
  SHIXIN_RETURN_IF_ERROR(ValidateUnbounded(config));
  SHIXIN_RETURN_IF_ERROR(ValidateListeners(config));
  SHIXIN_RETURN_IF_ERROR(ValidateSource(config));
  if (!config.deltas_dir.empty()) {
    SHIXIN_RETURN_IF_ERROR(CheckPath("deltas_dir", config.deltas_dir, PathKind::kDirectory));
  }
  if (!config.callers_file.empty()) {
    SHIXIN_RETURN_IF_ERROR(CheckPath("callers_file", config.callers_file, PathKind::kFile));
  }
  if (!config.catalog.empty()) {
    SHIXIN_RETURN_IF_ERROR(CheckPath("catalog", config.catalog, PathKind::kFile));
  }
  if (!config.state_dir.empty()) SHIXIN_RETURN_IF_ERROR(CheckStateDir(config.state_dir));
  if (!config.calendar_dir.empty()) {
    SHIXIN_RETURN_IF_ERROR(CheckPath("calendar_dir", config.calendar_dir, PathKind::kDirectory));
  }
  return absl::OkStatus();
}

std::string UsageText() {
  std::string text =
      R"(usage: shixind (--data DIR | --snapshot FILE) [--listen HOST:PORT] [--config FILE] [flags]

Serves the list of dishonest judgment debtors in DIR (debtors.ndjson, relations.ndjson), or
compiled into FILE by shixin compile, over the shixin binary protocol. SIGHUP reloads the
list (from the same directory or file path); SIGTERM stops after answering the requests in
flight.

)";
  text += UsageLine("--config FILE", "TOML configuration; flags override its keys");
  const Config defaults;
  for (const Key& key : kKeys) text += UsageLine(key, defaults);
  text += UsageLine("--version, --help", "");
  text += R"(
Prints "listening on HOST:PORT" on standard output once it serves a list (one line per
listener, then "http listening on HOST:PORT" for http_listen); it accepts during the first load
already (PING and HELLO answer generation 0, the rest UNAVAILABLE). Exit status: 0 after
SIGTERM or SIGINT, 1 if the first load or the listen fails, 2 for a bad configuration.
)";
  return text;
}

std::string NonLoopbackListener(const Config& config) {
  const std::pair<std::string_view, const std::string*> listeners[] = {
      {"listen", &config.listen},
      {"tls_listen", &config.tls_listen},
      {"http_listen", &config.http_listen}};
  for (const auto& [key, address] : listeners) {
    if (address->empty()) continue;
    absl::StatusOr<ListenAddress> parsed = ParseListenAddress(*address);
    if (!parsed.ok() || !IsLoopbackHost(parsed->host)) {
      return absl::StrFormat("%s \"%s\"", key, *address);
    }
  }
  return "";
}

unsigned IoThreads(const Config& config) {
  return config.threads != 0 ? config.threads : std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace shixin
