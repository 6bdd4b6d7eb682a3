#include "core/ingest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/id.h"

namespace shixin {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr std::string_view kPersonId = "11010519491231002X";
constexpr std::string_view kCreditCode = "91350500156488989A";
constexpr std::string_view kOrgCode = "552698531";

std::string ResidentId(std::string_view first17) {
  return std::string(first17) + ResidentCheckChar(first17);
}
std::string OrgCode(std::string_view first8) {
  return std::string(first8) + OrgCodeCheckChar(first8);
}
std::string CreditCode(std::string_view first8, std::string_view org_first8) {
  std::string first17 = std::string(first8) + OrgCode(org_first8);
  return first17 + CreditCodeCheckChar(first17);
}

// Returns `text` as a JSON string literal (no escaping: test values need none).
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  out.append(text);
  return out += '"';
}

std::string StatusMessage(const absl::Status& status) {
  return std::string(status.message().data(), status.message().size());
}

// A court record as (key, raw JSON value) pairs, in order; a valid person's record by default.
using Fields = std::vector<std::pair<std::string, std::string>>;

Fields PersonFields() {
  return {{"caseCode", R"("(2019)浙0111执286号")"},
          {"iname", R"("张三")"},
          {"cardNum", Quoted(kPersonId)},
          {"courtName", R"("杭州市富阳区人民法院")"}};
}

// Returns `fields` with `key` set to `raw` (appended if new), or removed if `raw` is nullopt.
Fields With(Fields fields, const std::string& key, std::optional<std::string> raw) {
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    if (it->first != key) continue;
    if (raw) {
      it->second = *raw;
    } else {
      fields.erase(it);
    }
    return fields;
  }
  if (raw) fields.emplace_back(key, *raw);
  return fields;
}

std::string Json(const Fields& fields) {
  std::string out = "{";
  for (const auto& [key, raw] : fields) {
    if (out.size() > 1) out += ",";
    out.append("\"").append(key).append("\":").append(raw);
  }
  return out + "}";
}

std::string CaseJson(const std::string& key = "", std::optional<std::string> raw = std::nullopt) {
  return Json(key.empty() ? PersonFields() : With(PersonFields(), key, std::move(raw)));
}

// Expects `parse` (ParseCaseRecord, ParseRelationRecord) to reject `json` with a message that
// starts with `prefix`.
template <typename Record>
void ExpectParseError(absl::StatusOr<Record> (*parse)(std::string_view, std::string*),
                      const std::string& json, std::string_view prefix) {
  std::string scratch;
  absl::StatusOr<Record> record = parse(json, &scratch);
  ASSERT_FALSE(record.ok()) << json;
  EXPECT_EQ(record.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(StatusMessage(record.status()), StartsWith(std::string(prefix))) << json;
}

void ExpectCaseError(const std::string& json, std::string_view prefix) {
  ExpectParseError(ParseCaseRecord, json, prefix);
}

// ---------------------------------------------------------------------------------------------
// ParseCaseRecord

TEST(ParseCaseRecordTest, EveryField) {
  std::string json = R"({"caseCode":"（2018）闽0125执恢243号","iname":"某某贸易有限公司",)"
                     R"("cardNum":"91350500156488989A","partyTypeName":"581",)"
                     R"("businessEntity":"李四","courtName":"永春县人民法院","areaName":"福建",)"
                     R"("gistId":"(2017)闽0525民初1234号","gistUnit":"永春县人民法院",)"
                     R"("regDate":"20180114","publishDate":"2019年07月13日",)"
                     R"("publishDateStamp":1562947200,"duty":"支付货款100000元",)"
                     R"("performance":"全部未履行","performedPart":"暂无",)"
                     R"("unperformPart":"暂无","disruptTypeName":"违反财产报告制度,拒不履行",)"
                     R"("age":"0","sexy":""})";
  std::string scratch;
  absl::StatusOr<CaseInput> c = ParseCaseRecord(json, &scratch);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id.text(), kCreditCode);
  EXPECT_EQ(c->id.subject_kind(), SubjectKind::kOrganization);
  EXPECT_EQ(c->case_code, "（2018）闽0125执恢243号");
  EXPECT_EQ(c->name, "某某贸易有限公司");
  EXPECT_EQ(c->business_entity, "李四");
  EXPECT_EQ(c->court, "永春县人民法院");
  EXPECT_EQ(c->area, "福建");
  EXPECT_EQ(c->gist_id, "(2017)闽0525民初1234号");
  EXPECT_EQ(c->gist_unit, "永春县人民法院");
  EXPECT_EQ(c->reg_date, 20180114u);
  EXPECT_EQ(c->publish_date, 20190713u);  // publishDate wins over the stamp
  EXPECT_EQ(c->duty, "支付货款100000元");
  EXPECT_EQ(c->performance, "全部未履行");
  EXPECT_EQ(c->performed_part, "暂无");
  EXPECT_EQ(c->unperform_part, "暂无");
  EXPECT_EQ(c->disrupt_type, "违反财产报告制度,拒不履行");
  EXPECT_EQ(c->age, 0);
  EXPECT_EQ(c->sex, Sex::kUnknown);
}

TEST(ParseCaseRecordTest, MinimalPersonRecord) {
  std::string json = CaseJson();
  std::string scratch;
  absl::StatusOr<CaseInput> c = ParseCaseRecord(json, &scratch);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id.text(), kPersonId);
  EXPECT_EQ(c->case_code, "(2019)浙0111执286号");
  EXPECT_EQ(c->area, "");
  EXPECT_EQ(c->reg_date, 0u);
  EXPECT_EQ(c->publish_date, 0u);
  // Escape-free values are views into the caller's input, not into a copy.
  EXPECT_GE(c->name.data(), json.data());
  EXPECT_LT(c->name.data(), json.data() + json.size());
}

TEST(ParseCaseRecordTest, EscapesAreUnescapedIntoScratch) {
  std::string json =
      Json(With(With(PersonFields(), "duty", R"("第一行\n第二行\t\"引号\" \u4e2d\\")"), "iname",
                R"("\u5f20\u4e09")"));
  std::string scratch;
  absl::StatusOr<CaseInput> c = ParseCaseRecord(json, &scratch);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->duty, "第一行\n第二行\t\"引号\" 中\\");
  EXPECT_EQ(c->name, "张三");
  EXPECT_GE(c->duty.data(), scratch.data());
  EXPECT_LT(c->duty.data(), scratch.data() + scratch.size());
  EXPECT_EQ(c->case_code, "(2019)浙0111执286号");
}

TEST(ParseCaseRecordTest, FullWidthAndAsciiBracketsInCaseCode) {
  for (std::string code : {"（2018）黑04执123号", "(2014)广法执字第00232号"}) {
    std::string json = CaseJson("caseCode", Quoted(code));
    std::string scratch;
    absl::StatusOr<CaseInput> c = ParseCaseRecord(json, &scratch);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->case_code, code);
  }
}

// Exports pad the case number: it is kept without the spaces, and one of spaces only is missing.
TEST(ParseCaseRecordTest, CaseCodeIsTrimmed) {
  std::string scratch;
  absl::StatusOr<CaseInput> c =
      ParseCaseRecord(CaseJson("caseCode", R"(" （2020）黑0403执567号\t")"), &scratch);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->case_code, "（2020）黑0403执567号");
  ExpectCaseError(CaseJson("caseCode", R"(" \t ")"), "caseCode: missing or empty");
}

