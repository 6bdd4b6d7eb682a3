#include "core/overlay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/builder.h"
#include "core/catalog.h"
#include "core/delta.h"
#include "core/list.h"
#include "core/paths.h"
#include "core/query.h"
#include "core/test_util.h"
#include "synthetic/deltas.h"
#include "synthetic/synthetic.h"

namespace shixin {
namespace {

using testing::CreditCode;
using testing::CreditCodeEmbedding;
using ::testing::HasSubstr;
using testing::MakeCase;
using testing::MakeRelation;
using ::testing::Not;
using testing::OrgCode;
using testing::PersonId;

// 2026-06-01T00:00:00+08:00 and one day.
const int64_t kJune1 = DayStart(20260601);
constexpr int64_t kDay = 86400;

// A case of `id` that counts from 2018-07-13 without a term.
CaseInput Listed(const Id& id, std::string_view name, std::string_view code) {
  CaseInput c = MakeCase(id, name, code);
  c.start = DayStart(c.publish_date);
  return c;
}

// The base: person 1 (one case), person 2 (two cases), organisation 1 listed with person 3 as
// its legal representative, organisation 2 unlisted with person 4 as director.
std::unique_ptr<const Snapshot> Base() {
  SnapshotBuilder b;
  b.AddCase(Listed(PersonId(1), "张一", "（2018）黑04执1号"));
  b.AddCase(Listed(PersonId(2), "张二", "（2018）黑04执2号"));
  b.AddCase(Listed(PersonId(2), "张二", "（2019）黑04执3号"));
  b.AddCase(Listed(CreditCode(1), "甲公司", "（2018）黑04执4号"));
  b.AddRelation(MakeRelation(CreditCode(1), PersonId(3), "张三", Role::kLegalRepresentative));
  b.AddRelation(MakeRelation(CreditCode(2), PersonId(4), "张四", Role::kDirector));
  auto snap = b.Build();
  EXPECT_TRUE(snap.ok()) << snap.status();
  return *std::move(snap);
}

DeltaChange Change(DeltaOp op, const Id& id, std::string_view code, int64_t at) {
  DeltaChange c;
  c.op = op;
  c.id = id;
  c.record.case_code = code;  // the callers' literals outlive the change
  c.at = at;
  c.reason = op == DeltaOp::kRemove ? EndReason::kPerformed : EndReason::kNone;
  return c;
}

DeltaChange Add(const Id& id, std::string_view name, std::string_view code, int64_t start) {
  DeltaChange c = Change(DeltaOp::kAdd, id, code, 0);
  CaseInput in = MakeCase(id, name, code);
  c.name = name;
  c.record = in;
  c.record.start = start;
  return c;
}

DeltaChange Role(DeltaOp op, const Id& org, const Id& person, shixin::Role role, int64_t at) {
  DeltaChange c = Change(op, person, "", at);
  c.org = org;
  c.role = role;
  c.name = "新人";
  return c;
}

Delta MakeDelta(uint64_t sequence, std::vector<DeltaChange> changes) {
  Delta d;
  d.sequence = sequence;
  d.name = DeltaFileName(sequence);
  for (size_t i = 0; i < changes.size(); ++i) changes[i].line = i + 1;
  d.changes.assign(changes.begin(), changes.end());
  return d;
}

class OverlayTest : public ::testing::Test {
 protected:
  // Applies `d` on top of the last overlay; returns the status, keeping the overlay on success.
  absl::Status Apply(const Delta& d) {
    absl::StatusOr<std::unique_ptr<const Overlay>> next =
        ApplyDelta(*base_, overlays_.empty() ? nullptr : overlays_.back().get(), d, &report_);
    if (!next.ok()) return next.status();
    overlays_.push_back(*std::move(next));
    return absl::OkStatus();
  }
  ListView View() const {
    return ListView(*base_, overlays_.empty() ? nullptr : overlays_.back().get());
  }
  bool Listed(const Id& id, int64_t t) const {
    const SubjectRef s = View().Find(id);
    return s.found() && View().IsListed(s, t);
  }
  bool Related(const Id& id, int64_t t) const {
    const SubjectRef s = View().Find(id);
    return s.found() && View().IsRelated(s, t);
  }

