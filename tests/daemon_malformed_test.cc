// End-to-end tests of shixind against malformed input (FORMAT.md sections 2 and 6): each case
// on its own connection gets the documented error frame, then the connection is closed, and
// the daemon goes on serving fresh clients. Also idle and vanishing clients.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "tests/daemon_harness.h"

namespace shixin::e2e {
namespace {

constexpr absl::Duration kCloseBound = absl::Seconds(5);

std::string Header(uint8_t version, uint8_t opcode, uint16_t flags, uint16_t status,
                   uint32_t request_id, uint32_t generation, uint32_t payload_size) {
  wire::FrameHeader h;
  h.version = version;
  h.opcode = opcode;
  h.flags = flags;
  h.status = status;
  h.request_id = request_id;
  h.generation = generation;
  h.payload_size = payload_size;
  std::string out;
  wire::AppendHeader(h, &out);
  return out;
}

class DaemonMalformedTest : public ::testing::Test {
 protected:
  void SetUp() override { StartDaemon({}); }

  void StartDaemon(const std::vector<std::string>& flags) {
    DaemonOptions options;
    options.data_dir = SourceDir() + "/data/sample";
    options.flags = flags;
    auto daemon = Daemon::Start(options);
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
  }

  std::unique_ptr<RawSocket> Raw() {
    auto raw = RawSocket::Connect(daemon_->host(), daemon_->port());
    EXPECT_TRUE(raw.ok()) << raw.status();
    return raw.ok() ? *std::move(raw) : nullptr;
  }

  // Sends `bytes` on a fresh connection and returns the frames received before the daemon
  // closed it (ReadFramesUntilClose).
  std::vector<Frame> SendAndReadUntilClose(std::string_view bytes) {
    std::unique_ptr<RawSocket> raw = Raw();
    if (raw == nullptr) return {};
    EXPECT_TRUE(raw->Send(bytes).ok());
    return ReadFramesUntilClose(*raw);
  }

  // Returns the frames received on `raw` until the daemon closed it; fails the test unless it
  // closed cleanly (EOF, no reset) within kCloseBound, after whole frames.
  std::vector<Frame> ReadFramesUntilClose(RawSocket& raw) {
    const RawSocket::ReadResult r = raw.ReadUntilClose(kCloseBound);
    EXPECT_EQ(static_cast<int>(r.end), static_cast<int>(RawSocket::End::kEof))
        << "0 EOF, 1 reset, 2 timeout, 3 error; received " << r.bytes.size() << " bytes";
    std::string rest;
    auto frames = SplitFrames(r.bytes, &rest);
    EXPECT_TRUE(frames.ok()) << frames.status();
    EXPECT_EQ(rest, "") << "a partial frame before the close";
    return frames.ok() ? *frames : std::vector<Frame>{};
  }

  // The daemon still runs and answers a fresh client.
  void ExpectServing() {
    ASSERT_TRUE(daemon_->Running()) << daemon_->stderr_text();
    auto client = daemon_->Connect();
    ASSERT_TRUE(client.ok()) << client.status();
    auto ping = (*client)->Ping();
    EXPECT_TRUE(ping.ok()) << ping.status();
    auto check = (*client)->Check({"11010519491231002X"});
    ASSERT_TRUE(check.ok()) << check.status();
    EXPECT_EQ(check->value[0].status, wire::CheckStatus::kListed);
  }

  void ExpectError(const Frame& frame, wire::Status status, uint32_t request_id, uint8_t opcode) {
    EXPECT_EQ(wire::StatusName(static_cast<wire::Status>(frame.header.status)),
              wire::StatusName(status));
    EXPECT_NE(frame.header.flags & wire::kFlagResponse, 0);
    EXPECT_EQ(frame.header.request_id, request_id);
    EXPECT_EQ(frame.header.opcode, opcode);
    EXPECT_EQ(frame.header.generation, 1u);
    EXPECT_NE(ErrorMessage(frame), "");
    EXPECT_NE(ErrorMessage(frame), "(undecodable)");
  }

