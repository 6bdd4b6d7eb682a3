#include "cli/list_source.h"

#include <cstdio>
#include <limits>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "cli/commands.h"
#include "core/compaction.h"
#include "core/delta.h"
#include "core/paths.h"
#include "core/snapshot_file.h"
#include "core/validity.h"

namespace shixin {

absl::Status CheckListSource(const Flags& flags) {
  if (!flags.Get("data") == !flags.Get("snapshot")) {
    return absl::InvalidArgumentError(
        "one of --data DIR or --snapshot FILE is required (and --deltas DIR: the list as "
        "shixind serves it)");
  }
  return absl::OkStatus();
}

absl::StatusOr<LoadedList> LoadList(const Flags& flags, uint64_t catalog_fingerprint) {
  const std::optional<std::string> snapshot = flags.Get("snapshot");
  LoadedList list;
  if (snapshot) {
    SHIXIN_ASSIGN_OR_RETURN(list.base, OpenSnapshotFile(*snapshot, catalog_fingerprint, nullptr, 0,
                                                        /*catalog_path=*/""));
  } else {
    SHIXIN_ASSIGN_OR_RETURN(list.base, LoadListToAnswer(flags));
  }
  list.sequence = list.base->info().delta_sequence;
  if (const std::optional<std::string> dir = flags.Get("deltas")) {
    list.deltas = *dir;
    DeltaReport report;
    SHIXIN_ASSIGN_OR_RETURN(
        list.overlay,
        ApplyDeltaDir(*list.base, *dir, &report, std::numeric_limits<uint64_t>::max(), &list.stop,
                      /*keep_listed_at=*/NowSeconds()));
    if (list.overlay != nullptr) list.sequence = list.overlay->sequence();
  }
  return list;
}

namespace {

// Returns what waits and until when: "X and the files after it wait until it is replaced".
std::string Waiting(const LoadedList& list) {
  if (list.stop.gap) {
    return absl::StrFormat("until %s is in place", DeltaFileName(list.sequence + 1));
  }
  return absl::StrFormat("until %s, refused, is replaced (it and the files after it wait)",
                         list.stop.name);
}

}  // namespace

std::string StoppedWarning(const LoadedList& list) {
  return absl::StrFormat(
      "--deltas %s: %s: answered from the list with deltas up to %d, as "
      "shixind answers %s",
      list.deltas, list.stop.status.message(), list.sequence, Waiting(list));
}

void WarnIfStopped(std::string_view command, const LoadedList& list) {
  if (!list.stopped()) return;
  std::fprintf(stderr, "shixin %s: warning: %s\n", std::string(command).c_str(),
               StoppedWarning(list).c_str());
}

absl::Status StoppedError(const LoadedList& list, std::string_view what) {
  const std::string fix =
      list.stop.gap
          ? absl::StrFormat("put %s in place", DeltaFileName(list.sequence + 1))
          : absl::StrFormat("replace %s with a corrected file (shixin delta check checks it)",
                            list.stop.name);
  return absl::FailedPreconditionError(absl::StrFormat(
      "--deltas %s: %s: %s from the deltas up to %d only: the files from %s on may remove "
      "cases it would still show; %s, then run this again",
      list.deltas, list.stop.status.message(), what, list.sequence, list.stop.name, fix));
}

std::string WithDeltaSequence(std::string json, const LoadedList& list) {
  if (list.deltas.empty() || json.empty() || json.back() != '}') return json;
  json.pop_back();
  absl::StrAppend(&json, ",\"delta_sequence\":", list.sequence, "}");
  return json;
}

}  // namespace shixin
