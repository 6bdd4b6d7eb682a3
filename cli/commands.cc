#include "cli/commands.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "base/terminal.h"
#include "cli/feedback_command.h"
#include "cli/flags.h"
#include "cli/list_source.h"
#include "cli/query_inputs.h"
#include "cli/remote.h"
#include "core/catalog.h"
#include "core/compaction.h"
#include "core/dataset.h"
#include "core/delta.h"
#include "core/paths.h"
#include "core/query.h"
#include "core/snapshot_file.h"
#include "core/validity.h"
#include "protocol/messages.h"
#include "protocol/operator_messages.h"
#include "protocol/render.h"
#include "synthetic/deltas.h"
#include "synthetic/synthetic.h"

namespace shixin {

int UsageError(std::string_view command, const absl::Status& status) {
  std::fprintf(stderr, "shixin %s: %s (see shixin help)\n", std::string(command).c_str(),
               TerminalSafe(std::string(status.message()), Quoting::kKept).c_str());
  return kExitUsage;
}

int LoadFailed(std::string_view command, const absl::Status& status) {
  std::fprintf(stderr, "shixin %s: %s\n", std::string(command).c_str(),
               TerminalSafe(std::string(status.message()), Quoting::kKept).c_str());
  return kExitLoad;
}

int CheckOutput(std::string_view command, const std::string& path) {
  if (path == "-") return kExitOk;
  const absl::Status s = CheckOutputPath(path);
  if (s.ok()) return kExitOk;
  return absl::IsInvalidArgument(s) ? UsageError(command, s) : LoadFailed(command, s);
}

int ServerExitStatus(const absl::Status& status) {
  if (absl::IsUnauthenticated(status) || absl::IsPermissionDenied(status)) return kExitDenied;
  if (absl::IsFailedPrecondition(status)) return kExitStale;
  if (absl::IsNotFound(status)) return kExitInvalidId;
  if (absl::IsAborted(status)) return kExitLoad;
  return kExitServer;
}

absl::StatusOr<std::unique_ptr<const Snapshot>> LoadData(const Flags& flags,
                                                         const std::optional<std::string>& data,
                                                         LoadReport* report_out) {
  const std::optional<std::string> dir = data ? data : flags.Get("data");
  if (!dir) return absl::InvalidArgumentError("--data DIR is required");
  absl::StatusOr<uint64_t> max_errors = flags.GetUint("max-errors", 0);
  if (!max_errors.ok()) return max_errors.status();
  // Only compile takes --delta-sequence (a full re-issue); the others never see it.
  absl::StatusOr<uint64_t> sequence = flags.GetUint("delta-sequence", 0);
  if (!sequence.ok()) return sequence.status();
  LoadReport report;
  auto snap = LoadDataDir(*dir, LoadOptions{*max_errors, *sequence}, &report);
  if (!snap.ok()) return snap.status();
  for (const LoadError& e : report.first_errors) {
    std::fprintf(stderr, "shixin: skipped %s:%llu: %s\n", e.file.c_str(),
                 static_cast<unsigned long long>(e.line), e.reason.c_str());
  }
  // The lines above are the first LoadReport::kMaxKeptErrors: the count says how many in all.
  if (report.errors > 0) {
    std::fprintf(stderr, "shixin: skipped %llu bad lines in all (max_errors %llu)\n",
                 static_cast<unsigned long long>(report.errors),
                 static_cast<unsigned long long>(*max_errors));
  }

  for (const LoadError& e : report.first_notes) {
    std::fprintf(stderr, "shixin: note: %s:%llu: %s\n", e.file.c_str(),
                 static_cast<unsigned long long>(e.line), e.reason.c_str());
  }
  if (report.notes > report.first_notes.size()) {
    std::fprintf(stderr, "shixin: %llu notes in all\n",
                 static_cast<unsigned long long>(report.notes));
  }
  if (report_out != nullptr) *report_out = std::move(report);
  return snap;
}

absl::StatusOr<std::unique_ptr<const Snapshot>> LoadListToAnswer(const Flags& flags) {
  SHIXIN_ASSIGN_OR_RETURN(std::unique_ptr<const Snapshot> snap, LoadData(flags));
  if (snap->info().subjects == 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the list is empty (%s)", *flags.Get("data"), EmptyListReason(snap->info())));
  }
  return snap;
}

namespace {

// Returns `specs` with the flags of server mode (remote.h kConnectFlags).
std::vector<FlagSpec> WithConnectFlags(std::vector<FlagSpec> specs) {
  specs.insert(specs.end(), std::begin(kConnectFlags), std::end(kConnectFlags));
  return specs;
}

// Returns `specs` with the flags of offline mode (list_source.h kListSourceFlags).
std::vector<FlagSpec> WithListFlags(std::vector<FlagSpec> specs) {
  specs.insert(specs.end(), std::begin(kListSourceFlags), std::end(kListSourceFlags));
  return specs;
}

const std::vector<FlagSpec> kCheckFlags = WithListFlags(WithConnectFlags({{"json", false},
                                                                          {"as-of", true},
                                                                          {"fail-stale", false},
                                                                          kContextFlags[0],
                                                                          kContextFlags[1],
                                                                          kContextFlags[2]}));

const std::vector<FlagSpec> kMeasuresFlags = WithListFlags(WithConnectFlags({{"json", false},
                                                                             {"catalog", true},
                                                                             {"agency", true},
                                                                             {"scenario", true},
                                                                             {"officer", true},
                                                                             {"as-of", true},
                                                                             {"fail-stale", false},
                                                                             kContextFlags[0],
                                                                             kContextFlags[1],
                                                                             kContextFlags[2]}));

// Returns the instant of --as-of (RFC 3339), or wire::kAsOfNow without it; InvalidArgument for
// a malformed one, OutOfRange for one the protocol cannot carry (ParseAsOf()).
absl::StatusOr<int64_t> AsOfFlag(const Flags& flags) {
  const std::optional<std::string> text = flags.Get("as-of");
  if (!text) return wire::kAsOfNow;
  absl::StatusOr<int64_t> at = ParseAsOf(*text);
  if (!at.ok()) {
    return absl::Status(at.status().code(), absl::StrFormat("--as-of: %s", at.status().message()));
  }
  return *at;
}

// Returns the instant an offline query of `list` answers for: `as_of` within the default
// history window and the list's base's history (as shixind checks it), or now. OutOfRange
// outside the window.
absl::StatusOr<int64_t> OfflineInstant(int64_t as_of, const ListView& list) {
  const int64_t now = NowSeconds();
  if (as_of == wire::kAsOfNow) return now;
  SHIXIN_RETURN_IF_ERROR(ValidateAsOf(as_of, now, static_cast<int>(wire::kDefaultHistoryDays),
                                      list.base().history_from()));
  return as_of;
}

const std::vector<FlagSpec> kServerFlags = WithConnectFlags({{"json", false}});

const std::vector<FlagSpec> kCatalogFlags = WithConnectFlags({{"json", false}, {"catalog", true}});

const std::vector<FlagSpec> kReloadFlags = WithConnectFlags({{"allow-shrink", false}});

// Parses --officer ROLE=ID values: at most wire::kMaxOfficers, MEASURES' limit, in both modes
// (an offline answer the server would refuse is no answer to rely on).
absl::StatusOr<std::vector<Officer>> ParseOfficers(const Flags& flags) {
  const std::vector<std::string> values = flags.GetAll("officer");
  if (values.size() > wire::kMaxOfficers) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%d --officer flags exceed MEASURES' limit of %d", values.size(), wire::kMaxOfficers));
  }
  std::vector<Officer> officers;
  for (const std::string& value : values) {
    const size_t eq = value.find('=');
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--officer \"%s\": expected ROLE=ID, e.g. legal_representative=ID", value));
    }
    const std::optional<Role> role = RoleFromName(value.substr(0, eq));
    if (!role) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--officer \"%s\": unknown role \"%s\"", value, value.substr(0, eq)));
    }
    absl::StatusOr<Id> id = ParseId(value.substr(eq + 1));
    if (!id.ok()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--officer \"%s\": %s", value, id.status().message()));
    }
    officers.push_back(Officer{*role, *id});
  }
  return officers;
}

