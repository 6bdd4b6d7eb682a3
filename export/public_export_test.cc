#include "export/public_export.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "core/dataset.h"
#include "core/delta.h"
#include "core/id.h"
#include "core/overlay.h"
#include "core/validity.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A day on which every sample case counts (none has a term end or a removal).
constexpr int64_t kAt = 1767225600;  // 2026-01-01T08:00:00+08:00

std::unique_ptr<const Snapshot> LoadSample() {
  auto snap = LoadDataDir(SHIXIN_TEST_SOURCE_DIR "/data/sample", LoadOptions{}, nullptr);
  EXPECT_TRUE(snap.ok()) << snap.status();
  return snap.ok() ? std::move(*snap) : nullptr;
}

std::string Export(const ListView& snap, ExportFormat format, ExportCounts* counts = nullptr) {
  std::ostringstream out;
  absl::StatusOr<ExportCounts> c = WritePublicExport(snap, kAt, format, out);
  EXPECT_TRUE(c.ok()) << c.status();
  if (counts != nullptr && c.ok()) *counts = *c;
  return out.str();
}

// Returns the byte length of the digit (ASCII or full-width) at the start of `s`, or 0.
size_t DigitLength(std::string_view s) {
  if (!s.empty() && s[0] >= '0' && s[0] <= '9') return 1;
  const bool full_width = s.size() >= 3 && s.starts_with("\xEF\xBC") &&
                          static_cast<unsigned char>(s[2]) >= 0x90 &&
                          static_cast<unsigned char>(s[2]) <= 0x99;
  return full_width ? 3 : 0;
}

// Returns every person's ID in `text` in any form ParseId() reads (its groups separated by
// spaces or hyphens, full-width, a lower-case x), and every run of 15 or more digits (an old
// 15-digit ID with a wrong date, or a longer number hiding one), each once.
std::vector<std::string> FullPersonIds(std::string_view text) {
  std::vector<std::string> found;
  const auto add = [&found](std::string_view s) {
    if (std::find(found.begin(), found.end(), s) == found.end()) found.emplace_back(s);
  };
  // 18 characters of 3 bytes and 3 separators of 3: the longest text ParseId() takes for an ID.
  constexpr size_t kLongest = 18 * 3 + 3 * 3;
  for (size_t i = 0; i < text.size(); ++i) {
    if (DigitLength(text.substr(i)) == 0) continue;
    for (size_t n = 15; n <= kLongest && i + n <= text.size(); ++n) {
      const absl::StatusOr<Id> id = ParseId(text.substr(i, n), absl::CivilDay(9999, 12, 31));
      if (id.ok() && id->kind() == IdKind::kResident) {
        add(text.substr(i, n));
        break;
      }
    }
  }
  size_t run = 0, begin = 0;
  for (size_t i = 0; i <= text.size();) {
    const size_t n = i < text.size() ? DigitLength(text.substr(i)) : 0;
    if (n > 0) {
      if (run++ == 0) begin = i;
      i += n;
      continue;
    }
    if (run >= 15) add(text.substr(begin, i - begin));
    run = 0;
    ++i;
  }
  return found;
}

TEST(PublicExportTest, ScannerFindsFullIds) {
  EXPECT_THAT(FullPersonIds("x 11010519491231002X y"), testing::Contains("11010519491231002X"));
  EXPECT_EQ(FullPersonIds("a110105491231002b"), std::vector<std::string>({"110105491231002"}));
  EXPECT_TRUE(FullPersonIds("1101051949****002X 11010519491231 2018-07-13 230987613").empty());
  // The groups of a form, with any separator ParseId() takes; full-width digits.
  EXPECT_EQ(FullPersonIds("赵五（身份证 230402 19600404 4233）"),
            std::vector<std::string>({"230402 19600404 4233"}));
  EXPECT_EQ(FullPersonIds("钱六230402-19500505-5239,"),
            std::vector<std::string>({"230402-19500505-5239"}));
  EXPECT_EQ(FullPersonIds("110105\u300019491231\uFF0D002x"),
            std::vector<std::string>({"110105\u300019491231\uFF0D002x"}));
  EXPECT_EQ(FullPersonIds("：110105 491231 002"), std::vector<std::string>({"110105 491231 002"}));
  EXPECT_THAT(FullPersonIds("１１０１０５１９４９１２３１００２Ｘ"),
              testing::Not(testing::IsEmpty()));
  EXPECT_TRUE(FullPersonIds("230402 1960**** 4233 230402-1950****-5239").empty());
}

