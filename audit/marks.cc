#include "audit/marks.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "audit/format.h"
#include "base/coding.h"
#include "core/paths.h"

namespace shixin::audit {
namespace {

constexpr char kMarksMagic[8] = {'S', 'H', 'X', 'M', 'A', 'R', 'K', '1'};
// magic, u32 segment, u32 count, u64 covered; then count u64 offsets and a u32 XXH32.
constexpr size_t kMarksHead = 24;
// A marks file of a 4 GiB segment is 512 KiB: more is not one.
constexpr uint64_t kMaxMarksFile = uint64_t{1} << 20;

}  // namespace

std::vector<uint64_t> FirstMarks() { return {kHeaderSize}; }

void AddMark(uint64_t boundary, std::vector<uint64_t>* marks) {
  if (boundary >= marks->back() + kMarkStride) marks->push_back(boundary);
}

void AddFrameMarks(uint64_t offset, std::string_view frames, uint32_t version,
                   std::vector<uint64_t>* marks) {
  if (offset + frames.size() < marks->back() + kMarkStride) return;
  const size_t overhead = RecordOverhead(version);
  for (size_t at = 0; at + kRecordPrefix <= frames.size();) {
    AddMark(offset + at, marks);
    at += DecodeLittleEndian32(frames.data() + at) + overhead;
  }
}

SegmentMarks ScanMarks(std::string_view data, uint32_t version) {
  SegmentMarks marks;
  marks.offsets = FirstMarks();
  const size_t overhead = RecordOverhead(version);
  uint64_t at = kHeaderSize;
  while (at + kRecordPrefix <= data.size()) {
    const uint32_t n = DecodeLittleEndian32(data.data() + at);
    if (n > kMaxPayload || at + n + overhead > data.size()) break;
    AddMark(at, &marks.offsets);
    at += n + overhead;
  }
  marks.covered = std::min<uint64_t>(at, data.size());
  return marks;
}

uint64_t MarkBefore(const std::vector<uint64_t>& marks, uint64_t offset) {
  auto it = std::upper_bound(marks.begin(), marks.end(), offset);
  return *(it - 1);
}

std::string MarksPath(const std::string& dir, uint32_t segment) {
  return absl::StrFormat("%s/%010u.marks", dir, segment);
}

absl::Status WriteMarks(FileOps* ops, const std::string& dir, uint32_t segment,
                        const SegmentMarks& marks) {
  std::string bytes(kMarksMagic, sizeof(kMarksMagic));
  PutLittleEndian32(segment, &bytes);
  PutLittleEndian32(static_cast<uint32_t>(marks.offsets.size()), &bytes);
  PutLittleEndian64(marks.covered, &bytes);
  for (uint64_t offset : marks.offsets) PutLittleEndian64(offset, &bytes);
  PutLittleEndian32(XXH32(bytes.data(), bytes.size(), 0), &bytes);
  const std::string path = MarksPath(dir, segment);
  const std::string tmp = path + ".tmp";
  const int fd = CreateTemporary(ops, tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return FileOpStatus(fd, absl::StrCat("create ", tmp));
  const ssize_t wrote = ops->PWrite(fd, bytes.data(), bytes.size(), 0);
  ops->Close(fd);
  absl::Status status = FileOpStatus(wrote, absl::StrCat("write ", tmp));
  if (status.ok()) status = FileOpStatus(ops->Rename(tmp, path), absl::StrCat("rename ", tmp));
  if (!status.ok()) ops->Unlink(tmp);
  return status;
}

absl::StatusOr<SegmentMarks> ReadMarks(const std::string& dir, uint32_t segment) {
  const std::string path = MarksPath(dir, segment);
  // Never through a link planted at the name, never blocking on a FIFO, never past the cap.
  absl::StatusOr<std::string> read = ReadRegularFile(path, kMaxMarksFile, Links::kRefuse);
  if (!read.ok() && !absl::IsNotFound(read.status())) {
    return absl::DataLossError(read.status().message());
  }
  if (!read.ok()) return read.status();
  const std::string& bytes = *read;
  const absl::Status bad = absl::DataLossError(absl::StrCat(path, ": not a marks file"));
  if (bytes.size() < kMarksHead + 4 ||
      std::memcmp(bytes.data(), kMarksMagic, sizeof(kMarksMagic)) != 0 ||
      DecodeLittleEndian32(bytes.data() + bytes.size() - 4) !=
          XXH32(bytes.data(), bytes.size() - 4, 0)) {
    return bad;
  }
  const uint32_t count = DecodeLittleEndian32(bytes.data() + 12);
  if (DecodeLittleEndian32(bytes.data() + 8) != segment || count == 0 ||
      bytes.size() != kMarksHead + uint64_t{count} * 8 + 4) {
    return bad;
  }
  SegmentMarks marks;
  marks.covered = DecodeLittleEndian64(bytes.data() + 16);
  marks.offsets.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t offset = DecodeLittleEndian64(bytes.data() + kMarksHead + size_t{i} * 8);
    if ((i == 0 && offset != kHeaderSize) || (i > 0 && offset <= marks.offsets.back())) return bad;
    marks.offsets.push_back(offset);
  }
  return marks;
}

}  // namespace shixin::audit