// Fills the agency and scenario filters of `query` from the flags.
absl::Status ParseFilters(const Flags& flags, const Catalog& catalog, MeasureQuery* query) {
  if (auto agency = flags.Get("agency")) {
    query->agency = catalog.FindAgency(*agency);
    if (query->agency < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("unknown agency \"%s\"", TerminalSafe(*agency)));
    }
  }
  if (auto scenario = flags.Get("scenario")) {
    query->scenario = catalog.FindScenario(*scenario);
    if (query->scenario < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("unknown scenario \"%s\"", TerminalSafe(*scenario)));
    }
  }
  return absl::OkStatus();
}

// Returns InvalidArgument for a server-mode flag (kConnectFlags, --fail-stale) without
// --server: a script that lost its --server must not answer from a local copy as if it had
// authenticated, with no word of it.
absl::Status NoServerFlagsOffline(const Flags& flags) {
  if (flags.Get("server")) return absl::OkStatus();
  for (const FlagSpec& spec : kConnectFlags) {
    if (flags.Has(spec.name)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--%s needs --server (offline there is no daemon to ask)", spec.name));
    }
  }
  if (flags.Has("fail-stale")) {
    return absl::InvalidArgumentError("--fail-stale needs --server (offline there is no max age)");
  }
  return absl::OkStatus();
}

