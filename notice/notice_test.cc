#include "notice/notice.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/catalog.h"
#include "core/dataset.h"
#include "core/delta.h"
#include "core/overlay.h"
#include "core/paths.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kAnswerMicros = 1780000000LL * 1000000;  // 2026-05-29T04:26:40+08:00
constexpr int64_t kNoticeDay = 1780041600;                 // 2026-05-29T16:00:00+08:00
constexpr char kPerson[] = "11010519491231002X";           // 张秀兰, listed
// Not listed, its director 王建国 (230402198503150611) is: measures 18 and 22 (officers).
constexpr char kOrgWithListedDirector[] = "912304216987123405";
constexpr char kUnknownOrg[] = "91230400MA1DDDDD69";  // not in data/sample

class NoticeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto snap = LoadDataDir(SHIXIN_TEST_SOURCE_DIR "/data/sample", LoadOptions{}, nullptr);
    ASSERT_TRUE(snap.ok()) << snap.status();
    snap_ = std::move(*snap);
    absl::StatusOr<Catalog> catalog = Catalog::LoadFile(DefaultCatalogPath());
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    catalog_ = std::make_unique<Catalog>(std::move(*catalog));
  }

  // A notice input for a MEASURES answer about `subject` returning `measures`.
  // `officers`: those the request sent, as the audit recorded them.
  NoticeInput Input(const std::string& subject, audit::Listing listing,
                    std::vector<uint16_t> measures, int64_t as_of = 0,
                    const std::vector<audit::SentOfficer>& officers = {}) {
    subject_ = subject;
    NoticeInput in;
    in.record.time_micros = kAnswerMicros;
    in.record.opcode = 4;
    in.record.caller = "hegang-housing";
    in.record.subject = subject_;
    in.record.listing = listing;
    in.record.list_version = 0x00c0ffee12345678;
    in.record.generation = 3;
    in.record.delta_sequence = 42;
    in.record.measures = std::move(measures);
    in.record.receipt_issued = true;
    in.record.as_of = as_of;
    in.receipt = "9f2c41d0-3-1048576";
    in.issuer = "鹤岗市住房保障局";
    in.catalog = catalog_.get();
    in.date = kNoticeDay;
    const ListView list(*snap_, overlay_.get());
    absl::StatusOr<NoticeSubject> s = NoticeSubjectFromList(
        NoticeLists{.answered = list, .now = list}, *catalog_, in.record, officers);
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok()) in.subject = std::move(*s);
    return in;
  }

  // Applies the delta file text `lines` (docs/feed.md 3) on the sample: Input() then answers
  // from the list with it.
  void ApplyDelta(const std::string& lines) {
    absl::StatusOr<Delta> delta = ParseDelta(DeltaFileName(1), std::string_view(lines));
    ASSERT_TRUE(delta.ok()) << delta.status();
    DeltaReport report;
    absl::StatusOr<std::unique_ptr<const Overlay>> overlay =
        shixin::ApplyDelta(*snap_, nullptr, *delta, &report);
    ASSERT_TRUE(overlay.ok()) << overlay.status();
    overlay_ = *std::move(overlay);
  }

  std::unique_ptr<const Snapshot> snap_;
  std::unique_ptr<const Overlay> overlay_;
  std::unique_ptr<Catalog> catalog_;
  std::string subject_;
};

TEST_F(NoticeTest, ListedPersonText) {
  const NoticeInput in = Input(kPerson, audit::Listing::kListed, {7, 41});
  const std::string text = RenderNoticeText(in);
  EXPECT_THAT(text, HasSubstr("失信被执行人联合惩戒告知书\n\n张秀兰：\n"));
  EXPECT_THAT(text,
              HasSubstr("\n一、告知对象\n  姓名：张秀兰\n  公民身份号码：1101051949****002X\n"));
  EXPECT_THAT(text, Not(HasSubstr(kPerson)));
  EXPECT_THAT(text, HasSubstr("\n二、失信情况\n  告知对象受到下列惩戒措施，系因告知对象已被纳入"
                              "失信被执行人名单。\n  据以纳入失信被执行人名单的案件如下：\n"));
  EXPECT_THAT(text,
              HasSubstr("  序号 | 案号 | 执行法院 | 发布日期 | 失信行为情形\n"
                        "  1 | (2015)鹤向法执字第00232号 | 鹤岗市向阳区人民法院 | "
                        "2015年09月08日 | 有履行能力而拒不履行生效法律文书确定义务\n"
                        "  2 | （2018）黑0402执恢45号 | 鹤岗市向阳区人民法院 | 2018年07月13日 | "));
  EXPECT_THAT(text, Not(HasSubstr("其后变动")));  // nothing changed since
  EXPECT_THAT(
      text,
      HasSubstr("\n三、惩戒依据\n  《鹤岗市中级人民法院、中共鹤岗市委组织部、中共鹤岗市委宣传部"
                "等32家单位对失信被执行人实施联合惩戒的合作备忘录》；"
                "《最高人民法院关于公布失信被执行人名单信息的若干规定》。\n"));
  EXPECT_THAT(text, HasSubstr("依据上述备忘录，下列惩戒措施适用于告知对象：\n"
                              "  编号 | 措施 | 实施单位 | 适用事由 | 备忘录条款\n"
                              "  7 | 担任事业单位法定代表人限制 | 鹤岗市机构编制委员会办公室 | "
                              "告知对象已被纳入失信被执行人名单 | "
                              "失信被执行人为个人的，限制其登记为事业单位法定代表人。\n  41 | "));
  // The objection route: the enforcing court, Art. 11-12, the periods of court-rules.md.
  EXPECT_THAT(text, HasSubstr("  告知对象认为不应被纳入失信被执行人名单、记载和公布的失信信息不准确"
                              "或者失信情形已经消除的，可以依据《最高人民法院关于公布失信被执行人"
                              "名单信息的若干规定》第十一条，向执行法院（鹤岗市向阳区人民法院）"
                              "书面申请纠正。\n"));
  EXPECT_THAT(text, HasSubstr("十五日内审查，理由成立的，在三个工作日内纠正"));
  EXPECT_THAT(text, HasSubstr("复议期间，不停止原决定的执行。"));
  EXPECT_THAT(text, Not(HasSubstr("职务")));  // no role-related wording for a listed subject
  EXPECT_THAT(text, HasSubstr("告知单位：鹤岗市住房保障局\n告知日期：2026年05月29日\n"));
  EXPECT_THAT(text,
              HasSubstr("回执编号：9f2c41d0-3-1048576\n名单版本：00c0ffee12345678，增量序号 42\n"
                        "查询时间：2026-05-29T04:26:40+08:00\n"));
  EXPECT_THAT(text, Not(HasSubstr("查询所针对的时点")));
}

