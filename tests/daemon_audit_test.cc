// End-to-end tests of shixind's audit (issue 12; FORMAT.md 15; docs/audit.md): receipts on
// version-4 answers and the records behind them; kill -9 under pipelined load (every receipt a
// client got is in the audit, which verifies and continues after a restart); a torn tail cut at
// start; retention's deletions logged; a full disk (shixind under `prlimit --fsize`: MEASURES fails
// closed, CHECK answers, INFO says failing, nothing corrupt, receipts again once space returns);
// FEEDBACK and its refusals in callers mode; audit_required=false. Every wait is bounded.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "audit/audit_log.h"
#include "audit/audit_test_util.h"
#include "audit/node_id.h"
#include "audit/reader.h"
#include "callers/callers_file.h"
#include "callers/token.h"
#include "tests/daemon_harness.h"
#include "tests/http_socket.h"

namespace shixin::e2e {
namespace {

constexpr char kListed[] = "11010519491231002X";

// An audit record, copied out of the reader's views.
struct Record {
  audit::RecordType type = audit::RecordType::kQuery;
  uint8_t opcode = 0;
  std::string caller, operator_id, matter, purpose, subject;
  audit::Listing listing = audit::Listing::kUnlisted;
  std::vector<uint16_t> measures;
  bool receipt_issued = false;
  std::string for_receipt;  // feedback: the receipt reported on
  std::vector<std::pair<uint16_t, audit::Outcome>> entries;
};

// Returns the records of the audit in `dir`, by their own receipts (the texts the answers
// carried: keyed with the node_id beside `dir`), in order; a feedback's for_receipt likewise.
absl::StatusOr<std::vector<std::pair<std::string, Record>>> ReadAudit(const std::string& dir) {
  absl::StatusOr<audit::NodeIdentity> node = audit::ReadNodeIdentity(audit::StateDirOfAudit(dir));
  if (!node.ok()) return node.status();
  if (!node->cipher.has_value()) return absl::FailedPreconditionError("node_id has no key");
  const audit::ReceiptCipher& cipher = *node->cipher;
  std::vector<std::pair<std::string, Record>> records;
  absl::Status status = audit::ForEachRecord(dir, {}, [&](const audit::Entry& e) {
    Record r;
    r.type = e.type;
    if (e.type == audit::RecordType::kQuery) {
      r.opcode = e.query.opcode;
      r.caller = std::string(e.query.caller);
      r.operator_id = std::string(e.query.operator_id);
      r.matter = std::string(e.query.matter);
      r.purpose = std::string(e.query.purpose);
      r.subject = std::string(e.query.subject);
      r.listing = e.query.listing;
      r.measures = e.query.measures;
      r.receipt_issued = e.query.receipt_issued;
    } else {
      r.caller = std::string(e.feedback.caller);
      r.operator_id = std::string(e.feedback.operator_id);
      absl::StatusOr<audit::Receipt> reported = audit::Receipt::Parse(e.feedback.receipt);
      r.for_receipt = reported.ok() ? cipher.Text(*reported) : std::string(e.feedback.receipt);
      for (const audit::FeedbackEntry& x : e.feedback.entries) {
        r.entries.emplace_back(x.measure, x.outcome);
      }
    }
    records.emplace_back(cipher.Text(e.receipt), std::move(r));
    return true;
  });
  if (!status.ok()) return status;
  return records;
}

// Returns the record of `receipt`, or null.
const Record* Find(const std::vector<std::pair<std::string, Record>>& records,
                   const std::string& receipt) {
  for (const auto& [r, record] : records) {
    if (r == receipt) return &record;
  }
  return nullptr;
}

// Expects Verify() of `dir` to succeed with no problems; returns its report.
audit::VerifyReport ExpectVerifies(const std::string& dir) {
  absl::StatusOr<audit::VerifyReport> report = audit::Verify(dir);
  EXPECT_TRUE(report.ok()) << report.status();
  if (!report.ok()) return {};
  for (const std::string& p : report->problems) ADD_FAILURE() << "verify: " << p;
  return *report;
}

std::vector<uint16_t> Nos(const MeasuresResult& m) {
  std::vector<uint16_t> nos;
  for (const MeasureInfo& x : m.measures) nos.push_back(static_cast<uint16_t>(x.no));
  return nos;
}

// MEASURES of `id` (every agency and scenario, now, no context).
absl::StatusOr<Reply<MeasuresResult>> AskMeasures(Client& client, const std::string& id) {
  wire::MeasuresRequest request;
  request.id = id;
  return client.Measures(request);
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t bytes = 0;
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(dir, ec)) {
    if (f.is_regular_file(ec)) bytes += f.file_size(ec);
  }
  return bytes;
}

// The audit's last segment file ("" if none).
std::string LastSegment(const std::string& dir) {
  std::string last;
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(dir, ec)) {
    const std::string path = f.path().string();
    if (absl::EndsWith(path, ".audit") && path > last) last = path;
  }
  return last;
}

class DaemonAuditTest : public ::testing::Test {
 protected:
  std::string StateDir() const { return scratch_.Path("state"); }
  std::string AuditDir() const { return scratch_.Path("state/audit"); }

  // Starts shixind on the sample with the audit in StateDir() (daemon_); fatal on failure.
  void StartDaemon(std::vector<std::string> flags = {}, std::vector<std::string> wrapper = {}) {
    DaemonOptions options;
    options.data_dir = SampleDir();
    options.flags = {"--state-dir", StateDir()};
    options.flags.insert(options.flags.end(), flags.begin(), flags.end());
    options.wrapper = std::move(wrapper);
    absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Start(options);
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = std::move(*daemon);
  }