// The flags of one mode only: offline's list and catalog are not the daemon's (ignoring them
// would answer from another list than the user named), and the request context is for the
// daemon's audit (offline there is none to record it).
absl::Status CheckModeFlags(const Flags& flags) {
  SHIXIN_RETURN_IF_ERROR(NoServerFlagsOffline(flags));
  if (flags.Get("server")) {
    for (const char* offline : {"data", "snapshot", "deltas", "max-errors", "catalog"}) {
      if (flags.Get(offline)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "--%s and --server: the daemon answers from its own list and catalog", offline));
      }
    }
  }
  if (!HasContextFlags(flags)) return absl::OkStatus();
  if (!flags.Get("server")) {
    return absl::InvalidArgumentError(
        "--matter, --operator and --purpose need --server (the daemon records them)");
  }
  return ContextFromFlags(flags).status();
}

}  // namespace

int RunCheck(const std::vector<std::string>& args) {
  absl::StatusOr<Flags> flags = Flags::Parse(args, kCheckFlags);
  if (!flags.ok()) return UsageError("check", flags.status());
  absl::StatusOr<int64_t> as_of = AsOfFlag(*flags);
  if (!as_of.ok()) return UsageError("check", as_of.status());
  if (absl::Status s = CheckModeFlags(*flags); !s.ok()) return UsageError("check", s);
  QueryInputs inputs(flags->positional(), STDIN_FILENO);
  if (flags->Get("server")) return RemoteCheck(*flags, inputs, *as_of);
  if (absl::Status s = CheckListSource(*flags); !s.ok()) return UsageError("check", s);
  absl::StatusOr<LoadedList> list = LoadList(*flags, /*catalog_fingerprint=*/0);
  if (!list.ok()) return LoadFailed("check", list.status());
  WarnIfStopped("check", *list);
  absl::StatusOr<int64_t> at = OfflineInstant(*as_of, list->view());
  if (!at.ok()) return UsageError("check", at.status());
  return ForEachId(inputs, "check", flags->Has("json"), [&](const Id& id, bool json) {
    absl::StatusOr<CheckResult> r = Check(list->view(), id, *at, /*with_cases=*/true);
    if (!r.ok()) {  // a snapshot file's cases may fail to read (DataLoss)
      std::fprintf(stderr, "shixin check: %s\n", std::string(r.status().message()).c_str());
      return kExitLoad;
    }
    std::cout << (json ? WithDeltaSequence(CheckJson(*r), *list) + "\n" : CheckText(*r));
    return kExitOk;
  });
}

