#include "cli/export_commands.h"

#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <streambuf>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "audit/node_id.h"
#include "audit/reader.h"
#include "base/status_macros.h"
#include "base/terminal.h"
#include "callers/caller_table.h"
#include "callers/callers_file.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/list_source.h"
#include "core/block_checksum.h"
#include "core/catalog.h"
#include "core/compaction.h"
#include "core/list.h"
#include "core/overlay.h"
#include "core/paths.h"
#include "core/snapshot_file.h"
#include "core/validity.h"
#include "export/public_export.h"
#include "notice/notice.h"

namespace shixin {
namespace {

// SHA-256 of bytes given in pieces (OpenSSL's EVP digest).
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    ok_ = ctx_ != nullptr && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1;
  }
  void Update(const char* data, size_t n) {
    ok_ = ok_ && EVP_DigestUpdate(ctx_.get(), data, n) == 1;
  }
  // Returns the digest of the bytes given, as 64 lower-case hex digits, or Internal if OpenSSL
  // failed. Call once.
  absl::StatusOr<std::string> Hex() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (!ok_ || EVP_DigestFinal_ex(ctx_.get(), digest.data(), &size) != 1) {
      return absl::InternalError("SHA-256 failed");
    }
    return absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(digest.data()), size));
  }

 private:
  struct Free {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
  bool ok_ = false;
};

// A std::ostream's buffer writing to an open descriptor, which it leaves open, and counting and
// digesting the bytes written (for the export's manifest).
class DescriptorBuffer : public std::streambuf {
 public:
  explicit DescriptorBuffer(int fd) : fd_(fd) { setp(buffer_, buffer_ + sizeof(buffer_)); }
  DescriptorBuffer(const DescriptorBuffer&) = delete;
  DescriptorBuffer& operator=(const DescriptorBuffer&) = delete;
  ~DescriptorBuffer() override { sync(); }
  // The errno of the failed write (EFBIG, ENOSPC), 0 before one.
  int error() const { return error_; }
  // The bytes written (not those still buffered: flush first).
  uint64_t bytes() const { return bytes_; }
  Sha256& digest() { return digest_; }

