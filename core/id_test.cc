#include "core/id.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <xxhash.h>

#include <cctype>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/numeric/int128.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;

// Parses `input` and returns the normalised text, failing the test on error.
std::string ParseText(std::string_view input) {
  absl::StatusOr<Id> id = ParseId(input);
  EXPECT_TRUE(id.ok()) << "input '" << input << "': " << id.status();
  return id.ok() ? std::string(id->text()) : std::string();
}

IdKind ParseKind(std::string_view input) {
  absl::StatusOr<Id> id = ParseId(input);
  EXPECT_TRUE(id.ok()) << "input '" << input << "': " << id.status();
  return id.ok() ? id->kind() : IdKind::kResident;
}

// Returns the error message of parsing `input`, failing the test if it parses or the code is
// not InvalidArgument.
std::string ParseError(std::string_view input) {
  absl::StatusOr<Id> id = ParseId(input);
  EXPECT_FALSE(id.ok()) << "input '" << input << "' parsed as " << id->text();
  if (id.ok()) return "";
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(id.status().message());
}

// Expects `input` to parse as a non-empty ID of `kind`, naming a subject of `subject`, whose
// normalised text is `text`.
void ExpectId(std::string_view input, IdKind kind, SubjectKind subject, std::string_view text) {
  absl::StatusOr<Id> id = ParseId(input);
  ASSERT_TRUE(id.ok()) << "input '" << input << "': " << id.status();
  EXPECT_EQ(id->kind(), kind) << input;
  EXPECT_EQ(id->text(), text) << input;
  EXPECT_EQ(id->subject_kind(), subject) << input;
  EXPECT_FALSE(id->empty()) << input;
}

// An input that ParseId must reject, and a part of the message it must give.
// Views: the cases live in ExpectRejected()'s argument list, until the call has returned.
struct Rejection {
  std::string_view input;
  std::string_view reason;
};

// Expects ParseId to reject each input with its reason.
void ExpectRejected(const std::vector<Rejection>& cases) {
  for (const auto& [input, reason] : cases) {
    EXPECT_THAT(ParseError(input), HasSubstr(reason)) << "input '" << input << "'";
  }
}

// An input and the normalised text that ParseId must make of it.
struct Normalisation {
  std::string input;
  std::string text;
};

// Expects ParseId to accept each input as its text.
void ExpectNormalised(const std::vector<Normalisation>& cases) {
  for (const auto& [input, text] : cases) {
    EXPECT_EQ(ParseText(input), text) << "input '" << input << "'";
  }
}

std::string WithResidentCheck(const std::string& first17) {
  return first17 + ResidentCheckChar(first17);
}

// ---- Check characters ------------------------------------------------------------------------

TEST(CheckCharTest, ResidentStandardExample) {
  // 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+2*2 = 167;
  // 167 mod 11 = 2 -> "10X98765432"[2] = 'X'.
  EXPECT_EQ(ResidentCheckChar("11010519491231002"), 'X');
  EXPECT_EQ(ResidentCheckChar("44030419900307001"), '8');
  EXPECT_EQ(ResidentCheckChar("31011519850615123"), '6');
}

TEST(CheckCharTest, CreditCodeRealExample) {
  // Values 9 1 3 5 0 5 0 0 1 5 6 4 8 8 9 8 9 weighted sum 1509; 1509 mod 31 = 21;
  // 31 - 21 = 10 -> 'A'.
  EXPECT_EQ(CreditCodeCheckChar("91350500156488989"), 'A');
  EXPECT_EQ(CreditCodeCheckChar("12100000400000261"), 'H');
  EXPECT_EQ(CreditCodeCheckChar("91110108D2143569X"), '0');
}

TEST(CheckCharTest, OrgCodeRealExampleAndSpecialValues) {
  // 5*3+5*7+2*9+6*10+9*5+8*8+5*4+3*2 = 263; 263 mod 11 = 10; 11 - 10 = 1.
  EXPECT_EQ(OrgCodeCheckChar("55269853"), '1');
  EXPECT_EQ(OrgCodeCheckChar("15648898"), '9');
  EXPECT_EQ(OrgCodeCheckChar("00000000"), '0');  // 11 - 0 = 11 -> '0'
  EXPECT_EQ(OrgCodeCheckChar("71526726"), 'X');  // 11 - 1 = 10 -> 'X'
  EXPECT_EQ(OrgCodeCheckChar("MA5EUHC6"), '4');  // letters count A=10 ... Z=35
}

// ---- Resident IDs ----------------------------------------------------------------------------

TEST(ResidentTest, StandardExample) {
  ExpectId("11010519491231002X", IdKind::kResident, SubjectKind::kPerson, "11010519491231002X");
}

TEST(ResidentTest, MoreValidIds) {
  ExpectNormalised({
      {"440304199003070018", "440304199003070018"},
      {"310115198506151236", "310115198506151236"},
      {"510101190001010027", "510101190001010027"},  // earliest allowed date
  });
  EXPECT_EQ(ParseKind(WithResidentCheck("81000019800101001")), IdKind::kResident);  // Hong Kong
}

TEST(ResidentTest, LowerCaseCheckCharacter) {
  EXPECT_EQ(ParseText("11010519491231002x"), "11010519491231002X");
}

TEST(ResidentTest, FullWidthDigitsAndLetters) {
  ExpectNormalised({
      {"１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"},
      {"１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"},
      {"110105１９４９1231002X", "11010519491231002X"},
  });
}

TEST(ResidentTest, OldFifteenDigitIdIsConverted) {
  ExpectId("110105491231002", IdKind::kResident, SubjectKind::kPerson, "11010519491231002X");
  EXPECT_EQ(ParseText(" 440304900307001 "), "440304199003070018");
}

TEST(ResidentTest, OldFifteenDigitIdErrors) {
  ExpectRejected({
      {"11010549123100A", "bad character 'A' at position 15"},
      {"110105000229123", "impossible birth date 19000229"},
      {"000000491231002", "bad area code 000000"},
  });
}

TEST(ResidentTest, BadAreaCode) {
  ExpectRejected({
      {"000000194912310027", "bad area code 000000"},
      {"190105194912310024", "bad area code 190105"},
      {WithResidentCheck("72010519491231002"), "bad area code 720105"},
      {WithResidentCheck("84010519491231002"), "bad area code 840105"},
  });
}