  // Stops daemon_ with SIGTERM and waits for it.
  void StopDaemon() {
    ASSERT_TRUE(daemon_->Signal(SIGTERM).ok());
    absl::StatusOr<int> code = daemon_->WaitForExit(absl::Seconds(20));
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, 0) << daemon_->stderr_text();
    daemon_.reset();
  }

  // A version-4 connection to daemon_ (open mode).
  std::unique_ptr<Client> Connect() const {
    absl::StatusOr<std::unique_ptr<Client>> client = daemon_->Connect(absl::Seconds(5), true);
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return nullptr;
    EXPECT_EQ((*client)->version(), 4);
    return std::move(*client);
  }

  // Starts daemon_ with `flags`, then restarts it (with `flags`) under a file-size limit `headroom`
  // bytes above the audit's size after `primed` audited MEASURES, so that the limit lies above the
  // files at start. Returns the limit; fatal on failure.
  void StartUnderFileSizeLimit(int primed, uint64_t headroom, std::vector<std::string> flags,
                               uint64_t* limit) {
    ASSERT_NO_FATAL_FAILURE(StartDaemon(flags));
    {
      auto client = Connect();
      ASSERT_NE(client, nullptr);
      for (int i = 0; i < primed; ++i) ASSERT_TRUE(AskMeasures(*client, kListed).ok());
    }
    ASSERT_NO_FATAL_FAILURE(StopDaemon());
    *limit = DirBytes(AuditDir()) + headroom;
    ASSERT_NO_FATAL_FAILURE(StartDaemon(
        std::move(flags), {"/usr/bin/prlimit", absl::StrCat("--fsize=", *limit, ":unlimited")}));
  }

  // Asks MEASURES of `id` until the answer is not `ok` (or 2000 tries); returns the error.
  absl::Status MeasuresUntilFailing(Client& client, const std::string& id) {
    wire::MeasuresRequest request;
    request.id = id;
    for (int i = 0; i < 2000; ++i) {
      absl::StatusOr<Reply<MeasuresResult>> m = client.Measures(request);
      if (!m.ok()) return m.status();
      if (m->receipt.empty()) return absl::OkStatus();  // answered without a receipt
    }
    return absl::DeadlineExceededError("MEASURES never failed");
  }

  ScratchDir scratch_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(DaemonAuditTest, ReceiptsAndTheirRecords) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  absl::StatusOr<IdSample> ids = SampleIdsOf(SampleDir(), 2);
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_FALSE(ids->related_persons.empty());
  ASSERT_FALSE(ids->unlisted.empty());
  ASSERT_FALSE(ids->invalid.empty());
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  const wire::RequestContext context{"HG-ZJ-2026-1", "op-7", "公租房资格审查"};
  auto check = client->Check({kListed, ids->related_persons[0], ids->unlisted[0], ids->invalid[0]},
                             wire::kAsOfNow, context);
  ASSERT_TRUE(check.ok()) << check.status();
  ASSERT_EQ(check->value.size(), 4u);
  EXPECT_EQ(check->value[0].status, wire::CheckStatus::kListed);
  EXPECT_EQ(check->value[1].status, wire::CheckStatus::kRelated);
  EXPECT_EQ(check->value[2].status, wire::CheckStatus::kUnlisted);
  EXPECT_EQ(check->value[3].status, wire::CheckStatus::kInvalid);
  EXPECT_NE(check->value[0].receipt, "");
  EXPECT_NE(check->value[1].receipt, "");
  EXPECT_NE(check->value[0].receipt, check->value[1].receipt);
  EXPECT_EQ(check->value[2].receipt, "");
  EXPECT_EQ(check->value[3].receipt, "");

  wire::MeasuresRequest listed;
  listed.id = kListed;
  listed.context = context;
  auto m = client->Measures(listed);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_FALSE(m->value.measures.empty());
  EXPECT_NE(m->receipt, "");
  wire::MeasuresRequest unlisted;
  unlisted.id = ids->unlisted[0];
  auto mu = client->Measures(unlisted);  // no context: recorded with "" fields
  ASSERT_TRUE(mu.ok()) << mu.status();
  EXPECT_NE(mu->receipt, "");  // every MEASURES answer has a receipt

  auto records = ReadAudit(AuditDir());
  ASSERT_TRUE(records.ok()) << records.status();
  const Record* r = Find(*records, check->value[0].receipt);
  ASSERT_NE(r, nullptr) << check->value[0].receipt;
  EXPECT_EQ(r->opcode, 3);
  EXPECT_EQ(r->caller, "open");  // open mode (docs/audit.md)
  EXPECT_EQ(r->operator_id, "op-7");
  EXPECT_EQ(r->matter, "HG-ZJ-2026-1");
  EXPECT_EQ(r->purpose, "公租房资格审查");
  EXPECT_EQ(r->subject, check->value[0].id);
  EXPECT_EQ(r->listing, audit::Listing::kListed);
  EXPECT_TRUE(r->receipt_issued);
  r = Find(*records, check->value[1].receipt);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->subject, check->value[1].id);
  EXPECT_EQ(r->listing, audit::Listing::kRelated);
  // The unlisted ID of the CHECK is recorded, without a receipt issued.
  int unlisted_records = 0;
  for (const auto& [receipt, rec] : *records) {
    if (rec.opcode == 3 && rec.subject == check->value[2].id) {
      ++unlisted_records;
      EXPECT_FALSE(rec.receipt_issued);
      EXPECT_EQ(rec.listing, audit::Listing::kUnlisted);
    }
  }
  EXPECT_EQ(unlisted_records, 1);
  r = Find(*records, m->receipt);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->opcode, 4);
  EXPECT_EQ(r->operator_id, "op-7");
  EXPECT_EQ(r->subject, m->value.subject.id);
  EXPECT_EQ(r->measures, Nos(m->value));
  r = Find(*records, mu->receipt);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->matter, "");
  EXPECT_TRUE(r->measures.empty());
  ExpectVerifies(AuditDir());

  // A DETAIL (a subject's case texts) is recorded too; its answer carries no receipt.
  auto detail = client->Detail(kListed);
  ASSERT_TRUE(detail.ok()) << detail.status();
  records = ReadAudit(AuditDir());
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_FALSE(records->empty());
  const Record& last = records->back().second;
  EXPECT_EQ(last.opcode, 5);
  EXPECT_EQ(last.caller, "open");
  EXPECT_EQ(last.subject, detail->value.id);
  EXPECT_EQ(last.listing, audit::Listing::kListed);
  EXPECT_FALSE(last.receipt_issued);

  // The CLI reads the same audit while the daemon writes it.
  ProcessResult q = RunProcess(
      {BinDir() + "/shixin", "audit", "query", AuditDir(), "--receipt", m->receipt, "--json"});
  EXPECT_EQ(q.exit_code, 0) << q.err;
  EXPECT_TRUE(absl::StrContains(q.out, "\"operator\":\"op-7\"")) << q.out;
  EXPECT_TRUE(absl::StrContains(q.out, "\"matter\":\"HG-ZJ-2026-1\"")) << q.out;
  EXPECT_TRUE(absl::StrContains(q.out, absl::StrCat("\"subject\":\"", kListed, "\""))) << q.out;
  q = RunProcess({BinDir() + "/shixin", "audit", "verify", AuditDir()});
  EXPECT_EQ(q.exit_code, 0) << q.out << q.err;

  auto info = client->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->value.audit.state, wire::AuditState::kOk);
  EXPECT_GE(info->value.audit.records, records->size());
  EXPECT_GT(info->value.audit.bytes, 0u);
}

