#include "core/compaction.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/builder.h"
#include "core/delta.h"
#include "core/list.h"
#include "core/snapshot_file.h"
#include "core/test_util.h"
#include "synthetic/deltas.h"
#include "synthetic/synthetic.h"

namespace shixin {
namespace {

using testing::CreditCode;
using testing::MakeCase;
using testing::MakeRelation;
using testing::PersonId;

constexpr int64_t kDay = 86400;
constexpr int64_t kKeepAll = 100000;  // history days: nothing is old enough to drop

// A fresh directory for one test, removed with it.
class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_((std::filesystem::temp_directory_path() /
               absl::StrFormat("compaction_test_%d_%s", getpid(), name))
                  .string()) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  // Writes delta file `sequence` with `lines` (one change each).
  void WriteDelta(uint64_t sequence, const std::vector<std::string>& lines) const {
    std::ofstream out(path_ + "/" + DeltaFileName(sequence));
    for (const std::string& l : lines) out << l << "\n";
  }

 private:
  std::string path_;
};

// What a list answers about `id` at `t`, as one comparable value.
struct Answer {
  bool found = false;
  std::string name;
  bool listed = false;
  Interval listing;
  bool related = false;
  std::vector<std::tuple<std::string, Role>> roles;
  std::vector<CaseInfo> cases;

