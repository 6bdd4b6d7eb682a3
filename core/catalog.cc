#include "core/catalog.h"

#include <simdjson.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <climits>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "base/status_macros.h"
#include "core/paths.h"

namespace shixin {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// A measure's scenarios are a 64-bit mask.
constexpr size_t kMaxScenarios = 64;

constexpr std::array<std::string_view, kEffectCount> kEffectNames = {
    "restrict", "review", "notify_court", "assist_court", "publicity", "criminal",
};

// The keys each object may carry. Anything else is rejected: a misspelt rule key ("subject")
// would otherwise be silently ignored and change who a measure covers.
constexpr std::array<std::string_view, 6> kTopKeys = {"id",        "title",    "effective",
                                                      "scenarios", "agencies", "measures"};
constexpr std::array<std::string_view, 2> kScenarioKeys = {"id", "description"};
constexpr std::array<std::string_view, 3> kAgencyKeys = {"id", "section", "name"};
constexpr std::array<std::string_view, 12> kMeasureKeys = {
    "no",       "agency",  "title",  "clause",    "subjects",          "related_roles",
    "officers", "two_hop", "effect", "scenarios", "related_scenarios", "note",
};
constexpr std::array<std::string_view, 1> kOfficerKeys = {"listed_roles"};
constexpr std::array<std::string_view, 2> kTwoHopKeys = {"officer_roles", "via_roles"};

// The parsed catalog. Catalog's fields are private, so the loader fills this and
// Catalog::Parse moves it in.
struct Draft {
  std::string id;
  std::string title;
  std::vector<Measure> measures;
  std::vector<Agency> agencies;
  std::vector<Scenario> scenarios;
};

// Returns the index of the scenario `id` in `scenarios`, or -1.
int IndexOfScenario(const std::vector<Scenario>& scenarios, std::string_view id) {
  for (size_t i = 0; i < scenarios.size(); ++i) {
    if (scenarios[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

enum class Presence { kOptional, kRequired };

// This abseil build has its own string_view type, not std::string_view.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status Invalid(std::string_view where, std::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(Sv(where), ": ", Sv(message)));
}

std::string Quote(std::string_view s) { return absl::StrCat("\"", Sv(s), "\""); }

// Rejects unknown and repeated keys of `obj`.
absl::Status CheckKeys(object obj, std::span<const std::string_view> allowed,
                       std::string_view where) {
  std::vector<std::string_view> seen;
  for (auto field : obj) {
    if (std::find(allowed.begin(), allowed.end(), field.key) == allowed.end()) {
      return Invalid(where, absl::StrCat("unknown key ", Quote(field.key)));
    }
    if (std::find(seen.begin(), seen.end(), field.key) != seen.end()) {
      return Invalid(where, absl::StrCat("duplicate key ", Quote(field.key)));
    }
    seen.push_back(field.key);
  }
  return absl::OkStatus();
}

// Looks up `key`; *found tells whether it is present. A missing required key is an error.
absl::Status GetField(object obj, std::string_view key, Presence presence, std::string_view where,
                      element* value, bool* found) {
  *found = !obj.at_key(key).get(*value);
  if (!*found && presence == Presence::kRequired) {
    return Invalid(where, absl::StrCat("missing ", Quote(key)));
  }
  return absl::OkStatus();
}

// Reads string field `key`; an absent optional field leaves *out unchanged.
absl::Status GetString(object obj, std::string_view key, Presence presence, std::string_view where,
                       std::string_view* out) {
  element value;
  bool found = false;
  SHIXIN_RETURN_IF_ERROR(GetField(obj, key, presence, where, &value, &found));
  if (found && value.get_string().get(*out)) {
    return Invalid(where, absl::StrCat(Quote(key), " must be a string"));
  }
  return absl::OkStatus();
}

// Reads a required string that must hold more than white space.
absl::Status GetText(object obj, std::string_view key, std::string_view where,
                     std::string_view* out) {
  SHIXIN_RETURN_IF_ERROR(GetString(obj, key, Presence::kRequired, where, out));
  if (absl::StripAsciiWhitespace(Sv(*out)).empty()) {
    return Invalid(where, absl::StrCat(Quote(key), " must not be empty"));
  }
  return absl::OkStatus();
}

// Reads required array field `key`.
absl::Status GetArray(object obj, std::string_view key, std::string_view where, array* out) {
  element value;
  bool found = false;
  SHIXIN_RETURN_IF_ERROR(GetField(obj, key, Presence::kRequired, where, &value, &found));
  if (value.get_array().get(*out)) {
    return Invalid(where, absl::StrCat(Quote(key), " must be an array"));
  }
  return absl::OkStatus();
}

// Ids are typed on command lines and in URLs, so they are plain ASCII.
bool IsValidId(std::string_view id) {
  if (id.empty()) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '-';
  });
}

absl::Status GetId(object obj, std::string_view where, std::string_view* out) {
  SHIXIN_RETURN_IF_ERROR(GetString(obj, "id", Presence::kRequired, where, out));
  if (!IsValidId(*out)) {
    return Invalid(where, absl::StrCat("id ", Quote(*out),
                                       " must be lower-case ASCII letters, digits, '_' or '-'"));
  }
  return absl::OkStatus();
}

// A YYYY-MM-DD calendar date.
bool IsValidDate(std::string_view s) {
  // The shape first: absl::ParseCivilTime() would also take a sign, spaces or a longer year.
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!absl::ascii_isdigit(s[i])) return false;
  }
  // It refuses what is no day, as February 30. (This Abseil's string_view is its own type.)
  absl::CivilDay day;
  return absl::ParseCivilTime(absl::string_view(s.data(), s.size()), &day);
}

