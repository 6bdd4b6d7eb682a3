#include "synthetic/synthetic.h"

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "core/id.h"
#include "synthetic/fields.h"
#include "synthetic/tables.h"

namespace shixin {
namespace synthetic_internal {
namespace {

struct Slot {
  uint64_t person;  // person number
  Role role;
};
constexpr int kMaxSlots = 12;

class Generator {
 public:
  Generator(const SyntheticOptions& options, absl::FunctionRef<void(const CaseInput&)> on_case,
            absl::FunctionRef<void(const RelationInput&)> on_relation)
      : seed_(options.seed),
        subjects_(std::min(options.subjects, kMaxSubjects)),
        on_case_(on_case),
        on_relation_(on_relation) {}

  SyntheticStats Run() {
    for (uint64_t i = 0; i < subjects_; ++i) {
      Rng rng(Hash(seed_, kSubjectStream, i));
      if (IsListedPerson(seed_, i)) {
        GeneratePerson(i, rng);
      } else {
        GenerateOrganization(i, rng);
      }
    }
    stats_.subjects = subjects_;
    return stats_;
  }

 private:
  // Unlisted persons shared between organisations are drawn from the most recent ones.
  static constexpr uint64_t kSharedWindow = 50000;

  void GeneratePerson(uint64_t index, Rng& rng) {
    ++stats_.persons;
    Person p;
    MakePerson(seed_, index, &p);
    const Id id = MakeIdUnchecked(IdKind::kResident, std::string_view(p.id, 18));
    // Listed as an adult: every day of the first case year is after the 18th birthday.
    const int min_year = std::max(2014, static_cast<int>(p.birth / 10000) + 19);
    EmitCases(rng, id, p.name.view(), "", p.area, min_year, &p);
  }

  void GenerateOrganization(uint64_t index, Rng& rng) {
    ++stats_.organizations;
    Organization org;
    MakeOrganization(seed_, index, rng, &org);
    Slot slots[kMaxSlots];
    const int n = PlanRelations(rng, slots);
    Person people[kMaxSlots];
    for (int s = 0; s < n; ++s) MakePerson(seed_, slots[s].person, &people[s]);
    const Id id = MakeIdUnchecked(org.kind, std::string_view(org.id, org.id_size));
    // Slot 0 is the legal representative, whom the court's record names.
    EmitCases(rng, id, org.name.view(), people[0].name.view(), org.area, 2014, nullptr);

    const Id rel_org =
        org.relations_by_org_code && org.kind == IdKind::kCreditCode ? id.EmbeddedOrgCode() : id;
    for (int s = 0; s < n; ++s) {
      RelationInput rel;
      rel.org = rel_org;
      rel.person = MakeIdUnchecked(IdKind::kResident, std::string_view(people[s].id, 18));
      rel.person_name = people[s].name.view();
      rel.role = slots[s].role;
      on_relation_(rel);
      ++stats_.relations;
    }
  }

  // Exactly one legal representative, then the other roles at realistic rates (~3 in all).
  int PlanRelations(Rng& rng, Slot* slots) {
    int n = 0;
    const uint64_t lr = PickPerson(rng);
    auto add = [&](uint64_t person, Role role) {
      for (int s = 0; s < n; ++s) {
        if (slots[s].person == person && slots[s].role == role) return;
      }
      slots[n++] = {person, role};
    };
    add(lr, Role::kLegalRepresentative);
    // The principal and the actual controller are often the legal representative himself.
    if (rng.Chance(550000)) add(rng.Chance(600000) ? lr : PickPerson(rng), Role::kPrincipal);
    if (rng.Chance(280000)) {
      add(rng.Chance(300000) ? lr : PickPerson(rng), Role::kActualController);
    }
    if (rng.Chance(350000)) add(PickPerson(rng), Role::kDirectlyResponsible);
    if (rng.Chance(220000)) {
      const int directors = 1 + static_cast<int>(rng.Below(3));
      for (int d = 0; d < directors; ++d) {
        add(d == 0 && rng.Chance(400000) ? lr : PickPerson(rng), Role::kDirector);
      }
    }
    if (rng.Chance(220000)) add(PickPerson(rng), Role::kSupervisor);
    if (rng.Chance(180000)) {
      const int managers = 1 + static_cast<int>(rng.Below(2));
      for (int m = 0; m < managers; ++m) add(PickPerson(rng), Role::kSeniorManager);
    }
    return n;
  }

