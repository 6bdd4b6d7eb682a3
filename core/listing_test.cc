// The time model (docs/feed.md, sections 2 and 4) on snapshots built by SnapshotBuilder and on
// the same snapshot written to a file and opened again: when a case counts, how a subject's
// cases merge into listing blocks, ended and revoked cases, relations and officers at an
// instant, Check and Measures at an instant, the as-of window, and instants at the extremes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/builder.h"
#include "core/catalog.h"
#include "core/query.h"
#include "core/snapshot_file.h"
#include "core/test_util.h"

namespace shixin {
namespace {

using testing::CreditCode;
using ::testing::HasSubstr;
using testing::MakeCase;
using testing::MakeRelation;
using ::testing::Not;
using testing::PersonId;

// Returns the instant of an RFC 3339 time the test writes out.
int64_t At(std::string_view rfc3339) {
  absl::StatusOr<int64_t> t = ParseInstant(rfc3339);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : 0;
}

// Returns a case of `id` published on `publish` (counting from that day) with term `term_end`.
CaseInput Case(const Id& id, std::string_view code, uint32_t publish, uint32_t term_end) {
  CaseInput c = MakeCase(id, "某", code);
  c.publish_date = publish;
  c.start = publish != 0 ? DayStart(publish) : 0;
  c.term_end = term_end;
  return c;
}

// Returns `c` ended at `ended_at` for `reason`.
CaseInput Ended(CaseInput c, int64_t ended_at, EndReason reason) {
  c.ended_at = ended_at;
  c.end = reason;
  return c;
}

// The subjects of the world, and the instants their stories turn on.
const Id kExpiring = PersonId(1);     // one case, term ends 2025-06-30
const Id kGrace = PersonId(2);        // published 2030-01-01, no term
const Id kMerged = PersonId(3);       // four cases overlapping and touching: one block
const Id kTwoBlocks = PersonId(4);    // two cases with a gap
const Id kThreeBlocks = PersonId(5);  // three blocks, the middle one of two cases
const Id kRemoved = PersonId(6);      // removed (performed) before its term ends
const Id kRevoked = PersonId(7);      // revoked
const Id kRelated = PersonId(8);      // legal representative of kListedOrg
const Id kOfficer = PersonId(9);      // legal representative of kUnlistedOrg, listed in 2024 H2
const Id kVersions = PersonId(10);    // a corrected case and an expired one
const Id kEver = PersonId(11);        // no publish date, no term: listed since ever, forever
const Id kListedOrg = CreditCode(1);  // listed until its term ends 2025-12-31
const Id kUnlistedOrg = CreditCode(2);

const int64_t kRemovedAt = At("2025-03-15T10:30:00+08:00");
const int64_t kRevokedAt = At("2025-04-01T09:00:00+08:00");
const int64_t kCorrectedAt = At("2025-05-20T12:00:00+08:00");

// The listing blocks each multi-case subject must have.
const std::vector<Interval> kMergedBlocks = {{DayStart(20200101), TermEndInstant(20241231)}};
const std::vector<Interval> kTwoBlocksBlocks = {
    {DayStart(20200101), TermEndInstant(20201231)},
    {DayStart(20220101), TermEndInstant(20221231)},
};
const std::vector<Interval> kThreeBlocksBlocks = {
    {DayStart(20180101), TermEndInstant(20181231)},
    {DayStart(20200101), TermEndInstant(20201231)},
    {DayStart(20230101), kForever},
};

// A case of the world that runs from its publish day to its term end.
struct TermCase {
  const Id& id;
  const char* code;
  uint32_t publish;
  uint32_t term_end;
};

void AddWorld(SnapshotBuilder& b) {
  const TermCase term_cases[] = {
      {kExpiring, "c1", 20240101, 20250630},
      {kGrace, "c2", 20300101, 0},
      // Overlapping (a, b), touching (b ends as c starts), contained (d in a); out of order.
      {kMerged, "c3c", 20240101, 20241231},
      {kMerged, "c3a", 20200101, 20221231},
      {kMerged, "c3d", 20200301, 20200401},
      {kMerged, "c3b", 20220601, 20231231},
      {kTwoBlocks, "c4b", 20220101, 20221231},
      {kTwoBlocks, "c4a", 20200101, 20201231},
      {kThreeBlocks, "c5c", 20230101, 0},
      {kThreeBlocks, "c5b2", 20200501, 20201231},
      {kThreeBlocks, "c5a", 20180101, 20181231},
      {kThreeBlocks, "c5b1", 20200101, 20200630},
      {kListedOrg, "c8", 20240101, 20251231},
      {kOfficer, "c9", 20240601, 20241231},
      {kVersions, "c11", 20240101, 20240630},
      {kEver, "c12", 0, 0},
  };
  for (const TermCase& c : term_cases) b.AddCase(Case(c.id, c.code, c.publish, c.term_end));
  b.AddCase(Ended(Case(kRemoved, "c6", 20240101, 20291231), kRemovedAt, EndReason::kPerformed));
  b.AddCase(Ended(Case(kRevoked, "c7", 20240101, 20291231), kRevokedAt, EndReason::kRevoked));
  b.AddRelation(MakeRelation(kListedOrg, kRelated, "某", Role::kLegalRepresentative));
  b.AddRelation(MakeRelation(kUnlistedOrg, kOfficer, "某", Role::kLegalRepresentative));
  // Version 1 of c10 replaced at kCorrectedAt by version 2 (c11 expired in 2024).
  b.AddCase(Ended(Case(kVersions, "c10", 20240101, 0), kCorrectedAt, EndReason::kCorrected));
  CaseInput v2 = Case(kVersions, "c10", 20240101, 0);
  v2.start = kCorrectedAt;
  v2.performance = "部分未履行";
  b.AddCase(v2);
}

std::string CatalogPath() {
  return std::string(SHIXIN_TEST_SOURCE_DIR) + "/data/measures/hegang-2018.json";
}

// Every test runs on the built snapshot (false) and on the same snapshot opened from a file.
class ListingTest : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() {
    SnapshotBuilder b;
    AddWorld(b);
    auto built = b.Build();
    ASSERT_TRUE(built.ok()) << built.status();
    built_ = built->release();
    path_ = absl::StrFormat("%slisting_test_%d.snap", ::testing::TempDir(), getpid());
    ASSERT_TRUE(WriteSnapshotFile(*built_, CatalogIdentity{"test", 1}, path_).ok());
    auto opened = OpenSnapshotFile(path_, 1);
    ASSERT_TRUE(opened.ok()) << opened.status();
    opened_ = opened->release();
    auto catalog = Catalog::LoadFile(CatalogPath());
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    catalog_ = new Catalog(*std::move(catalog));
  }
  static void TearDownTestSuite() {
    delete built_;
    delete opened_;
    delete catalog_;
    std::remove(path_.c_str());
  }

