// End-to-end tests of shixind's TLS listener (docs/shixind.md, "TLS") with certificates made
// in the test (tls_certs.h): a TLS 1.3 round trip, mutual TLS and the client identity, client
// certificates refused (none, expired, another CA's), plain and TLS clients on the wrong port,
// handshakes never finished giving way at the connection limit, and SIGHUP replacing the
// certificate (or keeping the old one when the new one is broken or a FIFO).
// Also unit tests of the TLS context, the certificate identity and the TLS configuration keys.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "core/paths.h"
#include "daemon/config.h"
#include "daemon/tls_context.h"
#include "tests/daemon_harness.h"
#include "tests/tls_certs.h"

namespace shixin::e2e {
namespace {

using tls_test::CertRequest;
using tls_test::Pem;
using tls_test::TestCa;

constexpr char kListed[] = "11010519491231002X";

// Returns the X509 of a PEM certificate (freed by the caller).
X509* ParseCertificate(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return certificate;
}

// The fingerprint of a PEM certificate, computed here apart from tls_context.cc.
std::string Fingerprint(const std::string& pem) {
  X509* certificate = ParseCertificate(pem);
  unsigned char* der = nullptr;
  const int size = i2d_X509(certificate, &der);
  unsigned char digest[32];
  unsigned int digest_size = 0;
  EVP_Digest(der, static_cast<size_t>(size), digest, &digest_size, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  X509_free(certificate);
  std::string text = "sha256:";
  for (unsigned int i = 0; i < digest_size; ++i) text += absl::StrFormat("%02x", digest[i]);
  return text;
}

// What a client certificate for `cn` is issued for, valid from `not_before` to `not_after`
// (seconds from now).
CertRequest ClientCert(const std::string& cn, int64_t not_before = -3600,
                       int64_t not_after = 86400) {
  CertRequest request;
  request.cn = cn;
  request.not_before = not_before;
  request.not_after = not_after;
  return request;
}

// What a server certificate for `cn` at `ips` (and localhost) is issued for.
CertRequest ServerCert(const std::string& cn, std::vector<std::string> ips) {
  CertRequest request;
  request.cn = cn;
  request.dns = {"localhost"};
  request.ips = std::move(ips);
  request.server = true;
  return request;
}

// A FIFO at `path` that no one writes to (an operator's mistake). From `release` on, a writer
// opens it and closes it at once every 50 ms: code that blocks opening it (the bug) then reads
// nothing and fails, instead of hanging the test.
class Fifo {
 public:
  Fifo(const std::string& path, absl::Duration release) {
    unlink(path.c_str());
    ok_ = mkfifo(path.c_str(), 0600) == 0;
    releaser_ = std::thread([this, path, release] {
      const absl::Time from = absl::Now() + release;
      for (; !done_; absl::SleepFor(absl::Milliseconds(50))) {
        if (absl::Now() < from) continue;
        const int fd = open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);  // ENXIO: no reader
        if (fd >= 0) close(fd);
      }
    });
  }
  ~Fifo() {
    done_ = true;
    releaser_.join();
  }
  Fifo(const Fifo&) = delete;
  Fifo& operator=(const Fifo&) = delete;

  bool ok() const { return ok_; }

 private:
  bool ok_ = false;
  std::atomic<bool> done_{false};
  std::thread releaser_;
};

class DaemonTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = TestCa::Make("shixin test CA");
    auto other = TestCa::Make("another CA");
    ASSERT_TRUE(ca.ok() && other.ok());
    ca_ = *std::move(ca);
    other_ca_ = *std::move(other);
    auto server = ca_->Issue(ServerCert("shixind", {"127.0.0.1", "::1"}));
    ASSERT_TRUE(server.ok()) << server.status();
    ASSERT_TRUE(tls_test::WritePem(*server, Path("server.pem"), Path("server.key")).ok());
    ASSERT_TRUE(WriteCa(ca_->pem(), "ca.pem").ok());
    ASSERT_TRUE(WriteCa(other_ca_->pem(), "other-ca.pem").ok());
    auto good = ca_->Issue(ClientCert("bank-a"));
    auto expired = ca_->Issue(ClientCert("old", -172800, -86400));
    auto foreign = other_ca_->Issue(ClientCert("bank-a"));
    ASSERT_TRUE(good.ok() && expired.ok() && foreign.ok());
    good_ = *good;
    ASSERT_TRUE(tls_test::WritePem(*good, Path("good.pem"), Path("good.key")).ok());
    ASSERT_TRUE(tls_test::WritePem(*expired, Path("expired.pem"), Path("expired.key")).ok());
    ASSERT_TRUE(tls_test::WritePem(*foreign, Path("foreign.pem"), Path("foreign.key")).ok());
  }

