#include "core/masking.h"

#include <gtest/gtest.h>

#include <string>

#include "core/id.h"
#include "core/query.h"
#include "core/record.h"

namespace shixin {
namespace {

constexpr std::string_view kPerson = "11010519491231002X";  // resident IDs
constexpr std::string_view kPersonMasked = "1101051949****002X";
constexpr std::string_view kOther = "440304199003070018";
constexpr std::string_view kOtherMasked = "4403041990****0018";
constexpr std::string_view kOrg = "91350500156488989A";  // credit codes
constexpr std::string_view kOrgMasked = "9135050015****989A";
constexpr std::string_view kOrg2 = "911100001000004467";
constexpr std::string_view kOrg2Masked = "9111000010****4467";
constexpr std::string_view kOrgCode = "552698531";  // organisation codes stay whole

TEST(MaskingTest, ViewNames) {
  EXPECT_EQ(ViewName(View::kFull), "full");
  EXPECT_EQ(ViewName(View::kMasked), "masked");
  EXPECT_EQ(ParseView("full"), View::kFull);
  EXPECT_EQ(ParseView("masked"), View::kMasked);
  EXPECT_EQ(ParseView("Full"), std::nullopt);
  EXPECT_EQ(ParseView(""), std::nullopt);
  EXPECT_EQ(ParseView("masked "), std::nullopt);
}

TEST(MaskingTest, MaskNameKeepsTheFirstCharacter) {
  EXPECT_EQ(MaskName("张三丰"), "张**");
  EXPECT_EQ(MaskName("张三"), "张*");
  EXPECT_EQ(MaskName("张"), "张");
  EXPECT_EQ(MaskName("ABC Ltd"), "A******");
  EXPECT_EQ(MaskName("A"), "A");
  EXPECT_EQ(MaskName(""), "");
  // Four-byte characters (U+20BB7 𠮷) and a mixed text.
  EXPECT_EQ(MaskName("𠮷野家"), "𠮷**");
  EXPECT_EQ(MaskName("李𠮷 Ltd."), "李******");
  EXPECT_EQ(MaskName("北京某某科技有限公司"), "北*********");
}

TEST(MaskingTest, MaskNameOnInvalidUtf8) {
  // Each bad byte counts as one character; a bad first one is given as U+FFFD.
  EXPECT_EQ(MaskName("\xFF"), "\xEF\xBF\xBD");
  EXPECT_EQ(MaskName("\x80"
                     "ab"),
            "\xEF\xBF\xBD**");
  EXPECT_EQ(MaskName("a\xFF\xFE"), "a**");
  // A character cut short at the end: its bytes do not run past the end.
  EXPECT_EQ(MaskName(std::string_view("\xE5\xBC", 2)), "\xEF\xBF\xBD*");
  EXPECT_EQ(MaskName("张\xE5\xBC"), "张**");
  EXPECT_EQ(MaskName("\xF0\x9F\x98"), "\xEF\xBF\xBD**");
  // Overlong forms and surrogates are not characters.
  EXPECT_EQ(MaskName("\xC0\xAF"), "\xEF\xBF\xBD*");
  EXPECT_EQ(MaskName("\xE0\x80\xAF"), "\xEF\xBF\xBD**");
  EXPECT_EQ(MaskName("\xED\xA0\x80"), "\xEF\xBF\xBD**");
  EXPECT_EQ(MaskName("\xF4\x90\x80\x80"), "\xEF\xBF\xBD***");
  // An embedded NUL is a character.
  EXPECT_EQ(MaskName(std::string_view("a\0b", 3)), "a**");
}

TEST(MaskingTest, MaskIdTextIsIdMaskedForIds) {
  EXPECT_EQ(MaskIdText(kPerson), kPersonMasked);
  EXPECT_EQ(MaskIdText(kPerson), ParseId(kPerson)->Masked());
  EXPECT_EQ(MaskIdText(kOrg), kOrgMasked);
  EXPECT_EQ(MaskIdText(kOrg2), kOrg2Masked);
  EXPECT_EQ(MaskIdText(kOrgCode), kOrgCode);
}

TEST(MaskingTest, MaskIdTextOfOtherTexts) {
  EXPECT_EQ(MaskIdText(""), "");
  EXPECT_EQ(MaskIdText("110105194912310021"), "1*****************");  // bad check character
  EXPECT_EQ(MaskIdText("12345"), "1****");
  EXPECT_EQ(MaskIdText("张三"), "张*");
}

TEST(MaskingTest, MaskIdsInTextMasksIdsInFreeText) {
  // A resident ID, a foreigner's permanent residence ID, one after a name, one with a lower-case
  // check character, a full-width one: masked as Id::Masked() would.
  EXPECT_EQ(MaskIdsInText("230402197203140038"), "2304021972****0038");
  EXPECT_EQ(MaskIdsInText("933840198001010019"), "9338401980****0019");
  EXPECT_EQ(MaskIdsInText("陈海波 11010519491231002x，法定代表人"),
            "陈海波 1101051949****002x，法定代表人");
  EXPECT_EQ(MaskIdsInText("１１０１０５１９４９１２３１００２Ｘ"),
            "１１０１０５１９４９****００２Ｘ");
  // An old 15-digit ID (its month and day hidden), and longer runs that may hide one.
  EXPECT_EQ(MaskIdsInText("id:110105491231002;"), "id:11010549****002;");
  EXPECT_EQ(MaskIdsInText("12304021972031400381"), "123040**********0381");
  EXPECT_EQ(MaskIdsInText("1101051949123100"), "110105******3100");
  // Short numbers, letters and other texts stay.
  for (std::string_view kept :
       {"", "陈海波", "(2015)鹤向法执字第00232号", "91350503MA2XK7R352", "11010519491231 002X",
        "20180713", "12345678901234", "X11010519491231X", "\xFF\xEF\xBC"}) {
    EXPECT_EQ(MaskIdsInText(kept), kept);
  }
}

// An ID written in the groups ParseId() reads (README: "as printed on forms") is an ID too.
TEST(MaskingTest, MaskIdsInTextMasksIdsWrittenInGroups) {
  EXPECT_EQ(MaskIdsInText("赵五（身份证 230402 19600404 4233）"),
            "赵五（身份证 230402 1960**** 4233）");
  EXPECT_EQ(MaskIdsInText("钱六230402-19500505-5239"), "钱六230402-1950****-5239");
  EXPECT_EQ(MaskIdsInText("李 230402-19900202-2237,"), "李 230402-1990****-2237,");
  // Each separator ParseId() takes (U+3000, U+00A0, U+FF0D, U+2010-U+2013), mixed; a check X.
  EXPECT_EQ(MaskIdsInText("110105　19491231 002x"), "110105　1949**** 002x");
  EXPECT_EQ(MaskIdsInText("110105－19491231–002X"), "110105－1949****–002X");
  EXPECT_EQ(MaskIdsInText("110105‐19491231‑002Ｘ"), "110105‐1949****‑002Ｘ");
  EXPECT_EQ(MaskIdsInText("１１０１０５　１９４９１２３１　００２Ｘ"),
            "１１０１０５　１９４９****　００２Ｘ");
  // The old 15-digit ID in 6-6-3: first 8 and last 3 kept, as the contiguous one.
  EXPECT_EQ(MaskIdsInText("id:110105 491231 002;"), "id:110105 49**** 002;");
  EXPECT_EQ(MaskIdsInText("110105-491231-002"), "110105-49****-002");
  // Case numbers, amounts, dates, phone numbers, and groupings that are no person's ID stay:
  // groups of other sizes, two separators in one place, a tab or a slash between groups, digits
  // going on after the last group or before the first, an 18-digit one cut short.
  for (std::string_view kept :
       {"（2026）黑0402执88号", "偿还借款 1,000,000 元", "2026-12-06 12:00:00", "13800000000",
        "0468-8123456", "138 0013 8000", "6222 0212 3456 7890 123", "230402 1960040 4233",
        "230402  19600404 4233", "230402	19600404 4233", "230402/19600404/4233",
        "230402 19600404 42331", "1230402 19600404 4233", "230402 19600404 423",
        "11010519491231 002X", "91 230402 MA1B2C3D82", "55269853-1"}) {
    EXPECT_EQ(MaskIdsInText(kept), kept);
  }
}

// Returns a case with every field set: a text to its name, any other field to 1.
CaseInfo FullCase() {
  CaseInfo c;
  ForEachCaseField(
      []<typename M>(const CaseField& field, M& m) {
        if constexpr (kIsCaseText<M>) {
          m = "「" + std::string(field.name) + "」";
        } else {
          m = static_cast<M>(1);
        }
      },
      c);
  return c;
}

CheckResult PersonResult() {
  CheckResult r;
  r.id = kPerson;
  r.kind = SubjectKind::kPerson;
  r.listed = true;
  r.related = true;
  r.name = "张三丰";
  r.since = 1520179200;
  r.until = 1600000000;
  r.cases = {FullCase(), FullCase()};
  r.cases[1].case_code = "（2019）黑04执9号";
  r.roles = {
      RoleInfo{Role::kLegalRepresentative, std::string(kOrg), "北京某某科技有限公司", true},
      RoleInfo{Role::kDirector, std::string(kOrg2), "ABC Ltd", false},
      RoleInfo{Role::kDirector, std::string(kOrgCode), "上海某某", false},
  };
  return r;
}

CheckResult OrgResult() {
  CheckResult r;
  r.id = kOrg;
  r.kind = SubjectKind::kOrganization;
  r.listed = false;
  r.name = "北京某某科技有限公司";
  r.officers = {
      RoleInfo{Role::kLegalRepresentative, std::string(kPerson), "张三丰", true},
      RoleInfo{Role::kDirector, std::string(kOther), "李四", false},
      RoleInfo{Role::kDirector, "", "", false},
  };
  return r;
}

TEST(MaskingTest, FullViewLeavesCheckResultsWhole) {
  for (const CheckResult& original : {PersonResult(), OrgResult(), CheckResult{}}) {
    CheckResult r = original;
    Mask(View::kFull, &r);
    EXPECT_TRUE(r == original);
  }
}

TEST(MaskingTest, MaskedCheckOfAListedPerson) {
  CheckResult r = PersonResult();
  Mask(View::kMasked, &r);
  EXPECT_EQ(r.id, kPerson);     // the caller sent it
  EXPECT_EQ(r.name, "张三丰");  // listed: public
  EXPECT_TRUE(r.listed);
  EXPECT_TRUE(r.related);
  EXPECT_EQ(r.since, 1520179200);
  EXPECT_EQ(r.until, 1600000000);
  ASSERT_EQ(r.roles.size(), 3u);
  EXPECT_EQ(r.roles[0].id, kOrg);                      // an organisation's code is public (x22 #12)
  EXPECT_EQ(r.roles[0].name, "北京某某科技有限公司");  // listed organisation
  EXPECT_EQ(r.roles[0].role, Role::kLegalRepresentative);
  EXPECT_TRUE(r.roles[0].listed);
  EXPECT_EQ(r.roles[1].id, kOrg2);
  EXPECT_EQ(r.roles[1].name, "A******");
  EXPECT_EQ(r.roles[1].role, Role::kDirector);
  EXPECT_FALSE(r.roles[1].listed);
  EXPECT_EQ(r.roles[2].id, kOrgCode);
  EXPECT_EQ(r.roles[2].name, "上***");
}

TEST(MaskingTest, MaskedCasesKeepOnlyWhatIsPublicAndNeeded) {
  CheckResult r = PersonResult();
  Mask(View::kMasked, &r);
  ASSERT_EQ(r.cases.size(), 2u);
  CaseInfo expected;
  const CaseInfo full = FullCase();
  expected.case_code = full.case_code;
  expected.court = full.court;
  expected.area = full.area;
  expected.reg_date = full.reg_date;
  expected.publish_date = full.publish_date;
  expected.disrupt_type = full.disrupt_type;
  expected.term_end = full.term_end;
  expected.start = full.start;
  expected.ended_at = full.ended_at;
  expected.end = full.end;
  EXPECT_EQ(r.cases[0], expected);
  expected.case_code = "（2019）黑04执9号";
  EXPECT_EQ(r.cases[1], expected);
  // Spelled out: no duty, performance, judgment or personal details remain.
  EXPECT_EQ(r.cases[0].duty, "");
  EXPECT_EQ(r.cases[0].performance, "");
  EXPECT_EQ(r.cases[0].performed_part, "");
  EXPECT_EQ(r.cases[0].unperform_part, "");
  EXPECT_EQ(r.cases[0].gist_id, "");
  EXPECT_EQ(r.cases[0].gist_unit, "");
  EXPECT_EQ(r.cases[0].business_entity, "");
  EXPECT_EQ(r.cases[0].age, 0);
  EXPECT_EQ(r.cases[0].sex, Sex::kUnknown);
}

// A person's ID the court wrote into a text a masked caller sees (the listed subject's or a
// listed party's name, the court, the conduct) is a third party's: masked, as the public export
// masks it; the texts are otherwise kept.
TEST(MaskingTest, MaskedViewMasksIdsWrittenIntoTheTextsItKeeps) {
  CheckResult r = PersonResult();
  r.name = "张三丰（身份证 230402 19600404 4233）";
  r.cases[0].court = "鹤岗市向阳区人民法院230402196004044233";
  r.cases[0].disrupt_type = "违反财产报告制度 230402-19500505-5239";
  r.roles[0].name = "北京某某科技有限公司 110105194912310029";
  Mask(View::kMasked, &r);
  EXPECT_EQ(r.name, "张三丰（身份证 230402 1960**** 4233）");
  EXPECT_EQ(r.cases[0].court, "鹤岗市向阳区人民法院2304021960****4233");
  EXPECT_EQ(r.cases[0].disrupt_type, "违反财产报告制度 230402-1950****-5239");
  EXPECT_EQ(r.cases[0].case_code, FullCase().case_code);
  EXPECT_EQ(r.roles[0].name, "北京某某科技有限公司 1101051949****0029");
  // The full view keeps them whole.
  CheckResult full = PersonResult();
  full.name = "张三丰（身份证 230402 19600404 4233）";
  Mask(View::kFull, &full);
  EXPECT_EQ(full.name, "张三丰（身份证 230402 19600404 4233）");
}

TEST(MaskingTest, MaskedCheckOfAPersonOnlyRelated) {
  CheckResult r = PersonResult();
  r.listed = false;
  r.cases.clear();
  Mask(View::kMasked, &r);
  EXPECT_EQ(r.id, kPerson);
  EXPECT_EQ(r.name, "张**");
  EXPECT_TRUE(r.related);
}

TEST(MaskingTest, MaskedCheckOfAnOrganisationAndItsOfficers) {
  CheckResult r = OrgResult();
  Mask(View::kMasked, &r);
  EXPECT_EQ(r.id, kOrg);             // a credit code the caller sent stays whole
  EXPECT_EQ(r.name, "北*********");  // not listed
  ASSERT_EQ(r.officers.size(), 3u);
  EXPECT_EQ(r.officers[0].id, kPersonMasked);
  EXPECT_EQ(r.officers[0].name, "张三丰");  // listed
  EXPECT_EQ(r.officers[1].id, kOtherMasked);
  EXPECT_EQ(r.officers[1].name, "李*");  // not listed
  EXPECT_EQ(r.officers[2].id, "");
  EXPECT_EQ(r.officers[2].name, "");

  CheckResult listed = OrgResult();
  listed.listed = true;
  Mask(View::kMasked, &listed);
  EXPECT_EQ(listed.name, "北京某某科技有限公司");
}

TEST(MaskingTest, MaskedCheckOfAnUnknownId) {
  CheckResult r;
  r.id = kOther;
  Mask(View::kMasked, &r);
  EXPECT_EQ(r.id, kOther);
  EXPECT_EQ(r.name, "");
  EXPECT_TRUE(r.cases.empty());
  EXPECT_TRUE(r.roles.empty());
  EXPECT_TRUE(r.officers.empty());
}

// An organisation with a listed officer kPerson (one hop), and a two-hop officer kOther
// holding a role in the listed organisation kOrg2.
MeasuresResult OrgMeasures() {
  MeasuresResult r;
  r.subject = OrgResult();
  r.subject.id = kOrgCode;
  MeasureInfo m;
  m.no = 3;
  m.title = "限制乘坐飞机";
  m.agency = "caac";
  m.agency_name = "中国民用航空局";
  Basis one_hop{BasisType::kOfficer, Role::kLegalRepresentative, "",      "",
                std::nullopt,        std::string(kPerson),       "张三丰"};
  Basis two_hop{BasisType::kOfficer,
                Role::kDirector,
                std::string(kOrg2),
                "ABC Ltd",
                Role::kLegalRepresentative,
                std::string(kOther),
                "李四"};
  m.basis = {one_hop, two_hop};
  r.measures = {m, m};
  r.measures[1].no = 4;
  r.measures[1].basis = {two_hop};
  return r;
}

// A person listed itself and related to the listed organisation kOrg.
MeasuresResult PersonMeasures() {
  MeasuresResult r;
  r.subject = PersonResult();
  r.subject.cases.clear();
  MeasureInfo m;
  m.no = 1;
  m.title = "限制高消费";
  m.agency = "court";
  m.agency_name = "最高人民法院";
  m.basis = {Basis{}, Basis{BasisType::kRelated, Role::kLegalRepresentative, std::string(kOrg),
                            "北京某某科技有限公司", std::nullopt, "", ""}};
  r.measures = {m};
  return r;
}

void ExpectSameBasis(const Basis& a, const Basis& b) {
  EXPECT_TRUE(a == b) << BasisTypeName(a.type) << " " << a.via << " " << a.via_name << " "
                      << a.officer << " " << a.officer_name;
}

TEST(MaskingTest, FullViewLeavesMeasuresWhole) {
  for (const MeasuresResult& original : {OrgMeasures(), PersonMeasures(), MeasuresResult{}}) {
    MeasuresResult r = original;
    Mask(View::kFull, &r);
    EXPECT_TRUE(r == original);
  }
}

TEST(MaskingTest, MaskedMeasuresOfAnOrganisation) {
  MeasuresResult r = OrgMeasures();
  Mask(View::kMasked, &r);
  EXPECT_EQ(r.subject.id, kOrgCode);
  EXPECT_EQ(r.subject.name, "北*********");
  EXPECT_EQ(r.subject.officers[0].id, kPersonMasked);
  ASSERT_EQ(r.measures.size(), 2u);
  const MeasureInfo& m = r.measures[0];
  EXPECT_EQ(m.no, 3);
  EXPECT_EQ(m.title, "限制乘坐飞机");
  EXPECT_EQ(m.agency, "caac");
  EXPECT_EQ(m.agency_name, "中国民用航空局");
  ASSERT_EQ(m.basis.size(), 2u);
  // The listed officer: ID masked, name public.
  ExpectSameBasis(m.basis[0], Basis{BasisType::kOfficer, Role::kLegalRepresentative, "", "",
                                    std::nullopt, std::string(kPersonMasked), "张三丰"});
  // The two-hop officer is not listed: both masked; the listed `via` keeps its code and name.
  const Basis two_hop{BasisType::kOfficer,
                      Role::kDirector,
                      std::string(kOrg2),
                      "ABC Ltd",
                      Role::kLegalRepresentative,
                      std::string(kOtherMasked),
                      "李*"};
  ExpectSameBasis(m.basis[1], two_hop);
  ASSERT_EQ(r.measures[1].basis.size(), 1u);
  ExpectSameBasis(r.measures[1].basis[0], two_hop);
}

TEST(MaskingTest, ATwoHopOfficerKnownListedKeepsItsName) {
  MeasuresResult r = OrgMeasures();
  // kPerson is listed (a one-hop basis of measure 3) and also two-hop in measure 4.
  r.measures[1].basis[0].officer = kPerson;
  r.measures[1].basis[0].officer_name = "张三丰";
  Mask(View::kMasked, &r);
  EXPECT_EQ(r.measures[1].basis[0].officer, kPersonMasked);
  EXPECT_EQ(r.measures[1].basis[0].officer_name, "张三丰");

  // Known listed from the subject's officers alone.
  MeasuresResult s = OrgMeasures();
  s.measures.erase(s.measures.begin());
  s.measures[0].basis[0].officer = kPerson;
  s.measures[0].basis[0].officer_name = "张三丰";
  Mask(View::kMasked, &s);
  EXPECT_EQ(s.measures[0].basis[0].officer_name, "张三丰");
}

TEST(MaskingTest, MaskedMeasuresOfAPerson) {
  MeasuresResult r = PersonMeasures();
  Mask(View::kMasked, &r);
  EXPECT_EQ(r.subject.id, kPerson);
  EXPECT_EQ(r.subject.name, "张三丰");
  EXPECT_EQ(r.subject.roles[1].name, "A******");
  ASSERT_EQ(r.measures.size(), 1u);
  ASSERT_EQ(r.measures[0].basis.size(), 2u);
  ExpectSameBasis(r.measures[0].basis[0], Basis{});
  ExpectSameBasis(r.measures[0].basis[1],
                  Basis{BasisType::kRelated, Role::kLegalRepresentative, std::string(kOrg),
                        "北京某某科技有限公司", std::nullopt, "", ""});

  MeasuresResult related = PersonMeasures();
  related.subject.listed = false;
  related.measures[0].basis.erase(related.measures[0].basis.begin());
  Mask(View::kMasked, &related);
  EXPECT_EQ(related.subject.id, kPerson);
  EXPECT_EQ(related.subject.name, "张**");
}

}  // namespace
}  // namespace shixin
