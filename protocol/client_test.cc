#include "protocol/client.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "core/scope.h"
#include "gtest/gtest.h"
#include "protocol/client_test_util.h"
#include "protocol/operator_messages.h"

namespace shixin {
namespace {

// Answers PING, HELLO and CHECK like shixind would (CHECK: IDs starting with "1" are listed,
// "bad" is invalid, the rest unlisted) and DETAIL with INVALID_ID.
std::string FakeShixind(const FrameHeader& h, std::string_view payload) {
  switch (static_cast<Opcode>(h.opcode)) {
    case Opcode::kPing:
      return Respond(h, "", wire::Status::kOk, wire::kFlagResponse | wire::kFlagStale, 9);
    case Opcode::kHello: {
      std::string out;
      wire::Encode(wire::HelloResponse{1, 0, 1 << 20, 1000, 64, "fake/1", "hegang-2018"}, &out);
      return Respond(h, out);
    }
    case Opcode::kCheck: {
      absl::StatusOr<wire::CheckRequest> request = wire::DecodeCheckRequest(payload);
      if (!request.ok()) return ErrorResponse(h, wire::Status::kBadPayload, "bad CHECK");
      std::string out;
      wire::AppendCheckCount(static_cast<uint16_t>(request->ids.size()), &out);
      for (const std::string& id : request->ids) {
        wire::CheckAnswer a;
        a.id = id;
        if (id == "bad") {
          a.status = wire::CheckStatus::kInvalid;
          a.error = "wrong length";
        } else if (id.starts_with("1")) {
          a.status = wire::CheckStatus::kListed;
          a.cases = 2;
          a.name = "张秀兰";
        }
        wire::AppendCheckAnswer(a, &out);
      }
      return Respond(h, out);
    }
    case Opcode::kDetail:
      return ErrorResponse(h, wire::Status::kInvalidId, "bad check character");
    case Opcode::kCatalog: {
      wire::CatalogResponse c;
      c.id = "hegang-2018";
      c.agencies = {{"housing", "（十三）", "鹤岗市住房保障局"}};
      c.scenarios = {{"hotel", "Hotels."}};
      c.measures = {{41, Effect::kRestrict, "housing", "住宿限制", {"hotel"}}};
      std::string out;
      wire::Encode(c, &out);
      return Respond(h, out);
    }
    default:
      return ErrorResponse(h, wire::Status::kUnknownOpcode, "unknown opcode");
  }
}

std::unique_ptr<Client> MustConnect(const std::string& address) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(address, absl::Seconds(5));
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

TEST(ClientTest, PingAndCheck) {
  auto server = LoopbackServer::Start(AF_INET, FakeShixind);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);

  absl::StatusOr<Reply<bool>> ping = client->Ping();
  ASSERT_TRUE(ping.ok()) << ping.status();
  EXPECT_TRUE(ping->value);
  EXPECT_EQ(ping->generation, 9u);
  EXPECT_TRUE(ping->stale);

  auto check = client->Check({"11010519491231002X", "bad", "230402199001010015"});
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->generation, 7u);
  EXPECT_FALSE(check->stale);
  const std::vector<CheckAnswerCopy>& a = check->value;
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].status, wire::CheckStatus::kListed);
  EXPECT_EQ(a[0].id, "11010519491231002X");
  EXPECT_EQ(a[0].cases, 2);
  EXPECT_EQ(a[0].name, "张秀兰");
  EXPECT_EQ(a[1].status, wire::CheckStatus::kInvalid);
  EXPECT_EQ(a[1].error, "wrong length");
  EXPECT_EQ(a[2].status, wire::CheckStatus::kUnlisted);
  EXPECT_EQ(a[2].id, "230402199001010015");
}

TEST(ClientTest, Hello) {
  auto server = LoopbackServer::Start(AF_INET, FakeShixind);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);
  auto hello = client->Hello("client_test");
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->value.version, 1);
  EXPECT_EQ(hello->value.max_batch, 1000);
  EXPECT_EQ(hello->value.catalog_id, "hegang-2018");
  EXPECT_TRUE(client->Ping().ok());
}

TEST(ClientTest, Catalog) {
  auto server = LoopbackServer::Start(AF_INET, FakeShixind);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);
  auto catalog = client->Catalog();
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_EQ(catalog->generation, 7u);
  EXPECT_EQ(catalog->value.id, "hegang-2018");
  ASSERT_EQ(catalog->value.measures.size(), 1u);
  EXPECT_EQ(catalog->value.measures[0].scenarios, std::vector<std::string>{"hotel"});
  EXPECT_EQ(server->requests(), 1);
  // The fake's HELLO announces no capabilities: CATALOG is then not sent at all.
  ASSERT_TRUE(client->Hello("client_test").ok());
  catalog = client->Catalog();
  EXPECT_TRUE(absl::IsUnimplemented(catalog.status())) << catalog.status();
  EXPECT_EQ(server->requests(), 2);
  EXPECT_TRUE(client->Ping().ok());
}

