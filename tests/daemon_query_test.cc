// End-to-end tests of shixind's answers: the CLI in server mode prints exactly what it prints
// offline, the protocol client's DETAIL and MEASURES agree with the core on an in-process
// snapshot of the same data, and pipelined requests and CHECK batches are answered in full.
// Also the rules FORMAT.md fixes: CATALOG, late HELLO, grouped IDs, the order of role entries
// and bases, STALE on every response.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "core/catalog.h"
#include "core/paths.h"
#include "core/query.h"
#include "protocol/operator_messages.h"
#include "tests/cli_pipe.h"
#include "tests/daemon_harness.h"

namespace shixin::e2e {
namespace {

constexpr uint64_t kSubjects = 20000;

wire::MeasuresRequest MeasuresOf(const std::string& id);

// A synthetic data set, the daemon serving it, and the same data loaded in process.
class DaemonQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.path().empty());
    data_dir_ = scratch_.Path("data");
    ASSERT_TRUE(MakeSyntheticDataDir(data_dir_, kSubjects).ok());
    auto snap = LoadSnapshot(data_dir_);
    ASSERT_TRUE(snap.ok()) << snap.status();
    snap_ = *std::move(snap);
    auto catalog = Catalog::LoadFile(DefaultCatalogPath());
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    catalog_ = std::make_unique<Catalog>(*std::move(catalog));
    DaemonOptions options;
    options.data_dir = data_dir_;
    auto daemon = Daemon::Start(options);
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
    sample_ = SampleIds(*snap_, 40);
    ASSERT_EQ(sample_.listed_persons.size(), 40u);
    ASSERT_EQ(sample_.listed_orgs.size(), 40u);
    ASSERT_EQ(sample_.related_persons.size(), 40u);
    ASSERT_EQ(sample_.unlisted.size(), 40u);
    ASSERT_EQ(sample_.invalid.size(), 40u);
    ASSERT_GE(sample_.typed.size(), 20u);
  }

  std::unique_ptr<Client> Connect() {
    auto client = daemon_->Connect();
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  // Connects and says HELLO, which negotiates the highest common version (3); `hello` gets the
  // answer. Returns null (a failed expectation) if either fails.
  std::unique_ptr<Client> ConnectWithHello(wire::HelloResponse* hello) {
    std::unique_ptr<Client> client = Connect();
    if (client == nullptr) return nullptr;
    auto reply = client->Hello("daemon_query_test");
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok()) return nullptr;
    *hello = reply->value;
    EXPECT_EQ(hello->version, wire::kMaxVersion);
    return client;
  }

  void ExpectCliModesAgree(const std::vector<std::string>& args,
                           const std::vector<std::string>& ids);

  // What CHECK must answer for `input`, from the in-process snapshot.
  CheckAnswerCopy Expected(const std::string& input) {
    CheckAnswerCopy a;
    absl::StatusOr<Id> id = ParseId(input);
    if (!id.ok()) {
      a.status = wire::CheckStatus::kInvalid;
      a.error = std::string(id.status().message());
      return a;
    }
    const CheckResult r = Check(*snap_, *id, NowSeconds(), /*with_cases=*/true).value();
    a.id = r.id;
    if (!r.listed && !r.related) {
      a.status = wire::CheckStatus::kUnlisted;
      return a;
    }
    a.status = r.listed ? wire::CheckStatus::kListed : wire::CheckStatus::kRelated;
    a.kind = r.kind;
    a.cases =
        r.listed
            ? static_cast<uint16_t>(std::min<uint32_t>(snap_->CaseCount(snap_->Find(*id)), 0xFFFF))
            : 0;
    a.roles = static_cast<uint16_t>(
        std::count_if(r.roles.begin(), r.roles.end(), [](const RoleInfo& x) { return x.listed; }));
    a.name = std::string(wire::TruncateUtf8(r.name, 255));
    return a;
  }

  // The core's answer to a MEASURES request, as the daemon must give it: the result, or the
  // error message with the wire status name in front (as Client reports it).
  absl::StatusOr<MeasuresResult> CoreMeasures(const wire::MeasuresRequest& request) {
    absl::StatusOr<Id> id = ParseId(request.id);
    if (!id.ok()) {
      return absl::InvalidArgumentError("INVALID_ID: " + std::string(id.status().message()));
    }
    MeasureQuery query;
    if (!request.agency.empty()) query.agency = catalog_->FindAgency(request.agency);
    if (!request.scenario.empty()) query.scenario = catalog_->FindScenario(request.scenario);
    for (const auto& [role, text] : request.officers) {
      absl::StatusOr<Id> officer = ParseId(text);
      if (!officer.ok()) return officer.status();
      query.officers.push_back(Officer{role, *officer});
    }
    query.at = NowSeconds();
    absl::StatusOr<MeasuresResult> r = Measures(*snap_, *catalog_, *id, query);
    if (!r.ok()) {
      return absl::Status(r.status().code(),
                          "INVALID_ARGUMENT: " + std::string(r.status().message()));
    }
    return r;
  }

  ScratchDir scratch_;
  std::string data_dir_;
  std::unique_ptr<const Snapshot> snap_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<Daemon> daemon_;
  IdSample sample_;
};

