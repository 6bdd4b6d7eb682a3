#include "daemon/reloader.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/background.h"
#include "base/thread.h"
#include "core/dataset.h"
#include "core/delta.h"
#include "core/snapshot_file.h"
#include "core/validity.h"
#include "daemon/log.h"
#include "daemon/notify.h"
#include "protocol/operator_messages.h"

namespace shixin {
namespace {

// The skipped lines logged per load; the rest are counted.
constexpr size_t kLoggedErrors = 20;

// The missing delta files a message names; the rest are counted.
constexpr size_t kNamedMissingFiles = 5;

// The most rounds a reload's fold runs to catch up with the files that keep landing.
constexpr int kFoldRounds = 4;

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

// Returns "N subjects (...), ...; catalog ID; loaded in T", before `d` is published.
std::string Describe(const Dataset& d, absl::Duration took) {
  const SnapshotInfo& info = d.snapshot->info();
  std::string what = absl::StrFormat(
      "%d subjects (%d persons, %d organizations), %d cases, %d relations; catalog %s; "
      "loaded in %s",
      info.subjects, info.persons, info.organizations, info.cases, info.relations, d.catalog.id(),
      absl::FormatDuration(absl::Trunc(took, absl::Milliseconds(1))));
  if (d.sequence > 0) absl::StrAppendFormat(&what, "; deltas applied up to %d", d.sequence);
  if (d.snapshot_format > 0) {
    absl::StrAppendFormat(&what, "; snapshot format %d", d.snapshot_format);
  }
  if (d.snapshot->history_from() != 0) {  // as-of answers start there at the earliest
    absl::StrAppend(&what, "; history from ", FormatInstant(d.snapshot->history_from()));
  }
  return what;
}

// A source time in the future (a data file's mtime set ahead, the clock of the host that made
// it) would keep the list "fresh" until then, STALE and refuse_stale off: it counts from the
// load instead, and the log says so.
void ClampSourceTime(Dataset* dataset, std::string_view what) {
  const int64_t now = Now();
  if (dataset->source_time <= now) return;
  LogWarning(
      "%s: its source time %s is in the future: the list counts as fresh from its load (%s), "
      "not from then; check the clock of the host that made it",
      what, FormatInstant(dataset->source_time), FormatInstant(now));
  dataset->source_time = now;
}

// Maps and verifies the snapshot file of `source`, compiled against `catalog`.
absl::StatusOr<std::unique_ptr<Dataset>> OpenSnapshot(const DatasetSource& source,
                                                      Catalog catalog) {
  SnapshotFileHeader header;
  absl::StatusOr<std::unique_ptr<const Snapshot>> snapshot = OpenSnapshotFile(
      source.snapshot, catalog.fingerprint(), &header, source.verify_threads, source.catalog_path);
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
  ClampSourceTime(dataset.get(), absl::StrCat("snapshot ", source.snapshot));
  // A compacted base contains the deltas up to its sequence: only later files are replayed.
  dataset->sequence = dataset->snapshot->info().delta_sequence;
  dataset->data_source = source.snapshot;
  dataset->snapshot_format = header.format_version;
  if (header.format_version < kSnapshotFormatVersion) {
    LogWarning(
        "snapshot %s is format %d (this build writes %d): its indexes were built again at open; "
        "compile it again (shixin compile --snapshot FILE -o NEW, or the nightly compaction) to "
        "open it faster",
        source.snapshot, header.format_version, kSnapshotFormatVersion);
  }
  return dataset;
}

// Returns why the delta files after `base` up to `last` cannot all be read again from `dir` (the
// ones missing, named), or "" if they are all there.
std::string MissingDeltaFiles(const std::string& dir, uint64_t base, uint64_t last) {
  if (last <= base) return "";
  absl::StatusOr<std::vector<DeltaFile>> files = ListDeltaFiles(dir);
  if (!files.ok() && !absl::IsNotFound(files.status())) {
    return absl::StrFormat("%s cannot be listed: %s", dir, files.status().message());
  }
  std::vector<std::string> missing;
  uint64_t count = 0;
  size_t i = 0;
  for (uint64_t sequence = base + 1; sequence <= last; ++sequence) {
    if (files.ok()) {
      while (i < files->size() && (*files)[i].sequence < sequence) ++i;
      if (i < files->size() && (*files)[i].sequence == sequence) continue;
    }
    if (++count <= kNamedMissingFiles) missing.push_back(DeltaFileName(sequence));
  }
  if (count == 0) return "";
  std::string names = absl::StrJoin(missing, ", ");
  if (count > missing.size()) absl::StrAppendFormat(&names, " and %d more", count - missing.size());
  return absl::StrFormat("%s %s missing from %s", names, count == 1 ? "is" : "are", dir);
}

// Returns FailedPrecondition unless `d`, with its deltas, lists a subject at `now`. The deltas
// cannot empty it (DeltaApplier refuses the file that would); a base can, its every term run
// out since it was compiled, or an overlay checkpoint of a build without that refusal.
absl::Status CheckNotEmpty(const Dataset& d, int64_t now) {
  if (d.list().AnyListed(now)) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrFormat("%s: the list is empty: none of its %d cases counts at %s%s", d.data_source,
                      d.snapshot->info().cases, FormatInstant(now),
                      d.sequence > d.snapshot->info().delta_sequence
                          ? absl::StrFormat(" with the deltas up to %d applied", d.sequence)
                          : ""));
}

}  // namespace