TEST(ParseCaseRecordTest, DateForms) {
  std::string scratch;
  absl::StatusOr<CaseInput> c =
      ParseCaseRecord(Json(With(With(PersonFields(), "regDate", R"("20190114")"), "publishDate",
                                R"("2017年08月11日")")),
                      &scratch);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->reg_date, 20190114u);
  EXPECT_EQ(c->publish_date, 20170811u);

  c = ParseCaseRecord(CaseJson("regDate", R"("2019-07-13")"), &scratch);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->reg_date, 20190713u);

  c = ParseCaseRecord(CaseJson("regDate", R"("")"), &scratch);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->reg_date, 0u);

  c = ParseCaseRecord(CaseJson("publishDate", "null"), &scratch);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->publish_date, 0u);

  ExpectCaseError(CaseJson("regDate", R"("20190230")"), "regDate: not a date: \"20190230\"");
  ExpectCaseError(CaseJson("publishDate", R"("2019年13月01日")"), "publishDate: not a date");
  ExpectCaseError(CaseJson("publishDate", R"("1899年12月31日")"),
                  "publishDate: outside the list's range (the years 1900 to 2100): "
                  "\"1899年12月31日\"");
  ExpectCaseError(CaseJson("regDate", "20190114"), "regDate: expected a string, found a number");
}

TEST(ParseFeedDateTest, Forms) {
  EXPECT_EQ(ParseFeedDate(""), 0u);
  EXPECT_EQ(ParseFeedDate("  "), 0u);
  EXPECT_EQ(ParseFeedDate("20190114"), 20190114u);
  EXPECT_EQ(ParseFeedDate("2017年08月11日"), 20170811u);
  EXPECT_EQ(ParseFeedDate("2017年8月1日"), 20170801u);
  EXPECT_EQ(ParseFeedDate("2019-07-13"), 20190713u);
  EXPECT_EQ(ParseFeedDate("2019/07/13"), 20190713u);
  EXPECT_EQ(ParseFeedDate(" 2019-07-13 "), 20190713u);
  EXPECT_EQ(ParseFeedDate("20000229"), 20000229u);
  EXPECT_EQ(ParseFeedDate("19000229"), std::nullopt);
  EXPECT_EQ(ParseFeedDate("20190230"), std::nullopt);
  EXPECT_EQ(ParseFeedDate("20191301"), std::nullopt);
  EXPECT_EQ(ParseFeedDate("2019011"), std::nullopt);
  EXPECT_EQ(ParseFeedDate("201901140"), std::nullopt);
  EXPECT_EQ(ParseFeedDate("2019-07-13x"), std::nullopt);
  EXPECT_EQ(ParseFeedDate("2019年07-13日"), std::nullopt);
  EXPECT_EQ(ParseFeedDate("2019-07/13"), std::nullopt);
  EXPECT_EQ(ParseFeedDate("2017年08月11"), std::nullopt);
  EXPECT_EQ(ParseFeedDate("暂无"), std::nullopt);
  EXPECT_EQ(ParseFeedDate("18991231"), std::nullopt);
}

TEST(ParseCaseRecordTest, PublishDateStamp) {
  std::string scratch;
  // The day in China Standard Time, as the feed's dates: 1562947200 = 2019-07-13T00:00:00+08:00
  // (EveryField's stamp and publishDate), 1562947199 is still the 12th there; 1562976000 =
  // 2019-07-13T00:00:00Z is 08:00 on the 13th, and 1563033599 its 23:59:59.
  absl::StatusOr<CaseInput> c =
      ParseCaseRecord(CaseJson("publishDateStamp", "1562947200"), &scratch);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->publish_date, 20190713u);
  c = ParseCaseRecord(CaseJson("publishDateStamp", R"("1562947199")"), &scratch);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->publish_date, 20190712u);
  for (std::string_view stamp : {"1562976000", "1563033599"}) {
    c = ParseCaseRecord(CaseJson("publishDateStamp", std::string(stamp)), &scratch);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->publish_date, 20190713u) << stamp;
  }
  // publishDate, in any key order, wins.
  c = ParseCaseRecord(Json(With(With(PersonFields(), "publishDateStamp", "1562976000"),
                                "publishDate", R"("2019年07月01日")")),
                      &scratch);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->publish_date, 20190701u);
  c = ParseCaseRecord(CaseJson("publishDateStamp", "null"), &scratch);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->publish_date, 0u);

  ExpectCaseError(CaseJson("publishDateStamp", "1562976000000"), "publishDateStamp: out of range");
  ExpectCaseError(CaseJson("publishDateStamp", "-5"),
                  "publishDateStamp: expected a non-negative integer");
  ExpectCaseError(CaseJson("publishDateStamp", "1.5e9"),
                  "publishDateStamp: expected a non-negative integer");
  ExpectCaseError(CaseJson("publishDateStamp", R"("2019-07-13")"),
                  "publishDateStamp: not Unix seconds");
  ExpectCaseError(CaseJson("publishDateStamp", "true"), "publishDateStamp: expected a number");
}

TEST(ParseCaseRecordTest, PartyTypeForms) {
  const std::vector<std::string> person = {R"("0")", R"("580")", R"("自然人")", R"("个人")",
                                           "0",      "580",      "null",        R"("")"};
  const std::vector<std::string> org = {
      R"("1")",        R"("581")",  R"("法人")", R"("单位")", R"("法人或其他组织")",
      R"("其他组织")", R"("企业")", "1",         "581",       "null"};
  for (const std::string& raw : person) {
    std::string scratch;
    absl::StatusOr<CaseInput> c = ParseCaseRecord(CaseJson("partyTypeName", raw), &scratch);
    ASSERT_TRUE(c.ok()) << raw << ": " << c.status();
    EXPECT_EQ(c->id.subject_kind(), SubjectKind::kPerson);
  }
  for (std::string_view id : {kCreditCode, kOrgCode}) {
    for (const std::string& raw : org) {
      std::string json =
          Json(With(With(PersonFields(), "cardNum", Quoted(id)), "partyTypeName", raw));
      std::string scratch;
      absl::StatusOr<CaseInput> c = ParseCaseRecord(json, &scratch);
      ASSERT_TRUE(c.ok()) << raw << ": " << c.status();
      EXPECT_EQ(c->id.subject_kind(), SubjectKind::kOrganization);
    }
  }
  ExpectCaseError(CaseJson("partyTypeName", R"("2")"), "partyTypeName: unknown party type \"2\"");
  ExpectCaseError(CaseJson("partyTypeName", "2"), "partyTypeName: unknown party type 2");
  ExpectCaseError(CaseJson("partyTypeName", R"("公司")"), "partyTypeName: unknown party type");
  ExpectCaseError(CaseJson("partyTypeName", "-1"), "partyTypeName: expected a non-negative");
  ExpectCaseError(CaseJson("partyTypeName", "[]"),
                  "partyTypeName: expected a number or a string, found an array");
}

TEST(ParseCaseRecordTest, PartyTypeMustAgreeWithId) {
  ExpectCaseError(CaseJson("partyTypeName", R"("1")"),
                  R"(partyTypeName: "1" (organization) contradicts cardNum (resident_id))");
  ExpectCaseError(CaseJson("partyTypeName", "581"),
                  "partyTypeName: 581 (organization) contradicts cardNum (resident_id)");
  ExpectCaseError(Json(With(With(PersonFields(), "cardNum", "\"91350500156488989A\""),
                            "partyTypeName", R"("自然人")")),
                  R"(partyTypeName: "自然人" (person) contradicts cardNum (credit_code))");
  ExpectCaseError(
      Json(With(With(PersonFields(), "cardNum", "\"552698531\""), "partyTypeName", "0")),
      "partyTypeName: 0 (person) contradicts cardNum (org_code)");
}

