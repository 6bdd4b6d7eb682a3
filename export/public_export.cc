#include "export/public_export.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/csv.h"
#include "base/display_controls.h"
#include "base/status_macros.h"
#include "core/masking.h"
#include "core/query.h"
#include "core/validity.h"
#include "nlohmann/json.hpp"

namespace shixin {
namespace {

using Json = nlohmann::ordered_json;

// The public fields of one case, in the CSV's column order after the subject's columns.
constexpr std::array<std::string_view, 10> kCaseColumns = {
    "case_code", "court",        "area",     "gist_id", "gist_unit",
    "reg_date",  "publish_date", "term_end", "conduct", "performance"};
constexpr std::array<std::string_view, 4> kSubjectColumns = {"kind", "name", "id",
                                                             "legal_representative_name"};

// Returns the court's free text `text` as the public may see it: a person's ID written into it
// masked, and the characters that would reorder or break the line it is shown on (U+202E,
// U+2028: base/display_controls.h) as U+FFFD, in either format.
std::string PublicText(std::string_view text) {
  return ReplaceDisplayControls(MaskIdsInText(text));
}

// Returns the public values of `c`, in kCaseColumns' order, each a PublicText() (the dates have
// no run of digits to mask and no control).
std::array<std::string, kCaseColumns.size()> CaseValues(const CaseInfo& c) {
  std::array<std::string, kCaseColumns.size()> values = {c.case_code,
                                                         c.court,
                                                         c.area,
                                                         c.gist_id,
                                                         c.gist_unit,
                                                         FormatDate(c.reg_date),
                                                         FormatDate(c.publish_date),
                                                         FormatDate(c.term_end),
                                                         c.disrupt_type,
                                                         c.performance};
  for (std::string& value : values) value = PublicText(value);
  return values;
}

// The public form of a listed subject.
struct PublicSubject {
  std::string kind;
  std::string name;
  std::string id;                         // a person's masked, an organisation's whole
  std::string legal_representative_name;  // organisations only
};

// Returns the organisation's legal representative as the relations feed names it, or "".
std::string FeedLegalRepresentative(const CheckResult& r) {
  for (const RoleInfo& officer : r.officers) {
    if (officer.role == Role::kLegalRepresentative) return PublicText(officer.name);
  }
  return "";
}

PublicSubject ToPublic(const Id& id, const CheckResult& r) {
  PublicSubject s;
  s.kind = std::string(SubjectKindName(r.kind));
  s.name = PublicText(r.name);  // free text, as the legal representative's name below
  if (r.kind == SubjectKind::kPerson) {
    s.id = id.Masked();
    return s;
  }
  s.id = std::string(id.text());
  // The latest case naming one (the latest start; of equal ones, the later in the list) names
  // the legal representative now; older cases keep the one of their time (CSV rows).
  const CaseInfo* latest = nullptr;
  for (const CaseInfo& c : r.cases) {
    if (!c.business_entity.empty() && (latest == nullptr || c.start >= latest->start)) latest = &c;
  }
  s.legal_representative_name =
      latest != nullptr ? PublicText(latest->business_entity) : FeedLegalRepresentative(r);
  return s;
}

std::string NdjsonLine(const PublicSubject& s, const CheckResult& r) {
  Json j;
  j["kind"] = s.kind;
  j["name"] = s.name;
  j["id"] = s.id;
  if (r.kind == SubjectKind::kOrganization) {
    j["legal_representative_name"] = s.legal_representative_name;
  }
  j["since"] = r.since == 0 ? Json(nullptr) : Json(FormatInstant(r.since));
  j["until"] = r.until == kForever ? Json(nullptr) : Json(FormatInstant(r.until));
  Json cases = Json::array();
  for (const CaseInfo& c : r.cases) {
    const auto values = CaseValues(c);
    Json jc = Json::object();
    for (size_t i = 0; i < kCaseColumns.size(); ++i) {
      const bool is_date = kCaseColumns[i].ends_with("date") || kCaseColumns[i] == "term_end";
      jc[std::string(kCaseColumns[i])] =
          is_date && values[i].empty() ? Json(nullptr) : Json(values[i]);
    }
    cases.push_back(std::move(jc));
  }
  j["cases"] = std::move(cases);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string CsvRows(const PublicSubject& s, const CheckResult& r) {
  const std::string subject =
      absl::StrCat(CsvField(s.kind), ",", CsvField(s.name), ",", CsvField(s.id), ",");
  // A row is one case: its own legal representative (as `check` shows it), else the feed's.
  const std::string feed_representative =
      r.kind == SubjectKind::kOrganization ? FeedLegalRepresentative(r) : "";
  std::string rows;
  for (const CaseInfo& c : r.cases) {
    std::string representative;  // organisations only
    if (r.kind == SubjectKind::kOrganization) {
      representative =
          c.business_entity.empty() ? feed_representative : PublicText(c.business_entity);
    }
    absl::StrAppend(&rows, subject, CsvField(representative));
    for (const std::string& v : CaseValues(c)) absl::StrAppend(&rows, ",", CsvField(v));
    rows += '\n';
  }
  return rows;
}

}  // namespace

std::optional<ExportFormat> ParseExportFormat(std::string_view name) {
  if (name == "ndjson") return ExportFormat::kNdjson;
  if (name == "csv") return ExportFormat::kCsv;
  return std::nullopt;
}

absl::StatusOr<ExportCounts> WritePublicExport(const ListView& list, int64_t at,
                                               ExportFormat format, std::ostream& out) {
  if (format == ExportFormat::kCsv) {
    std::string header(kUtf8Bom);
    for (std::string_view column : kSubjectColumns) {
      absl::StrAppend(&header, std::string(column), ",");
    }
    for (std::string_view column : kCaseColumns) absl::StrAppend(&header, std::string(column), ",");
    header.back() = '\n';
    out << header;
  }
  ExportCounts counts;
  auto write = [&](const Id& id) -> absl::Status {
    const SubjectRef s = list.Find(id);
    if (!list.IsListed(s, at)) return absl::OkStatus();
    SHIXIN_ASSIGN_OR_RETURN(const CheckResult r, Check(list, id, s, at, /*with_cases=*/true));
    const PublicSubject p = ToPublic(id, r);
    out << (format == ExportFormat::kNdjson ? NdjsonLine(p, r) : CsvRows(p, r));
    ++counts.subjects;
    counts.cases += r.cases.size();
    return out ? absl::OkStatus() : absl::InternalError("the public export could not be written");
  };
  const Snapshot& base = list.base();
  for (EntityNo e = 0; e < base.entity_count(); ++e) {
    SHIXIN_RETURN_IF_ERROR(write(base.EntityId(e)));
  }
  if (list.overlay() != nullptr) {  // the subjects the deltas brought, in a stable order
    std::vector<Id> added;
    list.overlay()->ForEach([&](const OverlayEntity& e) {
      if (base.Find(e.id()) == kNoEntity) added.push_back(e.id());
    });
    std::sort(added.begin(), added.end(),
              [](const Id& a, const Id& b) { return a.text() < b.text(); });
    for (const Id& id : added) SHIXIN_RETURN_IF_ERROR(write(id));
  }
  out.flush();
  if (!out) return absl::InternalError("the public export could not be written");
  return counts;
}

std::string ManifestJson(const ExportManifest& manifest) {
  const bool csv = manifest.format == ExportFormat::kCsv;
  Json j = {{"manifest", 1},
            {"file", manifest.file.empty() ? Json(nullptr) : Json(manifest.file)},
            {"format", csv ? "csv" : "ndjson"},
            {"as_of", FormatInstant(manifest.as_of)}};
  j["list"] = {{"version", absl::StrFormat("%016x", manifest.list_version)},
               {"base_source_time", manifest.base_source_time != 0
                                        ? Json(FormatInstant(manifest.base_source_time))
                                        : Json(nullptr)},
               {"base_delta_sequence", manifest.base_delta_sequence},
               {"delta_sequence", manifest.delta_sequence}};
  j["subjects"] = manifest.counts.subjects;
  j["cases"] = manifest.counts.cases;
  j["rows"] = csv ? manifest.counts.cases : manifest.counts.subjects;
  j["bytes"] = manifest.bytes;
  j["sha256"] = manifest.sha256;
  // replace: a file name that is not UTF-8 is no reason to fail (nor to throw).
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace shixin