  const Snapshot& snap() const { return GetParam() ? *opened_ : *built_; }
  EntityNo Entity(const Id& id) const {
    const EntityNo e = snap().Find(id);
    EXPECT_NE(e, kNoEntity) << id.text();
    return e;
  }
  CheckResult CheckAt(const Id& id, int64_t at) const {
    absl::StatusOr<CheckResult> r = Check(snap(), id, at, /*with_cases=*/true);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *std::move(r) : CheckResult{};
  }
  MeasuresResult MeasuresAt(const Id& id, int64_t at) const {
    MeasureQuery q;
    q.at = at;
    absl::StatusOr<MeasuresResult> r = Measures(snap(), *catalog_, id, q);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *std::move(r) : MeasuresResult{};
  }
  // Returns the case codes Check lists at `at`.
  std::vector<std::string> CodesAt(const Id& id, int64_t at) const {
    std::vector<std::string> codes;
    for (const CaseInfo& c : CheckAt(id, at).cases) codes.push_back(c.case_code);
    return codes;
  }
  // Expects `blocks` (in time order, none touching) to be exactly when `id` is listed: at each
  // block's from - 1, from, until - 1 and until, through IsListed, ListingAt and Check.
  void ExpectBlocks(const Id& id, const std::vector<Interval>& blocks) const {
    const EntityNo e = Entity(id);
    for (const Interval& b : blocks) {
      SCOPED_TRACE(absl::StrFormat("%s block [%s, %s)", id.text(), FormatInstant(b.from),
                                   b.until == kForever ? "forever" : FormatInstant(b.until)));
      for (int64_t t : {b.from, b.until - 1}) {
        EXPECT_TRUE(snap().IsListed(e, t)) << t;
        EXPECT_EQ(snap().ListingAt(e, t), b) << t;
        const CheckResult r = CheckAt(id, t);
        EXPECT_TRUE(r.listed) << t;
        EXPECT_EQ(r.since, b.from) << t;
        EXPECT_EQ(r.until, b.until) << t;
        EXPECT_FALSE(r.cases.empty()) << t;
      }
      std::vector<int64_t> outside = {b.from - 1};
      if (b.until != kForever) outside.push_back(b.until);
      for (int64_t t : outside) {
        EXPECT_FALSE(snap().IsListed(e, t)) << t;
        EXPECT_EQ(snap().ListingAt(e, t), std::nullopt) << t;
        const CheckResult r = CheckAt(id, t);
        EXPECT_FALSE(r.listed) << t;
        EXPECT_EQ(r.since, 0) << t;
        EXPECT_EQ(r.until, kForever) << t;
        EXPECT_TRUE(r.cases.empty()) << t;
      }
    }
  }
  // Returns whether a measure applies to `m`'s subject on a basis of `type`.
  static bool HasBasis(const MeasuresResult& m, BasisType type) {
    for (const MeasureInfo& info : m.measures) {
      for (const Basis& b : info.basis) {
        if (b.type == type) return true;
      }
    }
    return false;
  }

