// A table-driven test of the measure rules, built from the clauses of the Hegang memorandum:
// subject kind, related roles of a listed organisation, officers (18, 22) and two hops (52).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/builder.h"
#include "core/catalog.h"
#include "core/query.h"
#include "core/test_util.h"

namespace shixin {
namespace {

using testing::CreditCode;
using testing::kNow;
using testing::MakeCase;
using testing::MakeRelation;
using testing::OrgCode;
using testing::PersonId;

std::string CatalogPath() { return testing::SourceDir() + "/data/measures/hegang-2018.json"; }

// The world of the test:
//   org 1 listed; its LR person 1, PR person 2, AC person 3, DR person 4, director person 5
//   (persons 1-5 unlisted); person 10 listed; org 2 unlisted with director person 10 (listed)
//   in the feed; org 3 unlisted, no feed; person 20 listed, LR of nothing; org 4 listed only by
//   its old organisation code, its LR person 30 (unlisted) named under that code too.
class MeasuresTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto catalog = Catalog::LoadFile(CatalogPath());
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    catalog_ = new Catalog(*std::move(catalog));
    SnapshotBuilder b;
    b.AddCase(MakeCase(CreditCode(1), "甲公司", "c1"));
    b.AddCase(MakeCase(PersonId(10), "李四", "c2"));
    b.AddCase(MakeCase(PersonId(20), "王五", "c3"));
    const Role roles[] = {Role::kLegalRepresentative, Role::kPrincipal, Role::kActualController,
                          Role::kDirectlyResponsible, Role::kDirector};
    for (int i = 0; i < 5; ++i) {
      b.AddRelation(MakeRelation(CreditCode(1), PersonId(i + 1), "某", roles[i]));
    }
    b.AddRelation(MakeRelation(CreditCode(2), PersonId(10), "李四", Role::kDirector));
    b.AddCase(MakeCase(OrgCode(4), "丁公司", "c4"));
    b.AddRelation(MakeRelation(OrgCode(4), PersonId(30), "赵六", Role::kLegalRepresentative));
    snap_ = b.Build()->release();
  }
  static void TearDownTestSuite() {
    delete catalog_;
    delete snap_;
  }

  // Returns the numbers of the measures that apply.
  static std::vector<int> Applicable(const Id& id, MeasureQuery query = {}) {
    query.at = kNow;
    auto result = Measures(*snap_, *catalog_, id, query);
    EXPECT_TRUE(result.ok()) << result.status();
    std::vector<int> numbers;
    if (result.ok()) {
      for (const MeasureInfo& m : result->measures) numbers.push_back(m.no);
    }
    return numbers;
  }
  static bool Has(const std::vector<int>& v, int no) {
    return std::find(v.begin(), v.end(), no) != v.end();
  }

  static const Catalog* catalog_;
  static const Snapshot* snap_;
};
const Catalog* MeasuresTest::catalog_ = nullptr;
const Snapshot* MeasuresTest::snap_ = nullptr;

struct Rule {
  const char* who;  // which subject of the world
  int measure;
  bool applies;
};

TEST_F(MeasuresTest, RulesFromTheClauses) {
  const Rule rules[] = {
      // Kind: "失信被执行人为个人的" measures never reach an organisation.
      {"listed person", 1, true},
      {"listed org", 1, false},
      {"listed person", 4, true},
      {"listed org", 4, false},
      {"listed person", 7, true},
      {"listed org", 7, false},
      {"listed person", 21, true},
      {"listed org", 21, false},
      {"listed person", 31, true},
      {"listed org", 31, false},
      {"listed person", 51, true},
      {"listed org", 51, false},
      // Organisation-only measures (state-funded enterprises, administrative units).
      {"listed org", 12, true},
      {"listed person", 12, false},
      {"listed org", 15, true},
      {"listed person", 15, false},
      // Both kinds.
      {"listed person", 16, true},
      {"listed org", 16, true},
      {"listed person", 29, true},
      {"listed org", 29, true},
      {"listed person", 41, true},
      {"listed org", 41, true},
      {"listed person", 52, true},
      {"listed org", 52, true},
      // Related persons of a listed organisation: LR, PR, AC, DR for 26, 27, 29, 41, 46.
      {"LR of listed org", 26, true},
      {"LR of listed org", 27, true},
      {"LR of listed org", 29, true},
      {"LR of listed org", 41, true},
      {"LR of listed org", 46, true},
      {"PR of listed org", 41, true},
      {"AC of listed org", 29, true},
      {"DR of listed org", 46, true},
      // ... but not the measures of the listed subject itself.
      {"LR of listed org", 1, false},
      {"LR of listed org", 16, false},
      {"LR of listed org", 31, false},
      // 52 extends only to the LR and PR (personal loans, new credit cards).
      {"LR of listed org", 52, true},
      {"PR of listed org", 52, true},
      {"AC of listed org", 52, false},
      {"DR of listed org", 52, false},
      // A director is not among the related roles of any measure.
      {"director of listed org", 29, false},
      {"director of listed org", 41, false},
      {"director of listed org", 52, false},
      // Officers (18, 22): an unlisted organisation whose director is listed.
      {"org with listed director", 18, true},
      {"org with listed director", 22, true},
      {"org with listed director", 16, false},
      {"org with listed director", 29, false},
      // Nothing for an organisation the list and the feed don't know.
      {"unknown org", 18, false},
      {"unknown org", 52, false},
  };
  auto id_of = [](std::string_view who) -> Id {
    if (who == "listed person") return PersonId(20);
    if (who == "listed org") return CreditCode(1);
    if (who == "LR of listed org") return PersonId(1);
    if (who == "PR of listed org") return PersonId(2);
    if (who == "AC of listed org") return PersonId(3);
    if (who == "DR of listed org") return PersonId(4);
    if (who == "director of listed org") return PersonId(5);
    if (who == "org with listed director") return CreditCode(2);
    return CreditCode(3);
  };
  for (const Rule& rule : rules) {
    EXPECT_EQ(Has(Applicable(id_of(rule.who)), rule.measure), rule.applies)
        << rule.who << ", measure " << rule.measure;
  }
}