int RunMeasures(const std::vector<std::string>& args) {
  absl::StatusOr<Flags> flags = Flags::Parse(args, kMeasuresFlags);
  if (!flags.ok()) return UsageError("measures", flags.status());
  absl::StatusOr<std::vector<Officer>> officers = ParseOfficers(*flags);
  if (!officers.ok()) return UsageError("measures", officers.status());
  absl::StatusOr<int64_t> as_of = AsOfFlag(*flags);
  if (!as_of.ok()) return UsageError("measures", as_of.status());
  if (absl::Status s = CheckModeFlags(*flags); !s.ok()) return UsageError("measures", s);
  QueryInputs inputs(flags->positional(), STDIN_FILENO);
  if (flags->Get("server")) return RemoteMeasures(*flags, inputs, *officers, *as_of);
  if (absl::Status s = CheckListSource(*flags); !s.ok()) return UsageError("measures", s);
  const std::string catalog_path = flags->Get("catalog").value_or(DefaultCatalogPath());
  absl::StatusOr<Catalog> catalog = Catalog::LoadFile(catalog_path);
  if (!catalog.ok()) {
    std::fprintf(stderr, "shixin measures: %s\n", std::string(catalog.status().message()).c_str());
    return kExitLoad;
  }
  MeasureQuery query;
  query.officers = *std::move(officers);
  if (absl::Status s = ParseFilters(*flags, *catalog, &query); !s.ok()) {
    return UsageError("measures", s);
  }
  absl::StatusOr<LoadedList> list = LoadList(*flags, catalog->fingerprint());
  if (!list.ok()) return LoadFailed("measures", list.status());
  WarnIfStopped("measures", *list);
  absl::StatusOr<int64_t> at = OfflineInstant(*as_of, list->view());
  if (!at.ok()) return UsageError("measures", at.status());
  query.at = *at;
  return ForEachId(inputs, "measures", flags->Has("json"), [&](const Id& id, bool json) {
    absl::StatusOr<MeasuresResult> r = Measures(list->view(), *catalog, id, query);
    if (!r.ok()) {
      const std::string reason(r.status().message());
      std::cout << (json ? ErrorJson(id.text(), reason) + "\n" : ErrorText(id.text(), reason));
      return kExitInvalidId;
    }
    std::cout << (json ? WithDeltaSequence(MeasuresJson(*r), *list) + "\n" : MeasuresText(*r));
    return kExitOk;
  });
}

int RunCatalog(const std::vector<std::string>& args) {
  absl::StatusOr<Flags> flags = Flags::Parse(args, kCatalogFlags);
  if (!flags.ok()) return UsageError("catalog", flags.status());
  if (absl::Status s = flags->NoPositional(); !s.ok()) return UsageError("catalog", s);
  if (absl::Status s = NoServerFlagsOffline(*flags); !s.ok()) return UsageError("catalog", s);
  if (flags->Get("server")) {
    if (flags->Get("catalog")) {
      return UsageError("catalog", absl::InvalidArgumentError(
                                       "--catalog and --server: the daemon serves its own"));
    }
    return RemoteCatalog(*flags);
  }
  const std::string path = flags->Get("catalog").value_or(DefaultCatalogPath());
  absl::StatusOr<Catalog> catalog = Catalog::LoadFile(path);
  if (!catalog.ok()) {
    std::fprintf(stderr, "shixin catalog: %s\n", std::string(catalog.status().message()).c_str());
    return kExitLoad;
  }
  const wire::CatalogResponse c = wire::DescribeCatalog(*catalog);
  std::cout << (flags->Has("json") ? CatalogJson(c) + "\n" : CatalogText(c));
  return kExitOk;
}

// Runs `remote` for `command`, which only talks to a server: --server HOST:PORT is required.
int RunServerOnly(std::string_view command, const std::vector<std::string>& args,
                  const std::vector<FlagSpec>& specs, int (*remote)(const Flags&)) {
  absl::StatusOr<Flags> flags = Flags::Parse(args, specs);
  if (!flags.ok()) return UsageError(command, flags.status());
  if (!flags->Get("server")) {
    return UsageError(command, absl::InvalidArgumentError("--server HOST:PORT is required"));
  }
  if (absl::Status s = flags->NoPositional(); !s.ok()) return UsageError(command, s);
  return remote(*flags);
}

int RunInfo(const std::vector<std::string>& args) {
  return RunServerOnly("info", args, kServerFlags, RemoteInfo);
}

int RunReload(const std::vector<std::string>& args) {
  return RunServerOnly("reload", args, kReloadFlags, RemoteReload);
}

// shixind's history_days range (a base records from when its history is whole).
constexpr uint64_t kMaxHistoryDays = 36500;

