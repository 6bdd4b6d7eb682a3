#include "notice/notice.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/catalog.h"
#include "core/dataset.h"
#include "core/paths.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kAnswerMicros = 1780000000LL * 1000000;  // 2026-05-29T04:26:40+08:00
constexpr int64_t kNoticeDay = 1780041600;                 // 2026-05-29T16:00:00+08:00

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
  NoticeInput Input(const std::string& subject, audit::Listing listing,
                    std::vector<uint16_t> measures) {
    subject_ = subject;
    NoticeInput in;
    in.record.time_micros = kAnswerMicros;
    in.record.opcode = 4;
    in.record.caller = "hegang-housing";
    in.record.subject = subject_;
    in.record.listing = listing;
    in.record.list_version = 0x00c0ffee12345678;
    in.record.generation = 3;
    in.record.measures = std::move(measures);
    in.receipt = audit::Receipt{.node = 0x9f2c41d0, .segment = 3, .offset = 1048576};
    in.issuer = "鹤岗市住房保障局";
    in.catalog = catalog_.get();
    in.date = kNoticeDay;
    absl::StatusOr<NoticeSubject> s = NoticeSubjectFromList(*snap_, in.record);
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok()) in.subject = std::move(*s);
    return in;
  }

  std::unique_ptr<const Snapshot> snap_;
  std::unique_ptr<Catalog> catalog_;
  std::string subject_;
};

TEST_F(NoticeTest, ListedPersonText) {
  const NoticeInput in = Input("11010519491231002X", audit::Listing::kListed, {7, 41});
  const std::string text = RenderNoticeText(in);
  EXPECT_THAT(text, HasSubstr("失信被执行人联合惩戒告知书\n\n张秀兰：\n"));
  EXPECT_THAT(text,
              HasSubstr("\n一、告知对象\n  姓名：张秀兰\n  公民身份号码：1101051949****002X\n"));
  EXPECT_THAT(text, Not(HasSubstr("11010519491231002X")));
  EXPECT_THAT(text,
              HasSubstr("  序号 | 案号 | 执行法院 | 发布日期 | 失信行为情形\n"
                        "  1 | (2015)鹤向法执字第00232号 | 鹤岗市向阳区人民法院 | "
                        "2015年09月08日 | 有履行能力而拒不履行生效法律文书确定义务\n"
                        "  2 | （2018）黑0402执恢45号 | 鹤岗市向阳区人民法院 | 2018年07月13日 | "));
  EXPECT_THAT(
      text,
      HasSubstr("\n三、惩戒依据\n  《鹤岗市中级人民法院、中共鹤岗市委组织部、中共鹤岗市委宣传部"
                "等32家单位对失信被执行人实施联合惩戒的合作备忘录》；"
                "《最高人民法院关于公布失信被执行人名单信息的若干规定》。\n"));
  EXPECT_THAT(text, HasSubstr("依据上述备忘录，下列惩戒措施适用于告知对象：\n"
                              "  编号 | 措施 | 实施单位 | 备忘录条款\n"
                              "  7 | 担任事业单位法定代表人限制 | 鹤岗市机构编制委员会办公室 | "
                              "失信被执行人为个人的，限制其登记为事业单位法定代表人。\n  41 | "));
  // The objection route: the enforcing court, Art. 11-12, the periods of court-rules.md.
  EXPECT_THAT(text, HasSubstr("第十一条，向执行法院（鹤岗市向阳区人民法院）书面申请纠正。"));
  EXPECT_THAT(text, HasSubstr("十五日内审查，理由成立的，在三个工作日内纠正"));
  EXPECT_THAT(text, HasSubstr("复议期间，不停止原决定的执行。"));
  EXPECT_THAT(text, HasSubstr("告知单位：鹤岗市住房保障局\n告知日期：2026年05月29日\n"));
  EXPECT_THAT(text,
              HasSubstr("回执编号：9f2c41d0-3-1048576\n名单版本：00c0ffee12345678（第 3 代）\n"));
}

TEST_F(NoticeTest, OrganisationShowsItsCodeWholeInHtml) {
  const NoticeInput in = Input("91350503MA2XK7R352", audit::Listing::kListed, {52});
  const std::string html = RenderNoticeHtml(in);
  EXPECT_THAT(html, HasSubstr("<!DOCTYPE html>\n<html lang=\"zh-CN\">"));
  EXPECT_THAT(html, HasSubstr("@page { size: A4;"));
  EXPECT_THAT(html, HasSubstr("<p>名称：泉州市恒泰贸易有限公司</p>"));
  EXPECT_THAT(html, HasSubstr("<p>统一社会信用代码（组织机构代码）：91350503MA2XK7R352</p>"));
  EXPECT_THAT(html, HasSubstr("<tr><td>52</td><td>授信限制</td>"));
  EXPECT_THAT(html, HasSubstr("<h2>五、异议途径</h2>"));
  // Self-contained: nothing fetched.
  for (const char* external : {"<link", "<script", "src=", "url(", "@import", "http"}) {
    EXPECT_THAT(html, Not(HasSubstr(external))) << external;
  }
}

