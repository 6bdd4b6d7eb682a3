// Connection serves one client socket: it reads request frames, has the Handler answer them,
// and writes the responses, all asynchronously on its I/O thread's io_context (a slow client
// never blocks the thread).
//
// It is an explicit state machine. The phase says what the connection is doing:
//
//   kHandshake ──(TLS handshake done)──> kServing     (a plain connection starts in kServing)
//   kServing ──(end of input | fatal error | Shutdown())──> kDraining
//   kDraining ──(everything answered and written)──> kLingering ──(peer closed | 1 s)──> kClosed
//   any phase ──(deadline passed | I/O error | Close() | Evict())──> kClosed
//
// and the input state what the unanswered bytes are (nothing, part of a frame, or whole frames
// held back by the in-flight bound). Every event (a read, a write, a reload's answer, a timer,
// Shutdown()) updates these and calls Advance(), the one transition function, which answers
// what it can, starts the reads and writes the state allows and moves to the next phase.
//
// Pipelining: the client may send many requests before reading; responses go out in the
// order they are ready, each with its request's id. At most max_in_flight responses may be
// pending (answered but unwritten, or a RELOAD waiting for its reload); at that bound, or when
// the server's BufferBudget is exhausted and this connection holds more than its share, the
// connection stops reading until its writes drain.
//
// Its byte stream is a StreamPump (daemon/stream_pump.h), which owns the Transport (plain TCP
// or TLS), the buffers, the budget's charge, the lingering and the deadline timer; the
// connection keeps the framing, the answering and the phases. A TLS handshake must finish
// within frame_timeout; a TLS connection's close sends close_notify and waits for the peer's
// while lingering, which the linger deadline bounds.
//
// Deadlines that bytes cannot extend: a frame must arrive whole within frame_timeout of its
// first byte; a connection with unwritten responses must make write progress within
// write_timeout; a connection with nothing in progress is closed idle_timeout after its last
// complete request. A connection waiting for a RELOAD has none of these. In callers mode a
// connection that has not authenticated kAuthTimeout after it began serving is closed.
//
// Audit: an answer that carries a receipt is held until its record is in the audit file. A turn
// that answered audited requests joins the I/O thread's AuditBatch (output kAwaitingAudit);
// once the thread's ready handlers have run, the batch's one write covers every connection
// that joined, and OnAuditTurn() makes the output writable again (or answers the requests
// again as a failing audit allows). The only connection of its thread writes its records at
// once instead.
//
// Closing: after a fatal error response (bad frame, unknown opcode, bad payload, frame too
// large) the connection writes what it holds, shuts down its sending side and discards input
// for a moment before closing, so that the client reads the response rather than a reset.
// Shutdown() answers the requests that have reached the socket (what a read already took in,
// what waits unread in the socket, and the rest of a frame begun), reads no more, and closes;
// at the drain deadline (drain_seconds) it closes regardless.
//
// Thread safety: a Connection belongs to one io_context run by one thread; every method is
// called on that thread.
#ifndef SHIXIN_DAEMON_CONNECTION_H_
#define SHIXIN_DAEMON_CONNECTION_H_

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "daemon/audit_batch.h"
#include "daemon/buffer_budget.h"
#include "daemon/connection_limits.h"
#include "daemon/connection_manager.h"
#include "daemon/handler.h"
#include "daemon/reloader.h"
#include "daemon/stream_pump.h"
#include "daemon/transport.h"
#include "protocol/wire.h"

