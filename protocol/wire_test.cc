#include "protocol/wire.h"

#include <string>

#include "gtest/gtest.h"

namespace shixin::wire {
namespace {

std::string MakeFrame(const FrameHeader& h, std::string_view payload) {
  std::string out;
  AppendHeader(h, &out);
  out.append(payload);
  return out;
}

FrameHeader Request(Opcode op, uint32_t id, size_t payload_size) {
  FrameHeader h;
  h.opcode = static_cast<uint8_t>(op);
  h.request_id = id;
  h.payload_size = static_cast<uint32_t>(payload_size);
  return h;
}

TEST(AppendHeaderTest, LayoutIsBigEndian) {
  FrameHeader h;
  h.opcode = 3;
  h.flags = 0x0102;
  h.status = 0x0304;
  h.request_id = 0x05060708;
  h.generation = 0x090a0b0c;
  h.payload_size = 0x0d0e0f10;
  std::string out = "x";  // appends
  AppendHeader(h, &out);
  EXPECT_EQ(out, std::string("xSX\x01\x03\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c"
                             "\x0d\x0e\x0f\x10",
                             21));
}

TEST(DecodeFrameTest, Complete) {
  FrameHeader h = Request(Opcode::kCheck, 77, 5);
  h.flags = kFlagResponse | kFlagStale;
  h.status = 6;
  h.generation = 9;
  std::string frame = MakeFrame(h, "hello");
  Decoded d = DecodeFrame(frame, 1024);
  ASSERT_EQ(d.result, DecodeResult::kComplete) << d.message;
  EXPECT_EQ(d.header.version, 1);
  EXPECT_EQ(d.header.opcode, 3);
  // Direction is the caller's business: response fields decode as they are.
  EXPECT_EQ(d.header.flags, kFlagResponse | kFlagStale);
  EXPECT_EQ(d.header.status, 6);
  EXPECT_EQ(d.header.request_id, 77u);
  EXPECT_EQ(d.header.generation, 9u);
  EXPECT_EQ(d.header.payload_size, 5u);
  EXPECT_EQ(d.payload, "hello");
  EXPECT_EQ(d.payload.data(), frame.data() + kHeaderSize);  // a view, no copy
  EXPECT_EQ(d.consumed, frame.size());
}

TEST(DecodeFrameTest, EmptyPayload) {
  std::string frame = MakeFrame(Request(Opcode::kPing, 1, 0), "");
  Decoded d = DecodeFrame(frame, 0);
  ASSERT_EQ(d.result, DecodeResult::kComplete);
  EXPECT_TRUE(d.payload.empty());
  EXPECT_EQ(d.consumed, kHeaderSize);
}

TEST(DecodeFrameTest, UnknownOpcodeIsNotChecked) {
  std::string frame = MakeFrame(Request(static_cast<Opcode>(200), 1, 0), "");
  EXPECT_EQ(DecodeFrame(frame, 16).result, DecodeResult::kComplete);
}

TEST(DecodeFrameTest, NeedMoreAtEveryPrefix) {
  std::string frame = MakeFrame(Request(Opcode::kDetail, 3, 19), "11010519491231002X!");
  for (size_t n = 0; n < frame.size(); ++n) {
    // A copy of exactly n bytes, so that a read past the end is caught by ASan.
    std::string prefix = frame.substr(0, n);
    Decoded d = DecodeFrame(prefix, 1024);
    EXPECT_EQ(d.result, DecodeResult::kNeedMore) << n << " bytes";
    EXPECT_EQ(d.consumed, 0u);
  }
  EXPECT_EQ(DecodeFrame(frame, 1024).result, DecodeResult::kComplete);
}

TEST(DecodeFrameTest, BadMagicFailsAtOnce) {
  Decoded d = DecodeFrame("G", 1024);  // "GET / HTTP/1.1"
  EXPECT_EQ(d.result, DecodeResult::kInvalid);
  EXPECT_EQ(d.error, Status::kBadFrame);
  EXPECT_NE(d.message.find("magic"), std::string::npos) << d.message;

  d = DecodeFrame("SY", 1024);
  EXPECT_EQ(d.result, DecodeResult::kInvalid);
  EXPECT_EQ(d.error, Status::kBadFrame);

  std::string frame = MakeFrame(Request(Opcode::kPing, 1, 0), "");
  frame[1] = 'x';
  EXPECT_EQ(DecodeFrame(frame, 1024).error, Status::kBadFrame);
}

// FORMAT.md 2 and 6: the version is judged once the 20-byte header is whole, and the answer
// echoes the request id and opcode. (It was judged at the third byte, with id and opcode 0,
// which contradicted the spec: issue 9.)
TEST(DecodeFrameTest, BadVersion) {
  for (uint8_t version : {0, 2, 255}) {
    FrameHeader h = Request(Opcode::kInfo, 0x01020304, 7);
    h.version = version;
    std::string frame = MakeFrame(h, "payload");
    for (size_t n = 3; n < kHeaderSize; ++n) {
      EXPECT_EQ(DecodeFrame(frame.substr(0, n), 1024).result, DecodeResult::kNeedMore)
          << int{version} << ", " << n << " bytes";
    }
    // Judged without waiting for the payload.
    Decoded d = DecodeFrame(frame.substr(0, kHeaderSize), 1024);
    EXPECT_EQ(d.result, DecodeResult::kInvalid) << int{version};
    EXPECT_EQ(d.error, Status::kUnsupportedVersion) << int{version};
    EXPECT_NE(d.message.find("version"), std::string::npos) << d.message;
    EXPECT_EQ(d.header.version, version);
    EXPECT_EQ(d.header.opcode, static_cast<uint8_t>(Opcode::kInfo));
    EXPECT_EQ(d.header.request_id, 0x01020304u);
    EXPECT_EQ(DecodeFrame(frame, 1024).error, Status::kUnsupportedVersion);
  }
}

// FORMAT.md 2 and 4: a frame must carry its connection's version; after a HELLO to version 2,
// version 1 is as unsupported as 3.
TEST(DecodeFrameTest, FramesCarryTheConnectionsVersion) {
  for (uint8_t version : {1, 2}) {
    FrameHeader h = Request(Opcode::kInfo, 9, 0);
    h.version = version;
    const std::string frame = MakeFrame(h, "");
    EXPECT_EQ(DecodeFrame(frame, 1024, version).result, DecodeResult::kComplete) << int{version};
    const Decoded other = DecodeFrame(frame, 1024, version == 1 ? 2 : 1);
    EXPECT_EQ(other.error, Status::kUnsupportedVersion) << int{version};
    EXPECT_EQ(other.header.request_id, 9u);
  }
  FrameHeader h = Request(Opcode::kInfo, 9, 0);
  EXPECT_EQ(DecodeFrame(MakeFrame(h, ""), 1024, 2).message,
            "unsupported version 1 (this connection speaks version 2)");
}

// The version comes before the payload size; a bad magic leaves the header empty.
TEST(DecodeFrameTest, CheckOrder) {
  FrameHeader h = Request(Opcode::kCheck, 9, 5000);
  h.version = 2;
  EXPECT_EQ(DecodeFrame(MakeFrame(h, ""), 1024).error, Status::kUnsupportedVersion);
  std::string frame = MakeFrame(Request(Opcode::kCheck, 9, 5000), "");
  frame[0] = 'G';
  Decoded d = DecodeFrame(frame, 1024);
  EXPECT_EQ(d.error, Status::kBadFrame);
  EXPECT_EQ(d.header.request_id, 0u);
  EXPECT_EQ(d.header.opcode, 0);
}

TEST(DecodeFrameTest, OversizedLengthRejectedWithOnlyTheHeader) {
  for (uint32_t size : {1025u, 0xFFFFFFFFu}) {
    std::string header = MakeFrame(Request(Opcode::kCheck, 42, size), "");
    ASSERT_EQ(header.size(), kHeaderSize);
    Decoded d = DecodeFrame(header, 1024);
    EXPECT_EQ(d.result, DecodeResult::kInvalid) << size;
    EXPECT_EQ(d.error, Status::kFrameTooLarge) << size;
    EXPECT_EQ(d.header.request_id, 42u);  // for the error response
    EXPECT_EQ(d.header.payload_size, size);
  }
}

TEST(DecodeFrameTest, PayloadAtTheLimitIsAccepted) {
  std::string payload(1024, 'a');
  std::string frame = MakeFrame(Request(Opcode::kCheck, 1, payload.size()), payload);
  EXPECT_EQ(DecodeFrame(frame.substr(0, kHeaderSize), 1024).result, DecodeResult::kNeedMore);
  EXPECT_EQ(DecodeFrame(frame, 1024).result, DecodeResult::kComplete);
}

TEST(DecodeFrameTest, HugeLengthDoesNotOverflow) {
  // With the limit at its maximum, a length near 2^32 must wait for more, not wrap around.
  std::string header = MakeFrame(Request(Opcode::kCheck, 1, 0xFFFFFFF0u), "");
  EXPECT_EQ(DecodeFrame(header, 0xFFFFFFFFu).result, DecodeResult::kNeedMore);
}

TEST(DecodeFrameTest, GarbageAfterAValidFrame) {
  std::string stream = MakeFrame(Request(Opcode::kPing, 1, 0), "") +
                       MakeFrame(Request(Opcode::kDetail, 2, 3), "abc") + "GARBAGE";
  std::string_view rest = stream;
  Decoded d = DecodeFrame(rest, 1024);
  ASSERT_EQ(d.result, DecodeResult::kComplete);
  EXPECT_EQ(d.header.request_id, 1u);
  rest.remove_prefix(d.consumed);
  d = DecodeFrame(rest, 1024);
  ASSERT_EQ(d.result, DecodeResult::kComplete);
  EXPECT_EQ(d.header.request_id, 2u);
  EXPECT_EQ(d.payload, "abc");
  rest.remove_prefix(d.consumed);
  d = DecodeFrame(rest, 1024);
  EXPECT_EQ(d.result, DecodeResult::kInvalid);
  EXPECT_EQ(d.error, Status::kBadFrame);
}

TEST(NamesTest, Opcodes) {
  EXPECT_EQ(OpcodeName(Opcode::kHello), "HELLO");
  EXPECT_EQ(OpcodeName(Opcode::kMeasures), "MEASURES");
  EXPECT_EQ(OpcodeName(Opcode::kReload), "RELOAD");
  EXPECT_EQ(OpcodeName(Opcode::kCatalog), "CATALOG");
  EXPECT_EQ(OpcodeName(static_cast<Opcode>(0)), "UNKNOWN");
  // 8 is CATALOG (issue 9), 9 FEEDBACK (version 4, issue 12).
  EXPECT_EQ(OpcodeName(Opcode::kFeedback), "FEEDBACK");
  EXPECT_EQ(OpcodeName(static_cast<Opcode>(10)), "UNKNOWN");
  for (uint8_t version = 1; version <= 4; ++version) {
    EXPECT_FALSE(IsKnownOpcode(0, version));
    for (uint8_t op = 1; op <= 8; ++op) EXPECT_TRUE(IsKnownOpcode(op, version)) << int{op};
    // FEEDBACK exists from version 4: older connections keep answering UNKNOWN_OPCODE.
    EXPECT_EQ(IsKnownOpcode(9, version), version >= 4) << int{version};
    EXPECT_FALSE(IsKnownOpcode(10, version));
    EXPECT_FALSE(IsKnownOpcode(255, version));
  }
}

TEST(NamesTest, Statuses) {
  EXPECT_EQ(StatusName(Status::kOk), "OK");
  EXPECT_EQ(StatusName(Status::kBadFrame), "BAD_FRAME");
  EXPECT_EQ(StatusName(Status::kUnsupportedVersion), "UNSUPPORTED_VERSION");
  EXPECT_EQ(StatusName(Status::kInvalidId), "INVALID_ID");
  EXPECT_EQ(StatusName(Status::kStaleRefused), "STALE_REFUSED");
  EXPECT_EQ(StatusName(Status::kReloadFailed), "RELOAD_FAILED");
  EXPECT_EQ(StatusName(Status::kInternal), "INTERNAL");
  EXPECT_EQ(StatusName(Status::kPermissionDenied), "PERMISSION_DENIED");
  EXPECT_EQ(StatusName(Status::kUnauthenticated), "UNAUTHENTICATED");
  EXPECT_EQ(StatusName(Status::kNotFound), "NOT_FOUND");
  EXPECT_EQ(StatusName(Status::kAuditUnavailable), "AUDIT_UNAVAILABLE");
  EXPECT_FALSE(IsFatal(Status::kNotFound));
  EXPECT_FALSE(IsFatal(Status::kAuditUnavailable));
  EXPECT_EQ(StatusName(Status::kRateLimited), "RATE_LIMITED");
  EXPECT_FALSE(IsFatal(Status::kUnauthenticated));
  EXPECT_FALSE(IsFatal(Status::kRateLimited));
  EXPECT_EQ(StatusName(static_cast<Status>(99)), "UNKNOWN_STATUS");
}

TEST(IsFatalTest, CodesOneToFive) {
  for (uint16_t code = 0; code <= 20; ++code) {
    EXPECT_EQ(IsFatal(static_cast<Status>(code)), code >= 1 && code <= 5) << code;
  }
}

TEST(FromAbslTest, Mapping) {
  EXPECT_EQ(FromAbsl(absl::OkStatus()), Status::kOk);
  EXPECT_EQ(FromAbsl(absl::InvalidArgumentError("x")), Status::kInvalidArgument);
  EXPECT_EQ(FromAbsl(absl::FailedPreconditionError("x")), Status::kStaleRefused);
  EXPECT_EQ(FromAbsl(absl::ResourceExhaustedError("x")), Status::kRateLimited);
  EXPECT_EQ(FromAbsl(absl::UnauthenticatedError("x")), Status::kUnauthenticated);
  EXPECT_EQ(FromAbsl(absl::UnavailableError("x")), Status::kUnavailable);
  EXPECT_EQ(FromAbsl(absl::PermissionDeniedError("x")), Status::kPermissionDenied);
  EXPECT_EQ(FromAbsl(absl::AbortedError("x")), Status::kReloadFailed);
  EXPECT_EQ(FromAbsl(absl::NotFoundError("x")), Status::kInternal);
  EXPECT_EQ(FromAbsl(absl::InternalError("x")), Status::kInternal);
}

}  // namespace
}  // namespace shixin::wire
