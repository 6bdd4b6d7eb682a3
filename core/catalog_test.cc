#include "core/catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <xxhash.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/test_util.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;

constexpr RoleSet kLr = RoleBit(Role::kLegalRepresentative);
constexpr RoleSet kPr = RoleBit(Role::kPrincipal);
constexpr RoleSet kAc = RoleBit(Role::kActualController);
constexpr RoleSet kDr = RoleBit(Role::kDirectlyResponsible);
constexpr RoleSet kOfficers = kLr | kAc | RoleBit(Role::kDirector) | RoleBit(Role::kSupervisor) |
                              RoleBit(Role::kSeniorManager);

std::string HegangPath() { return testing::SourceDir() + "/data/measures/hegang-2018.json"; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class HegangTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<Catalog> loaded = Catalog::LoadFile(HegangPath());
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    catalog_ = new Catalog(*std::move(loaded));
  }
  static void TearDownTestSuite() {
    delete catalog_;
    catalog_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(catalog_, nullptr); }

  static const Measure& M(int no) {
    const Measure* m = catalog_->FindMeasure(no);
    EXPECT_NE(m, nullptr) << "measure " << no;
    return *m;
  }
  static bool HasScenario(const Measure& m, std::string_view id) {
    const int i = catalog_->FindScenario(id);
    EXPECT_GE(i, 0) << id;
    return i >= 0 && (m.scenarios >> i & 1) != 0;
  }

  static Catalog* catalog_;
};

Catalog* HegangTest::catalog_ = nullptr;

TEST_F(HegangTest, HasAll53MeasuresInOrder) {
  EXPECT_EQ(catalog_->id(), "hegang-2018");
  EXPECT_THAT(catalog_->title(), HasSubstr("联合惩戒的合作备忘录"));
  ASSERT_EQ(catalog_->measures().size(), 53u);
  EXPECT_EQ(catalog_->agencies().size(), 31u);
  for (int i = 0; i < 53; ++i) {
    const Measure& m = catalog_->measures()[i];
    EXPECT_EQ(m.no, i + 1);
    EXPECT_EQ(catalog_->FindMeasure(i + 1), &m);
    EXPECT_FALSE(m.title.empty());
    // Clauses are joined across the PDF's line breaks.
    EXPECT_EQ(m.clause.find('\n'), std::string::npos) << m.no;
  }
  EXPECT_EQ(catalog_->FindMeasure(0), nullptr);
  EXPECT_EQ(catalog_->FindMeasure(54), nullptr);
}

TEST_F(HegangTest, FingerprintIsXxh3OfTheFile) {
  const std::string bytes = ReadFile(HegangPath());
  EXPECT_EQ(catalog_->fingerprint(), XXH3_64bits(bytes.data(), bytes.size()));
}

TEST_F(HegangTest, SubjectKinds) {
  struct Row {
    int no;
    bool person;
    bool organization;
  };
  const Row rows[] = {
      {1, true, false},  {4, true, false},  {6, true, false},  {7, true, false},  {11, true, false},
      {14, true, false}, {21, true, false}, {31, true, false}, {51, true, false}, {12, false, true},
      {15, false, true}, {16, true, true},  {29, true, true},  {41, true, true},  {39, true, true},
      {40, true, true},  {43, true, true},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(M(row.no).applies_to_person, row.person) << "measure " << row.no;
    EXPECT_EQ(M(row.no).applies_to_organization, row.organization) << "measure " << row.no;
  }
}

TEST_F(HegangTest, RelatedRoles) {
  for (int no : {26, 27, 29, 41, 46}) {
    EXPECT_EQ(M(no).related_roles, kLr | kPr | kAc | kDr) << "measure " << no;
  }
  EXPECT_EQ(M(52).related_roles, kLr | kPr);
  int with_related = 0;
  for (const Measure& m : catalog_->measures()) with_related += m.related_roles != 0;
  EXPECT_EQ(with_related, 6);
}