TEST(ClientTest, ErrorStatusBecomesAnAbslStatus) {
  auto server = LoopbackServer::Start(AF_INET, FakeShixind);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);
  auto detail = client->Detail("110105194912310021");
  EXPECT_TRUE(absl::IsInvalidArgument(detail.status())) << detail.status();
  EXPECT_EQ(detail.status().message(), "INVALID_ID: bad check character");
  EXPECT_TRUE(client->Ping().ok());  // not fatal: the connection stays
}

TEST(ClientTest, FatalStatusClosesTheConnection) {
  auto server = LoopbackServer::Start(AF_INET, FakeShixind);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);
  auto info = client->Info();  // the fake does not know INFO
  EXPECT_TRUE(absl::IsInternal(info.status())) << info.status();
  EXPECT_EQ(info.status().message(), "UNKNOWN_OPCODE: unknown opcode");
  EXPECT_TRUE(absl::IsUnavailable(client->Ping().status()));
}

TEST(ClientTest, StatusFromWire) {
  EXPECT_TRUE(StatusFromWire(wire::Status::kOk, "").ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(StatusFromWire(wire::Status::kStaleRefused, "x")));
  EXPECT_TRUE(absl::IsUnavailable(StatusFromWire(wire::Status::kBusy, "x")));
  EXPECT_TRUE(absl::IsUnavailable(StatusFromWire(wire::Status::kUnavailable, "x")));
  EXPECT_TRUE(absl::IsAborted(StatusFromWire(wire::Status::kReloadFailed, "x")));
  EXPECT_TRUE(absl::IsPermissionDenied(StatusFromWire(wire::Status::kPermissionDenied, "x")));
  EXPECT_TRUE(absl::IsInvalidArgument(StatusFromWire(wire::Status::kBadPayload, "x")));
  EXPECT_TRUE(absl::IsInvalidArgument(StatusFromWire(wire::Status::kFrameTooLarge, "x")));
  EXPECT_EQ(StatusFromWire(wire::Status::kInvalidArgument, "unknown agency").message(),
            "INVALID_ARGUMENT: unknown agency");
}

TEST(ClientTest, ConnectToAClosedPortIsUnavailable) {
  // Bind a port, then free it: nothing listens there now.
  auto server = LoopbackServer::Start(AF_INET, FakeShixind);
  ASSERT_NE(server, nullptr);
  std::string address = server->address();
  server.reset();
  auto client = Client::Connect(address, absl::Seconds(2));
  EXPECT_TRUE(absl::IsUnavailable(client.status())) << client.status();
}

TEST(ClientTest, UnresolvableHostIsUnavailable) {
  auto client = Client::Connect("no-such-host.invalid:7411", absl::Seconds(2));
  EXPECT_TRUE(absl::IsUnavailable(client.status())) << client.status();
}

TEST(ClientTest, NamesResolveWithinTheTimeout) {
  auto server = LoopbackServer::Start(AF_INET, FakeShixind);
  ASSERT_NE(server, nullptr);
  const std::string port = server->address().substr(server->address().rfind(':') + 1);
  auto client = Client::Connect("localhost:" + port, absl::Seconds(5));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE((*client)->Ping().ok());
}

TEST(ClientTest, TimeoutIsDeadlineExceeded) {
  auto server = LoopbackServer::Start(
      AF_INET, [](const FrameHeader&, std::string_view) { return std::string(); });
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);
  client->set_timeout(absl::Milliseconds(100));
  absl::Time start = absl::Now();
  auto ping = client->Ping();
  EXPECT_TRUE(absl::IsDeadlineExceeded(ping.status())) << ping.status();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  // The late answer could be taken for the next call's, so the connection is gone.
  EXPECT_TRUE(absl::IsUnavailable(client->Ping().status()));
}

TEST(ClientTest, UnexpectedResponseIdIsAnError) {
  auto server = LoopbackServer::Start(AF_INET, [](const FrameHeader& h, std::string_view) {
    FrameHeader other = h;
    other.request_id = h.request_id + 100;
    return Respond(other, "");
  });
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);
  auto ping = client->Ping();
  EXPECT_TRUE(absl::IsInternal(ping.status())) << ping.status();
  EXPECT_NE(ping.status().message().find("unexpected response id"), absl::string_view::npos);
}