  std::unique_ptr<Daemon> daemon_;
};

TEST_F(DaemonMalformedTest, TruncatedHeaderThenCloseIsNotAnswered) {
  const std::string ping = RequestFrame(wire::Opcode::kPing, 9, "");
  std::unique_ptr<RawSocket> raw = Raw();
  ASSERT_NE(raw, nullptr);
  ASSERT_TRUE(raw->Send(ping.substr(0, 11)).ok());
  raw->ShutdownWrite();
  const RawSocket::ReadResult r = raw->ReadUntilClose(kCloseBound);
  EXPECT_EQ(static_cast<int>(r.end), static_cast<int>(RawSocket::End::kEof));
  // Not a request: nothing to answer (FORMAT.md 1: responses only to requests received).
  EXPECT_EQ(r.bytes, "");
  ExpectServing();
}

TEST_F(DaemonMalformedTest, BadMagicIsBadFrameWithIdZero) {
  std::vector<Frame> frames = SendAndReadUntilClose("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(frames.size(), 1u);
  ExpectError(frames[0], wire::Status::kBadFrame, 0, 0);
  ExpectServing();
}

TEST_F(DaemonMalformedTest, UnsupportedVersionIsFatal) {
  std::vector<Frame> frames =
      SendAndReadUntilClose(Header(2, static_cast<uint8_t>(wire::Opcode::kPing), 0, 0, 12, 0, 0));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].header.status, static_cast<uint16_t>(wire::Status::kUnsupportedVersion));
  ExpectServing();
}

// FORMAT.md 6: the 20-byte header could be read, so the answer echoes its request id and opcode
// (issue 9: they came back as 0 after the third byte). It comes at once, without the payload,
// and speaks version 1.
TEST_F(DaemonMalformedTest, UnsupportedVersionEchoesTheRequestIdAndOpcode) {
  const uint8_t info = static_cast<uint8_t>(wire::Opcode::kInfo);
  for (uint8_t version : {0, 2, 255}) {
    SCOPED_TRACE(absl::StrFormat("version %d", version));
    std::vector<Frame> frames =
        SendAndReadUntilClose(Header(version, info, 0, 0, 0x0A0B0C0D, 0, 5));
    ASSERT_EQ(frames.size(), 1u);
    ExpectError(frames[0], wire::Status::kUnsupportedVersion, 0x0A0B0C0D, info);
    EXPECT_EQ(frames[0].header.version, 1);
  }
  ExpectServing();
}

// The version is judged once the header is whole, not at its third byte.
TEST_F(DaemonMalformedTest, UnsupportedVersionWaitsForTheWholeHeader) {
  const std::string header = Header(2, static_cast<uint8_t>(wire::Opcode::kPing), 0, 0, 21, 0, 0);
  std::unique_ptr<RawSocket> raw = Raw();
  ASSERT_NE(raw, nullptr);
  ASSERT_TRUE(raw->Send(header.substr(0, 3)).ok());
  const RawSocket::ReadResult early = raw->ReadUntilClose(absl::Milliseconds(300));
  EXPECT_EQ(static_cast<int>(early.end), static_cast<int>(RawSocket::End::kTimeout));
  EXPECT_EQ(early.bytes, "");
  ASSERT_TRUE(raw->Send(header.substr(3)).ok());
  const std::vector<Frame> frames = ReadFramesUntilClose(*raw);
  ASSERT_EQ(frames.size(), 1u);
  ExpectError(frames[0], wire::Status::kUnsupportedVersion, 21,
              static_cast<uint8_t>(wire::Opcode::kPing));
  ExpectServing();
}

// FORMAT.md 4: HELLO with max_version 0 is BAD_PAYLOAD (fatal), naming the field.
TEST_F(DaemonMalformedTest, HelloWithMaxVersionZeroIsBadPayload) {
  std::string payload;
  wire::Encode(wire::HelloRequest{0, 0, "old"}, &payload);
  std::vector<Frame> frames = SendAndReadUntilClose(RequestFrame(wire::Opcode::kHello, 4, payload) +
                                                    RequestFrame(wire::Opcode::kPing, 5, ""));
  ASSERT_EQ(frames.size(), 1u);
  ExpectError(frames[0], wire::Status::kBadPayload, 4, static_cast<uint8_t>(wire::Opcode::kHello));
  EXPECT_EQ(ErrorMessage(frames[0]),
            "HELLO payload: HELLO request: max_version: 0 is not a version (versions start at 1) "
            "(at byte 0)");
  ExpectServing();
}

// Opcodes 9-255 are reserved (FORMAT.md 8): UNKNOWN_OPCODE, fatal.
TEST_F(DaemonMalformedTest, FirstReservedOpcodeIsUnknown) {
  std::vector<Frame> frames = SendAndReadUntilClose(Header(1, 9, 0, 0, 90, 0, 0));
  ASSERT_EQ(frames.size(), 1u);
  ExpectError(frames[0], wire::Status::kUnknownOpcode, 90, 9);
  ExpectServing();
}

TEST_F(DaemonMalformedTest, UnknownOpcodeIsFatalAndLaterRequestsAreNotAnswered) {
  const std::string bytes =
      Header(1, 0x63, 0, 0, 77, 0, 0) + RequestFrame(wire::Opcode::kPing, 78, "");
  std::vector<Frame> frames = SendAndReadUntilClose(bytes);
  ASSERT_EQ(frames.size(), 1u) << "the PING after the bad frame must not be answered";
  ExpectError(frames[0], wire::Status::kUnknownOpcode, 77, 0x63);
  ExpectServing();
}

TEST_F(DaemonMalformedTest, OversizedPayloadLengthIsAnsweredAtOnce) {
  // The header alone, announcing 1 MiB + 1 (the default max_payload is 1 MiB).
  std::unique_ptr<RawSocket> raw = Raw();
  ASSERT_NE(raw, nullptr);
  ASSERT_TRUE(
      raw->Send(Header(1, static_cast<uint8_t>(wire::Opcode::kCheck), 0, 0, 31, 0, (1u << 20) + 1))
          .ok());
  const std::vector<Frame> frames = ReadFramesUntilClose(*raw);
  ASSERT_EQ(frames.size(), 1u);
  ExpectError(frames[0], wire::Status::kFrameTooLarge, 31,
              static_cast<uint8_t>(wire::Opcode::kCheck));
  ExpectServing();
}

TEST_F(DaemonMalformedTest, GarbageAfterAValidPingIsAnsweredAfterThePing) {
  std::vector<Frame> frames =
      SendAndReadUntilClose(RequestFrame(wire::Opcode::kPing, 5, "") + "garbage!");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].header.request_id, 5u);
  EXPECT_EQ(frames[0].header.status, 0);
  EXPECT_EQ(frames[0].header.opcode, static_cast<uint8_t>(wire::Opcode::kPing));
  ExpectError(frames[1], wire::Status::kBadFrame, 0, 0);
  ExpectServing();
}

