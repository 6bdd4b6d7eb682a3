// The public export (issue 12): what the public website may show of the list, every subject
// listed at an instant, as NDJSON (one subject a line, its cases inside) or CSV (one case a
// row). It carries names, persons' IDs masked (Id::Masked(): first 10 + "****" + last 4),
// organisations' codes whole and their legal representatives' names (a CSV row its case's
// businessEntity, an NDJSON subject the latest case's; the relations feed's where a case names
// none), and per case the court, case number, basis document, dates, conduct (失信行为情形) and
// performance. Never a related person (an organisation's legal representative's name aside),
// never a whole person ID (one the court wrote into a name or another text it prints, as a
// businessEntity holding an ID, whole or in the groups of a form, is masked: MaskIdsInText()),
// and no free texts (duty, performed and unperformed parts) that could carry a third party's ID.
//
// Thread safety: reentrant; the list is only read.
#ifndef SHIXIN_EXPORT_PUBLIC_EXPORT_H_
#define SHIXIN_EXPORT_PUBLIC_EXPORT_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/list.h"

namespace shixin {

enum class ExportFormat : uint8_t { kNdjson = 0, kCsv = 1 };

// Returns the format named "ndjson" or "csv", or nullopt.
std::optional<ExportFormat> ParseExportFormat(std::string_view name);

struct ExportCounts {
  uint64_t subjects = 0;  // subjects written
  uint64_t cases = 0;     // cases written (CSV rows but the header)
};

// Writes every subject of `list` (a base and the deltas applied on it) listed at `at` (Unix
// seconds), with the cases that count at `at`, to `out` in `format`: the base's subjects in
// its order, then those the deltas brought, by ID. CSV: a UTF-8 byte order mark (spreadsheets
// on Chinese Windows read UTF-8 only with it) and a header line first; RFC 4180 quoting,
// CRLF-free rows ending in "\n". In both formats the court's texts have a person's ID in them
// masked (MaskIdsInText()) and the display controls (base/display_controls.h: direction
// overrides, line separators) written as U+FFFD. Returns the counts, DataLoss when a snapshot
// file's case data changed since it was opened, or Internal when `out` fails.
absl::StatusOr<ExportCounts> WritePublicExport(const ListView& list, int64_t at,
                                               ExportFormat format, std::ostream& out);

// The manifest of a public export (`shixin export --public --manifest`): what the file is drawn
// from and what it holds, so that a consumer can date it, match it with the daemon's list and
// tell it whole. The file itself carries none of it: its rows stay plain CSV / NDJSON.
struct ExportManifest {
  std::string file;  // the export's file name, without its directory; "": standard output
  ExportFormat format = ExportFormat::kNdjson;
  int64_t as_of = 0;                 // the instant listed (Unix seconds)
  uint64_t list_version = 0;         // the base's content hash (SnapshotInfo::version)
  int64_t base_source_time = 0;      // the base's SnapshotInfo::source_time; 0: unknown
  uint64_t base_delta_sequence = 0;  // the last delta folded into the base
  uint64_t delta_sequence = 0;       // the last delta applied (the base's if none)
  ExportCounts counts;
  uint64_t bytes = 0;  // the file's size
  std::string sha256;  // the file's SHA-256, 64 lower-case hex digits
};

// Returns `manifest` as a JSON object (keys in this order, two-space indented, ending in "\n"):
// "manifest": 1 (this layout), "file" (null for standard output), "format", "as_of" (RFC 3339,
// China Standard Time), "list": {"version" (16 hex digits, as shixind's JSON answers and status
// page show it), "base_source_time" (RFC 3339 or null), "base_delta_sequence",
// "delta_sequence"}, "subjects", "cases", "rows" (the records after the CSV's header: the
// cases; NDJSON's lines: the subjects), "bytes", "sha256".
std::string ManifestJson(const ExportManifest& manifest);

}  // namespace shixin

#endif  // SHIXIN_EXPORT_PUBLIC_EXPORT_H_