  std::string Path(std::string_view name) const { return scratch_.Path(name); }

  absl::Status WriteCa(const Pem& pem, std::string_view name) {
    return WriteFileAtomically(Path(name), pem.certificate);
  }

  // Starts shixind with a TLS listener (and a plain one unless `tls_only`): clients need a
  // certificate when `mutual`.
  void StartDaemon(bool mutual, bool tls_only = true, std::vector<std::string> flags = {}) {
    // Port 0: the daemon picks a free port and prints it (a port found free beforehand may be
    // taken by another test's connection before the daemon binds it).
    for (std::string flag :
         {"--tls-listen", "127.0.0.1:0", "--tls-cert", "", "--tls-key", "", "--verbose"}) {
      flags.push_back(flag);
    }
    flags[flags.size() - 4] = Path("server.pem");
    flags[flags.size() - 2] = Path("server.key");
    if (mutual) {
      flags.push_back("--tls-client-ca");
      flags.push_back(Path("ca.pem"));
    }
    daemon_ = StartOrDie(SampleDir(), flags, tls_only ? "" : "127.0.0.1:0");
    ASSERT_NE(daemon_, nullptr);
    // The plain listener's line comes first.
    tls_address_ = tls_only ? daemon_->address() : daemon_->second_address();
    ASSERT_FALSE(tls_address_.empty());
  }

  // TLS options trusting `ca` (a file name in the scratch directory), with the client
  // certificate `client` ("good", "expired", "foreign") or none.
  TlsOptions Tls(std::string_view ca = "ca.pem", std::string_view client = "") const {
    TlsOptions tls;
    tls.enabled = true;
    tls.ca_file = Path(ca);
    if (!client.empty()) {
      tls.cert_file = Path(absl::StrFormat("%s.pem", client));
      tls.key_file = Path(absl::StrFormat("%s.key", client));
    }
    return tls;
  }

  // The TLS listener's port.
  uint16_t TlsPort() const {
    uint32_t port = 0;
    EXPECT_TRUE(absl::SimpleAtoi(tls_address_.substr(tls_address_.rfind(':') + 1), &port));
    return static_cast<uint16_t>(port);
  }

  // Waits up to 10 s for `text` in the daemon's standard error.
  bool WaitForLog(const std::string& text) const { return daemon_->WaitForStderr(text); }

  // Expects a client with `tls` to be refused: at the handshake, or at its first request
  // (TLS 1.3 ends the client's handshake before the server has checked its certificate), once
  // (a new connection would be refused the same way) and said so.
  void ExpectRefused(const TlsOptions& tls) {
    const absl::Time start = absl::Now();
    auto client = Client::Connect(tls_address_, tls, absl::Seconds(5));
    absl::Status refused = client.status();
    if (client.ok()) {
      (*client)->set_timeout(absl::Seconds(5));
      refused = (*client)->Hello("test").status();
      EXPECT_EQ((*client)->reconnects(), 0u);
    }
    EXPECT_TRUE(absl::IsUnauthenticated(refused)) << refused;
    EXPECT_TRUE(
        absl::StrContains(refused.message(), "the server refused this client's certificate"))
        << refused;
    EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  }

  ScratchDir scratch_;
  std::unique_ptr<TestCa> ca_;
  std::unique_ptr<TestCa> other_ca_;
  Pem good_;
  std::string tls_address_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(DaemonTlsTest, RoundTripNegotiatesTls13) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(/*mutual=*/false));
  auto client = Client::Connect(tls_address_, Tls());
  ASSERT_TRUE(client.ok()) << client.status() << daemon_->stderr_text();
  EXPECT_EQ((*client)->tls_version(), "TLSv1.3");
  ASSERT_TRUE((*client)->Hello("tls-test").ok());
  auto check = (*client)->Check({kListed, "110101198001010011"});
  ASSERT_TRUE(check.ok()) << check.status();
  ASSERT_EQ(check->value.size(), 2u);
  EXPECT_EQ(check->value[0].status, wire::CheckStatus::kListed);
  // Pipelined frames over TLS.
  for (uint32_t id = 1; id <= 20; ++id) {
    ASSERT_TRUE((*client)->SendFrame(wire::Opcode::kPing, id, "").ok());
  }
  for (uint32_t id = 1; id <= 20; ++id) {
    auto frame = (*client)->ReceiveFrame();
    ASSERT_TRUE(frame.ok()) << frame.status();
    EXPECT_EQ(frame->header.request_id, id);
  }
  // A batch in one record, and records that arrive together: answered in order.
  for (uint32_t id = 21; id <= 60; ++id) {
    ASSERT_TRUE((*client)->QueueFrame(wire::Opcode::kPing, id, "").ok());
    if (id % 10 == 0) {
      ASSERT_TRUE((*client)->Flush().ok());
    }
  }
  for (uint32_t id = 21; id <= 60; ++id) {
    auto frame = (*client)->ReceiveFrame();
    ASSERT_TRUE(frame.ok()) << frame.status();
    EXPECT_EQ(frame->header.request_id, id);
  }
  EXPECT_TRUE(WaitForLog("TLSv1.3")) << daemon_->stderr_text();
}