// One client of PipelinedLoad: pipelines MEASURES `depth` at a time until `total` are
// answered or the connection fails; keeps every receipt it was given.
void Pipeline(const Daemon& daemon, const std::vector<std::string>& ids, int total, int depth,
              std::atomic<int>* answered, std::vector<std::pair<std::string, std::string>>* got) {
  absl::StatusOr<std::unique_ptr<Client>> client = daemon.Connect(absl::Seconds(5), true);
  if (!client.ok() || (*client)->version() != 4) return;
  (*client)->set_timeout(absl::Seconds(10));
  int sent = 0;
  while (sent < total) {
    const int n = std::min(depth, total - sent);
    for (int i = 0; i < n; ++i) {
      wire::MeasuresRequest request;
      request.id = ids[(sent + i) % ids.size()];
      request.context.operator_id = "op-load";
      std::string payload;
      wire::Encode(request, &payload, 4);
      if (!(*client)
               ->QueueFrame(wire::Opcode::kMeasures, (*client)->NextRequestId(), payload)
               .ok()) {
        return;
      }
    }
    if (!(*client)->Flush().ok()) return;
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<Frame> frame = (*client)->ReceiveFrame();
      if (!frame.ok()) return;
      if (frame->header.status != 0) continue;
      std::string receipt;
      auto m = wire::DecodeMeasuresResponseAndReceipt(frame->payload, 4, &receipt);
      if (!m.ok()) continue;
      got->emplace_back(receipt, std::string(m->subject.id));
      answered->fetch_add(1);
    }
    sent += n;
  }
}

// The IDs the pipelined tests ask about: listed persons and organisations, and unlisted IDs.
std::vector<std::string> LoadIds() {
  absl::StatusOr<IdSample> sample = SampleIdsOf(SampleDir(), 8);
  EXPECT_TRUE(sample.ok()) << sample.status();
  if (!sample.ok()) return {};
  std::vector<std::string> ids = sample->listed_persons;
  ids.insert(ids.end(), sample->listed_orgs.begin(), sample->listed_orgs.end());
  ids.insert(ids.end(), sample->unlisted.begin(), sample->unlisted.end());
  return ids;
}

// Pipelined MEASURES from `connections` client threads (Pipeline(), depth 16), `per_connection`
// each, and the receipts they were given.
class PipelinedLoad {
 public:
  PipelinedLoad(const Daemon& daemon, int connections, int per_connection)
      : ids_(LoadIds()), got_(connections) {
    threads_.reserve(connections);
    for (int t = 0; t < connections; ++t) {
      threads_.emplace_back(Pipeline, std::cref(daemon), std::cref(ids_), per_connection, 16,
                            &answered_, &got_[t]);
    }
  }
  ~PipelinedLoad() { Join(); }
  PipelinedLoad(const PipelinedLoad&) = delete;
  PipelinedLoad& operator=(const PipelinedLoad&) = delete;

  // Waits for every client thread.
  void Join() {
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  // Returns the answers with a receipt so far.
  int answered() const { return answered_.load(); }

  // Expects every receipt given to name a record of `records` about the subject asked, by the
  // load's operator. Returns the number of receipts. REQUIRES: Join() returned.
  size_t ExpectReceiptsIn(const std::vector<std::pair<std::string, Record>>& records) const {
    std::map<std::string, const Record*> by_receipt;
    for (const auto& [receipt, record] : records) by_receipt[receipt] = &record;
    size_t receipts = 0, missing = 0;
    for (const auto& list : got_) {
      for (const auto& [receipt, subject] : list) {
        ++receipts;
        EXPECT_NE(receipt, "");
        auto it = by_receipt.find(receipt);
        if (it == by_receipt.end()) {
          if (++missing <= 5) ADD_FAILURE() << "receipt not in the audit: " << receipt;
          continue;
        }
        EXPECT_EQ(it->second->subject, subject);
        EXPECT_EQ(it->second->operator_id, "op-load");
      }
    }
    EXPECT_EQ(missing, 0u) << "of " << receipts;
    return receipts;
  }

 private:
  const std::vector<std::string> ids_;
  std::atomic<int> answered_{0};
  std::vector<std::vector<std::pair<std::string, std::string>>> got_;
  std::vector<std::thread> threads_;
};

// The officers a MEASURES request carries are looked up (its answer's bases say which are
// listed, or hold a role in a listed organisation): each is a query of that person, recorded
// after the subject's record with its own listing, no measures and no receipt.
TEST_F(DaemonAuditTest, TheOfficersAMeasuresSentAreRecorded) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  absl::StatusOr<IdSample> ids = SampleIdsOf(SampleDir(), 2);
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_FALSE(ids->related_persons.empty());
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  constexpr char kUnlistedPerson[] = "230402199001010015";
  wire::MeasuresRequest request;
  request.id = "912304216987123405";  // an organisation the sample does not list
  request.context = wire::RequestContext{"M-1", "op-3", "procurement"};
  request.officers = {{Role::kLegalRepresentative, kListed},
                      {Role::kPrincipal, ids->related_persons[0]},
                      {Role::kLegalRepresentative, kUnlistedPerson}};
  auto m = client->Measures(request);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_NE(m->receipt, "");
  auto records = ReadAudit(AuditDir());
  ASSERT_TRUE(records.ok()) << records.status();
  size_t at = 0;
  while (at < records->size() && (*records)[at].first != m->receipt) ++at;
  ASSERT_LT(at + 3, records->size()) << "the subject's record and one per officer";
  EXPECT_EQ((*records)[at].second.subject, "912304216987123405");
  EXPECT_TRUE((*records)[at].second.receipt_issued);
  const std::vector<std::pair<std::string, audit::Listing>> officers = {
      {kListed, audit::Listing::kListed},
      {ids->related_persons[0], audit::Listing::kRelated},
      {kUnlistedPerson, audit::Listing::kUnlisted}};
  for (size_t i = 0; i < officers.size(); ++i) {
    const Record& r = (*records)[at + 1 + i].second;
    EXPECT_EQ(r.opcode, 4) << i;
    EXPECT_EQ(r.subject, officers[i].first) << i;
    EXPECT_EQ(r.listing, officers[i].second) << i;
    EXPECT_EQ(r.matter, "M-1") << i;
    EXPECT_TRUE(r.measures.empty()) << i;
    EXPECT_FALSE(r.receipt_issued) << i;
  }
  ExpectVerifies(AuditDir());
}