// The list's values and the issuer are printed as the CLI's text output prints them: an escape
// sequence or a line or direction control in them reaches no terminal.
TEST_F(NoticeTest, TextEscapesControlsInValues) {
  ApplyDelta(
      R"({"op":"add","caseCode":"(2021)黑04执9号\u001b[1m","iname":"Evil\u001b]0;pwned\u0007)"
      R"(\u001b[2J\u202eName","cardNum":"230402198001010037","partyTypeName":"0",)"
      R"("courtName":"Court\u001b[31m\u2028X","areaName":"黑龙江","gistId":"(2021)黑04民初1号",)"
      R"("gistUnit":"鹤岗市向阳区人民法院","regDate":"20210310","publishDate":"2021-06-01",)"
      R"("duty":"偿还借款","performance":"全部未履行","performedPart":"暂无","unperformPart":"暂无",)"
      R"("disruptTypeName":"违反财产报告制度","businessEntity":"","age":"41","sexy":"男"})"
      "\n");
  NoticeInput in = Input("230402198001010037", audit::Listing::kListed, {7});
  in.issuer = "Iss\x1b[5muer\xc2\x9b";
  const std::string text = RenderNoticeText(in);
  for (std::string_view raw : {"\x1b", "\x07", "\xe2\x80\xa8", "\xe2\x80\xae", "\xc2\x9b"}) {
    EXPECT_THAT(text, Not(HasSubstr(raw))) << text;
  }
  EXPECT_THAT(text, HasSubstr("Evil\\x1b]0;pwned\\x07\\x1b[2J\\u202eName：\n")) << text;
  EXPECT_THAT(text, HasSubstr(" | (2021)黑04执9号\\x1b[1m | Court\\x1b[31m\\u2028X | ")) << text;
  EXPECT_THAT(text, HasSubstr("告知单位：Iss\\x1b[5muer\\u009b\n")) << text;
}

// A foreign national has no 公民身份号码, nor has a Hong Kong resident: the notice names the
// document the ID is the number of, in the subject's section and where it addresses the ID.
TEST_F(NoticeTest, PersonsIdIsNamedByItsDocument) {
  std::string lines;
  for (const char* id : {"933840198001010019", "810000198001010030"}) {
    absl::StrAppend(
        &lines, R"({"op":"add","caseCode":"(2021)黑04执9号","iname":"约翰·史密斯","cardNum":")", id,
        R"(","partyTypeName":"0","courtName":"鹤岗市向阳区人民法院","areaName":"黑龙江",)"
        R"("gistId":"(2021)黑04民初1号","gistUnit":"鹤岗市向阳区人民法院","regDate":"20210310",)"
        R"("publishDate":"2021-06-01","duty":"偿还借款","performance":"全部未履行",)"
        R"("performedPart":"暂无","unperformPart":"暂无","disruptTypeName":"违反财产报告制度",)"
        R"("businessEntity":"","age":"41","sexy":"男"})"
        "\n");
  }
  ApplyDelta(lines);
  NoticeInput in = Input("933840198001010019", audit::Listing::kListed, {7});
  EXPECT_THAT(RenderNoticeText(in), HasSubstr("  外国人永久居留身份证号码：9338401980****0019\n"));
  in.subject.name.clear();  // addressed to the ID
  EXPECT_THAT(RenderNoticeHtml(in),
              HasSubstr("外国人永久居留身份证号码为9338401980****0019的当事人"));
  EXPECT_THAT(RenderNoticeText(in), Not(HasSubstr("公民身份号码")));
  in = Input("810000198001010030", audit::Listing::kListed, {7});
  EXPECT_THAT(RenderNoticeHtml(in), HasSubstr("<p>港澳台居民居住证号码：8100001980****0030</p>"));
  EXPECT_THAT(RenderNoticeText(in), Not(HasSubstr("公民身份号码")));
  // A citizen's stays a 公民身份号码.
  EXPECT_THAT(RenderNoticeText(Input(kPerson, audit::Listing::kListed, {7})),
              HasSubstr("  公民身份号码：1101051949****002X\n"));
}

