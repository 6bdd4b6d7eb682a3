// libFuzzer target for the audit's readers (audit/FORMAT.md): what a damaged or forged segment
// file can hand them. The first byte picks the mode: even, the rest is a segment file (header,
// then record frames, in the header's format or both: each frame that parses is decoded by its
// type and fed to the chain check); odd, the rest is one
// record payload, decoded as both types in each payload layout. Beyond the sanitizers it checks
// that a decoded record encodes to a payload that decodes to the same encoding again (the encoder
// and the decoder agree), and that the frame parser never reads past its input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "audit/format.h"
#include "audit/record.h"

namespace shixin::audit {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "audit_fuzzer: %s\n", what);
    std::abort();
  }
}

// A payload of the segment of `base`.
void RoundTrip(std::string_view payload, const QueryBase& base) {
  if (absl::StatusOr<QueryRecord> q = DecodeQuery(payload, base); q.ok()) {
    Check(base.format < kRelativeQueryFormat || q->sequence >= base.first_sequence,
          "a query's sequence before its segment's first");
    std::string once;
    EncodeQuery(*q, base, &once);
    absl::StatusOr<QueryRecord> again = DecodeQuery(once, base);
    Check(again.ok(), "a re-encoded query does not decode");
    std::string twice;
    EncodeQuery(*again, base, &twice);
    Check(once == twice, "query encoding is not stable");
  }
  if (absl::StatusOr<FeedbackRecord> f = DecodeFeedback(payload); f.ok()) {
    std::string once;
    EncodeFeedback(*f, &once);
    absl::StatusOr<FeedbackRecord> again = DecodeFeedback(once);
    Check(again.ok(), "a re-encoded feedback does not decode");
    std::string twice;
    EncodeFeedback(*again, &twice);
    Check(once == twice, "feedback encoding is not stable");
  }
}

// The frames after the header, in the header's format (or, without a valid header, in each),
// with the chain followed as the readers follow it.
void Segment(std::string_view bytes) {
  absl::StatusOr<SegmentHeader> header = DecodeHeader(bytes);
  std::string_view frames = bytes.size() >= kHeaderSize ? bytes.substr(kHeaderSize) : bytes;
  for (uint32_t version = 1; version <= kFormatVersion; ++version) {
    if (header.ok() && header->version != version) continue;
    ChainCheck chain(version, header.ok() ? StartChain(*header) : ChainHash{});
    std::string_view rest = frames;
    while (!rest.empty()) {
      FramedRecord r;
      if (ParseRecord(rest, version, &r) != FrameStatus::kOk) break;
      Check(r.size > 0 && r.size <= rest.size(), "frame size outside the input");
      Check(r.payload.data() >= rest.data() &&
                r.payload.data() + r.payload.size() <= rest.data() + rest.size(),
            "payload outside the input");
      Check(r.type != RecordType::kSeal || (version >= 2 && r.payload.size() == kChainSize),
            "a seal outside format 2 or of the wrong size");
      (void)chain.Add(r);
      if (r.type != RecordType::kSeal) {
        RoundTrip(r.payload, header.ok() ? header->query_base() : QueryBase{version});
      }
      rest.remove_prefix(r.size);
    }
  }
}

}  // namespace
}  // namespace shixin::audit

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) != 0) {
    // Formats 1 and 2 share a payload layout; format 4's differences from a segment's first
    // sequence and creation time wrap around.
    for (uint32_t format = 2; format <= shixin::audit::kFormatVersion; ++format) {
      shixin::audit::RoundTrip(rest, shixin::audit::QueryBase{format, 1000, 1780000000000000});
    }
  } else {
    shixin::audit::Segment(rest);
  }
  return 0;
}
