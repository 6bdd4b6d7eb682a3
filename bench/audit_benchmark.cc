// The audit of issue 12: the writer's cost per record and the reader's speed.
//
//   BM_AppendSync/B     B typical MEASURES records appended, then one Sync (a write(2)); the
//                       background fdatasync every 10 ms runs as in the daemon. Counters:
//                       time_per_record, bytes_per_record (the segment bytes / records)
//   BM_AppendShared     the same with 16 records a Sync, on 1 and 2 threads appending to one log
//                       (two I/O threads of a daemon): what the threads' meeting on the log's
//                       lock and pending buffer costs (real time per record over all threads)
//   BM_ForEachRecord    decode every record of an audit of N records (checksums, payloads):
//                       items_per_second is records/s (one thread)
//   BM_Verify           the full check (SHA-256 chain too, segments on up to 4 threads)
//   BM_Lookup           the daemon's lookup of a receipt (FEEDBACK): a walk from the mark
//                       before it (audit/marks.h), receipts spread over the audit's segments
//   BM_LookUpQuery      the commands' (notice, audit query): a walk from the segment's start
//   BM_ReceiptText/K    an answer's receipt text into a reused buffer (every audited answer
//                       makes one): K=0 the position form (before receipt keys), K=1 keyed
//                       (AES-128 of one block, audit/receipt.h); 1 and 2 threads
//   BM_ParseReceipt/K   FEEDBACK's reading of a receipt text of either form
//
// N defaults to 1,000,000 (SHIXIN_AUDIT_RECORDS); the audit is written once per run in $TMPDIR.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audit/audit_log.h"
#include "audit/audit_test_util.h"
#include "audit/reader.h"
#include "audit/receipt.h"

