// The daemon's configuration: a TOML file (systemd/shixind.toml documents every key) and
// command-line flags that override it. Every key has a flag of the same name with '-' for '_'
// (max_batch: --max-batch 500, refuse_stale: --refuse-stale or --refuse-stale=false); --data
// is short for --data-dir. The whole configuration is validated once, at start.
//
// Thread safety: Config is a plain value; the functions are reentrant.
#ifndef SHIXIN_DAEMON_CONFIG_H_
#define SHIXIN_DAEMON_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "audit/receipt.h"
#include "base/background.h"
#include "base/host_port.h"
#include "core/delta.h"
#include "protocol/messages.h"

namespace shixin {

// The longest answer to one ID of a CHECK (FORMAT.md 8.2, version 4): listed, its normalised ID
// (18 bytes), kind, counts, a name of 255 bytes, the listing stretch and a receipt. An invalid
// ID's answer (its error, 255 bytes at most) is shorter.
inline constexpr uint32_t kMaxCheckAnswerBytes =
    1 + (1 + 18) + 1 + 2 + 2 + (1 + 255) + 16 + (1 + audit::kMaxReceiptText);
// The largest max_batch: a CHECK of that many IDs is answered within the protocol's 16 MiB
// (wire::kMaxPayloadLimit) whatever the IDs; above it a CHECK the server admits could only be
// answered INTERNAL "response too large".
inline constexpr uint32_t kMaxBatchLimit = (wire::kMaxPayloadLimit - 2) / kMaxCheckAnswerBytes;

struct Config {
  std::string listen = "127.0.0.1:7411";       // HOST:PORT or [V6]:PORT; port 0 picks a free port
                                               // ""; no plain listener (TLS only)
  std::string tls_listen;                      // TLS on HOST:PORT; empty: no TLS listener
  std::string http_listen = "127.0.0.1:7412";  // HTTP (health, metrics, JSON API); "": none
  std::string callers_file;  // the callers (TOML, docs/shixind.md); empty: open mode, loopback only
  std::string tls_cert;      // PEM server certificate (and chain) for TLS
  std::string tls_key;       // PEM private key of tls_cert
  std::string tls_client_ca;                   // PEM CA bundle; set: clients need a certificate
  uint32_t threads = 0;                        // I/O threads; 0: one per hardware core (IoThreads)
  bool io_uring = true;                        // plain TCP I/O through io_uring if the kernel can
  std::string data_dir;                        // debtors.ndjson and relations.ndjson
  std::string snapshot;                        // a compiled snapshot file; exclusive with data_dir
  std::string deltas_dir;                      // delta files applied online; empty: none
  uint32_t max_delta_mb = kDefaultMaxDeltaMb;  // a larger delta file is refused unread
  uint32_t deltas_rescan_ms = 5000;            // list deltas_dir this often too; 0: never
  uint32_t delta_settle_ms = 1000;             // a file not renamed in waits unchanged this long
  std::string catalog;                         // measure catalog; empty: DefaultCatalogPath()
  uint64_t max_errors = 0;                     // bad input lines tolerated per load
  uint32_t max_connections = 1024;             // more displace the oldest idle one, or are closed
  uint32_t max_connections_per_ip = 256;       // from one client address; 0: no limit
  uint32_t max_payload = 1u << 20;             // bytes in one request payload
  uint32_t max_batch = 1000;                   // IDs in one CHECK, <= kMaxBatchLimit
  uint32_t max_in_flight = 128;                // unanswered requests read ahead per connection
  uint32_t idle_timeout_seconds = 60;          // close a connection idle this long; 0: never
  uint32_t frame_timeout_seconds = 10;  // a frame must arrive whole this soon after its start
  uint32_t write_timeout_seconds = 30;  // close a connection whose writes stall this long
  uint32_t drain_seconds = 5;           // a stop closes the connections still open after this long
  uint64_t max_buffered_bytes = 256u << 20;  // all connections' unanswered and unwritten bytes
  uint32_t max_age_seconds = 0;              // answers from an older list are STALE; 0: off
  uint32_t history_days = wire::kDefaultHistoryDays;  // as-of answers reach back this far
  bool refuse_stale = false;                          // MEASURES from a stale list: STALE_REFUSED
  bool admin_loopback_only = true;  // open mode: RELOAD and the full INFO only for loopback peers
  double max_shrink = 0.05;         // a reload removing more subjects/relations: refused; 1: off
  uint32_t background_nice = kBackgroundNice;  // a reload's load, a delta's helpers; 0: as I/O
  bool verbose = false;                        // debug log lines
  bool core_dumps = false;  // false: PR_SET_DUMPABLE 0, no core file holds the key and the list
  std::string state_dir;    // the audit and the node id (docs/audit.md); empty: no audit
  uint32_t checkpoint_seconds = 300;  // write the overlay checkpoint at most this often; 0: never
  uint32_t audit_fsync_ms = 10;       // group commit: fsync the audit at most this often
  uint32_t audit_segment_mb = 64;     // start a new audit segment beyond this size
  uint32_t audit_retention_days = 1826;  // delete audit segments older than this
  bool audit_required = true;  // MEASURES fails closed (AUDIT_UNAVAILABLE) when the audit fails
  std::string calendar_dir;    // public holidays for report due dates; empty: the shipped one

