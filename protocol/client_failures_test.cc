// How the client reports failures a service must tell apart: credentials refused, timeouts,
// its own invalid requests, a refused TLS certificate, a connection limit.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "protocol/client.h"
#include "protocol/client_test_util.h"

namespace shixin {
namespace {

std::string HelloAnswer(const FrameHeader& h, uint8_t version) {
  std::string out;
  wire::Encode(wire::HelloResponse{version, 0, 1 << 20, 1000, 64, "fake/3", "hegang-2018"}, &out);
  return Respond(h, out);
}

// A server whose first HELLO is accepted; every CHECK closes its connection (a daemon closing
// the connections of a revoked token), and every later HELLO is refused UNAUTHENTICATED.
struct RevokedFake {
  std::atomic<int> hellos{0};

  std::string operator()(const FrameHeader& h, std::string_view /*payload*/) {
    switch (static_cast<Opcode>(h.opcode)) {
      case Opcode::kHello:
        if (++hellos > 1) {
          return ErrorResponse(h, wire::Status::kUnauthenticated, "unknown caller or wrong token");
        }
        return HelloAnswer(h, 3);
      case Opcode::kCheck:
        return LoopbackServer::kClose;
      default:
        return ErrorResponse(h, wire::Status::kUnknownOpcode, "unknown");
    }
  }
};

std::unique_ptr<Client> MustConnect(const LoopbackServer& server) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(server.address());
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

// A retry's HELLO refused is not repeated (each try counts towards the server's hold on the
// credentials), is reported as the refusal, not as a retryable loss, and closes the connection.
TEST(ClientFailuresTest, CredentialsRefusedOnANewConnectionAreNotRetried) {
  auto fake = std::make_shared<RevokedFake>();
  auto server = LoopbackServer::Start(
      AF_INET, [fake](const FrameHeader& h, std::string_view p) { return (*fake)(h, p); });
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(*server);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Hello("bank", Credentials{"bank-b", "shx_old"}).ok());
  auto check = client->Check({"11010519491231002X"});
  EXPECT_TRUE(absl::IsUnauthenticated(check.status())) << check.status();
  EXPECT_TRUE(
      absl::StartsWith(check.status().message(), "UNAUTHENTICATED: unknown caller or wrong token"))
      << check.status();
  EXPECT_EQ(fake->hellos, 2);  // the first, and the retry's once
  // Closed: later calls do not send the refused credentials again.
  EXPECT_TRUE(absl::IsUnavailable(client->Check({"11010519491231002X"}).status()));
  EXPECT_EQ(fake->hellos, 2);
}

// A replica whose first connection answers HELLO and is closed at its first CHECK; the HELLOs
// of later connections are closed (`close_hellos`) or never answered (a replica that hangs
// behind a balancer).
struct HangingReplicaFake {
  explicit HangingReplicaFake(bool close) : close_hellos(close) {}
  const bool close_hellos;
  std::atomic<int> hellos{0};

