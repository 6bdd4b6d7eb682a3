#include "export/public_export.h"

#include <array>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
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

// Returns the public values of `c`, in kCaseColumns' order.
std::array<std::string, kCaseColumns.size()> CaseValues(const CaseInfo& c) {
  return {c.case_code,
          c.court,
          c.area,
          c.gist_id,
          c.gist_unit,
          FormatDate(c.reg_date),
          FormatDate(c.publish_date),
          FormatDate(c.term_end),
          c.disrupt_type,
          c.performance};
}

// The public form of a listed subject.
struct PublicSubject {
  std::string kind;
  std::string name;
  std::string id;                         // a person's masked, an organisation's whole
  std::string legal_representative_name;  // organisations only
};

PublicSubject ToPublic(const Id& id, const CheckResult& r) {
  PublicSubject s;
  s.kind = std::string(SubjectKindName(r.kind));
  s.name = r.name;
  if (r.kind == SubjectKind::kPerson) {
    s.id = id.Masked();
    return s;
  }
  s.id = std::string(id.text());
  // The cases name the legal representative (businessEntity); else the relations feed does.
  for (const CaseInfo& c : r.cases) {
    if (!c.business_entity.empty()) {
      s.legal_representative_name = c.business_entity;
      return s;
    }
  }
  for (const RoleInfo& officer : r.officers) {
    if (officer.role == Role::kLegalRepresentative) {
      s.legal_representative_name = officer.name;
      break;
    }
  }
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
      absl::StrCat(CsvField(s.kind), ",", CsvField(s.name), ",", CsvField(s.id), ",",
                   CsvField(s.legal_representative_name));
  std::string rows;
  for (const CaseInfo& c : r.cases) {
    absl::StrAppend(&rows, subject);
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

std::string CsvField(std::string_view field) {
  const bool quote = field.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  if (!quote) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

absl::StatusOr<ExportCounts> WritePublicExport(const Snapshot& list, int64_t at,
                                               ExportFormat format, std::ostream& out) {
  if (format == ExportFormat::kCsv) {
    std::string header;
    for (std::string_view column : kSubjectColumns) {
      absl::StrAppend(&header, std::string(column), ",");
    }
    for (std::string_view column : kCaseColumns) absl::StrAppend(&header, std::string(column), ",");
    header.back() = '\n';
    out << header;
  }
  ExportCounts counts;
  for (EntityNo e = 0; e < list.entity_count(); ++e) {
    if (!list.IsListed(e, at)) continue;
    const Id id = list.EntityId(e);
    SHIXIN_ASSIGN_OR_RETURN(const CheckResult r, Check(list, id, at, /*with_cases=*/true));
    const PublicSubject s = ToPublic(id, r);
    out << (format == ExportFormat::kNdjson ? NdjsonLine(s, r) : CsvRows(s, r));
    ++counts.subjects;
    counts.cases += r.cases.size();
    if (!out) return absl::InternalError("the public export could not be written");
  }
  out.flush();
  if (!out) return absl::InternalError("the public export could not be written");
  return counts;
}

}  // namespace shixin