TEST(ClientTest, MalformedResponseIsInternal) {
  auto server = LoopbackServer::Start(AF_INET, [](const FrameHeader& h, std::string_view) {
    return Respond(h, std::string("\x00\x05x", 3));
  });
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);
  auto check = client->Check({"1"});
  EXPECT_TRUE(absl::IsInternal(check.status())) << check.status();
}

TEST(ClientTest, ServerClosingIsUnavailable) {
  auto server = LoopbackServer::Start(AF_INET, [](const FrameHeader&, std::string_view) {
    return std::string(LoopbackServer::kClose);
  });
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);
  auto ping = client->Ping();
  EXPECT_TRUE(absl::IsUnavailable(ping.status())) << ping.status();
}

TEST(ClientTest, PipelinedRawFrames) {
  auto server = LoopbackServer::Start(AF_INET, FakeShixind);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);
  std::string payload;
  wire::Encode(wire::CheckRequest{{"1"}}, &payload);
  for (uint32_t id : {10, 11, 12}) {
    ASSERT_TRUE(
        client->SendFrame(id == 11 ? Opcode::kCheck : Opcode::kPing, id, id == 11 ? payload : "")
            .ok());
  }
  for (uint32_t id : {10, 11, 12}) {
    absl::StatusOr<Frame> frame = client->ReceiveFrame();
    ASSERT_TRUE(frame.ok()) << frame.status();
    EXPECT_EQ(frame->header.request_id, id);
    EXPECT_NE(frame->header.flags & wire::kFlagResponse, 0);
  }
}

TEST(ClientTest, QueuedFramesAreSentByFlush) {
  auto server = LoopbackServer::Start(AF_INET, FakeShixind);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);
  EXPECT_FALSE(client->FrameBuffered());
  EXPECT_TRUE(absl::IsInvalidArgument(
      client->QueueFrame(Opcode::kPing, 9, std::string(wire::kMaxPayloadLimit + 1, 'x'))));
  for (uint32_t id : {10, 11, 12}) ASSERT_TRUE(client->QueueFrame(Opcode::kPing, id, "").ok());
  // SendFrame() sends the queued frames first, in order.
  ASSERT_TRUE(client->SendFrame(Opcode::kPing, 13, "").ok());
  ASSERT_TRUE(client->QueueFrame(Opcode::kPing, 14, "").ok());
  ASSERT_TRUE(client->Flush().ok());
  for (uint32_t id : {10, 11, 12, 13, 14}) {
    absl::StatusOr<Frame> frame = client->ReceiveFrame();
    ASSERT_TRUE(frame.ok()) << frame.status();
    EXPECT_EQ(frame->header.request_id, id);
  }
  EXPECT_FALSE(client->FrameBuffered());
  EXPECT_TRUE(client->Flush().ok());  // nothing queued
}