  std::string operator()(const FrameHeader& h, std::string_view /*payload*/) {
    switch (static_cast<Opcode>(h.opcode)) {
      case Opcode::kHello:
        if (++hellos > 1) return close_hellos ? LoopbackServer::kClose : "";
        return HelloAnswer(h, 2);
      case Opcode::kCheck:
        return LoopbackServer::kClose;
      default:
        return ErrorResponse(h, wire::Status::kUnknownOpcode, "unknown");
    }
  }
};

// A call's retry ends by the call's timeout; a HELLO that timed out is not sent again.
TEST(ClientFailuresTest, ARetryEndsByTheCallsTimeout) {
  for (const bool close : {false, true}) {
    SCOPED_TRACE(close ? "HELLOs closed" : "HELLOs unanswered");
    auto fake = std::make_shared<HangingReplicaFake>(close);
    auto server = LoopbackServer::Start(
        AF_INET, [fake](const FrameHeader& h, std::string_view p) { return (*fake)(h, p); });
    ASSERT_NE(server, nullptr);
    std::unique_ptr<Client> client = MustConnect(*server);
    ASSERT_NE(client, nullptr);
    ASSERT_TRUE(client->Hello("bank").ok());
    client->set_timeout(absl::Milliseconds(200));
    const absl::Time start = absl::Now();
    auto check = client->Check({"11010519491231002X"});
    const absl::Duration took = absl::Now() - start;
    EXPECT_TRUE(absl::IsUnavailable(check.status())) << check.status();
    EXPECT_LT(took, absl::Milliseconds(400)) << check.status();
    if (!close) {
      EXPECT_EQ(fake->hellos, 2) << check.status();  // the timed-out one, once
    }
  }
}

// A server with a payload limit of 1000 bytes that answers PING (and FRAME_TOO_LARGE over it).
std::string SmallServer(const FrameHeader& h, std::string_view payload) {
  if (payload.size() > 1000) {
    return ErrorResponse(h, wire::Status::kFrameTooLarge, "payload exceeds the limit of 1000");
  }
  switch (static_cast<Opcode>(h.opcode)) {
    case Opcode::kHello: {
      std::string out;
      wire::Encode(wire::HelloResponse{4, 0, 1000, 1000, 64, "fake/4", "hegang-2018"}, &out);
      return Respond(h, out);
    }
    case Opcode::kPing:
      return Respond(h, "");
    default:
      return ErrorResponse(h, wire::Status::kBadPayload, "bad payload");
  }
}

// Requests the server would refuse as malformed are refused before sending, and the
// connection kept; the server's own refusals of them are InvalidArgument too.
TEST(ClientFailuresTest, RequestsOverTheServersLimitsAreRefusedLocally) {
  auto server = LoopbackServer::Start(AF_INET, SmallServer);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(*server);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Hello("bank").ok());
  const std::vector<std::string> ids(100, "11010519491231002X");
  auto check = client->Check(ids);
  EXPECT_TRUE(absl::IsInvalidArgument(check.status())) << check.status();
  EXPECT_TRUE(absl::StrContains(check.status().message(), "the server's limit of 1000"))
      << check.status();
  wire::MeasuresRequest measures;
  measures.id = "912304216987123405";
  measures.officers = {{static_cast<Role>(9), "230402198503150611"}};
  auto refused = client->Measures(measures);
  EXPECT_TRUE(absl::IsInvalidArgument(refused.status())) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "role 9 is out of range 0-6"))
      << refused.status();
  EXPECT_EQ(server->requests(), 1);  // HELLO only
  EXPECT_TRUE(client->Ping().ok());

  // Raw frames are not checked: the server's FRAME_TOO_LARGE is the request's fault. (The fake
  // serves one connection at a time.)
  client.reset();
  absl::StatusOr<std::unique_ptr<Client>> raw = Client::Connect(server->address());
  ASSERT_TRUE(raw.ok()) << raw.status();
  ASSERT_TRUE((*raw)->SendFrame(Opcode::kCheck, 1, std::string(2000, 'x')).ok());
  absl::StatusOr<Frame> frame = (*raw)->ReceiveFrame();
  ASSERT_TRUE(frame.ok()) << frame.status();
  const auto status = static_cast<wire::Status>(frame->header.status);
  EXPECT_TRUE(absl::IsInvalidArgument(StatusFromWire(status, "payload exceeds the limit")));
}

// A loopback port whose connections wait in the backlog, never accepted nor read.
class DeafServer {
 public:
  DeafServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int small = 4096;  // the connections' receive buffers fill up sooner
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0 && listen(fd_, 4) == 0 &&
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      address_ = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
    }
  }
  ~DeafServer() { close(fd_); }
  DeafServer(const DeafServer&) = delete;
  DeafServer& operator=(const DeafServer&) = delete;
  const std::string& address() const { return address_; }

 private:
  int fd_ = -1;
  std::string address_;
};

// A request the server does not read times out naming the call and the timeout, as a response
// that does not come does.
TEST(ClientFailuresTest, ASendTimeoutNamesTheCallAndTheTimeout) {
  DeafServer server;
  ASSERT_FALSE(server.address().empty());
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(server.address());
  ASSERT_TRUE(client.ok()) << client.status();
  (*client)->set_timeout(absl::Milliseconds(200));
  const std::vector<std::string> ids(60000, std::string(255, '1'));
  auto check = (*client)->Check(ids);
  EXPECT_TRUE(absl::IsDeadlineExceeded(check.status())) << check.status();
  EXPECT_EQ(check.status().message(), "CHECK: not sent in 200ms (the server does not read)");
}

// A server that closes every connection before answering (shixind at its connection limit).
std::string ClosingServer(const FrameHeader&, std::string_view) { return LoopbackServer::kClose; }

// Such a close names the likely causes, and the first HELLO's retries back off (doubling pauses)
// rather than hammer a server that refuses them all.
TEST(ClientFailuresTest, AConnectionClosedBeforeAnyAnswerNamesABalancerAndTheConnectionLimit) {
  auto server = LoopbackServer::Start(AF_INET, ClosingServer);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = MustConnect(*server);
  ASSERT_NE(client, nullptr);
  const absl::Time start = absl::Now();
  auto hello = client->Hello("pool");
  const absl::Duration took = absl::Now() - start;
  EXPECT_TRUE(absl::IsUnavailable(hello.status())) << hello.status();
  // The balancer first: with every replica down, HAProxy closes new connections so (x28/5).
  EXPECT_TRUE(absl::StrContains(hello.status().message(),
                                "before any answer (a load balancer with no server available, "
                                "e.g. HAProxy with every replica down, closes new connections so, "
                                "as does a server at its connection limit"))
      << hello.status();
  // A plain connection may have reached a TLS port (which closes it so too).
  EXPECT_TRUE(absl::StrContains(hello.status().message(), "a TLS port reached without TLS"))
      << hello.status();
  EXPECT_EQ(server->requests(), ClientOptions::kReconnectAttempts);
  EXPECT_GE(took, ClientOptions::kReconnectPause * (1 + 2 + 4 + 8)) << hello.status();
}

}  // namespace
}  // namespace shixin