wire::MeasuresRequest MeasuresOf(const std::string& id) {
  wire::MeasuresRequest request;
  request.id = id;
  return request;
}

void ExpectSameAnswer(const CheckAnswerCopy& got, const CheckAnswerCopy& want,
                      const std::string& input) {
  SCOPED_TRACE("input \"" + input + "\"");
  EXPECT_EQ(wire::CheckStatusName(got.status), wire::CheckStatusName(want.status));
  EXPECT_EQ(got.error, want.error);
  EXPECT_EQ(got.id, want.id);
  if (want.status == wire::CheckStatus::kListed || want.status == wire::CheckStatus::kRelated) {
    EXPECT_EQ(got.kind, want.kind);
    EXPECT_EQ(got.cases, want.cases);
    EXPECT_EQ(got.roles, want.roles);
    EXPECT_EQ(got.name, want.name);
  }
}

// The first line where `a` and `b` differ, for a readable failure.
std::string FirstDifference(const std::string& a, const std::string& b) {
  size_t line = 1, start = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a[i] != b[i]) {
      const size_t end_a = a.find('\n', start), end_b = b.find('\n', start);
      return absl::StrFormat("line %d:\n  offline: %s\n  server:  %s", line,
                             a.substr(start, end_a - start), b.substr(start, end_b - start));
    }
    if (a[i] == '\n') {
      ++line;
      start = i + 1;
    }
  }
  return absl::StrFormat("one output is a prefix of the other (%d vs %d bytes)", a.size(),
                         b.size());
}

size_t CountOf(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Runs `shixin ARGS... --data DIR -` (less --no-going-back) and `shixin ARGS... --server ADDR -`
// on `ids` and expects the same exit status and the same bytes on standard output.
void DaemonQueryTest::ExpectCliModesAgree(const std::vector<std::string>& args,
                                          const std::vector<std::string>& ids) {
  std::string name;
  for (const std::string& arg : args) name += arg + " ";
  SCOPED_TRACE(name);
  std::string list;
  for (const std::string& id : ids) list += id + "\n";
  const std::string ids_path = scratch_.Path("ids.txt");
  ASSERT_TRUE(WriteFileAtomically(ids_path, list).ok());
  std::vector<std::string> offline = {BinDir() + "/shixin"};
  offline.insert(offline.end(), args.begin(), args.end());
  std::vector<std::string> server = offline;
  // A server-mode flag is a usage error offline.
  std::erase(offline, std::string("--no-going-back"));
  offline.insert(offline.end(), {"--data", data_dir_, "-"});
  server.insert(server.end(), {"--server", daemon_->address(), "-"});
  const ProcessResult a = RunProcess(offline, ids_path, absl::Seconds(30));
  const ProcessResult b = RunProcess(server, ids_path, absl::Seconds(30));
  EXPECT_EQ(a.exit_code, 1) << a.err;  // the IDs include invalid ones
  EXPECT_EQ(b.exit_code, a.exit_code) << b.err;
  EXPECT_EQ(CountOf(a.out, "\n"), ids.size());
  EXPECT_GE(CountOf(a.out, "\"listed\":true"), ids.size() / 10);
  EXPECT_TRUE(a.out == b.out) << FirstDifference(a.out, b.out);
}

TEST_F(DaemonQueryTest, CliServerModePrintsExactlyWhatOfflineModePrints) {
  const std::vector<std::string> ids = sample_.All();
  ASSERT_GE(ids.size(), 200u);
  ExpectCliModesAgree({"check", "--json"}, ids);  // pipelined (Client::DetailEach)
  ExpectCliModesAgree({"check", "--json", "--no-going-back"}, ids);  // one request at a time
  ExpectCliModesAgree({"measures", "--json"}, ids);
  ExpectCliModesAgree({"measures", "--json", "--no-going-back"}, ids);
  ExpectCliModesAgree({"measures", "--json", "--scenario", "hotel"}, ids);
  ExpectCliModesAgree({"measures", "--json", "--agency", "housing"}, ids);
}

// More IDs than the CLI reads at a time (4,096, each chunk one pipeline of requests or CHECK
// batches): server mode still prints what offline mode prints, in order, with the invalid
// inputs of later chunks named by their lines.
TEST_F(DaemonQueryTest, CliServerModeAgreesWithOfflineModeOverManyChunks) {
  std::vector<std::string> ids;
  while (ids.size() < 9000) {
    for (const std::string& id : sample_.All()) ids.push_back(id);
  }
  ExpectCliModesAgree({"check", "--json"}, ids);
  ExpectCliModesAgree({"measures", "--json"}, ids);
}

// Server mode answers standard input as it comes, as offline: each ID written to a pipe kept
// open is answered before the next is written (DETAIL, CHECK for a matter, MEASURES).
TEST_F(DaemonQueryTest, CliServerModeAnswersStandardInputWhileItIsOpen) {
  const std::chrono::seconds wait(10);  // an upper bound: the answers come at once
  const std::string shixin = BinDir() + "/shixin";
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"check"}, {"check", "--matter", "HG-7"}, {"measures"}}) {
    SCOPED_TRACE(absl::StrJoin(args, " "));
    std::vector<std::string> argv = {shixin};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--json", "--server", daemon_->address()});
    shixin::testing::PipedRun run(argv);
    ASSERT_TRUE(run.started());
    const std::string& listed = sample_.listed_persons.at(0);
    ASSERT_TRUE(run.Write(listed + "\n"));
    EXPECT_TRUE(absl::StrContains(run.ReadLines(1, wait), "\"listed\":true")) << run.out();
    ASSERT_TRUE(run.Write("\n" + sample_.invalid.at(0) + "\n"));
    EXPECT_TRUE(absl::StrContains(run.ReadLines(2, wait), "{\"line\":3,")) << run.out();
    ASSERT_TRUE(run.Write(sample_.unlisted.at(0) + "\n"));
    EXPECT_TRUE(absl::StrContains(run.ReadLines(3, wait), "\"listed\":false")) << run.out();
    EXPECT_EQ(run.Wait(wait), 1);
    EXPECT_EQ(CountOf(run.out(), "\n"), 3u) << run.out();
  }
}

