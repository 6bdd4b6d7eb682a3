#include "audit/reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "audit/format.h"
#include "base/status_macros.h"

namespace shixin::audit {
namespace {

constexpr size_t kMaxProblems = 100;
// Record times come from the caller's clock, header times from the writer's: a margin keeps a
// record stamped just before its segment's creation inside the range.
constexpr int64_t kSlackMicros = int64_t{60} * 1000 * 1000;

// A read-only mapping of a whole file.
class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }

  absl::Status Open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
    struct stat st;
    if (::fstat(fd, &st) < 0) {
      const int err = errno;
      ::close(fd);
      return absl::ErrnoToStatus(err, absl::StrCat("stat ", path));
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        const int err = errno;
        ::close(fd);
        size_ = 0;
        return absl::ErrnoToStatus(err, absl::StrCat("mmap ", path));
      }
      data_ = p;
      ::madvise(data_, size_, MADV_SEQUENTIAL);
    }
    ::close(fd);
    return absl::OkStatus();
  }
  std::string_view view() const { return {static_cast<const char*>(data_), size_}; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

// Returns the creation time in the header of `path`, if it has a valid one.
std::optional<int64_t> HeaderTime(const std::string& path) {
  char bytes[kHeaderSize];
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const ssize_t n = ::pread(fd, bytes, sizeof(bytes), 0);
  ::close(fd);
  if (n != static_cast<ssize_t>(kHeaderSize)) return std::nullopt;
  absl::StatusOr<SegmentHeader> header = DecodeHeader(std::string_view(bytes, kHeaderSize));
  if (!header.ok()) return std::nullopt;
  return header->created_micros;
}

// Decodes the payload into `entry` (its type set). Returns the payload's error.
absl::Status DecodeInto(RecordType type, std::string_view payload, Entry* entry) {
  entry->type = type;
  if (type == RecordType::kQuery) {
    SHIXIN_ASSIGN_OR_RETURN(entry->query, DecodeQuery(payload));
  } else {
    SHIXIN_ASSIGN_OR_RETURN(entry->feedback, DecodeFeedback(payload));
  }
  return absl::OkStatus();
}

// Visits the records of one mapped segment. Returns false when `visit` asked to stop.
absl::StatusOr<bool> VisitSegment(const std::string& path, std::string_view data, bool last,
                                  const ReadOptions& options,
                                  const std::function<bool(const Entry&)>& visit) {
  absl::StatusOr<SegmentHeader> header = DecodeHeader(data);
  if (!header.ok()) return absl::DataLossError(absl::StrCat(path, ": ", header.status().message()));
  Entry entry;
  entry.segment = header->segment;
  entry.receipt.node = header->node;
  entry.receipt.segment = header->segment;
  size_t offset = kHeaderSize;
  for (uint64_t index = 0; offset < data.size(); ++index) {
    FramedRecord r;
    const FrameStatus status = ParseRecord(data.substr(offset), &r);
    if (status == FrameStatus::kIncomplete && last) break;  // a write in progress
    if (status != FrameStatus::kOk) {
      return absl::DataLossError(absl::StrFormat("%s: record %u at offset %u: %s", path, index,
                                                 offset, FrameStatusName(status)));
    }
    if (absl::Status s = DecodeInto(r.type, r.payload, &entry); !s.ok()) {
      return absl::DataLossError(
          absl::StrFormat("%s: record %u at offset %u: %s", path, index, offset, s.message()));
    }
    entry.offset = entry.receipt.offset = offset;
    offset += r.size;
    const int64_t time =
        r.type == RecordType::kQuery ? entry.query.time_micros : entry.feedback.time_micros;
    if (time < options.from_micros || time >= options.to_micros) continue;
    if (!visit(entry)) return false;
  }
  return true;
}

}  // namespace

absl::Status ForEachRecord(const std::string& dir, const ReadOptions& options,
                           const std::function<bool(const Entry&)>& visit) {
  SHIXIN_ASSIGN_OR_RETURN(std::vector<uint32_t> segments, ListSegments(dir));
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string path = SegmentPath(dir, segments[i]);
    const bool last = i + 1 == segments.size();
    // Segment i holds records from its creation until the next segment's creation.
    if (!last) {
      const std::optional<int64_t> next = HeaderTime(SegmentPath(dir, segments[i + 1]));
      if (next.has_value() && *next + kSlackMicros < options.from_micros) continue;
    }
    const std::optional<int64_t> created = HeaderTime(path);
    if (created.has_value() && *created - kSlackMicros >= options.to_micros) break;
    MappedFile file;
    SHIXIN_RETURN_IF_ERROR(file.Open(path));
    SHIXIN_ASSIGN_OR_RETURN(bool more, VisitSegment(path, file.view(), last, options, visit));
    if (!more) break;
  }
  return absl::OkStatus();
}

