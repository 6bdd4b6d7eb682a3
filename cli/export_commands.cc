#include "cli/export_commands.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "audit/reader.h"
#include "callers/callers_file.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "core/catalog.h"
#include "core/paths.h"
#include "core/validity.h"
#include "export/public_export.h"
#include "notice/notice.h"

namespace shixin {
namespace {

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
    {"public", false}, {"out", true}, {"format", true}, {"data", true}, {"max-errors", true}};

const std::vector<FlagSpec> kNoticeFlags = {
    {"receipt", true}, {"audit", true},      {"format", true},  {"out", true},
    {"data", true},    {"max-errors", true}, {"callers", true}, {"catalog", true}};

// Writes `text` to `path` ("-": standard output).
absl::Status WriteOutput(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::cout << text << std::flush;
    return std::cout ? absl::OkStatus() : absl::InternalError("cannot write standard output");
  }
  return WriteFileAtomically(path, text);  // a notice replaced whole or not at all
}

// Returns the issuing agency's name: the caller's name in the callers file at `callers_path`
// (if given), else the caller id.
absl::StatusOr<std::string> IssuerName(const std::optional<std::string>& callers_path,
                                       std::string_view caller_id) {
  if (!callers_path) return std::string(caller_id);
  absl::StatusOr<CallerTable> table = LoadCallersFile(*callers_path);
  if (!table.ok()) return table.status();
  const Caller* caller = table->Find(caller_id);
  return caller != nullptr ? caller->name : std::string(caller_id);
}

}  // namespace

int RunExport(const std::vector<std::string>& args) {
  absl::StatusOr<Flags> flags = Flags::Parse(WithShortOut(args), kExportFlags);
  if (!flags.ok()) return UsageError("export", flags.status());
  if (!flags->Has("public")) {
    return UsageError("export", absl::InvalidArgumentError(
                                    "--public is required (the public export is the only one)"));
  }
  const std::optional<std::string> path = flags->Get("out");
  if (!path) return UsageError("export", absl::InvalidArgumentError("-o FILE is required"));
  const std::optional<ExportFormat> format = ParseExportFormat(flags->Get("format").value_or(""));
  if (!format) {
    return UsageError("export", absl::InvalidArgumentError("--format ndjson|csv is required"));
  }
  if (!flags->Get("data")) {
    return UsageError("export", absl::InvalidArgumentError("--data DIR is required"));
  }
  auto snap = LoadData(*flags);
  if (!snap.ok()) return LoadFailed("export", snap.status());
  absl::StatusOr<ExportCounts> counts = absl::UnknownError("not written");
  absl::Status written;
  if (*path == "-") {
    counts = WritePublicExport(**snap, NowSeconds(), *format, std::cout);
    written = counts.status();
  } else {
    // The file the website serves is replaced whole or not at all (a full disk, a kill).
    written = WriteFileAtomically(*path, [&](int /*fd*/, const std::string& tmp) {
      std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
      counts = WritePublicExport(**snap, NowSeconds(), *format, file);
      if (!counts.ok()) return counts.status();
      file.close();
      return file ? absl::OkStatus() : absl::InternalError(absl::StrCat("cannot write ", tmp));
    });
  }
  if (!written.ok()) return LoadFailed("export", written);
  std::fprintf(stderr, "shixin export: %llu subjects, %llu cases\n",
               static_cast<unsigned long long>(counts->subjects),
               static_cast<unsigned long long>(counts->cases));
  return kExitOk;
}

int RunNotice(const std::vector<std::string>& args) {
  absl::StatusOr<Flags> flags = Flags::Parse(WithShortOut(args), kNoticeFlags);
  if (!flags.ok()) return UsageError("notice", flags.status());
  const std::optional<std::string> receipt_text = flags->Get("receipt");
  const std::optional<std::string> audit_dir = flags->Get("audit");
  if (!receipt_text || !audit_dir || !flags->Get("data")) {
    return UsageError("notice", absl::InvalidArgumentError(
                                    "--receipt R, --audit DIR and --data DIR are required"));
  }
  const std::string format = flags->Get("format").value_or("");
  if (format != "html" && format != "txt") {
    return UsageError("notice", absl::InvalidArgumentError("--format html|txt is required"));
  }
  absl::StatusOr<audit::Receipt> receipt = audit::Receipt::Parse(*receipt_text);
  if (!receipt.ok()) return UsageError("notice", receipt.status());
  absl::StatusOr<Catalog> catalog =
      Catalog::LoadFile(flags->Get("catalog").value_or(DefaultCatalogPath()));
  if (!catalog.ok()) return LoadFailed("notice", catalog.status());
  absl::StatusOr<audit::ReceiptRecords> answer = audit::LookUpReceipt(*audit_dir, *receipt);
  if (!answer.ok()) return LoadFailed("notice", answer.status());
  absl::StatusOr<std::string> issuer = IssuerName(flags->Get("callers"), answer->query.caller);
  if (!issuer.ok()) return LoadFailed("notice", issuer.status());
  auto snap = LoadData(*flags);
  if (!snap.ok()) return LoadFailed("notice", snap.status());
  absl::StatusOr<NoticeSubject> subject = NoticeSubjectFromList(**snap, answer->query);
  if (!subject.ok()) return LoadFailed("notice", subject.status());
  NoticeInput input{.record = answer->query,
                    .receipt = *receipt,
                    .issuer = *issuer,
                    .subject = std::move(*subject),
                    .catalog = &*catalog,
                    .feedback = CallerFeedback(*answer),
                    .date = NowSeconds()};
  const std::string text = format == "html" ? RenderNoticeHtml(input) : RenderNoticeText(input);
  if (absl::Status s = WriteOutput(flags->Get("out").value_or("-"), text); !s.ok()) {
    return LoadFailed("notice", s);
  }
  return kExitOk;
}

}  // namespace shixin
