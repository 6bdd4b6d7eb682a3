#include "tests/tls_certs.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <fstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace shixin::tls_test {
namespace {

using KeyPtr = std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)>;
using CertPtr = std::unique_ptr<X509, void (*)(X509*)>;

absl::Status OpenSslError(std::string_view what) {
  const unsigned long e = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type
  ERR_clear_error();
  return absl::InternalError(
      absl::StrFormat("%s: %s", what, e != 0 ? ERR_error_string(e, nullptr) : "failed"));
}

KeyPtr NewKey() { return KeyPtr(EVP_EC_gen("P-256"), EVP_PKEY_free); }

std::string ToPem(X509* certificate) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, certificate);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);  // NOLINT(google-runtime-int)
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  return pem;
}

std::string ToPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);  // NOLINT(google-runtime-int)
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  return pem;
}

// Adds extension `nid` = `value` (openssl.cnf syntax) to `certificate`, issued by `issuer`.
bool AddExtension(X509* certificate, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  if (extension == nullptr) return false;
  const bool ok = X509_add_ext(certificate, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return ok;
}

// Returns a certificate for `key` named `cn`, valid from `not_before` to `not_after` (seconds
// from now), with serial `serial`, not yet signed.
CertPtr NewCertificate(EVP_PKEY* key, const std::string& cn, int64_t not_before, int64_t not_after,
                       int64_t serial) {
  CertPtr certificate(X509_new(), X509_free);
  X509_set_version(certificate.get(), 2);
  ASN1_INTEGER_set_int64(X509_get_serialNumber(certificate.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), not_before);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), not_after);
  X509_set_pubkey(certificate.get(), key);
  X509_NAME* name = X509_get_subject_name(certificate.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return certificate;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestCa>> TestCa::Make(const std::string& cn) {
  std::unique_ptr<TestCa> ca(new TestCa());
  ca->key_ = NewKey();
  if (ca->key_ == nullptr) return OpenSslError("CA key");
  ca->certificate_ = NewCertificate(ca->key_.get(), cn, -3600, 10 * 86400, ca->serial_++);
  X509* c = ca->certificate_.get();
  X509_set_issuer_name(c, X509_get_subject_name(c));
  if (!AddExtension(c, c, NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExtension(c, c, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !AddExtension(c, c, NID_subject_key_identifier, "hash") ||
      X509_sign(c, ca->key_.get(), EVP_sha256()) == 0) {
    return OpenSslError("CA certificate");
  }
  ca->pem_ = Pem{ToPem(c), ToPem(ca->key_.get())};
  return ca;
}

absl::StatusOr<Pem> TestCa::Issue(const CertRequest& request) {
  KeyPtr key = NewKey();
  if (key == nullptr) return OpenSslError("key");
  CertPtr certificate =
      NewCertificate(key.get(), request.cn, request.not_before, request.not_after, serial_++);
  X509* c = certificate.get();
  X509_set_issuer_name(c, X509_get_subject_name(certificate_.get()));
  std::vector<std::string> names;
  for (const std::string& dns : request.dns) names.push_back("DNS:" + dns);
  for (const std::string& ip : request.ips) names.push_back("IP:" + ip);
  bool ok = AddExtension(c, certificate_.get(), NID_basic_constraints, "critical,CA:FALSE") &&
            AddExtension(c, certificate_.get(), NID_key_usage, "critical,digitalSignature") &&
            AddExtension(c, certificate_.get(), NID_ext_key_usage,
                         request.server ? "serverAuth" : "clientAuth") &&
            AddExtension(c, certificate_.get(), NID_authority_key_identifier, "keyid:always");
  if (ok && !names.empty()) {
    ok = AddExtension(c, certificate_.get(), NID_subject_alt_name, absl::StrJoin(names, ","));
  }
  if (!ok || X509_sign(c, key_.get(), EVP_sha256()) == 0) return OpenSslError("certificate");
  return Pem{ToPem(c), ToPem(key.get())};
}

absl::Status WritePem(const Pem& pem, const std::string& certificate_path,
                      const std::string& key_path) {
  for (const auto& [path, text] :
       {std::pair{&certificate_path, &pem.certificate}, std::pair{&key_path, &pem.key}}) {
    std::ofstream out(*path, std::ios::binary | std::ios::trunc);
    out << *text;
    out.close();
    if (!out) return absl::InternalError(absl::StrFormat("cannot write %s", *path));
  }
  return absl::OkStatus();
}

}  // namespace shixin::tls_test
