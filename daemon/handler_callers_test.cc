#include <unistd.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "callers/callers_file.h"
#include "callers/token.h"
#include "core/id.h"
#include "core/masking.h"
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
using handler_testing::Frames;
using handler_testing::HandlerTest;
using handler_testing::Payload;
using handler_testing::Request;
using handler_testing::Sample;

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
    Caller masked = MakeCaller("masked", ScopeBit(Scope::kCheck), View::kMasked, 1000, 1000);
    masked.certificates = {"cn:masked-desk"};  // mutual TLS names it too
    callers.push_back(std::move(masked));
    callers.push_back(MakeCaller("tight", ScopeBit(Scope::kCheck), View::kFull, 0.01, 2));
    callers.push_back(
        MakeCaller("tight-measures", ScopeBit(Scope::kMeasures), View::kFull, 0.01, 3));
    callers.push_back(MakeCaller("paced", ScopeBit(Scope::kCheck), View::kFull, 1.9, 4));
    // A bank's credit department: by default the banking regulator's measures for bank credit.
    Caller bank = MakeCaller("bank", ScopeBit(Scope::kMeasures), View::kFull, 1000, 1000);
    bank.agencies = {"banking_regulator"};
    bank.scenarios = {"bank_credit"};
    callers.push_back(std::move(bank));
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
    Caller hotel = MakeCaller("hotel", kAllScopes, View::kFull, 1000, 1000);
    hotel.scenarios = {"hotel"};  // by default only the measures governing hotel stays
    callers.push_back(std::move(hotel));
    // The housing bureau's gateway, its agency named by id and by name.
    for (const auto& [id, agency] : {std::pair<std::string, std::string>{"estate-id", "housing"},
                                     {"estate-name", "鹤岗市住房保障局"}}) {
      Caller estate = MakeCaller(id, ScopeBit(Scope::kMeasures), View::kMasked, 1000, 1000);
      estate.agencies = {agency};
      callers.push_back(std::move(estate));
    }
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

// Only a connection's first request authenticates (FORMAT.md 14); a later HELLO with
// credentials is refused and changes nothing, whatever came first. (The client closes a
// connection whose HELLO was refused, so only the handler shows what the server does next.)
TEST_F(HandlerCallersTest, OnlyTheFirstRequestAuthenticates) {
  wire::HelloRequest late;
  late.max_version = 3;
  late.client_name = "handler_test";
  late.caller_id = "c63";
  late.token = tokens_["c63"];
  // After an unauthenticated request, even the right credentials come too late.
  EXPECT_EQ(StatusOf(wire::Opcode::kPing, ""), wire::Status::kOk);
  EXPECT_EQ(StatusOf(wire::Opcode::kHello, Payload(late)), wire::Status::kUnauthenticated);
  EXPECT_EQ(StatusOf(wire::Opcode::kCheck, Payload(wire::CheckRequest{{kListedId}})),
            wire::Status::kUnauthenticated);
  // After an authenticating HELLO, another caller's credentials leave the first identity.
  HelloAs("c1");  // CHECK only
  EXPECT_EQ(StatusOf(wire::Opcode::kHello, Payload(late)), wire::Status::kUnauthenticated);
  ASSERT_NE(session_.grant, nullptr);
  EXPECT_EQ(session_.grant->caller.id, "c1");
  EXPECT_EQ(StatusOf(wire::Opcode::kDetail, Payload(wire::DetailRequest{.id = kListedId}, 3)),
            wire::Status::kPermissionDenied);
  // A HELLO without credentials repeats the connection's caller block.
  wire::HelloRequest plain;
  plain.max_version = 3;
  plain.client_name = "handler_test";
  Answer a;
  ASSERT_EQ(StatusOf(wire::Opcode::kHello, Payload(plain), &a), wire::Status::kOk) << a.error();
  absl::StatusOr<wire::HelloResponse> r = wire::DecodeHelloResponse(a.payload);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->caller_id, "c1");
  EXPECT_EQ(r->scopes, ScopeBit(Scope::kCheck));
}