TEST(ClientTest, RequestsOverTheLimitsAreRefusedLocally) {
  auto server = LoopbackServer::Start(AF_INET, FakeShixind);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(absl::IsInvalidArgument(client->Check({}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(client->Check({std::string(256, '1')}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(client->Detail(std::string(256, '1')).status()));
  wire::MeasuresRequest measures;
  measures.id = "912304216987123405";
  measures.officers.assign(17, {Role::kDirector, "230402198503150611"});
  EXPECT_TRUE(absl::IsInvalidArgument(client->Measures(measures).status()));
  EXPECT_EQ(server->requests(), 0);
  EXPECT_TRUE(client->Check({std::string(255, '1')}).ok());  // 255 bytes is allowed
}

TEST(ClientTest, Ipv6) {
  auto server = LoopbackServer::Start(AF_INET6, FakeShixind);
  if (server == nullptr) GTEST_SKIP() << "no IPv6 loopback here";
  EXPECT_TRUE(server->address().starts_with("[::1]:"));
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(client->Ping().ok());
}

TEST(ClientTest, MalformedAddresses) {
  for (const char* address : {"localhost", "::1:7411", "[::1]7411", "[::1:7411", "host:0",
                              "host:65536", ":7411", "host:", "host:abc", "host:+80", "[]:7411"}) {
    auto client = Client::Connect(address, absl::Seconds(1));
    EXPECT_TRUE(absl::IsInvalidArgument(client.status())) << address << ": " << client.status();
  }
}

// A fake of a version-2 server: HELLO agrees min(max_version, 2); CHECK and DETAIL decode the
// request in the header's version and answer as of its instant (OUT_OF_RANGE before 1000).
std::string FakeShixindV2(const FrameHeader& h, std::string_view payload) {
  std::string out;
  switch (static_cast<Opcode>(h.opcode)) {
    case Opcode::kHello: {
      const uint8_t version = std::min<uint8_t>(wire::DecodeHelloRequest(payload)->max_version, 2);
      wire::Encode(wire::HelloResponse{version, 0, 1 << 20, 1000, 64, "fake/2", "hegang-2018"},
                   &out);
      return Respond(h, out);
    }
    case Opcode::kCheck: {
      absl::StatusOr<wire::CheckRequest> request = wire::DecodeCheckRequest(payload, h.version);
      if (!request.ok()) return ErrorResponse(h, wire::Status::kBadPayload, "bad CHECK");
      if (request->as_of != wire::kAsOfNow && request->as_of < 1000) {
        return ErrorResponse(h, wire::Status::kOutOfRange, "outside the history window");
      }
      wire::AppendCheckCount(1, &out);
      wire::CheckAnswer a{
          wire::CheckStatus::kListed, "", request->ids[0], SubjectKind::kPerson, 1, 0, "张秀兰"};
      a.since = request->as_of - 100;
      wire::AppendCheckAnswer(a, &out, h.version);
      return Respond(h, out);
    }
    case Opcode::kDetail: {
      absl::StatusOr<wire::DetailRequest> request = wire::DecodeDetailRequest(payload, h.version);
      if (!request.ok()) return ErrorResponse(h, wire::Status::kBadPayload, "bad DETAIL");
      CheckResult r;
      r.id = request->id;
      r.listed = true;
      r.since = request->as_of - 100;
      r.until = request->as_of + 100;
      CaseInfo c;
      c.start = r.since;
      c.ended_at = r.until;
      c.end = EndReason::kRevoked;
      r.cases = {c};
      wire::Encode(r, &out, h.version);
      return Respond(h, out);
    }
    default:
      return ErrorResponse(h, wire::Status::kUnknownOpcode, "unknown");
  }
}

TEST(ClientTest, NegotiatesVersion2AndAsksAsOf) {
  auto server = LoopbackServer::Start(AF_INET, FakeShixindV2);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);
  // Version 1 cannot carry an instant: refused before anything is sent.
  auto early = client->Check({"11010519491231002X"}, 5000);
  EXPECT_TRUE(absl::IsFailedPrecondition(early.status())) << early.status();
  EXPECT_EQ(server->requests(), 0);

  auto hello = client->Hello("client_test");
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->value.version, 2);

  auto check = client->Check({"11010519491231002X"}, 5000);
  ASSERT_TRUE(check.ok()) << check.status();
  ASSERT_EQ(check->value.size(), 1u);
  EXPECT_EQ(check->value[0].since, 4900);
  EXPECT_EQ(check->value[0].until, kForever);

  auto detail = client->Detail("11010519491231002X", 5000);
  ASSERT_TRUE(detail.ok()) << detail.status();
  EXPECT_EQ(detail->value.since, 4900);
  EXPECT_EQ(detail->value.until, 5100);
  ASSERT_EQ(detail->value.cases.size(), 1u);
  EXPECT_EQ(detail->value.cases[0].start, 4900);
  EXPECT_EQ(detail->value.cases[0].end, EndReason::kRevoked);

  // OUT_OF_RANGE is OutOfRange, and not fatal.
  auto old = client->Check({"11010519491231002X"}, 10);
  EXPECT_TRUE(absl::IsOutOfRange(old.status())) << old.status();
  EXPECT_TRUE(client->Check({"11010519491231002X"}).ok());
}

TEST(ClientTest, AVersion1ClientStaysAtVersion1) {
  auto server = LoopbackServer::Start(AF_INET, FakeShixindV2);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);
  client->set_max_version(1);
  auto hello = client->Hello("client_test");
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->value.version, 1);
  auto detail = client->Detail("11010519491231002X");
  ASSERT_TRUE(detail.ok()) << detail.status();
  // Version 1 has no stretch and no history fields: they keep their defaults.
  EXPECT_EQ(detail->value.since, 0);
  EXPECT_EQ(detail->value.until, kForever);
  ASSERT_EQ(detail->value.cases.size(), 1u);
  EXPECT_EQ(detail->value.cases[0].start, 0);
  EXPECT_EQ(detail->value.cases[0].end, EndReason::kNone);
}

