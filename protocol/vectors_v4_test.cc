// Checks the version-4 encoders and decoders (FORMAT.md 15) against the v4_ vectors of
// protocol/testdata/vectors.txt (made by a second encoder from the text alone).
#include <string>

#include "core/scope.h"
#include "gtest/gtest.h"
#include "protocol/feedback_messages.h"
#include "protocol/messages.h"
#include "protocol/operator_messages.h"
#include "protocol/test_messages.h"
#include "protocol/vectors_fixture.h"
#include "protocol/wire.h"

namespace shixin::wire {
namespace {

constexpr uint8_t kV3 = 3;
constexpr uint8_t kV4 = 4;
constexpr char kToken[] = "shx_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
constexpr char kR1[] = "9f2c41d0-3-1048576";
constexpr char kR2[] = "9f2c41d0-3-1048702";
constexpr char kR3[] = "9f2c41d0-3-1048830";
constexpr char kListedId[] = "11010519491231002X";
constexpr char kRelatedId[] = "230402197203140038";
constexpr char kUnlistedId[] = "230402199001010015";
constexpr char kZhang[] = "张秀兰";
constexpr int64_t kZhangSince = 1534694400;

RequestContext HousingContext() { return {"HG-ZJ-2026-000123", "op-0042", "公租房资格审查"}; }

TEST_F(VectorsTest, V4Hello) {
  const HelloRequest req{4, 0, "bank-loan-gw/4.0", "bank-a", kToken};
  EXPECT_EQ(Frame(Opcode::kHello, 40, Enc(req)), Vector("v4_hello_request"));
  HelloResponse resp{4, kCapabilityCatalog, 1048576, 1000, 128, "shixind/0.1.0", "hegang-2018"};
  resp.mode = SecurityMode::kCallers;
  resp.caller_id = "bank-a";
  resp.caller_name = "某银行信贷部";
  resp.scopes = ScopeBit(Scope::kCheck) | ScopeBit(Scope::kMeasures) | ScopeBit(Scope::kFeedback);
  EXPECT_EQ(Frame(Opcode::kHello, 40, Enc(resp), kResp, 3), Vector("v4_hello_response"));
  absl::StatusOr<HelloResponse> s = DecodeHelloResponse(Payload("v4_hello_response"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->version, 4);
  EXPECT_EQ(s->scopes, 0x0bu);
}

CheckAnswer Listed(std::string_view receipt) {
  CheckAnswer a;
  a.status = CheckStatus::kListed;
  a.id = kListedId;
  a.cases = 2;
  a.name = kZhang;
  a.since = kZhangSince;
  a.receipt = receipt;
  return a;
}

TEST_F(VectorsTest, V4Check) {
  CheckRequest req{{kListedId, kRelatedId, kUnlistedId}};
  req.context = HousingContext();
  EXPECT_EQ(Frame(Opcode::kCheck, 41, Enc(req, kV4), 0, 0, Status::kOk, kV4),
            Vector("v4_check_request"));
  absl::StatusOr<CheckRequest> r =
      DecodeCheckRequest(Payload("v4_check_request", nullptr, kV4), kV4);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ids.size(), 3u);
  EXPECT_EQ(r->context.matter, "HG-ZJ-2026-000123");
  EXPECT_EQ(r->context.operator_id, "op-0042");
  EXPECT_EQ(r->context.purpose, "公租房资格审查");
  // Version 3 reads the context as trailing bytes.
  EXPECT_FALSE(DecodeCheckRequest(Payload("v4_check_request", nullptr, kV4), kV3).ok());

  std::string payload;
  AppendCheckCount(3, &payload);
  AppendCheckAnswer(Listed(kR1), &payload, kV4);
  CheckAnswer related;
  related.status = CheckStatus::kRelated;
  related.id = kRelatedId;
  related.roles = 1;
  related.name = "陈海波";
  related.receipt = kR2;
  AppendCheckAnswer(related, &payload, kV4);
  AppendCheckAnswer(UnlistedAnswer(kUnlistedId), &payload, kV4);
  EXPECT_EQ(Frame(Opcode::kCheck, 41, payload, kResp, 3, Status::kOk, kV4),
            Vector("v4_check_response"));
  absl::StatusOr<std::vector<CheckAnswer>> answers =
      DecodeCheckResponse(Payload("v4_check_response", nullptr, kV4), kV4);
  ASSERT_TRUE(answers.ok()) << answers.status();
  ASSERT_EQ(answers->size(), 3u);
  EXPECT_EQ((*answers)[0].receipt, kR1);
  EXPECT_EQ((*answers)[0].since, kZhangSince);
  EXPECT_EQ((*answers)[1].receipt, kR2);
  EXPECT_EQ((*answers)[2].receipt, "");

  // No context; a server without audit answers receipts "".
  EXPECT_EQ(Frame(Opcode::kCheck, 42, Enc(CheckRequest{{kListedId}}, kV4), 0, 0, Status::kOk, kV4),
            Vector("v4_check_request_no_context"));
  payload.clear();
  AppendCheckCount(1, &payload);
  AppendCheckAnswer(Listed(""), &payload, kV4);
  EXPECT_EQ(Frame(Opcode::kCheck, 42, payload, kResp, 3, Status::kOk, kV4),
            Vector("v4_check_response_no_audit"));
}

TEST_F(VectorsTest, V4Measures) {
  MeasuresRequest req;
  req.id = "91350503MA2XK7R352";
  req.scenario = "hotel";
  req.context = {"HOTEL-CHECKIN", "desk-07", ""};
  EXPECT_EQ(Frame(Opcode::kMeasures, 43, Enc(req, kV4), 0, 0, Status::kOk, kV4),
            Vector("v4_measures_request"));
  absl::StatusOr<MeasuresRequest> r =
      DecodeMeasuresRequest(Payload("v4_measures_request", nullptr, kV4), kV4);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->context.matter, "HOTEL-CHECKIN");
  EXPECT_EQ(r->context.operator_id, "desk-07");