TEST_F(MeasuresTest, RelatedBasisNamesRoleAndOrganisation) {
  auto result = Measures(*snap_, *catalog_, PersonId(1), {});
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->subject.listed);
  EXPECT_TRUE(result->subject.related);
  const auto m29 = std::find_if(result->measures.begin(), result->measures.end(),
                                [](const MeasureInfo& m) { return m.no == 29; });
  ASSERT_NE(m29, result->measures.end());
  ASSERT_EQ(m29->basis.size(), 1u);
  EXPECT_EQ(m29->basis[0].type, BasisType::kRelated);
  EXPECT_EQ(m29->basis[0].role, Role::kLegalRepresentative);
  EXPECT_EQ(m29->basis[0].via, CreditCode(1).text());
  EXPECT_EQ(m29->basis[0].via_name, "甲公司");
  EXPECT_EQ(m29->agency_name, "鹤岗市住房保障局");
}

TEST_F(MeasuresTest, OfficersGivenByTheCaller) {
  // Org 3 is unknown; the caller says its supervisor is the listed person 20.
  MeasureQuery q;
  q.officers.push_back(Officer{Role::kSupervisor, PersonId(20)});
  auto numbers = Applicable(CreditCode(3), q);
  EXPECT_TRUE(Has(numbers, 18));
  EXPECT_TRUE(Has(numbers, 22));
  EXPECT_FALSE(Has(numbers, 52));
  // A principal is not among the officers of 18 and 22.
  MeasureQuery pr;
  pr.officers.push_back(Officer{Role::kPrincipal, PersonId(20)});
  numbers = Applicable(CreditCode(3), pr);
  EXPECT_FALSE(Has(numbers, 18));
  EXPECT_FALSE(Has(numbers, 22));
}

TEST_F(MeasuresTest, TwoHopRuleOfMeasure52) {
  // Org 3's legal representative is person 1, the (unlisted) LR of listed org 1: banks stop
  // credit to org 3 (52), though no officer of org 3 is listed (so not 18 or 22).
  MeasureQuery q;
  q.officers.push_back(Officer{Role::kLegalRepresentative, PersonId(1)});
  auto result = Measures(*snap_, *catalog_, CreditCode(3), q);
  ASSERT_TRUE(result.ok());
  std::vector<int> numbers;
  for (const MeasureInfo& m : result->measures) numbers.push_back(m.no);
  EXPECT_EQ(numbers, std::vector<int>{52});
  const Basis& b = result->measures[0].basis[0];
  EXPECT_EQ(b.type, BasisType::kOfficer);
  EXPECT_EQ(b.role, Role::kLegalRepresentative);
  EXPECT_EQ(b.officer, PersonId(1).text());
  EXPECT_EQ(b.via, CreditCode(1).text());
  EXPECT_EQ(b.via_role, Role::kLegalRepresentative);
  // The AC of a listed organisation leading org 3 is not a two-hop ground.
  MeasureQuery ac;
  ac.officers.push_back(Officer{Role::kLegalRepresentative, PersonId(3)});
  EXPECT_TRUE(Applicable(CreditCode(3), ac).empty());
  // Nor is the director of org 3 who is LR of a listed organisation.
  MeasureQuery dir;
  dir.officers.push_back(Officer{Role::kDirector, PersonId(1)});
  EXPECT_TRUE(Applicable(CreditCode(3), dir).empty());
}

TEST_F(MeasuresTest, ScenarioAndAgencyFilters) {
  MeasureQuery hotel;
  hotel.scenario = catalog_->FindScenario("hotel");
  ASSERT_GE(hotel.scenario, 0);
  EXPECT_EQ(Applicable(PersonId(20), hotel), std::vector<int>{41});
  EXPECT_EQ(Applicable(PersonId(1), hotel), std::vector<int>{41});
  EXPECT_TRUE(Applicable(PersonId(5), hotel).empty());
  MeasureQuery signing;
  signing.scenario = catalog_->FindScenario("real_estate_signing");
  EXPECT_EQ(Applicable(PersonId(3), signing), std::vector<int>{29});
  MeasureQuery housing;
  housing.agency = catalog_->FindAgency("鹤岗市住房保障局");
  ASSERT_GE(housing.agency, 0);
  EXPECT_EQ(Applicable(CreditCode(1), housing), std::vector<int>{29});
}

