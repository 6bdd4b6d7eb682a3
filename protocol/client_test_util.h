// Test helpers of the client's tests: response frames, and a one-thread fake server on the
// loopback interface whose answers a handler writes.
//
// Thread safety: a LoopbackServer's handler runs on its own thread, one request at a time.
#ifndef SHIXIN_PROTOCOL_CLIENT_TEST_UTIL_H_
#define SHIXIN_PROTOCOL_CLIENT_TEST_UTIL_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "protocol/messages.h"
#include "protocol/wire.h"

namespace shixin {

using wire::FrameHeader;
using wire::Opcode;

// Returns the bytes of a response frame to `request`.
inline std::string Respond(const FrameHeader& request, std::string_view payload,
                           wire::Status status = wire::Status::kOk,
                           uint16_t flags = wire::kFlagResponse, uint32_t generation = 7) {
  FrameHeader h = request;
  h.flags = flags;
  h.status = static_cast<uint16_t>(status);
  h.generation = generation;
  h.payload_size = static_cast<uint32_t>(payload.size());
  std::string out;
  wire::AppendHeader(h, &out);
  out.append(payload);
  return out;
}

inline std::string ErrorResponse(const FrameHeader& request, wire::Status status,
                                 std::string_view text) {
  std::string payload;
  wire::EncodeError(text, &payload);
  return Respond(request, payload, status);
}

// A one-thread server on a loopback address and an ephemeral port. Each request frame goes to
// the handler, whose return value is sent back as is (empty: nothing is sent; kClose: the
// connection is closed; kClose followed by bytes: they are sent, then the connection closed).
class LoopbackServer {
 public:
  using Handler = std::function<std::string(const FrameHeader&, std::string_view payload)>;
  static constexpr char kClose[] = "<close>";

  // Returns nullptr if the address family is not available.
  static std::unique_ptr<LoopbackServer> Start(int family, Handler handler) {
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return nullptr;
    sockaddr_storage addr = {};
    socklen_t len;
    if (family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
      a->sin6_family = AF_INET6;
      a->sin6_addr = in6addr_loopback;
      len = sizeof(*a);
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&addr);
      a->sin_family = AF_INET;
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof(*a);
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      close(fd);
      return nullptr;
    }
    int port = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    std::string address =
        family == AF_INET6 ? "[::1]:" + std::to_string(port) : "127.0.0.1:" + std::to_string(port);
    return std::unique_ptr<LoopbackServer>(new LoopbackServer(fd, address, std::move(handler)));
  }

  ~LoopbackServer() {
    stop_ = true;
    thread_.join();
    close(listen_fd_);
  }

  const std::string& address() const { return address_; }
  int requests() const { return requests_; }

 private:
  LoopbackServer(int fd, std::string address, Handler handler)
      : listen_fd_(fd), address_(std::move(address)), handler_(std::move(handler)) {
    thread_ = std::thread([this] { Run(); });
  }

  // Waits up to 20 ms for `fd` to be readable.
  bool Readable(int fd) {
    pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 20) > 0;
  }

  void Run() {
    while (!stop_) {
      if (!Readable(listen_fd_)) continue;
      int conn = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      const int one = 1;  // answers go out at once, as shixind's do (not held back by Nagle)
      setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      Serve(conn);
    }
  }

  void Serve(int conn) {
    std::string buffer;
    while (!stop_) {
      // The fake takes each frame in the version it carries (the handler judges it).
      const auto version = static_cast<uint8_t>(buffer.size() > 2 ? buffer[2] : wire::kVersion);
      wire::Decoded d = wire::DecodeFrame(buffer, wire::kMaxPayloadLimit, version);
      if (d.result == wire::DecodeResult::kInvalid) break;
      if (d.result == wire::DecodeResult::kComplete) {
        ++requests_;
        std::string reply = handler_(d.header, d.payload);
        buffer.erase(0, d.consumed);
        if (reply.starts_with(kClose)) {
          const std::string_view rest = std::string_view(reply).substr(sizeof(kClose) - 1);
          if (!rest.empty()) send(conn, rest.data(), rest.size(), MSG_NOSIGNAL);
          break;
        }
        if (!reply.empty()) send(conn, reply.data(), reply.size(), MSG_NOSIGNAL);
        continue;
      }
      if (!Readable(conn)) continue;
      char chunk[4096];
      ssize_t n = recv(conn, chunk, sizeof(chunk), 0);
      if (n <= 0) break;
      buffer.append(chunk, static_cast<size_t>(n));
    }
    close(conn);
  }

  int listen_fd_;
  std::string address_;
  Handler handler_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

}  // namespace shixin

#endif  // SHIXIN_PROTOCOL_CLIENT_TEST_UTIL_H_