absl::Status CheckNotGoingBack(const Dataset& loaded, uint64_t served,
                               const std::string& deltas_dir, std::string_view refused_reason) {
  if (loaded.sequence >= served) return absl::OkStatus();
  const std::string first = DeltaFileName(loaded.sequence + 1);
  std::string why;
  if (deltas_dir.empty()) {
    why = "there is no deltas_dir";
  } else if (std::error_code error;
             !std::filesystem::exists(absl::StrCat(deltas_dir, "/", first), error)) {
    why = absl::StrFormat("%s is missing from %s", first, deltas_dir);
  } else {
    why = absl::StrFormat("%s was not applied: %s", first,
                          refused_reason.empty() ? "see the log" : refused_reason);
  }
  return absl::AbortedError(absl::StrFormat(
      "refused: the new list holds the deltas up to %d (its base up to %d) but the serving one "
      "up to %d: it would undo %s to %s, and %s; the old list keeps serving. Put the files "
      "back, or reload a base that contains them (shixin compile --deltas); if going back is "
      "intended: shixin reload --allow-shrink (RELOAD flag ALLOW_SHRINK)",
      loaded.sequence, loaded.snapshot->info().delta_sequence, served, first, DeltaFileName(served),
      why));
}

ListCounts CountsOf(const Dataset& dataset, int64_t now) {
  const SnapshotInfo& info = dataset.snapshot->info();
  ListCounts counts{info.subjects, info.relations};
  if (dataset.overlay == nullptr) return counts;
  const ListView list = dataset.list();
  int64_t subjects = 0;
  int64_t relations = 0;
  dataset.overlay->ForEach([&](const OverlayEntity& e) {
    const SubjectRef now_ref = list.Find(e.id());
    const SubjectRef base_ref{now_ref.base, nullptr};
    const bool in_base = base_ref.found();
    // The header counts every subject the base holds, listed or not: the deltas take one away
    // by unlisting it, and add the subjects they bring (as a compaction of them would hold).
    if (!in_base) {
      ++subjects;
    } else if (list.IsListed(base_ref, now) && !list.IsListed(now_ref, now)) {
      --subjects;
    }
    // A relation is a link of its organisation (and of its person): counted on one side, by
    // what holds at `now` in both states, so that an ended or future role counts on neither.
    if (list.Kind(now_ref) != SubjectKind::kOrganization) return;
    const auto holding = [&](SubjectRef s) {
      int64_t n = 0;
      list.ForEachLink(s,
                       [&](const Id&, Role, Interval valid) { n += valid.Contains(now) ? 1 : 0; });
      return n;
    };
    relations += holding(now_ref) - (in_base ? holding(base_ref) : 0);
  });
  const auto adjusted = [](uint64_t base, int64_t change) {
    return static_cast<uint64_t>(std::max<int64_t>(static_cast<int64_t>(base) + change, 0));
  };
  return ListCounts{adjusted(counts.subjects, subjects), adjusted(counts.relations, relations)};
}

