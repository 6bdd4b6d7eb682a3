#include "audit/audit_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "audit/start_check.h"
#include "base/coding.h"
#include "base/status_macros.h"
#include "base/thread.h"
#include "core/file_data.h"
#include "core/paths.h"

namespace shixin::audit {
namespace {

constexpr size_t kMaxFailedRanges = 1024;

// Returns a span of time as "40 days" (rounded) when it is two days or more, else as "1h2m3.5s".
std::string Span(int64_t micros) {
  if (micros >= 2 * kMicrosPerDay) {
    return absl::StrCat((micros + kMicrosPerDay / 2) / kMicrosPerDay, " days");
  }
  return absl::FormatDuration(absl::Microseconds(micros));
}

// Returns the time of the record `r` (not a seal) of the segment of `header`; nullopt when its
// payload does not decode.
std::optional<int64_t> RecordTime(const FramedRecord& r, const SegmentHeader& header) {
  if (r.type == RecordType::kQuery) {
    absl::StatusOr<QueryRecord> q = DecodeQuery(r.payload, header.query_base());
    return q.ok() ? std::optional<int64_t>(q->time_micros) : std::nullopt;
  }
  absl::StatusOr<FeedbackRecord> f = DecodeFeedback(r.payload);
  return f.ok() ? std::optional<int64_t>(f->time_micros) : std::nullopt;
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// Removes the segment and marks files of `stream` left half-created (NNN.audit.tmp,
// NNN.marks.tmp) by a crash during rotation (another stream's writer may be creating its own).
void RemoveTempSegments(const std::string& dir, uint32_t stream, FileOps* ops) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> names;
  while (const dirent* e = readdir(d)) {
    const std::string_view name = e->d_name;
    if (name.size() <= 4 || name.substr(name.size() - 4) != ".tmp") continue;
    // NNN.audit.tmp, or NNN.marks.tmp (a marks file's, audit/marks.h).
    std::string file(name.substr(0, name.size() - 4));
    if (file.size() == 16 && file.substr(10) == ".marks") file.replace(10, 6, ".audit");
    uint32_t segment = 0;
    if (ParseSegmentFileName(file, &segment) && StreamOf(segment) == stream) {
      names.emplace_back(name);
    }
  }
  closedir(d);
  for (const std::string& name : names) ops->Unlink(absl::StrCat(dir, "/", name));
}

// Returns the process's file-size limit (RLIMIT_FSIZE) in bytes; nullopt when there is none.
std::optional<uint64_t> FileSizeLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_FSIZE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return std::nullopt;
  }
  return static_cast<uint64_t>(limit.rlim_cur);
}

// What to change after a write failed with EFBIG ("File too large"), which says neither.
std::string FileTooLargeAdvice(uint64_t segment_bytes) {
  const std::optional<uint64_t> limit = FileSizeLimit();
  if (!limit.has_value()) {
    return absl::StrFormat(
        "no file-size limit (RLIMIT_FSIZE) is set, so the file system refuses a segment that "
        "large (audit_segment_mb: %u bytes): lower audit_segment_mb",
        segment_bytes);
  }
  return absl::StrFormat(
      "the process's file-size limit (RLIMIT_FSIZE: %u bytes) is below audit_segment_mb (%u "
      "bytes): raise it (LimitFSIZE=infinity in the systemd unit, ulimit -f unlimited in a "
      "shell) or lower audit_segment_mb below it, and restart shixind",
      *limit, segment_bytes);
}

}  // namespace

std::string FileSizeLimitWarning(uint64_t segment_bytes) {
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  const std::optional<uint64_t> limit = FileSizeLimit();
  if (!limit.has_value() || *limit >= segment_bytes) return "";
  return absl::StrFormat(
      "the process's file-size limit (RLIMIT_FSIZE) is %u bytes, below audit_segment_mb (%u "
      "bytes): the audit cannot be written once a segment reaches it (File too large) until "
      "shixind restarts; raise it (LimitFSIZE=infinity in the systemd unit, ulimit -f unlimited "
      "in a shell)%s",
      *limit, segment_bytes,
      *limit >= kMiB ? absl::StrFormat(" or lower audit_segment_mb to %u or less", *limit / kMiB)
                     : "");
}