 protected:
  int_type overflow(int_type c) override {
    if (sync() != 0) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override {
    const size_t n = static_cast<size_t>(pptr() - pbase());
    if (n > 0 && !WriteAll(fd_, pbase(), n)) {
      error_ = errno;
      return -1;
    }
    digest_.Update(pbase(), n);
    bytes_ += n;
    setp(buffer_, buffer_ + sizeof(buffer_));
    return 0;
  }

 private:
  int fd_;
  int error_ = 0;
  uint64_t bytes_ = 0;
  Sha256 digest_;
  char buffer_[1 << 16];
};

// What an export wrote.
struct ExportWritten {
  ExportCounts counts;
  uint64_t bytes = 0;
  std::string sha256;
};

// Writes the public export of `list` at `at` in `format` through `fd` (`name` in messages).
// Returns what it wrote, or why it failed: the write's errno ("File too large", "No space
// left"), or WritePublicExport()'s error.
absl::StatusOr<ExportWritten> WriteExportTo(int fd, const std::string& name, const ListView& list,
                                            int64_t at, ExportFormat format) {
  DescriptorBuffer buffer(fd);
  std::ostream out(&buffer);
  absl::StatusOr<ExportCounts> counts = WritePublicExport(list, at, format, out);
  if (!counts.ok() && buffer.error() != 0) {  // say why
    return absl::ErrnoToStatus(buffer.error(), absl::StrCat(name, ": write"));
  }
  if (!counts.ok()) return counts.status();
  out.flush();
  if (!out) return absl::ErrnoToStatus(buffer.error(), absl::StrCat(name, ": write"));
  SHIXIN_ASSIGN_OR_RETURN(std::string sha256, buffer.digest().Hex());
  return ExportWritten{.counts = *counts, .bytes = buffer.bytes(), .sha256 = std::move(sha256)};
}

// Returns where the manifest of the export to `out` goes: --manifest FILE, else FILE.manifest.json
// beside `-o FILE`; nullopt with --no-manifest, or by default for standard output or a
// descriptor's name or device (`-o /dev/stdout`). InvalidArgument (a usage error) for both
// flags, an empty name, "-" (standard output carries `-o -`'s export or nothing) or the
// export's own name.
absl::StatusOr<std::optional<std::string>> ManifestPath(const Flags& flags,
                                                        const std::string& out) {
  const std::optional<std::string> given = flags.Get("manifest");
  if (flags.Has("no-manifest")) {
    if (given) return absl::InvalidArgumentError("--manifest and --no-manifest contradict");
    return std::nullopt;
  }
  if (!given) {
    if (out == "-" || IsWrittenThrough(out)) return std::nullopt;
    return absl::StrCat(out, ".manifest.json");
  }
  if (given->empty()) return absl::InvalidArgumentError("--manifest: empty file name");
  if (*given == "-") {
    return absl::InvalidArgumentError("--manifest -: the manifest is written to a file");
  }
  std::error_code error_given;
  std::error_code error_out;
  // The same file however named ("./p.csv", a link to it): the manifest would replace the export.
  if (*given == out || (std::filesystem::weakly_canonical(*given, error_given) ==
                            std::filesystem::weakly_canonical(out, error_out) &&
                        !error_given && !error_out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--manifest ", *given, ": the export's own file (-o)"));
  }
  return given;
}

// Writes the manifest of the export `written` of `list` at `at` to `manifest` (`out`: the
// export's -o). On failure, removes the manifest of an earlier export there, which describes a
// file no longer there, and returns why, saying the export itself was written.
absl::Status WriteManifest(const std::string& manifest, const std::string& out,
                           const LoadedList& list, int64_t at, ExportFormat format,
                           const ExportWritten& written) {
  const SnapshotInfo& info = list.base->info();
  const ExportManifest m{.file = out == "-" || IsWrittenThrough(out)
                                     ? std::string()
                                     : std::filesystem::path(out).filename().string(),
                         .format = format,
                         .as_of = at,
                         .list_version = info.version,
                         .base_source_time = info.source_time,
                         .base_delta_sequence = info.delta_sequence,
                         .delta_sequence = list.sequence,
                         .counts = written.counts,
                         .bytes = written.bytes,
                         .sha256 = written.sha256};
  absl::Status s = WriteFileAtomically(manifest, ManifestJson(m), 0644);
  if (s.ok()) return s;
  struct stat st;
  if (::lstat(manifest.c_str(), &st) == 0 && S_ISREG(st.st_mode)) ::unlink(manifest.c_str());
  return absl::Status(s.code(), absl::StrCat(out == "-" ? "standard output" : out,
                                             " was written, its manifest not: ", s.message()));
}

// Returns the entries of the receipt's feedback records in audit order (a correction after the
// entry it corrects), nullopt when there are none. Only the querying caller's: the daemon
// refuses another caller's feedback, and an audit written otherwise is not trusted.
std::optional<std::vector<audit::FeedbackEntry>> CallerFeedback(
    const audit::ReceiptRecords& found) {
  std::optional<std::vector<audit::FeedbackEntry>> entries;
  for (const audit::FeedbackRecord& f : found.feedback) {
    if (f.caller != found.query.caller) continue;
    if (!entries) entries.emplace();
    entries->insert(entries->end(), f.entries.begin(), f.entries.end());
  }
  return entries;
}

const std::vector<FlagSpec> kExportFlags = {
    {"public", false},  {"out", true},         {"format", true},           {"data", true},
    {"snapshot", true}, {"deltas", true},      {"max-errors", true, true}, {"catalog", true},
    {"manifest", true}, {"no-manifest", false}};

const std::vector<FlagSpec> kNoticeFlags = {
    {"receipt", true}, {"audit", true},    {"format", true}, {"out", true},
    {"data", true},    {"snapshot", true}, {"deltas", true}, {"max-errors", true, true},
    {"callers", true}, {"catalog", true},  {"issuer", true}};

// The lists of a notice (NoticeLists): the list given, and the answer's, its base with the
// delta files up to the last the answer was given after.
struct NoticeListsLoaded {
  LoadedList now;
  std::unique_ptr<const Overlay> answered;  // over now.base; unused when `same`
  bool same = true;                         // the answer's list is `now`
  bool exact = true;                        // NoticeLists::exact

  NoticeLists views() const {
    const ListView current = now.view();
    return NoticeLists{.answered = same ? current : ListView(*now.base, answered.get()),
                       .now = current,
                       .exact = exact};
  }
};

// Returns LoadList() and the answer's list on its base, or FailedPrecondition if the list is
// older than the answer `record` documents: a notice must not cite a case of an older list (a
// case since removed as performed) nor miss one the answer rested on. A newer list is the
// answer's with the delta files after it, which the notice reads for what changed since (a
// change sent after the answer with effect before it, too).
absl::StatusOr<NoticeListsLoaded> LoadNoticeLists(const Flags& flags, const Catalog& catalog,
                                                  const audit::QueryRecord& record) {
  NoticeListsLoaded lists;
  SHIXIN_ASSIGN_OR_RETURN(lists.now, LoadList(flags, catalog.fingerprint()));
  WarnIfStopped("notice", lists.now);  // the list shixind answers from meanwhile
  if (lists.now.sequence < record.delta_sequence) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the answer was given from the list with deltas up to %u, the list given has them up "
        "to %u: give the daemon's --deltas DIR (and its base)",
        record.delta_sequence, lists.now.sequence));
  }
  if (lists.now.sequence == record.delta_sequence) return lists;
  if (lists.now.base->info().delta_sequence > record.delta_sequence) {
    lists.exact = false;  // later deltas folded into the base: the answer's list is gone
    return lists;
  }
  DeltaReport report;
  SHIXIN_ASSIGN_OR_RETURN(lists.answered, ApplyDeltaDir(*lists.now.base, *flags.Get("deltas"),
                                                        &report, record.delta_sequence));
  lists.same = false;
  return lists;
}

