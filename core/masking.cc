#include "core/masking.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/civil_time.h"
#include "base/enum_names.h"
#include "base/utf8.h"
#include "core/id.h"
#include "core/record.h"

namespace shixin {
namespace {

// What a masked caller sees of a case, field by field (ForEachCaseField's names). A field not
// named here does not compile (static_assert below), so a new field is decided, not forgotten.
struct CaseFieldPolicy {
  std::string_view name;
  bool masked_view_keeps;
};
constexpr CaseFieldPolicy kCaseFieldPolicy[] = {
    // Which case, where, and since when: what the public list shows of every entry, and what
    // the caller needs to tell the subject where to turn (the court, the case code).
    {"case_code", true},
    {"court", true},
    {"area", true},
    {"reg_date", true},
    {"publish_date", true},
    // The judgment the enforcement rests on (its document number and the body that gave it):
    // judgment details.
    {"gist_id", false},
    {"gist_unit", false},
    // The duties and how far they were performed (amounts, counterparties): the texts a front
    // desk has no need of.
    {"duty", false},
    {"performance", false},
    {"performed_part", false},
    {"unperform_part", false},
    // The ground of listing (the conduct, Art. 1 of the Provisions): why the subject is listed.
    {"disrupt_type", true},
    // The legal representative's name, with no ID to tell whether that person is listed; roles
    // and officers carry the person, masked by the rules there.
    {"business_entity", false},
    // The subject's age and sex: not needed to decide anything, and personal data.
    {"age", false},
    {"sex", false},
    // The validity (its term, start, end and why it ended): whether and until when it counts.
    {"term_end", true},
    {"start", true},
    {"ended_at", true},
    {"end", true},
};

constexpr int CasePolicyIndex(std::string_view name) {
  for (size_t i = 0; i < std::size(kCaseFieldPolicy); ++i) {
    if (kCaseFieldPolicy[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

// Whether every case field has exactly one policy entry.
constexpr bool CasePolicyIsComplete() {
  size_t fields = 0;
  bool all_known = true;
  ForEachCaseField(
      [&](const CaseField& field, const auto&) {
        ++fields;
        all_known = all_known && CasePolicyIndex(field.name) >= 0;
      },
      CaseView{});
  return all_known && fields == std::size(kCaseFieldPolicy);
}
static_assert(CasePolicyIsComplete(), "decide in kCaseFieldPolicy what a masked caller sees");

CaseInfo MaskCase(CaseInfo c) {
  CaseInfo masked;
  ForEachCaseField(
      [](const CaseField& field, auto& to, auto& from) {
        if (!kCaseFieldPolicy[CasePolicyIndex(field.name)].masked_view_keeps) return;
        // A person's ID the court wrote into a text kept (the court's name, the conduct) is a
        // third party's: masked, as the public export masks it.
        if constexpr (std::is_same_v<std::decay_t<decltype(from)>, std::string>) {
          to = MaskIdsInText(from);
        } else {
          to = std::move(from);
        }
      },
      masked, c);
  return masked;
}

// Returns a third party's `normalised_id` as a masked caller sees it: a person's masked
// (MaskIdText()), an organisation's whole (its credit code or organisation code is public: the
// public list, and `shixin export --public`, show it). A text that is not an ID is masked.
std::string ThirdPartyId(std::string_view normalised_id) {
  const absl::StatusOr<Id> id = ParseId(normalised_id, absl::CivilDay(9999, 12, 31));
  if (id.ok() && id->kind() != IdKind::kResident) return std::string(normalised_id);
  return MaskIdText(normalised_id);
}

void MaskRoles(std::vector<RoleInfo>& roles) {
  for (RoleInfo& role : roles) {
    role.id = ThirdPartyId(role.id);
    role.name = role.listed ? MaskIdsInText(role.name) : MaskName(role.name);
  }
}

}  // namespace

std::string_view ViewName(View view) {
  static constexpr std::string_view kNames[] = {"full", "masked"};
  return EnumName(view, kNames, "");
}

std::optional<View> ParseView(std::string_view name) {
  if (name == "full") return View::kFull;
  if (name == "masked") return View::kMasked;
  return std::nullopt;
}

std::string MaskName(std::string_view name) {
  if (name.empty()) return "";
  const size_t first = Utf8SequenceAt(name);
  std::string masked(first > 0 ? name.substr(0, first) : kReplacementCharacter);
  for (size_t i = first > 0 ? first : 1; i < name.size();) {
    const size_t n = Utf8SequenceAt(name.substr(i));
    i += n > 0 ? n : 1;
    masked.push_back('*');
  }
  return masked;
}

std::string MaskIdText(std::string_view normalised_id) {
  // The latest civil day: a stored ID was valid when stored, whatever today's date is; this
  // keeps the function pure.
  absl::StatusOr<Id> id = ParseId(normalised_id, absl::CivilDay(9999, 12, 31));
  return id.ok() ? id->Masked() : MaskName(normalised_id);
}

namespace {

// Returns the byte length of the digit (ASCII, or full-width U+FF10-U+FF19) at the start of `s`,
// or 0.
size_t DigitLength(std::string_view s) {
  if (!s.empty() && s[0] >= '0' && s[0] <= '9') return 1;
  if (s.size() >= 3 && s.substr(0, 2) == "\xEF\xBC" && static_cast<unsigned char>(s[2]) >= 0x90 &&
      static_cast<unsigned char>(s[2]) <= 0x99) {
    return 3;
  }
  return 0;
}

// Returns the byte length of the check character X (x, or full-width) at the start of `s`, or 0.
size_t CheckXLength(std::string_view s) {
  if (!s.empty() && (s[0] == 'X' || s[0] == 'x')) return 1;
  if (s.starts_with("\xEF\xBC\xB8") || s.starts_with("\xEF\xBD\x98")) return 3;  // Ｘ ｘ
  return 0;
}

// Appends the digits at `text[*end]` to `pieces`, moving `*end` past them; returns their count.
size_t TakeDigits(std::string_view text, size_t* end, std::vector<std::string_view>* pieces) {
  size_t count = 0;
  for (size_t n = 0; (n = DigitLength(text.substr(*end))) > 0; *end += n, ++count) {
    pieces->push_back(text.substr(*end, n));
  }
  return count;
}

// Appends the ID separator at `text[*end]` to `pieces`, moving `*end` past it; returns whether
// there was one.
bool TakeSeparator(std::string_view text, size_t* end, std::vector<std::string_view>* pieces) {
  const size_t n = IdSeparatorLength(text.substr(*end));
  if (n > 0) pieces->push_back(text.substr(*end, n));
  *end += n;
  return n > 0;
}

// Returns the end of a person's ID written in groups that starts `text` (6-8-4, the last
// group's last character a check X too, or 6-6-3; one separator between groups: the groupings
// ParseId() reads), its characters and separators in `pieces`; or 0. The groups are whole runs
// of digits, so a longer number with a separator in it is none.
size_t GroupedPersonId(std::string_view text, std::vector<std::string_view>* pieces) {
  size_t end = 0;
  if (TakeDigits(text, &end, pieces) != 6 || !TakeSeparator(text, &end, pieces)) return 0;
  const size_t middle = TakeDigits(text, &end, pieces);
  if ((middle != 8 && middle != 6) || !TakeSeparator(text, &end, pieces)) return 0;
  const size_t last = TakeDigits(text, &end, pieces);
  if (middle == 6) return last == 3 ? end : 0;
  if (last == 3) {
    const size_t n = CheckXLength(text.substr(end));
    if (n > 0) pieces->push_back(text.substr(end, n));
    return n > 0 ? end + n : 0;
  }
  return last == 4 ? end : 0;
}

// Appends the characters of a run of 15 or more (`pieces`, ID separators between them kept) to
// `out` masked as MaskIdsInText() says.
void AppendMasked(const std::vector<std::string_view>& pieces, std::string& out) {
  size_t size = 0;
  for (std::string_view p : pieces) size += IdSeparatorLength(p) == 0 ? 1 : 0;
  const size_t head = size == 18 ? 10 : size == 15 ? 8 : 6;
  const size_t tail = size == 15 ? 3 : 4;
  size_t k = 0;
  for (std::string_view p : pieces) {
    if (IdSeparatorLength(p) > 0) {
      out.append(p);
      continue;
    }
    if (k < head || k >= size - tail) {
      out.append(p);
    } else {
      out.push_back('*');
    }
    ++k;
  }
}

}  // namespace

std::string MaskIdsInText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::vector<std::string_view> run;  // the characters of a run of digits (and separators)
  for (size_t i = 0; i < text.size();) {
    run.clear();
    if (const size_t n = GroupedPersonId(text.substr(i), &run); n > 0) {
      AppendMasked(run, out);
      i += n;
      continue;
    }
    run.clear();
    size_t end = i;
    if (TakeDigits(text, &end, &run) == 17) {
      if (const size_t n = CheckXLength(text.substr(end)); n > 0) {
        run.push_back(text.substr(end, n));
        end += n;
      }
    }
    if (run.empty()) {
      out.push_back(text[i++]);
      continue;
    }
    i = end;
    if (run.size() < 15) {
      for (std::string_view c : run) out.append(c);
      continue;
    }
    AppendMasked(run, out);
  }
  return out;
}

void Mask(View view, CheckResult* r) {
  if (view == View::kFull) return;
  // A listed subject's name is kept, less a person's ID the court wrote into it.
  r->name = r->listed ? MaskIdsInText(r->name) : MaskName(r->name);
  for (CaseInfo& c : r->cases) c = MaskCase(std::move(c));
  MaskRoles(r->roles);
  MaskRoles(r->officers);
}

namespace {

// Masks `subject` and the bases `for_each_basis(f)` calls f(Basis&) on (it is called twice)
// for `view`, as Mask(View, MeasuresResult*) says. REQUIRES: view != kFull.
template <typename ForEachBasis>
void MaskMeasures(View view, CheckResult* subject, ForEachBasis for_each_basis) {
  // The persons known to be listed: officers the subject's answer marks listed, and officers
  // of one-hop officer bases (listed by definition). A two-hop officer is listed only if known
  // so from these; its name is masked otherwise.
  absl::flat_hash_set<std::string> listed;
  for (const RoleInfo& officer : subject->officers) {
    if (officer.listed) listed.insert(officer.id);
  }
  for_each_basis([&](const Basis& b) {
    if (b.type == BasisType::kOfficer && b.via.empty()) listed.insert(b.officer);
  });
  Mask(view, subject);
  for_each_basis([&](Basis& b) {
    if (!b.via.empty()) b.via = ThirdPartyId(b.via);
    if (!b.officer.empty()) {
      if (!listed.contains(b.officer)) b.officer_name = MaskName(b.officer_name);
      b.officer = ThirdPartyId(b.officer);
    }
  });
}

}  // namespace

void Mask(View view, MeasuresResult* r) {
  if (view == View::kFull) return;
  MaskMeasures(view, &r->subject, [r](const auto& f) {
    for (MeasureInfo& m : r->measures) {
      for (Basis& b : m.basis) f(b);
    }
  });
}

void Mask(View view, MeasureMatches* r) {
  if (view == View::kFull) return;
  MaskMeasures(view, &r->subject, [r](const auto& f) {
    for (const MeasureMatch& m : r->measures) {
      for (Basis& b : r->BasesOf(m)) f(b);
    }
  });
}

}  // namespace shixin
