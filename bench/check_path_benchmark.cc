// The server's CHECK path without the network (issue 14): a Handler over a synthetic list of
// 1 M subjects is fed one read's worth of request frames, answered the way Connection answers
// them, and the time is reported per request. The mix is the load tool's: ~50 % listed, 40 %
// unlisted, 10 % related IDs.
//
//   build/bin/check_path_benchmark
//   build/bin/check_path_benchmark --benchmark_filter=Single
//
// BM_*Unbatched answers frame by frame (Handler::Handle per frame, the path before issue 14);
// BM_*LookAhead with Handler::LookAhead() over the read first, as Connection now does;
// BM_Single16Metrics the same with the request metrics the daemon records (daemon/metrics.h:
// a clock read and a Metrics::Record per request); BM_*Audited the same with the audit of issue 12
// (a state directory in $TMPDIR, its records written once every 8 reads, as a daemon's turn writes
// those of all its connections, fdatasync every 10 ms): its ns/request beside BM_*LookAhead's is
// the audit's cost per request on one thread. BM_Measures16* send single-ID MEASURES frames
// (no filter, no officers) of the same mix.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "audit/audit_test_util.h"
#include "core/builder.h"
#include "core/catalog.h"
#include "core/list.h"
#include "core/paths.h"
#include "daemon/auditor.h"
#include "daemon/handler.h"
#include "daemon/metrics.h"
#include "daemon/snapshot_holder.h"
#include "protocol/messages.h"
#include "protocol/wire.h"
#include "synthetic/synthetic.h"

