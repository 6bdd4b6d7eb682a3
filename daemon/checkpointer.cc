#include "daemon/checkpointer.h"

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/background.h"
#include "base/thread.h"
#include "daemon/log.h"

namespace shixin {
namespace {

// Returns whether `name` is `base`.tmp. and 8 letters or digits (CreateFileBeside's names).
bool IsTemporaryOf(std::string_view name, std::string_view base) {
  constexpr std::string_view kInfix = ".tmp.";
  constexpr size_t kSuffix = 8;
  if (name.size() != base.size() + kInfix.size() + kSuffix || !name.starts_with(base) ||
      name.substr(base.size(), kInfix.size()) != kInfix) {
    return false;
  }
  return absl::c_all_of(name.substr(base.size() + kInfix.size()), absl::ascii_isalnum);
}

}  // namespace

StaleTemporaries RemoveStaleTemporaries(const std::string& path) {
  const std::filesystem::path target(path);
  const std::string base = target.filename().string();
  StaleTemporaries removed;
  std::error_code error;
  for (std::filesystem::directory_iterator it(target.parent_path(), error), end;
       !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (!IsTemporaryOf(name, base)) continue;
    std::error_code stat_error;
    const std::filesystem::file_status status = it->symlink_status(stat_error);
    if (stat_error || !std::filesystem::is_regular_file(status)) continue;
    const uintmax_t size = it->file_size(stat_error);
    std::error_code remove_error;
    if (!std::filesystem::remove(it->path(), remove_error)) {
      if (removed.error.empty() && remove_error) {
        removed.error = absl::StrCat(it->path().string(), ": ", remove_error.message());
      }
      continue;
    }
    ++removed.files;
    removed.bytes += stat_error ? 0 : size;
    removed.names.push_back(name);
  }
  if (error && removed.error.empty()) {
    removed.error = absl::StrCat(target.parent_path().string(), ": ", error.message());
  }
  return removed;
}

Checkpointer::Checkpointer(std::string path, const SnapshotHolder* holder, absl::Duration interval)
    : path_(std::move(path)), holder_(holder), interval_(interval) {}

Checkpointer::~Checkpointer() { Stop(); }

void Checkpointer::Holds(uint64_t base_version, uint64_t sequence) {
  base_version_ = base_version;
  sequence_ = sequence;
  std::lock_guard<std::mutex> lock(mu_);
  status_.sequence = sequence;
}

absl::Status Checkpointer::Start() {
  absl::StatusOr<std::thread> thread = StartThread("shixind-ckpt", [this] {
    RunInBackground();
    RcuThread rcu;  // reads the serving generation
    Run();
  });
  if (!thread.ok()) return thread.status();
  thread_ = *std::move(thread);
  return absl::OkStatus();
}

void Checkpointer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  hurry_ = true;  // a write under way finishes at the disk's speed
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

CheckpointStatus Checkpointer::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

void Checkpointer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    // A write that began after the stop was asked for is the last one.
    const bool last =
        wake_.wait_for(lock, absl::ToChronoMilliseconds(interval_), [this] { return stopping_; });
    lock.unlock();
    WriteIfChanged();
    lock.lock();
    if (last) return;
  }
}

void Checkpointer::WriteIfChanged() {
  std::shared_ptr<const Snapshot> base;
  std::shared_ptr<const Overlay> overlay;
  int64_t source_time = 0;
  int64_t applied_time = 0;
  std::vector<AppliedDeltaFile> files;
  {
    SnapshotHolder::ReadSection read(*holder_);
    const Dataset* d = read.dataset();
    if (d == nullptr || d->overlay == nullptr) return;
    base = d->snapshot;
    overlay = d->overlay;
    source_time = d->source_time;
    applied_time = d->delta_time;
    files = d->applied_files;
  }
  if (base->info().version == base_version_ && overlay->sequence() == sequence_) return;
  const absl::Time start = absl::Now();
  const absl::Status s = OverlayCheckpoint::Write(*base, *overlay, source_time, applied_time, path_,
                                                  {kBytesPerSecond, &hurry_}, files);
  const absl::Time end = absl::Now();
  if (!s.ok()) {
    LogError("overlay checkpoint not written (the old one stays): %s", std::string(s.message()));
    std::lock_guard<std::mutex> lock(mu_);
    ++status_.failed;
    status_.error = std::string(s.message());
    return;
  }
  base_version_ = base->info().version;
  sequence_ = overlay->sequence();
  std::error_code ec;
  const uintmax_t bytes = std::filesystem::file_size(path_, ec);
  LogInfo("overlay checkpoint %s written: %d subjects at delta %d, %d bytes in %d ms", path_,
          overlay->size(), sequence_, ec ? 0 : bytes, absl::ToInt64Milliseconds(end - start));
  std::lock_guard<std::mutex> lock(mu_);
  ++status_.written;
  status_.sequence = sequence_;
  status_.bytes = ec ? 0 : bytes;
  status_.last_time = absl::ToUnixSeconds(end);
  status_.last_seconds = absl::ToDoubleSeconds(end - start);
  status_.error.clear();
}

}  // namespace shixin