TEST_F(DaemonTlsTest, ServerNameIsVerified) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(/*mutual=*/false));
  TlsOptions named = Tls();
  named.server_name = "localhost";
  auto ok = Client::Connect(tls_address_, named);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE((*ok)->Ping().ok());
  TlsOptions wrong_name = Tls();
  wrong_name.server_name = "shixin.example.com";
  auto refused = Client::Connect(tls_address_, wrong_name);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "certificate")) << refused.status();
  auto untrusted = Client::Connect(tls_address_, Tls("other-ca.pem"));
  ASSERT_FALSE(untrusted.ok());
  EXPECT_TRUE(absl::IsUnavailable(untrusted.status())) << untrusted.status();
}

TEST_F(DaemonTlsTest, MutualTlsIdentityReachesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(/*mutual=*/true));
  auto client = Client::Connect(tls_address_, Tls("ca.pem", "good"));
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Hello("bank").ok()) << daemon_->stderr_text();
  ASSERT_TRUE((*client)->Check({kListed}).ok());
  const std::string expected =
      absl::StrFormat("client certificate %s (CN \"bank-a\")", Fingerprint(good_.certificate));
  EXPECT_TRUE(WaitForLog(expected)) << expected << "\n" << daemon_->stderr_text();
}

TEST_F(DaemonTlsTest, ClientCertificateRequiredWithClientCa) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(/*mutual=*/true));
  ExpectRefused(Tls());
  EXPECT_TRUE(WaitForLog("TLS: ")) << daemon_->stderr_text();
}

TEST_F(DaemonTlsTest, ExpiredClientCertificateRefused) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(/*mutual=*/true));
  ExpectRefused(Tls("ca.pem", "expired"));
  EXPECT_TRUE(WaitForLog("(certificate has expired)")) << daemon_->stderr_text();
}

TEST_F(DaemonTlsTest, ClientCertificateOfAnotherCaRefused) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(/*mutual=*/true));
  ExpectRefused(Tls("ca.pem", "foreign"));
  EXPECT_TRUE(WaitForLog("(unable to get local issuer certificate)")) << daemon_->stderr_text();
  // The daemon still serves a good client.
  auto client = Client::Connect(tls_address_, Tls("ca.pem", "good"));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE((*client)->Ping().ok());
}

TEST_F(DaemonTlsTest, PlainClientOnTheTlsPortGetsNoAnswer) {
  ASSERT_NO_FATAL_FAILURE(
      StartDaemon(/*mutual=*/false, /*tls_only=*/true, {"--frame-timeout-seconds", "1"}));
  // A plain request: not a ClientHello, refused with at most a TLS alert.
  auto raw = RawSocket::Connect(daemon_->host(), daemon_->port());
  ASSERT_TRUE(raw.ok()) << raw.status();
  ASSERT_TRUE((*raw)->Send(RequestFrame(wire::Opcode::kPing, 1, "")).ok());
  RawSocket::ReadResult result = (*raw)->ReadUntilClose(absl::Seconds(5));
  EXPECT_NE(result.end, RawSocket::End::kTimeout);
  EXPECT_TRUE(result.bytes.empty() || result.bytes[0] == 0x15) << result.bytes.size();
  // A client that sends nothing is closed after frame_timeout.
  auto silent = RawSocket::Connect(daemon_->host(), daemon_->port());
  ASSERT_TRUE(silent.ok()) << silent.status();
  result = (*silent)->ReadUntilClose(absl::Seconds(5));
  EXPECT_NE(result.end, RawSocket::End::kTimeout);
  EXPECT_TRUE(result.bytes.empty());
  EXPECT_GE(result.elapsed, absl::Milliseconds(900));
}