// Writes `text` to `path` ("-": standard output).
absl::Status WriteOutput(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::cout << text << std::flush;
    return std::cout ? absl::OkStatus() : absl::InternalError("cannot write standard output");
  }
  // A notice replaced whole or not at all; 0600: a subject's full ID and cases.
  return WriteFileAtomically(path, text, 0600);
}

// What the notice takes from the callers file of --callers about the caller who asked.
struct CallerFacts {
  std::string name;        // "" without --callers, or if it lists no such caller
  uint64_t scenarios = 0;  // its default scenarios, as a mask of `catalog`'s indexes
};

// Returns the facts of `caller_id` in the callers file of --callers (none without it).
absl::StatusOr<CallerFacts> FactsOfCaller(const Flags& flags, const Catalog& catalog,
                                          std::string_view caller_id) {
  const std::optional<std::string> callers_path = flags.Get("callers");
  if (!callers_path) return CallerFacts{};
  absl::StatusOr<CallerTable> table = LoadCallersFile(*callers_path);
  if (!table.ok()) return table.status();
  const Caller* caller = table->Find(caller_id);
  if (caller == nullptr) return CallerFacts{};
  return CallerFacts{.name = caller->name, .scenarios = DefaultScenarioMask(*caller, catalog)};
}

// Returns why the list of `flags` lists no subject at `at`: the deltas unlisted the last, or
// the base lists none then (an empty base from --data is refused as it loads).
absl::Status EmptyExport(const Flags& flags, const LoadedList& list, int64_t at) {
  const std::string base = flags.Get("data") ? *flags.Get("data") : *flags.Get("snapshot");
  if (list.overlay != nullptr && ListView(*list.base).AnyListed(at)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the list is empty after its deltas: those of %s (up to %d) unlist every subject %s "
        "lists at %s; nothing written (an empty public list would say no one is listed)",
        *flags.Get("deltas"), list.sequence, base, FormatInstant(at)));
  }
  return absl::FailedPreconditionError(
      absl::StrFormat("%s: the list is empty (none of its %d cases counts at %s); nothing written",
                      base, list.base->info().cases, FormatInstant(at)));
}

}  // namespace

