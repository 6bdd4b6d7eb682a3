#include "callers/caller.h"

#include <gtest/gtest.h>

#include "callers/caller_table.h"
#include "callers/token.h"
#include "core/catalog.h"
#include "core/paths.h"

namespace shixin {
namespace {

const std::string kHashA = "sha256:" + std::string(64, 'a');

Caller Bank() {
  Caller c;
  c.id = "acme-bank";
  c.name = "Acme Bank";
  c.sector = "bank";
  c.scopes = ScopeBit(Scope::kCheck) | ScopeBit(Scope::kMeasures);
  c.view = View::kFull;
  c.rate = 50;
  c.burst = 100;
  return c;
}

TEST(CallerTest, IdsAndSectors) {
  EXPECT_TRUE(IsValidCallerId("a"));
  EXPECT_TRUE(IsValidCallerId("hotel-chain.front_desk2"));
  EXPECT_TRUE(IsValidCallerId(std::string(64, 'x')));
  EXPECT_FALSE(IsValidCallerId(std::string(65, 'x')));
  EXPECT_FALSE(IsValidCallerId(""));
  EXPECT_FALSE(IsValidCallerId("-bank"));
  EXPECT_FALSE(IsValidCallerId("Bank"));
  EXPECT_FALSE(IsValidCallerId("bank bank"));
  EXPECT_TRUE(IsKnownSector("credit_office"));
  EXPECT_FALSE(IsKnownSector("casino"));
}

TEST(CallerTest, ValidateNamesTheField) {
  EXPECT_TRUE(ValidateCaller(Bank()).ok());
  Caller c = Bank();
  c.rate = 0;
  EXPECT_EQ(ValidateCaller(c).message().substr(0, 5), "rate:");
  c = Bank();
  c.sector = "casino";
  EXPECT_EQ(ValidateCaller(c).message().substr(0, 7), "sector:");
  c = Bank();
  c.burst = 0;
  EXPECT_EQ(ValidateCaller(c).message().substr(0, 6), "burst:");
  c = Bank();
  c.token_hashes = {"sha256:" + std::string(64, 'A')};  // upper case
  EXPECT_EQ(ValidateCaller(c).message().substr(0, 7), "tokens:");
  c = Bank();
  c.certificates = {"cn:"};
  EXPECT_EQ(ValidateCaller(c).message().substr(0, 13), "certificates:");
  c.certificates = {"cn:bank", kHashA};
  EXPECT_TRUE(ValidateCaller(c).ok());
}

// A rate or burst the daemon's limiter cannot keep is refused, saying what it can: 1e-7 per
// second became one request per 104 days, and its burst of 10 became 2.
TEST(CallerTest, RatesAndBurstsTheLimiterCannotKeepAreRefused) {
  Caller c = Bank();
  c.burst = 1;
  for (const double rate : {1e-7, 1e-300, kMinRate * 0.999}) {
    c.rate = rate;
    const absl::Status s = ValidateCaller(c);
    EXPECT_EQ(s.message().substr(0, 5), "rate:") << rate;
    EXPECT_NE(s.message().find("is below the slowest rate shixind keeps, 1.1574074074074074e-07 "
                               "per second (one request per 100 days)"),
              std::string::npos)
        << s;
  }
  c.rate = kMinRate;
  EXPECT_TRUE(ValidateCaller(c).ok());
  c.rate = 1e-6;  // one request per 11.6 days: at most 9 in a burst (8 to refill, 93 days)
  c.burst = 9;
  EXPECT_TRUE(ValidateCaller(c).ok());
  c.burst = 10;
  EXPECT_EQ(ValidateCaller(c).message(),
            "burst: 10 at a rate of 1e-06 per second takes 104 days to refill, more than the 100 "
            "shixind keeps: at most 9 at this rate, or a higher rate");
  c.rate = 1e9;
  c.burst = UINT32_MAX;
  EXPECT_TRUE(ValidateCaller(c).ok());
}

TEST(CallerTableTest, FindAndCertificates) {
  Caller bank = Bank();
  bank.certificates = {kHashA, "cn:acme"};
  Caller hotel = Bank();
  hotel.id = "hotel";
  hotel.certificates = {"cn:hotel"};
  absl::StatusOr<CallerTable> table = CallerTable::Create({bank, hotel});
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->Find("hotel")->id, "hotel");
  EXPECT_EQ(table->Find("nobody"), nullptr);
  EXPECT_EQ(table->FindByCertificate(kHashA, "whatever")->id, "acme-bank");
  EXPECT_EQ(table->FindByCertificate("sha256:" + std::string(64, 'b'), "hotel")->id, "hotel");
  EXPECT_EQ(table->FindByCertificate("sha256:" + std::string(64, 'b'), ""), nullptr);
  EXPECT_EQ(table->FindByCertificate("cn:hotel", ""), nullptr);  // not a fingerprint

