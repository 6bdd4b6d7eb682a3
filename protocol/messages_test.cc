#include "protocol/messages.h"

#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/escaping.h"
#include "core/catalog.h"
#include "core/paths.h"
#include "core/query.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/operator_messages.h"
#include "protocol/test_messages.h"
#include "protocol/wire.h"

namespace shixin::wire {
namespace {

using ::testing::HasSubstr;

// Decodes `payload` and encodes the result again; fails as the decoder does.
using Reencode = std::function<absl::StatusOr<std::string>(std::string_view)>;

template <typename M>
Reencode Via(absl::StatusOr<M> (*decode)(std::string_view)) {
  return [decode](std::string_view payload) -> absl::StatusOr<std::string> {
    absl::StatusOr<M> m = decode(payload);
    if (!m.ok()) return m.status();
    return Enc(*m);
  };
}

// The same for a layout that differs between versions, read and written in `version`.
template <typename M>
Reencode Via(absl::StatusOr<M> (*decode)(std::string_view, uint8_t), uint8_t version = kVersion) {
  return [decode, version](std::string_view payload) -> absl::StatusOr<std::string> {
    absl::StatusOr<M> m = decode(payload, version);
    if (!m.ok()) return m.status();
    return Enc(*m, version);
  };
}

Reencode ReencodeCheckResponse(uint8_t version) {
  return [version](std::string_view payload) -> absl::StatusOr<std::string> {
    absl::StatusOr<std::vector<CheckAnswer>> answers = DecodeCheckResponse(payload, version);
    if (!answers.ok()) return answers.status();
    std::string out;
    AppendCheckCount(static_cast<uint16_t>(answers->size()), &out);
    for (const CheckAnswer& a : *answers) AppendCheckAnswer(a, &out, version);
    return out;
  };
}

absl::StatusOr<std::string> ReencodeError(std::string_view payload) {
  absl::StatusOr<std::string> message = DecodeError(payload);
  if (!message.ok()) return message.status();
  std::string out;
  EncodeError(*message, &out);
  return out;
}

CheckResult Subject() {
  CheckResult s;
  s.id = "91350503MA2XK7R352";
  s.kind = SubjectKind::kOrganization;
  s.listed = true;
  s.related = false;
  s.name = "泉州市恒泰贸易有限公司";
  s.roles = {MakeRole(Role::kSeniorManager, "230987613", "鹤岗市龙腾煤业有限责任公司", true)};
  s.officers = {MakeRole(Role::kLegalRepresentative, "230402197203140038", "陈海波", false),
                MakeRole(Role::kDirector, "230403197011230713", "孙涛", true)};
  return s;
}

MeasuresResult Measures() {
  MeasuresResult r;
  r.subject = Subject();
  MeasureInfo m;
  m.no = 52;
  m.effect = Effect::kCriminal;
  m.agency = "housing";
  m.agency_name = "鹤岗市住房保障局";
  m.title = "从事不动产交易限制";
  m.basis = {
      Basis{BasisType::kListed, std::nullopt, "", "", std::nullopt, "", ""},
      Basis{BasisType::kOfficer, Role::kDirector, "230987613", "鹤岗市龙腾煤业有限责任公司",
            Role::kLegalRepresentative, "230403197011230713", "孙涛"},
  };
  r.measures = {m, m};
  r.measures[1].no = 65535;
  r.measures[1].effect = Effect::kAssistCourt;
  r.measures[1].basis.pop_back();
  return r;
}

CheckResult Detail() {
  CheckResult d = Subject();
  CaseInfo c;
  c.case_code = "（2018）黑04执123号";
  c.court = "鹤岗市中级人民法院";
  c.area = "黑龙江";
  c.gist_id = "(2017)黑04民初56号";
  c.gist_unit = "鹤岗市中级人民法院";
  c.duty = "被告于本判决生效之日起十日内给付\n1. 货款";
  c.performance = "全部未履行";
  c.performed_part = "暂无";
  c.unperform_part = "暂无";
  c.disrupt_type = "有履行能力而拒不履行生效法律文书确定义务";
  c.business_entity = "陈海波";
  c.reg_date = 20180409;
  c.publish_date = 20180820;
  c.age = 150;
  c.sex = Sex::kFemale;
  d.cases = {c, CaseInfo()};
  return d;
}

InfoResponse Info() {
  InfoResponse info;
  info.snapshot = SnapshotInfo{.version = ~0ull,
                               .build_time = -5,
                               .source_time = -1,
                               .subjects = 1,
                               .persons = 2,
                               .organizations = 3,
                               .cases = 4,
                               .relations = 5,
                               .related_persons = 6,
                               .entities = 7};
  info.generation = 0xFFFFFFFF;
  info.uptime_seconds = 8;
  info.max_age_seconds = 9;
  info.stale = true;
  info.reload_state = ReloadState::kRunning;
  info.last_reload_time = 1718000000;
  info.last_reload_message = "重新加载";
  info.catalog_id = "hegang-2018";
  info.catalog_fingerprint = 0x8000000000000001ull;
  info.data_source = "/data";
  return info;
}

// An INFO answer of version 2: the delta state of a daemon waiting behind a refused file.
InfoResponse InfoV2() {
  InfoResponse info = Info();
  info.deltas = WaitingDeltaInfo();
  info.deltas.lag_seconds = -3;
  info.deltas.gap = true;
  info.deltas.gap_after = 41;
  info.deltas.delta_error = "deltas_dir /x: gone";
  return info;
}

CatalogResponse CatalogAnswer() {
  CatalogResponse c;
  c.id = "hegang-2018";
  c.title = "合作备忘录";
  c.fingerprint = 0x8000000000000001ull;
  c.agencies = {{"housing", "（十三）", "鹤岗市住房保障局"}, {"x", "", ""}};
  c.scenarios = {{"hotel", "Stays at hotels."}, {"travel", ""}};
  c.measures = {
      {41, Effect::kRestrict, "housing", "协助法院进行住宿宾馆饭店限制", {"hotel", "travel"}},
      {65535, Effect::kCriminal, "x", "", {}}};
  return c;
}

// A DETAIL answer with a stretch and a case revoked after the instant.
CheckResult DetailV2() {
  CheckResult d = Detail();
  d.since = 1534694400;
  d.until = 1782869400;
  d.cases[0].term_end = 20270831;
  d.cases[0].start = d.since;
  d.cases[0].ended_at = d.until;
  d.cases[0].end = EndReason::kRevoked;
  return d;
}

// A listed answer with a stretch of a known end.
CheckAnswer ListedWithStretch() {
  CheckAnswer a{CheckStatus::kListed, "", "230987613", SubjectKind::kOrganization, 3, 0, "龙腾"};
  a.since = 1534694400;
  a.until = 1803830400;
  return a;
}

// A version-2 CHECK answer: a listed ID with a stretch, one with no known end, a related one.
std::string CheckResponseV2() {
  std::string out;
  AppendCheckCount(3, &out);
  CheckAnswer a = ListedWithStretch();
  AppendCheckAnswer(a, &out, 2);
  a.since = 0;
  a.until = kForever;
  AppendCheckAnswer(a, &out, 2);
  AppendCheckAnswer(
      {CheckStatus::kRelated, "", "230402197203140038", SubjectKind::kPerson, 0, 3, "陈海波"}, &out,
      2);
  return out;
}

struct Sample {
  std::string name;
  std::string payload;
  Reencode reencode;
};

// A RATE_LIMITED error of version 3, which carries the wait.
absl::StatusOr<std::string> ReencodeRateLimited(std::string_view payload) {
  absl::StatusOr<ErrorResponse> e = DecodeError(payload, Status::kRateLimited, 3);
  if (!e.ok()) return e.status();
  std::string out;
  EncodeError(*e, Status::kRateLimited, 3, &out);
  return out;
}

HelloResponse HelloV3() {
  HelloResponse m{3, 1, 1 << 20, 1000, 64, "shixind/0.1.0", "hegang"};
  m.mode = SecurityMode::kCallers;
  m.caller_id = "bank-a";
  m.caller_name = "银行甲";
  m.scopes = 0x07;
  m.view = 1;
  m.rate = 200;
  m.burst = 400;
  return m;
}

InfoResponse InfoV3() {
  InfoResponse m = InfoV2();
  m.security.mode = SecurityMode::kCallers;
  m.security.caller_id = "admin";
  m.security.callers = {{"admin", 1, 2, 3, 4}, {"bank-a", 5, 6, 7, 8}};
  return m;
}

std::vector<Sample> Samples() {
  std::string error;
  EncodeError("INVALID_ID: 错误", &error);
  std::string rate_limited;
  EncodeError(ErrorResponse{"slow down", 250}, Status::kRateLimited, 3, &rate_limited);
  return {
      {"HelloRequest", Enc(HelloRequest{3, 0xA0B0C0D0, "bank/1"}), Via(DecodeHelloRequest)},
      {"HelloResponse", Enc(HelloResponse{1, 7, 1 << 20, 1000, 64, "shixind/0.1.0", "hegang"}),
       Via(DecodeHelloResponse)},
      {"CheckRequest", Enc(CheckRequest{{"11010519491231002X", "", "23098761-3"}}),
       Via(DecodeCheckRequest)},
      {"CheckResponse", CheckResponse(), ReencodeCheckResponse(1)},
      {"MeasuresRequest",
       Enc(MeasuresRequest{"912304216987123405",
                           "finance",
                           "hotel",
                           {{Role::kDirector, "230402198503150611"},
                            {Role::kSeniorManager, "230402198503150611"}}}),
       Via(DecodeMeasuresRequest)},
      {"DetailRequest", Enc(DetailRequest{"230987613"}), Via(DecodeDetailRequest)},
      {"MeasuresResponse", Enc(Measures()), Via(DecodeMeasuresResponse)},
      {"DetailResponse", Enc(Detail()), Via(DecodeDetailResponse)},
      {"InfoResponse", Enc(Info()), Via(DecodeInfoResponse)},
      {"ReloadResponse", Enc(ReloadResponse{12, "ok"}), Via(DecodeReloadResponse)},
      {"CatalogResponse", Enc(CatalogAnswer()), Via(DecodeCatalogResponse)},
      {"Error", error, ReencodeError},
      // Version 2: the as_of, the listing stretch and the cases' history fields.
      {"CheckRequest v2", Enc(CheckRequest{{"11010519491231002X", "x"}, 1780452000}, 2),
       Via(DecodeCheckRequest, 2)},
      {"CheckResponse v2", CheckResponseV2(), ReencodeCheckResponse(2)},
      {"MeasuresRequest v2",
       Enc(MeasuresRequest{"912304216987123405", "", "hotel", {}, 1780452000}, 2),
       Via(DecodeMeasuresRequest, 2)},
      {"DetailRequest v2", Enc(DetailRequest{"230987613", 1780452000}, 2),
       Via(DecodeDetailRequest, 2)},
      {"MeasuresResponse v2", Enc(Measures(), 2), Via(DecodeMeasuresResponse, 2)},
      {"DetailResponse v2", Enc(DetailV2(), 2), Via(DecodeDetailResponse, 2)},
      {"InfoResponse v2", Enc(InfoV2(), 2), Via(DecodeInfoResponse, 2)},
      // Version 3: credentials, the caller block, the security block, the wait.
      {"HelloRequest v3", Enc(HelloRequest{3, 0, "bank/2", "bank-a", "shx_secret"}),
       Via(DecodeHelloRequest)},
      {"HelloResponse v3", Enc(HelloV3()), Via(DecodeHelloResponse)},
      {"InfoResponse v3", Enc(InfoV3(), 3), Via(DecodeInfoResponse, 3)},
      {"RateLimited v3", rate_limited, ReencodeRateLimited},
  };
}

TEST(MessagesTest, RoundTripIsByteExact) {
  for (const Sample& s : Samples()) {
    absl::StatusOr<std::string> again = s.reencode(s.payload);
    ASSERT_TRUE(again.ok()) << s.name << ": " << again.status();
    EXPECT_EQ(*again, s.payload) << s.name;
  }
}

TEST(MessagesTest, TruncationAtEveryLengthIsRejected) {
  for (const Sample& s : Samples()) {
    for (size_t n = 0; n < s.payload.size(); ++n) {
      std::string prefix = s.payload.substr(0, n);  // exactly n bytes, for ASan
      absl::StatusOr<std::string> r = s.reencode(prefix);
      EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << s.name << " cut at " << n;
    }
  }
}

TEST(MessagesTest, TrailingBytesAreRejected) {
  for (const Sample& s : Samples()) {
    absl::StatusOr<std::string> r = s.reencode(s.payload + std::string(1, '\0'));
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << s.name;
    EXPECT_NE(r.status().message().find("trailing"), absl::string_view::npos) << r.status();
  }
}

TEST(MessagesTest, DecodedFieldsMatch) {
  absl::StatusOr<MeasuresResult> m = DecodeMeasuresResponse(Enc(Measures()));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->subject.officers.size(), 2u);
  EXPECT_EQ(m->subject.officers[1].name, "孙涛");
  EXPECT_TRUE(m->subject.officers[1].listed);
  EXPECT_EQ(m->measures[1].no, 65535);
  EXPECT_EQ(m->measures[0].basis[0].role, std::nullopt);
  EXPECT_EQ(m->measures[0].basis[1].via_role, Role::kLegalRepresentative);
  absl::StatusOr<InfoResponse> info = DecodeInfoResponse(Enc(Info()));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->snapshot.build_time, -5);
  EXPECT_EQ(info->snapshot.source_time, -1);
  EXPECT_EQ(info->snapshot.version, ~0ull);
  EXPECT_TRUE(info->stale);
  EXPECT_EQ(info->reload_state, ReloadState::kRunning);
  EXPECT_EQ(info->deltas.sequence, 0u);  // version 1 has no delta state
  info = DecodeInfoResponse(Enc(InfoV2(), 2), 2);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->deltas.base_sequence, 40u);
  EXPECT_EQ(info->deltas.lag_seconds, -3);
  EXPECT_TRUE(info->deltas.gap);
  EXPECT_EQ(info->deltas.refused, WaitingDeltaInfo().refused);
  EXPECT_EQ(info->deltas.delta_error, "deltas_dir /x: gone");
  EXPECT_EQ(info->data_source, "/data");
  // Version 1 sends none of it: the same answer, byte for byte, as without a delta state.
  EXPECT_EQ(Enc(InfoV2()), Enc(Info()));
  EXPECT_FALSE(DecodeInfoResponse(Enc(InfoV2(), 2)).ok());  // trailing bytes in version 1
  absl::StatusOr<CheckResult> d = DecodeDetailResponse(Enc(Detail()));
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->cases.size(), 2u);
  EXPECT_EQ(d->cases[0].duty, Detail().cases[0].duty);
  EXPECT_EQ(d->cases[0].age, 150);
}