TEST_F(HegangTest, OfficerRules) {
  EXPECT_EQ(M(18).officer_listed_roles, kOfficers);
  EXPECT_TRUE(M(18).applies_to_organization);
  EXPECT_EQ(M(22).officer_listed_roles, kOfficers);
  EXPECT_TRUE(M(22).applies_to_person);
  EXPECT_TRUE(M(22).applies_to_organization);
  EXPECT_EQ(M(52).two_hop_officer_roles, kLr | kPr);
  EXPECT_EQ(M(52).two_hop_via_roles, kLr | kPr);
  for (const Measure& m : catalog_->measures()) {
    if (m.no != 52) {
      EXPECT_EQ(m.two_hop_officer_roles, 0) << "measure " << m.no;
    }
  }
}

TEST_F(HegangTest, Effects) {
  const std::pair<int, Effect> rows[] = {
      {5, Effect::kPublicity}, {26, Effect::kNotifyCourt}, {36, Effect::kAssistCourt},
      {39, Effect::kCriminal}, {40, Effect::kCriminal},    {42, Effect::kAssistCourt},
      {43, Effect::kCriminal}, {45, Effect::kReview},      {18, Effect::kReview},
      {41, Effect::kRestrict}, {29, Effect::kRestrict},    {52, Effect::kRestrict},
  };
  for (const auto& [no, effect] : rows) {
    EXPECT_EQ(M(no).effect, effect) << "measure " << no << ": " << EffectName(M(no).effect);
  }
}

TEST_F(HegangTest, AgenciesFollowTheNumberingNotThePdfOrder) {
  const auto& agencies = catalog_->agencies();
  EXPECT_EQ(agencies[M(49).agency].name, "鹤岗市食品药品监督管理局");
  EXPECT_EQ(agencies[M(49).agency].section, "（二十九）");
  EXPECT_EQ(agencies[M(52).agency].section, "（三十）");
  EXPECT_EQ(agencies[M(50).agency].section, "（三十）");
  EXPECT_EQ(agencies[M(53).agency].name, "鹤岗市公共资源交易中心");
  EXPECT_EQ(agencies[M(53).agency].section, "（三十一）");
  EXPECT_EQ(agencies[M(48).agency].section, "（二十八）");
}

TEST_F(HegangTest, Scenarios) {
  EXPECT_TRUE(HasScenario(M(41), "hotel"));
  EXPECT_TRUE(HasScenario(M(46), "travel"));
  EXPECT_TRUE(HasScenario(M(29), "real_estate_signing"));
  EXPECT_FALSE(HasScenario(M(29), "hotel"));
  EXPECT_TRUE(HasScenario(M(52), "bank_credit"));
  // Measure 52 restricts a listed debtor's own accounts, its legal representative's credit only.
  const uint64_t credit = uint64_t{1} << catalog_->FindScenario("bank_credit");
  const uint64_t account = uint64_t{1} << catalog_->FindScenario("bank_account");
  EXPECT_EQ(M(52).scenarios, credit | account);
  EXPECT_EQ(M(52).related_scenarios, credit);
  EXPECT_EQ(M(41).related_scenarios, M(41).scenarios);  // by default, all of them
  EXPECT_EQ(catalog_->FindScenario("no_such_scenario"), -1);
  // Each scenario keeps its description (served by CATALOG).
  const Scenario& hotel = catalog_->scenarios()[catalog_->FindScenario("hotel")];
  EXPECT_EQ(hotel.id, "hotel");
  EXPECT_NE(hotel.description.find("hotel"), std::string::npos) << hotel.description;
}

TEST_F(HegangTest, FindAgencyByIdOrName) {
  const int housing = catalog_->FindAgency("housing");
  ASSERT_GE(housing, 0);
  EXPECT_EQ(catalog_->FindAgency("鹤岗市住房保障局"), housing);
  EXPECT_EQ(catalog_->agencies()[housing].section, "（十三）");
  EXPECT_EQ(M(29).agency, housing);
  EXPECT_EQ(catalog_->FindAgency("nobody"), -1);
}

