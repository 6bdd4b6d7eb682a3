// The daemon's TLS server context (OpenSSL through Boost.Asio's ssl::context), built from the
// certificate, key and optional client CA files of the configuration, and the identity of a
// client certificate (docs/shixind.md, "TLS").
//
// TLS 1.2 is the minimum and 1.3 preferred; TLS 1.3 uses OpenSSL's cipher suites, TLS 1.2 only
// ECDHE with AEAD ciphers. With a client CA, a client must present a certificate it signed
// (mutual TLS); without one, no client certificate is requested.
//
// Thread safety: the functions are reentrant; a context, once built, is only read (by the
// connections' handshakes on any thread), and is shared by shared_ptr so that a context
// replaced on SIGHUP lives on for the connections that use it.
#ifndef SHIXIN_DAEMON_TLS_CONTEXT_H_
#define SHIXIN_DAEMON_TLS_CONTEXT_H_

#include <openssl/x509.h>

#include <boost/asio/ssl/context.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace shixin {

// The files a TLS context is built from (the tls_* keys of the configuration).
struct TlsFiles {
  std::string cert;       // PEM: the server certificate, then its chain
  std::string key;        // PEM: the certificate's private key
  std::string client_ca;  // PEM bundle of the CAs that sign client certificates; empty: none
};

// A TLS file larger than this is refused: a CA bundle of every public CA is under 1 MiB, and a
// file the size of a disk must not be read into memory on a SIGHUP.
inline constexpr size_t kMaxTlsFileBytes = size_t{16} << 20;

// Returns a server context for `files`, or InvalidArgument naming the file and the reason: a file
// missing or unreadable, larger than kMaxTlsFileBytes, not a regular file ("not a regular file (a
// FIFO)": a FIFO or a device is refused at once, never waited on), empty, not PEM, holding no block
// of the kind expected ("it holds CERTIFICATE where a PRIVATE KEY is expected"), an encrypted key,
// a malformed block, a key that does not match the certificate, or a client CA bundle with no
// certificate (it would refuse every client).
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const TlsFiles& files);

// When a certificate is valid (Unix seconds).
struct CertificateValidity {
  int64_t not_before = 0;
  int64_t not_after = 0;
};

// Returns the validity of the server certificate of `context` (made by MakeServerTlsContext()),
// or InvalidArgument if it has none or its times cannot be read.
absl::StatusOr<CertificateValidity> ServerCertificateValidity(boost::asio::ssl::context& context);

// Returns what an operator must hear about a server certificate (tls_cert at `path`) valid
// during `validity`, at `now`: that it has expired or is not valid yet (clients refuse the
// handshake), or expires within `kCertificateRenewalDays`; "" otherwise.
inline constexpr int64_t kCertificateRenewalDays = 30;
std::string CertificateValidityWarning(const std::string& path, const CertificateValidity& validity,
                                       int64_t now);

// The identity of a client certificate, as a callers file names it.
struct CertificateIdentity {
  std::string fingerprint;  // "sha256:" + 64 lower-case hex digits of SHA-256 over the DER
  std::string cn;           // the subject's common name; empty if it has none
};

// Returns the identity of `certificate`. REQUIRES: certificate != nullptr.
CertificateIdentity IdentityOf(X509* certificate);

}  // namespace shixin

#endif  // SHIXIN_DAEMON_TLS_CONTEXT_H_