TEST_F(DaemonTlsTest, TlsClientOnThePlainPortFailsCleanly) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(/*mutual=*/false, /*tls_only=*/false));
  const absl::Time start = absl::Now();
  auto client = Client::Connect(daemon_->address(), Tls(), absl::Seconds(5));
  EXPECT_FALSE(client.ok());
  EXPECT_TRUE(absl::IsUnavailable(client.status())) << client.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));
  // What it is sent (FORMAT.md 1 and 2): the fatal BAD_FRAME answer to a bad magic byte.
  auto raw = RawSocket::Connect(daemon_->host(), daemon_->port());
  ASSERT_TRUE(raw.ok()) << raw.status();
  ASSERT_TRUE((*raw)->Send(std::string("\x16\x03\x01\x02\x00", 5)).ok());
  absl::StatusOr<Frame> answer = (*raw)->ReadFrame(absl::Seconds(5));
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->header.status, static_cast<uint8_t>(wire::Status::kBadFrame));
  EXPECT_EQ(ErrorMessage(*answer), "bad magic byte 0x16");
  // Both listeners serve.
  auto plain = daemon_->Connect();
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE((*plain)->Ping().ok());
  auto tls = Client::Connect(tls_address_, Tls());
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_TRUE((*tls)->Ping().ok());
}

TEST_F(DaemonTlsTest, HandshakesNeverFinishedGiveWayAtTheConnectionLimit) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(/*mutual=*/false, /*tls_only=*/false,
                                      {"--max-connections", "4", "--max-connections-per-ip", "0",
                                       "--threads", "1"}));  // one thread: one eviction order
  // Every slot taken by a TLS connection that sends nothing (or the start of a ClientHello).
  std::vector<std::unique_ptr<RawSocket>> silent;
  for (int i = 0; i < 4; ++i) {
    auto raw = RawSocket::Connect(daemon_->host(), TlsPort());
    ASSERT_TRUE(raw.ok()) << raw.status();
    if (i % 2 == 1) {
      ASSERT_TRUE((*raw)->Send(std::string("\x16\x03\x01\x02\x00", 5)).ok());
    }
    silent.push_back(*std::move(raw));
  }
  absl::SleepFor(absl::Milliseconds(300));  // older than kMinIdleToEvict (200 ms)
  // Well within frame_timeout (10 s), which would close them otherwise.
  const absl::Time start = absl::Now();
  auto plain = daemon_->Connect();
  ASSERT_TRUE(plain.ok()) << plain.status();
  (*plain)->set_timeout(absl::Seconds(2));
  EXPECT_TRUE((*plain)->Ping().ok());
  auto tls = Client::Connect(tls_address_, Tls(), absl::Seconds(2));
  ASSERT_TRUE(tls.ok()) << tls.status();
  (*tls)->set_timeout(absl::Seconds(2));
  EXPECT_TRUE((*tls)->Ping().ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  // The two oldest gave way: closed without a byte.
  for (int i = 0; i < 2; ++i) {
    const RawSocket::ReadResult r = silent[i]->ReadUntilClose(absl::Seconds(1));
    EXPECT_NE(r.end, RawSocket::End::kTimeout) << i;
    EXPECT_TRUE(r.bytes.empty()) << i;
  }
}

TEST_F(DaemonTlsTest, SighupSwapsTheCertificateForNewConnections) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(/*mutual=*/false));
  auto old_client = Client::Connect(tls_address_, Tls());
  ASSERT_TRUE(old_client.ok()) << old_client.status();
  ASSERT_TRUE((*old_client)->Hello("old").ok());
  // A new server certificate from another CA: only clients trusting that CA accept it.
  auto server = other_ca_->Issue(ServerCert("shixind-2", {"127.0.0.1"}));
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE(tls_test::WritePem(*server, Path("server.pem"), Path("server.key")).ok());
  ASSERT_TRUE(daemon_->Signal(SIGHUP).ok());
  ASSERT_TRUE(WaitForLog("TLS certificate reloaded")) << daemon_->stderr_text();
  auto new_client = Client::Connect(tls_address_, Tls("other-ca.pem"));
  ASSERT_TRUE(new_client.ok()) << new_client.status();
  EXPECT_TRUE((*new_client)->Ping().ok());
  EXPECT_FALSE(Client::Connect(tls_address_, Tls()).ok());
  EXPECT_TRUE((*old_client)->Check({kListed}).ok());
}