absl::Status CheckShrink(ListCounts serving, ListCounts loaded, double max_shrink) {
  std::vector<std::string> shrunk;
  const auto check = [&](uint64_t before, uint64_t after, const char* what) {
    if (after >= before) return;
    const uint64_t removed = before - after;
    if (static_cast<double>(removed) <= max_shrink * static_cast<double>(before)) return;
    shrunk.push_back(absl::StrFormat(
        "%d %s, %d (%.1f%%) fewer than the %d serving", after, what, removed,
        100.0 * static_cast<double>(removed) / static_cast<double>(before), before));
  };
  check(serving.subjects, loaded.subjects, "subjects");
  check(serving.relations, loaded.relations, "relations");
  if (shrunk.empty()) return absl::OkStatus();
  return absl::AbortedError(absl::StrFormat(
      "refused: the new list has %s, more than max_shrink (%.1f%%); the old list keeps serving. "
      "If the shrink is intended: shixin reload --allow-shrink (RELOAD flag ALLOW_SHRINK), or "
      "raise max_shrink",
      absl::StrJoin(shrunk, " and "), 100.0 * max_shrink));
}

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
  for (size_t i = 0; i < report.first_notes.size() && i < kLoggedErrors; ++i) {
    const LoadError& e = report.first_notes[i];
    LogWarning("note: %s:%d: %s", e.file, e.line, e.reason);
  }
  if (report.notes > kLoggedErrors) LogWarning("%d notes in all", report.notes);
  if (report.duplicates != 0) {
    LogInfo("merged %d lines of %s that repeat a case", report.duplicates, kDebtorsFile);
  }
  // An empty list would answer "unlisted" for everyone: never serve one by accident.
  if ((*snapshot)->info().subjects == 0) {
    return absl::FailedPreconditionError(absl::StrFormat("data dir %s: the list is empty (%s)",
                                                         source.data_dir,
                                                         EmptyListReason((*snapshot)->info())));
  }
  auto dataset = std::make_unique<Dataset>();
  dataset->snapshot = *std::move(snapshot);
  dataset->catalog = *std::move(catalog);
  dataset->source_time = dataset->snapshot->info().source_time;
  ClampSourceTime(dataset.get(), absl::StrCat("data dir ", source.data_dir));
  dataset->data_source = source.data_dir;
  return dataset;
}

Reloader::Reloader(DatasetSource source, SnapshotHolder* holder, double max_shrink)
    : source_(std::move(source)),
      holder_(holder),
      max_shrink_(max_shrink),
      settle_(source_.delta_settle),
      deltas_(source_.deltas_dir.empty()
                  ? nullptr
                  : std::make_unique<DeltaApplier>(source_.deltas_dir, source_.max_delta_bytes,
                                                   &settle_)) {}

Reloader::~Reloader() { Stop(); }

absl::Status Reloader::LoadFirst() {
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<Dataset>> dataset = LoadDataset(source_);
  if (!dataset.ok()) return dataset.status();
  if (deltas_ != nullptr) {
    resumed_ = Resume(dataset->get());
    deltas_->Apply(dataset->get());
    // A file that landed less than delta_settle_ms ago, not seen renamed into place, waits to
    // settle: once, here, so that a restart answers as the daemon did before it. One still
    // written to after that is applied online once it settles.
    if (const absl::Time settles = settle_.NextCheck(); settles != absl::InfiniteFuture()) {
      absl::SleepFor(std::min(settles - absl::Now(), settle_.settle()));
      deltas_->Apply(dataset->get());
    }
  }
  // An empty list answers "not listed" for everyone: at start there is none to keep serving.
  if (absl::Status empty = CheckNotEmpty(**dataset, Now()); !empty.ok()) return empty;
  const std::string what = Describe(**dataset, absl::Now() - start);
  const uint32_t generation = PublishLogged(*std::move(dataset), "load");
  LogInfo("loaded generation %d: %s", generation, what);
  return absl::OkStatus();
}

