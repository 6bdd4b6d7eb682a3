// The Client's byte transport: plain TCP (send/recv on the blocking socket, without waiting),
// or TLS through OpenSSL on the same socket made non-blocking. Both wait with poll() until the
// call's deadline.
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_format.h"
#include "base/host_port.h"
#include "base/socket.h"
#include "base/status_macros.h"
#include "protocol/client.h"

namespace shixin {
namespace {

// Returns OpenSSL's queued reason ("certificate verify failed"), or `fallback`.
std::string OpenSslReason(std::string_view fallback) {
  const unsigned long e = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type
  ERR_clear_error();
  const char* reason = e != 0 ? ERR_reason_error_string(e) : nullptr;
  return reason != nullptr ? reason : std::string(fallback);
}

// Returns whether OpenSSL's queued error is an alert of the server refusing this client's
// certificate (the only one a client sends).
bool ClientCertificateRefused() {
  switch (ERR_GET_REASON(ERR_peek_error())) {
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
      return true;
    default:
      return false;
  }
}

// Waits as OpenSSL asks after `result` of an SSL call on `fd`: OK to retry, or the error
// (Unauthenticated for the server's refusal of this client's certificate: no retry will do).
// `closed` is set when the peer ended the connection (close_notify, or EOF without it).
absl::Status WaitForSsl(SSL* ssl, int fd, int result, absl::Time deadline, std::string_view what,
                        bool* closed) {
  const int error = SSL_get_error(ssl, result);
  switch (error) {
    case SSL_ERROR_WANT_READ:
      return PollUntil(fd, POLLIN, deadline);
    case SSL_ERROR_WANT_WRITE:
      return PollUntil(fd, POLLOUT, deadline);
    case SSL_ERROR_ZERO_RETURN:
      *closed = true;
      return absl::OkStatus();
    case SSL_ERROR_SYSCALL:
      if (errno == EINTR) return absl::OkStatus();
      if (ERR_peek_error() == 0 && errno == 0) {  // EOF without close_notify
        *closed = true;
        return absl::OkStatus();
      }
      if (ERR_peek_error() == 0) return SocketError(what, errno);
      [[fallthrough]];
    default:
      if (ClientCertificateRefused()) {
        // TLS 1.3: after the handshake, at the first read or write.
        return absl::UnauthenticatedError(
            absl::StrFormat("%s: the server refused this client's certificate (%s)", what,
                            OpenSslReason("TLS alert")));
      }
      return absl::UnavailableError(absl::StrFormat("%s: %s", what, OpenSslReason("TLS error")));
  }
}

absl::Status ContextError(std::string_view what, const std::string& path) {
  return absl::InvalidArgumentError(
      absl::StrFormat("%s \"%s\": %s", what, path, OpenSslReason("cannot be read")));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(std::string_view address,
                                                        const TlsOptions& tls,
                                                        absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  SHIXIN_ASSIGN_OR_RETURN(const int fd, ConnectTcp(address, deadline));
  std::unique_ptr<Client> client(new Client(fd, address, tls, timeout));
  if (tls.enabled) SHIXIN_RETURN_IF_ERROR(client->StartTls(address, tls, deadline));
  return client;
}

Client::~Client() {
  if (ssl_ != nullptr && fd_ >= 0) SSL_shutdown(ssl_);  // close_notify, without waiting
  Close();
}

void Client::Close() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
  ssl_ = nullptr;
  ssl_ctx_ = nullptr;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  buffer_.clear();
  queued_.clear();
}

std::string Client::tls_version() const { return ssl_ != nullptr ? SSL_get_version(ssl_) : ""; }

absl::Status Client::StartTls(std::string_view address, const TlsOptions& tls,
                              absl::Time deadline) {
  ERR_clear_error();
  ssl_ctx_ = SSL_CTX_new(TLS_client_method());
  if (ssl_ctx_ == nullptr) return absl::InternalError("TLS: " + OpenSslReason("no context"));
  SSL_CTX_set_min_proto_version(ssl_ctx_, TLS1_2_VERSION);
  // A server that closes without close_notify has ended the stream (frames carry their length,
  // so a cut one is seen as such).
  SSL_CTX_set_options(ssl_ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_verify(ssl_ctx_, SSL_VERIFY_PEER, nullptr);
  if (tls.ca_file.empty()
          ? SSL_CTX_set_default_verify_paths(ssl_ctx_) != 1
          : SSL_CTX_load_verify_locations(ssl_ctx_, tls.ca_file.c_str(), nullptr) != 1) {
    return ContextError("TLS CA file", tls.ca_file);
  }
  if (!tls.cert_file.empty() || !tls.key_file.empty()) {
    if (tls.cert_file.empty() || tls.key_file.empty()) {
      return absl::InvalidArgumentError("a TLS client certificate needs both its file and its key");
    }
    if (SSL_CTX_use_certificate_chain_file(ssl_ctx_, tls.cert_file.c_str()) != 1) {
      return ContextError("TLS certificate", tls.cert_file);
    }
    if (SSL_CTX_use_PrivateKey_file(ssl_ctx_, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return ContextError("TLS key", tls.key_file);
    }
    if (SSL_CTX_check_private_key(ssl_ctx_) != 1) {
      return ContextError("TLS key (does not match the certificate)", tls.key_file);
    }
  }
  std::string name = tls.server_name;
  if (name.empty()) {
    SHIXIN_ASSIGN_OR_RETURN(const HostPort host_port,
                            ParseHostPort(address, "address", PortZero::kRefuse));
    name = host_port.host;
  }
  ssl_ = SSL_new(ssl_ctx_);
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) {
    return absl::InternalError("TLS: " + OpenSslReason("no connection"));
  }
  // An IP address is checked against the certificate's IP entries, a name against its DNS
  // entries (and sent as SNI).
  if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str()) != 1) {
    ERR_clear_error();
    SSL_set_tlsext_host_name(ssl_, name.c_str());
    if (SSL_set1_host(ssl_, name.c_str()) != 1) {
      return absl::InvalidArgumentError(absl::StrFormat("TLS server name \"%s\" refused", name));
    }
  }
  const int flags = fcntl(fd_, F_GETFL);
  if (flags < 0 || fcntl(fd_, F_SETFL, flags | O_NONBLOCK) < 0) return SocketError("fcntl", errno);
  for (;;) {
    const int result = SSL_connect(ssl_);
    if (result == 1) return absl::OkStatus();
    bool closed = false;
    absl::Status s = WaitForSsl(ssl_, fd_, result, deadline, "TLS handshake", &closed);
    if (s.ok() && closed) s = absl::UnavailableError("TLS handshake: connection closed");
    if (!s.ok()) {
      const long verify = SSL_get_verify_result(ssl_);  // NOLINT(google-runtime-int)
      if (verify != X509_V_OK) {
        s = absl::UnavailableError(absl::StrFormat("TLS handshake: the server's certificate: %s",
                                                   X509_verify_cert_error_string(verify)));
      } else if (absl::IsDeadlineExceeded(s)) {
        s = absl::UnavailableError("TLS handshake: timed out");
      }
      return s;
    }
  }
}

absl::StatusOr<size_t> Client::SendSome(std::string_view bytes, absl::Time deadline) {
  for (;;) {
    if (ssl_ != nullptr) {
      ERR_clear_error();
      const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
      if (n > 0) return static_cast<size_t>(n);
      bool closed = false;
      SHIXIN_RETURN_IF_ERROR(WaitForSsl(ssl_, fd_, n, deadline, "send", &closed));
      if (closed) return absl::UnavailableError("send: connection closed by the server");
      continue;
    }
    const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) return static_cast<size_t>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      SHIXIN_RETURN_IF_ERROR(PollUntil(fd_, POLLOUT, deadline));
    } else if (errno != EINTR) {
      return SocketError("send", errno);
    }
  }
}

absl::StatusOr<size_t> Client::ReceiveSome(char* data, size_t size, absl::Time deadline) {
  for (;;) {
    if (ssl_ != nullptr) {
      ERR_clear_error();
      const int n = SSL_read(ssl_, data, static_cast<int>(size));
      if (n > 0) return static_cast<size_t>(n);
      bool closed = false;
      SHIXIN_RETURN_IF_ERROR(WaitForSsl(ssl_, fd_, n, deadline, "recv", &closed));
      if (closed) return 0;
      continue;
    }
    const ssize_t n = recv(fd_, data, size, MSG_DONTWAIT);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      SHIXIN_RETURN_IF_ERROR(PollUntil(fd_, POLLIN, deadline));
    } else if (errno != EINTR) {
      return SocketError("recv", errno);
    }
  }
}

}  // namespace shixin