// Returns InvalidArgument unless the flags name one base: --snapshot, --data or a positional
// data directory; --delta-sequence only with a data directory, --retarget only with a
// snapshot; --history-days in range.
absl::Status CheckCompileBase(const Flags& flags) {
  const size_t bases =
      (flags.Get("snapshot") ? 1 : 0) + (flags.Get("data") ? 1 : 0) + flags.positional().size();
  if (bases > 1) {
    return absl::InvalidArgumentError(
        "one base: --snapshot FILE, --data DIR or a data directory, not several");
  }
  if (flags.Get("delta-sequence") && flags.Get("snapshot")) {
    return absl::InvalidArgumentError(
        "--delta-sequence: a snapshot carries its own; it names the last delta file a data "
        "directory (a full re-issue of the list) contains");
  }
  if (flags.Has("retarget") && !flags.Get("snapshot")) {
    return absl::InvalidArgumentError(
        "--retarget moves a base snapshot (--snapshot FILE) to --catalog; a data directory is "
        "compiled against the catalog given");
  }
  SHIXIN_ASSIGN_OR_RETURN(const uint64_t history_days,
                          flags.GetUint("history-days", kDefaultHistoryDays));
  if (history_days < 1 || history_days > kMaxHistoryDays) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--history-days %d is out of range (1..%d, as shixind's history_days)",
                        history_days, kMaxHistoryDays));
  }
  SHIXIN_ASSIGN_OR_RETURN(const uint64_t settle_ms, flags.GetUint("delta-settle-ms", 1000));
  if (settle_ms > kMaxDeltaSettleMs) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--delta-settle-ms %d is out of range (0..%d, as shixind's delta_settle_ms)", settle_ms,
        kMaxDeltaSettleMs));
  }
  return absl::OkStatus();
}

// Returns the last delta file of `dir` compaction may fold: it waits, as shixind does, until no
// file after `after` has changed for `settle`, so that a file written in place is folded whole,
// never in part (the lines written afterwards would never be read). A file still changing after
// kMaxSettleWait is left, with the files after it, for the next compaction, said in a note.
uint64_t SettledDeltaSequence(const std::string& dir, uint64_t after, absl::Duration settle) {
  constexpr absl::Duration kMaxSettleWait = absl::Seconds(60);
  const absl::Time deadline = absl::Now() + kMaxSettleWait;
  for (;;) {
    const absl::Time now = absl::Now();
    const std::optional<UnsettledDeltaFile> file = FirstUnsettledDeltaFile(dir, after, settle, now);
    if (!file) return std::numeric_limits<uint64_t>::max();
    if (now + settle - file->age > deadline) {
      std::fprintf(stderr,
                   "shixin compile: note: %s changed %s ago and kept changing for %s (still "
                   "being written?): it and the files after it are left for the next compaction "
                   "(shixind applies them meanwhile)\n",
                   file->path.c_str(),
                   absl::FormatDuration(absl::Trunc(file->age, absl::Milliseconds(1))).c_str(),
                   absl::FormatDuration(kMaxSettleWait).c_str());
      return file->sequence - 1;
    }
    absl::SleepFor(settle - file->age);
  }
}

// Returns the base `shixin compile` starts from: the snapshot file of --snapshot (compiled
// against `catalog`, the file `catalog_path`; with --retarget against any catalog, which goes
// to `old_catalog`), or the data directory of --data or the positional argument.
// A data directory's load report goes to `report`.
absl::StatusOr<std::unique_ptr<const Snapshot>> CompileBase(const Flags& flags,
                                                            const Catalog& catalog,
                                                            const std::string& catalog_path,
                                                            CatalogIdentity* old_catalog,
                                                            LoadReport* report) {
  if (const std::optional<std::string> snapshot = flags.Get("snapshot")) {
    if (!flags.Has("retarget")) {
      return OpenSnapshotFile(*snapshot, catalog.fingerprint(), nullptr, 0, catalog_path);
    }
    // Nothing in a snapshot depends on the catalog (the measures are matched at each query):
    // the tables are written again as they are, under the new catalog's stamp.
    SnapshotFileHeader header;
    absl::StatusOr<std::unique_ptr<const Snapshot>> base =
        OpenSnapshotFile(*snapshot, /*expected_catalog_fingerprint=*/0, &header);
    if (base.ok()) *old_catalog = header.catalog;
    return base;
  }
  if (flags.positional().empty()) return LoadData(flags, std::nullopt, report);
  return LoadData(flags, flags.positional()[0], report);
}

