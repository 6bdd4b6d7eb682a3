#include "daemon/handler.h"

#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "callers/callers_file.h"
#include "callers/token.h"
#include "core/delta.h"
#include "core/masking.h"
#include "core/overlay.h"
#include "core/query.h"
#include "core/test_util.h"
#include "daemon/handler_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/messages.h"
#include "protocol/operator_messages.h"
#include "protocol/test_messages.h"
#include "protocol/wire.h"

namespace shixin {
namespace {

using handler_testing::Answer;
using handler_testing::Frames;
using handler_testing::Payload;
using handler_testing::Sample;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

wire::FrameHeader Request(wire::Opcode op, uint32_t id) {
  wire::FrameHeader h;
  h.opcode = static_cast<uint8_t>(op);
  h.request_id = id;
  return h;
}

std::string CheckPayload(const std::vector<std::string>& ids) {
  return Payload(wire::CheckRequest{ids});
}

// Appends the request frame `op` #`id` with `payload` to `input`.
void AppendFrame(wire::Opcode op, uint32_t id, std::string_view payload, std::string* input) {
  wire::FrameHeader h = Request(op, id);
  h.payload_size = static_cast<uint32_t>(payload.size());
  wire::AppendHeader(h, input);
  input->append(payload);
}

std::string MeasuresPayload(const std::string& id, const std::string& agency = "",
                            const std::string& scenario = "") {
  return Payload(
      wire::MeasuresRequest{.id = id, .agency = agency, .scenario = scenario, .officers = {}});
}

class HandlerTest : public ::testing::Test {
 protected:
  HandlerTest() {
    config_.max_batch = 5;
    config_.max_payload = 4096;
  }

  // Publishes the sample list and makes the handler.
  void Start(std::unique_ptr<Dataset> dataset = Sample()) {
    if (dataset != nullptr) holder_.Publish(std::move(dataset));
    handler_ = std::make_unique<Handler>(config_, &holder_, clock_);
  }

  // Sends one request; returns the single response and checks the handler's verdict.
  Answer Call(wire::Opcode op, std::string_view payload,
              Handler::Next expected = Handler::Next::kContinue, bool admin = true) {
    return CallRaw(static_cast<uint8_t>(op), payload, expected, admin);
  }
  Answer CallRaw(uint8_t op, std::string_view payload, Handler::Next expected, bool admin = true) {
    wire::FrameHeader h;
    h.version = session_.version;  // requests carry the connection's version
    h.opcode = op;
    h.request_id = ++last_id_;
    std::string out;
    EXPECT_EQ(handler_->Handle(h, payload, Peer{"test", admin}, &out, &reload_, &session_),
              expected);
    // The response speaks the version of the request (HELLO's answer too).
    std::vector<Answer> frames = Frames(out, h.version);
    EXPECT_EQ(frames.size(), 1u);
    if (frames.empty()) return {};
    EXPECT_EQ(frames[0].header.request_id, last_id_);
    EXPECT_EQ(frames[0].header.opcode, op);
    EXPECT_TRUE(frames[0].header.flags & wire::kFlagResponse);
    return frames[0];
  }

  // Answers the complete frames of `input` one by one on `session`, each after a LookAhead()
  // over the rest when `look_ahead`; returns the responses.
  std::string AnswerAll(std::string_view input, Session& session, bool look_ahead) {
    std::string out;
    while (!input.empty()) {
      if (look_ahead) handler_->LookAhead(input, session);
      const wire::Decoded frame = wire::DecodeFrame(input, config_.max_payload, session.version);
      EXPECT_EQ(frame.result, wire::DecodeResult::kComplete);
      if (frame.result != wire::DecodeResult::kComplete) break;
      ReloadRequest reload;
      handler_->Handle(frame.header, frame.payload, Peer{"test", false}, &out, &reload, &session);
      input.remove_prefix(frame.consumed);
    }
    return out;
  }

