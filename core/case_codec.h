// The binary encoding of one enforcement case inside a snapshot's case blob, in the order of
// ForEachCaseFieldBinaryOrder (core/record.h): the fixed-width fields, each in sizeof(field)
// little-endian bytes (today reg_date and publish_date, 4 bytes each, then age and sex, 1 byte
// each), then the texts, each as a LEB128 length and its bytes (core/SNAPSHOT_FORMAT.md).
//
// Thread safety: pure functions.
#ifndef SHIXIN_CORE_CASE_CODEC_H_
#define SHIXIN_CORE_CASE_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/record.h"

namespace shixin {

// Appends the encoding of `c` to `out`.
void EncodeCase(const CaseView& c, std::string* out);

// Decodes the case starting at `p`, reading no byte at or beyond `end`; sets *size to its
// encoded length if `size` is not null. The views point into that record. A record cut short
// by `end` (only possible with damaged input) decodes to its fields up to `end`, the rest
// empty: never a read out of bounds.
// REQUIRES: p <= end.
CaseView DecodeCase(const char* p, const char* end, size_t* size = nullptr);

// As DecodeCase, but only the fixed-width fields and the case code (the first text): all that
// finding a case's current version and its interval needs, without reading the other texts.
CaseView DecodeCaseHead(const char* p, const char* end);

// Sets ended_at and end of the case encoded at `p` in place: fixed-width fields, so nothing
// else moves. REQUIRES: [p, p + CaseFixedBytes()) is an encoded case's start.
void SetEncodedCaseEnd(char* p, int64_t ended_at, EndReason end);

}  // namespace shixin

#endif  // SHIXIN_CORE_CASE_CODEC_H_
