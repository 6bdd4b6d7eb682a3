// Test helpers of the audit tests (and the daemon's): a scratch directory, typical records
// and file operations that fail on demand.
//
// Thread safety: as plain values.
#ifndef SHIXIN_AUDIT_AUDIT_TEST_UTIL_H_
#define SHIXIN_AUDIT_AUDIT_TEST_UTIL_H_

#include <stdlib.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/file_ops.h"
#include "audit/format.h"
#include "audit/record.h"
#include "base/coding.h"

namespace shixin::audit::testing {

// A fresh directory (mkdtemp), removed with its contents on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "audit_test_XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Returns a typical MEASURES record for `subject` at `time_micros` (strings are literals).
inline QueryRecord TypicalQuery(std::string_view subject, int64_t time_micros) {
  QueryRecord r;
  r.time_micros = time_micros;
  r.opcode = 4;
  r.caller = "court-agency-17";
  r.operator_id = "op0421";
  r.matter = "11100000MB0143871P";
  r.purpose = "";
  r.subject = subject;
  r.kind = 0;
  r.listing = Listing::kListed;
  r.list_version = 0x7beca307fd538fafULL;
  r.generation = 412;
  r.delta_sequence = 77;
  r.measures = {1, 2, 5, 17, 29, 41, 52};
  r.receipt_issued = true;
  return r;
}

// Reads the segment file `path` into `*data` and replaces the first `from` in it by `to` (as
// long), at `*at`. Returns whether `from` was found.
inline bool ReadReplacing(const std::string& path, std::string_view from, std::string_view to,
                          std::string* data, size_t* at) {
  std::ifstream in(path, std::ios::binary);
  data->assign(std::istreambuf_iterator<char>(in), {});
  *at = data->find(from);
  if (*at == std::string::npos || from.size() != to.size()) return false;
  data->replace(*at, to.size(), to);
  return true;
}

// Replaces the first `from` in the segment file `path` by `to` (as long) and recomputes the
// checksum of the record it is in, not the seals: what only the chain can tell. Returns whether
// `from` was found in a record.
inline bool RewriteRecord(const std::string& path, std::string_view from, std::string_view to) {
  std::string data;
  size_t at = 0;
  if (!ReadReplacing(path, from, to, &data, &at)) return false;
  for (size_t offset = kHeaderSize; offset + kRecordOverhead <= data.size();) {
    const size_t n = DecodeLittleEndian32(data.data() + offset);
    const size_t end = offset + kRecordPrefix + n;
    if (at >= offset && at < end) {
      const auto sum = static_cast<uint32_t>(XXH3_64bits(data.data() + offset, kRecordPrefix + n));
      for (int i = 0; i < 4; ++i) data[end + i] = static_cast<char>(sum >> (8 * i));
      std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
      return true;
    }
    offset = end + 4;
  }
  return false;
}

// The tester's rewrite of a segment by whoever can write it: replaces the first `from` in the
// segment file `path` by `to` (as long) and recomputes every checksum and seal of the segment
// (the chain is unkeyed). Only a chain value copied before shows it. Returns whether found.
inline bool ResealSegment(const std::string& path, std::string_view from, std::string_view to) {
  std::string data;
  size_t at = 0;
  if (!ReadReplacing(path, from, to, &data, &at)) return false;
  absl::StatusOr<SegmentHeader> header = DecodeHeader(data);
  if (!header.ok()) return false;
  ChainHash chain = StartChain(*header);
  std::string out = data.substr(0, kHeaderSize), batch;
  for (size_t offset = kHeaderSize; offset + kRecordOverhead <= data.size();) {
    const size_t n = DecodeLittleEndian32(data.data() + offset);
    if (static_cast<RecordType>(data[offset + 4]) == RecordType::kSeal) {
      chain = SealBatch(chain, &batch);  // checksums the records, appends the seal
      out += batch;
      batch.clear();
    } else {
      batch.append(data, offset, kRecordOverhead + n);
    }
    offset += kRecordOverhead + n;
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc) << out << batch;
  return true;
}

// Writes segment `number` of `dir` by hand, as a writer whose clock was behind could have: a
// header created at `created`, then one query per time of `times` (from `first_sequence`) and a
// seal. Returns the chain value of its seal (the next segment's previous chain).
inline ChainHash WriteSegmentByHand(const std::string& dir, uint32_t number,
                                    uint64_t first_sequence, const ChainHash& prev_chain,
                                    int64_t created, const std::vector<int64_t>& times) {
  SegmentHeader header;
  header.node = 7;
  header.segment = number;
  header.first_sequence = first_sequence;
  header.prev_chain = prev_chain;
  header.created_micros = created;
  std::string batch;
  uint64_t sequence = first_sequence;
  for (const int64_t time : times) {
    QueryRecord q = TypicalQuery("11010519491231002X", time);
    q.sequence = sequence++;
    const size_t start = BeginRecord(RecordType::kQuery, &batch);
    EncodeQuery(q, header.query_base(), &batch);
    FrameRecord(start, &batch);
  }
  const ChainHash chain = SealBatch(StartChain(header), &batch);
  std::filesystem::create_directories(dir);
  std::ofstream(SegmentPath(dir, number), std::ios::binary) << EncodeHeader(header) << batch;
  return chain;
}

// POSIX, except that writes fail with `error` while it is set (after writing `partial` bytes:
// a torn write).
class FaultyOps : public FileOps {
 public:
  ssize_t PWrite(int fd, const char* data, size_t n, off_t offset) override {
    const int err = error.load();
    if (err == 0) return FileOps::PWrite(fd, data, n, offset);
    if (partial > 0) FileOps::PWrite(fd, data, std::min(n, partial), offset);
    return -err;
  }
  std::atomic<int> error{0};
  size_t partial = 0;
};

// Returns a whole query frame of the current format for `record`, encoded against `base`, with
// a valid checksum (anyone can compute it) and a forged seal after it: what a caller may send
// as text (a purpose, an operator, a reason) to plant a record inside its own.
inline std::string ForgedQueryFrame(const QueryRecord& record, const QueryBase& base) {
  std::string frame;
  const size_t start = BeginRecord(RecordType::kQuery, &frame);
  EncodeQuery(record, base, &frame);
  FrameRecord(start, &frame);
  SealBatch(ChainHash{}, &frame);  // the checksum, and the seal
  return frame;
}

}  // namespace shixin::audit::testing

#endif  // SHIXIN_AUDIT_AUDIT_TEST_UTIL_H_
