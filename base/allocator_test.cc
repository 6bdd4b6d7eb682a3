#include "base/allocator.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
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

#ifdef SHIXIN_JEMALLOC  // the huge-page test's helpers
// Returns the transparent huge page mode ("always", "madvise", "never"; "" if unknown).
std::string HugePageMode() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  std::getline(in, line);
  const size_t open = line.find('[');
  const size_t close = line.find(']');
  return open == std::string::npos || close == std::string::npos
             ? ""
             : line.substr(open + 1, close - open - 1);
}

#endif

TEST(AllocatorTest, BulkMemoryIsMallocsSizeAndComesBack) {
  std::vector<void*> pieces;
  for (size_t request : {1, 40, 100, 1000, 5000, 70000}) {
    void* p = AllocateBulk(request);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % alignof(std::max_align_t), 0u);
    std::memset(p, 7, request);
    if (!kSanitizedBuild) {
      EXPECT_EQ(malloc_usable_size(p), AllocationSize(request)) << request;
    }
    pieces.push_back(p);
  }
  for (void* p : pieces) FreeBulk(p);
  FreeBulk(nullptr);
}

#ifdef SHIXIN_JEMALLOC
// The overlay's entities fault 2 MiB at a time where the system has huge pages for those who
// ask (docs/performance.md): the bulk arena's mappings are advised, the others are not.
TEST(AllocatorTest, OnlyBulkMemoryIsAdvisedForHugePages) {
  const std::string mode = HugePageMode();
  if (mode != "madvise" && mode != "always") GTEST_SKIP() << "no transparent huge pages: " << mode;
  std::vector<void*> bulk;
  std::vector<void*> plain;
  for (int i = 0; i < 16384; ++i) {  // 16 MiB of each
    bulk.push_back(AllocateBulk(1024));
    plain.push_back(std::malloc(1024));
    std::memset(bulk.back(), 1, 1024);
    std::memset(plain.back(), 1, 1024);
  }
  EXPECT_EQ(MappingField(bulk[bulk.size() / 2], "THPeligible"), "1");
  if (mode == "madvise") {
    EXPECT_EQ(MappingField(plain[plain.size() / 2], "THPeligible"), "0");
  }
  for (void* p : bulk) FreeBulk(p);
  for (void* p : plain) std::free(p);
}
#endif

#ifdef SHIXIN_JEMALLOC
// Memory faulted in ahead is resident once PrefaultBulk() returns, and the bulk allocations after
// it take it: they add (almost) nothing to the resident memory.
TEST(AllocatorTest, BulkAllocationsGrowIntoPrefaultedMemory) {
  if (kSanitizedBuild) GTEST_SKIP() << "the sanitizers' allocators hold no bulk arena";
  constexpr size_t kBytes = 32 << 20;
  FreeBulk(AllocateBulk(1));  // the arena made
  const uint64_t before = ResidentBytes(getpid());
  ASSERT_GE(PrefaultBulk(kBytes), kBytes);
  const uint64_t prefaulted = ResidentBytes(getpid());
  EXPECT_GE(prefaulted, before + kBytes) << "before " << before << " after " << prefaulted;
  EXPECT_GE(PrefaultBulk(kBytes / 2), kBytes) << "what is held ready is not made again";
  EXPECT_LE(ResidentBytes(getpid()), prefaulted + kBytes / 8);
  std::vector<void*> pieces;
  for (size_t made = 0; made < kBytes * 3 / 4; made += 1000) {
    pieces.push_back(AllocateBulk(1000));
    ASSERT_NE(pieces.back(), nullptr);
    std::memset(pieces.back(), 1, 1000);
  }
  const uint64_t used = ResidentBytes(getpid());
  EXPECT_LE(used, prefaulted + kBytes / 8) << "prefaulted " << prefaulted << " used " << used;
  // Not all of it: the arena reuses what it was given back first (the tests before).
  EXPECT_LT(PrefaultBulk(0), kBytes) << "the allocations took none of it";
  for (void* p : pieces) FreeBulk(p);
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
