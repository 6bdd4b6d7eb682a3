#include "core/huge_pages.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace shixin {
namespace {

constexpr size_t kHuge = 2u << 20;

// Returns the VmFlags of the mapping of this process that contains `p` ("" if none).
std::string VmFlagsAt(const void* p) {
  const auto at = reinterpret_cast<uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    uintptr_t begin = 0;
    uintptr_t end = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> begin >> dash >> end && dash == '-') {
      inside = begin <= at && at < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
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
  const std::string whole = VmFlagsAt(first + kHuge);
  if (whole.empty() || !std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled")) {
    munmap(raw, 4 * kHuge);
    GTEST_SKIP() << "no /proc/self/smaps or no transparent huge pages";
  }
  EXPECT_NE(VmFlagsAt(first + kHuge).find(" hg"), std::string::npos) << whole;
  EXPECT_NE(VmFlagsAt(first + 2 * kHuge - 1).find(" hg"), std::string::npos);
  EXPECT_EQ(VmFlagsAt(first).find(" hg"), std::string::npos) << VmFlagsAt(first);
  EXPECT_EQ(VmFlagsAt(first + 2 * kHuge).find(" hg"), std::string::npos);

  // Less than a whole huge page: nothing.
  AdviseHugePages(first + 2 * kHuge + 1, kHuge);
  EXPECT_EQ(VmFlagsAt(first + 2 * kHuge + 1).find(" hg"), std::string::npos);
  munmap(raw, 4 * kHuge);
}

}  // namespace
}  // namespace shixin