// Measure 52 restricts the listed debtor's own accounts (依法限制其银行账户的结算与取现), but its
// legal representative and the enterprise it leads lose credit only: in bank_account the
// related and two-hop bases do not count (related_scenarios), in bank_credit they do.
TEST_F(MeasuresTest, AccountsOfTheListedDebtorOnly) {
  MeasureQuery account;
  account.scenario = catalog_->FindScenario("bank_account");
  MeasureQuery credit;
  credit.scenario = catalog_->FindScenario("bank_credit");
  ASSERT_GE(account.scenario, 0);
  ASSERT_GE(credit.scenario, 0);
  EXPECT_TRUE(Has(Applicable(CreditCode(1), account), 52));  // listed
  EXPECT_TRUE(Has(Applicable(PersonId(20), account), 52));   // listed
  EXPECT_FALSE(Has(Applicable(PersonId(1), account), 52));   // LR of listed org 1
  EXPECT_TRUE(Has(Applicable(PersonId(1), credit), 52));
  EXPECT_TRUE(Has(Applicable(PersonId(1)), 52));  // no filter: every basis
  MeasureQuery two_hop = account;
  two_hop.officers.push_back(Officer{Role::kLegalRepresentative, PersonId(1)});
  EXPECT_TRUE(Applicable(CreditCode(3), two_hop).empty());
  two_hop.scenario = credit.scenario;
  EXPECT_EQ(Applicable(CreditCode(3), two_hop), std::vector<int>{52});
  // A caller's default scenarios (a mask) filter alike.
  MeasureQuery caller_default;
  caller_default.scenarios = uint64_t{1} << account.scenario;
  EXPECT_FALSE(Has(Applicable(PersonId(1), caller_default), 52));
  caller_default.scenarios |= uint64_t{1} << credit.scenario;
  EXPECT_TRUE(Has(Applicable(PersonId(1), caller_default), 52));
}

// Banks and procurement key organisations by credit code: one asked about an organisation the
// list has only under the old code it embeds gets that organisation's measures, and so do its
// LR and an organisation the LR leads (two hops), on bases naming it as the list does.
TEST_F(MeasuresTest, ACreditCodeGetsTheMeasuresOfItsOrganisationListedByOrgCode) {
  const Id credit = testing::CreditCodeEmbedding(OrgCode(4));
  const std::vector<int> numbers = Applicable(credit);
  EXPECT_EQ(numbers, Applicable(OrgCode(4)));
  EXPECT_EQ(numbers, Applicable(CreditCode(1)));  // a listed organisation's
  MeasureQuery bank;
  bank.scenario = catalog_->FindScenario("bank_credit");
  ASSERT_GE(bank.scenario, 0);
  EXPECT_FALSE(Applicable(credit, bank).empty());
  auto lr = Measures(*snap_, *catalog_, PersonId(30), {});
  ASSERT_TRUE(lr.ok());
  EXPECT_TRUE(lr->subject.related);
  ASSERT_FALSE(lr->measures.empty());
  EXPECT_EQ(lr->measures[0].basis[0].via, OrgCode(4).text());
  MeasureQuery led;
  led.officers.push_back(Officer{Role::kLegalRepresentative, PersonId(30)});
  auto two_hop = Measures(*snap_, *catalog_, CreditCode(3), led);
  ASSERT_TRUE(two_hop.ok());
  ASSERT_EQ(two_hop->measures.size(), 1u);
  EXPECT_EQ(two_hop->measures[0].no, 52);
  EXPECT_EQ(two_hop->measures[0].basis[0].via, OrgCode(4).text());
}

TEST_F(MeasuresTest, UnlistedUnrelatedPersonHasNoMeasures) {
  EXPECT_TRUE(Applicable(PersonId(99)).empty());
}

TEST_F(MeasuresTest, InvalidQueriesAreRejected) {
  MeasureQuery officers_for_person;
  officers_for_person.officers.push_back(Officer{Role::kDirector, PersonId(1)});
  EXPECT_FALSE(Measures(*snap_, *catalog_, PersonId(20), officers_for_person).ok());
  MeasureQuery org_as_officer;
  org_as_officer.officers.push_back(Officer{Role::kDirector, CreditCode(1)});
  EXPECT_FALSE(Measures(*snap_, *catalog_, CreditCode(3), org_as_officer).ok());
  MeasureQuery bad_scenario;
  bad_scenario.scenario = 64;
  EXPECT_FALSE(Measures(*snap_, *catalog_, CreditCode(3), bad_scenario).ok());
}

}  // namespace
}  // namespace shixin
