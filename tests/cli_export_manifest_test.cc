// End to end: the manifest of the public export (x30 finding 4: a published file could not be
// dated, matched with the daemon's list, or told whole). The manifest says what the file holds
// and is drawn from; these tests check it against the file itself, with tools of their own
// (sha256sum, a count of the lines), and that an export that fails leaves none.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/validity.h"
#include "nlohmann/json.hpp"
#include "tests/cli_run.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using shixin::testing::FreshDir;
using shixin::testing::RunResult;
using shixin::testing::Shell;
using shixin::testing::Slurp;

using Json = nlohmann::json;

// The SHA-256 of `path` as sha256sum computes it.
std::string Sha256Sum(const std::string& path) {
  const RunResult run = Shell("sha256sum " + path);
  return run.out.substr(0, 64);
}

// The manifest at `path`, or a discarded value if it is missing or no JSON.
Json ReadManifest(const std::string& path) {
  return Json::parse(Slurp(path), nullptr, /*allow_exceptions=*/false);
}

const char kExport[] = "$SHIXIN export --public --data data/sample";

// A delta file removing one case of the sample: the export's list is the base and file 1.
const char kRemoval[] =
    R"({"op":"remove","caseCode":"（2017）黑04执31号","cardNum":"230407199103150045",)"
    R"("reason":"performed","at":"2026-06-09T15:30:00+08:00"})";

// -o FILE writes FILE.manifest.json beside it, which describes the file: as of the export's
// instant, the list's version and delta sequence, the rows, the size and the digest.
TEST(CliExportManifestTest, TheManifestBesideTheFileDescribesIt) {
  const std::string dir = FreshDir("manifest_beside");
  ASSERT_EQ(std::system(("mkdir -p " + dir + "/deltas").c_str()), 0);
  std::ofstream(dir + "/deltas/00000000000000000001.ndjson") << kRemoval << "\n";
  // The base compiled, as shixind may load it.
  const RunResult compiled = Shell("$SHIXIN compile --data data/sample -o " + dir + "/s.snap");
  ASSERT_EQ(compiled.status, 0) << compiled.out;
  for (const std::string format : {"csv", "ndjson"}) {
    SCOPED_TRACE(format);
    const std::string file = absl::StrCat(dir, "/public.", format);
    const int64_t before = std::time(nullptr);
    const RunResult run =
        Shell(absl::StrCat(kExport, " --deltas ", dir, "/deltas --format ", format, " -o ", file));
    const int64_t after = std::time(nullptr);
    ASSERT_EQ(run.status, 0) << run.out;
    EXPECT_THAT(run.out, HasSubstr("11 subjects, 13 cases; manifest " + file + ".manifest.json"));
    const Json m = ReadManifest(file + ".manifest.json");
    ASSERT_TRUE(m.is_object()) << Slurp(file + ".manifest.json");
    EXPECT_EQ(m["manifest"], 1);
    EXPECT_EQ(m["file"], "public." + format);
    EXPECT_EQ(m["format"], format);
    const absl::StatusOr<int64_t> as_of = shixin::ParseInstant(m["as_of"].get<std::string>());
    ASSERT_TRUE(as_of.ok()) << m["as_of"];
    EXPECT_GE(*as_of, before);
    EXPECT_LE(*as_of, after);
    EXPECT_THAT(m["as_of"].get<std::string>(), HasSubstr("+08:00"));
    EXPECT_EQ(m["list"]["base_delta_sequence"], 0);
    EXPECT_EQ(m["list"]["delta_sequence"], 1);
    EXPECT_EQ(m["list"]["version"].get<std::string>().size(), 16u);
    EXPECT_TRUE(m["list"]["base_source_time"].is_string());
    EXPECT_EQ(m["subjects"], 11);
    EXPECT_EQ(m["cases"], 13);
    // The rows a consumer counts: CSV's lines but the header (the sample's texts have no line
    // break), NDJSON's lines.
    const std::string text = Slurp(file);
    const int64_t lines = std::count(text.begin(), text.end(), '\n');
    EXPECT_EQ(m["rows"], format == "csv" ? lines - 1 : lines);
    EXPECT_EQ(m["rows"], format == "csv" ? 13 : 11);
    EXPECT_EQ(m["bytes"], text.size());
    EXPECT_EQ(m["sha256"], Sha256Sum(file));
    // The file itself stays plain: no metadata line in it.
    EXPECT_THAT(text, Not(HasSubstr("manifest")));
    EXPECT_THAT(text, Not(HasSubstr(m["list"]["version"].get<std::string>())));
  }
  // The same list from the compiled base: the same version, that of the base.
  const RunResult from_snapshot =
      Shell("$SHIXIN export --public --snapshot " + dir + "/s.snap --deltas " + dir +
            "/deltas --format csv -o " + dir + "/snap.csv");
  ASSERT_EQ(from_snapshot.status, 0) << from_snapshot.out;
  EXPECT_EQ(ReadManifest(dir + "/snap.csv.manifest.json")["list"]["version"],
            ReadManifest(dir + "/public.csv.manifest.json")["list"]["version"]);
}

