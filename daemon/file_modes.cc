#include "daemon/file_modes.h"

#include <dirent.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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

// A file or directory of state_dir that its group or others may use in any way.
struct LooseEntry {
  std::string path;
  mode_t mode = 0;  // st_mode & 07777
  bool dir = false;
};

// Returns node_id, the audit directory and every file in it (segments, marks: every subject
// asked; whoever can write them can rewrite records and recompute the seals) that their group
// or others have any access to, by path. Links are not followed; what cannot be stat'ed is left
// out.
std::vector<LooseEntry> LooseStateEntries(const std::string& state_dir) {
  std::vector<LooseEntry> loose;
  const auto check = [&loose](const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || (st.st_mode & 077) == 0) return;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return;
    loose.push_back({path, static_cast<mode_t>(st.st_mode & 07777), S_ISDIR(st.st_mode)});
  };
  check(state_dir + "/node_id");
  const std::string audit = state_dir + "/audit";
  check(audit);
  if (DIR* d = ::opendir(audit.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
        check(audit + "/" + e->d_name);
      }
    }
    ::closedir(d);
  }
  std::sort(loose.begin(), loose.end(),
            [](const LooseEntry& a, const LooseEntry& b) { return a.path < b.path; });
  return loose;
}

}  // namespace

std::string TightenStateDirModes(const std::string& state_dir) {
  const std::vector<LooseEntry> loose = LooseStateEntries(state_dir);
  if (loose.empty()) return "";
  std::vector<std::string> changed, failed;
  for (const LooseEntry& e : loose) {
    const auto mode = static_cast<mode_t>(e.mode & 0700);
    if (::chmod(e.path.c_str(), mode) == 0) {
      changed.push_back(absl::StrFormat("%s %04o", e.path, e.mode));
    } else {
      failed.push_back(absl::StrFormat("%s (%04o): %s", e.path, e.mode, std::strerror(errno)));
    }
  }
  std::string line = absl::StrFormat(
      "state_dir %s: %u of node_id, the audit directory and its files were open to their group "
      "or others",
      state_dir, loose.size());
  if (!changed.empty()) {
    constexpr size_t kNamed = 3;  // the rest are alike (a whole restored directory)
    absl::StrAppend(
        &line, "; took that access away (files 0600, directory 0700) from ", changed.size(), ": ",
        absl::StrJoin(
            changed.begin(),
            changed.begin() + static_cast<std::ptrdiff_t>(std::min(kNamed, changed.size())), ", "),
        changed.size() > kNamed ? ", ..." : "");
  }
  if (!failed.empty()) {
    absl::StrAppend(&line, "; could not change ", absl::StrJoin(failed, ", "),
                    ": chmod go= them as their owner");
  }
  return line;
}

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
    if (const std::vector<LooseEntry> loose = LooseStateEntries(config.state_dir); !loose.empty()) {
      problems.push_back(absl::StrFormat(
          "%u of state_dir's node_id, audit directory and audit files are open to their group or "
          "others (%s %04o%s)",
          loose.size(), loose[0].path, loose[0].mode, loose.size() > 1 ? ", ..." : ""));
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
      "state_dir and its audit directory 0700, their files 0600, tls_key 0600 or 0640 to a "
      "group of the daemon's)",
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