  std::unique_ptr<const Snapshot> base_ = Base();
  std::vector<std::unique_ptr<const Overlay>> overlays_;
  DeltaReport report_;
};

TEST_F(OverlayTest, AddListsANewSubjectFromItsStart) {
  ASSERT_TRUE(Apply(MakeDelta(1, {Add(PersonId(9), "新人", "（2026）黑04执9号", kJune1)})).ok());
  EXPECT_FALSE(Listed(PersonId(9), kJune1 - 1));
  EXPECT_TRUE(Listed(PersonId(9), kJune1));
  const CheckResult r = Check(View(), PersonId(9), kJune1 + kDay, true).value();
  EXPECT_TRUE(r.listed);
  EXPECT_EQ(r.name, "新人");
  EXPECT_EQ(r.since, kJune1);
  ASSERT_EQ(r.cases.size(), 1u);
  EXPECT_EQ(r.cases[0].case_code, "（2026）黑04执9号");
  EXPECT_EQ(overlays_.back()->sequence(), 1u);
  EXPECT_EQ(report_.changes, 1u);
  EXPECT_TRUE(report_.notes.empty());
}

// With KeepListedAt(), a delta that would unlist the last listed subjects is refused whole,
// whether they were in the base or in an earlier delta; one that leaves one listed, or one on
// a list that no longer lists anyone then (their terms ran out, not the delta), is applied.
TEST_F(OverlayTest, KeepListedAtRefusesTheDeltaThatWouldEmptyTheList) {
  const int64_t at = kJune1 + 3600;
  const auto remove = [&](const Id& id, std::string_view code) {
    return Change(DeltaOp::kRemove, id, code, kJune1);
  };
  OverlayBuilder builder(*base_, nullptr);
  builder.KeepListedAt(at);
  DeltaReport report;
  const Delta all = MakeDelta(
      1, {remove(PersonId(1), "（2018）黑04执1号"), remove(PersonId(2), "（2018）黑04执2号"),
          remove(PersonId(2), "（2019）黑04执3号"), remove(CreditCode(1), "（2018）黑04执4号")});
  const absl::Status refused = builder.Apply(all, &report);
  EXPECT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
  EXPECT_THAT(refused.message(),
              HasSubstr("00000000000000000001.ndjson: it unlists the last 3 subject(s) listed at "
                        "2026-06-01T01:00:00+08:00, leaving the list empty"));
  EXPECT_EQ(builder.sequence(), 0u);  // nothing applied
  EXPECT_EQ(report.changes, 0u);
  // All but the organisation's case, then that one alone: the second delta is refused.
  ASSERT_TRUE(builder
                  .Apply(MakeDelta(1, {remove(PersonId(1), "（2018）黑04执1号"),
                                       remove(PersonId(2), "（2018）黑04执2号"),
                                       remove(PersonId(2), "（2019）黑04执3号")}),
                         &report)
                  .ok());
  const Delta last = MakeDelta(2, {remove(CreditCode(1), "（2018）黑04执4号")});
  EXPECT_THAT(builder.Apply(last, &report).message(), HasSubstr("it unlists the last 1 subject"));
  // With a new subject listed by the same delta, the list is not empty.
  const Delta replaced = MakeDelta(2, {remove(CreditCode(1), "（2018）黑04执4号"),
                                       Add(PersonId(9), "新人", "（2026）黑04执9号", kJune1)});
  ASSERT_TRUE(builder.Apply(replaced, &report).ok());
  overlays_.push_back(builder.Finish());
  EXPECT_TRUE(View().AnyListed(at));
  // Before 2018 no one is listed: a heartbeat then empties nothing.
  OverlayBuilder early(*base_, nullptr);
  early.KeepListedAt(DayStart(20170101));
  EXPECT_TRUE(early.Apply(MakeDelta(1, {}), &report).ok());
  // Without KeepListedAt() (compile --deltas, the offline commands) nothing is refused for it.
  OverlayBuilder any(*base_, nullptr);
  EXPECT_TRUE(any.Apply(all, &report).ok());
  EXPECT_FALSE(ListView(*base_, any.Finish().get()).AnyListed(at));
}

TEST_F(OverlayTest, RemoveEndsTheCaseAtItsInstantAndAsOfStillSeesIt) {
  const int64_t at = kJune1 + 3600;
  ASSERT_TRUE(Apply(MakeDelta(1, {Change(DeltaOp::kRemove, PersonId(1), "(2018)黑04执1号", at)}))
                  .ok());  // ASCII brackets name the same case
  EXPECT_TRUE(Listed(PersonId(1), at - 1));
  EXPECT_FALSE(Listed(PersonId(1), at));
  const CheckResult before = Check(View(), PersonId(1), at - 1, true).value();
  ASSERT_EQ(before.cases.size(), 1u);
  EXPECT_EQ(before.cases[0].end, EndReason::kPerformed);
  EXPECT_EQ(before.cases[0].ended_at, at);
  EXPECT_EQ(before.until, at);
  const CheckResult after = Check(View(), PersonId(1), at, true).value();
  EXPECT_FALSE(after.listed);
  EXPECT_TRUE(after.cases.empty());
  EXPECT_EQ(after.name, "");  // the index keeps it, but off the list no answer names it
  EXPECT_EQ(before.name, "张一");
}

// The court's removal names the case as the export may not: a case number with spaces around
// it or full-width digits is the same case, in the base list and in a delta alike.
TEST_F(OverlayTest, RemoveFindsTheCaseWrittenWithSpacesOrFullWidthDigits) {
  SnapshotBuilder b;
  b.AddCase(shixin::Listed(PersonId(1), "王一", "（2020）黑0403执567号 "));
  b.AddCase(shixin::Listed(PersonId(2), "王二", "（２０２０）黑０４０３执５６８号"));
  b.AddCase(shixin::Listed(PersonId(3), "王三", "（2020）黑0403执569号"));
  base_ = *b.Build();
  ASSERT_TRUE(
      Apply(MakeDelta(
                1, {Change(DeltaOp::kRemove, PersonId(1), "（2020）黑0403执567号", kJune1),
                    Change(DeltaOp::kRevoke, PersonId(2), "(2020)黑0403执568号\t", kJune1),
                    Change(DeltaOp::kRemove, PersonId(3), " （２０２０）黑0403执569号", kJune1)}))
          .ok());
  EXPECT_TRUE(report_.notes.empty());
  for (int n = 1; n <= 3; ++n) {
    EXPECT_TRUE(Listed(PersonId(n), kJune1 - 1)) << n;
    EXPECT_FALSE(Listed(PersonId(n), kJune1)) << n;
  }
  DeltaChange correct = Add(PersonId(3), "王三", "（2020）黑0403执569号", kJune1);
  correct.op = DeltaOp::kCorrect;
  correct.at = kJune1 + kDay;
  EXPECT_THAT(Apply(MakeDelta(2, {correct})).message(),
              HasSubstr(" was removed (performed) at 2026-06-01T00:00:00+08:00: a correct applies "
                        "only to a case on the list; to list it again, send an add"));
  ASSERT_TRUE(
      Apply(MakeDelta(2, {Add(PersonId(3), "王三", "(2020)黑0403执569号 ", kJune1 + kDay)})).ok());
  correct.record.case_code = "（２０２０）黑0403执569号";
  ASSERT_TRUE(Apply(MakeDelta(3, {correct})).ok());
  EXPECT_TRUE(Listed(PersonId(3), kJune1 + 2 * kDay));
  EXPECT_EQ(Check(View(), PersonId(3), kJune1 + 2 * kDay, true).value().cases.size(), 1u);
}

// A base compiled before an export's repeated lines were merged holds a case twice: the court's
// removal, revocation or correction of the case is one of every copy.
TEST_F(OverlayTest, AChangeOfACaseTheBaseHoldsTwiceChangesBoth) {
  SnapshotBuilder b;
  for (int n = 1; n <= 3; ++n) {
    b.AddCase(shixin::Listed(PersonId(n), "重复", "（2019）黑0402执13号"));
    b.AddCase(shixin::Listed(PersonId(n), "重复", "（2019）黑0402执13号"));
  }
  base_ = *b.Build();
  DeltaChange correct = Add(PersonId(3), "重复", "（2019）黑0402执13号", kJune1);
  correct.op = DeltaOp::kCorrect;
  correct.at = kJune1;
  correct.record.duty = "更正";
  ASSERT_TRUE(
      Apply(MakeDelta(1, {Change(DeltaOp::kRemove, PersonId(1), "（2019）黑0402执13号", kJune1),
                          Change(DeltaOp::kRevoke, PersonId(2), "（2019）黑0402执13号", kJune1),
                          correct}))
          .ok());
  EXPECT_TRUE(report_.notes.empty());
  EXPECT_TRUE(Listed(PersonId(1), kJune1 - 1));
  EXPECT_FALSE(Listed(PersonId(1), kJune1));
  EXPECT_FALSE(Listed(PersonId(2), kJune1));
  const CheckResult corrected = Check(View(), PersonId(3), kJune1, true).value();
  ASSERT_EQ(corrected.cases.size(), 1u);
  EXPECT_EQ(corrected.cases[0].duty, "更正");
  // The case ends once: a second removal finds nothing to end.
  ASSERT_TRUE(
      Apply(MakeDelta(2, {Change(DeltaOp::kRemove, PersonId(1), "（2019）黑0402执13号", kJune1)}))
          .ok());
  ASSERT_EQ(report_.notes.size(), 1u);
  EXPECT_THAT(report_.notes[0], HasSubstr("removed from"));
}

TEST_F(OverlayTest, ASubjectWithAnotherCaseStaysListed) {
  ASSERT_TRUE(
      Apply(MakeDelta(1, {Change(DeltaOp::kRemove, PersonId(2), "（2018）黑04执2号", kJune1)}))
          .ok());
  EXPECT_TRUE(Listed(PersonId(2), kJune1 + kDay));
  EXPECT_EQ(Check(View(), PersonId(2), kJune1 + kDay, true).value().cases.size(), 1u);
}

TEST_F(OverlayTest, RevokeIsFlaggedInEarlierAnswers) {
  ASSERT_TRUE(
      Apply(MakeDelta(1, {Change(DeltaOp::kRevoke, PersonId(1), "（2018）黑04执1号", kJune1)}))
          .ok());
  EXPECT_FALSE(Listed(PersonId(1), kJune1));
  const CheckResult before = Check(View(), PersonId(1), kJune1 - kDay, true).value();
  ASSERT_EQ(before.cases.size(), 1u);
  EXPECT_EQ(before.cases[0].end, EndReason::kRevoked);
  EXPECT_EQ(before.cases[0].ended_at, kJune1);
}

TEST_F(OverlayTest, CorrectReplacesTheCaseFromItsInstantWithoutABreak) {
  DeltaChange correct = Add(PersonId(1), "张一", "（2018）黑04执1号", kJune1);
  correct.op = DeltaOp::kCorrect;
  correct.at = kJune1;
  correct.record.duty = "更正后的义务";
  ASSERT_TRUE(Apply(MakeDelta(1, {correct})).ok());
  const CheckResult before = Check(View(), PersonId(1), kJune1 - 1, true).value();
  const CheckResult after = Check(View(), PersonId(1), kJune1, true).value();
  ASSERT_EQ(before.cases.size(), 1u);
  ASSERT_EQ(after.cases.size(), 1u);
  EXPECT_EQ(before.cases[0].end, EndReason::kCorrected);
  EXPECT_EQ(before.cases[0].duty, "");
  EXPECT_EQ(after.cases[0].duty, "更正后的义务");
  // One unbroken listing: since is the original publication, before and after.
  EXPECT_EQ(before.since, DayStart(20180713));
  EXPECT_EQ(after.since, DayStart(20180713));
}

// A correct that renames the subject renames it at once (one name, no history), and says so;
// one that keeps the name says nothing of it.
TEST_F(OverlayTest, ACorrectThatRenamesTheSubjectIsNoted) {
  const int64_t later = kJune1 + 10 * kDay;
  DeltaChange renamed = Add(PersonId(1), "张更正", "（2018）黑04执1号", kJune1);
  renamed.op = DeltaOp::kCorrect;
  renamed.at = later;
  DeltaChange same = Add(PersonId(2), "张二", "（2018）黑04执2号", kJune1);
  same.op = DeltaOp::kCorrect;
  same.at = later;
  ASSERT_TRUE(Apply(MakeDelta(1, {renamed, same})).ok());
  ASSERT_EQ(report_.notes.size(), 1u);
  EXPECT_EQ(report_.notes[0],
            "00000000000000000001.ndjson:1: correct: case （2018）黑04执1号 of " +
                PersonId(1).Masked() +
                ": the correction renames the subject at once, in every answer now and as of any "
                "instant, not from 2026-06-11T00:00:00+08:00 (a name has no history)");
  EXPECT_EQ(Check(View(), PersonId(1), kJune1, false).value().name, "张更正");
}

// A correct whose new version never counts (its term ended before `at`), or counts only from
// a later publishDate, takes the case off the list from `at`, and is noted as an add would be.
TEST_F(OverlayTest, ACorrectWhoseVersionDoesNotCountIsNoted) {
  DeltaChange ended = Add(PersonId(1), "张一", "（2018）黑04执1号", 0);
  ended.op = DeltaOp::kCorrect;
  ended.at = kJune1;
  ended.record.start = DayStart(ended.record.publish_date);
  ended.record.term_end = 20260520;
  DeltaChange ahead = Add(PersonId(2), "张二", "（2018）黑04执2号", 0);
  ahead.op = DeltaOp::kCorrect;
  ahead.at = kJune1;
  ahead.record.publish_date = 20260620;
  ahead.record.start = DayStart(20260620);
  ASSERT_TRUE(Apply(MakeDelta(1, {ended, ahead})).ok());
  ASSERT_EQ(report_.notes.size(), 2u);
  EXPECT_EQ(report_.notes[0], "00000000000000000001.ndjson:1: correct: case （2018）黑04执1号 of " +
                                  PersonId(1).Masked() +
                                  ": its term ended on 2026-05-20: it never counts");
  EXPECT_EQ(report_.notes[1],
            "00000000000000000001.ndjson:2: correct: case （2018）黑04执2号 of " +
                PersonId(2).Masked() +
                ": the corrected version counts from 2026-06-20T00:00:00+08:00 (its publishDate), "
                "not from 2026-06-01T00:00:00+08:00: the case does not count between");
  EXPECT_FALSE(Listed(PersonId(1), kJune1));
  EXPECT_TRUE(Listed(PersonId(1), kJune1 - 1));
}

// A late change that changed nothing (an unrelate before the role began, a remove of a case
// removed already) gets the note saying so, not one saying that as-of answers change.
TEST_F(OverlayTest, ALateChangeThatChangedNothingIsNotNotedAsLate) {
  const Delta d = MakeDelta(
      1, {Role(DeltaOp::kRelate, CreditCode(1), PersonId(5), Role::kDirector, kJune1),
          Role(DeltaOp::kUnrelate, CreditCode(1), PersonId(5), Role::kDirector, kJune1 - kDay),
          Change(DeltaOp::kRemove, PersonId(1), "（2018）黑04执1号", kJune1 - kDay),
          Change(DeltaOp::kRemove, PersonId(1), "（2018）黑04执1号", kJune1 - kDay)});
  ASSERT_TRUE(Apply(d).ok());
  ASSERT_EQ(report_.notes.size(), 2u);
  EXPECT_THAT(report_.notes[0], HasSubstr(":2: unrelate: "));
  EXPECT_THAT(report_.notes[0], HasSubstr(": nothing to end"));
  EXPECT_THAT(report_.notes[1], HasSubstr(":4: remove: "));
  EXPECT_EQ(report_.unchanged, (std::vector<std::pair<uint64_t, uint64_t>>{{1, 2}, {1, 4}}));
  const std::vector<std::string> late = LateChangeNotes(d, kJune1 + 7 * kDay, report_.unchanged);
  ASSERT_EQ(late.size(), 1u);  // the first remove only
  EXPECT_THAT(late[0], HasSubstr(":3: remove: "));
  EXPECT_TRUE(Related(PersonId(5), kJune1));
}

// A case published before 1970 (its start before the epoch) is listed "since ever" (0) by the
// base, and still once a delta has touched the subject: the stretch's start is the same.
TEST_F(OverlayTest, AStretchBegunBefore1970StartsAt0WithOrWithoutTheOverlay) {
  SnapshotBuilder b;
  CaseInput old = MakeCase(PersonId(1), "张一", "（2018）黑04执1号");
  old.publish_date = 19691231;
  old.start = DayStart(old.publish_date);
  ASSERT_LT(old.start, 0);
  b.AddCase(old);
  base_ = b.Build().value();
  const int64_t now = kJune1;
  EXPECT_EQ(ListView(*base_).ListingAt(ListView(*base_).Find(PersonId(1)), now)->from, 0);
  ASSERT_TRUE(
      Apply(MakeDelta(1, {Change(DeltaOp::kRemove, PersonId(1), "（2018）黑04执1号", now + kDay)}))
          .ok());
  const ListView view = View();
  const std::optional<Interval> listing = view.ListingAt(view.Find(PersonId(1)), now);
  ASSERT_TRUE(listing.has_value());
  EXPECT_EQ(*listing, (Interval{0, now + kDay}));
  EXPECT_EQ(Check(view, PersonId(1), now, true).value().since, 0);
}

// A change of a case whose `at` is before the case's last correction applies at that
// correction, where the version before it ended already, and is noted: in one file or two.
TEST_F(OverlayTest, AChangeBeforeTheCasesLastCorrectionAppliesAtItWithANote) {
  constexpr std::string_view kCode = "（2018）黑04执1号";
  const int64_t nine = kJune1 + 9 * 3600, ten = kJune1 + 10 * 3600;
  const auto correct = [&](int64_t at, std::string_view duty) {
    DeltaChange c = Add(PersonId(1), "张一", kCode, at);  // start: `at`, as the parser makes it
    c.op = DeltaOp::kCorrect;
    c.at = at;
    c.record.duty = duty;
    return c;
  };
  ASSERT_TRUE(Apply(MakeDelta(1, {correct(ten, "十点")})).ok());
  ASSERT_TRUE(Apply(MakeDelta(2, {correct(nine, "九点")})).ok());
  ASSERT_EQ(report_.notes.size(), 1u);
  EXPECT_EQ(report_.notes[0],
            absl::StrCat(DeltaFileName(2), ":1: correct: case ", std::string(kCode), " of ",
                         PersonId(1).Masked(),
                         ": at 2026-06-01T09:00:00+08:00 is before its correction at "
                         "2026-06-01T10:00:00+08:00: applied at 2026-06-01T10:00:00+08:00"));
  // 09:30 sees the base's version only, 10:00 the last correction's.
  const CheckResult half_past = Check(View(), PersonId(1), nine + 1800, true).value();
  ASSERT_EQ(half_past.cases.size(), 1u);
  EXPECT_EQ(half_past.cases[0].duty, "");
  const CheckResult at_ten = Check(View(), PersonId(1), ten, true).value();
  ASSERT_EQ(at_ten.cases.size(), 1u);
  EXPECT_EQ(at_ten.cases[0].duty, "九点");

  report_ = DeltaReport();
  ASSERT_TRUE(Apply(MakeDelta(3, {correct(ten + 3600, "十一点"),
                                  Change(DeltaOp::kRemove, PersonId(1), kCode, ten)}))
                  .ok());
  ASSERT_EQ(report_.notes.size(), 1u);
  EXPECT_THAT(report_.notes[0], HasSubstr(":2: remove: case "));
  EXPECT_THAT(report_.notes[0], HasSubstr("applied at 2026-06-01T11:00:00+08:00"));
  EXPECT_TRUE(Listed(PersonId(1), ten + 3599));
  EXPECT_FALSE(Listed(PersonId(1), ten + 3600));
  const CheckResult before = Check(View(), PersonId(1), ten + 3599, true).value();
  EXPECT_EQ(before.until, ten + 3600);  // the removal, at the correction
}

// A remove dated before the case's correction ends the case at the correction: the version the
// correction replaced, which answers about the instants before show, ends by the removal and its
// reason (finding 7 of /tmp/x31), not as "corrected", which alone never ends a listing.
TEST_F(OverlayTest, ARemoveAppliedAtACorrectionEndsTheReplacedVersionAsRemoved) {
  constexpr std::string_view kCode = "（2018）黑04执1号";
  const int64_t nine = kJune1 + 9 * 3600, ten = kJune1 + 10 * 3600;
  DeltaChange correct = Add(PersonId(1), "张一", kCode, ten);
  correct.op = DeltaOp::kCorrect;
  correct.at = ten;
  ASSERT_TRUE(Apply(MakeDelta(1, {correct})).ok());
  DeltaChange remove = Change(DeltaOp::kRemove, PersonId(1), kCode, nine);
  remove.reason = EndReason::kNoAssets;
  ASSERT_TRUE(Apply(MakeDelta(2, {remove})).ok());
  const CheckResult half_past = Check(View(), PersonId(1), nine + 1800, true).value();
  EXPECT_EQ(half_past.until, ten);
  ASSERT_EQ(half_past.cases.size(), 1u);
  EXPECT_EQ(half_past.cases[0].ended_at, ten);
  EXPECT_EQ(half_past.cases[0].end, EndReason::kNoAssets);
  EXPECT_FALSE(Listed(PersonId(1), ten));
  // A correction after it is refused: every version has ended.
  EXPECT_FALSE(Apply(MakeDelta(3, {correct})).ok());
  // Likewise a revoke: the replaced version ends as revoked.
  constexpr std::string_view kOther = "（2018）黑04执2号";
  DeltaChange correct_other = Add(PersonId(2), "张二", kOther, ten);
  correct_other.op = DeltaOp::kCorrect;
  correct_other.at = ten;
  ASSERT_TRUE(
      Apply(MakeDelta(3, {correct_other, Change(DeltaOp::kRevoke, PersonId(2), kOther, nine)}))
          .ok());
  const CheckResult other = Check(View(), PersonId(2), nine + 1800, true).value();
  ASSERT_EQ(other.cases.size(), 2u);
  const auto revoked = std::find_if(other.cases.begin(), other.cases.end(),
                                    [&](const CaseInfo& c) { return c.case_code == kOther; });
  ASSERT_NE(revoked, other.cases.end());
  EXPECT_EQ(revoked->ended_at, ten);
  EXPECT_EQ(revoked->end, EndReason::kRevoked);
}

// A remove of a case revoked from a later instant on says so, not that the case is unknown.
TEST_F(OverlayTest, ARemoveOfACaseRevokedLaterSaysSo) {
  constexpr std::string_view kCode = "（2018）黑04执1号";
  ASSERT_TRUE(Apply(MakeDelta(1, {Change(DeltaOp::kRevoke, PersonId(1), kCode, kJune1 + kDay),
                                  Change(DeltaOp::kRemove, PersonId(1), kCode, kJune1)}))
                  .ok());
  ASSERT_EQ(report_.notes.size(), 1u);
  EXPECT_THAT(report_.notes[0],
              HasSubstr("is revoked from 2026-06-02T00:00:00+08:00 on already: nothing to end"));
}

// An add of a case whose removal is still to come starts where that removal ends it: the
// case is never listed twice (the removal stays), and the add is noted.
TEST_F(OverlayTest, AnAddOfACaseWhoseRemovalIsToComeStartsAtTheRemoval) {
  constexpr std::string_view kCode = "（2018）黑04执1号";
  const int64_t removal = kJune1 + 6 * 3600, add = kJune1 + 300;
  ASSERT_TRUE(Apply(MakeDelta(1, {Change(DeltaOp::kRemove, PersonId(1), kCode, removal)})).ok());
  ASSERT_TRUE(Apply(MakeDelta(2, {Add(PersonId(1), "张一", kCode, add)})).ok());
  ASSERT_EQ(report_.notes.size(), 1u);
  EXPECT_THAT(report_.notes[0],
              HasSubstr(":1: add: case （2018）黑04执1号 of " + PersonId(1).Masked() +
                        " counts until 2026-06-01T06:00:00+08:00 by its earlier listing: listed "
                        "again from 2026-06-01T06:00:00+08:00, not 2026-06-01T00:05:00+08:00"));
  for (const int64_t t : {add, removal - 1, removal, removal + kDay}) {
    const CheckResult r = Check(View(), PersonId(1), t, true).value();
    EXPECT_TRUE(r.listed) << t;
    ASSERT_EQ(r.cases.size(), 1u) << t;
    EXPECT_EQ(r.cases[0].start, t < removal ? DayStart(20180713) : removal) << t;
  }
  EXPECT_EQ(Check(View(), PersonId(1), add, true).value().cases[0].end, EndReason::kPerformed);
}

// A re-listing of a case removed at 12:00 that counts from its old publishDate starts at the
// removal: as of 11:00 the case is listed once, as it was.
TEST_F(OverlayTest, AReListingFromAnOldPublishDateFollowsTheRemoval) {
  constexpr std::string_view kCode = "（2018）黑04执1号";
  const int64_t noon = kJune1 + 12 * 3600;
  ASSERT_TRUE(Apply(MakeDelta(1, {Change(DeltaOp::kRemove, PersonId(1), kCode, noon)})).ok());
  ASSERT_TRUE(Apply(MakeDelta(2, {Add(PersonId(1), "张一", kCode, DayStart(20170630))})).ok());
  ASSERT_EQ(report_.notes.size(), 1u);
  EXPECT_THAT(report_.notes[0], HasSubstr("listed again from 2026-06-01T12:00:00+08:00, not "
                                          "2017-06-30T00:00:00+08:00"));
  const CheckResult eleven = Check(View(), PersonId(1), noon - 3600, true).value();
  ASSERT_EQ(eleven.cases.size(), 1u);
  EXPECT_EQ(eleven.cases[0].ended_at, noon);
  const CheckResult one = Check(View(), PersonId(1), noon + 3600, true).value();
  ASSERT_EQ(one.cases.size(), 1u);
  EXPECT_EQ(one.cases[0].start, noon);
}

// A case in its grace period is on the list: an add of it again is refused, saying from when
// it counts; an add whose term has ended at its start is applied and noted.
TEST_F(OverlayTest, AnAddSaysWhenTheCaseCountsOrThatItNeverDoes) {
  const int64_t later = kJune1 + 10 * kDay;
  ASSERT_TRUE(Apply(MakeDelta(1, {Add(PersonId(9), "新人", "c9", later)})).ok());
  const absl::Status s = Apply(MakeDelta(2, {Add(PersonId(9), "新人", "c9", kJune1)}));
  EXPECT_THAT(s.message(), HasSubstr(":1: add: case c9 of " + PersonId(9).Masked() +
                                     " is on the list already (counting from "
                                     "2026-06-11T00:00:00+08:00)"));
  DeltaChange ended = Add(PersonId(8), "新人", "c8", kJune1);
  ended.record.term_end = 20260531;
  ASSERT_TRUE(Apply(MakeDelta(2, {ended})).ok());
  ASSERT_EQ(report_.notes.size(), 1u);
  EXPECT_THAT(report_.notes[0], HasSubstr(":1: add: case c8 of " + PersonId(8).Masked() +
                                          ": its term ended on 2026-05-31: it never counts"));
  EXPECT_FALSE(Listed(PersonId(8), kJune1 - 1));
  EXPECT_FALSE(Listed(PersonId(8), kJune1));
}

// A remove whose `at` is before its case version counts ends it at its start, and a correct
// before it starts the new version there: both noted. A revoke before it stands.
TEST_F(OverlayTest, AChangeBeforeTheVersionCountsAppliesAtItsStartWithANote) {
  const int64_t start = kJune1 + 3600;
  ASSERT_TRUE(Apply(MakeDelta(1, {Add(PersonId(9), "新人", "c9", start),
                                  Add(PersonId(8), "新人", "c8", start),
                                  Add(PersonId(7), "新人", "c7", start)}))
                  .ok());
  DeltaChange correct = Add(PersonId(9), "新人", "c9", kJune1);  // start: `at`, as parsed
  correct.op = DeltaOp::kCorrect;
  correct.at = kJune1;
  correct.record.duty = "更正后的义务";
  ASSERT_TRUE(Apply(MakeDelta(2, {correct, Change(DeltaOp::kRemove, PersonId(8), "c8", kJune1),
                                  Change(DeltaOp::kRevoke, PersonId(7), "c7", kJune1)}))
                  .ok());
  ASSERT_EQ(report_.notes.size(), 2u);
  for (const std::string& note : report_.notes) {
    EXPECT_THAT(note, HasSubstr(": at 2026-06-01T00:00:00+08:00 is before it counts from "
                                "2026-06-01T01:00:00+08:00: applied at 2026-06-01T01:00:00+08:00"));
  }
  EXPECT_THAT(report_.notes[0], HasSubstr(":1: correct: case c9 of "));
  EXPECT_THAT(report_.notes[1], HasSubstr(":2: remove: case c8 of "));
  EXPECT_FALSE(Listed(PersonId(9), start - 1));  // the correction did not move the start back
  const CheckResult r = Check(View(), PersonId(9), start, true).value();
  ASSERT_EQ(r.cases.size(), 1u);
  EXPECT_EQ(r.cases[0].duty, "更正后的义务");
  EXPECT_EQ(r.cases[0].start, start);
  EXPECT_FALSE(Listed(PersonId(8), start));
  EXPECT_FALSE(Listed(PersonId(7), start));
}

// A correct replaces the whole record: the keys it leaves out that the replaced version had
// are named in a note.
DeltaChange RemoveFor(const Id& id, std::string_view code, int64_t at, EndReason reason) {
  DeltaChange c = Change(DeltaOp::kRemove, id, code, at);
  c.reason = reason;
  return c;
}

// SPC rules Art. 2, 10: a removal because the term ended, of a case without a term or before
// its term ends (its last day included), is noted and applied.
TEST_F(OverlayTest, ARemovalForAnEndedTermThatHasNotEndedIsNoted) {
  DeltaChange running = Add(PersonId(9), "新人", "c9", kJune1);
  running.record.term_end = 20270109;
  DeltaChange last_day = Add(PersonId(8), "新人", "c8", kJune1);
  last_day.record.term_end = 20260610;
  ASSERT_TRUE(Apply(MakeDelta(1, {running, last_day})).ok());
  const int64_t at = kJune1 + 3 * kDay + 10 * 3600;
  ASSERT_TRUE(
      Apply(MakeDelta(
                2, {RemoveFor(PersonId(1), "（2018）黑04执1号", at, EndReason::kTermEnded),
                    RemoveFor(PersonId(9), "c9", at, EndReason::kTermEnded),
                    RemoveFor(PersonId(8), "c8", DayStart(20260610) + 3600, EndReason::kTermEnded),
                    RemoveFor(PersonId(2), "（2018）黑04执2号", at, EndReason::kPerformed)}))
          .ok());
  ASSERT_EQ(report_.notes.size(), 3u);
  EXPECT_EQ(report_.notes[2], "00000000000000000002.ndjson:3: remove: case c8 of " +
                                  PersonId(8).Masked() +
                                  ": removed as term_ended at 2026-06-10T01:00:00+08:00, but its "
                                  "term runs until 2026-06-10 (SPC rules Art. 10)");
  EXPECT_EQ(report_.notes[0],
            "00000000000000000002.ndjson:1: remove: case （2018）黑04执1号 of " +
                PersonId(1).Masked() +
                ": removed as term_ended at 2026-06-04T10:00:00+08:00, but it has no fixed term "
                "(SPC rules Art. 2, 10)");
  EXPECT_EQ(report_.notes[1], "00000000000000000002.ndjson:2: remove: case c9 of " +
                                  PersonId(9).Masked() +
                                  ": removed as term_ended at 2026-06-04T10:00:00+08:00, but its "
                                  "term runs until 2027-01-09 (SPC rules Art. 10)");
  // Applied all the same.
  EXPECT_FALSE(Listed(PersonId(1), at));
  EXPECT_FALSE(Listed(PersonId(9), at));
  EXPECT_TRUE(Listed(PersonId(9), at - 1));
  EXPECT_EQ(Check(View(), PersonId(9), at - 1, true).value().cases[0].end, EndReason::kTermEnded);
}

// SPC rules Art. 10: a subject listed again less than 6 months after a deletion at the
// creditor's request is noted (the add applies: the court decides); after 6 months, or after a
// deletion on another ground, it is not.
TEST_F(OverlayTest, AReListingWithin6MonthsOfACreditorRequestDeletionIsNoted) {
  const int64_t removed = kJune1 + 10 * 3600;  // 2026-06-01T10:00:00+08:00
  ASSERT_TRUE(
      Apply(
          MakeDelta(
              1, {RemoveFor(PersonId(1), "（2018）黑04执1号", removed, EndReason::kCreditorRequest),
                  RemoveFor(PersonId(2), "（2018）黑04执2号", removed, EndReason::kPerformed)}))
          .ok());
  const int64_t early = DayStart(20261201) + 10 * 3600 - 1;  // a second short of 6 months
  ASSERT_TRUE(Apply(MakeDelta(2, {Add(PersonId(1), "张一", "c1", kJune1 + 30 * kDay),
                                  Add(PersonId(1), "张一", "（2018）黑04执1号", early),
                                  Add(PersonId(1), "张一", "c2", early + 1),
                                  Add(PersonId(2), "张二", "c3", kJune1 + 30 * kDay)}))
                  .ok());
  ASSERT_EQ(report_.notes.size(), 2u);
  const std::string id = PersonId(1).Masked();
  EXPECT_EQ(report_.notes[0], "00000000000000000002.ndjson:1: add: " + id +
                                  " is listed again from 2026-07-01T00:00:00+08:00, less than 6 "
                                  "months after case （2018）黑04执1号 was deleted at the "
                                  "creditor's request at 2026-06-01T10:00:00+08:00 (SPC rules "
                                  "Art. 10: not before 2026-12-01T10:00:00+08:00)");
  EXPECT_THAT(report_.notes[1], HasSubstr(":2: add: " + id +
                                          " is listed again from "
                                          "2026-12-01T09:59:59+08:00, less than 6 months"));
  EXPECT_TRUE(Listed(PersonId(1), kJune1 + 30 * kDay));
  // 6 months after 31 August is the end of February (2027-02-28).
  const int64_t august31 = DayStart(20260831) + 10 * 3600;
  const int64_t february28 = DayStart(20270228) + 10 * 3600;
  ASSERT_TRUE(Apply(MakeDelta(3, {RemoveFor(PersonId(2), "（2019）黑04执3号", august31,
                                            EndReason::kCreditorRequest),
                                  Add(PersonId(2), "张二", "c4", february28 - 1),
                                  Add(PersonId(2), "张二", "c5", february28)}))
                  .ok());
  ASSERT_EQ(report_.notes.size(), 3u);
  EXPECT_THAT(report_.notes[2], HasSubstr(":2: add: " + PersonId(2).Masked() +
                                          " is listed again from 2027-02-28T09:59:59+08:00"));
  EXPECT_THAT(report_.notes[2], HasSubstr("not before 2027-02-28T10:00:00+08:00)"));
}

TEST_F(OverlayTest, ACorrectThatEmptiesFieldsNamesThem) {
  DeltaChange correct = Add(PersonId(1), "张一", "（2018）黑04执1号", kJune1);
  correct.op = DeltaOp::kCorrect;
  correct.at = kJune1;
  correct.record.area = "";
  correct.record.disrupt_type = "";
  correct.record.reg_date = 0;
  ASSERT_TRUE(Apply(MakeDelta(1, {correct})).ok());
  ASSERT_EQ(report_.notes.size(), 1u);
  EXPECT_THAT(report_.notes[0],
              HasSubstr(":1: correct: case （2018）黑04执1号 of " + PersonId(1).Masked() +
                        ": the correction empties areaName, regDate, disruptTypeName (a correct "
                        "replaces the whole record)"));
  const CheckResult r = Check(View(), PersonId(1), kJune1, true).value();
  ASSERT_EQ(r.cases.size(), 1u);
  EXPECT_EQ(r.cases[0].area, "");
}

// A file's adds and corrects for grounds (2)-(6) only without termEnd count on as the court
// has them, and one note says so with their count; ground (1) or a term is not noted.
TEST_F(OverlayTest, AddsAndCorrectsForFixedTermGroundsWithoutATermEndAreNotedOnce) {
  const auto termless = [](DeltaChange c, std::string_view grounds) {
    c.record.disrupt_type = grounds;
    return c;
  };
  DeltaChange with_term = termless(Add(PersonId(7), "新人", "c7", kJune1), "违反财产报告制度");
  with_term.record.term_end = 20280531;
  DeltaChange correct = termless(Add(PersonId(1), "张一", "（2018）黑04执1号", kJune1),
                                 "违反限制消费令,违反财产报告制度");
  correct.op = DeltaOp::kCorrect;
  correct.at = kJune1;
  ASSERT_TRUE(
      Apply(
          MakeDelta(1, {Add(PersonId(9), "新人", "c9", kJune1), with_term,
                        termless(Add(PersonId(8), "新人", "c8", kJune1), "违反限制消费令"), correct,
                        termless(Add(PersonId(6), "新人", "c6", kJune1),
                                 "有履行能力而拒不履行生效法律文书确定义务,违反限制消费令")}))
          .ok());
  ASSERT_EQ(report_.notes.size(), 1u);
  EXPECT_EQ(report_.notes[0],
            "00000000000000000001.ndjson:3: 2 cases for grounds (2)-(6) only have no termEnd: "
            "they count until the court removes them, though SPC rules Art. 2 give such a "
            "listing 2 years (c8 since 2026-06-01, （2018）黑04执1号 since 2026-06-01)");
  const int64_t later = DayStart(20300101);
  EXPECT_TRUE(Listed(PersonId(8), later));
  EXPECT_TRUE(Listed(PersonId(1), later));
  EXPECT_FALSE(Listed(PersonId(7), later));  // its term ended
  // Without them, nothing is noted.
  ASSERT_TRUE(Apply(MakeDelta(2, {Add(PersonId(5), "新人", "c5", kJune1)})).ok());
  EXPECT_EQ(report_.notes.size(), 1u);
}

TEST_F(OverlayTest, RolesRelateAndUnrelateAtTheirInstants) {
  ASSERT_TRUE(Apply(MakeDelta(1, {Role(DeltaOp::kRelate, CreditCode(1), PersonId(8),
                                       Role::kPrincipal, kJune1)}))
                  .ok());
  EXPECT_FALSE(Related(PersonId(8), kJune1 - 1));
  EXPECT_TRUE(Related(PersonId(8), kJune1));
  EXPECT_EQ(View().Name(View().Find(PersonId(8))), "新人");
  // The organisation's officers now include it.
  const CheckResult org = Check(View(), CreditCode(1), kJune1, true).value();
  EXPECT_EQ(org.officers.size(), 2u);
  ASSERT_TRUE(Apply(MakeDelta(2, {Role(DeltaOp::kUnrelate, CreditCode(1), PersonId(3),
                                       Role::kLegalRepresentative, kJune1 + kDay)}))
                  .ok());
  EXPECT_TRUE(Related(PersonId(3), kJune1));
  EXPECT_FALSE(Related(PersonId(3), kJune1 + kDay));
  // The earlier generation still answers as it did.
  const ListView first(*base_, overlays_[0].get());
  EXPECT_TRUE(first.IsRelated(first.Find(PersonId(3)), kJune1 + kDay));
}

TEST_F(OverlayTest, AnUnchangedPersonFollowsItsOrganisationsChanges) {
  // Person 3 is not touched: its base links lead to the organisation's new state.
  ASSERT_TRUE(
      Apply(MakeDelta(1, {Change(DeltaOp::kRemove, CreditCode(1), "（2018）黑04执4号", kJune1)}))
          .ok());
  EXPECT_EQ(View().Find(PersonId(3)).changed, nullptr);
  EXPECT_TRUE(Related(PersonId(3), kJune1 - 1));
  EXPECT_FALSE(Related(PersonId(3), kJune1));
  // And measures by the relation follow.
  absl::StatusOr<Catalog> catalog = Catalog::LoadFile(DefaultCatalogPath());
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  MeasureQuery q;
  q.at = kJune1 - 1;
  EXPECT_FALSE(Measures(View(), *catalog, PersonId(3), q).value().measures.empty());
  q.at = kJune1;
  EXPECT_TRUE(Measures(View(), *catalog, PersonId(3), q).value().measures.empty());
}

TEST_F(OverlayTest, ContradictionsRefuseTheWholeDelta) {
  const Delta twice = MakeDelta(1, {Add(PersonId(9), "新人", "c9", kJune1),
                                    Add(PersonId(1), "张一", "（2018）黑04执1号", kJune1)});
  absl::Status s = Apply(twice);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr(absl::StrCat("00000000000000000001.ndjson:2: add: case "
                                                  "（2018）黑04执1号 of ",
                                                  PersonId(1).Masked())));
  EXPECT_THAT(s.message(),
              HasSubstr("is on the list already (counting from 2018-07-13T00:00:00+08:00)"));
  EXPECT_TRUE(overlays_.empty());
  EXPECT_FALSE(Listed(PersonId(9), kJune1));  // line 1 was not applied either