  static const Snapshot* built_;
  static const Snapshot* opened_;
  static const Catalog* catalog_;
  static std::string path_;
};
const Snapshot* ListingTest::built_ = nullptr;
const Snapshot* ListingTest::opened_ = nullptr;
const Catalog* ListingTest::catalog_ = nullptr;
std::string ListingTest::path_;

INSTANTIATE_TEST_SUITE_P(BuiltAndFile, ListingTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "File" : "Built"; });

TEST_P(ListingTest, TermEndsAtMidnightChinaTimeOfTheNextDay) {
  ASSERT_EQ(snap().from_file(), GetParam());
  const int64_t end = TermEndInstant(20250630);
  ASSERT_EQ(end, At("2025-07-01T00:00:00+08:00"));
  ASSERT_EQ(end, DayStart(20250701));
  const EntityNo e = Entity(kExpiring);
  EXPECT_TRUE(snap().IsListed(e, end - 1));
  EXPECT_FALSE(snap().IsListed(e, end));
  EXPECT_EQ(snap().ListingAt(e, end - 1), (Interval{DayStart(20240101), end}));
  EXPECT_EQ(snap().ListingAt(e, end), std::nullopt);

  const CheckResult before = CheckAt(kExpiring, end - 1);
  EXPECT_TRUE(before.listed);
  EXPECT_EQ(before.since, At("2024-01-01T00:00:00+08:00"));
  EXPECT_EQ(before.until, end);
  ASSERT_EQ(before.cases.size(), 1u);
  EXPECT_EQ(before.cases[0].case_code, "c1");
  EXPECT_EQ(before.cases[0].term_end, 20250630u);
  EXPECT_EQ(before.cases[0].start, DayStart(20240101));

  const CheckResult after = CheckAt(kExpiring, end);
  EXPECT_FALSE(after.listed);
  EXPECT_EQ(after.since, 0);
  EXPECT_EQ(after.until, kForever);
  EXPECT_TRUE(after.cases.empty());
  EXPECT_EQ(before.name, "某");
  EXPECT_EQ(after.name, "");  // off the list: its case in the history names it to no one
  ExpectBlocks(kExpiring, {{DayStart(20240101), end}});
}

