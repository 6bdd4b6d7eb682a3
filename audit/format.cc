#include "audit/format.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
// SHA256_Init and friends are deprecated in OpenSSL 3 but kept; see NextChain.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <xxhash.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "base/coding.h"
#include "base/status_macros.h"
#include "core/paths.h"

namespace shixin::audit {
namespace {

constexpr char kMagic[8] = {'S', 'H', 'X', 'A', 'U', 'D', 'T', '1'};
constexpr size_t kHeaderChecked = 60;  // bytes 0..59; the XXH32 of them follows

uint32_t FrameChecksum(const char* frame, size_t payload_size) {
  return static_cast<uint32_t>(XXH3_64bits(frame, kRecordPrefix + payload_size));
}

ChainHash Truncated(const unsigned char* digest) {
  ChainHash chain;
  std::memcpy(chain.data(), digest, kChainSize);
  return chain;
}

}  // namespace

std::string EncodeHeader(const SegmentHeader& h) {
  std::string out(kMagic, sizeof(kMagic));
  PutLittleEndian32(h.version, &out);
  PutLittleEndian32(h.node, &out);
  PutLittleEndian32(h.segment, &out);
  PutLittleEndian32(0, &out);
  PutLittleEndian64(h.first_sequence, &out);
  out.append(reinterpret_cast<const char*>(h.prev_chain.data()), kChainSize);
  PutLittleEndian64(static_cast<uint64_t>(h.created_micros), &out);
  PutLittleEndian32(0, &out);
  PutLittleEndian32(XXH32(out.data(), kHeaderChecked, 0), &out);
  return out;
}

absl::StatusOr<SegmentHeader> DecodeHeader(std::string_view bytes) {
  if (bytes.size() < kHeaderSize) {
    return absl::DataLossError(absl::StrCat("header: ", bytes.size(), " bytes, need 64"));
  }
  const char* p = bytes.data();
  if (std::memcmp(p, kMagic, sizeof(kMagic)) != 0) return absl::DataLossError("header: bad magic");
  if (DecodeLittleEndian32(p + 60) != XXH32(p, kHeaderChecked, 0)) {
    return absl::DataLossError("header: checksum mismatch");
  }
  SegmentHeader h;
  h.version = DecodeLittleEndian32(p + 8);
  if (h.version < 1 || h.version > kFormatVersion) {
    return absl::DataLossError(
        absl::StrCat("header: format version ", h.version, ", expected 1 to ", kFormatVersion));
  }
  h.node = DecodeLittleEndian32(p + 12);
  h.segment = DecodeLittleEndian32(p + 16);
  h.first_sequence = DecodeLittleEndian64(p + 24);
  std::memcpy(h.prev_chain.data(), p + 32, kChainSize);
  h.created_micros = static_cast<int64_t>(DecodeLittleEndian64(p + 48));
  return h;
}

ChainHash NextChain(const ChainHash& prev, RecordType type, std::string_view payload) {
  // The low-level calls, not EVP: OpenSSL 3.0's EVP_DigestInit_ex frees and allocates its
  // digest context on every init (~40 ns a record, a third of the hash); these hash the same
  // bytes with the same code (SHA-NI where the CPU has it).
  const auto t = static_cast<uint8_t>(type);
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, prev.data(), prev.size());
  SHA256_Update(&ctx, &t, 1);
  SHA256_Update(&ctx, payload.data(), payload.size());
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_Final(digest, &ctx);
  return Truncated(digest);
}

ChainHash BatchChain(const ChainHash& prev, std::string_view frames) {
  // One pass over the whole write: ~1.1 compression blocks a query record, where a chain per
  // record (format 1) took two and a finalisation each.
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, prev.data(), prev.size());
  SHA256_Update(&ctx, frames.data(), frames.size());
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_Final(digest, &ctx);
  return Truncated(digest);
}

absl::StatusOr<SegmentHeader> ReadHeader(const std::string& path) {
  SHIXIN_ASSIGN_OR_RETURN(const int fd, OpenRegularFile(path));  // never blocks on a FIFO
  char bytes[kHeaderSize];
  const ssize_t n = ::pread(fd, bytes, sizeof(bytes), 0);
  const int err = errno;
  ::close(fd);
  if (n < 0) return absl::ErrnoToStatus(err, absl::StrCat("read ", path));
  return DecodeHeader(std::string_view(bytes, static_cast<size_t>(n)));
}

std::string FormatUtcMicros(int64_t micros) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMicros(micros), absl::UTCTimeZone());
}

std::string ChainText(const ChainHash& chain) {
  std::string out;
  for (const uint8_t b : chain) absl::StrAppendFormat(&out, "%02x", b);
  return out;
}

ChainHash StartChain(const SegmentHeader& header) {
  if (header.version < kChainedHeaderFormat) return header.prev_chain;
  return BatchChain(header.prev_chain, EncodeHeader(header));
}

size_t BeginRecord(RecordType type, std::string* out) {
  const size_t start = out->size();
  PutLittleEndian32(0, out);  // the length, set by FrameRecord
  out->push_back(static_cast<char>(type));
  return start;
}

void FrameRecord(size_t start, std::string* out) {
  const size_t payload_size = out->size() - start - kRecordPrefix;
  assert(payload_size <= kMaxPayload);
  EncodeLittleEndian32(static_cast<uint32_t>(payload_size), out->data() + start);
  out->resize(out->size() + 4);  // the checksum: SealBatch
}