  RcuThread rcu_;
  Config config_;
  SnapshotHolder holder_;
  std::unique_ptr<Handler> handler_;
  ReloadRequest reload_;  // what the last accepted RELOAD asked for
  uint32_t last_id_ = 0;
  Session session_;                    // of the one connection the calls come on
  Handler::Clock clock_ = NowSeconds;  // set before Start()
};

TEST_F(HandlerTest, HelloAnnouncesLimitsAndCatalog) {
  Start();
  const Answer a = Call(wire::Opcode::kHello, Payload(wire::HelloRequest{1, 0, "bank-gw/1.0"}));
  ASSERT_EQ(a.status(), wire::Status::kOk);
  EXPECT_EQ(a.header.generation, 1u);
  absl::StatusOr<wire::HelloResponse> hello = wire::DecodeHelloResponse(a.payload);
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->version, 1);
  EXPECT_EQ(hello->max_batch, 5);
  EXPECT_EQ(hello->max_payload, 4096u);
  EXPECT_EQ(hello->max_in_flight, 128);
  EXPECT_EQ(hello->catalog_id, "hegang-2018");
  EXPECT_THAT(hello->server_name, HasSubstr("shixind/"));
  EXPECT_EQ(hello->capabilities, wire::kCapabilityCatalog);
}

// FORMAT.md 4: a HELLO after other requests, or a second one, is answered like a first one.
TEST_F(HandlerTest, LateAndRepeatedHelloAreAnsweredAlike) {
  Start();
  const Answer first = Call(wire::Opcode::kHello, Payload(wire::HelloRequest{1, 0, "first"}));
  EXPECT_EQ(Call(wire::Opcode::kPing, "").status(), wire::Status::kOk);
  // Not the first request: the connection stays at version 1 (200 would otherwise get 3).
  const Answer again = Call(wire::Opcode::kHello, Payload(wire::HelloRequest{200, 0, "again"}));
  ASSERT_EQ(again.status(), wire::Status::kOk);
  EXPECT_EQ(again.payload, first.payload);
  EXPECT_EQ(wire::DecodeHelloResponse(again.payload)->version, 1);
}

TEST_F(HandlerTest, HelloWithoutACommonVersionIsFatal) {
  Start();
  // The decoder refuses version 0 (BAD_PAYLOAD); either way the connection ends.
  const Answer a =
      Call(wire::Opcode::kHello, Payload(wire::HelloRequest{0, 0, "old"}), Handler::Next::kClose);
  EXPECT_TRUE(wire::IsFatal(a.status()));
  // FORMAT.md 4 decides which: BAD_PAYLOAD, naming the field.
  EXPECT_EQ(a.status(), wire::Status::kBadPayload);
  EXPECT_EQ(a.error(),
            "HELLO payload: HELLO request: max_version: 0 is not a version (versions start at 1) "
            "(at byte 0)");
}

TEST_F(HandlerTest, CatalogDescribesTheServedCatalog) {
  Start();
  const Answer a = Call(wire::Opcode::kCatalog, "");
  ASSERT_EQ(a.status(), wire::Status::kOk) << a.error();
  EXPECT_EQ(a.header.generation, 1u);
  absl::StatusOr<wire::CatalogResponse> c = wire::DecodeCatalogResponse(a.payload);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id, "hegang-2018");
  ASSERT_EQ(c->measures.size(), 53u);
  EXPECT_EQ(c->measures[40].no, 41);
  EXPECT_EQ(c->measures[40].scenarios, std::vector<std::string>{"hotel"});
  EXPECT_THAT(c->agencies, ::testing::Contains(Field(&wire::CatalogAgency::id, "housing")));
  EXPECT_THAT(c->scenarios, ::testing::Contains(Field(&wire::CatalogScenario::id, "bank_credit")));
  {
    SnapshotHolder::ReadSection read(holder_);
    EXPECT_EQ(a.payload, Payload(wire::DescribeCatalog(read.dataset()->catalog)));
  }
  // The agencies and scenarios listed are exactly those MEASURES accepts.
  for (const wire::CatalogAgency& agency : c->agencies) {
    EXPECT_EQ(
        Call(wire::Opcode::kMeasures, MeasuresPayload("11010519491231002X", agency.id)).status(),
        wire::Status::kOk)
        << agency.id;
  }
  for (const wire::CatalogScenario& scenario : c->scenarios) {
    EXPECT_EQ(Call(wire::Opcode::kMeasures, MeasuresPayload("11010519491231002X", "", scenario.id))
                  .status(),
              wire::Status::kOk)
        << scenario.id;
  }
  EXPECT_EQ(Call(wire::Opcode::kCatalog, "x", Handler::Next::kClose).status(),
            wire::Status::kBadPayload);
}

TEST_F(HandlerTest, PingAnswersEmpty) {
  Start();
  const Answer a = Call(wire::Opcode::kPing, "");
  EXPECT_EQ(a.status(), wire::Status::kOk);
  EXPECT_THAT(a.payload, IsEmpty());
  EXPECT_EQ(Call(wire::Opcode::kPing, "x", Handler::Next::kClose).status(),
            wire::Status::kBadPayload);
}

TEST_F(HandlerTest, CheckAnswersEachIdIncludingInvalidOnes) {
  Start();
  const Answer a =
      Call(wire::Opcode::kCheck,
           CheckPayload({"11010519491231002X", "230402197203140038", "110105194912310021",
                         " 110105491231002 ", "230402199001010015"}));
  ASSERT_EQ(a.status(), wire::Status::kOk);
  EXPECT_FALSE(a.stale());
  absl::StatusOr<std::vector<wire::CheckAnswer>> answers = wire::DecodeCheckResponse(a.payload);
  ASSERT_TRUE(answers.ok()) << answers.status();
  ASSERT_EQ(answers->size(), 5u);
  const wire::CheckAnswer& listed = (*answers)[0];
  EXPECT_EQ(listed.status, wire::CheckStatus::kListed);
  EXPECT_EQ(listed.id, "11010519491231002X");
  EXPECT_EQ(listed.name, "张秀兰");
  EXPECT_EQ(listed.cases, 2);
  EXPECT_EQ(listed.kind, SubjectKind::kPerson);
  const wire::CheckAnswer& related = (*answers)[1];
  EXPECT_EQ(related.status, wire::CheckStatus::kRelated);
  EXPECT_EQ(related.name, "陈海波");
  EXPECT_EQ(related.roles, 1);
  EXPECT_EQ(related.cases, 0);
  const wire::CheckAnswer& invalid = (*answers)[2];
  EXPECT_EQ(invalid.status, wire::CheckStatus::kInvalid);
  EXPECT_THAT(std::string(invalid.error), HasSubstr("check character"));
  // The old 15-digit form of the first ID, as typed.
  EXPECT_EQ((*answers)[3].status, wire::CheckStatus::kListed);
  EXPECT_EQ((*answers)[3].id, "11010519491231002X");
  EXPECT_EQ((*answers)[4].status, wire::CheckStatus::kUnlisted);
  EXPECT_EQ((*answers)[4].id, "230402199001010015");
}