namespace shixin {
namespace {

constexpr size_t kMixIds = 1'000'000;  // IDs asked, in a shuffled mix

constexpr uint64_t kSubjects = 1'000'000;

// Returns a valid resident ID that the generator does not produce (born on 1 Jan 1901).
std::string MissId(uint64_t n) {
  char text[18];
  std::snprintf(text, sizeof(text), "%06u19010101%03u",
                110101 + static_cast<unsigned>(n / 1000 % 99), static_cast<unsigned>(n % 1000));
  std::string id(text, 17);
  return id + ResidentCheckChar(id);
}

struct World {
  RcuThread rcu;
  Config config;
  SnapshotHolder holder;
  std::unique_ptr<Handler> handler;
  Metrics metrics;
  std::unique_ptr<Handler> recording;  // the handler with metrics, as the daemon's
  std::vector<std::string> mix;        // IDs in the load tool's mix, shuffled
};

// A Handler with the audit in a fresh state directory (removed at exit).
struct AuditedWorld {
  Config config;
  std::unique_ptr<Auditor> auditor;
  std::unique_ptr<Handler> handler;
};

AuditedWorld& GetAuditedWorld(const SnapshotHolder& holder) {
  static const audit::testing::ScratchDir tmp;  // removed at exit
  static AuditedWorld* w = [&holder] {
    auto* w = new AuditedWorld();
    w->config.state_dir = tmp.path();
    absl::StatusOr<std::unique_ptr<Auditor>> auditor = Auditor::Open(w->config, nullptr);
    if (!auditor.ok()) std::abort();
    w->auditor = *std::move(auditor);
    w->handler = std::make_unique<Handler>(w->config, &holder, NowSeconds, nullptr, nullptr,
                                           w->auditor.get());
    return w;
  }();
  return *w;
}

World& GetWorld() {
  static World* w = [] {
    auto* w = new World();
    SnapshotBuilder builder;
    std::vector<Id> listed, persons;
    PackedId last{};
    GenerateSynthetic(
        SyntheticOptions{kSubjects, 42},
        [&](const CaseInput& c) {
          builder.AddCase(c);
          if (c.id.Pack() != last) listed.push_back(c.id), last = c.id.Pack();
        },
        [&](const RelationInput& r) {
          builder.AddRelation(r);
          persons.push_back(r.person);
        });
    auto d = std::make_unique<Dataset>();
    d->snapshot = *builder.Build();
    absl::StatusOr<Catalog> catalog = Catalog::LoadFile(DefaultCatalogPath());
    if (!catalog.ok()) std::abort();
    d->catalog = *std::move(catalog);
    const int64_t now = NowSeconds();
    std::vector<Id> related;
    for (const Id& id : persons) {
      const SubjectRef s = d->list().Find(id);
      if (s.found() && !d->list().IsListed(s, now) && d->list().IsRelated(s, now)) {
        related.push_back(id);
      }
    }
    w->holder.Publish(std::move(d));
    w->handler = std::make_unique<Handler>(w->config, &w->holder);
    w->recording = std::make_unique<Handler>(w->config, &w->holder, NowSeconds, nullptr, nullptr,
                                             nullptr, &w->metrics);
    std::mt19937_64 rng(7);
    std::shuffle(listed.begin(), listed.end(), rng);
    std::shuffle(related.begin(), related.end(), rng);
    for (size_t i = 0; i < kMixIds; ++i) {
      const size_t k = i % 10;  // 5 listed, 4 unlisted, 1 related in 10
      if (k < 5 || related.empty()) {
        w->mix.emplace_back(listed[i % listed.size()].text());
      } else if (k < 9) {
        w->mix.push_back(MissId(i));
      } else {
        w->mix.emplace_back(related[i % related.size()].text());
      }
    }
    std::shuffle(w->mix.begin(), w->mix.end(), rng);
    return w;
  }();
  return *w;
}

// Appends `frames` CHECK frames of `ids_per_frame` IDs each, taken from the mix at `*next`;
// with `measures`, MEASURES frames of one ID each (`ids_per_frame` must be 1).
std::string Frames(const World& w, size_t frames, size_t ids_per_frame, size_t* next,
                   bool measures) {
  std::string out, payload;
  for (size_t f = 0; f < frames; ++f) {
    payload.clear();
    if (measures) {
      wire::MeasuresRequest request;
      request.id = w.mix[*next % w.mix.size()];
      wire::Encode(request, &payload);
    } else {
      wire::AppendCheckRequest(
          ids_per_frame,
          [&](size_t i) -> std::string_view { return w.mix[(*next + i) % w.mix.size()]; },
          &payload);
    }
    *next += ids_per_frame;
    wire::FrameHeader h;
    h.opcode = static_cast<uint8_t>(measures ? wire::Opcode::kMeasures : wire::Opcode::kCheck);
    h.request_id = static_cast<uint32_t>(f + 1);
    h.payload_size = static_cast<uint32_t>(payload.size());
    wire::AppendHeader(h, &out);
    out += payload;
  }
  return out;
}

// Precomputed reads, so that the timed loop only answers.
std::vector<std::string> Reads(const World& w, size_t frames, size_t ids_per_frame, bool measures) {
  std::vector<std::string> reads;
  size_t next = 0;
  // As many IDs as the mix holds: tables of 1 M subjects do not fit in the cache, and neither
  // do the lines of 1 M IDs, so the lookups miss as a server's do.
  const size_t count = kMixIds / (frames * ids_per_frame);
  for (size_t i = 0; i < count; ++i) {
    reads.push_back(Frames(w, frames, ids_per_frame, &next, measures));
  }
  return reads;
}

// Connection::AnswerFrames: one Handle() per frame, after Handler::LookAhead() over the
// frames not looked ahead yet (`look_ahead`), or without (before issue 14).
void Answer(const Handler& handler, std::string_view input, Session& session, std::string* out,
            bool look_ahead) {
  const Peer peer{"bench", false, {}};
  size_t turn = 0;
  size_t looked_ahead = 0;
  auto now = std::chrono::steady_clock::now();  // one clock read a turn, then one a request
  while (!input.empty()) {
    if (look_ahead && turn >= looked_ahead) {
      looked_ahead = turn + handler.LookAhead(input, session);
    }
    const wire::Decoded frame = wire::DecodeFrame(input, 1u << 20, session.version);
    turn += frame.consumed;
    ReloadRequest reload;
    handler.Handle(frame.header, frame.payload, peer, out, &reload, &session, &now);
    input.remove_prefix(frame.consumed);
  }
}

constexpr size_t kReadsPerAuditWrite = 8;

void Run(benchmark::State& state, size_t frames, size_t ids_per_frame, bool batched,
         bool audited = false, bool recorded = false, bool measures = false) {
  World& w = GetWorld();
  const Handler& handler = audited    ? *GetAuditedWorld(w.holder).handler
                           : recorded ? *w.recording
                                      : *w.handler;
  const std::vector<std::string> reads = Reads(w, frames, ids_per_frame, measures);
  Session session;
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    const std::string& read = reads[i++ % reads.size()];
    Answer(handler, read, session, &out, batched);
    // The daemon writes the records of all connections of a thread's turn at once (~100).
    if (audited && i % kReadsPerAuditWrite == 0 && !handler.SyncAudit(session.audit_ticket).ok()) {
      std::abort();
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * frames * ids_per_frame));
  state.counters["ns/request"] =
      benchmark::Counter(static_cast<double>(state.iterations() * frames),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Single16Unbatched(benchmark::State& state) { Run(state, 16, 1, false); }
void BM_Batch64Unbatched(benchmark::State& state) { Run(state, 1, 64, false); }
void BM_Single16LookAhead(benchmark::State& state) { Run(state, 16, 1, true); }
void BM_Batch64LookAhead(benchmark::State& state) { Run(state, 1, 64, true); }
void BM_Single16Metrics(benchmark::State& state) { Run(state, 16, 1, true, false, true); }
void BM_Single16Audited(benchmark::State& state) { Run(state, 16, 1, true, true); }
void BM_Batch64Audited(benchmark::State& state) { Run(state, 1, 64, true, true); }
void BM_Measures16(benchmark::State& state) { Run(state, 16, 1, true, false, false, true); }
void BM_Measures16Audited(benchmark::State& state) { Run(state, 16, 1, true, true, false, true); }
BENCHMARK(BM_Single16Unbatched);
BENCHMARK(BM_Single16LookAhead);
BENCHMARK(BM_Single16Metrics);
BENCHMARK(BM_Single16Audited);
BENCHMARK(BM_Batch64Unbatched);
BENCHMARK(BM_Batch64LookAhead);
BENCHMARK(BM_Batch64Audited);
BENCHMARK(BM_Measures16);
BENCHMARK(BM_Measures16Audited);

}  // namespace
}  // namespace shixin

BENCHMARK_MAIN();
