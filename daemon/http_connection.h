// HttpConnection serves one client of the HTTP listener: it reads HTTP/1.1 requests (Beast's
// request parser), has the HttpService answer them, and writes the responses, asynchronously
// on its I/O thread's io_context, under the same limits, budget and deadlines as a binary
// Connection (daemon/connection.h), whose state machine it follows:
//
//   kServing ──(end of input | a request that closes | Shutdown())──> kDraining
//   kDraining ──(everything answered and written)──> kLingering ──(peer closed | 1 s)──> kClosed
//   any phase ──(deadline passed | I/O error | Close() | eviction)──> kClosed
//
// The input state says what the unanswered bytes are (nothing, part of a request, or whole
// requests held back by the in-flight bound). Every event (a read, a write, a timer,
// Shutdown()) updates these and calls Advance(), the one transition function.
//
// Keep-alive and pipelining: requests are answered in order, each response written after the
// one before; at most max_in_flight responses wait unwritten, and a connection over its share
// of an exhausted BufferBudget stops reading until its writes drain. A request without
// keep-alive (HTTP/1.0, "Connection: close") is answered with "Connection: close" and closes.
//
// Bad input: headers over kHeaderLimit answer 431 headers_too_large, a body over max_payload 413
// payload_too_large, anything Beast cannot parse 400 bad_request; each closes the connection
// after its response is written (input after it is discarded).
//
// Deadlines: a request's header and body must arrive within frame_timeout of its first byte;
// a connection with unwritten responses must make write progress within write_timeout; one
// with nothing in progress is closed idle_timeout after its last request.
//
// Plain TCP only: TLS for HTTP is not offered (a TLS-terminating proxy may front it).
//
// Thread safety: an HttpConnection belongs to one io_context run by one thread; every method
// is called on that thread.
#ifndef SHIXIN_DAEMON_HTTP_CONNECTION_H_
#define SHIXIN_DAEMON_HTTP_CONNECTION_H_

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "daemon/buffer_budget.h"
#include "daemon/connection.h"
#include "daemon/connection_limits.h"
#include "daemon/connection_manager.h"
#include "daemon/http_message.h"
#include "daemon/http_service.h"
#include "daemon/transport.h"

namespace shixin {

// Returns the bytes of the HTTP/1.1 response `reply`, with Content-Type, Content-Length,
// Cache-Control: no-store, its extra headers and, if `close`, Connection: close.
std::string SerializeReply(const HttpReply& reply, bool close);

class HttpConnection final : public ManagedConnection,
                             public std::enable_shared_from_this<HttpConnection> {
 public:
  // The largest request line and headers together.
  static constexpr uint32_t kHeaderLimit = 8 * 1024;

  // What the HTTP connections of one server share. Everything must outlive the connections.
  struct Shared {
    const HttpService* service = nullptr;
    BufferBudget* budget = nullptr;
    ConnectionLimits* limits = nullptr;  // Release()d when the connection is destroyed
  };

  // Takes `socket`, connected to `remote` and counted by shared.limits->Admit(remote's
  // address). Uses options' max_payload (the body limit), max_in_flight and the timeouts.
  HttpConnection(boost::asio::ip::tcp::socket socket, const boost::asio::ip::tcp::endpoint& remote,
                 const Connection::Options& options, const Shared& shared,
                 ConnectionManager* manager);
  ~HttpConnection() override;
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  void Start() override;
  void Shutdown() override;
  void Close() override;
  // Does nothing: HTTP requests carry their credentials each (the JSON API checks them).
  void Revalidate() override {}
  bool Evictable(Clock::time_point now) const override;
  Clock::time_point last_request() const override { return last_request_; }
  const std::string& peer() const override { return peer_; }

 private:
  enum class Phase { kServing, kDraining, kLingering, kClosed };
  enum class Input {
    kEmpty,     // every byte received has been answered
    kPartial,   // part of a request (its deadline runs)
    kHeldBack,  // whole requests, held back by the in-flight bound
  };
  enum class DrainReason {
    kNone,        // kServing
    kEndOfInput,  // the client closed its sending side
    kClose,       // a response said Connection: close; the rest of the input is ignored
    kShutdown,    // Shutdown(): what waits unread in the socket is still answered
  };
  using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

  // The transition function: answers what the input and the in-flight bound allow, starts the
  // writes and reads the state allows, moves to the next phase, and charges the budget.
  void Advance();
  // Parses and answers the whole requests in the input (at most kInputPerTurn bytes a turn;
  // the rest in a posted turn, so that one long pipeline does not hold up the thread).
  void AnswerRequests();
  static constexpr size_t kInputPerTurn = 64 * 1024;
  // Answers the request parser_ holds, and resets it.
  void AnswerParsed();
  // Queues the response to a request Beast could not parse (`ec`) and closes after it.
  void AnswerBadRequest(const boost::system::error_code& ec);
  void Queue(const HttpReply& reply, bool close);
  bool ReadWanted();
  void StartRead();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void StartWrite();
  void OnWrite(const boost::system::error_code& ec, size_t n);
  void Drain(DrainReason reason);
  void EnterLingering();
  void StartWaitClose();
  // Returns the earliest deadline of the current state, and what closes the connection then.
  Clock::time_point NextDeadline(const char** what) const;
  void ArmTimer();
  void OnTimer(const boost::system::error_code& ec);
  size_t pending() const { return queued_ + writing_count_; }
  uint64_t buffer_bytes() const {
    return input_.capacity() + output_.capacity() + writing_.capacity() +
           (parser_ ? parser_->get().body().capacity() : 0);
  }
  bool has_pending_bytes() const {
    return input_begin_ < input_.size() || !output_.empty() || written_ < writing_.size();
  }

  TcpTransport transport_;
  boost::asio::steady_timer timer_;
  const Connection::Options options_;
  const Shared shared_;
  ConnectionManager* const manager_;
  boost::asio::ip::address address_;  // counted in shared_.limits
  std::string peer_;
  Peer peer_info_;  // what requests carry (HttpRequest::peer)

  Phase phase_ = Phase::kServing;
  Input input_state_ = Input::kEmpty;
  DrainReason drain_reason_ = DrainReason::kNone;
  bool reading_ = false;
  bool writing_busy_ = false;
  bool turn_posted_ = false;

  std::array<char, 16384> read_buffer_;
  std::string input_;  // received bytes; input_[input_begin_..] not yet parsed
  size_t input_begin_ = 0;
  std::optional<Parser> parser_;  // the request being parsed, if one has begun
  std::string output_;            // responses not yet handed to a write
  std::string writing_;           // the bytes of the write in progress
  size_t written_ = 0;
  size_t queued_ = 0;         // responses in output_
  size_t writing_count_ = 0;  // responses in writing_
  uint64_t charged_ = 0;      // bytes charged to shared_.budget

  Clock::time_point last_request_;
  Clock::time_point request_started_;  // the first byte of the partial request
  Clock::time_point last_written_;
  Clock::time_point closing_by_ = Clock::time_point::max();
  Clock::time_point timer_at_ = Clock::time_point::max();
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_HTTP_CONNECTION_H_
