#include <memory>
#include <string>
#include <vector>

#include "core/compaction.h"
#include "core/delta.h"
#include "core/overlay.h"
#include "core/query.h"
#include "core/test_util.h"
#include "daemon/handler.h"
#include "daemon/handler_test_fixture.h"
#include "daemon/handler_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/messages.h"
#include "protocol/operator_messages.h"
#include "protocol/wire.h"

namespace shixin {
namespace {

using handler_testing::Answer;
using handler_testing::HandlerTest;
using handler_testing::Payload;
using handler_testing::Sample;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Version 2 (FORMAT.md 13). The instants: the fake clock's now, and two earlier ones around
// the listing of 张秀兰 (published 2015-09-08).
constexpr int64_t kNow = 1780452000;     // 2026-06-03T10:00:00+08:00
constexpr int64_t kBefore = 1420041600;  // 2015-01-01T00:00:00+08:00: not yet listed
constexpr int64_t kListed = 1451577600;  // 2016-01-01T00:00:00+08:00
constexpr char kZhang[] = "11010519491231002X";

class HandlerVersionTest : public HandlerTest {
 protected:
  HandlerVersionTest() {
    clock_ = [] { return kNow; };
  }

  // Negotiates `max_version` with a first HELLO; returns the version agreed.
  uint8_t Hello(uint8_t max_version) {
    const Answer a = Call(wire::Opcode::kHello, Payload(wire::HelloRequest{max_version, 0, "t"}));
    EXPECT_EQ(a.header.version, wire::kVersion);  // the HELLO exchange speaks version 1
    return wire::DecodeHelloResponse(a.payload)->version;
  }

  // What the core says of kZhang at `at` (the sample list loaded afresh).
  static CheckResult Core(int64_t at, bool with_cases) {
    std::unique_ptr<Dataset> d = Sample();
    return Check(*d->snapshot, *ParseId(kZhang), at, with_cases).value();
  }
};

TEST_F(HandlerVersionTest, OnlyAFirstHelloNegotiates) {
  Start();
  EXPECT_EQ(Hello(7), 4);  // min(max_version, 4)
  EXPECT_EQ(session_.version, 4);
  // A second HELLO (of version 1) is answered with the connection's version, in version 4.
  const Answer again = Call(wire::Opcode::kHello, Payload(wire::HelloRequest{1, 0, "t"}));
  EXPECT_EQ(again.header.version, 4);
  absl::StatusOr<wire::HelloResponse> hello = wire::DecodeHelloResponse(again.payload);
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->version, 4);
  // Open mode until callers are enforced (FORMAT.md 14); no caller named.
  EXPECT_EQ(hello->mode, wire::SecurityMode::kOpen);
  EXPECT_EQ(hello->caller_id, "");
  EXPECT_EQ(session_.version, 4);