// A fake of a version-3 server enforcing one caller "bank-a" with token "shx_good": HELLO
// names it; CHECK is RATE_LIMITED with a wait of 250 ms, DETAIL PERMISSION_DENIED.
std::string FakeShixindV3(const FrameHeader& h, std::string_view payload) {
  std::string out;
  switch (static_cast<Opcode>(h.opcode)) {
    case Opcode::kHello: {
      absl::StatusOr<wire::HelloRequest> request = wire::DecodeHelloRequest(payload);
      if (!request.ok()) return ErrorResponse(h, wire::Status::kBadPayload, "bad HELLO");
      if (request->caller_id != "bank-a" || request->token != "shx_good") {
        return ErrorResponse(h, wire::Status::kUnauthenticated, "credentials refused");
      }
      wire::HelloResponse hello{3, 0, 1 << 20, 1000, 64, "fake/3", "hegang-2018"};
      hello.mode = wire::SecurityMode::kCallers;
      hello.caller_id = "bank-a";
      hello.caller_name = "Bank A";
      hello.scopes = 0x03;
      hello.rate = 10;
      hello.burst = 20;
      wire::Encode(hello, &out);
      return Respond(h, out);
    }
    case Opcode::kCheck:
      wire::EncodeError(wire::ErrorResponse{"over the rate of 10/s", 250},
                        wire::Status::kRateLimited, h.version, &out);
      return Respond(h, out, wire::Status::kRateLimited);
    case Opcode::kDetail:
      return ErrorResponse(h, wire::Status::kPermissionDenied, "no detail scope");
    default:
      return ErrorResponse(h, wire::Status::kUnknownOpcode, "unknown");
  }
}

TEST(ClientTest, Version3SendsCredentialsAndReadsTheWait) {
  auto server = LoopbackServer::Start(AF_INET, FakeShixindV3);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);
  auto hello = client->Hello("client_test", Credentials{"bank-a", "shx_good"});
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(client->version(), 3);
  ASSERT_TRUE(client->hello().has_value());
  EXPECT_EQ(client->hello()->caller_id, "bank-a");
  EXPECT_EQ(client->hello()->caller_name, "Bank A");
  EXPECT_EQ(client->hello()->scopes, ScopeBit(Scope::kCheck) | ScopeBit(Scope::kMeasures));

  auto check = client->Check({"11010519491231002X"});
  EXPECT_TRUE(absl::IsResourceExhausted(check.status())) << check.status();
  EXPECT_EQ(check.status().message(), "RATE_LIMITED: over the rate of 10/s");
  EXPECT_EQ(RetryAfter(check.status()), absl::Milliseconds(250));
  auto detail = client->Detail("11010519491231002X");
  EXPECT_TRUE(absl::IsPermissionDenied(detail.status())) << detail.status();
  EXPECT_EQ(RetryAfter(detail.status()), std::nullopt);
  // Non-fatal errors keep the connection (the fake answers PING UNKNOWN_OPCODE, so Check).
  EXPECT_TRUE(absl::IsResourceExhausted(client->Check({"11010519491231002X"}).status()));
}

TEST(ClientTest, RefusedCredentialsAreUnauthenticated) {
  auto server = LoopbackServer::Start(AF_INET, FakeShixindV3);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);
  auto hello = client->Hello("client_test", Credentials{"bank-a", "shx_bad"});
  EXPECT_TRUE(absl::IsUnauthenticated(hello.status())) << hello.status();
  EXPECT_EQ(client->version(), 1);
  EXPECT_FALSE(client->hello().has_value());
  // Not tried again, and the connection is closed as a retry's refused HELLO leaves it: the
  // next call fails unsent (the fake would answer CHECK RATE_LIMITED).
  EXPECT_EQ(client->reconnects(), 0u);
  auto check = client->Check({"11010519491231002X"});
  EXPECT_TRUE(absl::IsUnavailable(check.status())) << check.status();
  EXPECT_EQ(server->requests(), 1);
}

TEST(ClientTest, CredentialsAreCheckedBeforeSending) {
  auto server = LoopbackServer::Start(AF_INET, FakeShixindV3);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);
  client->set_max_version(2);
  EXPECT_TRUE(absl::IsInvalidArgument(
      client->Hello("client_test", Credentials{"bank-a", "shx_good"}).status()));
  client->set_max_version(3);
  EXPECT_TRUE(absl::IsInvalidArgument(
      client->Hello("t", Credentials{std::string(wire::kMaxCallerIdBytes + 1, 'c'), "x"})
          .status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      client->Hello("t", Credentials{"c", std::string(wire::kMaxTokenBytes + 1, 't')}).status()));
  EXPECT_EQ(server->requests(), 0);
}

