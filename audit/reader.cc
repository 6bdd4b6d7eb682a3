#include "audit/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "audit/format.h"
#include "audit/write_order.h"
#include "base/coding.h"
#include "base/ordered_parallel.h"
#include "base/status_macros.h"
#include "core/file_data.h"
#include "core/paths.h"

namespace shixin::audit {
namespace {

constexpr size_t kMaxProblems = 100;
// ReadQueryAt reads the length fields before a receipt's offset in chunks of this size: one
// read for the daemon's walk from a mark (audit/marks.h).
constexpr size_t kWalkChunk = size_t{68} << 10;
// Record times come from the caller's clock, header times from the writer's: a margin keeps a
// record stamped just before its segment's creation inside the range.
constexpr int64_t kSlackMicros = int64_t{60} * 1000 * 1000;

// Returns the creation time in the header of `path`, if it has a valid one.
std::optional<int64_t> HeaderTime(const std::string& path) {
  absl::StatusOr<SegmentHeader> header = ReadHeader(path);
  if (!header.ok()) return std::nullopt;
  return header->created_micros;
}

// ListSegments(), NotFound if there are none: a directory without segments is not an audit
// (shixind creates the first segment when it starts), most likely the wrong one.
absl::StatusOr<std::vector<uint32_t>> ListAuditSegments(const std::string& dir) {
  SHIXIN_ASSIGN_OR_RETURN(std::vector<uint32_t> segments, ListSegments(dir));
  if (segments.empty()) {
    return absl::NotFoundError(absl::StrCat("no audit segments (NNNNNNNNNN.audit) in ", dir,
                                            ": the audit is state_dir/audit"));
  }
  return segments;
}

// Decodes the payload of a record of the segment of `header` into `entry` (its type set).
// Returns the payload's error.
absl::Status DecodeInto(RecordType type, std::string_view payload, const SegmentHeader& header,
                        Entry* entry) {
  entry->type = type;
  if (type == RecordType::kQuery) {
    SHIXIN_ASSIGN_OR_RETURN(entry->query, DecodeQuery(payload, header.query_base()));
  } else {
    SHIXIN_ASSIGN_OR_RETURN(entry->feedback, DecodeFeedback(payload));
  }
  return absl::OkStatus();
}

// Says what a seal whose chain does not follow covers: the records from seq=`first` to before
// `next`, or none (the records it sealed removed whole: `first` is the first missing). `also`
// adds a cause.
std::string SealMismatch(uint64_t offset, uint64_t first, uint64_t next, std::string_view also) {
  if (first >= next) {
    return absl::StrFormat(
        "seal at offset %u covers no record: seq=%u is missing before it (the records it sealed "
        "removed, or the seal inserted%s)",
        offset, first, also);
  }
  return absl::StrFormat(
      "seal at offset %u: chain mismatch over records seq=%u to %u (a record changed, removed or "
      "inserted%s)",
      offset, first, next - 1, also);
}

void AddProblem(std::vector<std::string>* problems, std::string text) {
  if (problems->size() < kMaxProblems) problems->push_back(std::move(text));
}

// Where the read of a stream stands: what the next segment read must follow from.
struct StreamRead {
  bool whole = false;  // the segment before was read to its end
  ChainHash chain{};   // its last chain value
  uint64_t next_sequence = 0;
  uint64_t sealed_sequence = 0;  // the last record its last seal covers
};

// Visits the records of one mapped segment. Returns false when `visit` asked to stop. With
// `check`, follows the chain and the sequence numbers from `link` (the segment read before) and
// adds what does not follow to it; `link` then says where this segment ends.
absl::StatusOr<bool> VisitSegment(const std::string& path, std::string_view data, bool last,
                                  const ReadOptions& options,
                                  const std::function<bool(const Entry&)>& visit, StreamRead* link,
                                  ReadCheck* check) {
  // Damage the checksums show: with `check`, a problem, and the next segment is read (it does
  // not follow from this one); without, the read stops.
  auto damage = [&](const std::string& text) -> absl::StatusOr<bool> {
    if (check == nullptr) return absl::DataLossError(absl::StrCat(path, ": ", text));
    AddProblem(
        &check->problems,
        absl::StrCat(path, ": ", text, last ? "" : " (the rest of the segment is not read)"));
    link->whole = false;
    return true;
  };
  absl::StatusOr<SegmentHeader> header = DecodeHeader(data);
  if (!header.ok()) return damage(std::string(header.status().message()));
  auto problem = [&](const std::string& text) {
    if (check != nullptr) AddProblem(&check->problems, absl::StrCat(path, ": ", text));
  };
  if (check != nullptr && link->whole) {
    if (header->prev_chain != link->chain) {
      problem("header's previous chain does not match the end of the previous segment");
    }
    if (header->first_sequence != link->next_sequence) {
      problem(absl::StrFormat("header's first sequence %u, expected %u", header->first_sequence,
                              link->next_sequence));
    }
  }
  ChainCheck chain(header->version, StartChain(*header));
  uint64_t next_sequence = header->first_sequence, batch_first = next_sequence;
  uint64_t sealed_sequence = next_sequence - 1;
  Entry entry;
  entry.segment = header->segment;
  entry.receipt.node = header->node;
  entry.receipt.segment = header->segment;
  size_t offset = kHeaderSize;
  while (offset < data.size()) {
    FramedRecord r;
    const FrameStatus status = ParseRecord(data.substr(offset), header->version, &r);
    if (status != FrameStatus::kOk) {
      const size_t next = FindValidFrameAfter(data, offset, header->version);
      if (last && next == 0) break;  // a write in progress, or a torn tail
      return damage(absl::StrFormat(
          "record at offset %u (seq=%u expected): %s%s", offset, next_sequence,
          FrameStatusName(status),
          next == 0 ? "" : absl::StrFormat(", followed by a valid record at offset %u", next)));
    }
    const size_t at = offset;
    offset += r.size;
    // The chain only when asked: the SHA-256 is most of a read's time.
    const bool chained = check == nullptr || chain.Add(r);
    if (r.type == RecordType::kSeal) {  // not a record
      if (!chained) {
        problem(SealMismatch(at, batch_first, next_sequence, ""));
      }
      batch_first = next_sequence;
      sealed_sequence = next_sequence - 1;
      continue;
    }
    if (!chained) problem(absl::StrFormat("record at offset %u: chain mismatch", at));
    if (absl::Status s = DecodeInto(r.type, r.payload, *header, &entry); !s.ok()) {
      const std::string text = absl::StrFormat("record at offset %u (seq=%u expected): %s", at,
                                               next_sequence, s.message());
      if (check == nullptr) return absl::DataLossError(absl::StrCat(path, ": ", text));
      problem(absl::StrCat(text, " (not read)"));  // the frames after it are whole
      ++next_sequence;
      continue;
    }
    const bool query = r.type == RecordType::kQuery;
    const uint64_t sequence = query ? entry.query.sequence : entry.feedback.sequence;
    if (sequence != next_sequence) {
      problem(absl::StrFormat("record at offset %u: sequence %u, expected %u", at, sequence,
                              next_sequence));
    }
    next_sequence = sequence + 1;
    entry.offset = entry.receipt.offset = at;
    const int64_t time = query ? entry.query.time_micros : entry.feedback.time_micros;
    if (time < options.from_micros || time >= options.to_micros) continue;
    if (!visit(entry)) return false;
  }
  if (check != nullptr && !last && chain.unsealed() > 0) {
    problem(absl::StrFormat("%u records at its end without a seal (a segment ends with a seal)",
                            chain.unsealed()));
  }
  // Format 1 chains every record: its chain value is the last record's.
  if (header->version == 1) sealed_sequence = next_sequence - 1;
  *link = {true, chain.chain(), next_sequence, sealed_sequence};
  return true;
}

// Returns which of a stream's `segments` (ascending) hold no record of `options`' range, by
// their header times alone. A writer stamps a stream's records in order (FORMAT.md, "Times never
// go back in a stream"), so a segment holds records from its creation to the next one's; but a
// segment created before the one before it (an older writer's clock set back, or a header
// changed) bounds nothing, and the segments on either side of it are read: one header dated
// back does not hide another segment.
std::vector<bool> OutsideRange(const std::string& dir, const std::vector<uint32_t>& segments,
                               const ReadOptions& options) {
  const size_t n = segments.size();
  std::vector<bool> skip(n, false);
  if (options.from_micros == std::numeric_limits<int64_t>::min() &&
      options.to_micros == std::numeric_limits<int64_t>::max()) {
    return skip;
  }
  std::vector<std::optional<int64_t>> created(n);
  for (size_t i = 0; i < n; ++i) created[i] = HeaderTime(SegmentPath(dir, segments[i]));
  // Whether segment i's creation time (known) follows segment i - 1's.
  auto ordered = [&](size_t i) {
    return created[i].has_value() && (i == 0 || (created[i - 1].has_value() &&
                                                 *created[i] >= *created[i - 1] - kSlackMicros));
  };
  for (size_t i = 0; i < n; ++i) {
    const bool before =
        i + 1 < n && ordered(i + 1) && *created[i + 1] + kSlackMicros < options.from_micros;
    const bool after = ordered(i) && *created[i] - kSlackMicros >= options.to_micros;
    skip[i] = before || after;
  }
  return skip;
}

}  // namespace

absl::Status ForEachRecord(const std::string& dir, const ReadOptions& options,
                           const std::function<bool(const Entry&)>& visit, ReadCheck* check) {
  SHIXIN_ASSIGN_OR_RETURN(std::vector<uint32_t> all, ListAuditSegments(dir));
  for (const std::vector<uint32_t>& segments : SplitByStream(all)) {
    const std::vector<bool> skip = OutsideRange(dir, segments, options);
    StreamRead link;
    StreamRead ended;  // where the last segment read ends
    for (size_t i = 0; i < segments.size(); ++i) {
      const std::string path = SegmentPath(dir, segments[i]);
      const bool last = i + 1 == segments.size();
      if (skip[i]) {
        link.whole = false;  // the next segment read does not follow from the one before this
        continue;
      }
      // A segment missing before one read may have held records of the range.
      if (check != nullptr && i > 0 && segments[i] != segments[i - 1] + 1) {
        AddProblem(&check->problems,
                   absl::StrFormat("%s: segment %u is missing", path, segments[i - 1] + 1));
        link.whole = false;
      }
      FileData file;
      SHIXIN_RETURN_IF_ERROR(file.Open(path));
      SHIXIN_ASSIGN_OR_RETURN(bool more,
                              VisitSegment(path, file.data(), last, options, visit, &link, check));
      if (!more) return absl::OkStatus();
      ended = link;
    }
    if (check != nullptr && ended.whole) {
      check->streams.push_back({StreamOf(segments.front()), ended.next_sequence - 1,
                                ended.sealed_sequence, ended.chain});
    }
  }
  return absl::OkStatus();
}

namespace {

// What Verify finds in one segment on its own (segments are checked in parallel; the links
// between them are checked in order afterwards).
struct SegmentCheck {
  std::string path;
  std::vector<std::string> problems, notes, time_anomalies;
  uint64_t records = 0, queries = 0, feedbacks = 0, bytes = 0;
  std::optional<SegmentHeader> header;
  bool complete = false;  // every byte parsed as records (the end is known)
  ChainHash last_chain{};
  uint64_t next_sequence = 0;
  uint64_t sealed_sequence = 0;      // the last record the last seal covers
  std::optional<int64_t> last_time;  // the newest record's time
};

// `now` is the time of the check: nothing can have been written after it.
SegmentCheck CheckSegment(const std::string& path, uint32_t number, bool last, int64_t now) {
  SegmentCheck check;
  check.path = path;
  FileData file;
  if (absl::Status s = file.Open(path); !s.ok()) {
    AddProblem(&check.problems, std::string(s.message()));
    return check;
  }
  const std::string_view data = file.data();
  check.bytes = data.size();
  absl::StatusOr<SegmentHeader> header = DecodeHeader(data);
  if (!header.ok()) {
    AddProblem(&check.problems, absl::StrCat(path, ": ", header.status().message()));
    return check;
  }
  check.header = *header;
  if (header->segment != number) {
    AddProblem(&check.problems,
               absl::StrFormat("%s: header says segment %u", path, header->segment));
  }
  // A time after the check's (beyond the margin) was not stamped by a clock that was right: not
  // a clock set back, whose times the chain explains, but times ahead of the audit's reader.
  const bool future_header = header->created_micros > now + kSlackMicros;
  if (future_header) {
    AddProblem(
        &check.problems,
        absl::StrFormat("%s: created %s, after this check (%s): a segment header dated in "
                        "the future (its queries' times are stored against it)",
                        path, FormatUtcMicros(header->created_micros), FormatUtcMicros(now)));
  }
  ChainCheck chain(header->version, StartChain(*header));
  uint64_t early = 0;   // records dated before the segment's creation
  uint64_t future = 0;  // records dated after the check
  std::string first_early, first_future;
  uint64_t& next_sequence = check.next_sequence;  // as far as the records parsed go
  next_sequence = header->first_sequence;
  check.sealed_sequence = next_sequence - 1;
  size_t offset = kHeaderSize, sealed_end = kHeaderSize;
  // Records are named by their sequence numbers, as `audit query` prints them (seq=N).
  uint64_t batch_first = next_sequence;  // the first record since the last seal
  Entry entry;
  while (offset < data.size()) {
    FramedRecord r;
    const FrameStatus status = ParseRecord(data.substr(offset), header->version, &r);
    std::string where =
        absl::StrFormat("%s: record at offset %u (seq=%u expected)", path, offset, next_sequence);
    if (status != FrameStatus::kOk) {
      const size_t next = FindValidFrameAfter(data, offset, header->version);
      if (last && next == 0) {  // the rule by which the writer cuts a torn tail at its start
        check.notes.push_back(absl::StrCat(where, ": ", FrameStatusName(status),
                                           " (a write in progress, or a torn tail the writer "
                                           "cuts at its next start)"));
        break;
      }
      AddProblem(&check.problems,
                 next == 0 ? absl::StrCat(where, ": ", FrameStatusName(status))
                           : absl::StrFormat("%s: %s, followed by a valid record at offset %u: "
                                             "damage, not a torn tail",
                                             where, FrameStatusName(status), next));
      return check;
    }
    if (r.type == RecordType::kSeal) {
      if (!chain.Add(r)) {
        AddProblem(&check.problems,
                   absl::StrCat(path, ": ",
                                SealMismatch(offset, batch_first, next_sequence,
                                             sealed_end == kHeaderSize &&
                                                     header->version >= kChainedHeaderFormat
                                                 ? ", or the segment header changed"
                                                 : "")));
      }
      offset += r.size;
      sealed_end = offset;
      batch_first = next_sequence;
      check.sealed_sequence = next_sequence - 1;
      continue;
    }
    const uint64_t sequence = PayloadSequence(r.type, r.payload, *header);
    where = absl::StrFormat("%s: record seq=%u at offset %u", path, sequence, offset);
    if (!chain.Add(r)) {
      AddProblem(&check.problems,
                 absl::StrCat(where, ": chain mismatch (record changed, removed or inserted)"));
    }
    if (sequence != next_sequence) {
      AddProblem(&check.problems,
                 absl::StrFormat("%s: sequence %u, expected %u", where, sequence, next_sequence));
    }
    next_sequence = sequence + 1;
    if (absl::Status s = DecodeInto(r.type, r.payload, *header, &entry); !s.ok()) {
      AddProblem(&check.problems, absl::StrCat(where, ": ", s.message()));
    } else {
      const int64_t time =
          r.type == RecordType::kQuery ? entry.query.time_micros : entry.feedback.time_micros;
      if (time < header->created_micros - kSlackMicros && early++ == 0) {
        first_early = absl::StrCat(where, ", dated ", FormatUtcMicros(time));
      }
      if (time > now + kSlackMicros && future++ == 0) {
        first_future = absl::StrCat(where, ", dated ", FormatUtcMicros(time));
      }
      check.last_time = std::max(check.last_time.value_or(time), time);
    }
    ++check.records;
    ++(r.type == RecordType::kQuery ? check.queries : check.feedbacks);
    offset += r.size;
  }
  if (future > 0) {
    AddProblem(&check.problems,
               absl::StrFormat("%s: %u records dated after this check (%s), the first %s: not "
                               "written yet",
                               path, future, FormatUtcMicros(now), first_future));
  }
  if (early > 0) {
    // A chained header's time is as written: the writer's clock was behind its creation (unless
    // the creation is in the future, a problem already).
    const bool chained = header->version >= kChainedHeaderFormat;
    AddProblem(chained && !future_header ? &check.time_anomalies : &check.problems,
               absl::StrFormat("%s: %u records dated before the segment's creation %s (%s), the "
                               "first %s",
                               path, early, FormatUtcMicros(header->created_micros),
                               future_header ? "which is in the future"
                               : chained     ? "the writer's clock was set back"
                                             : "the header's time was changed?",
                               first_early));
  }
  if (chain.unsealed() > 0) {
    const std::string what = absl::StrFormat("%s: %u records from offset %u without a seal", path,
                                             chain.unsealed(), sealed_end);
    if (last) {
      check.notes.push_back(absl::StrCat(what, " (a write in progress, or a torn tail the ",
                                         "writer cuts at its next start)"));
    } else {
      AddProblem(&check.problems, absl::StrCat(what, " (a segment ends with a seal)"));
    }
  }
  check.complete = true;
  check.last_chain = chain.chain();
  if (header->version == 1) check.sealed_sequence = next_sequence - 1;  // chained per record
  return check;
}

// Adds the problems of `check` and its link to the segment before in its stream (`prev`, null
// for the stream's first) to `report` and to the stream's summary `stream`.
// `now` is the time of the check (a previous segment's time after it is a problem already).
void Merge(const SegmentCheck* prev, uint32_t prev_number, uint32_t number, SegmentCheck& check,
           int64_t now, VerifyReport* report, VerifyReport::Stream* stream) {
  auto problem = [report](std::string text) { AddProblem(&report->problems, std::move(text)); };
  if (prev != nullptr && number != prev_number + 1) {
    problem(absl::StrFormat("%s: segment %u is missing", check.path, prev_number + 1));
  }
  if (check.header.has_value()) {
    if (prev == nullptr) {
      stream->first_sequence = check.header->first_sequence;
      stream->chain_start_cut =
          check.header->prev_chain != ChainHash{} || check.header->first_sequence != 1;
      stream->first_created_micros = check.header->created_micros;
    } else if (prev->header.has_value()) {
      const int64_t created = check.header->created_micros;
      // A chained header's time is as written (the writer's clock), not changed since.
      auto time_problem = [&](std::string text) {
        if (check.header->version < kChainedHeaderFormat) return problem(std::move(text));
        AddProblem(&report->time_anomalies, std::move(text));
      };
      // After a segment dated in the future (its problem), a time before it is no clock set back.
      const bool prev_future = prev->header->created_micros > now + kSlackMicros ||
                               prev->last_time.value_or(0) > now + kSlackMicros;
      if (prev_future) {
        // Nothing more to say.
      } else if (created < prev->header->created_micros - kSlackMicros) {
        time_problem(absl::StrFormat("%s: created %s, before the previous segment (%s)", check.path,
                                     FormatUtcMicros(created),
                                     FormatUtcMicros(prev->header->created_micros)));
      } else if (prev->last_time.has_value() && created < *prev->last_time - kSlackMicros) {
        time_problem(absl::StrFormat(
            "%s: created %s, before the last record of the previous segment "
            "(%s)",
            check.path, FormatUtcMicros(created), FormatUtcMicros(*prev->last_time)));
      }
    }
    if (check.header->version < kChainedHeaderFormat) ++stream->unchained_headers;
    if (prev != nullptr && prev->complete) {
      if (check.header->prev_chain != prev->last_chain) {
        problem(absl::StrCat(check.path, ": header's previous chain does not match the end of ",
                             "the previous segment"));
      }
      if (check.header->first_sequence != prev->next_sequence) {
        problem(absl::StrFormat("%s: header's first sequence %u, expected %u", check.path,
                                check.header->first_sequence, prev->next_sequence));
      }
    }
  }
  for (std::string& p : check.problems) problem(std::move(p));
  for (std::string& n : check.notes) report->notes.push_back(std::move(n));
  for (std::string& t : check.time_anomalies) AddProblem(&report->time_anomalies, std::move(t));
  report->records += check.records;
  report->queries += check.queries;
  report->feedbacks += check.feedbacks;
  report->bytes += check.bytes;
  ++stream->segments;
  stream->records += check.records;
  // Where the stream's chain ends, once its last segment is merged (none past damage).
  stream->sealed_sequence = check.complete ? check.sealed_sequence : 0;
  stream->last_chain = check.complete ? check.last_chain : ChainHash{};
  if (check.records > 0) stream->last_sequence = check.next_sequence - 1;
}

// Adds the problems and notes that concern whole streams: segments removed too early for
// retention, and headers outside the chain.
void CheckStreams(const std::string& dir, const VerifyOptions& options, int64_t now,
                  VerifyReport* report) {
  const int64_t retention = int64_t{options.retention_days} * kMicrosPerDay;
  for (const VerifyReport::Stream& st : report->streams) {
    const std::string path = SegmentPath(dir, st.first_segment);
    if (options.retention_days > 0 && st.chain_start_cut &&
        st.first_created_micros > now - retention) {
      AddProblem(
          &report->problems,
          absl::StrFormat("%s: the segments before it were removed, but it was created "
                          "%s, less than %d days ago: retention would have kept them "
                          "(deleted early)",
                          path, FormatUtcMicros(st.first_created_micros), options.retention_days));
    }
    if (st.unchained_headers > 0) {
      report->notes.push_back(absl::StrFormat(
          "stream %u: %u segments of format 4 or older from %s: their headers (creation time, "
          "node, first sequence) are not chained, only checksummed",
          st.stream, st.unchained_headers, path));
    }
  }
}

}  // namespace

absl::StatusOr<VerifyReport> Verify(const std::string& dir, const VerifyOptions& options) {
  SHIXIN_ASSIGN_OR_RETURN(std::vector<uint32_t> segments, ListAuditSegments(dir));
  const int64_t now =
      options.now_micros != 0 ? options.now_micros : absl::ToUnixMicros(absl::Now());
  VerifyReport report;
  report.segments = segments.size();
  // Whether segments i and j (ascending: grouped by stream) are of one stream.
  auto same_stream = [&](size_t i, size_t j) {
    return StreamOf(segments[i]) == StreamOf(segments[j]);
  };
  // The SHA-256 chain dominates: segments are checked on up to 4 threads.
  const int threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
  std::optional<SegmentCheck> prev;
  RunOrdered<SegmentCheck>(
      segments.size(), threads, static_cast<size_t>(threads) * 2,
      [&](size_t i) {
        const bool last = i + 1 == segments.size() || !same_stream(i, i + 1);
        return CheckSegment(SegmentPath(dir, segments[i]), segments[i], last, now);
      },
      [&](size_t i, SegmentCheck& check) {
        const bool first = i == 0 || !same_stream(i - 1, i);
        if (first) {
          report.streams.emplace_back();
          report.streams.back().stream = StreamOf(segments[i]);
          report.streams.back().first_segment = segments[i];
        }
        Merge(first ? nullptr : &*prev, first ? 0 : segments[i - 1], segments[i], check, now,
              &report, &report.streams.back());
        prev = std::move(check);
        return true;
      });
  CheckStreams(dir, options, now, &report);
  return report;
}

absl::StatusOr<Coverage> CompleteSince(const std::string& dir) {
  SHIXIN_ASSIGN_OR_RETURN(std::vector<uint32_t> all, ListAuditSegments(dir));
  std::optional<int64_t> began;  // the earliest first segment of a stream
  std::optional<int64_t> cut;    // the latest first segment left after a removal
  for (const std::vector<uint32_t>& segments : SplitByStream(all)) {
    const std::string path = SegmentPath(dir, segments.front());
    absl::StatusOr<SegmentHeader> header = ReadHeader(path);
    if (!header.ok()) {
      return absl::DataLossError(absl::StrCat(path, ": ", header.status().message()));
    }
    const int64_t created = header->created_micros;
    began = std::min(began.value_or(created), created);
    if (header->first_sequence != 1 || header->prev_chain != ChainHash{}) {
      cut = std::max(cut.value_or(created), created);
    }
  }
  // A stream begun later (more I/O threads) lost nothing: the others recorded until then.
  if (cut.has_value()) return Coverage{*cut, true};
  return Coverage{began.value_or(0), false};
}

namespace {

// Returns the record (of either type) framed at `receipt.offset` of the segment file `path`,
// whose bytes up to `limit` may be read, walking the length fields from the record boundary
// `from`; checksum checked. NotFound naming the receipt when there is no intact query or
// feedback record at a boundary there.
absl::StatusOr<OwnedRecord> ReadRecordAt(const std::string& path, const Receipt& receipt,
                                         uint64_t limit, uint64_t from) {
  const absl::Status not_found =
      absl::NotFoundError(absl::StrCat("receipt ", receipt.ToString(), ": no record"));
  if (receipt.offset < kHeaderSize || from < kHeaderSize || from > receipt.offset ||
      receipt.offset + kRecordPrefix > limit) {
    return not_found;
  }
  absl::StatusOr<int> opened = OpenRegularFile(path);  // never blocks on a FIFO
  if (!opened.ok()) return not_found;
  const int fd = *opened;
  // The header says the segment's format, and so the frame's size.
  char head[kHeaderSize];
  bool read_ok = ::pread(fd, head, sizeof(head), 0) == static_cast<ssize_t>(sizeof(head));
  absl::StatusOr<SegmentHeader> header = read_ok
                                             ? DecodeHeader(std::string_view(head, sizeof(head)))
                                             : absl::StatusOr<SegmentHeader>(not_found);
  const size_t overhead = header.ok() ? RecordOverhead(header->version) : 0;
  // A frame at an offset the walk steps over is inside another record (its payload may hold a
  // forged frame with a valid checksum): only a boundary the writer produced resolves. The
  // length fields are read a chunk at a time, up to the offset (never past `limit`).
  uint64_t at = from;
  std::string chunk;
  while (header.ok() && at < receipt.offset) {
    chunk.resize(std::min<uint64_t>(kWalkChunk, receipt.offset - at + 4));
    const ssize_t got = ::pread(fd, chunk.data(), chunk.size(), static_cast<off_t>(at));
    if (got < 4) break;
    size_t i = 0;
    while (at + i < receipt.offset && i + 4 <= static_cast<size_t>(got)) {
      const uint32_t n = DecodeLittleEndian32(chunk.data() + i);
      if (n > kMaxPayload) break;
      i += n + overhead;
    }
    if (at + i < receipt.offset && i + 4 <= static_cast<size_t>(got)) break;  // a bad length
    at += i;
  }
  char prefix[kRecordPrefix];
  read_ok = header.ok() && at == receipt.offset &&
            ::pread(fd, prefix, sizeof(prefix), static_cast<off_t>(receipt.offset)) ==
                static_cast<ssize_t>(sizeof(prefix));
  const uint32_t n = read_ok ? DecodeLittleEndian32(prefix) : 0;
  read_ok = read_ok && n <= kMaxPayload && receipt.offset + n + overhead <= limit;
  std::string frame;
  if (read_ok) {
    frame.resize(n + overhead);
    read_ok = ::pread(fd, frame.data(), frame.size(), static_cast<off_t>(receipt.offset)) ==
              static_cast<ssize_t>(frame.size());
  }
  ::close(fd);
  FramedRecord r;
  if (!read_ok || ParseRecord(frame, header->version, &r) != FrameStatus::kOk ||
      r.type == RecordType::kSeal) {
    return not_found;
  }
  OwnedRecord out;
  out.type = r.type;
  out.payload = std::make_unique<const std::string>(r.payload);
  if (r.type == RecordType::kQuery) {
    absl::StatusOr<QueryRecord> record = DecodeQuery(*out.payload, header->query_base());
    if (!record.ok()) return not_found;
    out.query = *std::move(record);
  } else {
    absl::StatusOr<FeedbackRecord> record = DecodeFeedback(*out.payload);
    if (!record.ok()) return not_found;
    out.feedback = *std::move(record);
  }
  return out;
}

// Returns the path of the segment `receipt` names in `dir` and the bytes of it that may be read.
// NotFound when the segment is missing, its header names another segment number, or another
// node (saying so).
absl::StatusOr<std::pair<std::string, uint64_t>> SegmentOfReceipt(const std::string& dir,
                                                                  const Receipt& receipt) {
  const std::string path = SegmentPath(dir, receipt.segment);
  const absl::Status not_found = absl::NotFoundError(
      absl::StrCat("receipt ", receipt.ToString(), ": no such segment in ", dir));
  absl::StatusOr<int> opened = OpenRegularFile(path);  // never blocks on a FIFO
  if (!opened.ok()) return not_found;
  const int fd = *opened;
  char bytes[kHeaderSize];
  struct stat st;
  const bool read_ok = ::pread(fd, bytes, sizeof(bytes), 0) == static_cast<ssize_t>(kHeaderSize) &&
                       ::fstat(fd, &st) == 0;
  ::close(fd);
  if (!read_ok) return not_found;
  absl::StatusOr<SegmentHeader> header = DecodeHeader(std::string_view(bytes, kHeaderSize));
  if (!header.ok() || header->segment != receipt.segment) return not_found;
  if (header->node != receipt.node) {
    return absl::NotFoundError(absl::StrFormat("receipt %s: of another node (this audit is %08x)",
                                               receipt.ToString(), header->node));
  }
  return std::make_pair(path, static_cast<uint64_t>(st.st_size));
}

}  // namespace

absl::StatusOr<OwnedQuery> ReadQueryAt(const std::string& path, const Receipt& receipt,
                                       uint64_t limit, uint64_t from) {
  SHIXIN_ASSIGN_OR_RETURN(OwnedRecord record, ReadRecordAt(path, receipt, limit, from));
  if (record.type == RecordType::kFeedback) {  // a receipt the FEEDBACK answer gave
    return absl::NotFoundError(
        absl::StrCat("receipt ", receipt.ToString(), " is of a feedback record, not of an answer"));
  }
  OwnedQuery out;
  out.payload = std::move(record.payload);
  out.record = record.query;  // views *out.payload, which stays where it is
  return out;
}

// No marks are trusted by the commands: the walk starts at the segment's first record (at most a
// segment's length fields, read once by a local command).
absl::StatusOr<OwnedQuery> LookUpQuery(const std::string& dir, const Receipt& receipt) {
  SHIXIN_ASSIGN_OR_RETURN(auto segment, SegmentOfReceipt(dir, receipt));
  return ReadQueryAt(segment.first, receipt, segment.second, kHeaderSize);
}

absl::StatusOr<OwnedRecord> LookUpRecord(const std::string& dir, const Receipt& receipt) {
  SHIXIN_ASSIGN_OR_RETURN(auto segment, SegmentOfReceipt(dir, receipt));
  return ReadRecordAt(segment.first, receipt, segment.second, kHeaderSize);
}

namespace {

// Whether `entry`, a query record, is one the MEASURES of `query` wrote for an officer it sent:
// the same request (caller, its fields, filters, instant) on the same list, no measure, no
// receipt (daemon/handler_queries.cc writes them so).
bool OfficerOf(const QueryRecord& query, const Entry& entry) {
  const QueryRecord& o = entry.query;
  return o.opcode == query.opcode && !o.receipt_issued && o.measures.empty() &&
         o.caller == query.caller && o.operator_id == query.operator_id &&
         o.matter == query.matter && o.purpose == query.purpose &&
         o.agency_filter == query.agency_filter && o.scenario_filter == query.scenario_filter &&
         o.as_of == query.as_of && o.list_version == query.list_version &&
         o.generation == query.generation && o.delta_sequence == query.delta_sequence;
}

}  // namespace

absl::StatusOr<ReceiptRecords> LookUpReceipt(const std::string& dir, const Receipt& receipt) {
  SHIXIN_ASSIGN_OR_RETURN(OwnedQuery query, LookUpQuery(dir, receipt));
  ReceiptRecords out;
  out.query = query.record;
  out.payloads.push_back(std::move(query.payload));
  const std::string text = receipt.ToString();
  ReadOptions options;
  options.from_micros = out.query.time_micros;
  absl::Status status = absl::OkStatus();
  WriteOrderer orderer;
  std::vector<WriteOrder> order;  // of out.feedback
  bool officers = false;          // the entries visited are the records right after the query
  SHIXIN_RETURN_IF_ERROR(ForEachRecord(dir, options, [&](const Entry& entry) {
    const WriteOrder at = orderer.Next(entry);
    if (officers) {
      officers = entry.type == RecordType::kQuery && OfficerOf(out.query, entry) &&
                 StreamOf(entry.segment) == StreamOf(receipt.segment);
      if (officers) out.officers.push_back({std::string(entry.query.subject), entry.query.listing});
    }
    if (entry.type == RecordType::kQuery && entry.segment == receipt.segment &&
        entry.offset == receipt.offset) {
      officers = true;
    }
    if (entry.type != RecordType::kFeedback || entry.feedback.receipt != text) return true;
    // The entry views the mapping: re-encode it into bytes of our own and view those.
    auto payload = std::make_unique<std::string>();
    EncodeFeedback(entry.feedback, payload.get());
    absl::StatusOr<FeedbackRecord> record = DecodeFeedback(*payload);
    if (!record.ok()) {
      status = record.status();
      return false;
    }
    out.feedback.push_back(*std::move(record));
    out.payloads.push_back(std::move(payload));
    order.push_back(at);
    return true;
  }));
  if (!status.ok()) return status;
  // The streams are read one after another: sort the feedback of all of them in the order it
  // was written (a clock set back does not put a correction before what it corrects).
  std::vector<size_t> index(out.feedback.size());
  for (size_t i = 0; i < index.size(); ++i) index[i] = i;
  std::sort(index.begin(), index.end(), [&](size_t a, size_t b) { return order[a] < order[b]; });
  std::vector<FeedbackRecord> sorted;
  sorted.reserve(index.size());
  for (size_t i : index) sorted.push_back(std::move(out.feedback[i]));
  out.feedback = std::move(sorted);
  return out;
}

}  // namespace shixin::audit