TEST_P(ListingTest, GracePeriodUntilThePublishDay) {
  const int64_t start = At("2030-01-01T00:00:00+08:00");
  const EntityNo e = Entity(kGrace);
  EXPECT_TRUE(snap().HasCases(e));
  EXPECT_FALSE(snap().IsListed(e, start - 1));
  EXPECT_FALSE(snap().IsListed(e, At("2026-06-10T12:00:00+08:00")));
  EXPECT_TRUE(snap().IsListed(e, start));
  EXPECT_EQ(snap().ListingAt(e, start), (Interval{start, kForever}));

  const CheckResult before = CheckAt(kGrace, start - 1);
  EXPECT_FALSE(before.listed);
  EXPECT_TRUE(before.cases.empty());
  const CheckResult after = CheckAt(kGrace, start);
  EXPECT_TRUE(after.listed);
  EXPECT_EQ(after.since, start);
  EXPECT_EQ(after.until, kForever);
  ASSERT_EQ(after.cases.size(), 1u);
  EXPECT_EQ(after.cases[0].case_code, "c2");
}

// Only a subject listed or related at the instant is named, in Check and Measures alike; off
// the list, its roles show only listed parties (the officers measures 18 and 22 rest on).
TEST_P(ListingTest, OffTheListNoAnswerNamesTheSubject) {
  const int64_t grace = At("2029-12-31T23:59:59+08:00");
  EXPECT_EQ(CheckAt(kGrace, grace).name, "");  // not yet published
  EXPECT_EQ(MeasuresAt(kGrace, grace).subject.name, "");
  EXPECT_EQ(CheckAt(kGrace, DayStart(20300101)).name, "某");
  EXPECT_EQ(CheckAt(kRemoved, kRemovedAt).name, "");
  EXPECT_EQ(MeasuresAt(kRemoved, kRemovedAt).subject.name, "");
  EXPECT_EQ(MeasuresAt(kRemoved, kRemovedAt - 1).subject.name, "某");

  // kRelated: legal representative of kListedOrg, whose term ends 2025-12-31.
  const CheckResult related = CheckAt(kRelated, DayStart(20250101));
  EXPECT_TRUE(related.related);
  EXPECT_EQ(related.name, "某");
  EXPECT_EQ(related.roles.size(), 1u);
  const CheckResult former = CheckAt(kRelated, DayStart(20260601));
  EXPECT_FALSE(former.listed || former.related);
  EXPECT_EQ(former.name, "");
  EXPECT_TRUE(former.roles.empty());  // the organisation, off the list too, is not named

  // kUnlistedOrg: never listed; its legal representative kOfficer is listed in 2024 H2.
  const CheckResult org = CheckAt(kUnlistedOrg, DayStart(20240701));
  EXPECT_EQ(org.name, "");
  ASSERT_EQ(org.officers.size(), 1u);
  EXPECT_EQ(org.officers[0].id, kOfficer.text());
  EXPECT_TRUE(org.officers[0].listed);
  EXPECT_TRUE(HasBasis(MeasuresAt(kUnlistedOrg, DayStart(20240701)), BasisType::kOfficer));
  EXPECT_TRUE(CheckAt(kUnlistedOrg, DayStart(20250601)).officers.empty());
  EXPECT_TRUE(CheckAt(kOfficer, DayStart(20250601)).roles.empty());
  EXPECT_EQ(CheckAt(kOfficer, DayStart(20250601)).name, "");
}