  // ~15 % a listed person, a few % an unlisted person already related to another
  // organisation, otherwise a fresh unlisted person (numbers from `subjects_` on).
  uint64_t PickPerson(Rng& rng) {
    const uint32_t r = rng.Below(1000000);
    if (r < 150000) {
      for (int attempt = 0; attempt < 16; ++attempt) {
        const uint64_t j = rng.Below64(subjects_);
        if (IsListedPerson(seed_, j)) return j;
      }
    } else if (r < 150000 + 45000 && fresh_ > 0) {
      return subjects_ + fresh_ - 1 - rng.Below64(std::min(fresh_, kSharedWindow));
    }
    return subjects_ + fresh_++;
  }

  void EmitCases(Rng& rng, const Id& id, std::string_view name, std::string_view entity, int area,
                 int min_year, const Person* person) {
    const int count = CaseCount(rng, person != nullptr);
    const int home = PickCourt(rng, area);
    CaseInput c;
    c.id = id;
    c.name = name;
    c.business_entity = entity;
    c.performed_part = "暂无";
    c.unperform_part = "暂无";
    for (int k = 0; k < count; ++k) {
      const Court& court = kCourts[rng.Chance(750000) ? home : PickCourt(rng, area)];
      const int year =
          min_year + static_cast<int>(rng.Below(static_cast<uint32_t>(2025 - min_year)));
      const int64_t jan1 = DaysFromCivil(year, 1, 1);
      const int64_t reg =
          jan1 + rng.Below(static_cast<uint32_t>(DaysFromCivil(year + 1, 1, 1) - jan1));
      c.reg_date = CivilFromDays(reg);
      c.publish_date = CivilFromDays(reg + 15 + rng.Below(350));
      MakeCaseCode(rng, court, year, &case_code_);
      MakeGistId(rng, court, year, &gist_id_);
      MakeDuty(rng, name, kAreas[area], seed_, &duty_);
      MakeDisruptTypes(rng, &disrupt_);
      c.case_code = case_code_.view();
      c.court = court.name;
      c.area = court.region;
      c.gist_id = gist_id_.view();
      c.gist_unit = court.name;
      c.duty = duty_.view();
      c.performance = rng.Chance(880000) ? "全部未履行" : "部分未履行";
      c.disrupt_type = disrupt_.view();
      if (person != nullptr) {
        c.age = AgeAt(person->birth, c.publish_date);
        c.sex = static_cast<Sex>(person->sex);
      }
      on_case_(c);
      ++stats_.cases;
    }
  }

  const uint64_t seed_;
  const uint64_t subjects_;
  absl::FunctionRef<void(const CaseInput&)> on_case_;
  absl::FunctionRef<void(const RelationInput&)> on_relation_;
  uint64_t fresh_ = 0;  // unlisted persons issued so far
  SyntheticStats stats_;
  Text<64> case_code_;
  Text<64> gist_id_;
  Text<512> duty_;
  Text<256> disrupt_;
};

}  // namespace
}  // namespace synthetic_internal

SyntheticStats GenerateSynthetic(const SyntheticOptions& options,
                                 absl::FunctionRef<void(const CaseInput&)> on_case,
                                 absl::FunctionRef<void(const RelationInput&)> on_relation) {
  return synthetic_internal::Generator(options, on_case, on_relation).Run();
}

}  // namespace shixin
