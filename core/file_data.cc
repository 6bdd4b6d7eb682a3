#include "core/file_data.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/status/statusor.h"
#include "core/paths.h"

namespace shixin {

FileData::~FileData() {
  if (map_ != nullptr) munmap(map_, data_.size());
}

absl::Status FileData::Open(const std::string& path) {
  absl::StatusOr<int> opened = OpenRegularFile(path);  // never blocks on a FIFO
  if (!opened.ok()) return opened.status();
  const int fd = *opened;
  absl::Status status = Map(fd) ? absl::OkStatus() : Read(fd, path);
  close(fd);
  return status;
}

bool FileData::Map(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return false;
  void* map = mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) return false;
  madvise(map, st.st_size, MADV_SEQUENTIAL);
  map_ = map;
  data_ = std::string_view(static_cast<const char*>(map), st.st_size);
  return true;
}

absl::Status FileData::Read(int fd, const std::string& path) {
  char buffer[1 << 16];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, path);
    owned_.append(buffer, static_cast<size_t>(n));
  }
  data_ = owned_;
  return absl::OkStatus();
}

}  // namespace shixin