TEST_F(NoticeTest, OrganisationShowsItsCodeWholeInHtml) {
  const NoticeInput in = Input("91350503MA2XK7R352", audit::Listing::kListed, {52});
  const std::string html = RenderNoticeHtml(in);
  EXPECT_THAT(html, HasSubstr("<!DOCTYPE html>\n<html lang=\"zh-CN\">"));
  EXPECT_THAT(html, HasSubstr("@page { size: A4;"));
  EXPECT_THAT(html, HasSubstr("<p class=\"addressee\">泉州市恒泰贸易有限公司：</p>"));
  EXPECT_THAT(html, HasSubstr("<p>名称：泉州市恒泰贸易有限公司</p>"));
  EXPECT_THAT(html, HasSubstr("<p>统一社会信用代码（组织机构代码）：91350503MA2XK7R352</p>"));
  EXPECT_THAT(html, HasSubstr("<tr><td>52</td><td>授信限制</td>"));
  EXPECT_THAT(html, HasSubstr("<th>适用事由</th>"));
  EXPECT_THAT(html, HasSubstr("<h2>五、异议途径</h2>"));
  // Self-contained: nothing fetched.
  for (const char* external : {"<link", "<script", "src=", "url(", "@import", "http"}) {
    EXPECT_THAT(html, Not(HasSubstr(external))) << external;
  }
}

// A related person is not listed: the notice says through which role of which listed
// organisation, shows that organisation's cases, and words the objection for the role (Art. 11
// is the organisation's to use).
TEST_F(NoticeTest, RelatedPersonShowsTheOrganisationsCasesAndRole) {
  const NoticeInput in = Input("230402197203140038", audit::Listing::kRelated, {41});
  ASSERT_EQ(in.subject.parties.size(), 1u);
  EXPECT_EQ(in.subject.parties[0].id, "91350503MA2XK7R352");
  EXPECT_EQ(in.subject.parties[0].cases.size(), 2u);
  const std::string text = RenderNoticeText(in);
  EXPECT_THAT(text, HasSubstr("  姓名：陈海波\n  公民身份号码：2304021972****0038\n"));
  EXPECT_THAT(text, HasSubstr("告知对象受到下列惩戒措施，系因告知对象系失信被执行人泉州市恒泰贸易"
                              "有限公司（91350503MA2XK7R352）的法定代表人。\n"));
  EXPECT_THAT(text, HasSubstr("  序号 | 失信被执行人 | 案号 | 执行法院 | 发布日期 | 失信行为情形\n"
                              "  1 | 泉州市恒泰贸易有限公司（91350503MA2XK7R352） | "));
  EXPECT_THAT(text, HasSubstr("  2 | 泉州市恒泰贸易有限公司（91350503MA2XK7R352） | "));
  EXPECT_THAT(text,
              HasSubstr("  41 | 协助法院进行住宿宾馆饭店限制 | 鹤岗市公安局 | 告知对象系失信"
                        "被执行人泉州市恒泰贸易有限公司（91350503MA2XK7R352）的法定代表人 | "));
  EXPECT_THAT(text, Not(HasSubstr("告知对象认为不应被纳入")));
  EXPECT_THAT(text, HasSubstr("  告知对象认为其未担任或者已不再担任上述职务的，可以向本单位提出异议"
                              "并提供相关材料，本单位核实后依法处理。\n"
                              "  上述失信被执行人认为不应被纳入失信被执行人名单、"));
  EXPECT_THAT(text, HasSubstr("第十一条，向执行法院（鹤岗市中级人民法院、鹤岗市向阳区人民法院）"
                              "书面申请纠正。\n"));
  EXPECT_THAT(text, Not(HasSubstr("230402197203140038")));
}

// 孙涛 is the legal representative of a listed organisation (measure 41) and a director of
// another (no measure reaches directors): only the role that carries the measure is shown.
TEST_F(NoticeTest, RoleWithoutMeasureIsNotShown) {
  const NoticeInput in = Input("230403197011230713", audit::Listing::kRelated, {41});
  const std::string text = RenderNoticeText(in);
  EXPECT_THAT(text, HasSubstr("系因告知对象系失信被执行人鹤岗市龙腾煤业有限责任公司（230987613）的"
                              "法定代表人。\n"));
  EXPECT_THAT(text, HasSubstr("(2016)黑0403执302号"));
  EXPECT_THAT(text, Not(HasSubstr("泉州市恒泰贸易有限公司")));
  EXPECT_THAT(text, Not(HasSubstr("董事")));
}

// Measures 18 and 22 reach an unlisted organisation whose director is listed (the relations
// feed knows him): the notice names the officer (ID masked) and shows his cases.
TEST_F(NoticeTest, ListedOfficerOfAnUnlistedOrganisation) {
  const NoticeInput in = Input(kOrgWithListedDirector, audit::Listing::kUnlisted, {18, 22});
  ASSERT_EQ(in.subject.measures.size(), 2u);
  ASSERT_EQ(in.subject.measures[1].basis.size(), 1u);
  EXPECT_EQ(in.subject.measures[1].basis[0].type, BasisType::kOfficer);
  const std::string text = RenderNoticeText(in);
  // The relations feed gives no organisation's name: the notice is addressed to its code,
  // saying so (never to a blank), and the name is a blank to fill in by hand.
  EXPECT_THAT(text, HasSubstr("告知书\n\n统一社会信用代码（组织机构代码）为912304216987123405的"
                              "单位（失信被执行人名单未载明其名称）：\n"));
  EXPECT_THAT(text, HasSubstr("  名称：＿＿＿＿＿＿＿＿＿＿\n"
                              "  统一社会信用代码（组织机构代码）：912304216987123405\n"));
  EXPECT_THAT(RenderNoticeHtml(in),
              HasSubstr("<p class=\"addressee\">统一社会信用代码（组织机构代码）为"
                        "912304216987123405的单位（失信被执行人名单未载明其名称）：</p>"));
  // One reason for both measures, said once.
  EXPECT_THAT(text, HasSubstr("告知对象受到下列惩戒措施，系因告知对象的董事王建国"
                              "（2304021985****0611）已被纳入失信被执行人名单。\n"));
  EXPECT_THAT(text, HasSubstr("  1 | 王建国（2304021985****0611） | （2020）黑0403执567号 | "));
  EXPECT_THAT(text, HasSubstr("  22 | 授予市内慈善类奖项限制 | 鹤岗市民政局 | 告知对象的董事王建国"
                              "（2304021985****0611）已被纳入失信被执行人名单 | "));
  EXPECT_THAT(text, HasSubstr("告知对象认为上述人员未担任或者已不再担任其所列职务的"));
  EXPECT_THAT(text, Not(HasSubstr("230402198503150611")));
}