// Returns the base with the delta files of --deltas folded in (compaction), or the base alone.
// A snapshot file without --deltas is compacted on its own: written again in this build's
// format (an upgrade's path for a base of the format before), less the expired history; a
// base moved to another catalog (--retarget) keeps all its history unless --history-days.
absl::StatusOr<std::unique_ptr<const Snapshot>> FoldDeltas(const Flags& flags,
                                                           std::unique_ptr<const Snapshot> base) {
  const std::optional<std::string> dir = flags.Get("deltas");
  if (!dir && !base->from_file()) return base;
  // CheckCompileBase() checked its range.
  SHIXIN_ASSIGN_OR_RETURN(
      const int64_t history_days,
      flags.GetUint("history-days", flags.Has("retarget") ? kMaxHistoryDays : kDefaultHistoryDays));
  std::unique_ptr<const Overlay> overlay;
  DeltaReport report;
  if (dir) {
    // CheckCompileBase() checked its range.
    SHIXIN_ASSIGN_OR_RETURN(const uint64_t settle_ms, flags.GetUint("delta-settle-ms", 1000));
    const uint64_t up_to =
        SettledDeltaSequence(*dir, base->info().delta_sequence, absl::Milliseconds(settle_ms));
    absl::StatusOr<std::unique_ptr<const Overlay>> applied =
        ApplyDeltaDir(*base, *dir, &report, up_to);
    if (!applied.ok()) {
      return absl::Status(
          applied.status().code(),
          absl::StrFormat("deltas %s: %s; nothing written", *dir, applied.status().message()));
    }
    for (const std::string& note : report.notes) {
      std::fprintf(stderr, "shixin compile: note: %s\n", note.c_str());
    }
    overlay = *std::move(applied);
  }
  return Compact(
      ListView(*base, overlay.get()),
      CompactionOptions{.history_days = history_days, .source_time = report.newest_file_time});
}

// Returns the files `shixin compile` reads the list from, whose access the snapshot keeps:
// the base snapshot of --snapshot, or the data directory's debtors.ndjson and relations.ndjson.
std::vector<std::string> CompileSources(const Flags& flags) {
  if (const std::optional<std::string> snapshot = flags.Get("snapshot")) return {*snapshot};
  const std::string dir =
      flags.positional().empty() ? flags.Get("data").value_or(".") : flags.positional()[0];
  return {absl::StrCat(dir, "/", kDebtorsFile), absl::StrCat(dir, "/", kRelationsFile)};
}