TEST(ResidentTest, ImpossibleBirthDates) {
  ExpectRejected({
      {"110105194913310021", "impossible birth date 19491331"},
      {WithResidentCheck("11010519490431002"), "impossible birth date 19490431"},
      {WithResidentCheck("11010519490100002"), "impossible birth date 19490100"},
      {WithResidentCheck("11010519490001002"), "impossible birth date 19490001"},
      {"110105189912310023", "impossible birth date 18991231 (before 1900)"},
  });
}

TEST(ResidentTest, LeapYears) {
  ExpectRejected({
      {"110105190002291239", "impossible birth date 19000229"},
      {"110105202302290022", "impossible birth date 20230229"},
  });
  ExpectNormalised({
      {"110105200002291235", "110105200002291235"},  // 2000 is a leap year
      {WithResidentCheck("11010519960229002"), WithResidentCheck("11010519960229002")},
  });
}

TEST(ResidentTest, FutureBirthDateRejectedTodayAccepted) {
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  auto id_born = [](absl::CivilDay d) {
    return WithResidentCheck(
        absl::StrFormat("110105%04d%02d%02d002", d.year(), d.month(), d.day()));
  };
  // Dates near midnight UTC may straddle two days; yesterday is always safe.
  EXPECT_TRUE(ParseId(id_born(today - 1)).ok());
  ExpectRejected({
      {id_born(today + 2), "(in the future)"},
      {WithResidentCheck("11010520991231002"), "impossible birth date 20991231 (in the future)"},
  });
}

TEST(ResidentTest, BirthDateOf18And15DigitIds) {
  EXPECT_EQ(ParseId(WithResidentCheck("11010520080229002"))->BirthDate(),
            absl::CivilDay(2008, 2, 29));
  EXPECT_EQ(ParseId("110105491231002")->BirthDate(), absl::CivilDay(1949, 12, 31));
}

TEST(ResidentTest, BirthDateIsCheckedAgainstTheGivenDay) {
  const std::string born = WithResidentCheck("11010520000102002");  // 2000-01-02
  EXPECT_TRUE(ParseId(born, absl::CivilDay(2000, 1, 2)).ok());
  EXPECT_TRUE(ParseId(born, absl::CivilDay(2031, 5, 6)).ok());
  absl::StatusOr<Id> early = ParseId(born, absl::CivilDay(2000, 1, 1));
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(early.status().message(),
              HasSubstr("impossible birth date 20000102 (in the future)"));
  // Old 15-digit IDs too, after conversion (born 1949-12-31).
  EXPECT_TRUE(ParseId("110105491231002", absl::CivilDay(1949, 12, 31)).ok());
  EXPECT_THAT(ParseId("110105491231002", absl::CivilDay(1949, 12, 30)).status().message(),
              HasSubstr("impossible birth date 19491231 (in the future)"));
  // Only resident IDs carry a date.
  EXPECT_TRUE(ParseId("91350500156488989A", absl::CivilDay(1900, 1, 1)).ok());
  EXPECT_TRUE(ParseId("55269853-1", absl::CivilDay(1900, 1, 1)).ok());
}

TEST(ResidentTest, OneArgumentParseIdUsesTodayInUtc) {
  // The dates are far from today: a day change during the test does not matter.
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  for (const char* input : {"11010519491231002X", "110105491231002", "11010520991231002X", "x"}) {
    const absl::StatusOr<Id> clock = ParseId(input);
    const absl::StatusOr<Id> given = ParseId(input, today);
    EXPECT_EQ(clock.status(), given.status()) << input;
    if (clock.ok() && given.ok()) {
      EXPECT_EQ(*clock, *given) << input;
    }
  }
}

TEST(ResidentTest, BadCheckCharacter) {
  ExpectRejected({
      {"110105194912310021", "bad check character: expected X, found 1"},
      {"440304199003070019", "bad check character: expected 8, found 9"},
      // Not a valid credit code either, so the resident reason is reported.
      {"11010519491231002A", "expected X, found A"},
  });
}

TEST(ResidentTest, AllDigitPrefixFallsBackToCreditCode) {
  // "11010519194900006" fails as a resident ID (check would be 4) but is a valid credit code.
  EXPECT_EQ(ParseKind("11010519194900006U"), IdKind::kCreditCode);
  // "91..." is no province, but the whole string is a valid all-digit credit code.
  EXPECT_EQ(ParseKind("911100001000004467"), IdKind::kCreditCode);
  // A check character that makes it a credit code but whose embedded org code is invalid.
  EXPECT_THAT(ParseError("11010519491231002B"), HasSubstr("expected X, found B"));
}

// ---- Foreigners' permanent residence IDs (2023) ----------------------------------------------
// GB 11643's layout: 9, the issuing province, the nationality (ISO 3166-1 numeric: 840 USA, 826
// GBR, 392 JPN), the birth date, a sequence and the resident ID's check character.

TEST(ForeignerPermitTest, IsAPersonsId) {
  ExpectId("933840198001010019", IdKind::kResident, SubjectKind::kPerson, "933840198001010019");
  ExpectId("933826199002150037", IdKind::kResident, SubjectKind::kPerson, "933826199002150037");
  ExpectId("931392200501010012", IdKind::kResident, SubjectKind::kPerson, "931392200501010012");
  // Typed as a resident ID is: grouped 6-8-4, full-width, with spaces around.
  EXPECT_EQ(ParseText(" 933840 19800101 0019 "), "933840198001010019");
  EXPECT_EQ(ParseText("\uff19\uff13\uff13840198001010019"), "933840198001010019");
  const Id id = *ParseId("933840198001010019");
  EXPECT_EQ(id.BirthDate(), absl::CivilDay(1980, 1, 1));
  EXPECT_EQ(id.Masked(), "9338401980****0019");
  const PackedId packed = id.Pack();
  EXPECT_EQ(PackedKind(packed), IdKind::kResident);
  EXPECT_TRUE(IsCanonicalPacked(packed));
  EXPECT_EQ(Id::Unpack(packed), id);
  EXPECT_NE(packed, ParseId("933826199002150037")->Pack());
  EXPECT_NE(packed, ParseId("11010519491231002X")->Pack());
}

TEST(ForeignerPermitTest, BadCheckCharacterNamesBothReadings) {
  ExpectRejected({
      {"933840198001010018",
       "neither a foreigner's permanent residence ID (bad check character: expected 9, found 8) "
       "nor a credit code (bad check character: expected D, found 8)"},
      {"93384019800101001X", "(bad check character: expected 9, found X)"},
  });
}