// A person whose name is not known (a list that gives none) is addressed by the masked ID,
// saying so, in both formats; the whole ID appears nowhere.
TEST_F(NoticeTest, APersonWithoutANameIsAddressedByTheMaskedId) {
  NoticeInput in = Input(kPerson, audit::Listing::kListed, {7});
  in.subject.name.clear();
  const std::string addressee =
      "公民身份号码为1101051949****002X的当事人（失信被执行人名单未载明其姓名）：";
  const std::string text = RenderNoticeText(in);
  EXPECT_THAT(text, HasSubstr("告知书\n\n" + addressee + "\n"));
  EXPECT_THAT(text, Not(HasSubstr(kPerson)));
  const std::string html = RenderNoticeHtml(in);
  EXPECT_THAT(html, HasSubstr("<p class=\"addressee\">" + addressee + "</p>"));
  EXPECT_THAT(html, Not(HasSubstr(kPerson)));
}

// Officers the caller sent with the request are recorded without their roles: the notice says
// the measure applied through one of them, as the catalog's rule has it, and names no one.
TEST_F(NoticeTest, OfficerTheCallerSentIsNotNamed) {
  const NoticeInput in = Input(kUnknownOrg, audit::Listing::kUnlisted, {22, 52}, 0,
                               {{"230402198503150611", audit::Listing::kListed}});
  ASSERT_EQ(in.subject.measures.size(), 2u);
  EXPECT_TRUE(in.subject.measures[0].basis.empty());
  EXPECT_TRUE(in.subject.parties.empty());
  const std::string text = RenderNoticeText(in);
  EXPECT_THAT(text, HasSubstr("  （1）告知对象的法定代表人、实际控制人、董事、监事或者高级管理人员"
                              "中有人已被纳入失信被执行人名单（该人员由本单位在查询时提供，"
                              "查询记录未保存其身份）。\n"
                              "  （2）告知对象的法定代表人或者主要负责人中有人系失信被执行人"
                              "（单位）的法定代表人或者主要负责人（该人员由本单位在查询时提供，"
                              "查询记录未保存其身份）。\n"));
  EXPECT_THAT(text, Not(HasSubstr("序号 | ")));  // no case known
  EXPECT_THAT(text, HasSubstr("第十一条，向执行法院书面申请纠正。"));
}

// A measure the list does not give is stated as applied through officers the caller sent only
// when the audit recorded one that counted (finding 2 of /tmp/x31): without officer records, or
// with only unlisted ones, the notice is refused, never given an invented basis.
TEST_F(NoticeTest, OfficerBasisNeedsTheOfficersRecords) {
  audit::QueryRecord r;
  r.opcode = 4;
  r.subject = kUnknownOrg;
  r.kind = 1;
  r.listing = audit::Listing::kUnlisted;
  r.time_micros = kAnswerMicros;
  r.receipt_issued = true;
  r.measures = {22};
  const NoticeLists lists{.answered = *snap_, .now = *snap_};
  absl::StatusOr<NoticeSubject> s = NoticeSubjectFromList(lists, *catalog_, r, {});
  EXPECT_TRUE(absl::IsFailedPrecondition(s.status())) << s.status();
  EXPECT_THAT(s.status().message(), HasSubstr("measure 22 of the answer does not apply"));
  const std::vector<audit::SentOfficer> unlisted = {
      {"230402199001010015", audit::Listing::kUnlisted}};
  EXPECT_FALSE(NoticeSubjectFromList(lists, *catalog_, r, unlisted).ok());
  const std::vector<audit::SentOfficer> listed = {{"230402198503150611", audit::Listing::kListed}};
  EXPECT_TRUE(NoticeSubjectFromList(lists, *catalog_, r, listed).ok());
}