TEST(ClientTest, StatusFromWireVersion3) {
  EXPECT_TRUE(absl::IsUnauthenticated(StatusFromWire(wire::Status::kUnauthenticated, "x")));
  const absl::Status limited = StatusFromWire(wire::Status::kRateLimited, "retry in 120 ms");
  EXPECT_TRUE(absl::IsResourceExhausted(limited));
  EXPECT_EQ(RetryAfter(limited), std::nullopt);  // versions 1 and 2: only the text
  EXPECT_EQ(RetryAfter(StatusFromWire(wire::Status::kRateLimited, "x", 7)), absl::Milliseconds(7));
}

// Replicas (ClientOptions): a fake whose connections are numbered by their HELLO (1, 2, ...).
// CHECK is answered (IDs starting with "1" listed) in version 2, with the connection's number as
// generation, except that the CHECK numbers in `cut` get half their answer and the connection
// closed. INFO says the connection's list is at delta `sequences[connection - 1]`.
struct ReplicaFake {
  std::vector<int> cut;
  std::vector<uint64_t> sequences = {10, 10, 10, 10};
  std::atomic<int> hellos{0};
  std::atomic<int> checks{0};

  std::string operator()(const FrameHeader& h, std::string_view payload) {
    const auto op = static_cast<Opcode>(h.opcode);
    const int connection = std::max(1, hellos.load() + (op == Opcode::kHello ? 1 : 0));
    const auto generation = static_cast<uint32_t>(connection);
    if (op == Opcode::kHello) {
      ++hellos;
      std::string out;
      wire::Encode(wire::HelloResponse{2, 0, 1 << 20, 1000, 64, "fake/1", "hegang-2018"}, &out);
      return Respond(h, out, wire::Status::kOk, wire::kFlagResponse, generation);
    }
    if (op == Opcode::kInfo) {
      wire::InfoResponse info;
      info.generation = generation;
      info.snapshot.source_time = 1700000000;
      info.deltas.sequence = sequences[std::min<size_t>(connection, sequences.size()) - 1];
      std::string out;
      wire::Encode(info, &out, h.version);
      return Respond(h, out, wire::Status::kOk, wire::kFlagResponse, generation);
    }
    if (op == Opcode::kCheck) {
      const int n = ++checks;
      absl::StatusOr<wire::CheckRequest> request = wire::DecodeCheckRequest(payload, h.version);
      if (!request.ok()) return ErrorResponse(h, wire::Status::kBadPayload, "bad CHECK");
      std::string out;
      wire::AppendCheckCount(static_cast<uint16_t>(request->ids.size()), &out);
      for (const std::string& id : request->ids) {
        wire::CheckAnswer a;
        a.id = id;
        a.status = id.starts_with("1") ? wire::CheckStatus::kListed : wire::CheckStatus::kUnlisted;
        wire::AppendCheckAnswer(a, &out, h.version);
      }
      std::string reply = Respond(h, out, wire::Status::kOk, wire::kFlagResponse, generation);
      if (std::find(cut.begin(), cut.end(), n) != cut.end()) {
        return LoopbackServer::kClose + reply.substr(0, reply.size() / 2);
      }
      return reply;
    }
    if (op == Opcode::kReload) return LoopbackServer::kClose + std::string("\x53\x58");
    return FakeShixind(h, payload);
  }
};

std::unique_ptr<Client> HelloClient(const LoopbackServer& server, const ClientOptions& options) {
  std::unique_ptr<Client> client = MustConnect(server.address());
  if (client == nullptr) return nullptr;
  client->set_options(options);
  EXPECT_TRUE(client->Hello("replica-test").ok());
  return client;
}

TEST(ClientRetryTest, CheckIsRetriedOnceOnANewConnectionWithHello) {
  auto fake = std::make_shared<ReplicaFake>();
  fake->cut = {1};
  auto server = LoopbackServer::Start(
      AF_INET, [fake](const FrameHeader& h, std::string_view p) { return (*fake)(h, p); });
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = HelloClient(*server, ClientOptions{});
  ASSERT_NE(client, nullptr);
  auto check = client->Check({"11010519491231002X"});
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->value[0].status, wire::CheckStatus::kListed);
  EXPECT_EQ(check->generation, 2u);  // answered on the second connection
  EXPECT_EQ(fake->hellos, 2);        // which said HELLO first, as the first did
  EXPECT_EQ(client->reconnects(), 1u);
}