// Parses an array of role names into a set; an unknown or repeated role is an error, and so is
// an empty set when `non_empty`.
absl::Status ParseRoles(element value, std::string_view field, bool non_empty,
                        std::string_view where, RoleSet* out) {
  array roles;
  if (value.get_array().get(roles)) {
    return Invalid(where, absl::StrCat(Quote(field), " must be an array of roles"));
  }
  *out = 0;
  for (element item : roles) {
    std::string_view name;
    if (item.get_string().get(name)) {
      return Invalid(where, absl::StrCat(Quote(field), " must hold strings"));
    }
    std::optional<Role> role = RoleFromName(name);
    if (!role) return Invalid(where, absl::StrCat("unknown role ", Quote(name)));
    if (RoleSetHas(*out, *role)) {
      return Invalid(where, absl::StrCat("duplicate role ", Quote(name), " in ", Quote(field)));
    }
    *out |= RoleBit(*role);
  }
  if (non_empty && *out == 0) {
    return Invalid(where, absl::StrCat(Quote(field), " must not be empty"));
  }
  return absl::OkStatus();
}

// Reads the roles in field `key` of the rule object `obj` (officers, two_hop).
absl::Status GetRuleRoles(object obj, std::string_view rule, std::string_view key,
                          std::string_view where, RoleSet* out) {
  element value;
  const std::string field = absl::StrCat(Sv(rule), ".", Sv(key));
  if (obj.at_key(key).get(value)) return Invalid(where, absl::StrCat("missing ", Quote(field)));
  return ParseRoles(value, field, /*non_empty=*/true, where, out);
}

// Checks that the value of `rule` is an object with exactly the keys `allowed`.
absl::Status GetRuleObject(element value, std::string_view rule,
                           std::span<const std::string_view> allowed, std::string_view where,
                           object* out) {
  if (value.get_object().get(*out)) {
    return Invalid(where, absl::StrCat(Quote(rule), " must be an object"));
  }
  return CheckKeys(*out, allowed, absl::StrCat(Sv(where), ": ", Sv(rule)));
}

// Loads one catalog document into a Draft.
class Loader {
 public:
  Loader(std::string_view origin, Draft* draft) : origin_(origin), draft_(draft) {}