TEST_P(ListingTest, OverlappingAndTouchingCasesMergeIntoOneBlock) {
  ExpectBlocks(kMerged, kMergedBlocks);
  const EntityNo e = Entity(kMerged);
  // Where one case hands over to the next, the block goes on.
  for (int64_t t :
       {DayStart(20200301), TermEndInstant(20200401), DayStart(20220601), TermEndInstant(20221231),
        TermEndInstant(20231231) - 1, TermEndInstant(20231231)}) {
    EXPECT_EQ(snap().ListingAt(e, t), kMergedBlocks[0]) << FormatInstant(t);
  }
  // Touching: the day b ends is the day c starts.
  EXPECT_EQ(TermEndInstant(20231231), DayStart(20240101));
  EXPECT_THAT(CodesAt(kMerged, TermEndInstant(20231231) - 1), ::testing::ElementsAre("c3b"));
  EXPECT_THAT(CodesAt(kMerged, TermEndInstant(20231231)), ::testing::ElementsAre("c3c"));
  EXPECT_THAT(CodesAt(kMerged, DayStart(20200301)), ::testing::ElementsAre("c3a", "c3d"));
  EXPECT_THAT(CodesAt(kMerged, DayStart(20220601)), ::testing::ElementsAre("c3a", "c3b"));
}

TEST_P(ListingTest, AGapGivesTwoBlocks) {
  ExpectBlocks(kTwoBlocks, kTwoBlocksBlocks);
  const EntityNo e = Entity(kTwoBlocks);
  const int64_t gap = DayStart(20210615);
  EXPECT_FALSE(snap().IsListed(e, gap));
  EXPECT_EQ(snap().ListingAt(e, gap), std::nullopt);
  EXPECT_FALSE(CheckAt(kTwoBlocks, gap).listed);
  EXPECT_THAT(CodesAt(kTwoBlocks, DayStart(20200615)), ::testing::ElementsAre("c4a"));
  EXPECT_THAT(CodesAt(kTwoBlocks, DayStart(20220615)), ::testing::ElementsAre("c4b"));
}

TEST_P(ListingTest, ThreeBlocksTheEarlierFromTheBlocksTable) {
  ExpectBlocks(kThreeBlocks, kThreeBlocksBlocks);
  const EntityNo e = Entity(kThreeBlocks);
  EXPECT_FALSE(snap().IsListed(e, 0));
  EXPECT_FALSE(snap().IsListed(e, DayStart(20190601)));
  EXPECT_FALSE(snap().IsListed(e, DayStart(20220601)));
  EXPECT_TRUE(snap().IsListed(e, kForever - 1));
  EXPECT_THAT(CodesAt(kThreeBlocks, DayStart(20200515)), ::testing::ElementsAre("c5b2", "c5b1"));
  // The other subjects' blocks are not mixed up with these: a subject without earlier blocks
  // is not listed before its only block.
  EXPECT_FALSE(snap().IsListed(Entity(kExpiring), DayStart(20180601)));
  EXPECT_FALSE(snap().IsListed(Entity(kTwoBlocks), DayStart(20180601)));
  EXPECT_FALSE(snap().IsListed(Entity(kTwoBlocks), DayStart(20230601)));
}

TEST_P(ListingTest, ARemovedCaseStopsAtItsRemoval) {
  ExpectBlocks(kRemoved, {{DayStart(20240101), kRemovedAt}});
  const CheckResult before = CheckAt(kRemoved, kRemovedAt - 1);
  ASSERT_EQ(before.cases.size(), 1u);
  EXPECT_EQ(before.cases[0].end, EndReason::kPerformed);
  EXPECT_EQ(before.cases[0].ended_at, kRemovedAt);
  EXPECT_EQ(before.cases[0].term_end, 20291231u);
  EXPECT_FALSE(CheckAt(kRemoved, DayStart(20260101)).listed);
}

TEST_P(ListingTest, ARevokedCaseCountsBeforeItsRevocationFlaggedRevoked) {
  ExpectBlocks(kRevoked, {{DayStart(20240101), kRevokedAt}});
  const CheckResult before = CheckAt(kRevoked, kRevokedAt - 1);
  EXPECT_TRUE(before.listed);
  EXPECT_EQ(before.until, kRevokedAt);
  ASSERT_EQ(before.cases.size(), 1u);
  EXPECT_EQ(before.cases[0].case_code, "c7");
  EXPECT_EQ(before.cases[0].end, EndReason::kRevoked);
  EXPECT_EQ(before.cases[0].ended_at, kRevokedAt);
  const CheckResult after = CheckAt(kRevoked, kRevokedAt);
  EXPECT_FALSE(after.listed);
  EXPECT_TRUE(after.cases.empty());
}

