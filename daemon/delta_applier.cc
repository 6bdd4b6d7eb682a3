#include "daemon/delta_applier.h"

#include <algorithm>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "base/allocator.h"
#include "base/ordered_parallel.h"
#include "core/delta.h"
#include "core/overlay.h"
#include "core/overlay_checkpoint.h"
#include "core/paths.h"
#include "core/prepared_delta.h"
#include "core/validity.h"
#include "daemon/log.h"
#include "xxhash.h"

namespace shixin {
namespace {

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

// The bulk memory faulted in ahead of the next file online: half as much again as the last one
// added, within these bounds (20,000 changes at 10 M add ~16 MiB).
constexpr size_t kMinPrefault = 4 << 20;
constexpr size_t kMaxPrefault = 64 << 20;

// Returns the CPU time the calling thread has used.
absl::Duration ThreadCpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return absl::DurationFromTimespec(ts);
}

// Returns the newest `at` of the delta's changes (0 if none has one).
int64_t NewestAt(const Delta& delta) {
  int64_t newest = 0;
  for (const DeltaChange& c : delta.changes) newest = std::max(newest, c.at);
  return newest;
}

// Returns the source time the file at `path` gives the list when applied at `now`: its mtime,
// but not after its arrival (`ctime`) nor `now`. Warns about an mtime later than that: it would
// keep the list "fresh" until then whether or not another file comes.
int64_t SourceTime(const std::string& path, int64_t mtime, int64_t ctime, int64_t now) {
  const int64_t arrived = ctime > 0 ? std::min(ctime, now) : now;
  if (mtime <= arrived) return mtime;
  LogWarning(
      "delta %s: its mtime %s is after it arrived (%s): the list counts as fresh from its arrival, "
      "not its mtime; check the clock of the host that wrote it",
      path, FormatInstant(mtime), FormatInstant(arrived));
  return arrived;
}

// Returns the version of the file at `path` and its change time (Unix seconds) in `*ctime`,
// in ns in `*ctime_ns` if not null.
FileVersion StatVersion(const std::string& path, int64_t* ctime, int64_t* ctime_ns = nullptr) {
  int64_t ns = 0;
  const FileVersion version = StatFileVersion(path, &ns);
  *ctime = ns / 1000000000;
  if (ctime_ns != nullptr) *ctime_ns = ns;
  return version;
}

// Returns the XXH3-64 of the bytes of the file at `path` if it has `size` of them, else nullopt
// (another file, or one that cannot be read).
std::optional<uint64_t> DigestIfSize(const std::string& path, int64_t size) {
  absl::StatusOr<std::string> bytes = ReadRegularFile(path, static_cast<size_t>(size));
  if (!bytes.ok() || static_cast<int64_t>(bytes->size()) != size) return std::nullopt;
  return XXH3_64bits(bytes->data(), bytes->size());
}

}  // namespace

DeltaApplier::DeltaApplier(std::string dir, uint64_t max_bytes, DeltaSettle* settle)
    : dir_(std::move(dir)), max_bytes_(max_bytes), settle_(settle) {}

size_t DeltaApplier::Apply(Dataset* dataset) { return ApplyFiles(dataset, nullptr); }

size_t DeltaApplier::Apply(Dataset* dataset, PublishFn publish) {
  return ApplyFiles(dataset, &publish);
}

void DeltaApplier::Adopt(const DeltaApplier& fold) {
  const DeltaStatus folded = fold.status();
  refused_path_ = fold.refused_path_;
  refused_version_ = fold.refused_version_;
  for (const auto& [sequence, applied] : fold.applied_versions_) {
    applied_versions_[sequence] = applied;
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const AppliedFile& file : fold.applied_log_) Count(file);
  applied_log_.clear();  // only a fold's are adopted
  status_.refusals += folded.refusals;
  status_.refused_file = folded.refused_file;
  status_.refused_reason = folded.refused_reason;
}

void DeltaApplier::KnowApplied(const DeltaApplier& online) {
  applied_versions_ = online.applied_versions_;
}

bool DeltaApplier::Accepted(const std::string& path, const FileVersion& version,
                            const absl::Status& status) {
  if (status.ok()) return true;
  if (absl::IsUnavailable(status) || absl::IsNotFound(status)) {
    // Being replaced right now: its arrival will ask again.
    LogWarning("delta %s: %s; tried again when it changes", path, status.message());
    return false;
  }
  if (path != refused_path_ || version != refused_version_) {
    std::string reason(status.message());
    if (absl::IsResourceExhausted(status)) {
      absl::StrAppend(&reason,
                      " (max_delta_mb): split it into smaller files, or fold it into a new base "
                      "with shixin compile --deltas");
    }
    LogError("delta refused, it and the files after it wait until it is replaced: %s", reason);
    refused_path_ = path;
    refused_version_ = version;
    std::lock_guard<std::mutex> lock(mu_);
    ++status_.refusals;
    status_.refused_file = path;
    status_.refused_reason = reason;
  }
  return false;
}

