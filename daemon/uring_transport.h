// UringTransport: plain TCP whose reads and writes go through the I/O thread's UringLoop
// (daemon/uring_loop.h) instead of the io_context's reactor: a turn's reads and writes of all
// the thread's connections cost one system call, and a read never tries the socket in vain.
//
// The socket's descriptor is taken from Asio (released from its reactor, so that its readiness
// no longer wakes the thread) and closed by Close() or the destructor. Completions run as
// handlers of the loop's io_context, like Asio's.
//
// Thread safety: a UringTransport belongs to its connection's I/O thread, the loop's.
#ifndef SHIXIN_DAEMON_URING_TRANSPORT_H_
#define SHIXIN_DAEMON_URING_TRANSPORT_H_

#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <vector>

#include "daemon/transport.h"
#include "daemon/uring_loop.h"

namespace shixin {

class UringTransport final : public PlainTransport {
 public:
  // Takes `socket`, which must be open and belong to `loop`'s io_context; `loop` must outlive
  // the transport.
  UringTransport(boost::asio::ip::tcp::socket socket, UringLoop* loop);
  // Closes the descriptor. REQUIRES: no operation in flight (their handlers keep the owner
  // alive, so the owner is destroyed only after they ran).
  ~UringTransport() override;
  UringTransport(const UringTransport&) = delete;
  UringTransport& operator=(const UringTransport&) = delete;

  void AsyncReadSome(boost::asio::mutable_buffer buffer, IoHandler handler) override;
  void AsyncWriteSome(boost::asio::const_buffer buffer, IoHandler handler) override;
  void ShutdownSend() override;
  void ShutdownReceive() override;
  bool ReceivedUnread() override;
  // Cancels the operations in flight (they complete with operation_aborted) and closes the
  // descriptor; the kernel lets go of the socket when they have ended.
  void Close() override;
  boost::asio::any_io_executor executor() override { return executor_; }

 private:
  // One direction's operation: the handler waiting for the kernel's result.
  class Op final : public UringLoop::Operation {
   public:
    explicit Op(UringTransport* transport) : transport_(transport) {}
    void Complete(int result) override;
    void Abandon(std::vector<std::function<void()>>* graveyard) override;

    IoHandler handler;
    bool in_flight = false;

   private:
    UringTransport* const transport_;
  };

  // Closes the descriptor once Close() was called and no operation is in flight: an
  // operation queued but not yet submitted names the descriptor by its number, which a new
  // socket could take.
  void CloseWhenIdle();
  // Returns the descriptor for a new operation: -1 (EBADF) after Close().
  int fd() const { return closing_ ? -1 : fd_; }

  UringLoop* const loop_;
  boost::asio::any_io_executor executor_;
  int fd_;
  bool closing_ = false;
  Op read_{this};
  Op write_{this};
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_URING_TRANSPORT_H_
