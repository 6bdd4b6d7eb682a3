#include "daemon/access.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "callers/callers_file.h"
#include "callers/token.h"
#include "core/paths.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;

const boost::asio::ip::address kClient = boost::asio::ip::make_address("192.0.2.7");

Catalog LoadCatalog() {
  absl::StatusOr<Catalog> catalog = Catalog::LoadFile(DefaultCatalogPath());
  EXPECT_TRUE(catalog.ok()) << catalog.status();
  return *std::move(catalog);
}

Caller MakeCaller(std::string id, ScopeSet scopes, std::string token_hash) {
  Caller c;
  c.id = std::move(id);
  c.name = "Test " + c.id;
  c.sector = "bank";
  c.scopes = scopes;
  c.view = View::kFull;
  c.rate = 10;
  c.burst = 5;
  c.token_hashes = {std::move(token_hash)};
  return c;
}

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/access_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/callers.toml";
    bank_token_ = *NewToken();
    hotel_token_ = *NewToken();
    Caller bank = MakeCaller("bank", ScopeBit(Scope::kCheck) | ScopeBit(Scope::kMeasures),
                             HashToken(bank_token_));
    Caller hotel = MakeCaller("hotel", ScopeBit(Scope::kCheck), HashToken(hotel_token_));
    hotel.certificates = {"cn:hotel-pms"};
    Write({bank, hotel});
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  void Write(std::vector<Caller> callers) {
    absl::StatusOr<CallerTable> table = CallerTable::Create(std::move(callers));
    ASSERT_TRUE(table.ok()) << table.status();
    ASSERT_TRUE(WriteCallersFile(path_, *table).ok());
  }
  std::unique_ptr<Access> Make() {
    absl::StatusOr<std::unique_ptr<Access>> access = Access::FromFile(path_, LoadCatalog());
    EXPECT_TRUE(access.ok()) << access.status();
    return access.ok() ? *std::move(access) : nullptr;
  }

  std::string dir_, path_, bank_token_, hotel_token_;
};

TEST(AccessOpenTest, EveryConnectionHoldsEveryScopeWithoutLimit) {
  std::unique_ptr<Access> access = Access::OpenMode();
  ASSERT_TRUE(access->open());
  std::shared_ptr<const Grant> grant = access->Anonymous();
  ASSERT_NE(grant, nullptr);
  EXPECT_EQ(grant->caller.id, "open");
  for (int s = 0; s < kScopeCount; ++s) EXPECT_TRUE(grant->Has(static_cast<Scope>(s)));
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(access->Admit(*grant, Scope::kAdmin, 1).status, wire::Status::kOk);
  }
  ASSERT_EQ(access->Counts().size(), 1u);
  EXPECT_EQ(access->Counts()[0].requests, 1000u);
}

TEST_F(AccessTest, AuthenticatesTheRightTokenOnly) {
  std::unique_ptr<Access> access = Make();
  ASSERT_NE(access, nullptr);
  EXPECT_FALSE(access->open());
  EXPECT_EQ(access->Anonymous(), nullptr);
  absl::StatusOr<std::shared_ptr<const Grant>> bank =
      access->Authenticate("bank", bank_token_, kClient);
  ASSERT_TRUE(bank.ok()) << bank.status();
  EXPECT_EQ((*bank)->caller.id, "bank");
  EXPECT_EQ((*bank)->credential, "token:" + HashToken(bank_token_));
  // Another caller's token, an unknown caller, a wrong token: the same answer.
  for (const auto& [id, token] : std::vector<std::pair<std::string, std::string>>{
           {"bank", hotel_token_}, {"nobody", bank_token_}, {"bank", "shx_wrong"}}) {
    absl::StatusOr<std::shared_ptr<const Grant>> g = access->Authenticate(id, token, kClient);
    EXPECT_TRUE(absl::IsUnauthenticated(g.status())) << id;
    EXPECT_EQ(g.status().message(), "unknown caller or wrong token");
  }
  EXPECT_EQ(access->Counts()[0].auth_failures, 2u);  // those naming "bank"
  EXPECT_EQ(access->refused(AuthVia::kHello), 3u);   // "nobody" too
  EXPECT_EQ(access->refused(AuthVia::kBearer), 0u);
  EXPECT_FALSE(access->AuthenticateToken("shx_wrong", kClient).ok());
  EXPECT_EQ(access->refused(AuthVia::kBearer), 1u);
}

