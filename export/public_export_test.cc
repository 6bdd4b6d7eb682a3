#include "export/public_export.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Returns every 18-character resident ID in `text` whose check character is right, and every
// run of 15 or more digits (an old 15-digit ID, or a longer number hiding one).
std::vector<std::string> FullPersonIds(const std::string& text) {
  std::vector<std::string> found;
  for (size_t i = 0; i + 18 <= text.size(); ++i) {
    bool digits = true;
    for (size_t k = i; k < i + 17 && digits; ++k) digits = IsDigit(text[k]);
    if (!digits) continue;
    const char check = text[i + 17] == 'x' ? 'X' : text[i + 17];
    if (ResidentCheckChar(std::string_view(text).substr(i, 17)) == check) {
      found.push_back(text.substr(i, 18));
    }
  }
  size_t run = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && IsDigit(text[i])) {
      ++run;
      continue;
    }
    if (run >= 15) found.push_back(text.substr(i - run, run));
    run = 0;
  }
  return found;
}

TEST(PublicExportTest, ScannerFindsFullIds) {
  EXPECT_THAT(FullPersonIds("x 11010519491231002X y"), testing::Contains("11010519491231002X"));
  EXPECT_EQ(FullPersonIds("a110105491231002b"), std::vector<std::string>({"110105491231002"}));
  EXPECT_TRUE(FullPersonIds("1101051949****002X 11010519491231 2018-07-13 230987613").empty());
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

}  // namespace
}  // namespace shixin