// Digits with a birth date where a resident ID has it, but with neither a valid area code nor
// the resident check character, and no valid credit code: both readings' faults (x33 #4: the
// credit code's check character alone sent the user after the wrong fault).
TEST(IdTest, ABadAreaCodeAndCheckCharacterNameBothReadings) {
  ExpectRejected({
      {"100105194912310021",
       "neither a resident ID (bad area code 100105) nor a credit code (bad check character: "
       "expected E, found 1)"},
      {"990101194912310027",
       "neither a foreigner's permanent residence ID (bad province code 90 (a foreigner's "
       "permanent residence ID is 9, a mainland province's code, a nationality code: 990101)) nor "
       "a credit code (bad check character: expected M, found 7)"},
      // A calendar date out of a birth date's range is still a resident ID's shape.
      {"100105189912310020",
       "neither a resident ID (bad area code 100105) nor a credit code (bad check character: "},
      // With the resident check character the area code is the fault; without a birth date
      // the digits read as a credit code.
      {"100105194912310028", "bad area code 100105"},
      {"913505030000000000", "bad check character: expected H, found 0"},
  });
}

TEST(ForeignerPermitTest, BadProvince) {
  // Only the mainland's provinces issue it: not 71, 81-83, nor a code that is no province.
  ExpectRejected({
      {WithResidentCheck("99984019800101001"),
       "bad province code 99 (a foreigner's permanent residence ID is 9, a mainland province's "
       "code, a nationality code: 999840)"},
      {WithResidentCheck("90084019800101001"), "bad province code 00"},
      {WithResidentCheck("97184019800101001"), "bad province code 71"},
      {WithResidentCheck("98184019800101001"), "bad province code 81"},
      // An old 15-digit ID is a resident ID's: 9 is no area code there.
      {"933840800101001", "bad area code 933840"},
  });
}

TEST(ForeignerPermitTest, BadBirthDate) {
  const absl::CivilDay today(2026, 6, 1);
  EXPECT_THAT(ParseId(WithResidentCheck("93384019801301001"), today).status().message(),
              HasSubstr("impossible birth date 19801301"));
  EXPECT_THAT(ParseId(WithResidentCheck("93384020300101001"), today).status().message(),
              HasSubstr("impossible birth date 20300101 (in the future)"));
  EXPECT_THAT(ParseId(WithResidentCheck("93384018991231001"), today).status().message(),
              HasSubstr("impossible birth date 18991231 (before 1900)"));
}

// About 1 in 340 of these IDs is also a valid all-digit credit code; ParseId() keeps reading
// such 18 digits as the credit code, as before (enterprises' begin 91), and says so on request.
TEST(ForeignerPermitTest, ACreditCodeFirst) {
  const Id both = *ParseId("933840198001011417");
  EXPECT_EQ(both.kind(), IdKind::kCreditCode);
  EXPECT_TRUE(CreditCodeIsForeignerPermit(both));
  EXPECT_FALSE(CreditCodeIsForeignerPermit(*ParseId("912304216987123405")));
  EXPECT_FALSE(CreditCodeIsForeignerPermit(*ParseId("91350500156488989A")));
  EXPECT_EQ(ParseKind("911100001000004467"), IdKind::kCreditCode);
}

TEST(PersonIdShapeTest, ResidentShapedOrNot) {
  for (const char* shaped :
       {"11010519491231002X", "110105194912310021", "110105491231002", "933840198001010019",
        " 110105 19491231 002x ", "1101051949****002X", "11010519491231002A",
        "1101051949\u200B1231002X", "2304021980\u00AD01011232"}) {
    EXPECT_TRUE(HasPersonIdShape(shaped)) << shaped;
  }
  for (const char* other : {"H01234567", "E12345678", "USA330101800101", "H0123456701", "12345678",
                            "91350503MA2XK7R352", "", "张三", "11010549123100X"}) {
    EXPECT_FALSE(HasPersonIdShape(other)) << other;
  }
}

// ---- Credit codes ----------------------------------------------------------------------------

TEST(CreditCodeTest, RealExample) {
  ExpectId("91350500156488989A", IdKind::kCreditCode, SubjectKind::kOrganization,
           "91350500156488989A");
}

TEST(CreditCodeTest, MoreValidCodes) {
  ExpectNormalised({
      {"91440300MA5EUHC647", "91440300MA5EUHC647"},
      {"12100000400000261H", "12100000400000261H"},
      {"91110108D2143569X0", "91110108D2143569X0"},
  });
}

TEST(CreditCodeTest, Tolerances) {
  ExpectNormalised({
      {"91350500156488989a", "91350500156488989A"},
      {"91440300ma5euhc647", "91440300MA5EUHC647"},
      {"９１３５０５００１５６４８８９８９Ａ", "91350500156488989A"},
      {"９１３５０５００１５６４８８９８９ａ", "91350500156488989A"},
      {"\u3000 91350500156488989A\u00a0\t", "91350500156488989A"},
  });
}

TEST(CreditCodeTest, ForbiddenLetters) {
  ExpectRejected({
      {"913505001O6488989A", "bad character 'O' at position 10"},
      {"91440300MA5EUHC64I", "bad character 'I' at position 18"},
      {"91440300MA5EUHC64z", "bad character 'z' at position 18"},
      {"９１４４０３００ＭＡ５ＥＵＨＣ６４Ｓ", "bad character 'Ｓ' (U+FF33) at position 18"},
      {"9V350500156488989A", "bad character 'V' at position 2"},
  });
}

TEST(CreditCodeTest, AreaCodeMustBeDigits) {
  ExpectRejected({
      {"91A50500156488989A", "bad area code A50500"},
      {"9135050A156488989A", "bad area code 35050A"},
  });
}

// GB 32100-2015's registration authorities are 1-9 and letters: a form's placeholder of zeros
// is no code (it was answered "not listed", screening the subject clean).
TEST(CreditCodeTest, NoRegistrationAuthorityZero) {
  std::string with_letters = "01440300MA5EUHC64";
  with_letters += CreditCodeCheckChar(with_letters);
  ExpectRejected({
      {"000000000000000000", "bad registration authority 0"},
      {with_letters, "bad registration authority 0"},
  });
}

TEST(CreditCodeTest, BadCheckCharacter) {
  ExpectRejected({
      {"91440300MA5EUHC64A", "bad check character: expected 7, found A"},
      // 17 leading digits, but 91 is no province: the credit-code reason is the helpful one.
      {"91350500156488989B", "bad check character: expected A, found B"},
      {"91440300MA5EUHC648", "bad check character: expected 7, found 8"},
  });
}

