#include "notice/notice.h"

#include <algorithm>
#include <array>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "core/id.h"
#include "core/masking.h"
#include "core/query.h"
#include "core/validity.h"
#include "notice/notice_document.h"

namespace shixin {
namespace {

// wire::Opcode::kMeasures: the audit keeps the wire's opcodes (notice/ does not see protocol/).
constexpr uint8_t kMeasuresOpcode = 4;
constexpr int64_t kMicrosPerSecond = 1000000;

constexpr char kRulesTitle[] = "《最高人民法院关于公布失信被执行人名单信息的若干规定》";

using notice::Document;
using notice::Section;
using notice::Table;

// A blank to fill in by hand: the issuer's name when none is known, a subject's name the list
// does not know.
constexpr char kBlank[] = "＿＿＿＿＿＿＿＿＿＿";

const char* RoleChineseName(Role role) {
  static constexpr std::array<const char*, kRoleCount> kNames = {
      "法定代表人", "主要负责人", "实际控制人",  "影响债务履行的直接责任人员",
      "董事",       "监事",       "高级管理人员"};
  return kNames[static_cast<int>(role)];
}

// Returns the roles of `set` as "法定代表人、董事或者监事".
std::string RoleAlternatives(RoleSet set) {
  std::vector<std::string> names;
  for (int i = 0; i < kRoleCount; ++i) {
    if (RoleSetHas(set, static_cast<Role>(i))) {
      names.emplace_back(RoleChineseName(static_cast<Role>(i)));
    }
  }
  if (names.size() < 2) return absl::StrJoin(names, "");
  const std::string last = names.back();
  names.pop_back();
  return absl::StrCat(absl::StrJoin(names, "、"), "或者", last);
}

// Returns "2018年07月13日" for 20180713, "（不详）" for 0.
std::string ChineseDate(uint32_t d) {
  if (d == 0) return "（不详）";
  return absl::StrFormat("%04d年%02d月%02d日", d / 10000, d / 100 % 100, d % 100);
}

// Returns `instant` as "2026年11月01日12时00分00秒" in China Standard Time.
std::string ChineseTime(int64_t instant) {
  return absl::FormatTime("%Y年%m月%d日%H时%M分%S秒", absl::FromUnixSeconds(instant), ChinaTime());
}

// The instant the answer was about: the as-of instant asked for, or the time of the answer.
int64_t AnswerInstant(const audit::QueryRecord& record) {
  return record.as_of != 0 ? record.as_of : record.time_micros / kMicrosPerSecond;
}

// An ID as the notice shows it: a person's masked, an organisation's code whole.
std::string ShownId(std::string_view id, SubjectKind kind) {
  return kind == SubjectKind::kPerson ? MaskIdText(id) : std::string(id);
}

// What the notice calls the number `id` (a subject's normalised ID) is: a person's, the document
// it is the number of (a foreign national has no 公民身份号码); an organisation's, its codes.
std::string IdLabel(std::string_view id, SubjectKind kind) {
  if (kind != SubjectKind::kPerson) return "统一社会信用代码（组织机构代码）";
  // The latest civil day: the ID was valid when the answer was given (MaskIdText does so too).
  const absl::StatusOr<Id> parsed = ParseId(id, absl::CivilDay(9999, 12, 31));
  return std::string(PersonDocumentNumberLabel(parsed.ok() && parsed->kind() == IdKind::kResident
                                                   ? PersonDocumentOf(*parsed)
                                                   : PersonDocument::kResidentId));
}

// Returns "name（ID as shown）", or the ID alone when the name is unknown.
std::string PartyText(const std::string& name, const std::string& id, SubjectKind kind) {
  if (name.empty()) return ShownId(id, kind);
  return absl::StrCat(name, "（", ShownId(id, kind), "）");
}

// Returns the ID of the listed party a basis rests on (NoticeParty::id).
std::string_view PartyOf(const NoticeSubject& s, const Basis& b) {
  if (b.type == BasisType::kListed) return s.id;
  if (b.type == BasisType::kOfficer && b.via.empty()) return b.officer;
  return b.via;
}

// Returns why a measure applies on basis `b`, as a clause of a sentence. Roles link a person to
// an organisation, so `via` is an organisation and `officer` a person.
std::string BasisText(const Basis& b) {
  constexpr SubjectKind kOrg = SubjectKind::kOrganization;
  switch (b.type) {
    case BasisType::kListed:
      return "告知对象已被纳入失信被执行人名单";
    case BasisType::kRelated:
      return absl::StrCat("告知对象系失信被执行人", PartyText(b.via_name, b.via, kOrg), "的",
                          RoleChineseName(*b.role));
    case BasisType::kOfficer:
      break;
  }
  const std::string officer =
      absl::StrCat("告知对象的", RoleChineseName(*b.role),
                   PartyText(b.officer_name, b.officer, SubjectKind::kPerson));
  if (b.via.empty()) return absl::StrCat(officer, "已被纳入失信被执行人名单");
  return absl::StrCat(officer, "系失信被执行人", PartyText(b.via_name, b.via, kOrg), "的",
                      RoleChineseName(*b.via_role));
}

// Why measure `m` applied when only officers the caller sent made it apply (the audit does not
// keep them): the measure's officer rules, naming no one.
std::string GivenOfficersText(const Measure& m) {
  std::vector<std::string> rules;
  if (m.officer_listed_roles != 0) {
    rules.push_back(absl::StrCat("告知对象的", RoleAlternatives(m.officer_listed_roles),
                                 "中有人已被纳入失信被执行人名单"));
  }
  if (m.two_hop_officer_roles != 0) {
    rules.push_back(absl::StrCat("告知对象的", RoleAlternatives(m.two_hop_officer_roles),
                                 "中有人系失信被执行人（单位）的",
                                 RoleAlternatives(m.two_hop_via_roles)));
  }
  return absl::StrCat(absl::StrJoin(rules, "，或者"),
                      "（该人员由本单位在查询时提供，查询记录未保存其身份）");
}

const NoticeMeasure* FindNoticeMeasure(const NoticeSubject& s, uint16_t no) {
  for (const NoticeMeasure& m : s.measures) {
    if (m.no == no) return &m;
  }
  return nullptr;
}

const NoticeParty* FindParty(const NoticeSubject& s, std::string_view id) {
  for (const NoticeParty& p : s.parties) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

// Returns the reasons measure `no` applied, one clause each.
std::vector<std::string> MeasureReasons(const NoticeInput& in, uint16_t no) {
  std::vector<std::string> reasons;
  const NoticeMeasure* nm = FindNoticeMeasure(in.subject, no);
  if (nm == nullptr) return reasons;
  for (const Basis& b : nm->basis) reasons.push_back(BasisText(b));
  const Measure* m = in.catalog->FindMeasure(no);
  if (reasons.empty() && m != nullptr) reasons.push_back(GivenOfficersText(*m));
  return reasons;
}

// What the notice rests on, for the measures it lists: each reason once, and each listed party
// behind them once, in order.
struct Grounds {
  std::vector<std::string> reasons;
  std::vector<const NoticeParty*> parties;
  bool subject_listed = false;  // a reason is the subject's own listing
  bool through_others = false;  // a reason is a role, an officer, or two hops
};

Grounds GroundsOf(const NoticeInput& in, const std::vector<uint16_t>& measures) {
  Grounds g;
  for (uint16_t no : measures) {
    for (std::string& r : MeasureReasons(in, no)) {
      if (std::find(g.reasons.begin(), g.reasons.end(), r) == g.reasons.end()) {
        g.reasons.push_back(std::move(r));
      }
    }
    const NoticeMeasure* nm = FindNoticeMeasure(in.subject, no);
    if (nm == nullptr) continue;
    if (nm->basis.empty()) g.through_others = true;
    for (const Basis& b : nm->basis) {
      (b.type == BasisType::kListed ? g.subject_listed : g.through_others) = true;
      const NoticeParty* p = FindParty(in.subject, PartyOf(in.subject, b));
      if (p != nullptr && std::find(g.parties.begin(), g.parties.end(), p) == g.parties.end()) {
        g.parties.push_back(p);
      }
    }
  }
  return g;
}

// The grounds of a removal by EndReason (Art. 10, the end of the term, other); kNone, kRevoked
// and kCorrected (the last two) are not removals.
constexpr std::array<const char*, kEndReasonCount> kRemovalGrounds = {"未删除",
                                                                      "已履行全部义务",
                                                                      "执行和解协议已履行完毕",
                                                                      "申请执行人书面申请删除",
                                                                      "终结本次执行程序",
                                                                      "中止执行",
                                                                      "不予执行",
                                                                      "终结执行",
                                                                      "期限届满",
                                                                      "其他"};

// How a case that counted at the answer's instant changed after it (LaterChange()); kRelisted
// only marks, in ChangesExplained()'s set, a case listed again after its removal.
enum class Change : uint8_t { kNone, kRevoked, kRemoved, kCorrected, kTermEnded, kRelisted };
struct CaseChange {
  Change kind = Change::kNone;
  std::string text;          // e.g. "2026年11月02日10时00分00秒撤销（不应纳入）"
  bool scheduled = false;    // a change still to come at the notice's date ("将于...")
  bool relisted = false;     // the case counts again after its removal or revocation
  bool retroactive = false;  // sent after the answer, effective at or before its instant
};

// What a retroactive change's text ends with (ChangesExplained() says what it means).
constexpr char kRetroactive[] = "（查询后通报，追溯生效）";

// Returns the later change of case `c`, which counted at `answered_at` on the answer's list: a
// revocation, removal or correction (its ended_at is after that instant, one after the notice's
// date scheduled; or at or before it: sent after the answer, retroactive), then, if a version
// of `later` lists the case again, that; or the end of its term by the notice's date.
CaseChange LaterChange(const CaseInfo& c, std::span<const CaseInfo> later, int64_t answered_at,
                       int64_t notice_date) {
  const Interval counted = CaseInterval(c);
  if (c.end != EndReason::kNone && c.ended_at == counted.until) {
    CaseChange change;
    change.scheduled = c.ended_at > notice_date;
    change.retroactive = c.ended_at <= answered_at;
    const std::string when = absl::StrCat(change.scheduled ? "将于" : "", ChineseTime(c.ended_at));
    const char* retroactive = change.retroactive ? kRetroactive : "";
    if (c.end == EndReason::kRevoked) {
      change.kind = Change::kRevoked;
      change.text = absl::StrCat(when, "撤销（不应纳入）", retroactive);
    } else if (c.end == EndReason::kCorrected) {
      change.kind = Change::kCorrected;
      change.text = absl::StrCat(when, "更正", retroactive);
      return change;  // the new version is the same listing
    } else {
      change.kind = Change::kRemoved;
      change.text =
          absl::StrCat(when, "删除（", kRemovalGrounds[static_cast<int>(c.end)], "）", retroactive);
    }
    // The first version of the same case that counts from the end on: listed again.
    const CaseInfo* again = nullptr;
    for (const CaseInfo& v : later) {
      const Interval i = CaseInterval(v);
      if (v.case_code == c.case_code && !i.empty() && i.from >= c.ended_at &&
          (again == nullptr || i.from < again->start)) {
        again = &v;
      }
    }
    if (again != nullptr) {
      change.relisted = true;
      if (again->start == c.ended_at) {
        absl::StrAppend(&change.text, "，同时重新纳入");
      } else {
        const bool ahead = again->start > notice_date;
        change.scheduled = change.scheduled || ahead;
        absl::StrAppend(&change.text, "，", ahead ? "将于" : "", ChineseTime(again->start),
                        "重新纳入");
      }
    }
    return change;
  }
  if (counted.until != kForever && counted.until <= notice_date) {
    return {Change::kTermEnded, absl::StrCat(ChineseDate(c.term_end), "纳入期限届满")};
  }
  return {};
}

// Returns what the changes of `kinds` (bit i: Change i) mean, for the notice's reader, saying
// what "将于" marks if one is `scheduled`, and what a `retroactive` one is. Changes are after the
// answer's instant: an as-of answer's is stated above (CasesSection), a current answer's is the
// query's time, stated here.
std::string ChangesExplained(const audit::QueryRecord& record, unsigned kinds, bool scheduled,
                             bool retroactive) {
  std::vector<std::string> clauses;
  const char* rules = kRulesTitle;  // cited in full once, then "该规定"
  auto cite = [&rules] { return std::exchange(rules, "该规定"); };
  if ((kinds >> static_cast<int>(Change::kRevoked) & 1) != 0) {
    clauses.push_back(
        absl::StrCat("撤销，系人民法院认定不应纳入失信被执行人名单（", cite(), "第九条）"));
  }
  if ((kinds >> static_cast<int>(Change::kRemoved) & 1) != 0) {
    clauses.push_back(absl::StrCat("删除，系人民法院依据", cite(), "第十条将其删除"));
  }
  if ((kinds >> static_cast<int>(Change::kRelisted) & 1) != 0) {
    clauses.push_back("重新纳入，系人民法院其后再次将该案件纳入失信被执行人名单");
  }
  if ((kinds >> static_cast<int>(Change::kCorrected) & 1) != 0) {
    clauses.push_back("更正，系该案件信息已被人民法院更正");
  }
  if ((kinds >> static_cast<int>(Change::kTermEnded) & 1) != 0) {
    clauses.push_back("纳入期限届满，系该案件的纳入期限已满");
  }
  const std::string since =
      record.as_of != 0
          ? "上述时点"
          : absl::StrCat("查询时（", ChineseTime(AnswerInstant(record)), "，北京时间）");
  return absl::StrCat("“其后变动”栏载明", since, "之后案件的变化：", absl::StrJoin(clauses, "；"),
                      "。",
                      scheduled ? "标明“将于”的，系截至告知日期尚未发生、人民法院已确定于该时点"
                                  "发生的变化。"
                                : "",
                      retroactive ? "标明“查询后通报，追溯生效”的，系人民法院在本单位查询之后通报、"
                                    "自所载时点（早于或者等于查询所针对的时点）起生效的变化："
                                    "查询时名单仍载有该案件，本单位系依据当时的名单实施惩戒。"
                                  : "");
}

// To whom the notice speaks: the subject's name, or, when the list does not know it (an
// organisation known only from the relations feed), its ID as shown, saying so: a blank here
// would send a notice to no one if not filled in.
std::string Addressee(const NoticeSubject& s) {
  if (!s.name.empty()) return s.name;
  return absl::StrCat(IdLabel(s.id, s.kind), "为", ShownId(s.id, s.kind),
                      s.kind == SubjectKind::kPerson ? "的当事人（失信被执行人名单未载明其姓名）"
                                                     : "的单位（失信被执行人名单未载明其名称）");
}

Section SubjectSection(const NoticeSubject& s) {
  Section section{.heading = "一、告知对象"};
  const bool person = s.kind == SubjectKind::kPerson;
  section.before.push_back(
      absl::StrCat(person ? "姓名：" : "名称：", s.name.empty() ? kBlank : s.name));
  section.before.push_back(absl::StrCat(IdLabel(s.id, s.kind), "：", ShownId(s.id, s.kind)));
  return section;
}

// Why the measures apply, and the court cases behind them, as the list stood at the instant the
// answer was about (stated when it was an as-of answer), each case's later change flagged.
Section CasesSection(const NoticeInput& in, const Grounds& g) {
  Section section{.heading = "二、失信情况"};
  if (in.record.as_of != 0) {
    section.before.push_back(absl::StrCat("本单位查询的是失信被执行人名单在",
                                          ChineseTime(in.record.as_of),
                                          "（北京时间）的状态，以下所述均为该时点的情况。"));
  }
  if (g.reasons.size() == 1) {
    section.before.push_back(absl::StrCat("告知对象受到下列惩戒措施，系因", g.reasons[0], "。"));
  } else if (!g.reasons.empty()) {
    section.before.push_back("告知对象受到下列惩戒措施，事由如下：");
    for (size_t i = 0; i < g.reasons.size(); ++i) {
      section.before.push_back(absl::StrCat("（", i + 1, "）", g.reasons[i], "。"));
    }
  }
  bool others = false;
  unsigned changes = 0;  // bit i: a case changed by Change i
  bool scheduled = false;
  bool retroactive = false;
  std::vector<std::pair<const NoticeParty*, const CaseInfo*>> cases;
  std::vector<CaseChange> later;
  for (const NoticeParty* p : g.parties) {
    others = others || p->id != in.subject.id;
    for (const CaseInfo& c : p->cases) {
      cases.emplace_back(p, &c);
      later.push_back(LaterChange(c, p->later, AnswerInstant(in.record), in.date));
      changes |= 1U << static_cast<int>(later.back().kind);
      if (later.back().relisted) changes |= 1U << static_cast<int>(Change::kRelisted);
      scheduled = scheduled || later.back().scheduled;
      retroactive = retroactive || later.back().retroactive;
    }
  }
  if (cases.empty()) return section;
  const bool changed = (changes & ~1U) != 0;  // bit 0: Change::kNone
  section.before.push_back("据以纳入失信被执行人名单的案件如下：");
  Table& t = section.table;
  t.header = {"序号", "案号", "执行法院", "发布日期", "失信行为情形"};
  if (others) t.header.insert(t.header.begin() + 1, "失信被执行人");
  if (changed) t.header.emplace_back("其后变动");
  for (size_t k = 0; k < cases.size(); ++k) {
    const auto& [p, c] = cases[k];
    std::vector<std::string> row = {absl::StrCat(t.rows.size() + 1), c->case_code, c->court,
                                    ChineseDate(c->publish_date), c->disrupt_type};
    if (others) row.insert(row.begin() + 1, PartyText(p->name, p->id, p->kind));
    if (changed) row.push_back(std::move(later[k].text));
    t.rows.push_back(std::move(row));
  }
  if (changed) {
    section.after.push_back(ChangesExplained(in.record, changes, scheduled, retroactive));
  }
  return section;
}

Section BasisSection(const NoticeInput& in) {
  Section section{.heading = "三、惩戒依据"};
  section.before.push_back(absl::StrCat("《", in.catalog->title(), "》；", kRulesTitle, "。"));
  return section;
}

Section MeasuresSection(const NoticeInput& in, const std::vector<uint16_t>& measures) {
  Section section{.heading = "四、惩戒措施"};
  if (in.feedback) {
    section.before.push_back(measures.empty()
                                 ? "本单位未对告知对象实施上述备忘录规定的惩戒措施。"
                                 : "本单位已依据上述备忘录对告知对象实施下列惩戒措施：");
  } else {
    section.before.push_back("依据上述备忘录，下列惩戒措施适用于告知对象：");
  }
  if (measures.empty()) return section;
  section.table.header = {"编号", "措施", "实施单位", "适用事由", "备忘录条款"};
  section.table.html_class = "measures";
  for (uint16_t no : measures) {
    const Measure* m = in.catalog->FindMeasure(no);
    if (m == nullptr) {
      section.table.rows.push_back({absl::StrCat(no), "（措施目录中无此编号）", "", "", ""});
      continue;
    }
    section.table.rows.push_back({absl::StrCat(no), m->title,
                                  in.catalog->agencies()[m->agency].name,
                                  absl::StrJoin(MeasureReasons(in, no), "；"), m->clause});
  }
  return section;
}

// Returns "执行法院（A、B）" for the enforcing courts of the cases of `parties` (each once, in
// order) that are (`subject`) or are not the subject, or "执行法院" when none is known.
std::string CourtsText(const Grounds& g, std::string_view subject_id, bool subject) {
  std::vector<std::string> courts;
  for (const NoticeParty* p : g.parties) {
    if ((p->id == subject_id) != subject) continue;
    for (const CaseInfo& c : p->cases) {
      if (!c.court.empty() && std::find(courts.begin(), courts.end(), c.court) == courts.end()) {
        courts.push_back(c.court);
      }
    }
  }
  if (courts.empty()) return "执行法院";
  return absl::StrCat("执行法院（", absl::StrJoin(courts, "、"), "）");
}

// Returns who, besides the subject, may object to a listing behind the bases: "上述失信被执行人"
// when the subject is not listed itself, else the other listed parties by name (the subject's
// own route is stated apart), or "上述人员" for officers the caller sent, whom no one names.
std::string OtherListedParties(const NoticeInput& in, const Grounds& g) {
  if (!g.subject_listed) return "上述失信被执行人";
  std::vector<std::string> others;
  for (const NoticeParty* p : g.parties) {
    if (p->id != in.subject.id) others.push_back(PartyText(p->name, p->id, p->kind));
  }
  if (others.empty()) return "上述人员";
  return absl::StrCat("失信被执行人", absl::StrJoin(others, "、"));
}

// Art. 11-12 of the SPC rules (docs/court-rules.md): a written application to the enforcing
// court by the listed party, reviewed within 15 days, corrected within 3 working days;
// reconsideration by the court one level up, decided within 15 days; the listing stays in force
// meanwhile. A subject restricted through a role or an officer is not on the list itself: what
// it may dispute is the role (to the issuing unit), and the listing is the listed party's to
// dispute.
Section ObjectionSection(const NoticeInput& in, const Grounds& g) {
  Section section{.heading = "五、异议途径"};
  constexpr char kArt11[] =
      "认为不应被纳入失信被执行人名单、记载和公布的失信信息不准确或者失信情形已经消除的，可以依据";
  if (g.subject_listed) {
    section.before.push_back(absl::StrCat("告知对象", kArt11, kRulesTitle, "第十一条，向",
                                          CourtsText(g, in.subject.id, true), "书面申请纠正。"));
  }
  if (g.through_others) {
    section.before.push_back(
        absl::StrCat(in.subject.kind == SubjectKind::kPerson
                         ? "告知对象认为其未担任或者已不再担任上述职务的"
                         : "告知对象认为上述人员未担任或者已不再担任其所列职务的",
                     "，可以向本单位提出异议并提供相关材料，本单位核实后依法处理。"));
    section.before.push_back(absl::StrCat(OtherListedParties(in, g), kArt11, kRulesTitle,
                                          "第十一条，向", CourtsText(g, in.subject.id, false),
                                          "书面申请纠正。"));
  }
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

absl::Status NotInCatalog(std::string_view what, std::string_view id) {
  return absl::FailedPreconditionError(
      absl::StrFormat("the answer's %s \"%s\" is not in the catalog given: give the catalog the "
                      "answer was given against",
                      what, std::string(id)));
}

// Returns the versions of `party_id`'s cases in `r` (its answer at `at`) that begin after `at`,
// in `now`.
absl::StatusOr<std::vector<CaseInfo>> LaterVersions(const ListView& now, const Id& party_id,
                                                    int64_t at, const CheckResult& r) {
  std::vector<CaseInfo> later;
  const SubjectRef ref = now.Find(party_id);
  if (!ref.found() || r.cases.empty()) return later;
  CaseBuffer buffer;
  SHIXIN_ASSIGN_OR_RETURN(const std::span<const CaseView> versions, now.ReadCases(ref, buffer));
  for (const CaseView& v : versions) {
    if (v.start <= at) continue;
    if (std::any_of(r.cases.begin(), r.cases.end(),
                    [&](const CaseInfo& c) { return c.case_code == v.case_code; })) {
      later.push_back(ConvertCase<CaseInfo>(v));
    }
  }
  return later;
}

// Gives each case of `cases` (versions of `party_id` on the answer's list) its end as `now`
// has it: the same version (case number and start), ended since or not.
absl::Status EndsKnownNow(const ListView& now, const Id& party_id, std::vector<CaseInfo>* cases) {
  const SubjectRef ref = now.Find(party_id);
  if (!ref.found() || cases->empty()) return absl::OkStatus();
  CaseBuffer buffer;
  SHIXIN_ASSIGN_OR_RETURN(const std::span<const CaseView> versions, now.ReadCases(ref, buffer));
  for (CaseInfo& c : *cases) {
    for (const CaseView& v : versions) {
      if (v.case_code == c.case_code && v.start == c.start) {
        c.ended_at = v.ended_at;
        c.end = v.end;
        break;
      }
    }
  }
  return absl::OkStatus();
}

// Returns the cases of the subject `id` on `list` that would count at `at` but for a removal,
// revocation or correction at or before it, as "case C revoked at T": on a list that folds the
// changes sent after the answer, the changes that may have taken away what the answer rested
// on.
absl::StatusOr<std::vector<std::string>> EndedByAt(const ListView& list, const Id& id, int64_t at) {
  std::vector<std::string> ended;
  const SubjectRef ref = list.Find(id);
  if (!ref.found()) return ended;
  CaseBuffer buffer;
  SHIXIN_ASSIGN_OR_RETURN(const std::span<const CaseView> versions, list.ReadCases(ref, buffer));
  for (const CaseView& v : versions) {
    if (v.end == EndReason::kNone || v.ended_at > at || v.start > at ||
        TermEndInstant(v.term_end) <= at) {
      continue;
    }
    ended.push_back(
        absl::StrFormat("case %s %s at %s", std::string(v.case_code),
                        v.end == EndReason::kRevoked ? "revoked"
                        : v.end == EndReason::kCorrected
                            ? "corrected"
                            : absl::StrCat("removed (", std::string(EndReasonName(v.end)), ")"),
                        FormatInstant(v.ended_at)));
  }
  return ended;
}

// The refusal of a notice whose list does not give what `record` answered at `at` (`what`:
// "measure 41 of the answer does not apply to ID on the list given"). On the answer's own list: not
// the list (or catalog) the answer was given from. On a list folding later changes into its base:
// the court's changes with effect at or before `at`, which may have been sent after the answer, are
// named.
absl::Status NotGiven(const NoticeLists& lists, const Id& id, const audit::QueryRecord& record,
                      int64_t at, const std::string& what) {
  const std::string head = absl::StrFormat("%s, at %s", what, FormatInstant(at));
  if (!lists.exact) {
    SHIXIN_ASSIGN_OR_RETURN(const std::vector<std::string> ended, EndedByAt(lists.now, id, at));
    if (!ended.empty()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: the court changed the list with effect at or before that instant (%s), which the "
          "list given folds into its base, after the answer's deltas (up to %u): if that was "
          "sent after the answer, give the base the answer was given from and the delta files "
          "after it, and the notice states what the answer rested on, the change flagged",
          head, absl::StrJoin(ended, "; "), record.delta_sequence));
    }
  }
  return absl::FailedPreconditionError(
      absl::StrCat(head, ": give the list and catalog the answer was given from"));
}

}  // namespace

namespace notice {

Document BuildDocument(const NoticeInput& in) {
  const std::vector<uint16_t> measures = ListedMeasures(in);
  const Grounds grounds = GroundsOf(in, measures);
  Document doc;
  doc.title = "失信被执行人联合惩戒告知书";
  doc.addressee = absl::StrCat(Addressee(in.subject), "：");
  doc.sections.push_back(SubjectSection(in.subject));
  doc.sections.push_back(CasesSection(in, grounds));
  doc.sections.push_back(BasisSection(in));
  doc.sections.push_back(MeasuresSection(in, measures));
  doc.sections.push_back(ObjectionSection(in, grounds));
  doc.closing = {absl::StrCat("告知单位：", in.issuer.empty() ? kBlank : in.issuer),
                 absl::StrCat("告知日期：", ChineseDate(DayOf(in.date)))};
  doc.footnote = {
      absl::StrCat("回执编号：", in.receipt),
      // The list is (base version, delta sequence): a generation counts per process.
      absl::StrCat("名单版本：", audit::ListVersionText(in.record), "，增量序号 ",
                   in.record.delta_sequence),
      absl::StrCat("查询时间：", FormatInstant(in.record.time_micros / kMicrosPerSecond))};
  if (in.record.as_of != 0) {
    doc.footnote.push_back(absl::StrCat("查询所针对的时点：", FormatInstant(in.record.as_of)));
  }
  return doc;
}

}  // namespace notice

absl::StatusOr<NoticeSubject> NoticeSubjectFromList(const ListView& list, const Catalog& catalog,
                                                    const audit::QueryRecord& record,
                                                    uint64_t default_scenarios) {
  return NoticeSubjectFromList(NoticeLists{.answered = list, .now = list}, catalog, record, {},
                               default_scenarios);
}

absl::StatusOr<NoticeSubject> NoticeSubjectFromList(const NoticeLists& lists,
                                                    const Catalog& catalog,
                                                    const audit::QueryRecord& record,
                                                    std::span<const audit::SentOfficer> officers,
                                                    uint64_t default_scenarios) {
  if (record.opcode != kMeasuresOpcode) {
    return absl::FailedPreconditionError("a punishment notice is of a MEASURES answer only");
  }
  if (record.measures.empty()) {
    return absl::FailedPreconditionError("the answer returned no measure: no punishment notice");
  }
  if (!audit::AwaitsFeedback(record)) {
    return absl::FailedPreconditionError(
        "the answer carried no receipt (protocol version 3): no punishment notice");
  }
  SHIXIN_ASSIGN_OR_RETURN(const Id id, ParseId(record.subject));
  const int64_t at = AnswerInstant(record);
  // The answer again, on its list, filtered as it was, without the officers the caller sent
  // (their roles are not recorded): a scenario or agency filter decides which bases count.
  MeasureQuery query;
  query.at = at;
  if (!record.agency_filter.empty()) {
    query.agency = catalog.FindAgency(record.agency_filter);
    if (query.agency < 0) return NotInCatalog("agency", record.agency_filter);
  }
  if (!record.scenario_filter.empty()) {
    query.scenario = catalog.FindScenario(record.scenario_filter);
    if (query.scenario < 0) return NotInCatalog("scenario", record.scenario_filter);
  } else {
    query.scenarios = default_scenarios;
  }
  SHIXIN_ASSIGN_OR_RETURN(MeasuresResult again, Measures(lists.answered, catalog, id, query));
  // A measure the list does not give applied through officers the caller sent only if the
  // audit holds one that counted: listed, or holding a role in a listed organisation.
  const bool officer_counted = std::any_of(
      officers.begin(), officers.end(),
      [](const audit::SentOfficer& o) { return o.listing != audit::Listing::kUnlisted; });
  NoticeSubject s{.id = again.subject.id, .kind = again.subject.kind, .name = again.subject.name};
  for (const uint16_t no : record.measures) {
    NoticeMeasure nm{.no = no};
    auto found = std::find_if(again.measures.begin(), again.measures.end(),
                              [no](const MeasureInfo& m) { return m.no == no; });
    if (found != again.measures.end()) {
      nm.basis = std::move(found->basis);
    } else if (const Measure* m = catalog.FindMeasure(no);
               m == nullptr || s.kind != SubjectKind::kOrganization || !officer_counted ||
               (m->officer_listed_roles | m->two_hop_officer_roles) == 0) {
      return NotGiven(lists, id, record, at,
                      absl::StrFormat("measure %d of the answer does not apply to %s on the list "
                                      "given",
                                      no, std::string(record.subject)));
    }
    s.measures.push_back(std::move(nm));
  }
  // Never a basis the record does not hold: the subject listed exactly when the answer said so.
  if ((record.listing == audit::Listing::kListed) != again.subject.listed) {
    return NotGiven(lists, id, record, at,
                    absl::StrCat("the answer found ", std::string(record.subject),
                                 record.listing == audit::Listing::kListed
                                     ? " listed, the list given does not"
                                     : " not listed, the list given lists it"));
  }
  for (const NoticeMeasure& nm : s.measures) {
    for (const Basis& b : nm.basis) {
      const std::string_view party = PartyOf(s, b);
      if (FindParty(s, party) != nullptr) continue;
      SHIXIN_ASSIGN_OR_RETURN(const Id party_id, ParseId(party));
      SHIXIN_ASSIGN_OR_RETURN(CheckResult r,
                              Check(lists.answered, party_id, at, /*with_cases=*/true));
      SHIXIN_RETURN_IF_ERROR(EndsKnownNow(lists.now, party_id, &r.cases));
      SHIXIN_ASSIGN_OR_RETURN(std::vector<CaseInfo> later,
                              LaterVersions(lists.now, party_id, at, r));
      s.parties.push_back(NoticeParty{.id = std::move(r.id),
                                      .kind = r.kind,
                                      .name = std::move(r.name),
                                      .cases = std::move(r.cases),
                                      .later = std::move(later)});
    }
  }
  return s;
}

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

}  // namespace shixin
