#include "core/case_codec.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace shixin {
namespace {

void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void AppendU32(uint32_t value, std::string* out) {
  char bytes[sizeof(value)];
  std::memcpy(bytes, &value, sizeof(value));
  out->append(bytes, sizeof(value));
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

uint32_t ReadU32(const char*& p) {
  uint32_t value;
  std::memcpy(&value, p, sizeof(value));
  p += sizeof(value);
  return value;
}

// The fixed part of a record: two dates, age and sex.
constexpr size_t kFixedBytes = 2 * sizeof(uint32_t) + 2;

}  // namespace

void EncodeCase(const CaseInput& c, std::string* out) {
  AppendU32(c.reg_date, out);
  AppendU32(c.publish_date, out);
  out->push_back(static_cast<char>(c.age));
  out->push_back(static_cast<char>(c.sex));
  for (std::string_view field :
       {c.case_code, c.court, c.area, c.gist_id, c.gist_unit, c.duty, c.performance,
        c.performed_part, c.unperform_part, c.disrupt_type, c.business_entity}) {
    AppendVarint(field.size(), out);
    out->append(field);
  }
}

CaseView DecodeCase(const char* p, const char* end, size_t* size) {
  const char* begin = p;
  CaseView v;
  if (static_cast<size_t>(end - p) < kFixedBytes) {
    if (size != nullptr) *size = static_cast<size_t>(end - p);
    return v;
  }
  v.reg_date = ReadU32(p);
  v.publish_date = ReadU32(p);
  v.age = static_cast<uint8_t>(*p++);
  v.sex = static_cast<uint8_t>(*p++);
  for (std::string_view* field :
       {&v.case_code, &v.court, &v.area, &v.gist_id, &v.gist_unit, &v.duty, &v.performance,
        &v.performed_part, &v.unperform_part, &v.disrupt_type, &v.business_entity}) {
    const uint64_t n = std::min<uint64_t>(ReadVarint(p, end), static_cast<uint64_t>(end - p));
    *field = std::string_view(p, n);
    p += n;
  }
  if (size != nullptr) *size = static_cast<size_t>(p - begin);
  return v;
}

}  // namespace shixin
