#include "cli/report_commands.h"

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "core/catalog.h"
#include "core/paths.h"
#include "report/calendar.h"
#include "report/quarterly.h"
#include "report/report_render.h"

namespace shixin {
namespace {

const std::vector<FlagSpec> kReportFlags = {{"audit", true},  {"quarter", true}, {"caller", true},
                                            {"format", true}, {"out", true},     {"calendar", true},
                                            {"catalog", true}};

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "shixin report: %s\n", std::string(status.message()).c_str());
  return kExitLoad;
}

}  // namespace

int RunReport(const std::vector<std::string>& args) {
  absl::StatusOr<Flags> flags = Flags::Parse(WithShortOut(args), kReportFlags);
  if (!flags.ok()) return UsageError("report", flags.status());
  const std::optional<std::string> audit_dir = flags->Get("audit");
  const std::optional<std::string> quarter_text = flags->Get("quarter");
  if (!audit_dir || audit_dir->empty() || !quarter_text) {
    return UsageError("report",
                      absl::InvalidArgumentError("--audit DIR and --quarter are required"));
  }
  if (!flags->positional().empty()) {
    return UsageError("report", absl::InvalidArgumentError(
                                    absl::StrCat("unexpected argument ", flags->positional()[0])));
  }
  absl::StatusOr<report::Quarter> quarter = report::Quarter::Parse(*quarter_text);
  if (!quarter.ok()) return UsageError("report", quarter.status());
  const std::string format = flags->Get("format").value_or("html");
  if (format != "csv" && format != "json" && format != "html") {
    return UsageError("report", absl::InvalidArgumentError(
                                    absl::StrCat("--format ", format, ": csv, json or html")));
  }
  if (const int status = CheckOutput("report", flags->Get("out").value_or("-"));
      status != kExitOk) {
    return status;
  }
  absl::StatusOr<Catalog> catalog =
      Catalog::LoadFile(flags->Get("catalog").value_or(DefaultCatalogPath()));
  if (!catalog.ok()) return Fail(catalog.status());
  const std::string caller = flags->Get("caller").value_or("");
  // A calendar problem must not block the report: it goes where the due date would.
  absl::StatusOr<report::Calendar> calendar = report::Calendar::LoadShippedAndLocal(
      DefaultCalendarDir(), flags->Get("calendar").value_or(""), "--calendar DIR");
  absl::StatusOr<report::QuarterlyReport> built = report::BuildQuarterlyReport(
      *audit_dir, *quarter, caller, *catalog, calendar.ok() ? &*calendar : nullptr,
      calendar.ok() ? "" : std::string(calendar.status().message()));
  if (!built.ok()) return Fail(built.status());
  // A mistyped caller id would look like a caller that asked nothing: say so, and report anyway.
  if (!caller.empty() && built->empty() && built->feedback_outside == 0) {
    std::fprintf(stderr, "shixin report: no record of caller \"%s\" in the audit for %s\n",
                 caller.c_str(), quarter->ToString().c_str());
  }
  // Also on the terminal: whoever files the report must not miss it.
  for (const std::string* note : {&built->incomplete_note, &built->damage_note}) {
    if (!note->empty()) std::fprintf(stderr, "shixin report: %s\n", note->c_str());
  }
  absl::StatusOr<std::string> text = report::Render(*built, format);
  if (!text.ok()) return Fail(text.status());
  if (std::optional<std::string> out = flags->Get("out"); out && *out != "-") {
    // A report replaced whole or not at all; 0600: it shows the callers' activity.
    if (absl::Status s = WriteFileAtomically(*out, *text, 0600); !s.ok()) return Fail(s);
  } else {
    std::fwrite(text->data(), 1, text->size(), stdout);
  }
  return kExitOk;
}

}  // namespace shixin