// A certificate near its end is said at each load (an expired one as an error): nothing else
// would tell the operator before the clients fail.
TEST_F(DaemonTlsTest, ACertificateDueForRenewalIsLogged) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(/*mutual=*/false));
  // SetUp's certificate is valid for a day.
  EXPECT_TRUE(WaitForLog("<4>tls_cert")) << daemon_->stderr_text();
  EXPECT_TRUE(absl::StrContains(daemon_->stderr_text(), "renew it and send SIGHUP"))
      << daemon_->stderr_text();
  CertRequest soon = ServerCert("shixind", {"127.0.0.1"});
  soon.not_after = 5 * 86400 + 3600;
  auto server = ca_->Issue(soon);
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE(tls_test::WritePem(*server, Path("server.pem"), Path("server.key")).ok());
  ASSERT_TRUE(daemon_->Signal(SIGHUP).ok());
  ASSERT_TRUE(WaitForLog(", in 5 days: renew it and send SIGHUP")) << daemon_->stderr_text();
  CertRequest gone = ServerCert("shixind", {"127.0.0.1"});
  gone.not_before = -2 * 86400;
  gone.not_after = -86400;
  server = ca_->Issue(gone);
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE(tls_test::WritePem(*server, Path("server.pem"), Path("server.key")).ok());
  ASSERT_TRUE(daemon_->Signal(SIGHUP).ok());
  ASSERT_TRUE(WaitForLog("expired at")) << daemon_->stderr_text();
  EXPECT_TRUE(absl::StrContains(daemon_->stderr_text(), "<3>tls_cert")) << daemon_->stderr_text();
}

TEST_F(DaemonTlsTest, SighupWithABrokenCertificateKeepsTheOldOne) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(/*mutual=*/false));
  auto old_client = Client::Connect(tls_address_, Tls());
  ASSERT_TRUE(old_client.ok()) << old_client.status();
  ASSERT_TRUE(
      WriteFileAtomically(Path("server.pem"), "-----BEGIN CERTIFICATE-----\nbroken\n").ok());
  ASSERT_TRUE(daemon_->Signal(SIGHUP).ok());
  ASSERT_TRUE(WaitForLog("TLS certificate was not reloaded")) << daemon_->stderr_text();
  auto new_client = Client::Connect(tls_address_, Tls());
  ASSERT_TRUE(new_client.ok()) << new_client.status();
  EXPECT_TRUE((*new_client)->Ping().ok());
  EXPECT_TRUE((*old_client)->Ping().ok());
}

// ---- Unit tests: the context, the identity, the configuration ----

TEST_F(DaemonTlsTest, SighupWithAFifoAsTheKeyKeepsServingWithTheOldOne) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(/*mutual=*/false, /*tls_only=*/false));
  Fifo fifo(Path("server.key"), absl::Seconds(20));
  ASSERT_TRUE(fifo.ok());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(daemon_->Signal(SIGHUP).ok());
  ASSERT_TRUE(WaitForLog("TLS certificate was not reloaded")) << daemon_->stderr_text();
  EXPECT_TRUE(absl::StrContains(daemon_->stderr_text(), "not a regular file (a FIFO)"))
      << daemon_->stderr_text();
  // Both listeners accept at once, the TLS one with the old context.
  auto tls_client = Client::Connect(tls_address_, Tls());
  ASSERT_TRUE(tls_client.ok()) << tls_client.status();
  EXPECT_TRUE((*tls_client)->Ping().ok());
  auto plain_client = daemon_->Connect();
  ASSERT_TRUE(plain_client.ok()) << plain_client.status();
  EXPECT_TRUE((*plain_client)->Check({kListed}).ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  tls_client->reset();
  plain_client->reset();
  ASSERT_TRUE(daemon_->Signal(SIGTERM).ok());
  absl::StatusOr<int> exit = daemon_->WaitForExit(absl::Seconds(10));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(*exit, 0);
}

TEST_F(DaemonTlsTest, AFifoAsTheKeyFailsTheStartAtOnce) {
  Fifo fifo(Path("fifo.key"), absl::Seconds(20));
  ASSERT_TRUE(fifo.ok());
  const absl::Time start = absl::Now();
  const ProcessResult result =
      RunProcess({BinDir() + "/shixind", "--data", SampleDir(), "--listen", "127.0.0.1:0",
                  "--http-listen", "", "--tls-listen", "127.0.0.1:0", "--tls-cert",
                  Path("server.pem"), "--tls-key", Path("fifo.key")},
                 "", absl::Seconds(30));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_TRUE(absl::StrContains(
      result.err, "tls_key \"" + Path("fifo.key") + "\": not a regular file (a FIFO)"))
      << result.err;
}