TEST(PublicExportTest, SampleHasNoFullPersonIdInEitherFormat) {
  auto snap = LoadSample();
  ASSERT_NE(snap, nullptr);
  for (ExportFormat format : {ExportFormat::kNdjson, ExportFormat::kCsv}) {
    ExportCounts counts;
    const std::string out = Export(*snap, format, &counts);
    EXPECT_EQ(counts.subjects, 12u);
    EXPECT_EQ(counts.cases, 14u);
    EXPECT_THAT(FullPersonIds(out), testing::IsEmpty()) << out;
    // Related persons never appear, but as an organisation's legal representative's name.
    for (const char* related :
         {"刘桂英", "周明", "吴丹", "钱宝成", "冯立新", "230402197203140038"}) {
      EXPECT_THAT(out, Not(HasSubstr(related)));
    }
  }
}

TEST(PublicExportTest, NdjsonFields) {
  auto snap = LoadSample();
  ASSERT_NE(snap, nullptr);
  const std::string out = Export(*snap, ExportFormat::kNdjson);
  const std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 12u);
  EXPECT_THAT(
      out,
      HasSubstr(R"({"kind":"person","name":"张秀兰","id":"1101051949****002X",)"
                R"("since":"2015-09-08T00:00:00+08:00","until":null,"cases":[)"
                R"({"case_code":"(2015)鹤向法执字第00232号","court":"鹤岗市向阳区人民法院",)"));
  EXPECT_THAT(out,
              HasSubstr(R"("publish_date":"2018-07-13","term_end":null,)"
                        R"("conduct":"有履行能力而拒不履行生效法律文书确定义务,违反限制消费令",)"
                        R"("performance":"全部未履行"})"));
  // Organisations: the code whole, the legal representative's name.
  EXPECT_THAT(out, HasSubstr(R"({"kind":"organization","name":"泉州市恒泰贸易有限公司",)"
                             R"("id":"91350503MA2XK7R352","legal_representative_name":"陈海波",)"));
  EXPECT_THAT(out, HasSubstr(R"("id":"230987613","legal_representative_name":"孙涛")"));
  EXPECT_THAT(out, Not(HasSubstr("duty")));
}

TEST(PublicExportTest, CsvHeaderAndRows) {
  auto snap = LoadSample();
  ASSERT_NE(snap, nullptr);
  const std::string out = Export(*snap, ExportFormat::kCsv);
  const std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 15u);  // the header and 14 cases
  EXPECT_EQ(lines[0],
            "\xEF\xBB\xBF"
            "kind,name,id,legal_representative_name,case_code,court,area,gist_id,gist_unit,"
            "reg_date,publish_date,term_end,conduct,performance");
  // The conduct with two grounds holds a comma: quoted.
  EXPECT_THAT(out, HasSubstr("person,张秀兰,1101051949****002X,,（2018）黑0402执恢45号,"));
  EXPECT_THAT(out, HasSubstr(",2018-05-22,2018-07-13,,\"有履行能力而拒不履行生效法律文书确定义务,"
                             "违反限制消费令\",全部未履行\n"));
  EXPECT_THAT(out, HasSubstr("organization,鹤岗市龙腾煤业有限责任公司,230987613,孙涛,"));
}