AuditLog::AuditLog(Options options)
    : options_(std::move(options)),
      ops_(options_.file_ops != nullptr ? options_.file_ops : DefaultFileOps()) {}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(Options options, Recovery* recovery) {
  if (options.dir.empty()) return absl::InvalidArgumentError("audit: no directory");
  if (options.stream >= kMaxStreams) {
    return absl::InvalidArgumentError(
        absl::StrCat("audit: stream ", options.stream, " (at most ", kMaxStreams - 1, ")"));
  }
  std::unique_ptr<AuditLog> log(new AuditLog(std::move(options)));
  Recovery local;
  SHIXIN_RETURN_IF_ERROR(log->Recover(recovery != nullptr ? recovery : &local));
  log->LogChainEnd("opened");
  log->open_segment_ = log->segment_;
  log->open_offset_ = log->end_offset_;
  {
    // A disk already full must show before the first query (/readyz), not on its write.
    std::unique_lock<AdaptiveMutex> lock(log->mu_);
    log->Probe(lock, kOpenProbeBytes);
  }
  absl::StatusOr<std::thread> fsync =
      StartThread("shixind-audit", [raw = log.get()] { raw->FsyncLoop(); });
  if (!fsync.ok()) return fsync.status();
  log->fsync_thread_ = *std::move(fsync);
  return log;
}

