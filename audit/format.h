// The segment file layout of the audit (audit/FORMAT.md): the 64-byte segment header and the
// record framing (length, type, payload, checksum, chain). The one encoder/decoder of both; the
// writer (audit_log.h) and the reader (reader.h) use nothing else.
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
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kChainSize = 16;
// u32 length + u8 type before the payload; u32 checksum + 16 bytes chain after it.
inline constexpr size_t kRecordPrefix = 5;
inline constexpr size_t kRecordOverhead = kRecordPrefix + 4 + kChainSize;
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
};

// Returns the 64 header bytes.
std::string EncodeHeader(const SegmentHeader& header);
// Decodes the first 64 bytes of `bytes`. Returns DataLoss saying what is wrong (short, magic,
// version, checksum).
absl::StatusOr<SegmentHeader> DecodeHeader(std::string_view bytes);

// Returns the chain value after a record: SHA-256(prev || type || payload)[0..16).
ChainHash NextChain(const ChainHash& prev, RecordType type, std::string_view payload);

// Appends the framed record to `out` and returns its chain value (prev: the previous record's).
ChainHash AppendRecord(const ChainHash& prev, RecordType type, std::string_view payload,
                       std::string* out);

// The same in steps, for records encoded straight into the writer's buffer and sealed later,
// outside its lock: BeginRecord appends the frame's prefix and returns where the frame starts;
// the caller appends the payload (at most kMaxPayload bytes); FrameRecord sets the length and
// leaves room for the checksum and the chain; SealRecords fills both in for every frame in
// [frames, frames + size) (whole frames, in order) and returns the last one's chain (`prev`
// if there is none).
size_t BeginRecord(RecordType type, std::string* out);
void FrameRecord(size_t start, std::string* out);
ChainHash SealRecords(const ChainHash& prev, char* frames, size_t size);

struct FramedRecord {
  RecordType type = RecordType::kQuery;
  std::string_view payload;  // views the parsed bytes
  ChainHash chain{};         // as stored
  size_t size = 0;           // the whole frame
};

enum class FrameStatus {
  kOk,
  kIncomplete,   // the bytes end inside the frame (or before its length)
  kBadLength,    // the length is over kMaxPayload
  kBadChecksum,  // complete but the checksum (or the type) does not match
};

// Parses the frame at the start of `bytes` (not the chain: that needs the previous record).
FrameStatus ParseRecord(std::string_view bytes, FramedRecord* record);
const char* FrameStatusName(FrameStatus status);

// Returns the first sequence number in a record payload (both encodings start with it), 0 if
// the payload does not start with a varint.
uint64_t PayloadSequence(std::string_view payload);

// "0000000042.audit" and back (false: not a segment file name).
std::string SegmentFileName(uint32_t segment);
bool ParseSegmentFileName(std::string_view name, uint32_t* segment);

// Returns the segment numbers in `dir`, ascending. NotFound if `dir` does not exist.
absl::StatusOr<std::vector<uint32_t>> ListSegments(const std::string& dir);

// Returns dir + "/" + SegmentFileName(segment).
std::string SegmentPath(const std::string& dir, uint32_t segment);

}  // namespace shixin::audit

#endif  // SHIXIN_AUDIT_FORMAT_H_
