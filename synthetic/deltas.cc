#include "synthetic/deltas.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/delta.h"
#include "core/id.h"
#include "core/record.h"
#include "core/types.h"
#include "synthetic/base_list.h"
#include "synthetic/fields.h"
#include "synthetic/generator.h"
#include "synthetic/out_file.h"
#include "synthetic/tables.h"

namespace shixin {
namespace synthetic_internal {
namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kChinaOffset = 8 * 3600;
constexpr int64_t kOfficeOpens = 9 * 3600;
constexpr int64_t kOfficeHours = 8 * 3600 + 1800;  // 09:00-17:30

// Person numbers of the deltas' new people, above the base list's (listed subjects, then
// unlisted related persons): MakePerson maps distinct numbers to distinct IDs.
constexpr uint64_t kNewPersonBase = 500000000;   // persons first listed by a delta
constexpr uint64_t kNewOfficerBase = 700000000;  // legal representatives of new organisations
constexpr uint64_t kRelatedBase = 900000000;     // persons given a role by a relate
// Case numbers of added cases start above every base case number (1-6000).
constexpr uint32_t kFirstAddedNumber = 7001;
// AddedCase::subject: a subject first listed by a delta (its number below the bit).
constexpr uint32_t kNewSubject = 1u << 31;
// Tries to find a case or an organisation before a change gives way to an add.
constexpr int kAttempts = 64;

// 00:00 +08:00 of `yyyymmdd`, and the instant a term ending on `term_end` (0: none) ends.
int64_t DayStart(uint32_t yyyymmdd) { return DaysFromDate(yyyymmdd) * kDay - kChinaOffset; }
int64_t TermEndsAt(uint32_t term_end) {
  if (term_end == 0) return std::numeric_limits<int64_t>::max();
  return (DaysFromDate(term_end) + 1) * kDay - kChinaOffset;
}
bool Counts(uint32_t publish, uint32_t term_end, int64_t at) {
  return DayStart(publish) <= at && at < TermEndsAt(term_end);
}

// Adds `,"at":"2026-01-05T09:00:00+08:00"}` and the newline.
void AddAtAndEnd(int64_t at, OutFile* out) {
  const int64_t local = at + kChinaOffset;
  const uint32_t day = CivilFromDays(local / kDay);
  const int64_t second = local % kDay;
  Text<32> text;
  AddDate(day, "-", "-", "T", &text);
  text.AddUint(static_cast<uint64_t>(second / 3600), 2);
  text.Add(":");
  text.AddUint(static_cast<uint64_t>(second / 60 % 60), 2);
  text.Add(":");
  text.AddUint(static_cast<uint64_t>(second % 60), 2);
  text.Add("+08:00");
  out->AddField("at", text.view());
  out->Add("}\n");
}

// Removal reasons (Art. 10, the end of the term, other) per thousand: performance and
// settlement are most of them.
struct Reason {
  std::string_view name;
  uint32_t weight;
};
constexpr Reason kReasons[] = {
    {"performed", 400}, {"settled", 180},   {"creditor_request", 80},
    {"no_assets", 100}, {"suspended", 50},  {"not_enforced", 40},
    {"terminated", 50}, {"term_ended", 50}, {"other", 50},
};
constexpr std::string_view kTermEnded = "term_ended";
constexpr std::string_view kCreditorRequest = "creditor_request";

// Roles a relate gives (a legal representative changes as unrelate + relate, rarer).
constexpr Role kRelatedRoles[] = {
    Role::kPrincipal, Role::kActualController, Role::kDirectlyResponsible, Role::kDirector,
    Role::kDirector,  Role::kSupervisor,       Role::kSeniorManager,       Role::kSeniorManager};

// A case added by a delta: enough to regenerate it (BuildAdded) and to know if it counts.
struct AddedCase {
  uint32_t subject = 0;   // a base subject index, or kNewSubject | a new subject's number
  uint32_t decided = 0;   // the day of the add (days since 1970-01-01)
  uint32_t number = 0;    // its case number; 0 until drawn
  uint32_t publish = 0;   // YYYYMMDD
  uint32_t term_end = 0;  // YYYYMMDD, as corrected; 0: no fixed term
  bool gone = false;      // removed or revoked
};

// What the corrections of a case changed.
struct Correction {
  uint32_t duty = 0;      // the duty is redrawn from this number (0: the original)
  uint32_t term_end = 0;  // the term as extended (0: the original)
  bool performance_changed = false;
};

// A role given by a relate.
struct AddedRole {
  uint32_t org = 0;     // base subject index
  uint32_t person = 0;  // person number
  Role role = Role::kPrincipal;
  bool gone = false;
};

class ChangeMaker {
 public:
  explicit ChangeMaker(const SyntheticOptions& list)
      : seed_(list.seed), base_(list), dead_((base_.cases() + 63) / 64) {}

