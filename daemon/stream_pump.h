// StreamPump is the byte-stream plumbing that a connection's state machine (the binary
// Connection, HttpConnection) drives: it owns the Transport, the received input, the responses
// not yet written and the write in progress, charges their memory to the BufferBudget, and
// keeps the deadline timer armed. It knows no protocol and no phase beyond its own:
//
//   open ──(Linger())──> lingering ──(peer closed | I/O error | 1 s)──> closed
//   open ──(Close() | I/O error | deadline passed)──> closed
//
// Lingering shuts the sending side down (TLS: close_notify) and discards input until the peer
// closes, so that a client reads the last response rather than a reset; kLinger bounds it.
// StartGrace() bounds a Shutdown() the same way, by the server's drain deadline.
//
// Its owner answers the input and decides what to read and when to linger; the pump calls back
// into it (Owner) once per I/O event: input arrived or ended, a write completed, a posted turn,
// an error or a deadline that closes the connection. Every asynchronous operation holds a
// reference to the owner (Owner::KeepAlive()), so a pump lives as long as its handlers.
//
// Thread safety: a StreamPump belongs to its owner's io_context, run by one thread; every
// method is called on that thread.
#ifndef SHIXIN_DAEMON_STREAM_PUMP_H_
#define SHIXIN_DAEMON_STREAM_PUMP_H_

#include <algorithm>
#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/buffer_budget.h"
#include "daemon/connection_limits.h"
#include "daemon/transport.h"

namespace shixin {

// Returns "192.0.2.1:7411" or "[2001:db8::1]:7411".
std::string EndpointText(const boost::asio::ip::tcp::endpoint& endpoint);
// Returns whether `a` is a loopback address (IPv4-mapped ones included).
bool IsLoopback(const boost::asio::ip::address& a);

class StreamPump {
 public:
  using Clock = std::chrono::steady_clock;

  // How long a lingering connection discards input before closing regardless.
  static constexpr std::chrono::seconds kLinger{1};
  // The most input an owner answers in one turn before yielding (YieldTurn()), so that one
  // client's long pipeline does not hold up the other connections of the thread.
  static constexpr size_t kInputPerTurn = 64 * 1024;
  // The reason Deadlines::AddIdle() gives; its passing is logged as debug only.
  static constexpr char kIdle[] = "idle";

  // The earliest of a set of deadlines, and what closes the connection when it passes.
  class Deadlines {
   public:
    explicit Deadlines(std::chrono::seconds idle_timeout) : idle_timeout_(idle_timeout) {}
    // Keeps `when` if it is the earliest so far, with `why` (a string literal).
    void Add(Clock::time_point when, const char* why) {
      if (when < at_) {
        at_ = when;
        why_ = why;
      }
    }
    // If `idle` and an idle timeout is set: the idle deadline, idle_timeout after `since`.
    void AddIdle(bool idle, Clock::time_point since) {
      if (idle && idle_timeout_.count() > 0) Add(since + idle_timeout_, kIdle);
    }
    // Returns the earliest deadline (Clock::time_point::max() if none).
    Clock::time_point at() const { return at_; }
    // Returns its reason ("" if none).
    const char* why() const { return why_; }

   private:
    const std::chrono::seconds idle_timeout_;
    Clock::time_point at_ = Clock::time_point::max();
    const char* why_ = "";
  };

  // What the pump calls back. Every call runs on the I/O thread, from a handler that holds
  // KeepAlive(); none runs once the pump is closed.
  class Owner {
   public:
    // Returns a reference that keeps the owner (and so its pump) alive.
    virtual std::shared_ptr<void> KeepAlive() = 0;
    // The state machine's transition: after input arrived (or a read ended without any), a
    // write completed or a YieldTurn() turn came.
    virtual void Advance() = 0;
    // The peer closed its sending side; Advance() follows.
    virtual void OnEndOfInput() = 0;
    // Adds the owner's deadlines (not asked while lingering).
    virtual void AddDeadlines(Deadlines* deadlines) const = 0;
    // Closes the connection (an I/O error, a deadline, the end of lingering); must call
    // StreamPump::Close().
    virtual void Close() = 0;

   protected:
    ~Owner() = default;
  };

  struct Settings {
    const char* kind = "connection";  // in the log: "closing <kind> from <peer>"
    std::chrono::seconds write_timeout{30};
    std::chrono::seconds idle_timeout{60};  // 0: never
    BufferBudget* budget = nullptr;
    ConnectionLimits* limits = nullptr;  // Release()d when the pump is destroyed
  };

  // Takes `transport`, connected to `remote` and counted by settings.limits->Admit(remote's
  // address). `owner` and the settings' pointers must outlive the pump.
  StreamPump(std::unique_ptr<Transport> transport, const boost::asio::ip::tcp::endpoint& remote,
             const Settings& settings, Owner* owner);
  // Gives back the budget and the limits' slot.
  ~StreamPump();
  StreamPump(const StreamPump&) = delete;
  StreamPump& operator=(const StreamPump&) = delete;

  Transport& transport() { return *transport_; }
  boost::asio::any_io_executor executor() { return transport_->executor(); }
  const boost::asio::ip::address& address() const { return address_; }
  // The peer's "address:port", for the log.
  const std::string& peer() const { return peer_; }
  bool closed() const { return state_ == State::kClosed; }