TEST(MessagesTest, CatalogFieldsMatch) {
  absl::StatusOr<CatalogResponse> c = DecodeCatalogResponse(Enc(CatalogAnswer()));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id, "hegang-2018");
  EXPECT_EQ(c->fingerprint, 0x8000000000000001ull);
  ASSERT_EQ(c->agencies.size(), 2u);
  EXPECT_EQ(c->agencies[0].section, "（十三）");
  ASSERT_EQ(c->scenarios.size(), 2u);
  EXPECT_EQ(c->scenarios[0].description, "Stays at hotels.");
  ASSERT_EQ(c->measures.size(), 2u);
  EXPECT_EQ(c->measures[0].scenarios, (std::vector<std::string>{"hotel", "travel"}));
  EXPECT_EQ(c->measures[1].no, 65535);
  EXPECT_EQ(c->measures[1].effect, Effect::kCriminal);
  EXPECT_TRUE(c->measures[1].scenarios.empty());
}

TEST(MessagesTest, EmptyPayloads) {
  EXPECT_TRUE(DecodeEmpty("").ok());
  EXPECT_TRUE(absl::IsInvalidArgument(DecodeEmpty("x")));
}

// Returns the error of decoding `payload` with byte `at` set to `value`.
template <typename Decode>
std::string Patched(Decode decode, std::string payload, size_t at, uint8_t value) {
  payload.at(at) = static_cast<char>(value);
  auto r = [&] {
    if constexpr (std::is_invocable_v<Decode, std::string_view>) {
      return decode(payload);
    } else {
      return decode(payload, kVersion);  // a layout that differs between versions
    }
  }();
  return r.ok() ? "OK" : std::string(r.status().message());
}

