// The POSIX file calls the audit writer makes, behind an interface so that tests can inject
// faults (ENOSPC, EIO). Every call returns 0 (or a count / fd) on success and -errno on failure.
//
// Thread safety: the default implementation is stateless and thread-safe; a test's
// implementation must be thread-safe too (the writer calls it from several threads).
#ifndef SHIXIN_AUDIT_FILE_OPS_H_
#define SHIXIN_AUDIT_FILE_OPS_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace shixin::audit {

class FileOps {
 public:
  virtual ~FileOps() = default;
  // open(2); returns the fd.
  virtual int Open(const std::string& path, int flags, mode_t mode);
  // pwrite(2) of all `n` bytes (loops over short writes); returns n.
  virtual ssize_t PWrite(int fd, const char* data, size_t n, off_t offset);
  virtual int Truncate(int fd, off_t size);  // ftruncate(2)
  virtual int DataSync(int fd);              // fdatasync(2)
  virtual int Close(int fd);
  virtual int Rename(const std::string& from, const std::string& to);
  virtual int Unlink(const std::string& path);
  // mkdir(2); an existing directory is success (its mode is set to `mode`).
  virtual int MakeDir(const std::string& path, mode_t mode);
  // fsync(2) of the directory (makes a rename or unlink durable).
  virtual int SyncDir(const std::string& path);
};

// Returns the process-wide POSIX implementation.
FileOps* DefaultFileOps();

// Creates the temporary file `tmp` (NNN.audit.tmp, NNN.marks.tmp: fixed names) for writing with
// `flags`, exclusively and without following a link: a file or symbolic link found there (a
// crash's leftover, or a link planted to have a file elsewhere truncated) is unlinked itself,
// never written through, and the file created anew once. Returns the fd or -errno.
int CreateTemporary(FileOps* ops, const std::string& tmp, int flags, mode_t mode);

// Returns the status of a call that returned `result` (< 0: -errno), naming `what`.
absl::Status FileOpStatus(int64_t result, const std::string& what);

}  // namespace shixin::audit

#endif  // SHIXIN_AUDIT_FILE_OPS_H_