int RunCompile(const std::vector<std::string>& args) {
  absl::StatusOr<Flags> flags = Flags::Parse(WithShortOut(args), {{"data", true},
                                                                  {"snapshot", true},
                                                                  {"deltas", true},
                                                                  {"delta-sequence", true, true},
                                                                  {"history-days", true, true},
                                                                  {"delta-settle-ms", true, true},
                                                                  {"out", true},
                                                                  {"catalog", true},
                                                                  {"max-errors", true, true},
                                                                  {"allow-empty", false},
                                                                  {"retarget", false}});
  if (!flags.ok()) return UsageError("compile", flags.status());
  const std::optional<std::string> out = flags->Get("out");
  if (!out) return UsageError("compile", absl::InvalidArgumentError("-o FILE is required"));
  // export, report and notice take "-o -" for standard output; a snapshot is for shixind to
  // map, not a stream: refused rather than written to a file named "-".
  if (*out == "-") {
    return UsageError("compile", absl::InvalidArgumentError(
                                     "-o -: a snapshot is written to a file (shixind maps it), "
                                     "not to standard output"));
  }
  if (const int status = CheckOutput("compile", *out); status != kExitOk) return status;
  if (absl::Status base = CheckCompileBase(*flags); !base.ok()) return UsageError("compile", base);
  // The snapshot records the catalog it is compiled against; shixind refuses another one.
  const std::string catalog_path = flags->Get("catalog").value_or(DefaultCatalogPath());
  absl::StatusOr<Catalog> catalog = Catalog::LoadFile(catalog_path);
  if (!catalog.ok()) {
    std::fprintf(stderr, "shixin compile: %s\n", std::string(catalog.status().message()).c_str());
    return kExitLoad;
  }
  const absl::Time start = absl::Now();
  LoadReport report;
  CatalogIdentity old_catalog{catalog->id(), catalog->fingerprint()};
  auto base = CompileBase(*flags, *catalog, catalog_path, &old_catalog, &report);
  if (!base.ok()) {
    std::fprintf(stderr, "shixin compile: %s\n", std::string(base.status().message()).c_str());
    return flags->Get("snapshot") || flags->Get("data") || !flags->positional().empty()
               ? kExitLoad
               : kExitUsage;
  }
  auto snap = FoldDeltas(*flags, *std::move(base));
  if (!snap.ok()) {
    std::fprintf(stderr, "shixin compile: %s\n", std::string(snap.status().message()).c_str());
    return kExitLoad;
  }
  // shixind never serves an empty list ("not listed" for everyone): a feed job's
  // `compile && mv` must not install one that the next restart fails on.
  if ((*snap)->info().subjects == 0 && !flags->Has("allow-empty")) {
    std::fprintf(stderr,
                 "shixin compile: the list is empty (0 subjects: %s), which shixind refuses "
                 "to serve; %s not written\n",
                 EmptyListReason((*snap)->info()).c_str(), out->c_str());
    return kExitLoad;
  }
  const absl::Time built = absl::Now();
  const absl::Status written = WriteSnapshotFile(
      **snap, CatalogIdentity{catalog->id(), catalog->fingerprint()}, *out, CompileSources(*flags));
  if (!written.ok()) {
    std::fprintf(stderr, "shixin compile: %s\n", std::string(written.message()).c_str());
    return kExitLoad;
  }
  const absl::Time done = absl::Now();
  const SnapshotInfo& info = (*snap)->info();
  const auto ms = [](absl::Duration d) { return absl::ToInt64Milliseconds(d); };
  // debtors.ndjson's lines that repeat a case as it is: one case (docs/feed.md section 1).
  const std::string merged =
      report.duplicates == 0 ? ""
                             : absl::StrFormat(" (%d duplicate lines merged)", report.duplicates);
  std::printf(
      "wrote %s: %llu subjects (%llu persons, %llu organizations), %llu cases%s, %llu relations, "
      "%llu entities; catalog %s (%016llx); index %.1f MiB, cases %.1f MiB; "
      "loaded and built in %lld ms, written in %lld ms\n",
      out->c_str(), static_cast<unsigned long long>(info.subjects),
      static_cast<unsigned long long>(info.persons),
      static_cast<unsigned long long>(info.organizations),
      static_cast<unsigned long long>(info.cases), merged.c_str(),
      static_cast<unsigned long long>(info.relations),
      static_cast<unsigned long long>(info.entities), catalog->id().c_str(),
      static_cast<unsigned long long>(catalog->fingerprint()),
      static_cast<double>((*snap)->IndexBytes()) / (1 << 20),
      static_cast<double>((*snap)->CaseBytes()) / (1 << 20),
      static_cast<long long>(ms(built - start)), static_cast<long long>(ms(done - built)));
  if (old_catalog.fingerprint != catalog->fingerprint()) {
    std::printf("moved from catalog %s (%016llx)\n", old_catalog.id.c_str(),
                static_cast<unsigned long long>(old_catalog.fingerprint));
  }
  if (info.delta_sequence != 0) {
    std::printf("deltas folded up to %llu\n", static_cast<unsigned long long>(info.delta_sequence));
  }
  if ((*snap)->history_from() != 0) {
    std::printf("history kept from %s\n", FormatInstant((*snap)->history_from()).c_str());
  }
  return kExitOk;
}

// Removes the delta files an earlier gen left in `dir`: made against another base, they would
// apply to the new one. Other files stay. Returns how many were removed.
absl::StatusOr<size_t> RemoveOldDeltas(const std::string& dir) {
  absl::StatusOr<std::vector<DeltaFile>> files = ListDeltaFiles(dir);
  if (absl::IsNotFound(files.status())) return 0;
  SHIXIN_RETURN_IF_ERROR(files.status());
  for (const DeltaFile& f : *files) {
    std::error_code error;
    if (!std::filesystem::remove(f.path, error)) {
      return absl::InternalError(
          absl::StrFormat("%s: cannot remove it: %s", f.path, error ? error.message() : "gone"));
    }
  }
  return files->size();
}

