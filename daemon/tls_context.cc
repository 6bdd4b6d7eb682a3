#include "daemon/tls_context.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <boost/system/error_code.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_format.h"

namespace shixin {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2 only: forward secrecy and authenticated encryption (TLS 1.3's suites are all so).
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Returns OpenSSL's reason for the last failure, or `fallback`.
std::string OpenSslReason(const boost::system::error_code& ec) {
  const unsigned long e = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type
  ERR_clear_error();
  if (e != 0) return ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "unknown error";
  return ec ? ec.message() : "unknown error";
}

absl::Status FileError(std::string_view key, const std::string& path,
                       const boost::system::error_code& ec) {
  // OpenSSL says only "system lib" for a file it cannot open, "PEM lib" for one without PEM.
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    const int error = errno;
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrFormat("%s \"%s\": %s", key, path, std::strerror(error)));
  }
  std::fclose(file);
  std::string reason = OpenSslReason(ec);
  if (reason == "PEM lib" || reason == "no start line") {
    reason = "no PEM data of the kind expected in it (-----BEGIN ...-----)";
  }
  return absl::InvalidArgumentError(absl::StrFormat("%s \"%s\": %s", key, path, reason));
}

}  // namespace

absl::StatusOr<std::shared_ptr<ssl::context>> MakeServerTlsContext(const TlsFiles& files) {
  ERR_clear_error();
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    return absl::InternalError("TLS 1.2 cipher list refused by OpenSSL");
  }
  boost::system::error_code ec;
  if (context->use_certificate_chain_file(files.cert, ec); ec) {
    return FileError("tls_cert", files.cert, ec);
  }
  if (context->use_private_key_file(files.key, ssl::context::pem, ec); ec) {
    // Asio puts the OpenSSL error code in `ec`.
    if (ERR_GET_REASON(static_cast<uint32_t>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return absl::InvalidArgumentError(
          absl::StrFormat("tls_key \"%s\" does not match tls_cert \"%s\"", files.key, files.cert));
    }
    return FileError("tls_key", files.key, ec);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("tls_key \"%s\" does not match tls_cert \"%s\": %s", files.key, files.cert,
                        OpenSslReason({})));
  }
  if (!files.client_ca.empty()) {
    if (context->load_verify_file(files.client_ca, ec); ec) {
      return FileError("tls_client_ca", files.client_ca, ec);
    }
    // Names the accepted CAs in the certificate request, so clients pick the right certificate.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca.c_str())) {
      SSL_CTX_set_client_CA_list(ctx, names);
    }
    context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
  } else {
    context->set_verify_mode(ssl::verify_none, ec);
  }
  if (ec) return absl::InternalError(absl::StrFormat("TLS verify mode: %s", ec.message()));
  // Session resumption stays on (tickets): a reconnecting client skips the full handshake.
  static constexpr unsigned char kSessionContext[] = "shixind";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  return context;
}

CertificateIdentity IdentityOf(X509* certificate) {
  CertificateIdentity identity;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(certificate, EVP_sha256(), digest, &size) == 1) {
    static constexpr char kHex[] = "0123456789abcdef";
    identity.fingerprint = "sha256:";
    for (unsigned int i = 0; i < size; ++i) {
      identity.fingerprint += kHex[digest[i] >> 4];
      identity.fingerprint += kHex[digest[i] & 15];
    }
  }
  X509_NAME* subject = X509_get_subject_name(certificate);
  const int index = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
  if (index >= 0) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, data);
    if (length >= 0) identity.cn.assign(reinterpret_cast<char*>(utf8), length);
    OPENSSL_free(utf8);
  }
  return identity;
}

}  // namespace shixin
