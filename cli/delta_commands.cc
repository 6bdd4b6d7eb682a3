#include "cli/delta_commands.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "core/catalog.h"
#include "core/compaction.h"
#include "core/delta.h"
#include "core/overlay.h"
#include "core/paths.h"
#include "core/snapshot.h"
#include "core/snapshot_file.h"
#include "core/validity.h"

namespace shixin {
namespace {

constexpr std::string_view kCommand = "delta check";

// Returns "N changes (A add, R remove, ...)": the ops a file holds, in the feed's order.
std::string Summary(const Delta& delta) {
  std::array<size_t, 6> counts{};
  for (const DeltaChange& c : delta.changes) ++counts[static_cast<size_t>(c.op)];
  std::vector<std::string> parts;
  for (size_t op = 0; op < counts.size(); ++op) {
    if (counts[op] > 0) {
      parts.push_back(
          absl::StrCat(counts[op], " ", std::string(DeltaOpName(static_cast<DeltaOp>(op)))));
    }
  }
  return absl::StrFormat("%d changes (%s)", delta.changes.size(), absl::StrJoin(parts, ", "));
}

// The list the files are applied after: a base and the files of --deltas folded into it.
struct Start {
  std::unique_ptr<const Snapshot> base;
  std::unique_ptr<const Overlay> overlay;
  DeltaDirStop stop;  // a file of --deltas refused, or a gap: the files checked wait behind it
};

// Returns the start of --snapshot or --data (and the files of --deltas, as shixind applies them),
// or nullopt without either; or the error loading it, naming what failed.
absl::StatusOr<std::optional<Start>> LoadStart(const Flags& flags) {
  const std::optional<std::string> snapshot = flags.Get("snapshot");
  if (!snapshot && !flags.Get("data")) return std::optional<Start>();
  Start start;
  if (snapshot) {
    const std::string catalog_path = flags.Get("catalog").value_or(DefaultCatalogPath());
    absl::StatusOr<Catalog> catalog = Catalog::LoadFile(catalog_path);
    if (!catalog.ok()) return catalog.status();
    absl::StatusOr<std::unique_ptr<const Snapshot>> file =
        OpenSnapshotFile(*snapshot, catalog->fingerprint(), nullptr, 0, /*catalog_path=*/"");
    if (!file.ok()) return file.status();
    start.base = *std::move(file);
  } else {
    absl::StatusOr<std::unique_ptr<const Snapshot>> data = LoadData(flags);
    if (!data.ok()) return data.status();
    start.base = *std::move(data);
  }
  if (const std::optional<std::string> dir = flags.Get("deltas")) {
    DeltaReport report;  // the notes of files applied already were the daemon's to give
    absl::StatusOr<std::unique_ptr<const Overlay>> applied =
        ApplyDeltaDir(*start.base, *dir, &report, std::numeric_limits<uint64_t>::max(), &start.stop,
                      /*keep_listed_at=*/NowSeconds());
    if (!applied.ok()) {
      return absl::Status(applied.status().code(),
                          absl::StrCat("--deltas ", *dir, ": ", applied.status().message()));
    }
    start.overlay = *std::move(applied);
  }
  return std::optional<Start>(std::move(start));
}

// The files of the command line in sequence order (a name that is not a delta file's last,
// where ParseDelta() refuses it).
std::vector<std::string> InSequenceOrder(std::vector<std::string> paths) {
  const auto sequence = [](const std::string& path) {
    return DeltaSequence(path.substr(path.find_last_of('/') + 1))
        .value_or(std::numeric_limits<uint64_t>::max());
  };
  std::stable_sort(paths.begin(), paths.end(), [&](const std::string& a, const std::string& b) {
    return sequence(a) < sequence(b);
  });
  return paths;
}

int CheckFiles(const std::vector<std::string>& args) {
  absl::StatusOr<Flags> flags = Flags::Parse(args, {{"snapshot", true},
                                                    {"data", true},
                                                    {"deltas", true},
                                                    {"catalog", true},
                                                    {"max-errors", true, true},
                                                    {"max-delta-mb", true, true}});
  if (!flags.ok()) return UsageError(kCommand, flags.status());
  if (flags->positional().empty()) {
    return UsageError(kCommand, absl::InvalidArgumentError("expected one or more delta files"));
  }
  if (flags->Get("snapshot") && flags->Get("data")) {
    return UsageError(
        kCommand, absl::InvalidArgumentError("one base: --snapshot FILE or --data DIR, not both"));
  }
  if (flags->Get("deltas") && !flags->Get("snapshot") && !flags->Get("data")) {
    return UsageError(kCommand,
                      absl::InvalidArgumentError("--deltas needs a base: --snapshot or --data"));
  }
  absl::StatusOr<uint64_t> max_mb = flags->GetUint("max-delta-mb", kDefaultMaxDeltaMb);
  if (max_mb.ok() && (*max_mb < 1 || *max_mb > kMaxDeltaMbLimit)) {
    max_mb = absl::InvalidArgumentError(
        absl::StrFormat("--max-delta-mb %d is out of range (1..%d)", *max_mb, kMaxDeltaMbLimit));
  }
  if (!max_mb.ok()) return UsageError(kCommand, max_mb.status());

  // All the files of the directory are applied, as shixind applies them: a file checked at or
  // below the sequence they reach is skipped, as shixind skips it. Only a refused file of the
  // directory is replaced by the file checked of its sequence (a gap is filled by it anyway).
  std::set<uint64_t> checked;
  for (const std::string& path : flags->positional()) {
    if (std::optional<uint64_t> s = DeltaSequence(path.substr(path.find_last_of('/') + 1))) {
      checked.insert(*s);
    }
  }
  absl::StatusOr<std::optional<Start>> start = LoadStart(*flags);
  if (!start.ok()) {
    std::fprintf(stderr, "shixin delta check: %s\n", std::string(start.status().message()).c_str());
    return kExitLoad;
  }
  std::unique_ptr<OverlayBuilder> builder;
  if (*start) builder = std::make_unique<OverlayBuilder>(*(*start)->base, (*start)->overlay.get());
  if (builder != nullptr) builder->KeepListedAt(NowSeconds());  // as shixind: never empty

  bool all_ok = true;
  std::optional<uint64_t> last;  // the sequence the next file must follow, where known
  if (builder != nullptr) last = builder->sequence();
  std::string blocked;  // the file that holds up the ones after it
  if (*start && !(*start)->stop.name.empty() && !(*start)->stop.gap &&
      !checked.contains(DeltaSequence((*start)->stop.name).value_or(0))) {
    // A file of --deltas that shixind refuses: the ones checked wait behind it. (After a gap
    // the first one checked says what is missing, as below.)
    const DeltaDirStop& stop = (*start)->stop;
    std::printf("%s: refused: %s\n", stop.name.c_str(), std::string(stop.status.message()).c_str());
    all_ok = false;
    blocked = stop.name;
  }
  for (const std::string& path : InSequenceOrder(flags->positional())) {
    const std::string name = path.substr(path.find_last_of('/') + 1);
    const auto say = [&](const std::string& what) {
      std::printf("%s: %s\n", name.c_str(), what.c_str());
    };
    if (!blocked.empty()) {
      say(absl::StrCat("waits behind ", blocked));
      continue;
    }
    absl::StatusOr<Delta> delta = ReadDelta(path, 1, *max_mb << 20);
    // Content shixind would refuse is a verdict on stdout (InvalidArgument, or too large); a
    // file that cannot be read at all is this run's failure (exit 3, stderr), as for a base.
    if (!delta.ok() && !absl::IsInvalidArgument(delta.status()) &&
        !absl::IsResourceExhausted(delta.status())) {
      std::fprintf(stderr, "shixin delta check: %s\n",
                   std::string(delta.status().message()).c_str());
      return kExitLoad;
    }
    if (!delta.ok()) {
      say(absl::StrCat("refused: ", delta.status().message(),
                       absl::IsResourceExhausted(delta.status()) ? " (--max-delta-mb)" : ""));
      all_ok = false;
      blocked = name;
      continue;
    }
    if (last && delta->sequence <= *last) {
      // Never applied: a pusher that re-used a sequence number would lose its changes.
      say(absl::StrFormat("skipped: at or below the sequence applied (%d), as shixind skips it",
                          *last));
      all_ok = false;
      continue;
    }
    if (last && delta->sequence != *last + 1) {
      say(absl::StrCat("waits: ", DeltaFileName(*last + 1), " is missing before it"));
      all_ok = false;
      blocked = name;
      continue;
    }
    DeltaReport report;
    if (builder != nullptr) {
      if (const absl::Status s = builder->Apply(*delta, &report); !s.ok()) {
        say(absl::StrCat("refused: ", s.message()));
        all_ok = false;
        blocked = name;
        continue;
      }
    }
    // Checked before it is pushed: it arrives now.
    for (std::string& note :
         LateChangeNotes(*delta, absl::ToUnixSeconds(absl::Now()), report.unchanged)) {
      report.notes.push_back(std::move(note));
    }
    for (const std::string& note : report.notes) say(absl::StrCat("note: ", note));
    say(absl::StrCat("ok, ", Summary(*delta),
                     builder != nullptr ? absl::StrCat(", ", report.notes.size(), " notes")
                                        : ", not checked against a list"));
    last = delta->sequence;
  }
  return all_ok ? kExitOk : 1;
}

}  // namespace

int RunDelta(const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "check") {
    return UsageError("delta", absl::InvalidArgumentError("expected check"));
  }
  return CheckFiles(std::vector<std::string>(args.begin() + 1, args.end()));
}

}  // namespace shixin
