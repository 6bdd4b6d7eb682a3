#include "daemon/transport.h"

#include <openssl/err.h>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <utility>

namespace shixin {

namespace asio = boost::asio;
using boost::system::error_code;

void PlainTransport::AsyncHandshake(Handler handler) {
  asio::post(executor(), [handler = std::move(handler)] { handler(error_code()); });
}

void PlainTransport::AsyncWaitClose(Handler handler) {
  ShutdownSend();
  DiscardUntilClose(std::move(handler));
}

void PlainTransport::DiscardUntilClose(Handler handler) {
  AsyncReadSome(asio::buffer(discard_),
                [this, handler = std::move(handler)](const error_code& ec, size_t) mutable {
                  if (ec) {
                    handler(ec);
                  } else {
                    DiscardUntilClose(std::move(handler));
                  }
                });
}

void TcpTransport::AsyncReadSome(asio::mutable_buffer buffer, IoHandler handler) {
  socket_.async_read_some(buffer, std::move(handler));
}

void TcpTransport::AsyncWriteSome(asio::const_buffer buffer, IoHandler handler) {
  socket_.async_write_some(buffer, std::move(handler));
}

void TcpTransport::ShutdownSend() {
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
}

void TcpTransport::ShutdownReceive() {
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_receive, ec);
}

bool TcpTransport::ReceivedUnread() {
  error_code ec;
  return socket_.available(ec) > 0 && !ec;
}

void TcpTransport::Close() {
  error_code ec;
  socket_.close(ec);
}

TlsTransport::TlsTransport(asio::ip::tcp::socket socket,
                           std::shared_ptr<asio::ssl::context> context)
    : context_(std::move(context)), stream_(std::move(socket), *context_) {}

void TlsTransport::AsyncHandshake(Handler handler) {
  stream_.async_handshake(asio::ssl::stream_base::server, std::move(handler));
}

void TlsTransport::AsyncReadSome(asio::mutable_buffer buffer, IoHandler handler) {
  stream_.async_read_some(buffer, [handler = std::move(handler)](const error_code& ec, size_t n) {
    handler(ec == asio::ssl::error::stream_truncated ? asio::error::eof : ec, n);
  });
}

size_t TlsTransport::ReadBuffered(asio::mutable_buffer buffer) {
  SSL* s = stream_.native_handle();
  char* data = static_cast<char*>(buffer.data());
  size_t total = 0;
  // Only bytes already in OpenSSL's buffers: SSL_read cannot reach the socket (the BIO is
  // Asio's), so a partial record ends the drain with WANT_READ, kept by OpenSSL for the next
  // Asio read. Any other failure (close_notify, a bad record) stays in the SSL state, and the
  // next Asio read reports it. What SSL_read may write (a TLS 1.3 KeyUpdate's answer) waits
  // in Asio's BIO for the next write, which the frames taken in bring.
  while (total < buffer.size() && (SSL_pending(s) > 0 || BIO_ctrl_pending(SSL_get_rbio(s)) > 0)) {
    size_t n = 0;
    ERR_clear_error();
    if (SSL_read_ex(s, data + total, buffer.size() - total, &n) != 1) break;
    total += n;
  }
  ERR_clear_error();
  return total;
}

void TlsTransport::AsyncWriteSome(asio::const_buffer buffer, IoHandler handler) {
  stream_.async_write_some(buffer, std::move(handler));
}

void TlsTransport::ShutdownReceive() {
  error_code ec;
  socket().shutdown(asio::ip::tcp::socket::shutdown_receive, ec);
}

void TlsTransport::AsyncWaitClose(Handler handler) { stream_.async_shutdown(std::move(handler)); }

bool TlsTransport::ReceivedUnread() {
  SSL* s = stream_.native_handle();
  if (SSL_pending(s) > 0 || BIO_ctrl_pending(SSL_get_rbio(s)) > 0) return true;
  error_code ec;
  return socket().available(ec) > 0 && !ec;
}

void TlsTransport::Close() {
  error_code ec;
  socket().close(ec);
}

}  // namespace shixin