// The export of a base with deltas: a subject whose cases were removed is not published, one
// the deltas added is (after the base's subjects).
TEST(PublicExportTest, DeltasAreApplied) {
  auto snap = LoadSample();
  ASSERT_NE(snap, nullptr);
  constexpr char kDelta[] =
      R"({"op":"remove","caseCode":"(2015)鹤向法执字第00232号","cardNum":"11010519491231002X",)"
      R"("reason":"performed","at":"2025-12-01T00:00:00Z"})"
      "\n"
      R"({"op":"remove","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002X",)"
      R"("reason":"performed","at":"2025-12-01T00:00:00Z"})"
      "\n"
      R"x({"op":"add","caseCode":"（2025）黑0402执9号","iname":"=HYPERLINK(\"http://e/\")",)x"
      R"("cardNum":"230402199001011237","partyTypeName":"0","courtName":"鹤岗市向阳区人民法院",)"
      R"("areaName":"黑龙江","gistId":"(2025)黑0402民初1号","gistUnit":"鹤岗市向阳区人民法院",)"
      R"("regDate":"20250310","publishDate":"2025-06-01","duty":"偿还借款","performance":"全部未履行",)"
      R"("performedPart":"暂无","unperformPart":"暂无","disruptTypeName":"违反财产报告制度",)"
      R"("businessEntity":"","age":"35","sexy":"男","termEnd":"2027-05-31"})"
      "\n";
  absl::StatusOr<Delta> delta = ParseDelta("00000000000000000001.ndjson", kDelta);
  ASSERT_TRUE(delta.ok()) << delta.status();
  DeltaReport report;
  absl::StatusOr<std::unique_ptr<const Overlay>> overlay =
      ApplyDelta(*snap, nullptr, *delta, &report);
  ASSERT_TRUE(overlay.ok()) << overlay.status();
  ExportCounts counts;
  const std::string out = Export(ListView(*snap, overlay->get()), ExportFormat::kCsv, &counts);
  EXPECT_EQ(counts.subjects, 12u);  // one gone, one come
  EXPECT_EQ(counts.cases, 13u);
  EXPECT_THAT(out, Not(HasSubstr("张秀兰")));
  ASSERT_TRUE(
      out.starts_with("\xEF\xBB\xBF"
                      "kind,name,id,"));
  EXPECT_TRUE(
      out.ends_with("person,\"'=HYPERLINK(\"\"http://e/\"\")\",2304021990****1237,,"
                    "（2025）黑0402执9号,鹤岗市向阳区人民法院,黑龙江,(2025)黑0402民初1号,"
                    "鹤岗市向阳区人民法院,2025-03-10,2025-06-01,2027-05-31,违反财产报告制度,"
                    "全部未履行\n"))
      << out;
  EXPECT_THAT(FullPersonIds(out), testing::IsEmpty());
}

// The court's texts are free text: an ID written into one (a legal representative given as an
// ID number, one after a name) does not come out whole.
TEST(PublicExportTest, IdsInFreeTextsAreMasked) {
  auto snap = LoadSample();
  ASSERT_NE(snap, nullptr);
  constexpr char kDelta[] =
      R"({"op":"add","caseCode":"（2025）黑0402执10号","iname":"某公司 933840198001010019",)"
      R"("cardNum":"91230402MA1B2C3D82","partyTypeName":"1","courtName":"鹤岗市向阳区人民法院",)"
      R"("areaName":"黑龙江","gistId":"(2025)黑0402民初2号 230402197203140038",)"
      R"("gistUnit":"鹤岗市向阳区人民法院","regDate":"20250310","publishDate":"2025-06-01",)"
      R"("duty":"偿还借款","performance":"全部未履行 11010519491231002x",)"
      R"("performedPart":"暂无","unperformPart":"暂无","disruptTypeName":"违反财产报告制度",)"
      R"("businessEntity":"230402197203140038","age":"0","sexy":""})"
      "\n";
  absl::StatusOr<Delta> delta = ParseDelta("00000000000000000001.ndjson", kDelta);
  ASSERT_TRUE(delta.ok()) << delta.status();
  DeltaReport report;
  absl::StatusOr<std::unique_ptr<const Overlay>> overlay =
      ApplyDelta(*snap, nullptr, *delta, &report);
  ASSERT_TRUE(overlay.ok()) << overlay.status();
  for (ExportFormat format : {ExportFormat::kNdjson, ExportFormat::kCsv}) {
    const std::string out = Export(ListView(*snap, overlay->get()), format);
    EXPECT_THAT(FullPersonIds(out), testing::IsEmpty()) << out;
    EXPECT_THAT(out, HasSubstr("2304021972****0038")) << out;
    EXPECT_THAT(out, HasSubstr("某公司 9338401980****0019")) << out;
    EXPECT_THAT(out, HasSubstr("全部未履行 1101051949****002x")) << out;
    EXPECT_THAT(out, HasSubstr("91230402MA1B2C3D82")) << out;  // an organisation's code whole
  }
}