  absl::Status Load(std::string_view json);

 private:
  absl::Status LoadHeader(object root);
  absl::Status LoadScenarios(object root);
  absl::Status LoadAgencies(object root);
  absl::Status LoadMeasures(object root);
  absl::Status LoadMeasure(element value, size_t index);
  absl::Status LoadNumber(object obj, std::string_view where, int* no);
  absl::Status LoadAgencyRef(object obj, std::string_view where, Measure* m);
  absl::Status LoadSubjects(object obj, std::string_view where, Measure* m);
  absl::Status LoadRelated(object obj, std::string_view where, Measure* m);
  absl::Status LoadOfficers(object obj, std::string_view where, Measure* m);
  absl::Status LoadTwoHop(object obj, std::string_view where, Measure* m);
  absl::Status CheckCoverage(object obj, std::string_view where, Measure* m);
  absl::Status LoadEffect(object obj, std::string_view where, Measure* m);
  absl::Status LoadMeasureScenarios(object obj, std::string_view where, Measure* m);
  // ORs into `*mask` the bits of the scenario ids of array `key` (required).
  absl::Status ScenarioMask(object obj, std::string_view key, std::string_view where,
                            uint64_t* mask);
  absl::Status CheckNumbering();

  std::string origin_;
  Draft* draft_;
};

absl::Status Loader::Load(std::string_view json) {
  simdjson::dom::parser parser;
  element doc;
  if (auto error = parser.parse(json.data(), json.size()).get(doc); error) {
    return Invalid(origin_, absl::StrCat("invalid JSON: ", simdjson::error_message(error)));
  }
  object root;
  if (doc.get_object().get(root)) return Invalid(origin_, "the top level must be an object");
  for (auto step : {&Loader::LoadHeader, &Loader::LoadScenarios, &Loader::LoadAgencies,
                    &Loader::LoadMeasures}) {
    SHIXIN_RETURN_IF_ERROR((this->*step)(root));
  }
  return CheckNumbering();
}

absl::Status Loader::LoadHeader(object root) {
  SHIXIN_RETURN_IF_ERROR(CheckKeys(root, kTopKeys, origin_));
  std::string_view id, title, effective;
  SHIXIN_RETURN_IF_ERROR(GetId(root, origin_, &id));
  SHIXIN_RETURN_IF_ERROR(GetText(root, "title", origin_, &title));
  SHIXIN_RETURN_IF_ERROR(GetString(root, "effective", Presence::kOptional, origin_, &effective));
  if (!effective.empty() && !IsValidDate(effective)) {
    return Invalid(origin_,
                   absl::StrCat("\"effective\" must be a date YYYY-MM-DD, not ", Quote(effective)));
  }
  draft_->id = std::string(id);
  draft_->title = std::string(title);
  return absl::OkStatus();
}

absl::Status Loader::LoadScenarios(object root) {
  array items;
  SHIXIN_RETURN_IF_ERROR(GetArray(root, "scenarios", origin_, &items));
  if (items.size() > kMaxScenarios) {
    return Invalid(origin_, absl::StrCat("too many scenarios: ", items.size(), " (at most ",
                                         kMaxScenarios, ")"));
  }
  for (element item : items) {
    const std::string where = absl::StrCat(origin_, ": scenario ", draft_->scenarios.size() + 1);
    object obj;
    if (item.get_object().get(obj)) return Invalid(where, "must be an object");
    std::string_view id, description;
    SHIXIN_RETURN_IF_ERROR(CheckKeys(obj, kScenarioKeys, where));
    SHIXIN_RETURN_IF_ERROR(GetId(obj, where, &id));
    SHIXIN_RETURN_IF_ERROR(GetString(obj, "description", Presence::kOptional, where, &description));
    if (IndexOfScenario(draft_->scenarios, id) >= 0) {
      return Invalid(where, absl::StrCat("duplicate scenario id ", Quote(id)));
    }
    draft_->scenarios.push_back(Scenario{std::string(id), std::string(description)});
  }
  return absl::OkStatus();
}