MATCHER_P(Mentions, field, "") { return arg.find(field) != std::string::npos; }

TEST(MessagesTest, BadEnumsAreRejected) {
  std::string check = CheckResponse();
  // answers: [0]=status 0 at 2; [2] listed: status, id, kind...
  EXPECT_THAT(Patched(DecodeCheckResponse, check, 2, 4), Mentions("answer.status"));
  size_t listed = 2 + 1 + 1 + 12 + 1 + 1 + 18;  // after "wrong length" and the unlisted ID
  ASSERT_EQ(check[listed], 2);
  EXPECT_THAT(Patched(DecodeCheckResponse, check, listed + 1 + 1 + 9, 2), Mentions("answer.kind"));

  std::string subject = Enc(MeasuresResult{Subject(), {}});
  size_t kind = 1 + 18;
  EXPECT_THAT(Patched(DecodeMeasuresResponse, subject, kind, 2), Mentions("subject.kind"));
  EXPECT_THAT(Patched(DecodeMeasuresResponse, subject, kind + 1, 4), Mentions("subject.flags"));
  size_t role = kind + 2 + 2 + Subject().name.size() + 2;
  EXPECT_EQ(Patched(DecodeMeasuresResponse, subject, role, 6), "OK");
  EXPECT_THAT(Patched(DecodeMeasuresResponse, subject, role, 7), Mentions("role_entry.role"));
  EXPECT_THAT(Patched(DecodeMeasuresResponse, subject, role, kNoRole), Mentions("role_entry.role"));
  size_t listed_flag = role + 1 + 1 + 9 + 2 + Subject().roles[0].name.size();
  EXPECT_THAT(Patched(DecodeMeasuresResponse, subject, listed_flag, 2),
              Mentions("role_entry.listed"));

  std::string measures = Enc(Measures());
  size_t measure = subject.size() - 2 + 2;  // the subject block, then n_measures
  EXPECT_THAT(Patched(DecodeMeasuresResponse, measures, measure + 2, 6), Mentions("effect"));
  size_t basis = measure + 3 + 1 + 7 + 2 + Measures().measures[0].agency_name.size() + 2 +
                 Measures().measures[0].title.size() + 1;
  ASSERT_EQ(measures[basis], 0);  // kListed
  EXPECT_THAT(Patched(DecodeMeasuresResponse, measures, basis, 3), Mentions("basis.type"));
  EXPECT_THAT(Patched(DecodeMeasuresResponse, measures, basis + 1, 7), Mentions("basis.role"));
  EXPECT_EQ(Patched(DecodeMeasuresResponse, measures, basis + 1, 6), "OK");
  EXPECT_THAT(Patched(DecodeMeasuresResponse, measures, basis + 5, 7), Mentions("basis.via_role"));

  std::string request = Enc(MeasuresRequest{"a", "", "", {{Role::kDirector, "b"}}});
  EXPECT_THAT(Patched(DecodeMeasuresRequest, request, 5, 7), Mentions("officer.role"));
  EXPECT_THAT(Patched(DecodeMeasuresRequest, request, 5, kNoRole), Mentions("officer.role"));

  std::string detail = Enc(Detail());
  size_t sex = Enc(CheckResult(Subject())).size() + 4 + 4 + 1;  // the first case's
  ASSERT_EQ(detail[sex], 2);
  EXPECT_THAT(Patched(DecodeDetailResponse, detail, sex, 3), Mentions("case.sex"));

  std::string info = Enc(Info());
  size_t stale = 8 * 10 + 4 + 8 + 4;
  EXPECT_THAT(Patched(DecodeInfoResponse, info, stale, 2), Mentions("stale"));
  EXPECT_THAT(Patched(DecodeInfoResponse, info, stale + 1, 4), Mentions("reload_state"));
  // Version 2's gap byte follows 13 fields after the strings of version 1.
  const std::string info_v2 = Enc(InfoV2(), 2);
  const size_t gap = Enc(InfoV2()).size() + 8 * 9;
  ASSERT_EQ(info_v2[gap], 1);
  const auto decode_v2 = [](std::string_view p) { return DecodeInfoResponse(p, 2); };
  EXPECT_THAT(Patched(decode_v2, info_v2, gap, 2), Mentions("gap"));

  EXPECT_THAT(Patched(DecodeHelloRequest, Enc(HelloRequest{}), 0, 0), Mentions("max_version"));
  EXPECT_THAT(Patched(DecodeHelloRequest, Enc(HelloRequest{}), 0, 0), Mentions("versions start"));
  const std::string catalog = Enc(CatalogAnswer());
  CatalogResponse head = CatalogAnswer();
  head.measures.clear();
  const size_t catalog_measure = Enc(head).size();  // the first measure follows n_measures
  ASSERT_EQ(catalog.substr(catalog_measure, 2), std::string("\x00\x29", 2));  // no 41
  EXPECT_THAT(Patched(DecodeCatalogResponse, catalog, catalog_measure + 2, 6),
              Mentions("measure.effect"));
  EXPECT_THAT(Patched(DecodeHelloResponse, Enc(HelloResponse{}), 0, 0), Mentions("version"));
}