  // The answer of v2_measures_response, then the receipt.
  std::string receipt;
  absl::StatusOr<MeasuresResult> m = DecodeMeasuresResponseAndReceipt(
      Payload("v4_measures_response", nullptr, kV4), kV4, &receipt);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(receipt, kR3);
  ASSERT_EQ(m->measures.size(), 1u);
  EXPECT_EQ(m->measures[0].no, 4);
  std::string payload;
  Encode(*m, &payload, kV4, kR3);
  EXPECT_EQ(Frame(Opcode::kMeasures, 43, payload, kResp, 3, Status::kOk, kV4),
            Vector("v4_measures_response"));
  absl::StatusOr<MeasuresResult> v2 =
      DecodeMeasuresResponse(Payload("v2_measures_response", nullptr, 2), 2);
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(Enc(*v2, kV3), Enc(*m, kV3));
  // Read as version 3, the receipt is a trailing field.
  EXPECT_FALSE(DecodeMeasuresResponse(Payload("v4_measures_response", nullptr, kV4), kV3).ok());
}

TEST_F(VectorsTest, V4Feedback) {
  FeedbackRequest req{kR1,
                      "op-0042",
                      {{41, FeedbackOutcome::kApplied, ""},
                       {52, FeedbackOutcome::kNotApplied, "申请人已履行完毕"},
                       {29, FeedbackOutcome::kCancelled, "重复查询，撤销"}}};
  EXPECT_EQ(Frame(Opcode::kFeedback, 44, Enc(req), 0, 0, Status::kOk, kV4),
            Vector("v4_feedback_request"));
  absl::StatusOr<FeedbackRequest> r =
      DecodeFeedbackRequest(Payload("v4_feedback_request", nullptr, kV4));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->receipt, kR1);
  ASSERT_EQ(r->items.size(), 3u);
  EXPECT_EQ(r->items[1].measure, 52);
  EXPECT_EQ(r->items[1].outcome, FeedbackOutcome::kNotApplied);
  EXPECT_EQ(r->items[2].outcome, FeedbackOutcome::kCancelled);
  EXPECT_EQ(r->items[2].reason, "重复查询，撤销");
  EXPECT_TRUE(CheckFeedbackItems(r->items).ok());