// A foreign national is listed by the foreigner's permanent residence ID of 2023, as a person;
// the minors rule reads its birth date. The 1 in 340 of them that is also a valid credit code
// is read as the credit code, so a person's line naming one is refused saying so.
TEST(ParseCaseRecordTest, ForeignerPermanentResidenceId) {
  std::string scratch;
  const auto record = [](std::string_view id, std::string_view published) {
    return Json(With(With(With(PersonFields(), "cardNum", Quoted(id)), "partyTypeName", "0"),
                     "publishDate", Quoted(published)));
  };
  absl::StatusOr<CaseInput> listed =
      ParseCaseRecord(record("933840198001010019", "2024-03-01"), &scratch);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->id.text(), "933840198001010019");
  EXPECT_EQ(listed->id.subject_kind(), SubjectKind::kPerson);
  ExpectCaseError(record(ResidentId("93384020150101001"), "2025-03-01"),
                  "cardNum: born 2015-01-01, under 18 on publishDate 2025-03-01");
  // The load's messages go to a log: the person's ID in it masked, as in every other one.
  ExpectCaseError(record("933840198001011417", "2024-03-01"),
                  "cardNum: 9338401980****1417 is both a valid credit code and a valid "
                  "foreigner's permanent residence ID; shixin reads it as the credit code");
}

// A person's passport or permit number (or the old 15-character foreigner's card) is refused
// as a document shixin cannot hold, wherever partyTypeName stands: not with the reason of some
// organisation's code it fails to be. A mistyped resident ID keeps its own reason, and so does
// a line that does not say it is a person's.
TEST(ParseCaseRecordTest, APersonsOtherDocumentsAreRefusedAsSuch) {
  constexpr std::string_view kNotHeld =
      "cardNum: not an ID number shixin can hold for a person: expected a resident ID (Hong "
      "Kong, Macau and Taiwan residents' residence permits included) or a foreigner's permanent "
      "residence ID of 2023; passport and permit numbers are not supported";
  for (std::string document :
       {"H01234567", "E12345678", "USA330101800101", "H0123456701", "12345678", "EA1234567"}) {
    const Fields person = With(PersonFields(), "cardNum", Quoted(document));
    ExpectCaseError(Json(With(person, "partyTypeName", "0")), kNotHeld);
    Fields party_first = {{"partyTypeName", R"("自然人")"}};
    party_first.insert(party_first.end(), person.begin(), person.end());
    ExpectCaseError(Json(party_first), kNotHeld);
    // Not said to be a person's: the reason ParseId() gives.
    absl::StatusOr<Id> id = ParseId(document);
    ASSERT_FALSE(id.ok()) << document;
    const std::string reason = "cardNum: " + StatusMessage(id.status());
    ExpectCaseError(Json(person), reason);
    ExpectCaseError(Json(With(person, "partyTypeName", R"("1")")), reason);
  }
  ExpectCaseError(
      Json(With(With(PersonFields(), "cardNum", "\"110105194912310021\""), "partyTypeName", "0")),
      "cardNum: bad check character: expected X, found 1");
  // A passport number that happens to pass an organisation code's check.
  ExpectCaseError(
      Json(
          With(With(PersonFields(), "cardNum", Quoted(OrgCode("E1234567"))), "partyTypeName", "0")),
      "partyTypeName: 0 (person) contradicts cardNum (org_code); a person's ID is a resident ID "
      "(Hong Kong, Macau and Taiwan residents' residence permits included) or a foreigner's");
}

// SPC rules Art. 4: a person under 18 on the case's publishDate, by the ID's birth date, is
// refused; 18 years from birth to the day is of age, 29 February is of age on 1 March.
TEST(ParseCaseRecordTest, MinorOnPublishDateIsRefused) {
  const auto record = [](std::string_view id, std::string_view published) {
    return Json(
        With(With(PersonFields(), "cardNum", Quoted(id)), "publishDate", Quoted(published)));
  };
  const std::string born_2015 = ResidentId("23040220150101001");
  ExpectCaseError(record(born_2015, "2025-03-01"),
                  "cardNum: born 2015-01-01, under 18 on publishDate 2025-03-01 (of age on "
                  "2033-01-01): SPC rules Art. 4: minors are not listed");
  ExpectCaseError(record(born_2015, "2032-12-31"), "cardNum: born 2015-01-01, under 18");
  std::string scratch;
  EXPECT_TRUE(ParseCaseRecord(record(born_2015, "2033-01-01"), &scratch).ok());
  // Born 29 February 2008: still a minor on 28 February 2026, of age on 1 March.
  const std::string born_leap = ResidentId("11010520080229001");
  ExpectCaseError(record(born_leap, "2026-02-28"),
                  "cardNum: born 2008-02-29, under 18 on publishDate 2026-02-28 (of age on "
                  "2026-03-01)");
  EXPECT_TRUE(ParseCaseRecord(record(born_leap, "2026-03-01"), &scratch).ok());
  // An old 15-digit ID: born 1999-05-01 (19YYMMDD), a minor in 2017.
  ExpectCaseError(record("110105990501001", "2017-04-30"), "cardNum: born 1999-05-01, under 18");
  EXPECT_TRUE(ParseCaseRecord(record("110105990501001", "2017-05-01"), &scratch).ok());
  // The stamp counts as the publishDate. No publish date at all: the case counts from when the
  // caller says (the load date for a base list, `at` in a delta), which it checks (below).
  ExpectCaseError(Json(With(With(PersonFields(), "cardNum", Quoted(born_2015)), "publishDateStamp",
                            "1740787200")),
                  "cardNum: born 2015-01-01, under 18 on publishDate 2025-03-01");
  EXPECT_TRUE(
      ParseCaseRecord(Json(With(PersonFields(), "cardNum", Quoted(born_2015))), &scratch).ok());
}

TEST(CheckOfAgeTest, OnTheDay) {
  const absl::StatusOr<Id> minor = ParseId(ResidentId("23040220150101001"));
  ASSERT_TRUE(minor.ok());
  EXPECT_EQ(StatusMessage(CheckOfAge(*minor, 20321231, "the day")),
            "cardNum: born 2015-01-01, under 18 on the day (of age on 2033-01-01): SPC rules "
            "Art. 4: minors are not listed");
  EXPECT_TRUE(CheckOfAge(*minor, 20330101, "the day").ok());
  const absl::StatusOr<Id> org = ParseId(kCreditCode);
  ASSERT_TRUE(org.ok());
  EXPECT_TRUE(CheckOfAge(*org, 19000101, "the day").ok());
}

TEST(ParseCaseRecordTest, MissingRequiredFields) {
  ExpectCaseError(CaseJson("cardNum", std::nullopt), "cardNum: missing");
  ExpectCaseError(CaseJson("cardNum", "null"), "cardNum: missing");
  ExpectCaseError(CaseJson("iname", std::nullopt), "iname: missing or empty");
  ExpectCaseError(CaseJson("iname", R"("")"), "iname: missing or empty");
  ExpectCaseError(CaseJson("caseCode", std::nullopt), "caseCode: missing or empty");
  ExpectCaseError(CaseJson("caseCode", R"("")"), "caseCode: missing or empty");
  ExpectCaseError(CaseJson("courtName", std::nullopt), "courtName: missing");
  ExpectCaseError(CaseJson("courtName", "null"), "courtName: missing");
  ExpectCaseError("{}", "cardNum: missing");
}