  session_ = Session();
  EXPECT_EQ(Call(wire::Opcode::kPing, "").status(), wire::Status::kOk);
  EXPECT_EQ(Hello(2), 1);  // late: the connection stays at version 1
  EXPECT_EQ(session_.version, 1);
}

// Version 4 without an audit (no state_dir): receipts "", FEEDBACK AUDIT_UNAVAILABLE, INFO's
// audit block off. FEEDBACK is an unknown opcode before version 4.
TEST_F(HandlerVersionTest, Version4WithoutAudit) {
  Start();
  ASSERT_EQ(Hello(3), 3);
  const wire::FeedbackRequest feedback{"9f2c41d0-1-64", "", {{1, wire::FeedbackOutcome::kApplied}}};
  EXPECT_EQ(Call(wire::Opcode::kFeedback, Payload(feedback), Handler::Next::kClose).status(),
            wire::Status::kUnknownOpcode);
  session_ = Session();
  ASSERT_EQ(Hello(4), 4);
  wire::CheckRequest check{{kZhang}};
  check.context = {"HG-1", "op-7", "purpose"};
  Answer a = Call(wire::Opcode::kCheck, Payload(check, 4));
  ASSERT_EQ(a.status(), wire::Status::kOk) << a.error();
  absl::StatusOr<std::vector<wire::CheckAnswer>> answers = wire::DecodeCheckResponse(a.payload, 4);
  ASSERT_TRUE(answers.ok()) << answers.status();
  ASSERT_EQ(answers->size(), 1u);
  EXPECT_EQ((*answers)[0].status, wire::CheckStatus::kListed);
  EXPECT_EQ((*answers)[0].receipt, "");
  wire::MeasuresRequest measures;
  measures.id = kZhang;
  a = Call(wire::Opcode::kMeasures, Payload(measures, 4));
  ASSERT_EQ(a.status(), wire::Status::kOk) << a.error();
  std::string receipt = "x";
  ASSERT_TRUE(wire::DecodeMeasuresResponseAndReceipt(a.payload, 4, &receipt).ok());
  EXPECT_EQ(receipt, "");
  a = Call(wire::Opcode::kFeedback, Payload(feedback));
  EXPECT_EQ(a.status(), wire::Status::kAuditUnavailable);
  EXPECT_EQ(a.error(), "no audit: the server has no state_dir");
  EXPECT_EQ(Call(wire::Opcode::kFeedback, "x", Handler::Next::kClose).status(),
            wire::Status::kBadPayload);
  session_ = Session();
  ASSERT_EQ(Hello(4), 4);
  absl::StatusOr<wire::InfoResponse> info =
      wire::DecodeInfoResponse(Call(wire::Opcode::kInfo, "").payload, 4);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->audit.state, wire::AuditState::kOff);
  EXPECT_EQ(info->audit.records, 0u);
}

TEST_F(HandlerVersionTest, Version1GetsVersion1Bytes) {
  config_.history_days = 36500;
  Start();
  const Answer a = Call(wire::Opcode::kDetail, Payload(wire::DetailRequest{kZhang}));
  ASSERT_EQ(a.status(), wire::Status::kOk) << a.error();
  EXPECT_EQ(a.header.version, 1);
  const CheckResult core = Core(kNow, /*with_cases=*/true);
  ASSERT_TRUE(core.listed);
  std::string v1, v2;
  wire::Encode(core, &v1, 1);
  wire::Encode(core, &v2, 2);
  EXPECT_EQ(a.payload, v1);
  EXPECT_NE(a.payload, v2);  // the stretch and the cases' history fields are version 2's
  // A version-1 CHECK has no as_of: the same 8 bytes more are trailing bytes (fatal).
  const Answer bad =
      Call(wire::Opcode::kCheck, Payload(wire::CheckRequest{{kZhang}}, 2), Handler::Next::kClose);
  EXPECT_EQ(bad.status(), wire::Status::kBadPayload);
}

TEST_F(HandlerVersionTest, CheckCarriesTheStretchAtTheInstant) {
  config_.history_days = 36500;
  Start();
  ASSERT_EQ(Hello(2), 2);
  for (const int64_t as_of : {wire::kAsOfNow, kListed, kBefore}) {
    SCOPED_TRACE(as_of);
    const Answer a = Call(wire::Opcode::kCheck, Payload(wire::CheckRequest{{kZhang}, as_of}, 2));
    ASSERT_EQ(a.status(), wire::Status::kOk) << a.error();
    EXPECT_EQ(a.header.version, 2);
    const auto answers = wire::DecodeCheckResponse(a.payload, 2);
    ASSERT_TRUE(answers.ok()) << answers.status();
    ASSERT_EQ(answers->size(), 1u);
    const CheckResult core = Core(as_of == wire::kAsOfNow ? kNow : as_of, false);
    EXPECT_EQ((*answers)[0].status,
              core.listed ? wire::CheckStatus::kListed : wire::CheckStatus::kUnlisted);
    EXPECT_EQ((*answers)[0].since, core.since);
    EXPECT_EQ((*answers)[0].until, core.until);
  }
  EXPECT_GT(Core(kListed, false).since, 0);
  EXPECT_FALSE(Core(kBefore, false).listed);
}