int RunExport(const std::vector<std::string>& args) {
  absl::StatusOr<Flags> flags = Flags::Parse(WithShortOut(args), kExportFlags);
  if (!flags.ok()) return UsageError("export", flags.status());
  if (!flags->Has("public")) {
    return UsageError("export", absl::InvalidArgumentError(
                                    "--public is required (the public export is the only one)"));
  }
  if (absl::Status s = flags->NoPositional(); !s.ok()) return UsageError("export", s);
  const std::optional<std::string> path = flags->Get("out");
  if (!path) return UsageError("export", absl::InvalidArgumentError("-o FILE is required"));
  const std::optional<std::string> format_text = flags->Get("format");
  const std::optional<ExportFormat> format = ParseExportFormat(format_text.value_or(""));
  if (!format) {
    return UsageError(
        "export", absl::InvalidArgumentError(format_text ? absl::StrCat("--format ", *format_text,
                                                                        ": expected ndjson or csv")
                                                         : "--format ndjson|csv is required"));
  }
  if (absl::Status s = CheckListSource(*flags); !s.ok()) return UsageError("export", s);
  if (const int status = CheckOutput("export", *path); status != kExitOk) return status;
  const absl::StatusOr<std::optional<std::string>> manifest = ManifestPath(*flags, *path);
  if (!manifest.ok()) return UsageError("export", manifest.status());
  if (*manifest) {
    if (const int status = CheckOutput("export", **manifest); status != kExitOk) return status;
  }
  absl::StatusOr<Catalog> catalog =
      Catalog::LoadFile(flags->Get("catalog").value_or(DefaultCatalogPath()));
  if (!catalog.ok()) return LoadFailed("export", catalog.status());
  absl::StatusOr<LoadedList> list = LoadList(*flags, catalog->fingerprint());
  if (!list.ok()) return LoadFailed("export", list.status());
  // Unlike an answer, a published list stopped short would keep showing the debtors the files
  // held back may remove, to everyone, until the next export (docs/audit.md).
  if (list->stopped()) {
    return LoadFailed("export", StoppedError(*list, "the public list is not written"));
  }
  // Refused as an empty base is: written over the published file, it would unlist everyone.
  const int64_t at = NowSeconds();
  if (!list->view().AnyListed(at)) return LoadFailed("export", EmptyExport(*flags, *list, at));
  absl::StatusOr<ExportWritten> written = absl::UnknownError("not written");
  if (*path == "-") {
    std::cout.flush();
    written = WriteExportTo(STDOUT_FILENO, "standard output", list->view(), at, *format);
  } else {
    // The file the website serves is replaced whole or not at all (a full disk, a kill).
    // Public: 0644 (less the umask). Written through the descriptor: its name is not opened again.
    const absl::Status s = WriteFileAtomically(*path, [&](int fd, const std::string& tmp) {
      // Through `fd` itself: reopening it by name would truncate the log behind `-o /dev/stdout`.
      written = WriteExportTo(fd, tmp, list->view(), at, *format);
      return written.status();
    });
    if (!s.ok()) written = s;
  }
  if (!written.ok()) return LoadFailed("export", written.status());
  // After the export is whole and in place: a manifest never describes a file not written.
  if (*manifest) {
    if (absl::Status s = WriteManifest(**manifest, *path, *list, at, *format, *written); !s.ok()) {
      return LoadFailed("export", s);
    }
  }
  const std::string manifest_note = *manifest ? absl::StrCat("; manifest ", **manifest) : "";
  std::fprintf(stderr, "shixin export: %llu subjects, %llu cases%s\n",
               static_cast<unsigned long long>(written->counts.subjects),
               static_cast<unsigned long long>(written->counts.cases), manifest_note.c_str());
  return kExitOk;
}