absl::Status Loader::LoadAgencies(object root) {
  array items;
  SHIXIN_RETURN_IF_ERROR(GetArray(root, "agencies", origin_, &items));
  for (element item : items) {
    const std::string where = absl::StrCat(origin_, ": agency ", draft_->agencies.size() + 1);
    object obj;
    if (item.get_object().get(obj)) return Invalid(where, "must be an object");
    std::string_view id, section, name;
    SHIXIN_RETURN_IF_ERROR(CheckKeys(obj, kAgencyKeys, where));
    SHIXIN_RETURN_IF_ERROR(GetId(obj, where, &id));
    SHIXIN_RETURN_IF_ERROR(GetString(obj, "section", Presence::kOptional, where, &section));
    SHIXIN_RETURN_IF_ERROR(GetText(obj, "name", where, &name));
    // FindAgency() matches an id or a name, so both must be unique.
    for (const Agency& other : draft_->agencies) {
      if (other.id == id || other.name == name) {
        return Invalid(where, absl::StrCat("duplicate agency ", Quote(other.id == id ? id : name)));
      }
    }
    draft_->agencies.push_back(Agency{std::string(id), std::string(section), std::string(name)});
  }
  return absl::OkStatus();
}

absl::Status Loader::LoadMeasures(object root) {
  array items;
  SHIXIN_RETURN_IF_ERROR(GetArray(root, "measures", origin_, &items));
  if (items.size() == 0) return Invalid(origin_, "\"measures\" must not be empty");
  size_t index = 0;
  for (element item : items) {
    SHIXIN_RETURN_IF_ERROR(LoadMeasure(item, index++));
  }
  return absl::OkStatus();
}

absl::Status Loader::LoadMeasure(element value, size_t index) {
  // Until its number is known, a measure is named by its position in the array.
  const std::string at = absl::StrCat(origin_, ": measures[", index, "]");
  object obj;
  if (value.get_object().get(obj)) return Invalid(at, "must be an object");
  Measure m;
  SHIXIN_RETURN_IF_ERROR(LoadNumber(obj, at, &m.no));
  const std::string where = absl::StrCat(origin_, ": measure ", m.no);
  SHIXIN_RETURN_IF_ERROR(CheckKeys(obj, kMeasureKeys, where));
  std::string_view title, clause, note;
  SHIXIN_RETURN_IF_ERROR(GetText(obj, "title", where, &title));
  SHIXIN_RETURN_IF_ERROR(GetText(obj, "clause", where, &clause));
  SHIXIN_RETURN_IF_ERROR(GetString(obj, "note", Presence::kOptional, where, &note));
  m.title = std::string(title);
  m.clause = std::string(clause);
  for (auto step : {&Loader::LoadAgencyRef, &Loader::LoadSubjects, &Loader::LoadRelated,
                    &Loader::LoadOfficers, &Loader::LoadTwoHop, &Loader::CheckCoverage,
                    &Loader::LoadEffect, &Loader::LoadMeasureScenarios}) {
    SHIXIN_RETURN_IF_ERROR((this->*step)(obj, where, &m));
  }
  draft_->measures.push_back(std::move(m));
  return absl::OkStatus();
}

absl::Status Loader::LoadNumber(object obj, std::string_view where, int* no) {
  element value;
  if (obj.at_key("no").get(value)) return Invalid(where, "missing \"no\"");
  int64_t n = 0;
  if (value.get_int64().get(n) || n < 1 || n > INT_MAX) {
    return Invalid(where, "\"no\" must be a positive integer");
  }
  *no = static_cast<int>(n);
  return absl::OkStatus();
}