TEST(ParseCaseRecordTest, WrongTypes) {
  ExpectCaseError(CaseJson("iname", "5"), "iname: expected a string, found a number");
  ExpectCaseError(CaseJson("cardNum", "110105194912310020"),
                  "cardNum: expected a string, found a number");
  ExpectCaseError(CaseJson("duty", "{}"), "duty: expected a string, found an object");
  ExpectCaseError(CaseJson("courtName", "[\"a\"]"), "courtName: expected a string, found an array");
  ExpectCaseError(CaseJson("areaName", "false"), "areaName: expected a string, found a boolean");
  ExpectCaseError(CaseJson("sexy", "1"), "sexy: expected a string, found a number");
  ExpectCaseError(CaseJson("age", "true"), "age: expected a number or a string, found a boolean");
}

TEST(ParseCaseRecordTest, InvalidIdReasonIsPropagated) {
  for (std::string bad : {"110105194912310021", "11010519491231002", "", "1101051949123100XX",
                          "91350500156488989B", "552698532"}) {
    absl::StatusOr<Id> id = ParseId(bad);
    ASSERT_FALSE(id.ok()) << bad;
    ExpectCaseError(CaseJson("cardNum", Quoted(bad)), "cardNum: " + StatusMessage(id.status()));
  }
}

TEST(ParseCaseRecordTest, IdsAsPeopleTypeThem) {
  std::string scratch;
  absl::StatusOr<CaseInput> c =
      ParseCaseRecord(CaseJson("cardNum", R"(" 11010519491231002x ")"), &scratch);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id.text(), kPersonId);
  c = ParseCaseRecord(CaseJson("cardNum", R"("110105491231002")"), &scratch);  // 15 digits
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id.text(), kPersonId);
  c = ParseCaseRecord(Json(With(PersonFields(), "cardNum", R"("55269853-1")")), &scratch);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id.text(), kOrgCode);
}

TEST(ParseCaseRecordTest, AgeAndSex) {
  struct AgeSex {
    std::string age, sex;
    uint8_t want_age;
    Sex want_sex;
  };
  for (const AgeSex& t : std::vector<AgeSex>{{R"("58")", R"("男性")", 58, Sex::kMale},
                                             {"58", R"("男")", 58, Sex::kMale},
                                             {R"("0")", R"("女")", 0, Sex::kFemale},
                                             {"150", R"("女性")", 150, Sex::kFemale},
                                             {R"("")", R"("")", 0, Sex::kUnknown},
                                             {"null", "null", 0, Sex::kUnknown}}) {
    std::string scratch;
    absl::StatusOr<CaseInput> c =
        ParseCaseRecord(Json(With(With(PersonFields(), "age", t.age), "sexy", t.sex)), &scratch);
    ASSERT_TRUE(c.ok()) << t.age << " " << t.sex << ": " << c.status();
    EXPECT_EQ(c->age, t.want_age);
    EXPECT_EQ(c->sex, t.want_sex);
  }
  ExpectCaseError(CaseJson("age", "151"), "age: not an age 0-150: 151");
  ExpectCaseError(CaseJson("age", R"("151")"), "age: not an age 0-150: \"151\"");
  ExpectCaseError(CaseJson("age", R"("五十")"), "age: not an age 0-150");
  ExpectCaseError(CaseJson("age", R"("5 8")"), "age: not an age 0-150");
  ExpectCaseError(CaseJson("age", R"("1000")"), "age: not an age 0-150");
  ExpectCaseError(CaseJson("age", "-1"), "age: expected a non-negative integer");
  ExpectCaseError(CaseJson("age", "58.5"), "age: expected a non-negative integer");
  ExpectCaseError(CaseJson("sexy", R"("未知")"), "sexy: unknown sex \"未知\"");
}

TEST(ParseCaseRecordTest, EscapedKeys) {
  std::string json = R"({"\u0063aseCode":"A","iname":"x","courtName":"c","card\u004eum":)"
                     R"("11010519491231002X","a\"b":1})";
  std::string scratch;
  absl::StatusOr<CaseInput> c = ParseCaseRecord(json, &scratch);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->case_code, "A");
  EXPECT_EQ(c->id.text(), kPersonId);
}

TEST(ParseCaseRecordTest, UnknownKeysAreIgnored) {
  std::string scratch;
  absl::StatusOr<CaseInput> c = ParseCaseRecord(
      Json(With(With(PersonFields(), "extra", R"({"a":[1,{"b":null}],"c":"\n"})"), "id", "42")),
      &scratch);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id.text(), kPersonId);
}

TEST(ParseCaseRecordTest, MalformedJson) {
  std::string good = CaseJson();
  ExpectCaseError("", "malformed JSON");
  ExpectCaseError("not json", "not a JSON object");
  ExpectCaseError(good.substr(0, good.size() - 1), "malformed JSON");  // no closing brace
  ExpectCaseError(good.substr(0, good.size() / 2), "malformed JSON");  // cut in a string
  ExpectCaseError(good + "}", "malformed JSON");                       // trailing brace
  ExpectCaseError(good + " x", "malformed JSON");                      // trailing garbage
  ExpectCaseError(good + good, "malformed JSON");                      // two objects
  ExpectCaseError(R"({"iname": })", "iname: malformed JSON");
  ExpectCaseError(R"({"iname" "x"})", "malformed JSON");
  ExpectCaseError(R"({"iname": "a" "caseCode": "b"})", "malformed JSON");
  ExpectCaseError(R"({"iname": nul})", "iname: malformed JSON");
  ExpectCaseError(CaseJson("duty", R"("bad \q escape")"), "duty: malformed JSON");
  ExpectCaseError(CaseJson("duty", "\"raw\nnewline\""), "malformed JSON");
  ExpectCaseError(R"({1: "x"})", "malformed JSON");
  ExpectCaseError(R"({iname: "x"})", "malformed JSON");
  ExpectCaseError(R"({"iname": "x",})", "malformed JSON");
  ExpectCaseError(R"({"iname": "x")", "malformed JSON");
  ExpectCaseError(R"({"iname)", "malformed JSON");
  ExpectCaseError("[1, 2]", "not a JSON object");
  ExpectCaseError(R"("a string")", "not a JSON object");
  ExpectCaseError("42", "not a JSON object");
}

