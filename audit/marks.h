// Record boundaries of a segment (audit/FORMAT.md, "Receipts resolve to record boundaries"): a
// receipt is a byte offset, and a frame can be found at an offset inside another record's
// payload (a caller's purpose text holding a whole forged query frame, its checksum included:
// XXH3 is unkeyed). A receipt therefore resolves only by walking the frames' length fields from
// a boundary the writer produced (the segment's first record, or a mark) to its offset.
//
// Marks are such boundaries, at least one every kMarkStride bytes (the first record boundary at
// or after the previous mark + kMarkStride), so that a walk from the mark before an offset reads
// at most kMarkStride bytes and one record. The writer keeps the current segment's marks in
// memory and writes a closed segment's to NNNNNNNNNN.marks (not part of the audit: rebuilt from
// the segment when missing or damaged).
//
// Thread safety: plain values and pure functions; the file functions touch only their files.
#ifndef SHIXIN_AUDIT_MARKS_H_
#define SHIXIN_AUDIT_MARKS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "audit/file_ops.h"

namespace shixin::audit {

inline constexpr uint64_t kMarkStride = uint64_t{64} << 10;

struct SegmentMarks {
  uint64_t covered = 0;           // the segment bytes they index (the file's size when closed)
  std::vector<uint64_t> offsets;  // ascending, the first the header's end (kHeaderSize)
};

// Returns a segment's marks before any record: {kHeaderSize}.
std::vector<uint64_t> FirstMarks();

// Adds `boundary`, the offset of a frame the writer wrote (or the walk found) after every mark,
// when it is at least kMarkStride past the last mark.
void AddMark(uint64_t boundary, std::vector<uint64_t>* marks);

// Adds the marks among the frames of `frames` (whole frames of format `version`, as one write
// holds them), written at `offset`. Costs one comparison unless they reach the next mark.
void AddFrameMarks(uint64_t offset, std::string_view frames, uint32_t version,
                   std::vector<uint64_t>* marks);

// Returns the marks of the segment bytes `data` (format `version`), walking the length fields
// from the header's end; `covered` is where the walk stopped (the end, or a length field that is
// not a whole frame: nothing after it resolves).
SegmentMarks ScanMarks(std::string_view data, uint32_t version);

// Returns the last mark at or before `offset`. REQUIRES: marks ascending, the first <= offset.
uint64_t MarkBefore(const std::vector<uint64_t>& marks, uint64_t offset);

// Returns dir + "/NNNNNNNNNN.marks".
std::string MarksPath(const std::string& dir, uint32_t segment);

// Writes `marks` of segment `segment` to its marks file (mode 0600; a temporary file renamed,
// not fdatasynced: a file lost or torn by a crash is rebuilt by the next Open). The first
// failing call's error.
absl::Status WriteMarks(FileOps* ops, const std::string& dir, uint32_t segment,
                        const SegmentMarks& marks);

// Reads the marks file of segment `segment`. NotFound when missing; DataLoss when it is not a
// whole marks file of that segment (checksum, size, order).
absl::StatusOr<SegmentMarks> ReadMarks(const std::string& dir, uint32_t segment);

}  // namespace shixin::audit

#endif  // SHIXIN_AUDIT_MARKS_H_
