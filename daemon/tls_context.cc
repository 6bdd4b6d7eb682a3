#include "daemon/tls_context.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>
#include <ctime>
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "core/paths.h"

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

// Returns the bytes of the file `path` (configured as `key`), read as every configured file is:
// a FIFO or a device fails at once instead of blocking the signal thread (core/paths.h), a file
// beyond kMaxTlsFileBytes without reading it.
absl::StatusOr<std::string> ReadTlsFile(std::string_view key, const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadRegularFile(path, kMaxTlsFileBytes);
  if (bytes.ok()) return bytes;
  absl::string_view reason = bytes.status().message();
  absl::ConsumePrefix(&reason, path + ": ");
  return absl::InvalidArgumentError(absl::StrFormat("%s \"%s\": %s", key, path, reason));
}

// Returns the error of a file that was read but that OpenSSL refused.
absl::Status PemError(std::string_view key, const std::string& path,
                      const boost::system::error_code& ec) {
  std::string reason = OpenSslReason(ec);
  if (reason == "PEM lib" || reason == "no start line") {
    reason = "no PEM data of the kind expected in it (-----BEGIN ...-----)";
  }
  return absl::InvalidArgumentError(absl::StrFormat("%s \"%s\": %s", key, path, reason));
}

// Returns the labels of the PEM blocks in `pem` ("CERTIFICATE" for -----BEGIN CERTIFICATE-----).
std::vector<std::string_view> PemLabels(std::string_view pem) {
  static constexpr std::string_view kBegin = "-----BEGIN ";
  std::vector<std::string_view> labels;
  for (size_t at = pem.find(kBegin); at != std::string_view::npos; at = pem.find(kBegin, at)) {
    at += kBegin.size();
    const size_t end = pem.find("-----", at);
    if (end == std::string_view::npos) break;
    labels.push_back(pem.substr(at, end - at));
  }
  return labels;
}

// Returns why the file `pem` cannot hold what `wanted` names ("PRIVATE KEY", "CERTIFICATE"), or
// "" when it has a block of that kind (OpenSSL then says what is wrong with it). OpenSSL's own
// reasons for these ("unsupported", "passed a null parameter", "no start line") name none.
std::string PemProblem(std::string_view pem, std::string_view wanted) {
  if (pem.empty()) return "the file is empty";
  const std::vector<std::string_view> labels = PemLabels(pem);
  if (labels.empty()) {
    const bool binary = pem.find('\0') != std::string_view::npos;
    return absl::StrFormat("not PEM: no -----BEGIN %s----- line in it%s", wanted,
                           binary ? " (binary data)" : "");
  }
  const bool key = wanted == "PRIVATE KEY";
  for (std::string_view label : labels) {
    // Refused here: OpenSSL would ask a terminal for the passphrase.
    if (key && (label == "ENCRYPTED PRIVATE KEY" ||
                pem.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos)) {
      return "the private key is encrypted: shixind needs it unencrypted (openssl pkey -in FILE "
             "-out NEW)";
    }
    if (key ? label.ends_with("PRIVATE KEY") : label.ends_with("CERTIFICATE")) {
      return "";
    }
  }
  std::vector<std::string> found;
  for (std::string_view label : labels) {
    if (std::find(found.begin(), found.end(), label) == found.end()) found.emplace_back(label);
  }
  return absl::StrFormat("it holds %s where a %s is expected", absl::StrJoin(found, ", "), wanted);
}

// Returns the error of a file of `wanted` blocks (PemProblem() found one) that OpenSSL refused.
absl::Status BlockError(std::string_view key, const std::string& path, std::string_view wanted,
                        const boost::system::error_code& ec) {
  const std::string reason = OpenSslReason(ec);
  if (reason == "PEM lib" || reason == "no start line") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s \"%s\": its %s block is malformed (no -----END %s----- line, or not base64)", key, path,
        wanted, wanted));
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("%s \"%s\": its %s cannot be read: %s", key, path, wanted, reason));
}

