// SnapshotBuilder on inputs as the court's exports give them: one organisation under two codes,
// a case exported twice, an organisation code embedded in two credit codes.
#include "core/builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/test_util.h"

namespace shixin {
namespace {

using testing::CreditCodeEmbedding;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MakeCase;
using testing::MakeRelation;
using testing::OrgCode;
using testing::PersonId;

std::unique_ptr<const Snapshot> BuildOrDie(SnapshotBuilder& builder) {
  auto snap = builder.Build();
  EXPECT_TRUE(snap.ok()) << snap.status();
  return *std::move(snap);
}

// The court lists an organisation by its organisation code, the relations feed (which names no
// organisation) by its credit code: the one subject keeps the court's name, in either order.
TEST(BuilderTest, ListingUnderOrgCodeKeepsItsNameWhenRelationsUseTheCreditCode) {
  const Id credit = CreditCodeEmbedding(OrgCode(1));
  for (const bool relation_first : {false, true}) {
    SnapshotBuilder builder;
    const RelationInput relation =
        MakeRelation(credit, PersonId(1), "丙法人", Role::kLegalRepresentative);
    if (relation_first) builder.AddRelation(relation);
    builder.AddCase(MakeCase(OrgCode(1), "丙公司", "（2019）黑04执1号"));
    if (!relation_first) builder.AddRelation(relation);
    auto snap = BuildOrDie(builder);
    const EntityNo org = snap->Find(OrgCode(1));
    ASSERT_NE(org, kNoEntity);
    EXPECT_EQ(snap->Find(credit), org);
    EXPECT_EQ(snap->EntityName(org), "丙公司") << relation_first;
    EXPECT_EQ(snap->EntityName(snap->Find(PersonId(1))), "丙法人");
  }
}

// Cases under both codes: the credit code's case names the organisation, whatever the order.
TEST(BuilderTest, CreditCodeCaseNamesAnOrganisationListedUnderBothCodes) {
  const Id credit = CreditCodeEmbedding(OrgCode(1));
  for (const bool org_code_first : {false, true}) {
    SnapshotBuilder builder;
    if (org_code_first) builder.AddCase(MakeCase(OrgCode(1), "丙旧名", "c1"));
    builder.AddCase(MakeCase(credit, "丙公司", "c2"));
    if (!org_code_first) builder.AddCase(MakeCase(OrgCode(1), "丙旧名", "c1"));
    auto snap = BuildOrDie(builder);
    EXPECT_EQ(snap->EntityName(snap->Find(OrgCode(1))), "丙公司") << org_code_first;
  }
}

// Returns the case numbers and duties of `id`'s cases, in order.
std::vector<std::string> CasesOf(const Snapshot& snap, const Id& id) {
  std::vector<std::string> out;
  const EntityNo e = snap.Find(id);
  if (e == kNoEntity) return out;
  CaseBuffer buffer;
  // Named: a range-for over .value() of the temporary would outlive it.
  const absl::StatusOr<std::span<const CaseView>> cases =
      snap.ReadCases(snap.FirstCase(e), snap.CaseCount(e), buffer);
  EXPECT_TRUE(cases.ok()) << cases.status();
  if (!cases.ok()) return out;
  for (const CaseView& c : *cases) {
    out.push_back(std::string(c.case_code) + " " + std::string(c.duty));
  }
  return out;
}

// The court's export may give a case twice (a paging overlap): one case, the later line's. A
// repeat as it is is counted; one with other content is noted with both lines.
TEST(BuilderTest, AnExportsRepeatedCaseIsOneCaseTheLaterLines) {
  const Id credit = CreditCodeEmbedding(OrgCode(1));
  CaseInput first = MakeCase(PersonId(1), "张三", "（2019）黑0402执13号");
  first.duty = "还款";
  CaseInput changed = first;
  changed.duty = "还款1万元";
  changed.case_code = "（２０１９）黑0402执13号 ";  // the same case number, as exports write it
  SnapshotBuilder builder;
  builder.AddCase(first, 1);
  builder.AddCase(MakeCase(PersonId(1), "张三", "（2019）黑0402执14号"), 2);
  builder.AddCase(first, 3);
  builder.AddCase(MakeCase(PersonId(2), "李四", "（2019）黑0402执13号"), 4);  // another subject
  builder.AddCase(changed, 5);
  builder.AddCase(MakeCase(OrgCode(1), "丙公司", "（2019）黑0402执15号"), 6);
  builder.AddCase(MakeCase(credit, "丙公司", "（2019）黑0402执15号"), 7);  // one organisation
  LoadReport report;
  auto snap = builder.Build(&report);
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_THAT(CasesOf(**snap, PersonId(1)),
              ElementsAre("（2019）黑0402执14号 ", "（２０１９）黑0402执13号  还款1万元"));
  EXPECT_EQ(CasesOf(**snap, PersonId(2)).size(), 1u);
  EXPECT_THAT(CasesOf(**snap, credit), ElementsAre("（2019）黑0402执15号 "));
  EXPECT_EQ((*snap)->info().cases, 4u);
  EXPECT_EQ(report.duplicates, 2u);  // line 3 (of line 1), line 7 (of line 6)
  EXPECT_EQ(report.notes, 1u);
  ASSERT_EQ(report.first_notes.size(), 1u);
  EXPECT_EQ(report.first_notes[0].file, "debtors.ndjson");
  EXPECT_EQ(report.first_notes[0].line, 5u);
  EXPECT_EQ(report.first_notes[0].reason,
            absl::StrCat("case （２０１９）黑0402执13号  of ", PersonId(1).Masked(),
                         " repeats line 3 with other content: this line's is kept"));
  // The snapshot holds the cases kept only, and is the one an export without repeats gives.
  SnapshotBuilder plain;
  plain.set_build_time((*snap)->info().build_time);
  plain.AddCase(MakeCase(PersonId(1), "张三", "（2019）黑0402执14号"), 2);
  plain.AddCase(MakeCase(PersonId(2), "李四", "（2019）黑0402执13号"), 4);
  plain.AddCase(changed, 5);
  plain.AddCase(MakeCase(credit, "丙公司", "（2019）黑0402执15号"), 7);
  auto expected = plain.Build();
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ((*snap)->info().version, (*expected)->info().version);
  EXPECT_EQ((*snap)->CaseBytes(), (*expected)->CaseBytes());
}

// Versions of one case (compaction: a case removed and listed again) are not repeats.
TEST(BuilderTest, VersionsOfACaseAreKept) {
  CaseInput removed = MakeCase(PersonId(1), "张三", "（2019）黑0402执13号");
  removed.ended_at = DayStart(20200101);
  removed.end = EndReason::kPerformed;
  SnapshotBuilder builder;
  builder.AddCase(removed);
  builder.AddCase(MakeCase(PersonId(1), "张三", "（2019）黑0402执13号"));
  auto snap = BuildOrDie(builder);
  EXPECT_EQ(CasesOf(*snap, PersonId(1)).size(), 2u);
}

// Two credit codes embedding one organisation code (an error in the data): the bare code's
// case goes to the credit code first named last, and the load notes it with the lines.
TEST(BuilderTest, AnOrgCodeTwoCreditCodesEmbedIsNoted) {
  const Id a = CreditCodeEmbedding(OrgCode(1));
  const std::string b17 = "91110000" + std::string(OrgCode(1).text());
  const Id b = MakeIdUnchecked(IdKind::kCreditCode, b17 + CreditCodeCheckChar(b17));
  SnapshotBuilder builder;
  builder.AddCase(MakeCase(a, "A公司", "c1"), 1);
  builder.AddCase(MakeCase(OrgCode(1), "C旧码", "c3"), 3);
  builder.AddRelation(MakeRelation(b, PersonId(1), "张三", Role::kDirector), Interval{}, 2);
  LoadReport report;
  auto snap = builder.Build(&report);
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_EQ((*snap)->Find(OrgCode(1)), (*snap)->Find(b));
  EXPECT_EQ(report.notes, 1u);
  ASSERT_EQ(report.first_notes.size(), 1u);
  EXPECT_EQ(report.first_notes[0].file, "debtors.ndjson");
  EXPECT_EQ(report.first_notes[0].line, 3u);
  EXPECT_EQ(report.first_notes[0].reason,
            absl::StrCat("organisation code ", std::string(OrgCode(1).text()),
                         " is embedded in credit codes ", std::string(a.text()),
                         " (debtors.ndjson:1), ", std::string(b.text()),
                         " (relations.ndjson:2): its cases and roles are taken as the latter's, "
                         "the credit code first named last"));
  // Without the bare code nothing is attached to either: no note.
  SnapshotBuilder two;
  two.AddCase(MakeCase(a, "A公司", "c1"), 1);
  two.AddCase(MakeCase(b, "B公司", "c2"), 2);
  LoadReport quiet;
  ASSERT_TRUE(two.Build(&quiet).ok());
  EXPECT_EQ(quiet.notes, 0u);
}

// A case for grounds (2)-(6) only without termEnd counts on (the court removes it; SPC rules
// Art. 2 give it 2 years): one note says so, with the count and the first few case numbers, on
// the first one's line. Ground (1), a term, an unknown text or a later line that gives the term
// is not noted; the list is the same as without the note.
TEST(BuilderTest, CasesForFixedTermGroundsWithoutATermEndAreNotedOnce) {
  const auto termless = [](int person, std::string_view code, uint32_t publish) {
    CaseInput c = MakeCase(PersonId(person), "张三", code);
    c.disrupt_type = "违反财产报告制度";
    c.publish_date = publish;
    c.start = DayStart(publish);
    return c;
  };
  const auto add_all = [&](SnapshotBuilder& builder) {
    builder.AddCase(MakeCase(PersonId(9), "李四", "（2019）黑04执9号"), 1);  // ground (1)
    builder.AddCase(termless(1, "（2020）黑0403执567号", 20201021), 2);
    CaseInput both = termless(2, "（2017）黑04执31号", 20170630);
    both.disrupt_type = "有履行能力而拒不履行生效法律文书确定义务,违反财产报告制度";
    builder.AddCase(both, 3);
    CaseInput term = termless(3, "（2020）黑04执1号", 20200101);
    term.term_end = 20211231;
    builder.AddCase(term, 4);
    CaseInput unknown = termless(4, "（2020）黑04执2号", 20200101);
    unknown.disrupt_type = "违反财产报告制度,拒不履行";
    builder.AddCase(unknown, 5);
    builder.AddCase(termless(5, "（2020）黑04执3号", 20200101), 6);
    CaseInput given_again = termless(5, "（2020）黑04执3号", 20200101);
    given_again.term_end = 20211231;
    builder.AddCase(given_again, 7);  // line 6's case with its term: the later line's is kept
    CaseInput several = termless(6, "(2021)浙0111执恢286号", 20210527);
    several.disrupt_type = "违反限制消费令、以伪造证据、暴力、威胁等方法妨碍、抗拒执行";
    builder.AddCase(several, 8);
    builder.AddCase(termless(7, "（2023）黑0402执1024号", 20230815), 9);
    builder.AddCase(termless(8, "（2020）黑04执77号", 20200619), 10);
  };
  SnapshotBuilder builder;
  add_all(builder);
  LoadReport report;
  auto snap = builder.Build(&report);
  ASSERT_TRUE(snap.ok()) << snap.status();
  // The summary comes first; line 7's repeat of line 6 is noted as any is.
  EXPECT_EQ(report.notes, 2u);
  ASSERT_EQ(report.first_notes.size(), 2u);
  EXPECT_THAT(report.first_notes[1].reason, HasSubstr("repeats line 6 with other content"));
  EXPECT_EQ(report.first_notes[0].file, "debtors.ndjson");
  EXPECT_EQ(report.first_notes[0].line, 2u);
  EXPECT_EQ(report.first_notes[0].reason,
            "4 cases for grounds (2)-(6) only have no termEnd: they count until the court "
            "removes them, though SPC rules Art. 2 give such a listing 2 years (（2020）黑0403执"
            "567号 since 2020-10-21, (2021)浙0111执恢286号 since 2021-05-27, （2023）黑0402执"
            "1024号 since 2023-08-15 and 1 more)");
  // Counted, not ended: listed now as the court has it, with no known end.
  const int64_t now = DayStart(20261206);
  for (int person : {1, 6, 7, 8}) {
    const EntityNo e = (*snap)->Find(PersonId(person));
    ASSERT_NE(e, kNoEntity);
    EXPECT_TRUE((*snap)->IsListed(e, now)) << person;
  }
  for (int person : {3, 5}) {  // their terms ended
    EXPECT_FALSE((*snap)->IsListed((*snap)->Find(PersonId(person)), now)) << person;
  }
  // The same list without a report to note in.
  SnapshotBuilder quiet;
  quiet.set_build_time((*snap)->info().build_time);
  add_all(quiet);
  auto same = quiet.Build();
  ASSERT_TRUE(same.ok());
  EXPECT_EQ((*snap)->info().version, (*same)->info().version);
  EXPECT_EQ((*snap)->CaseBytes(), (*same)->CaseBytes());
}

}  // namespace
}  // namespace shixin