namespace shixin::audit {
namespace {

constexpr int64_t kT0 = int64_t{1780000000} * 1000000;

std::unique_ptr<AuditLog> OpenLog(const std::string& dir) {
  AuditLog::Options o;
  o.dir = dir;
  o.node = 1;
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o, nullptr);
  if (!log.ok()) std::abort();
  return *std::move(log);
}

void BM_AppendSync(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  testing::ScratchDir tmp;
  std::unique_ptr<AuditLog> log = OpenLog(tmp.path() + "/audit");
  int64_t i = 0;
  for (auto _ : state) {
    uint64_t ticket = 0;
    for (int b = 0; b < batch; ++b, ++i) {
      QueryRecord q = testing::TypicalQuery("110101199003074514", kT0 + i);
      absl::StatusOr<AuditLog::Appended> a = log->Append(&q);
      if (!a.ok()) std::abort();
      ticket = a->ticket;
    }
    if (!log->Sync(ticket).ok()) std::abort();
  }
  const AuditLog::Stats stats = log->GetStats();
  state.SetItemsProcessed(i);
  // Seconds per record (shown with an SI prefix: 4.7u is 4.7 us).
  state.counters["time_per_record"] = benchmark::Counter(
      batch, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["bytes_per_record"] =
      static_cast<double>(stats.bytes - kHeaderSize * stats.segments) / static_cast<double>(i);
  state.counters["fsyncs"] = static_cast<double>(stats.fsync_count);
}
BENCHMARK(BM_AppendSync)->Arg(1)->Arg(16)->UseRealTime();

void BM_AppendShared(benchmark::State& state) {
  constexpr int kBatch = 16;
  static std::unique_ptr<testing::ScratchDir> tmp;
  static std::unique_ptr<AuditLog> log;
  if (state.thread_index() == 0) {  // before the threads' common start
    tmp = std::make_unique<testing::ScratchDir>();
    log = OpenLog(tmp->path() + "/audit");
  }
  const std::string subject = absl::StrCat(110101199003074514 + state.thread_index());
  int64_t i = 0;
  for (auto _ : state) {
    uint64_t ticket = 0;
    for (int b = 0; b < kBatch; ++b, ++i) {
      QueryRecord q = testing::TypicalQuery(subject, kT0 + i);
      absl::StatusOr<AuditLog::Appended> a = log->Append(&q);
      if (!a.ok()) std::abort();
      ticket = a->ticket;
    }
    if (!log->Sync(ticket).ok()) std::abort();
  }
  state.SetItemsProcessed(i);
  state.counters["time_per_record"] = benchmark::Counter(
      kBatch, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  if (state.thread_index() == 0) {  // after the threads' common end
    log.reset();
    tmp.reset();
  }
}
BENCHMARK(BM_AppendShared)->Threads(1)->Threads(2)->UseRealTime();

// The audit of N records the readers run on, written once.
const std::string& ReadAudit(int64_t* records) {
  static int64_t n = [] {
    const char* env = std::getenv("SHIXIN_AUDIT_RECORDS");
    return env != nullptr ? std::atoll(env) : int64_t{1000000};
  }();
  static const std::string dir = [] {
    std::string pattern = (std::filesystem::temp_directory_path() / "audit_bench_XXXXXX").string();
    std::string d = std::string(mkdtemp(pattern.data())) + "/audit";
    std::unique_ptr<AuditLog> log = OpenLog(d);
    for (int64_t i = 0; i < n; ++i) {
      const std::string subject = absl::StrCat(110101199003000000 + i % 100000);
      QueryRecord q = testing::TypicalQuery(subject, kT0 + i * 1000);
      absl::StatusOr<AuditLog::Appended> a = log->Append(&q);
      if (!a.ok()) std::abort();
      if (i % 1000 == 999 && !log->Sync(a->ticket).ok()) std::abort();
    }
    if (!log->SyncToDisk().ok()) std::abort();
    std::atexit([] { std::filesystem::remove_all(std::filesystem::path(dir).parent_path()); });
    return d;
  }();
  *records = n;
  return dir;
}

void BM_ForEachRecord(benchmark::State& state) {
  int64_t n = 0;
  const std::string& dir = ReadAudit(&n);
  for (auto _ : state) {
    uint64_t sum = 0;
    const absl::Status s = ForEachRecord(dir, {}, [&sum](const Entry& e) {
      sum += e.query.measures.size();
      return true;
    });
    if (!s.ok()) std::abort();
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_ForEachRecord)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Verify(benchmark::State& state) {
  int64_t n = 0;
  const std::string& dir = ReadAudit(&n);
  for (auto _ : state) {
    absl::StatusOr<VerifyReport> r = Verify(dir);
    if (!r.ok() || !r->problems.empty()) std::abort();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Verify)->Unit(benchmark::kMillisecond)->UseRealTime();

// Every 997th query receipt of the read audit.
std::vector<Receipt> SomeReceipts(const std::string& dir) {
  std::vector<Receipt> receipts;
  int64_t i = 0;
  if (!ForEachRecord(dir, {}, [&](const Entry& e) {
         if (i++ % 997 == 0) receipts.push_back(e.receipt);
         return true;
       }).ok()) {
    std::abort();
  }
  return receipts;
}

void BM_Lookup(benchmark::State& state) {
  int64_t n = 0;
  const std::string& dir = ReadAudit(&n);
  std::unique_ptr<AuditLog> log = OpenLog(dir);  // the first open writes the marks files
  const std::vector<Receipt> receipts = SomeReceipts(dir);
  size_t i = 0;
  for (auto _ : state) {
    if (!log->Lookup(receipts[i++ % receipts.size()]).ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Lookup)->UseRealTime();

void BM_LookUpQuery(benchmark::State& state) {
  int64_t n = 0;
  const std::string& dir = ReadAudit(&n);
  const std::vector<Receipt> receipts = SomeReceipts(dir);
  size_t i = 0;
  for (auto _ : state) {
    if (!LookUpQuery(dir, receipts[i++ % receipts.size()]).ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LookUpQuery)->Unit(benchmark::kMicrosecond)->UseRealTime();

const ReceiptCipher& BenchCipher() {
  static const ReceiptCipher cipher(
      ReceiptCipher::Key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, 0);
  return cipher;
}

void BM_ReceiptText(benchmark::State& state) {
  const bool keyed = state.range(0) != 0;
  const ReceiptCipher& cipher = BenchCipher();
  std::string out;
  out.reserve(64);
  Receipt r{0x9f2c41d0, 3, 1048576};
  for (auto _ : state) {
    out.clear();
    keyed ? cipher.AppendTo(r, &out) : r.AppendTo(&out);
    benchmark::DoNotOptimize(out.data());
    r.offset += 85;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReceiptText)->Arg(0)->Arg(1)->Threads(1)->Threads(2)->UseRealTime();

void BM_ParseReceipt(benchmark::State& state) {
  const ReceiptCipher& cipher = BenchCipher();
  const Receipt r{0x9f2c41d0, 3, 1048576};
  const std::string text = state.range(0) != 0 ? cipher.Text(r) : r.ToString();
  for (auto _ : state) {
    absl::StatusOr<ParsedReceipt> parsed = ParseReceipt(text, &cipher);
    if (!parsed.ok()) std::abort();
    benchmark::DoNotOptimize(parsed->receipt.offset);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseReceipt)->Arg(0)->Arg(1);

}  // namespace
}  // namespace shixin::audit

BENCHMARK_MAIN();