TEST(CreditCodeTest, BadEmbeddedOrgCode) {
  // "MA5EUHC6" has org check 4, not 5; "A" is the right credit-code check for the rest.
  EXPECT_EQ(CreditCodeCheckChar("91440300MA5EUHC65"), 'A');
  EXPECT_THAT(ParseError("91440300MA5EUHC65A"),
              HasSubstr("bad embedded organisation code MA5EUHC6-5: expected check character 4"));
}

TEST(CreditCodeTest, EmbeddedOrgCode) {
  absl::StatusOr<Id> id = ParseId("91350500156488989A");
  ASSERT_TRUE(id.ok());
  const Id org = id->EmbeddedOrgCode();
  EXPECT_EQ(org.kind(), IdKind::kOrgCode);
  EXPECT_EQ(org.text(), "156488989");
  EXPECT_EQ(org, *ParseId("15648898-9"));
  EXPECT_EQ(ParseId("91110108D2143569X0")->EmbeddedOrgCode().text(), "D2143569X");
}

// An organisation is one subject under both its codes; a person under its ID.
TEST(CreditCodeTest, SubjectKeyIsTheOrganisationCode) {
  constexpr SubjectKind kOrg = SubjectKind::kOrganization;
  const Id credit = *ParseId("912304002309876133");
  EXPECT_EQ(SubjectKey(credit.text(), kOrg), credit.EmbeddedOrgCode().text());
  EXPECT_EQ(SubjectKey(credit.text(), kOrg), "230987613");
  EXPECT_EQ(SubjectKey("230987613", kOrg), "230987613");
  EXPECT_EQ(SubjectKey("11010519491231002X", SubjectKind::kPerson), "11010519491231002X");
  EXPECT_EQ(SubjectKey("S", kOrg), "S");  // not an ID: itself
}

// EmbeddedOrgCodeKey() reads the packed credit code's bits: the same key as unpacking it, taking
// its organisation code and packing that, for every charset character at every place.
TEST(CreditCodeTest, EmbeddedOrgCodeKeyIsThePackedEmbeddedCode) {
  constexpr std::string_view kCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  std::mt19937_64 rng(23);
  std::vector<std::string> first17s = {"91350500156488989", "91110108D2143569X",
                                       "YYYYYYYYYYYYYYYYY", "00000000000000000"};
  for (int i = 0; i < 10000; ++i) {
    std::string t;
    for (int k = 0; k < 17; ++k) t += kCharset[rng() % kCharset.size()];
    first17s.push_back(t);
  }
  for (const std::string& first17 : first17s) {
    const Id credit = MakeIdUnchecked(IdKind::kCreditCode, first17 + CreditCodeCheckChar(first17));
    const PackedId want = credit.EmbeddedOrgCode().Pack();
    const HashedId got = EmbeddedOrgCodeKey(credit.Pack());
    ASSERT_EQ(got.key, want) << credit.text();
    ASSERT_EQ(got.hash, HashPackedId(want)) << credit.text();
  }
}

// ---- Organisation codes ----------------------------------------------------------------------

TEST(OrgCodeTest, RealExampleWithAndWithoutHyphen) {
  ExpectId("55269853-1", IdKind::kOrgCode, SubjectKind::kOrganization, "552698531");
  EXPECT_EQ(ParseText("552698531"), "552698531");
}

TEST(OrgCodeTest, MoreValidCodes) {
  ExpectNormalised({
      {"000000000", "000000000"},
      {"71526726-X", "71526726X"},
      {"MA5EUHC6-4", "MA5EUHC64"},
  });
}

TEST(OrgCodeTest, HyphenForms) {
  for (const char* hyphen : {"-", "\uff0d", "\u2010", "\u2011", "\u2012", "\u2013"}) {
    EXPECT_EQ(ParseText(std::string("55269853") + hyphen + "1"), "552698531") << hyphen;
  }
  ExpectNormalised({
      {"  ｄ２１４３５６９－ｘ\u3000", "D2143569X"},
      {"d2143569-x", "D2143569X"},
  });
}

TEST(OrgCodeTest, HyphenOnlyAsNinthOfTen) {
  ExpectRejected({
      {"5526985-31", "bad character '-' at position 8"},
      {"55269853--1", "bad character '-' at position 9"},
      {"55269853\u20141", "bad character '\u2014' (U+2014) at position 9"},
      {"55269853 1", "bad character ' ' at position 9"},
      {"110105-19491231002X", "bad character '-' at position 7"},
      {"9135050015648898-9A", "bad character '-' at position 17"},
      {"5526985310", "wrong length: 10 characters"},
  });
}

TEST(OrgCodeTest, BadCheckCharacter) {
  ExpectRejected({
      {"55269853-2", "bad check character: expected 1, found 2"},
      {"71526726-0", "bad check character: expected X, found 0"},
      {"55269853A", "bad check character: expected 1, found A"},
  });
}

// A Hong Kong or Macau return permit has an organisation code's length, the old foreigner's
// card an old resident ID's: each is refused as the document it is, never read as an
// organisation code (H12345608 passes its check) nor given a reason that invites retyping.
TEST(OtherDocumentsTest, ReturnPermitsAndTheOldForeignersCardAreNamed) {
  constexpr std::string_view kPermit = "a Hong Kong or Macau return permit number";
  constexpr std::string_view kCard = "an old foreigner's permanent residence card number";
  ExpectRejected({
      {"H12345608", kPermit},
      {"H12345616", kPermit},
      {"H01234567", kPermit},
      {"M87654321", kPermit},
      {"h12345608", kPermit},
      {"Ｈ１２３４５６０８", kPermit},
      {"H1234560-8", kPermit},
      {"USA330101800101", kCard},
      {"usa330101800101", kCard},
  });
  // Organisation codes with letters, and old resident IDs, are still read as such.
  ExpectId("MA2XK7R35", IdKind::kOrgCode, SubjectKind::kOrganization, "MA2XK7R35");
  ExpectId("552698531", IdKind::kOrgCode, SubjectKind::kOrganization, "552698531");
  ExpectRejected({{"HA2345670", "bad check character: expected 8, found 0"},
                  {"U11010549123100", "bad character"}});
}

// ---- General rejections ----------------------------------------------------------------------