TEST_F(HegangTest, ClausesAreVerbatim) {
  EXPECT_EQ(M(7).clause, "失信被执行人为个人的，限制其登记为事业单位法定代表人。");
  EXPECT_EQ(M(7).title, "担任事业单位法定代表人限制");
  // Measure 14 is split by a page break in the source.
  EXPECT_THAT(M(14).clause, HasSubstr("配合有关部门限制其担任"));
}

TEST(EffectTest, NamesRoundTrip) {
  for (int i = 0; i < kEffectCount; ++i) {
    const Effect effect = static_cast<Effect>(i);
    EXPECT_EQ(EffectFromName(EffectName(effect)), effect);
  }
  EXPECT_EQ(EffectName(Effect::kNotifyCourt), "notify_court");
  EXPECT_EQ(EffectFromName("deny"), std::nullopt);
}

// A small valid catalog; {M1} and {M2} are replaced by the two measures, {TOP} by extra keys.
constexpr char kTemplate[] = R"({
  "id": "t", "title": "T", "effective": "2020-02-29",{TOP}
  "scenarios": [{"id": "hotel", "description": "d"}, {"id": "travel", "description": "d"}],
  "agencies": [{"id": "police", "section": "（一）", "name": "公安局"},
               {"id": "bank", "section": "（二）", "name": "银行"}],
  "measures": [{M1}, {M2}]
})";
constexpr char kM1[] =
    R"({"no": 1, "agency": "police", "title": "a", "clause": "c", "subjects": ["person"],
        "effect": "restrict", "scenarios": ["hotel"]})";
constexpr char kM2[] =
    R"({"no": 2, "agency": "bank", "title": "b", "clause": "c", "subjects": ["organization"],
        "related_roles": ["legal_representative"], "effect": "review"})";

std::string Doc(const std::string& m1 = kM1, const std::string& m2 = kM2,
                const std::string& top = "") {
  return absl::StrReplaceAll(kTemplate, {{"{M1}", m1}, {"{M2}", m2}, {"{TOP}", top}});
}

// Measure 2 with `fields` replacing its rule fields.
std::string DocWithM2(const std::string& fields) {
  return Doc(kM1, absl::StrCat(R"({"no": 2, "agency": "bank", "title": "b", "clause": "c", )",
                               fields, "}"));
}