  // Writes one change at `at` into `out`.
  void Write(Rng& rng, int64_t at, OutFile* out) {
    const uint32_t r = rng.Below(1000);
    const bool done = r < 10    ? Remove(rng, at, /*revoke=*/true, out)
                      : r < 60  ? Correct(rng, at, out)
                      : r < 85  ? Relate(rng, at, out)
                      : r < 110 ? Unrelate(rng, at, out)
                      : r < 570 ? Remove(rng, at, /*revoke=*/false, out)
                                : false;
    if (!done) Add(rng, at, out);
  }

  void Reserve(uint64_t changes) { added_.reserve(changes / 2); }
  const SyntheticDeltaStats& stats() const { return stats_; }

 private:
  void Add(Rng& rng, int64_t at, OutFile* out) {
    AddedCase a;
    const uint32_t r = rng.Below(100);
    if (base_.subjects() > 0 && (r < 45 || (r < 55 && new_subjects_ == 0))) {
      a.subject = static_cast<uint32_t>(rng.Below64(base_.subjects()));
    } else if (r < 55 && new_subjects_ > 0) {
      a.subject = kNewSubject | rng.Below(new_subjects_);
    } else {
      a.subject = kNewSubject | new_subjects_++;
    }
    // Art. 10: not listed again within 6 months of a deletion at the creditor's request (the
    // deltas span days): a new subject instead, which shixin would otherwise note.
    if (creditor_deleted_.contains(a.subject)) a.subject = kNewSubject | new_subjects_++;
    a.decided = static_cast<uint32_t>((at + kChinaOffset) / kDay);
    added_.push_back(a);
    BuildAdded(added_.size() - 1, &record_);
    out->AddField("op", "add", /*first=*/true);
    AddCaseKeys(record_.c, out, /*first=*/false);
    AddAtAndEnd(at, out);
    ++stats_.adds;
  }

  bool Remove(Rng& rng, int64_t at, bool revoke, OutFile* out) {
    const std::optional<uint64_t> key = PickCounting(rng, at);
    if (!key) return false;
    out->AddField("op", revoke ? "revoke" : "remove", /*first=*/true);
    out->AddField("caseCode", record_.c.case_code);
    out->AddField("cardNum", record_.c.id.text());
    std::string_view reason;
    if (!revoke) {
      uint32_t w = rng.Below(1000);
      int i = 0;
      while (w >= kReasons[i].weight) w -= kReasons[i++].weight;
      // The end of the term is never the reason to remove a case still counting at `at` (its
      // term has not ended, its last day included): shixin notes it (Art. 10).
      reason = kReasons[i].name == kTermEnded ? kReasons[0].name : kReasons[i].name;
      out->AddField("reason", reason);
    }
    AddAtAndEnd(at, out);
    uint32_t subject = 0;
    if (*key < base_.cases()) {
      dead_[*key / 64] |= uint64_t{1} << (*key % 64);
      subject = static_cast<uint32_t>(base_.Locate(*key).first);
    } else {
      added_[*key - base_.cases()].gone = true;
      subject = added_[*key - base_.cases()].subject;
    }
    if (reason == kCreditorRequest) creditor_deleted_.insert(subject);
    ++(revoke ? stats_.revokes : stats_.removes);
    return true;
  }

