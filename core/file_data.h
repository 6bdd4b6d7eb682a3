// FileData: the bytes of a whole file, memory-mapped when it is a regular file (a national list
// is several GB, an audit segment tens of MB: mapping costs no copy and no heap, and the pages
// stay reclaimable page cache), read into memory otherwise (empty files, files that cannot be
// mapped). Opening never blocks on a FIFO (core/paths.h OpenRegularFile).
//
// A mapped file truncated by another process while it is read cannot crash the reader: reading
// a page beyond the file's new end raises SIGBUS, and a process-wide handler (installed at the
// first mapping, chaining to the handler before it for any other address) maps zeros over the
// rest of the mapping and records the fault. The reader then sees zeros where the file's bytes
// were; CheckUnchanged() says whether that, or any other change during the read, happened.
//
// Thread safety: data() and CheckUnchanged() may be called from many threads; Open() needs
// exclusive access.
#ifndef SHIXIN_CORE_FILE_DATA_H_
#define SHIXIN_CORE_FILE_DATA_H_

#include <sys/stat.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace shixin {

class FileData {
 public:
  FileData() = default;
  FileData(const FileData&) = delete;
  FileData& operator=(const FileData&) = delete;
  ~FileData();

  // Maps or reads `path`. Returns OpenRegularFile()'s errors (not found, not a regular file)
  // or the read's. REQUIRES: not opened yet.
  absl::Status Open(const std::string& path);
  // Returns the file's bytes; valid while this lives. Bytes of a mapped file truncated since
  // Open() read as zeros (CheckUnchanged() then fails).
  std::string_view data() const { return data_; }

  // Returns OK if data() held the file's bytes as Open() found them so far: no page of the
  // mapping was lost (to a truncation, or an I/O error of the disk) and the file still has the
  // size and modification time it had at Open(). Otherwise Aborted "PATH changed while it was
  // read (truncated from N to M bytes)" (or "grew from N to M bytes", "rewritten in place: its
  // modification time changed"), or DataLoss "PATH: the bytes from offset N on could not be
  // read (an I/O error?)" for a lost page of a file that did not change. Call it after the last
  // read of data() whose result is kept. REQUIRES: Open() succeeded.
  absl::Status CheckUnchanged() const;

 private:
  bool Map();
  absl::Status Read();

  std::string path_;
  int fd_ = -1;            // kept open: CheckUnchanged() looks at the file that was read
  struct stat opened_ {};  // the file at Open()
  void* map_ = nullptr;
  int slot_ = -1;  // in the SIGBUS handler's registry, if mapped
  std::string owned_;
  std::string_view data_;
};

}  // namespace shixin

#endif  // SHIXIN_CORE_FILE_DATA_H_
