#include "core/overlay_checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/coding.h"
#include "core/block_checksum.h"
#include "core/paths.h"
#include "xxhash.h"

namespace shixin {

namespace {

// The file's header (docs/feed.md, section 3a), in the host's byte order: a checkpoint is
// read back by the machine that wrote it; `endian` and the layout sizes refuse any other.
struct FileHeader {
  char magic[8];
  uint32_t format_version;
  uint32_t endian;
  uint32_t header_size;
  uint32_t interval_size;  // sizeof(Interval): the layout of an entity's data
  uint32_t link_size;      // sizeof(OverlayLink)
  // Unix seconds when the last delta was applied; 0: unknown
  uint32_t applied_time;
  uint64_t base_version;
  uint64_t base_entities;
  uint64_t sequence;
  int64_t source_time;
  uint64_t entity_count;
  uint64_t body_bytes;
  uint64_t body_hash;    // XXH3-64 of the body
  uint64_t header_hash;  // XXH3-64 of the bytes above
};
static_assert(sizeof(FileHeader) == 96);

constexpr char kMagic[8] = {'S', 'H', 'X', 'O', 'V', 'L', 'Y', '1'};
// 2: the layout of 1, but a credit code names an organisation the base lists by its old
// organisation code (Snapshot::Find()): a checkpoint of 1 may hold such a code's cases as a
// subject of its own, which no lookup reaches now, so it is replayed instead.
// 3: the body ends with the delta files applied (AppliedDeltaFile); one of 2, without them, is
// replayed once, so that a file changed after it was applied is noticed after a restart.
constexpr uint32_t kFormatVersion = 3;
constexpr uint32_t kEndianMarker = 0x01020304;
// An entity in the body: its key (12 bytes), then its five counts and sizes (4 bytes each,
// little-endian), then its data as in memory (blocks, links, case offsets, name, records).
constexpr size_t kEntityHead = 32;
constexpr size_t kChunk = size_t{4} << 20;
// A delta file in the table after the entities: its seven fields, 8 bytes each.
constexpr size_t kFileFields = 7;

uint64_t HeaderHash(const FileHeader& h) {
  return XXH3_64bits(&h, offsetof(FileHeader, header_hash));
}

struct FreeState {
  void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
};

// Appends to a file through a buffer, hashing what it writes.
class HashingWriter {
 public:
  // Writes after `offset` at `pace`.
  HashingWriter(int fd, uint64_t offset, CheckpointPace pace, const std::string& path)
      : fd_(fd),
        offset_(offset),
        pace_(pace),
        path_(path),
        state_(XXH3_createState()),
        start_(absl::Now()) {
    XXH3_64bits_reset(state_.get());
    buffer_.reserve(kChunk);
  }
  void Append(const void* data, size_t size) {
    buffer_.append(static_cast<const char*>(data), size);
    if (buffer_.size() >= kChunk) Flush();
  }
  // Writes what is buffered; returns the first error.
  absl::Status Finish() {
    Flush();
    return status_;
  }
  uint64_t bytes() const { return bytes_; }
  uint64_t hash() const { return XXH3_64bits_digest(state_.get()); }