  // Corrects the duty, the performance, or extends the term by 1-3 years. Corrections add up:
  // the next one starts from this version.
  bool Correct(Rng& rng, int64_t at, OutFile* out) {
    const std::optional<uint64_t> key = PickCounting(rng, at);
    if (!key) return false;
    // record_ is the current version: change it and what the case's corrections say.
    Correction& correction = corrections_[*key];
    uint32_t change = rng.Below(3);
    if (change == 2 && record_.c.term_end == 0) change = 0;
    if (change == 0) {
      correction.duty = ++duty_corrections_;
      SetDuty(correction.duty, &record_);
    } else if (change == 1) {
      correction.performance_changed = !correction.performance_changed;
      TogglePerformance(&record_);
    } else {
      correction.term_end =
          TermEnd(DaysFromDate(record_.c.term_end) + 1, 1 + static_cast<int>(rng.Below(3)));
      record_.c.term_end = correction.term_end;
      if (*key >= base_.cases()) added_[*key - base_.cases()].term_end = correction.term_end;
    }
    out->AddField("op", "correct", /*first=*/true);
    AddCaseKeys(record_.c, out, /*first=*/false);
    AddAtAndEnd(at, out);
    ++stats_.corrects;
    return true;
  }

  // Makes `r` (a case as listed, of subject_) the version `correction` made.
  void Apply(const Correction& correction, CaseRecord* r) const {
    if (correction.duty != 0) SetDuty(correction.duty, r);
    if (correction.performance_changed) TogglePerformance(r);
    if (correction.term_end != 0) r->c.term_end = correction.term_end;
  }

  // Redraws the duty of `r` (of subject_), the `n`-th corrected duty.
  void SetDuty(uint32_t n, CaseRecord* r) const {
    Rng rng(Hash(seed_, kCorrectStream, n));
    MakeDuty(rng, r->c.name, kAreas[subject_.area], seed_, &r->t.duty);
    r->c.duty = r->t.duty.view();
  }

  static void TogglePerformance(CaseRecord* r) {
    r->c.performance = r->c.performance == "全部未履行" ? "部分未履行" : "全部未履行";
  }

  // A person takes a role in a base organisation: mostly a new person, some listed.
  bool Relate(Rng& rng, int64_t at, OutFile* out) {
    const std::optional<uint64_t> org = PickOrganization(rng);
    if (!org) return false;
    RoleRecord roles[kMaxRoles];
    const int n = base_.Regenerate(*org, -1, nullptr, nullptr, roles);
    const Role role = rng.Pick(kRelatedRoles);
    uint64_t person = kRelatedBase + related_;
    if (rng.Chance(150000)) {
      const uint64_t s = rng.Below64(base_.subjects());
      if (IsListedPerson(seed_, s)) person = s;
    }
    Person p;
    MakePerson(seed_, person, &p);
    const std::string_view person_id(p.id, 18);
    for (int i = 0; i < n; ++i) {
      if (roles[i].person.text() == person_id && roles[i].role == role) return false;
    }
    if (!role_keys_.insert(RoleKey(*org, person, role)).second) return false;
    related_ += person >= kRelatedBase;
    added_roles_.push_back({static_cast<uint32_t>(*org), static_cast<uint32_t>(person), role});
    out->AddField("op", "relate", /*first=*/true);
    out->AddField("orgId", roles[0].org.text());
    out->AddField("personId", person_id);
    out->AddField("personName", p.name.view());
    out->AddField("role", RoleName(role));
    AddAtAndEnd(at, out);
    ++stats_.relates;
    return true;
  }

  // A role ends: one of the base list's, or one a relate gave.
  bool Unrelate(Rng& rng, int64_t at, OutFile* out) {
    RoleRecord roles[kMaxRoles];
    Person p;
    std::string_view org_id;
    std::string_view person_id;
    Role role = Role::kPrincipal;
    if (!added_roles_.empty() && rng.Chance(300000)) {
      AddedRole& added = added_roles_[rng.Below64(added_roles_.size())];
      if (added.gone) return false;
      added.gone = true;
      base_.Regenerate(added.org, -1, nullptr, nullptr, roles);
      MakePerson(seed_, added.person, &p);
      org_id = roles[0].org.text();
      person_id = std::string_view(p.id, 18);
      role = added.role;
    } else {
      const std::optional<uint64_t> org = PickOrganization(rng);
      if (!org) return false;
      const int n = base_.Regenerate(*org, -1, nullptr, nullptr, roles);
      const int slot = static_cast<int>(rng.Below(static_cast<uint32_t>(n)));
      if (!ended_roles_.insert(*org * kMaxRoles + slot).second) return false;
      org_id = roles[slot].org.text();
      person_id = roles[slot].person.text();
      role = roles[slot].role;
    }
    out->AddField("op", "unrelate", /*first=*/true);
    out->AddField("orgId", org_id);
    out->AddField("personId", person_id);
    out->AddField("role", RoleName(role));
    AddAtAndEnd(at, out);
    ++stats_.unrelates;
    return true;
  }

