#include "core/paths.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <string_view>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/allocator.h"
#include "base/status_macros.h"
#include "core/block_checksum.h"

namespace shixin {
namespace {

constexpr char kCatalogFile[] = "measures/hegang-2018.json";
constexpr char kCalendarDir[] = "calendar";

}  // namespace

const char* FileTypeName(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a file";
}

std::string ShippedDataPath(const std::string& exe, std::string_view relative) {
  if (exe.empty()) return absl::StrCat(SHIXIN_INSTALL_DATA_DIR, "/shixin/", std::string(relative));
  const std::filesystem::path bin = std::filesystem::path(exe).parent_path();
  const std::filesystem::path installed = bin.parent_path() / "share/shixin" / relative;
  std::error_code ec;
  if (std::filesystem::exists(installed, ec)) return installed.string();
  // The build tree's binaries (tests, make run) read the source tree's data, which is not
  // installed there; any other binary is installed or copied, and the source tree may be a
  // mutable checkout or absent on this host.
  if (std::filesystem::equivalent(bin, SHIXIN_BUILD_BIN_DIR, ec)) {
    return absl::StrCat(SHIXIN_SOURCE_DIR, "/data/", std::string(relative));
  }
  return installed.string();
}

namespace {

// Returns the path of the running binary, or "" if /proc does not say.
std::string RunningBinary() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.string();
}

}  // namespace

std::string DefaultCatalogPath() { return ShippedDataPath(RunningBinary(), kCatalogFile); }

std::string DefaultCalendarDir() { return ShippedDataPath(RunningBinary(), kCalendarDir); }

absl::StatusOr<int> OpenRegularFile(const std::string& path, Links links) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY |
                                          (links == Links::kRefuse ? O_NOFOLLOW : 0));
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot open"));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    return absl::ErrnoToStatus(error, absl::StrCat(path, ": cannot open"));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": not a regular file (", FileTypeName(st.st_mode), ")"));
  }
  // Reads of a regular file never block for lack of data; clear the flag all the same.
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

void FileBytes::Free::operator()(char* p) const { FreeBulk(p); }

FileBytes FileBytes::Copy(std::string_view text) {
  FileBytes bytes;
  bytes.Reserve(text.size());
  if (!text.empty()) std::memcpy(bytes.data_.get(), text.data(), text.size());
  bytes.size_ = text.size();
  return bytes;
}

void FileBytes::Reserve(size_t capacity) {
  if (capacity <= capacity_ && data_ != nullptr) return;
  std::unique_ptr<char[], Free> grown(
      static_cast<char*>(AllocateBulk(std::max<size_t>(capacity, 1))));
  if (grown == nullptr) std::abort();  // as operator new without exceptions
  if (size_ > 0) std::memcpy(grown.get(), data_.get(), size_);
  data_ = std::move(grown);
  capacity_ = capacity;
}

absl::StatusOr<FileBytes> ReadOpenFile(int fd, const std::string& path, size_t max_bytes) {
  const auto too_large = [&] {
    return absl::ResourceExhaustedError(absl::StrCat(path, ": more than ", max_bytes, " bytes"));
  };
  // Read straight into the buffer, sized from the file's size and position (one byte more, so
  // that the end is seen without growing), growing it only if the file grows meanwhile.
  struct stat st {};
  const off_t position = ::lseek(fd, 0, SEEK_CUR);
  size_t expected = 0;
  if (::fstat(fd, &st) == 0 && position >= 0 && st.st_size > position) {
    expected = static_cast<size_t>(st.st_size - position);
  }
  if (expected > max_bytes) return too_large();
  // One byte past the limit is read, so that reaching it is told from passing it.
  const size_t most = max_bytes == std::numeric_limits<size_t>::max() ? max_bytes : max_bytes + 1;
  FileBytes content;
  content.Reserve(expected + 1);
  for (;;) {
    if (content.size_ == content.capacity_) {
      content.Reserve(std::min(std::max<size_t>(2 * content.capacity_, 1 << 16), most));
    }
    const ssize_t n =
        ::read(fd, content.data_.get() + content.size_, content.capacity_ - content.size_);
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat(path, ": read"));
    content.size_ += static_cast<size_t>(n);
    if (content.size_ > max_bytes) return too_large();
  }
  return content;
}