absl::Status Loader::LoadAgencyRef(object obj, std::string_view where, Measure* m) {
  std::string_view id;
  SHIXIN_RETURN_IF_ERROR(GetString(obj, "agency", Presence::kRequired, where, &id));
  const auto& agencies = draft_->agencies;
  auto it =
      std::find_if(agencies.begin(), agencies.end(), [&](const Agency& a) { return a.id == id; });
  if (it == agencies.end()) return Invalid(where, absl::StrCat("unknown agency ", Quote(id)));
  m->agency = static_cast<int>(it - agencies.begin());
  return absl::OkStatus();
}

absl::Status Loader::LoadSubjects(object obj, std::string_view where, Measure* m) {
  array items;
  SHIXIN_RETURN_IF_ERROR(GetArray(obj, "subjects", where, &items));
  for (element item : items) {
    std::string_view kind;
    if (item.get_string().get(kind)) return Invalid(where, "\"subjects\" must hold strings");
    bool* flag = kind == "person"         ? &m->applies_to_person
                 : kind == "organization" ? &m->applies_to_organization
                                          : nullptr;
    if (flag == nullptr) return Invalid(where, absl::StrCat("unknown subject ", Quote(kind)));
    if (*flag) return Invalid(where, absl::StrCat("duplicate subject ", Quote(kind)));
    *flag = true;
  }
  return absl::OkStatus();
}

absl::Status Loader::LoadRelated(object obj, std::string_view where, Measure* m) {
  element value;
  if (obj.at_key("related_roles").get(value)) return absl::OkStatus();
  return ParseRoles(value, "related_roles", /*non_empty=*/false, where, &m->related_roles);
}

absl::Status Loader::LoadOfficers(object obj, std::string_view where, Measure* m) {
  element value;
  object rule;
  if (obj.at_key("officers").get(value)) return absl::OkStatus();
  SHIXIN_RETURN_IF_ERROR(GetRuleObject(value, "officers", kOfficerKeys, where, &rule));
  return GetRuleRoles(rule, "officers", "listed_roles", where, &m->officer_listed_roles);
}

absl::Status Loader::LoadTwoHop(object obj, std::string_view where, Measure* m) {
  element value;
  object rule;
  if (obj.at_key("two_hop").get(value)) return absl::OkStatus();
  SHIXIN_RETURN_IF_ERROR(GetRuleObject(value, "two_hop", kTwoHopKeys, where, &rule));
  SHIXIN_RETURN_IF_ERROR(
      GetRuleRoles(rule, "two_hop", "officer_roles", where, &m->two_hop_officer_roles));
  return GetRuleRoles(rule, "two_hop", "via_roles", where, &m->two_hop_via_roles);
}

// A measure nobody can match is a data error (an empty "subjects" and no rule), not a no-op.
absl::Status Loader::CheckCoverage(object obj, std::string_view where, Measure* m) {
  if (m->applies_to_person || m->applies_to_organization || m->related_roles != 0 ||
      m->officer_listed_roles != 0 || m->two_hop_officer_roles != 0) {
    return absl::OkStatus();
  }
  return Invalid(where, "applies to nobody: no subjects and no related_roles, officers or two_hop");
}

absl::Status Loader::LoadEffect(object obj, std::string_view where, Measure* m) {
  std::string_view name;
  SHIXIN_RETURN_IF_ERROR(GetString(obj, "effect", Presence::kRequired, where, &name));
  std::optional<Effect> effect = EffectFromName(name);
  if (!effect) return Invalid(where, absl::StrCat("unknown effect ", Quote(name)));
  m->effect = *effect;
  return absl::OkStatus();
}

absl::Status Loader::ScenarioMask(object obj, std::string_view key, std::string_view where,
                                  uint64_t* mask) {
  array items;
  SHIXIN_RETURN_IF_ERROR(GetArray(obj, key, where, &items));
  for (element item : items) {
    std::string_view id;
    if (item.get_string().get(id)) {
      return Invalid(where, absl::StrCat(Quote(key), " must hold strings"));
    }
    const int index = IndexOfScenario(draft_->scenarios, id);
    if (index < 0) return Invalid(where, absl::StrCat("unknown scenario ", Quote(id)));
    const uint64_t bit = uint64_t{1} << index;
    if (*mask & bit) return Invalid(where, absl::StrCat("duplicate scenario ", Quote(id)));
    *mask |= bit;
  }
  return absl::OkStatus();
}

