#include "protocol/render.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "base/terminal.h"
#include "core/delta.h"
#include "core/id.h"
#include "core/validity.h"
#include "protocol/operator_messages.h"

namespace shixin {
namespace {

// Objects keep their keys in insertion order: the renderers add them in the documented order.
using Json = nlohmann::ordered_json;

// Returns `j` on one line. Invalid UTF-8 becomes U+FFFD (the default would throw, which
// aborts under -fno-exceptions).
std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// A case field's value; its C++ type says which form (core/record.h): a date as "2019-01-14",
// or null for 0.
Json CaseFieldJson(const std::string& text) { return text; }
Json CaseFieldJson(uint32_t date) { return date == 0 ? Json(nullptr) : Json(FormatDate(date)); }
Json CaseFieldJson(uint8_t n) { return n; }
Json CaseFieldJson(Sex sex) { return SexName(sex); }
Json CaseFieldJson(int64_t instant) {
  return instant == 0 ? Json(nullptr) : Json(FormatInstant(instant));
}
Json CaseFieldJson(EndReason end) { return EndReasonName(end); }

// The listing stretch's ends: RFC 3339, or null for since ever (0) and no known end (kForever).
Json SinceJson(int64_t since) { return since == 0 ? Json(nullptr) : Json(FormatInstant(since)); }
Json UntilJson(int64_t until) {
  return until == kForever ? Json(nullptr) : Json(FormatInstant(until));
}

// Whether a field is empty, 0 or unknown: then a json_optional field is left out.
template <typename T>
bool IsUnset(const T& value) {
  if constexpr (kIsCaseText<T>) {
    return value.empty();
  } else {
    return value == T{};
  }
}

Json CaseJson(const CaseInfo& c) {
  Json j = Json::object();
  ForEachCaseField(
      [&j](const CaseField& f, const auto& value) {
        if (!f.json_optional || !IsUnset(value)) j[f.json_key()] = CaseFieldJson(value);
      },
      c);
  return j;
}

Json RolesJson(std::string_view other_key, const std::vector<RoleInfo>& roles) {
  Json a = Json::array();
  for (const RoleInfo& r : roles) {
    Json o = Json::object();
    o["role"] = RoleName(r.role);
    o[other_key] = r.id;
    o["name"] = r.name;
    o["listed"] = r.listed;
    a.push_back(std::move(o));
  }
  return a;
}

// Returns the fields common to check and measures answers.
Json SubjectJson(const CheckResult& r, bool with_cases) {
  Json j = Json::object();
  j["id"] = r.id;
  j["listed"] = r.listed;
  j["related"] = r.related;
  j["kind"] = SubjectKindName(r.kind);
  j["name"] = r.name.empty() ? Json(nullptr) : Json(r.name);
  if (r.listed) {
    j["since"] = SinceJson(r.since);
    j["until"] = UntilJson(r.until);
  }
  if (with_cases) {
    Json cases = Json::array();
    for (const CaseInfo& c : r.cases) cases.push_back(CaseJson(c));
    j["cases"] = std::move(cases);
  }
  j["roles"] = RolesJson("org", r.roles);
  if (r.kind == SubjectKind::kOrganization) j["officers"] = RolesJson("person", r.officers);
  return j;
}

Json BasisJson(const Basis& b) {
  Json j = Json::object();
  j["type"] = BasisTypeName(b.type);
  if (b.role) j["role"] = RoleName(*b.role);
  if (!b.officer.empty()) {
    j["officer"] = b.officer;
    if (!b.officer_name.empty()) j["officer_name"] = b.officer_name;
  }
  if (!b.via.empty()) {
    j["via"] = b.via;
    j["via_name"] = b.via_name;
  }
  if (b.via_role) j["via_role"] = RoleName(*b.via_role);
  return j;
}

std::string BasisText(const Basis& b) {
  switch (b.type) {
    case BasisType::kListed:
      return "listed";
    case BasisType::kRelated:
      return absl::StrFormat("%s of listed %s %s", RoleName(*b.role), b.via,
                             TerminalSafe(b.via_name));
    case BasisType::kOfficer:
      if (b.via.empty()) {
        return absl::StrFormat("officer %s %s (%s) is listed", b.officer,
                               TerminalSafe(b.officer_name), RoleName(*b.role));
      }
      return absl::StrFormat("officer %s %s (%s) is %s of listed %s %s", b.officer,
                             TerminalSafe(b.officer_name), RoleName(*b.role), RoleName(*b.via_role),
                             b.via, TerminalSafe(b.via_name));
  }
  return "";
}

std::string StatusWord(const CheckResult& r) {
  if (r.listed) return "LISTED";
  if (r.related) return "RELATED";
  return "not listed";
}

// The line of a listed subject's stretch, e.g. "  listed since 2018-08-20T00:00:00+08:00, no
// known end"; "" unless listed.
std::string StretchLine(const CheckResult& r) {
  if (!r.listed) return "";
  return absl::StrFormat("  listed since %s, %s\n", r.since == 0 ? "ever" : FormatInstant(r.since),
                         r.until == kForever ? "no known end" : "until " + FormatInstant(r.until));
}

// What a case line adds about the case's validity: its fixed term, and how it ended after the
// instant answered for (an as-of answer), e.g. "  term until 2028-05-31" or
// "  revoked since 2026-05-20T10:00:00+08:00 (should never have been listed)".
std::string CaseValidityText(const CaseInfo& c) {
  std::string out;
  if (c.term_end != 0) absl::StrAppend(&out, "  term until ", FormatDate(c.term_end));
  if (c.ended_at == 0) return out;
  const std::string at = FormatInstant(c.ended_at);
  switch (c.end) {
    case EndReason::kRevoked:
      absl::StrAppend(&out, "  revoked since ", at, " (should never have been listed)");
      break;
    case EndReason::kCorrected:
      absl::StrAppend(&out, "  corrected since ", at);
      break;
    default:
      absl::StrAppend(&out, "  removed since ", at, " (", std::string(EndReasonName(c.end)), ")");
      break;
  }
  return out;
}

// The line of an answer's receipt (version 4), e.g. "  receipt 9f2c41d0-3-1048576"; "" if none.
std::string ReceiptLine(std::string_view receipt) {
  if (receipt.empty()) return "";
  return absl::StrFormat("  receipt %s\n", receipt);
}

// An INFO time (Unix seconds) as RFC 3339 in China time, or `none` for 0.
std::string InstantOr(int64_t unix_seconds, std::string_view none) {
  return unix_seconds == 0 ? std::string(none) : FormatInstant(unix_seconds);
}

// The date of next_report_due, or "unknown".
std::string DueDate(uint32_t yyyymmdd) {
  return yyyymmdd == 0 ? std::string("unknown") : FormatDate(yyyymmdd);
}

}  // namespace

SubjectKind KindOfNormalisedId(std::string_view id) {
  // Any day will do: the kind does not depend on a resident ID's birth date being past.
  const absl::StatusOr<Id> parsed = ParseId(id, absl::CivilDay(9999, 12, 31));
  return parsed.ok() ? parsed->subject_kind() : SubjectKind::kPerson;
}

std::string CheckJson(const CheckResult& r, std::string_view receipt) {
  Json j = SubjectJson(r, /*with_cases=*/true);
  if (!receipt.empty()) j["receipt"] = receipt;
  return Dump(j);
}

std::string CheckAnswerJson(const CheckResult& r, const CheckCounts& counts,
                            std::string_view receipt) {
  Json j = SubjectJson(r, /*with_cases=*/false);
  // Empty arrays would read as "related through nothing": the counts are what is known.
  j.erase("roles");
  j.erase("officers");
  if (r.listed) j["case_count"] = counts.cases;
  if (r.listed || r.related) j["role_count"] = counts.roles;
  if (!receipt.empty()) j["receipt"] = receipt;
  return Dump(j);
}

std::string MeasuresJson(const MeasuresResult& r, std::string_view receipt) {
  Json j = SubjectJson(r.subject, /*with_cases=*/false);
  if (!receipt.empty()) j["receipt"] = receipt;
  Json measures = Json::array();
  for (const MeasureInfo& m : r.measures) {
    Json basis = Json::array();
    for (const Basis& b : m.basis) basis.push_back(BasisJson(b));
    Json o = Json::object();
    o["no"] = m.no;
    o["title"] = m.title;
    o["agency"] = m.agency;
    o["agency_name"] = m.agency_name;
    o["effect"] = EffectName(m.effect);
    o["basis"] = std::move(basis);
    measures.push_back(std::move(o));
  }
  j["measures"] = std::move(measures);
  return Dump(j);
}

std::string ErrorJson(std::string_view input, std::string_view error) {
  Json j = Json::object();
  j["input"] = input;
  j["error"] = error;
  return Dump(j);
}

std::string InfoJson(const wire::InfoResponse& i, uint8_t version) {
  const SnapshotInfo& s = i.snapshot;
  Json j = Json::object();
  j["version"] = absl::StrFormat("%016x", s.version);
  j["generation"] = i.generation;
  j["build_time"] = s.build_time;
  j["source_time"] = s.source_time;
  j["stale"] = i.stale;
  j["max_age_seconds"] = i.max_age_seconds;
  j["subjects"] = s.subjects;
  j["persons"] = s.persons;
  j["organizations"] = s.organizations;
  j["cases"] = s.cases;
  j["relations"] = s.relations;
  j["related_persons"] = s.related_persons;
  j["uptime_seconds"] = i.uptime_seconds;
  j["reload_state"] = wire::ReloadStateName(i.reload_state);
  j["last_reload_time"] = i.last_reload_time;
  j["last_reload_message"] = i.last_reload_message;
  j["catalog"] = i.catalog_id;
  j["catalog_fingerprint"] = absl::StrFormat("%016x", i.catalog_fingerprint);
  j["data_source"] = i.data_source;
  if (version >= 2) {
    const wire::DeltaInfo& d = i.deltas;
    j["deltas"] = Json{{"base_sequence", d.base_sequence},
                       {"sequence", d.sequence},
                       {"last_delta_time", d.last_delta_time},
                       {"lag_seconds", d.lag_seconds},
                       {"pending", d.pending},
                       {"applied_files", d.applied_files},
                       {"applied_changes", d.applied_changes},
                       {"notes", d.notes},
                       {"refusals", d.refusals},
                       {"gap", d.gap},
                       {"gap_after", d.gap_after},
                       {"overlay_subjects", d.overlay_subjects},
                       {"overlay_bytes", d.overlay_bytes},
                       {"refused", d.refused},
                       {"delta_error", d.delta_error}};
  }
  if (version >= 3) {
    const wire::SecurityInfo& sec = i.security;
    Json callers = Json::array();
    for (const wire::CallerCounters& c : sec.callers) {
      callers.push_back(Json{{"id", c.id},
                             {"requests", c.requests},
                             {"rate_limited", c.rate_limited},
                             {"denied", c.denied},
                             {"auth_failures", c.auth_failures}});
    }
    j["security"] = Json{{"mode", wire::SecurityModeName(sec.mode)},
                         {"caller", sec.caller_id},
                         {"callers", std::move(callers)}};
  }
  if (version >= 4) {
    const wire::AuditInfo& a = i.audit;
    j["audit"] = Json{{"state", wire::AuditStateName(a.state)},
                      {"error", a.error},
                      {"records", a.records},
                      {"bytes", a.bytes},
                      {"next_report_due", FormatDate(a.next_report_due)},
                      {"due_note", a.due_note},
                      {"receipts_without_feedback", a.receipts_without_feedback}};
  }
  return Dump(j);
}

std::string CatalogJson(const wire::CatalogResponse& c) {
  Json j = Json::object();
  j["id"] = c.id;
  j["title"] = c.title;
  j["fingerprint"] = absl::StrFormat("%016x", c.fingerprint);
  Json agencies = Json::array();
  for (const wire::CatalogAgency& a : c.agencies) {
    agencies.push_back(Json{{"id", a.id}, {"section", a.section}, {"name", a.name}});
  }
  j["agencies"] = std::move(agencies);
  Json scenarios = Json::array();
  for (const wire::CatalogScenario& s : c.scenarios) {
    scenarios.push_back(Json{{"id", s.id}, {"description", s.description}});
  }
  j["scenarios"] = std::move(scenarios);
  Json measures = Json::array();
  for (const wire::CatalogMeasure& m : c.measures) {
    measures.push_back(Json{{"no", m.no},
                            {"title", m.title},
                            {"agency", m.agency},
                            {"effect", EffectName(m.effect)},
                            {"scenarios", m.scenarios}});
  }
  j["measures"] = std::move(measures);
  return Dump(j);
}

std::string CheckText(const CheckResult& r, std::string_view receipt) {
  std::string out = absl::StrFormat("%s  %s  %s  %s\n", r.id, StatusWord(r),
                                    SubjectKindName(r.kind), TerminalSafe(r.name));
  out += StretchLine(r);
  out += ReceiptLine(receipt);
  for (const CaseInfo& c : r.cases) {
    absl::StrAppendFormat(&out, "  case %s  %s  filed %s  published %s  %s  %s%s\n",
                          TerminalSafe(c.case_code), TerminalSafe(c.court), FormatDate(c.reg_date),
                          FormatDate(c.publish_date), TerminalSafe(c.performance),
                          TerminalSafe(c.disrupt_type), CaseValidityText(c));
  }
  for (const RoleInfo& role : r.roles) {
    absl::StrAppendFormat(&out, "  %s of %s %s%s\n", RoleName(role.role), role.id,
                          TerminalSafe(role.name), role.listed ? " (listed)" : "");
  }
  for (const RoleInfo& o : r.officers) {
    absl::StrAppendFormat(&out, "  officer %s: %s %s%s\n", RoleName(o.role), o.id,
                          TerminalSafe(o.name), o.listed ? " (listed)" : "");
  }
  return out;
}

std::string CheckAnswerText(const CheckResult& r, const CheckCounts& counts,
                            std::string_view receipt) {
  std::string out = CheckText(r, receipt);
  if (r.listed || r.related) {
    absl::StrAppendFormat(&out, "  %s%d role(s) in listed organisations\n",
                          r.listed ? absl::StrFormat("%d case(s), ", counts.cases) : "",
                          counts.roles);
  }
  return out;
}

std::string MeasuresText(const MeasuresResult& r, std::string_view receipt) {
  std::string out = absl::StrFormat("%s  %s  %s  %s  %d measure(s)\n", r.subject.id,
                                    StatusWord(r.subject), SubjectKindName(r.subject.kind),
                                    TerminalSafe(r.subject.name), r.measures.size());
  out += StretchLine(r.subject);
  out += ReceiptLine(receipt);
  for (const MeasureInfo& m : r.measures) {
    absl::StrAppendFormat(&out, "  %2d  %-12s  %s  [%s]\n", m.no, EffectName(m.effect), m.title,
                          m.agency_name);
    for (const Basis& b : m.basis) {
      absl::StrAppendFormat(&out, "        because: %s\n", BasisText(b));
    }
  }
  return out;
}

std::string ErrorText(std::string_view input, std::string_view error) {
  return absl::StrFormat("%s  INVALID  %s\n", TerminalSafe(input), error);
}

std::string InfoText(const wire::InfoResponse& i, uint8_t version) {
  std::string out = absl::StrFormat(
      "snapshot %016x generation %d%s\n"
      "  base: %d subjects (%d persons, %d organizations), %d cases, %d relations, %d related "
      "persons\n"
      "  built %s, list written %s, uptime %ds, catalog %s (%016x)\n"
      "  last reload: %s%s%s\n  data: %s\n",
      i.snapshot.version, i.generation, i.stale ? " STALE" : "", i.snapshot.subjects,
      i.snapshot.persons, i.snapshot.organizations, i.snapshot.cases, i.snapshot.relations,
      i.snapshot.related_persons, InstantOr(i.snapshot.build_time, "unknown"),
      InstantOr(i.snapshot.source_time, "unknown"), i.uptime_seconds, i.catalog_id,
      i.catalog_fingerprint, wire::ReloadStateName(i.reload_state),
      i.last_reload_time == 0 ? "" : " at " + FormatInstant(i.last_reload_time),
      i.last_reload_message.empty() ? "" : ": " + i.last_reload_message, i.data_source);
  if (version < 2) return out;
  const wire::DeltaInfo& d = i.deltas;
  absl::StrAppendFormat(
      &out,
      "  deltas: base up to %d, applied up to %d, %d pending, last applied %s "
      "(lag %ds)\n"
      "  since start: %d files, %d changes, %d notes, %d refusals; overlay %d "
      "subjects, %d bytes\n",
      d.base_sequence, d.sequence, d.pending, InstantOr(d.last_delta_time, "never"), d.lag_seconds,
      d.applied_files, d.applied_changes, d.notes, d.refusals, d.overlay_subjects, d.overlay_bytes);
  if (d.gap) {
    absl::StrAppendFormat(&out, "  delta gap: %s is missing\n", DeltaFileName(d.gap_after + 1));
  }
  if (!d.refused.empty()) absl::StrAppendFormat(&out, "  delta refused: %s\n", d.refused);
  if (!d.delta_error.empty()) absl::StrAppendFormat(&out, "  delta error: %s\n", d.delta_error);
  if (version < 3) return out;
  const wire::SecurityInfo& sec = i.security;
  absl::StrAppendFormat(
      &out, "  security: mode %s%s, caller %s\n", wire::SecurityModeName(sec.mode),
      sec.mode == wire::SecurityMode::kOpen ? " (development, loopback only)" : "",
      sec.caller_id.empty() ? "(none)" : sec.caller_id);
  for (const wire::CallerCounters& c : sec.callers) {
    absl::StrAppendFormat(&out,
                          "  caller %s: %d requests, %d rate limited, %d denied, %d failed "
                          "authentications\n",
                          c.id, c.requests, c.rate_limited, c.denied, c.auth_failures);
  }
  if (version < 4) return out;
  const wire::AuditInfo& a = i.audit;
  absl::StrAppendFormat(
      &out,
      "  audit: %s, %d records, %d bytes; next report due %s%s, %d receipts "
      "without feedback since the daemon started\n",
      wire::AuditStateName(a.state), a.records, a.bytes, DueDate(a.next_report_due),
      a.due_note.empty() ? "" : " (" + a.due_note + ")", a.receipts_without_feedback);
  if (!a.error.empty()) absl::StrAppendFormat(&out, "  audit error: %s\n", a.error);
  return out;
}

std::string FeedbackJson(const wire::FeedbackRequest& request,
                         const wire::FeedbackResponse& response) {
  Json items = Json::array();
  for (const wire::FeedbackItem& item : request.items) {
    Json o{{"measure", item.measure}, {"outcome", wire::FeedbackOutcomeName(item.outcome)}};
    if (!item.reason.empty()) o["reason"] = item.reason;
    items.push_back(std::move(o));
  }
  Json j = Json::object();
  j["receipt"] = request.receipt;
  j["operator"] = request.operator_id;
  j["recorded"] = response.recorded;
  j["feedback_receipt"] = response.feedback_receipt;
  j["items"] = std::move(items);
  return Dump(j);
}

std::string FeedbackText(const wire::FeedbackRequest& request,
                         const wire::FeedbackResponse& response) {
  std::string out = absl::StrFormat("feedback on %s recorded: %d measure(s), receipt %s\n",
                                    TerminalSafe(request.receipt), response.recorded,
                                    TerminalSafe(response.feedback_receipt));
  for (const wire::FeedbackItem& item : request.items) {
    absl::StrAppendFormat(&out, "  %2d  %s%s\n", item.measure,
                          wire::FeedbackOutcomeName(item.outcome),
                          item.reason.empty() ? "" : ": " + TerminalSafe(item.reason));
  }
  return out;
}

std::string CatalogText(const wire::CatalogResponse& c) {
  std::string out = absl::StrFormat("catalog %s (%016x): %s\n", c.id, c.fingerprint, c.title);
  absl::StrAppendFormat(&out, "agencies (%d):\n", c.agencies.size());
  for (const wire::CatalogAgency& a : c.agencies) {
    absl::StrAppendFormat(&out, "  %-24s %s%s\n", a.id, a.section, a.name);
  }
  absl::StrAppendFormat(&out, "scenarios (%d):\n", c.scenarios.size());
  for (const wire::CatalogScenario& s : c.scenarios) {
    absl::StrAppendFormat(&out, "  %-24s %s\n", s.id, s.description);
  }
  absl::StrAppendFormat(&out, "measures (%d):\n", c.measures.size());
  for (const wire::CatalogMeasure& m : c.measures) {
    std::string scenarios;
    for (const std::string& s : m.scenarios) scenarios += (scenarios.empty() ? "" : " ") + s;
    absl::StrAppendFormat(&out, "  %2d  %-12s  %-20s  %s%s\n", m.no, EffectName(m.effect), m.agency,
                          m.title, scenarios.empty() ? "" : "  [" + scenarios + "]");
  }
  return out;
}

}  // namespace shixin