absl::StatusOr<std::string> ReadRegularFile(const std::string& path, size_t max_bytes,
                                            Links links) {
  absl::StatusOr<int> fd = OpenRegularFile(path, links);
  if (!fd.ok()) return fd.status();
  absl::StatusOr<FileBytes> content = ReadOpenFile(*fd, path, max_bytes);
  ::close(*fd);
  if (!content.ok()) return content.status();
  return std::string(content->view());
}

namespace {

// Returns a new name for a file beside `path`: `path`.tmp. and 8 random letters or digits,
// unguessable beforehand.
absl::StatusOr<std::string> NameBeside(const std::string& path) {
  constexpr char kLetters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  unsigned char random[8] = {};
  if (::getrandom(random, sizeof(random), 0) != sizeof(random)) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot create a file beside ", path));
  }
  std::string name = path + ".tmp.";
  for (const unsigned char byte : random) name += kLetters[byte % (sizeof(kLetters) - 1)];
  return name;
}

// Returns the directory of `path`, as open() takes it.
std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash + 1);
}

// Opens a new file without a name in `dir` (O_TMPFILE), for writing, with permissions `mode`
// less the umask; returns -1 where the file system or kernel has none (EOPNOTSUPP, EISDIR), or
// where the file could not be given a name later (no /proc), or on any other error, which the
// named file's creation then reports.
int OpenUnnamedIn(const std::string& dir, mode_t mode) {
  if (::access("/proc/self/fd", X_OK) != 0) return -1;
  return ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
}

// Gives the unnamed file `fd` the name `*name` beside `path`, or, if that is taken, another
// NameBeside() (set in `*name`). The link is made exclusively: a file or link planted at the
// name is left as it is.
absl::Status LinkBeside(int fd, const std::string& path, std::string* name) {
  const std::string self = absl::StrCat("/proc/self/fd/", fd);
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string candidate = *name;
    if (attempt > 0) {
      SHIXIN_ASSIGN_OR_RETURN(candidate, NameBeside(path));
    }
    if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, candidate.c_str(), AT_SYMLINK_FOLLOW) == 0) {
      *name = std::move(candidate);
      return absl::OkStatus();
    }
    if (errno != EEXIST) {
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", candidate));
    }
  }
  return absl::AlreadyExistsError(absl::StrCat("cannot create a temporary file beside ", path));
}

}  // namespace