  // Input. The received bytes not yet consumed by the owner.
  std::string_view input() const { return std::string_view(input_).substr(input_begin_); }
  // Marks the first `n` bytes of input() answered. REQUIRES: n <= input().size().
  void Consume(size_t n) { input_begin_ += n; }
  // Frees the answered input: all of the buffer once it is all answered, else the answered
  // prefix once it is large (64 KiB) and at least as long as the rest. Each read does this
  // too before it appends, so that the buffer stays within about twice the unanswered input
  // (plus 64 KiB) however the owner's turns end; an owner calls it to free the memory at once.
  void CompactInput();
  // Drops the input, and all that later reads take in (the connection ignores the rest).
  void DiscardInput();
  // Whether DiscardInput() was called.
  bool discarding() const { return discarding_; }
  // Posts an Owner::Advance() (once, however often called before it runs): the owner yields
  // after kInputPerTurn bytes and answers the rest in a later turn.
  void YieldTurn();

  // Output. The responses not yet handed to a write; CountQueued() counts each one appended.
  std::string& output() { return output_; }
  void CountQueued() { ++queued_; }
  // Returns the responses queued or being written.
  size_t unwritten() const { return queued_ + writing_count_; }
  // Returns whether nothing is queued or being written.
  bool quiet() const { return !write_busy_ && output_.empty(); }

  // Returns whether a read is outstanding.
  bool reading() const { return reading_; }
  // Starts a read. REQUIRES: open, no read outstanding.
  void StartRead();
  // Writes what output() holds, unless a write is outstanding or it is empty.
  void StartWrite();
  // Returns whether received bytes wait unread in the socket.
  bool ReceivedUnread() { return transport_->ReceivedUnread(); }
  // For a Shutdown(): ends an outstanding read that has nothing to take in (it would wait for
  // more requests) by shutting down the receiving side.
  void StopWaitingForInput();
  // Returns whether a holder of `held` bytes (buffer_bytes() and the owner's) with work pending
  // must stop reading for the budget. Only such a connection pauses, so that a deadline (frame
  // or write) always runs while it does.
  bool MustPause(uint64_t held) const {
    return (input_begin_ < input_.size() || !output_.empty() || written_ < writing_.size()) &&
           budget_->MustPause(held);
  }
  // Returns whether the draining connection may linger: no write is outstanding, nor a read
  // (except one whose input is discarded: it goes on as the lingering one).
  bool Drained() const { return !write_busy_ && (!reading_ || discarding_); }
  // Starts lingering: shuts down the sending side, frees the buffers, discards input until the
  // peer closes or kLinger (or the grace period) passes, then Owner::Close(). REQUIRES: open.
  void Linger();
  // Closes the connection no later than `by` (a Shutdown()'s drain deadline), lingering or not.
  void StartGrace(Clock::time_point by) { closing_by_ = std::min(closing_by_, by); }

  // The memory of the pump's buffers (their capacity).
  uint64_t buffer_bytes() const {
    return input_.capacity() + output_.capacity() + writing_.capacity();
  }
  // After each transition: charges `held` bytes (buffer_bytes() and the owner's) to the budget
  // and keeps the timer armed no later than the next deadline. Does nothing once closed.
  void Settle(uint64_t held);
  // Closes the socket and the timer, gives the budget back. Outstanding handlers see closed().
  void Close();

 private:
  enum class State { kOpen, kLingering, kClosed };

  void OnRead(const boost::system::error_code& ec, size_t n);
  void OnWrite(const boost::system::error_code& ec, size_t n);
  void StartWaitClose();
  // Returns the earliest deadline of the pump and its owner, and its reason.
  Deadlines NextDeadline() const;
  void ArmTimer();
  void OnTimer(const boost::system::error_code& ec);

  const std::unique_ptr<Transport> transport_;
  boost::asio::steady_timer timer_;
  const Settings settings_;
  BufferBudget* const budget_;
  Owner* const owner_;
  const boost::asio::ip::address address_;  // counted in settings_.limits
  const std::string peer_;

  State state_ = State::kOpen;
  bool reading_ = false;      // a read is outstanding
  bool write_busy_ = false;   // a write is outstanding
  bool discarding_ = false;   // DiscardInput() was called
  bool turn_posted_ = false;  // YieldTurn() posted an Advance()

  std::array<char, 16384> read_buffer_;
  std::string input_;  // received bytes; input_[input_begin_..] not yet answered
  size_t input_begin_ = 0;
  std::string output_;        // responses not yet handed to a write
  std::string writing_;       // the bytes of the write in progress
  size_t written_ = 0;        // of writing_
  size_t queued_ = 0;         // responses in output_
  size_t writing_count_ = 0;  // responses in writing_
  uint64_t charged_ = 0;      // bytes charged to budget_

  Clock::time_point last_written_;                           // write deadline base
  Clock::time_point closing_by_ = Clock::time_point::max();  // lingering or shutdown
  Clock::time_point timer_at_ = Clock::time_point::max();    // when the timer fires
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_STREAM_PUMP_H_