// Handler::LookAhead only warms the cache: it covers the complete CHECK frames at the front
// of a read, and the answers are the same byte for byte as without it.
TEST_F(HandlerTest, LookAheadCoversTheLeadingChecksAndMeasuresAndChangesNoAnswer) {
  Start();
  using enum wire::Opcode;
  const std::vector<std::pair<wire::Opcode, std::string>> requests = {
      {kCheck, CheckPayload({"11010519491231002X", "230402197203140038"})},
      {kMeasures, MeasuresPayload("230402197203140038")},
      {kCheck, CheckPayload({"110105194912310021", " 110105491231002 ", "23098761-3",
                             "110105194912310022"})},  // the last: a wrong check digit
      {kMeasures, MeasuresPayload("110105194912310022")},
      {kCheck, CheckPayload({"230402199001010015"})},
      {kPing, ""},
      {kCheck, CheckPayload({"91350503MA2XK7R352"})}};
  std::string input;
  std::vector<size_t> ends;
  for (size_t i = 0; i < requests.size(); ++i) {
    AppendFrame(requests[i].first, static_cast<uint32_t>(i + 1), requests[i].second, &input);
    ends.push_back(input.size());
  }
  const Session v;
  EXPECT_EQ(handler_->LookAhead(input, v), ends[4]);  // the five frames before the PING
  EXPECT_EQ(handler_->LookAhead(std::string_view(input).substr(ends[4]), v), 0u);  // a PING
  EXPECT_EQ(handler_->LookAhead(std::string_view(input).substr(ends[5]), v), ends[6] - ends[5]);
  EXPECT_EQ(handler_->LookAhead(std::string_view(input).substr(0, ends[2] - 1), v), ends[1]);
  EXPECT_EQ(handler_->LookAhead(std::string_view(input).substr(ends[0], ends[1] - ends[0]), v),
            ends[1] - ends[0]);  // a MEASURES alone
  EXPECT_EQ(handler_->LookAhead("", v), 0u);

  // Answer the read frame by frame, once with and once without looking ahead.
  Session with_session, without_session;
  const std::string with = AnswerAll(input, with_session, true);
  EXPECT_EQ(with, AnswerAll(input, without_session, false));
  const std::vector<Answer> answers = Frames(with);
  ASSERT_EQ(answers.size(), requests.size());
  EXPECT_EQ(answers[1].status(), wire::Status::kOk);
  EXPECT_EQ(answers[3].status(), wire::Status::kInvalidId);
}

// Returns the frames of single-ID CHECKs, one per ID.
std::string CheckFrames(const std::vector<std::string>& ids) {
  std::string input;
  for (size_t i = 0; i < ids.size(); ++i) {
    AppendFrame(wire::Opcode::kCheck, static_cast<uint32_t>(i + 1), CheckPayload({ids[i]}), &input);
  }
  return input;
}

// What LookAhead() leaves is only taken for the same bytes at the same place, looked up in the
// same generation: new bytes read into the same buffer, or a snapshot swapped in between, are
// answered from what is there now.
TEST_F(HandlerTest, LookAheadIsNotTakenForOtherBytesOrAnotherGeneration) {
  Start();
  const std::vector<std::string> first = {"11010519491231002X", "230402199001010015",
                                          "230402197203140038"};
  const std::vector<std::string> then = {"230402197203140038", "11010519491231002X",
                                         "230402199001010015"};
  Session fresh;
  const std::string expected = AnswerAll(CheckFrames(then), fresh, false);
  std::string input = CheckFrames(first);
  const std::string replaced = CheckFrames(then);
  ASSERT_EQ(input.size(), replaced.size());
  EXPECT_EQ(handler_->LookAhead(input, session_), input.size());
  input.replace(0, input.size(), replaced);  // in place: same buffer, same frame sizes
  EXPECT_EQ(AnswerAll(input, session_, false), expected);

  // Looked ahead in generation 1, answered in generation 2 (under ASan, a lookup of the freed
  // generation would be a use after free).
  input = CheckFrames(first);
  Session fresh2;
  const std::string before = AnswerAll(input, fresh2, false);
  EXPECT_EQ(handler_->LookAhead(input, session_), input.size());
  holder_.Publish(Sample());
  const std::string after = AnswerAll(input, session_, false);
  const std::vector<Answer> frames = Frames(after);
  ASSERT_EQ(frames.size(), first.size());
  EXPECT_EQ(frames[0].header.generation, 2u);
  const std::vector<Answer> before_frames = Frames(before);
  ASSERT_EQ(before_frames.size(), frames.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].payload, before_frames[i].payload);
  }
}

TEST_F(HandlerTest, CheckFindsAnOrganisationByItsOrgCode) {
  Start();
  const Answer a = Call(wire::Opcode::kCheck, CheckPayload({"23098761-3", "91350503MA2XK7R352"}));
  absl::StatusOr<std::vector<wire::CheckAnswer>> answers = wire::DecodeCheckResponse(a.payload);
  ASSERT_TRUE(answers.ok()) << answers.status();
  ASSERT_EQ(answers->size(), 2u);
  EXPECT_EQ((*answers)[0].status, wire::CheckStatus::kListed);
  EXPECT_EQ((*answers)[0].kind, SubjectKind::kOrganization);
  EXPECT_EQ((*answers)[1].status, wire::CheckStatus::kListed);
  EXPECT_EQ((*answers)[1].cases, 2);
}

TEST_F(HandlerTest, CheckBatchSizeIsBounded) {
  Start();
  EXPECT_EQ(Call(wire::Opcode::kCheck, CheckPayload({})).status(), wire::Status::kInvalidArgument);
  const Answer a = Call(wire::Opcode::kCheck, CheckPayload({"1", "2", "3", "4", "5", "6"}));
  EXPECT_EQ(a.status(), wire::Status::kInvalidArgument);
  EXPECT_THAT(a.error(), HasSubstr("1 to 5"));
}

TEST_F(HandlerTest, MalformedCheckPayloadIsFatal) {
  Start();
  std::string p = CheckPayload({"11010519491231002X"});
  p.pop_back();
  EXPECT_EQ(Call(wire::Opcode::kCheck, p, Handler::Next::kClose).status(),
            wire::Status::kBadPayload);
  EXPECT_EQ(Call(wire::Opcode::kCheck, p + "xx", Handler::Next::kClose).status(),
            wire::Status::kBadPayload);
}

TEST_F(HandlerTest, MeasuresOfAListedAndARelatedPerson) {
  Start();
  Answer a = Call(wire::Opcode::kMeasures, MeasuresPayload("11010519491231002X"));
  ASSERT_EQ(a.status(), wire::Status::kOk) << a.error();
  absl::StatusOr<MeasuresResult> r = wire::DecodeMeasuresResponse(a.payload);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->subject.listed);
  EXPECT_THAT(r->measures, Not(IsEmpty()));

  a = Call(wire::Opcode::kMeasures, MeasuresPayload("230402197203140038"));
  r = wire::DecodeMeasuresResponse(a.payload);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->subject.related);
  EXPECT_THAT(r->measures, ::testing::Contains(Field(&MeasureInfo::no, 26)));
}