  hotel.certificates = {"cn:acme"};
  EXPECT_FALSE(CallerTable::Create({bank, hotel}).ok());
  EXPECT_FALSE(CallerTable::Create({bank, bank}).ok());
}

// A token hash two callers list would authenticate as either (a bearer token names its caller
// by its hash alone): refused, naming both; one caller may list it twice.
TEST(CallerTableTest, ATokenHashOfTwoCallersIsRefused) {
  Caller bank = Bank();
  bank.token_hashes = {HashToken("shx_bank"), HashToken("shx_shared")};
  Caller hotel = Bank();
  hotel.id = "hotel";
  hotel.token_hashes = {HashToken("shx_shared")};
  absl::StatusOr<CallerTable> table = CallerTable::Create({bank, hotel});
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().message(), "token hash \"" + HashToken("shx_shared") +
                                          "\" of caller \"hotel\" is listed by caller "
                                          "\"acme-bank\" too");
  hotel.token_hashes = {HashToken("shx_hotel"), HashToken("shx_hotel")};
  EXPECT_TRUE(CallerTable::Create({bank, hotel}).ok());
}

TEST(CallerTableTest, Authenticate) {
  const std::string token_a = *NewToken();
  const std::string token_b = *NewToken();
  const std::string token_c = *NewToken();
  Caller bank = Bank();
  bank.token_hashes = {HashToken(token_b), HashToken(token_a)};
  Caller hotel = Bank();
  hotel.id = "hotel";
  hotel.token_hashes = {HashToken(token_c)};
  Caller none = Bank();
  none.id = "no-tokens";
  absl::StatusOr<CallerTable> table = CallerTable::Create({bank, hotel, none});
  ASSERT_TRUE(table.ok()) << table.status();

  for (const std::string& token : {token_a, token_b}) {
    absl::StatusOr<const Caller*> caller = table->Authenticate("acme-bank", token);
    ASSERT_TRUE(caller.ok()) << caller.status();
    EXPECT_EQ((*caller)->id, "acme-bank");
  }
  const std::pair<std::string, std::string> bad[] = {
      {"acme-bank", token_c},        // another caller's token
      {"acme-bank", token_a + "x"},  // wrong token
      {"acme-bank", ""},
      {"nobody", token_a},  // unknown id
      {"no-tokens", ""},
      {"no-tokens", token_a},
  };
  for (const auto& [id, token] : bad) {
    absl::StatusOr<const Caller*> caller = table->Authenticate(id, token);
    ASSERT_FALSE(caller.ok()) << id;
    EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(caller.status().message(), "unknown caller or wrong token");
  }
  EXPECT_FALSE(CallerTable().Authenticate("acme-bank", token_a).ok());
}

TEST(CallerTableTest, ResolveAgainstCatalog) {
  absl::StatusOr<Catalog> catalog = Catalog::LoadFile(DefaultCatalogPath());
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  ASSERT_FALSE(catalog->agencies().empty());
  ASSERT_FALSE(catalog->scenarios().empty());
  Caller bank = Bank();
  bank.agencies = {catalog->agencies()[0].id};
  bank.scenarios = {catalog->scenarios()[0].id};
  EXPECT_TRUE(ResolveAgainstCatalog(*catalog, &bank).ok());
  EXPECT_EQ(bank.agencies, std::vector<std::string>{catalog->agencies()[0].id});
  bank.agencies.push_back("ministry-of-magic");
  absl::Status s = ResolveAgainstCatalog(*catalog, &bank);
  EXPECT_NE(s.message().find("unknown agency \"ministry-of-magic\""), std::string::npos) << s;
  bank.agencies.pop_back();
  bank.scenarios.push_back("quidditch");
  s = ResolveAgainstCatalog(*catalog, &bank);
  EXPECT_NE(s.message().find("unknown scenario \"quidditch\""), std::string::npos) << s;
}

// An agency named by its name becomes its id: the agency rule of FEEDBACK (and MEASURES'
// default filter) compares ids, and would refuse the housing bureau its own measure 29.
TEST(CallerTableTest, AnAgencyNamedByItsNameActsAsItsId) {
  absl::StatusOr<Catalog> catalog = Catalog::LoadFile(DefaultCatalogPath());
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  Caller estate = Bank();
  estate.agencies = {"鹤岗市住房保障局"};
  ASSERT_TRUE(ResolveAgainstCatalog(*catalog, &estate).ok());
  EXPECT_EQ(estate.agencies, std::vector<std::string>{"housing"});
  EXPECT_TRUE(CheckMayApply(estate, *catalog, 29).ok());
  EXPECT_FALSE(CheckMayApply(estate, *catalog, 1).ok());
}

}  // namespace
}  // namespace shixin