// Parses `json` and expects an InvalidArgument error whose message contains `message`.
void ExpectInvalid(const std::string& json, std::string_view message) {
  absl::StatusOr<Catalog> catalog = Catalog::Parse(json, "t.json");
  ASSERT_FALSE(catalog.ok()) << json;
  EXPECT_EQ(catalog.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(catalog.status().message(), HasSubstr(message));
}

TEST(CatalogParseTest, TemplateIsValid) {
  absl::StatusOr<Catalog> catalog = Catalog::Parse(Doc(), "t.json");
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_EQ(catalog->measures().size(), 2u);
  EXPECT_EQ(catalog->FindMeasure(2)->related_roles, kLr);
  EXPECT_EQ(catalog->FindMeasure(1)->scenarios, 1u);
  EXPECT_EQ(catalog->FindMeasure(2)->scenarios, 0u);
  EXPECT_EQ(catalog->fingerprint(), Catalog::Parse(Doc(), "u.json")->fingerprint());
  EXPECT_NE(catalog->fingerprint(), Catalog::Parse(Doc(kM1, kM2, " \n"), "t.json")->fingerprint());
}

TEST(CatalogParseTest, InvalidJson) { ExpectInvalid("{\"id\": ", "t.json: invalid JSON"); }

TEST(CatalogParseTest, TopLevelMustBeAnObject) { ExpectInvalid("[]", "must be an object"); }

TEST(CatalogParseTest, UnknownTopLevelKey) {
  ExpectInvalid(Doc(kM1, kM2, R"( "version": 2,)"), R"(t.json: unknown key "version")");
}

TEST(CatalogParseTest, MissingTopLevelKey) {
  ExpectInvalid(absl::StrReplaceAll(Doc(), {{R"("title": "T",)", ""}}), R"(missing "title")");
}

TEST(CatalogParseTest, BadEffectiveDate) {
  ExpectInvalid(absl::StrReplaceAll(Doc(), {{"2020-02-29", "2019-02-29"}}), "YYYY-MM-DD");
}

TEST(CatalogParseTest, UnknownMeasureKey) {
  ExpectInvalid(DocWithM2(R"("subject": ["person"], "effect": "restrict")"),
                R"(t.json: measure 2: unknown key "subject")");
}

TEST(CatalogParseTest, DuplicateMeasureKey) {
  ExpectInvalid(DocWithM2(R"("subjects": ["person"], "effect": "restrict", "effect": "review")"),
                R"(t.json: measure 2: duplicate key "effect")");
}

TEST(CatalogParseTest, MissingNumberKey) {
  ExpectInvalid(Doc(kM1, R"({"agency": "bank"})"), R"(t.json: measures[1]: missing "no")");
}

TEST(CatalogParseTest, NumberMustBeAPositiveInteger) {
  ExpectInvalid(Doc(kM1, absl::StrReplaceAll(kM2, {{"\"no\": 2", "\"no\": \"2\""}})),
                "measures[1]: \"no\" must be a positive integer");
  ExpectInvalid(Doc(kM1, absl::StrReplaceAll(kM2, {{"\"no\": 2", "\"no\": 0"}})),
                "positive integer");
}

TEST(CatalogParseTest, DuplicateNumber) {
  ExpectInvalid(Doc(kM1, absl::StrReplaceAll(kM2, {{"\"no\": 2", "\"no\": 1"}})),
                "t.json: measure 1: duplicate number");
}

TEST(CatalogParseTest, MissingNumber) {
  ExpectInvalid(Doc(kM1, absl::StrReplaceAll(kM2, {{"\"no\": 2", "\"no\": 3"}})),
                "t.json: measure 2 is missing");
}

TEST(CatalogParseTest, NumberingMustStartAtOne) {
  ExpectInvalid(Doc(absl::StrReplaceAll(kM1, {{"\"no\": 1", "\"no\": 3"}}), kM2),
                "t.json: measure 1 is missing");
}

TEST(CatalogParseTest, EmptyMeasures) {
  ExpectInvalid(absl::StrReplaceAll(kTemplate, {{"[{M1}, {M2}]", "[]"}, {"{TOP}", ""}}),
                "\"measures\" must not be empty");
}

TEST(CatalogParseTest, UnknownAgency) {
  ExpectInvalid(Doc(kM1, absl::StrReplaceAll(kM2, {{"\"bank\"", "\"tax\""}})),
                R"(t.json: measure 2: unknown agency "tax")");
}

TEST(CatalogParseTest, UnknownRole) {
  ExpectInvalid(DocWithM2(R"("subjects": [], "related_roles": ["ceo"], "effect": "restrict")"),
                R"(t.json: measure 2: unknown role "ceo")");
}

TEST(CatalogParseTest, DuplicateRole) {
  ExpectInvalid(
      DocWithM2(
          R"("subjects": [], "related_roles": ["principal", "principal"], "effect": "review")"),
      R"(duplicate role "principal")");
}

TEST(CatalogParseTest, UnknownOfficerRole) {
  ExpectInvalid(
      DocWithM2(R"("subjects": [], "officers": {"listed_roles": ["boss"]}, "effect": "review")"),
      R"(t.json: measure 2: unknown role "boss")");
}

TEST(CatalogParseTest, UnknownOfficersKey) {
  ExpectInvalid(
      DocWithM2(R"("subjects": [], "officers": {"roles": ["director"]}, "effect": "review")"),
      R"(t.json: measure 2: officers: unknown key "roles")");
}

TEST(CatalogParseTest, TwoHopNeedsBothRoleSets) {
  ExpectInvalid(DocWithM2(R"("subjects": [], "two_hop": {"officer_roles": ["principal"]},
                             "effect": "restrict")"),
                R"(t.json: measure 2: missing "two_hop.via_roles")");
}

TEST(CatalogParseTest, UnknownSubject) {
  ExpectInvalid(DocWithM2(R"("subjects": ["company"], "effect": "restrict")"),
                R"(t.json: measure 2: unknown subject "company")");
}

TEST(CatalogParseTest, UnknownEffect) {
  ExpectInvalid(DocWithM2(R"("subjects": ["person"], "effect": "deny")"),
                R"(t.json: measure 2: unknown effect "deny")");
}

TEST(CatalogParseTest, MissingEffect) {
  ExpectInvalid(DocWithM2(R"("subjects": ["person"])"), R"(t.json: measure 2: missing "effect")");
}

TEST(CatalogParseTest, UnknownScenario) {
  ExpectInvalid(DocWithM2(R"("subjects": ["person"], "effect": "restrict", "scenarios": ["golf"])"),
                R"(t.json: measure 2: unknown scenario "golf")");
}

TEST(CatalogParseTest, RelatedScenarios) {
  const std::string rules =
      R"("subjects": ["organization"], "related_roles": ["legal_representative"],
         "effect": "restrict", "scenarios": ["hotel", "travel"], )";
  absl::StatusOr<Catalog> catalog =
      Catalog::Parse(DocWithM2(rules + R"("related_scenarios": ["travel"])"), "t.json");
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_EQ(catalog->FindMeasure(2)->scenarios, 3u);
  EXPECT_EQ(catalog->FindMeasure(2)->related_scenarios, 2u);
  ExpectInvalid(DocWithM2(rules + R"("related_scenarios": ["travel", "travel"])"),
                R"(t.json: measure 2: duplicate scenario "travel")");
  ExpectInvalid(DocWithM2(rules + R"("related_scenarios": ["golf"])"),
                R"(t.json: measure 2: unknown scenario "golf")");
  ExpectInvalid(
      DocWithM2(R"("subjects": ["organization"], "related_roles": ["legal_representative"],
                   "effect": "restrict", "scenarios": ["hotel"], "related_scenarios": ["travel"])"),
      R"(t.json: measure 2: "related_scenarios" must be some of the measure's "scenarios")");
  ExpectInvalid(
      DocWithM2(R"("subjects": ["person"], "effect": "restrict", "scenarios": ["hotel"],
                             "related_scenarios": ["hotel"])"),
      R"(t.json: measure 2: "related_scenarios" without related_roles, officers or two_hop)");
}

