// Delta application (issue 10's targets): a 20,000-change synthetic delta applied on a base of
// N subjects over an overlay that already holds 0, 1 or `many` files of changes; a restart's
// fold of K pending files (read on up to 4 threads and applied with one table, as the daemon
// does); the memory per changed case; and ListView lookups with and without an overlay.
//
//   BM_ParseDelta/N         parse one file of 20,000 changes (its text in memory): lines/s
//   BM_ApplyDelta/N/prior   one file after `prior` files: changes/s; the resulting overlay's
//                           bytes beyond the text per case version it holds (bytes_per_case)
//                           and per change applied since the base (bytes_per_change)
//   BM_Fold/N/K             parse + apply K files in one batch from the directory (a restart)
//   BM_FoldFileByFile/N/K   the same file by file (ApplyDelta each, a table copy per file)
//   BM_Lookup/N/overlay     Find + IsListed of unchanged listed subjects (overlay 0: none, 1:
//                           `many` files applied): ns per lookup
//   BM_LookupBatch/N/overlay  ListView::FindBatch of 1,024 IDs, listed and unknown alternating
//                           (an unknown ID asks the overlay too): IDs/s
//
// With SHIXIN_DELTA_SNAPSHOT=FILE and SHIXIN_DELTA_DIR=DIR (e.g. `shixin gen --deltas` and
// `shixin compile` at 10 M), the phases of one file online over a snapshot file, the base's
// cases read from the file as the daemon reads them (files 1..8 of DIR in turn):
//   BM_FileRead/T     ReadDelta: the file read and parsed on T threads (wall time)
//   BM_FilePrepare/T  PrepareDelta over the base alone: the starting states of its subjects, on
//                     T threads (wall time: 2 is the daemon's for a file online, alone)
//   BM_FilePrepareCold/P  the same after P % of the snapshot file's pages (256 KiB chunks spread
//                     over it) left the page cache, as a reclaim of pages not read for a while
//                     leaves them: the reads from the disk a file's preparation waits for
//   BM_FileApply/F    OverlayBuilder::Apply with those states, files 1..8 one after the other;
//                     F=1: each after PrefaultBulk(), as the daemon online
//   BM_FilePrepareApply/A  both, wall time, as the daemon online (2 threads, memory faulted in
//                     ahead): A=0 the states prepared ahead of the application, A=1 alongside
//
// "Text" is the case versions' encoding (core/case_codec.h: the fixed fields and the texts
// with their lengths), counted by OverlayStats::record_bytes; the bytes beyond it are the
// entity headers, blocks, links, offsets, names, malloc's overhead and the table's slots and
// control bytes. The bit per base subject (fixed, whatever the overlay holds) is reported
// apart as fixed_bytes and left out of the per-case figures.
//
// Defaults stay short (N = 100,000, many = 5, K = 10); the targets' sizes through the
// environment, e.g.
//   build/bin/delta_benchmark
//   export SHIXIN_DELTA_SUBJECTS=10000000 SHIXIN_DELTA_FILES=250
//   build/bin/delta_benchmark --benchmark_filter=BM_Fold/
// The delta files are generated once per run in $TMPDIR (`shixin gen --deltas`'s generator).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/allocator.h"
#include "base/ordered_parallel.h"
#include "core/builder.h"
#include "core/delta.h"
#include "core/list.h"
#include "core/overlay.h"
#include "core/prepared_delta.h"
#include "core/snapshot_file.h"
#include "core/validity.h"
#include "synthetic/deltas.h"
#include "synthetic/synthetic.h"

