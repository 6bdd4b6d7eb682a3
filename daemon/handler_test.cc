#include "daemon/handler.h"

#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/test_util.h"
#include "daemon/handler_test_fixture.h"
#include "daemon/handler_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/messages.h"
#include "protocol/operator_messages.h"
#include "protocol/vectors_fixture.h"
#include "protocol/wire.h"

namespace shixin {
namespace {

using handler_testing::Answer;
using handler_testing::Frames;
using handler_testing::HandlerTest;
using handler_testing::Payload;
using handler_testing::Request;
using handler_testing::Sample;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

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

// An error message quotes the request's agency or scenario escaped: it stays UTF-8 text without
// controls (FORMAT.md 6), whatever bytes were sent.
TEST_F(HandlerTest, MeasuresErrorsQuoteTheRequestEscaped) {
  Start();
  const auto error = [&](const std::string& agency, const std::string& scenario) {
    const Answer a =
        Call(wire::Opcode::kMeasures, MeasuresPayload("11010519491231002X", agency, scenario));
    EXPECT_EQ(a.status(), wire::Status::kInvalidArgument);
    return a.error();
  };
  EXPECT_EQ(error("\xff\xfe", ""), "unknown agency \"\\xff\\xfe\"");
  EXPECT_EQ(error("", "\xc3"), "unknown scenario \"\\xc3\"");
  EXPECT_EQ(error("\x1b[31mred", ""), "unknown agency \"\\x1b[31mred\"");
  EXPECT_EQ(error("\x1b]0;pwn\x07\xe2\x80\xae", ""), "unknown agency \"\\x1b]0;pwn\\x07\\u202e\"");
  EXPECT_EQ(error("a\"b\\", ""), "unknown agency \"a\\\"b\\\\\"");
  // 64 bytes at most, not cutting a character: 22 of 3 bytes are 66.
  std::string long_agency;
  for (int i = 0; i < 22; ++i) long_agency += "局";
  EXPECT_EQ(error(long_agency, ""), "unknown agency \"" + long_agency.substr(0, 63) + "\"");
  // White space around a known one is what is wrong: the message says so.
  EXPECT_EQ(error("鹤岗市公安局 ", ""),
            "unknown agency \"鹤岗市公安局 \" (the white space around it is not part of any)");
  EXPECT_EQ(error("", "\xe3\x80\x80hotel\t"),
            "unknown scenario \"\xe3\x80\x80hotel\\t\" (the white space around it is not part "
            "of any)");
  // Whatever white space ParseId() ignores around an ID (core/id.h TrimSpaces()): U+00A0 too.
  EXPECT_EQ(error("\u00a0鹤岗市公安局\u3000\t", ""),
            "unknown agency \"\u00a0鹤岗市公安局\u3000\\t\" (the white space around it is not "
            "part of any)");
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
  const Session session;
  const auto received = std::chrono::steady_clock::now();
  handler_->AppendReloadResult(7, ReloadResult{absl::OkStatus(), 2, "generation 2"}, &out, session,
                               received);
  handler_->AppendReloadResult(8, ReloadResult{absl::AbortedError("bad line"), 2, "bad line"}, &out,
                               session, received);
  handler_->AppendReloadResult(
      9, ReloadResult{absl::UnavailableError("the daemon is stopping"), 0, ""}, &out, session,
      received);
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

// Pipelined RELOADs: the second reload published before the first one's answer is written.
// The answer's header names the first reload's snapshot, and its STALE flag is that list's
// (FORMAT.md 8.6), not the serving one's (before: header 3, payload 2, not stale).
TEST_F(HandlerTest, AReloadAnswerCarriesItsOwnGenerationWhenALaterOneServes) {
  config_.max_age_seconds = 3600;
  const auto now = static_cast<int64_t>(std::time(nullptr));
  Start(Sample(now - 7200));
  holder_.Publish(Sample(now - 7200));  // generation 2: the first reload's, stale
  holder_.Publish(Sample(now));         // generation 3: the second's, fresh
  std::string out;
  const Session session;
  const auto received = std::chrono::steady_clock::now();
  handler_->AppendReloadResult(7, ReloadResult{absl::OkStatus(), 2, "generation 2", now - 7200},
                               &out, session, received);
  handler_->AppendReloadResult(8, ReloadResult{absl::OkStatus(), 3, "generation 3", now}, &out,
                               session, received);
  const std::vector<Answer> frames = Frames(out);
  ASSERT_EQ(frames.size(), 2u);
  for (size_t i = 0; i < frames.size(); ++i) {
    ASSERT_EQ(frames[i].status(), wire::Status::kOk);
    absl::StatusOr<wire::ReloadResponse> r = wire::DecodeReloadResponse(frames[i].payload);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(frames[i].header.generation, r->generation) << "answer " << i;
    EXPECT_EQ(frames[i].header.generation, 2 + i);
  }
  EXPECT_TRUE(frames[0].stale());
  EXPECT_FALSE(frames[1].stale());
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

// The vectors of FORMAT.md 12 agree with what this server answers from the sample list: the
// CHECK and the INVALID_ID error byte for byte (the messages are the server's), and the
// officers of MEASURES in the order of 8.3 (the vector's other texts are illustrative: the
// sample does not name that organisation).
TEST_F(HandlerTest, TheVectorsAgreeWithWhatTheServerAnswers) {
  Start();
  const std::map<std::string, std::string> vectors = wire::LoadVectors();
  ASSERT_FALSE(vectors.empty()) << "SHIXIN_SOURCE_DIR is not set";
  // Returns the server's answer to the request vector `request` and the vector `response`.
  const auto answer = [&](const std::string& request, const std::string& response) {
    EXPECT_TRUE(vectors.contains(request) && vectors.contains(response));
    const wire::Decoded asked =
        wire::DecodeFrame(vectors.at(request), config_.max_payload, wire::kVersion);
    const wire::Decoded vector =
        wire::DecodeFrame(vectors.at(response), wire::kMaxPayloadLimit, wire::kVersion);
    EXPECT_EQ(asked.result, wire::DecodeResult::kComplete);
    EXPECT_EQ(vector.result, wire::DecodeResult::kComplete);
    const Answer a = Call(static_cast<wire::Opcode>(asked.header.opcode), asked.payload);
    EXPECT_EQ(a.header.status, vector.header.status) << response;
    return std::make_pair(a.payload, std::string(vector.payload));
  };
  for (const auto& [request, response] :
       {std::pair<std::string, std::string>{"check_request", "check_response"},
        {"detail_request_invalid", "error_response"}}) {
    const auto [server, vector] = answer(request, response);
    EXPECT_EQ(server, vector) << response;
  }
  const auto [server, vector] = answer("measures_request_officers", "measures_response_officers");
  const absl::StatusOr<MeasuresResult> ours = wire::DecodeMeasuresResponse(server);
  const absl::StatusOr<MeasuresResult> theirs = wire::DecodeMeasuresResponse(vector);
  ASSERT_TRUE(ours.ok() && theirs.ok());
  ASSERT_FALSE(ours->subject.officers.empty());
  EXPECT_EQ(ours->subject.officers, theirs->subject.officers);
}

}  // namespace
}  // namespace shixin
