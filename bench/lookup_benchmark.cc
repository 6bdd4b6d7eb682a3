// In-process lookup speed at 1 M and 10 M subjects (hit and miss, one at a time and batched
// with prefetching; the misses resident IDs, and credit codes apart, hits and misses: a credit
// code that misses also looks up the organisation code it embeds), the resident bytes per
// subject of the index and summary tables, and the cost of DETAIL without the network (Check()
// with the cases; ReadCases() alone). The snapshots are built in memory from `shixin gen`'s
// generator; with SHIXIN_SNAPSHOT set to a compiled snapshot file, the BM_File* runs also query
// that file as shixind serves it (its hot tables read into huge pages; a freshly built
// snapshot's tables get huge pages only where the kernel can find free 2 MiB blocks).
//
//   build/bin/lookup_benchmark                         # both sizes
//   build/bin/lookup_benchmark --benchmark_filter=/1000000   # 1 M only
//   SHIXIN_SNAPSHOT=/tmp/list.snap build/bin/lookup_benchmark --benchmark_filter=File
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/builder.h"
#include "core/query.h"
#include "core/snapshot_file.h"
#include "synthetic/synthetic.h"

namespace shixin {
namespace {

struct World {
  std::unique_ptr<const Snapshot> snap;
  std::vector<Id> hits;         // listed subjects, shuffled
  std::vector<Id> misses;       // valid IDs that are not in the snapshot
  std::vector<Id> credit_hits;  // the hits that are credit codes
  // valid credit codes that are not in the snapshot, nor the organisation codes they embed
  std::vector<Id> credit_misses;
};

// Returns a credit code of an organisation that is not listed: the generator's organisation
// codes are digits or begin with MA, these begin with Y.
Id UnlistedCreditCode(uint64_t n) {
  char org8[9];
  std::snprintf(org8, sizeof(org8), "Y%07u", static_cast<unsigned>(n % 10'000'000));
  const std::string first17 = std::string("91110101") + org8 + OrgCodeCheckChar(org8);
  return MakeIdUnchecked(IdKind::kCreditCode, first17 + CreditCodeCheckChar(first17));
}

// Shuffles the hits (keeping at most 4 M) and adds 1 M shuffled misses of each kind.
void ShuffleHitsAndAddMisses(World& w) {
  std::mt19937_64 rng(7);
  std::shuffle(w.hits.begin(), w.hits.end(), rng);
  w.hits.resize(std::min<size_t>(w.hits.size(), 4'000'000));
  for (const Id& id : w.hits) {
    if (id.kind() == IdKind::kCreditCode) w.credit_hits.push_back(id);
  }
  for (size_t i = 0; i < 1'000'000; ++i) {
    w.misses.push_back(UnlistedId(i));
    w.credit_misses.push_back(UnlistedCreditCode(i));
  }
  std::shuffle(w.misses.begin(), w.misses.end(), rng);
  std::shuffle(w.credit_misses.begin(), w.credit_misses.end(), rng);
}

const World& GetWorld(uint64_t subjects) {
  static std::map<uint64_t, World>* worlds = new std::map<uint64_t, World>();
  auto it = worlds->find(subjects);
  if (it != worlds->end()) return it->second;
  World& w = (*worlds)[subjects];
  SnapshotBuilder builder;
  PackedId last{};
  GenerateSynthetic(
      SyntheticOptions{subjects, 42},
      [&](const CaseInput& c) {
        builder.AddCase(c);
        if (c.id.Pack() != last) {
          last = c.id.Pack();
          w.hits.push_back(c.id);
        }
      },
      [&](const RelationInput& r) { builder.AddRelation(r); });
  w.snap = *builder.Build();
  ShuffleHitsAndAddMisses(w);
  return w;
}

// The world of the snapshot file named by SHIXIN_SNAPSHOT: its listed subjects are the hits.
const World& GetFileWorld() {
  static World* world = [] {
    auto* w = new World();
    const char* path = std::getenv("SHIXIN_SNAPSHOT");
    absl::StatusOr<std::unique_ptr<const Snapshot>> snap = OpenSnapshotFile(path, 0);
    if (!snap.ok()) {
      std::fprintf(stderr, "%s\n", std::string(snap.status().message()).c_str());
      std::exit(1);
    }
    w->snap = *std::move(snap);
    for (EntityNo e = 0; e < w->snap->entity_count(); ++e) {
      if (w->snap->IsListed(e, NowSeconds())) w->hits.push_back(w->snap->EntityId(e));
    }
    ShuffleHitsAndAddMisses(*w);
    return w;
  }();
  return *world;
}

const World& WorldOf(const benchmark::State& state) {
  return state.range(0) == 0 ? GetFileWorld() : GetWorld(static_cast<uint64_t>(state.range(0)));
}

void SetCounters(benchmark::State& state, const World& w) {
  const SnapshotInfo& info = w.snap->info();
  state.counters["subjects"] = static_cast<double>(info.subjects);
  state.counters["entities"] = static_cast<double>(info.entities);
  state.counters["index_bytes_per_subject"] =
      static_cast<double>(w.snap->IndexBytes()) / static_cast<double>(info.subjects);
  state.counters["index_bytes_per_entity"] =
      static_cast<double>(w.snap->IndexBytes()) / static_cast<double>(info.entities);
}

// Which IDs a lookup benchmark asks.
enum class Asked { kHits, kMisses, kCreditHits, kCreditMisses };

const std::vector<Id>& IdsAsked(const World& w, Asked asked) {
  switch (asked) {
    case Asked::kHits:
      return w.hits;
    case Asked::kMisses:
      return w.misses;
    case Asked::kCreditHits:
      return w.credit_hits;
    case Asked::kCreditMisses:
      break;
  }
  return w.credit_misses;
}

void Lookup(benchmark::State& state, Asked asked) {
  const World& w = WorldOf(state);
  const std::vector<Id>& ids = IdsAsked(w, asked);
  size_t i = 0;
  uint64_t found = 0;
  for (auto _ : state) {
    found += w.snap->Find(ids[i]) != kNoEntity;
    if (++i == ids.size()) i = 0;
  }
  benchmark::DoNotOptimize(found);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  SetCounters(state, w);
}

void LookupBatch(benchmark::State& state, Asked asked) {
  const World& w = WorldOf(state);
  const std::vector<Id>& ids = IdsAsked(w, asked);
  const size_t batch = static_cast<size_t>(state.range(1));
  std::vector<EntityNo> out(batch);
  size_t i = 0;
  for (auto _ : state) {
    if (i + batch > ids.size()) i = 0;
    w.snap->FindBatch(std::span<const Id>(ids.data() + i, batch), out);
    benchmark::DoNotOptimize(out.data());
    i += batch;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
  SetCounters(state, w);
}

// DETAIL as the daemon answers it, without the network: Check() with the cases of a listed
// subject, one at a time over the shuffled hits.
void BM_Detail(benchmark::State& state) {
  const World& w = WorldOf(state);
  size_t i = 0;
  uint64_t cases = 0;
  for (auto _ : state) {
    absl::StatusOr<CheckResult> r = Check(*w.snap, w.hits[i], NowSeconds(), /*with_cases=*/true);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      break;
    }
    cases += r->cases.size();
    if (++i == w.hits.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["cases_per_detail"] =
      static_cast<double>(cases) / static_cast<double>(state.iterations());
}

// Snapshot::ReadCases() alone for the same subjects, one buffer reused: for a snapshot file the
// two pread calls (case offsets, then records) and the checks of the blocks read.
void BM_ReadCases(benchmark::State& state) {
  const World& w = WorldOf(state);
  std::vector<EntityNo> entities;
  for (const Id& id : w.hits) entities.push_back(w.snap->Find(id));
  CaseBuffer buffer;
  size_t i = 0;
  uint64_t cases = 0;
  for (auto _ : state) {
    const EntityNo e = entities[i];
    absl::StatusOr<std::span<const CaseView>> read =
        w.snap->ReadCases(w.snap->FirstCase(e), w.snap->CaseCount(e), buffer);
    if (!read.ok()) {
      state.SkipWithError(std::string(read.status().message()).c_str());
      break;
    }
    cases += read->size();
    if (++i == entities.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["cases_per_read"] =
      static_cast<double>(cases) / static_cast<double>(state.iterations());
}

void BM_LookupHit(benchmark::State& state) { Lookup(state, Asked::kHits); }
void BM_LookupMiss(benchmark::State& state) { Lookup(state, Asked::kMisses); }
// Credit codes that miss: they also look up the organisation code they embed.
void BM_LookupMissCreditCode(benchmark::State& state) { Lookup(state, Asked::kCreditMisses); }
void BM_LookupBatchHit(benchmark::State& state) { LookupBatch(state, Asked::kHits); }
void BM_LookupBatchMiss(benchmark::State& state) { LookupBatch(state, Asked::kMisses); }
void BM_LookupBatchHitCreditCode(benchmark::State& state) {
  LookupBatch(state, Asked::kCreditHits);
}
void BM_LookupBatchMissCreditCode(benchmark::State& state) {
  LookupBatch(state, Asked::kCreditMisses);
}

BENCHMARK(BM_LookupHit)->Arg(1'000'000)->Arg(10'000'000);
BENCHMARK(BM_LookupMiss)->Arg(1'000'000)->Arg(10'000'000);
BENCHMARK(BM_LookupMissCreditCode)->Arg(1'000'000)->Arg(10'000'000);
BENCHMARK(BM_Detail)->Arg(1'000'000);
BENCHMARK(BM_ReadCases)->Arg(1'000'000);
BENCHMARK(BM_LookupBatchHit)
    ->Args({1'000'000, 64})
    ->Args({1'000'000, 1024})
    ->Args({10'000'000, 64})
    ->Args({10'000'000, 1024});
BENCHMARK(BM_LookupBatchMiss)
    ->Args({1'000'000, 64})
    ->Args({1'000'000, 1024})
    ->Args({10'000'000, 64})
    ->Args({10'000'000, 1024});
BENCHMARK(BM_LookupBatchHitCreditCode)->Args({1'000'000, 1024})->Args({10'000'000, 1024});
BENCHMARK(BM_LookupBatchMissCreditCode)->Args({1'000'000, 1024})->Args({10'000'000, 1024});

// Range 0 means the snapshot file.
void RegisterFileBenchmarks() {
  benchmark::RegisterBenchmark("BM_FileLookupHit", BM_LookupHit)->Arg(0);
  benchmark::RegisterBenchmark("BM_FileLookupMiss", BM_LookupMiss)->Arg(0);
  benchmark::RegisterBenchmark("BM_FileDetail", BM_Detail)->Arg(0);
  benchmark::RegisterBenchmark("BM_FileReadCases", BM_ReadCases)->Arg(0);
  benchmark::RegisterBenchmark("BM_FileLookupBatchHit", BM_LookupBatchHit)
      ->Args({0, 64})
      ->Args({0, 1024});
  benchmark::RegisterBenchmark("BM_FileLookupBatchMiss", BM_LookupBatchMiss)->Args({0, 1024});
  benchmark::RegisterBenchmark("BM_FileLookupBatchHitCreditCode", BM_LookupBatchHitCreditCode)
      ->Args({0, 1024});
  benchmark::RegisterBenchmark("BM_FileLookupBatchMissCreditCode", BM_LookupBatchMissCreditCode)
      ->Args({0, 1024});
}

}  // namespace
}  // namespace shixin

int main(int argc, char** argv) {
  if (std::getenv("SHIXIN_SNAPSHOT") != nullptr) shixin::RegisterFileBenchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