// An emptied client CA file (a truncated deploy) would refuse every client, the RELOAD of the
// operator's own mutual-TLS client too: it is refused like a file of junk, the old CAs kept.
TEST_F(DaemonTlsTest, SighupWithAnEmptyClientCaKeepsTheOldOne) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(/*mutual=*/true));
  ASSERT_TRUE(WriteFileAtomically(Path("ca.pem"), "").ok());
  ASSERT_TRUE(daemon_->Signal(SIGHUP).ok());
  ASSERT_TRUE(WaitForLog("TLS certificate was not reloaded")) << daemon_->stderr_text();
  EXPECT_TRUE(absl::StrContains(
      daemon_->stderr_text(),
      "tls_client_ca \"" + Path("ca.pem") + "\": no certificate in it (the file is empty)"))
      << daemon_->stderr_text();
  // The client trusts the CA through a copy of the file emptied.
  ASSERT_TRUE(WriteCa(ca_->pem(), "trust.pem").ok());
  auto client = Client::Connect(tls_address_, Tls("trust.pem", "good"));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE((*client)->Hello("bank").ok()) << daemon_->stderr_text();
}

TEST_F(DaemonTlsTest, AnEmptyClientCaFailsTheStart) {
  ASSERT_TRUE(WriteFileAtomically(Path("empty-ca.pem"), "").ok());
  const ProcessResult result = RunProcess(
      {BinDir() + "/shixind", "--data", SampleDir(), "--listen", "127.0.0.1:0", "--http-listen", "",
       "--tls-listen", "127.0.0.1:0", "--tls-cert", Path("server.pem"), "--tls-key",
       Path("server.key"), "--tls-client-ca", Path("empty-ca.pem")},
      "", absl::Seconds(30));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_TRUE(absl::StrContains(
      result.err, "tls_client_ca \"" + Path("empty-ca.pem") +
                      "\": no certificate in it (the file is empty): it would refuse"))
      << result.err;
}

TEST_F(DaemonTlsTest, IdentityIsTheDerFingerprintAndTheCn) {
  X509* certificate = ParseCertificate(good_.certificate);
  ASSERT_NE(certificate, nullptr);
  const CertificateIdentity identity = IdentityOf(certificate);
  X509_free(certificate);
  EXPECT_EQ(identity.fingerprint, Fingerprint(good_.certificate));
  EXPECT_EQ(identity.fingerprint.size(), 7u + 64u);
  EXPECT_EQ(identity.cn, "bank-a");
}

TEST_F(DaemonTlsTest, ContextRefusesBadFiles) {
  EXPECT_TRUE(MakeServerTlsContext({Path("server.pem"), Path("server.key"), ""}).ok());
  auto missing = MakeServerTlsContext({Path("nope.pem"), Path("server.key"), ""});
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "tls_cert")) << missing.status();
  // The reason, not OpenSSL's library name ("system lib", "PEM lib").
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "No such file or directory"))
      << missing.status();
  auto not_pem = MakeServerTlsContext({Path("server.pem"), Path("server.pem"), ""});
  ASSERT_FALSE(not_pem.ok());
  EXPECT_TRUE(absl::StrContains(not_pem.status().message(), "tls_key")) << not_pem.status();
  EXPECT_FALSE(absl::StrContains(not_pem.status().message(), " lib")) << not_pem.status();
  auto mismatch = MakeServerTlsContext({Path("server.pem"), Path("good.key"), ""});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_TRUE(absl::StrContains(mismatch.status().message(), "does not match"))
      << mismatch.status();
  auto bad_ca = MakeServerTlsContext({Path("server.pem"), Path("server.key"), Path("nope")});
  ASSERT_FALSE(bad_ca.ok());
  EXPECT_TRUE(absl::StrContains(bad_ca.status().message(), "tls_client_ca")) << bad_ca.status();
  auto no_ca = MakeServerTlsContext({Path("server.pem"), Path("server.key"), Path("server.key")});
  ASSERT_FALSE(no_ca.ok());
  EXPECT_TRUE(absl::StrContains(no_ca.status().message(), "tls_client_ca")) << no_ca.status();
  ASSERT_TRUE(WriteFileAtomically(Path("empty.pem"), "").ok());
  auto empty_ca = MakeServerTlsContext({Path("server.pem"), Path("server.key"), Path("empty.pem")});
  ASSERT_FALSE(empty_ca.ok());
  EXPECT_TRUE(absl::StrContains(empty_ca.status().message(), "no certificate in it"))
      << empty_ca.status();
  EXPECT_TRUE(MakeServerTlsContext({Path("server.pem"), Path("server.key"), Path("ca.pem")}).ok());
}

