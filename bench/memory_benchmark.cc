// What this machine's memory allows, as the yardstick for lookup_benchmark: random cache-line
// reads from tables as large as a 10 M-subject snapshot's (on 2 MiB pages, like the snapshot).
//
//   BM_DependentLines   each read's address comes from the previous read (a pointer chase):
//                       the latency of one miss
//   BM_IndependentLines reads at random addresses known in advance, prefetched `window` ahead:
//                       how many misses one core keeps in flight; over 448 MiB, 1 GiB and
//                       4 GiB, how the reach of the TLB bounds that; with ~20 multiply-adds per
//                       read, that the prefetches, not out-of-order execution, overlap them
//   BM_LookupShapedPairs the memory pattern of Snapshot::FindBatch without its hashing and
//                       compares: a line of a 128 MiB "index", then a line of a 320 MiB
//                       "entity table" whose address is read from the first line; the bound of
//                       a two-line lookup
//
//   build/bin/memory_benchmark
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "core/huge_pages.h"

namespace shixin {
namespace {

constexpr size_t kLine = 64;

// A table of `bytes` on huge pages, of 64-byte lines; each line's first word is set by the
// caller.
class Table {
 public:
  explicit Table(size_t bytes) : lines_(bytes / kLine), data_(AllocateHuge(lines_ * kLine)) {
    std::memset(data_, 0, lines_ * kLine);
  }
  ~Table() { FreeHuge(data_, lines_ * kLine); }
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  size_t lines() const { return lines_; }
  uint64_t* line(size_t i) {
    return reinterpret_cast<uint64_t*>(static_cast<char*>(data_) + i * kLine);
  }

 private:
  size_t lines_;
  void* data_;
};

std::vector<uint32_t> RandomLines(size_t count, size_t lines, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint32_t> out(count);
  for (uint32_t& x : out) x = static_cast<uint32_t>(rng() % lines);
  return out;
}

void BM_DependentLines(benchmark::State& state) {
  Table table(static_cast<size_t>(state.range(0)) << 20);
  // One random cycle through every line.
  std::vector<uint32_t> order(table.lines());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(1));
  for (size_t i = 0; i < order.size(); ++i) {
    *table.line(order[i]) = order[(i + 1) % order.size()];
  }
  uint64_t at = order[0];
  for (auto _ : state) at = *table.line(at);
  benchmark::DoNotOptimize(at);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// Args: table MiB, prefetch window (0: none), multiply-adds per read (20 is what packing an ID
// costs: enough that out-of-order execution cannot overlap the reads by itself, only the
// prefetches do).
void BM_IndependentLines(benchmark::State& state) {
  Table table(static_cast<size_t>(state.range(0)) << 20);
  const size_t window = static_cast<size_t>(state.range(1));
  const int work = static_cast<int>(state.range(2));
  const std::vector<uint32_t> lines = RandomLines(1 << 22, table.lines(), 2);
  constexpr size_t kBatch = 1024;
  size_t base = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    if (base + kBatch + window > lines.size()) base = 0;
    for (size_t i = 0; i < kBatch; ++i) {
      uint64_t v = lines[base + i];
      for (int k = 0; k < work; ++k) v = v * 10 + (v >> 7);
      benchmark::DoNotOptimize(v);
      if (window > 0) __builtin_prefetch(table.line(lines[base + i + window]));
      sum += *table.line(lines[base + i]);
    }
    base += kBatch;
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
}

void BM_LookupShapedPairs(benchmark::State& state) {
  Table index(128u << 20);
  Table entities(320u << 20);
  std::mt19937_64 rng(3);
  for (size_t i = 0; i < index.lines(); ++i) *index.line(i) = rng() % entities.lines();
  const size_t window = static_cast<size_t>(state.range(0));
  const std::vector<uint32_t> lines = RandomLines(1 << 22, index.lines(), 4);
  constexpr size_t kBatch = 1024;
  uint64_t second[kBatch + 64];
  size_t base = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    if (base + kBatch + 2 * window > lines.size()) base = 0;
    // Stage 1 prefetches the index line of item i + 2W, stage 2 reads the index line of item
    // i + W and prefetches its entity line, stage 3 reads the entity line of item i.
    for (size_t i = 0; i < kBatch + 2 * window; ++i) {
      __builtin_prefetch(index.line(lines[base + i]));
      if (i >= window) {
        const size_t j = i - window;
        second[j % (kBatch + 64)] = *index.line(lines[base + j]);
        __builtin_prefetch(entities.line(second[j % (kBatch + 64)]));
      }
      if (i >= 2 * window) sum += *entities.line(second[(i - 2 * window) % (kBatch + 64)]);
    }
    base += kBatch;
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
}

BENCHMARK(BM_DependentLines)->Arg(448);
BENCHMARK(BM_IndependentLines)
    ->Args({448, 4, 0})
    ->Args({448, 8, 0})
    ->Args({448, 16, 0})
    ->Args({448, 32, 0})
    ->Args({1024, 16, 0})
    ->Args({4096, 16, 0})
    ->Args({4, 0, 20})
    ->Args({448, 0, 20})
    ->Args({448, 8, 20})
    ->Args({448, 32, 20});
BENCHMARK(BM_LookupShapedPairs)->Arg(8)->Arg(16)->Arg(32);

}  // namespace
}  // namespace shixin

BENCHMARK_MAIN();