TEST_F(HandlerVersionTest, DetailAndMeasuresAsOfRoundTrip) {
  config_.history_days = 36500;
  Start();
  ASSERT_EQ(Hello(2), 2);
  const Answer a = Call(wire::Opcode::kDetail, Payload(wire::DetailRequest{kZhang, kListed}, 2));
  ASSERT_EQ(a.status(), wire::Status::kOk) << a.error();
  const absl::StatusOr<CheckResult> detail = wire::DecodeDetailResponse(a.payload, 2);
  ASSERT_TRUE(detail.ok()) << detail.status();
  const CheckResult core = Core(kListed, true);
  EXPECT_TRUE(detail->listed);
  EXPECT_EQ(detail->since, core.since);
  EXPECT_EQ(detail->until, core.until);
  EXPECT_EQ(detail->cases, core.cases);
  ASSERT_FALSE(detail->cases.empty());
  EXPECT_NE(detail->cases[0].start, 0);  // a version-2 field, carried

  wire::MeasuresRequest request{.id = kZhang, .agency = "", .scenario = "", .officers = {}};
  request.as_of = kBefore;
  const Answer m = Call(wire::Opcode::kMeasures, Payload(request, 2));
  ASSERT_EQ(m.status(), wire::Status::kOk) << m.error();
  const absl::StatusOr<MeasuresResult> before = wire::DecodeMeasuresResponse(m.payload, 2);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_FALSE(before->subject.listed);  // not yet listed then: no measures
  EXPECT_THAT(before->measures, IsEmpty());
}

TEST_F(HandlerVersionTest, AsOfOutsideTheHistoryWindowIsOutOfRange) {
  Start();  // history_days: the default 1826
  ASSERT_EQ(Hello(2), 2);
  for (const int64_t as_of : {kListed, kNow + 60}) {
    SCOPED_TRACE(as_of);
    const Answer a = Call(wire::Opcode::kCheck, Payload(wire::CheckRequest{{kZhang}, as_of}, 2));
    EXPECT_EQ(a.status(), wire::Status::kOutOfRange);
    EXPECT_THAT(a.error(), HasSubstr("history window"));
  }
  const Answer d = Call(wire::Opcode::kDetail, Payload(wire::DetailRequest{kZhang, kListed}, 2));
  EXPECT_EQ(d.status(), wire::Status::kOutOfRange);
  // Not fatal: the connection goes on, and a recent instant is answered.
  const Answer ok =
      Call(wire::Opcode::kCheck, Payload(wire::CheckRequest{{kZhang}, kNow - 86400}, 2));
  EXPECT_EQ(ok.status(), wire::Status::kOk);
}

// A base compacted with 30 days of history answers no earlier instant, though the daemon's
// window is longer: it would miss the case versions the compaction dropped.
TEST_F(HandlerVersionTest, AsOfBeforeTheBasesHistoryIsOutOfRange) {
  std::unique_ptr<Dataset> d = Sample();
  absl::StatusOr<std::unique_ptr<const Snapshot>> compacted =
      Compact(d->list(), {.now = kNow, .history_days = 30});
  ASSERT_TRUE(compacted.ok()) << compacted.status();
  d->snapshot = *std::move(compacted);
  Start(std::move(d));
  ASSERT_EQ(Hello(2), 2);
  const int64_t cut = kNow - 30 * 86400;
  const Answer before =
      Call(wire::Opcode::kCheck, Payload(wire::CheckRequest{{kZhang}, cut - 1}, 2));
  EXPECT_EQ(before.status(), wire::Status::kOutOfRange);
  EXPECT_THAT(before.error(), HasSubstr("the base snapshot holds no earlier history"));
  const Answer d_before =
      Call(wire::Opcode::kDetail, Payload(wire::DetailRequest{kZhang, cut - 1}, 2));
  EXPECT_EQ(d_before.status(), wire::Status::kOutOfRange);
  wire::MeasuresRequest request{.id = kZhang, .agency = "", .scenario = "", .officers = {}};
  request.as_of = cut - 1;
  EXPECT_EQ(Call(wire::Opcode::kMeasures, Payload(request, 2)).status(), wire::Status::kOutOfRange);
  const Answer after = Call(wire::Opcode::kCheck, Payload(wire::CheckRequest{{kZhang}, cut}, 2));
  EXPECT_EQ(after.status(), wire::Status::kOk) << after.error();
}