// A TLS file the size of a disk (a wrong path to an image, /var/log/...) is refused by its size,
// not read into memory on a SIGHUP; a bundle at the limit is read.
TEST_F(DaemonTlsTest, ATlsFileBeyondTheLimitIsRefusedBySize) {
  ASSERT_TRUE(WriteFileAtomically(Path("huge.pem"), "").ok());
  ASSERT_EQ(truncate(Path("huge.pem").c_str(), kMaxTlsFileBytes + 1), 0);  // sparse
  const struct {
    std::string TlsFiles::*file;
    const char* key;
  } cases[] = {{&TlsFiles::cert, "tls_cert"},
               {&TlsFiles::key, "tls_key"},
               {&TlsFiles::client_ca, "tls_client_ca"}};
  for (const auto& c : cases) {
    TlsFiles files{Path("server.pem"), Path("server.key"), Path("ca.pem")};
    files.*c.file = Path("huge.pem");
    auto context = MakeServerTlsContext(files);
    ASSERT_FALSE(context.ok()) << c.key;
    EXPECT_EQ(context.status().message(), absl::StrFormat("%s \"%s\": more than %d bytes", c.key,
                                                          Path("huge.pem"), kMaxTlsFileBytes));
  }
  std::string ca = ReadRegularFile(Path("ca.pem")).value();
  ca.resize(kMaxTlsFileBytes, '\n');  // blank lines after the certificate
  ASSERT_TRUE(WriteFileAtomically(Path("big-ca.pem"), ca).ok());
  EXPECT_TRUE(
      MakeServerTlsContext({Path("server.pem"), Path("server.key"), Path("big-ca.pem")}).ok());
}

// A file that holds no key or no certificate is named for what it is, not by OpenSSL's reason
// ("unsupported", "passed a null parameter"): the classic mix-up of the two files above all.
TEST_F(DaemonTlsTest, ContextSaysWhatAFileHoldsInsteadOfAKeyOrACertificate) {
  ASSERT_TRUE(WriteFileAtomically(Path("empty"), "").ok());
  ASSERT_TRUE(WriteFileAtomically(Path("text"), "hello\n").ok());
  ASSERT_TRUE(WriteFileAtomically(Path("zeros"), std::string(4096, '\0')).ok());
  ASSERT_TRUE(WriteFileAtomically(Path("encrypted"),
                                  "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
                                  "-----END ENCRYPTED PRIVATE KEY-----\n")
                  .ok());
  const struct {
    std::string cert, key, error;
  } cases[] = {
      {"server.pem", "server.pem",
       "tls_key \"" + Path("server.pem") +
           "\": it holds CERTIFICATE where a PRIVATE KEY is expected"},
      {"server.key", "server.key",
       "tls_cert \"" + Path("server.key") +
           "\": it holds PRIVATE KEY where a CERTIFICATE is expected"},
      {"server.pem", "text",
       "tls_key \"" + Path("text") + "\": not PEM: no -----BEGIN PRIVATE KEY----- line in it"},
      {"server.pem", "zeros", "-----BEGIN PRIVATE KEY----- line in it (binary data)"},
      {"server.pem", "encrypted", "the private key is encrypted"},
      {"empty", "server.key", "tls_cert \"" + Path("empty") + "\": the file is empty"},
      {"server.pem", "empty", "tls_key \"" + Path("empty") + "\": the file is empty"},
  };
  for (const auto& c : cases) {
    auto context = MakeServerTlsContext({Path(c.cert), Path(c.key), ""});
    ASSERT_FALSE(context.ok()) << c.cert << " " << c.key;
    EXPECT_TRUE(absl::StrContains(context.status().message(), c.error)) << context.status();
  }
  ASSERT_TRUE(
      WriteFileAtomically(Path("broken.pem"), "-----BEGIN CERTIFICATE-----\nbroken\n").ok());
  auto broken = MakeServerTlsContext({Path("broken.pem"), Path("server.key"), ""});
  ASSERT_FALSE(broken.ok());
  EXPECT_TRUE(absl::StrContains(broken.status().message(), "its CERTIFICATE")) << broken.status();
}