// A revoke the court sent after the answer with its `at` before it (finding 2 of /tmp/x31):
// the notice states the answer's basis (listed), names the subject and its case as the answer's
// list had them, and flags the revocation as retroactive. On a list that folds the revoke into
// its base (no answer's list to tell it from), the refusal names the case and the change.
TEST_F(NoticeTest, ARetroactiveRevokeIsFlaggedNotTurnedIntoAnotherBasis) {
  constexpr char kOrg[] = "91230402MA1B7Q2C9U";  // 鹤岗市宏达建筑工程有限公司, listed
  ApplyDelta(absl::StrCat(R"({"op":"revoke","caseCode":"（2020）黑04执77号","cardNum":")", kOrg,
                          R"(","at":"2026-05-29T00:00:00+08:00"})", "\n"));
  audit::QueryRecord r;
  r.opcode = 4;
  r.subject = kOrg;
  r.kind = 1;
  r.listing = audit::Listing::kListed;
  r.time_micros = kAnswerMicros;  // 04:26:40, after the revoke's at
  r.receipt_issued = true;
  r.measures = {52};
  r.scenario_filter = "bank_credit";
  const ListView now(*snap_, overlay_.get());
  absl::StatusOr<NoticeSubject> s =
      NoticeSubjectFromList(NoticeLists{.answered = *snap_, .now = now}, *catalog_, r, {});
  ASSERT_TRUE(s.ok()) << s.status();
  NoticeInput in;
  in.record = r;
  in.receipt = "9f2c41d0-3-1048576";
  in.issuer = "鹤岗市农商银行";
  in.catalog = catalog_.get();
  in.date = kNoticeDay;
  in.subject = *std::move(s);
  const std::string text = RenderNoticeText(in);
  EXPECT_THAT(text, HasSubstr("\n鹤岗市宏达建筑工程有限公司：\n"));
  EXPECT_THAT(text, HasSubstr("告知对象已被纳入失信被执行人名单"));
  EXPECT_THAT(text, HasSubstr(" | （2020）黑04执77号 | "));
  EXPECT_THAT(text,
              HasSubstr(" | 2026年05月29日00时00分00秒撤销（不应纳入）（查询后通报，追溯生效）\n"));
  EXPECT_THAT(text, HasSubstr("标明“查询后通报，追溯生效”的"));
  EXPECT_THAT(text, Not(HasSubstr("本单位在查询时提供")));
  EXPECT_THAT(text, Not(HasSubstr("未载明其名称")));

  s = NoticeSubjectFromList(NoticeLists{.answered = now, .now = now, .exact = false}, *catalog_, r,
                            {});
  EXPECT_TRUE(absl::IsFailedPrecondition(s.status())) << s.status();
  EXPECT_THAT(s.status().message(),
              HasSubstr("the court changed the list with effect at or before that instant (case "
                        "（2020）黑04执77号 revoked at 2026-05-29T00:00:00+08:00)"));
}

// The same for a person after a late removal (finding 3 of /tmp/x31): printed from the answer's
// list, the removal flagged with its ground, not refused as if the list were another.
TEST_F(NoticeTest, ARetroactiveRemovalOfAPersonsCaseIsFlagged) {
  constexpr char kFu[] = "230422196705050033";  // 周福贵, listed
  ApplyDelta(absl::StrCat(R"({"op":"remove","caseCode":"（2021）黑0422执210号","cardNum":")", kFu,
                          R"(","reason":"performed","at":"2026-05-29T00:00:00+08:00"})", "\n"));
  audit::QueryRecord r;
  r.opcode = 4;
  r.subject = kFu;
  r.listing = audit::Listing::kListed;
  r.time_micros = kAnswerMicros;
  r.receipt_issued = true;
  r.measures = {41};
  r.scenario_filter = "hotel";
  const ListView now(*snap_, overlay_.get());
  // The list as known now does not give the answer's listing: refused without the answer's.
  EXPECT_FALSE(NoticeSubjectFromList(now, *catalog_, r).ok());
  absl::StatusOr<NoticeSubject> s =
      NoticeSubjectFromList(NoticeLists{.answered = *snap_, .now = now}, *catalog_, r, {});
  ASSERT_TRUE(s.ok()) << s.status();
  NoticeInput in;
  in.record = r;
  in.receipt = "9f2c41d0-3-1048576";
  in.issuer = "鹤岗市某宾馆";
  in.catalog = catalog_.get();
  in.date = kNoticeDay;
  in.subject = *std::move(s);
  const std::string text = RenderNoticeText(in);
  EXPECT_THAT(text, HasSubstr("\n周福贵：\n"));
  EXPECT_THAT(text, HasSubstr(" | （2021）黑0422执210号 | "));
  EXPECT_THAT(text, HasSubstr(" | 2026年05月29日00时00分00秒删除（已履行全部义务）"
                              "（查询后通报，追溯生效）\n"));
}

// Two hops from the relations feed: the enterprise's principal is the legal representative and
// principal of a listed organisation (measure 52).
TEST_F(NoticeTest, TwoHopsThroughTheFeed) {
  ApplyDelta(absl::StrCat(R"({"op":"relate","orgId":")", kUnknownOrg,
                          R"(","personId":"23040319740909001X","personName":"郑国华",)"
                          R"("role":"principal","at":"2026-01-01T00:00:00+08:00"})",
                          "\n"));
  const NoticeInput in = Input(kUnknownOrg, audit::Listing::kUnlisted, {52});
  const std::string text = RenderNoticeText(in);
  EXPECT_THAT(text,
              HasSubstr("  （1）告知对象的主要负责人郑国华（2304031974****001X）系失信被执行人"
                        "鹤岗市宏达建筑工程有限公司（91230402MA1B7Q2C9U）的法定代表人。\n"
                        "  （2）告知对象的主要负责人郑国华（2304031974****001X）系失信被执行人"
                        "鹤岗市宏达建筑工程有限公司（91230402MA1B7Q2C9U）的主要负责人。\n"));
  EXPECT_THAT(text, HasSubstr("  1 | 鹤岗市宏达建筑工程有限公司（91230402MA1B7Q2C9U） | "
                              "（2020）黑04执77号 | "));
  EXPECT_THAT(text, Not(HasSubstr("  2 | ")));  // the organisation's case once
}