// `-o -` has no file beside which to write one: --manifest FILE names it, and it describes the
// bytes written to standard output. --manifest names another place for -o FILE's too, and
// --no-manifest writes none.
TEST(CliExportManifestTest, TheManifestFlagsSayWhereItGoes) {
  const std::string dir = FreshDir("manifest_stdout");
  const RunResult run = Shell(std::string(kExport) + " --format ndjson -o - --manifest " + dir +
                              "/m.json > " + dir + "/piped.ndjson");
  ASSERT_EQ(run.status, 0) << run.out;
  const Json m = ReadManifest(dir + "/m.json");
  ASSERT_TRUE(m.is_object());
  EXPECT_TRUE(m["file"].is_null());
  EXPECT_EQ(m["rows"], 12);
  EXPECT_EQ(m["list"]["delta_sequence"], 0);
  EXPECT_EQ(m["bytes"], Slurp(dir + "/piped.ndjson").size());
  EXPECT_EQ(m["sha256"], Sha256Sum(dir + "/piped.ndjson"));
  // A copy cut short (a stream cut mid-way) does not verify.
  ASSERT_EQ(Shell("head -c 2000 " + dir + "/piped.ndjson > " + dir + "/cut.ndjson").status, 0);
  EXPECT_NE(m["sha256"], Sha256Sum(dir + "/cut.ndjson"));

  ASSERT_EQ(Shell(std::string(kExport) + " --format csv -o " + dir + "/a.csv --manifest " + dir +
                  "/elsewhere.json")
                .status,
            0);
  EXPECT_FALSE(std::filesystem::exists(dir + "/a.csv.manifest.json"));
  EXPECT_EQ(ReadManifest(dir + "/elsewhere.json")["sha256"], Sha256Sum(dir + "/a.csv"));
  const RunResult none =
      Shell(std::string(kExport) + " --format csv -o " + dir + "/b.csv --no-manifest");
  ASSERT_EQ(none.status, 0) << none.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/b.csv.manifest.json"));
  EXPECT_THAT(none.out, Not(HasSubstr("manifest")));
  // A descriptor's name has no file beside it: none by default (not /dev/stdout.manifest.json).
  const RunResult through = Shell(std::string(kExport) + " --format csv -o /dev/stdout");
  EXPECT_EQ(through.status, 0) << through.out;
  EXPECT_THAT(through.out, Not(HasSubstr("manifest")));
}

// Usage errors, before any work: a manifest on standard output, the export's own file, both
// flags, an empty name; a directory the manifest cannot be made in is named (exit 3), and the
// export is not written.
TEST(CliExportManifestTest, AManifestThatCannotBeWrittenIsRefusedFirst) {
  const std::string dir = FreshDir("manifest_usage");
  const std::string out = " --format csv -o " + dir + "/p.csv";
  for (const std::string& flags :
       {std::string(" --manifest -"), " --manifest " + dir + "/p.csv",
        " --manifest " + dir + "/../manifest_usage/./p.csv",
        " --manifest " + dir + "/m.json --no-manifest", std::string(" --manifest \"\"")}) {
    const RunResult run = Shell(absl::StrCat(kExport, out, flags));
    EXPECT_EQ(run.status, 2) << flags << ": " << run.out;
    EXPECT_THAT(run.out, Not(HasSubstr("subjects"))) << flags;
  }
  const RunResult missing = Shell(std::string(kExport) + out + " --manifest /nonexistent/m.json");
  EXPECT_EQ(missing.status, 3) << missing.out;
  EXPECT_THAT(missing.out, HasSubstr("directory /nonexistent (of /nonexistent/m.json)"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/p.csv"));
}

// An export that fails writes no manifest, and leaves the one of the file it keeps: the pair
// published before still verifies.
TEST(CliExportManifestTest, AnExportThatFailsLeavesNoManifest) {
  const std::string dir = FreshDir("manifest_failed");
  const std::string file = dir + "/public.csv";
  const RunResult cut =
      Shell("ulimit -f 1; " + std::string(kExport) + " --format csv -o " + file);  // 512 bytes
  EXPECT_EQ(cut.status, 3) << cut.out;
  EXPECT_FALSE(std::filesystem::exists(file));
  EXPECT_FALSE(std::filesystem::exists(file + ".manifest.json"));

  ASSERT_EQ(Shell(std::string(kExport) + " --format csv -o " + file).status, 0);
  const std::string published = Slurp(file);
  const std::string manifest = Slurp(file + ".manifest.json");
  const RunResult failed =
      Shell("ulimit -f 1; " + std::string(kExport) + " --format ndjson -o " + file);
  EXPECT_EQ(failed.status, 3) << failed.out;
  EXPECT_THAT(failed.out, HasSubstr("File too large"));
  EXPECT_EQ(Slurp(file), published);
  EXPECT_EQ(Slurp(file + ".manifest.json"), manifest);
  EXPECT_EQ(ReadManifest(file + ".manifest.json")["sha256"], Sha256Sum(file));

  // The manifest alone fails (the export goes to /dev/null, which no size limit stops): the
  // earlier manifest there, which describes an export since replaced, is removed.
  std::ofstream(dir + "/m.json") << "{\"sha256\": \"of an earlier export\"}\n";
  const RunResult alone = Shell(absl::StrCat(
      "ulimit -f 0; ", kExport, " --format csv -o /dev/null --manifest ", dir, "/m.json"));
  EXPECT_EQ(alone.status, 3) << alone.out;
  EXPECT_THAT(alone.out, HasSubstr("/dev/null was written, its manifest not: "));
  EXPECT_THAT(alone.out, HasSubstr("File too large"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/m.json"));
}

}  // namespace