namespace shixin {
namespace {

constexpr uint64_t kChangesPerDelta = 20'000;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtoull(v, nullptr, 10) : fallback;
}

const uint64_t kSubjects = EnvOr("SHIXIN_DELTA_SUBJECTS", 100'000);
const uint64_t kFoldFiles = EnvOr("SHIXIN_DELTA_FILES", 10);
const uint64_t kMany = EnvOr("SHIXIN_DELTA_MANY", 5);

struct World {
  std::unique_ptr<const Snapshot> base;
  std::string dir;               // the delta files
  std::vector<DeltaFile> files;  // kFoldFiles or more
  std::vector<Delta> parsed;     // the first kMany + 1, parsed
  std::vector<Id> listed;        // listed subjects, shuffled
  ~World() { std::filesystem::remove_all(dir); }
};

const World& GetWorld(uint64_t subjects) {
  static std::map<uint64_t, std::unique_ptr<World>>* worlds =
      new std::map<uint64_t, std::unique_ptr<World>>();
  auto& slot = (*worlds)[subjects];
  if (slot != nullptr) return *slot;
  slot = std::make_unique<World>();
  World& w = *slot;
  const SyntheticOptions list{.subjects = subjects, .seed = 42, .today = 20251231};
  SnapshotBuilder builder;
  PackedId last{};
  GenerateSynthetic(
      list,
      [&](const CaseInput& c) {
        builder.AddCase(c);
        if (c.id.Pack() != last) {
          last = c.id.Pack();
          w.listed.push_back(c.id);
        }
      },
      [&](const RelationInput& r) { builder.AddRelation(r); });
  w.base = *builder.Build();
  std::shuffle(w.listed.begin(), w.listed.end(), std::mt19937_64(7));
  w.dir = (std::filesystem::temp_directory_path() /
           ("delta_benchmark_" + std::to_string(getpid()) + "_" + std::to_string(subjects)))
              .string();
  const uint64_t files = std::max(kFoldFiles, kMany + 1);
  if (!WriteSyntheticDeltas(list, {.deltas = files, .changes_per_delta = kChangesPerDelta}, w.dir)
           .ok()) {
    std::abort();
  }
  w.files = *ListDeltaFiles(w.dir);
  for (uint64_t i = 0; i <= kMany; ++i) w.parsed.push_back(*ReadDelta(w.files[i].path));
  return w;
}

// Returns the overlay of the first `files` parsed deltas (null for 0).
std::unique_ptr<const Overlay> Prior(const World& w, size_t files) {
  DeltaReport report;
  return ApplyDeltas(*w.base, nullptr, std::span<const Delta>(w.parsed).first(files), &report)
      .overlay;
}

// Sets the memory counters of `overlay`, which holds `changes` changes since the base.
void MemoryCounters(benchmark::State& state, const Overlay& overlay, uint64_t changes) {
  const OverlayStats s = overlay.Stats();
  const double beyond = static_cast<double>(s.bytes - s.fixed_bytes - s.record_bytes);
  state.counters["entities"] = static_cast<double>(s.entities);
  state.counters["case_versions"] = static_cast<double>(s.case_versions);
  state.counters["text_bytes_per_case"] =
      static_cast<double>(s.record_bytes) / static_cast<double>(s.case_versions);
  state.counters["bytes_per_case"] = beyond / static_cast<double>(s.case_versions);
  state.counters["bytes_per_change"] = beyond / static_cast<double>(changes);
  state.counters["bytes_per_entity"] = beyond / static_cast<double>(s.entities);
  state.counters["fixed_bytes"] = static_cast<double>(s.fixed_bytes);
  state.counters["overlay_MB"] = static_cast<double>(s.bytes) / 1e6;
}

void BM_ApplyDelta(benchmark::State& state) {
  const World& w = GetWorld(static_cast<uint64_t>(state.range(0)));
  const size_t prior = static_cast<size_t>(state.range(1));
  const std::unique_ptr<const Overlay> previous = Prior(w, prior);
  const Delta& delta = w.parsed[prior];
  std::unique_ptr<const Overlay> next;
  for (auto _ : state) {
    DeltaReport report;
    auto applied = ApplyDelta(*w.base, previous.get(), delta, &report);
    if (!applied.ok()) state.SkipWithError(std::string(applied.status().message()).c_str());
    next = *std::move(applied);
    benchmark::DoNotOptimize(next.get());
  }
  state.counters["changes/s"] = benchmark::Counter(
      static_cast<double>(delta.changes.size() * state.iterations()), benchmark::Counter::kIsRate);
  if (next != nullptr) MemoryCounters(state, *next, (prior + 1) * kChangesPerDelta);
}

void BM_ParseDelta(benchmark::State& state) {
  const World& w = GetWorld(static_cast<uint64_t>(state.range(0)));
  std::ifstream in(w.files[0].path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string name = w.files[0].path.substr(w.files[0].path.find_last_of('/') + 1);
  size_t lines = 0;
  for (auto _ : state) {
    absl::StatusOr<Delta> delta = ParseDelta(name, text);
    if (!delta.ok()) state.SkipWithError(std::string(delta.status().message()).c_str());
    lines += delta.ok() ? delta->changes.size() : 0;
  }
  state.counters["lines/s"] =
      benchmark::Counter(static_cast<double>(lines), benchmark::Counter::kIsRate);
  state.counters["MB/s"] = benchmark::Counter(
      static_cast<double>(text.size() * state.iterations()) / 1e6, benchmark::Counter::kIsRate);
}

// Parses the first `k` files on up to 4 threads and folds them in one batch, as a restart does.
std::unique_ptr<const Overlay> FoldFromFiles(const World& w, size_t k) {
  OverlayBuilder builder(*w.base, nullptr);
  const std::function<absl::StatusOr<Delta>(size_t)> read = [&](size_t i) {
    return ReadDelta(w.files[i].path);
  };
  bool ok = true;
  const std::function<bool(size_t, absl::StatusOr<Delta>&)> apply = [&](size_t,
                                                                        absl::StatusOr<Delta>& d) {
    DeltaReport report;
    ok = d.ok() && builder.Apply(*d, &report).ok();
    return ok;
  };
  RunOrdered(k, 4, 8, read, apply);
  return ok ? builder.Finish() : nullptr;
}

void BM_Fold(benchmark::State& state) {
  const World& w = GetWorld(static_cast<uint64_t>(state.range(0)));
  const size_t k = std::min<size_t>(static_cast<size_t>(state.range(1)), w.files.size());
  std::unique_ptr<const Overlay> overlay;
  for (auto _ : state) {
    state.PauseTiming();
    overlay.reset();  // the previous run's overlay is freed outside the timing
    state.ResumeTiming();
    overlay = FoldFromFiles(w, k);
    if (overlay == nullptr) state.SkipWithError("a delta was refused");
  }
  state.counters["changes/s"] = benchmark::Counter(
      static_cast<double>(k * kChangesPerDelta * state.iterations()), benchmark::Counter::kIsRate);
  if (overlay != nullptr) MemoryCounters(state, *overlay, k * kChangesPerDelta);
}

void BM_FoldFileByFile(benchmark::State& state) {
  const World& w = GetWorld(static_cast<uint64_t>(state.range(0)));
  const size_t k = std::min<size_t>(static_cast<size_t>(state.range(1)), w.parsed.size());
  for (auto _ : state) {
    std::unique_ptr<const Overlay> overlay;
    for (size_t i = 0; i < k; ++i) {
      DeltaReport report;
      overlay = *ApplyDelta(*w.base, overlay.get(), w.parsed[i], &report);
    }
    benchmark::DoNotOptimize(overlay.get());
  }
  state.counters["changes/s"] = benchmark::Counter(
      static_cast<double>(k * kChangesPerDelta * state.iterations()), benchmark::Counter::kIsRate);
}

void BM_Lookup(benchmark::State& state) {
  const World& w = GetWorld(static_cast<uint64_t>(state.range(0)));
  const std::unique_ptr<const Overlay> overlay = state.range(1) != 0 ? Prior(w, kMany) : nullptr;
  const ListView view(*w.base, overlay.get());
  // Unchanged subjects only: the hot path the overlay must not slow down.
  std::vector<Id> ids;
  for (const Id& id : w.listed) {
    if (overlay == nullptr || overlay->Find(view.SubjectId(view.Find(id)).Pack()) == nullptr) {
      ids.push_back(id);
    }
  }
  const int64_t t = DayStart(20260101);
  size_t i = 0, listed = 0;
  for (auto _ : state) {
    const SubjectRef s = view.Find(ids[i]);
    listed += view.IsListed(s, t);
    if (++i == ids.size()) i = 0;
  }
  benchmark::DoNotOptimize(listed);
  state.counters["ns/lookup"] =
      benchmark::Counter(static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["overlay_entities"] =
      overlay != nullptr ? static_cast<double>(overlay->size()) : 0;
}

void BM_LookupBatch(benchmark::State& state) {
  const World& w = GetWorld(static_cast<uint64_t>(state.range(0)));
  const std::unique_ptr<const Overlay> overlay = state.range(1) != 0 ? Prior(w, kMany) : nullptr;
  const ListView view(*w.base, overlay.get());
  // Listed subjects and IDs the list never knew, alternating: each miss asks the overlay.
  std::vector<Id> ids;
  for (size_t i = 0; i < w.listed.size(); ++i) {
    ids.push_back(w.listed[i]);
    ids.push_back(UnlistedId(i));
  }
  constexpr size_t kBatch = 1024;
  std::vector<SubjectRef> out(kBatch);
  std::vector<EntityNo> scratch(kBatch);
  size_t i = 0, found = 0;
  for (auto _ : state) {
    if (i + kBatch > ids.size()) i = 0;
    view.FindBatch(std::span<const Id>(ids).subspan(i, kBatch), out, scratch);
    for (const SubjectRef& s : out) found += s.found();
    i += kBatch;
  }
  benchmark::DoNotOptimize(found);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  state.counters["overlay_entities"] =
      overlay != nullptr ? static_cast<double>(overlay->size()) : 0;
}

// The snapshot file and delta directory of the file-backed benchmarks.
struct FileWorld {
  std::unique_ptr<const Snapshot> base;
  std::vector<DeltaFile> files;
};

// Exits with `status`'s message unless it is OK.
void ExitUnlessOk(const absl::Status& status) {
  if (status.ok()) return;
  std::fprintf(stderr, "delta_benchmark: %s\n", std::string(status.message()).c_str());
  std::exit(1);
}

const FileWorld& GetFileWorld() {
  static const FileWorld* world = [] {
    auto* w = new FileWorld();
    auto base = OpenSnapshotFile(std::getenv("SHIXIN_DELTA_SNAPSHOT"), 0);
    ExitUnlessOk(base.status());
    auto files = ListDeltaFiles(std::getenv("SHIXIN_DELTA_DIR"));
    ExitUnlessOk(files.status());
    if (files->empty()) ExitUnlessOk(absl::NotFoundError("SHIXIN_DELTA_DIR has no delta file"));
    w->base = *std::move(base);
    w->files = *std::move(files);
    return w;
  }();
  return *world;
}

constexpr size_t kFileRounds = 8;  // the files the file-backed benchmarks take in turn

// Returns the first kFileRounds files of the world, parsed.
std::vector<Delta> FirstFiles(const FileWorld& w) {
  std::vector<Delta> deltas;
  for (size_t i = 0; i < std::min(kFileRounds, w.files.size()); ++i) {
    absl::StatusOr<Delta> delta = ReadDelta(w.files[i].path);
    ExitUnlessOk(delta.status());
    deltas.push_back(*std::move(delta));
  }
  return deltas;
}

void BM_FileRead(benchmark::State& state) {
  const FileWorld& w = GetFileWorld();
  size_t i = 0;
  for (auto _ : state) {
    absl::StatusOr<Delta> delta = ReadDelta(w.files[i++ % kFileRounds % w.files.size()].path,
                                            static_cast<int>(state.range(0)));
    if (!delta.ok()) state.SkipWithError(std::string(delta.status().message()).c_str());
  }
}

void BM_FilePrepare(benchmark::State& state) {
  const FileWorld& w = GetFileWorld();
  const std::vector<Delta> deltas = FirstFiles(w);
  size_t i = 0;
  for (auto _ : state) {
    PreparedDelta prepared = PrepareDelta(*w.base, nullptr, deltas[i++ % deltas.size()], nullptr,
                                          static_cast<int>(state.range(0)));
    benchmark::DoNotOptimize(&prepared);
  }
}

// Drops `percent` % of the snapshot file's pages from the page cache: every 256 KiB chunk whose
// number falls in that share of a spread-out sequence.
void EvictSnapshot(int percent) {
  const int fd = ::open(std::getenv("SHIXIN_DELTA_SNAPSHOT"), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st {};
  if (::fstat(fd, &st) == 0) {
    constexpr off_t kChunk = 256 << 10;
    for (off_t c = 0; c * kChunk < st.st_size; ++c) {
      if (c * 37 % 100 < percent) ::posix_fadvise(fd, c * kChunk, kChunk, POSIX_FADV_DONTNEED);
    }
  }
  ::close(fd);
}

void BM_FilePrepareCold(benchmark::State& state) {
  const FileWorld& w = GetFileWorld();
  const std::vector<Delta> deltas = FirstFiles(w);
  size_t i = 0;
  for (auto _ : state) {
    state.PauseTiming();
    EvictSnapshot(static_cast<int>(state.range(0)));
    state.ResumeTiming();
    PreparedDelta prepared = PrepareDelta(*w.base, nullptr, deltas[i++ % deltas.size()]);
    benchmark::DoNotOptimize(&prepared);
  }
}

// Applies files 1..8 online, each over the overlay of those before it, on a builder made ahead
// (the daemon copies the table after the previous swap), after PrefaultBulk() if `prefault`.
// Times the application, and with `when` set the preparation too (on 2 threads, as the
// daemon's file alone); without, the states are prepared ahead, untimed.
void ApplyFilesOnline(benchmark::State& state, bool prefault, std::optional<Prepare> when) {
  const FileWorld& w = GetFileWorld();
  std::unique_ptr<const Overlay> previous;
  size_t i = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const absl::StatusOr<Delta> delta = ReadDelta(w.files[i++].path);
    if (!delta.ok()) {
      state.SkipWithError(std::string(delta.status().message()).c_str());
      break;
    }
    PreparedDelta prepared;
    if (!when) prepared = PrepareDelta(*w.base, previous.get(), *delta);
    OverlayBuilder builder(*w.base, previous.get());
    if (prefault) PrefaultBulk(24 << 20);  // as the daemon after a file
    state.ResumeTiming();
    if (when) prepared = PrepareDelta(*w.base, previous.get(), *delta, nullptr, 2, *when);
    DeltaReport report;
    const absl::Status applied = builder.Apply(*delta, &report, &prepared);
    if (!applied.ok()) {
      state.SkipWithError(std::string(applied.message()).c_str());
      break;
    }
    previous = builder.Finish();
  }
}

void BM_FileApply(benchmark::State& state) {
  ApplyFilesOnline(state, state.range(0) != 0, std::nullopt);
}

void BM_FilePrepareApply(benchmark::State& state) {
  ApplyFilesOnline(state, true, state.range(0) != 0 ? Prepare::kAlongside : Prepare::kAhead);
}

void Register() {
  if (std::getenv("SHIXIN_DELTA_SNAPSHOT") != nullptr &&
      std::getenv("SHIXIN_DELTA_DIR") != nullptr) {
    benchmark::RegisterBenchmark("BM_FileRead", BM_FileRead)  // arg: threads
        ->Arg(1)
        ->Arg(2)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark("BM_FilePrepare", BM_FilePrepare)  // arg: threads
        ->Arg(1)
        ->Arg(2)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark("BM_FilePrepareCold", BM_FilePrepareCold)
        ->Arg(12)
        ->Arg(100)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(static_cast<int64_t>(kFileRounds))
        ->UseRealTime();
    benchmark::RegisterBenchmark("BM_FileApply", BM_FileApply)  // arg: memory faulted in ahead
        ->Arg(0)
        ->Arg(1)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(static_cast<int64_t>(std::min(kFileRounds, GetFileWorld().files.size())));
    benchmark::RegisterBenchmark("BM_FilePrepareApply", BM_FilePrepareApply)  // arg: alongside
        ->Arg(0)
        ->Arg(1)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(static_cast<int64_t>(std::min(kFileRounds, GetFileWorld().files.size())));
  }
  const int64_t n = static_cast<int64_t>(kSubjects);
  benchmark::RegisterBenchmark("BM_ParseDelta", BM_ParseDelta)
      ->Arg(n)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_ApplyDelta", BM_ApplyDelta)
      ->Args({n, 0})
      ->Args({n, 1})
      ->Args({n, static_cast<int64_t>(kMany)})
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_Fold", BM_Fold)
      ->Args({n, static_cast<int64_t>(kFoldFiles)})
      ->Unit(benchmark::kMillisecond)
      ->Iterations(1);
  benchmark::RegisterBenchmark("BM_FoldFileByFile", BM_FoldFileByFile)
      ->Args({n, static_cast<int64_t>(kMany + 1)})
      ->Unit(benchmark::kMillisecond)
      ->Iterations(1);
  benchmark::RegisterBenchmark("BM_Lookup", BM_Lookup)->Args({n, 0})->Args({n, 1});
  benchmark::RegisterBenchmark("BM_LookupBatch", BM_LookupBatch)->Args({n, 0})->Args({n, 1});
}

}  // namespace
}  // namespace shixin

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  shixin::Register();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