namespace {

// Returns OK if `today` (YYYYMMDD, 0: the current day) is a day gen can write a list for:
// subjects born up to 2005 have cases from the year they turn 19, so from 2024 on; subjects
// born from 1940 must be at most 150 (ingest's bound) when their cases are published, up to a
// few months after today (the grace share, the deltas' new cases), so up to 2089.
absl::Status CheckGenToday(uint64_t today) {
  if (today == 0) return absl::OkStatus();
  if (today < 10000101 || today > 99991231) {
    return absl::InvalidArgumentError(absl::StrFormat("--today %d: not a date (YYYYMMDD)", today));
  }
  // A day that survives the round trip through instants is a real date (20270229 is not).
  if (DayOf(DayStart(static_cast<uint32_t>(today))) != today) {
    return absl::InvalidArgumentError(absl::StrFormat("--today %d: no such day", today));
  }
  if (today < 20240101 || today > 20891231) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--today %d: outside the days gen writes a list for (2024-01-01 to 2089-12-31)", today));
  }
  return absl::OkStatus();
}

}  // namespace

int RunGen(const std::vector<std::string>& args) {
  absl::StatusOr<Flags> flags = Flags::Parse(args, {{"subjects", true, true},
                                                    {"seed", true, true},
                                                    {"out", true},
                                                    {"deltas", true, true},
                                                    {"changes-per-delta", true, true},
                                                    {"today", true, true}});
  if (!flags.ok()) return UsageError("gen", flags.status());
  const std::optional<std::string> out = flags->Get("out");
  if (!out) return UsageError("gen", absl::InvalidArgumentError("--out DIR is required"));
  absl::StatusOr<uint64_t> subjects = flags->GetUint("subjects", 1000);
  absl::StatusOr<uint64_t> seed = flags->GetUint("seed", 1);
  absl::StatusOr<uint64_t> deltas = flags->GetUint("deltas", 0);
  absl::StatusOr<uint64_t> changes = flags->GetUint("changes-per-delta", 1000);
  absl::StatusOr<uint64_t> today = flags->GetUint("today", 0);
  for (const absl::StatusOr<uint64_t>* value : {&subjects, &seed, &deltas, &changes, &today}) {
    if (!value->ok()) return UsageError("gen", value->status());
  }
  if (absl::Status s = CheckGenToday(*today); !s.ok()) return UsageError("gen", s);
  const SyntheticOptions options{*subjects, *seed, static_cast<uint32_t>(*today)};
  const std::string dir = *out + "/deltas";
  absl::StatusOr<size_t> removed = RemoveOldDeltas(dir);
  if (!removed.ok()) {
    std::fprintf(stderr, "shixin gen: %s\n", std::string(removed.status().message()).c_str());
    return kExitLoad;
  }
  if (*removed != 0) absl::PrintF("removed %s: %d delta files of an earlier run\n", dir, *removed);
  absl::StatusOr<SyntheticStats> stats = WriteSyntheticDataSet(options, *out);
  if (!stats.ok()) {
    std::fprintf(stderr, "shixin gen: %s\n", std::string(stats.status().message()).c_str());
    return kExitLoad;
  }
  absl::PrintF(
      "wrote %s: %d subjects (%d persons, %d organizations), %d cases (%d in their grace period: "
      "published after %d), %d relations\n",
      *out, stats->subjects, stats->persons, stats->organizations, stats->cases, stats->grace_cases,
      SyntheticToday(options), stats->relations);
  if (*deltas == 0) return kExitOk;
  absl::StatusOr<SyntheticDeltaStats> written =
      WriteSyntheticDeltas(options, SyntheticDeltaOptions{*deltas, *changes}, dir);
  if (!written.ok()) {
    std::fprintf(stderr, "shixin gen: %s\n", std::string(written.status().message()).c_str());
    return kExitLoad;
  }
  absl::PrintF(
      "wrote %s: %d delta files, %d adds, %d removes, %d revokes, %d corrects, %d relates, "
      "%d unrelates\n",
      dir, written->files, written->adds, written->removes, written->revokes, written->corrects,
      written->relates, written->unrelates);
  return kExitOk;
}

}  // namespace shixin
