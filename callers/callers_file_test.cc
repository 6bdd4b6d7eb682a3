#include "callers/callers_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "callers/token.h"
#include "core/catalog.h"
#include "core/paths.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;

const std::string kHashA = "sha256:" + std::string(64, 'a');
const std::string kHashB = "sha256:" + std::string(64, 'b');

// A valid two-caller file; `extra_bank` is appended to the bank's table (line 13 on).
std::string File(const std::string& extra_bank = "", const std::string& hotel_id = "hotel") {
  return "version = 1\n"                                     // 1
         "\n"                                                // 2
         "[[caller]]\n"                                      // 3
         "id = \"acme-bank\"\n"                              // 4
         "name = \"Acme Bank \\\"credit\\\" 信贷部\"\n"      // 5
         "sector = \"bank\"\n"                               // 6
         "agencies = [\"housing\"]\n"                        // 7
         "scopes = [\"check\", \"measures\", \"detail\"]\n"  // 8
         "view = \"full\"\n"                                 // 9
         "rate = 50\n"                                       // 10
         "burst = 100\n"                                     // 11
         "tokens = [\"" +
         kHashA + "\"]\n" +  // 12
         extra_bank +
         "\n[[caller]]\n"
         "id = \"" +
         hotel_id +
         "\"\n"
         "name = \"Hotel\"\n"
         "sector = \"hotel\"\n"
         "scopes = [\"check\"]\n"
         "view = \"masked\"\n"
         "rate = 0.5\n"
         "burst = 1\n"
         "certificates = [\"cn:hotel-front-desk\", \"" +
         kHashB + "\"]\n";
}

TEST(CallersFileTest, ParsesAValidFile) {
  absl::StatusOr<CallerTable> table = ParseCallersFile(File(), "callers.toml");
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->callers().size(), 2u);
  const Caller* bank = table->Find("acme-bank");
  ASSERT_NE(bank, nullptr);
  EXPECT_EQ(bank->name, "Acme Bank \"credit\" 信贷部");
  EXPECT_EQ(bank->scopes, 0b111u);
  EXPECT_EQ(bank->view, View::kFull);
  EXPECT_EQ(bank->rate, 50.0);
  EXPECT_EQ(bank->burst, 100u);
  EXPECT_EQ(bank->agencies, std::vector<std::string>{"housing"});
  EXPECT_EQ(bank->token_hashes, std::vector<std::string>{kHashA});
  const Caller* hotel = table->FindByCertificate(kHashB, "");
  ASSERT_NE(hotel, nullptr);
  EXPECT_EQ(hotel->view, View::kMasked);
  EXPECT_EQ(hotel->rate, 0.5);
}

struct BadCase {
  std::string text;
  std::string expected;  // in the message, after "callers.toml:"
};

TEST(CallersFileTest, ErrorsNameFileLineAndKey) {
  const BadCase cases[] = {
      {File("scopes = [\"check\"\n"), "callers.toml:13:"},  // syntax error
      {File("colour = \"red\"\n"), "callers.toml:13: unknown key \"colour\""},
      {"versio = 1\n", "callers.toml:1: unknown key \"versio\""},
      {"version = 2\n", "callers.toml:1: version"},
      {"caller = 1\n", "callers.toml:1: caller: expected [[caller]] tables"},
      {File("certificates = \"cn:x\"\n"),
       "callers.toml:13: certificates: expected an array of strings, got string"},
      {File("certificates = [1]\n"), "callers.toml:13: certificates: expected an array"},
      {File("", "acme-bank"), "duplicate caller id \"acme-bank\""},
      {File("certificates = [\"cn:hotel-front-desk\"]\n"),
       "certificates: \"cn:hotel-front-desk\" is claimed by caller \"acme-bank\" too"},
      {File("certificates = [\"pem:xyz\"]\n"), "callers.toml:13: certificates: \"pem:xyz\""},
  };
  for (const BadCase& c : cases) {
    absl::StatusOr<CallerTable> table = ParseCallersFile(c.text, "callers.toml");
    ASSERT_FALSE(table.ok()) << c.text;
    EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(table.status().message()), HasSubstr(c.expected)) << c.text;
  }
}