// A request the daemon would refuse for every ID (an unknown scenario or agency, an instant
// outside its history) is a usage error printed once, as offline, not an error per ID.
TEST_F(DaemonQueryTest, CliRequestErrorsArePrintedOnceAsOffline) {
  const std::string ids_path = scratch_.Path("three.txt");
  ASSERT_TRUE(WriteFileAtomically(ids_path, absl::StrCat(sample_.listed_persons.at(0), "\n",
                                                         sample_.listed_persons.at(1), "\n",
                                                         sample_.listed_persons.at(2), "\n"))
                  .ok());
  const std::string shixin = BinDir() + "/shixin";
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"measures", "--scenario", "bogus"},
                                             {"measures", "--agency", "nobody"},
                                             {"check", "--as-of", "2000-01-01T00:00:00Z"},
                                             {"measures", "--as-of", "2000-01-01T00:00:00Z"}}) {
    std::vector<std::string> argv = {shixin};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> offline = argv;
    offline.insert(offline.end(), {"--data", data_dir_});
    argv.insert(argv.end(), {"--server", daemon_->address()});
    const ProcessResult a = RunProcess(offline, ids_path, absl::Seconds(30));
    const ProcessResult b = RunProcess(argv, ids_path, absl::Seconds(30));
    EXPECT_EQ(a.exit_code, 2) << args[1];
    EXPECT_EQ(b.exit_code, 2) << args[1] << ": " << b.err;
    EXPECT_EQ(b.out, "") << args[1];
    EXPECT_EQ(CountOf(b.err, "\n"), 1u) << args[1] << ": " << b.err;
  }
}

// Officers apply to organisations: the subjects here are organisations (and invalid IDs).
TEST_F(DaemonQueryTest, CliServerModeWithOfficersPrintsWhatOfflineModePrints) {
  std::vector<std::string> ids;
  for (const std::string& input : sample_.All()) {
    absl::StatusOr<Id> id = ParseId(input);
    if (!id.ok() || id->subject_kind() == SubjectKind::kOrganization) ids.push_back(input);
  }
  ASSERT_GE(ids.size(), 80u);
  const std::string officer = "legal_representative=" + sample_.listed_persons.at(3);
  ExpectCliModesAgree({"measures", "--json", "--officer", officer}, ids);
  ExpectCliModesAgree({"measures", "--json", "--scenario", "bank_credit", "--officer", officer,
                       "--officer", "director=" + sample_.related_persons.at(1)},
                      ids);
}

// Officers given for a person: both modes print the same error object, e.g.
// {"input":ID,"error":"officers can only be given for an organisation"} (server mode once
// printed the Client's status text, "INVALID_ARGUMENT: ..." in front of the message).
TEST_F(DaemonQueryTest, CliServerModeWithOfficersForPersonsPrintsWhatOfflineModePrints) {
  const std::string officer = "legal_representative=" + sample_.listed_persons.at(3);
  ExpectCliModesAgree({"measures", "--json", "--officer", officer}, sample_.All());
}

// A check for a matter is a CHECK (recorded, no cases): sent in CHECKs of max_batch IDs, its
// answers agree with offline mode's on every field a CHECK carries, in the inputs' order.
TEST_F(DaemonQueryTest, CliChecksForAMatterInBatchesAgreeWithOfflineMode) {
  DaemonOptions options;
  options.data_dir = data_dir_;
  options.flags = {"--max-batch", "7"};
  auto small = Daemon::Start(options);
  ASSERT_TRUE(small.ok()) << small.status();
  std::string list;
  for (const std::string& id : sample_.All()) list += id + "\n";
  const std::string ids_path = scratch_.Path("matter-ids.txt");
  ASSERT_TRUE(WriteFileAtomically(ids_path, list).ok());
  const std::string shixin = BinDir() + "/shixin";
  const ProcessResult offline =
      RunProcess({shixin, "check", "--json", "--data", data_dir_, "-"}, ids_path);
  const ProcessResult server = RunProcess(
      {shixin, "check", "--json", "--matter", "HG-7", "--server", (*small)->address(), "-"},
      ids_path);
  EXPECT_EQ(server.exit_code, offline.exit_code) << server.err;
  const std::vector<std::string> a = absl::StrSplit(offline.out, '\n');
  const std::vector<std::string> b = absl::StrSplit(server.out, '\n');
  ASSERT_EQ(a.size(), sample_.All().size() + 1);
  ASSERT_EQ(b.size(), a.size());
  size_t listed = 0;
  for (size_t i = 0; i + 1 < a.size(); ++i) {
    const nlohmann::json x = nlohmann::json::parse(a[i]);
    const nlohmann::json y = nlohmann::json::parse(b[i]);
    if (x.contains("error")) {
      EXPECT_EQ(x, y) << i;
      continue;
    }
    // A CHECK names listed and related subjects only (offline mode knows more names).
    const bool named = x["listed"].get<bool>() || x["related"].get<bool>();
    if (!named) {
      EXPECT_TRUE(y["name"].is_null()) << b[i];
    }
    for (const char* key : {"id", "listed", "related", "kind", "since", "until"}) {
      EXPECT_EQ(x.value(key, nlohmann::json()), y.value(key, nlohmann::json()))
          << key << " of line " << i << ":\n  offline: " << a[i] << "\n  server:  " << b[i];
    }
    if (named) {
      EXPECT_EQ(x["name"], y["name"]) << b[i];
    }
    listed += x["listed"].get<bool>();
  }
  EXPECT_GE(listed, sample_.All().size() / 10);
}