TEST(MessagesTest, PeekMeasuresIdReadsTheIdOfEveryVersion) {
  MeasuresRequest request{"91350503MA2XK7R352", "housing", "hotel", {{Role::kDirector, "b"}}};
  request.context.matter = "m-1";
  for (uint8_t version = 1; version <= 4; ++version) {
    EXPECT_EQ(PeekMeasuresId(Enc(request, version)), "91350503MA2XK7R352") << int{version};
  }
  const std::string payload = Enc(request);
  EXPECT_EQ(PeekMeasuresId(""), std::nullopt);
  EXPECT_EQ(PeekMeasuresId(payload.substr(0, 10)), std::nullopt);          // the ID cut short
  EXPECT_EQ(PeekMeasuresId(payload.substr(0, 19)), "91350503MA2XK7R352");  // the rest unchecked
}

// MatchMeasures()'s answer encoded with the catalog's heads is the answer Measures() gives,
// byte for byte, for every measure of the shipped catalog, with bases of every kind.
TEST(MessagesTest, MeasureMatchesEncodeAsTheirMeasuresResult) {
  absl::StatusOr<Catalog> catalog = Catalog::LoadFile(DefaultCatalogPath());
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  const MeasureHeads heads(*catalog);
  EXPECT_EQ(heads.fingerprint(), catalog->fingerprint());
  ASSERT_EQ(heads.size(), catalog->measures().size());
  MeasuresResult result;
  MeasureMatches matches;
  result.subject.id = matches.subject.id = "91350503MA2XK7R352";
  result.subject.kind = matches.subject.kind = SubjectKind::kOrganization;
  const std::vector<Basis> kinds = {Basis{},
                                    Basis{BasisType::kRelated, Role::kDirector,
                                          "91350503MA2XK7R352", "某公司", std::nullopt, "", ""},
                                    Basis{BasisType::kOfficer, Role::kLegalRepresentative, "", "",
                                          std::nullopt, "11010519491231002X", "张三"}};
  for (size_t i = 0; i < catalog->measures().size(); ++i) {
    const Measure& m = catalog->measures()[i];
    const Agency& agency = catalog->agencies()[m.agency];
    const std::vector<Basis> basis(kinds.begin(),
                                   kinds.begin() + static_cast<ptrdiff_t>(1 + i % kinds.size()));
    result.measures.push_back(MeasureInfo{m.no, m.title, agency.id, agency.name, m.effect, basis});
    matches.measures.push_back(MeasureMatch{&m, static_cast<uint32_t>(i),
                                            static_cast<uint32_t>(matches.bases.size()),
                                            static_cast<uint32_t>(basis.size())});
    matches.bases.insert(matches.bases.end(), basis.begin(), basis.end());
  }
  for (uint8_t version = 1; version <= 4; ++version) {
    std::string expected, encoded;
    Encode(result, &expected, version, "r-1");
    Encode(matches, heads, &encoded, version, "r-1");
    EXPECT_EQ(encoded, expected) << int{version};
    absl::StatusOr<MeasuresResult> decoded = DecodeMeasuresResponse(encoded, version);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->measures, result.measures);
  }
}

