#include "base/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace shixin {
namespace {

// A listening socket on 127.0.0.1 and an ephemeral port; connections wait in its backlog.
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || listen(fd_, 8) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "cannot listen on loopback: " << errno;
      return;
    }
    port_ = ntohs(a.sin_port);
  }
  ~Listener() { Close(); }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

absl::Time In(absl::Duration d) { return absl::Now() + d; }

TEST(SocketTest, ConnectsToANumericAddress) {
  Listener listener;
  absl::StatusOr<int> fd =
      ConnectTcp(absl::StrCat("127.0.0.1:", listener.port()), In(absl::Seconds(5)));
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(fcntl(*fd, F_GETFL) & O_NONBLOCK, 0);  // blocking
  EXPECT_NE(fcntl(*fd, F_GETFD) & FD_CLOEXEC, 0);
  int nodelay = 0;
  socklen_t len = sizeof(nodelay);
  ASSERT_EQ(getsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
  EXPECT_NE(nodelay, 0);
  close(*fd);
}

TEST(SocketTest, ResolvesNames) {
  Listener listener;  // IPv4 only: "localhost" may resolve to ::1 first, which is refused
  absl::StatusOr<int> fd =
      ConnectTcp(absl::StrCat("localhost:", listener.port()), In(absl::Seconds(5)));
  ASSERT_TRUE(fd.ok()) << fd.status();
  close(*fd);
}

TEST(SocketTest, RefusedIsUnavailable) {
  Listener listener;
  const std::string address = absl::StrCat("127.0.0.1:", listener.port());
  listener.Close();  // nothing listens there now
  absl::StatusOr<int> fd = ConnectTcp(address, In(absl::Seconds(5)));
  EXPECT_TRUE(absl::IsUnavailable(fd.status())) << fd.status();
  EXPECT_EQ(fd.status().message(), address + ": connect: Connection refused");
}

TEST(SocketTest, UnresolvableIsUnavailable) {
  absl::StatusOr<int> fd = ConnectTcp("no-such-host.invalid:7411", In(absl::Seconds(5)));
  EXPECT_TRUE(absl::IsUnavailable(fd.status())) << fd.status();
  EXPECT_TRUE(absl::StartsWith(fd.status().message(), "resolve no-such-host.invalid: "))
      << fd.status();
}

TEST(SocketTest, MalformedAddressIsInvalidArgument) {
  for (const char* address : {"localhost", "host:0", "::1:7411", "[::1]7411", ":7411"}) {
    absl::StatusOr<int> fd = ConnectTcp(address, In(absl::Seconds(1)));
    EXPECT_TRUE(absl::IsInvalidArgument(fd.status())) << address << ": " << fd.status();
    EXPECT_TRUE(
        absl::StartsWith(fd.status().message(), absl::StrCat("bad address \"", address, "\"")))
        << fd.status();
  }
}

TEST(SocketTest, PollUntil) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  // Writable at once, not readable until a byte is there.
  EXPECT_TRUE(PollUntil(pair[0], POLLOUT, In(absl::Seconds(5))).ok());
  const absl::Time start = absl::Now();
  absl::Status s = PollUntil(pair[0], POLLIN, In(absl::Milliseconds(50)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  EXPECT_TRUE(absl::IsDeadlineExceeded(PollUntil(pair[0], POLLOUT, absl::Now())));
  ASSERT_EQ(write(pair[1], "x", 1), 1);
  EXPECT_TRUE(PollUntil(pair[0], POLLIN, absl::InfiniteFuture()).ok());
  close(pair[0]);
  close(pair[1]);
}

TEST(SocketTest, SocketErrorIsUnavailableWhateverTheErrno) {
  for (int error : {ECONNREFUSED, EPIPE, ETIMEDOUT, EMFILE}) {
    absl::Status s = SocketError("send", error);
    EXPECT_TRUE(absl::IsUnavailable(s)) << s;
    EXPECT_TRUE(absl::StartsWith(s.message(), "send: ")) << s;
  }
  EXPECT_EQ(SocketError("connect", ECONNREFUSED).message(), "connect: Connection refused");
}

}  // namespace
}  // namespace shixin