TEST_F(DaemonAuditTest, KillNineUnderLoadLosesNoReceipt) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  constexpr int kConnections = 4, kPerConnection = 2500;
  PipelinedLoad load(*daemon_, kConnections, kPerConnection);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (load.answered() < 3000 && absl::Now() < deadline) {
    absl::SleepFor(absl::Microseconds(200));
  }
  ASSERT_TRUE(daemon_->Signal(SIGKILL).ok());
  load.Join();
  const int at_kill = load.answered();
  EXPECT_GE(at_kill, 3000);
  EXPECT_LT(at_kill, kConnections * kPerConnection) << "the kill came after the load: not a test";
  ASSERT_FALSE(daemon_->WaitForExit(absl::Seconds(10)).ok());  // killed by a signal
  daemon_.reset();

  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  audit::VerifyReport report = ExpectVerifies(AuditDir());
  auto records = ReadAudit(AuditDir());
  ASSERT_TRUE(records.ok()) << records.status();
  const size_t receipts = load.ExpectReceiptsIn(*records);
  std::printf("killed after %d answers; %zu receipts, all in the audit of %llu records\n", at_kill,
              receipts, static_cast<unsigned long long>(report.records));
  EXPECT_GE(report.records, receipts);

  // The restarted daemon continues the chain.
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  auto m = AskMeasures(*client, kListed);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_NE(m->receipt, "");
  EXPECT_EQ(Find(*records, m->receipt), nullptr);
  audit::VerifyReport after = ExpectVerifies(AuditDir());
  EXPECT_EQ(after.records, report.records + 1);
  // Each I/O thread's stream goes on from its last sequence number: one of them by one.
  auto last_sequences = [](const audit::VerifyReport& r) {
    uint64_t sum = 0;
    for (const audit::VerifyReport::Stream& s : r.streams) sum += s.last_sequence;
    return sum;
  };
  EXPECT_EQ(last_sequences(after), last_sequences(report) + 1);
}

// One daemon per state_dir: a second one on it would overwrite the first's audit records and
// hand out its receipts again.
TEST_F(DaemonAuditTest, ASecondDaemonOnTheStateDirRefusesToStart) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const ProcessResult second =
      RunProcess({BinDir() + "/shixind", "--data", SampleDir(), "--listen", "127.0.0.1:0",
                  "--http-listen", "", "--state-dir", StateDir()},
                 "", absl::Seconds(30));
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_TRUE(absl::StrContains(second.err, "is in use by another shixind (pid ")) << second.err;
  EXPECT_FALSE(absl::StrContains(second.out, "listening")) << second.out;
  auto client = Connect();  // the first serves on
  ASSERT_NE(client, nullptr);
  auto m = AskMeasures(*client, kListed);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_NE(m->receipt, "");
}

TEST_F(DaemonAuditTest, TornTailIsCutAtStart) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  std::vector<std::string> receipts;
  {
    auto client = Connect();
    ASSERT_NE(client, nullptr);
    for (int i = 0; i < 5; ++i) {
      auto m = AskMeasures(*client, kListed);
      ASSERT_TRUE(m.ok()) << m.status();
      receipts.push_back(m->receipt);
    }
  }
  ASSERT_NO_FATAL_FAILURE(StopDaemon());
  const std::string segment = LastSegment(AuditDir());
  ASSERT_NE(segment, "");
  const uint64_t size = std::filesystem::file_size(segment);
  {
    // A record whose length says 200 bytes, of which 7 arrived.
    std::FILE* f = std::fopen(segment.c_str(), "ab");
    ASSERT_NE(f, nullptr);
    const unsigned char partial[] = {200, 0, 0, 0, 1, 9, 8, 7, 6, 5, 4, 3};
    ASSERT_EQ(std::fwrite(partial, 1, sizeof(partial), f), sizeof(partial));
    std::fclose(f);
  }
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  EXPECT_TRUE(daemon_->WaitForStderr("torn tail cut", absl::Seconds(10))) << daemon_->stderr_text();
  EXPECT_EQ(std::filesystem::file_size(segment), size);
  ExpectVerifies(AuditDir());
  auto records = ReadAudit(AuditDir());
  ASSERT_TRUE(records.ok()) << records.status();
  for (const std::string& r : receipts) EXPECT_NE(Find(*records, r), nullptr) << r;
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  auto m = AskMeasures(*client, kListed);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_NE(m->receipt, "");
  ExpectVerifies(AuditDir());
}