// The commonest byte faults of an export are named, with where they are: bytes after a whole
// object (a NUL), a byte-order mark that starts the line, a raw control character.
TEST(ParseCaseRecordTest, ByteFaultsAreNamed) {
  const std::string good = CaseJson();
  const std::string after = absl::StrCat(good.size() + 1);
  ExpectCaseError(
      good + std::string(1, '\0'),
      "malformed JSON: unexpected bytes after the object at column " + after + ": U+0000");
  ExpectCaseError(good + " x", absl::StrCat("malformed JSON: unexpected bytes after the object at "
                                            "column ",
                                            good.size() + 2, ": 'x'"));
  ExpectCaseError(good + good,
                  "malformed JSON: unexpected bytes after the object at column " + after + ": '{'");
  ExpectCaseError(
      good + "\xE3\x80\x80",
      "malformed JSON: unexpected bytes after the object at column " + after + ": U+3000");
  ExpectCaseError("\xEF\xBB\xBF" + good, "byte-order mark U+FEFF at the start of the line");
  const std::string nul_in_string = CaseJson("duty", std::string("\"a\0b\"", 5));
  ExpectCaseError(nul_in_string,
                  absl::StrCat("malformed JSON: unescaped control character U+0000 at column ",
                               nul_in_string.find('\0') + 1));
  ExpectCaseError("{\x01}", "malformed JSON: control character U+0001 at column 2");
  // Whitespace after the object is fine; faults inside it keep the parser's reason.
  std::string scratch;
  EXPECT_TRUE(ParseCaseRecord(good + " \t\r", &scratch).ok());
  ExpectCaseError(good.substr(0, good.size() - 1), "malformed JSON: ");
}

TEST(ParseCaseRecordTest, InvalidUtf8) {
  ExpectCaseError(CaseJson("duty", "\"abc\xff\xfe\""), "invalid UTF-8");
  ExpectCaseError(CaseJson("iname", "\"\xe5\xbc\""), "invalid UTF-8");  // truncated sequence
}

// Every prefix and a few byte-level mutations of a valid record are handled without crashing.
TEST(ParseCaseRecordTest, RobustToAnyBytes) {
  std::string good = Json(With(PersonFields(), "duty", R"("a\nb\u4e2d")"));
  std::string scratch;
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(ParseCaseRecord(std::string_view(good).substr(0, n), &scratch).ok()) << n;
  }
  uint32_t seed = 12345;
  for (int i = 0; i < 2000; ++i) {
    std::string mutated = good;
    for (int j = 0; j < 3; ++j) {
      seed = seed * 1103515245 + 12345;
      mutated[(seed >> 8) % mutated.size()] = static_cast<char>(seed >> 24);
    }
    absl::StatusOr<CaseInput> c = ParseCaseRecord(mutated, &scratch);
    if (c.ok()) {
      EXPECT_FALSE(c->id.empty());
    }
  }
}

// ---------------------------------------------------------------------------------------------
// ParseRelationRecord

std::string RelationJson(const std::string& key = "",
                         std::optional<std::string> raw = std::nullopt) {
  Fields fields = {{"orgId", "\"91350500156488989A\""},
                   {"personId", "\"11010519491231002X\""},
                   {"personName", R"("王五")"},
                   {"role", R"("actual_controller")"}};
  return Json(key.empty() ? fields : With(fields, key, std::move(raw)));
}

void ExpectRelationError(const std::string& json, std::string_view prefix) {
  ExpectParseError(
      +[](std::string_view j, std::string* scratch) { return ParseRelationRecord(j, scratch); },
      json, prefix);
}

TEST(ParseRelationRecordTest, Good) {
  std::string scratch;
  std::string json = RelationJson();
  absl::StatusOr<RelationInput> r = ParseRelationRecord(json, &scratch);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->org.text(), kCreditCode);
  EXPECT_EQ(r->person.text(), kPersonId);
  EXPECT_EQ(r->person_name, "王五");
  EXPECT_EQ(r->role, Role::kActualController);

  // The result's views point into `json` and `scratch`: both must outlive it.
  json = Json({{"role", R"("director")"},
               {"personName", R"("\u738b\u4e94")"},
               {"x", "[1]"},
               {"personId", Quoted(ResidentId("44030419800101123"))},
               {"orgId", "\"55269853-1\""}});
  r = ParseRelationRecord(json, &scratch);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->org.text(), kOrgCode);
  EXPECT_EQ(r->org.kind(), IdKind::kOrgCode);
  EXPECT_EQ(r->person_name, "王五");
  EXPECT_EQ(r->role, Role::kDirector);
}

TEST(ParseRelationRecordTest, EveryRole) {
  for (int i = 0; i < kRoleCount; ++i) {
    Role role = static_cast<Role>(i);
    std::string scratch;
    absl::StatusOr<RelationInput> r =
        ParseRelationRecord(RelationJson("role", Quoted(RoleName(role))), &scratch);
    ASSERT_TRUE(r.ok()) << RoleName(role) << ": " << r.status();
    EXPECT_EQ(r->role, role);
  }
}

TEST(ParseRelationRecordTest, BadRecords) {
  ExpectRelationError(RelationJson("role", R"("法定代表人")"), "role: unknown role \"法定代表人\"");
  ExpectRelationError(RelationJson("role", R"("Director")"), "role: unknown role");
  ExpectRelationError(RelationJson("role", std::nullopt), "role: missing");
  ExpectRelationError(RelationJson("role", "3"), "role: expected a string, found a number");
  ExpectRelationError(RelationJson("orgId", std::nullopt), "orgId: missing");
  ExpectRelationError(RelationJson("orgId", "\"11010519491231002X\""),
                      "orgId: a resident ID; expected a credit code or organisation code");
  ExpectRelationError(RelationJson("personId", std::nullopt), "personId: missing");
  ExpectRelationError(RelationJson("personId", "\"91350500156488989A\""),
                      "personId: a credit_code; expected a resident ID");
  ExpectRelationError(RelationJson("personId", "\"552698531\""),
                      "personId: a org_code; expected a resident ID");
  ExpectRelationError(RelationJson("personId", "\"E12345678\""),
                      "personId: not an ID number shixin can hold for a person: expected a "
                      "resident ID");
  ExpectRelationError(RelationJson("personName", std::nullopt), "personName: missing or empty");
  ExpectRelationError(RelationJson("personName", R"("")"), "personName: missing or empty");
  ExpectRelationError(RelationJson("personName", "null"), "personName: missing or empty");
  ExpectRelationError("[]", "not a JSON object");
  ExpectRelationError(RelationJson().substr(0, 30), "malformed JSON");

  absl::StatusOr<Id> bad = ParseId("110105194912310021");
  ASSERT_FALSE(bad.ok());
  ExpectRelationError(RelationJson("personId", "\"110105194912310021\""),
                      "personId: " + StatusMessage(bad.status()));
  bad = ParseId("91350500156488989B");
  ASSERT_FALSE(bad.ok());
  ExpectRelationError(RelationJson("orgId", "\"91350500156488989B\""),
                      "orgId: " + StatusMessage(bad.status()));
}

// ---------------------------------------------------------------------------------------------
// Files