TEST(MessagesTest, CountsOverTheLimitsAreRejected) {
  MeasuresRequest seventeen{"a", "", "", {}};
  for (int i = 0; i < 17; ++i) seventeen.officers.push_back({Role::kDirector, "b"});
  absl::StatusOr<MeasuresRequest> m = DecodeMeasuresRequest(Enc(seventeen));
  EXPECT_TRUE(absl::IsInvalidArgument(m.status()));
  EXPECT_NE(m.status().message().find("officer_count"), absl::string_view::npos) << m.status();
  seventeen.officers.pop_back();
  EXPECT_TRUE(DecodeMeasuresRequest(Enc(seventeen)).ok());

  // A count the payload cannot hold fails before anything is allocated for it.
  absl::StatusOr<CheckRequest> c = DecodeCheckRequest(std::string("\xFF\xFF\x00", 3));
  EXPECT_NE(c.status().message().find("cannot fit"), absl::string_view::npos) << c.status();
}

// The smallest case the count check assumes is exactly the encoding of an empty case.
TEST(MessagesTest, CaseCountIsCheckedAgainstTheEmptyCase) {
  CheckResult d = Subject();
  const std::string none = Enc(d);
  d.cases = {CaseInfo()};
  std::string two = Enc(d);
  const size_t empty_case = two.size() - none.size();
  two[none.size() - 1] = 2;  // n_cases, the u16 after the subject block
  EXPECT_TRUE(DecodeDetailResponse(two + std::string(empty_case, '\0')).ok());
  absl::StatusOr<CheckResult> r = DecodeDetailResponse(two + std::string(empty_case - 1, '\0'));
  EXPECT_NE(r.status().message().find("n_cases"), absl::string_view::npos) << r.status();
  EXPECT_NE(r.status().message().find("cannot fit"), absl::string_view::npos) << r.status();
}

