// The segment file layout of the audit (audit/FORMAT.md): the 64-byte segment header, the
// record framing (length, type, payload, checksum) and the chain (per record in format 1, per
// write in format 2). The one encoder/decoder of all three; the writer (audit_log.h) and the
// reader (reader.h) use nothing else.
//
// Thread safety: plain values and pure functions.
#ifndef SHIXIN_AUDIT_FORMAT_H_
#define SHIXIN_AUDIT_FORMAT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/record.h"

namespace shixin::audit {

inline constexpr size_t kHeaderSize = 64;
inline constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000 * 1000;
// The writer writes version 5; the readers read 1 to 5. Version 1 chained every record;
// version 2 chains every write: a seal record ends it (audit/FORMAT.md); version 3 frames as 2
// and may write a query's measure numbers as a bitmap; version 4 writes a query's sequence and
// time as differences from its segment's and its list version in 8 bytes (audit/record.h);
// version 5 chains the segment header too (StartChain), as 4's query times depend on it.
inline constexpr uint32_t kFormatVersion = 5;
inline constexpr uint32_t kChainedHeaderFormat = 5;  // the first format whose header is chained
inline constexpr size_t kChainSize = 16;
// u32 length + u8 type before the payload.
inline constexpr size_t kRecordPrefix = 5;
// Returns the bytes a frame adds to its payload in a segment of format `version`: the prefix,
// then a u32 checksum (version 1: and the record's 16-byte chain).
constexpr size_t RecordOverhead(uint32_t version) {
  return kRecordPrefix + 4 + (version == 1 ? kChainSize : 0);
}
inline constexpr size_t kRecordOverhead = RecordOverhead(kFormatVersion);
// A whole seal frame (version 2): its payload is the chain value.
inline constexpr size_t kSealSize = kRecordOverhead + kChainSize;
// A longer length field is damage, not a record (records are a few hundred bytes).
inline constexpr uint32_t kMaxPayload = 1 << 20;

using ChainHash = std::array<uint8_t, kChainSize>;

struct SegmentHeader {
  uint32_t version = kFormatVersion;
  uint32_t node = 0;
  uint32_t segment = 0;
  uint64_t first_sequence = 0;  // the sequence of the segment's first record
  ChainHash prev_chain{};       // the chain of the previous segment's last record (zeros: none)
  int64_t created_micros = 0;