// Names the CAs of the PEM bundle `pem` in the certificate request, so that clients pick the
// right certificate (SSL_load_client_CA_file() for bytes already read). Returns how many.
int SetClientCaNames(SSL_CTX* ctx, const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return 0;
  int count = 0;
  while (X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    SSL_CTX_add_client_CA(ctx, certificate);  // copies the subject name
    X509_free(certificate);
    ++count;
  }
  BIO_free(bio);
  ERR_clear_error();  // the end of the bundle reads as "no start line"
  return count;
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
  // Read here, not by OpenSSL, which would block on a FIFO.
  absl::StatusOr<std::string> cert = ReadTlsFile("tls_cert", files.cert);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadTlsFile("tls_key", files.key);
  if (!key.ok()) return key.status();
  for (const auto& [name, path, bytes, wanted] :
       {std::tuple("tls_cert", &files.cert, &*cert, "CERTIFICATE"),
        std::tuple("tls_key", &files.key, &*key, "PRIVATE KEY")}) {
    if (std::string problem = PemProblem(*bytes, wanted); !problem.empty()) {
      return absl::InvalidArgumentError(absl::StrFormat("%s \"%s\": %s", name, *path, problem));
    }
  }
  boost::system::error_code ec;
  if (context->use_certificate_chain(boost::asio::buffer(*cert), ec); ec) {
    return BlockError("tls_cert", files.cert, "CERTIFICATE", ec);
  }
  if (context->use_private_key(boost::asio::buffer(*key), ssl::context::pem, ec); ec) {
    // Asio puts the OpenSSL error code in `ec`.
    if (ERR_GET_REASON(static_cast<uint32_t>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return absl::InvalidArgumentError(
          absl::StrFormat("tls_key \"%s\" does not match tls_cert \"%s\"", files.key, files.cert));
    }
    return BlockError("tls_key", files.key, "PRIVATE KEY", ec);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("tls_key \"%s\" does not match tls_cert \"%s\": %s", files.key, files.cert,
                        OpenSslReason({})));
  }
  if (!files.client_ca.empty()) {
    absl::StatusOr<std::string> client_ca = ReadTlsFile("tls_client_ca", files.client_ca);
    if (!client_ca.ok()) return client_ca.status();
    if (context->add_certificate_authority(boost::asio::buffer(*client_ca), ec); ec) {
      return PemError("tls_client_ca", files.client_ca, ec);
    }
    // Asio takes an empty file without a word: every client would then be refused, the
    // RELOAD of an operator's mutual-TLS client too.
    if (SetClientCaNames(ctx, *client_ca) == 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "tls_client_ca \"%s\": no certificate in it%s: it would refuse every client",
          files.client_ca, client_ca->empty() ? " (the file is empty)" : ""));
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

absl::StatusOr<CertificateValidity> ServerCertificateValidity(ssl::context& context) {
  const X509* certificate = SSL_CTX_get0_certificate(context.native_handle());
  if (certificate == nullptr) return absl::InvalidArgumentError("no server certificate");
  const auto seconds = [](const ASN1_TIME* t) -> std::optional<int64_t> {
    struct tm tm {};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
    return static_cast<int64_t>(timegm(&tm));
  };
  const std::optional<int64_t> from = seconds(X509_get0_notBefore(certificate));
  const std::optional<int64_t> to = seconds(X509_get0_notAfter(certificate));
  if (!from || !to) return absl::InvalidArgumentError("unreadable certificate validity");
  return CertificateValidity{*from, *to};
}

std::string CertificateValidityWarning(const std::string& path, const CertificateValidity& validity,
                                       int64_t now) {
  const auto utc = [](int64_t t) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(t), absl::UTCTimeZone());
  };
  if (now >= validity.not_after) {
    return absl::StrFormat(
        "tls_cert \"%s\" expired at %s: TLS clients refuse the handshake; renew it and send "
        "SIGHUP",
        path, utc(validity.not_after));
  }
  if (now < validity.not_before) {
    return absl::StrFormat(
        "tls_cert \"%s\" is not valid before %s: TLS clients refuse the "
        "handshake until then",
        path, utc(validity.not_before));
  }
  const int64_t days = (validity.not_after - now) / 86400;
  if (days < kCertificateRenewalDays) {
    const std::string in = days == 0   ? "within a day"
                           : days == 1 ? "in 1 day"
                                       : absl::StrFormat("in %d days", days);
    return absl::StrFormat("tls_cert \"%s\" expires at %s, %s: renew it and send SIGHUP", path,
                           utc(validity.not_after), in);
  }
  return "";
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