  DeltaChange correct = Add(PersonId(1), "张一", "no such case", kJune1);
  correct.op = DeltaOp::kCorrect;
  correct.at = kJune1;
  s = Apply(MakeDelta(1, {correct}));
  EXPECT_THAT(
      s.message(),
      HasSubstr(
          ":1: correct: case no such case of " + PersonId(1).Masked() +
          " is unknown: a correct applies only to a case on the list; to list it, send an add"));
  // The daemon logs refusals and shows them in INFO and on /status: no ID in full.
  EXPECT_THAT(s.message(), Not(HasSubstr(PersonId(1).text())));

  // A correct of a removed case, within one delta.
  s = Apply(MakeDelta(1, {Change(DeltaOp::kRemove, PersonId(1), "（2018）黑04执1号", kJune1), [&] {
                            DeltaChange c = correct;
                            c.record.case_code = "（2018）黑04执1号";
                            return c;
                          }()}));
  // It says which of unknown, removed or revoked holds, since when, and what to send instead.
  EXPECT_THAT(s.message(),
              HasSubstr(":2: correct: case （2018）黑04执1号 of " + PersonId(1).Masked() +
                        " was removed (performed) at 2026-06-01T00:00:00+08:00: a "
                        "correct applies only to a case on the list; to list it "
                        "again, send an add"));
  EXPECT_TRUE(overlays_.empty());
  s = Apply(MakeDelta(1, {Change(DeltaOp::kRevoke, PersonId(1), "（2018）黑04执1号", kJune1), [&] {
                            DeltaChange c = correct;
                            c.record.case_code = "（2018）黑04执1号";
                            return c;
                          }()}));
  EXPECT_THAT(s.message(),
              HasSubstr(":2: correct: case （2018）黑04执1号 of " + PersonId(1).Masked() +
                        " was revoked at 2026-06-01T00:00:00+08:00: a correct"));
  EXPECT_TRUE(overlays_.empty());
}

TEST_F(OverlayTest, RepeatsAreNotedNotRefused) {
  ASSERT_TRUE(Apply(MakeDelta(1, {Change(DeltaOp::kRemove, PersonId(1), "nope", kJune1),
                                  Role(DeltaOp::kRelate, CreditCode(1), PersonId(3),
                                       Role::kLegalRepresentative, kJune1),
                                  Role(DeltaOp::kUnrelate, CreditCode(2), PersonId(3),
                                       Role::kDirector, kJune1)}))
                  .ok());
  ASSERT_EQ(report_.notes.size(), 3u);
  EXPECT_THAT(report_.notes[0], HasSubstr(":1: remove: case nope of "));
  EXPECT_THAT(report_.notes[0], HasSubstr("is not in the list: nothing to end"));
  EXPECT_THAT(report_.notes[1], HasSubstr(":2: relate: "));
  EXPECT_THAT(report_.notes[1], HasSubstr("already"));
  EXPECT_THAT(report_.notes[2], HasSubstr(":3: unrelate: "));
  // Notes are logged: IDs masked, a person's and an organisation's credit code alike.
  EXPECT_THAT(report_.notes[0], HasSubstr("case nope of " + PersonId(1).Masked() + " is not"));
  EXPECT_THAT(report_.notes[1], HasSubstr(": relate: " + PersonId(3).Masked() + " is "));
  EXPECT_THAT(report_.notes[1], HasSubstr(" of " + CreditCode(1).Masked() + " already"));
  for (const std::string& note : report_.notes) {
    EXPECT_THAT(note, Not(HasSubstr(PersonId(1).text())));
    EXPECT_THAT(note, Not(HasSubstr(PersonId(3).text())));
    EXPECT_THAT(note, Not(HasSubstr(CreditCode(1).text())));
    EXPECT_THAT(note, Not(HasSubstr(CreditCode(2).text())));
  }
  EXPECT_TRUE(Listed(PersonId(1), kJune1));
}

TEST_F(OverlayTest, SequencesFollowOneAnother) {
  absl::Status s = Apply(MakeDelta(2, {}));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("delta 2 does not follow 0 (expected 1)"));
  ASSERT_TRUE(Apply(MakeDelta(1, {})).ok());
  EXPECT_EQ(Apply(MakeDelta(1, {})).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Apply(MakeDelta(2, {})).ok());
}

