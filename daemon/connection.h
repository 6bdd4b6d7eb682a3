// Connection serves one client socket: it reads request frames, has the Handler answer them,
// and writes the responses, all asynchronously on its I/O thread's io_context (a slow client
// never blocks the thread).
//
// Pipelining: the client may send many requests before reading; responses go out in the
// order they are ready, each with its request's id. At most max_in_flight responses may be
// pending (answered but unwritten, or a RELOAD waiting for its reload); at that bound the
// connection stops reading and resumes when a write completes. A RELOAD is answered when its
// reload finishes; the requests after it are answered meanwhile.
//
// Closing: a fatal error response (bad frame, unknown opcode, bad payload, frame too large)
// and a BUSY rejection are written, then the connection shuts down its sending side and
// discards input for a moment before closing, so that the client reads the response rather
// than a reset. An idle connection (no read or write completed for idle_timeout_seconds, and
// no reload pending) is closed quietly. Shutdown() answers the requests that have reached the
// socket, reads no more, and closes; after a grace period it closes regardless.
//
// Thread safety: a Connection belongs to one io_context run by one thread; every method is
// called on that thread.
#ifndef SHIXIN_DAEMON_CONNECTION_H_
#define SHIXIN_DAEMON_CONNECTION_H_

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "daemon/handler.h"
#include "daemon/reloader.h"
#include "protocol/wire.h"

namespace shixin {

class ConnectionManager;

// Returns "192.0.2.1:7411" or "[2001:db8::1]:7411".
std::string EndpointText(const boost::asio::ip::tcp::endpoint& endpoint);

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  struct Options {
    uint32_t max_payload = 1u << 20;
    uint32_t max_in_flight = 128;
    std::chrono::seconds idle_timeout{60};  // 0: never
    bool admin_loopback_only = true;
  };

  // Takes `socket` (already connected). `handler`, `reloader` and `manager` must outlive the
  // connection; `open_connections` is decremented when it is destroyed.
  Connection(boost::asio::ip::tcp::socket socket, const Options& options, const Handler* handler,
             Reloader* reloader, ConnectionManager* manager,
             std::atomic<int64_t>* open_connections);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts serving. REQUIRES: the connection is owned by a shared_ptr.
  void Start();
  // Writes one error response with `status` and `message`, then closes (e.g. BUSY when the
  // daemon is at max_connections). Used instead of Start().
  void Reject(wire::Status status, std::string_view message);
  // Answers the requests that have reached the socket, reads no more, then closes; after a
  // grace period (10 s) closes regardless.
  void Shutdown();
  // Closes the socket now; pending responses are dropped.
  void Close();

  // Returns the peer's "address:port", for the log.
  const std::string& peer() const { return peer_; }

 private:
  using Clock = std::chrono::steady_clock;

  void MaybeRead();
  void OnRead(const boost::system::error_code& ec, size_t n);
  // Answers the complete frames in the input buffer while the in-flight bound allows.
  void ProcessInput();
  void StartReload(uint32_t request_id, ReloadRequest request);
  void OnReloadDone(uint32_t request_id, const ReloadResult& result);
  void MaybeWrite();
  void OnWrite(const boost::system::error_code& ec);
  // Begins the lingering close once nothing is left to answer or write.
  void MaybeFinish();
  void DiscardInput();
  // Returns whether received bytes wait in the socket.
  bool ReceivedUnread();
  void ArmTimer();
  void OnTimer(const boost::system::error_code& ec);
  size_t pending() const { return queued_ + writing_count_ + reloads_; }

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer settle_timer_;  // Shutdown(): lets reads already received land
  const Options options_;
  const Handler* const handler_;
  Reloader* const reloader_;
  ConnectionManager* const manager_;
  std::atomic<int64_t>* const open_connections_;
  std::string peer_;
  bool admin_allowed_ = false;

  std::array<char, 16384> read_buffer_;
  std::string input_;  // received bytes; input_[input_begin_..] not yet decoded
  size_t input_begin_ = 0;
  std::string output_;        // responses not yet handed to a write
  std::string writing_;       // the bytes of the write in progress
  size_t queued_ = 0;         // responses in output_
  size_t writing_count_ = 0;  // responses in writing_
  size_t reloads_ = 0;        // RELOADs waiting for their reload

  bool reading_ = false;           // a read is in progress
  bool writing_busy_ = false;      // a write is in progress
  bool input_blocked_ = false;     // complete frames wait for the in-flight bound
  bool no_more_requests_ = false;  // EOF or Shutdown(): read no more requests
  bool fatal_ = false;             // a fatal response was queued: ignore further input
  bool shutting_down_ = false;     // Shutdown() was called: close by deadline_
  bool shutdown_settled_ = false;  // the reads queued before Shutdown() have run
  bool lingering_ = false;         // sending side shut down; draining input before closing
  bool closed_ = false;
  Clock::time_point last_activity_;
  Clock::time_point deadline_;  // when lingering or shutdown must end
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_CONNECTION_H_