TEST_F(DaemonQueryTest, DetailAndMeasuresMatchTheCore) {
  // Version 2 (and 3) carries all of the core's answer: the listing stretch, the cases' history
  // fields.
  wire::HelloResponse hello;
  auto client = ConnectWithHello(&hello);
  ASSERT_NE(client, nullptr);
  ASSERT_EQ(hello.version, wire::kMaxVersion);
  auto info = client->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->value.catalog_fingerprint, catalog_->fingerprint())
      << "the daemon serves another catalog than " << DefaultCatalogPath();
  EXPECT_EQ(info->value.snapshot.version, snap_->info().version);
  // Listed at build time: all generated subjects but those in their grace period (a few).
  EXPECT_EQ(info->value.snapshot.subjects, snap_->info().subjects);
  EXPECT_GT(info->value.snapshot.subjects, kSubjects * 99 / 100);
  EXPECT_LE(info->value.snapshot.subjects, kSubjects);

  const std::vector<std::string> ids = sample_.All();
  int compared = 0;
  for (const std::string& input : ids) {
    SCOPED_TRACE("input \"" + input + "\"");
    auto reply = client->Detail(input);
    absl::StatusOr<Id> id = ParseId(input);
    if (!id.ok()) {
      ASSERT_FALSE(reply.ok());
      EXPECT_EQ(reply.status().message(), "INVALID_ID: " + std::string(id.status().message()));
      continue;
    }
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->generation, 1u);
    EXPECT_FALSE(reply->stale);
    const CheckResult core = Check(*snap_, *id, NowSeconds(), /*with_cases=*/true).value();
    EXPECT_EQ(Dump(reply->value), Dump(core));
    EXPECT_EQ(reply->value.since, core.since);
    EXPECT_EQ(reply->value.until, core.until);
    ++compared;
  }
  EXPECT_GE(compared, 150);

  const std::string officer = sample_.listed_persons.at(3);
  const std::string related_officer = sample_.related_persons.at(1);
  std::vector<wire::MeasuresRequest> shapes(5);
  shapes[1].scenario = "hotel";
  shapes[2].agency = "housing";
  shapes[3].officers = {{Role::kLegalRepresentative, officer}};
  shapes[4].scenario = "bank_credit";
  shapes[4].officers = {{Role::kDirector, related_officer}, {Role::kPrincipal, officer}};
  int measures_seen = 0;
  for (wire::MeasuresRequest request : shapes) {
    for (const std::string& input : ids) {
      request.id = input;
      SCOPED_TRACE(absl::StrFormat("MEASURES \"%s\" agency \"%s\" scenario \"%s\" officers %d",
                                   input, request.agency, request.scenario,
                                   request.officers.size()));
      auto reply = client->Measures(request);
      absl::StatusOr<MeasuresResult> want = CoreMeasures(request);
      ASSERT_EQ(reply.ok(), want.ok()) << (reply.ok() ? want.status() : reply.status());
      if (!want.ok()) {
        EXPECT_EQ(reply.status().code(), want.status().code());
        EXPECT_EQ(reply.status().message(), want.status().message());
        continue;
      }
      EXPECT_EQ(reply->generation, 1u);
      EXPECT_EQ(Dump(reply->value), Dump(*want));
      EXPECT_EQ(reply->value.subject.since, want->subject.since);
      EXPECT_EQ(reply->value.subject.until, want->subject.until);
      measures_seen += static_cast<int>(want->measures.size());
    }
  }
  EXPECT_GT(measures_seen, 1000);  // the comparison covered real measures, not just empty lists
}

