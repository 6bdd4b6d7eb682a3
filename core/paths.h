// Where shixin finds the files it ships (the measure catalog, installed under
// <prefix>/share/shixin/measures/ beside the binaries' <prefix>/bin/, or in the source tree for
// the build tree's own binaries),
// and how it opens the files it reads: regular files only, without ever blocking on a FIFO or
// a device put at a configured path (a reload must not hang on one).
//
// Thread safety: the functions read the environment and the file system; they are reentrant.
#ifndef SHIXIN_CORE_PATHS_H_
#define SHIXIN_CORE_PATHS_H_

#include <sys/types.h>

#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace shixin {

// Returns the catalog used when none is configured: ShippedDataPath() of the running binary
// (/proc/self/exe) for measures/hegang-2018.json. The file need not exist; loading it reports
// that, naming it.
std::string DefaultCatalogPath();

// Returns the holiday calendar directory used when none is configured (the report's due
// dates): ShippedDataPath() of the running binary for calendar. It need not exist.
std::string DefaultCalendarDir();

// Returns where the binary at `exe` finds the shipped data `relative` (a path under data/ of the
// source tree, as "measures/hegang-2018.json"): the installed copy,
// <exe's directory>/../share/shixin/RELATIVE, if it exists; else, for a binary of this build
// tree (`exe` in the build's bin/, fixed at compile time), the source tree's data/RELATIVE;
// else the installed path all the same, so that an installed or copied binary without its data
// fails naming the path it expected, never reading a build machine's checkout. An empty `exe`
// (no /proc) is taken as installed under the configured prefix.
std::string ShippedDataPath(const std::string& exe, std::string_view relative);

// Returns what the file type of `mode` (stat's st_mode) is, for messages: "a regular file",
// "a directory", "a FIFO", "a character device", "a block device", "a socket", "a symbolic link".
const char* FileTypeName(mode_t mode);

// Opens `path` (following symbolic links) for reading, close-on-exec, and checks that it is a
// regular file. The open itself does not block: a FIFO without a writer, a terminal or a
// device is opened non-blocking, recognised with fstat and closed again. Returns the
// descriptor, which the caller closes (blocking again, as for any regular file); NotFound
// "PATH: cannot open: REASON" if it cannot be opened; FailedPrecondition "PATH: not a regular
// file (a FIFO)" (a directory, a character device, ...) for anything else. With
// Links::kRefuse a symbolic link at `path` itself is not followed (a state file another user
// could have replaced by a link): "PATH: cannot open: Too many levels of symbolic links".
enum class Links { kFollow, kRefuse };
absl::StatusOr<int> OpenRegularFile(const std::string& path, Links links = Links::kFollow);

// Returns the whole content of the regular file `path` (as OpenRegularFile() opens it), or its
// errors; Internal "PATH: read: REASON" if reading fails; ResourceExhausted "PATH: more than
// MAX_BYTES bytes" (ReadOpenFile()) for a larger file, never read into memory. Every small file
// of state_dir and of the configuration is read through it (a FIFO or /dev/zero put there must
// neither hang a start nor eat the memory).
absl::StatusOr<std::string> ReadRegularFile(const std::string& path,
                                            size_t max_bytes = std::numeric_limits<size_t>::max(),
                                            Links links = Links::kFollow);

// The bytes of a file read whole. Unlike a std::string they are not zeroed before the read, and
// they come from base/allocator.h's bulk arena, which reuses the memory of the file before
// without faulting it in again: zeroing and faulting in a fresh buffer took a quarter of an
// 8 MB delta file's read and parse on this VM.
class FileBytes {
 public:
  FileBytes() = default;
  // Returns a copy of `text` (tests and callers that hold a string already).
  static FileBytes Copy(std::string_view text);

  std::string_view view() const { return {data_.get(), size_}; }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(char* p) const;
  };
  // Makes room for `capacity` bytes, keeping the first size_.
  void Reserve(size_t capacity);

  std::unique_ptr<char[], Free> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;

  friend absl::StatusOr<FileBytes> ReadOpenFile(int fd, const std::string& path, size_t max_bytes);
};

// Returns what is left of the open file `fd` (read to its end), or Internal "PATH: read:
// REASON" (`path` only names it in the message), or ResourceExhausted "PATH: more than
// MAX_BYTES bytes" if more than `max_bytes` are left: refused from fstat's size before reading,
// or as soon as a file growing while read passes it (at most max_bytes + 1 bytes are held).
// Leaves `fd` open.
absl::StatusOr<FileBytes> ReadOpenFile(int fd, const std::string& path,
                                       size_t max_bytes = std::numeric_limits<size_t>::max());