TEST_F(AccessTest, FiveFailuresHoldWrongCredentialsOffButNeverTheRightToken) {
  std::unique_ptr<Access> access = Make();
  ASSERT_NE(access, nullptr);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(access->Authenticate("bank", "shx_no", kClient).ok());
  EXPECT_EQ(access->Counts()[0].auth_failures, 5u);
  absl::StatusOr<std::shared_ptr<const Grant>> g = access->Authenticate("bank", "shx_no2", kClient);
  EXPECT_TRUE(absl::IsUnauthenticated(g.status()));
  EXPECT_NE(g.status().message().find("too many failed authentications"), std::string::npos);
  // Anyone can name a caller: the right token passes the hold (behind a proxy every client
  // shares one address), and its success does not lift the hold on wrong ones.
  EXPECT_TRUE(access->Authenticate("bank", bank_token_, kClient).ok());
  g = access->Authenticate("bank", "shx_no3", kClient);
  EXPECT_NE(g.status().message().find("too many failed authentications"), std::string::npos)
      << g.status();
  // Another address is not held off, nor another caller from this one (a proxy's clients).
  EXPECT_TRUE(
      access->Authenticate("bank", bank_token_, boost::asio::ip::make_address("192.0.2.8")).ok());
  EXPECT_TRUE(access->Authenticate("hotel", hotel_token_, kClient).ok());
  // Bearer tokens alike: a wrong token retried is held off, a right one is not.
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(access->AuthenticateToken("shx_stale", kClient).ok());
  absl::StatusOr<std::shared_ptr<const Grant>> stale =
      access->AuthenticateToken("shx_stale", kClient);
  EXPECT_NE(stale.status().message().find("too many failed authentications"), std::string::npos)
      << stale.status();
  EXPECT_TRUE(access->AuthenticateToken(hotel_token_, kClient).ok());
}

TEST_F(AccessTest, ABearerTokenAloneNamesItsCaller) {
  std::unique_ptr<Access> access = Make();
  ASSERT_NE(access, nullptr);
  for (const auto& [token, id] : std::vector<std::pair<std::string, std::string>>{
           {bank_token_, "bank"}, {hotel_token_, "hotel"}}) {
    absl::StatusOr<std::shared_ptr<const Grant>> g = access->AuthenticateToken(token, kClient);
    ASSERT_TRUE(g.ok()) << g.status();
    EXPECT_EQ((*g)->caller.id, id);
    EXPECT_EQ((*g)->credential, "token:" + HashToken(token));
    // The same credential as HELLO's: a reload keeps it.
    EXPECT_NE(access->Revalidate(**g), nullptr);
  }
  absl::StatusOr<std::shared_ptr<const Grant>> wrong =
      access->AuthenticateToken("shx_wrong", kClient);
  EXPECT_TRUE(absl::IsUnauthenticated(wrong.status()));
  EXPECT_TRUE(absl::IsUnauthenticated(access->AuthenticateToken("", kClient).status()));
  // Failures count per address and token: the token that failed is held off, the right one not.
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(access->AuthenticateToken("shx_no", kClient).ok());
  EXPECT_NE(std::string(access->AuthenticateToken("shx_no", kClient).status().message())
                .find("too many failed authentications"),
            std::string::npos);
  EXPECT_TRUE(access->AuthenticateToken(bank_token_, kClient).ok());
  // Open mode needs no token.
  std::unique_ptr<Access> open = Access::OpenMode();
  absl::StatusOr<std::shared_ptr<const Grant>> g = open->AuthenticateToken("", kClient);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ((*g)->caller.id, "open");
}