TEST_F(DaemonQueryTest, PipelinedRequestsAreAllAnsweredById) {
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  const std::vector<std::string> ids = sample_.All();
  struct Sent {
    wire::Opcode op;
    std::string id;
  };
  std::map<uint32_t, Sent> sent;
  std::vector<uint32_t> order;
  constexpr int kRequests = 200;
  for (int i = 0; i < kRequests; ++i) {
    const uint32_t request_id = 0x10000 + static_cast<uint32_t>(i) * 7919;  // distinct, unordered
    const std::string& id = ids[static_cast<size_t>(i) % ids.size()];
    Sent s{i % 3 == 0 ? wire::Opcode::kPing
                      : (i % 3 == 1 ? wire::Opcode::kCheck : wire::Opcode::kMeasures),
           id};
    std::string payload;
    if (s.op == wire::Opcode::kCheck) payload = CheckPayload({id});
    if (s.op == wire::Opcode::kMeasures) payload = MeasuresPayload(MeasuresOf(id));
    ASSERT_TRUE(client->SendFrame(s.op, request_id, payload).ok());
    sent[request_id] = s;
    order.push_back(request_id);
  }
  std::vector<uint32_t> received;
  for (int i = 0; i < kRequests; ++i) {
    auto frame = client->ReceiveFrame();
    ASSERT_TRUE(frame.ok()) << "response " << i << ": " << frame.status();
    const wire::FrameHeader& h = frame->header;
    auto it = sent.find(h.request_id);
    ASSERT_NE(it, sent.end()) << "unknown request id " << h.request_id;
    const Sent s = it->second;
    sent.erase(it);
    received.push_back(h.request_id);
    SCOPED_TRACE(absl::StrFormat("%s \"%s\"", std::string(wire::OpcodeName(s.op)), s.id));
    EXPECT_EQ(h.opcode, static_cast<uint8_t>(s.op));
    EXPECT_NE(h.flags & wire::kFlagResponse, 0);
    EXPECT_EQ(h.generation, 1u);
    const bool valid = ParseId(s.id).ok();
    if (s.op == wire::Opcode::kMeasures && !valid) {
      EXPECT_EQ(h.status, static_cast<uint16_t>(wire::Status::kInvalidId));
      continue;
    }
    ASSERT_EQ(h.status, 0) << ErrorMessage(*frame);
    if (s.op == wire::Opcode::kPing) {
      EXPECT_EQ(frame->payload, "");
    } else if (s.op == wire::Opcode::kCheck) {
      auto answers = wire::DecodeCheckResponse(frame->payload);
      ASSERT_TRUE(answers.ok()) << answers.status();
      ASSERT_EQ(answers->size(), 1u);
      const wire::CheckAnswer& a = (*answers)[0];
      ExpectSameAnswer(CheckAnswerCopy{a.status, std::string(a.error), std::string(a.id), a.kind,
                                       a.cases, a.roles, std::string(a.name)},
                       Expected(s.id), s.id);
    } else {
      auto result = wire::DecodeMeasuresResponse(frame->payload);
      ASSERT_TRUE(result.ok()) << result.status();
      auto want = CoreMeasures(MeasuresOf(s.id));
      ASSERT_TRUE(want.ok()) << want.status();
      EXPECT_EQ(Dump(*result), Dump(*want));
    }
  }
  EXPECT_TRUE(sent.empty());
  EXPECT_EQ(received, order) << "responses must come in the order of the requests (FORMAT.md 3)";
  auto ping = client->Ping();
  EXPECT_TRUE(ping.ok()) << ping.status();
}

TEST_F(DaemonQueryTest, BatchOf1000IsAnsweredPerIdInOrder) {
  wire::HelloResponse hello;
  auto client = ConnectWithHello(&hello);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(hello.max_batch, 1000);
  EXPECT_EQ(hello.max_payload, 1u << 20);

  const std::vector<std::string> all = sample_.All();
  std::vector<std::string> batch;
  for (size_t i = 0; batch.size() < 1000; ++i) batch.push_back(all[(i * 13) % all.size()]);
  auto reply = client->Check(batch);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->generation, 1u);
  ASSERT_EQ(reply->value.size(), batch.size());
  std::map<wire::CheckStatus, int> seen;
  for (size_t i = 0; i < batch.size(); ++i) {
    SCOPED_TRACE(absl::StrFormat("answer %d", i));
    ExpectSameAnswer(reply->value[i], Expected(batch[i]), batch[i]);
    ++seen[reply->value[i].status];
  }
  EXPECT_GT(seen[wire::CheckStatus::kListed], 100);
  EXPECT_GT(seen[wire::CheckStatus::kRelated], 50);
  EXPECT_GT(seen[wire::CheckStatus::kUnlisted], 50);
  EXPECT_GT(seen[wire::CheckStatus::kInvalid], 50);
}

TEST_F(DaemonQueryTest, BatchOverMaxBatchIsInvalidArgumentAndTheConnectionStays) {
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  std::vector<std::string> batch(1001, sample_.listed_persons.at(0));
  ASSERT_TRUE(client->SendFrame(wire::Opcode::kCheck, 41, CheckPayload(batch)).ok());
  auto frame = client->ReceiveFrame();
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->header.request_id, 41u);
  EXPECT_EQ(frame->header.status, static_cast<uint16_t>(wire::Status::kInvalidArgument))
      << ErrorMessage(*frame);

  // An empty CHECK too.
  ASSERT_TRUE(client->SendFrame(wire::Opcode::kCheck, 42, CheckPayload({})).ok());
  frame = client->ReceiveFrame();
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->header.request_id, 42u);
  EXPECT_EQ(frame->header.status, static_cast<uint16_t>(wire::Status::kInvalidArgument))
      << ErrorMessage(*frame);

  // The connection still answers, and a batch of exactly max_batch is fine.
  auto ping = client->Ping();
  EXPECT_TRUE(ping.ok()) << ping.status();
  batch.pop_back();
  auto reply = client->Check(batch);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->value.size(), 1000u);
  EXPECT_EQ(reply->value.back().status, wire::CheckStatus::kListed);
}

