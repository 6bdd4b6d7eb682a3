#include "core/paths.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace shixin {
namespace {

constexpr char kCatalogFile[] = "measures/hegang-2018.json";

}  // namespace

std::string DefaultCatalogPath() {
  if (const char* env = std::getenv("SHIXIN_CATALOG"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path installed =
        exe.parent_path().parent_path() / "share/shixin" / kCatalogFile;
    if (std::filesystem::exists(installed, ec)) return installed.string();
  }
  return std::string(SHIXIN_SOURCE_DIR) + "/data/" + kCatalogFile;
}

}  // namespace shixin