 private:
  void Flush() {
    if (status_.ok() && !WriteAll(fd_, buffer_.data(), buffer_.size())) {
      status_ = absl::ErrnoToStatus(errno, absl::StrCat(path_, ": write"));
    }
    // The chunk goes to the disk now, not in one burst at the fsync: a burst of writeback
    // takes the cores from the queries (docs/performance.md).
    ::sync_file_range(fd_, static_cast<off_t>(offset_ + bytes_), static_cast<off_t>(buffer_.size()),
                      SYNC_FILE_RANGE_WRITE);
    XXH3_64bits_update(state_.get(), buffer_.data(), buffer_.size());
    bytes_ += buffer_.size();
    buffer_.clear();
    if (pace_.bytes_per_second > 0 && (pace_.hurry == nullptr || !pace_.hurry->load())) {
      const absl::Time due = start_ + absl::Seconds(static_cast<double>(bytes_) /
                                                    static_cast<double>(pace_.bytes_per_second));
      absl::SleepFor(due - absl::Now());
    }
  }
  const int fd_;
  const uint64_t offset_;
  const CheckpointPace pace_;
  const std::string& path_;
  std::unique_ptr<XXH3_state_t, FreeState> state_;
  const absl::Time start_;
  std::string buffer_;
  uint64_t bytes_ = 0;
  absl::Status status_;
};

// Reads a file's body in chunks, hashing each as it arrives; never reads past `size` bytes.
class HashingReader {
 public:
  HashingReader(int fd, uint64_t offset, uint64_t size, const std::string& path)
      : fd_(fd), offset_(offset), left_(size), path_(path), state_(XXH3_createState()) {
    XXH3_64bits_reset(state_.get());
  }
  // Copies the next `size` bytes to `out`. Returns DataLoss at the end of the body, or the
  // read's error.
  absl::Status Read(void* out, size_t size) {
    auto* to = static_cast<char*>(out);
    while (size > 0) {
      if (at_ == buffer_.size()) {
        if (absl::Status s = Refill(); !s.ok()) return s;
      }
      const size_t n = std::min(size, buffer_.size() - at_);
      std::memcpy(to, buffer_.data() + at_, n);
      at_ += n, to += n, size -= n;
    }
    return absl::OkStatus();
  }
  // Returns the offset in the file of the next byte Read() returns.
  uint64_t offset() const { return offset_ - (buffer_.size() - at_); }
  // Returns the bytes of the body not read yet.
  uint64_t left() const { return left_ + (buffer_.size() - at_); }
  uint64_t hash() const { return XXH3_64bits_digest(state_.get()); }