ChainHash SealBatch(const ChainHash& prev, std::string* batch) {
  char* frames = batch->data();
  const size_t size = batch->size();
  for (size_t at = 0; at < size;) {
    char* frame = frames + at;
    const uint32_t payload_size = DecodeLittleEndian32(frame);
    assert(at + payload_size + kRecordOverhead <= size);
    EncodeLittleEndian32(FrameChecksum(frame, payload_size), frame + kRecordPrefix + payload_size);
    at += payload_size + kRecordOverhead;
  }
  const ChainHash chain = BatchChain(prev, std::string_view(frames, size));
  const size_t start = BeginRecord(RecordType::kSeal, batch);
  batch->append(reinterpret_cast<const char*>(chain.data()), kChainSize);
  FrameRecord(start, batch);
  EncodeLittleEndian32(FrameChecksum(batch->data() + start, kChainSize),
                       batch->data() + start + kRecordPrefix + kChainSize);
  return chain;
}

FrameStatus ParseRecord(std::string_view bytes, uint32_t version, FramedRecord* record) {
  if (bytes.size() < kRecordPrefix) return FrameStatus::kIncomplete;
  const uint32_t n = DecodeLittleEndian32(bytes.data());
  if (n > kMaxPayload) return FrameStatus::kBadLength;
  const size_t size = n + RecordOverhead(version);
  if (bytes.size() < size) return FrameStatus::kIncomplete;
  const char* p = bytes.data();
  const auto type = static_cast<uint8_t>(p[4]);
  const bool seal = type == static_cast<uint8_t>(RecordType::kSeal) && version >= 2;
  if (DecodeLittleEndian32(p + kRecordPrefix + n) != FrameChecksum(p, n) ||
      (type != static_cast<uint8_t>(RecordType::kQuery) &&
       type != static_cast<uint8_t>(RecordType::kFeedback) && !seal) ||
      (seal && n != kChainSize)) {
    return FrameStatus::kBadChecksum;
  }
  record->type = static_cast<RecordType>(type);
  record->payload = std::string_view(p + kRecordPrefix, n);
  const char* chain = version == 1 ? p + kRecordPrefix + n + 4 : seal ? p + kRecordPrefix : nullptr;
  if (chain != nullptr) std::memcpy(record->chain.data(), chain, kChainSize);
  record->size = size;
  return FrameStatus::kOk;
}

size_t FindValidFrameAfter(std::string_view data, size_t from, uint32_t version) {
  for (size_t q = from + 1; q + RecordOverhead(version) <= data.size(); ++q) {
    FramedRecord r;
    if (ParseRecord(data.substr(q), version, &r) == FrameStatus::kOk) return q;
  }
  return 0;
}

bool ChainCheck::Add(const FramedRecord& record) {
  const char* frame = record.payload.data() - kRecordPrefix;
  if (version_ == 1) {
    const bool ok = NextChain(chain_, record.type, record.payload) == record.chain;
    chain_ = record.chain;
    return ok;
  }
  if (record.type != RecordType::kSeal) {
    if (unsealed_++ == 0) batch_begin_ = frame;
    return true;
  }
  const std::string_view frames =
      unsealed_ == 0 ? std::string_view() : std::string_view(batch_begin_, frame - batch_begin_);
  const bool ok = BatchChain(chain_, frames) == record.chain;
  chain_ = record.chain;
  unsealed_ = 0;
  return ok;
}

const char* FrameStatusName(FrameStatus status) {
  switch (status) {
    case FrameStatus::kOk:
      return "ok";
    case FrameStatus::kIncomplete:
      return "incomplete record";
    case FrameStatus::kBadLength:
      return "bad record length";
    case FrameStatus::kBadChecksum:
      return "record checksum mismatch";
  }
  return "unknown";
}

uint64_t PayloadSequence(RecordType type, std::string_view payload, const SegmentHeader& header) {
  const uint64_t base = type == RecordType::kQuery && header.version >= kRelativeQueryFormat
                            ? header.first_sequence
                            : 0;
  uint64_t value = 0;
  for (size_t i = 0; i < payload.size() && i < 10; ++i) {
    const auto byte = static_cast<unsigned char>(payload[i]);
    value |= uint64_t{byte & 0x7fu} << (7 * i);
    if ((byte & 0x80) == 0) return base + value;
  }
  return 0;
}

std::string SegmentFileName(uint32_t segment) { return absl::StrFormat("%010u.audit", segment); }

bool ParseSegmentFileName(std::string_view name, uint32_t* segment) {
  if (name.size() != 16 || name.substr(10) != ".audit") return false;
  uint64_t value = 0;
  for (char c : name.substr(0, 10)) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value == 0 || value > UINT32_MAX) return false;
  *segment = static_cast<uint32_t>(value);
  return true;
}

absl::StatusOr<std::vector<uint32_t>> ListSegments(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    const int err = errno;
    return absl::ErrnoToStatus(err, absl::StrCat("audit directory ", dir));
  }
  std::vector<uint32_t> segments;
  while (const dirent* e = readdir(d)) {
    uint32_t segment;
    if (ParseSegmentFileName(e->d_name, &segment)) segments.push_back(segment);
  }
  closedir(d);
  std::sort(segments.begin(), segments.end());
  return segments;
}

std::vector<std::vector<uint32_t>> SplitByStream(const std::vector<uint32_t>& segments) {
  std::vector<std::vector<uint32_t>> streams;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i == 0 || StreamOf(segments[i]) != StreamOf(segments[i - 1])) streams.emplace_back();
    streams.back().push_back(segments[i]);
  }
  return streams;
}

std::string SegmentPath(const std::string& dir, uint32_t segment) {
  return absl::StrCat(dir, "/", SegmentFileName(segment));
}

}  // namespace shixin::audit