namespace shixin {

class Connection final : public ManagedConnection,
                         private StreamPump::Owner,
                         private AuditBatch::Waiter,
                         public std::enable_shared_from_this<Connection> {
 public:
  struct Options {
    uint32_t max_payload = 1u << 20;
    uint32_t max_in_flight = 128;
    std::chrono::seconds idle_timeout{60};  // 0: never
    std::chrono::seconds frame_timeout{10};
    std::chrono::seconds write_timeout{30};
    bool admin_loopback_only = true;
  };

  // What the connections of one server share. Everything must outlive the connections.
  struct Shared {
    const Handler* handler = nullptr;
    ReloadTarget* reloads = nullptr;  // RELOAD: the files, then the list (Server::Reload())
    BufferBudget* budget = nullptr;
    ConnectionLimits* limits = nullptr;  // Release()d when the connection is destroyed
    Access* access = nullptr;            // maps a TLS client certificate to a caller
  };

  // Takes `transport`, connected to `remote` and counted by shared.limits->Admit(remote's
  // address). `manager` and `audit_batch` are the I/O thread's.
  Connection(std::unique_ptr<Transport> transport, const boost::asio::ip::tcp::endpoint& remote,
             const Options& options, const Shared& shared, ConnectionManager* manager,
             AuditBatch* audit_batch);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts serving. REQUIRES: the connection is owned by a shared_ptr.
  void Start() override;
  // Answers the requests that have reached the socket (a frame begun before is read to its
  // end, within frame_timeout), reads no more, then closes; at `by` closes regardless.
  void Shutdown(Clock::time_point by) override;
  // Closes the socket now; pending responses are dropped.
  void Close() override;
  // After the callers file was reloaded: looks the connection's caller up again, and closes
  // the connection now if its caller, token or certificate was revoked.
  void Revalidate() override;

  // Returns whether the connection may be closed at `now` to make room for a new client: it
  // is in its TLS handshake, or serving with no request in progress (a partial frame does not
  // count); and its last request (or its start) is at least kMinIdleToEvict old, so that a
  // new client has the time to finish its handshake and send its first request. An
  // Unproven() one is evictable kMinIdleToEvict after it began serving, busy or not.
  bool Evictable(Clock::time_point now) const override;
  // In callers mode: serving and not authenticated (no HELLO with credentials accepted, no
  // client certificate of a caller). Such a connection is closed kAuthTimeout after it began
  // serving (the TLS handshake's end, or its acceptance).
  bool Unproven() const override;

  // How long a connection may serve before it authenticates, in callers mode.
  static constexpr std::chrono::seconds kAuthTimeout{5};
  // When the last complete request arrived (or the connection was accepted).
  Clock::time_point last_request() const override { return last_request_; }

  // Returns the peer's "address:port", for the log.
  const std::string& peer() const override { return pump_.peer(); }

 private:
  enum class Phase { kHandshake, kServing, kDraining, kLingering, kClosed };
  enum class Input {
    kEmpty,     // every byte received has been answered
    kPartial,   // the bytes of an incomplete frame (its deadline runs)
    kHeldBack,  // complete frames, held back by the in-flight bound
  };
  // Why a connection reads no more requests.
  enum class DrainReason {
    kNone,        // it still does (kServing)
    kEndOfInput,  // the client closed its sending side
    kFatal,       // a fatal error response was queued: the rest of the input is ignored
    kShutdown,    // Shutdown(): what waits unread in the socket is still answered
  };

  // The transition function: answers what the input and the in-flight bound allow, starts
  // the writes and reads the state allows, moves to the next phase, and charges the budget.
  void Advance() override;
  // Answers the complete frames in the input while the in-flight bound allows, up to
  // kInputPerTurn bytes of them; then yields the rest to a later turn.
  void AnswerFrames();
  // Writes the audit records of the answers held for them; if they cannot be written, answers
  // their requests again as the failing audit allows (MEASURES refused, CHECK without receipts).
  void SyncAudit();
  // AuditBatch::Waiter: the thread's turn is over; the held answers' records are written.
  void OnAuditTurn() override;
  void OnHandshake(const boost::system::error_code& ec);
  // `received`: when the RELOAD was taken up (its latency in the metrics counts from it).
  void StartReload(uint32_t request_id, ReloadRequest request,
                   std::chrono::steady_clock::time_point received);
  void OnReloadDone(uint32_t request_id, const ReloadResult& result,
                    std::chrono::steady_clock::time_point received);
  // Returns whether a request of `opcode` is refused before authentication: all but HELLO and
  // PING (an unknown opcode too: it is answered UNKNOWN_OPCODE from its header).
  static bool NeedsCaller(uint8_t opcode);
  // Returns whether a read should be outstanding in the current state.
  bool ReadWanted();
  // Stops reading requests: kDraining.
  void Drain(DrainReason reason);
  // Returns whether Shutdown() waits for the rest of a frame (or of a refused frame's payload).
  bool FrameBegunAtShutdown() const {
    return drain_reason_ == DrainReason::kShutdown && input_state_ == Input::kPartial;
  }
  // StreamPump::Owner.
  std::shared_ptr<void> KeepAlive() override { return shared_from_this(); }
  void OnEndOfInput() override;
  void AddDeadlines(StreamPump::Deadlines* deadlines) const override;
  size_t pending() const { return pump_.unwritten() + reloads_; }

  const Options options_;
  const Shared shared_;
  ConnectionManager* const manager_;
  AuditBatch* const audit_batch_;
  StreamPump pump_;
  Session session_;  // the protocol version, negotiated by a first HELLO
  bool admin_allowed_ = false;

  // Whether the output may be written: answers whose audit records are not yet written wait
  // for the thread's AuditBatch (one write for the turn of all its connections).
  enum class Output {
    kWritable,
    kAwaitingAudit,  // joined the AuditBatch; OnAuditTurn() makes it writable
  };

  Phase phase_;
  Input input_state_ = Input::kEmpty;
  Output output_state_ = Output::kWritable;
  DrainReason drain_reason_ = DrainReason::kNone;
  size_t reloads_ = 0;  // RELOADs waiting for their reload
  uint64_t skip_ = 0;   // payload bytes still to discard of a frame answered from its header

  // An answer of this turn that has an audit record: where it is in output_, and where its
  // request is in audited_frames_ (one buffer: no allocation per answer).
  struct Audited {
    size_t begin = 0;
    size_t end = 0;
    size_t frame_begin = 0;
    size_t frame_end = 0;
  };
  std::vector<Audited> audited_;  // held for the AuditBatch, until SyncAudit()
  std::string audited_frames_;

  Clock::time_point started_;        // handshake deadline base, then the authentication's
  Clock::time_point last_request_;   // idle deadline base
  Clock::time_point frame_started_;  // first byte of the partial frame
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_CONNECTION_H_