TEST_F(HandlerTest, MeasuresFilterByScenario) {
  Start();
  const Answer a =
      Call(wire::Opcode::kMeasures, MeasuresPayload("11010519491231002X", "", "hotel"));
  absl::StatusOr<MeasuresResult> r = wire::DecodeMeasuresResponse(a.payload);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->measures, Not(IsEmpty()));
  const Answer all = Call(wire::Opcode::kMeasures, MeasuresPayload("11010519491231002X"));
  EXPECT_LT(r->measures.size(), wire::DecodeMeasuresResponse(all.payload)->measures.size());
}

TEST_F(HandlerTest, MeasuresErrors) {
  Start();
  Answer a = Call(wire::Opcode::kMeasures, MeasuresPayload("11010519491231002X", "nobody"));
  EXPECT_EQ(a.status(), wire::Status::kInvalidArgument);
  EXPECT_THAT(a.error(), HasSubstr("unknown agency"));
  a = Call(wire::Opcode::kMeasures, MeasuresPayload("11010519491231002X", "", "casino"));
  EXPECT_EQ(a.status(), wire::Status::kInvalidArgument);
  EXPECT_THAT(a.error(), HasSubstr("unknown scenario"));
  a = Call(wire::Opcode::kMeasures, MeasuresPayload("110105194912310021"));
  EXPECT_EQ(a.status(), wire::Status::kInvalidId);
  // Officers are for organisations only: the core's InvalidArgument.
  wire::MeasuresRequest m;
  m.id = "11010519491231002X";
  m.officers.push_back({Role::kLegalRepresentative, "230402197203140038"});
  EXPECT_EQ(Call(wire::Opcode::kMeasures, Payload(m)).status(), wire::Status::kInvalidArgument);
  m.id = "91350503MA2XK7R352";
  m.officers = {{Role::kLegalRepresentative, "12345"}};
  a = Call(wire::Opcode::kMeasures, Payload(m));
  EXPECT_EQ(a.status(), wire::Status::kInvalidArgument);
  EXPECT_THAT(a.error(), HasSubstr("officer 1"));
}

TEST_F(HandlerTest, DetailHasCasesAndRoles) {
  Start();
  const Answer a = Call(wire::Opcode::kDetail, Payload(wire::DetailRequest{"11010519491231002X"}));
  ASSERT_EQ(a.status(), wire::Status::kOk);
  absl::StatusOr<CheckResult> r = wire::DecodeDetailResponse(a.payload);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cases.size(), 2u);
  EXPECT_EQ(r->name, "张秀兰");
  EXPECT_EQ(Call(wire::Opcode::kDetail, Payload(wire::DetailRequest{"bogus"})).status(),
            wire::Status::kInvalidId);
}

TEST_F(HandlerTest, InfoDescribesTheSnapshot) {
  Start();
  const Answer a = Call(wire::Opcode::kInfo, "");
  ASSERT_EQ(a.status(), wire::Status::kOk);
  absl::StatusOr<wire::InfoResponse> info = wire::DecodeInfoResponse(a.payload);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->generation, 1u);
  EXPECT_EQ(info->snapshot.subjects, 12u);
  EXPECT_GT(info->snapshot.source_time, 0);
  EXPECT_EQ(info->catalog_id, "hegang-2018");
  EXPECT_NE(info->catalog_fingerprint, 0u);
  EXPECT_THAT(info->data_source, HasSubstr("data/sample"));
  EXPECT_EQ(info->reload_state, wire::ReloadState::kNone);
  EXPECT_FALSE(info->stale);
  EXPECT_EQ(Call(wire::Opcode::kInfo, "?", Handler::Next::kClose).status(),
            wire::Status::kBadPayload);
}

// FORMAT.md 8.5: paths, error texts and the admin's address only for admin clients.
TEST_F(HandlerTest, InfoShowsPathsAndErrorsOnlyToAdmins) {
  Start();
  holder_.SetReloadStatus(ReloadStatus{wire::ReloadState::kFailed, 1718000000,
                                       "data dir /srv/secret/list: debtors.ndjson:3: bad line"});
  absl::StatusOr<wire::InfoResponse> admin =
      wire::DecodeInfoResponse(Call(wire::Opcode::kInfo, "").payload);
  ASSERT_TRUE(admin.ok()) << admin.status();
  EXPECT_THAT(admin->last_reload_message, HasSubstr("/srv/secret/list"));
  EXPECT_THAT(admin->data_source, HasSubstr("data/sample"));

  absl::StatusOr<wire::InfoResponse> other = wire::DecodeInfoResponse(
      Call(wire::Opcode::kInfo, "", Handler::Next::kContinue, /*admin=*/false).payload);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->last_reload_message, "");
  EXPECT_EQ(other->data_source, "");
  // The rest is the same for everyone.
  EXPECT_EQ(other->reload_state, wire::ReloadState::kFailed);
  EXPECT_EQ(other->last_reload_time, 1718000000);
  EXPECT_EQ(other->generation, admin->generation);
  EXPECT_EQ(other->snapshot.subjects, 12u);
  EXPECT_EQ(other->snapshot.version, admin->snapshot.version);
  EXPECT_EQ(other->catalog_id, "hegang-2018");
  EXPECT_EQ(other->catalog_fingerprint, admin->catalog_fingerprint);

  holder_.SetReloadStatus(
      ReloadStatus{wire::ReloadState::kRunning, 1718000001, "requested by RELOAD from 10.0.0.7:1"});
  other = wire::DecodeInfoResponse(
      Call(wire::Opcode::kInfo, "", Handler::Next::kContinue, /*admin=*/false).payload);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->reload_state, wire::ReloadState::kRunning);
  EXPECT_EQ(other->last_reload_message, "");
}