 private:
  absl::Status Refill() {
    if (left_ == 0) return absl::DataLossError(absl::StrCat(path_, ": the body ends early"));
    buffer_.resize(std::min<uint64_t>(kChunk, left_));
    errno = 0;  // stays 0 if the file ends early
    if (!ReadAllAt(fd_, buffer_.data(), buffer_.size(), offset_)) {
      // The size was checked at the open: the file shrank meanwhile, or the disk failed.
      return absl::DataLossError(absl::StrFormat("%s: cannot read bytes %d to %d: %s", path_,
                                                 offset_, offset_ + buffer_.size(),
                                                 errno != 0 ? std::strerror(errno) : "cut short"));
    }
    XXH3_64bits_update(state_.get(), buffer_.data(), buffer_.size());
    offset_ += buffer_.size();
    left_ -= buffer_.size();
    at_ = 0;
    return absl::OkStatus();
  }
  const int fd_;
  uint64_t offset_;
  uint64_t left_;
  const std::string& path_;
  std::unique_ptr<XXH3_state_t, FreeState> state_;
  std::string buffer_;
  size_t at_ = 0;
};

}  // namespace

absl::Status OverlayCheckpoint::Write(const Snapshot& base, const Overlay& overlay,
                                      int64_t source_time, int64_t applied_time,
                                      const std::string& path, CheckpointPace pace,
                                      std::span<const AppliedDeltaFile> files) {
  // 0600: state_dir's files are the service user's only (docs/audit.md).
  return WriteStateFile(
      path,
      [&](int fd, const std::string& tmp) -> absl::Status {
        FileHeader h{};
        if (!WriteAll(fd, &h, sizeof(h))) return absl::ErrnoToStatus(errno, tmp);  // later
        HashingWriter out(fd, sizeof(FileHeader), pace, tmp);
        out.Append(overlay.changed_base_.data(), overlay.changed_base_.size() * sizeof(uint64_t));
        overlay.ForEach([&out](const OverlayEntity& e) {
          char head[kEntityHead];
          std::memcpy(head, e.key_.w, sizeof(e.key_.w));
          const uint32_t counts[] = {e.block_count_, e.link_count_, e.case_count_, e.name_size_,
                                     e.records_size_};
          for (size_t i = 0; i < 5; ++i) EncodeLittleEndian32(counts[i], head + 12 + 4 * i);
          out.Append(head, sizeof(head));
          out.Append(e.data(), e.Size() - sizeof(OverlayEntity));
        });
        const uint64_t file_count = files.size();
        out.Append(&file_count, sizeof(file_count));
        for (const AppliedDeltaFile& f : files) {
          const uint64_t fields[kFileFields] = {f.sequence,
                                                f.inode,
                                                static_cast<uint64_t>(f.size),
                                                static_cast<uint64_t>(f.mtime_ns),
                                                f.digest,
                                                f.changes,
                                                static_cast<uint64_t>(f.applied_at)};
          out.Append(fields, sizeof(fields));
        }
        if (absl::Status s = out.Finish(); !s.ok()) return s;
        std::memcpy(h.magic, kMagic, sizeof(kMagic));
        h.format_version = kFormatVersion;
        h.endian = kEndianMarker;
        h.header_size = sizeof(FileHeader);
        h.interval_size = sizeof(Interval);
        h.link_size = sizeof(OverlayLink);
        h.base_version = base.info().version;
        h.base_entities = base.entity_count();
        h.sequence = overlay.sequence();
        h.source_time = source_time;
        h.applied_time = static_cast<uint32_t>(
            std::clamp<int64_t>(applied_time, 0, std::numeric_limits<uint32_t>::max()));
        h.entity_count = overlay.size();
        h.body_bytes = out.bytes();
        h.body_hash = out.hash();
        h.header_hash = HeaderHash(h);
        if (::pwrite(fd, &h, sizeof(h), 0) != static_cast<ssize_t>(sizeof(h))) {
          return absl::ErrnoToStatus(errno, absl::StrCat(tmp, ": write"));
        }
        return absl::OkStatus();
      },
      /*mode=*/0600);
}

namespace {

// Returns the header of the checkpoint open as `fd` of `size` bytes, checked against `base`.
absl::Status ReadHeader(int fd, uint64_t size, const Snapshot& base, const std::string& path,
                        FileHeader* h, CheckpointInfo* info) {
  if (size < sizeof(FileHeader) || !ReadAllAt(fd, h, sizeof(FileHeader), 0)) {
    return absl::DataLossError(absl::StrFormat("%s: %d bytes, shorter than a header", path, size));
  }
  if (std::memcmp(h->magic, kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError(absl::StrCat(path, ": not an overlay checkpoint (bad magic)"));
  }
  if (h->header_hash != HeaderHash(*h)) {
    return absl::DataLossError(absl::StrCat(path, ": header checksum mismatch"));
  }
  if (h->format_version != kFormatVersion || h->endian != kEndianMarker ||
      h->header_size != sizeof(FileHeader) || h->interval_size != sizeof(Interval) ||
      h->link_size != sizeof(OverlayLink)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: format %d of another layout or byte order (this build reads format %d)", path,
        h->format_version, kFormatVersion));
  }
  if (info != nullptr) {
    *info = CheckpointInfo{
        h->base_version, h->sequence, h->source_time, h->applied_time, h->entity_count, size, {}};
  }
  if (h->base_version != base.info().version || h->base_entities != base.entity_count()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: made over base %016x, not over the base being loaded (%016x)", path,
                        h->base_version, base.info().version));
  }
  if (h->sequence < base.info().delta_sequence) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: at delta %d, older than its base (delta %d)", path, h->sequence,
                        base.info().delta_sequence));
  }
  if (h->body_bytes != size - sizeof(FileHeader)) {
    return absl::DataLossError(absl::StrFormat("%s: %d bytes, the header says %d", path, size,
                                               sizeof(FileHeader) + h->body_bytes));
  }
  return absl::OkStatus();
}