TEST_F(AccessTest, ScopesAndTheRateAreEnforcedAndCounted) {
  std::unique_ptr<Access> access = Make();
  ASSERT_NE(access, nullptr);
  std::shared_ptr<const Grant> hotel = *access->Authenticate("hotel", hotel_token_, kClient);
  EXPECT_EQ(access->Admit(*hotel, Scope::kMeasures, 1).status, wire::Status::kPermissionDenied);
  EXPECT_EQ(access->Admit(*hotel, Scope::kAdmin, 1).status, wire::Status::kPermissionDenied);
  EXPECT_EQ(access->Admit(*hotel, std::nullopt, 1).status, wire::Status::kOk);
  EXPECT_EQ(access->Admit(*hotel, Scope::kCheck, 4).status, wire::Status::kOk);  // burst 5
  const Access::Decision limited = access->Admit(*hotel, Scope::kCheck, 1);
  EXPECT_EQ(limited.status, wire::Status::kRateLimited);
  EXPECT_GT(limited.retry_after_ms, 0u);
  EXPECT_LE(limited.retry_after_ms, 100u);  // 10 per second
  // The bank's bucket is its own.
  std::shared_ptr<const Grant> bank = *access->Authenticate("bank", bank_token_, kClient);
  EXPECT_EQ(access->Admit(*bank, Scope::kMeasures, 1).status, wire::Status::kOk);
  const std::vector<CallerCount> counts = access->Counts();
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[0].id, "bank");
  EXPECT_EQ(counts[0].requests, 1u);
  EXPECT_EQ(counts[1].id, "hotel");
  EXPECT_EQ(counts[1].requests, 2u);
  EXPECT_EQ(counts[1].denied, 2u);
  EXPECT_EQ(counts[1].rate_limited, 1u);
}

TEST_F(AccessTest, AReloadRevokesWhatWasRemovedAndKeepsTheRest) {
  std::unique_ptr<Access> access = Make();
  ASSERT_NE(access, nullptr);
  std::shared_ptr<const Grant> bank = *access->Authenticate("bank", bank_token_, kClient);
  std::shared_ptr<const Grant> hotel = *access->ForCertificate("sha256:00", "hotel-pms");
  EXPECT_EQ(hotel->credential, "cert:cn:hotel-pms");
  ASSERT_EQ(access->Admit(*bank, Scope::kCheck, 1).status, wire::Status::kOk);
  const uint64_t epoch = access->epoch();

  // The bank gets a new token (the old one is revoked) and loses no counts; the hotel keeps
  // its certificate but gains the measures scope.
  const std::string new_token = *NewToken();
  Caller bank2 = MakeCaller("bank", ScopeBit(Scope::kCheck), HashToken(new_token));
  Caller hotel2 = MakeCaller("hotel", ScopeBit(Scope::kCheck) | ScopeBit(Scope::kMeasures),
                             HashToken(hotel_token_));
  hotel2.certificates = {"cn:hotel-pms"};
  Write({bank2, hotel2});
  ASSERT_TRUE(access->Reload().ok());
  EXPECT_GT(access->epoch(), epoch);
  EXPECT_EQ(access->Revalidate(*bank), nullptr);
  std::shared_ptr<const Grant> hotel_now = access->Revalidate(*hotel);
  ASSERT_NE(hotel_now, nullptr);
  EXPECT_TRUE(hotel_now->Has(Scope::kMeasures));
  EXPECT_EQ(access->Counts()[0].requests, 1u);

  // A file with a syntax error: the old table stays, the error is kept for INFO.
  std::ofstream(path_) << "[[caller]\nid = ";
  const absl::Status s = access->Reload();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(access->last_error().find("callers.toml"), std::string::npos) << access->last_error();
  EXPECT_TRUE(access->Authenticate("bank", new_token, kClient).ok());
  EXPECT_NE(access->Revalidate(*hotel_now), nullptr);
}

