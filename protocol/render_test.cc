#include "protocol/render.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "core/catalog.h"
#include "core/query.h"
#include "core/record.h"
#include "core/types.h"
#include "protocol/operator_messages.h"
#include "protocol/test_messages.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;

TEST(RenderTest, EscapesAndKeepsUtf8) {
  EXPECT_EQ(ErrorJson("x\"y\\z\n\x01", "鹤岗"), R"({"input":"x\"y\\z\n\u0001","error":"鹤岗"})");
  // Invalid UTF-8 (which ingest rejects) cannot make the output invalid JSON.
  EXPECT_EQ(ErrorJson("a\xff", ""), "{\"input\":\"a\xef\xbf\xbd\",\"error\":\"\"}");
}

CaseInfo FullCase() {
  CaseInfo c;
  c.case_code = "（2018）黑04执123号";
  c.court = "鹤岗市中级人民法院";
  c.area = "黑龙江";
  c.reg_date = 20180409;
  c.publish_date = 20180820;
  c.gist_id = "(2017)黑04民初56号";
  c.gist_unit = "鹤岗市中级人民法院";
  c.duty = "给付\n1. 货款";
  c.performance = "全部未履行";
  c.performed_part = "暂无";
  c.unperform_part = "暂无";
  c.disrupt_type = "违反财产报告制度";
  c.business_entity = "陈海波";
  c.age = 58;
  c.sex = Sex::kFemale;
  c.term_end = 20200820;
  c.start = 1534694400;     // 2018-08-20T00:00:00+08:00
  c.ended_at = 1560046200;  // 2019-06-09T10:10:00+08:00
  c.end = EndReason::kSettled;
  return c;
}

TEST(RenderTest, CaseJsonHasEveryFieldInOrder) {
  CheckResult r;
  r.id = "11010519491231002X";
  r.listed = true;
  r.name = "张三";
  r.cases = {FullCase(), CaseInfo()};
  EXPECT_EQ(
      CheckJson(r),
      R"({"id":"11010519491231002X","listed":true,"related":false,"kind":"person","name":"张三",)"
      R"("since":null,"until":null,"cases":[{"case_code":"（2018）黑04执123号","court":"鹤岗市中级人民法院","area":"黑龙江",)"
      R"("reg_date":"2018-04-09","publish_date":"2018-08-20","gist_id":"(2017)黑04民初56号",)"
      R"("gist_unit":"鹤岗市中级人民法院","duty":"给付\n1. 货款","performance":"全部未履行",)"
      R"("performed_part":"暂无","unperform_part":"暂无","conduct":"违反财产报告制度",)"
      R"("legal_representative_name":"陈海波","age":58,"sex":"female","term_end":"2020-08-20",)"
      R"("start":"2018-08-20T00:00:00+08:00","ended_at":"2019-06-09T10:10:00+08:00",)"
      R"("end":"settled"},)"
      R"({"case_code":"","court":"","area":"","reg_date":null,"publish_date":null,"gist_id":"",)"
      R"("gist_unit":"","duty":"","performance":"","performed_part":"","unperform_part":"",)"
      R"("conduct":"","term_end":null,"start":null}],"roles":[]})");
}

TEST(RenderTest, CheckJsonHasTheDocumentedKeys) {
  CheckResult r;
  r.id = "11010519491231002X";
  r.listed = true;
  r.name = "张三";
  r.since = 1534694400;  // the listing stretch; no known end
  CaseInfo c;
  c.case_code = "（2018）黑04执123号";
  c.reg_date = 20180114;
  r.cases.push_back(c);
  r.roles.push_back(RoleInfo{Role::kDirector, "91350500156488989A", "某公司", true});
  const std::string json = CheckJson(r);
  EXPECT_EQ(
      json.rfind(
          R"({"id":"11010519491231002X","listed":true,"related":false,"kind":"person","name":"张三",)"
          R"("since":"2018-08-20T00:00:00+08:00","until":null,"cases":[)",
          0),
      0u)
      << json;
  EXPECT_NE(json.find(R"("reg_date":"2018-01-14","publish_date":null)"), std::string::npos);
  EXPECT_NE(
      json.find(
          R"("roles":[{"role":"director","org":"91350500156488989A","name":"某公司","listed":true}])"),
      std::string::npos)
      << json;
}