TEST_F(DaemonMalformedTest, CheckWithCountThreeButOneIdIsBadPayload) {
  std::string payload = CheckPayload({"11010519491231002X"});
  payload[1] = 3;  // u16 count 3
  std::vector<Frame> frames = SendAndReadUntilClose(
      RequestFrame(wire::Opcode::kCheck, 66, payload) + RequestFrame(wire::Opcode::kPing, 67, ""));
  ASSERT_EQ(frames.size(), 1u);
  ExpectError(frames[0], wire::Status::kBadPayload, 66, static_cast<uint8_t>(wire::Opcode::kCheck));
  ExpectServing();
}

TEST_F(DaemonMalformedTest, PingWithAPayloadIsBadPayload) {
  std::vector<Frame> frames = SendAndReadUntilClose(RequestFrame(wire::Opcode::kPing, 3, "x"));
  ASSERT_EQ(frames.size(), 1u);
  ExpectError(frames[0], wire::Status::kBadPayload, 3, static_cast<uint8_t>(wire::Opcode::kPing));
  ExpectServing();
}

// FORMAT.md 2: "A request whose magic is wrong, or whose flags, status or generation is not
// zero, is answered with BAD_FRAME" (fatal).
TEST_F(DaemonMalformedTest, NonZeroFlagsStatusOrGenerationIsBadFrame) {
  const uint8_t ping = static_cast<uint8_t>(wire::Opcode::kPing);
  const std::vector<std::string> headers = {
      Header(1, ping, wire::kFlagResponse, 0, 51, 0, 0),
      Header(1, ping, 0, 7, 52, 0, 0),
      Header(1, ping, 0, 0, 53, 1, 0),
  };
  for (const std::string& header : headers) {
    std::vector<Frame> frames = SendAndReadUntilClose(header);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].header.status, static_cast<uint16_t>(wire::Status::kBadFrame))
        << "request id " << frames[0].header.request_id;
  }
  ExpectServing();
}

