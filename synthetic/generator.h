// The generator of the base list, one subject at a time, and the parts of a case that the delta
// generator (deltas.cc) shares with it (internal to synthetic/).
//
// A subject is a pure function of the seed, its index and the number of unlisted persons issued
// before it (fresh()): the delta generator regenerates any subject alone from those two numbers
// instead of keeping its records.
//
// Thread safety: a Generator belongs to one thread; the functions are reentrant.
#ifndef SHIXIN_SYNTHETIC_GENERATOR_H_
#define SHIXIN_SYNTHETIC_GENERATOR_H_

#include <cstdint>

#include "absl/functional/function_ref.h"
#include "core/id.h"
#include "core/record.h"
#include "synthetic/fields.h"
#include "synthetic/synthetic.h"
#include "synthetic/tables.h"

namespace shixin::synthetic_internal {

// Who a subject is: what each of its cases repeats.
struct SubjectInfo {
  Id id;
  bool person = true;
  int area = 0;         // index into kAreas
  int min_year = 2014;  // the first year a case may be filed (persons are listed as adults)
  uint32_t birth = 0;   // persons: YYYYMMDD
  Sex sex = Sex::kUnknown;
  Text<96> name;
  Text<16> entity;  // organisations: the legal representative's name
};

// Fills `s` with listed person `number` (a subject index, or a number no other person has).
void MakePersonSubject(uint64_t seed, uint64_t number, SubjectInfo* s);

// The texts a CaseInput of the generator points into.
struct CaseTexts {
  Text<64> case_code;
  Text<64> gist_id;
  Text<512> duty;
  Text<256> disrupt;
};

// Draws the grounds of a case into t->disrupt and c->disrupt_type. Returns its term in years
// (0: no fixed term).
int DrawGrounds(Rng& rng, CaseTexts* t, CaseInput* c);

// Fills the rest of a case of `s` filed at `court` in `year` whose case number, dates and
// grounds are set: the subject's fields, the court, the judgment, the duty, the performance and
// the age at c->publish_date. Points `c` into `t`.
void FillCase(Rng& rng, uint64_t seed, const SubjectInfo& s, const Court& court, int year,
              CaseTexts* t, CaseInput* c);

class Generator {
 public:
  // `subjects` is the size of the base list (persons beyond it are unlisted related persons).
  Generator(const SyntheticOptions& options, absl::FunctionRef<void(const CaseInput&)> on_case,
            absl::FunctionRef<void(const RelationInput&)> on_relation);

  // Generates subject `index` (< subjects): its cases, then an organisation's relations.
  void GenerateSubject(uint64_t index);

  // The unlisted related persons issued so far. Setting it to what it was before subject i,
  // then GenerateSubject(i), regenerates subject i alone.
  uint64_t fresh() const { return fresh_; }
  void set_fresh(uint64_t fresh) { fresh_ = fresh; }

  // Returns the subject GenerateSubject last generated.
  const SubjectInfo& subject() const { return subject_; }
  const SyntheticStats& stats() const { return stats_; }

 private:
  struct Slot {
    uint64_t person;  // person number
    Role role;
  };
  static constexpr int kMaxSlots = 12;
  // Unlisted persons shared between organisations are drawn from the most recent ones.
  static constexpr uint64_t kSharedWindow = 50000;

  void GenerateOrganization(uint64_t index, Rng& rng);
  int PlanRelations(Rng& rng, Slot* slots);
  uint64_t PickPerson(Rng& rng);
  void EmitCases(Rng& rng);
  void PlaceDates(Rng& rng, int years, CaseInput* c);

  const uint64_t seed_;
  const uint64_t subjects_;
  const int64_t today_days_;  // SyntheticToday() in days since 1970
  const int today_year_;
  absl::FunctionRef<void(const CaseInput&)> on_case_;
  absl::FunctionRef<void(const RelationInput&)> on_relation_;
  uint64_t fresh_ = 0;  // unlisted persons issued so far
  SyntheticStats stats_;
  SubjectInfo subject_;
  CaseTexts texts_;
};

}  // namespace shixin::synthetic_internal

#endif  // SHIXIN_SYNTHETIC_GENERATOR_H_
