#include "daemon/file_modes.h"

#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace shixin {
namespace {

// Returns "group", "others" or "group and others" for the bits of `mode` that `group_bits` and
// `other_bits` select, or "" if none is set.
std::string Who(mode_t mode, mode_t group_bits, mode_t other_bits) {
  const bool group = (mode & group_bits) != 0;
  const bool others = (mode & other_bits) != 0;
  if (group && others) return "its group and others";
  if (group) return "its group";
  if (others) return "others";
  return "";
}

// Whether this process is in the group `gid` (its own or a supplementary one).
bool InGroup(gid_t gid) {
  if (gid == ::getegid()) return true;
  const int count = ::getgroups(0, nullptr);
  if (count <= 0) return false;
  std::vector<gid_t> groups(static_cast<size_t>(count));
  const int got = ::getgroups(count, groups.data());
  for (int i = 0; i < got; ++i) {
    if (groups[static_cast<size_t>(i)] == gid) return true;
  }
  return false;
}

}  // namespace

std::string LooseFileModesWarning(const Config& config) {
  std::vector<std::string> problems;
  const auto add = [&](const char* key, const std::string& path, const struct stat& st,
                       const std::string& who, const char* what) {
    problems.push_back(
        absl::StrFormat("%s %s is %s by %s (%04o)", key, path, what, who, st.st_mode & 07777));
  };
  struct stat st {};
  if (!config.callers_file.empty() && ::stat(config.callers_file.c_str(), &st) == 0) {
    if (const std::string who = Who(st.st_mode, S_IWGRP, S_IWOTH); !who.empty()) {
      add("callers_file", config.callers_file, st, who, "writable");
    }
    const size_t slash = config.callers_file.rfind('/');
    const std::string dir =
        slash == std::string::npos ? "." : config.callers_file.substr(0, slash + 1);
    struct stat dir_st {};
    if (::stat(dir.c_str(), &dir_st) == 0 && (dir_st.st_mode & S_ISVTX) == 0) {
      if (const std::string who = Who(dir_st.st_mode, S_IWGRP, S_IWOTH); !who.empty()) {
        add("the callers_file's directory", dir, dir_st, who, "writable");
      }
    }
  }
  if (!config.state_dir.empty() && ::stat(config.state_dir.c_str(), &st) == 0) {
    if (const std::string who = Who(st.st_mode, S_IWGRP, S_IWOTH); !who.empty()) {
      add("state_dir", config.state_dir, st, who, "writable");
    }
  }
  if (!config.tls_key.empty() && ::stat(config.tls_key.c_str(), &st) == 0) {
    const mode_t group_bits = InGroup(st.st_gid) ? 0 : S_IRGRP | S_IWGRP;
    if (const std::string who = Who(st.st_mode, group_bits, S_IROTH | S_IWOTH); !who.empty()) {
      add("tls_key", config.tls_key, st, who, "readable or writable");
    }
  }
  if (problems.empty()) return "";
  return absl::StrFormat(
      "loose permissions: %s; keep them to the daemon's user (callers_file 0600 or 0640, "
      "state_dir 0700, tls_key 0600 or 0640 to a group of the daemon's)",
      absl::StrJoin(problems, "; "));
}

absl::Status ApplyCoreDumps(const Config& config) {
  if (config.core_dumps) return absl::OkStatus();
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return absl::ErrnoToStatus(errno, "prctl(PR_SET_DUMPABLE, 0)");
  }
  return absl::OkStatus();
}

}  // namespace shixin