TEST(UtcDayAtTest, IsTheCivilDayInUtcAcrossDayBoundaries) {
  for (int64_t t : {int64_t{0}, int64_t{86399}, int64_t{86400}, int64_t{-1}, int64_t{-86400},
                    int64_t{-86401}, int64_t{951782399}, int64_t{951782400}, int64_t{1764547200},
                    int64_t{1764547199}, int64_t{4102444800}}) {
    SCOPED_TRACE(t);
    EXPECT_EQ(UtcDayAt(t), absl::ToCivilDay(absl::FromUnixSeconds(t), absl::UTCTimeZone()));
  }
  // Back and forth within one day and across: the remembered day never leaks into another.
  EXPECT_EQ(UtcDayAt(86400 * 3 + 5), absl::CivilDay(1970, 1, 4));
  EXPECT_EQ(UtcDayAt(86400 * 3 - 1), absl::CivilDay(1970, 1, 3));
  EXPECT_EQ(UtcDayAt(86400 * 3 + 86399), absl::CivilDay(1970, 1, 4));
}

TEST(ParseIdTest, Empty) {
  ExpectRejected({
      {"", "empty ID"},
      {"  \t\n", "empty ID"},
      {"\u3000\u00a0 ", "empty ID"},
  });
}

TEST(ParseIdTest, WrongLength) {
  ExpectRejected({
      {"11010519491231002", "wrong length: 17 characters (expected 18, 15 or 9)"},
      {"11010519491231002X1", "wrong length: 19 characters"},
      {"1", "wrong length: 1 character (expected"},
      {std::string(1000, '1'), "wrong length: 1000 characters"},
  });
}

TEST(ParseIdTest, BadCharacters) {
  ExpectRejected({
      {"1101Ä519491231002X", "bad character 'Ä' (U+00C4) at position 5"},
      // Positions count characters after trimming.
      {"\u3000 1101Ä519491231002X", "bad character 'Ä' (U+00C4) at position 5"},
      {"张三", "bad character '张' (U+5F20) at position 1"},
      {"110105 19491231002X", "bad character ' ' at position 7"},
      {"110105\u300019491231002X", "bad character '\u3000' (U+3000) at position 7"},
      {"1101\t0519491231002X", "bad character U+0009 at position 5"},
      // A look-alike of a letter or digit reads as it: its code point says which it is.
      {"11010519491231002\u0425", "bad character '\u0425' (U+0425) at position 18"},
      {"11010519491231002\u2169", "bad character '\u2169' (U+2169) at position 18"},
      {"\u041E1010519491231002X", "bad character '\u041E' (U+041E) at position 1"},
      // Invisible characters are named too: quoted, they would show as nothing or as a space.
      {"\u200B11010519491231002X", "bad character U+200B at position 1"},
      {"110105\uFEFF19491231002X", "bad character U+FEFF at position 7"},
      {"110105\u200319491231002X", "bad character U+2003 at position 7"},
      {"110105\u202E19491231002X", "bad character U+202E at position 7"},
      {"1101\xff"
       "0519491231002X",
       "invalid UTF-8 byte 0xFF at position 5"},
      {"1101\xc0\xb1"
       "0519491231002X",
       "invalid UTF-8 byte 0xC0 at position 5"},  // overlong '1'
      {std::string_view("1101\0"
                        "0519491231002X",
                        19),
       "bad character U+0000 at position 5"},
  });
}

TEST(ParseIdTest, SurroundingWhitespace) {
  ExpectNormalised({
      {" \t11010519491231002X\r\n", "11010519491231002X"},
      {"\u300011010519491231002X\u3000", "11010519491231002X"},
      {"\u00a011010519491231002x\u00a0", "11010519491231002X"},
  });
}

TEST(TrimSpacesTest, TrimsAsciiIdeographicAndNoBreakSpacesOnBothSides) {
  EXPECT_EQ(TrimSpaces(" \t\n\v\f\rab c\t \r\n"), "ab c");
  EXPECT_EQ(TrimSpaces("\u3000 鹤岗\u3000市\t\u3000"), "鹤岗\u3000市");
  EXPECT_EQ(TrimSpaces("\u00a0\u3000x\u00a0"), "x");
  EXPECT_EQ(TrimSpaces("x"), "x");
  EXPECT_EQ(TrimSpaces(" \u3000\u00a0\t"), "");
  EXPECT_EQ(TrimSpaces(""), "");
  // Other spaces, and bytes that are not UTF-8 (a cut U+3000 too), stay.
  EXPECT_EQ(TrimSpaces("\u2003x\u200b"), "\u2003x\u200b");
  EXPECT_EQ(TrimSpaces("\xe3\x80 x \xff"), "\xe3\x80 x \xff");
  EXPECT_EQ(TrimSpaces(" \xe3\xe3\x80\x80"), "\xe3");
}

// ---- Separators between groups (FORMAT.md 7) ------------------------------------------------

TEST(GroupedIdTest, ResidentIdsAsPrintedOnForms) {
  ExpectNormalised({
      {"230402 19720314 0038", "230402197203140038"},
      {"230402-19720314-0038", "230402197203140038"},
      {"230402\u300019720314\u30000038", "230402197203140038"},
      {"230402\u00a019720314\uff0d0038", "230402197203140038"},  // mixed
      {"\u3000110105 19491231 002x ", "11010519491231002X"},
      {"１１０１０５\u3000１９４９１２３１\u3000００２Ｘ", "11010519491231002X"},
      {"110105 491231 002", "11010519491231002X"},  // 15 digits: 6-6-3
  });
  EXPECT_EQ(ParseKind("110105-491231-002"), IdKind::kResident);
}

TEST(GroupedIdTest, CreditCodesAsPrinted) {
  ExpectNormalised({
      // python-stdnum's example of a grouped code.
      {"91 110000 600037341L", "91110000600037341L"},
      {"91-110000-600037341l", "91110000600037341L"},
      {"91 350500 156488989 A", "91350500156488989A"},  // 2-6-9-1
      {"91-350500-156488989-A", "91350500156488989A"},
  });
  // An all-digit credit code grouped as one.
  EXPECT_EQ(ParseKind("91 110000 1000004467"), IdKind::kCreditCode);
}

TEST(GroupedIdTest, OtherGroupingsAreRejectedNamingTheGroups) {
  EXPECT_EQ(ParseError("230402 1972 0314 0038"),
            "bad character ' ' at position 12: spaces and hyphens may only separate the groups "
            "6-8-4 (resident ID), 2-6-10 (credit code), 2-6-9-1 (credit code)");
  ExpectRejected({
      {"230402 19720314 0038 1", "wrong length: 19 characters"},
      {"230402 19720314 003", "wrong length: 17 characters"},
      // Two separators in one place: the first of them.
      {"230402  19720314 0038", "bad character ' ' at position 7"},
      {"230402 -19720314 0038", "bad character ' ' at position 7"},
      // Only some of the groups separated.
      {"23040219720314 0038", "bad character ' ' at position 15"},
      {"-230402197203140038", "bad character '-' at position 1"},
      {"9-1-1-1-0-0-0-0-6-0-0-0-3-7-3-4-1-L", "bad character '-' at position 2"},
      {"91 110000 600037 341L", "bad character ' ' at position 17"},
      // Tabs and line breaks are not separators.
      {"230402\t19720314\t0038", "bad character U+0009 at position 7"},
      {"230402\n19720314\n0038", "bad character U+000A at position 7"},
      // A well-grouped ID is checked as any other.
      {"230402 19720314 0039", "bad check character: expected 8, found 9"},
  });
}

