#include "notice/notice.h"

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/html.h"
#include "base/status_macros.h"
#include "core/id.h"
#include "core/masking.h"
#include "core/query.h"
#include "core/validity.h"

namespace shixin {
namespace {

// wire::Opcode::kMeasures: the audit keeps the wire's opcodes (notice/ does not see protocol/).
constexpr uint8_t kMeasuresOpcode = 4;

constexpr char kRulesTitle[] = "《最高人民法院关于公布失信被执行人名单信息的若干规定》";

// The notice as sections, rendered as text or as HTML: the one place its wording lives.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};
struct Section {
  std::string heading;
  std::vector<std::string> before = {};  // paragraphs before the table
  Table table = {};                      // may be empty
  std::vector<std::string> after = {};   // paragraphs after it
};
struct Document {
  std::string title;
  std::string addressee;  // the first line: to whom
  std::vector<Section> sections;
  std::vector<std::string> closing;   // the issuer and the date (right-aligned in HTML)
  std::vector<std::string> footnote;  // receipt, list version, time of the answer
};

const char* RoleChineseName(Role role) {
  static constexpr std::array<const char*, kRoleCount> kNames = {
      "法定代表人", "主要负责人", "实际控制人",  "影响债务履行的直接责任人员",
      "董事",       "监事",       "高级管理人员"};
  return kNames[static_cast<int>(role)];
}

// Returns "2018年07月13日" for 20180713, "（不详）" for 0.
std::string ChineseDate(uint32_t d) {
  if (d == 0) return "（不详）";
  return absl::StrFormat("%04d年%02d月%02d日", d / 10000, d / 100 % 100, d % 100);
}

// The subject's ID as the notice shows it: a person's masked, an organisation's code whole.
std::string ShownId(const NoticeSubject& s) {
  return s.kind == SubjectKind::kPerson ? MaskIdText(s.id) : s.id;
}

Section SubjectSection(const NoticeSubject& s) {
  Section section{.heading = "一、告知对象"};
  const bool person = s.kind == SubjectKind::kPerson;
  section.before.push_back(absl::StrCat(person ? "姓名：" : "名称：", s.name));
  section.before.push_back(
      absl::StrCat(person ? "公民身份号码：" : "统一社会信用代码（组织机构代码）：", ShownId(s)));
  for (const NoticeListing& l : s.listings) {
    if (!l.role) continue;
    section.before.push_back(absl::StrCat("与失信被执行人的关系：", l.name, "（", l.id, "）的",
                                          RoleChineseName(*l.role)));
  }
  return section;
}

Section CasesSection(const NoticeInput& in) {
  Section section{.heading = "二、失信情况"};
  const NoticeSubject& s = in.subject;
  if (s.related) {
    for (const NoticeListing& l : s.listings) {
      section.before.push_back(
          absl::StrCat("告知对象担任", RoleChineseName(*l.role), "的", l.name, "（", l.id,
                       "）已被人民法院依法纳入失信被执行人名单。该单位的案件如下："));
    }
  } else {
    section.before.push_back("告知对象已被人民法院依法纳入失信被执行人名单，据以纳入的案件如下：");
  }
  section.table.header = {"序号", "案号", "执行法院", "发布日期", "失信行为情形"};
  if (s.related) section.table.header.insert(section.table.header.begin() + 1, "失信被执行人");
  for (const NoticeListing& l : s.listings) {
    for (const CaseInfo& c : l.cases) {
      std::vector<std::string> row = {absl::StrCat(section.table.rows.size() + 1), c.case_code,
                                      c.court, ChineseDate(c.publish_date), c.disrupt_type};
      if (s.related) row.insert(row.begin() + 1, l.name);
      section.table.rows.push_back(std::move(row));
    }
  }
  return section;
}

Section BasisSection(const NoticeInput& in) {
  Section section{.heading = "三、惩戒依据"};
  section.before.push_back(absl::StrCat("《", in.catalog->title(), "》；", kRulesTitle, "。"));
  return section;
}

// Returns the measures to list: those reported applied (the latest entry per measure), or,
// without feedback, every measure returned.
std::vector<uint16_t> ListedMeasures(const NoticeInput& in) {
  if (!in.feedback) return in.record.measures;
  std::vector<uint16_t> applied;
  for (uint16_t no : in.record.measures) {
    const audit::FeedbackEntry* latest = nullptr;
    for (const audit::FeedbackEntry& e : *in.feedback) {
      if (e.measure == no) latest = &e;
    }
    if (latest != nullptr && latest->outcome == audit::Outcome::kApplied) applied.push_back(no);
  }
  return applied;
}

Section MeasuresSection(const NoticeInput& in) {
  Section section{.heading = "四、惩戒措施"};
  const std::vector<uint16_t> measures = ListedMeasures(in);
  if (in.feedback) {
    section.before.push_back(measures.empty()
                                 ? "本单位未对告知对象实施上述备忘录规定的惩戒措施。"
                                 : "本单位已依据上述备忘录对告知对象实施下列惩戒措施：");
  } else {
    section.before.push_back("依据上述备忘录，下列惩戒措施适用于告知对象：");
  }
  if (measures.empty()) return section;
  section.table.header = {"编号", "措施", "实施单位", "备忘录条款"};
  for (uint16_t no : measures) {
    const Measure* m = in.catalog->FindMeasure(no);
    if (m == nullptr) {
      section.table.rows.push_back({absl::StrCat(no), "（措施目录中无此编号）", "", ""});
      continue;
    }
    section.table.rows.push_back(
        {absl::StrCat(no), m->title, in.catalog->agencies()[m->agency].name, m->clause});
  }
  return section;
}

// The enforcing courts of the cases, each once, in order.
std::vector<std::string> EnforcingCourts(const NoticeSubject& s) {
  std::vector<std::string> courts;
  for (const NoticeListing& l : s.listings) {
    for (const CaseInfo& c : l.cases) {
      if (!c.court.empty() && std::find(courts.begin(), courts.end(), c.court) == courts.end()) {
        courts.push_back(c.court);
      }
    }
  }
  return courts;
}

// Art. 11-12 of the SPC rules (docs/court-rules.md): a written application to the enforcing
// court, reviewed within 15 days, corrected within 3 working days; reconsideration by the
// court one level up, decided within 15 days; the listing stays in force meanwhile.
Section ObjectionSection(const NoticeInput& in) {
  Section section{.heading = "五、异议途径"};
  const std::vector<std::string> courts = EnforcingCourts(in.subject);
  const std::string court_text =
      courts.empty() ? "执行法院" : absl::StrCat("执行法院（", absl::StrJoin(courts, "、"), "）");
  section.before.push_back(absl::StrCat(
      "告知对象认为不应被纳入失信被执行人名单、记载和公布的失信信息不准确或者失信情形已经消除的，"
      "可以依据",
      kRulesTitle, "第十一条，向", court_text, "书面申请纠正。"));
  section.before.push_back(
      "依据该规定第十二条，执行法院自收到书面纠正申请之日起十五日内审查，理由成立的，"
      "在三个工作日内纠正；理由不成立的，决定驳回。对驳回决定不服的，可以自决定书送达之日起"
      "十日内向上一级人民法院申请复议，上一级人民法院自收到复议申请之日起十五日内作出决定。"
      "复议期间，不停止原决定的执行。");
  section.before.push_back(
      "失信被执行人名单信息被人民法院撤销、更正或者删除的，本单位依据更新后的名单停止或者调整"
      "相应惩戒措施。");
  return section;
}

Document BuildDocument(const NoticeInput& in) {
  Document doc;
  doc.title = "失信被执行人联合惩戒告知书";
  doc.addressee = absl::StrCat(in.subject.name, "：");
  doc.sections.push_back(SubjectSection(in.subject));
  doc.sections.push_back(CasesSection(in));
  doc.sections.push_back(BasisSection(in));
  doc.sections.push_back(MeasuresSection(in));
  doc.sections.push_back(ObjectionSection(in));
  doc.closing = {absl::StrCat("告知单位：", in.issuer.empty() ? "（未登记）" : in.issuer),
                 absl::StrCat("告知日期：", ChineseDate(DayOf(in.date)))};
  doc.footnote = {absl::StrCat("回执编号：", in.receipt.ToString()),
                  absl::StrCat("名单版本：", audit::ListVersionText(in.record), "（第 ",
                               in.record.generation, " 代）"),
                  absl::StrCat("查询时间：", FormatInstant(in.record.time_micros / 1000000))};
  return doc;
}

void AppendTextTable(const Table& table, std::string* out) {
  if (table.header.empty()) return;
  absl::StrAppend(out, "  ", absl::StrJoin(table.header, " | "), "\n");
  for (const std::vector<std::string>& row : table.rows) {
    absl::StrAppend(out, "  ", absl::StrJoin(row, " | "), "\n");
  }
}

void AppendHtmlTable(const Table& table, std::string* out) {
  if (table.header.empty()) return;
  absl::StrAppend(out, "<table>\n<thead><tr>");
  for (const std::string& h : table.header) absl::StrAppend(out, "<th>", HtmlEscape(h), "</th>");
  absl::StrAppend(out, "</tr></thead>\n<tbody>\n");
  for (const std::vector<std::string>& row : table.rows) {
    absl::StrAppend(out, "<tr>");
    for (const std::string& cell : row) absl::StrAppend(out, "<td>", HtmlEscape(cell), "</td>");
    absl::StrAppend(out, "</tr>\n");
  }
  absl::StrAppend(out, "</tbody>\n</table>\n");
}

// The notice's own look over base/html.h's A4 page: a letter, not a table of numbers.
constexpr char kStyle[] =
    R"(body { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", "Source Han Serif SC", "SimSun",
  serif; font-size: 11pt; line-height: 1.6; color: #000; margin: 0; }
h1 { font-size: 18pt; text-align: center; letter-spacing: 0.1em; margin: 0 0 1em; }
h2 { font-size: 12pt; margin: 1em 0 0.3em; }
p { margin: 0.2em 0; text-indent: 2em; }
p.addressee { text-indent: 0; }
table { width: 100%; border-collapse: collapse; margin: 0.4em 0; page-break-inside: auto; }
tr { page-break-inside: avoid; }
th, td { border: 1px solid #000; padding: 2pt 4pt; vertical-align: top; font-size: 10pt; }
th { background: #eee; }
.closing { text-align: right; margin-top: 2em; }
.closing p { text-indent: 0; }
.footnote { margin-top: 2em; font-size: 9pt; color: #333; border-top: 1px solid #999; }
.footnote p { text-indent: 0; }
)";

}  // namespace

absl::StatusOr<NoticeSubject> NoticeSubjectFromList(const ListView& list,
                                                    const audit::QueryRecord& record) {
  if (record.opcode != kMeasuresOpcode) {
    return absl::FailedPreconditionError("a punishment notice is of a MEASURES answer only");
  }
  if (record.listing == audit::Listing::kUnlisted) {
    return absl::FailedPreconditionError(
        "the subject was neither listed nor related when asked: no punishment notice");
  }
  SHIXIN_ASSIGN_OR_RETURN(const Id id, ParseId(record.subject));
  const int64_t at = record.as_of != 0 ? record.as_of : record.time_micros / 1000000;
  SHIXIN_ASSIGN_OR_RETURN(const CheckResult r, Check(list, id, at, /*with_cases=*/true));
  if (r.name.empty() && !r.listed && !r.related) {
    return absl::NotFoundError(
        absl::StrCat("the list does not know ", std::string(record.subject)));
  }
  NoticeSubject s{.id = r.id,
                  .kind = r.kind,
                  .name = r.name,
                  .related = record.listing == audit::Listing::kRelated};
  if (!s.related) {
    s.listings.push_back(NoticeListing{.id = r.id, .name = r.name, .cases = r.cases});
    return s;
  }
  for (const RoleInfo& role : r.roles) {
    if (!role.listed) continue;
    SHIXIN_ASSIGN_OR_RETURN(const Id org_id, ParseId(role.id));
    SHIXIN_ASSIGN_OR_RETURN(CheckResult org, Check(list, org_id, at, /*with_cases=*/true));
    s.listings.push_back(NoticeListing{
        .id = role.id, .name = role.name, .role = role.role, .cases = std::move(org.cases)});
  }
  return s;
}

std::string RenderNoticeText(const NoticeInput& input) {
  const Document doc = BuildDocument(input);
  std::string out = absl::StrCat(doc.title, "\n\n", doc.addressee, "\n");
  for (const Section& s : doc.sections) {
    absl::StrAppend(&out, "\n", s.heading, "\n");
    for (const std::string& p : s.before) absl::StrAppend(&out, "  ", p, "\n");
    AppendTextTable(s.table, &out);
    for (const std::string& p : s.after) absl::StrAppend(&out, "  ", p, "\n");
  }
  absl::StrAppend(&out, "\n");
  for (const std::string& line : doc.closing) absl::StrAppend(&out, line, "\n");
  absl::StrAppend(&out, "\n");
  for (const std::string& line : doc.footnote) absl::StrAppend(&out, line, "\n");
  return out;
}

std::string RenderNoticeHtml(const NoticeInput& input) {
  const Document doc = BuildDocument(input);
  std::string out;
  HtmlBegin(doc.title, kStyle, &out);
  absl::StrAppend(&out, "<h1>", HtmlEscape(doc.title), "</h1>\n<p class=\"addressee\">",
                  HtmlEscape(doc.addressee), "</p>\n");
  for (const Section& s : doc.sections) {
    absl::StrAppend(&out, "<section>\n<h2>", HtmlEscape(s.heading), "</h2>\n");
    for (const std::string& p : s.before) absl::StrAppend(&out, "<p>", HtmlEscape(p), "</p>\n");
    AppendHtmlTable(s.table, &out);
    for (const std::string& p : s.after) absl::StrAppend(&out, "<p>", HtmlEscape(p), "</p>\n");
    absl::StrAppend(&out, "</section>\n");
  }
  absl::StrAppend(&out, "<div class=\"closing\">\n");
  for (const std::string& line : doc.closing) {
    absl::StrAppend(&out, "<p>", HtmlEscape(line), "</p>\n");
  }
  absl::StrAppend(&out, "</div>\n<div class=\"footnote\">\n");
  for (const std::string& line : doc.footnote) {
    absl::StrAppend(&out, "<p>", HtmlEscape(line), "</p>\n");
  }
  absl::StrAppend(&out, "</div>\n");
  HtmlEnd(&out);
  return out;
}

}  // namespace shixin