class LoadTest : public ::testing::Test {
 protected:
  // Writes `content` to a file named `name` in a directory of this test's own.
  std::string Write(const std::string& name, const std::string& content) {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string dir = ::testing::TempDir() + "/ingest_test_" + info->name();
    std::filesystem::create_directories(dir);
    std::string path = dir + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // Loads `content` as a debtor file; fills cases_ (owned copies of case codes) and report_.
  absl::Status LoadCases(const std::string& content, uint64_t max_errors = 0,
                         const std::string& name = "debtors.ndjson") {
    LoadOptions options;
    options.max_errors = max_errors;
    return LoadCaseFile(
        Write(name, content), options,
        [this](const CaseInput& c) { cases_.emplace_back(c.case_code); }, &report_);
  }

  std::vector<std::pair<uint64_t, std::string>> Errors() const {
    std::vector<std::pair<uint64_t, std::string>> out;
    for (const LoadError& e : report_.first_errors) out.emplace_back(e.line, e.reason);
    return out;
  }

  std::vector<std::string> cases_;
  LoadReport report_;
};

std::string Case(const std::string& code, const std::string& card = std::string(kPersonId)) {
  return Json(With(With(PersonFields(), "caseCode", Quoted(code)), "cardNum", Quoted(card)));
}

TEST_F(LoadTest, NdjsonWithBlankLinesCrlfAndBom) {
  std::string content = "\xEF\xBB\xBF" + Case("A") + "\r\n\r\n   \n" + Case("B") + "\n\t\n" +
                        Case("C");  // no final newline
  ASSERT_TRUE(LoadCases(content).ok());
  EXPECT_THAT(cases_, ElementsAre("A", "B", "C"));
  EXPECT_EQ(report_.lines, 3u);
  EXPECT_EQ(report_.records, 3u);
  EXPECT_EQ(report_.errors, 0u);
}

// An export's byte faults (x19 finding 10): a NUL after line 2, two exports concatenated (a
// byte-order mark starts line 3, which is read), an invisible character before and inside an ID.
TEST_F(LoadTest, ByteFaultsOfAnExport) {
  const std::string a = Case("A");
  const std::string content = "\xEF\xBB\xBF" + Case("1") + "\n" + a + std::string(1, '\0') + "\n" +
                              "\xEF\xBB\xBF" + Case("3") + "\r\n" +
                              Case("4", "\u200B11010519491231002X") + "\n" +
                              Case("5", "1101051949\u200B1231002X") + "\n";
  absl::Status status = LoadCases(content, 5);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(cases_, ElementsAre("1", "3"));
  EXPECT_THAT(
      Errors(),
      ElementsAre(
          std::pair<uint64_t, std::string>(
              2, absl::StrCat("malformed JSON: unexpected bytes after the object at "
                              "column ",
                              a.size() + 1, ": U+0000")),
          std::pair<uint64_t, std::string>(4, "cardNum: bad character U+200B at position 1"),
          std::pair<uint64_t, std::string>(5, "cardNum: bad character U+200B at position 11")));
}

TEST_F(LoadTest, ErrorLinesAreNumberedAndBadLinesSkipped) {
  std::string content = Case("A") + "\n" +                        // 1
                        "\n" +                                    // 2
                        Case("B", "110105194912310021") + "\n" +  // 3
                        Case("C") + "\r\n" +                      // 4
                        "{\"caseCode\": \"D\"\n" +                // 5: truncated
                        std::string("[") + Case("E") + "]\n" +    // 6: not an object
                        Case("F", "91350500156488989A") + "\n" +  // 7: org code fine
                        CaseJson("duty", "\"\xff\"") + "\n" +     // 8: invalid UTF-8
                        Case("H") + "\n";
  absl::Status status = LoadCases(content, /*max_errors=*/4);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(cases_, ElementsAre("A", "C", "F", "H"));
  std::vector<std::pair<uint64_t, std::string>> errors = Errors();
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0].first, 3u);
  EXPECT_THAT(errors[0].second, StartsWith("cardNum: "));
  EXPECT_EQ(errors[1].first, 5u);
  EXPECT_THAT(errors[1].second, StartsWith("malformed JSON"));
  EXPECT_EQ(errors[2].first, 6u);
  EXPECT_EQ(errors[2].second, "not a JSON object");
  EXPECT_EQ(errors[3].first, 8u);
  EXPECT_EQ(errors[3].second, "invalid UTF-8");
  EXPECT_EQ(report_.first_errors[0].file, "debtors.ndjson");
  EXPECT_EQ(report_.lines, 8u);
  EXPECT_EQ(report_.records, 4u);
  EXPECT_EQ(report_.errors, 4u);
}

TEST_F(LoadTest, MinorIsABadLine) {
  // Line 2: a person born 2015-01-01, published 2025-03-01.
  const std::string lines = Case("A") + "\n" +
                            Json(With(With(With(PersonFields(), "caseCode", R"("B")"), "cardNum",
                                           Quoted(ResidentId("23040220150101001"))),
                                      "publishDate", R"("2025-03-01")")) +
                            "\n" + Case("C") + "\n";
  absl::Status status = LoadCases(lines, /*max_errors=*/1);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(cases_, ElementsAre("A", "C"));
  EXPECT_THAT(Errors(), ElementsAre(std::pair<uint64_t, std::string>(
                            2,
                            "cardNum: born 2015-01-01, under 18 on publishDate 2025-03-01 (of "
                            "age on 2033-01-01): SPC rules Art. 4: minors are not listed")));
  cases_.clear();
  report_ = LoadReport();
  EXPECT_EQ(LoadCases(lines).code(), absl::StatusCode::kInvalidArgument);
}

// A case without a publish date counts since ever: its person must be of age on the load date at
// least (SPC rules Art. 4), or the line is refused like one whose publishDate says the same.
TEST_F(LoadTest, MinorWithoutPublishDateIsABadLine) {
  const auto line = [](std::string_view code, std::string_view id, std::string_view published) {
    return Json(With(With(With(PersonFields(), "caseCode", Quoted(code)), "cardNum", Quoted(id)),
                     "publishDate", Quoted(published)));
  };
  const std::string born_2015 = ResidentId("23040220150101001");
  const std::string born_20081207 = ResidentId("11010520081207001");
  const std::string born_20081206 = ResidentId("11010520081206001");
  const std::string lines = line("A", born_2015, "") + "\n" +            // 1: a minor, no date
                            line("B", born_20081207, "") + "\n" +        // 2: 18 tomorrow
                            line("C", born_20081206, "") + "\n" +        // 3: 18 today
                            line("D", born_2015, "2033-01-01") + "\n" +  // 4: of age then
                            Json(With(PersonFields(), "caseCode", R"("E")")) + "\n";  // 5
  LoadOptions options;
  options.max_errors = 2;
  options.now = 1796486400;  // 2026-12-06T00:00:00+08:00
  absl::Status status = LoadCaseFile(
      Write("debtors.ndjson", lines), options,
      [this](const CaseInput& c) { cases_.emplace_back(c.case_code); }, &report_);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(cases_, ElementsAre("C", "D", "E"));
  EXPECT_THAT(
      Errors(),
      ElementsAre(std::pair<uint64_t, std::string>(
                      1,
                      "cardNum: born 2015-01-01, under 18 on the load date 2026-12-06, the case "
                      "having no publishDate (of age on 2033-01-01): SPC rules Art. 4: minors "
                      "are not listed"),
                  std::pair<uint64_t, std::string>(
                      2,
                      "cardNum: born 2008-12-07, under 18 on the load date 2026-12-06, the case "
                      "having no publishDate (of age on 2026-12-07): SPC rules Art. 4: minors "
                      "are not listed")));
  // Without `now`, the clock's day: one born in 2020 is a minor until 2038.
  cases_.clear();
  report_ = LoadReport();
  status = LoadCases(line("F", ResidentId("23040220200101001"), "") + "\n");
  EXPECT_THAT(StatusMessage(status),
              StartsWith("debtors.ndjson:1: cardNum: born 2020-01-01, under 18 on the load date "));
  EXPECT_THAT(cases_, ElementsAre());
}