void DeltaApplier::Count(const AppliedFile& file) {
  if (file.sequence <= counted_through_) {
    ++status_.replayed_files;
    return;
  }
  counted_through_ = file.sequence;
  ++status_.applied_files;
  status_.applied_changes += file.changes;
  status_.notes += file.notes;
}

int64_t DeltaApplier::Applied(uint64_t sequence, const std::string& path, const Delta& delta,
                              const DeltaReport& report, int64_t now) {
  const int64_t newest = NewestAt(delta);
  const int64_t lag = newest > 0 ? now - newest : 0;
  const AppliedFile file{sequence, report.changes, report.notes.size()};
  applied_log_.push_back(file);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (path == refused_path_) {
      refused_path_.clear();
      status_.refused_file.clear();
      status_.refused_reason.clear();
    }
    Count(file);
    status_.last_delta_time = now;
    // A change dated in the future (a removal that takes effect later) is no lag.
    status_.lag_seconds = std::max<int64_t>(lag, 0);
  }
  return lag;
}

void DeltaApplier::LogApplied(const Delta& delta, const DeltaReport& report, int64_t lag,
                              const Timing& timing) {
  const auto ms = [](absl::Duration d) { return absl::ToDoubleMilliseconds(d); };
  const std::string when = lag >= 0 ? absl::StrFormat("%d s after its newest change", lag)
                                    : absl::StrFormat("its newest change %d s in the future", -lag);
  LogInfo(
      "applied delta %s: %d changes, %d notes, %s; read %.0f ms (cpu %.0f), prepare %.0f ms "
      "(cpu %.0f), apply %.0f ms (cpu %.0f), publish %.0f ms",
      delta.name, report.changes, report.notes.size(), when, ms(timing.read.wall),
      ms(timing.read.cpu), ms(timing.prepare.wall), ms(timing.prepare.cpu), ms(timing.apply.wall),
      ms(timing.apply.cpu), ms(timing.publish));
}

class DeltaApplier::Stopwatch {
 public:
  Stopwatch() : wall_(absl::Now()), cpu_(ThreadCpu()) {}
  // Returns the phase since the last Lap() (or the start) and starts the next.
  Timing::Phase Lap() {
    const absl::Time wall = absl::Now();
    const absl::Duration cpu = ThreadCpu();
    const Timing::Phase phase{wall - wall_, cpu - cpu_};
    wall_ = wall;
    cpu_ = cpu;
    return phase;
  }

 private:
  absl::Time wall_;
  absl::Duration cpu_;
};

DeltaStatus DeltaApplier::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

void DeltaApplier::WarnChangedAfterApplied(const std::vector<DeltaFile>& files,
                                           const Dataset& dataset) {
  // Those a compacted base contains are its own now.
  absl::erase_if(applied_versions_, [&](const auto& entry) {
    return entry.first <= dataset.snapshot->info().delta_sequence;
  });
  // Those applied before a restart, as the overlay checkpoint kept them.
  for (const AppliedDeltaFile& a : dataset.applied_files) {
    applied_versions_.try_emplace(a.sequence,
                                  AppliedVersion{a, FileVersion{a.inode, a.size, a.mtime_ns}});
  }
  for (const DeltaFile& f : files) {
    if (f.sequence > dataset.sequence) break;
    const auto it = applied_versions_.find(f.sequence);
    if (it == applied_versions_.end()) continue;
    const FileVersion now = StatFileVersion(f.path);
    AppliedVersion& known = it->second;
    if (now == known.seen) continue;
    known.seen = now;  // each change once
    const AppliedDeltaFile& applied = known.applied;
    // Touched, or copied elsewhere and back: the same bytes.
    if (DigestIfSize(f.path, applied.size) == applied.digest) continue;
    // A restart without the checkpoint, or a compaction, would read what it holds now.
    const std::string holds = now.size >= 0
                                  ? absl::StrFormat("what it holds now (%d bytes)", now.size)
                                  : std::string("what it holds now (it cannot be read)");
    LogWarning(
        "delta %s changed after it was applied: it was applied as it was at %s (%d bytes, %d "
        "changes) and is not applied again; %s is ignored: push the changes as a new file, the "
        "next sequence",
        f.path, FormatInstant(applied.applied_at), applied.size, applied.changes, holds);
  }
}

std::unique_ptr<OverlayBuilder> DeltaApplier::TakeSpare(const Dataset& dataset) {
  Spare spare = std::move(spare_);
  spare_ = Spare();
  return spare.For(dataset) ? std::move(spare.builder) : nullptr;
}