// FORMAT.md 8.7: CATALOG is the catalog file the daemon loaded, and `shixin catalog` prints the
// same in both modes.
TEST_F(DaemonQueryTest, CatalogIsTheServedCatalogInBothCliModes) {
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  auto catalog = client->Catalog();  // without HELLO
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_EQ(catalog->generation, 1u);
  EXPECT_FALSE(catalog->stale);
  std::string got, want;
  wire::Encode(catalog->value, &got);
  wire::Encode(wire::DescribeCatalog(*catalog_), &want);
  EXPECT_EQ(got, want);
  ASSERT_EQ(catalog->value.measures.size(), catalog_->measures().size());
  // What it lists is what MEASURES accepts.
  const std::string subject = sample_.listed_orgs.at(0);
  for (const wire::CatalogAgency& agency : catalog->value.agencies) {
    wire::MeasuresRequest request = MeasuresOf(subject);
    request.agency = agency.id;
    EXPECT_TRUE(client->Measures(request).ok()) << agency.id;
  }
  for (const wire::CatalogScenario& scenario : catalog->value.scenarios) {
    wire::MeasuresRequest request = MeasuresOf(subject);
    request.scenario = scenario.id;
    EXPECT_TRUE(client->Measures(request).ok()) << scenario.id;
  }

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"catalog"}, std::vector<std::string>{"catalog", "--json"}}) {
    std::vector<std::string> offline = {BinDir() + "/shixin"};
    offline.insert(offline.end(), args.begin(), args.end());
    std::vector<std::string> server = offline;
    server.insert(server.end(), {"--server", daemon_->address()});
    const ProcessResult a = RunProcess(offline, "", absl::Seconds(30));
    const ProcessResult b = RunProcess(server, "", absl::Seconds(30));
    EXPECT_EQ(a.exit_code, 0) << a.err;
    EXPECT_EQ(b.exit_code, 0) << b.err;
    EXPECT_NE(a.out.find("hegang-2018"), std::string::npos) << a.out;
    EXPECT_TRUE(a.out == b.out) << FirstDifference(a.out, b.out);
  }
}

// FORMAT.md 4: HELLO is optional, and a late or second HELLO is answered like a first one.
TEST_F(DaemonQueryTest, HelloMayComeLateAndMoreThanOnce) {
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Check({sample_.listed_persons.at(0)}).ok());
  auto first = client->Hello("late");
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = client->Hello("again");
  ASSERT_TRUE(second.ok()) << second.status();
  for (const auto* hello : {&first->value, &second->value}) {
    EXPECT_EQ(hello->version, 1);
    EXPECT_EQ(hello->capabilities, wire::kCapabilityCatalog);
    EXPECT_EQ(hello->max_batch, 1000);
    EXPECT_EQ(hello->max_payload, 1u << 20);
    EXPECT_EQ(hello->catalog_id, "hegang-2018");
  }
  auto check = client->Check({sample_.listed_persons.at(1)});
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->value[0].status, wire::CheckStatus::kListed);
}

// FORMAT.md 7: IDs grouped as printed on forms are found as the IDs they are.
TEST_F(DaemonQueryTest, GroupedIdsAreAnsweredLikeTheirNormalisedForm) {
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  std::vector<std::string> typed, want;
  for (size_t i = 0; i < 10; ++i) {
    const std::string& p = sample_.listed_persons.at(i);
    typed.push_back(p.substr(0, 6) + (i % 2 ? "-" : " ") + p.substr(6, 8) + (i % 2 ? "-" : " ") +
                    p.substr(14));
    want.push_back(p);
    const std::string& o = sample_.listed_orgs.at(i);
    if (o.size() != 18) continue;
    typed.push_back(o.substr(0, 2) + " " + o.substr(2, 6) + " " + o.substr(8));
    want.push_back(o);
    typed.push_back(o.substr(0, 2) + "\u3000" + o.substr(2, 6) + "\u3000" + o.substr(8, 9) +
                    "\u3000" + o.substr(17));
    want.push_back(o);
  }
  ASSERT_GE(typed.size(), 20u);
  auto reply = client->Check(typed);
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_EQ(reply->value.size(), typed.size());
  for (size_t i = 0; i < typed.size(); ++i) {
    SCOPED_TRACE("input \"" + typed[i] + "\"");
    EXPECT_EQ(reply->value[i].status, wire::CheckStatus::kListed) << reply->value[i].error;
    EXPECT_EQ(reply->value[i].id, want[i]);
  }
  // Other groupings are invalid, with the reason.
  auto bad = client->Check({typed[0].substr(0, 10) + " " + typed[0].substr(10)});
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_EQ(bad->value[0].status, wire::CheckStatus::kInvalid);
  EXPECT_NE(bad->value[0].error.find("may only separate the groups"), std::string::npos)
      << bad->value[0].error;
}