CheckpointInfo Reloader::Resume(Dataset* dataset) const {
  if (source_.checkpoint.empty() || dataset->overlay != nullptr) return {};
  const absl::Time start = absl::Now();
  CheckpointInfo info;
  absl::StatusOr<std::unique_ptr<const Overlay>> overlay =
      OverlayCheckpoint::Read(*dataset->snapshot, source_.checkpoint, &info);
  if (!overlay.ok()) {
    const std::string why(overlay.status().message());
    if (absl::IsFailedPrecondition(overlay.status())) {  // of the base before a compaction
      LogInfo("overlay checkpoint not used, the delta files are replayed: %s", why);
    } else if (!absl::IsNotFound(overlay.status())) {
      LogWarning("overlay checkpoint not used, the delta files are replayed: %s", why);
    }
    return {};
  }
  if (const std::string missing = MissingDeltaFiles(
          source_.deltas_dir, dataset->snapshot->info().delta_sequence, info.sequence);
      !missing.empty()) {
    LogWarning(
        "overlay checkpoint not used, the delta files are replayed: it holds the deltas up to %d, "
        "but %s; without them the list waits at the gap (a file stays until a base that "
        "contains it is served: put them back, or serve such a base)",
        info.sequence, missing);
    return {};
  }
  LogInfo("overlay checkpoint %s: %d subjects at delta %d, read in %d ms", source_.checkpoint,
          info.entities, info.sequence, absl::ToInt64Milliseconds(absl::Now() - start));
  dataset->overlay = *std::move(overlay);
  dataset->sequence = info.sequence;
  // Not fresher than its last file's application (a checkpoint of an earlier build may hold
  // a file's mtime in the future).
  const int64_t applied = info.applied_time > 0 ? info.applied_time : Now();
  dataset->source_time = std::max(dataset->source_time, std::min(info.source_time, applied));
  dataset->delta_time = info.applied_time;
  // The applier compares them with the files (a file changed after it was applied).
  dataset->applied_files = info.files;
  return info;
}

absl::Status Reloader::Start() {
  absl::StatusOr<std::thread> thread = StartThread("shixind-reload", [this] { Run(); });
  if (!thread.ok()) return thread.status();
  thread_ = *std::move(thread);
  return absl::OkStatus();
}

void Reloader::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::vector<Pending> queued;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued.swap(queue_);
  }
  Complete(queued, ReloadResult{absl::UnavailableError("the daemon is stopping"),
                                holder_->generation(), "the daemon is stopping"});
}

void Reloader::Abandon() {
  std::vector<Pending> taken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    taken.swap(queue_);
    // Only `done` is moved: the reload thread reads the requests, never `done` until it has
    // taken mu_ back.
    if (running_batch_ != nullptr) {
      for (Pending& p : *running_batch_) {
        taken.push_back(Pending{{}, std::move(p.done)});
        p.done = nullptr;
      }
    }
  }
  Complete(taken, ReloadResult{absl::UnavailableError("the daemon is stopping"),
                               holder_->generation(), "the daemon is stopping"});
}

bool Reloader::Request(ReloadRequest request, Done done) {
  const std::string origin = request.origin;
  const bool origin_logged = !request.deltas_only;
  if (origin_logged && reload_hook_) reload_hook_();
  bool behind = false;
  size_t waiting = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    behind = running_;
    queue_.push_back(Pending{std::move(request), std::move(done)});
    waiting = queue_.size();
  }
  if (behind && origin_logged) {
    LogLimited(LogKind::kReloadRequest, LogLevel::kInfo,
               "reload requested by %s while a reload runs: the next reload serves it (%d "
               "requests waiting)",
               origin, waiting);
  } else {
    wake_.notify_all();
  }
  return true;
}

