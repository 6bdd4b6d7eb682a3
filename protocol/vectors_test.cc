// Checks the encoders and decoders against protocol/testdata/vectors.txt, the test vectors of
// FORMAT.md (written independently of this code).
#include <string>

#include "absl/strings/str_format.h"
#include "core/id.h"
#include "core/scope.h"
#include "gtest/gtest.h"
#include "protocol/messages.h"
#include "protocol/operator_messages.h"
#include "protocol/test_messages.h"
#include "protocol/vectors_fixture.h"
#include "protocol/wire.h"

namespace shixin::wire {
namespace {

constexpr char kChen[] = "陈海波";
constexpr char kHengtai[] = "泉州市恒泰贸易有限公司";
constexpr char kHengtaiId[] = "91350503MA2XK7R352";
constexpr char kJinshanId[] = "912304216987123405";
constexpr char kJinshan[] = "萝北县金山石墨科技有限公司";
constexpr char kWangId[] = "230402198503150611";
constexpr char kBadCheck[] = "bad check character: expected X, found 1";

TEST_F(VectorsTest, Hello) {
  HelloRequest req{1, 0, "bank-loan-gw/2.1"};
  EXPECT_EQ(Frame(Opcode::kHello, 1, Enc(req)), Vector("hello_request"));
  HelloResponse resp{1, 0, 1048576, 1000, 64, "shixind/0.1.0", "hegang-2018"};
  EXPECT_EQ(Frame(Opcode::kHello, 1, Enc(resp), kResp, 3), Vector("hello_response"));

  absl::StatusOr<HelloRequest> r = DecodeHelloRequest(Payload("hello_request"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->max_version, 1);
  EXPECT_EQ(r->client_name, "bank-loan-gw/2.1");
  absl::StatusOr<HelloResponse> s = DecodeHelloResponse(Payload("hello_response"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->version, 1);
  EXPECT_EQ(s->max_payload, 1048576u);
  EXPECT_EQ(s->max_batch, 1000);
  EXPECT_EQ(s->max_in_flight, 64);
  EXPECT_EQ(s->server_name, "shixind/0.1.0");
  EXPECT_EQ(s->catalog_id, "hegang-2018");
}

TEST_F(VectorsTest, Ping) {
  EXPECT_EQ(Frame(Opcode::kPing, 2, ""), Vector("ping_request"));
  EXPECT_EQ(Frame(Opcode::kPing, 2, "", kResp, 3), Vector("ping_response"));
  FrameHeader h;
  EXPECT_TRUE(DecodeEmpty(Payload("ping_response", &h)).ok());
  EXPECT_EQ(h.opcode, static_cast<uint8_t>(Opcode::kPing));
  EXPECT_EQ(h.flags, kFlagResponse);
  EXPECT_EQ(h.request_id, 2u);
  EXPECT_EQ(h.generation, 3u);
  EXPECT_EQ(h.status, 0);
}

TEST_F(VectorsTest, Check) {
  CheckRequest req{
      {"11010519491231002X", "230402197203140038", "230402199001010015", "110105194912310021"}};
  EXPECT_EQ(Frame(Opcode::kCheck, 3, Enc(req)), Vector("check_request"));
  std::string payload;
  AppendCheckCount(4, &payload);
  AppendCheckAnswer(
      {CheckStatus::kListed, "", "11010519491231002X", SubjectKind::kPerson, 2, 0, "张秀兰"},
      &payload);
  AppendCheckAnswer(
      {CheckStatus::kRelated, "", "230402197203140038", SubjectKind::kPerson, 0, 1, kChen},
      &payload);
  AppendCheckAnswer(UnlistedAnswer("230402199001010015"), &payload);
  AppendCheckAnswer(InvalidAnswer(kBadCheck), &payload);
  EXPECT_EQ(Frame(Opcode::kCheck, 3, payload, kResp, 3), Vector("check_response"));

  absl::StatusOr<CheckRequest> r = DecodeCheckRequest(Payload("check_request"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ids, req.ids);
  absl::StatusOr<std::vector<CheckAnswer>> a = DecodeCheckResponse(Payload("check_response"));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 4u);
  EXPECT_EQ((*a)[0].status, CheckStatus::kListed);
  EXPECT_EQ((*a)[0].id, "11010519491231002X");
  EXPECT_EQ((*a)[0].cases, 2);
  EXPECT_EQ((*a)[0].name, "张秀兰");
  EXPECT_EQ((*a)[1].status, CheckStatus::kRelated);
  EXPECT_EQ((*a)[1].roles, 1);
  EXPECT_EQ((*a)[1].name, kChen);
  EXPECT_EQ((*a)[2].status, CheckStatus::kUnlisted);
  EXPECT_EQ((*a)[2].id, "230402199001010015");
  EXPECT_EQ((*a)[3].status, CheckStatus::kInvalid);
  EXPECT_EQ((*a)[3].error, kBadCheck);
}

TEST_F(VectorsTest, StaleCheck) {
  EXPECT_EQ(Frame(Opcode::kCheck, 4, Enc(CheckRequest{{kHengtaiId}})),
            Vector("check_request_single"));
  std::string payload;
  AppendCheckCount(1, &payload);
  AppendCheckAnswer(
      {CheckStatus::kListed, "", kHengtaiId, SubjectKind::kOrganization, 2, 0, kHengtai}, &payload);
  EXPECT_EQ(Frame(Opcode::kCheck, 4, payload, kFlagResponse | kFlagStale, 3),
            Vector("check_response_stale"));
  FrameHeader h;
  absl::StatusOr<std::vector<CheckAnswer>> a =
      DecodeCheckResponse(Payload("check_response_stale", &h));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(h.flags, kFlagResponse | kFlagStale);
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ((*a)[0].kind, SubjectKind::kOrganization);
  EXPECT_EQ((*a)[0].name, kHengtai);
}

TEST_F(VectorsTest, MeasuresRelated) {
  MeasuresRequest req{"230402197203140038", "", "hotel", {}};
  EXPECT_EQ(Frame(Opcode::kMeasures, 5, Enc(req)), Vector("measures_request"));
  MeasuresResult resp;
  resp.subject.id = "230402197203140038";
  resp.subject.related = true;
  resp.subject.name = kChen;
  resp.subject.roles = {MakeRole(Role::kLegalRepresentative, kHengtaiId, kHengtai, true)};
  MeasureInfo m;
  m.no = 41;
  m.effect = Effect::kRestrict;
  m.agency = "public_security";
  m.agency_name = "鹤岗市公安局";
  m.title = "协助法院进行住宿宾馆饭店限制";
  m.basis = {Basis{BasisType::kRelated, Role::kLegalRepresentative, kHengtaiId, kHengtai,
                   std::nullopt, "", ""}};
  resp.measures = {m};
  EXPECT_EQ(Frame(Opcode::kMeasures, 5, Enc(resp), kResp, 3), Vector("measures_response"));

  absl::StatusOr<MeasuresRequest> r = DecodeMeasuresRequest(Payload("measures_request"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id, "230402197203140038");
  EXPECT_EQ(r->agency, "");
  EXPECT_EQ(r->scenario, "hotel");
  EXPECT_TRUE(r->officers.empty());
  absl::StatusOr<MeasuresResult> s = DecodeMeasuresResponse(Payload("measures_response"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->subject.related);
  EXPECT_FALSE(s->subject.listed);
  ASSERT_EQ(s->subject.roles.size(), 1u);
  EXPECT_EQ(s->subject.roles[0].id, kHengtaiId);
  EXPECT_TRUE(s->subject.roles[0].listed);
  ASSERT_EQ(s->measures.size(), 1u);
  EXPECT_EQ(s->measures[0].no, 41);
  ASSERT_EQ(s->measures.size(), 1u);
  EXPECT_EQ(s->measures[0].title, "协助法院进行住宿宾馆饭店限制");
  ASSERT_EQ(s->measures[0].basis.size(), 1u);
  EXPECT_EQ(s->measures[0].basis[0].type, BasisType::kRelated);
  EXPECT_EQ(s->measures[0].basis[0].role, Role::kLegalRepresentative);
  EXPECT_EQ(s->measures[0].basis[0].via_role, std::nullopt);
  EXPECT_EQ(s->measures[0].basis[0].via_name, kHengtai);
}

TEST_F(VectorsTest, MeasuresOfficer) {
  MeasuresRequest req{kJinshanId, "finance", "", {{Role::kDirector, kWangId}}};
  EXPECT_EQ(Frame(Opcode::kMeasures, 6, Enc(req)), Vector("measures_request_officers"));
  MeasuresResult resp;
  resp.subject.id = kJinshanId;
  resp.subject.kind = SubjectKind::kOrganization;
  // Neither listed nor related: not named, and of its officers only the listed one is shown
  // (FORMAT.md 8.3).
  resp.subject.officers = {MakeRole(Role::kDirector, kWangId, "王建国", true)};
  MeasureInfo m;
  m.no = 18;
  m.effect = Effect::kReview;
  m.agency = "finance";
  m.agency_name = "鹤岗市财政局";
  m.title = "获得政策支持限制";
  m.basis = {Basis{BasisType::kOfficer, Role::kDirector, "", "", std::nullopt, kWangId, "王建国"}};
  resp.measures = {m};
  EXPECT_EQ(Frame(Opcode::kMeasures, 6, Enc(resp), kResp, 3), Vector("measures_response_officers"));

  absl::StatusOr<MeasuresRequest> r = DecodeMeasuresRequest(Payload("measures_request_officers"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->officers.size(), 1u);
  EXPECT_EQ(r->officers[0].first, Role::kDirector);
  EXPECT_EQ(r->officers[0].second, kWangId);
  absl::StatusOr<MeasuresResult> s = DecodeMeasuresResponse(Payload("measures_response_officers"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->subject.kind, SubjectKind::kOrganization);
  EXPECT_EQ(s->subject.name, "");
  ASSERT_EQ(s->subject.officers.size(), 1u);
  EXPECT_EQ(s->subject.officers[0].role, Role::kDirector);
  EXPECT_TRUE(s->subject.officers[0].listed);
  ASSERT_EQ(s->measures.size(), 1u);
  EXPECT_EQ(s->measures[0].effect, Effect::kReview);
  EXPECT_EQ(s->measures[0].basis[0].type, BasisType::kOfficer);
  EXPECT_EQ(s->measures[0].basis[0].officer_name, "王建国");
}

// The case of 王建国 in the DETAIL vectors (version-1 fields), with `duty`.
CaseInfo WangCase(std::string duty) {
  CaseInfo c;
  c.reg_date = 20200608;
  c.publish_date = 20201021;
  c.age = 35;
  c.sex = Sex::kMale;
  c.case_code = "（2020）黑0403执567号";
  c.court = "鹤岗市工农区人民法院";
  c.area = "黑龙江";
  c.gist_id = "（2019）黑0403民初1342号";
  c.gist_unit = "鹤岗市工农区人民法院";
  c.duty = std::move(duty);
  c.performance = "全部未履行";
  c.performed_part = "暂无";
  c.unperform_part = "暂无";
  c.disrupt_type = "违反财产报告制度";
  return c;
}

TEST_F(VectorsTest, Detail) {
  EXPECT_EQ(Frame(Opcode::kDetail, 7, Enc(DetailRequest{kWangId})), Vector("detail_request"));
  CheckResult resp;
  resp.id = kWangId;
  resp.listed = true;
  resp.name = "王建国";
  resp.roles = {MakeRole(Role::kDirector, kJinshanId, kJinshan, false)};
  const CaseInfo c =
      WangCase("被告王建国于本判决生效后十日内支付原告鹤岗市宝泰建材有限公司货款126000元");
  resp.cases = {c};
  EXPECT_EQ(Frame(Opcode::kDetail, 7, Enc(resp), kResp, 3), Vector("detail_response"));

  absl::StatusOr<DetailRequest> r = DecodeDetailRequest(Payload("detail_request"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id, kWangId);
  absl::StatusOr<CheckResult> s = DecodeDetailResponse(Payload("detail_response"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->listed);
  EXPECT_EQ(s->name, "王建国");
  ASSERT_EQ(s->roles.size(), 1u);
  EXPECT_EQ(s->roles[0].name, kJinshan);
  ASSERT_EQ(s->cases.size(), 1u);
  EXPECT_EQ(s->cases[0].reg_date, 20200608u);
  EXPECT_EQ(s->cases[0].sex, Sex::kMale);
  EXPECT_EQ(s->cases[0].duty, c.duty);
  EXPECT_EQ(s->cases[0].disrupt_type, "违反财产报告制度");
  EXPECT_EQ(s->cases[0].business_entity, "");
}

// The INFO answer of info_response (and, with a delta state, of v2_info_response).
InfoResponse InfoVector() {
  InfoResponse info;
  info.snapshot = SnapshotInfo{.version = 0x0123456789abcdefu,
                               .build_time = 1718000000,
                               .source_time = 1717990000,
                               .subjects = 12,
                               .persons = 7,
                               .organizations = 5,
                               .cases = 14,
                               .relations = 14,
                               .related_persons = 10,
                               .entities = 24};
  info.generation = 3;
  info.uptime_seconds = 86400;
  info.max_age_seconds = 172800;
  info.reload_state = ReloadState::kOk;
  info.last_reload_time = 1718000000;
  info.last_reload_message = "generation 3: 14 cases, 14 relations";
  info.catalog_id = "hegang-2018";
  info.catalog_fingerprint = 0xfedcba9876543210u;
  info.data_source = "/var/lib/shixin/current";
  return info;
}

TEST_F(VectorsTest, Info) {
  EXPECT_EQ(Frame(Opcode::kInfo, 8, ""), Vector("info_request"));
  InfoResponse info = InfoVector();
  EXPECT_EQ(Frame(Opcode::kInfo, 8, Enc(info), kResp, 3), Vector("info_response"));

  absl::StatusOr<InfoResponse> s = DecodeInfoResponse(Payload("info_response"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->snapshot.version, 0x0123456789abcdefu);
  EXPECT_EQ(s->snapshot.entities, 24u);
  EXPECT_EQ(s->snapshot.source_time, 1717990000);
  EXPECT_EQ(s->max_age_seconds, 172800u);
  EXPECT_FALSE(s->stale);
  EXPECT_EQ(s->reload_state, ReloadState::kOk);
  EXPECT_EQ(s->catalog_fingerprint, 0xfedcba9876543210u);
  EXPECT_EQ(s->data_source, "/var/lib/shixin/current");

  // FORMAT.md 8.5: a client that is not admin gets the reload state without the message, and
  // no data source.
  EXPECT_EQ(Frame(Opcode::kInfo, 13, ""), Vector("info_request_public"));
  info.reload_state = ReloadState::kFailed;
  info.last_reload_message = "";
  info.data_source = "";
  EXPECT_EQ(Frame(Opcode::kInfo, 13, Enc(info), kResp, 3), Vector("info_response_public"));
  s = DecodeInfoResponse(Payload("info_response_public"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->reload_state, ReloadState::kFailed);
  EXPECT_EQ(s->last_reload_message, "");
  EXPECT_EQ(s->data_source, "");
  EXPECT_EQ(s->snapshot.subjects, 12u);
}

TEST_F(VectorsTest, Reload) {
  EXPECT_EQ(Frame(Opcode::kReload, 9, ""), Vector("reload_request"));
  ReloadResponse resp{4, "generation 4: 14 cases, 14 relations"};
  EXPECT_EQ(Frame(Opcode::kReload, 9, Enc(resp), kResp, 4), Vector("reload_response"));
  absl::StatusOr<ReloadResponse> s = DecodeReloadResponse(Payload("reload_response"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->generation, 4u);
  EXPECT_EQ(s->message, resp.message);

  // FORMAT.md 8.6: the flags byte, sent only when a flag is set.
  absl::StatusOr<ReloadRequest> r = DecodeReloadRequest(Payload("reload_request"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->allow_shrink);
  EXPECT_EQ(Frame(Opcode::kReload, 9, Enc(*r)), Vector("reload_request"));
  EXPECT_EQ(Frame(Opcode::kReload, 12, Enc(ReloadRequest{.allow_shrink = true})),
            Vector("reload_request_allow_shrink"));
  r = DecodeReloadRequest(Payload("reload_request_allow_shrink"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->allow_shrink);
}

TEST_F(VectorsTest, Errors) {
  EXPECT_EQ(Frame(Opcode::kDetail, 10, Enc(DetailRequest{"110105194912310021"})),
            Vector("detail_request_invalid"));
  std::string payload;
  EncodeError(kBadCheck, &payload);
  EXPECT_EQ(Frame(Opcode::kDetail, 10, payload, kResp, 4, Status::kInvalidId),
            Vector("error_response"));
  payload.clear();
  EncodeError("unknown opcode 42", &payload);
  EXPECT_EQ(Frame(static_cast<Opcode>(42), 11, payload, kResp, 4, Status::kUnknownOpcode),
            Vector("error_response_fatal"));

  FrameHeader h;
  absl::StatusOr<std::string> m = DecodeError(Payload("error_response", &h));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(*m, kBadCheck);
  EXPECT_EQ(static_cast<Status>(h.status), Status::kInvalidId);
  EXPECT_FALSE(IsFatal(static_cast<Status>(h.status)));
  m = DecodeError(Payload("error_response_fatal", &h));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(*m, "unknown opcode 42");
  EXPECT_TRUE(IsFatal(static_cast<Status>(h.status)));
  EXPECT_FALSE(IsKnownOpcode(h.opcode, kMaxVersion));
}

TEST_F(VectorsTest, HelloAnnouncingCatalog) {
  HelloResponse resp{1, kCapabilityCatalog, 1048576, 1000, 128, "shixind/0.1.0", "hegang-2018"};
  EXPECT_EQ(Frame(Opcode::kHello, 14, Enc(resp), kResp, 3), Vector("hello_response_catalog"));
  absl::StatusOr<HelloResponse> s = DecodeHelloResponse(Payload("hello_response_catalog"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->capabilities, kCapabilityCatalog);
  EXPECT_EQ(s->max_in_flight, 128);
}

TEST_F(VectorsTest, Catalog) {
  EXPECT_EQ(Frame(Opcode::kCatalog, 15, ""), Vector("catalog_request"));
  CatalogResponse c;
  c.id = "hegang-2018";
  c.title = "备忘录";
  c.fingerprint = 0xfedcba9876543210u;
  c.agencies = {{"propaganda_dept", "（二）", "中共鹤岗市委宣传部"},
                {"public_security", "（二十三）", "鹤岗市公安局"},
                {"tax", "（二十五）", "国家税务总局鹤岗市税务局"}};
  c.scenarios = {
      {"hotel", "Stays at hotels."}, {"policy_support", ""}, {"tax", "Tax credit rating."}};
  c.measures = {
      {5, Effect::kPublicity, "propaganda_dept", "加大宣传力度", {}},
      {41, Effect::kRestrict, "public_security", "协助法院进行住宿宾馆饭店限制", {"hotel"}},
      {45, Effect::kReview, "tax", "获得政策支持限制", {"policy_support", "tax"}}};
  EXPECT_EQ(Frame(Opcode::kCatalog, 15, Enc(c), kResp, 3), Vector("catalog_response"));

  FrameHeader h;
  EXPECT_TRUE(DecodeEmpty(Payload("catalog_request", &h)).ok());
  EXPECT_EQ(h.opcode, 8);
  absl::StatusOr<CatalogResponse> d = DecodeCatalogResponse(Payload("catalog_response"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->fingerprint, 0xfedcba9876543210u);
  ASSERT_EQ(d->agencies.size(), 3u);
  EXPECT_EQ(d->agencies[1].section, "（二十三）");
  ASSERT_EQ(d->scenarios.size(), 3u);
  EXPECT_EQ(d->scenarios[1].description, "");
  ASSERT_EQ(d->measures.size(), 3u);
  EXPECT_TRUE(d->measures[0].scenarios.empty());
  EXPECT_EQ(d->measures[1].title, "协助法院进行住宿宾馆饭店限制");
  EXPECT_EQ(d->measures[2].effect, Effect::kReview);
  EXPECT_EQ(d->measures[2].scenarios, (std::vector<std::string>{"policy_support", "tax"}));
}

// FORMAT.md 2 and 6: DecodeFrame reads the invalid requests as the spec says, and the fatal
// answers built from what it read (as shixind builds them) are the vectors' bytes.
TEST_F(VectorsTest, FatalAnswersEchoWhatTheHeaderGives) {
  FrameHeader v2;
  v2.version = 2;
  v2.opcode = static_cast<uint8_t>(Opcode::kInfo);
  v2.request_id = 16;
  std::string request;
  AppendHeader(v2, &request);
  EXPECT_EQ(request, Vector("invalid_version_request"));
  Decoded d = DecodeFrame(Vector("invalid_version_request"), kMaxPayloadLimit);
  ASSERT_EQ(d.result, DecodeResult::kInvalid);
  EXPECT_EQ(d.error, Status::kUnsupportedVersion);
  std::string payload;
  EncodeError(d.message, &payload);
  EXPECT_EQ(
      Frame(static_cast<Opcode>(d.header.opcode), d.header.request_id, payload, kResp, 3, d.error),
      Vector("error_unsupported_version"));

  d = DecodeFrame(Vector("invalid_magic_request"), kMaxPayloadLimit);
  ASSERT_EQ(d.result, DecodeResult::kInvalid);
  EXPECT_EQ(d.error, Status::kBadFrame);
  payload.clear();
  EncodeError(d.message, &payload);
  EXPECT_EQ(
      Frame(static_cast<Opcode>(d.header.opcode), d.header.request_id, payload, kResp, 3, d.error),
      Vector("error_bad_magic"));
  FrameHeader h;
  absl::StatusOr<std::string> m = DecodeError(Payload("error_bad_magic", &h));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(*m, "bad magic byte 0x47");
  EXPECT_EQ(h.request_id, 0u);
  EXPECT_EQ(h.opcode, 0);
  EXPECT_TRUE(IsFatal(static_cast<Status>(h.status)));
}

TEST_F(VectorsTest, HelloWithMaxVersionZero) {
  const HelloRequest req{0, 0, "old-client/0.9"};
  EXPECT_EQ(Frame(Opcode::kHello, 17, Enc(req)), Vector("hello_request_version_0"));
  absl::StatusOr<HelloRequest> r = DecodeHelloRequest(Payload("hello_request_version_0"));
  ASSERT_FALSE(r.ok());
  // shixind's message for a payload that does not decode: "<OPCODE> payload: <why>".
  std::string payload;
  EncodeError(absl::StrFormat("HELLO payload: %s", r.status().message()), &payload);
  EXPECT_EQ(Frame(Opcode::kHello, 17, payload, kResp, 3, Status::kBadPayload),
            Vector("error_hello_version_0"));
}

TEST_F(VectorsTest, StalePing) {
  EXPECT_EQ(Frame(Opcode::kPing, 18, "", kFlagResponse | kFlagStale, 3),
            Vector("ping_response_stale"));
}

// FORMAT.md 7: IDs typed with separators, and ParseId agrees with the vector's answers.
TEST_F(VectorsTest, CheckGroupedIds) {
  const std::vector<std::string> ids = {"230402 19720314 0038", "91 350503 MA2XK7R352",
                                        "230402\u300019720314\u30000038", "230402 1972 0314 0038"};
  EXPECT_EQ(Frame(Opcode::kCheck, 19, Enc(CheckRequest{ids})), Vector("check_request_grouped"));
  const std::string bad_grouping =
      "bad character ' ' at position 12: spaces and hyphens may only separate the groups 6-8-4 "
      "(resident ID), 2-6-10 (credit code), 2-6-9-1 (credit code)";
  std::string payload;
  AppendCheckCount(4, &payload);
  const CheckAnswer chen{
      CheckStatus::kRelated, "", "230402197203140038", SubjectKind::kPerson, 0, 1, kChen};
  AppendCheckAnswer(chen, &payload);
  AppendCheckAnswer(
      {CheckStatus::kListed, "", kHengtaiId, SubjectKind::kOrganization, 2, 0, kHengtai}, &payload);
  AppendCheckAnswer(chen, &payload);
  AppendCheckAnswer(InvalidAnswer(bad_grouping), &payload);
  EXPECT_EQ(Frame(Opcode::kCheck, 19, payload, kResp, 3), Vector("check_response_grouped"));

  absl::StatusOr<std::vector<CheckAnswer>> a =
      DecodeCheckResponse(Payload("check_response_grouped"));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    absl::StatusOr<Id> id = ParseId(ids[i]);
    if ((*a)[i].status == CheckStatus::kInvalid) {
      ASSERT_FALSE(id.ok()) << ids[i];
      EXPECT_EQ(std::string(id.status().message()), (*a)[i].error);
    } else {
      ASSERT_TRUE(id.ok()) << ids[i] << ": " << id.status();
      EXPECT_EQ(id->text(), (*a)[i].id);
    }
  }
}

// All vectors that are frames, concatenated, decode as a stream of frames.
TEST_F(VectorsTest, AllDecodeAsOneStream) {
  std::string stream;
  size_t expected = 0;
  for (const auto& [name, bytes] : *vectors_) {
    if (name.starts_with("invalid_")) continue;  // not frames (see the file's head)
    stream += bytes;
    ++expected;
  }
  size_t frames = 0;
  std::string_view rest = stream;
  while (!rest.empty()) {
    // Each frame as its connection reads it (version 2 frames follow a HELLO to version 2).
    const auto version = static_cast<uint8_t>(rest.size() > 2 ? rest[2] : 0);
    Decoded d = DecodeFrame(rest, kMaxPayloadLimit, version);
    ASSERT_EQ(d.result, DecodeResult::kComplete) << "frame " << frames;
    rest.remove_prefix(d.consumed);
    ++frames;
  }
  EXPECT_EQ(frames, expected);
  EXPECT_EQ(vectors_->size() - expected, 2u);  // invalid_version_request, invalid_magic_request
}

// Version 2 (FORMAT.md 13): the v2_ vectors, made by a second encoder from the text alone.
constexpr uint8_t kV2 = 2;
constexpr int64_t kAsOf = 1780452000;  // 2026-06-03T10:00:00+08:00

// Checks a decoded subject's listing stretch.
void ExpectStretch(const CheckResult& subject, int64_t since, int64_t until) {
  EXPECT_EQ(subject.since, since);
  EXPECT_EQ(subject.until, until);
}

// Checks that a decoded version-2 request asks as of kAsOf.
template <typename M>
void ExpectAsOf(const absl::StatusOr<M>& request) {
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->as_of, kAsOf);
}

TEST_F(VectorsTest, V2Hello) {
  const HelloRequest req{2, 0, "bank-loan-gw/3.0"};
  EXPECT_EQ(Frame(Opcode::kHello, 20, Enc(req)), Vector("v2_hello_request"));
  const HelloResponse resp{2,   kCapabilityCatalog, 1048576,      1000,
                           128, "shixind/0.1.0",    "hegang-2018"};
  // Both frames of the HELLO exchange carry version 1 in the header (FORMAT.md 4).
  EXPECT_EQ(Frame(Opcode::kHello, 20, Enc(resp), kResp, 3), Vector("v2_hello_response"));
  absl::StatusOr<HelloResponse> s = DecodeHelloResponse(Payload("v2_hello_response"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->version, 2);
}

TEST_F(VectorsTest, V2Check) {
  const CheckRequest now{{"11010519491231002X", "91350503MA2XK7R352", "230402197203140038"}};
  EXPECT_EQ(Frame(Opcode::kCheck, 21, Enc(now, kV2), 0, 0, Status::kOk, kV2),
            Vector("v2_check_request"));
  const CheckRequest as_of{{"11010519491231002X"}, kAsOf};
  EXPECT_EQ(Frame(Opcode::kCheck, 22, Enc(as_of, kV2), 0, 0, Status::kOk, kV2),
            Vector("v2_check_request_as_of"));
  // The same requests in version 1 have no as_of.
  EXPECT_EQ(Enc(now, kV2), Enc(now) + std::string(8, '\0'));

  std::string payload;
  AppendCheckCount(3, &payload);
  CheckAnswer zhang{
      CheckStatus::kListed, "", "11010519491231002X", SubjectKind::kPerson, 2, 0, "张秀兰"};
  zhang.since = 1534694400;  // 2018-08-20T00:00:00+08:00, no known end
  AppendCheckAnswer(zhang, &payload, kV2);
  CheckAnswer hengtai{
      CheckStatus::kListed, "", kHengtaiId, SubjectKind::kOrganization, 2, 0, kHengtai};
  hengtai.since = 1551369600;  // 2019-03-01T00:00:00+08:00
  hengtai.until = 1803830400;  // 2027-03-01T00:00:00+08:00
  AppendCheckAnswer(hengtai, &payload, kV2);
  CheckAnswer chen{
      CheckStatus::kRelated, "", "230402197203140038", SubjectKind::kPerson, 0, 1, kChen};
  AppendCheckAnswer(chen, &payload, kV2);
  EXPECT_EQ(Frame(Opcode::kCheck, 21, payload, kResp, 3, Status::kOk, kV2),
            Vector("v2_check_response"));

  ExpectAsOf(DecodeCheckRequest(Payload("v2_check_request_as_of", nullptr, kV2), kV2));
  absl::StatusOr<CheckRequest> r =
      DecodeCheckRequest(Payload("v2_check_request", nullptr, kV2), kV2);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->as_of, kAsOfNow);
  EXPECT_EQ(r->ids, now.ids);
  // Read as version 1, the as_of is 8 trailing bytes.
  EXPECT_FALSE(DecodeCheckRequest(Payload("v2_check_request", nullptr, kV2)).ok());

  absl::StatusOr<std::vector<CheckAnswer>> a =
      DecodeCheckResponse(Payload("v2_check_response", nullptr, kV2), kV2);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 3u);
  EXPECT_EQ((*a)[0].since, 1534694400);
  EXPECT_EQ((*a)[0].until, kForever);
  EXPECT_EQ((*a)[1].since, 1551369600);
  EXPECT_EQ((*a)[1].until, 1803830400);
  EXPECT_EQ((*a)[2].status, CheckStatus::kRelated);
  EXPECT_EQ((*a)[2].since, 0);
  EXPECT_EQ((*a)[2].until, kForever);
}

TEST_F(VectorsTest, V2OutOfRange) {
  const CheckRequest old{{"11010519491231002X"}, 1000000000};
  EXPECT_EQ(Frame(Opcode::kCheck, 23, Enc(old, kV2), 0, 0, Status::kOk, kV2),
            Vector("v2_check_request_out_of_range"));
  const std::string message =
      "as-of 2001-09-09T09:46:40+08:00 is outside the history window "
      "(2021-06-03T10:00:00+08:00 to now, 2026-06-03T10:00:00+08:00)";
  std::string payload;
  EncodeError(message, &payload);
  EXPECT_EQ(Frame(Opcode::kCheck, 23, payload, kResp, 3, Status::kOutOfRange, kV2),
            Vector("v2_error_out_of_range"));
  FrameHeader h;
  absl::StatusOr<std::string> m = DecodeError(Payload("v2_error_out_of_range", &h, kV2));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(*m, message);
  EXPECT_EQ(StatusName(static_cast<Status>(h.status)), "OUT_OF_RANGE");
  EXPECT_FALSE(IsFatal(static_cast<Status>(h.status)));
}

TEST_F(VectorsTest, V2Detail) {
  EXPECT_EQ(
      Frame(Opcode::kDetail, 24, Enc(DetailRequest{kWangId, kAsOf}, kV2), 0, 0, Status::kOk, kV2),
      Vector("v2_detail_request_as_of"));
  CheckResult resp;
  resp.id = kWangId;
  resp.listed = true;
  resp.since = 1603209600;  // 2020-10-21T00:00:00+08:00
  resp.until = 1782869400;  // 2026-07-01T09:30:00+08:00: revoked after the instant
  resp.name = "王建国";
  resp.roles = {MakeRole(Role::kDirector, kJinshanId, kJinshan, false)};
  CaseInfo c = WangCase("被告王建国于本判决生效后十日内支付原告货款126000元");
  c.term_end = 20270831;
  c.start = resp.since;
  c.ended_at = resp.until;
  c.end = EndReason::kRevoked;
  resp.cases = {c};
  EXPECT_EQ(Frame(Opcode::kDetail, 24, Enc(resp, kV2), kResp, 3, Status::kOk, kV2),
            Vector("v2_detail_response"));

  ExpectAsOf(DecodeDetailRequest(Payload("v2_detail_request_as_of", nullptr, kV2), kV2));
  absl::StatusOr<CheckResult> s =
      DecodeDetailResponse(Payload("v2_detail_response", nullptr, kV2), kV2);
  ASSERT_TRUE(s.ok()) << s.status();
  ExpectStretch(*s, resp.since, resp.until);
  ASSERT_EQ(s->cases.size(), 1u);
  EXPECT_EQ(s->cases[0], c);
  absl::StatusOr<SubjectHead> head =
      DecodeSubjectHead(Payload("v2_detail_response", nullptr, kV2), kV2);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->until, resp.until);
}

TEST_F(VectorsTest, V2Measures) {
  MeasuresRequest req;
  req.id = kHengtaiId;
  req.scenario = "hotel";
  req.as_of = kAsOf;
  EXPECT_EQ(Frame(Opcode::kMeasures, 25, Enc(req, kV2), 0, 0, Status::kOk, kV2),
            Vector("v2_measures_request_as_of"));
  MeasuresResult resp;
  resp.subject.id = kHengtaiId;
  resp.subject.kind = SubjectKind::kOrganization;
  resp.subject.listed = true;
  resp.subject.since = 1551369600;
  resp.subject.until = 1803830400;
  resp.subject.name = kHengtai;
  resp.measures = {MeasureInfo{4,
                               "协助法院进行住宿宾馆饭店限制",
                               "public_security",
                               "鹤岗市公安局",
                               Effect::kRestrict,
                               {Basis{}}}};
  EXPECT_EQ(Frame(Opcode::kMeasures, 25, Enc(resp, kV2), kResp, 3, Status::kOk, kV2),
            Vector("v2_measures_response"));
  const absl::StatusOr<MeasuresResult> s =
      DecodeMeasuresResponse(Payload("v2_measures_response", nullptr, kV2), kV2);
  ASSERT_TRUE(s.ok()) << s.status();
  ExpectStretch(s->subject, 1551369600, 1803830400);
  ASSERT_EQ(s->measures.size(), 1u);
  EXPECT_EQ(s->measures[0].title, "协助法院进行住宿宾馆饭店限制");
  ExpectAsOf(DecodeMeasuresRequest(Payload("v2_measures_request_as_of", nullptr, kV2), kV2));
}

// Turns v2_info_response's answer into v2_info_response_public's: what a client that is not
// admin sees (the strings withheld), stopped at a gap.
void MakePublicV2(InfoResponse* info) {
  info->last_reload_message = "";
  info->data_source = "";
  info->deltas.refused = "";
  info->deltas.pending = 1;
  info->deltas.refusals = 0;
  info->deltas.gap = true;
  info->deltas.gap_after = 43;
}

TEST_F(VectorsTest, V2Info) {
  EXPECT_EQ(Frame(Opcode::kInfo, 26, "", 0, 0, Status::kOk, kV2), Vector("v2_info_request"));
  InfoResponse info = InfoVector();
  info.deltas = WaitingDeltaInfo();
  EXPECT_EQ(Frame(Opcode::kInfo, 26, Enc(info, kV2), kResp, 3, Status::kOk, kV2),
            Vector("v2_info_response"));
  absl::StatusOr<InfoResponse> s =
      DecodeInfoResponse(Payload("v2_info_response", nullptr, kV2), kV2);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->data_source, "/var/lib/shixin/current");
  EXPECT_EQ(s->deltas.base_sequence, 40u);
  EXPECT_EQ(s->deltas.sequence, 43u);
  EXPECT_EQ(s->deltas.lag_seconds, 95);
  EXPECT_EQ(s->deltas.pending, 2u);
  EXPECT_EQ(s->deltas.refusals, 1u);
  EXPECT_FALSE(s->deltas.gap);
  EXPECT_EQ(s->deltas.refused, info.deltas.refused);
  // Version 1 reads no delta state: the payload has bytes left over.
  EXPECT_FALSE(DecodeInfoResponse(Payload("v2_info_response", nullptr, kV2)).ok());

  // FORMAT.md 13: a client that is not admin gets every number, and the strings empty.
  EXPECT_EQ(Frame(Opcode::kInfo, 27, "", 0, 0, Status::kOk, kV2), Vector("v2_info_request_public"));
  MakePublicV2(&info);
  EXPECT_EQ(Frame(Opcode::kInfo, 27, Enc(info, kV2), kResp, 3, Status::kOk, kV2),
            Vector("v2_info_response_public"));
  s = DecodeInfoResponse(Payload("v2_info_response_public", nullptr, kV2), kV2);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->deltas.gap);
  EXPECT_EQ(s->deltas.gap_after, 43u);
  EXPECT_EQ(s->deltas.refused, "");
}

// Version 3 (FORMAT.md 14): the v3_ vectors, made by a second encoder from the text alone.
constexpr uint8_t kV3 = 3;
constexpr char kToken[] = "shx_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";

HelloResponse V3Hello() {
  HelloResponse resp{3, kCapabilityCatalog, 1048576, 1000, 128, "shixind/0.1.0", "hegang-2018"};
  resp.mode = SecurityMode::kCallers;
  resp.caller_id = "hotel-a";
  resp.caller_name = "如家酒店前台";
  resp.scopes = 0x03;  // check, measures
  resp.view = 1;       // masked
  resp.rate = 50;
  resp.burst = 100;
  return resp;
}

TEST_F(VectorsTest, V3Hello) {
  const HelloRequest req{3, 0, "hotel-desk/4.0", "hotel-a", kToken};
  EXPECT_EQ(Frame(Opcode::kHello, 30, Enc(req)), Vector("v3_hello_request"));
  EXPECT_EQ(Frame(Opcode::kHello, 30, Enc(V3Hello()), kResp, 3), Vector("v3_hello_response"));
  absl::StatusOr<HelloRequest> r = DecodeHelloRequest(Payload("v3_hello_request"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->caller_id, "hotel-a");
  EXPECT_EQ(r->token, kToken);
  absl::StatusOr<HelloResponse> s = DecodeHelloResponse(Payload("v3_hello_response"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->version, 3);
  EXPECT_EQ(s->mode, SecurityMode::kCallers);
  EXPECT_EQ(s->caller_name, "如家酒店前台");
  EXPECT_EQ(s->scopes, ScopeBit(Scope::kCheck) | ScopeBit(Scope::kMeasures));
  EXPECT_EQ(s->view, 1);
  EXPECT_EQ(s->rate, 50u);
  EXPECT_EQ(s->burst, 100u);

  // No credentials, open mode.
  const HelloRequest bare{3, 0, "shixin-cli"};
  EXPECT_EQ(Frame(Opcode::kHello, 31, Enc(bare)), Vector("v3_hello_request_no_credentials"));
  HelloResponse open{3, kCapabilityCatalog, 1048576, 1000, 128, "shixind/0.1.0", "hegang-2018"};
  open.scopes = kAllScopes;
  EXPECT_EQ(Frame(Opcode::kHello, 31, Enc(open), kResp, 3), Vector("v3_hello_response_open"));
  s = DecodeHelloResponse(Payload("v3_hello_response_open"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->mode, SecurityMode::kOpen);
  EXPECT_EQ(s->caller_id, "");
  EXPECT_EQ(s->scopes, kAllScopes);
  // The version-1 layout reads the credentials as trailing bytes.
  std::string v1 = std::string(Payload("v3_hello_request"));
  v1[0] = 1;
  EXPECT_FALSE(DecodeHelloRequest(v1).ok());
}

TEST_F(VectorsTest, V3Errors) {
  EXPECT_EQ(Frame(Opcode::kCheck, 32, Enc(CheckRequest{{"230402197203140038"}})),
            Vector("v3_check_request_unauthenticated"));
  const std::string unauthenticated = "not authenticated: send HELLO with credentials first";
  std::string payload;
  EncodeError(ErrorResponse{unauthenticated}, Status::kUnauthenticated, 1, &payload);
  EXPECT_EQ(Frame(Opcode::kCheck, 32, payload, kResp, 3, Status::kUnauthenticated),
            Vector("v3_error_unauthenticated"));

  payload.clear();
  EncodeError(ErrorResponse{"caller hotel-a over its rate of 50/s", 120}, Status::kRateLimited, kV3,
              &payload);
  EXPECT_EQ(Frame(Opcode::kCheck, 33, payload, kResp, 3, Status::kRateLimited, kV3),
            Vector("v3_error_rate_limited"));
  FrameHeader h;
  std::string_view limited = Payload("v3_error_rate_limited", &h, kV3);
  absl::StatusOr<ErrorResponse> e = DecodeError(limited, static_cast<Status>(h.status), h.version);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->message, "caller hotel-a over its rate of 50/s");
  EXPECT_EQ(e->retry_after_ms, 120u);
  EXPECT_FALSE(IsFatal(Status::kRateLimited));
  // Read as version 2, the wait is a trailing field.
  EXPECT_FALSE(DecodeError(limited, Status::kRateLimited, kV2).ok());

  payload.clear();
  const std::string denied = "caller hotel-a may not DETAIL (scopes: check,measures)";
  EncodeError(ErrorResponse{denied}, Status::kPermissionDenied, kV3, &payload);
  EXPECT_EQ(Frame(Opcode::kDetail, 34, payload, kResp, 3, Status::kPermissionDenied, kV3),
            Vector("v3_error_permission_denied"));
  e = DecodeError(Payload("v3_error_permission_denied", &h, kV3), Status::kPermissionDenied, kV3);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->message, denied);
  EXPECT_EQ(e->retry_after_ms, 0u);
}

TEST_F(VectorsTest, V3Info) {
  EXPECT_EQ(Frame(Opcode::kInfo, 35, "", 0, 0, Status::kOk, kV3), Vector("v3_info_request"));
  InfoResponse info = InfoVector();
  info.deltas = WaitingDeltaInfo();
  info.security.mode = SecurityMode::kCallers;
  info.security.caller_id = "admin";
  const CallerCounters hotel{"hotel-a", 1000, 25, 3, 2};
  info.security.callers = {{"admin", 12, 0, 0, 0}, hotel};
  EXPECT_EQ(Frame(Opcode::kInfo, 35, Enc(info, kV3), kResp, 3, Status::kOk, kV3),
            Vector("v3_info_response"));
  absl::StatusOr<InfoResponse> s =
      DecodeInfoResponse(Payload("v3_info_response", nullptr, kV3), kV3);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->deltas.sequence, 43u);
  EXPECT_EQ(s->security.mode, SecurityMode::kCallers);
  EXPECT_EQ(s->security.caller_id, "admin");
  ASSERT_EQ(s->security.callers.size(), 2u);
  EXPECT_EQ(s->security.callers[1].id, "hotel-a");
  EXPECT_EQ(s->security.callers[1].requests, 1000u);
  EXPECT_EQ(s->security.callers[1].rate_limited, 25u);
  EXPECT_EQ(s->security.callers[1].denied, 3u);
  EXPECT_EQ(s->security.callers[1].auth_failures, 2u);
  // Version 2 reads no security block: the payload has bytes left over.
  EXPECT_FALSE(DecodeInfoResponse(Payload("v3_info_response", nullptr, kV3), kV2).ok());

  // A caller that is not admin: the public INFO of version 2, and only its own counters.
  EXPECT_EQ(Frame(Opcode::kInfo, 36, "", 0, 0, Status::kOk, kV3), Vector("v3_info_request_public"));
  MakePublicV2(&info);
  info.security.caller_id = "hotel-a";
  info.security.callers = {hotel};
  EXPECT_EQ(Frame(Opcode::kInfo, 36, Enc(info, kV3), kResp, 3, Status::kOk, kV3),
            Vector("v3_info_response_public"));
  s = DecodeInfoResponse(Payload("v3_info_response_public", nullptr, kV3), kV3);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->security.callers.size(), 1u);
  EXPECT_EQ(s->security.callers[0].id, "hotel-a");
}

}  // namespace
}  // namespace shixin::wire
