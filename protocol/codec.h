// The protocol's primitive encoders and the bounds-checked payload Reader, shared by the
// message files (messages.cc, feedback_messages.cc). Internal to protocol/: not an API.
//
// Thread safety: pure functions; a Reader belongs to one thread.
#ifndef SHIXIN_PROTOCOL_CODEC_H_
#define SHIXIN_PROTOCOL_CODEC_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "base/coding.h"
#include "core/types.h"
#include "protocol/messages.h"

namespace shixin::wire::codec {

inline void PutU8(uint8_t v, std::string* out) { out->push_back(static_cast<char>(v)); }

// FORMAT.md's integer types; big-endian (base/coding.h).
inline void PutU16(uint16_t v, std::string* out) { PutBigEndian16(v, out); }
inline void PutU32(uint32_t v, std::string* out) { PutBigEndian32(v, out); }
inline void PutU64(uint64_t v, std::string* out) { PutBigEndian64(v, out); }

inline void PutI64(int64_t v, std::string* out) { PutU64(static_cast<uint64_t>(v), out); }

// A string with a `prefix`-byte length (1, 2 or 4), cut at a UTF-8 boundary if too long.
inline void PutStr(int prefix, std::string_view s, std::string* out) {
  size_t max = prefix == 1 ? 0xFF : prefix == 2 ? 0xFFFF : std::numeric_limits<uint32_t>::max();
  s = TruncateUtf8(s, max);
  if (prefix == 1) PutU8(static_cast<uint8_t>(s.size()), out);
  if (prefix == 2) PutU16(static_cast<uint16_t>(s.size()), out);
  if (prefix == 4) PutU32(static_cast<uint32_t>(s.size()), out);
  out->append(s);
}

inline void PutStr8(std::string_view s, std::string* out) { PutStr(1, s, out); }
inline void PutStr16(std::string_view s, std::string* out) { PutStr(2, s, out); }

// Returns `s` cut at a UTF-8 boundary to fit a 1-byte length (TruncateUtf8), inline for the
// short strings that fit.
inline std::string_view Fit8(std::string_view s) {
  return s.size() <= 0xFF ? s : TruncateUtf8(s, 0xFF);
}

// Writes fields into bytes reserved ahead: an encoder that runs for every answer sizes its
// bytes first and then checks no capacity per field.
class RawWriter {
 public:
  // REQUIRES: the bytes from `p` on are reserved for what is written.
  explicit RawWriter(char* p) : p_(p) {}
  void U8(uint8_t v) { *p_++ = static_cast<char>(v); }
  void U16(uint16_t v) {
    EncodeBigEndian16(v, p_);
    p_ += 2;
  }
  void I64(int64_t v) {
    EncodeBigEndian64(static_cast<uint64_t>(v), p_);
    p_ += 8;
  }
  // REQUIRES: s.size() <= 0xFF (Fit8).
  void Str8(std::string_view s) {
    U8(static_cast<uint8_t>(s.size()));
    if (s.empty()) return;  // an empty view's data() may be null, which memcpy must not see
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  // Returns where the next byte would go.
  char* end() const { return p_; }

 private:
  char* p_;
};

// The number of list entries written: lists longer than their count field are cut.
inline size_t Count16(size_t n) { return std::min<size_t>(n, 0xFFFF); }
inline size_t Count8(size_t n) { return std::min<size_t>(n, 0xFF); }

// A bounds-checked reader over one payload. The first failure sticks: later reads return
// zeros and empty strings, and Finish() reports the first failure, naming the field.
class Reader {
 public:
  // Reads `data` from byte `pos` on; `what` names the payload in messages.
  Reader(std::string_view data, std::string_view what, size_t pos = 0)
      : data_(data), what_(what), pos_(pos) {}

  bool ok() const { return error_.empty(); }
  size_t pos() const { return pos_; }

  uint8_t U8(std::string_view field) { return static_cast<uint8_t>(Bytes(field, 1)); }
  uint16_t U16(std::string_view field) { return static_cast<uint16_t>(Bytes(field, 2)); }
  uint32_t U32(std::string_view field) { return static_cast<uint32_t>(Bytes(field, 4)); }
  uint64_t U64(std::string_view field) { return Bytes(field, 8); }
  int64_t I64(std::string_view field) { return static_cast<int64_t>(Bytes(field, 8)); }