// Replaces line `line` (1-based) of File() with `replacement` and expects `expected` (parsed
// against `catalog` if given).
void ExpectLineError(int line, const std::string& replacement, const std::string& expected,
                     const Catalog* catalog = nullptr) {
  std::istringstream in(File());
  std::string text, l;
  for (int i = 1; std::getline(in, l); ++i) text += (i == line ? replacement : l) + "\n";
  absl::StatusOr<CallerTable> table = ParseCallersFile(text, "f.toml", catalog);
  ASSERT_FALSE(table.ok()) << replacement;
  EXPECT_THAT(std::string(table.status().message()),
              HasSubstr("f.toml:" + std::to_string(line) + ": " + expected))
      << replacement;
}

TEST(CallersFileTest, BadValuesReportTheirLine) {
  ExpectLineError(4, "id = \"Acme Bank\"", "id: \"Acme Bank\" is not a caller id");
  ExpectLineError(4, "id = 7", "id: expected a string, got integer");
  ExpectLineError(5, "name = \"\"", "name: must not be empty");
  ExpectLineError(6, "sector = \"casino\"", "sector: unknown sector \"casino\"");
  ExpectLineError(7, "agencies = \"housing\"", "agencies: expected an array of strings");
  ExpectLineError(8, "scopes = [\"check\", \"root\"]", "scopes: unknown scope \"root\"");
  ExpectLineError(9, "view = \"partial\"", "view: unknown view \"partial\"");
  ExpectLineError(10, "rate = 0", "rate: 0 is not a positive number");
  ExpectLineError(10, "rate = -1.5", "rate: -1.5 is not a positive number");
  ExpectLineError(10, "rate = \"50\"", "rate: expected a number, got string");
  ExpectLineError(10, "rate = nan", "rate: nan is not a positive number");
  ExpectLineError(10, "rate = 1e-7", "rate: 1e-07 is below the slowest rate shixind keeps");
  ExpectLineError(11, "burst = 0", "burst: 0 is out of range");
  ExpectLineError(11, "burst = 4000000000",
                  "burst: 4000000000 at a rate of 50 per second takes 926 days to refill");
  ExpectLineError(11, "burst = 1.5", "burst: expected an integer");
  ExpectLineError(12, "tokens = [\"shx_plaintoken\"]",
                  "tokens: \"shx_plaintoken\" is not a token hash");
  ExpectLineError(12, "tokens = [\"sha256:abc\"]", "tokens: \"sha256:abc\" is not a token hash");
}

// An agency or scenario the catalog lacks is an error at its key's line, as every other one.
TEST(CallersFileTest, UnknownAgenciesAndScenariosReportTheirLine) {
  absl::StatusOr<Catalog> catalog = Catalog::LoadFile(DefaultCatalogPath());
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  ExpectLineError(7, "agencies = [\"Housing\"]",
                  "agencies: caller \"acme-bank\": unknown agency \"Housing\" (not in catalog",
                  &*catalog);
  ExpectLineError(7, "agencies = [\"housing\", \"\"]",
                  "agencies: caller \"acme-bank\": unknown agency \"\"", &*catalog);
  ExpectLineError(7, "scenarios = [\"quidditch\"]",
                  "scenarios: caller \"acme-bank\": unknown scenario \"quidditch\"", &*catalog);
}

// A copied-and-edited entry keeping the other's tokens: one token would act as either caller.
TEST(CallersFileTest, ATokenHashOfTwoCallersIsRefusedAtItsLine) {
  const std::string text = File() + "tokens = [\"" + kHashA + "\"]\n";  // the hotel's, last
  const int line = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  absl::StatusOr<CallerTable> table = ParseCallersFile(text, "callers.toml");
  ASSERT_FALSE(table.ok());
  EXPECT_THAT(std::string(table.status().message()),
              HasSubstr("callers.toml:" + std::to_string(line) + ": tokens: \"" + kHashA +
                        "\" of caller \"hotel\" is listed by caller \"acme-bank\" too"));
}

TEST(CallersFileTest, MissingKeyNamesTheTable) {
  std::string text = File();
  text.erase(text.find("burst = 100\n"), 12);
  absl::StatusOr<CallerTable> table = ParseCallersFile(text, "f.toml");
  ASSERT_FALSE(table.ok());
  EXPECT_THAT(std::string(table.status().message()),
              HasSubstr("f.toml:3: [[caller]] lacks the key \"burst\""));
}