// The sort key of a role entry (FORMAT.md 8.3): the other party's ID by kind (resident IDs,
// credit codes, organisation codes), then byte order, then the role.
std::tuple<int, std::string, int> RoleKey(const std::string& id, std::optional<Role> role) {
  absl::StatusOr<Id> parsed = ParseId(id);
  EXPECT_TRUE(parsed.ok()) << id;
  return {parsed.ok() ? static_cast<int>(parsed->kind()) : 0, id,
          role ? static_cast<int>(*role) : -1};
}

void ExpectRolesInOrder(const std::vector<RoleInfo>& roles) {
  for (size_t i = 1; i < roles.size(); ++i) {
    EXPECT_LT(RoleKey(roles[i - 1].id, roles[i - 1].role), RoleKey(roles[i].id, roles[i].role))
        << "role entries " << i - 1 << " and " << i;
  }
}

// FORMAT.md 8.3: which basis fields each type sets, and the order of the bases. Counts the
// bases seen by type (index 3: officer bases with two hops).
void ExpectBasesAsDocumented(const MeasuresResult& r, std::vector<int>* seen) {
  for (const MeasureInfo& m : r.measures) {
    SCOPED_TRACE(absl::StrFormat("measure %d", m.no));
    ASSERT_FALSE(m.basis.empty());
    for (size_t i = 0; i < m.basis.size(); ++i) {
      const Basis& b = m.basis[i];
      switch (b.type) {
        case BasisType::kListed:
          EXPECT_EQ(i, 0u) << "listed comes first, once";
          EXPECT_TRUE(!b.role && b.via.empty() && b.via_name.empty() && !b.via_role &&
                      b.officer.empty() && b.officer_name.empty());
          break;
        case BasisType::kRelated:
          EXPECT_TRUE(b.role && !b.via.empty() && !b.via_name.empty() && !b.via_role &&
                      b.officer.empty() && b.officer_name.empty());
          break;
        case BasisType::kOfficer:
          EXPECT_TRUE(b.role && !b.officer.empty());
          EXPECT_EQ(b.via.empty(), !b.via_role.has_value());
          EXPECT_EQ(b.via.empty(), b.via_name.empty());
          break;
      }
      ++(*seen)[b.type == BasisType::kOfficer && !b.via.empty() ? 3 : static_cast<int>(b.type)];
      if (i == 0) continue;
      const Basis& a = m.basis[i - 1];
      EXPECT_LE(static_cast<int>(a.type), static_cast<int>(b.type)) << "bases " << i;
      if (a.type == BasisType::kRelated && b.type == BasisType::kRelated) {
        EXPECT_LT(RoleKey(a.via, a.role), RoleKey(b.via, b.role)) << "bases " << i;
      }
      if (a.type == BasisType::kOfficer && b.type == BasisType::kOfficer) {
        const auto key = [](const Basis& x) {
          return std::make_tuple(
              static_cast<int>(*x.role), x.officer, !x.via.empty(),
              x.via.empty() ? std::make_tuple(0, std::string(), -1) : RoleKey(x.via, x.via_role));
        };
        EXPECT_LT(key(a), key(b)) << "bases " << i;
      }
    }
  }
}

// FORMAT.md 8.3 and 8.4: role entries and bases come in the documented order, with the
// documented fields set.
TEST_F(DaemonQueryTest, RolesAndBasesComeInTheDocumentedOrder) {
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  size_t many_roles = 0;
  for (const std::string& input : sample_.All()) {
    if (!ParseId(input).ok()) continue;
    SCOPED_TRACE("input \"" + input + "\"");
    auto detail = client->Detail(input);
    ASSERT_TRUE(detail.ok()) << detail.status();
    ExpectRolesInOrder(detail->value.roles);
    ExpectRolesInOrder(detail->value.officers);
    if (detail->value.roles.size() + detail->value.officers.size() > 1) ++many_roles;
  }
  EXPECT_GT(many_roles, 10u);

  std::vector<int> seen(4, 0);
  std::vector<wire::MeasuresRequest> shapes(3);
  shapes[1].officers = {{Role::kLegalRepresentative, sample_.listed_persons.at(3)}};
  shapes[2].officers = {{Role::kDirector, sample_.related_persons.at(1)},
                        {Role::kPrincipal, sample_.listed_persons.at(3)},
                        {Role::kLegalRepresentative, sample_.related_persons.at(2)}};
  for (wire::MeasuresRequest request : shapes) {
    for (const std::string& input : sample_.All()) {
      absl::StatusOr<Id> id = ParseId(input);
      if (!id.ok() ||
          (!request.officers.empty() && id->subject_kind() != SubjectKind::kOrganization)) {
        continue;
      }
      request.id = input;
      SCOPED_TRACE(
          absl::StrFormat("MEASURES \"%s\" with %d officers", input, request.officers.size()));
      auto reply = client->Measures(request);
      ASSERT_TRUE(reply.ok()) << reply.status();
      ExpectRolesInOrder(reply->value.subject.roles);
      ExpectRolesInOrder(reply->value.subject.officers);
      ExpectBasesAsDocumented(reply->value, &seen);
    }
  }
  EXPECT_GT(seen[0], 100) << "listed";
  EXPECT_GT(seen[1], 100) << "related";
  EXPECT_GT(seen[2], 10) << "officer";
  EXPECT_GT(seen[3], 10) << "officer with two hops";
}

