#include "audit/start_check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "audit/format.h"
#include "audit/marks.h"

namespace shixin::audit {
namespace {

// Reads `size` bytes of `path` at `offset`; nullopt when they cannot all be read.
std::optional<std::string> ReadAt(const std::string& path, uint64_t offset, uint64_t size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string bytes(size, '\0');
  uint64_t got = 0;
  while (got < size) {
    const ssize_t n = ::pread(fd, bytes.data() + got, size - got, static_cast<off_t>(offset + got));
    if (n <= 0) break;
    got += static_cast<uint64_t>(n);
  }
  ::close(fd);
  if (got < size) return std::nullopt;
  return bytes;
}

struct Closed {
  SegmentHeader header;
  std::string path;
  uint64_t size = 0;
};

absl::Status Damage(const StreamCheck& check, const std::string& what) {
  return absl::DataLossError(absl::StrCat(what, DamageAdvice(check.dir)));
}

// Returns the chain value a closed segment ends with: its last seal's (format 1: its last
// record's), or its start chain if it has no record. nullopt when its last bytes are no seal.
std::optional<ChainHash> EndChain(const Closed& c) {
  if (c.size == kHeaderSize) return StartChain(c.header);
  if (c.header.version == 1) {
    if (c.size < kHeaderSize + RecordOverhead(1)) return std::nullopt;
    std::optional<std::string> tail = ReadAt(c.path, c.size - kChainSize, kChainSize);
    if (!tail.has_value()) return std::nullopt;
    ChainHash chain;
    std::copy(tail->begin(), tail->end(), chain.begin());
    return chain;
  }
  if (c.size < kHeaderSize + kSealSize) return std::nullopt;
  std::optional<std::string> tail = ReadAt(c.path, c.size - kSealSize, kSealSize);
  FramedRecord r;
  if (!tail.has_value() || ParseRecord(*tail, c.header.version, &r) != FrameStatus::kOk ||
      r.type != RecordType::kSeal) {
    return std::nullopt;
  }
  return r.chain;
}

// Walks closed segment `c` from its last mark that is followed by a record (from the header
// when it has no marks file) to its end. Returns its last record's sequence (first_sequence - 1
// when it has none), or DataLoss where a frame does not parse.
absl::StatusOr<uint64_t> LastSequence(const StreamCheck& check, const Closed& c) {
  absl::StatusOr<SegmentMarks> marks = ReadMarks(check.dir, c.header.segment);
  std::vector<uint64_t> from = marks.ok() ? marks->offsets : FirstMarks();
  for (auto mark = from.rbegin(); mark != from.rend(); ++mark) {
    if (*mark >= c.size) continue;
    std::optional<std::string> bytes = ReadAt(c.path, *mark, c.size - *mark);
    if (!bytes.has_value()) return absl::DataLossError(absl::StrCat(c.path, ": cannot be read"));
    std::optional<uint64_t> last;
    FramedRecord r;
    for (size_t at = 0; at < bytes->size(); at += r.size) {
      const FrameStatus status =
          ParseRecord(std::string_view(*bytes).substr(at), c.header.version, &r);
      if (status != FrameStatus::kOk) {
        return Damage(check, absl::StrFormat("%s: record at offset %u: %s, in a closed segment "
                                             "(cut or changed since it was closed)",
                                             c.path, *mark + at, FrameStatusName(status)));
      }
      if (r.type != RecordType::kSeal) last = PayloadSequence(r.type, r.payload, c.header);
    }
    if (last.has_value()) return *last;
  }
  return c.header.first_sequence - 1;
}

}  // namespace

std::string DamageAdvice(const std::string& dir) {
  const size_t slash = dir.rfind('/');
  const std::string state = slash == std::string::npos ? "." : dir.substr(0, slash);
  return absl::StrFormat(
      ". shixind does not append to a damaged audit: run `shixin audit verify %s` to see all "
      "of the damage, then restore %s and %s/node_id from a backup that verify finds intact, or "
      "move both aside (stop shixind; mkdir AWAY; mv %s %s/node_id AWAY/), keep AWAY for `shixin "
      "audit verify`, `audit query` and `report --audit AWAY/audit`, and start shixind: it "
      "starts a new node (docs/audit.md, \"Damage found at start\")",
      dir, dir, state, dir, state);
}

absl::Status CheckStreamSegments(const StreamCheck& check, std::string* note) {
  if (check.segments.empty()) return absl::OkStatus();
  const uint32_t stream = StreamOf(check.segments.front());
  std::vector<Closed> segments;
  for (size_t i = 0; i < check.segments.size(); ++i) {
    const uint32_t number = check.segments[i];
    Closed c;
    c.path = SegmentPath(check.dir, number);
    if (i > 0 && number != check.segments[i - 1] + 1) {
      return Damage(
          check, absl::StrFormat("%s: segment %s of stream %u is missing (%s follows "
                                 "%s): segments are removed oldest first, never from "
                                 "the middle",
                                 check.dir, SegmentFileName(check.segments[i - 1] + 1), stream,
                                 SegmentFileName(number), SegmentFileName(check.segments[i - 1])));
    }
    absl::StatusOr<SegmentHeader> header = ReadHeader(c.path);
    if (!header.ok()) {
      return Damage(check, absl::StrCat(c.path, ": ", header.status().message()));
    }
    c.header = *header;
    if (c.header.segment != number) {
      return Damage(check, absl::StrFormat("%s: its header says segment %u (files renamed, or "
                                           "a segment copied over another)",
                                           c.path, c.header.segment));
    }
    // The last segment's node is Recover's (a state_dir restored with another node_id).
    if (i + 1 < check.segments.size() && c.header.node != check.node) {
      return Damage(check, absl::StrFormat("%s: written by node %08x, not by this node "
                                           "(%08x): another node's segment",
                                           c.path, c.header.node, check.node));
    }
    struct stat st;
    c.size = ::stat(c.path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    segments.push_back(std::move(c));
  }
  const Closed& first = segments.front();
  if (first.header.segment == FirstSegment(stream)) {
    if (first.header.first_sequence != 1 || first.header.prev_chain != ChainHash{}) {
      return Damage(check, absl::StrFormat("%s: the stream's first segment starts at seq=%u "
                                           "with previous chain %s (expected seq=1 and zeros)",
                                           first.path, first.header.first_sequence,
                                           ChainText(first.header.prev_chain)));
    }
  } else if (note != nullptr &&
             (check.retention_days <= 0 ||
              first.header.created_micros >=
                  check.now_micros - int64_t{check.retention_days} * kMicrosPerDay)) {
    // Not refused: a retention shorter before (raised since, or set to keep everything) removed
    // them as legitimately as today's would. Said, since an insider could have too.
    *note = absl::StrFormat(
        "%s: the segments of stream %u before %s are missing, and today's retention cannot have "
        "removed them: %s, created %s, is %s (retention removes a segment once the next one is "
        "audit_retention_days = %d days old); if audit_retention_days was never shorter, run "
        "`shixin audit verify %s`",
        check.dir, stream, SegmentFileName(first.header.segment),
        SegmentFileName(first.header.segment), FormatUtcMicros(first.header.created_micros),
        check.retention_days <= 0 ? "kept forever (audit_retention_days <= 0)"
                                  : "younger than that",
        check.retention_days, check.dir);
  }
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    const Closed& c = segments[i];
    const Closed& next = segments[i + 1];
    if (absl::StatusOr<SegmentMarks> marks = ReadMarks(check.dir, c.header.segment);
        marks.ok() && marks->covered != c.size) {
      return Damage(check, absl::StrFormat("%s is %u bytes, but it was closed at %u bytes (its "
                                           "marks file): cut or extended since",
                                           c.path, c.size, marks->covered));
    }
    const std::optional<ChainHash> end = EndChain(c);
    if (!end.has_value()) {
      return Damage(check, absl::StrFormat("%s (%u bytes) does not end with a seal: a closed "
                                           "segment cut or extended since it was closed",
                                           c.path, c.size));
    }
    if (*end != next.header.prev_chain) {
      return Damage(check, absl::StrFormat("%s: its header's previous chain %s is not the chain "
                                           "value %s that %s ends with (segments replaced, "
                                           "reordered or rewritten)",
                                           next.path, ChainText(next.header.prev_chain),
                                           ChainText(*end), SegmentFileName(c.header.segment)));
    }
    if (i + 2 < segments.size()) {  // only the last pair is walked: a stride each
      if (next.header.first_sequence < c.header.first_sequence) {
        return Damage(check,
                      absl::StrFormat("%s: its header says first seq=%u, but %s starts at "
                                      "seq=%u",
                                      next.path, next.header.first_sequence,
                                      SegmentFileName(c.header.segment), c.header.first_sequence));
      }
      continue;
    }
    absl::StatusOr<uint64_t> last = LastSequence(check, c);
    if (!last.ok()) return last.status();
    if (next.header.first_sequence != *last + 1) {
      return Damage(check, absl::StrFormat("%s: its header says first seq=%u, but %s ends at "
                                           "seq=%u (records missing, or a segment replaced)",
                                           next.path, next.header.first_sequence,
                                           SegmentFileName(c.header.segment), *last));
    }
  }
  return absl::OkStatus();
}

}  // namespace shixin::audit