TEST(CallersFileTest, FormatRoundTrips) {
  Caller odd;
  odd.id = "odd.one_1";
  odd.name = "Tab\there \"quoted\" back\\slash 新";
  odd.sector = "other";
  odd.scenarios = {"hotel", "bank_credit"};
  odd.scopes = ScopeBit(Scope::kAdmin) | ScopeBit(Scope::kExport);
  odd.view = View::kFull;
  odd.rate = 0.1;
  odd.burst = 800000;  // refilled in 93 days (the most is 100)
  odd.token_hashes = {HashToken("x"), HashToken("y")};
  absl::StatusOr<CallerTable> table = ParseCallersFile(File(), "callers.toml");
  ASSERT_TRUE(table.ok());
  std::vector<Caller> callers = table->callers();
  callers.push_back(odd);
  absl::StatusOr<CallerTable> original = CallerTable::Create(callers);
  ASSERT_TRUE(original.ok()) << original.status();

  const std::string text = FormatCallersFile(*original);
  EXPECT_THAT(text, HasSubstr("NEVER put a plain token"));
  absl::StatusOr<CallerTable> back = ParseCallersFile(text, "formatted");
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << text;
  ASSERT_EQ(back->callers().size(), original->callers().size());
  for (size_t i = 0; i < back->callers().size(); ++i) {
    const Caller& a = original->callers()[i];
    const Caller& b = back->callers()[i];
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.sector, b.sector);
    EXPECT_EQ(a.agencies, b.agencies);
    EXPECT_EQ(a.scenarios, b.scenarios);
    EXPECT_EQ(a.scopes, b.scopes);
    EXPECT_EQ(a.view, b.view);
    EXPECT_EQ(a.rate, b.rate);
    EXPECT_EQ(a.burst, b.burst);
    EXPECT_EQ(a.token_hashes, b.token_hashes);
    EXPECT_EQ(a.certificates, b.certificates);
  }
  EXPECT_EQ(FormatCallersFile(*back), text);  // stable
}