TEST_F(HandlerTest, UnknownOpcodeIsFatal) {
  Start();
  EXPECT_EQ(CallRaw(99, "", Handler::Next::kClose).status(), wire::Status::kUnknownOpcode);
  EXPECT_EQ(CallRaw(0, "", Handler::Next::kClose).status(), wire::Status::kUnknownOpcode);
}

TEST_F(HandlerTest, ReloadIsDeferredAndAdminOnly) {
  Start();
  std::string out;
  ReloadRequest reload;
  EXPECT_EQ(handler_->Handle(Request(wire::Opcode::kReload, 7), "", Peer{"10.0.0.7:1", true}, &out,
                             &reload),
            Handler::Next::kReload);
  EXPECT_THAT(out, IsEmpty());
  EXPECT_EQ(reload.origin, "RELOAD from 10.0.0.7:1");
  EXPECT_FALSE(reload.allow_shrink);
  EXPECT_EQ(Call(wire::Opcode::kReload, "", Handler::Next::kContinue, /*admin=*/false).status(),
            wire::Status::kPermissionDenied);
  EXPECT_EQ(Call(wire::Opcode::kReload, "x", Handler::Next::kClose).status(),
            wire::Status::kBadPayload);
}

// FORMAT.md 8.6: the optional flags byte.
TEST_F(HandlerTest, ReloadFlags) {
  Start();
  const std::string payload = Payload(wire::ReloadRequest{.allow_shrink = true});
  std::string out;
  ReloadRequest reload;
  EXPECT_EQ(handler_->Handle(Request(wire::Opcode::kReload, 7), payload, Peer{"test", true}, &out,
                             &reload),
            Handler::Next::kReload);
  EXPECT_TRUE(reload.allow_shrink);
  EXPECT_EQ(Call(wire::Opcode::kReload, std::string(1, '\0'), Handler::Next::kClose).status(),
            wire::Status::kBadPayload);
  const Answer reserved = Call(wire::Opcode::kReload, "\x02", Handler::Next::kClose);
  EXPECT_EQ(reserved.status(), wire::Status::kBadPayload);
  EXPECT_THAT(reserved.error(), HasSubstr("reserved bits"));
  EXPECT_EQ(Call(wire::Opcode::kReload, "\x01\x01", Handler::Next::kClose).status(),
            wire::Status::kBadPayload);
  // A client that is not admin is refused whatever the flags.
  EXPECT_EQ(
      Call(wire::Opcode::kReload, payload, Handler::Next::kContinue, /*admin=*/false).status(),
      wire::Status::kPermissionDenied);
}

TEST_F(HandlerTest, ReloadResults) {
  Start();
  holder_.Publish(Sample());
  std::string out;
  handler_->AppendReloadResult(7, ReloadResult{absl::OkStatus(), 2, "generation 2"}, &out);
  handler_->AppendReloadResult(8, ReloadResult{absl::AbortedError("bad line"), 2, "bad line"},
                               &out);
  handler_->AppendReloadResult(
      9, ReloadResult{absl::UnavailableError("the daemon is stopping"), 0, ""}, &out);
  const std::vector<Answer> frames = Frames(out);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].header.request_id, 7u);
  EXPECT_EQ(frames[0].status(), wire::Status::kOk);
  EXPECT_EQ(frames[0].header.generation, 2u);
  absl::StatusOr<wire::ReloadResponse> r = wire::DecodeReloadResponse(frames[0].payload);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->generation, 2u);
  EXPECT_EQ(frames[1].status(), wire::Status::kReloadFailed);
  EXPECT_EQ(frames[1].error(), "bad line");
  EXPECT_EQ(frames[2].status(), wire::Status::kUnavailable);
}

TEST_F(HandlerTest, ResponsesCarryTheGenerationThatAnswered) {
  Start();
  EXPECT_EQ(Call(wire::Opcode::kPing, "").header.generation, 1u);
  holder_.Publish(Sample());
  EXPECT_EQ(Call(wire::Opcode::kPing, "").header.generation, 2u);
  EXPECT_EQ(Call(wire::Opcode::kCheck, CheckPayload({"11010519491231002X"})).header.generation, 2u);
}

TEST_F(HandlerTest, StaleListIsFlaggedAndMeasuresRefusedWhenConfigured) {
  config_.max_age_seconds = 3600;
  config_.refuse_stale = true;
  Start(Sample(static_cast<int64_t>(std::time(nullptr)) - 7200));
  const Answer check = Call(wire::Opcode::kCheck, CheckPayload({"11010519491231002X"}));
  EXPECT_EQ(check.status(), wire::Status::kOk);
  EXPECT_TRUE(check.stale());
  const Answer measures = Call(wire::Opcode::kMeasures, MeasuresPayload("11010519491231002X"));
  EXPECT_EQ(measures.status(), wire::Status::kStaleRefused);
  EXPECT_TRUE(measures.stale());
  const Answer info = Call(wire::Opcode::kInfo, "");
  EXPECT_TRUE(wire::DecodeInfoResponse(info.payload)->stale);
  EXPECT_EQ(wire::DecodeInfoResponse(info.payload)->max_age_seconds, 3600u);
}

TEST_F(HandlerTest, StaleListStillAnswersMeasuresByDefault) {
  config_.max_age_seconds = 3600;
  Start(Sample(static_cast<int64_t>(std::time(nullptr)) - 7200));
  const Answer measures = Call(wire::Opcode::kMeasures, MeasuresPayload("11010519491231002X"));
  EXPECT_EQ(measures.status(), wire::Status::kOk);
  EXPECT_TRUE(measures.stale());
}