bool Reloader::Request(std::string origin, Done done) {
  return Request(ReloadRequest{std::move(origin)}, std::move(done));
}

uint64_t Reloader::reloads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reloads_;
}

bool Reloader::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

DeltaStatus Reloader::delta_status() const {
  return deltas_ != nullptr ? deltas_->status() : DeltaStatus{};
}

void Reloader::Run() {
  RcuThread rcu;  // ApplyArrivedDeltas() reads the serving generation
  for (;;) {
    std::vector<Pending> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;  // Stop() completes what is queued
      batch.swap(queue_);
      running_ = true;
      running_batch_ = &batch;
    }
    const bool only_deltas = OnlyDeltas(batch);
    const absl::Time start = absl::Now();
    const ReloadResult result = Reload(batch);
    const int64_t took_ns = absl::ToInt64Nanoseconds(absl::Now() - start);
    if (only_deltas) {
      CountDeltaRun(absl::Nanoseconds(took_ns));
    } else {
      reload_latency_.Observe(took_ns);
      (result.status.ok() ? reloads_ok_ : reloads_failed_).fetch_add(1, std::memory_order_relaxed);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_ = false;
      running_batch_ = nullptr;
      ++reloads_;
    }
    Complete(batch, result);  // but the requests Abandon() took
  }
}

void Reloader::CountDeltaRun(absl::Duration took) {
  delta_latency_.Observe(absl::ToInt64Nanoseconds(took));
  delta_runs_.fetch_add(1, std::memory_order_relaxed);
}

void Reloader::ServeDeltasDuringLoad() {
  const auto wants_deltas = [](const Pending& p) { return p.request.deltas_only; };
  for (;;) {
    std::vector<Pending> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] {
        return load_done_ || stopping_ || std::any_of(queue_.begin(), queue_.end(), wants_deltas);
      });
      if (load_done_ || stopping_) return;
      // The other requests stay queued, in their order, for the next reload.
      auto first = std::stable_partition(queue_.begin(), queue_.end(),
                                         [&](const Pending& p) { return !wants_deltas(p); });
      batch.assign(std::make_move_iterator(first), std::make_move_iterator(queue_.end()));
      queue_.erase(first, queue_.end());
    }
    const absl::Time start = absl::Now();
    const ReloadResult result = ApplyArrivedDeltas();
    CountDeltaRun(absl::Now() - start);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++reloads_;
    }
    Complete(batch, result);
  }
}

bool Reloader::OnlyDeltas(const std::vector<Pending>& batch) {
  return std::all_of(batch.begin(), batch.end(),
                     [](const Pending& p) { return p.request.deltas_only; });
}

ListCounts Reloader::ServingCounts(int64_t now) const {
  Dataset serving;
  {
    std::lock_guard<std::mutex> lock(serving_mu_);
    if (serving_base_ == nullptr) return {};
    serving.snapshot = serving_base_;
    serving.overlay = serving_overlay_;
  }
  return CountsOf(serving, now);
}

uint32_t Reloader::PublishLogged(std::unique_ptr<Dataset> dataset, const char* kind) {
  {
    std::lock_guard<std::mutex> lock(serving_mu_);
    serving_base_ = dataset->snapshot;
    serving_overlay_ = dataset->overlay;
    serving_sequence_ = dataset->sequence;
  }
  PublishedGeneration logged{0,
                             Now(),
                             dataset->snapshot->info().version,
                             dataset->sequence,
                             dataset->snapshot->info().subjects,
                             kind};
  const uint32_t generation = holder_->Publish(std::move(dataset));
  logged.generation = generation;
  std::lock_guard<std::mutex> lock(generations_mu_);
  if (generations_.size() == kMaxGenerations) generations_.pop_front();
  generations_.push_back(std::move(logged));
  return generation;
}