TEST(GroupedIdTest, TheGroupingMustBeTheKinds) {
  EXPECT_EQ(ParseError("23 040219 7203140038"),
            "bad character ' ' at position 3: spaces and hyphens may only separate the groups "
            "6-8-4 (resident ID)");
  EXPECT_EQ(ParseError("911100 00600037 341L"),
            "bad character ' ' at position 7: spaces and hyphens may only separate the groups "
            "2-6-10 (credit code), 2-6-9-1 (credit code)");
  EXPECT_EQ(ParseError("55269853 1"),
            "bad character ' ' at position 9: spaces and hyphens may only separate the groups "
            "8-1 (organisation code, with a hyphen)");
}

// ---- Names, masking, MakeIdUnchecked ---------------------------------------------------------

TEST(IdTest, KindNames) {
  EXPECT_EQ(IdKindName(IdKind::kResident), "resident_id");
  EXPECT_EQ(IdKindName(IdKind::kCreditCode), "credit_code");
  EXPECT_EQ(IdKindName(IdKind::kOrgCode), "org_code");
}

TEST(IdTest, Masked) {
  EXPECT_EQ(ParseId("11010519491231002X")->Masked(), "1101051949****002X");
  EXPECT_EQ(ParseId("91350500156488989A")->Masked(), "9135050015****989A");
  EXPECT_EQ(ParseId("55269853-1")->Masked(), "552698531");
}

TEST(IdTest, MakeIdUnchecked) {
  const Id id = MakeIdUnchecked(IdKind::kCreditCode, "91350500156488989A");
  EXPECT_EQ(id, *ParseId("91350500156488989A"));
  EXPECT_TRUE(Id().empty());
  EXPECT_FALSE(MakeIdUnchecked(IdKind::kOrgCode, "552698531") ==
               MakeIdUnchecked(IdKind::kResident, "11010519491231002X"));
}

// ---- Packing ---------------------------------------------------------------------------------

TEST(PackTest, ResidentLayout) {
  const PackedId p = ParseId("11010519491231002X")->Pack();
  const uint64_t v = 11010519491231002ull;
  EXPECT_EQ(p.w[0], static_cast<uint32_t>(v));
  EXPECT_EQ(p.w[1], static_cast<uint32_t>(v >> 32));
  EXPECT_EQ(p.w[2], 1u << 30);
}

// Resident IDs pack 8 digits at a time: the value is that of the 17 digits, whatever they are.
TEST(PackTest, ResidentValueOfEveryDigitPattern) {
  std::mt19937_64 rng(17);
  std::vector<std::string> texts = {"000000000000000000", "999999999999999999"};
  for (int i = 0; i < 10000; ++i) {
    std::string t;
    for (int k = 0; k < 17; ++k) t += static_cast<char>('0' + rng() % 10);
    texts.push_back(t + "X");
  }
  for (const std::string& t : texts) {
    uint64_t v = 0;
    for (int k = 0; k < 17; ++k) v = v * 10 + static_cast<uint64_t>(t[k] - '0');
    const PackedId p = MakeIdUnchecked(IdKind::kResident, t).Pack();
    ASSERT_EQ((static_cast<uint64_t>(p.w[1]) << 32) | p.w[0], v) << t;
  }
}

TEST(PackTest, OrgCodeLayout) {
  const PackedId p = ParseId("55269853-1")->Pack();
  uint64_t v = 0;
  for (int digit : {5, 5, 2, 6, 9, 8, 5, 3}) v = v * 64 + digit;
  EXPECT_EQ(p.w[0], static_cast<uint32_t>(v));
  EXPECT_EQ(p.w[1], static_cast<uint32_t>(v >> 32));
  EXPECT_EQ(p.w[2], 3u << 30);
}

TEST(PackTest, CreditCodeLayout) {
  // "00000000000000001" -> value 1; the check character is not stored.
  const std::string first17 = "00000000000000001";
  const PackedId p =
      MakeIdUnchecked(IdKind::kCreditCode, first17 + CreditCodeCheckChar(first17)).Pack();
  EXPECT_EQ(p.w[0], 1u);
  EXPECT_EQ(p.w[1], 0u);
  EXPECT_EQ(p.w[2], 2u << 30);
  // The first character lands in the top 5 of the 85 bits: w[2] bits 16-20.
  const std::string top = "Y0000000000000000";
  const PackedId q = MakeIdUnchecked(IdKind::kCreditCode, top + CreditCodeCheckChar(top)).Pack();
  EXPECT_EQ(q.w[2], (2u << 30) | (30u << 16));
  EXPECT_EQ(q.w[1], 0u);
  EXPECT_EQ(q.w[0], 0u);
}

TEST(PackTest, RoundTripEachKind) {
  for (const char* text : {"11010519491231002X", "440304199003070018", "91350500156488989A",
                           "YYYYYYYYYYYYYYYYY0" /* unchecked: exercises the top bits */,
                           "911100001000004467", "552698531", "ZZZZZZZZ0", "000000000"}) {
    const std::string_view t(text);
    const IdKind kind = t.size() == 9                ? IdKind::kOrgCode
                        : t[0] == '9' || t[0] == 'Y' ? IdKind::kCreditCode
                                                     : IdKind::kResident;
    // Use the recomputed check so the input is a valid Id.
    std::string fixed(t);
    if (kind == IdKind::kOrgCode) fixed[8] = OrgCodeCheckChar(t.substr(0, 8));
    if (kind == IdKind::kCreditCode) fixed[17] = CreditCodeCheckChar(t.substr(0, 17));
    const Id id = MakeIdUnchecked(kind, fixed);
    const PackedId p = id.Pack();
    EXPECT_EQ(PackedKind(p), kind) << text;
    EXPECT_EQ(p.w[2] >> kPackedKindShift, static_cast<uint32_t>(kind)) << text;
    EXPECT_TRUE(IsCanonicalPacked(p)) << text;
    EXPECT_EQ(Id::Unpack(p), id) << text;
  }
}

