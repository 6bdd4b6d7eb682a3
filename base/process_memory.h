// The memory of a process, as the kernel reports it: for the tests that check that memory comes
// back (the allocator's purge, the daemon after abusive clients leave) and how it is mapped
// (huge pages).
//
// Thread safety: reentrant.
#ifndef SHIXIN_BASE_PROCESS_MEMORY_H_
#define SHIXIN_BASE_PROCESS_MEMORY_H_

#include <sys/types.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace shixin {

// Returns the resident memory of process `pid` in bytes (VmRSS of /proc/PID/status), or 0 if
// it cannot be read.
inline uint64_t ResidentBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

// Returns the value of `field` ("THPeligible", "VmFlags") in /proc/self/smaps for the mapping
// that holds `p`, without the spaces around it, or "" if there is none.
inline std::string MappingField(const void* p, const std::string& field) {
  std::ifstream smaps("/proc/self/smaps");
  const auto at = reinterpret_cast<uintptr_t>(p);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    uintptr_t begin = 0;
    uintptr_t end = 0;
    char dash = 0;
    std::istringstream header(line);
    if (header >> std::hex >> begin >> dash >> end && dash == '-') {
      inside = begin <= at && at < end;
    } else if (inside && line.rfind(field + ":", 0) == 0) {
      const size_t first = line.find_first_not_of(' ', field.size() + 1);
      const size_t last = line.find_last_not_of(' ');
      return first == std::string::npos ? "" : line.substr(first, last - first + 1);
    }
  }
  return "";
}

}  // namespace shixin

#endif  // SHIXIN_BASE_PROCESS_MEMORY_H_