TEST(CatalogParseTest, EmptyTitle) {
  ExpectInvalid(Doc(kM1, absl::StrReplaceAll(kM2, {{"\"title\": \"b\"", "\"title\": \" \""}})),
                R"(t.json: measure 2: "title" must not be empty)");
}

TEST(CatalogParseTest, EmptyClause) {
  ExpectInvalid(Doc(kM1, absl::StrReplaceAll(kM2, {{"\"clause\": \"c\"", "\"clause\": \"\""}})),
                R"(t.json: measure 2: "clause" must not be empty)");
}

TEST(CatalogParseTest, AppliesToNobody) {
  ExpectInvalid(DocWithM2(R"("subjects": [], "related_roles": [], "effect": "criminal")"),
                "t.json: measure 2: applies to nobody");
}

TEST(CatalogParseTest, RulesAloneAreEnough) {
  absl::StatusOr<Catalog> catalog = Catalog::Parse(
      DocWithM2(
          R"("subjects": [], "officers": {"listed_roles": ["director"]}, "effect": "review")"),
      "t.json");
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_EQ(catalog->FindMeasure(2)->officer_listed_roles, RoleBit(Role::kDirector));
}

std::string DocWithScenarios(int count) {
  std::string scenarios;
  for (int i = 0; i < count; ++i) {
    absl::StrAppend(&scenarios, i == 0 ? "" : ", ", R"({"id": "s)", i, R"("})");
  }
  return absl::StrReplaceAll(
      Doc(), {{R"([{"id": "hotel", "description": "d"}, {"id": "travel", "description": "d"}])",
               absl::StrCat("[", scenarios, "]")},
              {R"(, "scenarios": ["hotel"])", R"(, "scenarios": ["s63"])"}});
}