TEST_P(ListingTest, RelatedOnlyWhileTheOrganisationIsListed) {
  const int64_t end = TermEndInstant(20251231);
  const EntityNo person = Entity(kRelated);
  EXPECT_FALSE(snap().IsRelated(person, DayStart(20240101) - 1));
  EXPECT_TRUE(snap().IsRelated(person, DayStart(20240101)));
  EXPECT_TRUE(snap().IsRelated(person, end - 1));
  EXPECT_FALSE(snap().IsRelated(person, end));
  EXPECT_FALSE(snap().IsListed(person, end - 1));

  const CheckResult before = CheckAt(kRelated, end - 1);
  EXPECT_FALSE(before.listed);
  EXPECT_TRUE(before.related);
  ASSERT_EQ(before.roles.size(), 1u);
  EXPECT_EQ(before.roles[0].id, kListedOrg.text());
  EXPECT_TRUE(before.roles[0].listed);
  const CheckResult after = CheckAt(kRelated, end);
  EXPECT_FALSE(after.related);
  EXPECT_TRUE(after.roles.empty());  // off the list: its role in an unlisted one is not shown

  const MeasuresResult m_before = MeasuresAt(kRelated, end - 1);
  EXPECT_TRUE(m_before.subject.related);
  EXPECT_TRUE(HasBasis(m_before, BasisType::kRelated));
  for (const MeasureInfo& info : m_before.measures) {
    for (const Basis& b : info.basis) EXPECT_EQ(b.via, kListedOrg.text());
  }
  const MeasuresResult m_after = MeasuresAt(kRelated, end);
  EXPECT_FALSE(m_after.subject.related);
  EXPECT_TRUE(m_after.measures.empty());
  // The organisation itself, listed then and not after.
  EXPECT_TRUE(HasBasis(MeasuresAt(kListedOrg, end - 1), BasisType::kListed));
  EXPECT_TRUE(MeasuresAt(kListedOrg, end).measures.empty());
}

TEST_P(ListingTest, OfficerBasisOnlyWhileTheOfficerIsListed) {
  const int64_t from = DayStart(20240601);
  const int64_t until = TermEndInstant(20241231);
  for (int64_t t : {from - 1, from, until - 1, until}) {
    SCOPED_TRACE(FormatInstant(t));
    const bool listed = t == from || t == until - 1;
    const MeasuresResult m = MeasuresAt(kUnlistedOrg, t);
    EXPECT_FALSE(m.subject.listed);
    EXPECT_EQ(HasBasis(m, BasisType::kOfficer), listed);
    EXPECT_EQ(m.measures.empty(), !listed);
    for (const MeasureInfo& info : m.measures) {
      for (const Basis& b : info.basis) EXPECT_EQ(b.officer, kOfficer.text());
    }
    // The organisation is off the list: only a listed officer is shown.
    const CheckResult c = CheckAt(kUnlistedOrg, t);
    ASSERT_EQ(c.officers.size(), listed ? 1u : 0u);
    if (listed) {
      EXPECT_TRUE(c.officers[0].listed);
    }
  }
}

