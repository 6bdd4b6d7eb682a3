// The resident memory of a process, as the kernel reports it: for the tests that check that
// memory comes back (the allocator's purge, the daemon after abusive clients leave).
//
// Thread safety: reentrant.
#ifndef SHIXIN_BASE_PROCESS_MEMORY_H_
#define SHIXIN_BASE_PROCESS_MEMORY_H_

#include <sys/types.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
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

}  // namespace shixin

#endif  // SHIXIN_BASE_PROCESS_MEMORY_H_
