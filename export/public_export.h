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

}  // namespace shixin

#endif  // SHIXIN_EXPORT_PUBLIC_EXPORT_H_
