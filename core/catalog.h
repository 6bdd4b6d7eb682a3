// The measure catalog: the punishment measures of a joint-punishment memorandum, loaded from a
// JSON data file (data/measures/hegang-2018.json ships; another catalog loads with no code
// change). Each measure carries its applicability rules, its effect and the business scenarios
// it governs. See data/measures/README.md for the file format.
//
// Thread safety: a Catalog is immutable after loading and safe to share between threads.
#ifndef SHIXIN_CORE_CATALOG_H_
#define SHIXIN_CORE_CATALOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/types.h"

namespace shixin {

// What a measure does to the subject it applies to.
enum class Effect : uint8_t {
  kRestrict = 0,  // deny or limit the matter ("限制")
  kReview = 1,  // the listing is a reference in a review ("审慎性参考", "注明失信情况")
  kNotifyCourt = 2,  // the agency must tell the court (e.g. 26)
  kAssistCourt = 3,  // assistance to the court: queries, seizures, border control (36, 42)
  kPublicity = 4,    // publication of the list (5)
  kCriminal = 5,     // criminal enforcement (39, 40, 43)
};
inline constexpr int kEffectCount = 6;

// Returns "restrict", "review", "notify_court", "assist_court", "publicity" or "criminal".
std::string_view EffectName(Effect effect);
std::optional<Effect> EffectFromName(std::string_view name);

// An implementing agency (one section of the memorandum).
struct Agency {
  std::string id;       // short ASCII id used by --agency, e.g. "housing"
  std::string section;  // e.g. "（十三）"
  std::string name;     // e.g. "鹤岗市住房保障局"
};

// A business scenario that measures govern (the filter of MEASURES).
struct Scenario {
  std::string id;           // short ASCII id used by --scenario, e.g. "hotel"
  std::string description;  // a short English description, or ""
};

// One measure and its applicability rules.
struct Measure {
  int no = 0;                            // the memorandum's number (1-based, authoritative)
  int agency = 0;                        // index into Catalog::agencies()
  std::string title;                     // e.g. "从事不动产交易限制"
  std::string clause;                    // the clause text
  bool applies_to_person = false;        // a listed person is covered
  bool applies_to_organization = false;  // a listed organisation is covered
  // A person holding one of these roles in a listed organisation is covered (26, 27, 29, ...).
  RoleSet related_roles = 0;
  // An organisation is covered when its officer in one of these roles is listed (18, 22).
  RoleSet officer_listed_roles = 0;
  // An organisation is covered when its officer in one of `two_hop_officer_roles` holds one of
  // `two_hop_via_roles` in a listed organisation (52).
  RoleSet two_hop_officer_roles = 0;
  RoleSet two_hop_via_roles = 0;
  Effect effect = Effect::kRestrict;
  uint64_t scenarios = 0;  // bit i = Catalog::scenarios()[i]
  // The scenarios in which the measure reaches beyond the listed subject (related roles,
  // listed officers, two hops): `scenarios` unless the catalog narrows them (measure 52: a
  // listed debtor's accounts are restricted, its legal representative's only credit).
  uint64_t related_scenarios = 0;
};

class Catalog {
 public:
  // Reads and validates the catalog file at `path`.
  // Returns NotFound if it cannot be read, InvalidArgument (naming the measure and field) if it
  // is malformed: unknown role/effect/scenario/agency, duplicate or missing number, empty title
  // or clause, a measure that applies to nobody, more than 64 scenarios.
  static absl::StatusOr<Catalog> LoadFile(const std::string& path);
  // Same as LoadFile() on the JSON text `json`; `origin` names it in error messages.
  static absl::StatusOr<Catalog> Parse(std::string_view json, std::string_view origin);

  // The catalog's id, e.g. "hegang-2018", and its title.
  const std::string& id() const { return id_; }
  const std::string& title() const { return title_; }
  // Returns the 64-bit XXH3 hash of the file's bytes: the catalog's identity.
  uint64_t fingerprint() const { return fingerprint_; }

  // The measures, sorted by number.
  const std::vector<Measure>& measures() const { return measures_; }
  const std::vector<Agency>& agencies() const { return agencies_; }
  // The scenarios, in file order; a measure's bit i refers to scenarios()[i].
  const std::vector<Scenario>& scenarios() const { return scenarios_; }

  // Returns the measure numbered `no`, or nullptr.
  const Measure* FindMeasure(int no) const;
  // Returns the index of the agency whose id or name is `id_or_name`, or -1.
  int FindAgency(std::string_view id_or_name) const;
  // Returns the index of scenario `id`, or -1.
  int FindScenario(std::string_view id) const;

 private:
  std::string id_;
  std::string title_;
  uint64_t fingerprint_ = 0;
  std::vector<Measure> measures_;
  std::vector<Agency> agencies_;
  std::vector<Scenario> scenarios_;
};

}  // namespace shixin

#endif  // SHIXIN_CORE_CATALOG_H_
