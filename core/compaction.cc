#include "core/compaction.h"

#include <sys/stat.h>

#include <algorithm>
#include <span>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "core/builder.h"
#include "core/delta.h"
#include "core/validity.h"

namespace shixin {

absl::StatusOr<std::unique_ptr<const Overlay>> ApplyDeltaDir(const Snapshot& base,
                                                             const std::string& dir,
                                                             DeltaReport* report, uint64_t up_to,
                                                             DeltaDirStop* stop,
                                                             int64_t keep_listed_at) {
  std::vector<std::string> misnamed;
  SHIXIN_ASSIGN_OR_RETURN(const std::vector<DeltaFile> files, ListDeltaFiles(dir, &misnamed));
  for (const std::string& path : misnamed) report->notes.push_back(MisnamedDeltaWarning(path));
  std::unique_ptr<const Overlay> overlay;
  // Where to stop, as shixind's applier decides it: after the run of consecutive files.
  const DeltaRun following = FollowingDeltas(files, base.info().delta_sequence);
  for (size_t i = 0; i < following.next.size(); ++i) {
    const DeltaFile& f = following.next[i];
    if (f.sequence > up_to) break;
    const std::string name = f.path.substr(f.path.find_last_of('/') + 1);
    if (i == following.run) {
      absl::Status gap = absl::FailedPreconditionError(
          DeltaGapMessage(base.info().delta_sequence + following.run, f.sequence));
      if (stop == nullptr) return gap;
      *stop = DeltaDirStop{name, std::move(gap), /*gap=*/true};
      return overlay;
    }
    absl::StatusOr<Delta> delta = ReadDelta(f.path);
    absl::StatusOr<std::unique_ptr<const Overlay>> applied =
        delta.ok() ? ApplyDelta(base, overlay.get(), *delta, report, keep_listed_at)
                   : delta.status();
    if (!applied.ok()) {
      const absl::Status& refused = applied.status();
      if (stop != nullptr &&
          (absl::IsInvalidArgument(refused) || absl::IsResourceExhausted(refused) ||
           (keep_listed_at != 0 && absl::IsFailedPrecondition(refused)))) {
        *stop = DeltaDirStop{name, refused};
        return overlay;
      }
      if (!delta.ok()) {  // its errors name the file, not its directory
        return absl::Status(refused.code(), absl::StrFormat("%s: %s", f.path, refused.message()));
      }
      return refused;
    }
    overlay = *std::move(applied);
    struct stat st {};
    if (::stat(f.path.c_str(), &st) == 0) {
      report->newest_file_time = std::max<int64_t>(report->newest_file_time, st.st_mtim.tv_sec);
    }
  }
  return overlay;
}

std::optional<UnsettledDeltaFile> FirstUnsettledDeltaFile(const std::string& dir, uint64_t after,
                                                          absl::Duration settle, absl::Time now) {
  if (settle <= absl::ZeroDuration()) return std::nullopt;
  absl::StatusOr<std::vector<DeltaFile>> files = ListDeltaFiles(dir);
  if (!files.ok()) return std::nullopt;
  for (const DeltaFile& f : *files) {
    if (f.sequence <= after) continue;
    struct stat st {};
    if (::stat(f.path.c_str(), &st) != 0) continue;  // gone meanwhile: ApplyDeltaDir says so
    const absl::Duration age = now - absl::TimeFromTimespec(st.st_ctim);
    if (age < settle) return UnsettledDeltaFile{f.sequence, f.path, age};
  }
  return std::nullopt;
}

namespace {

// Returns whether the window keeps the case version counting during `i`: it counts after
// `cutoff`, or it belongs to a stretch of counting cases (`blocks`) that does. Such a stretch
// is kept whole, or a listing's "since" would move forward to its first version kept.
bool Kept(const Interval& i, std::span<const Interval> blocks, int64_t cutoff) {
  if (i.until > cutoff) return true;
  if (i.empty()) return false;
  return std::any_of(blocks.begin(), blocks.end(), [&](const Interval& b) {
    return b.from <= i.from && i.until <= b.until && b.until > cutoff;
  });
}

// Adds the cases and roles of `s` that the window keeps to `builder`; a role once, from its
// organisation's side.
absl::Status Fold(const ListView& list, SubjectRef s, int64_t cutoff, CaseBuffer& buffer,
                  SnapshotBuilder& builder) {
  const Id id = list.SubjectId(s);
  const std::string_view name = list.Name(s);
  SHIXIN_ASSIGN_OR_RETURN(const std::span<const CaseView> cases, list.ReadCases(s, buffer));
  std::vector<Interval> intervals;
  intervals.reserve(cases.size());
  for (const CaseView& c : cases) intervals.push_back(CaseInterval(c));
  const std::vector<Interval> blocks = MergeIntervals(intervals);
  for (size_t k = 0; k < cases.size(); ++k) {
    const CaseView& c = cases[k];
    if (!Kept(intervals[k], blocks, cutoff)) continue;  // stopped counting before the window
    CaseInput input;
    static_cast<CaseView&>(input) = c;
    input.id = id;
    input.name = name;
    builder.AddCase(input);
  }
  if (id.subject_kind() != SubjectKind::kOrganization) return absl::OkStatus();
  list.ForEachLink(s, [&](const Id& person, Role role, const Interval& valid) {
    if (valid.until <= cutoff) return;
    const SubjectRef p = list.Find(person);
    builder.AddRelation(RelationInput{id, person, p.found() ? list.Name(p) : "", role}, valid);
  });
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<const Snapshot>> Compact(const ListView& list,
                                                        const CompactionOptions& options) {
  const Snapshot& base = list.base();
  const int64_t now = options.now != 0 ? options.now : NowSeconds();
  const int64_t cutoff = now - options.history_days * 86400;
  SnapshotBuilder builder;
  builder.set_build_time(now);
  // As fresh as the newest file folded in: the deltas made the served list so (a compaction
  // that kept the old base's time would turn a fresh list STALE); a clock ahead is not trusted.
  builder.set_source_time(std::min(now, std::max(base.info().source_time, options.source_time)));
  builder.set_delta_sequence(list.overlay() != nullptr ? list.overlay()->sequence()
                                                       : base.info().delta_sequence);
  builder.set_history_from(std::max(cutoff, base.history_from()));
  CaseBuffer buffer;
  for (EntityNo e = 0; e < base.entity_count(); ++e) {
    SHIXIN_RETURN_IF_ERROR(Fold(list, list.Find(base.EntityId(e)), cutoff, buffer, builder));
  }
  // The subjects the deltas brought that the base does not know.
  absl::Status status;
  if (list.overlay() != nullptr) {
    list.overlay()->ForEach([&](const OverlayEntity& e) {
      const Id id = e.id();
      if (!status.ok() || base.Find(id) != kNoEntity) return;
      status = Fold(list, list.Find(id), cutoff, buffer, builder);
    });
  }
  SHIXIN_RETURN_IF_ERROR(status);
  return builder.Build();
}

}  // namespace shixin
