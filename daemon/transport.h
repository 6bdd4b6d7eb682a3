// Transport is the byte stream a connection reads requests from and writes responses to: plain
// TCP through the reactor (TcpTransport) or through io_uring (UringTransport,
// daemon/uring_transport.h), or TLS over TCP (TlsTransport, Boost.Asio's ssl::stream). A StreamPump
// (daemon/stream_pump.h) drives any of them through the same asynchronous calls, so that each
// connection stays one state machine.
//
// The handlers run on the socket's executor (the connection's I/O thread). At most one read
// and one write may be outstanding at a time, and no read while AsyncWaitClose() is.
//
// Thread safety: a Transport belongs to its connection's I/O thread.
#ifndef SHIXIN_DAEMON_TRANSPORT_H_
#define SHIXIN_DAEMON_TRANSPORT_H_

#include <openssl/ssl.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <cstddef>
#include <functional>
#include <memory>

namespace shixin {

class Transport {
 public:
  using Handler = std::function<void(const boost::system::error_code&)>;
  using IoHandler = std::function<void(const boost::system::error_code&, size_t)>;

  virtual ~Transport() = default;

  // Returns whether AsyncHandshake() must complete before the first read or write.
  virtual bool NeedsHandshake() const = 0;
  // Runs the handshake (TLS: as the server). REQUIRES: NeedsHandshake().
  virtual void AsyncHandshake(Handler handler) = 0;
  // Reads some bytes into `buffer`; the end of the peer's input is asio::error::eof.
  virtual void AsyncReadSome(boost::asio::mutable_buffer buffer, IoHandler handler) = 0;
  // Copies into `buffer`, without socket I/O, input already received and decoded by the
  // transport (TLS: the records the last read took in beyond the first); returns how many bytes
  // (0: none, or an error that the next read reports). So that one read turn takes in all the
  // frames that arrived together. REQUIRES: no read outstanding.
  virtual size_t ReadBuffered(boost::asio::mutable_buffer buffer) { return 0; }
  // Writes some of `buffer`.
  virtual void AsyncWriteSome(boost::asio::const_buffer buffer, IoHandler handler) = 0;
  // Ends the sending side now if it can without writing (TCP: a FIN); TLS sends its
  // close_notify in AsyncWaitClose().
  virtual void ShutdownSend() = 0;
  // Ends the receiving side: an outstanding read completes with what has arrived, or eof.
  virtual void ShutdownReceive() = 0;
  // Ends the sending side if ShutdownSend() did not, then discards input until the peer
  // closes (or an error); `handler` runs then. Nothing bounds the wait: the caller closes.
  virtual void AsyncWaitClose(Handler handler) = 0;
  // Returns whether received bytes wait unread.
  virtual bool ReceivedUnread() = 0;
  // Closes the socket: outstanding operations complete with operation_aborted.
  virtual void Close() = 0;
  // The executor of the connection's I/O thread, on which the handlers run.
  virtual boost::asio::any_io_executor executor() = 0;
  // The TLS connection, or nullptr for plain TCP.
  virtual SSL* ssl() { return nullptr; }
};

// What every plain TCP transport does the same way: no handshake, and the close's wait as a
// FIN and then reads (through AsyncReadSome) discarded until the peer closes.
class PlainTransport : public Transport {
 public:
  bool NeedsHandshake() const final { return false; }
  // Completes at once, in a handler of executor().
  void AsyncHandshake(Handler handler) final;
  void AsyncWaitClose(Handler handler) final;

 private:
  void DiscardUntilClose(Handler handler);

  std::array<char, 4096> discard_;
};

// Plain TCP through the io_context's reactor.
class TcpTransport final : public PlainTransport {
 public:
  explicit TcpTransport(boost::asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}

  void AsyncReadSome(boost::asio::mutable_buffer buffer, IoHandler handler) override;
  void AsyncWriteSome(boost::asio::const_buffer buffer, IoHandler handler) override;
  void ShutdownSend() override;
  void ShutdownReceive() override;
  bool ReceivedUnread() override;
  void Close() override;
  boost::asio::any_io_executor executor() override { return socket_.get_executor(); }

 private:
  boost::asio::ip::tcp::socket socket_;
};

// TLS over TCP, as the server. Keeps its context alive (a SIGHUP may replace the server's).
class TlsTransport final : public Transport {
 public:
  TlsTransport(boost::asio::ip::tcp::socket socket,
               std::shared_ptr<boost::asio::ssl::context> context);

  bool NeedsHandshake() const override { return true; }
  void AsyncHandshake(Handler handler) override;
  // A TCP end without close_notify (a truncated stream) counts as the end of input too: frames
  // carry their length, so a cut frame is seen as incomplete.
  void AsyncReadSome(boost::asio::mutable_buffer buffer, IoHandler handler) override;
  // SSL_read on the connection while OpenSSL holds received bytes (Asio's engine puts a whole
  // socket read, often many records, into its BIO but returns one record per read).
  size_t ReadBuffered(boost::asio::mutable_buffer buffer) override;
  void AsyncWriteSome(boost::asio::const_buffer buffer, IoHandler handler) override;
  void ShutdownSend() override {}
  void ShutdownReceive() override;
  // Sends close_notify and waits for the peer's.
  void AsyncWaitClose(Handler handler) override;
  bool ReceivedUnread() override;
  void Close() override;
  boost::asio::any_io_executor executor() override { return stream_.get_executor(); }
  SSL* ssl() override { return stream_.native_handle(); }

 private:
  boost::asio::ip::tcp::socket& socket() { return stream_.next_layer(); }

  std::shared_ptr<boost::asio::ssl::context> context_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_TRANSPORT_H_
