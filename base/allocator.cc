#include "base/allocator.h"

#include <malloc.h>

#include <algorithm>

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

#else

std::string_view AllocatorName() { return "glibc"; }

void ConfigureAllocator() {
  // Buffers over 256 KiB get their own mappings, unmapped when freed.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
}

void ReleaseFreeMemory() { malloc_trim(0); }

// A chunk is the request plus an 8-byte header, in 16-byte steps, at least 32.
size_t AllocationSize(size_t request) {
  return std::max<size_t>(32, (request + 8 + 15) & ~size_t{15});
}

#endif

}  // namespace shixin