TEST(PackTest, EmptyIdPacksToZero) {
  EXPECT_EQ(Id().Pack(), PackedId{});
  EXPECT_TRUE(Id::Unpack(PackedId{}).empty());
  EXPECT_FALSE(IsCanonicalPacked(PackedId{}));
}

// A PackedId of `kind` with payload words w[0], w[1] and w[2]'s low 30 bits.
PackedId Packed(IdKind kind, uint32_t w0, uint32_t w1, uint32_t w2 = 0) {
  return PackedId{{w0, w1, w2 | static_cast<uint32_t>(kind) << kPackedKindShift}};
}

TEST(CanonicalTest, KindBits) {
  EXPECT_TRUE(IsCanonicalPacked(Packed(IdKind::kResident, 1, 0)));
  EXPECT_FALSE(IsCanonicalPacked(PackedId{{1, 0, 0}}));         // kind 0
  EXPECT_FALSE(IsCanonicalPacked(PackedId{{0, 0, 1u << 29}}));  // kind 0, payload bits
  EXPECT_EQ(PackedKind(PackedId{{0, 0, 3u << 30}}), IdKind::kOrgCode);
}

TEST(CanonicalTest, ResidentBelowTenToTheSeventeenth) {
  const uint64_t max = 99999999999999999ull;
  EXPECT_TRUE(IsCanonicalPacked(
      Packed(IdKind::kResident, static_cast<uint32_t>(max), static_cast<uint32_t>(max >> 32))));
  const uint64_t over = max + 1;
  EXPECT_FALSE(IsCanonicalPacked(
      Packed(IdKind::kResident, static_cast<uint32_t>(over), static_cast<uint32_t>(over >> 32))));
  EXPECT_FALSE(IsCanonicalPacked(Packed(IdKind::kResident, 1, 0, 1)));  // unused bits
}

TEST(CanonicalTest, CreditCodeCharactersBelowThirtyOne) {
  EXPECT_TRUE(IsCanonicalPacked(Packed(IdKind::kCreditCode, 0, 0)));
  // All 17 characters 'Y' (30): the largest canonical code.
  const std::string ys(17, 'Y');
  const PackedId top = MakeIdUnchecked(IdKind::kCreditCode, ys + CreditCodeCheckChar(ys)).Pack();
  EXPECT_TRUE(IsCanonicalPacked(top));
  // Character value 31 at each of the 17 places, one of them straddling w[1] and w[2].
  for (int i = 0; i < 17; ++i) {
    const absl::uint128 v = absl::uint128(31) << (5 * i);
    const uint64_t low = absl::Uint128Low64(v);
    const PackedId p =
        Packed(IdKind::kCreditCode, static_cast<uint32_t>(low), static_cast<uint32_t>(low >> 32),
               static_cast<uint32_t>(absl::Uint128High64(v)));
    EXPECT_FALSE(IsCanonicalPacked(p)) << i;
  }
  EXPECT_FALSE(
      IsCanonicalPacked(Packed(IdKind::kCreditCode, 0, 0, 1u << 21)));  // bit 85: past the 85
}

TEST(CanonicalTest, OrgCodeCharactersBelowThirtySix) {
  EXPECT_TRUE(IsCanonicalPacked(ParseId("552698531")->Pack()));
  for (int i = 0; i < 8; ++i) {
    const uint64_t v = uint64_t{36} << (6 * i);
    EXPECT_FALSE(IsCanonicalPacked(
        Packed(IdKind::kOrgCode, static_cast<uint32_t>(v), static_cast<uint32_t>(v >> 32))))
        << i;
  }
  EXPECT_FALSE(IsCanonicalPacked(Packed(IdKind::kOrgCode, 0, 1u << 16)));  // bit 48: past the 48
  EXPECT_FALSE(IsCanonicalPacked(Packed(IdKind::kOrgCode, 0, 0, 1)));      // unused bits
}

TEST(PackTest, HashIsXxh3OfTheTwelveBytes) {
  const PackedId p = ParseId("91350500156488989A")->Pack();
  EXPECT_EQ(HashPackedId(p), XXH3_64bits(&p, sizeof(p)));
  EXPECT_EQ(PackedIdHash()(p), HashPackedId(p));
  EXPECT_NE(HashPackedId(p), HashPackedId(ParseId("552698531")->Pack()));
}

// Generates valid Ids of every kind from a fixed seed, using the check-char functions.
class RandomIds {
 public:
  explicit RandomIds(uint64_t seed) : rng_(seed) {}

  std::string Resident() {
    static constexpr int kProvinces[] = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34,
                                         35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
                                         53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83};
    const int province = kProvinces[Uniform(std::size(kProvinces))];
    const std::string first17 =
        absl::StrFormat("%02d%04d%04d%02d%02d%03d", province, Uniform(10000), 1900 + Uniform(120),
                        1 + Uniform(12), 1 + Uniform(28), Uniform(1000));
    return first17 + ResidentCheckChar(first17);
  }

  std::string CreditCode() {
    static constexpr std::string_view kCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    std::string s;
    s += kCharset[1 + Uniform(kCharset.size() - 1)];  // no registration authority 0
    s += kCharset[Uniform(kCharset.size())];
    for (int i = 0; i < 6; ++i) s += static_cast<char>('0' + Uniform(10));
    for (int i = 0; i < 8; ++i) s += kCharset[Uniform(kCharset.size())];
    s += OrgCodeCheckChar(s.substr(8, 8));
    return s + CreditCodeCheckChar(s);
  }

  std::string OrgCode() {
    static constexpr std::string_view kChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::string s;
    for (int i = 0; i < 8; ++i) s += kChars[Uniform(kChars.size())];
    return s + OrgCodeCheckChar(s);
  }

 private:
  int Uniform(size_t n) { return static_cast<int>(rng_() % n); }
  std::mt19937_64 rng_;
};

TEST(PackTest, RandomizedRoundTripAndUniqueness) {
  RandomIds gen(20240601);
  std::vector<Id> ids;
  for (int i = 0; i < 3000; ++i) {
    for (const std::string& text : {gen.Resident(), gen.CreditCode(), gen.OrgCode()}) {
      absl::StatusOr<Id> id = ParseId(text);
      ASSERT_TRUE(id.ok()) << text << ": " << id.status();
      ASSERT_EQ(id->text(), text);
      ids.push_back(*id);
    }
  }
  std::set<std::pair<IdKind, std::string>> texts;
  absl::flat_hash_set<PackedId, PackedIdHash> packs;
  for (const Id& id : ids) {
    const PackedId p = id.Pack();
    ASSERT_TRUE(IsCanonicalPacked(p)) << id.text();
    ASSERT_EQ(Id::Unpack(p), id) << id.text();
    texts.insert({id.kind(), std::string(id.text())});
    packs.insert(p);
  }
  EXPECT_EQ(packs.size(), texts.size());
}