  // Returns what the segment's query payloads are encoded against.
  QueryBase query_base() const { return QueryBase{version, first_sequence, created_micros}; }
};

// Returns the 64 header bytes.
std::string EncodeHeader(const SegmentHeader& header);
// Decodes the first 64 bytes of `bytes`. Returns DataLoss saying what is wrong (short, magic,
// version, checksum).
absl::StatusOr<SegmentHeader> DecodeHeader(std::string_view bytes);

// Returns the decoded header of the segment file `path` (its first 64 bytes). The open or read
// error, or DecodeHeader's DataLoss.
absl::StatusOr<SegmentHeader> ReadHeader(const std::string& path);

// Returns `micros` as "2026-12-06T05:59:25Z" (UTC), as verify and the retention log say times.
std::string FormatUtcMicros(int64_t micros);

// Returns `chain` as 32 lower-case hex digits, as verify, reports and the log print it.
std::string ChainText(const ChainHash& chain);

// Returns the chain value a segment's first seal goes on from: from version 5
// SHA-256(prev_chain || the 64 header bytes)[0..16), so that changing the header (its creation
// time, which query times are stored against, node or first sequence) breaks the chain; before,
// the header's previous chain alone.
ChainHash StartChain(const SegmentHeader& header);

// Returns the chain value after a version-1 record: SHA-256(prev || type || payload)[0..16).
ChainHash NextChain(const ChainHash& prev, RecordType type, std::string_view payload);

// Returns the chain value of a version-2 seal: SHA-256(prev || frames)[0..16), `frames` the
// whole frames written since the seal before (prev: its chain value, or the header's).
ChainHash BatchChain(const ChainHash& prev, std::string_view frames);

// Records encoded straight into the writer's buffer and sealed later, outside its lock
// (version 2): BeginRecord appends the frame's prefix and returns where the frame starts; the
// caller appends the payload (at most kMaxPayload bytes); FrameRecord sets the length and
// leaves room for the checksum; SealBatch fills in the checksum of every frame in `*batch`
// (whole frames, in order), appends the seal over them and returns its chain value.
size_t BeginRecord(RecordType type, std::string* out);
void FrameRecord(size_t start, std::string* out);
ChainHash SealBatch(const ChainHash& prev, std::string* batch);

struct FramedRecord {
  RecordType type = RecordType::kQuery;
  std::string_view payload;  // views the parsed bytes
  ChainHash chain{};         // version 1: as stored; a version-2 seal: its payload
  size_t size = 0;           // the whole frame
};

enum class FrameStatus {
  kOk,
  kIncomplete,   // the bytes end inside the frame (or before its length)
  kBadLength,    // the length is over kMaxPayload
  kBadChecksum,  // complete but the checksum (or the type, or a seal's size) does not match
};

// Parses the frame of a segment of format `version` at the start of `bytes` (not the chain:
// that needs the frames before; see ChainCheck).
FrameStatus ParseRecord(std::string_view bytes, uint32_t version, FramedRecord* record);
const char* FrameStatusName(FrameStatus status);
// Returns the offset of the first valid frame after `from` in `data` (a segment of format
// `version`), or 0 if none. A frame that does not parse at `from` is a torn tail (the writer
// cuts it at its next start) only if none follows it; otherwise it is damage.
size_t FindValidFrameAfter(std::string_view data, size_t from, uint32_t version);

// Follows the chain through the frames of one segment, in order: version 1 checks every
// record's chain value, version 2 every seal's (over the frames since the seal before).
// Frames must be parsed from one contiguous buffer (a segment's bytes).
class ChainCheck {
 public:
  ChainCheck(uint32_t version, const ChainHash& prev) : version_(version), chain_(prev) {}

  // Feeds the next frame. Returns false when it carries a chain value that does not follow
  // (the check goes on from the stored value).
  bool Add(const FramedRecord& record);
  // Returns the last chain value fed (the header's previous chain before any).
  const ChainHash& chain() const { return chain_; }
  // Returns the records fed since the last seal (version 1: 0).
  uint64_t unsealed() const { return unsealed_; }

 private:
  uint32_t version_;
  ChainHash chain_;
  const char* batch_begin_ = nullptr;  // the first frame since the last seal
  uint64_t unsealed_ = 0;
};

// Returns the sequence number of a record of `type` in the segment of `header` (both payloads
// start with it; a query's from format 4 as a difference), 0 if the payload does not start with
// a varint.
uint64_t PayloadSequence(RecordType type, std::string_view payload, const SegmentHeader& header);

// Streams: each writer (an I/O thread of the daemon) appends its own chain of segments, with its
// own sequence numbers, in the same directory; a segment's stream is its number's top 8 bits, so
// that a receipt (node, segment, offset) still names its file. Stream s numbers its segments
// from FirstSegment(s); stream 0's are the audit's segments before streams existed.
inline constexpr int kStreamShift = 24;
inline constexpr uint32_t kMaxStreams = 256;
inline constexpr uint32_t StreamOf(uint32_t segment) { return segment >> kStreamShift; }
inline constexpr uint32_t FirstSegment(uint32_t stream) { return stream << kStreamShift | 1; }

// "0000000042.audit" and back (false: not a segment file name).
std::string SegmentFileName(uint32_t segment);
bool ParseSegmentFileName(std::string_view name, uint32_t* segment);

// Returns the segment numbers in `dir`, ascending (so grouped by stream). NotFound if `dir` does
// not exist.
absl::StatusOr<std::vector<uint32_t>> ListSegments(const std::string& dir);

// Returns the segments of `segments` (ascending) split by stream, each run ascending, streams
// ascending.
std::vector<std::vector<uint32_t>> SplitByStream(const std::vector<uint32_t>& segments);

// Returns dir + "/" + SegmentFileName(segment).
std::string SegmentPath(const std::string& dir, uint32_t segment);

}  // namespace shixin::audit

#endif  // SHIXIN_AUDIT_FORMAT_H_