TEST(ClientRetryTest, OnlyOnceAndNotWhenDisabled) {
  auto fake = std::make_shared<ReplicaFake>();
  fake->cut = {1, 2, 3};
  auto server = LoopbackServer::Start(
      AF_INET, [fake](const FrameHeader& h, std::string_view p) { return (*fake)(h, p); });
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = HelloClient(*server, ClientOptions{});
  ASSERT_NE(client, nullptr);
  auto check = client->Check({"11010519491231002X"});
  EXPECT_TRUE(absl::IsUnavailable(check.status())) << check.status();
  EXPECT_EQ(fake->checks, 2);  // the first and one retry

  std::unique_ptr<Client> plain = HelloClient(*server, ClientOptions{.retry_idempotent = false});
  ASSERT_NE(plain, nullptr);
  check = plain->Check({"11010519491231002X"});
  EXPECT_TRUE(absl::IsUnavailable(check.status())) << check.status();
  EXPECT_EQ(fake->checks, 3);
}

// A server that closes the first `closes` connections as soon as their HELLO arrives (HAProxy
// cutting a session to a hung replica), then answers as a replica does.
struct ClosingHelloFake {
  explicit ClosingHelloFake(int n) : closes(n) {}
  const int closes;
  std::atomic<int> hellos{0};
  ReplicaFake replica;

  std::string operator()(const FrameHeader& h, std::string_view payload) {
    if (static_cast<Opcode>(h.opcode) == Opcode::kHello && ++hellos <= closes) {
      return LoopbackServer::kClose;
    }
    return replica(h, payload);
  }
};

// The first connection's HELLO closed by the server is sent again on a new connection, up to
// kReconnectAttempts times in all, as a reconnection's is (a one-shot CLI call through a
// balancer whose first pick hangs).
TEST(ClientRetryTest, AFirstHelloClosedByTheServerIsSentAgainOnANewConnection) {
  for (const int closes : {1, 3, ClientOptions::kReconnectAttempts - 1}) {
    SCOPED_TRACE(closes);
    auto fake = std::make_shared<ClosingHelloFake>(closes);
    auto server = LoopbackServer::Start(
        AF_INET, [fake](const FrameHeader& h, std::string_view p) { return (*fake)(h, p); });
    ASSERT_NE(server, nullptr);
    std::unique_ptr<Client> client = HelloClient(*server, ClientOptions{});
    ASSERT_NE(client, nullptr);
    EXPECT_EQ(fake->hellos, closes + 1);
    EXPECT_EQ(client->reconnects(), static_cast<uint64_t>(closes));
    auto check = client->Check({"11010519491231002X"});
    ASSERT_TRUE(check.ok()) << check.status();
    EXPECT_EQ(check->value[0].status, wire::CheckStatus::kListed);
  }
}

TEST(ClientRetryTest, AFirstHelloIsSentAtMostKReconnectAttemptsTimesAndNotWhenDisabled) {
  auto fake = std::make_shared<ClosingHelloFake>(1000);
  auto server = LoopbackServer::Start(
      AF_INET, [fake](const FrameHeader& h, std::string_view p) { return (*fake)(h, p); });
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(server->address());
  ASSERT_NE(client, nullptr);
  auto hello = client->Hello("replica-test");
  EXPECT_TRUE(absl::IsUnavailable(hello.status())) << hello.status();
  EXPECT_EQ(fake->hellos, ClientOptions::kReconnectAttempts);

  std::unique_ptr<Client> plain = MustConnect(server->address());
  ASSERT_NE(plain, nullptr);
  plain->set_options(ClientOptions{.retry_idempotent = false});
  hello = plain->Hello("replica-test");
  EXPECT_TRUE(absl::IsUnavailable(hello.status())) << hello.status();
  EXPECT_EQ(fake->hellos, ClientOptions::kReconnectAttempts + 1);
}

TEST(ClientRetryTest, ReloadIsNeverRetried) {
  auto fake = std::make_shared<ReplicaFake>();
  auto server = LoopbackServer::Start(
      AF_INET, [fake](const FrameHeader& h, std::string_view p) { return (*fake)(h, p); });
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = HelloClient(*server, ClientOptions{});
  ASSERT_NE(client, nullptr);
  auto reload = client->Reload();
  EXPECT_TRUE(absl::IsUnavailable(reload.status())) << reload.status();
  EXPECT_EQ(fake->hellos, 1);
  EXPECT_EQ(client->reconnects(), 0u);
}

