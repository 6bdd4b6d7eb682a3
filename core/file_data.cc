#include "core/file_data.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "core/paths.h"

namespace shixin {
namespace {

// The mappings the SIGBUS handler repairs. A lock-free table (a handler may take no lock):
// each slot is a seqlock, `version` odd while the slot is written. The handler skips a slot
// being written or rewritten while it reads it: that is never the faulting mapping, which is
// registered before its first read and unregistered after its last.
constexpr int kMappingSlots = 64;  // mappings alive at once; more are read into memory instead
constexpr uint64_t kNoMappingFault = UINT64_MAX;

struct MappingSlot {
  std::atomic<bool> taken{false};
  std::atomic<uint32_t> version{0};
  std::atomic<uintptr_t> begin{0};
  std::atomic<size_t> size{0};
  std::atomic<uint64_t> first_fault{kNoMappingFault};  // the lowest offset of a page lost
};

MappingSlot mapping_slots[kMappingSlots];
struct sigaction previous_sigbus_action;  // SIGBUS's action before ours: other addresses go to it
uintptr_t mapping_page_size = 4096;

// Maps zeros over the faulting page of a registered mapping and the rest of it (a file cut
// there has no bytes after it either: one fault a truncation, not one a page). Returns false
// if the address is in no registered mapping.
bool RepairMapping(const siginfo_t* info) {
  if (info->si_code != BUS_ADRERR && info->si_code != BUS_MCEERR_AR) return false;
  const auto address = reinterpret_cast<uintptr_t>(info->si_addr);
  for (MappingSlot& slot : mapping_slots) {
    const uint32_t version = slot.version.load(std::memory_order_acquire);
    const uintptr_t begin = slot.begin.load(std::memory_order_relaxed);
    const size_t size = slot.size.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if ((version & 1) != 0 || slot.version.load(std::memory_order_relaxed) != version) continue;
    if (begin == 0 || address < begin || address - begin >= size) continue;
    const uintptr_t page = address & ~(mapping_page_size - 1);
    const uintptr_t end = (begin + size + mapping_page_size - 1) & ~(mapping_page_size - 1);
    // The system call itself: a sanitizer's mmap interceptor is not meant for a handler, and
    // the addresses stay mapped read-only as they were.
    const int64_t zeros = syscall(SYS_mmap, page, end - page, PROT_READ,
                                  MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (zeros == -1) return false;
    const uint64_t offset = page - begin;
    uint64_t seen = slot.first_fault.load(std::memory_order_relaxed);
    while (offset < seen &&
           !slot.first_fault.compare_exchange_weak(seen, offset, std::memory_order_release)) {
    }
    return true;
  }
  return false;
}

void OnSigbus(int signal, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  if (RepairMapping(info)) {
    errno = saved_errno;
    return;  // the read that faulted runs again and reads zeros
  }
  errno = saved_errno;
  const struct sigaction& previous = previous_sigbus_action;
  if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    if ((previous.sa_flags & SA_SIGINFO) != 0) {
      previous.sa_sigaction(signal, info, context);  // e.g. a sanitizer's report
    } else {
      previous.sa_handler(signal);
    }
    return;
  }
  // A bug, or a file mapped by someone else: the default action, a core dump of this fault
  // (the signal stays pending until the handler returns to the faulting instruction).
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  sigaction(SIGBUS, &default_action, nullptr);
  raise(SIGBUS);
}

// Installs OnSigbus once; false if it cannot be (the files are read into memory then).
bool InstallSigbusGuard() {
  static const bool installed = [] {
    mapping_page_size = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    if (sigaction(SIGBUS, nullptr, &previous_sigbus_action) != 0) return false;
    struct sigaction action {};
    action.sa_sigaction = OnSigbus;
    action.sa_flags = SA_SIGINFO;  // no SA_ONSTACK: a read of a mapping is no stack overflow
    sigemptyset(&action.sa_mask);
    return sigaction(SIGBUS, &action, nullptr) == 0;
  }();
  return installed;
}

int RegisterMapping(const void* begin, size_t size) {
  for (int i = 0; i < kMappingSlots; ++i) {
    MappingSlot& slot = mapping_slots[i];
    if (slot.taken.exchange(true, std::memory_order_acquire)) continue;
    slot.version.fetch_add(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    slot.begin.store(reinterpret_cast<uintptr_t>(begin), std::memory_order_relaxed);
    slot.size.store(size, std::memory_order_relaxed);
    slot.first_fault.store(kNoMappingFault, std::memory_order_relaxed);
    slot.version.fetch_add(1, std::memory_order_release);
    return i;
  }
  return -1;
}

void UnregisterMapping(int i) {
  MappingSlot& slot = mapping_slots[i];
  slot.version.fetch_add(1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  slot.begin.store(0, std::memory_order_relaxed);
  slot.size.store(0, std::memory_order_relaxed);
  slot.version.fetch_add(1, std::memory_order_release);
  slot.taken.store(false, std::memory_order_release);
}

}  // namespace

FileData::~FileData() {
  if (map_ != nullptr) {
    UnregisterMapping(slot_);  // first: the addresses may be another mapping's once unmapped
    munmap(map_, data_.size());
  }
  if (fd_ >= 0) close(fd_);
}

absl::Status FileData::Open(const std::string& path) {
  SHIXIN_ASSIGN_OR_RETURN(fd_, OpenRegularFile(path));  // never blocks on a FIFO
  path_ = path;
  if (fstat(fd_, &opened_) != 0) return absl::ErrnoToStatus(errno, path);
  return Map() ? absl::OkStatus() : Read();
}

bool FileData::Map() {
  if (!S_ISREG(opened_.st_mode) || opened_.st_size == 0 || !InstallSigbusGuard()) return false;
  const auto size = static_cast<size_t>(opened_.st_size);
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd_, 0);
  if (map == MAP_FAILED) return false;
  slot_ = RegisterMapping(map, size);
  if (slot_ < 0) {  // no read of it could be repaired
    munmap(map, size);
    return false;
  }
  madvise(map, size, MADV_SEQUENTIAL);
  map_ = map;
  data_ = std::string_view(static_cast<const char*>(map), size);
  return true;
}

absl::Status FileData::Read() {
  char buffer[1 << 16];
  ssize_t n;
  while ((n = read(fd_, buffer, sizeof(buffer))) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, path_);
    owned_.append(buffer, static_cast<size_t>(n));
  }
  data_ = owned_;
  return absl::OkStatus();
}

absl::Status FileData::CheckUnchanged() const {
  struct stat now;
  if (fstat(fd_, &now) != 0) return absl::ErrnoToStatus(errno, path_);
  const auto changed = [&](const std::string& how) {
    return absl::AbortedError(absl::StrFormat("%s changed while it was read (%s)", path_, how));
  };
  if (now.st_size != opened_.st_size) {
    return changed(absl::StrFormat("%s from %d to %d bytes",
                                   now.st_size < opened_.st_size ? "truncated" : "grew",
                                   opened_.st_size, now.st_size));
  }
  if (now.st_mtim.tv_sec != opened_.st_mtim.tv_sec ||
      now.st_mtim.tv_nsec != opened_.st_mtim.tv_nsec) {
    return changed("rewritten in place: its modification time changed");
  }
  const uint64_t fault = slot_ >= 0
                             ? mapping_slots[slot_].first_fault.load(std::memory_order_acquire)
                             : kNoMappingFault;
  if (fault != kNoMappingFault) {
    return absl::DataLossError(absl::StrFormat(
        "%s: the bytes from offset %d on could not be read (an I/O error?)", path_, fault));
  }
  return absl::OkStatus();
}

}  // namespace shixin