// Retention at start: each deleted segment is logged, before the line that counts the kept ones.
TEST_F(DaemonAuditTest, RetentionLogsEachSegmentItDeletes) {
  {
    absl::StatusOr<uint32_t> node = audit::LoadOrCreateNodeId(StateDir());
    ASSERT_TRUE(node.ok()) << node.status();
    audit::AuditLog::Options o;
    o.dir = AuditDir();
    o.node = *node;
    o.segment_bytes = 1000;
    const int64_t old = absl::ToUnixMicros(absl::Now() - absl::Hours(24 * 100));
    o.now_micros = [old] { return old; };
    absl::StatusOr<std::unique_ptr<audit::AuditLog>> log = audit::AuditLog::Open(o, nullptr);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int i = 0; i < 30; ++i) {
      audit::QueryRecord q = audit::testing::TypicalQuery(kListed, old);
      ASSERT_TRUE((*log)->Append(&q).ok());
    }
    ASSERT_TRUE((*log)->SyncToDisk().ok());
  }
  ASSERT_GE(audit::ListSegments(AuditDir())->size(), 3u);
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--audit-retention-days=30"}));
  ASSERT_TRUE(daemon_->WaitForStderr("segments; MEASURES", absl::Seconds(10)))
      << daemon_->stderr_text();
  const std::string text = daemon_->stderr_text();
  const size_t deleted =
      text.find("audit: retention (30 days) deleted " + audit::SegmentPath(AuditDir(), 1) + " (");
  EXPECT_NE(deleted, std::string::npos) << text;
  EXPECT_LT(deleted, text.find("segments; MEASURES")) << text;
  EXPECT_NE(text.find(audit::SegmentPath(AuditDir(), 2) + " ("), std::string::npos) << text;
  EXPECT_EQ(std::filesystem::exists(audit::SegmentPath(AuditDir(), 1)), false);
  ASSERT_NO_FATAL_FAILURE(StopDaemon());
  ExpectVerifies(AuditDir());
}

TEST_F(DaemonAuditTest, DiskFullUnderPipelinedLoadReceiptsOnlyWrittenRecords) {
  // Connections on one I/O thread share each audit write (daemon/audit_batch.h): when the
  // file-size limit cuts such a write, each of them must answer its requests again as the
  // failing audit allows, and no answer may carry a receipt whose record is not in the file.
  uint64_t limit = 0;
  ASSERT_NO_FATAL_FAILURE(StartUnderFileSizeLimit(50, 64 * 1024, {"--threads", "1"}, &limit));
  constexpr int kConnections = 4, kPerConnection = 1500;
  PipelinedLoad load(*daemon_, kConnections, kPerConnection);
  load.Join();
  EXPECT_GT(load.answered(), 0);
  EXPECT_LT(load.answered(), kConnections * kPerConnection)
      << "the limit was never reached: not a test";
  ExpectVerifies(AuditDir());
  EXPECT_LE(DirBytes(AuditDir()), limit);
  auto records = ReadAudit(AuditDir());
  ASSERT_TRUE(records.ok()) << records.status();
  const size_t receipts = load.ExpectReceiptsIn(*records);
  std::printf("%zu of %d MEASURES answered with a receipt before the limit, all in the audit\n",
              receipts, kConnections * kPerConnection);
}

TEST_F(DaemonAuditTest, DiskFullFailsClosedAndRecovers) {
  uint64_t limit = 0;
  // One I/O thread: one audit stream, the one file the limit fills (a full disk fills all).
  ASSERT_NO_FATAL_FAILURE(StartUnderFileSizeLimit(200, 4096, {"--threads", "1"}, &limit));
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  const absl::Status failed = MeasuresUntilFailing(*client, kListed);
  EXPECT_TRUE(absl::IsUnavailable(failed)) << failed;
  EXPECT_TRUE(absl::StartsWith(failed.message(), "AUDIT_UNAVAILABLE")) << failed;
  EXPECT_TRUE(absl::StrContains(failed.message(), "audit")) << failed;
  std::printf("MEASURES while the disk is full: %s\n", failed.ToString().c_str());
  // Every refusal says the same, and none names state_dir's files or the error (FORMAT.md 15:
  // those are an admin's INFO's): the first refusal and the later ones once differed.
  EXPECT_FALSE(absl::StrContains(failed.message(), StateDir())) << failed;
  EXPECT_FALSE(absl::StrContains(failed.message(), "File too large")) << failed;
  for (int i = 0; i < 3; ++i) {
    const absl::Status again = AskMeasures(*client, kListed).status();
    EXPECT_EQ(again.message(), failed.message()) << i;
  }
  // CHECK still answers, without receipts.
  auto check = client->Check({kListed});
  ASSERT_TRUE(check.ok()) << check.status();
  ASSERT_EQ(check->value.size(), 1u);
  EXPECT_EQ(check->value[0].status, wire::CheckStatus::kListed);
  EXPECT_EQ(check->value[0].receipt, "");
  auto info = client->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->value.audit.state, wire::AuditState::kFailing);
  EXPECT_NE(info->value.audit.error, "");  // a loopback peer sees the full INFO in open mode
  std::printf("INFO's audit_error: %s\n", info->value.audit.error.c_str());
  EXPECT_TRUE(daemon_->WaitForStderr("audit", absl::Seconds(5))) << daemon_->stderr_text();
  // A client of version 3 is not sent the new code.
  {
    absl::StatusOr<std::unique_ptr<Client>> old = daemon_->Connect(absl::Seconds(5));
    ASSERT_TRUE(old.ok()) << old.status();
    (*old)->set_max_version(3);
    ASSERT_TRUE((*old)->Hello("old").ok());
    absl::Status s = AskMeasures(**old, kListed).status();
    EXPECT_TRUE(absl::IsUnavailable(s)) << s;
    EXPECT_TRUE(absl::StartsWith(s.message(), "UNAVAILABLE")) << s;
  }
  ExpectVerifies(AuditDir());
  EXPECT_LE(DirBytes(AuditDir()), limit);

  // Space returns: after the retry interval MEASURES get receipts again.
  ProcessResult raise = RunProcess(
      {"/usr/bin/prlimit", "--pid", std::to_string(daemon_->pid()), "--fsize=unlimited"});
  ASSERT_EQ(raise.exit_code, 0) << raise.err;
  std::string receipt;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  wire::MeasuresRequest request;
  request.id = kListed;
  while (receipt.empty() && absl::Now() < deadline) {
    auto m = client->Measures(request);
    if (m.ok()) {
      receipt = m->receipt;
    } else {
      EXPECT_TRUE(absl::StartsWith(m.status().message(), "AUDIT_UNAVAILABLE")) << m.status();
    }
    if (receipt.empty()) absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_NE(receipt, "") << "no receipt 10 s after the limit was raised";
  info = client->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->value.audit.state, wire::AuditState::kOk);
  ExpectVerifies(AuditDir());
  auto records = ReadAudit(AuditDir());
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_NE(Find(*records, receipt), nullptr);
}

