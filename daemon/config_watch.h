// What a reload says of the configuration file (`--config`, shixind.toml). shixind reads it
// once, at start: a reload reads the list, the TLS files and the callers file, not it. So that
// an edit is not taken for applied (nor a broken one found only by the next restart), a reload
// names a file changed since start, and whether the next restart would load it.
//
// Thread safety: const methods may be called from any thread.
#ifndef SHIXIN_DAEMON_CONFIG_WATCH_H_
#define SHIXIN_DAEMON_CONFIG_WATCH_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace shixin {

class ConfigWatch {
 public:
  // No configuration file: Note() is always "".
  ConfigWatch() = default;
  // Remembers `text`, the bytes of the file at `path` as read at start.
  ConfigWatch(std::string path, std::string_view text);

  // Returns "" if the file is as it was at start (or there is none); else a sentence for the
  // log and the RELOAD answer: it changed (or cannot be read) and is not applied until the next
  // restart, or the next restart would fail, and why (FILE:LINE: ...).
  std::string Note() const;

 private:
  std::string path_;
  uint64_t digest_ = 0;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_CONFIG_WATCH_H_