uint64_t Reloader::ServingSequence() const {
  std::lock_guard<std::mutex> lock(serving_mu_);
  return serving_sequence_;
}

ReloadStats Reloader::stats() const {
  ReloadStats s;
  s.reloads_ok = reloads_ok_.load(std::memory_order_relaxed);
  s.reloads_failed = reloads_failed_.load(std::memory_order_relaxed);
  s.delta_runs = delta_runs_.load(std::memory_order_relaxed);
  s.reload_durations = reload_latency_.Read();
  s.delta_durations = delta_latency_.Read();
  return s;
}

std::vector<PublishedGeneration> Reloader::generations() const {
  std::lock_guard<std::mutex> lock(generations_mu_);
  return {generations_.begin(), generations_.end()};
}

void Reloader::Complete(std::vector<Pending>& batch, const ReloadResult& result) {
  for (Pending& p : batch) {
    if (p.done) std::move(p.done)(result);
  }
}

ReloadResult Reloader::ApplyArrivedDeltas() {
  std::unique_ptr<Dataset> current;
  {
    SnapshotHolder::ReadSection read(*holder_);
    if (read.dataset() != nullptr) current = std::make_unique<Dataset>(*read.dataset());
  }
  if (current != nullptr && deltas_ != nullptr) {
    deltas_->Apply(current.get(), [this](std::unique_ptr<Dataset> next) {
      PublishLogged(std::move(next), "delta");
    });
  }
  SnapshotHolder::ReadSection read(*holder_);
  const Dataset* serving = read.dataset();
  const uint32_t generation = serving != nullptr ? serving->generation : 0;
  return ReloadResult{absl::OkStatus(), generation,
                      absl::StrFormat("serving generation %d", generation),
                      serving != nullptr ? serving->source_time : 0};
}

absl::StatusOr<std::unique_ptr<Dataset>> Reloader::LoadNewBase(const DatasetSource& source,
                                                               DeltaApplier* fold) const {
  absl::StatusOr<std::unique_ptr<Dataset>> dataset = load_(source);
  if (!dataset.ok()) return dataset;
  if (fold != nullptr) {
    Resume(dataset->get());
    // Files land while it folds: it folds again until a round finds none, so that the reload
    // thread, which applies the rest before the swap while arrivals wait, has few left.
    for (int round = 0; round < kFoldRounds && fold->Apply(dataset->get()) > 0; ++round) {
    }
  }
  if (folded_) folded_(**dataset);
  return dataset;
}

absl::StatusOr<std::unique_ptr<Dataset>> Reloader::LoadInBackground(DeltaApplier* fold) {
  // A reload runs beside the serving threads: it takes at most half of the cores.
  DatasetSource source = source_;
  if (source.verify_threads == 0) {
    source.verify_threads = std::max(1u, std::thread::hardware_concurrency() / 2);
  }
  // The load and the fold run in a thread of their own at background priority, as do their
  // helpers (they inherit it): on a core an I/O thread wants, the I/O thread goes first and the
  // swap's latency stays the queries' (issue 14); on idle cores they run at full speed. The
  // fold has an applier of its own, so that this thread keeps applying the files that land to
  // the serving list meanwhile (their visibility has a deadline).
  absl::StatusOr<std::unique_ptr<Dataset>> dataset = absl::UnknownError("not loaded");
  {
    std::lock_guard<std::mutex> lock(mu_);
    load_done_ = false;
  }
  absl::StatusOr<std::thread> loader = StartThread("shixind-load", [&] {
    RunInBackground();
    dataset = LoadNewBase(source, fold);
    {
      std::lock_guard<std::mutex> lock(mu_);
      load_done_ = true;
    }
    wake_.notify_all();
  });
  if (!loader.ok()) return loader.status();  // a failed reload: the old list keeps serving
  if (deltas_ != nullptr) ServeDeltasDuringLoad();
  loader->join();
  return dataset;
}