// A callers file emptied by mistake would lock every agency out at once: refused, the old
// callers keep working; from no caller to some is taken.
TEST_F(AccessTest, AReloadToNoCallerIsRefused) {
  std::unique_ptr<Access> access = Make();
  ASSERT_NE(access, nullptr);
  Write(std::vector<Caller>{});
  const absl::Status s = access->Reload();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(s.message()).find("names no caller: it would refuse every agency at once"),
            std::string::npos)
      << s;
  EXPECT_TRUE(access->Authenticate("bank", bank_token_, kClient).ok());
  EXPECT_EQ(access->Counts().size(), 2u);

  absl::StatusOr<std::unique_ptr<Access>> empty = Access::FromFile(path_, LoadCatalog());
  ASSERT_TRUE(empty.ok()) << empty.status();
  Write({MakeCaller("bank", ScopeBit(Scope::kCheck), HashToken(bank_token_))});
  ASSERT_TRUE((*empty)->Reload().ok());
  EXPECT_TRUE((*empty)->Authenticate("bank", bank_token_, kClient).ok());
}

TEST_F(AccessTest, AnUnknownCertificateIsNoCaller) {
  std::unique_ptr<Access> access = Make();
  ASSERT_NE(access, nullptr);
  EXPECT_TRUE(absl::IsUnauthenticated(access->ForCertificate("sha256:00", "stranger").status()));
}

// At start and on reload, the error names the file and the line of the key, as every other.
TEST_F(AccessTest, AFileNamingAnUnknownAgencyIsRefusedAtItsLine) {
  // The line FormatCallersFile() writes `key` at.
  auto line_of = [&](std::string_view key) {
    std::ifstream in(path_);
    std::string l;
    for (int i = 1; std::getline(in, l); ++i) {
      if (l.starts_with(key)) {
        return absl::StrCat(path_, ":", i, ": ", std::string(key), ": caller \"bank\"");
      }
    }
    return std::string("no such key");
  };
  std::unique_ptr<Access> access = Make();  // SetUp()'s file
  ASSERT_NE(access, nullptr);
  Caller c = MakeCaller("bank", ScopeBit(Scope::kCheck), HashToken(bank_token_));
  c.agencies = {"no-such-agency"};
  Write({c});
  absl::StatusOr<std::unique_ptr<Access>> refused = Access::FromFile(path_, LoadCatalog());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(refused.status().message()).find(line_of("agencies")), std::string::npos)
      << refused.status();

  c.agencies = {""};
  Write({c});
  absl::Status s = access->Reload();
  EXPECT_NE(std::string(s.message()).find(line_of("agencies") + ": unknown agency \"\""),
            std::string::npos)
      << s;
  c.agencies.clear();
  c.scenarios = {"quidditch"};
  Write({c});
  s = access->Reload();
  EXPECT_NE(std::string(s.message()).find(line_of("scenarios")), std::string::npos) << s;
  EXPECT_TRUE(access->Authenticate("hotel", hotel_token_, kClient).ok());  // the old callers
}