// Starts shixind on a copy of the sample in `scratch` two hours old, with max_age one hour: a
// stale list.
absl::StatusOr<std::unique_ptr<Daemon>> StartStale(const ScratchDir& scratch) {
  SHIXIN_RETURN_IF_ERROR(CopyDataDir(SourceDir() + "/data/sample", scratch.path()));
  SHIXIN_RETURN_IF_ERROR(SetDataDirMtime(scratch.path(), absl::Now() - absl::Hours(2)));
  DaemonOptions options;
  options.data_dir = scratch.path();
  options.flags = {"--max-age-seconds", "3600"};
  return Daemon::Start(options);
}

// FORMAT.md 5: with a stale list every response carries STALE, also those that use no
// snapshot (HELLO, PING, CATALOG) and errors, fatal ones included.
TEST(DaemonStaleFlagTest, EveryResponseOfAStaleListIsFlagged) {
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  auto daemon = StartStale(scratch);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  auto client = (*daemon)->Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  auto hello = (*client)->Hello("stale");
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_TRUE(hello->stale);
  auto ping = (*client)->Ping();
  ASSERT_TRUE(ping.ok()) << ping.status();
  EXPECT_TRUE(ping->stale);
  auto catalog = (*client)->Catalog();
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_TRUE(catalog->stale);
  // A DETAIL of an invalid ID, in the version the HELLO agreed.
  std::string detail;
  wire::Encode(wire::DetailRequest{"123"}, &detail, (*client)->version());
  ASSERT_TRUE((*client)->SendFrame(wire::Opcode::kDetail, 77, detail).ok());
  auto invalid = (*client)->ReceiveFrame();
  ASSERT_TRUE(invalid.ok()) << invalid.status();
  EXPECT_EQ(invalid->header.status, static_cast<uint16_t>(wire::Status::kInvalidId));
  EXPECT_NE(invalid->header.flags & wire::kFlagStale, 0);
  ASSERT_TRUE((*client)->SendFrame(static_cast<wire::Opcode>(200), 78, "").ok());
  auto fatal = (*client)->ReceiveFrame();
  ASSERT_TRUE(fatal.ok()) << fatal.status();
  EXPECT_EQ(fatal->header.status, static_cast<uint16_t>(wire::Status::kUnknownOpcode));
  EXPECT_NE(fatal->header.flags & wire::kFlagStale, 0);
  EXPECT_EQ(fatal->header.generation, 1u);
}

// --server given shixind's HTTP port: the CLI says so (and exits 5: not the server it speaks
// to), not "bad magic byte 0x48".
TEST(DaemonCliAddressTest, TheHttpPortIsNamedAsSuch) {
  DaemonOptions options;
  options.data_dir = SampleDir();
  options.http_listen = "127.0.0.1:0";
  auto daemon = Daemon::Start(options);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  const ProcessResult r =
      RunProcess({BinDir() + "/shixin", "check", "--server",
                  absl::StrCat("127.0.0.1:", (*daemon)->http_port()), "11010519491231002X"});
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.err,
                                "the server answered in HTTP: is this shixind's "
                                "http_listen port?"))
      << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "magic")) << r.err;
}

// The CLI against a stale list: one warning per run on stderr, not one per ID; each JSON answer
// says "stale" and the generation (as the HTTP API), and --fail-stale makes it exit status 4.
TEST(DaemonStaleFlagTest, TheCliSaysStaleOncePerRunAndInEachJsonAnswer) {
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  auto daemon = StartStale(scratch);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  const std::string ids_path = scratch.Path("ids.txt");
  ASSERT_TRUE(
      WriteFileAtomically(ids_path, "11010519491231002X\n230402198503150611\n11010519491231002X\n")
          .ok());
  const std::string shixin = BinDir() + "/shixin";
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"check"}, {"check", "--matter", "M-1"}, {"measures"}, {"check", "--no-going-back"}}) {
    std::vector<std::string> argv = {shixin};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--json", "--server", (*daemon)->address(), "-"});
    const ProcessResult r = RunProcess(argv, ids_path);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    EXPECT_EQ(CountOf(r.err, "\n"), 1u) << args[0] << ": " << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, "generation 1")) << r.err;
    const std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
    ASSERT_EQ(lines.size(), 3u) << r.out;
    for (const std::string& line : lines) {
      const nlohmann::json j = nlohmann::json::parse(line);
      EXPECT_EQ(j["stale"], true) << line;
      EXPECT_EQ(j["generation"], 1) << line;
    }
    argv.insert(argv.end() - 1, "--fail-stale");
    const ProcessResult failed = RunProcess(argv, ids_path);
    EXPECT_EQ(failed.exit_code, 4) << args[0] << ": " << failed.err;
    EXPECT_EQ(failed.out, r.out);
  }
  // Text output: the warning once, the answers as offline.
  const ProcessResult text =
      RunProcess({shixin, "check", "--server", (*daemon)->address(), "-"}, ids_path);
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(CountOf(text.err, "\n"), 1u) << text.err;
  EXPECT_EQ(CountOf(text.out, "LISTED"), 3u) << text.out;
}

}  // namespace
}  // namespace shixin::e2e
