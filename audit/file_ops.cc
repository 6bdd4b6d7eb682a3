#include "audit/file_ops.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace shixin::audit {

int FileOps::Open(const std::string& path, int flags, mode_t mode) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  return fd < 0 ? -errno : fd;
}

int CreateTemporary(FileOps* ops, const std::string& tmp, int flags, mode_t mode) {
  const int exclusive = flags | O_CREAT | O_EXCL | O_NOFOLLOW;
  int fd = ops->Open(tmp, exclusive, mode);
  if (fd == -EEXIST && ops->Unlink(tmp) == 0) fd = ops->Open(tmp, exclusive, mode);
  return fd;
}

ssize_t FileOps::PWrite(int fd, const char* data, size_t n, off_t offset) {
  size_t done = 0;
  while (done < n) {
    const ssize_t w = ::pwrite(fd, data + done, n - done, offset + static_cast<off_t>(done));
    if (w < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (w == 0) return -EIO;
    done += static_cast<size_t>(w);
  }
  return static_cast<ssize_t>(n);
}

int FileOps::Truncate(int fd, off_t size) { return ::ftruncate(fd, size) < 0 ? -errno : 0; }

int FileOps::DataSync(int fd) { return ::fdatasync(fd) < 0 ? -errno : 0; }

int FileOps::Close(int fd) { return ::close(fd) < 0 ? -errno : 0; }

int FileOps::Rename(const std::string& from, const std::string& to) {
  return ::rename(from.c_str(), to.c_str()) < 0 ? -errno : 0;
}

int FileOps::Unlink(const std::string& path) { return ::unlink(path.c_str()) < 0 ? -errno : 0; }

int FileOps::MakeDir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0) return 0;
  if (errno != EEXIST) return -errno;
  return ::chmod(path.c_str(), mode) < 0 ? -errno : 0;
}

int FileOps::SyncDir(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -errno;
  const int rc = ::fsync(fd) < 0 ? -errno : 0;
  ::close(fd);
  return rc;
}

FileOps* DefaultFileOps() {
  static FileOps* const ops = new FileOps();
  return ops;
}

absl::Status FileOpStatus(int64_t result, const std::string& what) {
  if (result >= 0) return absl::OkStatus();
  return absl::ErrnoToStatus(static_cast<int>(-result), what);
}

}  // namespace shixin::audit
