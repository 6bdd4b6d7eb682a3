#include "daemon/config_watch.h"

#include <xxhash.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "core/paths.h"
#include "daemon/config.h"

namespace shixin {

ConfigWatch::ConfigWatch(std::string path, std::string_view text)
    : path_(std::move(path)), digest_(XXH3_64bits(text.data(), text.size())) {}

std::string ConfigWatch::Note() const {
  if (path_.empty()) return "";
  absl::StatusOr<std::string> text = ReadConfigFile(path_);
  if (!text.ok()) {
    return absl::StrFormat(
        "the configuration file cannot be read now (%s): the next restart would fail",
        text.status().message());
  }
  if (XXH3_64bits(text->data(), text->size()) == digest_) return "";
  Config config;
  absl::Status s = ParseConfig(*text, path_, &config);
  // Paths are checked too (a callers_file renamed), when the file names the list itself: with
  // the list given by a flag, the file alone is no whole configuration.
  if (s.ok() && (!config.data_dir.empty() || !config.snapshot.empty())) {
    if (config.catalog.empty()) config.catalog = DefaultCatalogPath();
    s = Validate(config);
  }
  if (!s.ok()) {
    return absl::StrFormat("%s changed since start and the next restart would fail: %s", path_,
                           s.message());
  }
  return absl::StrFormat(
      "%s changed since start: a reload does not read it, its changes apply at the next restart",
      path_);
}

}  // namespace shixin