  bool operator==(const Answer&) const = default;
};

Answer Ask(const ListView& list, const Id& id, int64_t t) {
  Answer a;
  const SubjectRef s = list.Find(id);
  if (!s.found()) return a;
  a.found = true;
  a.name = std::string(list.Name(s));
  a.listing = list.ListingAt(s, t).value_or(Interval{});
  a.listed = list.IsListed(s, t);
  a.related = list.IsRelated(s, t);
  list.ForEachRole(s, t, [&](const RoleLink& l) {
    a.roles.emplace_back(std::string(list.SubjectId(l.other).text()), l.role);
  });
  std::sort(a.roles.begin(), a.roles.end());
  CaseBuffer buffer;
  const std::span<const CaseView> cases = list.ReadCases(s, buffer).value();
  for (const CaseView& c : cases) {
    a.cases.push_back(ConvertCase<CaseInfo>(c));
  }
  return a;
}

// Expects `compacted` to answer as `list` about `id` at each of `instants`.
void ExpectSameAnswers(const ListView& list, const ListView& compacted, const Id& id,
                       const std::vector<int64_t>& instants) {
  for (int64_t t : instants) {
    const Answer want = Ask(list, id, t);
    const Answer got = Ask(compacted, id, t);
    EXPECT_EQ(got.found, want.found) << id.text() << " at " << t;
    EXPECT_EQ(got.listed, want.listed) << id.text() << " at " << t;
    EXPECT_EQ(got.listing, want.listing) << id.text() << " at " << t;
    EXPECT_EQ(got.related, want.related) << id.text() << " at " << t;
    EXPECT_EQ(got.roles, want.roles) << id.text() << " at " << t;
    EXPECT_TRUE(got == want) << id.text() << " at " << t;
  }
}

// The synthetic list and five days of its deltas, folded: the new base alone (built, and
// written and opened again) answers as the base with the overlay, for every ID a delta touched
// and every 7th other, now and around each change.
TEST(CompactionTest, FoldedDeltasAnswerAsTheOverlay) {
  const TempDir dir("synthetic");
  const SyntheticOptions options{.subjects = 2000, .seed = 4, .today = 20251231};
  ASSERT_TRUE(
      WriteSyntheticDeltas(options, {.deltas = 5, .changes_per_delta = 300}, dir.path() + "/deltas")
          .ok());
  SnapshotBuilder builder;
  GenerateSynthetic(
      options, [&](const CaseInput& c) { builder.AddCase(c); },
      [&](const RelationInput& r) { builder.AddRelation(r); });
  std::unique_ptr<const Snapshot> base = builder.Build().value();
  DeltaReport report;
  std::unique_ptr<const Overlay> overlay =
      ApplyDeltaDir(*base, dir.path() + "/deltas", &report).value();
  ASSERT_NE(overlay, nullptr);
  EXPECT_EQ(overlay->sequence(), 5u);
  const ListView list(*base, overlay.get());
  const int64_t now = DayStart(20260201);
  std::unique_ptr<const Snapshot> built =
      Compact(list, {.now = now, .history_days = kKeepAll}).value();
  EXPECT_EQ(built->info().delta_sequence, 5u);
  EXPECT_EQ(built->info().build_time, now);
  ASSERT_TRUE(WriteSnapshotFile(*built, {"test", 1}, dir.path() + "/new.snap").ok());
  SnapshotFileHeader header;
  std::unique_ptr<const Snapshot> opened =
      OpenSnapshotFile(dir.path() + "/new.snap", 0, &header).value();
  EXPECT_EQ(header.format_version, kSnapshotFormatVersion);
  EXPECT_EQ(opened->info().delta_sequence, 5u);
  EXPECT_EQ(opened->info().version, built->info().version);

  // The IDs each delta touched, with the instants around their changes.
  std::vector<std::pair<Id, std::vector<int64_t>>> touched;
  const std::vector<int64_t> always = {DayStart(20180101), DayStart(20251231), now,
                                       now + 400 * kDay};
  uint64_t relation_changes = 0;
  const std::vector<DeltaFile> files = ListDeltaFiles(dir.path() + "/deltas").value();
  for (const DeltaFile& f : files) {
    const Delta delta = ReadDelta(f.path).value();
    for (const DeltaChange& c : delta.changes) {
      std::vector<int64_t> instants = always;
      for (int64_t t : {c.at, c.record.start}) {
        if (t == 0) continue;
        for (int64_t d = -1; d <= 1; ++d) instants.push_back(t + d);
      }
      touched.emplace_back(c.id, instants);
      if (c.op == DeltaOp::kRelate || c.op == DeltaOp::kUnrelate) {
        touched.emplace_back(c.org, instants);
        ++relation_changes;
      }
    }
  }
  EXPECT_GT(relation_changes, 10u);
  for (EntityNo e = 0; e < base->entity_count(); e += 7) {
    touched.emplace_back(base->EntityId(e), always);
  }
  for (const auto& [id, instants] : touched) {
    ExpectSameAnswers(list, *built, id, instants);
    ExpectSameAnswers(list, *opened, id, instants);
    if (::testing::Test::HasFailure()) break;  // one ID's report is enough
  }
}

// The base: organisation 1 listed with person 3 as legal representative, person 1 listed.
std::unique_ptr<const Snapshot> SmallBase() {
  SnapshotBuilder b;
  CaseInput org = MakeCase(CreditCode(1), "甲公司", "（2018）黑04执4号");
  org.start = DayStart(org.publish_date);
  b.AddCase(org);
  CaseInput person = MakeCase(PersonId(1), "张一", "（2018）黑04执1号");
  person.start = DayStart(person.publish_date);
  b.AddCase(person);
  b.AddRelation(MakeRelation(CreditCode(1), PersonId(3), "张三", Role::kLegalRepresentative));
  return b.Build().value();
}

std::string RoleLine(std::string_view op, const Id& org, const Id& person, std::string_view at) {
  return absl::StrFormat(
      R"({"op":"%s","orgId":"%s","personId":"%s","personName":"新人","role":"director","at":"%s"})",
      op, org.text(), person.text(), at);
}

// A delta line adding case `code` of organisation `id`, published 2026-06-01, without a term.
std::string OrgCaseLine(const Id& id, std::string_view code) {
  return absl::StrFormat(
      R"({"op":"add","caseCode":"%s","iname":"鹤岗市新煤业有限公司","cardNum":"%s",)"
      R"("partyTypeName":"1","courtName":"鹤岗市向阳区人民法院","areaName":"黑龙江",)"
      R"("gistId":"(2025)黑0402民初13号","gistUnit":"鹤岗市向阳区人民法院","regDate":"20260310",)"
      R"("publishDate":"2026-06-01","duty":"偿还借款50万元","performance":"全部未履行",)"
      R"("performedPart":"暂无","unperformPart":"暂无",)"
      R"("disruptTypeName":"有履行能力而拒不履行生效法律文书确定义务"})",
      code, id.text());
}

// An organisation the deltas brought under its organisation code, then named by its credit
// code (a case, a role), is one subject in the overlay and in the new base, found by either
// code, with both cases and the role.
TEST(CompactionTest, AnOrganisationAddedUnderBothCodesIsOneSubject) {
  const TempDir dir("org_codes");
  const std::unique_ptr<const Snapshot> base = SmallBase();
  const Id org_code = testing::OrgCode(5);
  const Id credit = testing::CreditCodeEmbedding(org_code);
  dir.WriteDelta(1, {OrgCaseLine(org_code, "（2026）黑04执51号")});
  dir.WriteDelta(2, {OrgCaseLine(credit, "（2026）黑04执52号"),
                     RoleLine("relate", credit, PersonId(5), "2026-06-01T09:00:00+08:00")});
  DeltaReport report;
  const std::unique_ptr<const Overlay> overlay = ApplyDeltaDir(*base, dir.path(), &report).value();
  EXPECT_TRUE(report.notes.empty());
  const ListView list(*base, overlay.get());
  const int64_t now = DayStart(20260610);
  const std::unique_ptr<const Snapshot> compacted =
      Compact(list, {.now = now, .history_days = kKeepAll}).value();
  const ListView folded(*compacted);
  for (int64_t t : {DayStart(20260601) - 1, now}) {
    for (const Id& id : {org_code, credit, PersonId(5)}) {
      EXPECT_EQ(Ask(folded, id, t), Ask(list, id, t)) << id.text() << " at " << t;
    }
  }
  const Answer org = Ask(folded, credit, now);
  EXPECT_TRUE(org.listed);
  EXPECT_EQ(org.cases.size(), 2u);
  EXPECT_EQ(compacted->EntityId(compacted->Find(credit)), org_code);
  EXPECT_TRUE(Ask(folded, PersonId(5), now).related);
}

// Roles begun and ended by deltas keep their intervals in the new base: a person related
// during a while only is related then, and not before or after.
TEST(CompactionTest, RolesKeepTheirIntervals) {
  const TempDir dir("roles");
  const std::unique_ptr<const Snapshot> base = SmallBase();
  dir.WriteDelta(1, {RoleLine("relate", CreditCode(1), PersonId(5), "2026-06-01T09:00:00+08:00"),
                     RoleLine("relate", CreditCode(1), PersonId(1), "2026-06-01T09:00:00+08:00")});
  dir.WriteDelta(2,
                 {RoleLine("unrelate", CreditCode(1), PersonId(5), "2026-06-03T09:00:00+08:00")});
  DeltaReport report;
  const std::unique_ptr<const Overlay> overlay = ApplyDeltaDir(*base, dir.path(), &report).value();
  const ListView list(*base, overlay.get());
  const int64_t related = DayStart(20260601) + 9 * 3600;
  const int64_t ended = DayStart(20260603) + 9 * 3600;
  const std::unique_ptr<const Snapshot> compacted =
      Compact(list, {.now = ended + kDay, .history_days = kKeepAll}).value();
  const ListView folded(*compacted);
  for (int64_t t : {related - 1, related, ended - 1, ended, ended + kDay}) {
    for (const Id& id : {PersonId(1), PersonId(3), PersonId(5), CreditCode(1)}) {
      EXPECT_EQ(Ask(folded, id, t), Ask(list, id, t)) << id.text() << " at " << t;
    }
  }
  EXPECT_FALSE(compacted->IsRelated(compacted->Find(PersonId(5)), related - 1));
  EXPECT_TRUE(compacted->IsRelated(compacted->Find(PersonId(5)), related));
  EXPECT_FALSE(compacted->IsRelated(compacted->Find(PersonId(5)), ended));
  EXPECT_TRUE(compacted->IsRelated(compacted->Find(PersonId(3)), related - 1));  // undated
  EXPECT_EQ(compacted->info().delta_sequence, 2u);
  EXPECT_EQ(compacted->info().relations, 3u);
}

// The new base is as fresh as the newest file folded in (a base of the last full export
// would make the compacted list STALE), and never fresher than its build time.
TEST(CompactionTest, TheNewBaseIsAsFreshAsTheFilesFoldedIn) {
  const TempDir dir("freshness");
  const std::unique_ptr<const Snapshot> base = SmallBase();  // source time 0
  dir.WriteDelta(1, {RoleLine("relate", CreditCode(1), PersonId(5), "2026-06-01T09:00:00+08:00")});
  dir.WriteDelta(2,
                 {RoleLine("unrelate", CreditCode(1), PersonId(5), "2026-06-03T09:00:00+08:00")});
  const int64_t now = DayStart(20260605);
  const auto set_mtime = [&](int sequence, int64_t t) {
    const struct timespec times[2] = {{t, 0}, {t, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (dir.path() + "/" + DeltaFileName(sequence)).c_str(), times, 0),
              0);
  };
  set_mtime(1, now - 2 * kDay);
  set_mtime(2, now - kDay);
  DeltaReport report;
  const auto overlay = ApplyDeltaDir(*base, dir.path(), &report).value();
  EXPECT_EQ(report.newest_file_time, now - kDay);
  const ListView list(*base, overlay.get());
  EXPECT_EQ(Compact(list, {.now = now, .history_days = kKeepAll, .source_time = now - kDay})
                .value()
                ->info()
                .source_time,
            now - kDay);
  // A file's clock ahead of the compaction's: no fresher than the build.
  EXPECT_EQ(Compact(list, {.now = now, .history_days = kKeepAll, .source_time = now + kDay})
                .value()
                ->info()
                .source_time,
            now);
}

// A base that contains deltas 1-2 takes delta 3 next, and refuses another 2.
TEST(CompactionTest, TheNewBaseContinuesTheSequence) {
  const TempDir dir("sequence");
  const std::unique_ptr<const Snapshot> base = SmallBase();
  dir.WriteDelta(1, {RoleLine("relate", CreditCode(1), PersonId(5), "2026-06-01T09:00:00+08:00")});
  dir.WriteDelta(2,
                 {RoleLine("unrelate", CreditCode(1), PersonId(5), "2026-06-03T09:00:00+08:00")});
  DeltaReport report;
  const auto overlay = ApplyDeltaDir(*base, dir.path(), &report).value();
  const auto compacted =
      Compact(ListView(*base, overlay.get()), {.history_days = kKeepAll}).value();
  // Folding the same directory into the new base again applies nothing.
  EXPECT_EQ(ApplyDeltaDir(*compacted, dir.path(), &report).value(), nullptr);
  dir.WriteDelta(3, {RoleLine("relate", CreditCode(1), PersonId(6), "2026-06-04T09:00:00+08:00")});
  const auto next = ApplyDeltaDir(*compacted, dir.path(), &report).value();
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->sequence(), 3u);
  EXPECT_EQ(next->size(), 2u);  // organisation 1 and person 6: deltas 1-2 are in the base
  // A file that looks like a misnamed delta is not folded, and is noted.
  std::ofstream(dir.path() + "/4.ndjson")
      << RoleLine("relate", CreditCode(1), PersonId(7), "2026-06-05T09:00:00+08:00") << "\n";
  report.notes.clear();
  EXPECT_EQ(ApplyDeltaDir(*base, dir.path(), &report).value()->sequence(), 3u);
  EXPECT_EQ(report.notes.front(), MisnamedDeltaWarning(dir.path() + "/4.ndjson"));
}