// Each CSV row is one case and names that case's legal representative (businessEntity), as
// `check` shows it per case; the NDJSON subject names the latest case's (the latest publication,
// whatever the list's order), not the first's.
TEST(PublicExportTest, LegalRepresentativeIsEachCasesOwnAndTheLatestForTheSubject) {
  auto snap = LoadSample();
  ASSERT_NE(snap, nullptr);
  // 230987613's base case (2016) names 孙涛; a newer case (2025) 新法人, then an older one
  // (2017, added last) 旧法人.
  const auto add = [](const char* code, const char* entity, const char* published) {
    return absl::StrCat(
        R"({"op":"add","caseCode":")", code,
        R"(","iname":"鹤岗市龙腾煤业有限责任公司","cardNum":"912304002309876133",)"
        R"("partyTypeName":"1","courtName":"鹤岗市工农区人民法院","areaName":"黑龙江",)"
        R"("gistId":"g","gistUnit":"u","regDate":"20170101","publishDate":")",
        published,
        R"(","duty":"d","performance":"全部未履行","performedPart":"暂无","unperformPart":"暂无",)"
        R"("disruptTypeName":"违反财产报告制度","businessEntity":")",
        entity, R"("})", "\n");
  };
  const std::string text = add("（2025）黑0403执9号", "新法人", "2025-06-01") +
                           add("（2017）黑0403执1号", "旧法人", "2017-03-01");
  absl::StatusOr<Delta> delta = ParseDelta("00000000000000000001.ndjson", text);
  ASSERT_TRUE(delta.ok()) << delta.status();
  DeltaReport report;
  absl::StatusOr<std::unique_ptr<const Overlay>> overlay =
      ApplyDelta(*snap, nullptr, *delta, &report);
  ASSERT_TRUE(overlay.ok()) << overlay.status();
  const ListView list(*snap, overlay->get());
  const std::string csv = Export(list, ExportFormat::kCsv);
  EXPECT_THAT(csv, HasSubstr("organization,鹤岗市龙腾煤业有限责任公司,230987613,孙涛,"
                             "(2016)黑0403执302号,"));
  EXPECT_THAT(csv, HasSubstr("organization,鹤岗市龙腾煤业有限责任公司,230987613,新法人,"
                             "（2025）黑0403执9号,"));
  EXPECT_THAT(csv, HasSubstr("organization,鹤岗市龙腾煤业有限责任公司,230987613,旧法人,"
                             "（2017）黑0403执1号,"));
  const std::string ndjson = Export(list, ExportFormat::kNdjson);
  EXPECT_THAT(ndjson, HasSubstr(R"("id":"230987613","legal_representative_name":"新法人")"));
}

