// HugePageAllocator: a std allocator for the snapshot's big tables. Allocations of 2 MiB and
// more are mapped with mmap and advised MADV_HUGEPAGE, so random lookups into a table of
// hundreds of megabytes miss the TLB far less often (this machine's THP mode is "madvise").
// Smaller allocations use operator new. (Memory made and freed over and over, as the overlay's,
// is base/allocator.h's AllocateBulk(): an arena reuses it.)
//
// Thread safety: stateless; safe from any thread.
#ifndef SHIXIN_CORE_HUGE_PAGES_H_
#define SHIXIN_CORE_HUGE_PAGES_H_

#include <cstddef>
#include <cstdlib>
#include <new>

namespace shixin {

// Returns `bytes` of memory aligned to at least 64 bytes (2 MiB for large sizes), or nullptr.
void* AllocateHuge(size_t bytes);
// Frees memory from AllocateHuge(). REQUIRES: `bytes` is the size it was allocated with.
void FreeHuge(void* p, size_t bytes);

template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: allocators convert implicitly

  T* allocate(size_t n) {
    void* p = AllocateHuge(n * sizeof(T));
    if (p == nullptr) OutOfMemory();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) { FreeHuge(p, n * sizeof(T)); }

  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }
  friend bool operator!=(const HugePageAllocator&, const HugePageAllocator&) { return false; }

 private:
  [[noreturn]] static void OutOfMemory();
};

template <typename T>
void HugePageAllocator<T>::OutOfMemory() {
  // Without exceptions, running out of memory for a snapshot table is fatal, as with new.
  std::abort();
}

}  // namespace shixin

#endif  // SHIXIN_CORE_HUGE_PAGES_H_