TEST(RenderTest, ACheckAnswerSaysWhatDetailWouldOfKindAndRelation) {
  wire::CheckAnswer a;  // unlisted: the wire carries the normalised ID only
  a.id = "91350503MA2XK7R352";
  CheckResult r = CheckResultOf(a, "91 350503 MA2XK7R352");
  EXPECT_EQ(r.kind, SubjectKind::kOrganization);
  EXPECT_NE(CheckJson(r).find(R"("kind":"organization")"), std::string::npos) << CheckJson(r);
  a.id = "552698531";
  EXPECT_EQ(CheckResultOf(a, a.id).kind, SubjectKind::kOrganization);
  a.id = "11010519491231002X";
  EXPECT_EQ(CheckResultOf(a, a.id).kind, SubjectKind::kPerson);
  a.id = "";  // no normalised ID: the input stands for it
  EXPECT_EQ(CheckResultOf(a, "913505 03MA2XK7R35 2").kind, SubjectKind::kPerson);
  // A listed or related answer carries its kind.
  a.status = wire::CheckStatus::kListed;
  a.id = "11010519491231002X";
  a.kind = SubjectKind::kOrganization;
  EXPECT_EQ(CheckResultOf(a, a.id).kind, SubjectKind::kOrganization);
  // Listed, and holding roles in listed organisations: related too, as DETAIL says.
  EXPECT_FALSE(CheckResultOf(a, a.id).related);
  a.roles = 1;
  EXPECT_TRUE(CheckResultOf(a, a.id).related);
  EXPECT_TRUE(CheckResultOf(a, a.id).listed);
}

// A CHECK answer carries counts, not the cases and roles: no empty arrays next to "related".
TEST(RenderTest, ACheckAnswerGivesItsCountsNotEmptyArrays) {
  wire::CheckAnswer a;
  a.status = wire::CheckStatus::kRelated;
  a.id = "230402197203140038";
  a.name = "陈海波";
  a.roles = 1;
  const CheckResult related = CheckResultOf(a, a.id);
  EXPECT_EQ(CheckAnswerJson(related, CheckCounts{0, 1}, "r-1"),
            R"({"id":"230402197203140038","listed":false,"related":true,"kind":"person",)"
            R"("name":"陈海波","role_count":1,"receipt":"r-1"})");
  EXPECT_EQ(CheckAnswerText(related, CheckCounts{0, 1}),
            "230402197203140038  RELATED  person  陈海波\n"
            "  1 role(s) in listed organisations\n");
  a.status = wire::CheckStatus::kListed;
  a.kind = SubjectKind::kOrganization;
  a.roles = 0;
  const std::string listed = CheckAnswerJson(CheckResultOf(a, a.id), CheckCounts{3, 0});
  EXPECT_NE(listed.find(R"("until":null,"case_count":3,"role_count":0})"), std::string::npos)
      << listed;
  EXPECT_EQ(listed.find("officers"), std::string::npos) << listed;
  a.status = wire::CheckStatus::kUnlisted;
  EXPECT_EQ(CheckAnswerJson(CheckResultOf(a, a.id), CheckCounts{}).find("count"),
            std::string::npos);
}

TEST(RenderTest, MeasuresJsonCarriesBasis) {
  MeasuresResult r;
  r.subject.id = "11010519491231002X";
  r.subject.related = true;
  MeasureInfo m;
  m.no = 29;
  m.title = "从事不动产交易限制";
  m.agency = "housing";
  m.agency_name = "鹤岗市住房保障局";
  Basis b;
  b.type = BasisType::kRelated;
  b.role = Role::kLegalRepresentative;
  b.via = "91350500156488989A";
  b.via_name = "某公司";
  m.basis.push_back(b);
  r.measures.push_back(m);
  const std::string json = MeasuresJson(r);
  EXPECT_NE(
      json.find(
          R"("measures":[{"no":29,"title":"从事不动产交易限制","agency":"housing","agency_name":"鹤岗市住房保障局","effect":"restrict","basis":[{"type":"related","role":"legal_representative","via":"91350500156488989A","via_name":"某公司"}]}])"),
      std::string::npos)
      << json;
  EXPECT_EQ(json.find("\"cases\""), std::string::npos);
}

TEST(RenderTest, ErrorJson) {
  EXPECT_EQ(ErrorJson("12x", "wrong length"), R"({"input":"12x","error":"wrong length"})");
}

