#include "synthetic/synthetic.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "core/case_code.h"
#include "core/id.h"
#include "core/validity.h"
#include "synthetic/fields.h"
#include "synthetic/generator.h"
#include "synthetic/tables.h"

namespace shixin {
namespace synthetic_internal {

void MakePersonSubject(uint64_t seed, uint64_t number, SubjectInfo* s) {
  Person p;
  MakePerson(seed, number, &p);
  s->id = MakeIdUnchecked(IdKind::kResident, std::string_view(p.id, 18));
  s->person = true;
  s->area = p.area;
  // Listed as an adult: every day of the first case year is after the 18th birthday.
  s->min_year = std::max(2014, static_cast<int>(p.birth / 10000) + 19);
  s->birth = p.birth;
  s->sex = static_cast<Sex>(p.sex);
  s->name.Clear();
  s->name.Add(p.name.view());
  s->entity.Clear();
}

int DrawGrounds(Rng& rng, CaseTexts* t, CaseInput* c) {
  const uint32_t grounds = MakeDisruptTypes(rng, &t->disrupt);
  c->disrupt_type = t->disrupt.view();
  return TermYears(rng, grounds);
}

void FillCase(Rng& rng, uint64_t seed, const SubjectInfo& s, const Court& court, int year,
              CaseTexts* t, CaseInput* c) {
  MakeGistId(rng, court, year, &t->gist_id);
  MakeDuty(rng, s.name.view(), kAreas[s.area], seed, &t->duty);
  c->id = s.id;
  c->name = s.name.view();
  c->business_entity = s.entity.view();
  c->case_code = t->case_code.view();
  c->court = court.name;
  c->area = court.region;
  c->gist_id = t->gist_id.view();
  c->gist_unit = court.name;
  c->duty = t->duty.view();
  c->performance = rng.Chance(880000) ? "全部未履行" : "部分未履行";
  c->performed_part = "暂无";
  c->unperform_part = "暂无";
  c->disrupt_type = t->disrupt.view();
  c->age = s.person ? AgeAt(s.birth, c->publish_date) : 0;
  c->sex = s.person ? s.sex : Sex::kUnknown;
}

Generator::Generator(const SyntheticOptions& options,
                     absl::FunctionRef<void(const CaseInput&)> on_case,
                     absl::FunctionRef<void(const RelationInput&)> on_relation)
    : seed_(options.seed),
      subjects_(std::min(options.subjects, kMaxSubjects)),
      today_days_(DaysFromDate(SyntheticToday(options))),
      today_year_(static_cast<int>(SyntheticToday(options) / 10000)),
      on_case_(on_case),
      on_relation_(on_relation) {}

void Generator::GenerateSubject(uint64_t index) {
  ++stats_.subjects;
  Rng rng(Hash(seed_, kSubjectStream, index));
  if (IsListedPerson(seed_, index)) {
    ++stats_.persons;
    MakePersonSubject(seed_, index, &subject_);
    EmitCases(rng);
  } else {
    GenerateOrganization(index, rng);
  }
}

void Generator::GenerateOrganization(uint64_t index, Rng& rng) {
  ++stats_.organizations;
  Organization org;
  MakeOrganization(seed_, index, rng, &org);
  Slot slots[kMaxSlots];
  const int n = PlanRelations(rng, slots);
  Person people[kMaxSlots];
  for (int s = 0; s < n; ++s) MakePerson(seed_, slots[s].person, &people[s]);
  const Id id = MakeIdUnchecked(org.kind, std::string_view(org.id, org.id_size));
  subject_.id = id;
  subject_.person = false;
  subject_.area = org.area;
  subject_.min_year = 2014;
  subject_.birth = 0;
  subject_.sex = Sex::kUnknown;
  subject_.name.Clear();
  subject_.name.Add(org.name.view());
  // Slot 0 is the legal representative, whom the court's record names.
  subject_.entity.Clear();
  subject_.entity.Add(people[0].name.view());
  EmitCases(rng);

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
int Generator::PlanRelations(Rng& rng, Slot* slots) {
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
uint64_t Generator::PickPerson(Rng& rng) {
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

void Generator::EmitCases(Rng& rng) {
  const int count = CaseCount(rng, subject_.person);
  const int home = PickCourt(rng, subject_.area);
  uint64_t codes[67];  // CaseCodeHash of the subject's cases so far
  for (int k = 0; k < count; ++k) {
    const Court& court = kCourts[rng.Chance(750000) ? home : PickCourt(rng, subject_.area)];
    CaseInput c;
    PlaceDates(rng, DrawGrounds(rng, &texts_, &c), &c);
    const int year = static_cast<int>(c.reg_date / 10000);
    // A case is named by its number and its subject: a subject's numbers are distinct.
    for (bool again = true; again;) {
      MakeCaseCode(rng, court, year, &texts_.case_code);
      codes[k] = CaseCodeHash(texts_.case_code.view());
      again = std::find(codes, codes + k, codes[k]) != codes + k;
    }
    FillCase(rng, seed_, subject_, court, year, &texts_, &c);
    on_case_(c);
    ++stats_.cases;
    if (DaysFromDate(c.publish_date) > today_days_) ++stats_.grace_cases;
  }
}

// Dates of a case with a term of `years` (0: none) that counts today, or a few in their grace
// period. Those with a term were published within it: the court deletes a listing whose term
// has ended.
void Generator::PlaceDates(Rng& rng, int years, CaseInput* c) {
  const int min_year = subject_.min_year;
  int64_t reg;
  int64_t publish;
  if (rng.Chance(kGraceCasesPerMillion)) {
    // 0.3 %: filed in the last 11 months, published 31-92 days after today.
    reg = today_days_ - rng.Below(334);
    publish = today_days_ + 31 + rng.Below(62);
  } else if (years == 0) {
    const int year =
        min_year + static_cast<int>(rng.Below(static_cast<uint32_t>(today_year_ - min_year)));
    const int64_t jan1 = DaysFromCivil(year, 1, 1);
    reg = jan1 + rng.Below(static_cast<uint32_t>(DaysFromCivil(year + 1, 1, 1) - jan1));
    // Published 15-364 days after filing, but by today: one filed late last year is not
    // published after the list's day, outside the grace share.
    publish = std::min(reg + 15 + rng.Below(350), today_days_);
    reg = std::min(reg, publish - 15);
  } else {
    // Published no earlier than `years` before tomorrow, filed 15-364 days before.
    const uint32_t tomorrow = CivilFromDays(today_days_ + 1);
    const int64_t first =
        std::max(DaysFromCivil(tomorrow / 10000 - years, tomorrow / 100 % 100, tomorrow % 100),
                 DaysFromCivil(min_year, 1, 16));
    publish = first + rng.Below(static_cast<uint32_t>(today_days_ - first + 1));
    reg = std::max<int64_t>(publish - 15 - rng.Below(350), DaysFromCivil(min_year, 1, 1));
  }
  c->reg_date = CivilFromDays(reg);
  c->publish_date = CivilFromDays(publish);
  c->term_end = years == 0 ? 0 : TermEnd(publish, years);
  c->start = DayStart(c->publish_date);  // as ingest sets it
}

}  // namespace synthetic_internal

uint32_t SyntheticToday(const SyntheticOptions& options) {
  return options.today != 0 ? options.today : DayOf(NowSeconds());
}

SyntheticStats GenerateSynthetic(const SyntheticOptions& options,
                                 absl::FunctionRef<void(const CaseInput&)> on_case,
                                 absl::FunctionRef<void(const RelationInput&)> on_relation) {
  synthetic_internal::Generator generator(options, on_case, on_relation);
  const uint64_t subjects = std::min(options.subjects, synthetic_internal::kMaxSubjects);
  for (uint64_t i = 0; i < subjects; ++i) generator.GenerateSubject(i);
  return generator.stats();
}

Id UnlistedId(uint64_t n) {
  char first17[18];
  std::snprintf(first17, sizeof(first17), "%06u19010101%03u",
                110101 + static_cast<unsigned>(n / 1000 % 99), static_cast<unsigned>(n % 1000));
  const std::string text(first17, 17);
  return MakeIdUnchecked(IdKind::kResident, text + ResidentCheckChar(text));
}

}  // namespace shixin