// An ID written in the groups of a form ("230402 19600404 4233", with hyphens) is an ID too: the
// subject's own in its name, a third person's in the basis document or as the legal
// representative.
TEST(PublicExportTest, IdsWrittenInGroupsAreMasked) {
  auto snap = LoadSample();
  ASSERT_NE(snap, nullptr);
  constexpr char kDelta[] =
      R"({"op":"add","caseCode":"（2025）黑0402执11号","iname":"赵五（身份证 230402 19600404 4233）",)"
      R"("cardNum":"230402196004044233","partyTypeName":"0","courtName":"鹤岗市向阳区人民法院",)"
      R"("areaName":"黑龙江","gistId":"钱六230402-19500505-5239","gistUnit":"110105 491231 002",)"
      R"("regDate":"20250310","publishDate":"2025-06-01","duty":"偿还借款","performance":"全部未履行",)"
      R"("performedPart":"暂无","unperformPart":"暂无","disruptTypeName":"违反财产报告制度",)"
      R"("businessEntity":"","age":"65","sexy":"男"})"
      "\n"
      R"({"op":"add","caseCode":"（2025）黑0402执12号","iname":"某公司",)"
      R"("cardNum":"91230402MA1B2C3D82","partyTypeName":"1","courtName":"鹤岗市向阳区人民法院",)"
      R"("areaName":"黑龙江","gistId":"（2026）黑0402执88号","gistUnit":"鹤岗市向阳区人民法院",)"
      R"("regDate":"20250310","publishDate":"2025-06-01","duty":"偿还借款","performance":"全部未履行",)"
      R"("performedPart":"暂无","unperformPart":"暂无","disruptTypeName":"违反财产报告制度",)"
      R"("businessEntity":"李 230402－19900202－2237","age":"0","sexy":""})"
      "\n";
  absl::StatusOr<Delta> delta = ParseDelta("00000000000000000001.ndjson", kDelta);
  ASSERT_TRUE(delta.ok()) << delta.status();
  DeltaReport report;
  absl::StatusOr<std::unique_ptr<const Overlay>> overlay =
      ApplyDelta(*snap, nullptr, *delta, &report);
  ASSERT_TRUE(overlay.ok()) << overlay.status();
  for (ExportFormat format : {ExportFormat::kNdjson, ExportFormat::kCsv}) {
    const std::string out = Export(ListView(*snap, overlay->get()), format);
    EXPECT_THAT(FullPersonIds(out), testing::IsEmpty()) << out;
    EXPECT_THAT(out, HasSubstr("赵五（身份证 230402 1960**** 4233）")) << out;
    EXPECT_THAT(out, HasSubstr("2304021960****4233")) << out;  // the id column
    EXPECT_THAT(out, HasSubstr("钱六230402-1950****-5239")) << out;
    EXPECT_THAT(out, HasSubstr("110105 49**** 002")) << out;
    EXPECT_THAT(out, HasSubstr("李 230402－1990****－2237")) << out;
    EXPECT_THAT(out, HasSubstr("（2026）黑0402执88号")) << out;  // a case number stays
  }
}