// Versions that stopped counting before the window are dropped, and subjects left with
// nothing, unless still related.
TEST(CompactionTest, RetentionDropsWhatEndedBeforeTheWindow) {
  const int64_t now = DayStart(20260601);
  const int64_t old_end = now - 2000 * kDay;
  SnapshotBuilder b;
  CaseInput gone = MakeCase(PersonId(1), "张一", "（2018）黑04执1号");  // ended long ago
  gone.start = DayStart(gone.publish_date) - 3000 * kDay;
  gone.ended_at = old_end;
  gone.end = EndReason::kPerformed;
  b.AddCase(gone);
  CaseInput old_version = gone;  // person 2: an old version and a current one
  old_version.id = PersonId(2);
  b.AddCase(old_version);
  CaseInput current = MakeCase(PersonId(2), "张二", "（2021）黑04执2号");
  current.start = DayStart(20210601);  // after a break: the old version is not its stretch's
  b.AddCase(current);
  CaseInput org = gone;  // organisation 1: ended long ago, its director still related
  org.id = CreditCode(1);
  b.AddCase(org);
  b.AddRelation(MakeRelation(CreditCode(1), PersonId(3), "张三", Role::kDirector));
  CaseInput recent = gone;  // person 4: ended within the window
  recent.id = PersonId(4);
  recent.ended_at = now - 100 * kDay;
  b.AddCase(recent);
  const std::unique_ptr<const Snapshot> base = b.Build().value();

  const auto kept = Compact(ListView(*base), {.now = now}).value();
  EXPECT_EQ(kept->Find(PersonId(1)), kNoEntity);
  ASSERT_NE(kept->Find(PersonId(2)), kNoEntity);
  EXPECT_EQ(kept->CaseCount(kept->Find(PersonId(2))), 1u);
  ASSERT_NE(kept->Find(CreditCode(1)), kNoEntity);  // it has a role still
  EXPECT_EQ(kept->CaseCount(kept->Find(CreditCode(1))), 0u);
  EXPECT_NE(kept->Find(PersonId(3)), kNoEntity);
  ASSERT_NE(kept->Find(PersonId(4)), kNoEntity);
  EXPECT_TRUE(kept->IsListed(kept->Find(PersonId(4)), now - 101 * kDay));
  EXPECT_EQ(kept->info().cases, 2u);
  // The new base says from when its history is whole; compacting it again never moves that
  // back, whatever the window.
  EXPECT_EQ(base->history_from(), 0);
  EXPECT_EQ(kept->history_from(), now - kDefaultHistoryDays * kDay);
  const auto again = Compact(ListView(*kept), {.now = now + kDay, .history_days = 3000}).value();
  EXPECT_EQ(again->history_from(), kept->history_from());
  // A longer window keeps everything.
  EXPECT_EQ(Compact(ListView(*base), {.now = now, .history_days = kKeepAll}).value()->info().cases,
            5u);
}