  // Returns a case that counts at `at`, drawn uniformly from every case ever listed (tries a
  // few), with its current version in record_ and its subject in subject_; nullopt if none was
  // found. Keys: base cases 0 .. base_.cases() - 1, then the added cases in order.
  std::optional<uint64_t> PickCounting(Rng& rng, int64_t at) {
    const uint64_t base = base_.cases();
    if (base + added_.size() == 0) return std::nullopt;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      const uint64_t key = rng.Below64(base + added_.size());
      if (key < base) {
        if ((dead_[key / 64] >> (key % 64)) & 1) continue;
        const auto [s, ordinal] = base_.Locate(key);
        base_.Regenerate(s, ordinal, &record_, &subject_, nullptr);
        const auto corrected = corrections_.find(key);
        if (corrected != corrections_.end()) Apply(corrected->second, &record_);
        if (Counts(record_.c.publish_date, record_.c.term_end, at)) return key;
      } else {
        const AddedCase& a = added_[key - base];
        if (a.gone || !Counts(a.publish, a.term_end, at)) continue;
        BuildAdded(key - base, &record_);
        const auto corrected = corrections_.find(key);
        if (corrected != corrections_.end()) Apply(corrected->second, &record_);
        return key;
      }
    }
    return std::nullopt;
  }

  // Returns a base subject that is an organisation, or nullopt if a few tries found none.
  std::optional<uint64_t> PickOrganization(Rng& rng) {
    if (base_.subjects() == 0) return std::nullopt;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      const uint64_t s = rng.Below64(base_.subjects());
      if (!IsListedPerson(seed_, s)) return s;
    }
    return std::nullopt;
  }

  static uint64_t RoleKey(uint64_t org, uint64_t person, Role role) {
    return (org << 34) | (person << 3) | static_cast<uint64_t>(role);
  }

  // Fills `info` with the subject of an added case.
  void SubjectOf(uint32_t subject, SubjectInfo* info) const {
    if ((subject & kNewSubject) == 0) {
      if (IsListedPerson(seed_, subject)) return MakePersonSubject(seed_, subject, info);
      base_.Regenerate(subject, -1, nullptr, info, nullptr);
      return;
    }
    const uint64_t m = subject & ~kNewSubject;
    const uint64_t org_index = kMaxSubjects - 1 - m;
    // 82 % persons, as in the base list; organisation indices count down from the top.
    if (Hash(seed_, kNewSubjectStream, m) % 100000 < 82000 || org_index < base_.subjects()) {
      return MakePersonSubject(seed_, kNewPersonBase + m, info);
    }
    Rng rng(Hash(seed_, kNewSubjectStream, m));
    Organization org;
    MakeOrganization(seed_, org_index, rng, &org);
    Person officer;
    MakePerson(seed_, kNewOfficerBase + m, &officer);
    info->id = MakeIdUnchecked(org.kind, std::string_view(org.id, org.id_size));
    info->person = false;
    info->area = org.area;
    info->birth = 0;
    info->sex = Sex::kUnknown;
    info->name.Clear();
    info->name.Add(org.name.view());
    info->entity.Clear();
    info->entity.Add(officer.name.view());
  }

  // Regenerates added case `i` into `out` (its subject into subject_), drawing its number,
  // publish date and term the first time.
  void BuildAdded(uint64_t i, CaseRecord* out) {
    AddedCase& a = added_[i];
    SubjectOf(a.subject, &subject_);
    Rng rng(Hash(seed_, kAddStream, i));
    const int court_index = PickCourt(rng, subject_.area);
    const Court& court = kCourts[court_index];
    CaseTexts texts;
    CaseInput c;
    const int years = DrawGrounds(rng, &texts, &c);
    // Filed 1-24 months before the decision; published that day or after a grace period.
    const int64_t decided = a.decided;
    const int64_t reg = decided - 30 - rng.Below(700);
    const int64_t publish = decided + (rng.Chance(80000) ? 31 + rng.Below(62) : 0);
    c.reg_date = CivilFromDays(reg);
    c.publish_date = CivilFromDays(publish);
    const int year = static_cast<int>(c.reg_date / 10000);
    const bool full_width = rng.Below(2) == 0;
    if (a.number == 0) {
      a.number =
          next_number_.try_emplace(court_index * 10000 + year, kFirstAddedNumber).first->second++;
      a.publish = c.publish_date;
      a.term_end = years == 0 ? 0 : TermEnd(publish, years);
    }
    c.term_end = a.term_end;
    texts.case_code.Clear();
    texts.case_code.Add(full_width ? "（" : "(");
    texts.case_code.AddUint(static_cast<uint64_t>(year));
    texts.case_code.Add(full_width ? "）" : ")");
    texts.case_code.Add(court.code);
    texts.case_code.Add("执");
    texts.case_code.AddUint(a.number);
    texts.case_code.Add("号");
    FillCase(rng, seed_, subject_, court, year, &texts, &c);
    out->Set(c);
  }