TEST_F(DaemonAuditTest, AuditNotRequiredAnswersWithoutReceipt) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--audit-required=false"}));
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  wire::MeasuresRequest request;
  request.id = kListed;
  auto first = client->Measures(request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_NE(first->receipt, "");
  // The disk fills up now: a limit just above what the audit holds.
  const uint64_t limit = DirBytes(AuditDir()) + 2048;
  ProcessResult lower = RunProcess({"/usr/bin/prlimit", "--pid", std::to_string(daemon_->pid()),
                                    absl::StrCat("--fsize=", limit, ":unlimited")});
  ASSERT_EQ(lower.exit_code, 0) << lower.err;
  const absl::Status s = MeasuresUntilFailing(*client, kListed);
  EXPECT_TRUE(s.ok()) << s;  // answered, without a receipt
  auto m = client->Measures(request);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->receipt, "");
  EXPECT_FALSE(m->value.measures.empty());
  auto info = client->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->value.audit.state, wire::AuditState::kFailing);
  ExpectVerifies(AuditDir());
}

// A reload reads the holiday calendar again, no restart needed: the years added give INFO and
// /status the due date at once; a malformed file keeps the calendar in use, fails the reload as a
// broken callers file does (RELOAD_FAILED, INFO's last reload failed) and counts in /metrics.
TEST_F(DaemonAuditTest, AReloadReadsTheCalendarAgain) {
  const std::string calendar = scratch_.Path("calendar");
  ASSERT_TRUE(std::filesystem::create_directory(calendar));  // no year over the shipped ones
  DaemonOptions options;
  options.data_dir = SampleDir();
  options.http_listen = "127.0.0.1:0";
  options.flags = {"--state-dir", StateDir(), "--calendar-dir", calendar};
  absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Start(options);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  daemon_ = std::move(*daemon);
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  auto info = client->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  // The shipped calendar (data/calendar, up to 2026 as this is written) may lack the year.
  if (info->value.audit.next_report_due == 0) {
    EXPECT_TRUE(absl::StrContains(info->value.audit.due_note, "(then reload shixind"))
        << info->value.audit.due_note;
  }

  // The years around today (China time): the next due date falls in one of them, whatever the day.
  const auto year =
      static_cast<int>(absl::ToCivilYear(absl::Now(), absl::FixedTimeZone(8 * 3600)).year());
  const auto write_year = [&](int y, const std::string& holidays) {
    return WriteFileAtomically(
        absl::StrCat(calendar, "/", y, ".toml"),
        absl::StrFormat("year = %d\nsource = \"test\"\nholidays = [%s]\nworking_days = []\n", y,
                        holidays));
  };
  for (int y = year - 1; y <= year + 1; ++y) ASSERT_TRUE(write_year(y, "").ok());
  auto reloaded = client->Reload();
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_TRUE(absl::StrContains(reloaded->value.message, "; holiday calendar read again"))
      << reloaded->value.message;
  info = client->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  const uint32_t due = info->value.audit.next_report_due;
  EXPECT_NE(due, 0u) << info->value.audit.due_note;
  EXPECT_EQ(info->value.audit.due_note, "");
  std::optional<HttpResponse> status = HttpRoundTrip(*daemon_, HttpGet("/status"));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(absl::StrContains(status->body, "id=\"report-due\"")) << status->body;

  ASSERT_TRUE(write_year(year + 2, absl::StrFormat("\"%d-02-30\"", year + 2)).ok());
  reloaded = client->Reload();
  ASSERT_FALSE(reloaded.ok());
  const std::string failed(reloaded.status().message());
  EXPECT_TRUE(absl::StartsWith(failed, "RELOAD_FAILED")) << failed;
  EXPECT_TRUE(absl::StrContains(failed, "holiday calendar NOT read again")) << failed;
  EXPECT_TRUE(absl::StrContains(failed, absl::StrCat(calendar, "/", year + 2, ".toml:3: ")))
      << failed;
  EXPECT_TRUE(daemon_->WaitForStderr("the holiday calendar was not reloaded"))
      << daemon_->stderr_text();
  info = client->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->value.audit.next_report_due, due) << "the calendar in use stays";
  EXPECT_EQ(info->value.reload_state, wire::ReloadState::kFailed);
  EXPECT_TRUE(absl::StrContains(info->value.last_reload_message, "holiday calendar NOT read"))
      << info->value.last_reload_message;
  EXPECT_EQ(Scraped(*daemon_, R"(shixin_file_reloads_total{file="calendar",result="ok"})"), 1);
  EXPECT_EQ(Scraped(*daemon_, R"(shixin_file_reloads_total{file="calendar",result="failed"})"), 1);
}

