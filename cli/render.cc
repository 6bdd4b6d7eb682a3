#include "cli/render.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/json_writer.h"

namespace shixin {
namespace {

std::string_view SexName(uint8_t sex) { return sex == 1 ? "male" : sex == 2 ? "female" : ""; }

void WriteDate(JsonWriter& w, std::string_view key, uint32_t date) {
  w.Key(key);
  if (date == 0) {
    w.Null();
  } else {
    w.String(FormatDate(date));
  }
}

void WriteCase(JsonWriter& w, const CaseInfo& c) {
  w.BeginObject();
  w.Key("case_code").String(c.case_code);
  w.Key("court").String(c.court);
  w.Key("area").String(c.area);
  WriteDate(w, "reg_date", c.reg_date);
  WriteDate(w, "publish_date", c.publish_date);
  w.Key("gist_id").String(c.gist_id);
  w.Key("gist_unit").String(c.gist_unit);
  w.Key("duty").String(c.duty);
  w.Key("performance").String(c.performance);
  w.Key("performed_part").String(c.performed_part);
  w.Key("unperform_part").String(c.unperform_part);
  w.Key("conduct").String(c.disrupt_type);
  if (!c.business_entity.empty()) w.Key("legal_representative_name").String(c.business_entity);
  if (c.age != 0) w.Key("age").Int(c.age);
  if (c.sex != 0) w.Key("sex").String(SexName(c.sex));
  w.EndObject();
}

void WriteRoles(JsonWriter& w, std::string_view key, std::string_view other_key,
                const std::vector<RoleInfo>& roles) {
  w.Key(key).BeginArray();
  for (const RoleInfo& r : roles) {
    w.BeginObject();
    w.Key("role").String(RoleName(r.role));
    w.Key(other_key).String(r.id);
    w.Key("name").String(r.name);
    w.Key("listed").Bool(r.listed);
    w.EndObject();
  }
  w.EndArray();
}

// Writes the fields common to check and measures answers (inside an open object).
void WriteSubject(JsonWriter& w, const CheckResult& r, bool with_cases) {
  w.Key("id").String(r.id);
  w.Key("listed").Bool(r.listed);
  w.Key("related").Bool(r.related);
  w.Key("kind").String(SubjectKindName(r.kind));
  w.Key("name");
  if (r.name.empty()) {
    w.Null();
  } else {
    w.String(r.name);
  }
  if (with_cases) {
    w.Key("cases").BeginArray();
    for (const CaseInfo& c : r.cases) WriteCase(w, c);
    w.EndArray();
  }
  WriteRoles(w, "roles", "org", r.roles);
  if (r.kind == SubjectKind::kOrganization) WriteRoles(w, "officers", "person", r.officers);
}

void WriteBasis(JsonWriter& w, const Basis& b) {
  w.BeginObject();
  w.Key("type").String(BasisTypeName(b.type));
  if (b.role) w.Key("role").String(RoleName(*b.role));
  if (!b.officer.empty()) {
    w.Key("officer").String(b.officer);
    if (!b.officer_name.empty()) w.Key("officer_name").String(b.officer_name);
  }
  if (!b.via.empty()) {
    w.Key("via").String(b.via);
    w.Key("via_name").String(b.via_name);
  }
  if (b.via_role) w.Key("via_role").String(RoleName(*b.via_role));
  w.EndObject();
}

std::string BasisText(const Basis& b) {
  switch (b.type) {
    case BasisType::kListed:
      return "listed";
    case BasisType::kRelated:
      return absl::StrFormat("%s of listed %s %s", RoleName(*b.role), b.via, b.via_name);
    case BasisType::kOfficer:
      if (b.via.empty()) {
        return absl::StrFormat("officer %s %s (%s) is listed", b.officer, b.officer_name,
                               RoleName(*b.role));
      }
      return absl::StrFormat("officer %s %s (%s) is %s of listed %s %s", b.officer, b.officer_name,
                             RoleName(*b.role), RoleName(*b.via_role), b.via, b.via_name);
  }
  return "";
}

std::string StatusWord(const CheckResult& r) {
  if (r.listed) return "LISTED";
  if (r.related) return "RELATED";
  return "not listed";
}

}  // namespace

std::string FormatDate(uint32_t d) {
  if (d == 0) return "";
  return absl::StrFormat("%04d-%02d-%02d", d / 10000, d / 100 % 100, d % 100);
}

std::string CheckJson(const CheckResult& r) {
  JsonWriter w;
  w.BeginObject();
  WriteSubject(w, r, /*with_cases=*/true);
  w.EndObject();
  return w.str();
}

std::string MeasuresJson(const MeasuresResult& r) {
  JsonWriter w;
  w.BeginObject();
  WriteSubject(w, r.subject, /*with_cases=*/false);
  w.Key("measures").BeginArray();
  for (const MeasureInfo& m : r.measures) {
    w.BeginObject();
    w.Key("no").Int(m.no);
    w.Key("title").String(m.title);
    w.Key("agency").String(m.agency);
    w.Key("agency_name").String(m.agency_name);
    w.Key("effect").String(EffectName(m.effect));
    w.Key("basis").BeginArray();
    for (const Basis& b : m.basis) WriteBasis(w, b);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.str();
}

std::string ErrorJson(std::string_view input, std::string_view error) {
  JsonWriter w;
  w.BeginObject().Key("input").String(input).Key("error").String(error).EndObject();
  return w.str();
}

std::string CheckText(const CheckResult& r) {
  std::string out =
      absl::StrFormat("%s  %s  %s  %s\n", r.id, StatusWord(r), SubjectKindName(r.kind), r.name);
  for (const CaseInfo& c : r.cases) {
    absl::StrAppendFormat(&out, "  case %s  %s  filed %s  published %s  %s  %s\n", c.case_code,
                          c.court, FormatDate(c.reg_date), FormatDate(c.publish_date),
                          c.performance, c.disrupt_type);
  }
  for (const RoleInfo& role : r.roles) {
    absl::StrAppendFormat(&out, "  %s of %s %s%s\n", RoleName(role.role), role.id, role.name,
                          role.listed ? " (listed)" : "");
  }
  for (const RoleInfo& o : r.officers) {
    absl::StrAppendFormat(&out, "  officer %s: %s %s%s\n", RoleName(o.role), o.id, o.name,
                          o.listed ? " (listed)" : "");
  }
  return out;
}

std::string MeasuresText(const MeasuresResult& r) {
  std::string out =
      absl::StrFormat("%s  %s  %s  %s  %d measure(s)\n", r.subject.id, StatusWord(r.subject),
                      SubjectKindName(r.subject.kind), r.subject.name, r.measures.size());
  for (const MeasureInfo& m : r.measures) {
    absl::StrAppendFormat(&out, "  %2d  %-12s  %s  [%s]\n", m.no, EffectName(m.effect), m.title,
                          m.agency_name);
    for (const Basis& b : m.basis)
      absl::StrAppendFormat(&out, "        because: %s\n", BasisText(b));
  }
  return out;
}

std::string ErrorText(std::string_view input, std::string_view error) {
  return absl::StrFormat("%s  INVALID  %s\n", input, error);
}

}  // namespace shixin
