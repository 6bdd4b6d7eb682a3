#include "base/allocator.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <utility>

#ifdef SHIXIN_JEMALLOC
#include <jemalloc/jemalloc.h>

// Read by jemalloc before its first allocation (MALLOC_CONF adds to it). Allocations over
// 8 MiB (the overlay's table, copied for every generation, a delta file's text) go by default
// to an arena that gives their pages back when they are freed, so the next one faults all of
// its pages in again; kept for the decay time like the others, they are reused.
const char* malloc_conf = "oversize_threshold:0";
#endif

namespace shixin {

#ifdef SHIXIN_JEMALLOC

std::string_view AllocatorName() { return "jemalloc"; }

// jemalloc gives freed pages back after its decay time (10 s), but without a thread of its own
// only while the process keeps allocating: an idle daemon would keep them.
void ConfigureAllocator() {
  bool on = true;
  mallctl("background_thread", nullptr, nullptr, &on, sizeof(on));
}

void ReleaseFreeMemory() {
#define SHIXIN_STRINGIFY_(x) #x
#define SHIXIN_STRINGIFY(x) SHIXIN_STRINGIFY_(x)
  mallctl("arena." SHIXIN_STRINGIFY(MALLCTL_ARENAS_ALL) ".purge", nullptr, nullptr, nullptr, 0);
#undef SHIXIN_STRINGIFY
#undef SHIXIN_STRINGIFY_
}

// A size class: jemalloc keeps no header beside the allocation.
size_t AllocationSize(size_t request) { return nallocx(std::max<size_t>(request, 1), 0); }

namespace {

// The bulk arena's extent hooks: jemalloc's own, whose new memory is advised for huge pages.
extent_hooks_t* default_hooks = nullptr;
extent_hooks_t huge_page_hooks;

// The arena grows by at most this much at a time, so that the memory faulted in ahead serves
// its growth without waste (jemalloc's default grows by ever larger steps).
constexpr size_t kGrowth = 2 << 20;

// Memory faulted in ahead (PrefaultBulk()), not yet handed to the arena: the regions in the
// order they were made, the first one's used part cut off.
struct Prefaulted {
  std::mutex mu;
  std::deque<std::pair<char*, size_t>> regions;
  size_t bytes = 0;  // their sum
};

Prefaulted& prefaulted() {
  static auto* p = new Prefaulted();  // never destroyed: the arena may grow until exit
  return *p;
}

// Returns `size` bytes aligned at `alignment` from the prefaulted regions, or null.
void* TakePrefaulted(size_t size, size_t alignment) {
  Prefaulted& p = prefaulted();
  std::lock_guard<std::mutex> lock(p.mu);
  while (!p.regions.empty()) {
    auto& [at, left] = p.regions.front();
    const size_t skip = (alignment - reinterpret_cast<uintptr_t>(at) % alignment) % alignment;
    if (skip + size <= left) {
      void* taken = at + skip;
      at += skip + size;
      left -= skip + size;
      p.bytes -= skip + size;
      return taken;
    }
    if (left >= kGrowth) return nullptr;  // a larger request than the arena's growth: kept
    // A rest smaller than one growth goes back to the system (whole pages: so are the sizes
    // and alignments the arena asks for).
    if (left > 0) munmap(at, left);
    p.bytes -= left;
    p.regions.pop_front();
  }
  return nullptr;
}

void* AllocateHugePages(extent_hooks_t* /*hooks*/, void* new_addr, size_t size, size_t alignment,
                        bool* zero, bool* commit, unsigned arena_index) {
  if (new_addr == nullptr) {
    if (void* p = TakePrefaulted(size, alignment)) {
      *zero = true;  // faulted in by the kernel, never written
      *commit = true;
      return p;
    }
  }
  void* p =
      default_hooks->alloc(default_hooks, new_addr, size, alignment, zero, commit, arena_index);
  if (p != nullptr) madvise(p, size, MADV_HUGEPAGE);  // a hint: without THP it changes nothing
  return p;
}

// Returns the flags that select the bulk arena (made at the first call), or 0 if jemalloc
// refused to make it (bulk memory is then malloc's). No thread cache: its cached regions may
// come from another arena.
int BulkFlags() {
  static const int flags = [] {
    size_t size = sizeof(extent_hooks_t*);
    if (mallctl("arena.0.extent_hooks", &default_hooks, &size, nullptr, 0) != 0) return 0;
    huge_page_hooks = *default_hooks;
    huge_page_hooks.alloc = AllocateHugePages;
    extent_hooks_t* hooks = &huge_page_hooks;
    unsigned arena = 0;
    size = sizeof(arena);
    if (mallctl("arenas.create", &arena, &size, &hooks, sizeof(extent_hooks_t*)) != 0) {
      return 0;
    }
    const std::string limit = "arena." + std::to_string(arena) + ".retain_grow_limit";
    size_t growth = kGrowth;
    mallctl(limit.c_str(), nullptr, nullptr, &growth, sizeof(growth));
    return static_cast<int>(MALLOCX_ARENA(arena)) | MALLOCX_TCACHE_NONE;
  }();
  return flags;
}

}  // namespace

size_t PrefaultBulk(size_t bytes) {
  Prefaulted& p = prefaulted();
  size_t held = 0;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    held = p.bytes;
  }
  if (held >= bytes || BulkFlags() == 0) return held;
  const size_t size = (bytes - held + kGrowth - 1) / kGrowth * kGrowth;
  // Aligned at 2 MiB, so that each huge page is whole.
  void* mapped = mmap(nullptr, size + kGrowth, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapped == MAP_FAILED) return held;
  char* const start = static_cast<char*>(mapped);
  char* const at = start + (kGrowth - reinterpret_cast<uintptr_t>(start) % kGrowth) % kGrowth;
  if (at > start) munmap(start, static_cast<size_t>(at - start));
  if (at + size < start + size + kGrowth) {
    munmap(at + size, static_cast<size_t>(start + size + kGrowth - (at + size)));
  }
  madvise(at, size, MADV_HUGEPAGE);
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif
  if (madvise(at, size, MADV_POPULATE_WRITE) != 0) {
    // An older kernel: a write faults a page in (a read would map the shared zero page), and
    // zero keeps it as the kernel made it.
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    for (size_t offset = 0; offset < size; offset += page) {
      static_cast<volatile char*>(static_cast<void*>(at))[offset] = 0;
    }
  }
  std::lock_guard<std::mutex> lock(p.mu);
  p.regions.emplace_back(at, size);
  p.bytes += size;
  return p.bytes;
}

void* AllocateBulk(size_t size) {
  const int flags = BulkFlags();
  return flags == 0 ? std::malloc(size) : mallocx(std::max<size_t>(size, 1), flags);
}

void FreeBulk(void* p) {
  if (p != nullptr) dallocx(p, MALLOCX_TCACHE_NONE);
}

#else

std::string_view AllocatorName() { return "glibc"; }

void ConfigureAllocator() {
  // Buffers over 256 KiB get their own mappings, unmapped when freed.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
}

void ReleaseFreeMemory() { malloc_trim(0); }

void* AllocateBulk(size_t size) { return std::malloc(size); }

void FreeBulk(void* p) { std::free(p); }

size_t PrefaultBulk(size_t /*bytes*/) { return 0; }

// A chunk is the request plus an 8-byte header, in 16-byte steps, at least 32.
size_t AllocationSize(size_t request) {
  return std::max<size_t>(32, (request + 8 + 15) & ~size_t{15});
}

#endif

}  // namespace shixin