// FEEDBACK in callers mode: two callers with the feedback scope.
class DaemonFeedbackTest : public DaemonAuditTest {
 protected:
  void SetUp() override {
    std::vector<Caller> callers;
    for (const std::string id : {"agency-a", "agency-b", "agency-slow"}) {
      absl::StatusOr<std::string> token = NewToken();
      ASSERT_TRUE(token.ok());
      tokens_[id] = *token;
      Caller c;
      c.id = id;
      c.name = "Agency " + id;
      c.sector = "other";
      c.scopes = ScopeBit(Scope::kCheck) | ScopeBit(Scope::kMeasures) | ScopeBit(Scope::kFeedback);
      c.view = View::kFull;
      c.rate = id == "agency-slow" ? 0.01 : 1e4;
      c.burst = id == "agency-slow" ? 24 : 1000;
      c.token_hashes = {HashToken(*token)};
      callers.push_back(std::move(c));
    }
    absl::StatusOr<CallerTable> table = CallerTable::Create(callers);
    ASSERT_TRUE(table.ok()) << table.status();
    ASSERT_TRUE(WriteCallersFile(scratch_.Path("callers.toml"), *table).ok());
    ASSERT_NO_FATAL_FAILURE(StartDaemon({"--callers-file", scratch_.Path("callers.toml")}));
  }

  std::unique_ptr<Client> ConnectAs(const std::string& id) {
    absl::StatusOr<std::unique_ptr<Client>> client = daemon_->Connect(absl::Seconds(5));
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return nullptr;
    auto hello = (*client)->Hello("audit-test", Credentials{id, tokens_[id]});
    EXPECT_TRUE(hello.ok()) << hello.status();
    if (!hello.ok()) return nullptr;
    return std::move(*client);
  }

  std::map<std::string, std::string> tokens_;
};

// The audit keeps a FEEDBACK whole: 49 reasons of 1 KiB were 50 KB of audit for one rate token,
// repeatable as corrections. It costs one token per KiB of payload (at most the burst).
TEST_F(DaemonFeedbackTest, FeedbackCostsATokenPerKibOfPayload) {
  auto a = ConnectAs("agency-slow");  // burst 24, a token per 100 s
  ASSERT_NE(a, nullptr);
  wire::MeasuresRequest request;
  request.id = kListed;
  auto m = a->Measures(request);  // 1 token
  ASSERT_TRUE(m.ok()) << m.status();
  const std::vector<uint16_t> nos = Nos(m->value);
  ASSERT_GE(nos.size(), 10u);
  wire::FeedbackRequest big{m->receipt, "op", {}};
  const std::string reason(1000, 'r');
  for (size_t i = 0; i < 10; ++i) {
    big.items.push_back({nos[i], wire::FeedbackOutcome::kNotApplied, reason});
  }
  auto fb = a->Feedback(big);  // ~10 KB: 10 tokens
  ASSERT_TRUE(fb.ok()) << fb.status();
  fb = a->Feedback(big);  // 10 more
  ASSERT_TRUE(fb.ok()) << fb.status();
  absl::Status s = a->Feedback(big).status();  // 3 left
  EXPECT_TRUE(absl::StrContains(s.message(), "over its rate")) << s;
  // A small one still fits.
  fb = a->Feedback({m->receipt, "op", {{nos[0], wire::FeedbackOutcome::kApplied, ""}}});
  EXPECT_TRUE(fb.ok()) << fb.status();
}

TEST_F(DaemonFeedbackTest, FeedbackRecordedAndRefused) {
  auto a = ConnectAs("agency-a");
  auto b = ConnectAs("agency-b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  wire::MeasuresRequest request;
  request.id = kListed;
  request.context = {"HG-1", "op-a", ""};
  auto m = a->Measures(request);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_NE(m->receipt, "");
  const std::vector<uint16_t> nos = Nos(m->value);
  ASSERT_GE(nos.size(), 3u);
  using wire::FeedbackOutcome;
  auto fb = a->Feedback({m->receipt,
                         "op-a",
                         {{nos[0], FeedbackOutcome::kApplied, ""},
                          {nos[1], FeedbackOutcome::kNotApplied, "已履行"},
                          {nos[2], FeedbackOutcome::kCancelled, "事项撤回"}}});
  ASSERT_TRUE(fb.ok()) << fb.status();
  EXPECT_EQ(fb->value.recorded, 3);
  EXPECT_NE(fb->value.feedback_receipt, "");

  // Another caller's receipt, an unknown one, a measure not in the receipt.
  const wire::FeedbackRequest by_b{m->receipt, "op-b", {{nos[0], FeedbackOutcome::kApplied, ""}}};
  absl::Status s = b->Feedback(by_b).status();
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  std::string tampered = m->receipt;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  s = a->Feedback({tampered, "", {{nos[0], FeedbackOutcome::kApplied, ""}}}).status();
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_EQ(s.message(), absl::StrCat("NOT_FOUND: receipt ", tampered, ": no record"));
  // Text that is not a receipt is an invalid argument, not an unknown receipt.
  s = a->Feedback({"no-such-receipt", "", {{nos[0], FeedbackOutcome::kApplied, ""}}}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "8 lower-case hex digits")) << s;
  uint16_t absent = 1;
  while (std::find(nos.begin(), nos.end(), absent) != nos.end()) ++absent;
  s = a->Feedback({m->receipt, "", {{absent, FeedbackOutcome::kApplied, ""}}}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(a->Ping().ok());

  // A second feedback for the same measure: a correction, recorded too.
  auto again = a->Feedback({m->receipt, "op-a2", {{nos[0], FeedbackOutcome::kNotApplied, "更正"}}});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->value.recorded, 1);

  auto records = ReadAudit(AuditDir());
  ASSERT_TRUE(records.ok()) << records.status();
  const Record* q = Find(*records, m->receipt);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->caller, "agency-a");
  EXPECT_EQ(q->operator_id, "op-a");
  const Record* f1 = Find(*records, fb->value.feedback_receipt);
  ASSERT_NE(f1, nullptr);
  EXPECT_EQ(f1->type, audit::RecordType::kFeedback);
  EXPECT_EQ(f1->caller, "agency-a");
  EXPECT_EQ(f1->for_receipt, m->receipt);
  const std::vector<std::pair<uint16_t, audit::Outcome>> entries = {
      {nos[0], audit::Outcome::kApplied},
      {nos[1], audit::Outcome::kNotApplied},
      {nos[2], audit::Outcome::kCancelled}};
  EXPECT_EQ(f1->entries, entries);
  const Record* f2 = Find(*records, again->value.feedback_receipt);
  ASSERT_NE(f2, nullptr);
  EXPECT_EQ(f2->for_receipt, m->receipt);
  EXPECT_EQ(f2->operator_id, "op-a2");
  ASSERT_EQ(f2->entries.size(), 1u);
  EXPECT_EQ(f2->entries[0], std::make_pair(nos[0], audit::Outcome::kNotApplied));
  int feedbacks = 0;
  for (const auto& [receipt, record] : *records) {
    if (record.type == audit::RecordType::kFeedback) ++feedbacks;
  }
  EXPECT_EQ(feedbacks, 2);  // the refused requests recorded nothing
  ExpectVerifies(AuditDir());
  ProcessResult r =
      RunProcess({BinDir() + "/shixin", "audit", "query", AuditDir(), "--receipt", m->receipt});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "not_applied(\"更正\")")) << r.out;
}