TEST_P(ListingTest, CheckListsOnlyTheCaseVersionsThatCountThen) {
  EXPECT_TRUE(CodesAt(kVersions, DayStart(20240101) - 1).empty());
  const CheckResult early = CheckAt(kVersions, DayStart(20240301));
  ASSERT_EQ(early.cases.size(), 2u);
  EXPECT_EQ(early.cases[0].case_code, "c11");  // in the order the cases came
  EXPECT_EQ(early.cases[1].case_code, "c10");
  EXPECT_EQ(early.cases[1].performance, "全部未履行");
  // Corrected and replaced without a break: one block, no known end.
  EXPECT_EQ(early.since, DayStart(20240101));
  EXPECT_EQ(early.until, kForever);

  const CheckResult old_version = CheckAt(kVersions, kCorrectedAt - 1);
  ASSERT_EQ(old_version.cases.size(), 1u);
  EXPECT_EQ(old_version.cases[0].end, EndReason::kCorrected);
  EXPECT_EQ(old_version.cases[0].ended_at, kCorrectedAt);
  EXPECT_EQ(old_version.cases[0].performance, "全部未履行");
  const CheckResult new_version = CheckAt(kVersions, kCorrectedAt);
  ASSERT_EQ(new_version.cases.size(), 1u);
  EXPECT_EQ(new_version.cases[0].end, EndReason::kNone);
  EXPECT_EQ(new_version.cases[0].start, kCorrectedAt);
  EXPECT_EQ(new_version.cases[0].performance, "部分未履行");
  EXPECT_EQ(new_version.since, DayStart(20240101));
}

TEST(ValidateAsOfTest, InsideTheWindowOnly) {
  const int64_t now = At("2026-06-10T12:00:00+08:00");
  const int64_t first = now - 1826 * int64_t{86400};
  EXPECT_TRUE(ValidateAsOf(now, now, 1826, 0).ok());
  EXPECT_TRUE(ValidateAsOf(first, now, 1826, 0).ok());
  EXPECT_TRUE(ValidateAsOf(now - 86400, now, 1826, 0).ok());
  for (int64_t t : {first - 1, now + 1, int64_t{0}, kForever}) {
    const absl::Status s = ValidateAsOf(t, now, 1826, 0);
    EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange) << t;
    EXPECT_THAT(s.message(), HasSubstr("history window"));
    EXPECT_THAT(s.message(), HasSubstr(FormatInstant(first)));
    EXPECT_THAT(s.message(), HasSubstr(FormatInstant(now)));
  }
  EXPECT_EQ(ValidateAsOf(now - 86400, now, 0, 0).code(), absl::StatusCode::kOutOfRange);
}

// A base compacted with less history than the window: its cut starts the window, and the
// error says why.
TEST(ValidateAsOfTest, ABaseWithLessHistoryStartsTheWindowAtItsCut) {
  const int64_t now = At("2026-06-10T12:00:00+08:00");
  const int64_t cut = now - 30 * int64_t{86400};
  EXPECT_TRUE(ValidateAsOf(cut, now, 1826, cut).ok());
  const absl::Status s = ValidateAsOf(cut - 1, now, 1826, cut);
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(s.message(), HasSubstr(FormatInstant(cut) + " to now"));
  EXPECT_THAT(s.message(), HasSubstr("the base snapshot holds no earlier history"));
  // A cut older than the window changes nothing.
  const int64_t first = now - 1826 * int64_t{86400};
  EXPECT_EQ(ValidateAsOf(first - 1, now, 1826, first - 86400).message(),
            ValidateAsOf(first - 1, now, 1826, 0).message());
}

// The epoch's instant is the protocol's "now": ParseAsOf() refuses it (and anything before),
// and a window reaching back to the epoch starts one second after it, saying why.
TEST(ValidateAsOfTest, InstantsStartAfterTheEpoch) {
  for (const char* text :
       {"1970-01-01T00:00:00Z", "1970-01-01T08:00:00+08:00", "1970-01-01T00:00:00.9Z",
        "1969-12-31T19:00:00-05:00", "1960-01-01T00:00:00Z"}) {
    const absl::StatusOr<int64_t> at = ParseAsOf(text);
    EXPECT_EQ(at.status().code(), absl::StatusCode::kOutOfRange) << text;
    EXPECT_THAT(at.status().message(), HasSubstr("instants start after 1970-01-01T00:00:00Z"));
  }
  EXPECT_EQ(ParseAsOf("1970-01-01T00:00:01Z").value_or(-1), 1);
  EXPECT_EQ(ParseAsOf("yesterday").status().code(), absl::StatusCode::kInvalidArgument);

  const int64_t now = At("2026-06-10T12:00:00+08:00");
  EXPECT_TRUE(ValidateAsOf(1, now, 36500, 0).ok());
  for (int64_t t : {int64_t{0}, int64_t{-86400}}) {
    const absl::Status s = ValidateAsOf(t, now, 36500, 0);
    EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange) << t;
    EXPECT_THAT(s.message(), HasSubstr(FormatInstant(1) + " to now"));
    EXPECT_THAT(s.message(), HasSubstr("instants before 1970-01-01T00:00:01Z cannot be asked"));
    EXPECT_THAT(s.message(), Not(HasSubstr("base snapshot")));
  }
}