// The court's texts are shown on the public website and in spreadsheets: a direction override
// there would make a name read as another's, a line separator break the line. Both formats
// carry U+FFFD for them.
TEST(PublicExportTest, DisplayControlsAreReplaced) {
  auto snap = LoadSample();
  ASSERT_NE(snap, nullptr);
  constexpr char kDelta[] =
      R"({"op":"add","caseCode":"（2025）黑0402执13号","iname":"周\u2028八\u202e九\u200f",)"
      R"("cardNum":"230402198401011231","partyTypeName":"0","courtName":"鹤岗市\u2066向阳区\u2069人民法院",)"
      R"("areaName":"黑龙江\u061c","gistId":"(2025)黑0402民初3号\u2029","gistUnit":"\u202a法院\u202c",)"
      R"("regDate":"20250310","publishDate":"2025-06-01","duty":"偿还借款","performance":"全部\u200e未履行",)"
      R"("performedPart":"暂无","unperformPart":"暂无","disruptTypeName":"违反财产报告制度",)"
      R"("businessEntity":"","age":"42","sexy":"男"})"
      "\n";
  absl::StatusOr<Delta> delta = ParseDelta("00000000000000000001.ndjson", kDelta);
  ASSERT_TRUE(delta.ok()) << delta.status();
  DeltaReport report;
  absl::StatusOr<std::unique_ptr<const Overlay>> overlay =
      ApplyDelta(*snap, nullptr, *delta, &report);
  ASSERT_TRUE(overlay.ok()) << overlay.status();
  for (ExportFormat format : {ExportFormat::kNdjson, ExportFormat::kCsv}) {
    const std::string out = Export(ListView(*snap, overlay->get()), format);
    for (std::string_view control : {"\u2028", "\u2029", "\u202a", "\u202c", "\u202e", "\u2066",
                                     "\u2069", "\u200e", "\u200f", "\u061c"}) {
      EXPECT_THAT(out, Not(HasSubstr(control))) << out;
    }
    EXPECT_THAT(out, HasSubstr("周\uFFFD八\uFFFD九\uFFFD")) << out;
    EXPECT_THAT(out, HasSubstr("鹤岗市\uFFFD向阳区\uFFFD人民法院")) << out;
    EXPECT_THAT(out, HasSubstr("黑龙江\uFFFD")) << out;
    EXPECT_THAT(out, HasSubstr("(2025)黑0402民初3号\uFFFD")) << out;
    EXPECT_THAT(out, HasSubstr("\uFFFD法院\uFFFD")) << out;
    EXPECT_THAT(out, HasSubstr("全部\uFFFD未履行")) << out;
  }
}

TEST(PublicExportTest, NothingListedBefore1970OrFormatNames) {
  auto snap = LoadSample();
  ASSERT_NE(snap, nullptr);
  std::ostringstream out;
  absl::StatusOr<ExportCounts> c = WritePublicExport(*snap, 0, ExportFormat::kNdjson, out);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->subjects, 0u);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(ParseExportFormat("csv"), ExportFormat::kCsv);
  EXPECT_EQ(ParseExportFormat("ndjson"), ExportFormat::kNdjson);
  EXPECT_EQ(ParseExportFormat("json"), std::nullopt);
}

// x30 #4: the manifest's layout; unknowns are null, and a file name that is not UTF-8 is
// written (replaced), not a failure.
TEST(ManifestJsonTest, Layout) {
  ExportManifest m{.file = "public.ndjson",
                   .format = ExportFormat::kNdjson,
                   .as_of = 1780990200,
                   .list_version = 0x7beca307fd538fULL,
                   .base_source_time = 0,
                   .base_delta_sequence = 3,
                   .delta_sequence = 5,
                   .counts = {.subjects = 2, .cases = 3},
                   .bytes = 42,
                   .sha256 = std::string(64, 'a')};
  EXPECT_EQ(ManifestJson(m), absl::StrCat(R"({
  "manifest": 1,
  "file": "public.ndjson",
  "format": "ndjson",
  "as_of": "2026-06-09T15:30:00+08:00",
  "list": {
    "version": "007beca307fd538f",
    "base_source_time": null,
    "base_delta_sequence": 3,
    "delta_sequence": 5
  },
  "subjects": 2,
  "cases": 3,
  "rows": 2,
  "bytes": 42,
  "sha256": ")",
                                          std::string(64, 'a'), "\"\n}\n"));
  m.format = ExportFormat::kCsv;
  m.file.clear();
  EXPECT_THAT(ManifestJson(m), HasSubstr("\"file\": null,"));
  EXPECT_THAT(ManifestJson(m), HasSubstr("\"rows\": 3,"));
  m.file = "p\xff.csv";
  EXPECT_THAT(ManifestJson(m), HasSubstr("\"file\": \"p\xef\xbf\xbd.csv\","));
}

}  // namespace
}  // namespace shixin