// Whether an entity's case offsets lie in order within its records.
bool OffsetsInRange(const uint32_t* offsets, uint32_t count, uint32_t records_size) {
  for (uint32_t i = 0; i < count; ++i) {
    if (offsets[i] > records_size || (i > 0 && offsets[i] < offsets[i - 1])) return false;
  }
  return count == 0 || offsets[0] == 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<const Overlay>> OverlayCheckpoint::Read(const Snapshot& base,
                                                                       const std::string& path,
                                                                       CheckpointInfo* info) {
  // Non-blocking open (a FIFO there must not hang the start), regular files only.
  absl::StatusOr<int> opened = OpenRegularFile(path);
  if (!opened.ok()) {
    if (absl::IsNotFound(opened.status())) {
      return absl::NotFoundError(absl::StrCat(path, ": no checkpoint"));
    }
    // Not FailedPrecondition: that is a checkpoint of another base, not a file to warn of.
    return absl::InternalError(opened.status().message());
  }
  const int fd = *opened;
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return absl::ErrnoToStatus(errno, path);
  FileHeader h{};
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (absl::Status s = ReadHeader(fd, size, base, path, &h, info); !s.ok()) return s;

  std::unique_ptr<Overlay> overlay(new Overlay());
  overlay->sequence_ = h.sequence;
  overlay->changed_base_.resize((base.entity_count() + 63) / 64);
  auto segment = std::make_shared<OverlaySegment>();
  overlay->segments_.push_back(segment);
  HashingReader in(fd, sizeof(FileHeader), h.body_bytes, path);
  if (absl::Status s =
          in.Read(overlay->changed_base_.data(), overlay->changed_base_.size() * sizeof(uint64_t));
      !s.ok()) {
    return s;
  }
  if (h.entity_count > h.body_bytes / kEntityHead) {
    return absl::DataLossError(absl::StrFormat("%s: %d entities cannot fit in %d bytes", path,
                                               h.entity_count, h.body_bytes));
  }
  overlay->entities_.reserve(h.entity_count);
  overlay->ReserveFilter(h.entity_count);
  for (uint64_t n = 0; n < h.entity_count; ++n) {
    const uint64_t at = in.offset();
    const auto bad = [&](absl::string_view why) {
      return absl::DataLossError(absl::StrFormat("%s: entity %d at byte %d: %s", path, n, at, why));
    };
    char head[kEntityHead];
    if (absl::Status s = in.Read(head, sizeof(head)); !s.ok()) return bad(s.message());
    uint32_t counts[5];
    for (size_t i = 0; i < 5; ++i) counts[i] = DecodeLittleEndian32(head + 12 + 4 * i);
    const uint64_t data_size = uint64_t{counts[0]} * sizeof(Interval) +
                               uint64_t{counts[1]} * sizeof(OverlayLink) +
                               uint64_t{counts[2]} * sizeof(uint32_t) + counts[3] + counts[4];
    if (data_size > in.left()) return bad("its sizes run past the end of the file");
    void* memory = AllocateBulk(sizeof(OverlayEntity) + data_size);
    if (memory == nullptr) std::abort();  // as operator new without exceptions
    auto* e = new (memory) OverlayEntity();
    std::memcpy(e->key_.w, head, sizeof(e->key_.w));
    e->block_count_ = counts[0];
    e->link_count_ = counts[1];
    e->case_count_ = counts[2];
    e->name_size_ = counts[3];
    e->records_size_ = counts[4];
    segment->Adopt(e);  // owned from here on, whatever follows
    if (absl::Status s = in.Read(e + 1, data_size); !s.ok()) return bad(s.message());
    const auto* offsets = reinterpret_cast<const uint32_t*>(e->links().data() + e->link_count_);
    if (!OffsetsInRange(offsets, e->case_count_, e->records_size_)) {
      return bad("its case offsets are out of order or past its records");
    }
    if (!overlay->entities_.emplace(e->key_, e).second) return bad("a subject held twice");
    overlay->filter_.Insert(HashPackedId(e->key_));
    overlay->AddOrgCodeOf(e->key_);
    overlay->entity_bytes_ += e->Bytes();
  }
  uint64_t file_count = 0;
  if (absl::Status s = in.Read(&file_count, sizeof(file_count)); !s.ok()) {
    return absl::DataLossError(absl::StrCat(path, ": no table of delta files after the entities"));
  }
  constexpr uint64_t kFileBytes = kFileFields * sizeof(uint64_t);
  if (file_count > in.left() / kFileBytes || in.left() != file_count * kFileBytes) {
    return absl::DataLossError(
        absl::StrFormat("%s: %d bytes after the last entity, for a table of %d delta files", path,
                        in.left(), file_count));
  }
  std::vector<AppliedDeltaFile> files(file_count);
  for (AppliedDeltaFile& f : files) {
    uint64_t fields[kFileFields];
    if (absl::Status s = in.Read(fields, sizeof(fields)); !s.ok()) return s;
    f = AppliedDeltaFile{
        fields[0], fields[1], static_cast<int64_t>(fields[2]), static_cast<int64_t>(fields[3]),
        fields[4], fields[5], static_cast<int64_t>(fields[6])};
  }
  if (in.hash() != h.body_hash) {
    return absl::DataLossError(absl::StrCat(path, ": checksum mismatch (a byte is wrong)"));
  }
  if (info != nullptr) info->files = std::move(files);
  return std::unique_ptr<const Overlay>(std::move(overlay));
}

}  // namespace shixin