TEST_F(LoadTest, MaxErrorsTolerance) {
  std::string content;
  for (int i = 0; i < 10; ++i) {
    content += (i % 3 == 1 ? Case("bad", "110105194912310021") : Case("ok")) + "\n";
  }  // bad lines: 2, 5, 8
  EXPECT_TRUE(LoadCases(content, 3).ok());
  EXPECT_EQ(report_.errors, 3u);

  report_ = LoadReport();
  cases_.clear();
  absl::Status status = LoadCases(content, 2);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  std::string message = StatusMessage(status);
  EXPECT_THAT(message, StartsWith("debtors.ndjson:2: cardNum: "));
  EXPECT_THAT(message, HasSubstr("; debtors.ndjson:5: cardNum: "));
  EXPECT_THAT(message, HasSubstr("; debtors.ndjson:8: cardNum: "));
  EXPECT_THAT(message, HasSubstr("(3 errors in all; --max-errors is 2)"));
  // The load went on to the end; the sink saw only the good records.
  EXPECT_EQ(cases_.size(), 7u);
  EXPECT_EQ(report_.records, 7u);
}

TEST_F(LoadTest, ZeroToleranceByDefault) {
  absl::Status status = LoadCases(Case("A") + "\n{}\n" + Case("B") + "\n");
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      StatusMessage(status),
      StartsWith("debtors.ndjson:2: cardNum: missing (1 errors in all; --max-errors is 0)"));
  EXPECT_THAT(cases_, ElementsAre("A", "B"));
}

TEST_F(LoadTest, ErrorsAreCumulativeAcrossCalls) {
  ASSERT_TRUE(LoadCases("{}\n", 1, "a.ndjson").ok());
  absl::Status status = LoadCases("{}\n", 1, "b.ndjson");
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(StatusMessage(status), StartsWith("a.ndjson:1: cardNum: missing; b.ndjson:1: "));
  EXPECT_EQ(report_.errors, 2u);
}

TEST_F(LoadTest, MessageListsFiveErrorsAndReportKeepsAHundred) {
  std::string content;
  for (int i = 0; i < 150; ++i) content += "{}\n";
  absl::Status status = LoadCases(content, 10);
  ASSERT_FALSE(status.ok());
  std::string message = StatusMessage(status);
  EXPECT_THAT(message, HasSubstr("debtors.ndjson:5: "));
  EXPECT_THAT(message, Not(HasSubstr("debtors.ndjson:6: ")));
  EXPECT_THAT(message, HasSubstr("(150 errors in all; --max-errors is 10)"));
  EXPECT_EQ(report_.errors, 150u);
  EXPECT_EQ(report_.first_errors.size(), LoadReport::kMaxKeptErrors);
  EXPECT_EQ(report_.first_errors.back().line, 100u);
}

// A feed copied over the file (`cp`, O_TRUNC) while a reload reads it: finding #2 of tester
// x25, where the read beyond the new end killed shixind with SIGBUS. The load fails instead.
TEST_F(LoadTest, FileTruncatedWhileReadFails) {
  std::string content;
  for (int i = 0; i < 2000; ++i) content += Case(absl::StrCat("C", i)) + "\n";
  const std::string path = Write("debtors.ndjson", content);
  bool truncated = false;
  absl::Status status = LoadCaseFile(
      path, LoadOptions(),
      [&](const CaseInput& c) {
        if (!truncated) truncated = truncate(path.c_str(), 4096) == 0;  // the copy begins
        cases_.emplace_back(c.case_code);
      },
      &report_);
  ASSERT_TRUE(truncated);
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(StatusMessage(status),
            absl::StrCat(path, " changed while it was read (truncated from ", content.size(),
                         " to 4096 bytes); replace the file by renaming a complete copy into "
                         "place, never rewrite it in place"));
  EXPECT_LT(cases_.size(), 2000u);
}

TEST_F(LoadTest, MissingFile) {
  LoadReport report;
  std::string path = ::testing::TempDir() + "/no/such/debtors.ndjson";
  absl::Status status = LoadCaseFile(
      path, LoadOptions(), [](const CaseInput&) {}, &report);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(StatusMessage(status), HasSubstr(path));
  status = LoadRelationFile(
      path, LoadOptions(), [](const RelationInput&) {}, &report);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
}

TEST_F(LoadTest, EmptyFiles) {
  for (std::string content : {"", "\n\n", "\xEF\xBB\xBF", "  \r\n"}) {
    EXPECT_TRUE(LoadCases(content).ok());
  }
  EXPECT_EQ(report_.lines, 0u);
  EXPECT_EQ(report_.records, 0u);
}

TEST_F(LoadTest, LineTooLong) {
  std::string huge = Json(With(PersonFields(), "duty", Quoted(std::string(1 << 20, 'x'))));
  std::string big = Json(With(PersonFields(), "duty", Quoted(std::string(1000000, 'y'))));
  ASSERT_TRUE(LoadCases(Case("A") + "\n" + huge + "\n" + big + "\n", 1).ok());
  EXPECT_THAT(cases_, ElementsAre("A", "(2019)浙0111执286号"));
  ASSERT_EQ(report_.first_errors.size(), 1u);
  EXPECT_EQ(report_.first_errors[0].line, 2u);
  EXPECT_THAT(report_.first_errors[0].reason, StartsWith("line too long ("));
}

// The last line is parsed from a padded copy; the views the sink sees must still be right.
TEST_F(LoadTest, ShortLastLineAndEscapes) {
  std::string last = R"({"caseCode":"Z\n1","iname":"x","cardNum":"552698531","courtName":""})";
  ASSERT_LT(last.size(), 100u);
  ASSERT_TRUE(LoadCases(Case("A") + "\n" + last).ok());
  EXPECT_THAT(cases_, ElementsAre("A", "Z\n1"));
}

TEST_F(LoadTest, JsonArray) {
  std::string content = "\xEF\xBB\xBF\n[\n  " + Case("A") + ",\n  " + Case("B") + "\n,\n" +
                        "  {\n    \"caseCode\": \"C\",\n    \"iname\": \"x\",\n"
                        "    \"cardNum\": \"552698531\",\n    \"courtName\": \"c\"\n  }\n]\n";
  ASSERT_TRUE(LoadCases(content, 0, "debtors.json").ok());
  EXPECT_THAT(cases_, ElementsAre("A", "B", "C"));
  EXPECT_EQ(report_.lines, 3u);
  EXPECT_TRUE(LoadCases("[]").ok());
  EXPECT_TRUE(LoadCases(" [ ] \n").ok());
  EXPECT_EQ(report_.lines, 3u);
}

TEST_F(LoadTest, JsonArrayErrorsNameTheElementLine) {
  std::string content = "[\n" + Case("A") + ",\n" +                // line 2
                        Case("B", "110105194912310021") + ",\n" +  // line 3
                        "\n  {\"caseCode\": \"C\",\n" +            // line 5, spans 2 lines
                        "   \"x\": [\"]\", \"{\"]},\n" +           // brackets in strings
                        "42, " + Case("D") + ",\n" +               // line 7: 42 and D
                        "{\"a\": \"\xff\"}\n" +                    // line 8
                        "]";
  absl::Status status = LoadCases(content, 10, "debtors.json");
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(cases_, ElementsAre("A", "D"));
  std::vector<std::pair<uint64_t, std::string>> errors = Errors();
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0].first, 3u);
  EXPECT_THAT(errors[0].second, StartsWith("cardNum: "));
  EXPECT_EQ(errors[1], std::make_pair(uint64_t{5}, std::string("cardNum: missing")));
  EXPECT_EQ(errors[2], std::make_pair(uint64_t{7}, std::string("not a JSON object")));
  EXPECT_EQ(errors[3], std::make_pair(uint64_t{8}, std::string("invalid UTF-8")));
  EXPECT_EQ(report_.lines, 6u);
}