TEST(MessagesTest, DecodeErrorNamesThePayloadAndOffset) {
  absl::StatusOr<HelloResponse> r = DecodeHelloResponse(std::string("\x01\x00", 2));
  EXPECT_EQ(r.status().message(),
            "HELLO response: capabilities: truncated: needs 4 bytes, 1 left (at byte 1)");
}

TEST(TruncateUtf8Test, CutsAtCharacterBoundaries) {
  EXPECT_EQ(TruncateUtf8("abc", 5), "abc");
  EXPECT_EQ(TruncateUtf8("abc", 2), "ab");
  EXPECT_EQ(TruncateUtf8("a张b", 3), "a");  // 张 is 3 bytes
  EXPECT_EQ(TruncateUtf8("a张b", 4), "a张");
  EXPECT_EQ(TruncateUtf8("😀😀", 7), "😀");  // 4-byte characters
  EXPECT_EQ(TruncateUtf8("😀", 0), "");
  // Not UTF-8: a run of continuation bytes is cut where it is.
  EXPECT_EQ(TruncateUtf8("\x80\x80\x80\x80\x80\x80", 5), "\x80\x80\x80\x80\x80");
}

TEST(MessagesTest, CheckNameIsTruncatedAtAUtf8Boundary) {
  std::string name = "a";
  for (int i = 0; i < 100; ++i) name += "张";  // 301 bytes
  std::string out;
  AppendCheckCount(1, &out);
  AppendCheckAnswer({CheckStatus::kListed, "", "230987613", SubjectKind::kOrganization, 1, 0, name},
                    &out);
  absl::StatusOr<std::vector<CheckAnswer>> a = DecodeCheckResponse(out);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)[0].name.size(), 253u);  // 1 + 84 * 3: 255 would split the 85th 张
  EXPECT_EQ((*a)[0].name, name.substr(0, 253));
  // Version 4: the stretch and the receipt follow the cut name.
  out.clear();
  AppendCheckCount(2, &out);
  CheckAnswer listed{CheckStatus::kListed, "", "230987613", SubjectKind::kOrganization, 1, 0, name};
  listed.since = 1780452000;
  listed.receipt = "0a0b0c0d-3-4096";
  AppendCheckAnswer(listed, &out, 4);
  AppendCheckAnswer(listed, &out, 4);
  a = DecodeCheckResponse(out, 4);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 2u);
  for (const CheckAnswer& decoded : *a) {
    EXPECT_EQ(decoded.name, name.substr(0, 253));
    EXPECT_EQ(decoded.since, 1780452000);
    EXPECT_EQ(decoded.until, kForever);
    EXPECT_EQ(decoded.receipt, "0a0b0c0d-3-4096");
  }
}