TEST(CatalogParseTest, AtMost64Scenarios) {
  absl::StatusOr<Catalog> catalog = Catalog::Parse(DocWithScenarios(64), "t.json");
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_EQ(catalog->FindMeasure(1)->scenarios, uint64_t{1} << 63);
  ExpectInvalid(DocWithScenarios(65), "t.json: too many scenarios: 65");
}

TEST(CatalogParseTest, DuplicateScenarioId) {
  ExpectInvalid(absl::StrReplaceAll(Doc(), {{R"({"id": "travel")", R"({"id": "hotel")"}}),
                R"(duplicate scenario id "hotel")");
}

TEST(CatalogParseTest, DuplicateAgency) {
  ExpectInvalid(absl::StrReplaceAll(Doc(), {{R"("name": "银行")", R"("name": "公安局")"}}),
                R"(t.json: agency 2: duplicate agency "公安局")");
}

TEST(CatalogParseTest, BadAgencyId) {
  ExpectInvalid(absl::StrReplaceAll(Doc(), {{R"("id": "bank")", R"("id": "Bank Office")"}}),
                "must be lower-case ASCII");
}

TEST(CatalogLoadFileTest, MissingFileIsNotFound) {
  absl::StatusOr<Catalog> catalog = Catalog::LoadFile("/nonexistent/catalog.json");
  EXPECT_EQ(catalog.status().code(), absl::StatusCode::kNotFound);
}

// Another memorandum, with other agencies, scenarios and numbers, loads with no code change.
TEST(CatalogParseTest, AnotherCatalogLoads) {
  constexpr std::string_view kNational = R"({
    "id": "national-2016",
    "title": "关于对失信被执行人实施联合惩戒的合作备忘录",
    "scenarios": [{"id": "aviation", "description": "Air tickets."},
                  {"id": "rail", "description": "High-speed rail tickets."}],
    "agencies": [{"id": "caac", "section": "（十）", "name": "中国民用航空局"},
                 {"id": "railway", "section": "（十一）", "name": "中国铁路总公司"}],
    "measures": [
      {"no": 2, "agency": "railway", "title": "乘坐高铁限制", "clause": "限制乘坐G字头动车组列车。",
       "subjects": ["person"], "related_roles": ["legal_representative", "directly_responsible"],
       "effect": "restrict", "scenarios": ["rail"]},
      {"no": 1, "agency": "caac", "title": "乘坐飞机限制", "clause": "限制乘坐飞机。",
       "subjects": ["person"], "effect": "restrict", "scenarios": ["aviation"],
       "note": "persons only"}
    ]})";
  absl::StatusOr<Catalog> catalog = Catalog::Parse(kNational, "national-2016.json");
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_EQ(catalog->id(), "national-2016");
  ASSERT_EQ(catalog->measures().size(), 2u);
  EXPECT_EQ(catalog->measures()[0].no, 1);
  EXPECT_EQ(catalog->measures()[0].title, "乘坐飞机限制");
  const Measure* rail = catalog->FindMeasure(2);
  ASSERT_NE(rail, nullptr);
  EXPECT_EQ(rail->agency, catalog->FindAgency("中国铁路总公司"));
  EXPECT_EQ(rail->related_roles, kLr | kDr);
  EXPECT_EQ(rail->scenarios, uint64_t{1} << catalog->FindScenario("rail"));
  EXPECT_EQ(catalog->FindAgency("caac"), 0);
  EXPECT_EQ(catalog->FindScenario("hotel"), -1);
}

}  // namespace
}  // namespace shixin