// An as-of answer says the instant it was about; a case revoked or removed since is flagged.
TEST_F(NoticeTest, AsOfAnswerStatesItsInstantAndFlagsLaterChanges) {
  ApplyDelta(
      R"({"op":"revoke","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
      R"("at":"2026-05-20T10:00:00+08:00"})"
      "\n"
      R"({"op":"remove","caseCode":"(2015)鹤向法执字第00232号","cardNum":"11010519491231002X",)"
      R"("reason":"performed","at":"2026-05-21T09:30:00+08:00"})"
      "\n");
  constexpr int64_t kAsOf = 1778990400;  // 2026-05-17T12:00:00+08:00
  NoticeInput in = Input(kPerson, audit::Listing::kListed, {41}, kAsOf);
  std::string text = RenderNoticeText(in);
  EXPECT_THAT(text, HasSubstr("\n二、失信情况\n  本单位查询的是失信被执行人名单在2026年05月17日12时"
                              "00分00秒（北京时间）的状态，以下所述均为该时点的情况。\n"));
  EXPECT_THAT(text, HasSubstr("  序号 | 案号 | 执行法院 | 发布日期 | 失信行为情形 | 其后变动\n"));
  EXPECT_THAT(text, HasSubstr(" | 2026年05月21日09时30分00秒删除（已履行全部义务）\n"));
  EXPECT_THAT(text, HasSubstr(" | 2026年05月20日10时00分00秒撤销（不应纳入）\n"));
  EXPECT_THAT(text,
              HasSubstr("  “其后变动”栏载明上述时点之后案件的变化：撤销，系人民法院认定不应纳入"
                        "失信被执行人名单（《最高人民法院关于公布失信被执行人名单信息的若干"
                        "规定》第九条）；删除，系人民法院依据该规定第十条将其删除。\n"));
  EXPECT_THAT(text, HasSubstr("查询所针对的时点：2026-05-17T12:00:00+08:00\n"));
  EXPECT_THAT(text, Not(HasSubstr("依法纳入")));
  // A term that ended by the notice's date is flagged too.
  overlay_.reset();
  in = Input(kPerson, audit::Listing::kListed, {41});
  ASSERT_EQ(in.subject.parties.size(), 1u);
  in.subject.parties[0].cases[0].term_end = 20260528;
  text = RenderNoticeText(in);
  EXPECT_THAT(text, HasSubstr(" | 2026年05月28日纳入期限届满\n"));
  EXPECT_THAT(text, HasSubstr("的变化：纳入期限届满，系该案件的纳入期限已满。\n"));
  EXPECT_THAT(text, Not(HasSubstr("查询所针对的时点")));
}

// A case removed and listed again after the answer's instant is shown listed again, at the
// same instant or later; a change still to come at the notice's date is shown as scheduled.
TEST_F(NoticeTest, ACaseListedAgainOrAChangeToComeIsShownAsSuch) {
  // A line of `op` of the sample's first case of the subject, with `tail` (an "at").
  const auto line = [](const std::string& op, const std::string& tail) {
    return absl::StrCat(
        R"({"op":")", op,
        R"(","caseCode":"(2015)鹤向法执字第00232号","iname":"张秀兰",)"
        R"("cardNum":"11010519491231002X","partyTypeName":"0","courtName":"鹤岗市向阳区人民法院",)"
        R"("areaName":"黑龙江","gistId":"(2014)鹤向法民初字第1187号","gistUnit":"鹤岗市向阳区人民法院",)"
        R"("regDate":"20150316","publishDate":"2015-09-08","duty":"偿还借款本金8万元及利息",)"
        R"("performance":"全部未履行","performedPart":"暂无","unperformPart":"暂无",)"
        R"("disruptTypeName":"有履行能力而拒不履行生效法律文书确定义务")",
        tail, "}\n");
  };
  ApplyDelta(
      R"({"op":"remove","caseCode":"(2015)鹤向法执字第00232号","cardNum":"11010519491231002X",)"
      R"("reason":"performed","at":"2026-05-21T09:30:00+08:00"})"
      "\n" +
      line("add", "") +
      R"({"op":"remove","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
      R"("reason":"performed","at":"2026-05-30T10:00:00+08:00"})"
      "\n");
  constexpr int64_t kAsOf = 1778990400;  // 2026-05-17T12:00:00+08:00
  std::string text = RenderNoticeText(Input(kPerson, audit::Listing::kListed, {41}, kAsOf));
  EXPECT_THAT(text,
              HasSubstr(" | 2026年05月21日09时30分00秒删除（已履行全部义务），同时重新纳入\n"));
  EXPECT_THAT(text, HasSubstr(" | 将于2026年05月30日10时00分00秒删除（已履行全部义务）\n"));
  EXPECT_THAT(text, HasSubstr("的变化：删除，系人民法院依据《最高人民法院关于公布失信被执行人名单"
                              "信息的若干规定》第十条将其删除；重新纳入，系人民法院其后再次将该"
                              "案件纳入失信被执行人名单。标明“将于”的，系截至告知日期尚未发生、"
                              "人民法院已确定于该时点发生的变化。\n"));
  // Listed again later than the removal (the first version that counts again: not the
  // correction of it).
  ApplyDelta(
      R"({"op":"remove","caseCode":"(2015)鹤向法执字第00232号","cardNum":"11010519491231002X",)"
      R"("reason":"performed","at":"2026-05-21T09:30:00+08:00"})"
      "\n" +
      line("add", R"(,"at":"2026-05-22T00:00:00+08:00")") +
      line("correct", R"(,"at":"2026-06-01T00:00:00+08:00")"));
  text = RenderNoticeText(Input(kPerson, audit::Listing::kListed, {41}, kAsOf));
  EXPECT_THAT(text, HasSubstr(" | 2026年05月21日09时30分00秒删除（已履行全部义务），"
                              "2026年05月22日00时00分00秒重新纳入\n"));
}