TEST(MessagesTest, Str16IsTruncatedAtAUtf8Boundary) {
  CheckResult s;
  for (int i = 0; i < 30000; ++i) s.name += "é";  // 60000 bytes: fits
  s.name += std::string(5534, 'x') + "张";        // 张 at bytes 65534-65536
  absl::StatusOr<CheckResult> d = DecodeDetailResponse(Enc(s));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->name, s.name.substr(0, 65534));
}

TEST(MessagesTest, LongListsAreCut) {
  CheckRequest r;
  r.ids.assign(65536, "x");
  absl::StatusOr<CheckRequest> d = DecodeCheckRequest(Enc(r));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->ids.size(), 65535u);
}

TEST(NamesTest, Enums) {
  EXPECT_EQ(CheckStatusName(CheckStatus::kInvalid), "invalid");
  EXPECT_EQ(CheckStatusName(CheckStatus::kRelated), "related");
  EXPECT_EQ(ReloadStateName(ReloadState::kFailed), "failed");
  EXPECT_EQ(ReloadStateName(ReloadState::kRunning), "running");
}

// Version 2's "no known end" is 0 on the wire; the largest i64 (kForever in the core) would not
// encode back to itself, so it is refused.
TEST(MessagesTest, AnUntilOfTheLargestI64IsRefused) {
  std::string payload = CheckResponseV2();
  // The first answer's until: its last 8 bytes before the second answer.
  std::string first;
  AppendCheckCount(3, &first);
  AppendCheckAnswer(ListedWithStretch(), &first, 2);
  ASSERT_EQ(payload.substr(0, first.size()), first);
  payload.replace(first.size() - 8, 8, "\x7f\xff\xff\xff\xff\xff\xff\xff", 8);
  absl::StatusOr<std::vector<CheckAnswer>> r = DecodeCheckResponse(payload, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("answer.until"));
  EXPECT_TRUE(DecodeCheckResponse(CheckResponseV2(), 2).ok());
}

TEST(MessagesTest, HelloCredentialsOnlyFromVersion3) {
  // A max_version 1 or 2 HELLO keeps its layout exactly: credentials are not sent.
  const HelloRequest v2{2, 0, "old", "bank-a", "shx_secret"};
  EXPECT_EQ(Enc(v2), Enc(HelloRequest{2, 0, "old"}));
  absl::StatusOr<HelloRequest> r = DecodeHelloRequest(Enc(v2));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->caller_id, "");
  EXPECT_EQ(r->token, "");
  // A version 2 HELLO response has no caller block.
  HelloResponse old = HelloV3();
  old.version = 2;
  absl::StatusOr<HelloResponse> s = DecodeHelloResponse(Enc(old));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->caller_id, "");
  EXPECT_EQ(s->mode, SecurityMode::kOpen);
  // Version 3 carries them.
  r = DecodeHelloRequest(Enc(HelloRequest{7, 0, "new", "bank-a", "shx_secret"}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->caller_id, "bank-a");
  EXPECT_EQ(r->token, "shx_secret");
  s = DecodeHelloResponse(Enc(HelloV3()));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->caller_name, "银行甲");
  EXPECT_EQ(s->scopes, 0x07u);
  EXPECT_EQ(s->rate, 200u);
  EXPECT_EQ(s->burst, 400u);
}