TEST_P(ListingTest, InstantsAtTheExtremes) {
  const int64_t beyond_2106 = int64_t{1} << 33;  // in 2242
  const EntityNo ever = Entity(kEver);
  for (int64_t t : {int64_t{0}, int64_t{1}, beyond_2106, kForever - 1}) {
    EXPECT_TRUE(snap().IsListed(ever, t)) << t;
    EXPECT_EQ(snap().ListingAt(ever, t), (Interval{0, kForever})) << t;
    const CheckResult r = CheckAt(kEver, t);
    EXPECT_TRUE(r.listed) << t;
    EXPECT_EQ(r.since, 0) << t;  // no publish date known
    EXPECT_EQ(r.until, kForever) << t;
    EXPECT_THAT(r.cases, ::testing::SizeIs(1)) << t;
  }
  // Nothing counts before 1970, not even a case without a publish date (its interval starts
  // at 0), nor at kForever, which never comes ([from, kForever) does not hold it).
  const CheckResult in_2024 = CheckAt(kEver, DayStart(20240101));
  ASSERT_THAT(in_2024.cases, ::testing::SizeIs(1));
  const Interval ever_case = CaseInterval(in_2024.cases[0]);
  EXPECT_EQ(ever_case, (Interval{0, kForever}));
  for (int64_t t : {int64_t{-1}, std::numeric_limits<int64_t>::min(), kForever}) {
    EXPECT_FALSE(ever_case.Contains(t)) << t;
    EXPECT_FALSE(snap().IsListed(ever, t)) << t;
    EXPECT_EQ(snap().ListingAt(ever, t), std::nullopt) << t;
    const CheckResult r = CheckAt(kEver, t);
    EXPECT_FALSE(r.listed) << t;
    EXPECT_TRUE(r.cases.empty()) << t;
    EXPECT_FALSE(snap().IsListed(Entity(kThreeBlocks), t)) << t;
    EXPECT_FALSE(snap().IsRelated(Entity(kRelated), t)) << t;
  }
  // A case without a term counts beyond 2106; one with a term does not.
  EXPECT_TRUE(snap().IsListed(Entity(kGrace), beyond_2106));
  EXPECT_TRUE(snap().IsListed(Entity(kThreeBlocks), beyond_2106));
  EXPECT_FALSE(snap().IsListed(Entity(kExpiring), beyond_2106));
  EXPECT_FALSE(snap().IsListed(Entity(kMerged), beyond_2106));
  EXPECT_FALSE(snap().IsListed(Entity(kExpiring), 0));
  EXPECT_FALSE(snap().IsListed(Entity(kGrace), 0));

  // Whatever the instant, Check is listed exactly when a case it lists counts.
  for (const Id& id : {kExpiring, kGrace, kMerged, kTwoBlocks, kThreeBlocks, kRemoved, kRevoked,
                       kListedOrg, kVersions, kEver}) {
    for (int64_t t : {int64_t{-1}, int64_t{-86400 * 365}, std::numeric_limits<int64_t>::min(),
                      int64_t{0}, beyond_2106, kForever - 1, kForever}) {
      const CheckResult r = CheckAt(id, t);
      EXPECT_EQ(r.listed, !r.cases.empty()) << id.text() << " at " << t;
      EXPECT_EQ(r.listed, snap().IsListed(Entity(id), t)) << id.text() << " at " << t;
    }
  }
}

}  // namespace
}  // namespace shixin