  bool operator==(const Config&) const = default;
};

// Returns the I/O threads `config` asks for: config.threads, or one per hardware core.
unsigned IoThreads(const Config& config);

// The most bytes a configuration file may have (a real one has a few KB): a larger file at the
// path (a log redirected there, a truncate mistake) is refused unread, at start and by every
// reload's ConfigWatch, instead of being read whole.
inline constexpr size_t kMaxConfigFileBytes = size_t{1} << 20;

// Returns the bytes of the configuration file at `path`: ReadRegularFile()'s errors
// (core/paths.h), or ResourceExhausted "PATH: more than 1048576 bytes" (not read) above
// kMaxConfigFileBytes.
absl::StatusOr<std::string> ReadConfigFile(const std::string& path);

// Reads the TOML file at `path` into `config`, leaving keys it does not set unchanged.
// Returns NotFound if the file cannot be read, saying why ("no such file" with the working
// directory of a relative path, "is a directory", "not a regular file (a FIFO)": never waited
// on, "more than 1048576 bytes": never read), InvalidArgument naming the file, line and key for a
// syntax error, an unknown key, a value of the wrong type or a negative number. Sets `*text`,
// unless null, to the bytes parsed (read once: what a ConfigWatch compares the file with is what
// was applied).
absl::Status LoadConfigFile(const std::string& path, Config* config, std::string* text = nullptr);
// Same as LoadConfigFile() on the TOML text `toml`; `origin` names it in messages.
absl::Status ParseConfig(std::string_view toml, std::string_view origin, Config* config);

// What the command line asked for besides the configuration.
struct CommandLine {
  std::string config_file;  // --config FILE, or empty
  bool help = false;        // --help or -h
  bool version = false;     // --version
};

// Applies the flags in `args` (without the program name) to `config`.
// --config FILE is reported in the result and not read here (main reads it first, then
// applies the flags again so that they override the file). Returns InvalidArgument naming an
// unknown flag, a missing value, a value of the wrong type, or a positional argument.
absl::StatusOr<CommandLine> ApplyFlags(const std::vector<std::string>& args, Config* config);

// Returns OK if `config` can be served, or InvalidArgument naming the key: a value out of
// range, idle_timeout_seconds = 0 together with a limit of 0 (none), a malformed listen,
// tls_listen or http_listen address, two of them on the same address (a port other than 0),
// neither listen nor tls_listen, a listener not on loopback
// without callers_file, a missing callers_file, tls_listen without tls_cert and tls_key or with
// files that do not make a TLS context (unreadable, a key not matching the certificate), tls_*
// files without tls_listen, neither or both of data_dir and snapshot, a missing or unreadable data
// directory or snapshot file, a missing deltas_dir directory, a missing catalog file, a
// state_dir that exists and is not a directory or whose parent is not one (it cannot be
// created), a missing calendar_dir directory. A path of the
// wrong kind is named for what it is (`snapshot "P": is a directory`, `not a regular file (a
// FIFO)`, `data_dir "P": is not a directory (a regular file)`); a relative path not found names
// the working directory it was looked up in.
absl::Status Validate(const Config& config);

// Returns the first of listen, tls_listen and http_listen set to an address other than loopback,
// as `KEY "ADDRESS"`, or "" if the daemon listens on loopback only. REQUIRES: Validate(config).
std::string NonLoopbackListener(const Config& config);

// A listen address split into host (without brackets) and port.
using ListenAddress = HostPort;
// Parses "HOST:PORT" or "[IPV6]:PORT", port 0 to 65535 (0 picks a free port). Returns
// InvalidArgument ('listen "<text>": <reason> ...', base/host_port.h) for anything else.
absl::StatusOr<ListenAddress> ParseListenAddress(std::string_view text);

// Returns the usage text printed by --help. Each key's line is made from its entry in the key
// table (flag, help) and its default, read from Config{}: the initialisers above are the only
// place a default is written.
std::string UsageText();

}  // namespace shixin

#endif  // SHIXIN_DAEMON_CONFIG_H_