  const FeedbackResponse resp{3, "9f2c41d0-3-1049001"};
  EXPECT_EQ(Frame(Opcode::kFeedback, 44, Enc(resp), kResp, 3, Status::kOk, kV4),
            Vector("v4_feedback_response"));
  absl::StatusOr<FeedbackResponse> s =
      DecodeFeedbackResponse(Payload("v4_feedback_response", nullptr, kV4));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->recorded, 3);
  EXPECT_EQ(s->feedback_receipt, "9f2c41d0-3-1049001");
}

TEST_F(VectorsTest, V4Errors) {
  struct Case {
    const char* vector;
    Opcode op;
    uint32_t id;
    Status status;
    const char* message;
  };
  for (const Case& c : {
           Case{"v4_error_not_found", Opcode::kFeedback, 45, Status::kNotFound,
                "receipt 9f2c41d0-7-64: no record"},
           Case{"v4_error_audit_unavailable", Opcode::kMeasures, 46, Status::kAuditUnavailable,
                "the audit cannot be written; MEASURES and FEEDBACK are refused until it can be"},
           Case{"v4_error_no_audit", Opcode::kFeedback, 47, Status::kAuditUnavailable,
                "no audit: the server has no state_dir"},
       }) {
    std::string payload;
    EncodeError(ErrorResponse{c.message}, c.status, kV4, &payload);
    EXPECT_EQ(Frame(c.op, c.id, payload, kResp, 3, c.status, kV4), Vector(c.vector));
    FrameHeader h;
    absl::StatusOr<ErrorResponse> e =
        DecodeError(Payload(c.vector, &h, kV4), static_cast<Status>(h.status), h.version);
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_EQ(e->message, c.message);
    EXPECT_FALSE(IsFatal(c.status));
  }
}

TEST_F(VectorsTest, V4Info) {
  absl::StatusOr<InfoResponse> v3 =
      DecodeInfoResponse(Payload("v3_info_response", nullptr, kV3), kV3);
  ASSERT_TRUE(v3.ok()) << v3.status();
  InfoResponse info = *v3;
  info.audit = {AuditState::kOk, "", 1234567, 98765432, 20270108, "", 42};
  EXPECT_EQ(Frame(Opcode::kInfo, 48, "", 0, 0, Status::kOk, kV4), Vector("v4_info_request"));
  EXPECT_EQ(Frame(Opcode::kInfo, 48, Enc(info, kV4), kResp, 3, Status::kOk, kV4),
            Vector("v4_info_response"));
  absl::StatusOr<InfoResponse> s =
      DecodeInfoResponse(Payload("v4_info_response", nullptr, kV4), kV4);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->security.callers.size(), 2u);
  EXPECT_EQ(s->audit.state, AuditState::kOk);
  EXPECT_EQ(s->audit.records, 1234567u);
  EXPECT_EQ(s->audit.bytes, 98765432u);
  EXPECT_EQ(s->audit.next_report_due, 20270108u);
  EXPECT_EQ(s->audit.receipts_without_feedback, 42u);
  EXPECT_FALSE(DecodeInfoResponse(Payload("v4_info_response", nullptr, kV4), kV3).ok());

  info.audit = {AuditState::kFailing,
                "0000000003.audit: write: No space left on device",
                1234600,
                98768000,
                0,
                "no calendar for 2027",
                45};
  EXPECT_EQ(Frame(Opcode::kInfo, 49, Enc(info, kV4), kResp, 3, Status::kOk, kV4),
            Vector("v4_info_response_failing"));
  s = DecodeInfoResponse(Payload("v4_info_response_failing", nullptr, kV4), kV4);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->audit.state, AuditState::kFailing);
  EXPECT_EQ(s->audit.due_note, "no calendar for 2027");
  EXPECT_EQ(AuditStateName(s->audit.state), "failing");
}

}  // namespace
}  // namespace shixin::wire
