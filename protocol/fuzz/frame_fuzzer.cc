// libFuzzer target for the wire format: the input is read as a stream of frames (each payload
// then goes to every payload decoder), and the whole input is also given to every decoder.
// Whatever decodes must encode back to the same bytes (the decoders are strict, so encoding
// is canonical) and decode again.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/messages.h"
#include "protocol/operator_messages.h"
#include "protocol/wire.h"

namespace shixin::wire {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "frame_fuzzer: %s\n", what);
    std::abort();
  }
}

template <typename M>
std::string Enc(const M& m) {
  std::string out;
  Encode(m, &out);
  return out;
}

// Decodes `payload` with `decode`; if it decodes, checks that re-encoding gives the payload
// back and that the re-encoded bytes decode too.
template <typename Decoder, typename Encoder>
void RoundTrip(std::string_view payload, Decoder decode, Encoder encode, const char* name) {
  auto m = decode(payload);
  if (!m.ok()) {
    Check(absl::IsInvalidArgument(m.status()), name);
    return;
  }
  std::string again = encode(*m);
  if (again != payload) {
    std::fprintf(stderr, "frame_fuzzer: %s re-encodes differently (%zu vs %zu bytes)\n", name,
                 again.size(), payload.size());
    std::abort();
  }
  auto m2 = decode(again);
  Check(m2.ok(), name);
  Check(encode(*m2) == again, name);
}

template <typename M>
void RoundTrip(std::string_view payload, absl::StatusOr<M> (*decode)(std::string_view),
               const char* name) {
  RoundTrip(
      payload, decode, [](const M& m) { return Enc(m); }, name);
}

// The same for a payload whose layout depends on the protocol version.
template <typename M>
void RoundTrip(std::string_view payload, uint8_t version,
               absl::StatusOr<M> (*decode)(std::string_view, uint8_t), const char* name) {
  RoundTrip(
      payload, [&](std::string_view p) { return decode(p, version); },
      [&](const M& m) {
        std::string out;
        Encode(m, &out, version);
        return out;
      },
      name);
}

std::string EncodeAnswers(const std::vector<CheckAnswer>& answers, uint8_t version) {
  std::string out;
  AppendCheckCount(static_cast<uint16_t>(answers.size()), &out);
  for (const CheckAnswer& a : answers) AppendCheckAnswer(a, &out, version);
  return out;
}

std::string EncodeErrorMessage(const std::string& message) {
  std::string out;
  EncodeError(message, &out);
  return out;
}

void DecodeEveryPayload(std::string_view p) {
  RoundTrip(p, DecodeHelloRequest, "HELLO request");
  RoundTrip(p, DecodeHelloResponse, "HELLO response");
  for (uint8_t v : {uint8_t{1}, uint8_t{2}, uint8_t{3}, uint8_t{4}}) {
    RoundTrip(p, v, DecodeCheckRequest, "CHECK request");
    RoundTrip(
        p, [v](std::string_view q) { return DecodeCheckResponse(q, v); },
        [v](const std::vector<CheckAnswer>& a) { return EncodeAnswers(a, v); }, "CHECK response");
    RoundTrip(p, v, DecodeMeasuresRequest, "MEASURES request");
    RoundTrip(p, v, DecodeDetailRequest, "DETAIL request");
    if (v < 4) RoundTrip(p, v, DecodeMeasuresResponse, "MEASURES response");
    RoundTrip(p, v, DecodeDetailResponse, "DETAIL response");
    RoundTrip(p, v, DecodeInfoResponse, "INFO response");
  }
  RoundTrip(p, DecodeReloadRequest, "RELOAD request");
  RoundTrip(p, DecodeReloadResponse, "RELOAD response");
  RoundTrip(p, DecodeCatalogResponse, "CATALOG response");
  RoundTrip(
      p, [](std::string_view q) { return DecodeError(q); }, EncodeErrorMessage, "error");
  // Version 3's RATE_LIMITED error carries the wait.
  RoundTrip(
      p, [](std::string_view q) { return DecodeError(q, Status::kRateLimited, 3); },
      [](const ErrorResponse& e) {
        std::string out;
        EncodeError(e, Status::kRateLimited, 3, &out);
        return out;
      },
      "RATE_LIMITED error");
  // Version 4: the MEASURES response's receipt, FEEDBACK.
  std::string receipt;
  RoundTrip(
      p,
      [&receipt](std::string_view q) { return DecodeMeasuresResponseAndReceipt(q, 4, &receipt); },
      [&receipt](const MeasuresResult& m) {
        std::string out;
        Encode(m, &out, 4, receipt);
        return out;
      },
      "MEASURES response v4");
  RoundTrip(p, DecodeFeedbackRequest, "FEEDBACK request");
  RoundTrip(p, DecodeFeedbackResponse, "FEEDBACK response");
  Check(DecodeEmpty(p).ok() == p.empty(), "DecodeEmpty");
}

void DecodeStream(std::string_view rest, uint32_t max_payload) {
  for (;;) {
    Decoded d = DecodeFrame(rest, max_payload);
    if (d.result == DecodeResult::kNeedMore) {
      Check(rest.size() < kHeaderSize || rest.size() - kHeaderSize < d.header.payload_size,
            "kNeedMore with a whole frame");
      return;
    }
    if (d.result == DecodeResult::kInvalid) {
      Check(d.error == Status::kBadFrame || d.error == Status::kUnsupportedVersion ||
                d.error == Status::kFrameTooLarge,
            "unexpected error status");
      Check(!d.message.empty(), "error without a message");
      // Only the magic is judged before the whole header is there (FORMAT.md 2).
      Check(d.error == Status::kBadFrame || rest.size() >= kHeaderSize, "judged too early");
      Check(d.error != Status::kBadFrame || (d.header.request_id == 0 && d.header.opcode == 0),
            "a bad magic echoes nothing");
      return;
    }
    Check(d.consumed == kHeaderSize + d.header.payload_size && d.consumed <= rest.size(),
          "consumed");
    Check(d.header.payload_size <= max_payload, "payload over the limit");
    Check(d.payload.data() == rest.data() + kHeaderSize, "payload view");
    std::string header;
    AppendHeader(d.header, &header);
    Check(header == rest.substr(0, kHeaderSize), "header re-encodes differently");
    Check(
        DecodeFrame(rest.substr(0, d.consumed - 1), max_payload).result == DecodeResult::kNeedMore,
        "a strict prefix of a frame is not kNeedMore");
    DecodeEveryPayload(d.payload);
    rest.remove_prefix(d.consumed);
  }
}

}  // namespace
}  // namespace shixin::wire

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  shixin::wire::DecodeStream(input, shixin::wire::kMaxPayloadLimit);
  shixin::wire::DecodeStream(input, 64);  // a small limit: kFrameTooLarge paths
  shixin::wire::DecodeEveryPayload(input);
  return 0;
}
