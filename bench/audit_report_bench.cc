// The report target of issue 12 (a quarter of 50 M audit records in <= 60 s): writes an audit of
// N records spread over 2026Q3 with AuditLog (256 MiB segments), then builds the quarterly
// report over it (BuildQuarterlyReport, as `shixin report` does) and prints wall time, CPU time
// and records/s of both.
//
//   audit_report_bench --dir DIR [--records N] [--write-only | --report-only]
//
// The mix: ~90% CHECK answers (a third of them hits), ~10% MEASURES with 3-8 measures, and
// feedback (applied / not applied / cancelled, a few corrections) on ~2% of all records; 3,000
// callers and 20,000 subjects. Deterministic (fixed seed).
#include <sys/resource.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "audit/audit_log.h"
#include "core/catalog.h"
#include "core/paths.h"
#include "report/calendar.h"
#include "report/quarterly.h"

namespace shixin {
namespace {

constexpr int kCallers = 3000;
constexpr int kSubjects = 20000;
constexpr report::Quarter kQuarter{2026, 3};

double CpuSeconds() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int Write(const std::string& dir, uint64_t n) {
  std::vector<std::string> callers, subjects;
  for (int i = 0; i < kCallers; ++i) callers.push_back(absl::StrFormat("agency-%04d", i));
  for (int i = 0; i < kSubjects; ++i) {
    subjects.push_back(absl::StrFormat("1101011980%04d%03dX", i % 10000, i / 100));
  }
  const int64_t begin = kQuarter.BeginMicros();
  const int64_t step = (kQuarter.EndMicros() - begin - 1) / static_cast<int64_t>(n);
  int64_t clock = begin;
  audit::AuditLog::Options options;
  options.dir = dir;
  options.segment_bytes = uint64_t{256} << 20;
  options.retention_days = 0;
  options.fsync_interval = absl::Seconds(1);
  options.node = 0x5eed0001;
  options.now_micros = [&clock] { return clock; };
  audit::AuditLog::Recovery recovery;
  absl::StatusOr<std::unique_ptr<audit::AuditLog>> log =
      audit::AuditLog::Open(std::move(options), &recovery);
  if (!log.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(log.status().message()).c_str());
    return 1;
  }
  std::mt19937_64 rng(12);
  // Receipts of MEASURES answers not yet reported on (their caller and measures).
  struct Open {
    std::string receipt;
    int caller;
    std::vector<uint16_t> measures;
  };
  std::vector<Open> open;
  const double t0 = Now(), c0 = CpuSeconds();
  uint64_t ticket = 0, bytes_hint = 0;
  for (uint64_t i = 0; i < n; ++i) {
    clock = begin + static_cast<int64_t>(i) * step;
    const uint64_t roll = rng() % 1000;
    absl::StatusOr<audit::AuditLog::Appended> appended;
    if (roll < 20 && !open.empty()) {  // feedback
      const size_t k = rng() % open.size();
      Open o = std::move(open[k]);
      open[k] = std::move(open.back());
      open.pop_back();
      audit::FeedbackRecord f;
      f.time_micros = clock;
      f.caller = callers[o.caller];
      f.operator_id = "op0421";
      f.receipt = o.receipt;
      for (uint16_t m : o.measures) {
        const uint64_t r = rng() % 10;
        f.entries.push_back({m,
                             r < 7   ? audit::Outcome::kApplied
                             : r < 9 ? audit::Outcome::kNotApplied
                                     : audit::Outcome::kCancelled,
                             r < 7 ? "" : "事项已办结"});
      }
      if (rng() % 20 == 0) f.entries.push_back({o.measures[0], audit::Outcome::kCancelled, "更正"});
      appended = (*log)->Append(&f);
    } else {
      audit::QueryRecord q;
      q.time_micros = clock;
      const int caller = static_cast<int>(rng() % kCallers);
      q.caller = callers[caller];
      q.operator_id = "op0421";
      q.matter = "11100000MB0143871P";
      q.subject = subjects[rng() % kSubjects];
      q.list_version = 0x20260930;
      q.generation = 412;
      q.delta_sequence = 77;
      const bool measures = roll >= 900;
      q.opcode = measures ? 4 : 3;
      q.listing = measures || rng() % 3 == 0 ? audit::Listing::kListed : audit::Listing::kUnlisted;
      if (measures) {
        const int count = 3 + static_cast<int>(rng() % 6);
        uint16_t m = 1 + rng() % 5;
        for (int j = 0; j < count; ++j, m += 1 + rng() % 6) q.measures.push_back(m);
      }
      q.receipt_issued = q.listing != audit::Listing::kUnlisted;
      appended = (*log)->Append(&q);
      if (appended.ok() && measures && open.size() < 100000) {
        open.push_back({appended->receipt.ToString(), caller, q.measures});
      }
    }
    if (!appended.ok()) {
      std::fprintf(stderr, "append: %s\n", std::string(appended.status().message()).c_str());
      return 1;
    }
    ticket = appended->ticket;
    if (++bytes_hint % 1024 == 0) {
      if (absl::Status s = (*log)->Sync(ticket); !s.ok()) return 1;
    }
  }
  if (!(*log)->Sync(ticket).ok() || !(*log)->SyncToDisk().ok()) return 1;
  const double wall = Now() - t0, cpu = CpuSeconds() - c0;
  const audit::AuditLog::Stats stats = (*log)->GetStats();
  std::printf("write: %" PRIu64 " records, %" PRIu64 " bytes (%.1f bytes/record), %" PRIu64
              " segments; wall %.1f s, cpu %.1f s, %.0f records/s\n",
              n, stats.bytes, static_cast<double>(stats.bytes) / n, stats.segments, wall, cpu,
              n / wall);
  return 0;
}

int Report(const std::string& dir) {
  absl::StatusOr<Catalog> catalog = Catalog::LoadFile(DefaultCatalogPath());
  if (!catalog.ok()) {
    std::fprintf(stderr, "catalog: %s\n", std::string(catalog.status().message()).c_str());
    return 1;
  }
  const double t0 = Now(), c0 = CpuSeconds();
  absl::StatusOr<report::QuarterlyReport> r =
      report::BuildQuarterlyReport(dir, kQuarter, "", *catalog, nullptr, "no calendar");
  const double wall = Now() - t0, cpu = CpuSeconds() - c0;
  if (!r.ok()) {
    std::fprintf(stderr, "report: %s\n", std::string(r.status().message()).c_str());
    return 1;
  }
  const uint64_t records = r->total.queries;
  std::printf("report: %" PRIu64
              " queries in the quarter, %zu callers; wall %.1f s, cpu %.1f s, "
              "%.0f query records/s\n",
              records, r->callers.size(), wall, cpu, records / wall);
  return 0;
}

}  // namespace
}  // namespace shixin

int main(int argc, char** argv) {
  std::string dir;
  uint64_t records = 1000000;
  bool write = true, report = true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg == "--records" && i + 1 < argc) {
      records = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--write-only") {
      report = false;
    } else if (arg == "--report-only") {
      write = false;
    } else {
      dir.clear();
      break;
    }
  }
  if (dir.empty() || records == 0) {
    std::fprintf(stderr,
                 "usage: audit_report_bench --dir DIR [--records N] [--write-only | "
                 "--report-only]\n");
    return 2;
  }
  if (write && shixin::Write(dir, records) != 0) return 1;
  if (report && shixin::Report(dir) != 0) return 1;
  return 0;
}
