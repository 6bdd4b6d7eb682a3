#include "base/allocator.h"

#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>

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

void* AllocateHugePages(extent_hooks_t* /*hooks*/, void* new_addr, size_t size, size_t alignment,
                        bool* zero, bool* commit, unsigned arena_index) {
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
    return static_cast<int>(MALLOCX_ARENA(arena)) | MALLOCX_TCACHE_NONE;
  }();
  return flags;
}

}  // namespace

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

// A chunk is the request plus an 8-byte header, in 16-byte steps, at least 32.
size_t AllocationSize(size_t request) {
  return std::max<size_t>(32, (request + 8 + 15) & ~size_t{15});
}

#endif

}  // namespace shixin
