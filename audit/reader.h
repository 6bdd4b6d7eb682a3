// Reading the audit (audit/FORMAT.md) without the writer: ForEachRecord, the fast path for
// reports and queries (checksums only); Verify, the full check (checksums, the SHA-256 chain
// across segments, sequence continuity, headers); and the lookup of one receipt (its query
// record read at its offset, and the feedback on it).
//
// Both read the segment files as they are; while a writer runs, an incomplete record at the end
// of the last segment is a write in progress and ends the audit (Verify notes it).
//
// Thread safety: pure functions over files; safe to call from several threads.
#ifndef SHIXIN_AUDIT_READER_H_
#define SHIXIN_AUDIT_READER_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "audit/format.h"
#include "audit/receipt.h"
#include "audit/record.h"

namespace shixin::audit {

struct Entry {
  RecordType type = RecordType::kQuery;
  QueryRecord query;        // when type is kQuery
  FeedbackRecord feedback;  // when type is kFeedback
  Receipt receipt;          // this record's own receipt (node from the segment header)
  uint32_t segment = 0;
  uint64_t offset = 0;
};

struct ReadOptions {
  // Only records with from_micros <= time_micros < to_micros are visited; segments wholly
  // outside (by their header times, where those are in order in the stream) are not read.
  int64_t from_micros = std::numeric_limits<int64_t>::min();
  int64_t to_micros = std::numeric_limits<int64_t>::max();
};

// What ForEachRecord found wrong without stopping: the records are visited as they are, and a
// reader that states what it read (a report, `audit query`) says that they may not be what was
// written.
struct ReadCheck {
  // Each names the segment file: a seal whose chain does not follow (a record changed, removed
  // or inserted since it was written), a segment missing from a stream, a segment whose first
  // sequence or previous chain does not follow from the segment read before it, a sequence gap
  // inside a segment, records without a seal at the end of a segment that is not its stream's
  // last; and a header, frame or payload that does not parse (records not read). Only what the
  // read covered is checked (segments skipped by the time range are not).
  std::vector<std::string> problems;
  // Each stream read (ascending), where its last segment read ends: the chain value of its last
  // seal (of the segment's start chain if it has none), which covers every record up to
  // sealed_sequence. A copy of it kept elsewhere shows a later rewrite of those records, seals
  // recomputed.
  struct Stream {
    uint32_t stream = 0;
    uint64_t last_sequence = 0;    // the last record read (0: none)
    uint64_t sealed_sequence = 0;  // 0: none
    ChainHash chain{};
  };
  std::vector<Stream> streams;
};

// Visits every record of the audit in `dir`, stream after stream, each in order (segments by
// number), until `visit` returns false: a record of one stream may come before an older one of
// another (the feedback on a receipt of another stream before its query). The entry's views are
// valid during the call only. `check` (may be null) gets the damage the checksums cannot see,
// found as the chain and the sequence numbers are followed through the segments read, and the
// damage they show: a bad header, frame or payload (naming the file, offset and expected
// sequence) is a problem, and the read goes on after that record (a payload) or with the next
// segment (a header or frame: the rest of the segment cannot be framed). Without `check`, that
// damage returns DataLoss naming the same. NotFound if `dir` is missing or holds no segment.
absl::Status ForEachRecord(const std::string& dir, const ReadOptions& options,
                           const std::function<bool(const Entry&)>& visit,
                           ReadCheck* check = nullptr);

struct VerifyReport {
  // The totals over every stream.
  uint64_t segments = 0, records = 0, queries = 0, feedbacks = 0, bytes = 0;
  // Each stream (audit/format.h) on its own: its chain and sequence numbers.
  struct Stream {
    uint32_t stream = 0;
    uint64_t segments = 0, records = 0;
    uint64_t first_sequence = 0, last_sequence = 0;
    uint32_t first_segment = 0;
    // The first segment follows removed ones (retention): the chain starts at first_segment.
    bool chain_start_cut = false;
    int64_t first_created_micros = 0;  // the first segment's creation time
    // Segments of formats 1 to 4, whose headers (creation time, node, first sequence) are
    // outside the chain: only their own checksum protects them.
    uint64_t unchained_headers = 0;
    // The chain value of the stream's last seal (ReadCheck::Stream), covering every record up
    // to sealed_sequence.
    uint64_t sealed_sequence = 0;
    ChainHash last_chain{};
  };
  std::vector<Stream> streams;        // ascending
  std::vector<std::string> problems;  // each names the segment file, record sequence and offset
  std::vector<std::string> notes;     // not problems (e.g. a write in progress at the end)
  // Times out of order in segments whose header is chained (format 5): a segment created before
  // the one before it or its last record, records dated before their segment's creation. The
  // chain covers those times, so they are as the writer stamped them (its clock was set back),
  // not changed since: not problems. In older formats they are problems (the header's time may
  // have been changed).
  std::vector<std::string> time_anomalies;
};

struct VerifyOptions {
  // > 0: the daemon's audit_retention_days. A stream whose first segment follows removed ones
  // although it was created less than this long ago (retention removes a segment only once its
  // successor is that old) is a problem: segments were deleted early.
  int retention_days = 0;
  // The time of the check (0: the real clock). A segment header or record dated after it
  // (beyond a minute's margin) cannot have been written yet: a problem, not a time anomaly.
  int64_t now_micros = 0;
};

// Verifies the whole audit in `dir`, each stream's chain and sequence apart, and the times:
// a segment created before the one before it in its stream, a record dated before its
// segment's creation or after the next segment's (with a minute's margin; time_anomalies in a
// chained format, unless the earlier time is in the future), a segment or record dated after
// options.now_micros (a problem). Returns the report (problems empty: intact); NotFound if `dir` is
// missing or holds no segment.
absl::StatusOr<VerifyReport> Verify(const std::string& dir, const VerifyOptions& options = {});

// From when an audit holds every record (CompleteSince()).
struct Coverage {
  // Unix microseconds. When older segments were removed (retention): the latest creation time
  // of a stream's first segment among the streams that lost some, records written before it
  // may be gone. Otherwise when the audit began, the creation of its earliest segment: nothing
  // before it was recorded.
  int64_t since_micros = 0;
  bool removed = false;  // which of the two since_micros is
};

// Returns the time from which the audit in `dir` holds every record (Coverage). NotFound if
// `dir` is missing or holds no segment; a header's DataLoss.
absl::StatusOr<Coverage> CompleteSince(const std::string& dir);

// A query record that owns its bytes: `record` views `*payload`, a heap string that stays where
// it is when the struct is moved (a std::string's own buffer would not for short payloads).
struct OwnedQuery {
  std::unique_ptr<const std::string> payload;
  QueryRecord record;
};

// Returns the query record framed at `receipt.offset` of the segment file `path`, whose bytes
// up to `limit` may be read (the file size, or less for records not written yet); checksum and
// type checked. `from` is a record boundary the writer produced at or before the offset (the
// header's end, or a mark: audit/marks.h): the frames' length fields are walked from it, and an
// offset the walk steps over (inside a record's payload, where a caller's text may hold a
// forged frame) is no record. Reads at most `receipt.offset - from` bytes and the record. The one
// place that reads a record at an offset (AuditLog::Lookup uses it after its own node and size
// checks). NotFound naming the receipt when there is no intact query record there (saying so
// when it is a feedback record's receipt).
absl::StatusOr<OwnedQuery> ReadQueryAt(const std::string& path, const Receipt& receipt,
                                       uint64_t limit, uint64_t from);

// Returns the query record `receipt` points at in the audit directory `dir`, walking its
// segment from the first record (ReadQueryAt). NotFound when its segment is missing, the segment
// header names another node or segment number, or there is no intact query record at its offset.
absl::StatusOr<OwnedQuery> LookUpQuery(const std::string& dir, const Receipt& receipt);

// A record of either type that owns its bytes (as OwnedQuery: the record views *payload).
struct OwnedRecord {
  std::unique_ptr<const std::string> payload;
  RecordType type = RecordType::kQuery;
  QueryRecord query;        // when type is kQuery
  FeedbackRecord feedback;  // when type is kFeedback
};

// Returns the record, a query's or a feedback's, that `receipt` points at in `dir` (a FEEDBACK
// answer's receipt points at its feedback record). NotFound as LookUpQuery: "receipt R: no
// record", "...: no such segment in DIR", "...: of another node (this audit is N)".
absl::StatusOr<OwnedRecord> LookUpRecord(const std::string& dir, const Receipt& receipt);

// An officer a MEASURES request sent with its subject (docs/audit.md, "What is recorded"): its
// own record, written right after the subject's in the same stream.
struct SentOfficer {
  std::string id;  // normalised
  Listing listing = Listing::kUnlisted;
};

// A receipt's query record, the officers its request sent, and the feedback recorded on it.
struct ReceiptRecords {
  std::vector<std::unique_ptr<const std::string>> payloads;  // the bytes the records view
  QueryRecord query;
  // The records right after the query's in its stream that are its officers' (a MEASURES with
  // the same caller, request fields, filters and list, no measure, no receipt); none when the
  // request sent none.
  std::vector<SentOfficer> officers;
  // Every feedback record naming the receipt, in the order written (audit/write_order.h): the
  // last is the caller's latest word.
  std::vector<FeedbackRecord> feedback;
};

// Returns LookUpQuery(dir, receipt), its officers' records and every feedback record on the
// receipt (read with ForEachRecord from the query's time). LookUpQuery's NotFound; ForEachRecord's
// DataLoss.
absl::StatusOr<ReceiptRecords> LookUpReceipt(const std::string& dir, const Receipt& receipt);

}  // namespace shixin::audit

#endif  // SHIXIN_AUDIT_READER_H_
