// FileData: the bytes of a whole file, memory-mapped when it is a regular file (a national list
// is several GB, an audit segment tens of MB: mapping costs no copy and no heap), read into
// memory otherwise (empty files, files that cannot be mapped). Opening never blocks on a FIFO
// (core/paths.h OpenRegularFile).
//
// Thread safety: data() may be read from many threads; Open() needs exclusive access.
#ifndef SHIXIN_CORE_FILE_DATA_H_
#define SHIXIN_CORE_FILE_DATA_H_

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
  // Returns the file's bytes; valid while this lives.
  std::string_view data() const { return data_; }

 private:
  bool Map(int fd);
  absl::Status Read(int fd, const std::string& path);

  void* map_ = nullptr;
  std::string owned_;
  std::string_view data_;
};

}  // namespace shixin

#endif  // SHIXIN_CORE_FILE_DATA_H_