absl::Status AuditLog::Recover(Recovery* recovery) {
  const std::string& dir = options_.dir;
  SHIXIN_RETURN_IF_ERROR(FileOpStatus(ops_->MakeDir(dir, 0700), absl::StrCat("mkdir ", dir)));
  RemoveTempSegments(dir, options_.stream, ops_);
  SHIXIN_ASSIGN_OR_RETURN(std::vector<uint32_t> all, ListSegments(dir));
  for (uint32_t segment : all) {
    if (StreamOf(segment) == options_.stream) segments_.push_back(segment);
  }
  recovery->segments = segments_.size();
  std::unique_lock<AdaptiveMutex> lock(mu_);
  if (segments_.empty()) return CreateSegment(FirstSegment(options_.stream));
  for (size_t i = 0; i + 1 < segments_.size(); ++i) {
    other_bytes_ += FileSize(SegmentPath(dir, segments_[i]));
  }
  segment_ = segments_.back();
  const std::string path = SegmentPath(dir, segment_);
  SHIXIN_ASSIGN_OR_RETURN(std::string data, ReadRegularFile(path));  // never blocks on a FIFO
  absl::StatusOr<SegmentHeader> header = DecodeHeader(data);
  if (!header.ok()) return absl::DataLossError(absl::StrCat(path, ": ", header.status().message()));
  if (header->node != options_.node) {  // finding 4: never two nodes' receipts in one audit
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s was written by node %08x, but this is node %08x (state_dir/node_id): its receipts "
        "would go into another node's audit, where neither node's receipts resolve. If state_dir "
        "was restored from a backup, restore its node_id too (it holds %08x), or move the audit "
        "directory away to start this node's own (docs/audit.md, \"Backing up and restoring "
        "state_dir\")",
        path, header->node, options_.node, header->node));
  }
  // The segments before it are not read whole (Verify's): what shows one removed, cut, swapped
  // or replaced without that.
  std::string head_note;
  SHIXIN_RETURN_IF_ERROR(CheckStreamSegments(
      {dir, segments_, options_.node, options_.retention_days, Now()}, &head_note));
  if (!head_note.empty() && options_.log_warning) options_.log_warning(head_note);
  // The audit ends after the last frame whose chain value follows: a record, in format 1; a
  // seal, in format 2 (the records of a write without its seal were never acknowledged).
  const uint32_t version = header->version;
  const ChainHash start = StartChain(*header);
  ChainCheck chain(version, start);
  uint64_t sequence = header->first_sequence - 1, index = 0;
  size_t offset = kHeaderSize;
  struct {
    size_t end = kHeaderSize;
    ChainHash chain;
    uint64_t sequence = 0, index = 0;
  } good{kHeaderSize, start, sequence, 0};
  FramedRecord r;
  FrameStatus status = FrameStatus::kOk;
  std::string why;
  marks_ = FirstMarks();
  last_time_ = header->created_micros;
  std::string newest = "its header's creation time";  // what last_time_ is the time of
  while (offset < data.size() && (status = ParseRecord(std::string_view(data).substr(offset),
                                                       version, &r)) == FrameStatus::kOk) {
    AddMark(offset, &marks_);
    if (!chain.Add(r)) {
      why = absl::StrFormat("%s at offset %u (after seq=%u): chain mismatch",
                            r.type == RecordType::kSeal ? "seal" : "record", offset, sequence);
      break;
    }
    if (r.type != RecordType::kSeal) {
      if (const uint64_t seq = PayloadSequence(r.type, r.payload, *header); seq != sequence + 1) {
        // A checksummed record out of sequence is no torn write: records replayed or removed.
        return absl::DataLossError(
            absl::StrFormat("%s: record at offset %u: seq=%u, expected seq=%u%s", path, offset, seq,
                            sequence + 1, DamageAdvice(dir)));
      }
      ++sequence;
      ++index;
      if (const int64_t time = RecordTime(r, *header).value_or(last_time_); time > last_time_) {
        last_time_ = time;
        newest = absl::StrFormat("record seq=%u at offset %u", sequence, offset);
      }
    }
    offset += r.size;
    if (chain.unsealed() == 0) good = {offset, chain.chain(), sequence, index};
  }
  if (offset < data.size()) {
    if (const size_t q = FindValidFrameAfter(data, offset, version); q != 0) {
      return absl::DataLossError(absl::StrFormat(
          "%s: record at offset %u (seq=%u expected): %s, followed by a valid record at offset "
          "%u: damage, not a torn tail%s",
          path, offset, sequence + 1, why.empty() ? FrameStatusName(status) : "chain mismatch", q,
          DamageAdvice(dir)));
    }
    if (why.empty()) why = absl::StrFormat("%s at offset %u", FrameStatusName(status), offset);
  } else if (good.end < data.size()) {
    why = absl::StrFormat("%u records after the last seal", index - good.index);
  }
  // Finding 2 (x26): records are never stamped before last_time_, so an audit dated far ahead
  // of the clock would date every record of that span at its time (another day, or quarter).
  if (const int64_t now = Now(); last_time_ > now + kMaxAheadOfClockMicros) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "audit stream %u: %s, %s, is dated %s (%s after the clock, %s): the clock was set back, "
        "or the audit was dated ahead. shixind stamps no record before the audit's newest time, "
        "so every record until then would be dated %s: it does not start. If the clock is "
        "wrong, set it right and start again; if it is right, run `shixin audit verify %s`, "
        "then wait until the clock passes %s, or restore the audit from a backup, or move it "
        "aside with node_id (docs/audit.md, \"The audit dated ahead of the clock\")",
        options_.stream, path, newest, FormatUtcMicros(last_time_), Span(last_time_ - now),
        FormatUtcMicros(now), FormatUtcMicros(last_time_), options_.dir,
        FormatUtcMicros(last_time_)));
  }
  const size_t cut = good.end;
  while (marks_.size() > 1 && marks_.back() >= cut) marks_.pop_back();
  fd_ = ops_->Open(path, O_RDWR, 0600);
  SHIXIN_RETURN_IF_ERROR(FileOpStatus(fd_, absl::StrCat("open ", path)));
  if (cut < data.size()) {
    SHIXIN_RETURN_IF_ERROR(FileOpStatus(ops_->Truncate(fd_, static_cast<off_t>(cut)),
                                        absl::StrCat("truncate ", path)));
    recovery->torn = true;
    recovery->cut_bytes = data.size() - cut;
    recovery->message = absl::StrFormat("%s: torn tail cut: %u bytes from offset %u (%s)", path,
                                        data.size() - cut, cut, why);
  }
  recovery->records = good.index;
  file_size_ = end_offset_ = cut;
  written_chain_ = good.chain;
  written_sequence_ = sequence_ = good.sequence;
  segment_empty_ = good.index == 0;
  query_base_ = header->query_base();
  CheckClock(Now());  // said at the start, before a record is stamped
  // A segment of an older format is not appended to: the next one goes on from it.
  if (version != kFormatVersion) SHIXIN_RETURN_IF_ERROR(CreateSegment(segment_ + 1));
  ApplyRetention();
  IndexOlderSegments();
  recovery->segments = segments_.size();
  return absl::OkStatus();
}

