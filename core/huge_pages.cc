#include "core/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <new>

namespace shixin {
namespace {

constexpr size_t kHugePage = 2u << 20;

size_t RoundUp(size_t bytes) { return (bytes + kHugePage - 1) & ~(kHugePage - 1); }

}  // namespace

void* AllocateHuge(size_t bytes) {
  if (bytes < kHugePage) return ::operator new (bytes, std::align_val_t{64}, std::nothrow);
  // Over-map by one huge page so that the start can be aligned to a huge-page boundary.
  const size_t size = RoundUp(bytes);
  void* raw =
      mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const size_t misaligned = reinterpret_cast<uintptr_t>(raw) % kHugePage;
  const size_t lead = misaligned == 0 ? 0 : kHugePage - misaligned;
  char* aligned = static_cast<char*>(raw) + lead;
  if (lead > 0) munmap(raw, lead);
  if (kHugePage > lead) munmap(aligned + size, kHugePage - lead);  // the tail past the table
  madvise(aligned, size, MADV_HUGEPAGE);
  return aligned;
}

void FreeHuge(void* p, size_t bytes) {
  if (p == nullptr) return;
  if (bytes < kHugePage) {
    ::operator delete (p, std::align_val_t{64});
    return;
  }
  munmap(p, RoundUp(bytes));
}

}  // namespace shixin
