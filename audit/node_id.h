// state_dir/node_id: the node (its first line, 8 lower-case hex digits, in every segment header
// and receipt) and the node's receipt key (its second line: audit/receipt.h's ReceiptCipher).
// The key lives in node_id, not a file of its own, because node_id is already backed up and
// restored with the audit, and cloned nodes already drop it: a separate key file lost apart from
// it could not be told from the first start of a version with keys.
//
// Thread safety: functions on files; none is called concurrently on one state_dir.
#ifndef SHIXIN_AUDIT_NODE_ID_H_
#define SHIXIN_AUDIT_NODE_ID_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "audit/receipt.h"

namespace shixin::audit {

struct NodeIdentity {
  uint32_t node = 0;
  // Empty only from ReadNodeIdentity() of a node_id written by a version without receipt keys.
  std::optional<ReceiptCipher> cipher;
  bool key_added = false;  // LoadOrCreateNode() added the key to an earlier version's node_id
};

// Returns the node and its receipt key in state_dir/node_id, creating state_dir (0700) and the
// file (random node and key, mode 0600, written atomically) when missing, and adding a key to
// a node_id of an earlier version (key_added; its receipts keep their position form, taken
// for records written before: ReceiptCipher::keyed_since_micros). InvalidArgument naming the
// file and line if it exists but is malformed (a key is never made anew over a damaged one);
// FailedPrecondition, naming the node the audit's last segment records and how to restore the
// file, if it is missing while state_dir/audit holds segments (a state_dir restored without it).
// `now_micros` (empty: the real clock) dates a new key.
absl::StatusOr<NodeIdentity> LoadOrCreateNode(const std::string& state_dir,
                                              const std::function<int64_t()>& now_micros = {});
// LoadOrCreateNode()'s node.
absl::StatusOr<uint32_t> LoadOrCreateNodeId(const std::string& state_dir);

// Reads state_dir/node_id without creating or changing anything (the offline tools). The
// open or read error, or InvalidArgument as LoadOrCreateNode, naming the file.
absl::StatusOr<NodeIdentity> ReadNodeIdentity(const std::string& state_dir);

// Returns the state_dir of the audit directory `audit_dir` (its parent: state_dir/audit).
std::string StateDirOfAudit(const std::string& audit_dir);

// ParseReceipt() for the tools given the audit directory `audit_dir`: a keyed receipt is opened
// with the key in its state_dir's node_id, read only then (a receipt in the position form needs
// none). Also FailedPrecondition naming node_id when it cannot be read for a keyed receipt.
absl::StatusOr<ParsedReceipt> ParseAuditReceipt(const std::string& audit_dir,
                                                std::string_view text);

}  // namespace shixin::audit

#endif  // SHIXIN_AUDIT_NODE_ID_H_
