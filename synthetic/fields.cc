#include "synthetic/fields.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string_view>
#include <vector>

#include "core/id.h"
#include "synthetic/tables.h"

namespace shixin::synthetic_internal {
namespace {

// Persons: (area, birth date, sequence) spaces and the multiplier of the bijection.
constexpr int64_t kFirstBirthDay = DaysFromCivil(1940, 1, 1);
constexpr int64_t kBirthDays = DaysFromCivil(2005, 1, 1) - kFirstBirthDay;
constexpr uint64_t kSequences = 999;        // 001-999
constexpr uint64_t kPersonMul = 982451653;  // prime above every factor of the space

// Organisation-code bodies: 8 digits, or "MA" + 6 credit-code characters (post-2015 codes).
constexpr uint64_t kDigitMul = 73856093;   // coprime with 10^8
constexpr uint64_t kMaBodies = 887503681;  // 31^6
constexpr uint64_t kMaMul = 19349663;      // coprime with 31
static_assert(kDigitMul % 2 != 0 && kDigitMul % 5 != 0 && kMaMul % 31 != 0);
constexpr std::string_view kCreditChars = "0123456789ABCDEFGHJKLMNPQRTUWXY";

// Unicode characters in UTF-8 `s`.
size_t CountChars(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

void MakePersonName(uint64_t h, Text<16>* name) {
  name->Clear();
  const size_t surnames = kSurnames.size() / 3;
  const size_t given = kGivenChars.size() / 3;
  if (h % 1000 < 4) {
    name->Add(kCompoundSurnames[(h >> 10) % std::size(kCompoundSurnames)]);
  } else {
    // The ten most frequent surnames cover about 40 % of people.
    name->AddChar3(kSurnames, (h >> 10) % 1000 < 400 ? (h >> 20) % 10 : (h >> 20) % surnames);
  }
  name->AddChar3(kGivenChars, (h >> 30) % given);
  if ((h >> 40) % 100 < 70) name->AddChar3(kGivenChars, (h >> 47) % given);
}

// Writes the 9-character organisation code of subject `index` into `out`.
void MakeOrgCode(uint64_t seed, uint64_t index, bool new_style, char* out) {
  if (new_style) {
    uint64_t x = (index * kMaMul + Hash(seed, kOffsetStream, 2)) % kMaBodies;
    out[0] = 'M';
    out[1] = 'A';
    for (int i = 7; i >= 2; --i, x /= 31) out[i] = kCreditChars[x % 31];
  } else {
    uint64_t x = (index * kDigitMul + Hash(seed, kOffsetStream, 1)) % kDigitBodies;
    for (int i = 7; i >= 0; --i, x /= 10) out[i] = static_cast<char>('0' + x % 10);
  }
  out[8] = OrgCodeCheckChar(std::string_view(out, 8));
}

void MakeOrgName(Rng& rng, std::string_view type, const Area& area, Text<96>* name) {
  name->Clear();
  name->Add(area.place);
  name->Add(rng.Pick(kNameWords));
  if (type == "92") {
    name->Add(rng.Pick(kShopKinds));
  } else if (type == "93") {
    name->Add(rng.Pick(kCoopKinds));
  } else if (type == "52") {
    name->Add(rng.Pick(kSchoolKinds));
  } else {
    name->Add(rng.Pick(kCompanyKinds));
  }
}

const std::array<std::vector<uint8_t>, kAreaCount>& CourtsByArea() {
  static const auto* table = [] {
    auto* t = new std::array<std::vector<uint8_t>, kAreaCount>;
    for (int a = 0; a < kAreaCount; ++a) {
      const int province = (kAreas[a].code[0] - '0') * 10 + (kAreas[a].code[1] - '0');
      for (int c = 0; c < kCourtCount; ++c) {
        if (kCourts[c].province == province) (*t)[a].push_back(static_cast<uint8_t>(c));
      }
    }
    return t;
  }();
  return *table;
}

bool IsIntermediate(const Court& court) { return court.code.size() == 5; }

template <size_t kCap>
void AddOpen(Rng& rng, int year, Text<kCap>* out) {
  const bool full_width = rng.Below(2) == 0;
  out->Add(full_width ? "（" : "(");
  out->AddUint(static_cast<uint64_t>(year));
  out->Add(full_width ? "）" : ")");
}

// Roughly log-uniform from 100 yuan to ten million, in round figures.
void AddAmount(Rng& rng, Text<512>* out) {
  uint64_t amount = 10 + rng.Below(90);
  for (uint32_t zeros = 1 + rng.Below(5); zeros > 0; --zeros) amount *= 10;
  if (amount % 10000 == 0 && rng.Chance(500000)) {
    out->AddUint(amount / 10000);
    out->Add("万元");
  } else {
    out->AddUint(amount);
    out->Add("元");
  }
}

void AddPlaintiff(Rng& rng, Plaintiff kind, const Area& area, uint64_t seed, Text<512>* out) {
  if (kind == kAnyPlaintiff) kind = static_cast<Plaintiff>(1 + rng.Below(3));
  if (kind == kBankPlaintiff) {
    out->Add(rng.Pick(kBanks));
    out->Add(area.city);
    out->Add("分行");
  } else if (kind == kCompanyPlaintiff) {
    Text<96> name;
    MakeOrgName(rng, "91", area, &name);
    out->Add(name.view());
  } else {
    Text<16> name;
    MakePersonName(Mix(rng.Next() ^ seed), &name);
    out->Add(name.view());
  }
}

}  // namespace

bool IsListedPerson(uint64_t seed, uint64_t index) {
  return Hash(seed, kKindStream, index) % 100000 < 82000;
}

void MakePerson(uint64_t seed, uint64_t number, Person* p) {
  const uint64_t space = kAreaCount * static_cast<uint64_t>(kBirthDays) * kSequences;
  uint64_t x = (number * kPersonMul + Hash(seed, kOffsetStream, 0)) % space;
  const uint64_t sequence = x % kSequences + 1;
  x /= kSequences;
  p->birth = CivilFromDays(kFirstBirthDay + static_cast<int64_t>(x % kBirthDays));
  p->area = static_cast<int>(x / kBirthDays);
  p->sex = sequence % 2 == 1 ? 1 : 2;
  Text<18> id;
  id.Add(kAreas[p->area].code);
  id.AddUint(p->birth, 8);
  id.AddUint(sequence, 3);
  std::memcpy(p->id, id.view().data(), 17);
  p->id[17] = ResidentCheckChar(id.view());
  MakePersonName(Hash(seed, kPersonStream, number), &p->name);
}

void MakeOrganization(uint64_t seed, uint64_t index, Rng& rng, Organization* org) {
  org->area = static_cast<int>(rng.Below(kAreaCount));
  org->relations_by_org_code = rng.Chance(20000);
  const bool bare = rng.Chance(30000);  // older organisations, listed by organisation code
  const uint32_t r = rng.Below(100);
  // 91 enterprise, 92 individual business, 93 farmers' cooperative, 52 private non-enterprise.
  const std::string_view type = bare ? "91" : r < 88 ? "91" : r < 93 ? "92" : r < 97 ? "93" : "52";
  MakeOrgName(rng, type, kAreas[org->area], &org->name);
  char code[9];
  MakeOrgCode(seed, index, !bare && rng.Chance(300000), code);
  if (bare) {
    org->kind = IdKind::kOrgCode;
    org->id_size = 9;
    std::memcpy(org->id, code, 9);
    return;
  }
  org->kind = IdKind::kCreditCode;
  org->id_size = 18;
  std::memcpy(org->id, type.data(), 2);
  std::memcpy(org->id + 2, kAreas[org->area].code.data(), 6);
  std::memcpy(org->id + 8, code, 9);
  org->id[17] = CreditCodeCheckChar(std::string_view(org->id, 17));
}

// Most cases are filed where the debtor lives.
int PickCourt(Rng& rng, int area) {
  const std::vector<uint8_t>& local = CourtsByArea()[area];
  if (local.empty() || rng.Chance(150000)) return static_cast<int>(rng.Below(kCourtCount));
  return local[rng.Below(static_cast<uint32_t>(local.size()))];
}

// Geometric with a long tail: persons average ~1.4 cases, organisations ~2.7; a few heavy
// defaulters have 20-67 (the national maximum).
int CaseCount(Rng& rng, bool person) {
  if (rng.Chance(person ? 200 : 1500)) return 20 + static_cast<int>(rng.Below(48));
  const uint32_t another = person ? 281400 : 621000;  // per million; mean = 1 / (1 - p)
  int n = 1;
  while (n < 67 && rng.Chance(another)) ++n;
  return n;
}

// "（2019）黑04执123号", "(2021)浙0111执恢286号", before 2016 also "(2014)鹤中法执字第00232号".
void MakeCaseCode(Rng& rng, const Court& court, int year, Text<64>* out) {
  out->Clear();
  AddOpen(rng, year, out);
  if (year <= 2015 && rng.Chance(500000)) {
    out->Add(court.abbr);
    out->Add("执字第");
    out->AddUint(1 + rng.Below(3000), 5);
  } else {
    out->Add(court.code);
    out->Add(rng.Chance(150000) ? "执恢" : "执");
    out->AddUint(1 + rng.Below(IsIntermediate(court) ? 600 : 6000));
  }
  out->Add("号");
}

// The judgment the enforcement rests on: "(2018)黑0402民初1234号".
void MakeGistId(Rng& rng, const Court& court, int year, Text<64>* out) {
  out->Clear();
  const int gist_year = year - static_cast<int>(rng.Below(3));
  AddOpen(rng, gist_year, out);
  const uint32_t r = rng.Below(100);
  std::string_view type = IsIntermediate(court) ? (r < 70   ? "民终"
                                                   : r < 90 ? "民初"
                                                            : "刑初")
                                                : (r < 85   ? "民初"
                                                   : r < 93 ? "民特"
                                                            : "刑初");
  if (gist_year <= 2015) {
    out->Add(court.abbr);
    out->Add(type);
    out->Add("字第");
  } else {
    out->Add(court.code);
    out->Add(type);
  }
  out->AddUint(1 + rng.Below(8000));
  out->Add("号");
}

void MakeDuty(Rng& rng, std::string_view debtor, const Area& area, uint64_t seed, Text<512>* out) {
  out->Clear();
  const DutyTemplate& t = rng.Pick(kDuties);
  out->Add(t.a);
  out->Add(debtor);
  out->Add(t.b);
  AddPlaintiff(rng, t.plaintiff, area, seed, out);
  out->Add(t.c);
  AddAmount(rng, out);
  out->Add(t.d);
  // Some judgments have several numbered items: the feed keeps the line breaks.
  if (CountChars(out->view()) <= 55 && rng.Chance(50000)) {
    out->Add("；\n案件受理费");
    out->AddUint(50 + rng.Below(5000));
    out->Add("元由被告负担");
  }
}

uint32_t MakeDisruptTypes(Rng& rng, Text<256>* out) {
  out->Clear();
  const int count = rng.Chance(200000) ? (rng.Chance(150000) ? 3 : 2) : 1;
  uint32_t used = 0;
  for (int n = 0; n < count;) {
    uint32_t r = rng.Below(1000);
    int g = 0;
    while (r >= kGrounds[g].weight) r -= kGrounds[g++].weight;
    if (used & (1u << g)) continue;
    used |= 1u << g;
    if (n++ > 0) out->Add(",");
    out->Add(kGrounds[g].text);
  }
  return used;
}

int TermYears(Rng& rng, uint32_t grounds) {
  if (grounds == 1) return 0;
  // Grounds (4) and (5) are violence and false litigation; several grounds are several acts.
  const bool grave = (grounds & 0b11000) != 0 || (grounds & (grounds - 1)) != 0;
  if (!rng.Chance(grave ? 300000 : 50000)) return 2;
  return 3 + static_cast<int>(rng.Below(3));
}

uint32_t TermEnd(int64_t publish, int years) {
  const uint32_t p = CivilFromDays(publish);
  // The same day `years` later (29 February becomes 1 March), less one day.
  return CivilFromDays(DaysFromCivil(p / 10000 + years, p / 100 % 100, p % 100) - 1);
}

}  // namespace shixin::synthetic_internal