TEST_F(HandlerCallersTest, AConnectionOfACertificateStaysItsCaller) {
  struct Case {
    std::string id;
    std::string token;
    wire::Status status;
  };
  const Case cases[] = {
      {"c63", tokens_["c63"], wire::Status::kUnauthenticated},  // another caller's credentials
      {"masked", "shx_wrong", wire::Status::kUnauthenticated},  // its own id, a wrong token
      {"masked", tokens_["masked"], wire::Status::kOk},         // its own credentials
      {"", "", wire::Status::kOk},                              // none: the certificate's
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.id + " " + c.token);
    session_ = Session();  // a new TLS connection whose client certificate is caller "masked"
    absl::StatusOr<std::shared_ptr<const Grant>> grant =
        access_->ForCertificate("sha256:00", "masked-desk");
    ASSERT_TRUE(grant.ok()) << grant.status();
    session_.grant = *grant;
    wire::HelloRequest hello;
    hello.max_version = 3;
    hello.client_name = "handler_test";
    hello.caller_id = c.id;
    hello.token = c.token;
    Answer a;
    const wire::Status status = StatusOf(wire::Opcode::kHello, Payload(hello), &a);
    EXPECT_EQ(status, c.status) << (status != wire::Status::kOk ? a.error() : "");
    ASSERT_NE(session_.grant, nullptr);
    EXPECT_EQ(session_.grant->caller.id, "masked");
    EXPECT_TRUE(session_.grant->ByCertificate());
    EXPECT_EQ(StatusOf(wire::Opcode::kDetail,
                       Payload(wire::DetailRequest{.id = kListedId}, session_.version)),
              wire::Status::kPermissionDenied);
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
  const int hotel = d->catalog.FindScenario("hotel");
  ASSERT_GE(hotel, 0);
  for (const std::string caller : {"c63", "scoped", "hotel"}) {
    HelloAs(caller);
    for (EntityNo e = 0; e < snap.entity_count(); ++e) {
      const Id id = snap.EntityId(e);
      for (bool with_officers : {false, true}) {
        if (with_officers && id.subject_kind() != SubjectKind::kOrganization) continue;
        wire::MeasuresRequest request{
            .id = std::string(id.text()), .agency = "", .scenario = "", .officers = {}};
        MeasureQuery query;
        query.at = kNow;
        if (caller == "hotel") query.scenario = hotel;  // the caller's default filter
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
  // Naming a scenario overrides the caller's: the hotel caller asks about bank credit.
  HelloAs("hotel");
  const Id listed = snap.EntityId(0);
  MeasureQuery bank;
  bank.at = kNow;
  bank.scenario = d->catalog.FindScenario("bank_credit");
  absl::StatusOr<MeasuresResult> expected = Measures(d->list(), d->catalog, listed, bank);
  ASSERT_TRUE(expected.ok());
  std::string bytes;
  wire::Encode(*expected, &bytes, 3);
  Answer a;
  const wire::MeasuresRequest request{
      .id = std::string(listed.text()), .agency = "", .scenario = "bank_credit", .officers = {}};
  ASSERT_EQ(StatusOf(wire::Opcode::kMeasures, Payload(request, 3), &a), wire::Status::kOk);
  EXPECT_EQ(a.payload, bytes);
}

// A callers file may name a caller's agency by its name (鹤岗市住房保障局) as by its id
// (housing): either way MEASURES' default filter keeps that agency's measures, here measure 29
// (real-estate dealings) of a legal representative of a listed organisation. Kept as written,
// the name matched no measure's agency id: the gateway was told nothing restricts him.
TEST_F(HandlerCallersTest, AnAgencyNamedByItsNameFiltersAsItsId) {
  for (const std::string caller : {"estate-id", "estate-name"}) {
    HelloAs(caller);
    Answer a;
    const wire::MeasuresRequest request{
        .id = kRelatedId, .agency = "", .scenario = "", .officers = {}};
    ASSERT_EQ(StatusOf(wire::Opcode::kMeasures, Payload(request, 3), &a), wire::Status::kOk)
        << caller << ": " << a.error();
    absl::StatusOr<MeasuresResult> r = wire::DecodeMeasuresResponse(a.payload, 3);
    ASSERT_TRUE(r.ok()) << r.status();
    std::vector<int> numbers;
    for (const MeasureInfo& m : r->measures) numbers.push_back(m.no);
    EXPECT_THAT(numbers, ::testing::ElementsAre(29)) << caller;
  }
}

// A caller's agencies and scenarios are the filter of a MEASURES that names neither; one that
// names an agency or a scenario gets exactly that filter, the other dimension unfiltered. Before,
// the bank asking the police's measures of a legal representative got none: its default
// scenario (bank credit) still applied, and measure 41 governs hotels.
TEST_F(HandlerCallersTest, AnAgencyOrScenarioNamedReplacesBothDefaults) {
  constexpr int64_t kNow = 1767225600;  // 2026-01-01
  clock_ = [] { return kNow; };
  handler_ = std::make_unique<Handler>(config_, &holder_, clock_, nullptr, access_.get());
  const std::unique_ptr<Dataset> d = Sample();
  const absl::StatusOr<Id> id = ParseId(kRelatedId);
  ASSERT_TRUE(id.ok());
  // The measure numbers MEASURES answers the bank for `agency` and `scenario`.
  const auto asked = [&](const std::string& agency, const std::string& scenario) {
    const wire::MeasuresRequest request{
        .id = kRelatedId, .agency = agency, .scenario = scenario, .officers = {}};
    Answer a;
    EXPECT_EQ(StatusOf(wire::Opcode::kMeasures, Payload(request, 3), &a), wire::Status::kOk)
        << a.error();
    std::vector<int> numbers;
    absl::StatusOr<MeasuresResult> r = wire::DecodeMeasuresResponse(a.payload, 3);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) {
      for (const MeasureInfo& m : r->measures) numbers.push_back(m.no);
    }
    return numbers;
  };
  // What the list says for a filter of `agency` and `scenario` alone (-1: none).
  const auto expected = [&](int agency, int scenario) {
    MeasureQuery query;
    query.at = kNow;
    query.agency = agency;
    query.scenario = scenario;
    absl::StatusOr<MeasuresResult> r = Measures(d->list(), d->catalog, *id, query);
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<int> numbers;
    if (r.ok()) {
      for (const MeasureInfo& m : r->measures) numbers.push_back(m.no);
    }
    return numbers;
  };
  HelloAs("bank");
  EXPECT_THAT(asked("", ""), ::testing::ElementsAre(52));  // the defaults
  EXPECT_THAT(asked("public_security", ""), ::testing::Contains(41));
  EXPECT_EQ(asked("public_security", ""), expected(d->catalog.FindAgency("public_security"), -1));
  const std::vector<int> hotel = expected(-1, d->catalog.FindScenario("hotel"));
  EXPECT_FALSE(hotel.empty());
  EXPECT_EQ(asked("", "hotel"), hotel);
  EXPECT_EQ(asked("public_security", "hotel"),
            expected(d->catalog.FindAgency("public_security"), d->catalog.FindScenario("hotel")));
}

// HELLO announces the rate rounded down, so that a client pacing at it is never refused; a
// rate below one a second is 0 with a burst, apart from "unlimited" (0 with burst 0). Before,
// 1.9/s was announced 2 and 0.01/s 1: a client pacing at them was refused half the time, or
// 99 times in 100.
TEST_F(HandlerCallersTest, HelloAnnouncesARateAClientCanPaceAt) {
  wire::HelloResponse paced = HelloAs("paced");
  EXPECT_EQ(paced.rate, 1u);
  EXPECT_EQ(paced.burst, 4u);
  wire::HelloResponse tight = HelloAs("tight");
  EXPECT_EQ(tight.rate, 0u);
  EXPECT_EQ(tight.burst, 2u);
  wire::HelloResponse fast = HelloAs("c1");
  EXPECT_EQ(fast.rate, 1000u);
  EXPECT_EQ(fast.burst, 1000u);
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

// A MEASURES costs one token for its subject and one per officer it sends: each officer is
// looked up (the bases say whether it is listed), so 16 officers were 16 IDs for one token.
TEST_F(HandlerCallersTest, AMeasuresCostsOneTokenPerIdItsOfficersIncluded) {
  HelloAs("tight-measures");  // burst 3, a token per 100 s
  auto measures = [](size_t officers) {
    wire::MeasuresRequest r{
        .id = "912304216987123405", .agency = "", .scenario = "", .officers = {}};
    for (size_t i = 0; i < officers; ++i) r.officers.emplace_back(Role::kDirector, kRelatedId);
    return Payload(r, 3);
  };
  Answer a;
  EXPECT_EQ(StatusOf(wire::Opcode::kMeasures, measures(3), &a), wire::Status::kInvalidArgument);
  absl::StatusOr<wire::ErrorResponse> e =
      wire::DecodeError(a.payload, wire::Status::kInvalidArgument, 3);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_NE(e->message.find("send at most 2 officers"), std::string::npos) << e->message;
  EXPECT_EQ(StatusOf(wire::Opcode::kMeasures, measures(2)), wire::Status::kOk);
  EXPECT_EQ(StatusOf(wire::Opcode::kMeasures, measures(0)), wire::Status::kRateLimited);
}

}  // namespace
}  // namespace shixin