TEST(ClientRetryTest, AnOlderListIsAskedAgainElsewhere) {
  auto fake = std::make_shared<ReplicaFake>();
  fake->cut = {2};                    // the second CHECK moves the client to connection 2
  fake->sequences = {10, 8, 12, 12};  // which is older; connection 3 is newer
  auto server = LoopbackServer::Start(
      AF_INET, [fake](const FrameHeader& h, std::string_view p) { return (*fake)(h, p); });
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = HelloClient(*server, ClientOptions{.no_going_back = true});
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Check({"11010519491231002X"}).ok());
  ASSERT_TRUE(client->newest_position().has_value());
  EXPECT_EQ(client->newest_position()->sequence, 10u);
  auto check = client->Check({"11010519491231002X"});
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->generation, 3u);
  EXPECT_EQ(client->newest_position()->sequence, 12u);
  EXPECT_EQ(client->reconnects(), 2u);
}

TEST(ClientRetryTest, AnOlderListTwiceIsRefused) {
  auto fake = std::make_shared<ReplicaFake>();
  fake->cut = {2};
  fake->sequences = {10, 8, 9, 12};
  auto server = LoopbackServer::Start(
      AF_INET, [fake](const FrameHeader& h, std::string_view p) { return (*fake)(h, p); });
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = HelloClient(*server, ClientOptions{.no_going_back = true});
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Check({"11010519491231002X"}).ok());
  auto check = client->Check({"11010519491231002X"});
  EXPECT_TRUE(absl::IsFailedPrecondition(check.status())) << check.status();
  EXPECT_TRUE(absl::StrContains(check.status().message(), "no going back")) << check.status();
  EXPECT_EQ(client->newest_position()->sequence, 10u);

  // Without the option the older answer is taken (the fake serves one connection at a time).
  client.reset();
  std::unique_ptr<Client> lax = HelloClient(*server, ClientOptions{});
  ASSERT_NE(lax, nullptr);
  EXPECT_TRUE(lax->Check({"11010519491231002X"}).ok());
}

// The order of list positions (docs/replicas.md, "no going back"), in every case feed.md allows.
TEST(ListPositionTest, TheDeltaSequenceOrdersListsAndCompactionsSourceTimeDoesNot) {
  constexpr int64_t kOld = 1796595258;  // the old base's source time
  constexpr int64_t kNew = 1796595584;  // compaction (or a new export) moves it forward
  // Compaction of the same lineage: the compacted base without delta 5 is older than the old
  // base with it, whatever their source times.
  EXPECT_LT((ListPosition{kNew, 4}), (ListPosition{kOld, 5}));
  EXPECT_FALSE((ListPosition{kOld, 5}) < (ListPosition{kNew, 4}));
  // The same list on two bases (old base + deltas 1-5, compacted at 4 + delta 5): equal.
  EXPECT_FALSE((ListPosition{kOld, 5}) < (ListPosition{kNew, 5}));
  EXPECT_FALSE((ListPosition{kNew, 5}) < (ListPosition{kOld, 5}));
  // A re-issue compiled with --delta-sequence 7: newer than delta 6, the same list as delta 7.
  EXPECT_LT((ListPosition{kOld, 6}), (ListPosition{kNew, 7}));
  EXPECT_FALSE((ListPosition{kOld, 7}) < (ListPosition{kNew, 7}));
  EXPECT_FALSE((ListPosition{kNew, 7}) < (ListPosition{kOld, 7}));
  // Without --delta-sequence a re-issue counts as 0: older than any list with a delta.
  EXPECT_LT((ListPosition{kNew, 0}), (ListPosition{kOld, 1}));
  // Lists without deltas: each new export is newer; the same one is equal.
  EXPECT_LT((ListPosition{kOld, 0}), (ListPosition{kNew, 0}));
  EXPECT_FALSE((ListPosition{kNew, 0}) < (ListPosition{kOld, 0}));
  EXPECT_FALSE((ListPosition{kOld, 0}) < (ListPosition{kOld, 0}));
}

TEST(ListPositionTest, APositionIsTheLargestSequenceAndReadsAsAnOperatorDoes) {
  wire::InfoResponse info;
  info.snapshot.source_time = 1780452000;  // 2026-06-03T10:00:00+08:00
  info.snapshot.delta_sequence = 4;
  info.deltas.base_sequence = 4;
  info.deltas.sequence = 0;
  const ListPosition p = PositionOf(info);
  EXPECT_EQ(p.sequence, 4u);
  EXPECT_EQ(p.source_time, 1780452000);
  EXPECT_EQ(FormatPosition(p), "delta 4, source time 2026-06-03T10:00:00+08:00");
  info.deltas.sequence = 6;
  EXPECT_EQ(PositionOf(info).sequence, 6u);
}

}  // namespace
}  // namespace shixin