// A delta line for case （2018）黑04执1号 of person 1 (SmallBase()), with `op` and `tail`.
std::string PersonCaseLine(std::string_view op, std::string_view tail) {
  return absl::StrFormat(
      R"({"op":"%s","caseCode":"（2018）黑04执1号","iname":"张一","cardNum":"%s",)"
      R"("partyTypeName":"0","courtName":"鹤岗市中级人民法院","areaName":"黑龙江",)"
      R"("gistId":"(2017)黑04民初1号","gistUnit":"鹤岗市中级人民法院","regDate":"20180114",)"
      R"("publishDate":"2018-07-13","duty":"偿还借款","performance":"全部未履行",)"
      R"("performedPart":"暂无","unperformPart":"暂无","disruptTypeName":"违反财产报告制度"%s})",
      op, PersonId(1).text(), tail);
}

// A correction, or a removal and a new listing at the same instant, older than the window
// does not break the stretch of counting cases: the new base answers the same "since" (the
// first version's start) as the base with the deltas, now and within the window, and keeps
// the versions before the window that the stretch holds.
TEST(CompactionTest, AStretchBegunBeforeTheWindowKeepsItsStart) {
  const TempDir dir("stretch");
  const std::unique_ptr<const Snapshot> base = SmallBase();
  dir.WriteDelta(1, {PersonCaseLine("correct", R"(,"at":"2026-06-03T10:00:00+08:00")"),
                     OrgCaseLine(CreditCode(7), "（2026）黑04执71号")});
  dir.WriteDelta(2, {R"({"op":"remove","caseCode":"（2026）黑04执71号","cardNum":")" +
                     std::string(CreditCode(7).text()) +
                     R"(","reason":"performed","at":"2026-06-05T00:00:00+08:00"})"});
  dir.WriteDelta(3, {OrgCaseLine(CreditCode(7), "（2026）黑04执71号")});
  DeltaReport report;
  const std::unique_ptr<const Overlay> overlay = ApplyDeltaDir(*base, dir.path(), &report).value();
  const ListView list(*base, overlay.get());
  const int64_t now = DayStart(20260610);
  const std::unique_ptr<const Snapshot> compacted =
      Compact(list, {.now = now, .history_days = 1}).value();
  const ListView folded(*compacted);
  ExpectSameAnswers(list, folded, PersonId(1), {now - kDay + 1, now - 3600, now});
  ExpectSameAnswers(list, folded, CreditCode(7), {now - kDay + 1, now - 3600, now});
  EXPECT_EQ(folded.ListingAt(folded.Find(PersonId(1)), now)->from, DayStart(20180713));
  EXPECT_EQ(folded.ListingAt(folded.Find(CreditCode(7)), now)->from, DayStart(20260601));
  EXPECT_EQ(compacted->CaseCount(compacted->Find(PersonId(1))), 2u);
  EXPECT_EQ(compacted->history_from(), now - kDay);
}

