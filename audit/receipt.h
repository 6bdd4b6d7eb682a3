// A receipt: the id an answer carries for its audit record (issue 12). Its text,
// "<node>-<segment>-<offset>" (e.g. "9f2c41d0-3-1048576"), is opaque to callers; the daemon
// reads it as where the record is: the node (state_dir/node_id, 8 lower-case hex digits) that
// wrote it, the segment file's number and the record's byte offset in it. A receipt of another
// node, or one that does not point at a record, is not found.
//
// Thread safety: plain values and pure functions.
#ifndef SHIXIN_AUDIT_RECEIPT_H_
#define SHIXIN_AUDIT_RECEIPT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace shixin::audit {

struct Receipt {
  uint32_t node = 0;
  uint32_t segment = 0;
  uint64_t offset = 0;

  // Returns the text form: node as 8 lower-case hex digits, segment and offset in decimal.
  std::string ToString() const;
  // Appends the text form to `out` (for a reused buffer: no allocation once it is large enough).
  void AppendTo(std::string* out) const;
  // Parses the text form. Returns InvalidArgument saying what is wrong otherwise (at most 40
  // bytes, no leading zeros but "0", no sign).
  static absl::StatusOr<Receipt> Parse(std::string_view text);

  friend bool operator==(const Receipt& a, const Receipt& b) {
    return a.node == b.node && a.segment == b.segment && a.offset == b.offset;
  }
};

}  // namespace shixin::audit

#endif  // SHIXIN_AUDIT_RECEIPT_H_
