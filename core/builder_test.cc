// SnapshotBuilder on inputs as the court's exports give them: one organisation under two codes,
// a case exported twice, an organisation code embedded in two credit codes.
#include "core/builder.h"

#include <gtest/gtest.h>

#include <memory>

#include "core/test_util.h"

namespace shixin {
namespace {

using testing::CreditCodeEmbedding;
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

}  // namespace
}  // namespace shixin