int RunNotice(const std::vector<std::string>& args) {
  absl::StatusOr<Flags> flags = Flags::Parse(WithShortOut(args), kNoticeFlags);
  if (!flags.ok()) return UsageError("notice", flags.status());
  if (absl::Status s = flags->NoPositional(); !s.ok()) return UsageError("notice", s);
  const std::optional<std::string> receipt_text = flags->Get("receipt");
  const std::optional<std::string> audit_dir = flags->Get("audit");
  if (!receipt_text || !audit_dir || !flags->Get("data") == !flags->Get("snapshot")) {
    return UsageError("notice",
                      absl::InvalidArgumentError("--receipt R, --audit DIR and one of --data DIR "
                                                 "or --snapshot FILE are required"));
  }
  const std::string format = flags->Get("format").value_or("");
  if (format != "html" && format != "txt") {
    return UsageError(
        "notice",
        absl::InvalidArgumentError(flags->Get("format")
                                       ? absl::StrCat("--format ", format, ": expected html or txt")
                                       : "--format html|txt is required"));
  }
  absl::StatusOr<audit::ParsedReceipt> receipt =
      audit::ParseAuditReceipt(*audit_dir, *receipt_text);
  if (absl::IsInvalidArgument(receipt.status())) return UsageError("notice", receipt.status());
  if (absl::IsNotFound(receipt.status())) {  // a keyed text the key does not open: no record
    LoadFailed("notice", receipt.status());
    return kExitInvalidId;
  }
  if (!receipt.ok()) return LoadFailed("notice", receipt.status());
  if (const int status = CheckOutput("notice", flags->Get("out").value_or("-"));
      status != kExitOk) {
    return status;
  }
  absl::StatusOr<Catalog> catalog =
      Catalog::LoadFile(flags->Get("catalog").value_or(DefaultCatalogPath()));
  if (!catalog.ok()) return LoadFailed("notice", catalog.status());
  absl::StatusOr<audit::ReceiptRecords> answer = audit::LookUpReceipt(*audit_dir, receipt->receipt);
  if (absl::IsNotFound(answer.status())) {  // as audit query and feedback: the receipt's fault
    LoadFailed("notice", answer.status());
    return kExitInvalidId;
  }
  if (!answer.ok()) return LoadFailed("notice", answer.status());
  absl::StatusOr<CallerFacts> caller = FactsOfCaller(*flags, *catalog, answer->query.caller);
  if (!caller.ok()) return LoadFailed("notice", caller.status());
  absl::StatusOr<NoticeListsLoaded> lists = LoadNoticeLists(*flags, *catalog, answer->query);
  if (!lists.ok()) return LoadFailed("notice", lists.status());
  absl::StatusOr<NoticeSubject> subject = NoticeSubjectFromList(
      lists->views(), *catalog, answer->query, answer->officers, caller->scenarios);
  if (!subject.ok()) return LoadFailed("notice", subject.status());
  NoticeInput input{.record = answer->query,
                    .receipt = *receipt_text,
                    // The issuing agency: --issuer, else the caller's name; else a blank to
                    // fill in by hand (a caller id such as "bank-a" is not a unit's name).
                    .issuer = flags->Get("issuer").value_or(caller->name),
                    .subject = std::move(*subject),
                    .catalog = &*catalog,
                    .feedback = CallerFeedback(*answer),
                    .date = NowSeconds()};
  if (ListedMeasures(input).empty()) {
    return LoadFailed("notice", absl::FailedPreconditionError(
                                    "the caller reported none of the answer's measures applied: "
                                    "no punishment notice"));
  }
  if (input.issuer.empty()) {
    std::fprintf(stderr,
                 "shixin notice: no name for caller \"%s\" (give --issuer NAME or --callers "
                 "FILE): the issuing unit is left blank, to fill in by hand\n",
                 TerminalSafe(answer->query.caller).c_str());
  }
  const std::string text = format == "html" ? RenderNoticeHtml(input) : RenderNoticeText(input);
  if (absl::Status s = WriteOutput(flags->Get("out").value_or("-"), text); !s.ok()) {
    return LoadFailed("notice", s);
  }
  return kExitOk;
}

}  // namespace shixin
