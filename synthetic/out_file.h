// The generator's output (internal to synthetic/): a buffered file of JSON lines written by hand,
// and the keys of a case in the court's record format.
//
// A 1 MiB buffer per file and a dedicated JSON writer rather than nlohmann::json, which the rest
// of the tree uses: `shixin gen` writes ~1.1 GB per million subjects (~11 GB for the national
// ten million), and nlohmann made `shixin gen --subjects 1000000` take 9.1 s of CPU (one reused
// ordered_json per file, values assigned in place) or 23 s (an object per record) instead of
// 2.9 s, the UTF-8 checks of dump() dominating. The tests check that every line written here is
// what nlohmann::ordered_json::dump() makes of it, byte for byte.
//
// Thread safety: an OutFile belongs to one thread.
#ifndef SHIXIN_SYNTHETIC_OUT_FILE_H_
#define SHIXIN_SYNTHETIC_OUT_FILE_H_

#include <cstddef>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "core/record.h"

namespace shixin::synthetic_internal {

class OutFile {
 public:
  static constexpr size_t kBufferSize = 1 << 20;

  OutFile() : buffer_(new char[kBufferSize]) {}
  ~OutFile();
  OutFile(const OutFile&) = delete;
  OutFile& operator=(const OutFile&) = delete;

  // Creates (or truncates) `path`. Returns the error if it cannot.
  absl::Status Open(const std::string& path);

  // Adds raw text.
  void Add(std::string_view s);
  // Adds `s` as the inside of a JSON string.
  void AddEscaped(std::string_view s);
  // Adds `,"key":"value"` (`{"key":"value"` when `first`).
  void AddField(std::string_view key, std::string_view value, bool first = false);

  // Flushes and closes. Returns any write error seen since Open().
  absl::Status Close();

 private:
  void AddEscape(unsigned char c);
  void Flush();
  void Write(const char* data, size_t n);

  std::string path_;
  FILE* file_ = nullptr;
  std::unique_ptr<char[]> buffer_;
  size_t size_ = 0;
  int error_ = 0;
};

// Adds the keys of case `c` as the court's record has them, in the order of debtors.ndjson
// (`caseCode` first, with `{` when `first`), and `termEnd` ("YYYY-MM-DD") if it has one.
void AddCaseKeys(const CaseInput& c, OutFile* out, bool first);

}  // namespace shixin::synthetic_internal

#endif  // SHIXIN_SYNTHETIC_OUT_FILE_H_