// Compaction never folds past a bad file or a gap, and names it.
TEST(CompactionTest, ARefusedFileOrAGapStopsIt) {
  const std::unique_ptr<const Snapshot> base = SmallBase();
  DeltaReport report;
  {
    const TempDir dir("refused");
    dir.WriteDelta(1,
                   {RoleLine("relate", CreditCode(1), PersonId(5), "2026-06-01T09:00:00+08:00")});
    dir.WriteDelta(2, {RoleLine("relate", CreditCode(1), PersonId(6), "2026-06-01T09:00:00+08:00"),
                       R"({"op":"remove","caseCode":"c","cardNum":"x"})"});
    const absl::Status s = ApplyDeltaDir(*base, dir.path(), &report).status();
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_NE(s.message().find("00000000000000000002.ndjson:2"), absl::string_view::npos) << s;
  }
  {
    const TempDir dir("gap");
    dir.WriteDelta(1,
                   {RoleLine("relate", CreditCode(1), PersonId(5), "2026-06-01T09:00:00+08:00")});
    dir.WriteDelta(3,
                   {RoleLine("relate", CreditCode(1), PersonId(6), "2026-06-01T09:00:00+08:00")});
    const absl::Status s = ApplyDeltaDir(*base, dir.path(), &report).status();
    EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
    EXPECT_NE(s.message().find("00000000000000000002.ndjson is missing"), absl::string_view::npos)
        << s;
  }
  // A delta the list refuses (a correct of an unknown case).
  {
    const TempDir dir("contradiction");
    dir.WriteDelta(1, {absl::StrFormat(R"({"op":"correct","caseCode":"nope","iname":"张一",)"
                                       R"("cardNum":"%s","at":"2026-06-01T09:00:00+08:00"})",
                                       PersonId(1).text())});
    const absl::Status s = ApplyDeltaDir(*base, dir.path(), &report).status();
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_NE(s.message().find("00000000000000000001.ndjson:1"), absl::string_view::npos) << s;
  }
}

}  // namespace
}  // namespace shixin