TEST(RenderTest, OrganisationsListOfficers) {
  CheckResult r;
  r.id = "91350500156488989A";
  r.kind = SubjectKind::kOrganization;
  r.officers.push_back(RoleInfo{Role::kLegalRepresentative, "11010519491231002X", "张三", false});
  EXPECT_EQ(CheckJson(r),
            R"({"id":"91350500156488989A","listed":false,"related":false,"kind":"organization",)"
            R"("name":null,"cases":[],"roles":[],"officers":[{"role":"legal_representative",)"
            R"("person":"11010519491231002X","name":"张三","listed":false}]})");
}

TEST(RenderTest, InfoJson) {
  wire::InfoResponse i;
  i.snapshot.version = 0xabc;
  i.snapshot.build_time = -5;
  i.snapshot.subjects = 12;
  i.generation = 3;
  i.max_age_seconds = 60;
  i.stale = true;
  i.reload_state = wire::ReloadState::kOk;
  i.last_reload_message = "generation 3: 14 cases";
  i.catalog_id = "hegang-2018";
  i.catalog_fingerprint = 1;
  i.data_source = "/srv/list";
  EXPECT_EQ(InfoJson(i),
            R"({"version":"0000000000000abc","generation":3,"build_time":-5,"source_time":0,)"
            R"("stale":true,"max_age_seconds":60,"subjects":12,"persons":0,"organizations":0,)"
            R"("cases":0,"relations":0,"related_persons":0,"uptime_seconds":0,)"
            R"("reload_state":"ok","last_reload_time":0,"last_reload_message":"generation 3: 14 )"
            R"(cases","catalog":"hegang-2018","catalog_fingerprint":"0000000000000001",)"
            R"("data_source":"/srv/list"})");
}

// An INFO answer of version 2 with a gap and a refused file.
wire::InfoResponse InfoWithDeltas() {
  wire::InfoResponse i;
  i.generation = 9;
  i.deltas = wire::WaitingDeltaInfo();
  i.deltas.gap = true;
  i.deltas.gap_after = 43;
  i.deltas.refused = "00000000000000000044.ndjson:17: remove: 没有";
  return i;
}

TEST(RenderTest, InfoTextShowsItsTimesInChinaTime) {
  wire::InfoResponse i;
  i.snapshot.build_time = 1780452000;
  EXPECT_NE(InfoText(i).find("  built 2026-06-03T10:00:00+08:00, list written unknown, uptime 0s"),
            std::string::npos)
      << InfoText(i);
  EXPECT_NE(InfoText(i).find("  last reload: none\n"), std::string::npos) << InfoText(i);
  i.reload_state = wire::ReloadState::kFailed;
  i.last_reload_time = 1780452061;
  i.last_reload_message = "snapshot x.snap: truncated";
  EXPECT_NE(InfoText(i).find("  last reload: failed at 2026-06-03T10:01:01+08:00: snapshot x.snap: "
                             "truncated\n"),
            std::string::npos)
      << InfoText(i);
  EXPECT_NE(InfoText(InfoWithDeltas(), 2).find("last applied 2026-06-03T10:00:00+08:00"),
            std::string::npos);
  i.deltas = wire::DeltaInfo();
  EXPECT_NE(InfoText(i, 2).find("last applied never (lag 0s)"), std::string::npos)
      << InfoText(i, 2);
}

TEST(RenderTest, InfoJsonOfVersion2HasTheDeltaState) {
  const wire::InfoResponse i = InfoWithDeltas();
  EXPECT_EQ(InfoJson(i).find("deltas"), std::string::npos);  // version 1: as before
  const std::string json = InfoJson(i, 2);
  EXPECT_NE(json.find(R"("data_source":"","deltas":{"base_sequence":40,"sequence":43,)"
                      R"("last_delta_time":1780452000,"lag_seconds":95,"pending":2,)"
                      R"("applied_files":3,"applied_changes":41230,"notes":12,"refusals":1,)"
                      R"("gap":true,"gap_after":43,"overlay_subjects":38911,)"
                      R"("overlay_bytes":5242880,)"
                      R"("refused":"00000000000000000044.ndjson:17: remove: 没有",)"
                      R"("delta_error":""}})"),
            std::string::npos)
      << json;
}