TEST_F(DaemonTlsTest, TheCertificatesValidityIsReadAndJudged) {
  auto context = MakeServerTlsContext({Path("server.pem"), Path("server.key"), ""});
  ASSERT_TRUE(context.ok()) << context.status();
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  absl::StatusOr<CertificateValidity> validity = ServerCertificateValidity(**context);
  ASSERT_TRUE(validity.ok()) << validity.status();
  EXPECT_NEAR(validity->not_before, now - 3600, 60);  // as issued in SetUp
  EXPECT_NEAR(validity->not_after, now + 86400, 60);
  const CertificateValidity v{1767225600, 1798761600};  // 2026-01-01 to 2027-01-01 UTC
  EXPECT_EQ(CertificateValidityWarning("c.pem", v, v.not_after - 31 * 86400), "");
  EXPECT_EQ(CertificateValidityWarning("c.pem", v, v.not_after - 29 * 86400 - 1),
            "tls_cert \"c.pem\" expires at 2027-01-01T00:00:00Z, in 29 days: renew it and send "
            "SIGHUP");
  EXPECT_TRUE(absl::StrContains(CertificateValidityWarning("c.pem", v, v.not_after - 86400 - 1),
                                ", in 1 day: "));
  EXPECT_EQ(CertificateValidityWarning("c.pem", v, v.not_after),
            "tls_cert \"c.pem\" expired at 2027-01-01T00:00:00Z: TLS clients refuse the "
            "handshake; renew it and send SIGHUP");
  EXPECT_EQ(CertificateValidityWarning("c.pem", v, v.not_before - 1),
            "tls_cert \"c.pem\" is not valid before 2026-01-01T00:00:00Z: TLS clients refuse the "
            "handshake until then");
}

TEST_F(DaemonTlsTest, ContextRefusesAFifoOrADirectoryAtOnce) {
  const std::string cert = Path("server.pem");
  const std::string key = Path("server.key");
  const std::string fifo_path = Path("fifo.pem");
  Fifo fifo(fifo_path, absl::Seconds(5));
  ASSERT_TRUE(fifo.ok());
  const struct {
    TlsFiles files;
    std::string expected;
  } cases[] = {
      {{fifo_path, key, ""}, "tls_cert \"" + fifo_path + "\": not a regular file (a FIFO)"},
      {{cert, fifo_path, ""}, "tls_key \"" + fifo_path + "\": not a regular file (a FIFO)"},
      {{cert, key, fifo_path}, "tls_client_ca \"" + fifo_path + "\": not a regular file (a FIFO)"},
      {{cert, scratch_.path(), ""}, "not a regular file (a directory)"},
  };
  for (const auto& c : cases) {
    const absl::Time start = absl::Now();
    auto context = MakeServerTlsContext(c.files);
    EXPECT_LT(absl::Now() - start, absl::Seconds(2));
    ASSERT_FALSE(context.ok());
    EXPECT_TRUE(absl::StrContains(context.status().message(), c.expected)) << context.status();
  }
}

TEST_F(DaemonTlsTest, ConfigValidatesTheTlsKeys) {
  Config c;
  c.data_dir = SampleDir();
  c.catalog = SourceDir() + "/data/measures/hegang-2018.json";
  ASSERT_TRUE(Validate(c).ok()) << Validate(c);
  Config none = c;
  none.listen = "";
  EXPECT_FALSE(Validate(none).ok());
  Config tls_only = none;
  tls_only.tls_listen = "127.0.0.1:0";
  EXPECT_TRUE(absl::StrContains(Validate(tls_only).message(), "tls_cert")) << Validate(tls_only);
  tls_only.tls_cert = Path("server.pem");
  tls_only.tls_key = Path("server.key");
  EXPECT_TRUE(Validate(tls_only).ok()) << Validate(tls_only);
  tls_only.tls_key = Path("good.key");
  EXPECT_FALSE(Validate(tls_only).ok());
  Config stray = c;
  stray.tls_cert = Path("server.pem");
  EXPECT_FALSE(Validate(stray).ok());
  Config bad_address = tls_only;
  bad_address.tls_key = Path("server.key");
  bad_address.tls_listen = "nope";
  EXPECT_TRUE(absl::StrContains(Validate(bad_address).message(), "tls_listen"))
      << Validate(bad_address);
}

}  // namespace
}  // namespace shixin::e2e
