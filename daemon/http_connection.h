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
// keep-alive (HTTP/1.0, "Connection: close") is answered with "Connection: close" and closes;
// an HTTP/1.0 one with "Connection: keep-alive" is answered with it and stays open (RFC 9112
// 9.3). Empty lines before a request line are skipped (RFC 9112 2.2). After the end of input, the
// last request received is answered with "Connection: close"; so is the last one after Shutdown()
// (the daemon stops), which answers every request received and keeps an idle connection open
// until its next request or the drain deadline. HEAD is answered as GET without the
// body. "Expect: 100-continue" is answered "100 Continue" once the header is accepted, if the body
// has not begun to arrive. In callers mode a request under /v1/ without an
// Authorization header is answered (401) from its header, before its body arrives, and the
// connection closes after it: its body is never read.
//
// Bad input: headers over kHeaderLimit answer 431 headers_too_large (and so do a chunk-size
// line or a trailer section over it), a body over max_payload 413 payload_too_large, anything
// Beast cannot parse 400 bad_request, and so does a header that frames or names the request
// ambiguously or lacks a valid Host (CheckHeader) or a trailer section carrying a field that
// belongs in the header (CheckTrailer); each closes the connection after its response is written
// (input after it is discarded).
//
// Deadlines: a request's header and body must arrive within frame_timeout of its first byte;
// a connection with unwritten responses must make write progress within write_timeout; one
// with nothing in progress is closed idle_timeout after its last request.
//
// Its byte stream is a StreamPump (daemon/stream_pump.h), as a binary Connection's: the
// buffers, the budget's charge, the lingering and the timer are the pump's; the parsing, the
// answering and the phases are the connection's. Plain TCP only: TLS for HTTP is not offered
// (a TLS-terminating proxy may front it).
//
// Thread safety: an HttpConnection belongs to one io_context run by one thread; every method
// is called on that thread.
#ifndef SHIXIN_DAEMON_HTTP_CONNECTION_H_
#define SHIXIN_DAEMON_HTTP_CONNECTION_H_

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/buffer_budget.h"
#include "daemon/connection.h"
#include "daemon/connection_limits.h"
#include "daemon/connection_manager.h"
#include "daemon/http_message.h"
#include "daemon/http_service.h"
#include "daemon/stream_pump.h"
#include "daemon/transport.h"

namespace shixin {

// What a response says in its Connection header (the last of its headers), if anything.
enum class ConnectionHeader {
  kNone,       // HTTP/1.1 keep-alive, the default
  kClose,      // "Connection: close": the connection closes after it
  kKeepAlive,  // "Connection: keep-alive": an HTTP/1.0 request asked to keep it open
};

// Returns the bytes of the HTTP/1.1 response `reply`, with Date (formatted once a second),
// Content-Type, Content-Length, Cache-Control: no-store, its extra headers, the Connection header
// `connection` says, and the body unless `head_only` (the answer to a HEAD: Content-Length is still
// the body's).
std::string SerializeReply(const HttpReply& reply, ConnectionHeader connection,
                           bool head_only = false);

class HttpConnection final : public ManagedConnection,
                             private StreamPump::Owner,
                             public std::enable_shared_from_this<HttpConnection> {
 public:
  // The largest request line and headers together.
  static constexpr uint32_t kHeaderLimit = 8 * 1024;

  // What the HTTP connections of one server share. Everything must outlive the connections.
  struct Shared {
    const HttpService* service = nullptr;
    BufferBudget* budget = nullptr;
    ConnectionLimits* limits = nullptr;  // Release()d when the connection is destroyed
    bool callers = false;                // callers mode: Unproven() connections go first
    const Access* access = nullptr;      // callers mode: Revalidate() asks it
  };

  // Takes `transport` (plain TCP), connected to `remote` and counted by shared.limits->Admit(
  // remote's address). Uses options' max_payload (the body limit), max_in_flight and the
  // timeouts.
  HttpConnection(std::unique_ptr<Transport> transport, const boost::asio::ip::tcp::endpoint& remote,
                 const Connection::Options& options, const Shared& shared,
                 ConnectionManager* manager);
  ~HttpConnection() override;
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Starts serving. REQUIRES: the connection is owned by a shared_ptr.
  void Start() override;
  // Stops serving (the daemon stops): answers every request received, the last of them with
  // Connection: close (the last response not yet handed to a write says it once nothing more
  // has arrived), and closes after it. An idle connection (its last response written) keeps
  // reading: a request that arrives is answered with close, and at `by` (the drain deadline)
  // the connection closes between requests, never inside one it has begun to answer; so does
  // one whose client does not read.
  void Shutdown(Clock::time_point by) override;
  // Closes the socket now; pending responses are dropped.
  void Close() override;
  // After the callers file was reloaded: closes the connection if the caller of its last
  // accepted credentials was revoked (each request carries its own, checked by the JSON API, but
  // an idle keep-alive connection of a removed caller must not keep its slot).
  void Revalidate() override;
  // Returns whether the connection may be closed at `now` for a new client (as a Connection's:
  // an Unproven() one kMinIdleToEvict after its acceptance, busy or not).
  bool Evictable(Clock::time_point now) const override;
  // In callers mode: none of its requests carried credentials that were accepted (health
  // checks, metrics, refused tokens). Each HTTP request authenticates on its own, so an
  // evicted client loses nothing but its connection.
  bool Unproven() const override { return shared_.callers && !proven_; }
  // When the last request was answered (or the connection was accepted).
  Clock::time_point last_request() const override { return last_request_; }
  // Returns the peer's "address:port", for the log.
  const std::string& peer() const override { return pump_.peer(); }

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
    kShutdown,    // Shutdown(): reads on; the last request received is answered with close
  };
  using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

