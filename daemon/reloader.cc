#include "daemon/reloader.h"

#include <algorithm>
#include <ctime>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/dataset.h"
#include "core/snapshot_file.h"
#include "daemon/log.h"
#include "daemon/notify.h"

namespace shixin {
namespace {

// The skipped lines logged per load; the rest are counted.
constexpr size_t kLoggedErrors = 20;

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

// Returns "N subjects (...), ...; catalog ID; loaded in T", before `d` is published.
std::string Describe(const Dataset& d, absl::Duration took) {
  const SnapshotInfo& info = d.snapshot->info();
  return absl::StrFormat(
      "%d subjects (%d persons, %d organizations), %d cases, %d relations; catalog %s; "
      "loaded in %s",
      info.subjects, info.persons, info.organizations, info.cases, info.relations, d.catalog.id(),
      absl::FormatDuration(absl::Trunc(took, absl::Milliseconds(1))));
}

// Maps and verifies the snapshot file of `source`, compiled against `catalog`.
absl::StatusOr<std::unique_ptr<Dataset>> OpenSnapshot(const DatasetSource& source,
                                                      Catalog catalog) {
  absl::StatusOr<std::unique_ptr<const Snapshot>> snapshot =
      OpenSnapshotFile(source.snapshot, catalog.fingerprint(), nullptr, source.verify_threads);
  if (!snapshot.ok()) {
    return absl::Status(snapshot.status().code(),
                        absl::StrFormat("snapshot %s", snapshot.status().message()));
  }
  if ((*snapshot)->info().subjects == 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("snapshot %s: the list is empty", source.snapshot));
  }
  auto dataset = std::make_unique<Dataset>();
  dataset->snapshot = *std::move(snapshot);
  dataset->catalog = std::move(catalog);
  dataset->source_time = dataset->snapshot->info().source_time;
  dataset->data_source = source.snapshot;
  return dataset;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Dataset>> LoadDataset(const DatasetSource& source) {
  absl::StatusOr<Catalog> catalog = Catalog::LoadFile(source.catalog_path);
  if (!catalog.ok()) {
    return absl::Status(catalog.status().code(),
                        absl::StrFormat("catalog: %s", catalog.status().message()));
  }
  if (!source.snapshot.empty()) return OpenSnapshot(source, *std::move(catalog));
  LoadReport report;
  absl::StatusOr<std::unique_ptr<const Snapshot>> snapshot =
      LoadDataDir(source.data_dir, LoadOptions{source.max_errors}, &report);
  if (!snapshot.ok()) {
    return absl::Status(
        snapshot.status().code(),
        absl::StrFormat("data dir %s: %s", source.data_dir, snapshot.status().message()));
  }
  for (size_t i = 0; i < report.first_errors.size() && i < kLoggedErrors; ++i) {
    const LoadError& e = report.first_errors[i];
    LogWarning("skipped %s:%d: %s", e.file, e.line, e.reason);
  }
  if (report.errors > kLoggedErrors) {
    LogWarning("skipped %d bad lines in all (max_errors %d)", report.errors, source.max_errors);
  }
  // An empty list would answer "unlisted" for everyone: never serve one by accident.
  if ((*snapshot)->info().subjects == 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "data dir %s: the list is empty (no valid record in %s)", source.data_dir, kDebtorsFile));
  }
  auto dataset = std::make_unique<Dataset>();
  dataset->snapshot = *std::move(snapshot);
  dataset->catalog = *std::move(catalog);
  dataset->source_time = dataset->snapshot->info().source_time;
  dataset->data_source = source.data_dir;
  return dataset;
}

Reloader::Reloader(DatasetSource source, SnapshotHolder* holder)
    : source_(std::move(source)), holder_(holder) {}

Reloader::~Reloader() { Stop(); }

absl::Status Reloader::LoadFirst() {
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<Dataset>> dataset = LoadDataset(source_);
  if (!dataset.ok()) return dataset.status();
  const std::string what = Describe(**dataset, absl::Now() - start);
  const uint32_t generation = holder_->Publish(*std::move(dataset));
  LogInfo("loaded generation %d: %s", generation, what);
  return absl::OkStatus();
}

void Reloader::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Reloader::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::unique_ptr<Pending> pending;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending = std::move(pending_);
  }
  if (pending != nullptr && pending->done) {
    ReloadResult result{absl::UnavailableError("the daemon is stopping"), holder_->generation(),
                        "the daemon is stopping"};
    std::move(pending->done)(result);
  }
}

bool Reloader::Request(std::string origin, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (busy_ || stopping_) return false;
    busy_ = true;
    pending_ = std::make_unique<Pending>(Pending{std::move(origin), std::move(done)});
  }
  wake_.notify_all();
  return true;
}

void Reloader::Run() {
  for (;;) {
    std::unique_ptr<Pending> pending;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || pending_ != nullptr; });
      if (stopping_) return;
      pending = std::move(pending_);
    }
    ReloadResult result = Reload(pending->origin);
    {
      std::lock_guard<std::mutex> lock(mu_);
      busy_ = false;
    }
    if (pending->done) std::move(pending->done)(result);
  }
}

ReloadResult Reloader::Reload(const std::string& origin) {
  const uint32_t serving = holder_->generation();
  LogInfo("reload requested by %s; serving generation %d", origin, serving);
  NotifyReloading(absl::StrFormat("reloading (requested by %s)", origin));
  holder_->SetReloadStatus(
      ReloadStatus{wire::ReloadState::kRunning, Now(), "requested by " + origin});
  const absl::Time start = absl::Now();
  // A reload runs beside the serving threads: it takes at most half of the cores.
  DatasetSource source = source_;
  if (source.verify_threads == 0) {
    source.verify_threads = std::max(1u, std::thread::hardware_concurrency() / 2);
  }
  absl::StatusOr<std::unique_ptr<Dataset>> dataset = LoadDataset(source);
  if (!dataset.ok()) {
    const std::string message = std::string(dataset.status().message());
    LogError("reload failed, generation %d keeps serving: %s", serving, message);
    holder_->SetReloadStatus(ReloadStatus{wire::ReloadState::kFailed, Now(), message});
    NotifyReady(absl::StrFormat("serving generation %d; last reload failed: %s", serving, message));
    return ReloadResult{absl::AbortedError(message), serving, message};
  }
  const std::string what = Describe(**dataset, absl::Now() - start);
  const uint32_t generation = holder_->Publish(*std::move(dataset));
  const std::string message = absl::StrFormat("generation %d: %s", generation, what);
  LogInfo("reloaded %s", message);
  holder_->SetReloadStatus(ReloadStatus{wire::ReloadState::kOk, Now(), message});
  NotifyReady(absl::StrFormat("serving %s", message));
  return ReloadResult{absl::OkStatus(), generation, message};
}

}  // namespace shixin