TEST_F(LoadTest, TruncatedJsonArray) {
  // Cut inside an element: that element is the error, and it is never handed to the sink.
  std::string content = "[\n" + Case("A") + ",\n" + Case("B");
  content.resize(content.size() - 5);
  absl::Status status = LoadCases(content, 5, "debtors.json");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(StatusMessage(status),
            "debtors.json:3: cut short: truncated array: element not closed; the load fails "
            "whatever --max-errors says");
  EXPECT_THAT(cases_, ElementsAre("A"));

  // Complete elements but no closing ']'.
  report_ = LoadReport();
  cases_.clear();
  status = LoadCases("[\n" + Case("A") + ",\n" + Case("B") + "\n", 5, "debtors.json");
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(StatusMessage(status), HasSubstr("truncated array: no closing ']'"));
  EXPECT_THAT(cases_, ElementsAre("A", "B"));
  EXPECT_EQ(report_.errors, 1u);

  report_ = LoadReport();
  EXPECT_FALSE(LoadCases("[", 5, "debtors.json").ok());
  EXPECT_EQ(report_.errors, 1u);
}

// A file cut short (a copy or an export interrupted) fails the load whatever --max-errors says:
// its last line has no newline and ends inside a string or an object.
TEST_F(LoadTest, FileCutShortFailsWhateverMaxErrors) {
  const std::string good = Case("A") + "\n" + Case("B") + "\n";
  // Cut inside 张三's first character: not valid UTF-8 either.
  const std::string c = Case("C");
  const std::string in_char = good + c.substr(0, c.find("张三") + 2);
  absl::Status status = LoadCases(in_char, 5);
  EXPECT_EQ(StatusMessage(status),
            "debtors.ndjson:3: cut short: the last line has no newline and ends inside a string "
            "(malformed JSON: A string is opened, but never closed.); the load fails whatever "
            "--max-errors says");
  EXPECT_THAT(cases_, ElementsAre("A", "B"));
  EXPECT_EQ(report_.errors, 1u);
  ASSERT_EQ(report_.first_errors.size(), 1u);
  EXPECT_EQ(report_.first_errors[0].line, 3u);
  // Cut between two keys, and after a nested object's end.
  for (const std::string& cut :
       {c.substr(0, c.find(",\"iname\"")), std::string(R"({"a":{}})").substr(0, 7)}) {
    report_ = LoadReport();
    status = LoadCases(good + cut, 5);
    EXPECT_THAT(StatusMessage(status),
                StartsWith("debtors.ndjson:3: cut short: the last line has no newline and ends "
                           "inside an object or array (malformed JSON"))
        << cut;
  }
  // A relations file alike.
  const std::string relation = RelationJson();
  LoadOptions options;
  options.max_errors = 5;
  status = LoadRelationFile(
      Write("relations.ndjson", RelationJson() + "\n" + relation.substr(0, relation.size() - 3)),
      options, [](const RelationInput&) {}, &report_);
  EXPECT_THAT(StatusMessage(status),
              StartsWith("relations.ndjson:2: cut short: the last line has no newline and ends "
                         "inside a string (malformed JSON"));

  // A last line without its newline that is a whole object is read: a good record or a bad one.
  cases_.clear();
  report_ = LoadReport();
  ASSERT_TRUE(LoadCases(good + Case("C"), 0).ok());
  EXPECT_THAT(cases_, ElementsAre("A", "B", "C"));
  for (const std::string& bad :
       {Case("D", "110105194912310021"), std::string("not json"), Case("E") + " x"}) {
    report_ = LoadReport();
    status = LoadCases(good + bad, 1);
    EXPECT_TRUE(status.ok()) << bad << ": " << status;
    EXPECT_EQ(report_.errors, 1u) << bad;
    EXPECT_EQ(LoadCases(good + bad, 0).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  // A line cut short in the middle of the file (its newline there) is a bad line: that is what
  // a bad record looks like, not a cut.
  report_ = LoadReport();
  EXPECT_TRUE(LoadCases(c.substr(0, c.size() / 2) + "\n" + good, 1).ok());
}

TEST_F(LoadTest, MalformedJsonArray) {
  absl::Status status = LoadCases(std::string("[") + Case("A") + ",]", 5, "debtors.json");
  EXPECT_TRUE(status.ok());
  EXPECT_THAT(Errors(),
              ElementsAre(std::make_pair(
                  uint64_t{1}, std::string("malformed JSON: trailing comma in the array"))));
  report_ = LoadReport();
  EXPECT_TRUE(
      LoadCases(std::string("[") + Case("A") + ",," + Case("B") + "]", 5, "debtors.json").ok());
  EXPECT_THAT(Errors(), ElementsAre(std::make_pair(
                            uint64_t{1}, std::string("malformed JSON: empty array element"))));
  report_ = LoadReport();
  EXPECT_TRUE(LoadCases(std::string("[") + Case("A") + "]\n x", 5, "debtors.json").ok());
  EXPECT_THAT(Errors(), ElementsAre(std::make_pair(
                            uint64_t{2}, std::string("trailing characters after the array"))));
  EXPECT_THAT(cases_, ElementsAre("A", "A", "B", "A"));
}

TEST_F(LoadTest, Relations) {
  std::string content = RelationJson() + "\n" +                                             // 1
                        RelationJson("role", R"("boss")") + "\n" +                          // 2
                        RelationJson("orgId", "\"11010519491231002X\"") + "\r\n" +          // 3
                        "\n" +                                                              // 4
                        RelationJson("personName", std::nullopt) + "\n" +                   // 5
                        RelationJson("orgId", Quoted(CreditCode("91110000", "10001234")));  // 6
  LoadOptions options;
  options.max_errors = 3;
  std::vector<std::pair<std::string, Role>> seen;
  LoadReport report;
  absl::Status status = LoadRelationFile(
      Write("relations.ndjson", content), options,
      [&](const RelationInput& r) { seen.emplace_back(r.org.text(), r.role); }, &report);
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], std::make_pair(std::string(kCreditCode), Role::kActualController));
  EXPECT_EQ(seen[1].first, CreditCode("91110000", "10001234"));
  ASSERT_EQ(report.first_errors.size(), 3u);
  EXPECT_EQ(report.first_errors[0].line, 2u);
  EXPECT_EQ(report.first_errors[0].reason, "role: unknown role \"boss\"");
  EXPECT_EQ(report.first_errors[0].file, "relations.ndjson");
  EXPECT_EQ(report.first_errors[1].line, 3u);
  EXPECT_THAT(report.first_errors[1].reason, StartsWith("orgId: a resident ID"));
  EXPECT_EQ(report.first_errors[2].line, 5u);
  EXPECT_EQ(report.lines, 5u);
  EXPECT_EQ(report.records, 2u);

  options.max_errors = 2;
  report = LoadReport();
  status = LoadRelationFile(
      Write("relations.ndjson", content), options, [](const RelationInput&) {}, &report);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(StatusMessage(status), StartsWith("relations.ndjson:2: role: unknown role"));
}

TEST_F(LoadTest, RelationsAreNeverAnArray) {
  LoadReport report;
  absl::Status status = LoadRelationFile(
      Write("relations.json", std::string("[") + RelationJson() + "]"), LoadOptions(),
      [](const RelationInput&) {}, &report);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(report.errors, 1u);
}

}  // namespace
}  // namespace shixin