ReloadResult Reloader::Reload(const std::vector<Pending>& batch) {
  if (OnlyDeltas(batch)) return ApplyArrivedDeltas();
  std::string origin = batch.front().request.origin;
  if (batch.size() > 1) absl::StrAppendFormat(&origin, " and %d more", batch.size() - 1);
  const bool allow_shrink = std::any_of(batch.begin(), batch.end(),
                                        [](const Pending& p) { return p.request.allow_shrink; });
  const uint32_t serving = holder_->generation();
  LogInfo("reload requested by %s%s; serving generation %d", origin,
          allow_shrink ? " (shrink allowed)" : "", serving);
  NotifyReloading(absl::StrFormat("reloading (requested by %s)", origin));
  holder_->SetReloadStatus(
      ReloadStatus{wire::ReloadState::kRunning, Now(), "requested by " + origin});
  const absl::Time start = absl::Now();
  const std::unique_ptr<DeltaApplier> fold =
      deltas_ != nullptr
          ? std::make_unique<DeltaApplier>(source_.deltas_dir, source_.max_delta_bytes, &settle_)
          : nullptr;
  if (fold != nullptr) fold->KnowApplied(*deltas_);  // a change is warned about once
  absl::StatusOr<std::unique_ptr<Dataset>> dataset = LoadInBackground(fold.get());
  const auto fail = [&](const absl::Status& status) {
    const std::string message(status.message());
    LogError("reload failed, generation %d keeps serving: %s", serving, message);
    holder_->SetReloadStatus(ReloadStatus{wire::ReloadState::kFailed, Now(), message});
    if (deltas_ != nullptr) ApplyArrivedDeltas();  // the old list still takes its new deltas
    NotifyReady(absl::StrFormat("serving generation %d; last reload failed: %s", serving, message));
    return ReloadResult{absl::AbortedError(message), serving, message};
  };
  if (!dataset.ok()) return fail(dataset.status());
  if (deltas_ != nullptr) {
    deltas_->Adopt(*fold);
    deltas_->Apply(dataset->get());  // the files that landed during the fold
  }
  // Like for like: the new base with its delta files against the generation served (no file
  // lands meanwhile: this thread applies them), counted the same way at the same instant.
  const int64_t now = Now();
  if (absl::Status empty = CheckNotEmpty(**dataset, now); !empty.ok()) return fail(empty);
  const ListCounts counts = CountsOf(**dataset, now);
  const ListCounts serving_counts = ServingCounts(now);
  if (absl::Status guard = CheckShrink(serving_counts, counts, max_shrink_); !guard.ok()) {
    if (!allow_shrink) return fail(guard);
    LogWarning(
        "accepting a list of %d subjects and %d relations instead of %d and %d: the shrink was "
        "allowed by %s",
        counts.subjects, counts.relations, serving_counts.subjects, serving_counts.relations,
        origin);
  }
  const uint64_t served = ServingSequence();
  if (absl::Status back =
          CheckNotGoingBack(**dataset, served, source_.deltas_dir, delta_status().refused_reason);
      !back.ok()) {
    if (!allow_shrink) return fail(back);
    LogWarning("accepting a list with the deltas up to %d instead of %d: allowed by %s",
               (*dataset)->sequence, served, origin);
  }
  const std::string what = Describe(**dataset, absl::Now() - start);
  const int64_t source_time = (*dataset)->source_time;
  const uint32_t generation = PublishLogged(*std::move(dataset), "reload");
  const std::string message = absl::StrFormat("generation %d: %s", generation, what);
  LogInfo("reloaded %s", message);
  holder_->SetReloadStatus(ReloadStatus{wire::ReloadState::kOk, Now(), message});
  NotifyReady(absl::StrFormat("serving %s", message));
  return ReloadResult{absl::OkStatus(), generation, message, source_time};
}

}  // namespace shixin