TEST(PackTest, PackOrderIsTextOrderWithinKind) {
  RandomIds gen(7);
  for (int i = 0; i < 1000; ++i) {
    const Id a = *ParseId(gen.CreditCode()), b = *ParseId(gen.CreditCode());
    EXPECT_EQ(a.Pack() < b.Pack(), a.text() < b.text()) << a.text() << " " << b.text();
    const Id c = *ParseId(gen.Resident()), d = *ParseId(gen.Resident());
    EXPECT_EQ(c.Pack() < d.Pack(), c.text() < d.text()) << c.text() << " " << d.text();
    const Id e = *ParseId(gen.OrgCode()), f = *ParseId(gen.OrgCode());
    EXPECT_EQ(e.Pack() < f.Pack(), e.text() < f.text()) << e.text() << " " << f.text();
  }
}

namespace fast_path {

// Returns `s` with every ASCII digit and letter made full-width (U+FF10.., U+FF21..).
std::string FullWidth(std::string_view s) {
  std::string out;
  for (char c : s) {
    const uint32_t cp = c >= '0' && c <= '9'   ? 0xFF10 + (c - '0')
                        : c >= 'A' && c <= 'Z' ? 0xFF21 + (c - 'A')
                                               : static_cast<uint32_t>(c);
    if (cp < 0x80) {
      out += c;
      continue;
    }
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

void ExpectSameResult(const absl::StatusOr<Id>& a, const absl::StatusOr<Id>& b,
                      std::string_view input) {
  ASSERT_EQ(a.ok(), b.ok()) << input;
  if (a.ok()) {
    EXPECT_EQ(*a, *b) << input;
  } else {
    EXPECT_EQ(a.status(), b.status()) << input;
  }
}

// Inputs of the normal form take the fast path; a trailing space (trimmed away, so that the
// trimmed text and every position stay the same) sends the same text down the slow path.
TEST(ParseIdFastPathTest, SameResultAsTheSlowPathOnGeneratedIds) {
  const absl::CivilDay today(2026, 6, 1);
  std::mt19937_64 rng(14);
  static constexpr std::string_view kChars = "0123456789ABCDEFGHJKLMNPQRTUWXYZIOSV";
  int valid = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const int kind = static_cast<int>(rng() % 6);
    if (kind <= 1) {  // resident IDs, most valid, some with a wrong check character
      text = absl::StrFormat("%06d%04d%02d%02d%03d", 110000 + rng() % 560000, 1900 + rng() % 130,
                             1 + rng() % 12, 1 + rng() % 31, rng() % 1000);
      text += kind == 0 ? ResidentCheckChar(text) : static_cast<char>('0' + rng() % 10);
    } else if (kind == 2) {  // credit codes around an embedded organisation code
      // Digits, or letters too (some outside the credit charset); some check characters wrong.
      const size_t charset = rng() % 2 == 0 ? 10 : kChars.size();
      std::string org;
      for (int k = 0; k < 8; ++k) org += kChars[rng() % charset];
      text = absl::StrFormat("91%06d", 110000 + rng() % 500000) + org +
             (rng() % 8 == 0 ? '0' : OrgCodeCheckChar(org));
      text += rng() % 8 == 0 ? 'A' : CreditCodeCheckChar(text);
    } else if (kind == 3) {  // organisation codes
      for (int k = 0; k < 8; ++k) text += kChars[rng() % 10];
      text += rng() % 4 == 0 ? 'X' : OrgCodeCheckChar(text);
    } else {  // random strings of the charset, of any length up to 19
      const size_t n = rng() % 20;
      for (size_t k = 0; k < n; ++k) text += kChars[rng() % kChars.size()];
    }
    const absl::StatusOr<Id> fast = ParseId(text, today);
    valid += fast.ok();
    ExpectSameResult(fast, ParseId(text + " ", today), text);
    // Lower case and full width normalise to the same Id.
    std::string lower = text;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (fast.ok()) {
      EXPECT_EQ(*ParseId(lower, today), *fast) << lower;
      EXPECT_EQ(*ParseId(FullWidth(text), today), *fast) << text;
    } else {
      EXPECT_FALSE(ParseId(lower, today).ok()) << lower;
    }
  }
  EXPECT_GT(valid, 5000);  // the generator is not all noise
}

TEST(ParseIdFastPathTest, OtherFormsStillTakeTheSlowPath) {
  const absl::CivilDay today(2026, 6, 1);
  const Id id = *ParseId("11010519491231002X", today);
  EXPECT_EQ(*ParseId("11010519491231002x", today), id);
  EXPECT_EQ(*ParseId(" 110105 19491231 002X ", today), id);
  EXPECT_EQ(*ParseId(FullWidth("11010519491231002X"), today), id);
  EXPECT_EQ(*ParseId("55269853-1", today), *ParseId("552698531", today));
  EXPECT_FALSE(ParseId("", today).ok());
  EXPECT_FALSE(ParseId("1101051949123100 2X", today).ok());
  EXPECT_EQ(ParseId("11010519491231002!", today).status().message(),
            "bad character '!' at position 18");
}

}  // namespace fast_path

// The document a person's ID is the number of, and what a legal text calls its number.
TEST(IdTest, PersonDocumentOf) {
  const auto document = [](std::string_view text) {
    return PersonDocumentOf(MakeIdUnchecked(IdKind::kResident, text));
  };
  EXPECT_EQ(document("11010519491231002X"), PersonDocument::kResidentId);
  EXPECT_EQ(document("710000198001010034"), PersonDocument::kResidentId);
  EXPECT_EQ(document("810000198001010030"), PersonDocument::kResidencePermit);
  EXPECT_EQ(document("830000198001010030"), PersonDocument::kResidencePermit);
  EXPECT_EQ(document("933840198001010019"), PersonDocument::kForeignerPermanent);
  EXPECT_EQ(PersonDocumentNumberLabel(PersonDocument::kResidentId), "公民身份号码");
  EXPECT_EQ(PersonDocumentNumberLabel(PersonDocument::kResidencePermit), "港澳台居民居住证号码");
  EXPECT_EQ(PersonDocumentNumberLabel(PersonDocument::kForeignerPermanent),
            "外国人永久居留身份证号码");
}

}  // namespace
}  // namespace shixin