  // Reads a u8 that must be at most `max`.
  uint8_t Enum(std::string_view field, uint8_t max) {
    uint8_t v = U8(field);
    if (v > max) Fail(field, absl::StrFormat("value %d out of range 0-%d", v, max), 1);
    return ok() ? v : 0;
  }
  Role ReadRole(std::string_view field) { return static_cast<Role>(Enum(field, kRoleCount - 1)); }
  // A role, or kNoRole (0xFF) for none.
  std::optional<Role> OptionalRole(std::string_view field) {
    uint8_t v = U8(field);
    if (v == kNoRole || !ok()) return std::nullopt;
    if (v >= kRoleCount) Fail(field, absl::StrFormat("%d is neither a role 0-6 nor 0xFF", v), 1);
    return static_cast<Role>(v);
  }
  bool Bool(std::string_view field) { return Enum(field, 1) != 0; }

  // Reads a string with a `prefix`-byte length; the view points into the payload.
  std::string_view Str(std::string_view field, int prefix) {
    uint64_t size = Bytes(field, prefix);
    if (!ok()) return {};
    if (size > data_.size() - pos_) {
      Fail(field, absl::StrFormat("string of %d bytes, %d left", size, data_.size() - pos_), 0);
      return {};
    }
    std::string_view s = data_.substr(pos_, size);
    pos_ += size;
    return s;
  }
  std::string_view Str8(std::string_view field) { return Str(field, 1); }
  std::string_view Str16(std::string_view field) { return Str(field, 2); }

  // Reads a list count and checks that the payload can hold that many entries of at least
  // `min_entry` bytes, so that a bogus count fails before anything is allocated for it.
  size_t Count(std::string_view field, int prefix, size_t max, size_t min_entry) {
    uint64_t n = Bytes(field, prefix);
    if (n > max) Fail(field, absl::StrFormat("%d exceeds the limit of %d", n, max), prefix);
    if (ok() && n * min_entry > data_.size() - pos_) {
      Fail(field,
           absl::StrFormat("%d entries cannot fit in the %d bytes left", n, data_.size() - pos_),
           prefix);
    }
    return ok() ? n : 0;
  }

  void Fail(std::string_view field, const std::string& reason, size_t back) {
    if (!ok()) return;
    error_ =
        absl::StrFormat("%s: %s%s: %s (at byte %d)", what_, scope_, field, reason, pos_ - back);
  }

  // Names the fields read next "<scope><field>" in errors (e.g. scope "case."), until reset.
  void set_scope(std::string_view scope) { scope_ = scope; }

  // Returns the first failure, or InvalidArgument if bytes are left over.
  absl::Status Finish() {
    if (ok() && pos_ != data_.size()) {
      error_ = absl::StrFormat("%s: %d trailing bytes after the payload (at byte %d)", what_,
                               data_.size() - pos_, pos_);
    }
    return ok() ? absl::OkStatus() : absl::InvalidArgumentError(error_);
  }

 private:
  // Reads an n-byte big-endian unsigned integer.
  uint64_t Bytes(std::string_view field, int n) {
    if (!ok()) return 0;
    if (data_.size() - pos_ < static_cast<size_t>(n)) {
      Fail(field, absl::StrFormat("truncated: needs %d bytes, %d left", n, data_.size() - pos_), 0);
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = v << 8 | static_cast<unsigned char>(data_[pos_++]);
    return v;
  }

  std::string_view data_;
  std::string_view what_;
  std::string_view scope_;
  size_t pos_;
  std::string error_;
};

// Version 4 (feedback_messages.cc): the request context of CHECK and MEASURES, and INFO's
// audit block. The readers enforce the limits of feedback_messages.h.
void PutContext(const RequestContext& c, std::string* out);
void ReadContext(Reader& r, RequestContext* c);
void PutAudit(const AuditInfo& a, std::string* out);
void ReadAudit(Reader& r, AuditInfo* a);

}  // namespace shixin::wire::codec

#endif  // SHIXIN_PROTOCOL_CODEC_H_
