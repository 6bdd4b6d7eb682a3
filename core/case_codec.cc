#include "core/case_codec.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace shixin {
namespace {

void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// Reads a LEB128 value; stops at `end` (a truncated value reads as what it has so far).
uint64_t ReadVarint(const char*& p, const char* end) {
  uint64_t value = 0;
  for (int shift = 0; p < end && shift < 64; shift += 7) {
    const auto byte = static_cast<uint8_t>(*p++);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  return value;
}

// A text as its length and bytes; any other field as its sizeof(field) bytes, in host order
// (little-endian, as the format requires).
template <typename T>
void AppendField(const T& value, std::string* out) {
  if constexpr (kIsCaseText<T>) {
    AppendVarint(value.size(), out);
    out->append(value);
  } else {
    static_assert(std::is_trivially_copyable_v<T>);
    char bytes[sizeof(value)];
    std::memcpy(bytes, &value, sizeof(value));
    out->append(bytes, sizeof(value));
  }
}

// Reads what AppendField wrote; a text is cut at `end`.
// REQUIRES: a fixed-width field has its sizeof(field) bytes before `end`.
template <typename T>
void ReadField(const char*& p, const char* end, T* value) {
  if constexpr (kIsCaseText<T>) {
    // The length first: `end - p` is what is left after it.
    const uint64_t length = ReadVarint(p, end);
    const uint64_t n = std::min<uint64_t>(length, static_cast<uint64_t>(end - p));
    *value = std::string_view(p, n);
    p += n;
  } else {
    std::memcpy(value, p, sizeof(*value));
    p += sizeof(*value);
  }
}

}  // namespace

void EncodeCase(const CaseView& c, std::string* out) {
  ForEachCaseFieldBinaryOrder([out](const CaseField&, const auto& v) { AppendField(v, out); }, c);
}

CaseView DecodeCase(const char* p, const char* end, size_t* size) {
  const char* begin = p;
  CaseView v;
  if (static_cast<size_t>(end - p) < CaseFixedBytes()) {
    if (size != nullptr) *size = static_cast<size_t>(end - p);
    return v;
  }
  ForEachCaseFieldBinaryOrder([&p, end](const CaseField&, auto& f) { ReadField(p, end, &f); }, v);
  if (size != nullptr) *size = static_cast<size_t>(p - begin);
  return v;
}

CaseView DecodeCaseHead(const char* p, const char* end) {
  CaseView v;
  if (static_cast<size_t>(end - p) < CaseFixedBytes()) return v;
  auto read = [&p, end](const CaseField&, auto& f) { ReadField(p, end, &f); };
  record_internal::ForEachCaseFieldOfKind<false>(read, v);
  ReadField(p, end, &v.case_code);
  return v;
}

void SetEncodedCaseEnd(char* p, int64_t ended_at, EndReason end) {
  CaseView v;
  const char* in = p;
  auto read = [&in, p](const CaseField&, auto& f) { ReadField(in, p + CaseFixedBytes(), &f); };
  record_internal::ForEachCaseFieldOfKind<false>(read, v);
  v.ended_at = ended_at;
  v.end = end;
  char* out = p;
  auto write = [&out](const CaseField&, const auto& f) {
    std::memcpy(out, &f, sizeof(f));
    out += sizeof(f);
  };
  record_internal::ForEachCaseFieldOfKind<false>(write, v);
}

}  // namespace shixin