  const uint64_t seed_;
  const BaseList base_;
  std::vector<uint64_t> dead_;  // a bit per base case: removed or revoked
  absl::flat_hash_map<uint64_t, Correction> corrections_;  // by case key
  uint32_t duty_corrections_ = 0;
  std::vector<AddedCase> added_;
  absl::flat_hash_map<int, uint32_t> next_number_;  // court * 10000 + year -> next number
  uint32_t new_subjects_ = 0;
  uint64_t related_ = 0;  // persons given a role so far
  std::vector<AddedRole> added_roles_;
  absl::flat_hash_set<uint64_t> role_keys_;         // RoleKey of every role a relate gave
  absl::flat_hash_set<uint64_t> ended_roles_;       // org * kMaxRoles + slot of base roles ended
  absl::flat_hash_set<uint32_t> creditor_deleted_;  // subjects of a creditor_request removal
  CaseRecord record_;
  SubjectInfo subject_;
  SyntheticDeltaStats stats_;
};

// Returns the i-th working day (Monday to Friday) after `today` (days since 1970-01-01).
int64_t WorkingDay(int64_t today, uint64_t i) {
  int64_t day = today;
  while (i > 0) {
    ++day;
    const int64_t weekday = (day + 4) % 7;  // 1970-01-01 was a Thursday; 0 is Sunday
    if (weekday != 0 && weekday != 6) --i;
  }
  return day;
}

// Writes delta file `seq` of `options` into `dir`: under a temporary name, then renamed.
absl::Status WriteDelta(const SyntheticOptions& list, const SyntheticDeltaOptions& options,
                        const std::string& dir, uint64_t seq, ChangeMaker* maker) {
  const std::string name = DeltaFileName(seq);
  const std::string path = dir + "/" + name;
  const std::string tmp = dir + "/." + name + ".tmp";
  const int64_t opens =
      WorkingDay(DaysFromDate(SyntheticToday(list)), seq) * kDay - kChinaOffset + kOfficeOpens;
  const uint64_t k = options.changes_per_delta;
  Rng rng(Hash(list.seed, kDeltaStream, seq));
  OutFile out;
  absl::Status status = out.Open(tmp);
  for (uint64_t j = 0; status.ok() && j < k; ++j) {
    maker->Write(rng, opens + static_cast<int64_t>(j * kOfficeHours / k), &out);
  }
  const absl::Status closed = out.Close();
  if (status.ok()) status = closed;
  if (status.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("cannot rename ", tmp));
  }
  if (!status.ok()) std::remove(tmp.c_str());
  return status;
}

}  // namespace
}  // namespace synthetic_internal

absl::StatusOr<SyntheticDeltaStats> WriteSyntheticDeltas(const SyntheticOptions& list_options,
                                                         const SyntheticDeltaOptions& options,
                                                         const std::string& dir) {
  // "Today" read once: the list and every file agree on it.
  SyntheticOptions list = list_options;
  list.today = SyntheticToday(list_options);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  synthetic_internal::ChangeMaker maker(list);
  maker.Reserve(options.deltas * options.changes_per_delta);
  for (uint64_t seq = 1; seq <= options.deltas; ++seq) {
    const absl::Status status = synthetic_internal::WriteDelta(list, options, dir, seq, &maker);
    if (!status.ok()) return status;
  }
  SyntheticDeltaStats stats = maker.stats();
  stats.files = options.deltas;
  return stats;
}

}  // namespace shixin