// A person not in the sample, added by delta 1 with termEnd 2026-06-30: listed until
// 2026-07-01T00:00:00+08:00 (kTermOver), not a second longer.
constexpr char kLi[] = "230402198001011232";
constexpr int64_t kTermOver = 1782835200;

// Returns the sample list with delta 1 (adding 李明's case) applied on top.
std::unique_ptr<Dataset> SampleWithLi() {
  std::unique_ptr<Dataset> d = Sample();
  const absl::StatusOr<Delta> delta =
      ParseDelta(DeltaFileName(1), shixin::testing::AddCaseLine(kLi, "2026-06-30"));
  EXPECT_TRUE(delta.ok()) << delta.status();
  if (!delta.ok()) return d;
  DeltaReport report;
  absl::StatusOr<std::unique_ptr<const Overlay>> overlay =
      ApplyDelta(*d->snapshot, nullptr, *delta, &report);
  EXPECT_TRUE(overlay.ok()) << overlay.status();
  if (overlay.ok()) d->overlay = *std::move(overlay);
  d->sequence = 1;
  return d;
}

TEST_F(HandlerVersionTest, InfoOfVersion2DescribesTheGenerationThatAnswers) {
  Start(SampleWithLi());
  const Answer v1 = Call(wire::Opcode::kInfo, "");
  EXPECT_EQ(wire::DecodeInfoResponse(v1.payload)->generation, 1u);  // version 1: as before
  session_ = Session();
  ASSERT_EQ(Hello(2), 2);
  const Answer a = Call(wire::Opcode::kInfo, "");
  ASSERT_EQ(a.status(), wire::Status::kOk) << a.error();
  const absl::StatusOr<wire::InfoResponse> info = wire::DecodeInfoResponse(a.payload, 2);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->generation, a.header.generation);
  EXPECT_EQ(info->deltas.base_sequence, 0u);
  EXPECT_EQ(info->deltas.sequence, 1u);
  EXPECT_EQ(info->deltas.overlay_subjects, 1u);  // 李明
  EXPECT_GT(info->deltas.overlay_bytes, 0u);
  EXPECT_EQ(info->deltas.applied_files, 0u);  // no Reloader: no applier's counters
  EXPECT_EQ(info->deltas.refused, "");
}

// The daemon's clock ends a fixed term at its instant, in the same generation (no reload).
TEST_F(HandlerVersionTest, TermEndsAtTheExactInstantWithoutAReload) {
  int64_t now = kTermOver - 1;
  clock_ = [&now] { return now; };
  Start(SampleWithLi());
  const uint32_t generation = holder_.generation();
  const auto answer = [&](uint8_t version) {
    const Answer a = Call(wire::Opcode::kCheck, Payload(wire::CheckRequest{{kLi}}, version));
    EXPECT_EQ(a.header.generation, generation);
    return (*wire::DecodeCheckResponse(a.payload, version))[0];
  };
  EXPECT_EQ(answer(1).status, wire::CheckStatus::kListed);  // 2026-06-30T23:59:59+08:00
  now = kTermOver;
  EXPECT_EQ(answer(1).status, wire::CheckStatus::kUnlisted);
  session_ = Session();
  ASSERT_EQ(Hello(2), 2);
  now = kTermOver - 1;
  const wire::CheckAnswer last = answer(2);
  EXPECT_EQ(last.status, wire::CheckStatus::kListed);
  EXPECT_EQ(last.until, kTermOver);  // the stretch ends at that instant
  now = kTermOver;
  EXPECT_EQ(answer(2).status, wire::CheckStatus::kUnlisted);
  EXPECT_EQ(holder_.generation(), generation);
}

}  // namespace
}  // namespace shixin