// Finding 8a: a notice of a current answer states no instant above the cases; "the changes after
// the instant above" pointed at nothing. It names the query's time instead.
TEST_F(NoticeTest, LaterChangesOfACurrentAnswerAreAfterTheQueryTime) {
  ApplyDelta(R"({"op":"revoke","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
             R"("at":"2026-05-29T10:00:00+08:00"})"
             "\n");
  const NoticeInput in = Input(kPerson, audit::Listing::kListed, {41});
  const std::string text = RenderNoticeText(in);
  EXPECT_THAT(text, HasSubstr(" | 2026年05月29日10时00分00秒撤销（不应纳入）\n"));
  EXPECT_THAT(text, HasSubstr("  “其后变动”栏载明查询时（2026年05月29日04时26分40秒，北京时间）之后"
                              "案件的变化：撤销，"));
  EXPECT_THAT(text, Not(HasSubstr("上述时点")));
  EXPECT_THAT(text, Not(HasSubstr("以下所述均为该时点的情况")));
}

// Finding 8b: 周福贵 is listed himself and the legal representative of the listed 绥滨县福贵饭店
// (measure 41 on both bases). The subject's own Art. 11 route is stated once; the second
// paragraph names only the other listed party.
TEST_F(NoticeTest, AListedAndRelatedSubjectGetsItsOwnRouteOnce) {
  const NoticeInput in = Input("230422196705050033", audit::Listing::kListed, {41});
  ASSERT_EQ(in.subject.parties.size(), 2u);
  const std::string text = RenderNoticeText(in);
  constexpr char kArt11[] = "认为不应被纳入失信被执行人名单";
  EXPECT_THAT(text, HasSubstr(absl::StrCat("  告知对象", kArt11)));
  EXPECT_THAT(
      text, HasSubstr(absl::StrCat("  失信被执行人绥滨县福贵饭店（92230422MA1C3D5E8U）", kArt11)));
  EXPECT_THAT(text, Not(HasSubstr("上述失信被执行人")));
  size_t routes = 0;
  for (size_t at = text.find(kArt11); at != std::string::npos; at = text.find(kArt11, at + 1)) {
    ++routes;
  }
  EXPECT_EQ(routes, 2u);  // the subject's, the restaurant's
}

// Measure 52 in bank_account restricts a listed debtor's own accounts, not its legal
// representative's (related_scenarios): a notice of such an answer about a person both listed
// and the LR of a listed organisation states the listing, not the role; without the scenario
// both count, and so with a caller's default scenarios that include bank_credit.
TEST_F(NoticeTest, BasesFollowTheAnswersScenario) {
  ApplyDelta(
      R"({"op":"add","caseCode":"（2025）黑0402执7号","iname":"陈海波","cardNum":"230402197203140038",)"
      R"("partyTypeName":"0","courtName":"鹤岗市向阳区人民法院","areaName":"黑龙江",)"
      R"("gistId":"(2024)黑0402民初3号","gistUnit":"鹤岗市向阳区人民法院","regDate":"20250110",)"
      R"("publishDate":"2025-01-20","duty":"偿还借款5万元","performance":"全部未履行",)"
      R"("performedPart":"暂无","unperformPart":"暂无","disruptTypeName":"违反财产报告制度",)"
      R"("businessEntity":"","age":"54","sexy":"男"})"
      "\n");
  audit::QueryRecord record;
  record.time_micros = kAnswerMicros;
  record.opcode = 4;
  record.subject = "230402197203140038";
  record.listing = audit::Listing::kListed;
  record.measures = {52};
  record.receipt_issued = true;
  const ListView list(*snap_, overlay_.get());
  auto bases = [&](uint64_t default_scenarios) {
    absl::StatusOr<NoticeSubject> s =
        NoticeSubjectFromList(list, *catalog_, record, default_scenarios);
    EXPECT_TRUE(s.ok()) << s.status();
    std::vector<BasisType> types;
    if (s.ok() && s->measures.size() == 1) {
      for (const Basis& b : s->measures[0].basis) types.push_back(b.type);
    }
    return types;
  };
  EXPECT_EQ(bases(0), (std::vector<BasisType>{BasisType::kListed, BasisType::kRelated}));
  record.scenario_filter = "bank_account";
  EXPECT_EQ(bases(0), std::vector<BasisType>{BasisType::kListed});
  const int account = catalog_->FindScenario("bank_account");
  const int credit = catalog_->FindScenario("bank_credit");
  record.scenario_filter = "";
  EXPECT_EQ(bases(uint64_t{1} << account), std::vector<BasisType>{BasisType::kListed});
  EXPECT_EQ(bases((uint64_t{1} << account) | (uint64_t{1} << credit)),
            (std::vector<BasisType>{BasisType::kListed, BasisType::kRelated}));
  // A filter the catalog given does not know: not the catalog of the answer.
  record.scenario_filter = "golf";
  absl::StatusOr<NoticeSubject> s = NoticeSubjectFromList(list, *catalog_, record);
  EXPECT_TRUE(absl::IsFailedPrecondition(s.status())) << s.status();
  EXPECT_THAT(s.status().message(), HasSubstr("scenario \"golf\" is not in the catalog given"));
}

TEST_F(NoticeTest, FeedbackListsOnlyTheMeasuresApplied) {
  NoticeInput in = Input(kPerson, audit::Listing::kListed, {7, 41, 52});
  in.feedback = std::vector<audit::FeedbackEntry>{
      {.measure = 7, .outcome = audit::Outcome::kApplied, .reason = ""},
      {.measure = 41, .outcome = audit::Outcome::kNotApplied, .reason = "no hotel matter"},
      {.measure = 52, .outcome = audit::Outcome::kApplied, .reason = ""},
      {.measure = 52, .outcome = audit::Outcome::kCancelled, .reason = "corrected"}};
  EXPECT_EQ(ListedMeasures(in), (std::vector<uint16_t>{7}));
  const std::string text = RenderNoticeText(in);
  EXPECT_THAT(text, HasSubstr("本单位已依据上述备忘录对告知对象实施下列惩戒措施：\n"));
  EXPECT_THAT(text, HasSubstr("  7 | 担任事业单位法定代表人限制 |"));
  EXPECT_THAT(text, Not(HasSubstr("  41 | ")));
  EXPECT_THAT(text, Not(HasSubstr("  52 | ")));  // the latest entry, a cancellation, wins

  in.feedback = std::vector<audit::FeedbackEntry>{
      {.measure = 7, .outcome = audit::Outcome::kNotApplied, .reason = "r"}};
  EXPECT_TRUE(ListedMeasures(in).empty());  // `shixin notice` refuses it
}

