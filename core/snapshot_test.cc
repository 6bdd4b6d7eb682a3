#include "core/snapshot.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "core/builder.h"
#include "core/query.h"
#include "core/test_util.h"

namespace shixin {
namespace {

using testing::CreditCode;
using testing::CreditCodeEmbedding;
using testing::kNow;
using testing::MakeCase;
using testing::MakeRelation;
using testing::OrgCode;
using testing::PersonId;

std::unique_ptr<const Snapshot> BuildOrDie(SnapshotBuilder& builder) {
  auto snap = builder.Build();
  EXPECT_TRUE(snap.ok()) << snap.status();
  return *std::move(snap);
}

// Returns a copy of case `c` of a built snapshot (whose reads never fail).
CaseInfo CaseOf(const Snapshot& snap, uint32_t c) {
  CaseBuffer buffer;
  return ConvertCase<CaseInfo>(snap.ReadCases(c, 1, buffer).value()[0]);
}

TEST(SnapshotTest, EmptySnapshotFindsNothing) {
  SnapshotBuilder builder;
  auto snap = BuildOrDie(builder);
  EXPECT_EQ(snap->entity_count(), 0u);
  EXPECT_EQ(snap->Find(PersonId(1)), kNoEntity);
  EXPECT_EQ(snap->info().subjects, 0u);
}

TEST(SnapshotTest, CasesOfOneSubjectAreGroupedInArrivalOrder) {
  SnapshotBuilder builder;
  builder.AddCase(MakeCase(PersonId(1), "张三", "（2018）黑04执1号"));
  builder.AddCase(MakeCase(PersonId(2), "李四", "（2018）黑04执2号"));
  builder.AddCase(MakeCase(PersonId(1), "张三", "（2019）黑04执3号"));
  auto snap = BuildOrDie(builder);
  const EntityNo e = snap->Find(PersonId(1));
  ASSERT_NE(e, kNoEntity);
  EXPECT_TRUE(snap->IsListed(e, kNow));
  EXPECT_EQ(snap->EntityName(e), "张三");
  EXPECT_EQ(snap->EntityKind(e), SubjectKind::kPerson);
  ASSERT_EQ(snap->CaseCount(e), 2u);
  EXPECT_EQ(CaseOf(*snap, snap->FirstCase(e)).case_code, "（2018）黑04执1号");
  EXPECT_EQ(CaseOf(*snap, snap->FirstCase(e) + 1).case_code, "（2019）黑04执3号");
  EXPECT_EQ(CaseOf(*snap, snap->FirstCase(e)).court, "鹤岗市中级人民法院");
  EXPECT_EQ(CaseOf(*snap, snap->FirstCase(e)).reg_date, 20180114u);
  EXPECT_EQ(snap->info().subjects, 2u);
  EXPECT_EQ(snap->info().persons, 2u);
  EXPECT_EQ(snap->info().cases, 3u);
  EXPECT_EQ(snap->Find(PersonId(3)), kNoEntity);
}

TEST(SnapshotTest, CaseFieldsRoundTrip) {
  CaseInput c = MakeCase(CreditCode(1), "鹤岗市某商贸有限公司", "(2019)黑04执恢5号");
  c.gist_id = "(2018)黑0402民初1234号";
  c.gist_unit = "鹤岗市向阳区人民法院";
  std::string duty(300, 'x');  // longer than one varint byte
  duty += "\n偿还借款";
  c.duty = duty;  // a view: the string must outlive the builder's AddCase()
  c.performed_part = "暂无";
  c.unperform_part = "暂无";
  c.business_entity = "王五";
  c.age = 58;
  c.sex = Sex::kMale;
  SnapshotBuilder builder;
  builder.AddCase(c);
  auto snap = BuildOrDie(builder);
  const CaseInfo v = CaseOf(*snap, snap->FirstCase(snap->Find(CreditCode(1))));
  EXPECT_EQ(v.case_code, c.case_code);
  EXPECT_EQ(v.gist_id, c.gist_id);
  EXPECT_EQ(v.gist_unit, c.gist_unit);
  EXPECT_EQ(v.duty, c.duty);
  EXPECT_EQ(v.performed_part, "暂无");
  EXPECT_EQ(v.business_entity, "王五");
  EXPECT_EQ(v.age, 58);
  EXPECT_EQ(v.sex, Sex::kMale);
  EXPECT_EQ(v.publish_date, 20180713u);
}

TEST(SnapshotTest, RelationsIndexBothDirectionsAndDeduplicate) {
  SnapshotBuilder builder;
  builder.AddCase(MakeCase(CreditCode(1), "甲公司", "c1"));
  builder.AddRelation(MakeRelation(CreditCode(1), PersonId(7), "赵六", Role::kLegalRepresentative));
  builder.AddRelation(MakeRelation(CreditCode(1), PersonId(7), "赵六", Role::kLegalRepresentative));
  builder.AddRelation(MakeRelation(CreditCode(1), PersonId(8), "钱七", Role::kDirector));
  // An unlisted organisation's relation is kept (its officers matter for measures 18 and 22).
  builder.AddRelation(MakeRelation(CreditCode(2), PersonId(7), "赵六", Role::kSupervisor));
  auto snap = BuildOrDie(builder);
  EXPECT_EQ(snap->info().relations, 3u);
  const EntityNo org = snap->Find(CreditCode(1));
  const EntityNo person = snap->Find(PersonId(7));
  ASSERT_NE(person, kNoEntity);
  EXPECT_FALSE(snap->IsListed(person, kNow));
  EXPECT_TRUE(snap->IsRelated(person, kNow));
  EXPECT_EQ(snap->EntityName(person), "赵六");
  ASSERT_EQ(snap->LinkCount(org), 2u);
  ASSERT_EQ(snap->LinkCount(person), 2u);
  bool saw_lr = false;
  for (uint32_t i = 0; i < snap->LinkCount(person); ++i) {
    const LinkView link = snap->Link(person, i);
    if (link.other == org) {
      EXPECT_EQ(link.role, Role::kLegalRepresentative);
      saw_lr = true;
    }
  }
  EXPECT_TRUE(saw_lr);
  // Related only through an unlisted organisation: not related.
  SnapshotBuilder other;
  other.AddRelation(MakeRelation(CreditCode(3), PersonId(9), "孙八", Role::kLegalRepresentative));
  auto snap2 = BuildOrDie(other);
  EXPECT_FALSE(snap2->IsRelated(snap2->Find(PersonId(9)), kNow));
  EXPECT_EQ(snap2->info().subjects, 0u);
  EXPECT_EQ(snap2->info().related_persons, 0u);
}

// Roles that hold only during an interval: intervals of one role that overlap or touch merge,
// a role that holds always is undated, and IsRelated() consults the interval.
TEST(SnapshotTest, DatedRolesHoldOnlyDuringTheirInterval) {
  const int64_t t = DayStart(20260601);
  SnapshotBuilder b;
  CaseInput listed = MakeCase(CreditCode(1), "甲公司", "c1");  // listed since 2018
  b.AddCase(listed);
  const RelationInput r1 = MakeRelation(CreditCode(1), PersonId(1), "一", Role::kDirector);
  b.AddRelation(r1, Interval{t, t + 100});
  b.AddRelation(r1, Interval{t + 100, t + 200});  // touches: merges into [t, t + 200)
  b.AddRelation(r1, Interval{t + 500, t + 600});
  b.AddRelation(MakeRelation(CreditCode(1), PersonId(2), "二", Role::kDirector));
  b.AddRelation(MakeRelation(CreditCode(1), PersonId(3), "三", Role::kDirector), Interval{t, t});
  const std::unique_ptr<const Snapshot> snap = b.Build().value();
  const EntityNo one = snap->Find(PersonId(1));
  ASSERT_NE(one, kNoEntity);
  ASSERT_EQ(snap->LinkCount(one), 2u);
  EXPECT_EQ(snap->LinkValid(one, 0), (Interval{t, t + 200}));
  EXPECT_EQ(snap->LinkValid(one, 1), (Interval{t + 500, t + 600}));
  for (const auto& [at, related] :
       {std::pair{t - 1, false}, std::pair{t, true}, std::pair{t + 199, true},
        std::pair{t + 200, false}, std::pair{t + 550, true}, std::pair{t + 600, false}}) {
    EXPECT_EQ(snap->IsRelated(one, at), related) << at - t;
  }
  const EntityNo two = snap->Find(PersonId(2));
  EXPECT_EQ(snap->LinkValid(two, 0), Interval{});
  EXPECT_TRUE(snap->IsRelated(two, t - 1));
  const EntityNo three = snap->Find(PersonId(3));  // an empty interval: no role
  ASSERT_NE(three, kNoEntity);
  EXPECT_EQ(snap->LinkCount(three), 0u);
  EXPECT_EQ(snap->info().relations, 3u);
}

TEST(SnapshotTest, CaseNameWinsOverRelationName) {
  SnapshotBuilder builder;
  builder.AddRelation(MakeRelation(CreditCode(1), PersonId(1), "别名", Role::kDirector));
  builder.AddCase(MakeCase(PersonId(1), "正名", "c1"));
  auto snap = BuildOrDie(builder);
  EXPECT_EQ(snap->EntityName(snap->Find(PersonId(1))), "正名");
}

TEST(SnapshotTest, OrgCodeFindsOrganisationListedByCreditCode) {
  SnapshotBuilder builder;
  builder.AddCase(MakeCase(CreditCode(5), "乙公司", "c1"));
  // The relations feed names the same organisation by its old organisation code.
  builder.AddRelation(
      MakeRelation(CreditCode(5).EmbeddedOrgCode(), PersonId(1), "周九", Role::kPrincipal));
  builder.AddCase(MakeCase(OrgCode(1), "丙公司", "c2"));
  auto snap = BuildOrDie(builder);
  const EntityNo org = snap->Find(CreditCode(5));
  ASSERT_NE(org, kNoEntity);
  EXPECT_EQ(snap->Find(CreditCode(5).EmbeddedOrgCode()), org);
  EXPECT_EQ(snap->LinkCount(org), 1u);
  EXPECT_TRUE(snap->IsRelated(snap->Find(PersonId(1)), kNow));
  EXPECT_NE(snap->Find(OrgCode(1)), kNoEntity);
  EXPECT_EQ(snap->info().entities, 3u);
}

// An organisation listed only under its old organisation code (older court records) is found by
// its credit code too: GB 32100 makes characters 9-17 of a credit code the organisation code.
TEST(SnapshotTest, CreditCodeFindsOrganisationListedByItsOrgCode) {
  SnapshotBuilder builder;
  builder.AddCase(MakeCase(OrgCode(1), "丙公司", "c1"));
  builder.AddRelation(MakeRelation(OrgCode(1), PersonId(1), "周九", Role::kLegalRepresentative));
  builder.AddCase(MakeCase(PersonId(2), "李四", "c2"));
  auto snap = BuildOrDie(builder);
  const EntityNo org = snap->Find(OrgCode(1));
  ASSERT_NE(org, kNoEntity);
  EXPECT_EQ(snap->EntityId(org), OrgCode(1));
  EXPECT_EQ(snap->Find(CreditCodeEmbedding(OrgCode(1))), org);
  EXPECT_EQ(snap->Find(CreditCodeEmbedding(OrgCode(2))), kNoEntity);  // another organisation
  EXPECT_EQ(snap->Find(CreditCode(1)), kNoEntity);
  EXPECT_TRUE(snap->IsRelated(snap->Find(PersonId(1)), kNow));
  // In a batch, among persons' IDs and misses of every kind, as alone.
  std::vector<Id> ids = {PersonId(2), CreditCodeEmbedding(OrgCode(1)), PersonId(3), CreditCode(1),
                         OrgCode(1),  CreditCodeEmbedding(OrgCode(2)), Id(),        OrgCode(2)};
  for (int n = 0; n < 70; ++n) {
    ids.push_back(CreditCodeEmbedding(OrgCode(n % 3 == 0 ? 1 : 100 + n)));
  }
  std::vector<EntityNo> out(ids.size());
  snap->FindBatch(ids, out);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(out[i], snap->Find(ids[i])) << i;
  EXPECT_EQ(out[1], org);
  EXPECT_EQ(out[8], org);
  EXPECT_EQ(out[9], kNoEntity);
}

// The court lists an organisation under its old code, the relations feed names it by its credit
// code: one subject, keyed by the credit code, found by either, with every role.
TEST(SnapshotTest, ListingUnderOrgCodeAndRolesUnderCreditCodeAreOneSubject) {
  const Id credit = CreditCodeEmbedding(OrgCode(1));
  SnapshotBuilder builder;
  builder.AddCase(MakeCase(OrgCode(1), "丙公司", "c1"));
  builder.AddRelation(MakeRelation(credit, PersonId(1), "周九", Role::kLegalRepresentative));
  builder.AddRelation(MakeRelation(OrgCode(1), PersonId(2), "吴十", Role::kDirector));
  auto snap = BuildOrDie(builder);
  EXPECT_EQ(snap->info().entities, 3u);
  const EntityNo org = snap->Find(credit);
  ASSERT_NE(org, kNoEntity);
  EXPECT_EQ(snap->Find(OrgCode(1)), org);
  EXPECT_EQ(snap->EntityId(org), credit);
  EXPECT_TRUE(snap->IsListed(org, kNow));
  EXPECT_EQ(snap->LinkCount(org), 2u);
  EXPECT_TRUE(snap->IsRelated(snap->Find(PersonId(1)), kNow));
  EXPECT_TRUE(snap->IsRelated(snap->Find(PersonId(2)), kNow));
}

TEST(SnapshotTest, VersionIsAContentHashIndependentOfInputOrder) {
  auto build = [](bool reversed) {
    SnapshotBuilder builder;
    builder.set_build_time(1000);
    std::vector<int> order = {1, 2, 3, 4};
    if (reversed) std::reverse(order.begin(), order.end());
    for (int n : order) builder.AddCase(MakeCase(PersonId(n), "某", "c"));
    return *builder.Build();
  };
  auto a = build(false);
  auto b = build(true);
  EXPECT_EQ(a->info().version, b->info().version);
  EXPECT_EQ(a->info().build_time, 1000);
  SnapshotBuilder builder;
  builder.AddCase(MakeCase(PersonId(1), "某", "other case"));
  EXPECT_NE((*builder.Build())->info().version, a->info().version);
}

TEST(SnapshotTest, FindBatchMatchesFind) {
  SnapshotBuilder builder;
  for (int n = 0; n < 500; n += 2) builder.AddCase(MakeCase(PersonId(n), "某", "c"));
  auto snap = BuildOrDie(builder);
  std::vector<Id> ids;
  ids.reserve(500);
  for (int n = 0; n < 500; ++n) ids.push_back(PersonId(n));
  std::vector<EntityNo> out(ids.size());
  snap->FindBatch(ids, out);
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(out[i], snap->Find(ids[i])) << i;
    EXPECT_EQ(out[i] != kNoEntity, i % 2 == 0) << i;
    if (out[i] != kNoEntity) {
      EXPECT_EQ(snap->EntityId(out[i]), ids[i]);
    }
  }
  EXPECT_GT(snap->IndexBytes(), 0u);
}

TEST(SnapshotTest, FindBatchFindsOrganisationsByEitherCode) {
  SnapshotBuilder builder;
  for (int n = 0; n < 40; n += 2) builder.AddCase(MakeCase(CreditCode(n), "某公司", "c"));
  builder.AddCase(MakeCase(PersonId(7), "某", "c"));
  auto snap = BuildOrDie(builder);
  std::vector<Id> ids = {Id(), PersonId(7), PersonId(8)};
  for (int n = 0; n < 40; ++n) {
    ids.push_back(CreditCode(n));
    ids.push_back(CreditCode(n).EmbeddedOrgCode());
  }
  std::vector<EntityNo> out(ids.size());
  snap->FindBatch(ids, out);
  EXPECT_EQ(out[0], kNoEntity);
  EXPECT_NE(out[1], kNoEntity);
  EXPECT_EQ(out[2], kNoEntity);
  for (size_t i = 3; i < ids.size(); ++i) {
    const int n = static_cast<int>(i - 3) / 2;
    EXPECT_EQ(out[i], snap->Find(ids[i])) << i;
    EXPECT_EQ(out[i] != kNoEntity, n % 2 == 0) << i;
    if (out[i] != kNoEntity) {
      EXPECT_EQ(snap->EntityId(out[i]), CreditCode(n)) << i;
    }
  }
}

TEST(QueryTest, CheckReportsCasesRolesAndOfficers) {
  SnapshotBuilder builder;
  builder.AddCase(MakeCase(CreditCode(1), "甲公司", "c1"));
  builder.AddCase(MakeCase(PersonId(2), "李四", "c2"));
  builder.AddRelation(MakeRelation(CreditCode(1), PersonId(1), "张三", Role::kLegalRepresentative));
  builder.AddRelation(MakeRelation(CreditCode(1), PersonId(2), "李四", Role::kDirector));
  auto snap = BuildOrDie(builder);

  const CheckResult org = Check(*snap, CreditCode(1), kNow, true).value();
  EXPECT_TRUE(org.listed);
  EXPECT_EQ(org.kind, SubjectKind::kOrganization);
  EXPECT_EQ(org.cases.size(), 1u);
  ASSERT_EQ(org.officers.size(), 2u);
  EXPECT_TRUE(org.roles.empty());

  const CheckResult lr = Check(*snap, PersonId(1), kNow, true).value();
  EXPECT_FALSE(lr.listed);
  EXPECT_TRUE(lr.related);
  EXPECT_EQ(lr.name, "张三");
  ASSERT_EQ(lr.roles.size(), 1u);
  EXPECT_EQ(lr.roles[0].role, Role::kLegalRepresentative);
  EXPECT_EQ(lr.roles[0].id, CreditCode(1).text());
  EXPECT_TRUE(lr.roles[0].listed);

  const CheckResult unknown = Check(*snap, PersonId(3), kNow, true).value();
  EXPECT_FALSE(unknown.listed);
  EXPECT_FALSE(unknown.related);
  EXPECT_TRUE(unknown.name.empty());
  EXPECT_EQ(unknown.id, PersonId(3).text());
}

// A credit code asked about an organisation listed by its old organisation code gets that
// organisation's answer, now and as of an earlier instant; the answer's id is the ID asked, and
// the roles of its officers name the organisation as the list does.
TEST(QueryTest, CheckByCreditCodeAnswersForTheOrganisationListedByItsOrgCode) {
  SnapshotBuilder builder;
  CaseInput listed = MakeCase(OrgCode(1), "丙公司", "c1");
  listed.start = DayStart(listed.publish_date);
  builder.AddCase(listed);
  builder.AddRelation(MakeRelation(OrgCode(1), PersonId(1), "周九", Role::kLegalRepresentative));
  auto snap = BuildOrDie(builder);
  const Id credit = CreditCodeEmbedding(OrgCode(1));

  const CheckResult r = Check(*snap, credit, kNow, true).value();
  EXPECT_TRUE(r.listed);
  EXPECT_EQ(r.id, credit.text());
  EXPECT_EQ(r.kind, SubjectKind::kOrganization);
  EXPECT_EQ(r.name, "丙公司");
  EXPECT_EQ(r.since, listed.start);
  ASSERT_EQ(r.cases.size(), 1u);
  EXPECT_EQ(r.cases[0].case_code, "c1");
  ASSERT_EQ(r.officers.size(), 1u);
  EXPECT_EQ(r.officers[0].id, PersonId(1).text());
  CheckResult by_org_code = Check(*snap, OrgCode(1), kNow, true).value();
  EXPECT_EQ(by_org_code.id, OrgCode(1).text());
  by_org_code.id = r.id;
  EXPECT_EQ(r, by_org_code);

  const CheckResult before = Check(*snap, credit, listed.start - 1, true).value();
  EXPECT_FALSE(before.listed);
  EXPECT_EQ(before.name, "");  // known, but not on the list then: not named

  const CheckResult lr = Check(*snap, PersonId(1), kNow, true).value();
  EXPECT_TRUE(lr.related);
  ASSERT_EQ(lr.roles.size(), 1u);
  EXPECT_EQ(lr.roles[0].id, OrgCode(1).text());
  EXPECT_TRUE(lr.roles[0].listed);
}

}  // namespace
}  // namespace shixin
