// The callers file (TOML; docs/shixind.md "Callers"): one [[caller]] table per calling system.
//
//   version = 1
//   [[caller]]
//   id = "acme-bank"
//   name = "Acme Bank credit department"
//   sector = "bank"
//   agencies = ["pbc"]                # catalog agency ids (optional)
//   scenarios = ["bank_credit"]       # catalog scenario ids (optional)
//   scopes = ["check", "measures", "detail"]
//   view = "full"                     # or "masked"
//   rate = 50.0                       # requests per second, > 0
//   burst = 100                       # >= 1
//   tokens = ["sha256:<64 hex>"]      # hashes only: never a token itself
//   certificates = ["sha256:<64 hex>", "cn:acme-bank-shixin"]
//
// Thread safety: plain functions; a read-modify-write of one file (shixin caller add, ...)
// holds a CallersFileLock around it, or runs alone.
#ifndef SHIXIN_CALLERS_CALLERS_FILE_H_
#define SHIXIN_CALLERS_CALLERS_FILE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "callers/caller_table.h"
#include "core/catalog.h"

namespace shixin {

// Returns the table described by `text`, or InvalidArgument "ORIGIN:LINE: message" naming the
// key at fault: a syntax error, an unknown key, a value of the wrong type, an invalid value
// (ValidateCaller), a duplicate id, or a certificate or token hash claimed by two callers (the
// error names both). With `catalog`,
// each caller's agencies and scenarios are checked against it (an unknown one is an error at
// its key's line too) and its agencies written as their ids (ResolveAgainstCatalog: the
// daemon's table); without it they are kept as written (the file's own table, to be written
// back as it was).
absl::StatusOr<CallerTable> ParseCallersFile(std::string_view text, std::string_view origin,
                                             const Catalog* catalog = nullptr);

// The most bytes a callers file may have: 16 MiB holds some 16,000 callers of 1 KB (two tokens
// and two certificates each; the example file's are 500 bytes), far more than any deployment
// has. A larger file at the path is refused unread, at start and on every reload.
inline constexpr size_t kMaxCallersFileBytes = size_t{16} << 20;

// Returns the table of the file at `path`: ReadRegularFile()'s errors (core/paths.h: NotFound
// if it cannot be opened), ResourceExhausted "PATH: more than 16777216 bytes" (not read) above
// kMaxCallersFileBytes, else as ParseCallersFile.
absl::StatusOr<CallerTable> LoadCallersFile(const std::string& path,
                                            const Catalog* catalog = nullptr);

// Returns the file text of `table`: `header` (a file's LeadingComments()), or if it is empty a
// commented header of its own, then version = 1, one [[caller]] per caller in table order.
// ParseCallersFile(FormatCallersFile(t)) equals t.
std::string FormatCallersFile(const CallerTable& table, std::string_view header = {});

// Returns the comment block `text` opens with: its lines up to the first that is neither blank
// nor a comment ('#' after optional blanks), without the blank lines that end it ("" if none).
std::string_view LeadingComments(std::string_view text);

// The tokens the shipped example callers file (systemd/callers.toml, installed as
// /etc/shixin/callers.toml.example) hashes and publishes in its comments: anyone can
// authenticate with them.
inline constexpr std::string_view kPublishedExampleTokens[] = {
    "shx_FAKE-example-bank-token-not-for-use-0000000",
    "shx_FAKE-example-hotel-token-not-for-use-000000"};

// Returns the ids of the callers of `table` that hold the hash of one of
// kPublishedExampleTokens, in table order.
std::vector<std::string> CallersWithPublishedTokens(const CallerTable& table);

// Writes FormatCallersFile(table) to `path` atomically (core/paths.h WriteFileAtomically: a new
// temporary file beside it, fsync, rename), under the leading comment block of the file it
// replaces (LeadingComments(): the admin's header; comments further down are not kept). A file it
// replaces keeps its owner, group and mode (KeepAccessOf: root:shixin 0640 is how the packaged
// unit's dynamic user reads it); a new file is readable by its owner only (mode 0600). Returns the
// errno's status on failure.
absl::Status WriteCallersFile(const std::string& path, const CallerTable& table);

// An exclusive lock (flock(2)) on the directory of the callers file `path` (of the file a
// symbolic link there names), held until destroyed. `shixin caller add|token|remove` hold it
// around their read-modify-write: concurrent runs on one file take turns instead of each
// renaming its own table over the others' (their callers were lost, their tokens printed).
// The directory, not the file: the file is replaced by a rename, a lock on it would stay on the
// old inode. Waits while another process holds it.
class CallersFileLock {
 public:
  // Returns the lock, or the errno's status "cannot lock DIR (the directory of PATH)".
  static absl::StatusOr<CallersFileLock> Acquire(const std::string& path);
  CallersFileLock(CallersFileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  CallersFileLock& operator=(CallersFileLock&&) = delete;
  ~CallersFileLock();

 private:
  explicit CallersFileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace shixin

#endif  // SHIXIN_CALLERS_CALLERS_FILE_H_