TEST_F(NoticeTest, RelatedPersonShowsTheOrganisationsCasesAndRole) {
  const NoticeInput in = Input("230402197203140038", audit::Listing::kRelated, {41});
  ASSERT_EQ(in.subject.listings.size(), 1u);
  EXPECT_TRUE(in.subject.related);
  EXPECT_EQ(in.subject.listings[0].cases.size(), 2u);
  const std::string text = RenderNoticeText(in);
  EXPECT_THAT(text, HasSubstr("  姓名：陈海波\n  公民身份号码：2304021972****0038\n"
                              "  与失信被执行人的关系：泉州市恒泰贸易有限公司（91350503MA2XK7R352）"
                              "的法定代表人\n"));
  EXPECT_THAT(text, HasSubstr("告知对象担任法定代表人的泉州市恒泰贸易有限公司（91350503MA2XK7R352）"
                              "已被人民法院依法纳入失信被执行人名单。"));
  EXPECT_THAT(text, HasSubstr("  序号 | 失信被执行人 | 案号 | 执行法院 | 发布日期 | 失信行为情形\n"
                              "  1 | 泉州市恒泰贸易有限公司 | "));
  EXPECT_THAT(text, HasSubstr("  2 | 泉州市恒泰贸易有限公司 | "));
  EXPECT_THAT(text, Not(HasSubstr("230402197203140038")));
}

TEST_F(NoticeTest, FeedbackListsOnlyTheMeasuresApplied) {
  NoticeInput in = Input("11010519491231002X", audit::Listing::kListed, {7, 41, 52});
  in.feedback = std::vector<audit::FeedbackEntry>{
      {.measure = 7, .outcome = audit::Outcome::kApplied, .reason = ""},
      {.measure = 41, .outcome = audit::Outcome::kNotApplied, .reason = "no hotel matter"},
      {.measure = 52, .outcome = audit::Outcome::kApplied, .reason = ""},
      {.measure = 52, .outcome = audit::Outcome::kCancelled, .reason = "corrected"}};
  const std::string text = RenderNoticeText(in);
  EXPECT_THAT(text, HasSubstr("本单位已依据上述备忘录对告知对象实施下列惩戒措施：\n"));
  EXPECT_THAT(text, HasSubstr("  7 | 担任事业单位法定代表人限制 |"));
  EXPECT_THAT(text, Not(HasSubstr("  41 | ")));
  EXPECT_THAT(text, Not(HasSubstr("  52 | ")));  // the latest entry, a cancellation, wins

  in.feedback = std::vector<audit::FeedbackEntry>{
      {.measure = 7, .outcome = audit::Outcome::kNotApplied, .reason = "r"}};
  const std::string none = RenderNoticeText(in);
  EXPECT_THAT(none, HasSubstr("本单位未对告知对象实施上述备忘录规定的惩戒措施。\n"));
  EXPECT_THAT(none, Not(HasSubstr("编号 | 措施")));
}

TEST_F(NoticeTest, HtmlEscapesEveryText) {
  NoticeInput in = Input("11010519491231002X", audit::Listing::kListed, {7});
  in.subject.name = "<b>张&\"三'</b>";
  in.subject.listings[0].cases[0].case_code = "<script>alert(1)</script>";
  in.issuer = "A&B <局>";
  const std::string html = RenderNoticeHtml(in);
  EXPECT_THAT(html, HasSubstr("&lt;b&gt;张&amp;&quot;三&#39;&lt;/b&gt;："));
  EXPECT_THAT(html, HasSubstr("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
  EXPECT_THAT(html, HasSubstr("告知单位：A&amp;B &lt;局&gt;"));
  EXPECT_THAT(html, Not(HasSubstr("<b>")));
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
}

TEST_F(NoticeTest, RefusesAnUnlistedSubjectOrACheckAnswer) {
  audit::QueryRecord r;
  r.opcode = 4;
  r.subject = "230402199001010015";
  r.listing = audit::Listing::kUnlisted;
  r.time_micros = kAnswerMicros;
  EXPECT_EQ(NoticeSubjectFromList(*snap_, r).status().code(),
            absl::StatusCode::kFailedPrecondition);
  r.listing = audit::Listing::kListed;
  r.opcode = 3;
  EXPECT_EQ(NoticeSubjectFromList(*snap_, r).status().code(),
            absl::StatusCode::kFailedPrecondition);
  r.opcode = 4;
  EXPECT_EQ(NoticeSubjectFromList(*snap_, r).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace shixin