void AuditLog::IndexOlderSegments() {
  uint64_t built = 0;
  for (uint32_t segment : segments_) {
    if (segment == segment_ || ReadMarks(options_.dir, segment).ok()) continue;
    // Once per segment (the audit's segments from before marks, or a marks file a crash lost):
    // its length fields are read once here, so that no lookup reads more than a stride of it.
    FileData file;
    absl::StatusOr<SegmentHeader> header = ReadHeader(SegmentPath(options_.dir, segment));
    if (!header.ok() || !file.Open(SegmentPath(options_.dir, segment)).ok()) continue;
    SegmentMarks marks = ScanMarks(file.data(), header->version);
    ++built;
    if (!WriteMarks(ops_, options_.dir, segment, marks).ok()) {
      unsaved_marks_.emplace_back(segment, std::move(marks));
    }
  }
  if (built > 0 && options_.log_info) {
    options_.log_info(absl::StrFormat(
        "audit: stream %u: indexed the record boundaries of %u segments (NNNNNNNNNN.marks)",
        options_.stream, built));
  }
}

AuditLog::~AuditLog() {
  {
    std::lock_guard<AdaptiveMutex> lock(mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (fsync_thread_.joinable()) fsync_thread_.join();
  std::unique_lock<AdaptiveMutex> lock(mu_);
  while (writing_ || fsyncing_) cv_.wait(lock);
  if (fd_ >= 0) {
    if (!WritePending(lock, false).ok()) {
      // Reported to the Syncs that failed; nothing more to do at shutdown.
    }
    ops_->DataSync(fd_);
    ops_->Close(fd_);
    LogChainEnd("closed");
  }
}

void AuditLog::LogChainEnd(std::string_view when) const {
  if (!options_.log_info) return;
  options_.log_info(absl::StrFormat("audit stream %u %s: %s, chain through seq=%u: %s",
                                    options_.stream, when, SegmentFileName(segment_),
                                    written_sequence_, ChainText(written_chain_)));
}

int64_t AuditLog::Now() const {
  return options_.now_micros ? options_.now_micros() : absl::ToUnixMicros(absl::Now());
}

void AuditLog::CheckClock(int64_t micros) {
  if (micros >= last_time_) {
    clock_behind_ = false;
    clock_note_.clear();
    return;
  }
  if (clock_behind_) return;
  clock_behind_ = true;
  clock_note_ = absl::StrFormat(
      "stream %u's records are stamped %s, its newest time, %s after the clock (%s), until the "
      "clock passes it: the clock was set back, or the audit was dated ahead",
      options_.stream, FormatUtcMicros(last_time_), Span(last_time_ - micros),
      FormatUtcMicros(micros));
  if (options_.log_warning) {
    options_.log_warning(absl::StrFormat(
        "audit stream %u: the stream's newest record or segment (%s) is dated %s after the clock "
        "(%s): the clock was set back, or the audit was dated ahead; its records are stamped "
        "%s until the clock passes it (times in a stream never go back)",
        options_.stream, FormatUtcMicros(last_time_), Span(last_time_ - micros),
        FormatUtcMicros(micros), FormatUtcMicros(last_time_)));
  }
}

absl::Status AuditLog::CreateSegment(uint32_t number) {
  if (StreamOf(number) != options_.stream) {  // 2^24 segments: not before a petabyte
    return absl::ResourceExhaustedError(
        absl::StrCat("audit stream ", options_.stream, " has no segment number left"));
  }
  SegmentHeader header;
  header.node = options_.node;
  header.segment = number;
  header.first_sequence = sequence_ + 1;
  header.prev_chain = written_chain_;  // every record before it is written: Rotate()
  const int64_t now = Now();
  CheckClock(now);
  header.created_micros = std::max(now, last_time_);
  const std::string bytes = EncodeHeader(header);
  const std::string path = SegmentPath(options_.dir, number);
  // Written under a temporary name and renamed: a segment file always has its whole header.
  const std::string tmp = path + ".tmp";
  const int fd = CreateTemporary(ops_, tmp, O_RDWR, 0600);
  SHIXIN_RETURN_IF_ERROR(FileOpStatus(fd, absl::StrCat("create ", tmp)));
  absl::Status status =
      FileOpStatus(ops_->PWrite(fd, bytes.data(), bytes.size(), 0), absl::StrCat("write ", tmp));
  if (status.ok()) status = FileOpStatus(ops_->DataSync(fd), absl::StrCat("fdatasync ", tmp));
  if (status.ok()) status = FileOpStatus(ops_->Rename(tmp, path), absl::StrCat("rename ", tmp));
  if (status.ok()) {
    status = FileOpStatus(ops_->SyncDir(options_.dir), absl::StrCat("fsync ", options_.dir));
  }
  if (!status.ok()) {
    ops_->Close(fd);
    ops_->Unlink(tmp);
    return status;
  }
  if (fd_ >= 0) {
    other_bytes_ += file_size_;
    ops_->Close(fd_);
    // The closed segment's marks, for lookups after it (not fdatasynced: Open rebuilds them).
    SegmentMarks marks{file_size_, std::move(marks_)};
    if (!WriteMarks(ops_, options_.dir, segment_, marks).ok()) {
      unsaved_marks_.emplace_back(segment_, std::move(marks));
    }
  }
  marks_ = FirstMarks();
  fd_ = fd;
  segment_ = number;
  written_chain_ = StartChain(header);  // the first seal goes on from the header
  if (segments_.empty() || segments_.back() != number) segments_.push_back(number);
  file_size_ = end_offset_ = kHeaderSize;
  segment_empty_ = true;
  query_base_ = header.query_base();
  last_time_ = header.created_micros;
  return absl::OkStatus();
}

absl::Status AuditLog::CheckWritable() {
  if (!failing_ || Now() >= retry_at_micros_) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("audit cannot be written: ", failure_.message()));
}

template <typename Encode>
absl::StatusOr<AuditLog::Appended> AuditLog::AppendWith(RecordType type, bool awaits_feedback,
                                                        Encode encode) {
  std::unique_lock<AdaptiveMutex> lock(mu_);
  SHIXIN_RETURN_IF_ERROR(CheckWritable());
  // Encoded in place: the pending buffer is the record's only copy before the write. When it
  // does not fit, the segment rotates once no write or fdatasync is in progress; it is encoded
  // again then, as waiting lets other records take its sequence number (or rotate first).
  size_t start = 0, size = 0;
  int64_t time = 0;  // the record's own, before it is kept from going back
  for (;;) {
    start = BeginRecord(type, &pending_);
    time = encode(sequence_ + 1, query_base_, last_time_, &pending_);
    size = pending_.size() - start + kRecordOverhead - kRecordPrefix;
    // Room for the seal that ends the write it goes out with.
    if (segment_empty_ || end_offset_ + size + kSealSize <= options_.segment_bytes) break;
    pending_.resize(start);
    if (writing_ || fsyncing_) {
      cv_.wait(lock);
      SHIXIN_RETURN_IF_ERROR(CheckWritable());
    } else {
      SHIXIN_RETURN_IF_ERROR(Rotate(lock));
    }
  }
  Appended appended;
  appended.receipt = Receipt{options_.node, segment_, end_offset_};
  FrameRecord(start, &pending_);  // sealed (checksums, chain) by WritePending, outside the lock
  // The caller read `time` before the lock, and a segment this call created is stamped later:
  // a time behind by that wait is no clock step. Only the clock read now tells one.
  CheckClock(time >= last_time_ ? time : Now());
  last_time_ = std::max(last_time_, time);
  end_offset_ += size;
  ++sequence_;
  segment_empty_ = false;
  pending_awaiting_ += awaits_feedback ? 1 : 0;
  appended.ticket = ++ticket_;
  return appended;
}

absl::StatusOr<AuditLog::Appended> AuditLog::Append(QueryRecord* record) {
  const int64_t time = record->time_micros;
  return AppendWith(RecordType::kQuery, AwaitsFeedback(*record),
                    [record, time](uint64_t sequence, const QueryBase& base, int64_t not_before,
                                   std::string* out) {
                      record->sequence = sequence;
                      record->time_micros = std::max(time, not_before);
                      EncodeQuery(*record, base, out);
                      return time;
                    });
}

absl::StatusOr<AuditLog::Appended> AuditLog::Append(FeedbackRecord* record) {
  const int64_t time = record->time_micros;
  return AppendWith(
      RecordType::kFeedback, false,
      [record, time](uint64_t sequence, const QueryBase&, int64_t not_before, std::string* out) {
        record->sequence = sequence;
        record->time_micros = std::max(time, not_before);
        EncodeFeedback(*record, out);
        return time;
      });
}

absl::Status AuditLog::Rotate(std::unique_lock<AdaptiveMutex>& lock) {
  assert(!writing_ && !fsyncing_);
  SHIXIN_RETURN_IF_ERROR(WritePending(lock, false));
  absl::Status status = FileOpStatus(ops_->DataSync(fd_), "fdatasync audit segment");
  if (status.ok()) status = CreateSegment(segment_ + 1);
  if (!status.ok()) {
    failing_ = true;
    failure_ = status;
    retry_at_micros_ = Now() + absl::ToInt64Microseconds(options_.retry_interval);
    return status;
  }
  dirty_ = false;
  ApplyRetention();
  return absl::OkStatus();
}

absl::Status AuditLog::Sync(uint64_t ticket) {
  std::unique_lock<AdaptiveMutex> lock(mu_);
  for (;;) {
    for (auto it = failed_.rbegin(); it != failed_.rend(); ++it) {
      if (ticket > it->from && ticket <= it->to) return it->status;
    }
    if (ticket <= written_ticket_) return absl::OkStatus();
    if (ticket > ticket_) return absl::InvalidArgumentError(absl::StrCat("no ticket ", ticket));
    if (writing_) {
      cv_.wait(lock);
      continue;
    }
    WritePending(lock, true).IgnoreError();  // the loop reports it through failed_
  }
}

absl::Status AuditLog::WritePending(std::unique_lock<AdaptiveMutex>& lock, bool unlock) {
  if (pending_.empty()) return absl::OkStatus();
  writing_ = true;
  std::string buffer;
  buffer.swap(spare_);
  buffer.swap(pending_);  // pending_ takes the spare buffer: Appends go on during the write
  const uint64_t batch_ticket = ticket_, batch_sequence = sequence_;
  const uint64_t batch_awaiting = pending_awaiting_;
  pending_awaiting_ = 0;
  const ChainHash prev_chain = written_chain_;
  const uint64_t offset = file_size_;
  const int fd = fd_;
  const bool truncate_first = needs_truncate_;
  end_offset_ += kSealSize;  // the records appended from now on follow this write's seal
  if (unlock) lock.unlock();
  // Only one write at a time (writing_): the chain goes on from the last written seal.
  const ChainHash batch_chain = SealBatch(prev_chain, &buffer);
  const absl::Time start = absl::Now();
  ssize_t rc = truncate_first ? ops_->Truncate(fd, static_cast<off_t>(offset)) : 0;
  if (rc >= 0) rc = ops_->PWrite(fd, buffer.data(), buffer.size(), static_cast<off_t>(offset));
  const absl::Duration took = absl::Now() - start;
  if (unlock) lock.lock();
  writing_ = false;
  cv_.notify_all();
  ++stats_.write_count;
  stats_.write_time += took;
  write_latency_.Observe(absl::ToInt64Nanoseconds(took));
  if (rc >= 0) {
    file_size_ += buffer.size();
    written_ticket_ = batch_ticket;
    written_chain_ = batch_chain;
    written_sequence_ = batch_sequence;
    written_awaiting_ += batch_awaiting;
    AddFrameMarks(offset, buffer, kFormatVersion, &marks_);
    dirty_ = true;
    needs_truncate_ = false;
    failing_ = false;
    failure_ = absl::OkStatus();
    buffer.clear();
    spare_.swap(buffer);
    return absl::OkStatus();
  }
  absl::Status status =
      FileOpStatus(rc, absl::StrCat("write ", SegmentPath(options_.dir, segment_)));
  if (rc == -EFBIG) {
    status = absl::Status(status.code(), absl::StrCat(status.message(), "; ",
                                                      FileTooLargeAdvice(options_.segment_bytes)));
  }
  // Cut a partial write back to the last record written, and forget every pending record.
  needs_truncate_ = ops_->Truncate(fd, static_cast<off_t>(file_size_)) < 0;
  if (failed_.size() == kMaxFailedRanges) failed_.erase(failed_.begin());
  failed_.push_back({written_ticket_, ticket_, status});
  written_ticket_ = ticket_;
  pending_.clear();
  pending_awaiting_ = 0;
  sequence_ = written_sequence_;
  end_offset_ = file_size_;
  segment_empty_ = file_size_ == kHeaderSize;
  failing_ = true;
  failure_ = status;
  retry_at_micros_ = Now() + absl::ToInt64Microseconds(options_.retry_interval);
  return status;
}

absl::Status AuditLog::DataSyncCurrent(std::unique_lock<AdaptiveMutex>& lock) {
  while (fsyncing_) cv_.wait(lock);
  if (!dirty_) return absl::OkStatus();
  fsyncing_ = true;
  dirty_ = false;
  const int fd = fd_;
  lock.unlock();
  const absl::Time start = absl::Now();
  const int rc = ops_->DataSync(fd);
  const absl::Duration took = absl::Now() - start;
  lock.lock();
  fsyncing_ = false;
  cv_.notify_all();
  ++stats_.fsync_count;
  stats_.fsync_time += took;
  fsync_latency_.Observe(absl::ToInt64Nanoseconds(took));
  if (rc < 0) {
    // The kernel may have dropped the dirty pages: the log is failing until a write succeeds.
    failing_ = true;
    failure_ = FileOpStatus(rc, absl::StrCat("fdatasync ", SegmentPath(options_.dir, segment_)));
    retry_at_micros_ = Now() + absl::ToInt64Microseconds(options_.retry_interval);
    return failure_;
  }
  stats_.last_fsync_micros = Now();
  return absl::OkStatus();
}

absl::Status AuditLog::SyncToDisk() {
  std::unique_lock<AdaptiveMutex> lock(mu_);
  while (writing_) cv_.wait(lock);
  SHIXIN_RETURN_IF_ERROR(WritePending(lock, true));
  return DataSyncCurrent(lock);
}

void AuditLog::FsyncLoop() {
  std::unique_lock<AdaptiveMutex> lock(mu_);
  while (!stop_) {
    stop_cv_.wait_for(lock, absl::ToChronoMicroseconds(options_.fsync_interval),
                      [this] { return stop_; });
    if (stop_) break;
    if (dirty_) DataSyncCurrent(lock).IgnoreError();  // recorded in the failing state
    // Once a retry is due, as an Append would retry.
    if (failing_ && !writing_ && !fsyncing_ &&
        Now() >= std::max(retry_at_micros_, probe_at_micros_)) {
      Probe(lock);
    }
  }
}

void AuditLog::Probe(std::unique_lock<AdaptiveMutex>& lock, size_t bytes) {
  probe_at_micros_ = Now() + absl::ToInt64Microseconds(options_.retry_interval);
  if (fd_ < 0) return;
  writing_ = true;  // no record is written meanwhile
  const int fd = fd_;
  const auto end = static_cast<off_t>(file_size_);
  lock.unlock();
  const std::string zeros(bytes, '\0');
  const ssize_t wrote = ops_->PWrite(fd, zeros.data(), zeros.size(), end);
  const int cut = ops_->Truncate(fd, end);
  const int synced = wrote >= 0 && cut >= 0 ? ops_->DataSync(fd) : 0;
  lock.lock();
  writing_ = false;
  cv_.notify_all();
  if (cut < 0) needs_truncate_ = true;  // cut again before the next write
  if (wrote >= 0 && cut >= 0 && synced >= 0) {
    failing_ = false;
    failure_ = absl::OkStatus();
    return;
  }
  failing_ = true;
  const std::string segment = SegmentPath(options_.dir, segment_);
  failure_ = wrote < 0 ? FileOpStatus(wrote, absl::StrCat("probe write ", segment))
             : cut < 0 ? FileOpStatus(cut, absl::StrCat("probe truncate ", segment))
                       : FileOpStatus(synced, absl::StrCat("probe fdatasync ", segment));
  if (wrote == -EFBIG) {
    failure_ = absl::Status(
        failure_.code(),
        absl::StrCat(failure_.message(), "; ", FileTooLargeAdvice(options_.segment_bytes)));
  }
  retry_at_micros_ = Now() + absl::ToInt64Microseconds(options_.retry_interval);
}

void AuditLog::ApplyRetention() {
  if (options_.retention_days <= 0) return;
  const int64_t cutoff = Now() - int64_t{options_.retention_days} * kMicrosPerDay;
  // A segment's newest record is older than the next segment's creation time.
  while (segments_.size() >= 2) {
    absl::StatusOr<SegmentHeader> next = ReadHeader(SegmentPath(options_.dir, segments_[1]));
    if (!next.ok() || next->created_micros >= cutoff) return;
    const std::string old = SegmentPath(options_.dir, segments_[0]);
    const uint64_t size = FileSize(old);
    // Its span from the two headers (reading its records would cost the whole segment).
    absl::StatusOr<SegmentHeader> header = ReadHeader(old);
    if (ops_->Unlink(old) < 0) return;
    ops_->Unlink(MarksPath(options_.dir, segments_[0]));
    std::erase_if(unsaved_marks_, [&](const auto& m) { return m.first == segments_[0]; });
    if (options_.log_info) {
      options_.log_info(absl::StrFormat(
          "audit: retention (%d days) deleted %s (%u bytes): records %s to %u, written %s to %s",
          options_.retention_days, old, size,
          header.ok() ? absl::StrCat(header->first_sequence) : "?", next->first_sequence - 1,
          header.ok() ? FormatUtcMicros(header->created_micros) : "?",
          FormatUtcMicros(next->created_micros)));
    }
    other_bytes_ -= std::min(other_bytes_, size);
    segments_.erase(segments_.begin());
  }
}

bool AuditLog::IssuedSinceOpen(const Receipt& receipt) const {
  return receipt.node == options_.node && StreamOf(receipt.segment) == options_.stream &&
         (receipt.segment > open_segment_ ||
          (receipt.segment == open_segment_ && receipt.offset >= open_offset_));
}

uint64_t AuditLog::decided_ticket() const {
  std::lock_guard<AdaptiveMutex> lock(mu_);
  return written_ticket_;
}

AuditLog::Stats AuditLog::GetStats() const {
  std::lock_guard<AdaptiveMutex> lock(mu_);
  Stats stats = stats_;
  stats.failing = failing_;
  stats.error = failing_ ? std::string(failure_.message()) : "";
  stats.records = written_sequence_;
  stats.bytes = other_bytes_ + file_size_;
  stats.awaiting_feedback = written_awaiting_;
  stats.segments = segments_.size();
  stats.clock_note = clock_note_;
  return stats;
}

}  // namespace shixin::audit