TEST(MessagesTest, OverLongCallerIdIsRejected) {
  const std::string id65(kMaxCallerIdBytes + 1, 'c');
  // The encoder cuts it; a hand-made payload with 65 bytes fails, naming the field.
  EXPECT_EQ(DecodeHelloRequest(Enc(HelloRequest{3, 0, "x", id65, "t"}))->caller_id,
            id65.substr(0, kMaxCallerIdBytes));
  std::string payload = Enc(HelloRequest{3, 0, "x"});
  payload.resize(payload.size() - 2);  // drop the two empty strings
  payload += static_cast<char>(id65.size());
  payload += id65;
  payload += '\0';
  absl::StatusOr<HelloRequest> r = DecodeHelloRequest(payload);
  EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
  EXPECT_THAT(std::string(r.status().message()), Mentions("caller_id"));
  // 64 bytes and a 255-byte token are fine.
  const std::string token(kMaxTokenBytes, 't');
  r = DecodeHelloRequest(Enc(HelloRequest{3, 0, "x", id65.substr(1), token}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->token, token);
  // A token over 255 bytes cannot be written (str8): the length says 255, the rest trails.
  payload = Enc(HelloRequest{3, 0, "x", "c"});
  payload.back() = static_cast<char>(0xFF);
  payload += std::string(0x100, 't');
  EXPECT_FALSE(DecodeHelloRequest(payload).ok());
}

TEST(MessagesTest, Version3EnumsAreRejected) {
  const std::string hello = Enc(HelloV3());
  const size_t mode =
      Enc(HelloResponse{3, 1, 1 << 20, 1000, 64, "shixind/0.1.0", "hegang"}).size() -
      (1 + 1 + 1 + 4 + 1 + 4 + 4);
  ASSERT_EQ(hello[mode], 1);
  EXPECT_THAT(Patched(DecodeHelloResponse, hello, mode, 2), Mentions("mode"));
  const size_t view = hello.size() - 9;
  ASSERT_EQ(hello[view], 1);
  EXPECT_THAT(Patched(DecodeHelloResponse, hello, view, 2), Mentions("view"));
  const std::string info = Enc(InfoV3(), 3);
  const size_t info_mode = Enc(InfoV2(), 2).size();
  const auto decode_v3 = [](std::string_view p) { return DecodeInfoResponse(p, 3); };
  EXPECT_THAT(Patched(decode_v3, info, info_mode, 2), Mentions("mode"));
}

TEST(MessagesTest, ErrorWaitOnlyForRateLimitedInVersion3) {
  EXPECT_TRUE(HasRetryAfter(Status::kRateLimited, 3));
  EXPECT_FALSE(HasRetryAfter(Status::kRateLimited, 2));
  EXPECT_FALSE(HasRetryAfter(Status::kBusy, 3));
  std::string v2;
  EncodeError(ErrorResponse{"retry in 120 ms", 120}, Status::kRateLimited, 2, &v2);
  std::string plain;
  EncodeError("retry in 120 ms", &plain);
  EXPECT_EQ(v2, plain);
  absl::StatusOr<ErrorResponse> e = DecodeError(v2, Status::kRateLimited, 2);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->retry_after_ms, 0u);
  EXPECT_FALSE(DecodeError(v2, Status::kRateLimited, 3).ok());  // the wait is missing
}

TEST(CheckRequestTest, PeekCheckCountReadsTheAnnouncedCount) {
  std::string payload;
  AppendCheckRequest(
      300, [](size_t) { return std::string_view("11010519491231002X"); }, &payload);
  EXPECT_EQ(PeekCheckCount(payload), 300);
  EXPECT_EQ(PeekCheckCount(payload.substr(0, 2)), 300);  // only the count is read
  EXPECT_EQ(PeekCheckCount(payload.substr(0, 1)), 0);
  EXPECT_EQ(PeekCheckCount(""), 0);
}

TEST(NamesTest, Modes) {
  EXPECT_EQ(SecurityModeName(SecurityMode::kOpen), "open");
  EXPECT_EQ(SecurityModeName(SecurityMode::kCallers), "callers");
}

}  // namespace
}  // namespace shixin::wire
