// The writer's checks, at start, of the segments of its stream before the one it recovers
// (audit_log.h: Open): what shows a segment removed, cut, swapped, replaced or replayed without
// reading the closed segments whole (the chain inside them is Verify's, reader.h). Damage found
// here refuses the start, as damage before the torn tail does: the daemon does not append to an
// audit that is no longer what it wrote.
//
// Thread safety: pure functions over files.
#ifndef SHIXIN_AUDIT_START_CHECK_H_
#define SHIXIN_AUDIT_START_CHECK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace shixin::audit {

struct StreamCheck {
  std::string dir;                 // state_dir/audit
  std::vector<uint32_t> segments;  // the stream's, ascending; the last is the one recovered
  uint32_t node = 0;               // the writer's: every segment's header names it
  int retention_days = 0;          // <= 0: retention removes nothing
  int64_t now_micros = 0;
};

// Checks the segments of `check`, reading each one's header, marks file and last seal, and
// walking the second-to-last from its last mark to its end:
// - no number is missing between the first and the last (a first segment after the stream's
//   first number that retention cannot have removed, the first left created less than
//   retention_days ago, is not refused: a shorter retention before removed them as well; it is
//   described in `*note`, if `note` is not null, and `*note` is left alone otherwise);
// - each header decodes and names its file's number and the node; the stream's first segment
//   starts at sequence 1 with the zero chain;
// - each closed segment is as long as its marks file says it was when closed (when it has a
//   whole one), ends with a seal (format 1: a record), and the next header's previous chain is
//   that seal's chain value and its first sequence follows the segment's last record.
// Returns OK, or DataLoss naming the file, the offset or the field, with DamageAdvice; the
// header's error of a segment that cannot be read.
absl::Status CheckStreamSegments(const StreamCheck& check, std::string* note = nullptr);

// Returns what the refusal of a damaged audit in `dir` (state_dir/audit) tells the operator:
// to run `shixin audit verify`, and how to move the audit aside (docs/audit.md, "Damage found at
// start"). Starts with "; ".
std::string DamageAdvice(const std::string& dir);

}  // namespace shixin::audit

#endif  // SHIXIN_AUDIT_START_CHECK_H_
