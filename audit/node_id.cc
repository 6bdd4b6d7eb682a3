#include "audit/node_id.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "audit/format.h"
#include "base/status_macros.h"
#include "core/paths.h"

namespace shixin::audit {
namespace {

constexpr size_t kNodeLine = 9;  // 8 hex digits and '\n'
// A node_id is a few dozen bytes: more is not one.
constexpr size_t kMaxFile = 4096;

int HexDigit(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// Parses node_id's text: "NNNNNNNN\n", then (from the version with receipt keys) the key as 32
// lower-case hex digits, a space, when it was made in Unix microseconds, "\n".
absl::StatusOr<NodeIdentity> ParseNodeFile(const std::string& path, std::string_view text) {
  NodeIdentity identity;
  bool ok = text.size() >= kNodeLine && text[8] == '\n';
  for (size_t i = 0; ok && i < 8; ++i) {
    const int digit = HexDigit(text[i]);
    ok = digit >= 0;
    identity.node = identity.node << 4 | static_cast<uint32_t>(digit);
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected 8 lower-case hex digits and a newline"));
  }
  const std::string_view line = text.substr(kNodeLine);
  if (line.empty()) return identity;  // written by a version without receipt keys
  ReceiptCipher::Key key{};
  ok = line.size() > 34 && line[32] == ' ' && line.back() == '\n';
  for (size_t i = 0; ok && i < key.size(); ++i) {
    const int high = HexDigit(line[2 * i]);
    const int low = HexDigit(line[2 * i + 1]);
    ok = high >= 0 && low >= 0;
    key[i] = static_cast<uint8_t>(high << 4 | low);
  }
  int64_t since = 0;
  if (ok) {
    const std::string_view micros = line.substr(33, line.size() - 34);
    const auto [end, ec] = std::from_chars(micros.data(), micros.data() + micros.size(), since);
    ok = ec == std::errc() && end == micros.data() + micros.size() && since >= 0;
  }
  if (!ok) {
    // Never a new key over this one: the receipts it issued would stop resolving.
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ": line 2: expected the receipt key (32 lower-case hex digits), a space, the time it was "
        "made (Unix microseconds) and a newline; restore node_id from the backup of this "
        "state_dir (docs/audit.md, \"Backing up and restoring state_dir\")"));
  }
  identity.cipher.emplace(key, since);
  return identity;
}

// Returns a new key's line (see ParseNodeFile), dated `now`.
absl::StatusOr<std::string> NewKeyLine(int64_t now) {
  ReceiptCipher::Key key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    return absl::InternalError("RAND_bytes failed");
  }
  std::string line;
  for (const uint8_t b : key) absl::StrAppendFormat(&line, "%02x", b);
  absl::StrAppend(&line, " ", now, "\n");
  return line;
}

}  // namespace

absl::StatusOr<NodeIdentity> ReadNodeIdentity(const std::string& state_dir) {
  const std::string path = state_dir + "/node_id";
  // Capped and never blocking: a FIFO or a link to /dev/zero there is an error, not a hang.
  SHIXIN_ASSIGN_OR_RETURN(std::string text, ReadRegularFile(path, kMaxFile));
  return ParseNodeFile(path, text);
}

absl::StatusOr<NodeIdentity> LoadOrCreateNode(const std::string& state_dir,
                                              const std::function<int64_t()>& now_micros) {
  if (::mkdir(state_dir.c_str(), 0700) < 0 && errno != EEXIST) {
    return absl::ErrnoToStatus(errno, absl::StrCat("mkdir ", state_dir));
  }
  const int64_t now = now_micros ? now_micros() : absl::ToUnixMicros(absl::Now());
  const std::string path = state_dir + "/node_id";
  if (::access(path.c_str(), F_OK) == 0) {
    // Capped and never blocking: a FIFO or a link to /dev/zero there is an error, not a hang.
    SHIXIN_ASSIGN_OR_RETURN(std::string text, ReadRegularFile(path, kMaxFile));
    SHIXIN_ASSIGN_OR_RETURN(NodeIdentity identity, ParseNodeFile(path, text));
    if (identity.cipher.has_value()) return identity;
    // An earlier version's node_id: its receipts (position form) are of records written before.
    SHIXIN_ASSIGN_OR_RETURN(std::string line, NewKeyLine(now));
    text.append(line);
    SHIXIN_RETURN_IF_ERROR(WriteFileAtomically(path, text, 0600));
    SHIXIN_ASSIGN_OR_RETURN(identity, ParseNodeFile(path, text));
    identity.key_added = true;
    return identity;
  }
  // Segments in the audit mean this is no first start: a state_dir restored without its
  // node_id. A new node id would write into the old node's segments, and the receipts of both
  // would stop resolving (finding 4).
  const std::string audit_dir = state_dir + "/audit";
  if (absl::StatusOr<std::vector<uint32_t>> segments = ListSegments(audit_dir);
      segments.ok() && !segments->empty()) {
    const std::string last = SegmentPath(audit_dir, segments->back());
    absl::StatusOr<SegmentHeader> header = ReadHeader(last);
    const std::string whose =
        header.ok() ? absl::StrFormat("node %08x (the header of %s)", header->node, last)
                    : absl::StrCat("another node (", header.status().message(), ")");
    const std::string restore =
        header.ok() ? absl::StrFormat(
                          " (it holds %08x: printf '%08x\\n' > %s; chmod 0600 %s: a new receipt "
                          "key is then made, and the receipts of the lost one do not resolve)",
                          header->node, header->node, path, path)
                    : "";
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s is missing, but %s holds %u segments of %s: a state_dir restored without its "
        "node_id; a new node id would write into that node's audit, and neither node's receipts "
        "would resolve. Restore node_id from the same backup%s, or move %s away to start a new "
        "node with an audit of its own (docs/audit.md, \"Backing up and restoring state_dir\")",
        path, audit_dir, segments->size(), whose, restore, audit_dir));
  }
  uint32_t node = 0;
  while (node == 0) {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&node), sizeof(node)) != 1) {
      return absl::InternalError("RAND_bytes failed");
    }
  }
  SHIXIN_ASSIGN_OR_RETURN(std::string line, NewKeyLine(now));
  const std::string text = absl::StrFormat("%08x\n", node) + line;
  SHIXIN_RETURN_IF_ERROR(WriteFileAtomically(path, text, 0600));
  return ParseNodeFile(path, text);
}

absl::StatusOr<uint32_t> LoadOrCreateNodeId(const std::string& state_dir) {
  SHIXIN_ASSIGN_OR_RETURN(NodeIdentity identity, LoadOrCreateNode(state_dir));
  return identity.node;
}

std::string StateDirOfAudit(const std::string& audit_dir) {
  std::string_view dir = audit_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  const size_t slash = dir.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(dir.substr(0, slash));
}

absl::StatusOr<ParsedReceipt> ParseAuditReceipt(const std::string& audit_dir,
                                                std::string_view text) {
  if (!LooksKeyed(text)) return ParseReceipt(text, nullptr);
  const std::string state_dir = StateDirOfAudit(audit_dir);
  absl::StatusOr<NodeIdentity> identity = ReadNodeIdentity(state_dir);
  if (!identity.ok()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "receipt %s: its key is in %s/node_id, beside the audit directory %s, which cannot be "
        "read: %s",
        std::string(text.substr(0, kMaxReceiptText)), state_dir, audit_dir,
        identity.status().message()));
  }
  return ParseReceipt(text, identity->cipher.has_value() ? &*identity->cipher : nullptr);
}

}  // namespace shixin::audit