TEST(RenderTest, InfoTextOfVersion2HasTheDeltaLines) {
  wire::InfoResponse i = InfoWithDeltas();
  EXPECT_EQ(InfoText(i).find("deltas"), std::string::npos);
  std::string text = InfoText(i, 2);
  EXPECT_NE(text.find("  deltas: base up to 40, applied up to 43, 2 pending, last applied "
                      "2026-06-03T10:00:00+08:00 (lag 95s)\n"
                      "  since start: 3 files, 41230 changes, 12 notes, 1 refusals; overlay 38911 "
                      "subjects, 5242880 bytes\n"
                      "  delta gap: 00000000000000000044.ndjson is missing\n"
                      "  delta refused: 00000000000000000044.ndjson:17: remove: 没有\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("delta error"), std::string::npos);
  i.deltas.gap = false;
  i.deltas.refused = "";
  i.deltas.delta_error = "deltas_dir /x: gone";
  text = InfoText(i, 2);
  EXPECT_EQ(text.find("delta gap"), std::string::npos);
  EXPECT_EQ(text.find("delta refused"), std::string::npos);
  EXPECT_NE(text.find("  delta error: deltas_dir /x: gone\n"), std::string::npos) << text;
}

// An INFO answer of version 3 as an admin sees it.
wire::InfoResponse InfoWithSecurity() {
  wire::InfoResponse i = InfoWithDeltas();
  i.security.mode = wire::SecurityMode::kCallers;
  i.security.caller_id = "admin";
  i.security.callers = {{"admin", 3, 0, 0, 0}, {"hotel-a", 1000, 25, 3, 2}};
  return i;
}

TEST(RenderTest, InfoJsonOfVersion3HasTheSecurityBlock) {
  const wire::InfoResponse i = InfoWithSecurity();
  EXPECT_EQ(InfoJson(i, 2).find("security"), std::string::npos);  // version 2: as before
  const std::string json = InfoJson(i, 3);
  EXPECT_NE(
      json.find(R"("security":{"mode":"callers","caller":"admin","callers":[)"
                R"({"id":"admin","requests":3,"rate_limited":0,"denied":0,"auth_failures":0},)"
                R"({"id":"hotel-a","requests":1000,"rate_limited":25,"denied":3,)"
                R"("auth_failures":2}]}})"),
      std::string::npos)
      << json;
}

TEST(RenderTest, InfoTextOfVersion3HasTheSecurityLines) {
  wire::InfoResponse i = InfoWithSecurity();
  EXPECT_EQ(InfoText(i, 2).find("security"), std::string::npos);
  std::string text = InfoText(i, 3);
  EXPECT_NE(text.find("  security: mode callers, caller admin\n"
                      "  caller admin: 3 requests, 0 rate limited, 0 denied, 0 failed "
                      "authentications\n"
                      "  caller hotel-a: 1000 requests, 25 rate limited, 3 denied, 2 failed "
                      "authentications\n"),
            std::string::npos)
      << text;
  i.security = wire::SecurityInfo{};
  text = InfoText(i, 3);
  EXPECT_NE(text.find("  security: mode open (development, loopback only), caller (none)\n"),
            std::string::npos)
      << text;
}

wire::CatalogResponse SmallCatalog() {
  wire::CatalogResponse c;
  c.id = "hegang-2018";
  c.title = "备忘录";
  c.fingerprint = 0x0123456789abcdefu;
  c.agencies = {{"housing", "（十三）", "鹤岗市住房保障局"}};
  c.scenarios = {{"hotel", "Hotels."}};
  c.measures = {{41, Effect::kRestrict, "housing", "住宿限制", {"hotel"}},
                {5, Effect::kPublicity, "housing", "公布", {}}};
  return c;
}

TEST(RenderTest, CatalogJson) {
  EXPECT_EQ(CatalogJson(SmallCatalog()),
            R"({"id":"hegang-2018","title":"备忘录","fingerprint":"0123456789abcdef",)"
            R"("agencies":[{"id":"housing","section":"（十三）","name":"鹤岗市住房保障局"}],)"
            R"("scenarios":[{"id":"hotel","description":"Hotels."}],)"
            R"("measures":[{"no":41,"title":"住宿限制","agency":"housing","effect":"restrict",)"
            R"("scenarios":["hotel"]},{"no":5,"title":"公布","agency":"housing",)"
            R"("effect":"publicity","scenarios":[]}]})");
}

TEST(RenderTest, CatalogText) {
  const std::string text = CatalogText(SmallCatalog());
  EXPECT_EQ(text.substr(0, text.find('\n')), "catalog hegang-2018 (0123456789abcdef): 备忘录");
  EXPECT_NE(text.find("agencies (1):\n  housing"), std::string::npos) << text;
  EXPECT_NE(text.find("scenarios (1):\n  hotel"), std::string::npos) << text;
  EXPECT_NE(text.find("  41  restrict"), std::string::npos) << text;
  EXPECT_NE(text.find("住宿限制  [hotel]\n"), std::string::npos) << text;
  EXPECT_NE(text.find("公布\n"), std::string::npos) << text;
}

TEST(RenderTest, ListedSubjectsShowTheirStretch) {
  CheckResult r;
  r.id = "11010519491231002X";
  r.listed = true;
  r.since = 1534694400;
  r.until = 1803830400;
  EXPECT_NE(CheckJson(r).find(R"("since":"2018-08-20T00:00:00+08:00",)"
                              R"("until":"2027-03-01T00:00:00+08:00")"),
            std::string::npos)
      << CheckJson(r);
  EXPECT_NE(CheckText(r).find(
                "  listed since 2018-08-20T00:00:00+08:00, until 2027-03-01T00:00:00+08:00\n"),
            std::string::npos)
      << CheckText(r);
  r.since = 0;
  r.until = kForever;
  EXPECT_NE(CheckText(r).find("  listed since ever, no known end\n"), std::string::npos);
  r.listed = false;  // only a listed subject has a stretch
  EXPECT_EQ(CheckJson(r).find("since"), std::string::npos) << CheckJson(r);
  EXPECT_EQ(CheckText(r).find("since"), std::string::npos) << CheckText(r);
}

// An as-of answer shows a case that counted then but was revoked, removed or corrected since,
// and a fixed term, in text as in JSON.
TEST(RenderTest, CaseLinesShowTheTermAndALaterEnd) {
  CheckResult r;
  r.id = "11010519491231002X";
  r.listed = true;
  r.cases = {FullCase()};
  EXPECT_THAT(CheckText(r), HasSubstr("  违反财产报告制度  term until 2020-08-20  removed since "
                                      "2019-06-09T10:10:00+08:00 (settled)\n"));
  r.cases[0].end = EndReason::kRevoked;
  EXPECT_THAT(CheckText(r),
              HasSubstr("  term until 2020-08-20  revoked since "
                        "2019-06-09T10:10:00+08:00 (should never have been listed)\n"));
  r.cases[0].end = EndReason::kCorrected;
  EXPECT_THAT(CheckText(r), HasSubstr("  corrected since 2019-06-09T10:10:00+08:00\n"));
  r.cases[0] = CaseInfo();
  r.cases[0].disrupt_type = "违反财产报告制度";
  EXPECT_THAT(CheckText(r), HasSubstr("  违反财产报告制度\n"));  // no term, no end: nothing added
}

// Version 4: receipts after the head, the audit block in INFO, what feedback recorded.
TEST(RenderTest, ReceiptsAuditAndFeedback) {
  CheckResult r;
  r.id = "11010519491231002X";
  r.listed = true;
  EXPECT_EQ(CheckJson(r).find("receipt"), std::string::npos);  // none: as before
  EXPECT_NE(CheckJson(r, "9f2c41d0-3-64").find(R"("receipt":"9f2c41d0-3-64")"), std::string::npos);
  EXPECT_NE(CheckText(r, "9f2c41d0-3-64").find("\n  receipt 9f2c41d0-3-64\n"), std::string::npos)
      << CheckText(r, "9f2c41d0-3-64");
  MeasuresResult m;
  m.subject = r;
  EXPECT_NE(MeasuresJson(m, "9f2c41d0-3-64").find(R"("receipt":"9f2c41d0-3-64")"),
            std::string::npos);
  EXPECT_NE(MeasuresText(m, "9f2c41d0-3-64").find("  receipt 9f2c41d0-3-64\n"), std::string::npos);

  wire::InfoResponse i;
  i.audit = {wire::AuditState::kFailing, "disk full", 12, 3456, 20270108, "", 7};
  EXPECT_EQ(InfoJson(i, 3).find("audit"), std::string::npos);  // version 3: as before
  EXPECT_NE(InfoJson(i, 4).find(R"("audit":{"state":"failing","error":"disk full","records":12,)"
                                R"("bytes":3456,"next_report_due":"2027-01-08","due_note":"",)"
                                R"("receipts_without_feedback":7})"),
            std::string::npos)
      << InfoJson(i, 4);
  EXPECT_NE(InfoText(i, 4).find("  audit: failing, 12 records, 3456 bytes; next report due "
                                "2027-01-08, 7 receipts without feedback since the daemon "
                                "started\n  audit error: disk full\n"),
            std::string::npos)
      << InfoText(i, 4);

  const wire::FeedbackRequest request{"9f2c41d0-3-64",
                                      "op-7",
                                      {{41, wire::FeedbackOutcome::kApplied, ""},
                                       {52, wire::FeedbackOutcome::kNotApplied, "已履行"}}};
  const wire::FeedbackResponse response{2, "9f2c41d0-3-200"};
  EXPECT_EQ(FeedbackText(request, response),
            "feedback on 9f2c41d0-3-64 recorded: 2 measure(s), receipt 9f2c41d0-3-200\n"
            "  41  applied\n  52  not_applied: 已履行\n");
  // A reason with a line break or an escape sequence stays on its line, inert.
  const wire::FeedbackRequest odd{
      "9f2c41d0-3-64", "op-7", {{52, wire::FeedbackOutcome::kNotApplied, "已\n履\x1b[31m行"}}};
  EXPECT_EQ(FeedbackText(odd, response),
            "feedback on 9f2c41d0-3-64 recorded: 2 measure(s), receipt 9f2c41d0-3-200\n"
            "  52  not_applied: 已\\n履\\x1b[31m行\n");
  EXPECT_EQ(FeedbackJson(request, response),
            R"({"receipt":"9f2c41d0-3-64","operator":"op-7","recorded":2,)"
            R"("feedback_receipt":"9f2c41d0-3-200","items":[{"measure":41,"outcome":"applied"},)"
            R"({"measure":52,"outcome":"not_applied","reason":"已履行"}]})");
}

// docs/openapi.yaml types what the renderers write (x29 #8): its schemas' keys and enums are the
// code's lists, so a field added, renamed or given a new value here fails until documented.
class OpenApiSchemas {
 public:
  OpenApiSchemas() {
    std::ifstream in(SHIXIN_TEST_SOURCE_DIR "/docs/openapi.yaml");
    text_.assign(std::istreambuf_iterator<char>(in), {});
  }
  // The text of components/schemas/NAME (up to the next schema).
  std::string Schema(std::string_view name) const {
    const size_t begin = text_.find("\n    " + std::string(name) + ":\n");
    if (begin == std::string::npos) return "";
    size_t end = begin + 1;
    do {
      end = text_.find("\n    ", end + 1);
    } while (end != std::string::npos && text_[end + 5] == ' ');
    return text_.substr(begin, end == std::string::npos ? std::string::npos : end - begin + 1);
  }
  // The property names of a schema (its keys indented 8 spaces).
  static std::set<std::string> Properties(const std::string& schema) {
    std::set<std::string> keys;
    for (size_t at = schema.find("\n        "); at != std::string::npos;
         at = schema.find("\n        ", at + 1)) {
      const size_t colon = schema.find(':', at);
      const std::string key = schema.substr(at + 9, colon - at - 9);
      if (key.find_first_of(" -") == std::string::npos && schema[colon + 1] == '\n') {
        keys.insert(key);
      }
    }
    return keys;
  }

 private:
  std::string text_;
};

TEST(RenderTest, TheOpenApiDocumentTypesEveryKeyAndValueWritten) {
  const OpenApiSchemas doc;
  const std::string case_schema = doc.Schema("Case");
  ASSERT_FALSE(case_schema.empty());
  std::set<std::string> keys;
  ForEachCaseField(
      [&keys](const CaseField& f, const auto&) { keys.insert(std::string(f.json_key())); },
      CaseInfo{});
  EXPECT_EQ(OpenApiSchemas::Properties(case_schema), keys);
  for (int i = 1; i < kEndReasonCount; ++i) {
    const std::string name(EndReasonName(static_cast<EndReason>(i)));
    EXPECT_THAT(case_schema, HasSubstr("\n          - " + name + "\n")) << name;
  }
  const std::string roles = doc.Schema("RoleName");
  for (int i = 0; i < kRoleCount; ++i) {
    const std::string name(RoleName(static_cast<Role>(i)));
    EXPECT_THAT(roles, HasSubstr("\n      - " + name + "\n")) << name;
  }
  const std::string basis = doc.Schema("Basis");
  for (BasisType t : {BasisType::kListed, BasisType::kRelated, BasisType::kOfficer}) {
    EXPECT_THAT(basis, HasSubstr("\n          - " + std::string(BasisTypeName(t)) + "\n"));
  }
  const std::string measures = doc.Schema("MeasuresResponse");
  for (int i = 0; i < kEffectCount; ++i) {
    const std::string name(EffectName(static_cast<Effect>(i)));
    EXPECT_THAT(measures, HasSubstr("- " + name + "\n")) << name;
  }
}

}  // namespace
}  // namespace shixin
