// AuditLog::Lookup (audit_log.h): a receipt resolved through the marks of its segment.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "audit/audit_log.h"
#include "base/coding.h"
#include "core/file_data.h"

namespace shixin::audit {
namespace {

// Returns the size of the file `path` (0 if it cannot be read).
uint64_t SizeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// Returns whether a whole frame (its checksum right) is at `offset` of the segment file `path`.
bool IsFrameAt(const std::string& path, uint64_t offset) {
  absl::StatusOr<SegmentHeader> header = ReadHeader(path);
  const int fd = header.ok() ? ::open(path.c_str(), O_RDONLY | O_CLOEXEC) : -1;
  if (fd < 0) return false;
  char prefix[kRecordPrefix];
  bool ok = ::pread(fd, prefix, sizeof(prefix), static_cast<off_t>(offset)) ==
            static_cast<ssize_t>(sizeof(prefix));
  const uint32_t n = ok ? DecodeLittleEndian32(prefix) : 0;
  std::string frame;
  if (ok && n <= kMaxPayload) {
    frame.resize(n + RecordOverhead(header->version));
    ok = ::pread(fd, frame.data(), frame.size(), static_cast<off_t>(offset)) ==
         static_cast<ssize_t>(frame.size());
  }
  ::close(fd);
  FramedRecord r;
  return ok && !frame.empty() && ParseRecord(frame, header->version, &r) == FrameStatus::kOk;
}

}  // namespace

absl::StatusOr<AuditLog::LookedUp> AuditLog::Lookup(const Receipt& receipt) const {
  if (receipt.node != options_.node) {
    return absl::NotFoundError(absl::StrCat("receipt ", receipt.ToString(), ": of another node"));
  }
  if (StreamOf(receipt.segment) != options_.stream) {
    return absl::NotFoundError(
        absl::StrCat("receipt ", receipt.ToString(), ": of stream ", StreamOf(receipt.segment)));
  }
  if (receipt.offset < kHeaderSize) {
    return absl::NotFoundError(absl::StrCat("receipt ", receipt.ToString(), ": no record"));
  }
  uint64_t limit = 0, from = 0;  // from: the last record boundary known before the offset
  bool closed = false;
  {
    std::lock_guard<AdaptiveMutex> lock(mu_);
    if (receipt.segment == segment_) {
      limit = file_size_;
      from = MarkBefore(marks_, receipt.offset);
    } else if (std::binary_search(segments_.begin(), segments_.end(), receipt.segment)) {
      limit = SizeOf(SegmentPath(options_.dir, receipt.segment));
      closed = true;
      for (const auto& [segment, marks] : unsaved_marks_) {
        if (segment == receipt.segment) from = MarkBefore(marks.offsets, receipt.offset);
      }
    }
  }
  const std::string path = SegmentPath(options_.dir, receipt.segment);
  if (!closed || from != 0) return ReadQueryAt(path, receipt, limit, from);
  // The cause names state_dir's files and the system's error: for the log, not the caller.
  const absl::Status unreadable = absl::InternalError(
      absl::StrCat("receipt ", receipt.ToString(),
                   ": the audit cannot be read now (the server's log says why)"));
  // A closed segment's marks are in its marks file (Open made it).
  absl::StatusOr<SegmentMarks> marks = ReadMarks(options_.dir, receipt.segment);
  const bool from_file = marks.ok();
  if (!marks.ok()) marks = RebuildMarks(receipt.segment, marks.status());
  if (!marks.ok()) return unreadable;
  from = MarkBefore(marks->offsets, receipt.offset);
  absl::StatusOr<LookedUp> found = ReadQueryAt(path, receipt, limit, from);
  // Finding 4 (x26): a marks file whose checksum holds can still be wrong (edited, checksum
  // recomputed): a walk from a mark that is no frame finds no genuine receipt after it. Such a
  // file is damaged: rebuilt (logged) and the lookup tried once more before NOT_FOUND.
  if (found.ok() || !from_file || !absl::IsNotFound(found.status()) || IsFrameAt(path, from)) {
    return found;
  }
  const std::string marks_path = MarksPath(options_.dir, receipt.segment);
  ops_->Unlink(marks_path);
  marks = RebuildMarks(receipt.segment,
                       absl::DataLossError(absl::StrFormat(
                           "%s: its mark at offset %u is no record boundary", marks_path, from)));
  if (!marks.ok()) return unreadable;
  return ReadQueryAt(path, receipt, limit, MarkBefore(marks->offsets, receipt.offset));
}

absl::StatusOr<SegmentMarks> AuditLog::RebuildMarks(uint32_t segment,
                                                    const absl::Status& why) const {
  std::lock_guard<std::mutex> rebuilding(rebuild_mu_);  // one walk of a segment, not one a lookup
  if (absl::StatusOr<SegmentMarks> done = ReadMarks(options_.dir, segment); done.ok()) return done;
  {
    std::lock_guard<AdaptiveMutex> lock(mu_);
    for (const auto& [s, marks] : unsaved_marks_) {
      if (s == segment) return marks;  // rebuilt by another lookup, not saved
    }
  }
  const std::string path = SegmentPath(options_.dir, segment);
  absl::StatusOr<SegmentHeader> header = ReadHeader(path);
  FileData file;
  const absl::Status read = header.ok() ? file.Open(path) : header.status();
  if (!read.ok()) {
    if (unreadable_.insert(segment).second && options_.log_warning) {  // said once a segment
      options_.log_warning(absl::StrFormat(
          "audit stream %u: the receipts of %s cannot be resolved: its marks file cannot be read "
          "(%s), nor the segment (%s)",
          options_.stream, path, why.message(), read.message()));
    }
    return read;
  }
  SegmentMarks marks = ScanMarks(file.data(), header->version);
  const absl::Status saved = WriteMarks(ops_, options_.dir, segment, marks);
  if (options_.log_warning) {
    options_.log_warning(
        absl::StrFormat("audit stream %u: rebuilt the record boundaries of %s for a receipt (%s)%s",
                        options_.stream, path, why.message(),
                        saved.ok() ? "" : absl::StrCat("; kept in memory: ", saved.message())));
  }
  if (!saved.ok()) {
    std::lock_guard<AdaptiveMutex> lock(mu_);
    unsaved_marks_.emplace_back(segment, marks);
  }
  return marks;
}

}  // namespace shixin::audit
