#include "daemon/delta_applier.h"

#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "core/delta.h"
#include "core/overlay.h"
#include "daemon/log.h"

namespace shixin {
namespace {

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

// Returns the newest `at` of the delta's changes (0 if none has one).
int64_t NewestAt(const Delta& delta) {
  int64_t newest = 0;
  for (const DeltaChange& c : delta.changes) newest = std::max(newest, c.at);
  return newest;
}

}  // namespace

DeltaApplier::DeltaApplier(std::string dir) : dir_(std::move(dir)) {}

size_t DeltaApplier::Apply(Dataset* dataset) { return ApplyFiles(dataset, nullptr); }

size_t DeltaApplier::Apply(Dataset* dataset, PublishFn publish) {
  return ApplyFiles(dataset, &publish);
}

void DeltaApplier::Forget() {
  refused_path_.clear();
  refused_version_ = FileVersion{};
  std::lock_guard<std::mutex> lock(mu_);
  status_.refused_file.clear();
  status_.refused_reason.clear();
}

DeltaStatus DeltaApplier::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

size_t DeltaApplier::ApplyFiles(Dataset* dataset, const PublishFn* publish) {
  absl::StatusOr<std::vector<DeltaFile>> files = ListDeltaFiles(dir_);
  if (!files.ok()) {
    const std::string error = absl::StrFormat("deltas_dir %s: %s", dir_, files.status().message());
    LogError("%s", error);
    std::lock_guard<std::mutex> lock(mu_);
    status_.error = error;
    status_.sequence = dataset->sequence;
    return 0;
  }
  // Only the files after the dataset's sequence count; those at or below it are skipped.
  auto next =
      std::upper_bound(files->begin(), files->end(), dataset->sequence,
                       [](uint64_t sequence, const DeltaFile& f) { return sequence < f.sequence; });
  size_t applied = 0;
  bool gap = false;
  std::string refused_reason;
  for (; next != files->end(); ++next) {
    if (next->sequence != dataset->sequence + 1) {
      gap = true;
      LogLimited(LogKind::kDeltaNote, LogLevel::kError,
                 "delta gap: %s is missing, %s and later wait (applied up to %d)",
                 DeltaFileName(dataset->sequence + 1), DeltaFileName(next->sequence),
                 dataset->sequence);
      break;
    }
    struct stat st;
    FileVersion version;
    if (::stat(next->path.c_str(), &st) == 0) {
      version =
          FileVersion{static_cast<uint64_t>(st.st_ino), static_cast<int64_t>(st.st_size),
                      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
    }
    if (next->path == refused_path_ && version == refused_version_) break;  // still refused
    absl::StatusOr<Delta> delta = ReadDelta(next->path);
    DeltaReport report;
    absl::StatusOr<std::unique_ptr<const Overlay>> overlay =
        delta.ok() ? ApplyDelta(*dataset->snapshot, dataset->overlay.get(), *delta, &report)
                   : absl::StatusOr<std::unique_ptr<const Overlay>>(delta.status());
    if (absl::IsUnavailable(overlay.status()) || absl::IsNotFound(overlay.status())) {
      // Being replaced right now: its arrival will ask again.
      LogWarning("delta %s: %s; tried again when it changes", next->path,
                 overlay.status().message());
      break;
    }
    if (!overlay.ok()) {
      refused_reason = std::string(overlay.status().message());
      if (next->path != refused_path_ || version != refused_version_) {
        LogError("delta refused, it and the files after it wait until it is replaced: %s",
                 refused_reason);
        refused_path_ = next->path;
        refused_version_ = version;
        std::lock_guard<std::mutex> lock(mu_);
        ++status_.refusals;
        status_.refused_file = next->path;
        status_.refused_reason = refused_reason;
      }
      break;
    }
    for (const std::string& note : report.notes) {
      LogLimited(LogKind::kDeltaNote, LogLevel::kWarning, "delta note: %s", note);
    }
    dataset->overlay = *std::move(overlay);
    dataset->sequence = next->sequence;
    dataset->source_time = std::max<int64_t>(dataset->source_time, version.mtime_ns / 1000000000);
    ++applied;
    const int64_t now = Now();
    const int64_t newest = NewestAt(*delta);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (next->path == refused_path_) {
        refused_path_.clear();
        status_.refused_file.clear();
        status_.refused_reason.clear();
      }
      ++status_.applied_files;
      status_.applied_changes += report.changes;
      status_.notes += report.notes.size();
      status_.last_delta_time = now;
      status_.lag_seconds = newest > 0 ? now - newest : 0;
    }
    LogInfo("applied delta %s: %d changes, %d notes, %d s after its newest change", delta->name,
            report.changes, report.notes.size(), newest > 0 ? now - newest : 0);
    if (publish != nullptr) (*publish)(std::make_unique<Dataset>(*dataset));
  }
  const uint64_t pending = static_cast<uint64_t>(files->end() - next);
  std::lock_guard<std::mutex> lock(mu_);
  status_.error.clear();
  status_.sequence = dataset->sequence;
  status_.pending = pending;
  status_.gap = gap;
  status_.gap_after = gap ? dataset->sequence : 0;
  return applied;
}

}  // namespace shixin