// FORMAT.md 5: STALE describes the snapshot named by the generation, on every response,
// including those that use no snapshot (PING, HELLO, errors, fatal ones too).
TEST_F(HandlerTest, StaleFlagIsOnEveryResponse) {
  config_.max_age_seconds = 3600;
  Start(Sample(static_cast<int64_t>(std::time(nullptr)) - 7200));
  EXPECT_TRUE(Call(wire::Opcode::kPing, "").stale());
  EXPECT_TRUE(Call(wire::Opcode::kHello, Payload(wire::HelloRequest{1, 0, "x"})).stale());
  EXPECT_TRUE(Call(wire::Opcode::kCatalog, "").stale());
  const Answer invalid = Call(wire::Opcode::kDetail, "\x01x");
  EXPECT_EQ(invalid.status(), wire::Status::kInvalidId);
  EXPECT_TRUE(invalid.stale());
  const Answer fatal = CallRaw(99, "", Handler::Next::kClose);
  EXPECT_EQ(fatal.status(), wire::Status::kUnknownOpcode);
  EXPECT_TRUE(fatal.stale());
  std::string out;
  handler_->AppendFrameError(wire::DecodeFrame("GET", 4096), &out);
  ASSERT_EQ(Frames(out).size(), 1u);
  EXPECT_TRUE(Frames(out)[0].stale());
}

TEST_F(HandlerTest, FreshListIsNotStale) {
  config_.max_age_seconds = 3600;
  Start(Sample(static_cast<int64_t>(std::time(nullptr)) - 60));
  EXPECT_FALSE(Call(wire::Opcode::kPing, "").stale());
}

TEST_F(HandlerTest, WithoutAListOnlyHelloAndPingAnswer) {
  Start(nullptr);
  EXPECT_EQ(Call(wire::Opcode::kPing, "").status(), wire::Status::kOk);
  EXPECT_EQ(Call(wire::Opcode::kCheck, CheckPayload({"11010519491231002X"})).status(),
            wire::Status::kUnavailable);
  EXPECT_EQ(Call(wire::Opcode::kInfo, "").status(), wire::Status::kUnavailable);
  EXPECT_EQ(Call(wire::Opcode::kCatalog, "").status(), wire::Status::kUnavailable);
  // HELLO answers with no catalog id; no snapshot: generation 0, never STALE.
  const Answer hello = Call(wire::Opcode::kHello, Payload(wire::HelloRequest{1, 0, "x"}));
  EXPECT_EQ(hello.header.generation, 0u);
  EXPECT_FALSE(hello.stale());
  EXPECT_EQ(wire::DecodeHelloResponse(hello.payload)->catalog_id, "");
}

TEST_F(HandlerTest, FrameErrorsEchoWhatTheyCan) {
  Start();
  std::string out;
  const wire::Decoded bad = wire::DecodeFrame("GET / HTTP/1.1\r\n", 4096);
  ASSERT_EQ(bad.result, wire::DecodeResult::kInvalid);
  handler_->AppendFrameError(bad, &out);
  std::string big;
  wire::FrameHeader h = Request(wire::Opcode::kCheck, 42);
  h.payload_size = 5000;
  wire::AppendHeader(h, &big);
  const wire::Decoded too_large = wire::DecodeFrame(big, 4096);
  ASSERT_EQ(too_large.result, wire::DecodeResult::kInvalid);
  handler_->AppendFrameError(too_large, &out);
  handler_->AppendError(0, 0, wire::Status::kBusy, "too many connections", &out);
  std::string v2;
  h = Request(wire::Opcode::kInfo, 43);
  h.version = 2;
  wire::AppendHeader(h, &v2);
  const wire::Decoded unsupported = wire::DecodeFrame(v2, 4096);
  ASSERT_EQ(unsupported.result, wire::DecodeResult::kInvalid);
  handler_->AppendFrameError(unsupported, &out);
  const std::vector<Answer> frames = Frames(out);
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[0].header.request_id, 0u);
  EXPECT_EQ(frames[0].header.opcode, 0);
  // FORMAT.md 6: the header was read, so the request id and opcode are echoed; the response
  // speaks version 1.
  EXPECT_EQ(frames[3].status(), wire::Status::kUnsupportedVersion);
  EXPECT_EQ(frames[3].header.request_id, 43u);
  EXPECT_EQ(frames[3].header.opcode, static_cast<uint8_t>(wire::Opcode::kInfo));
  EXPECT_EQ(frames[3].header.version, 1);
  EXPECT_EQ(frames[0].status(), wire::Status::kBadFrame);
  EXPECT_EQ(frames[1].status(), wire::Status::kFrameTooLarge);
  EXPECT_EQ(frames[1].header.request_id, 42u);
  EXPECT_EQ(frames[1].header.generation, 1u);
  EXPECT_EQ(frames[2].status(), wire::Status::kBusy);
  EXPECT_EQ(frames[2].error(), "too many connections");
}

TEST_F(HandlerTest, PipelinedResponsesAppendInOrder) {
  Start();
  std::string out;
  for (uint32_t id = 1; id <= 3; ++id) {
    EXPECT_EQ(
        handler_->Handle(Request(wire::Opcode::kPing, id), "", Peer{"test", true}, &out, &reload_),
        Handler::Next::kContinue);
  }
  const std::vector<Answer> frames = Frames(out);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_THAT(std::vector<uint32_t>({frames[0].header.request_id, frames[1].header.request_id,
                                     frames[2].header.request_id}),
              ElementsAre(1u, 2u, 3u));
}

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