// A token the example callers file publishes is warned of on loopback and refused beyond it, at
// start and on reload (x27 finding 3: anyone could authenticate with it, and nothing said so).
TEST_F(AccessTest, APublishedExampleTokenIsWarnedOfOrRefused) {
  std::unique_ptr<Access> access = Make();
  ASSERT_NE(access, nullptr);
  EXPECT_EQ(access->PublishedTokenWarning(), "");
  Write({MakeCaller("bank", ScopeBit(Scope::kCheck), HashToken(kPublishedExampleTokens[0]))});
  ASSERT_TRUE(access->Reload().ok());
  const std::string warning = access->PublishedTokenWarning();
  EXPECT_THAT(warning, HasSubstr("PUBLISHED CREDENTIAL: caller(s) bank of " + path_));
  EXPECT_THAT(warning, HasSubstr("shixin caller token --file " + path_ + " --id ID --replace"));

  absl::StatusOr<std::unique_ptr<Access>> refused =
      Access::FromFile(path_, LoadCatalog(), "listen \"0.0.0.0:7411\"");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("PUBLISHED CREDENTIAL: caller(s) bank of " + path_));
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("(refused: shixind listens beyond loopback, listen \"0.0.0.0:7411\")"));

  Write({MakeCaller("bank", ScopeBit(Scope::kCheck), HashToken(bank_token_))});
  absl::StatusOr<std::unique_ptr<Access>> wide =
      Access::FromFile(path_, LoadCatalog(), "listen \"0.0.0.0:7411\"");
  ASSERT_TRUE(wide.ok()) << wide.status();
  Write({MakeCaller("bank", ScopeBit(Scope::kCheck), HashToken(kPublishedExampleTokens[1]))});
  EXPECT_THAT(std::string((*wide)->Reload().message()), HasSubstr("PUBLISHED CREDENTIAL"));
  EXPECT_TRUE((*wide)->Authenticate("bank", bank_token_, kClient).ok());  // the old table
  EXPECT_EQ((*wide)->PublishedTokenWarning(), "");
}

TEST(ScopeOfTest, EveryOpcodeHasItsScope) {
  EXPECT_EQ(ScopeOf(wire::Opcode::kCheck), Scope::kCheck);
  EXPECT_EQ(ScopeOf(wire::Opcode::kMeasures), Scope::kMeasures);
  EXPECT_EQ(ScopeOf(wire::Opcode::kDetail), Scope::kDetail);
  EXPECT_EQ(ScopeOf(wire::Opcode::kReload), Scope::kAdmin);
  EXPECT_EQ(ScopeOf(wire::Opcode::kHello), std::nullopt);
  EXPECT_EQ(ScopeOf(wire::Opcode::kPing), std::nullopt);
  EXPECT_EQ(ScopeOf(wire::Opcode::kInfo), std::nullopt);
  EXPECT_EQ(ScopeOf(wire::Opcode::kCatalog), std::nullopt);
}

// Failures are counted per source: an IPv4 address, or an IPv6 /64. 127.0.0.1 held off does
// not hold off ::1; a failing IPv6 host holds off its /64 but not the next /64.
TEST_F(AccessTest, FailuresAreCountedPerSourceAddressAndIpv6Slash64) {
  std::unique_ptr<Access> access = Make();
  ASSERT_NE(access, nullptr);
  const auto ip = [](const char* text) { return boost::asio::ip::make_address(text); };
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(access->Authenticate("bank", "shx_no", ip("127.0.0.1")).ok());
  }
  // Held off: a wrong token is told to wait (the right one passes the hold: access_test's
  // FiveFailuresHoldWrongCredentialsOffButNeverTheRightToken).
  const auto held = [&](const char* caller, const char* address) {
    return access->Authenticate(caller, "shx_no", ip(address))
               .status()
               .message()
               .find("too many failed") != std::string::npos;
  };
  EXPECT_TRUE(held("bank", "127.0.0.1"));
  EXPECT_TRUE(held("bank", "::ffff:127.0.0.1"));
  EXPECT_FALSE(held("bank", "::1"));
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(access->Authenticate("hotel", "shx_no", ip("2001:db8:1:2::10")).ok());
  }
  EXPECT_TRUE(held("hotel", "2001:db8:1:2::99"));
  EXPECT_FALSE(held("hotel", "2001:db8:1:3::10"));
  // Five from the held /64, one held off there and one from the next: a wrong token refused for
  // the hold counts too, so that five guesses and five million do not look alike.
  EXPECT_EQ(access->Counts()[1].auth_failures, 7u);
}

}  // namespace
}  // namespace shixin
