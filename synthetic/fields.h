// The generator's building blocks (internal to synthetic/): deterministic randomness,
// fixed-capacity text, dates, and the makers of identities and case fields. Everything is a
// pure function of its arguments (the seed, a number, an Rng's state), so the same options
// always give the same records.
//
// Thread safety: functions are reentrant; an Rng or a Text belongs to one thread.
#ifndef SHIXIN_SYNTHETIC_FIELDS_H_
#define SHIXIN_SYNTHETIC_FIELDS_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "core/id.h"
#include "core/validity.h"
#include "synthetic/tables.h"

namespace shixin::synthetic_internal {

// ---------------------------------------------------------------------------------------------
// Randomness: splitmix64 for hashing and seeding, xoshiro256** for streams. Integer-only, so
// the output is the same with every compiler and library.

inline uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Streams keep the pure functions of (seed, number) independent of each other.
enum Stream : uint64_t {
  kKindStream = 1,
  kSubjectStream,
  kPersonStream,
  kOffsetStream,
  kDeltaStream,       // the changes of one delta file
  kAddStream,         // one case added by a delta
  kNewSubjectStream,  // one subject first listed by a delta
  kCorrectStream,     // one corrected duty
};

inline uint64_t Hash(uint64_t seed, Stream stream, uint64_t index) {
  return Mix(Mix(seed * 0x100000001b3ULL + stream) ^ index);
}

// A xoshiro256** stream seeded from `key`.
class Rng {
 public:
  explicit Rng(uint64_t key) {
    for (uint64_t& s : s_) s = key = Mix(key);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Returns a number in [0, n) (multiply-shift: tiny bias, no rejection loop).
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(((Next() >> 32) * n) >> 32); }
  uint64_t Below64(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  bool Chance(uint32_t per_million) { return Below(1000000) < per_million; }
  template <typename T, size_t N>
  const T& Pick(const T (&table)[N]) {
    return table[Below(N)];
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// ---------------------------------------------------------------------------------------------
// Fixed-capacity text, so the hot loop never allocates. The tables bound every field far below
// the capacity.

// Text of at most kCap bytes; what does not fit is dropped.
template <size_t kCap>
class Text {
 public:
  void Clear() { size_ = 0; }
  void Add(std::string_view s) {
    const size_t n = std::min(s.size(), kCap - size_);
    std::memcpy(data_ + size_, s.data(), n);
    size_ += n;
  }
  void AddUint(uint64_t v, int min_digits = 1) {
    char digits[20];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0 || n < min_digits);
    while (n > 0 && size_ < kCap) data_[size_++] = digits[--n];
  }
  // Appends the `index`-th 3-byte character of `chars`.
  void AddChar3(std::string_view chars, size_t index) { Add(chars.substr(index * 3, 3)); }
  std::string_view view() const { return std::string_view(data_, size_); }

 private:
  char data_[kCap];
  size_t size_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Dates (proleptic Gregorian, days since 1970-01-01; H. Hinnant's algorithms; DaysFromCivil
// is core/validity.h's).

// Returns the date `z` as YYYYMMDD.
inline uint32_t CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
  return static_cast<uint32_t>(y * 10000 + m * 100 + d);
}

// Returns the date `yyyymmdd` as days since 1970-01-01.
constexpr int64_t DaysFromDate(uint32_t yyyymmdd) {
  return DaysFromCivil(yyyymmdd / 10000, yyyymmdd / 100 % 100, yyyymmdd % 100);
}

// Appends the date `yyyymmdd` as year, `y`, month, `m`, day, `d` ("2026-01-05" with "-", "-",
// "", or "2026年01月05日").
template <size_t kCap>
void AddDate(uint32_t yyyymmdd, std::string_view y, std::string_view m, std::string_view d,
             Text<kCap>* out) {
  out->AddUint(yyyymmdd / 10000, 4);
  out->Add(y);
  out->AddUint(yyyymmdd / 100 % 100, 2);
  out->Add(m);
  out->AddUint(yyyymmdd % 100, 2);
  out->Add(d);
}

// Returns the whole years from `birth` to `date` (both YYYYMMDD), clamped to 0-255.
inline uint8_t AgeAt(uint32_t birth, uint32_t date) {
  int age = static_cast<int>(date / 10000) - static_cast<int>(birth / 10000);
  if (date % 10000 < birth % 10000) --age;
  return static_cast<uint8_t>(std::clamp(age, 0, 255));
}

// ---------------------------------------------------------------------------------------------
// Identities. A person is a pure function of (seed, person number): listed persons are numbers
// [0, subjects) (the subject index), unlisted related persons come after. The number maps to
// (area, birth date, sequence) through a bijection, so distinct numbers give distinct IDs.

// Organisation-code bodies of 8 digits; subject indices are org-code bodies and person
// numbers, so they must stay within both spaces.
inline constexpr uint64_t kDigitBodies = 100000000;
inline constexpr uint64_t kMaxSubjects = kDigitBodies;

struct Person {
  char id[18];
  uint32_t birth;  // YYYYMMDD
  uint8_t sex;     // 1 male, 2 female
  int area;        // index into kAreas
  Text<16> name;
};

struct Organization {
  IdKind kind;
  char id[18];
  size_t id_size;
  int area;                    // index into kAreas
  bool relations_by_org_code;  // the relations feed names it by its embedded org code
  Text<96> name;
};

// Returns whether subject `index` is a person (82 %) rather than an organisation.
bool IsListedPerson(uint64_t seed, uint64_t index);
// Fills `p` with person `number`.
void MakePerson(uint64_t seed, uint64_t number, Person* p);
// Fills `org` with organisation subject `index`, drawing its traits from `rng`.
void MakeOrganization(uint64_t seed, uint64_t index, Rng& rng, Organization* org);

// ---------------------------------------------------------------------------------------------
// Courts and cases.

// Returns the index into kCourts of a court for a debtor in area `area`; most cases are filed
// where the debtor lives.
int PickCourt(Rng& rng, int area);
// Returns the number of cases of a subject: geometric with a long tail (1-67).
int CaseCount(Rng& rng, bool person);
// Writes a case number such as "（2019）黑04执123号" into `out`.
void MakeCaseCode(Rng& rng, const Court& court, int year, Text<64>* out);
// Writes the number of the judgment the enforcement rests on into `out`.
void MakeGistId(Rng& rng, const Court& court, int year, Text<64>* out);
// Writes the duty the judgment set for `debtor` into `out`.
void MakeDuty(Rng& rng, std::string_view debtor, const Area& area, uint64_t seed, Text<512>* out);
// Writes one to three distinct grounds of listing, comma-separated, into `out`. Returns them as
// a mask (bit g: kGrounds[g]).
uint32_t MakeDisruptTypes(Rng& rng, Text<256>* out);
// Returns the term of a listing on `grounds` (a MakeDisruptTypes mask) in years (court rules,
// Art. 2): 0 (no fixed term) for ground (1) alone, else 2, extended by 1-3 years for some
// (most often for violence, false litigation or several grounds).
int TermYears(Rng& rng, uint32_t grounds);
// Returns the last day (YYYYMMDD) of a term of `years` from `publish` (days since 1970-01-01).
uint32_t TermEnd(int64_t publish, int years);

}  // namespace shixin::synthetic_internal

#endif  // SHIXIN_SYNTHETIC_FIELDS_H_