  // The transition function: answers what the input and the in-flight bound allow, starts the
  // writes and reads the state allows, moves to the next phase, and charges the budget.
  void Advance() override;
  // Parses and answers the whole requests in the input (at most StreamPump::kInputPerTurn
  // bytes a turn; the rest in a later turn, so that one long pipeline does not hold up the
  // thread).
  void AnswerRequests();
  // Answers the request parser_ holds, and resets it.
  void AnswerParsed();
  // Queues the response to a request Beast could not parse (`ec`) and closes after it.
  void AnswerBadRequest(const boost::system::error_code& ec);
  // Checks the header parser_ has just read, before its body: refuses (and returns false) a
  // Transfer-Encoding but chunked, Content-Length, Content-Type or Authorization twice, and a
  // missing (HTTP/1.1), repeated or invalid Host; answers a request of the API that carries no
  // credentials (callers mode) before its body. Else makes the parser eager (the body is parsed
  // as it comes) and returns true.
  bool CheckHeader();
  // Checks the trailer section of the chunked request parser_ has just read: refuses (and
  // returns false) one carrying a field that belongs in the header section (Authorization,
  // Content-Type, ...: TrailerRefusal); other trailer fields are ignored.
  bool CheckTrailer();
  // Consumes the empty lines (CRLF, or LF) before a request line: RFC 9112 2.2 (some clients
  // send one after a body). Returns whether input that may begin a request remains.
  bool SkipEmptyLines();
  // Returns whether the request being answered is the last this connection processes though it
  // asked to stay open: the last one received before the end of input, or after Shutdown().
  bool LastBeforeClosing();
  // Returns whether every byte received has been taken in: no input unparsed, no read in flight
  // (it may hold a request), nothing waiting in the socket.
  bool NothingMoreReceived();
  // Queues `reply` with Connection: close and closes after it; `why` goes to the log.
  void Refuse(const HttpReply& reply, std::string_view why);
  void Queue(const HttpReply& reply, ConnectionHeader connection, bool head_only = false);
  // Queues "100 Continue" if the request parser_ holds asks for it and its body has not begun
  // to arrive.
  void MaybeContinue();
  // Returns whether a read should be outstanding in the current state.
  bool ReadWanted();
  // Stops reading requests: kDraining.
  void Drain(DrainReason reason);
  // StreamPump::Owner.
  std::shared_ptr<void> KeepAlive() override { return shared_from_this(); }
  void OnEndOfInput() override;
  void AddDeadlines(StreamPump::Deadlines* deadlines) const override;
  size_t pending() const { return pump_.unwritten(); }
  // The memory the buffers take, the parsed body's included.
  uint64_t buffer_bytes() const {
    return pump_.buffer_bytes() + (parser_ ? parser_->get().body().capacity() : 0);
  }

  const Connection::Options options_;
  const Shared shared_;
  ConnectionManager* const manager_;
  StreamPump pump_;
  Peer peer_info_;  // what requests carry (HttpRequest::peer)

  Phase phase_ = Phase::kServing;
  Input input_state_ = Input::kEmpty;
  DrainReason drain_reason_ = DrainReason::kNone;
  std::optional<Parser> parser_;  // the request being parsed, if one has begun
  // Of a chunked parser_'s header section: how often it names each field a trailer may not
  // carry (CheckTrailer).
  std::array<uint32_t, 13> header_only_{};
  // Where the Connection header of the last response queued is (or would go), while that
  // response waits in pump_.output(): Shutdown() makes it "close".
  struct ConnectionLine {
    size_t at = 0;
    size_t size = 0;
  };
  std::optional<ConnectionLine> last_queued_;

  Clock::time_point drain_by_;  // Shutdown()'s deadline
  Clock::time_point accepted_;
  Clock::time_point last_request_;
  Clock::time_point request_started_;   // the first byte of the partial request
  bool proven_ = false;                 // a request's credentials were accepted
  std::shared_ptr<const Grant> grant_;  // of the last request whose credentials were accepted
  uint64_t grant_epoch_ = 0;            // the Access::epoch() grant_ was checked in
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_HTTP_CONNECTION_H_
