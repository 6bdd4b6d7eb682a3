#include "core/huge_pages.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "base/process_memory.h"

namespace shixin {
namespace {

constexpr size_t kHuge = 2u << 20;

// Returns whether the mapping that holds `p` is advised MADV_HUGEPAGE (its VmFlags has "hg").
bool AdvisedHuge(const void* p) {
  return (" " + MappingField(p, "VmFlags") + " ").find(" hg ") != std::string::npos;
}

// AdviseHugePages() advises exactly the whole huge pages inside the range, so that a buffer of
// jemalloc's (which may share its first and last huge pages with other allocations) changes
// nothing outside itself.
TEST(HugePagesTest, AdvisesTheWholeHugePagesInsideTheRange) {
  void* raw = mmap(nullptr, 4 * kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(raw, MAP_FAILED);
  const size_t misaligned = reinterpret_cast<uintptr_t>(raw) % kHuge;
  // 3 whole huge pages from here are mapped.
  char* first = static_cast<char*>(raw) + (misaligned == 0 ? 0 : kHuge - misaligned);
  // From 1 byte into the first huge page to 1 byte into the third: only the second is whole.
  AdviseHugePages(first + 1, 2 * kHuge);
  const std::string whole = MappingField(first + kHuge, "VmFlags");
  if (whole.empty() || !std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled")) {
    munmap(raw, 4 * kHuge);
    GTEST_SKIP() << "no /proc/self/smaps or no transparent huge pages";
  }
  EXPECT_TRUE(AdvisedHuge(first + kHuge)) << whole;
  EXPECT_TRUE(AdvisedHuge(first + 2 * kHuge - 1));
  EXPECT_FALSE(AdvisedHuge(first)) << MappingField(first, "VmFlags");
  EXPECT_FALSE(AdvisedHuge(first + 2 * kHuge));

  // Less than a whole huge page: nothing.
  AdviseHugePages(first + 2 * kHuge + 1, kHuge);
  EXPECT_FALSE(AdvisedHuge(first + 2 * kHuge + 1));
  munmap(raw, 4 * kHuge);
}

}  // namespace
}  // namespace shixin