absl::Status Loader::LoadMeasureScenarios(object obj, std::string_view where, Measure* m) {
  if (!obj.at_key("scenarios").error()) {  // optional: no scenario
    SHIXIN_RETURN_IF_ERROR(ScenarioMask(obj, "scenarios", where, &m->scenarios));
  }
  m->related_scenarios = m->scenarios;
  if (obj.at_key("related_scenarios").error()) return absl::OkStatus();
  if (m->related_roles == 0 && m->officer_listed_roles == 0 && m->two_hop_officer_roles == 0) {
    return Invalid(where, "\"related_scenarios\" without related_roles, officers or two_hop");
  }
  m->related_scenarios = 0;
  SHIXIN_RETURN_IF_ERROR(ScenarioMask(obj, "related_scenarios", where, &m->related_scenarios));
  if ((m->related_scenarios & ~m->scenarios) != 0) {
    return Invalid(where, "\"related_scenarios\" must be some of the measure's \"scenarios\"");
  }
  return absl::OkStatus();
}

// Sorts the measures and requires the numbers 1..N, each once: the memorandum's numbering is
// what callers and punishment notices cite.
absl::Status Loader::CheckNumbering() {
  auto& measures = draft_->measures;
  std::stable_sort(measures.begin(), measures.end(),
                   [](const Measure& a, const Measure& b) { return a.no < b.no; });
  for (size_t i = 1; i < measures.size(); ++i) {
    if (measures[i].no == measures[i - 1].no) {
      return Invalid(absl::StrCat(origin_, ": measure ", measures[i].no), "duplicate number");
    }
  }
  for (size_t i = 0; i < measures.size(); ++i) {
    if (measures[i].no != static_cast<int>(i + 1)) {
      return Invalid(origin_, absl::StrCat("measure ", i + 1,
                                           " is missing (measures must be "
                                           "numbered 1..N without gaps)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view EffectName(Effect effect) { return kEffectNames[static_cast<int>(effect)]; }

std::optional<Effect> EffectFromName(std::string_view name) {
  for (int i = 0; i < kEffectCount; ++i) {
    if (kEffectNames[i] == name) return static_cast<Effect>(i);
  }
  return std::nullopt;
}

absl::StatusOr<Catalog> Catalog::LoadFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadRegularFile(path);  // never blocks on a FIFO
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("cannot read the catalog: ", text.status().message()));
  }
  // Errors name the file as the memorandum's maintainers know it, without the install prefix.
  return Parse(*text, std::filesystem::path(path).filename().string());
}

absl::StatusOr<Catalog> Catalog::Parse(std::string_view json, std::string_view origin) {
  Draft draft;
  SHIXIN_RETURN_IF_ERROR(Loader(origin, &draft).Load(json));
  Catalog catalog;
  catalog.id_ = std::move(draft.id);
  catalog.title_ = std::move(draft.title);
  catalog.fingerprint_ = XXH3_64bits(json.data(), json.size());
  catalog.measures_ = std::move(draft.measures);
  catalog.agencies_ = std::move(draft.agencies);
  catalog.scenarios_ = std::move(draft.scenarios);
  return catalog;
}

const Measure* Catalog::FindMeasure(int no) const {
  // Loading guarantees the numbers are exactly 1..N in order.
  if (no < 1 || no > static_cast<int>(measures_.size())) return nullptr;
  return &measures_[no - 1];
}

int Catalog::FindAgency(std::string_view id_or_name) const {
  for (size_t i = 0; i < agencies_.size(); ++i) {
    if (agencies_[i].id == id_or_name || agencies_[i].name == id_or_name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

int Catalog::FindScenario(std::string_view id) const { return IndexOfScenario(scenarios_, id); }

}  // namespace shixin
