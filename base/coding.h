// Fixed-width integers as bytes, independent of the host's byte order (as LevelDB's
// util/coding.h): big-endian for the wire protocol (protocol/FORMAT.md), little-endian for the
// snapshot's case blob (core/case_codec.h).
//
// Encode* writes to a buffer the caller sized; Put* appends to a string; Decode* reads from a
// pointer. None checks bounds: the caller guarantees that 2, 4 or 8 bytes are there.
//
// Thread safety: pure functions.
#ifndef SHIXIN_BASE_CODING_H_
#define SHIXIN_BASE_CODING_H_

#include <cstdint>
#include <string>

namespace shixin {

// Big-endian (network byte order). Writes 2, 4 or 8 bytes at `out`.
inline void EncodeBigEndian16(uint16_t value, char* out) {
  out[0] = static_cast<char>(value >> 8);
  out[1] = static_cast<char>(value);
}
inline void EncodeBigEndian32(uint32_t value, char* out) {
  EncodeBigEndian16(static_cast<uint16_t>(value >> 16), out);
  EncodeBigEndian16(static_cast<uint16_t>(value), out + 2);
}
inline void EncodeBigEndian64(uint64_t value, char* out) {
  EncodeBigEndian32(static_cast<uint32_t>(value >> 32), out);
  EncodeBigEndian32(static_cast<uint32_t>(value), out + 4);
}

// Appends 2, 4 or 8 big-endian bytes to `out`.
inline void PutBigEndian16(uint16_t value, std::string* out) {
  char bytes[2];
  EncodeBigEndian16(value, bytes);
  out->append(bytes, sizeof(bytes));
}
inline void PutBigEndian32(uint32_t value, std::string* out) {
  char bytes[4];
  EncodeBigEndian32(value, bytes);
  out->append(bytes, sizeof(bytes));
}
inline void PutBigEndian64(uint64_t value, std::string* out) {
  char bytes[8];
  EncodeBigEndian64(value, bytes);
  out->append(bytes, sizeof(bytes));
}

// Returns the big-endian integer in the 2, 4 or 8 bytes at `p`.
inline uint16_t DecodeBigEndian16(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(b[0] << 8 | b[1]);
}
inline uint32_t DecodeBigEndian32(const char* p) {
  return uint32_t{DecodeBigEndian16(p)} << 16 | DecodeBigEndian16(p + 2);
}
inline uint64_t DecodeBigEndian64(const char* p) {
  return uint64_t{DecodeBigEndian32(p)} << 32 | DecodeBigEndian32(p + 4);
}

// Little-endian. Writes 4 bytes at `out`.
inline void EncodeLittleEndian32(uint32_t value, char* out) {
  out[0] = static_cast<char>(value);
  out[1] = static_cast<char>(value >> 8);
  out[2] = static_cast<char>(value >> 16);
  out[3] = static_cast<char>(value >> 24);
}

// Appends 4 or 8 little-endian bytes to `out`.
inline void PutLittleEndian32(uint32_t value, std::string* out) {
  char bytes[4];
  EncodeLittleEndian32(value, bytes);
  out->append(bytes, sizeof(bytes));
}
inline void PutLittleEndian64(uint64_t value, std::string* out) {
  PutLittleEndian32(static_cast<uint32_t>(value), out);
  PutLittleEndian32(static_cast<uint32_t>(value >> 32), out);
}

// Returns the little-endian integer in the 4 or 8 bytes at `p`.
inline uint32_t DecodeLittleEndian32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
}
inline uint64_t DecodeLittleEndian64(const char* p) {
  return uint64_t{DecodeLittleEndian32(p)} | uint64_t{DecodeLittleEndian32(p + 4)} << 32;
}

}  // namespace shixin

#endif  // SHIXIN_BASE_CODING_H_