// Creates a new, empty file beside `path` named `path`.tmp.XXXXXXXX (8 random letters), open
// for writing, close-on-exec, with permissions `mode` less the umask, and sets `*name` to its
// name. O_EXCL and O_NOFOLLOW: a file or symbolic link another user put there in advance is never
// opened, and the file is this process's own. Returns the descriptor, which the caller closes,
// or the errno's status "cannot create NAME".
absl::StatusOr<int> CreateFileBeside(const std::string& path, mode_t mode, std::string* name);

// Replaces `path` atomically by what `write` writes: `write(fd, tmp)` fills a new file of this
// process's own (never one found there) and returns its error; the file is then fsync'ed, named
// `tmp` (`path`.tmp.XXXXXXXX), renamed over `path`, and the directory fsync'ed. The file is
// written without a name in `path`'s directory (O_TMPFILE; `tmp` is the name it is to have) and
// linked only once whole, so a process killed while writing leaves nothing behind; where the
// file system has no unnamed files, it is created as `tmp` (CreateFileBeside()) and a kill
// leaves that. `path` then has permissions `mode` less the umask (0600 for a file only the
// service user may read), whatever the file it replaces had. Returns `write`'s error or the
// file system's, naming the file; `path` is then unchanged and the temporary file gone. A
// symbolic link's target is replaced so (the end of a chain of links: every link stays one; a
// loop is FailedPrecondition). A descriptor's name (/dev/stdout, /dev/stderr, /dev/fd/N,
// /proc/self/fd/N) is written through that descriptor, at its offset and with its O_APPEND
// (`-o /dev/stdout >> log` appends to the log, never replaces it); a device or FIFO is written
// through, as it cannot be replaced (opened non-blocking: a FIFO nobody reads is "cannot open
// ...: No such device or address", not a hang); a directory is FailedPrecondition. `write`
// must write through `fd`, not reopen it by name.
absl::Status WriteFileAtomically(
    const std::string& path, absl::FunctionRef<absl::Status(int fd, const std::string& tmp)> write,
    mode_t mode = 0644);

// Checks, before any work, that WriteFileAtomically() can write `path` (an -o FILE):
// InvalidArgument "-o: empty file name"; FailedPrecondition "PATH is a directory"; the errno's
// status naming the directory the file would be made in ("directory /x (of /x/y.csv): No such
// file or directory", "... no new file can be made in it: Permission denied") if it is
// missing or not writable. A device, FIFO or descriptor's name is fine.
absl::Status CheckOutputPath(const std::string& path);

// Returns whether WriteFileAtomically() would write through `path` (a descriptor's name, a
// device or FIFO there now) rather than replace a file: a name that is no place for a file
// beside it either (no "/dev/stdout.manifest.json").
bool IsWrittenThrough(const std::string& path);

// WriteFileAtomically() for a file of state_dir: a FIFO, device or directory at `path` (or
// named by a link there) is FailedPrecondition "PATH: not a regular file (a FIFO): not
// written", never written through (a checkpoint "written" to /dev/null would not persist).
absl::Status WriteStateFile(const std::string& path,
                            absl::FunctionRef<absl::Status(int fd, const std::string& tmp)> write,
                            mode_t mode = 0600);
// Gives the open file `fd` (named `name` in messages) no more access than each of `sources`
// has: its permission bits narrowed to those all of them have, its group set to theirs. Where
// the group cannot be theirs (they differ, or this process may not chown to it: not root, not
// a member), the group bits are dropped instead. A source that does not exist is skipped.
// Returns the errno's status of fstat or fchmod, naming `name`.
absl::Status NarrowAccessTo(int fd, const std::vector<std::string>& sources,
                            const std::string& name);
// Gives the open file `fd` (named `name` in messages), which is to replace the regular file
// `existing`, that file's owner (where this process may chown: root), group and permission bits,
// which the admin chose (root:shixin 0640 for a file a dynamic user reads through its group).
// The group is set as NarrowAccessTo() sets it: where it cannot be the old file's, the group
// bits are dropped. Nothing is changed if `existing` does not exist or is no regular file.
// Returns the errno's status of stat, fstat or fchmod, naming the file.
absl::Status KeepAccessOf(int fd, const std::string& existing, const std::string& name);

// WriteFileAtomically() of the bytes `content`.
absl::Status WriteFileAtomically(const std::string& path, std::string_view content,
                                 mode_t mode = 0644);

}  // namespace shixin

#endif  // SHIXIN_CORE_PATHS_H_