// Only the measures reported applied give the notice its reasons and cases. 李志强 is listed
// and the directly responsible person of a listed organisation: 41 reaches him on both grounds,
// 52 only as listed (it reaches no directly responsible person).
TEST_F(NoticeTest, ReasonsFollowTheMeasuresApplied) {
  NoticeInput in = Input("230404197808082013", audit::Listing::kListed, {41, 52});
  in.feedback = std::vector<audit::FeedbackEntry>{
      {.measure = 41, .outcome = audit::Outcome::kNotApplied, .reason = "r"},
      {.measure = 52, .outcome = audit::Outcome::kApplied, .reason = ""}};
  std::string text = RenderNoticeText(in);
  EXPECT_THAT(text, HasSubstr("系因告知对象已被纳入失信被执行人名单。\n"));
  EXPECT_THAT(text, Not(HasSubstr("泉州市恒泰贸易有限公司")));
  EXPECT_THAT(text, Not(HasSubstr("职务")));
  in.feedback->push_back({.measure = 41, .outcome = audit::Outcome::kApplied, .reason = ""});
  text = RenderNoticeText(in);
  EXPECT_THAT(text, HasSubstr("  （1）告知对象已被纳入失信被执行人名单。\n"
                              "  （2）告知对象系失信被执行人泉州市恒泰贸易有限公司"
                              "（91350503MA2XK7R352）的影响债务履行的直接责任人员。\n"));
  EXPECT_THAT(text, HasSubstr("  1 | 李志强（2304041978****2013） | （2019）黑0421执88号 | "));
  EXPECT_THAT(text, HasSubstr("  2 | 泉州市恒泰贸易有限公司（91350503MA2XK7R352） | "));
  // Both objection routes: his own listing, and the role.
  EXPECT_THAT(text, HasSubstr("  告知对象认为不应被纳入失信被执行人名单"));
  EXPECT_THAT(text, HasSubstr("  告知对象认为其未担任或者已不再担任上述职务的"));
}

TEST_F(NoticeTest, HtmlEscapesEveryText) {
  NoticeInput in = Input(kPerson, audit::Listing::kListed, {7});
  in.subject.name = "<b>张&\"三'</b>";
  in.subject.parties[0].cases[0].case_code = "<script>alert(1)</script>";
  in.issuer = "A&B <局>";
  const std::string html = RenderNoticeHtml(in);
  EXPECT_THAT(html, HasSubstr("&lt;b&gt;张&amp;&quot;三&#39;&lt;/b&gt;："));
  EXPECT_THAT(html, HasSubstr("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
  EXPECT_THAT(html, HasSubstr("告知单位：A&amp;B &lt;局&gt;"));
  EXPECT_THAT(html, Not(HasSubstr("<b>")));
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
}

// Without a name for the issuing unit (open mode, no callers file) the notice leaves a blank
// to fill in by hand, never a caller id.
TEST_F(NoticeTest, UnknownIssuerIsABlank) {
  NoticeInput in = Input(kPerson, audit::Listing::kListed, {7});
  in.issuer = "";
  EXPECT_THAT(RenderNoticeText(in), HasSubstr("\n告知单位：＿＿＿＿＿＿＿＿＿＿\n"));
  EXPECT_THAT(RenderNoticeHtml(in), HasSubstr("<p>告知单位：＿＿＿＿＿＿＿＿＿＿</p>"));
}

// No measure, no notice: a supervisor of a listed organisation is related, but no measure
// reaches supervisors. Nor a CHECK answer, nor one without a receipt, nor a measure the list
// given does not give at the answer's instant (not the answer's list).
TEST_F(NoticeTest, RefusesAnAnswerWithoutMeasuresOrNotOfThisList) {
  audit::QueryRecord r;
  r.opcode = 4;
  r.subject = "230407198812250028";
  r.listing = audit::Listing::kRelated;
  r.time_micros = kAnswerMicros;
  r.receipt_issued = true;
  absl::StatusOr<NoticeSubject> s = NoticeSubjectFromList(*snap_, *catalog_, r);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.status().message(), HasSubstr("no measure"));
  r.subject = kPerson;
  r.listing = audit::Listing::kListed;
  r.measures = {41};
  EXPECT_TRUE(NoticeSubjectFromList(*snap_, *catalog_, r).ok());
  r.opcode = 3;
  EXPECT_EQ(NoticeSubjectFromList(*snap_, *catalog_, r).status().code(),
            absl::StatusCode::kFailedPrecondition);
  r.opcode = 4;
  r.receipt_issued = false;
  EXPECT_EQ(NoticeSubjectFromList(*snap_, *catalog_, r).status().code(),
            absl::StatusCode::kFailedPrecondition);
  r.receipt_issued = true;
  r.subject = "230402199001010015";  // not in the list: 41 cannot have applied
  s = NoticeSubjectFromList(*snap_, *catalog_, r);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.status().message(), HasSubstr("measure 41 of the answer does not apply"));
  r.subject = kUnknownOrg;  // an organisation: 41 has no officer rule either
  EXPECT_EQ(NoticeSubjectFromList(*snap_, *catalog_, r).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace shixin