size_t DeltaApplier::ApplyFiles(Dataset* dataset, const PublishFn* publish) {
  std::vector<std::string> misnamed;
  absl::StatusOr<std::vector<DeltaFile>> files = ListDeltaFiles(dir_, &misnamed);
  for (const std::string& path : misnamed) {
    if (warned_misnamed_.insert(path).second) {
      LogWarning("deltas_dir: %s", MisnamedDeltaWarning(path));
    }
  }
  if (!files.ok()) {
    const std::string error = absl::StrFormat("deltas_dir %s: %s", dir_, files.status().message());
    LogError("%s", error);
    std::lock_guard<std::mutex> lock(mu_);
    status_.error = error;
    status_.sequence = dataset->sequence;
    return 0;
  }
  WarnChangedAfterApplied(*files, *dataset);
  if (settle_ != nullptr) {
    absl::flat_hash_set<std::string> paths;
    for (const DeltaFile& f : *files) paths.insert(f.path);
    settle_->Retain(paths);
  }
  if (!refused_path_.empty() && std::none_of(files->begin(), files->end(), [&](const DeltaFile& f) {
        return f.path == refused_path_;
      })) {
    // The operator removed it: INFO no longer names it (a gap it leaves is reported below).
    LogInfo("delta %s, refused, is gone", refused_path_);
    refused_path_.clear();
    refused_version_ = FileVersion();
    std::lock_guard<std::mutex> lock(mu_);
    status_.refused_file.clear();
    status_.refused_reason.clear();
  }
  {
    // A dataset resumed from the overlay checkpoint: its last file was applied before the
    // restart, at the time the checkpoint kept.
    std::lock_guard<std::mutex> lock(mu_);
    if (status_.last_delta_time == 0) status_.last_delta_time = dataset->delta_time;
    // Nor does this process count the files it holds already (a checkpoint's, a compacted
    // base's) when a reload replays them.
    counted_through_ = std::max(counted_through_, dataset->sequence);
  }
  // Only the files after the dataset's sequence count; those at or below it are skipped. The
  // run of consecutive ones is read ahead in parallel and applied in order (the offline
  // commands stop where this does: ApplyDeltaDir()).
  const DeltaRun following = FollowingDeltas(*files, dataset->sequence);
  const std::span<const DeltaFile> next = following.next;
  const size_t run = following.run;
  struct Read {
    FileVersion version;
    int64_t ctime = 0;  // when it arrived (renamed into place): a touch cannot move it ahead
    bool still_refused = false;
    bool settled = true;  // whole (daemon/delta_settle.h): else it and the files after it wait
    absl::StatusOr<Delta> delta;
    uint64_t digest = 0;     // XXH3-64 of the bytes read
    PreparedDelta prepared;  // the base states of the subjects it names
    Timing timing;
  };
  const std::string refused_path = refused_path_;  // the workers read copies
  const FileVersion refused_version = refused_version_;
  // The overlay the run starts from, kept alive for the workers (publishing replaces it).
  const std::shared_ptr<const Overlay> start = dataset->overlay;
  const Snapshot& base = *dataset->snapshot;
  ChangedEntities changed(base.entity_count());  // what the run's applied files gave a state
  // The cores the workers leave idle (a file online, alone) parse it and prepare its states
  // with them; a file alone is prepared alongside its application, those of a fold ahead.
  const int threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
  const int file_threads =
      std::max(1, threads / static_cast<int>(std::clamp<size_t>(run, 1, threads)));
  const Prepare when = run == 1 ? Prepare::kAlongside : Prepare::kAhead;
  auto read = [&](size_t i) {
    Read r{{}, 0, false, true, absl::UnknownError("not read"), 0, PreparedDelta(), {}};
    int64_t ctime_ns = 0;
    r.version = StatVersion(next[i].path, &r.ctime, &ctime_ns);
    r.still_refused = next[i].path == refused_path && r.version == refused_version;
    const auto settled = [&] {
      return settle_ == nullptr || settle_->Settled(next[i].path, r.version, ctime_ns);
    };
    r.settled = r.still_refused || settled();
    Stopwatch watch;
    if (!r.still_refused && r.settled) {
      r.delta = ReadDelta(next[i].path, file_threads, max_bytes_);
      // Written to while it was read: what was read may be part of it.
      if (settle_ != nullptr && r.delta.ok()) {
        const FileVersion after = StatVersion(next[i].path, &r.ctime, &ctime_ns);
        if (after != r.version) {
          // It waits for its new version to settle (the next arrival reads that if it has).
          r.version = after;
          settled();
          r.settled = false;
        }
      }
    }
    if (r.delta.ok() && r.delta->texts != nullptr) {
      const std::string_view bytes = r.delta->texts->text.view();
      r.digest = XXH3_64bits(bytes.data(), bytes.size());
    }
    r.timing.read = watch.Lap();
    if (r.delta.ok()) {
      r.prepared = PrepareDelta(base, start.get(), *r.delta, &changed, file_threads, when);
    }
    r.timing.prepare = watch.Lap();
    return r;
  };
  std::unique_ptr<OverlayBuilder> builder;  // one table for the files of a fold
  size_t applied = 0;
  size_t built = 0;   // files applied by `builder`
  size_t growth = 0;  // online: the most a file's generation added to the overlay's bytes
  auto apply = [&](size_t i, Read& r) {
    if (r.still_refused || !r.settled) return false;
    Stopwatch watch;  // the table's copy counts in `apply`
    if (builder == nullptr) builder = TakeSpare(*dataset);
    if (builder == nullptr) {
      builder = std::make_unique<OverlayBuilder>(*dataset->snapshot, dataset->overlay.get());
    }
    DeltaReport report;
    builder->KeepListedAt(Now());  // never an empty list (docs/shixind.md, "Deltas")
    const absl::Status status =
        r.delta.ok() ? builder->Apply(*r.delta, &report, &r.prepared) : r.delta.status();
    r.timing.apply = watch.Lap();
    if (!Accepted(next[i].path, r.version, status)) return false;
    changed.Add(r.prepared);
    for (const std::string& note : report.notes) {
      LogLimited(LogKind::kDeltaNote, LogLevel::kWarning, "delta note: %s", note);
    }
    // A change reported late rewrites as-of answers given before it came: logged, as of the
    // file's arrival (its rename into place), so that a replay logs it as its application did.
    // Not one of INFO's notes, which count what the list itself remarked; limited apart from
    // them, so that a backfill's thousands do not hold back the list's own.
    const int64_t arrived = r.ctime > 0 ? std::min(r.ctime, Now()) : Now();
    for (const std::string& note : LateChangeNotes(*r.delta, arrived, report.unchanged)) {
      LogLimited(LogKind::kLateChange, LogLevel::kWarning, "delta note: %s", note);
    }
    ++built;
    dataset->sequence = next[i].sequence;
    ++applied;
    dataset->delta_time = Now();
    const AppliedDeltaFile file{next[i].sequence,   r.version.inode, r.version.size,
                                r.version.mtime_ns, r.digest,        report.changes,
                                dataset->delta_time};
    applied_versions_[next[i].sequence] = {file, r.version};
    dataset->applied_files.push_back(file);
    dataset->source_time = std::max(
        dataset->source_time,
        SourceTime(next[i].path, r.version.mtime_ns / 1000000000, r.ctime, dataset->delta_time));
    // Recorded before the swap: a client that sees the new generation sees it counted.
    const int64_t lag =
        Applied(next[i].sequence, next[i].path, *r.delta, report, dataset->delta_time);
    if (publish != nullptr) {
      const absl::Time t1 = absl::Now();
      const size_t before = dataset->overlay != nullptr ? dataset->overlay->Bytes() : 0;
      dataset->overlay = builder->Finish();
      const size_t after = dataset->overlay->Bytes();
      growth = std::max(growth, after > before ? after - before : 0);
      builder.reset();
      built = 0;
      (*publish)(std::make_unique<Dataset>(*dataset));
      r.timing.publish = absl::Now() - t1;
    }
    LogApplied(*r.delta, report, lag, r.timing);
    return true;
  };
  RunOrdered<Read>(run, threads, 2 * static_cast<size_t>(threads), read, apply);
  if (built > 0) dataset->overlay = builder->Finish();
  if (publish != nullptr && !spare_.For(*dataset)) {
    spare_ = Spare{dataset->snapshot, dataset->overlay,
                   std::make_unique<OverlayBuilder>(*dataset->snapshot, dataset->overlay.get())};
  } else if (publish == nullptr) {
    spare_ = Spare();  // a fold: its dataset replaces the one online application started from
  }
  if (growth > 0) {
    // The next file's entities then need no fresh page faulted in while it is applied.
    PrefaultBulk(std::clamp<size_t>(growth / 2 * 3, kMinPrefault, kMaxPrefault));
  }
  const std::span<const DeltaFile> waiting = next.subspan(applied);
  const bool gap = applied == run && !waiting.empty();
  if (gap) {
    LogLimited(LogKind::kDeltaNote, LogLevel::kError, "%s",
               DeltaGapMessage(dataset->sequence, waiting.front().sequence));
  }
  const uint64_t pending = waiting.size();
  std::lock_guard<std::mutex> lock(mu_);
  status_.error.clear();
  status_.sequence = dataset->sequence;
  status_.pending = pending;
  status_.gap = gap;
  status_.gap_after = gap ? dataset->sequence : 0;
  return applied;
}

}  // namespace shixin