// The generator's delta stream, parsed and applied: every line fits the list it was written
// for (no refusal, no note), and each removal ends its case at its instant.
// The overlay's filter of its keys grows from room for a few subjects to thousands: every
// subject it holds is still found, alone and in batches (which reuse the base's hashes), and
// IDs the list never knew are not.
TEST_F(OverlayTest, BatchesFindWhatSingleLookupsFindAsTheOverlayGrows) {
  std::vector<Id> ids = {PersonId(1),   PersonId(2), PersonId(3),   PersonId(4),
                         CreditCode(1), OrgCode(1),  CreditCode(2), Id()};
  constexpr int kFiles = 30, kAdds = 70;
  std::vector<std::string> codes;  // the changes view their case codes
  codes.reserve(kFiles * kAdds);
  for (int f = 0; f < kFiles; ++f) {
    std::vector<DeltaChange> changes;
    for (int i = 0; i < kAdds; ++i) {
      const Id id = CreditCode(1000 + f * kAdds + i);
      codes.push_back(absl::StrCat("（2026）黑04执", 1000 + f * kAdds + i, "号"));
      changes.push_back(Add(id, "新公司", codes.back(), kJune1));
      ids.push_back(id);
    }
    if (f == 0) changes.push_back(Add(PersonId(1), "张一", "（2026）黑04执999号", kJune1));
    ASSERT_TRUE(Apply(MakeDelta(f + 1, std::move(changes))).ok());
  }
  ASSERT_EQ(overlays_.back()->size(), size_t{kFiles * kAdds + 1});
  for (int i = 0; i < 2000; ++i) ids.push_back(CreditCode(100'000 + i));  // never listed
  const ListView view = View();
  std::vector<SubjectRef> found(ids.size());
  std::vector<EntityNo> scratch(ids.size());
  view.FindBatch(ids, found, scratch);
  size_t changed = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_EQ(found[i], view.Find(ids[i])) << i << " " << ids[i].text();
    changed += found[i].changed != nullptr;
  }
  EXPECT_EQ(changed, size_t{kFiles * kAdds + 1});
  EXPECT_TRUE(found[0].changed != nullptr && found[0].base != kNoEntity);  // person 1, changed
  EXPECT_TRUE(found[1].changed == nullptr && found[1].base != kNoEntity);  // person 2, not
  EXPECT_FALSE(found.back().found());
}

// An organisation is one subject under both its codes (Snapshot::Find()), also when the deltas
// brought it: a case added under the old organisation code is found by the credit code
// embedding it, in a batch as alone, and a later case under the credit code joins it.
TEST_F(OverlayTest, ACreditCodeFindsTheOrganisationADeltaAddedByItsOrgCode) {
  const Id org_code = OrgCode(7);
  const Id credit = CreditCodeEmbedding(org_code);
  ASSERT_TRUE(Apply(MakeDelta(1, {Add(org_code, "戊公司", "（2026）黑04执7号", kJune1)})).ok());
  const SubjectRef s = View().Find(org_code);
  ASSERT_TRUE(s.found());
  EXPECT_EQ(View().Find(credit), s);
  EXPECT_TRUE(Listed(credit, kJune1 + kDay));
  EXPECT_FALSE(Listed(CreditCodeEmbedding(OrgCode(8)), kJune1 + kDay));
  const std::vector<Id> ids = {PersonId(1), credit, CreditCode(1), org_code, PersonId(9)};
  std::vector<SubjectRef> found(ids.size());
  std::vector<EntityNo> scratch(ids.size());
  View().FindBatch(ids, found, scratch);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(found[i], View().Find(ids[i])) << i;
  EXPECT_EQ(found[1], s);

  ASSERT_TRUE(Apply(MakeDelta(2, {Add(credit, "戊公司", "（2026）黑04执8号", kJune1),
                                  Role(DeltaOp::kRelate, credit, PersonId(8),
                                       Role::kLegalRepresentative, kJune1)}))
                  .ok());
  const SubjectRef after = View().Find(credit);
  EXPECT_EQ(View().Find(org_code), after);
  EXPECT_EQ(View().SubjectId(after), org_code);
  EXPECT_EQ(View().CaseCount(after), 2u);
  EXPECT_EQ(overlays_.back()->size(), 2u);  // the organisation and person 8
  EXPECT_TRUE(Related(PersonId(8), kJune1 + kDay));
}

// The other way: a subject a delta brought under its credit code is found by its organisation
// code, and a case or a role named by that code, in the same delta or a later one, joins it.
TEST_F(OverlayTest, AnOrgCodeFindsTheOrganisationADeltaAddedByItsCreditCode) {
  const Id credit = CreditCode(7);
  const Id org_code = credit.EmbeddedOrgCode();
  ASSERT_TRUE(Apply(MakeDelta(1, {Add(credit, "己公司", "（2026）黑04执7号", kJune1),
                                  Add(org_code, "己公司", "（2026）黑04执8号", kJune1)}))
                  .ok());
  const SubjectRef s = View().Find(org_code);
  ASSERT_TRUE(s.found());
  EXPECT_EQ(View().Find(credit), s);
  EXPECT_EQ(View().SubjectId(s), credit);
  EXPECT_EQ(View().CaseCount(s), 2u);
  ASSERT_TRUE(Apply(MakeDelta(2, {Role(DeltaOp::kRelate, org_code, PersonId(8),
                                       Role::kLegalRepresentative, kJune1)}))
                  .ok());
  EXPECT_TRUE(Related(PersonId(8), kJune1 + kDay));
  EXPECT_EQ(overlays_.back()->size(), 2u);
  CheckResult lr = Check(View(), PersonId(8), kJune1 + kDay, false).value();
  ASSERT_EQ(lr.roles.size(), 1u);
  EXPECT_EQ(lr.roles[0].id, credit.text());
}

// A base listing an organisation only by its organisation code (with its LR, person 5): a
// delta naming its credit code changes that subject, and an answer as of before the delta
// still sees the base's state.
TEST_F(OverlayTest, ADeltaByCreditCodeChangesTheOrganisationTheBaseListsByOrgCode) {
  SnapshotBuilder b;
  b.AddCase(shixin::Listed(OrgCode(1), "丙公司", "（2018）黑04执5号"));
  b.AddRelation(MakeRelation(OrgCode(1), PersonId(5), "张五", Role::kLegalRepresentative));
  base_ = *b.Build();
  const Id credit = CreditCodeEmbedding(OrgCode(1));
  const SubjectRef before = View().Find(credit);
  ASSERT_TRUE(before.found());
  EXPECT_EQ(before, View().Find(OrgCode(1)));
  EXPECT_TRUE(Listed(credit, kJune1));
  EXPECT_TRUE(Related(PersonId(5), kJune1));

  ASSERT_TRUE(
      Apply(MakeDelta(1, {Change(DeltaOp::kRemove, credit, "（2018）黑04执5号", kJune1),
                          Role(DeltaOp::kRelate, credit, PersonId(6), Role::kPrincipal, kJune1)}))
          .ok());
  EXPECT_TRUE(report_.notes.empty());
  const SubjectRef after = View().Find(credit);
  EXPECT_EQ(after.base, before.base);
  ASSERT_NE(after.changed, nullptr);
  EXPECT_EQ(View().Find(OrgCode(1)), after);
  EXPECT_FALSE(Listed(credit, kJune1 + 1));
  EXPECT_FALSE(Listed(OrgCode(1), kJune1 + 1));
  EXPECT_TRUE(Listed(credit, kJune1 - 1));
  EXPECT_TRUE(Related(PersonId(5), kJune1 - 1));
  EXPECT_FALSE(Related(PersonId(5), kJune1 + 1));
  EXPECT_EQ(overlays_.back()->size(), 2u);  // the organisation and person 6
}

TEST(OverlaySyntheticTest, GeneratedDeltasApplyCleanly) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("overlay_test_" + std::to_string(getpid())))
          .string();
  const SyntheticOptions list{.subjects = 2000, .seed = 4, .today = 20251231};
  ASSERT_TRUE(WriteSyntheticDataSet(list, dir).ok());
  ASSERT_TRUE(
      WriteSyntheticDeltas(list, {.deltas = 5, .changes_per_delta = 300}, dir + "/deltas").ok());
  SnapshotBuilder builder;
  GenerateSynthetic(
      list, [&](const CaseInput& c) { builder.AddCase(c); },
      [&](const RelationInput& r) { builder.AddRelation(r); });
  auto base = builder.Build();
  ASSERT_TRUE(base.ok());
  absl::StatusOr<std::vector<DeltaFile>> files = ListDeltaFiles(dir + "/deltas");
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 5u);
  std::unique_ptr<const Overlay> overlay;
  DeltaReport report;
  uint64_t removals = 0;
  for (const DeltaFile& f : *files) {
    absl::StatusOr<Delta> delta = ReadDelta(f.path);
    ASSERT_TRUE(delta.ok()) << delta.status();
    auto next = ApplyDelta(**base, overlay.get(), *delta, &report);
    ASSERT_TRUE(next.ok()) << next.status();
    overlay = *std::move(next);
    const ListView view(**base, overlay.get());
    for (const DeltaChange& c : delta->changes) {
      if (c.op != DeltaOp::kRemove && c.op != DeltaOp::kRevoke) continue;
      ++removals;
      CaseBuffer buffer;
      const SubjectRef s = view.Find(c.id);
      ASSERT_TRUE(s.found());
      // Only the later lines of the same file may have touched the case again (a new add).
      const auto cases = view.ReadCases(s, buffer).value();
      bool ended = false;
      for (const CaseView& v : cases) ended |= v.ended_at == c.at;
      EXPECT_TRUE(ended) << delta->name << ":" << c.line;
    }
  }
  EXPECT_TRUE(report.notes.empty()) << report.notes.front();
  EXPECT_EQ(report.changes, 1500u);
  EXPECT_GT(removals, 300u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace shixin