namespace {

// The state Verify carries from record to record and segment to segment.
struct VerifyState {
  VerifyReport report;
  bool have_chain = false;  // chain/next_sequence are known (false after a broken segment)
  ChainHash chain{};
  uint64_t next_sequence = 1;

  void Problem(std::string text) {
    if (report.problems.size() < kMaxProblems) report.problems.push_back(std::move(text));
  }
};

void VerifySegment(const std::string& path, uint32_t number, std::string_view data, bool first,
                   bool last, VerifyState* state) {
  VerifyReport& report = state->report;
  report.bytes += data.size();
  absl::StatusOr<SegmentHeader> header = DecodeHeader(data);
  if (!header.ok()) {
    state->Problem(absl::StrCat(path, ": ", header.status().message()));
    state->have_chain = false;
    return;
  }
  if (header->segment != number) {
    state->Problem(absl::StrFormat("%s: header says segment %u", path, header->segment));
  }
  if (first) {
    report.first_sequence = header->first_sequence;
    report.chain_start_cut = header->prev_chain != ChainHash{} || header->first_sequence != 1;
  } else if (state->have_chain) {
    if (header->prev_chain != state->chain) {
      state->Problem(absl::StrCat(path,
                                  ": header's previous chain does not match the last record "
                                  "of the previous segment"));
    }
    if (header->first_sequence != state->next_sequence) {
      state->Problem(absl::StrFormat("%s: header's first sequence %u, expected %u", path,
                                     header->first_sequence, state->next_sequence));
    }
  }
  state->chain = header->prev_chain;
  state->next_sequence = header->first_sequence;
  state->have_chain = true;
  size_t offset = kHeaderSize;
  Entry entry;
  for (uint64_t index = 0; offset < data.size(); ++index) {
    FramedRecord r;
    const FrameStatus status = ParseRecord(data.substr(offset), &r);
    const std::string where = absl::StrFormat("%s: record %u at offset %u", path, index, offset);
    if (status == FrameStatus::kIncomplete && last) {
      report.notes.push_back(absl::StrCat(where, ": incomplete (a write in progress, or a torn ",
                                          "tail the writer cuts at its next start)"));
      return;
    }
    if (status != FrameStatus::kOk) {
      state->Problem(absl::StrCat(where, ": ", FrameStatusName(status)));
      state->have_chain = false;
      return;
    }
    if (NextChain(state->chain, r.type, r.payload) != r.chain) {
      state->Problem(absl::StrCat(where, ": chain mismatch (record changed, removed or inserted)"));
    }
    state->chain = r.chain;
    const uint64_t sequence = PayloadSequence(r.payload);
    if (sequence != state->next_sequence) {
      state->Problem(
          absl::StrFormat("%s: sequence %u, expected %u", where, sequence, state->next_sequence));
    }
    state->next_sequence = sequence + 1;
    report.last_sequence = sequence;
    if (absl::Status s = DecodeInto(r.type, r.payload, &entry); !s.ok()) {
      state->Problem(absl::StrCat(where, ": ", s.message()));
    }
    ++report.records;
    ++(r.type == RecordType::kQuery ? report.queries : report.feedbacks);
    offset += r.size;
  }
}

}  // namespace

absl::StatusOr<VerifyReport> Verify(const std::string& dir) {
  SHIXIN_ASSIGN_OR_RETURN(std::vector<uint32_t> segments, ListSegments(dir));
  VerifyState state;
  state.report.segments = segments.size();
  if (!segments.empty()) state.report.first_segment = segments.front();
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string path = SegmentPath(dir, segments[i]);
    if (i > 0 && segments[i] != segments[i - 1] + 1) {
      state.Problem(absl::StrFormat("%s: segment %u is missing", path, segments[i - 1] + 1));
    }
    MappedFile file;
    if (absl::Status s = file.Open(path); !s.ok()) {
      state.Problem(std::string(s.message()));
      state.have_chain = false;
      continue;
    }
    VerifySegment(path, segments[i], file.view(), i == 0, i + 1 == segments.size(), &state);
  }
  return state.report;
}

}  // namespace shixin::audit