TEST_F(DaemonMalformedTest, ClientVanishingMidFrameLeavesTheDaemonServing) {
  auto bystander = daemon_->Connect();
  ASSERT_TRUE(bystander.ok()) << bystander.status();
  const std::string frame =
      RequestFrame(wire::Opcode::kCheck, 8, CheckPayload({"11010519491231002X", "230987613"}));
  for (bool reset : {false, true}) {
    for (size_t cut : {size_t{7}, size_t{20}, frame.size() - 3}) {
      std::unique_ptr<RawSocket> raw = Raw();
      ASSERT_NE(raw, nullptr);
      ASSERT_TRUE(raw->Send(std::string_view(frame).substr(0, cut)).ok());
      raw->Close(reset);
    }
  }
  auto ping = (*bystander)->Ping();
  EXPECT_TRUE(ping.ok()) << ping.status();
  ExpectServing();
}

TEST_F(DaemonMalformedTest, IdleClientIsClosedQuietlyAfterTheIdleTimeout) {
  StartDaemon({"--idle-timeout-seconds", "1"});
  std::unique_ptr<RawSocket> idle = Raw();
  ASSERT_NE(idle, nullptr);
  // A client that keeps talking is not idle.
  auto busy = daemon_->Connect();
  ASSERT_TRUE(busy.ok()) << busy.status();
  const absl::Time until = absl::Now() + absl::Milliseconds(1800);
  while (absl::Now() < until) {
    auto ping = (*busy)->Ping();
    ASSERT_TRUE(ping.ok()) << "a busy client was closed: " << ping.status();
    absl::SleepFor(absl::Milliseconds(250));
  }
  const RawSocket::ReadResult r = idle->ReadUntilClose(kCloseBound);
  EXPECT_EQ(static_cast<int>(r.end), static_cast<int>(RawSocket::End::kEof));
  EXPECT_EQ(r.bytes, "") << "closed quietly: no frame";
  // Idle since it connected, ~1.8 s before the read began: closed at about 1 s.
  EXPECT_LE(r.elapsed, absl::Seconds(2));
  ExpectServing();
}

TEST_F(DaemonMalformedTest, IdleClientIsNotClosedBeforeTheIdleTimeout) {
  StartDaemon({"--idle-timeout-seconds", "2"});
  std::unique_ptr<RawSocket> idle = Raw();
  ASSERT_NE(idle, nullptr);
  const RawSocket::ReadResult early = idle->ReadUntilClose(absl::Milliseconds(1200));
  EXPECT_EQ(static_cast<int>(early.end), static_cast<int>(RawSocket::End::kTimeout))
      << "closed after " << absl::FormatDuration(early.elapsed);
  const RawSocket::ReadResult late = idle->ReadUntilClose(kCloseBound);
  EXPECT_EQ(static_cast<int>(late.end), static_cast<int>(RawSocket::End::kEof));
  EXPECT_LE(late.elapsed, absl::Seconds(3));
}

}  // namespace
}  // namespace shixin::e2e