// Finding x23 #1: a caller's receipts were `node-segment-offset`, so a hotel comparing two of
// its own learnt how many records the bank made in between. They are opaque now; positions
// sent as receipts find nothing, whoever's record is there; the receipts survive a restart and
// the offline tools read them with the key in node_id beside the audit.
TEST_F(DaemonFeedbackTest, ReceiptsRevealNoPositionAndKeepWorking) {
  auto a = ConnectAs("agency-a");
  auto b = ConnectAs("agency-b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto first = AskMeasures(*a, kListed);
  ASSERT_TRUE(first.ok()) << first.status();
  std::string of_b;
  for (int i = 0; i < 20; ++i) {
    auto m = AskMeasures(*b, kListed);
    ASSERT_TRUE(m.ok()) << m.status();
    of_b = m->receipt;
  }
  auto second = AskMeasures(*a, kListed);
  ASSERT_TRUE(second.ok()) << second.status();
  const std::vector<uint16_t> nos = Nos(second->value);
  ASSERT_FALSE(nos.empty());
  for (const std::string& r : {first->receipt, second->receipt}) {
    EXPECT_THAT(r, ::testing::MatchesRegex("[0-9a-f]{8}-[0-9a-f]{32}"));
    absl::StatusOr<audit::ParsedReceipt> at = audit::ParseAuditReceipt(AuditDir(), r);
    ASSERT_TRUE(at.ok()) << at.status();
    EXPECT_NE(r, at->receipt.ToString());  // the position only the key opens
  }
  // agency-a probing positions: agency-b's record and a position without one answer alike.
  absl::StatusOr<audit::ParsedReceipt> b_at = audit::ParseAuditReceipt(AuditDir(), of_b);
  ASSERT_TRUE(b_at.ok()) << b_at.status();
  audit::Receipt nowhere = b_at->receipt;
  ++nowhere.offset;
  using wire::FeedbackOutcome;
  for (const audit::Receipt& probe : {b_at->receipt, nowhere}) {
    const std::string text = probe.ToString();
    absl::Status s = a->Feedback({text, "", {{nos[0], FeedbackOutcome::kApplied, ""}}}).status();
    EXPECT_TRUE(absl::IsNotFound(s)) << s;
    EXPECT_EQ(s.message(), absl::StrCat("NOT_FOUND: receipt ", text, ": no record"));
  }
  // Restarted: the receipts still take feedback.
  ASSERT_NO_FATAL_FAILURE(StopDaemon());
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--callers-file", scratch_.Path("callers.toml")}));
  a = ConnectAs("agency-a");
  ASSERT_NE(a, nullptr);
  auto fb = a->Feedback({second->receipt, "op", {{nos[0], FeedbackOutcome::kApplied, ""}}});
  ASSERT_TRUE(fb.ok()) << fb.status();
  EXPECT_THAT(fb->value.feedback_receipt, ::testing::MatchesRegex("[0-9a-f]{8}-[0-9a-f]{32}"));
  // Offline: audit query and notice take the keyed receipt.
  const std::string shixin = BinDir() + "/shixin";
  ProcessResult r =
      RunProcess({shixin, "audit", "query", AuditDir(), "--receipt", second->receipt});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "agency-a")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "applied")) << r.out;
  r = RunProcess({shixin, "notice", "--receipt", second->receipt, "--audit", AuditDir(), "--data",
                  SampleDir(), "--format", "txt"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "回执编号：" + second->receipt)) << r.out;
  // The report lists the receipts still owed feedback as the agencies hold them.
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(8 * 3600));
  const std::string quarter = absl::StrCat(today.year(), "Q", (today.month() - 1) / 3 + 1);
  r = RunProcess(
      {shixin, "report", "--audit", AuditDir(), "--quarter", quarter, "--format", "csv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, first->receipt)) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, of_b)) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, b_at->receipt.ToString())) << r.out;
  std::string tampered = second->receipt;
  tampered[20] = tampered[20] == '0' ? '1' : '0';
  r = RunProcess({shixin, "audit", "query", AuditDir(), "--receipt", tampered});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "no record")) << r.err;
  // Without the node_id beside the audit, the tools say which file they need.
  ASSERT_NO_FATAL_FAILURE(StopDaemon());
  std::filesystem::rename(StateDir() + "/node_id", scratch_.Path("node_id.moved"));
  r = RunProcess({shixin, "audit", "query", AuditDir(), "--receipt", second->receipt});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(r.err, StateDir() + "/node_id")) << r.err;
  r = RunProcess({shixin, "notice", "--receipt", second->receipt, "--audit", AuditDir(), "--data",
                  SampleDir(), "--format", "txt"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(r.err, StateDir() + "/node_id")) << r.err;
}

}  // namespace
}  // namespace shixin::e2e