// Callers mode (issue 11): a handler over an Access read from a callers file with one caller
// per scope set ("c0" .. "c63": caller cN holds the scopes of the bits of N), a masked caller
// and one with a tight rate.
class HandlerCallersTest : public HandlerTest {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/handler_callers_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    std::vector<Caller> callers;
    for (ScopeSet set = 0; set < (ScopeSet{1} << kScopeCount); ++set) {
      callers.push_back(MakeCaller(absl::StrCat("c", set), set, View::kFull, 1000, 1000));
    }
    callers.push_back(MakeCaller("masked", ScopeBit(Scope::kCheck), View::kMasked, 1000, 1000));
    callers.push_back(MakeCaller("tight", ScopeBit(Scope::kCheck), View::kFull, 0.01, 2));
    // Masked, and by default only the agencies of the officer and related-person measures.
    Caller scoped = MakeCaller("scoped", kAllScopes, View::kMasked, 1000, 1000);
    const std::unique_ptr<Dataset> sample = Sample();
    const Catalog& catalog = sample->catalog;
    for (const Measure& m : catalog.measures()) {
      if (m.no == 18 || m.no == 26 || m.no == 52) {
        scoped.agencies.push_back(catalog.agencies()[m.agency].id);
      }
    }
    scoped_agencies_ = scoped.agencies;
    callers.push_back(std::move(scoped));
    absl::StatusOr<CallerTable> table = CallerTable::Create(std::move(callers));
    ASSERT_TRUE(table.ok()) << table.status();
    ASSERT_TRUE(WriteCallersFile(dir_ + "/callers.toml", *table).ok());
    absl::StatusOr<std::unique_ptr<Access>> access =
        Access::FromFile(dir_ + "/callers.toml", Sample()->catalog);
    ASSERT_TRUE(access.ok()) << access.status();
    access_ = *std::move(access);
    holder_.Publish(Sample());
    handler_ = std::make_unique<Handler>(config_, &holder_, clock_, nullptr, access_.get());
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  // A caller `id` with `scopes`, `view`, `rate` and `burst`, and a fresh token (tokens_).
  Caller MakeCaller(std::string id, ScopeSet scopes, View view, double rate, uint32_t burst) {
    const std::string name = id;
    return handler_testing::MakeCaller(std::move(id), scopes, view, rate, burst, &tokens_[name]);
  }

  // Starts a new connection whose first request is a version-3 HELLO as `id`; returns the
  // answer's caller block.
  wire::HelloResponse HelloAs(const std::string& id) {
    session_ = Session();
    wire::HelloRequest hello;
    hello.max_version = 3;
    hello.client_name = "handler_test";
    hello.caller_id = id;
    hello.token = tokens_[id];
    Answer a = Call(wire::Opcode::kHello, Payload(hello), Handler::Next::kContinue, false);
    EXPECT_EQ(a.status(), wire::Status::kOk) << a.error();
    absl::StatusOr<wire::HelloResponse> r = wire::DecodeHelloResponse(a.payload);
    EXPECT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(session_.version, 3);
    return r.ok() ? *r : wire::HelloResponse{};
  }

  // Sends `op` with `payload` on the session from a non-loopback peer (only scopes decide).
  // Returns the answer's status (kOk for an accepted RELOAD, which appends nothing) and sets
  // `*answer` if given.
  wire::Status StatusOf(wire::Opcode op, std::string_view payload, Answer* answer = nullptr) {
    wire::FrameHeader h = Request(op, ++last_id_);
    h.version = session_.version;
    std::string out;
    const Handler::Next next =
        handler_->Handle(h, payload, Peer{"192.0.2.9:1", false}, &out, &reload_, &session_);
    if (next == Handler::Next::kReload) {
      return out.empty() ? wire::Status::kOk : wire::Status::kInternal;
    }
    EXPECT_EQ(next, Handler::Next::kContinue) << wire::OpcodeName(op);
    std::vector<Answer> frames = Frames(out, h.version);
    EXPECT_EQ(frames.size(), 1u);
    if (frames.empty()) return wire::Status::kInternal;
    if (answer != nullptr) *answer = frames[0];
    return frames[0].status();
  }

  // The status of each opcode but HELLO, sent now on the session, by opcode name.
  std::map<std::string, wire::Status> EveryOpcode() {
    std::map<std::string, wire::Status> s;
    s["PING"] = StatusOf(wire::Opcode::kPing, "");
    s["CHECK"] = StatusOf(wire::Opcode::kCheck, Payload(wire::CheckRequest{{kListedId}}, 3));
    s["MEASURES"] = StatusOf(
        wire::Opcode::kMeasures,
        Payload(
            wire::MeasuresRequest{.id = kListedId, .agency = "", .scenario = "", .officers = {}},
            3));
    s["DETAIL"] = StatusOf(wire::Opcode::kDetail, Payload(wire::DetailRequest{.id = kListedId}, 3));
    s["INFO"] = StatusOf(wire::Opcode::kInfo, "");
    s["CATALOG"] = StatusOf(wire::Opcode::kCatalog, "");
    s["RELOAD"] = StatusOf(wire::Opcode::kReload, Payload(wire::ReloadRequest{}));
    return s;
  }

  // The names a CHECK of `ids` answers on the session.
  std::vector<std::string> NamesOf(const std::vector<std::string>& ids) {
    Answer a;
    EXPECT_EQ(StatusOf(wire::Opcode::kCheck, Payload(wire::CheckRequest{ids}, 3), &a),
              wire::Status::kOk);
    absl::StatusOr<std::vector<wire::CheckAnswer>> r = wire::DecodeCheckResponse(a.payload, 3);
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<std::string> names;
    if (r.ok()) {
      for (const wire::CheckAnswer& answer : *r) names.emplace_back(answer.name);
    }
    return names;
  }

  static constexpr char kListedId[] = "11010519491231002X";
  static constexpr char kRelatedId[] = "230402197203140038";  // related, not listed
  std::string dir_;
  std::map<std::string, std::string> tokens_;
  std::vector<std::string> scoped_agencies_;  // caller "scoped"'s
  std::unique_ptr<Access> access_;
};

TEST_F(HandlerCallersTest, BeforeAuthenticationOnlyHelloAndPingAnswer) {
  for (const auto& [op, status] : EveryOpcode()) {
    EXPECT_EQ(status, op == "PING" ? wire::Status::kOk : wire::Status::kUnauthenticated) << op;
  }
}

