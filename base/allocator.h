// The memory allocator of shixin's binaries, and what differs between the two it may be:
// jemalloc in the release builds (CMakeLists.txt links it into every binary and defines
// SHIXIN_JEMALLOC; a restart's fold of delta files runs 1.4x faster than with glibc's malloc,
// docs/performance.md), glibc's malloc in the sanitizer builds, whose runtimes replace it.
//
// Thread safety: thread-safe.
#ifndef SHIXIN_BASE_ALLOCATOR_H_
#define SHIXIN_BASE_ALLOCATOR_H_

#include <cstddef>
#include <cstdlib>
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

// Memory for the many small, long-lived objects that one job makes together and readers then
// walk (the overlay's entities: gigabytes after a restart's fold of many delta files). Where the
// system has transparent huge pages, it comes from them (jemalloc: an arena of its own whose
// memory is advised MADV_HUGEPAGE), so that making it faults 2 MiB at a time instead of 4 KiB,
// and reading it misses the TLB less; the rest of the process keeps 4 KiB pages, whose
// partly used huge pages would cost an idle daemon memory. Returns null if out of memory,
// else at least `size` bytes (AllocationSize(size) of them), aligned as malloc's; free with
// FreeBulk().
void* AllocateBulk(size_t size);
// Frees memory from AllocateBulk(). REQUIRES: p came from AllocateBulk() (or is null).
void FreeBulk(void* p);

// Faults fresh memory in ahead, while nothing waits for it, for the bulk arena to grow into:
// its next `bytes` of growth then cost no page faults (zeroing fresh pages took a third of a
// delta file's application on a VM whose faults are dear). The daemon calls it after
// publishing a file, for the next one. Returns the bytes held ready (at least `bytes` unless
// memory ran out; 0 in the glibc builds, which hold none); PrefaultBulk(0) only tells.
size_t PrefaultBulk(size_t bytes);

// A standard allocator over AllocateBulk(), for a container that holds such objects (the
// overlay's table: millions of slots, copied for every generation online). Unlike
// core/huge_pages.h's HugePageAllocator (a mapping of its own per table, for the snapshot's
// tables made once per list), freed memory stays in the arena and the next copy reuses it
// without faulting it in again.
template <typename T>
struct BulkAllocator {
  using value_type = T;
  BulkAllocator() = default;
  template <typename U>
  BulkAllocator(const BulkAllocator<U>& /*other*/) {}  // NOLINT(google-explicit-constructor)
  T* allocate(size_t n) {
    void* p = AllocateBulk(n * sizeof(T));
    if (p == nullptr) std::abort();  // as operator new without exceptions
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t /*n*/) { FreeBulk(p); }
  friend bool operator==(const BulkAllocator& /*a*/, const BulkAllocator& /*b*/) { return true; }
};

}  // namespace shixin

#endif  // SHIXIN_BASE_ALLOCATOR_H_
