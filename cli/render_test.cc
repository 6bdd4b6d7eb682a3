#include "cli/render.h"

#include <gtest/gtest.h>

#include "cli/json_writer.h"

namespace shixin {
namespace {

TEST(JsonWriterTest, EscapesAndSeparates) {
  JsonWriter w;
  w.BeginObject().Key("a").String("x\"y\\z\n\x01").Key("b").BeginArray().Int(1).Bool(false).Null();
  w.EndArray().Key("c").String("鹤岗").EndObject();
  EXPECT_EQ(w.str(), R"({"a":"x\"y\\z\n\u0001","b":[1,false,null],"c":"鹤岗"})");
}

TEST(RenderTest, CheckJsonHasTheDocumentedKeys) {
  CheckResult r;
  r.id = "11010519491231002X";
  r.listed = true;
  r.name = "张三";
  CaseInfo c;
  c.case_code = "（2018）黑04执123号";
  c.reg_date = 20180114;
  r.cases.push_back(c);
  r.roles.push_back(RoleInfo{Role::kDirector, "91350500156488989A", "某公司", true});
  const std::string json = CheckJson(r);
  EXPECT_EQ(
      json.rfind(
          R"({"id":"11010519491231002X","listed":true,"related":false,"kind":"person","name":"张三","cases":[)",
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

TEST(RenderTest, FormatDate) {
  EXPECT_EQ(FormatDate(20190714), "2019-07-14");
  EXPECT_EQ(FormatDate(0), "");
}

}  // namespace
}  // namespace shixin
