// The memory allocator of shixin's binaries, and what differs between the two it may be:
// jemalloc in the release builds (CMakeLists.txt links it into every binary and defines
// SHIXIN_JEMALLOC; a restart's fold of delta files runs 1.4x faster than with glibc's malloc,
// docs/performance.md), glibc's malloc in the sanitizer builds, whose runtimes replace it.
//
// Thread safety: thread-safe.
#ifndef SHIXIN_BASE_ALLOCATOR_H_
#define SHIXIN_BASE_ALLOCATOR_H_

#include <cstddef>
#include <string_view>

namespace shixin {

// Returns "jemalloc" or "glibc": the allocator this binary was built for.
std::string_view AllocatorName();

// Sets the allocator up for a long-running daemon: memory that large buffers held goes back to
// the system when they are freed (jemalloc: after its decay time, 10 s, on a thread of its
// own). Call once, at the start of main().
void ConfigureAllocator();

// Returns the memory that was freed but is still held by the allocator to the system now (the
// buffers of clients that left). Costs a few ms; call it from a timer, not per request.
void ReleaseFreeMemory();

// Returns the bytes an allocation of `request` bytes takes from the allocator, its rounding and
// per-allocation header included: what an accounting of memory by requests should add up.
size_t AllocationSize(size_t request);

}  // namespace shixin

#endif  // SHIXIN_BASE_ALLOCATOR_H_