TEST_F(HandlerCallersTest, ScopeMatrixOverEveryOpcodeAndEveryScopeSet) {
  for (ScopeSet set = 0; set < (ScopeSet{1} << kScopeCount); ++set) {
    SCOPED_TRACE(set);
    const wire::HelloResponse hello = HelloAs(absl::StrCat("c", set));
    EXPECT_EQ(hello.mode, wire::SecurityMode::kCallers);
    EXPECT_EQ(hello.caller_id, absl::StrCat("c", set));
    EXPECT_EQ(hello.scopes, set);
    const auto needs = [&](Scope scope) {
      return HasScope(set, scope) ? wire::Status::kOk : wire::Status::kPermissionDenied;
    };
    const std::map<std::string, wire::Status> expected = {
        {"PING", wire::Status::kOk},           {"CHECK", needs(Scope::kCheck)},
        {"MEASURES", needs(Scope::kMeasures)}, {"DETAIL", needs(Scope::kDetail)},
        {"INFO", wire::Status::kOk},           {"CATALOG", wire::Status::kOk},
        {"RELOAD", needs(Scope::kAdmin)},
    };
    EXPECT_EQ(EveryOpcode(), expected);
    // A later HELLO without credentials repeats the block.
    wire::HelloRequest again;
    again.max_version = 3;
    Answer a;
    ASSERT_EQ(StatusOf(wire::Opcode::kHello, Payload(again), &a), wire::Status::kOk);
    EXPECT_EQ(wire::DecodeHelloResponse(a.payload)->scopes, set);
  }
}

TEST_F(HandlerCallersTest, AMaskedCheckMasksTheNameOfARelatedOnlyPerson) {
  HelloAs("c1");  // check, full view
  const std::vector<std::string> full = NamesOf({kListedId, kRelatedId});
  HelloAs("masked");
  const std::vector<std::string> masked = NamesOf({kListedId, kRelatedId});
  ASSERT_EQ(full.size(), 2u);
  ASSERT_EQ(masked.size(), 2u);
  EXPECT_EQ(masked[0], full[0]);  // listed: on the public list, kept
  EXPECT_EQ(masked[1], MaskName(full[1]));
  EXPECT_NE(masked[1], full[1]);
  EXPECT_FALSE(full[1].empty());
}

// MEASURES answers the bytes of Measures()'s result, filtered by the caller's agencies and
// masked for its view (what the handler did before it encoded from the catalog), for every
// subject of the sample and, for an organisation, with officers given too.
TEST_F(HandlerCallersTest, MeasuresAreMeasuresFilteredAndMaskedForEverySubject) {
  constexpr int64_t kNow = 1767225600;  // 2026-01-01
  clock_ = [] { return kNow; };
  handler_ = std::make_unique<Handler>(config_, &holder_, clock_, nullptr, access_.get());
  const std::unique_ptr<Dataset> d = Sample();
  const Snapshot& snap = *d->snapshot;
  std::vector<Officer> officers;  // the sample's first persons, as officers of every organisation
  for (EntityNo e = 0; e < snap.entity_count() && officers.size() < 3; ++e) {
    const Id id = snap.EntityId(e);
    if (id.subject_kind() == SubjectKind::kPerson) {
      officers.push_back(Officer{static_cast<Role>(officers.size()), id});
    }
  }
  ASSERT_EQ(officers.size(), 3u);
  std::map<BasisType, int> bases;
  size_t filtered = 0;
  for (const std::string caller : {"c63", "scoped"}) {
    HelloAs(caller);
    for (EntityNo e = 0; e < snap.entity_count(); ++e) {
      const Id id = snap.EntityId(e);
      for (bool with_officers : {false, true}) {
        if (with_officers && id.subject_kind() != SubjectKind::kOrganization) continue;
        wire::MeasuresRequest request{
            .id = std::string(id.text()), .agency = "", .scenario = "", .officers = {}};
        MeasureQuery query;
        query.at = kNow;
        if (with_officers) {
          query.officers = officers;
          for (const Officer& o : officers) request.officers.emplace_back(o.role, o.id.text());
        }
        absl::StatusOr<MeasuresResult> expected = Measures(d->list(), d->catalog, id, query);
        ASSERT_TRUE(expected.ok()) << expected.status();
        for (const MeasureInfo& m : expected->measures) {
          for (const Basis& b : m.basis) ++bases[b.type];
        }
        if (caller == "scoped") {
          filtered += std::erase_if(expected->measures, [&](const MeasureInfo& m) {
            return std::find(scoped_agencies_.begin(), scoped_agencies_.end(), m.agency) ==
                   scoped_agencies_.end();
          });
          Mask(View::kMasked, &*expected);
        }
        std::string bytes;
        wire::Encode(*expected, &bytes, 3);
        Answer a;
        ASSERT_EQ(StatusOf(wire::Opcode::kMeasures, Payload(request, 3), &a), wire::Status::kOk)
            << a.error();
        EXPECT_EQ(a.payload, bytes) << caller << " " << id.text();
      }
    }
  }
  EXPECT_GT(bases[BasisType::kListed], 0);
  EXPECT_GT(bases[BasisType::kRelated], 0);
  EXPECT_GT(bases[BasisType::kOfficer], 0);
  EXPECT_GT(filtered, 0u);
}

// A CHECK costs one token per ID: its big-endian count, not more (a one-ID CHECK once cost
// 256), and never more than the burst.
TEST_F(HandlerCallersTest, ACheckCostsOneTokenPerId) {
  HelloAs("tight");  // burst 2, a token per 100 s
  EXPECT_EQ(StatusOf(wire::Opcode::kCheck,
                     Payload(wire::CheckRequest{{kListedId, kListedId, kListedId}}, 3)),
            wire::Status::kInvalidArgument);
  EXPECT_EQ(StatusOf(wire::Opcode::kCheck, Payload(wire::CheckRequest{{kListedId}}, 3)),
            wire::Status::kOk);
  EXPECT_EQ(StatusOf(wire::Opcode::kCheck, Payload(wire::CheckRequest{{kListedId}}, 3)),
            wire::Status::kOk);
  Answer a;
  EXPECT_EQ(StatusOf(wire::Opcode::kCheck, Payload(wire::CheckRequest{{kListedId}}, 3), &a),
            wire::Status::kRateLimited);
  absl::StatusOr<wire::ErrorResponse> e =
      wire::DecodeError(a.payload, wire::Status::kRateLimited, 3);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_GT(e->retry_after_ms, 0u);
}

}  // namespace
}  // namespace shixin
