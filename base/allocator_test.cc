#include "base/allocator.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/process_memory.h"
#include "base/sanitizers.h"
#include "gtest/gtest.h"

#ifdef SHIXIN_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

namespace shixin {
namespace {

// The accounting matches the allocator that actually serves malloc in this binary: were
// jemalloc named but glibc linked (or the reverse), the sizes would differ.
TEST(AllocatorTest, AllocationSizeIsWhatMallocHandsOut) {
  if (kSanitizedBuild) GTEST_SKIP() << "the sanitizers' allocators round differently";
  for (size_t request : {1, 8, 24, 25, 100, 1000, 4097, 70000, 1 << 20}) {
    void* p = std::malloc(request);
    ASSERT_NE(p, nullptr);
    const size_t usable = malloc_usable_size(p);
    std::free(p);
    EXPECT_GE(AllocationSize(request), request);
    if (AllocatorName() == "jemalloc") {
      EXPECT_EQ(AllocationSize(request), usable) << request;
    } else if (request < 128 * 1024) {  // below glibc's mmap threshold: a heap chunk
      EXPECT_EQ(AllocationSize(request), usable + 8) << request;
    }
  }
}

#ifdef SHIXIN_JEMALLOC
TEST(AllocatorTest, ReleaseBuildsUseJemalloc) { EXPECT_EQ(AllocatorName(), "jemalloc"); }

// Large allocations are kept when freed like the others (base/allocator.cc's malloc_conf).
TEST(AllocatorTest, LargeAllocationsHaveNoArenaOfTheirOwn) {
  size_t threshold = 1;
  size_t size = sizeof(threshold);
  ASSERT_EQ(mallctl("opt.oversize_threshold", &threshold, &size, nullptr, 0), 0);
  EXPECT_EQ(threshold, 0u);
}
#endif

TEST(AllocatorTest, ReleaseFreeMemoryGivesFreedMemoryBack) {
  if (kSanitizedBuild) GTEST_SKIP() << "the sanitizers keep freed memory in quarantine";
  ConfigureAllocator();
  constexpr size_t kPieces = 256;
  constexpr size_t kPiece = 512 * 1024;  // 128 MiB in all
  std::vector<char*> pieces;
  for (size_t i = 0; i < kPieces; ++i) {
    pieces.push_back(static_cast<char*>(std::malloc(kPiece)));
    ASSERT_NE(pieces.back(), nullptr);
    std::memset(pieces.back(), 1, kPiece);
  }
  const size_t peak = ResidentBytes(getpid());
  for (char* p : pieces) std::free(p);
  ReleaseFreeMemory();
  const size_t after = ResidentBytes(getpid());
  EXPECT_LE(after + kPieces * kPiece / 2, peak) << "peak " << peak << " after " << after;
}

}  // namespace
}  // namespace shixin
