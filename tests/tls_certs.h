// Test certificates made at run time with the OpenSSL C API: a CA that issues server and
// client certificates (EC P-256, SHA-256), valid or expired, written as PEM files. Nothing here
// is for real use, and no private key is committed.
//
// Thread safety: a TestCa is used by one thread at a time.
#ifndef SHIXIN_TESTS_TLS_CERTS_H_
#define SHIXIN_TESTS_TLS_CERTS_H_

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace shixin::tls_test {

// A certificate and its private key, PEM.
struct Pem {
  std::string certificate;
  std::string key;
};

// What a certificate is issued for.
struct CertRequest {
  std::string cn;
  std::vector<std::string> dns;  // subjectAltName DNS entries
  std::vector<std::string> ips;  // subjectAltName IP entries
  bool server = false;           // serverAuth, else clientAuth
  int64_t not_before = -3600;    // seconds from now
  int64_t not_after = 86400;     // seconds from now; negative: expired
};

class TestCa {
 public:
  // Returns a self-signed CA named `cn`, or Internal with OpenSSL's reason.
  static absl::StatusOr<std::unique_ptr<TestCa>> Make(const std::string& cn);

  // Returns a certificate this CA signed for `request`, with a fresh key.
  absl::StatusOr<Pem> Issue(const CertRequest& request);
  // The CA's own certificate (and key).
  const Pem& pem() const { return pem_; }

 private:
  TestCa() = default;

  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key_{nullptr, EVP_PKEY_free};
  std::unique_ptr<X509, void (*)(X509*)> certificate_{nullptr, X509_free};
  Pem pem_;
  int64_t serial_ = 1;
};

// Writes `pem` to `certificate_path` and `key_path`.
absl::Status WritePem(const Pem& pem, const std::string& certificate_path,
                      const std::string& key_path);

}  // namespace shixin::tls_test

#endif  // SHIXIN_TESTS_TLS_CERTS_H_