absl::StatusOr<int> CreateFileBeside(const std::string& path, mode_t mode, std::string* name) {
  // O_EXCL: a file or symbolic link planted at the name is never opened (nor followed), and
  // the file is this process's own; the random suffix makes the name unguessable beforehand.
  for (int attempt = 0; attempt < 100; ++attempt) {
    SHIXIN_ASSIGN_OR_RETURN(std::string candidate, NameBeside(path));
    const int fd = ::open(candidate.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
    if (fd >= 0) {
      *name = std::move(candidate);
      return fd;
    }
    if (errno != EEXIST) {
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", candidate));
    }
  }
  return absl::AlreadyExistsError(absl::StrCat("cannot create a temporary file beside ", path));
}

namespace {

// Returns what the chain of symbolic links starting at `link` ends at: the first name that is
// no link (here: one not there). FailedPrecondition naming `link` for a loop or 40 levels.
absl::StatusOr<std::filesystem::path> EndOfLinks(const std::string& link) {
  std::filesystem::path at = link;
  for (int level = 0; level < 40; ++level) {
    struct stat st;
    if (::lstat(at.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return at;
    std::error_code error;
    std::filesystem::path next = std::filesystem::read_symlink(at, error);
    if (error) {
      return absl::FailedPreconditionError(absl::StrCat(at.string(), ": ", error.message()));
    }
    at = next.is_relative() ? at.parent_path() / next : next;
  }
  return absl::FailedPreconditionError(
      absl::StrCat(link, ": more than 40 symbolic links in a chain (a loop?)"));
}

// Returns the descriptor `path` names (/dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N),
// if it names one.
std::optional<int> DescriptorNamed(std::string_view path) {
  if (path == "/dev/stdout") return 1;
  if (path == "/dev/stderr") return 2;
  for (const std::string_view prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    if (!path.starts_with(prefix)) continue;
    int fd = 0;
    const std::string_view digits = path.substr(prefix.size());
    if (digits.empty() || digits.size() > 9) return std::nullopt;
    for (const char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      fd = fd * 10 + (c - '0');
    }
    return fd;
  }
  return std::nullopt;
}

// Returns the file WriteFileAtomically() replaces for `given`: the end of the chain of links
// there (the file a dangling one names), else `given`.
absl::StatusOr<std::string> FileToReplace(const std::string& given) {
  struct stat lst;
  if (::lstat(given.c_str(), &lst) != 0 || !S_ISLNK(lst.st_mode)) return given;
  std::error_code error;
  std::filesystem::path target = std::filesystem::canonical(given, error);
  if (error) {
    // A dangling link, or a chain of them ("current" -> a link -> a file not there yet): the
    // file the last link names is created and every link stays one.
    SHIXIN_ASSIGN_OR_RETURN(target, EndOfLinks(given));
  }
  return target.string();
}

// WriteFileAtomically(), or WriteStateFile() if `regular_only`.
absl::Status Replace(const std::string& given,
                     absl::FunctionRef<absl::Status(int fd, const std::string& tmp)> write,
                     mode_t mode, bool regular_only) {
  struct stat st;
  if (const std::optional<int> named = DescriptorNamed(given); named && !regular_only) {
    // `-o /dev/stdout >> log`: written through the descriptor itself (its offset, O_APPEND),
    // never by replacing the file behind it (the log lost its content) nor reopening it.
    const int fd = ::fcntl(*named, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", given));
    absl::Status s = write(fd, given);
    if (::close(fd) != 0 && s.ok()) s = absl::ErrnoToStatus(errno, given);
    return s;
  }
  if (::stat(given.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (regular_only) {
      return absl::FailedPreconditionError(absl::StrCat(
          given, ": not a regular file (", FileTypeName(st.st_mode), "): not written"));
    }
    // A device, a FIFO, /dev/stdout: there is nothing to replace; write through it.
    if (S_ISDIR(st.st_mode)) return absl::FailedPreconditionError(given + " is a directory");
    // O_NONBLOCK: a FIFO nobody reads fails (ENXIO) instead of waiting for a reader, forever.
    const int fd = ::open(given.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", given));
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);  // writes wait for the reader
    absl::Status s = write(fd, given);
    if (::close(fd) != 0 && s.ok()) s = absl::ErrnoToStatus(errno, given);
    return s;
  }
  // A symbolic link stays one: its target is replaced.
  SHIXIN_ASSIGN_OR_RETURN(const std::string path, FileToReplace(given));
  // Written unnamed where the file system allows (O_TMPFILE) and named only once whole and
  // fsync'ed: a process killed while writing (a compile of GBs) leaves nothing behind.
  const std::string dir = DirectoryOf(path);
  std::string tmp;  // the file's name, once it has one; before, the name it is to have
  int fd = OpenUnnamedIn(dir, mode);
  const bool unnamed = fd >= 0;
  if (unnamed) {
    absl::StatusOr<std::string> name = NameBeside(path);
    if (!name.ok()) {
      ::close(fd);
      return name.status();
    }
    tmp = *std::move(name);
  } else {
    SHIXIN_ASSIGN_OR_RETURN(fd, CreateFileBeside(path, mode, &tmp));
  }
  absl::Status s = write(fd, tmp);
  if (s.ok() && ::fsync(fd) != 0) s = absl::ErrnoToStatus(errno, absl::StrCat(tmp, ": fsync"));
  bool named = !unnamed;
  if (s.ok() && unnamed) {
    s = LinkBeside(fd, path, &tmp);
    named = s.ok();
  }
  if (::close(fd) != 0 && s.ok()) s = absl::ErrnoToStatus(errno, tmp);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = absl::ErrnoToStatus(errno, absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  if (!s.ok()) {
    if (named) ::unlink(tmp.c_str());  // never a name this call did not give
    return s;
  }
  // Make the rename durable too.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

// Gives the open file `fd` (`own`: its fstat) the permission bits `mode` and the group
// `group`. The group bits are for that group only: where the file cannot have it (nullopt, or
// this process may not chown to it: not root, not a member), they are dropped, so that the group
// the file has (its creator's) gets none of them.
absl::Status SetGroupAndMode(int fd, const struct stat& own, std::optional<gid_t> group,
                             mode_t mode, const std::string& name) {
  if (!group || (*group != own.st_gid && ::fchown(fd, static_cast<uid_t>(-1), *group) != 0)) {
    mode &= ~mode_t{070};
  }
  if (::fchmod(fd, mode) != 0) return absl::ErrnoToStatus(errno, absl::StrCat(name, ": chmod"));
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckOutputPath(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("-o: empty file name");
  if (DescriptorNamed(path)) return absl::OkStatus();
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) return absl::FailedPreconditionError(path + " is a directory");
    return absl::OkStatus();  // a device or FIFO: written through
  }
  SHIXIN_ASSIGN_OR_RETURN(const std::string file, FileToReplace(path));
  const std::string dir = DirectoryOf(file);
  const std::string shown =
      dir.size() > 1 && dir.back() == '/' ? dir.substr(0, dir.size() - 1) : dir;
  if (::stat(dir.c_str(), &st) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("directory ", shown, " (of ", path, ")"));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(shown, " (of ", path, ") is not a directory"));
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("directory ", shown, " (of ", path,
                                                   "): no new file can be made in it"));
  }
  return absl::OkStatus();
}

bool IsWrittenThrough(const std::string& path) {
  if (DescriptorNamed(path)) return true;
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

absl::Status WriteFileAtomically(
    const std::string& path, absl::FunctionRef<absl::Status(int fd, const std::string& tmp)> write,
    mode_t mode) {
  return Replace(path, write, mode, /*regular_only=*/false);
}

absl::Status WriteStateFile(const std::string& path,
                            absl::FunctionRef<absl::Status(int fd, const std::string& tmp)> write,
                            mode_t mode) {
  return Replace(path, write, mode, /*regular_only=*/true);
}

absl::Status NarrowAccessTo(int fd, const std::vector<std::string>& sources,
                            const std::string& name) {
  struct stat own {};
  if (::fstat(fd, &own) != 0) return absl::ErrnoToStatus(errno, absl::StrCat(name, ": fstat"));
  mode_t mode = own.st_mode & 07777;
  std::optional<gid_t> group;
  bool one_group = true;
  for (const std::string& source : sources) {
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0) continue;
    mode &= st.st_mode & 0777;
    if (group && *group != st.st_gid) one_group = false;
    group = st.st_gid;
  }
  if (!group) return absl::OkStatus();
  return SetGroupAndMode(fd, own, one_group ? group : std::nullopt, mode, name);
}

absl::Status KeepAccessOf(int fd, const std::string& existing, const std::string& name) {
  struct stat old {};
  if (::stat(existing.c_str(), &old) != 0) {
    if (errno == ENOENT) return absl::OkStatus();  // a new file: the mode it was created with
    return absl::ErrnoToStatus(errno, absl::StrCat(existing, ": stat"));
  }
  if (!S_ISREG(old.st_mode)) return absl::OkStatus();  // written through, not replaced
  struct stat own {};
  if (::fstat(fd, &own) != 0) return absl::ErrnoToStatus(errno, absl::StrCat(name, ": fstat"));
  // Only root may give a file away; anyone else writes a file of their own, as before.
  if (old.st_uid != own.st_uid && ::fchown(fd, old.st_uid, static_cast<gid_t>(-1)) == 0) {
    own.st_uid = old.st_uid;
  }
  return SetGroupAndMode(fd, own, old.st_gid, old.st_mode & 0777, name);
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view content, mode_t mode) {
  return WriteFileAtomically(
      path,
      [&](int fd, const std::string& tmp) {
        return WriteAll(fd, content.data(), content.size())
                   ? absl::OkStatus()
                   : absl::ErrnoToStatus(errno, absl::StrCat(tmp, ": write"));
      },
      mode);
}

}  // namespace shixin