// A new file is its owner's only; a file replaced keeps the group and mode the admin gave it
// (root:shixin 0640 is how the packaged unit's dynamic user reads it: x27 finding 1).
TEST(CallersFileTest, WriteMakesANewFileOwnerOnlyAndKeepsAnOldOnesAccess) {
  char dir_template[] = "/tmp/callers_file_test.XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/callers.toml";
  absl::StatusOr<CallerTable> table = ParseCallersFile(File(), "callers.toml");
  ASSERT_TRUE(table.ok());
  ASSERT_TRUE(WriteCallersFile(path, *table).ok());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  absl::StatusOr<CallerTable> loaded = LoadCallersFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->callers().size(), 2u);

  // Root may give the file any group; another user one of its own groups, if it has another.
  gid_t group = getegid();
  if (geteuid() == 0) {
    group = 4242;
  } else if (gid_t groups[64]; getgroups(64, groups) > 0) {
    group = groups[0];
  }
  ASSERT_EQ(chown(path.c_str(), static_cast<uid_t>(-1), group), 0);
  ASSERT_EQ(chmod(path.c_str(), 0640), 0);
  ASSERT_TRUE(WriteCallersFile(path, *table).ok());
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(st.st_gid, group);
  EXPECT_EQ(st.st_uid, geteuid());
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);  // the admin's choice (the daemon warns of others)
  ASSERT_TRUE(WriteCallersFile(path, *table).ok());
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  EXPECT_EQ(LoadCallersFile(path + ".missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(WriteCallersFile(std::string(dir_template) + "/no/such/dir", *table).ok());
  unlink(path.c_str());
  rmdir(dir_template);
}

// A rewrite keeps the file's leading comment block (the example's says its tokens are
// published: x27 finding 3); a new file, or one without, gets the header of our own.
TEST(CallersFileTest, WriteKeepsTheLeadingComments) {
  EXPECT_EQ(LeadingComments("# a\n\n  # b\n\nversion = 1\n# c\n"), "# a\n\n  # b\n");
  EXPECT_EQ(LeadingComments("version = 1\n# c\n"), "");
  EXPECT_EQ(LeadingComments("# only\n"), "# only\n");
  char dir_template[] = "/tmp/callers_file_test.XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/callers.toml";
  absl::StatusOr<CallerTable> table = ParseCallersFile(File(), "callers.toml");
  ASSERT_TRUE(table.ok());
  { std::ofstream(path) << "# ours: the published tokens\n#\n# line 3\n\n" << File(); }
  ASSERT_TRUE(WriteCallersFile(path, *table).ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(text.str().starts_with("# ours: the published tokens\n#\n# line 3\n\nversion = 1\n"))
      << text.str();
  EXPECT_EQ(FormatCallersFile(*table).substr(0, 30), "# shixind callers file (docs/s");
  unlink(path.c_str());
  rmdir(dir_template);
}

// With the catalog the table holds agency ids, whether the file names an agency by its id or
// its name; without it, the file as written (what `shixin caller` writes back).
TEST(CallersFileTest, AgenciesAreReadAsTheirCatalogIds) {
  absl::StatusOr<Catalog> catalog = Catalog::LoadFile(DefaultCatalogPath());
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  std::string text = File();
  text.replace(text.find("[\"housing\"]"), 11, "[\"鹤岗市住房保障局\", \"housing\"]");
  absl::StatusOr<CallerTable> resolved = ParseCallersFile(text, "callers.toml", &*catalog);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->Find("acme-bank")->agencies,
            (std::vector<std::string>{"housing", "housing"}));
  absl::StatusOr<CallerTable> as_written = ParseCallersFile(text, "callers.toml");
  ASSERT_TRUE(as_written.ok()) << as_written.status();
  EXPECT_EQ(as_written->Find("acme-bank")->agencies,
            (std::vector<std::string>{"鹤岗市住房保障局", "housing"}));
  text.replace(text.find("\"housing\"]"), 10, "\"Housing\"]");
  resolved = ParseCallersFile(text, "callers.toml", &*catalog);
  ASSERT_FALSE(resolved.ok());
  EXPECT_THAT(std::string(resolved.status().message()), HasSubstr("unknown agency \"Housing\""));
}

// A huge file at the path is refused unread (the daemon reads it at start and on every reload).
TEST(CallersFileTest, AFileOverTheLimitIsNotRead) {
  const std::string path = ::testing::TempDir() + "/callers_file_test.big.toml";
  { std::ofstream(path) << "version = 1\n"; }
  ASSERT_EQ(truncate(path.c_str(), 400 << 20), 0);  // sparse: no 400 MB written
  absl::StatusOr<CallerTable> table = LoadCallersFile(path);
  EXPECT_EQ(table.status().code(), absl::StatusCode::kResourceExhausted) << table.status();
  EXPECT_EQ(table.status().message(), path + ": more than 16777216 bytes");
  unlink(path.c_str());
}

TEST(CallersFileTest, TheShippedExampleIsValid) {
  absl::StatusOr<CallerTable> table =
      LoadCallersFile(std::string(SHIXIN_TEST_SOURCE_DIR) + "/systemd/callers.toml");
  ASSERT_TRUE(table.ok()) << table.status();
  absl::StatusOr<Catalog> catalog = Catalog::LoadFile(DefaultCatalogPath());
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_TRUE(
      LoadCallersFile(std::string(SHIXIN_TEST_SOURCE_DIR) + "/systemd/callers.toml", &*catalog)
          .ok());
  // The fake tokens its comments publish are the ones hashed, and the daemon knows them.
  EXPECT_TRUE(table->Authenticate("example-bank", kPublishedExampleTokens[0]).ok());
  EXPECT_TRUE(table->Authenticate("example-hotel", kPublishedExampleTokens[1]).ok());
  EXPECT_EQ(CallersWithPublishedTokens(*table),
            (std::vector<std::string>{"example-bank", "example-hotel"}));
  absl::StatusOr<CallerTable> own = ParseCallersFile(File(), "callers.toml");
  ASSERT_TRUE(own.ok());
  EXPECT_TRUE(CallersWithPublishedTokens(*own).empty());
  EXPECT_EQ(table->FindByCertificate("", "example-bank-shixin-client")->id, "example-bank");
}

}  // namespace
}  // namespace shixin
