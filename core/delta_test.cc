#include "core/delta.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/thread.h"
#include "core/id.h"
#include "core/test_util.h"
#include "core/validity.h"

namespace shixin {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kName[] = "00000000000000000042.ndjson";
constexpr char kPerson[] = "11010519491231002X";
// 2026-06-10T09:00:00+08:00, 2026-06-09T15:30:00+08:00, 2026-06-01T00:00:00+08:00.
constexpr int64_t kJune10At9 = 1781053200;
constexpr int64_t kJune9At1530 = 1780990200;
constexpr int64_t kJune1 = 1780243200;
constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();

std::string Message(const absl::Status& status) {
  return std::string(status.message().data(), status.message().size());
}

// Parses `text` as the file kName (on `threads` threads) and returns its error message ("" if
// it parsed).
std::string ErrorOf(std::string_view text, int threads = 1) {
  absl::StatusOr<Delta> delta = ParseDelta(kName, std::string(text), threads);
  if (delta.ok()) return "";
  EXPECT_TRUE(absl::IsInvalidArgument(delta.status())) << delta.status();
  return Message(delta.status());
}

// A parsed change with the texts its views point into.
struct OwnedChange : DeltaChange {
  std::shared_ptr<const DeltaTexts> texts;
};

// Parses `text`, which must hold exactly one change, and returns it.
OwnedChange OnlyChange(std::string_view text) {
  absl::StatusOr<Delta> delta = ParseDelta(kName, std::string(text));
  EXPECT_TRUE(delta.ok()) << delta.status();
  if (!delta.ok() || delta->changes.size() != 1) {
    ADD_FAILURE() << "expected one change";
    return OwnedChange();
  }
  OwnedChange change;
  static_cast<DeltaChange&>(change) = delta->changes[0];
  change.texts = delta->texts;
  return change;
}

std::string Org() { return std::string(testing::CreditCode(1).text()); }
std::string PersonB() { return std::string(testing::PersonId(7).text()); }

constexpr char kAdd[] =
    R"({"op":"add","caseCode":"（2026）黑0402执88号","iname":"李明","cardNum":"11010519491231002x",)"
    R"("partyTypeName":"0","courtName":"鹤岗市向阳区人民法院","areaName":"黑龙江",)"
    R"("gistId":"(2025)黑0402民初12号","gistUnit":"鹤岗市向阳区人民法院","regDate":"20260310",)"
    R"("publishDate":"2026-06-01","duty":"偿还借款5万元","performance":"全部未履行",)"
    R"("performedPart":"暂无","unperformPart":"暂无","disruptTypeName":"违反财产报告制度",)"
    R"("businessEntity":"","age":"46","sexy":"男","termEnd":"2028-05-31"})"
    "\n";

// A large file (3,000 lines, a BOM, CRLF blank lines, values with escapes), parsed on one
// thread and in pieces on three: every change keeps its line number and its texts, and of two
// bad lines the first one refuses the file, wherever the pieces are cut.
TEST(DeltaParseTest, LargeFileParsesInLineOrder) {
  constexpr int kLines = 3000;  // ~1.3 MB
  constexpr char kEscaped[] =
      R"({"op":"correct","caseCode":"c\u0031","iname":"\u5f20\u4e00","cardNum":"11010519491231002X",)"
      R"("courtName":"x","at":"2026-06-10T09:00:00+08:00"})"
      "\n";
  std::string text = "\xEF\xBB\xBF";
  for (int i = 0; i < kLines; ++i) {
    text += i % 7 == 3 ? kEscaped : kAdd;
    if (i % 500 == 0) text += "\r\n";  // blank lines count as lines
  }
  for (const int threads : {1, 3}) {
    SCOPED_TRACE(threads);
    absl::StatusOr<Delta> delta = ParseDelta(kName, std::string(text), threads);
    ASSERT_TRUE(delta.ok()) << delta.status();
    ASSERT_EQ(delta->changes.size(), static_cast<size_t>(kLines));
    uint64_t line = 0;
    for (int i = 0; i < kLines; ++i) {
      line += 1 + (i > 0 && (i - 1) % 500 == 0 ? 1 : 0);
      const DeltaChange& c = delta->changes[i];
      ASSERT_EQ(c.line, line) << i;
      ASSERT_EQ(c.name, i % 7 == 3 ? "张一" : "李明") << i;
      ASSERT_EQ(c.record.case_code, i % 7 == 3 ? "c1" : "（2026）黑0402执88号") << i;
    }
    // Two bad lines, one near the end and one near the start: the first one refuses the file.
    std::string bad = text;
    constexpr std::string_view kOp = "\"op\":\"add\"";
    const size_t late = bad.rfind(kOp);
    bad.replace(late, kOp.size(), "\"op\":\"adx\"");
    const auto late_line = 1 + std::count(bad.data(), bad.data() + late, '\n');
    EXPECT_THAT(ErrorOf(bad, threads), HasSubstr(absl::StrCat(kName, ":", late_line, ": ")));
    const size_t early = bad.find(kOp, 1000);
    bad.replace(early, kOp.size(), "\"op\":\"adx\"");
    const auto early_line = 1 + std::count(bad.data(), bad.data() + early, '\n');
    EXPECT_GT(early_line, 2);
    EXPECT_THAT(ErrorOf(bad, threads), HasSubstr(absl::StrCat(kName, ":", early_line, ": ")));
    // The last line cut short.
    EXPECT_THAT(ErrorOf(text.substr(0, text.size() - 1), threads),
                HasSubstr(absl::StrCat(kName, ":", line, ": cut short")));
  }
  // No helper the system can create (the task limit): the caller parses every piece.
  ScopedThreadStartFailure no_tasks("");
  absl::StatusOr<Delta> alone = ParseDelta(kName, std::string(text), 3);
  ASSERT_TRUE(alone.ok()) << alone.status();
  EXPECT_EQ(alone->changes.size(), static_cast<size_t>(kLines));
}

TEST(DeltaParseTest, AddParsesEveryField) {
  absl::StatusOr<Delta> delta = ParseDelta(kName, kAdd);
  ASSERT_TRUE(delta.ok()) << delta.status();
  EXPECT_EQ(delta->sequence, 42u);
  EXPECT_EQ(delta->name, kName);
  ASSERT_EQ(delta->changes.size(), 1u);
  const DeltaChange& c = delta->changes[0];
  EXPECT_EQ(c.op, DeltaOp::kAdd);
  EXPECT_EQ(c.line, 1u);
  EXPECT_EQ(c.id.text(), kPerson);  // normalised: upper-case X
  EXPECT_EQ(c.name, "李明");
  EXPECT_EQ(c.at, 0);
  EXPECT_EQ(c.reason, EndReason::kNone);
  EXPECT_TRUE(c.org.empty());
  const CaseInfo expected{.case_code = "（2026）黑0402执88号",
                          .court = "鹤岗市向阳区人民法院",
                          .area = "黑龙江",
                          .reg_date = 20260310,
                          .publish_date = 20260601,
                          .gist_id = "(2025)黑0402民初12号",
                          .gist_unit = "鹤岗市向阳区人民法院",
                          .duty = "偿还借款5万元",
                          .performance = "全部未履行",
                          .performed_part = "暂无",
                          .unperform_part = "暂无",
                          .disrupt_type = "违反财产报告制度",
                          .business_entity = "",
                          .age = 46,
                          .sex = Sex::kMale,
                          .term_end = 20280531,
                          .start = kJune1};
  EXPECT_EQ(ConvertCase<CaseInfo>(c.record), expected);
}

TEST(DeltaParseTest, AddStartsAtAtOnlyWhenLaterThanItsPublishDate) {
  const std::string base = absl::StrFormat(
      R"({"op":"add","caseCode":"c1","iname":"张三","cardNum":"%s","courtName":"某法院",)"
      R"("publishDate":"2026-06-01")",
      kPerson);
  OwnedChange later = OnlyChange(base + R"(,"at":"2026-06-10T09:00:00+08:00"})" + "\n");
  EXPECT_EQ(later.at, kJune10At9);
  EXPECT_EQ(later.record.start, kJune10At9);
  OwnedChange earlier = OnlyChange(base + R"(,"at":"2026-05-31T15:00:00Z"})" + "\n");
  EXPECT_EQ(earlier.at, kJune1 - 3600);
  EXPECT_EQ(earlier.record.start, kJune1);
}

TEST(DeltaParseTest, RemoveParsesEveryField) {
  OwnedChange c = OnlyChange(
      R"({"op":"remove","caseCode":"（2018）黑0402执恢45号","cardNum":"11010519491231002x",)"
      R"("reason":"performed","at":"2026-06-09T15:30:00+08:00"})"
      "\n");
  EXPECT_EQ(c.op, DeltaOp::kRemove);
  EXPECT_EQ(c.id.text(), kPerson);
  EXPECT_EQ(c.record.case_code, "（2018）黑0402执恢45号");
  EXPECT_EQ(c.reason, EndReason::kPerformed);
  EXPECT_EQ(c.at, kJune9At1530);
  EXPECT_EQ(c.record.start, 0);
  EXPECT_TRUE(c.name.empty());
}

// A case number is kept without the spaces around it, as the base list keeps it; one of
// spaces only is missing.
TEST(DeltaParseTest, CaseCodesAreTrimmed) {
  for (const std::string_view op : {"remove", "revoke"}) {
    OwnedChange c = OnlyChange(
        absl::StrFormat(R"({"op":"%s","caseCode":" （2020）黑0403执567号\t","cardNum":"%s",%s)"
                        R"("at":"2026-06-10T09:00:00+08:00"})"
                        "\n",
                        op, PersonB(), op == "remove" ? R"("reason":"performed",)" : ""));
    EXPECT_EQ(c.record.case_code, "（2020）黑0403执567号") << op;
  }
  EXPECT_THAT(ErrorOf(absl::StrFormat(R"({"op":"revoke","caseCode":" \t","cardNum":"%s",)"
                                      R"("at":"2026-06-10T09:00:00+08:00"})"
                                      "\n",
                                      PersonB())),
              HasSubstr("revoke: caseCode: missing or empty"));
}

TEST(DeltaParseTest, RemoveTakesEveryReasonOfTheFeed) {
  constexpr std::pair<std::string_view, EndReason> kReasons[] = {
      {"performed", EndReason::kPerformed},
      {"settled", EndReason::kSettled},
      {"creditor_request", EndReason::kCreditorRequest},
      {"no_assets", EndReason::kNoAssets},
      {"suspended", EndReason::kSuspended},
      {"not_enforced", EndReason::kNotEnforced},
      {"terminated", EndReason::kTerminated},
      {"term_ended", EndReason::kTermEnded},
      {"other", EndReason::kOther}};
  for (const auto& [name, reason] : kReasons) {
    OwnedChange c = OnlyChange(absl::StrFormat(
        R"({"op":"remove","caseCode":"c","cardNum":"%s","reason":"%s","at":"2026-06-09T07:30:00Z"})"
        "\n",
        kPerson, name));
    EXPECT_EQ(c.reason, reason) << name;
    EXPECT_EQ(c.at, kJune9At1530) << name;
  }
}

TEST(DeltaParseTest, RevokeParsesEveryField) {
  OwnedChange c = OnlyChange(
      absl::StrFormat(R"({"op":"revoke","caseCode":"（2020）黑0403执567号","cardNum":"%s",)"
                      R"("at":"2026-06-10T09:00:00+08:00"})"
                      "\n",
                      PersonB()));
  EXPECT_EQ(c.op, DeltaOp::kRevoke);
  EXPECT_EQ(c.id.text(), PersonB());
  EXPECT_EQ(c.record.case_code, "（2020）黑0403执567号");
  EXPECT_EQ(c.reason, EndReason::kNone);
  EXPECT_EQ(c.at, kJune10At9);
}

TEST(DeltaParseTest, CorrectParsesEveryFieldAndStartsAtAt) {
  OwnedChange c = OnlyChange(
      R"({"op":"correct","caseCode":"（2015）鹤向法执字第00232号","iname":"张秀兰",)"
      R"("cardNum":"11010519491231002X","courtName":"鹤岗市向阳区人民法院",)"
      R"("publishDate":"2015-09-08","duty":"偿还借款本金8万元及利息","performance":"部分未履行",)"
      R"("at":"2026-06-10T09:00:00+08:00"})"
      "\n");
  EXPECT_EQ(c.op, DeltaOp::kCorrect);
  EXPECT_EQ(c.id.text(), kPerson);
  EXPECT_EQ(c.name, "张秀兰");
  EXPECT_EQ(c.at, kJune10At9);
  // The keys the line leaves out are empty.
  CaseInfo expected;
  expected.case_code = "（2015）鹤向法执字第00232号";
  expected.court = "鹤岗市向阳区人民法院";
  expected.publish_date = 20150908;
  expected.duty = "偿还借款本金8万元及利息";
  expected.performance = "部分未履行";
  expected.start = kJune10At9;  // later than the publishDate
  EXPECT_EQ(ConvertCase<CaseInfo>(c.record), expected);
}

TEST(DeltaParseTest, RelateParsesEveryField) {
  OwnedChange c = OnlyChange(
      absl::StrFormat(R"({"op":"relate","orgId":"%s","personId":"%s","personName":"李明",)"
                      R"("role":"legal_representative","at":"2026-06-10T09:00:00+08:00"})"
                      "\n",
                      Org(), PersonB()));
  EXPECT_EQ(c.op, DeltaOp::kRelate);
  EXPECT_EQ(c.org.text(), Org());
  EXPECT_EQ(c.id.text(), PersonB());
  EXPECT_EQ(c.name, "李明");
  EXPECT_EQ(c.role, Role::kLegalRepresentative);
  EXPECT_EQ(c.at, kJune10At9);
}

TEST(DeltaParseTest, UnrelateParsesEveryFieldWithoutAName) {
  OwnedChange c = OnlyChange(
      absl::StrFormat(R"({"op":"unrelate","orgId":"%s","personId":"%s","role":"director",)"
                      R"("at":"2026-06-10T09:00:00+08:00"})"
                      "\n",
                      Org(), PersonB()));
  EXPECT_EQ(c.op, DeltaOp::kUnrelate);
  EXPECT_EQ(c.org.text(), Org());
  EXPECT_EQ(c.id.text(), PersonB());
  EXPECT_TRUE(c.name.empty());
  EXPECT_EQ(c.role, Role::kDirector);
  EXPECT_EQ(c.at, kJune10At9);
}

// Escaped values in the delta's keys and in the record or relation of the same line: each is
// unescaped into its own place, none overwrites another (`at` is read after the record).
TEST(DeltaParseTest, EscapesInTheKeysAndTheRecordOfOneLine) {
  OwnedChange c = OnlyChange(
      R"({"op":"correct","caseCode":"（2015）鹤向法执字第00232号","iname":"\u5f20\u79c0\u5170",)"
      R"("cardNum":"11010519491231002X","courtName":"\u9e64\u5c97\u5e02\u5411\u9633\u533a",)"
      R"("publishDate":"2015-09-08","at":"2026-06-10T09:00:00\u002B08:00"})"
      "\n");
  EXPECT_EQ(c.name, "张秀兰");
  EXPECT_EQ(c.record.court, "鹤岗市向阳区");
  EXPECT_EQ(c.at, kJune10At9);
  EXPECT_EQ(c.record.start, kJune10At9);

  c = OnlyChange(
      absl::StrFormat(R"({"op":"relate","orgId":"%s","personId":"%s","personName":"\u674e\u660e",)"
                      R"("role":"legal_representative","at":"2026-06-10T09:00:00\u002B08:00"})"
                      "\n",
                      Org(), PersonB()));
  EXPECT_EQ(c.name, "李明");
  EXPECT_EQ(c.at, kJune10At9);
}

// Returns `line` (one JSON object, `{"op":"...",` first) with its op moved to the end.
std::string OpLast(std::string_view line) {
  const size_t comma = line.find(',');
  const std::string_view op = line.substr(1, comma - 1);
  std::string_view rest = line.substr(comma + 1);
  rest.remove_suffix(2);  // "}\n"
  return "{" + std::string(rest) + "," + std::string(op) + "}\n";
}

// Returns kAdd with `keys` (",key":value...) appended to its object.
std::string AddWith(std::string_view keys) {
  return std::string(kAdd, sizeof(kAdd) - 3) + std::string(keys) + "}\n";
}

// Adds and corrects whose op leads the line are read in one pass over the JSON, others by the
// general path: both give the same change, or the same refusal.
TEST(DeltaParseTest, ALeadingOpReadsAsTheGeneralPathDoes) {
  const std::string lines[] = {
      kAdd,
      R"({"op":"correct","caseCode":"（2015）鹤向法执字第00232号","iname":"\u5f20\u79c0\u5170",)"
      R"("cardNum":"11010519491231002X","courtName":"\u9e64\u5c97\u5e02\u5411\u9633\u533a",)"
      R"("publishDate":"2015-09-08","at":"2026-06-10T09:00:00\u002B08:00"})"
      "\n",
      AddWith(R"(,"at":"2026-06-10T09:00:00+08:00")"),
  };
  for (const std::string& line : lines) {
    SCOPED_TRACE(line);
    const OwnedChange fast = OnlyChange(line);
    const OwnedChange general = OnlyChange(OpLast(line));
    EXPECT_EQ(fast.op, general.op);
    EXPECT_EQ(fast.id, general.id);
    EXPECT_EQ(fast.name, general.name);
    EXPECT_EQ(fast.record, general.record);
    EXPECT_EQ(fast.at, general.at);
    EXPECT_EQ(fast.reason, general.reason);
    EXPECT_EQ(fast.org, general.org);
  }
  EXPECT_EQ(OnlyChange(lines[2]).at, kJune10At9);
  // Refusals: the leading path leaves them to the general one, which names them.
  const std::string bad[] = {
      AddWith(R"(,"at":"yesterday")"),
      AddWith(R"(,"at":5)"),
      AddWith(R"(,"age":"old")"),
      AddWith(R"(,"at":"2026-06-10T09:00:00+08:00","reason":7,"orgId":null)"),
      std::string(kAdd).replace(std::string_view(kAdd).find("1101"), 4, "1102"),
  };
  for (const std::string& line : bad) {
    const std::string error = ErrorOf(line);
    EXPECT_THAT(error, HasSubstr(absl::StrCat(kName, ":1: "))) << line;
    EXPECT_EQ(error, ErrorOf(OpLast(line))) << line;
  }
  // A key given twice refuses the line, whichever path reads it.
  EXPECT_EQ(ErrorOf(AddWith(R"(,"op":"remove")")),
            absl::StrCat(kName, ":1: names key \"op\" twice"));
}

TEST(DeltaParseTest, AKeyGivenTwiceRefusesTheLine) {
  const std::string remove = absl::StrFormat(
      R"({"op":"remove","op":"add","caseCode":"k","cardNum":"%s","reason":"performed",)"
      R"("at":"2026-06-10T09:00:00Z"})"
      "\n",
      kPerson);
  EXPECT_EQ(ErrorOf(remove), absl::StrCat(kName, ":1: names key \"op\" twice"));
  // Escaped, a record's key, a key no op uses: each is still the same key.
  std::string escaped = remove;
  escaped.replace(escaped.find(R"("op":"add")"), 4, R"("o\u0070")");
  EXPECT_EQ(ErrorOf(escaped), absl::StrCat(kName, ":1: names key \"op\" twice"));
  std::string name = kAdd;
  name.insert(name.find("\"termEnd\""), R"("iname":"李四",)");
  EXPECT_EQ(ErrorOf(name), absl::StrCat(kName, ":1: names key \"iname\" twice"));
  std::string extra = remove;
  extra.replace(extra.find(R"("op":"add",)"), 11, R"("at":1,"at":2,)");
  EXPECT_EQ(ErrorOf(extra), absl::StrCat(kName, ":1: names key \"at\" twice"));
}

// A key the line's op does not use refuses the line: a misspelt `termEnd` would otherwise turn a
// fixed term into none without a word (the JSON API refuses an unknown field too).
TEST(DeltaParseTest, AKeyTheOpDoesNotUseRefusesTheLine) {
  std::string add = kAdd;
  add.replace(add.find("\"termEnd\""), 9, "\"term_end\"");
  EXPECT_EQ(ErrorOf(add),
            absl::StrCat(kName, ":1: add: unknown key \"term_end\" (not one of an add's keys)"));
  // Also when the op does not lead the line (the general path), and for a correct.
  std::string late_op = kAdd;
  late_op.erase(late_op.find(R"("op":"add",)"), 11);
  late_op.insert(late_op.find("\"termEnd\""), R"("op":"correct","at":"2026-06-10T09:00:00Z",)");
  late_op.insert(1, R"("x":1,)");
  EXPECT_EQ(ErrorOf(late_op),
            absl::StrCat(kName, ":1: correct: unknown key \"x\" (not one of a correct's keys)"));
  const std::string remove =
      absl::StrFormat(R"({"op":"remove","caseCode":"k","cardNum":"%s","reason":"performed",)"
                      R"("at":"2026-06-10T09:00:00Z","extra":1,"note":{"a":1}})"
                      "\n",
                      kPerson);
  EXPECT_EQ(ErrorOf(remove), absl::StrCat(kName,
                                          ":1: remove: unknown keys \"extra\", \"note\" (not "
                                          "one of a remove's keys)"));
  // A key of another op is not the line's either.
  EXPECT_EQ(
      ErrorOf(absl::StrFormat(
          R"({"op":"revoke","caseCode":"k","cardNum":"%s","reason":5,"at":"2026-06-10T01:00:00Z"})"
          "\n",
          kPerson)),
      absl::StrCat(kName, ":1: revoke: unknown key \"reason\" (not one of a revoke's keys)"));
  EXPECT_EQ(ErrorOf(absl::StrFormat(R"({"op":"unrelate","orgId":"%s","personId":"%s",)"
                                    R"("role":"director","caseCode":[1],)"
                                    R"("at":"2026-06-10T09:00:00+08:00"})"
                                    "\n",
                                    Org(), PersonB())),
            absl::StrCat(kName,
                         ":1: unrelate: unknown key \"caseCode\" (not one of an unrelate's keys)"));
  EXPECT_EQ(
      ErrorOf(absl::StrFormat(R"({"op":"relate","orgId":"%s","personId":"%s",)"
                              R"("personName":"李四","role":"director","termEnd":"",)"
                              R"("at":"2026-06-10T09:00:00+08:00"})"
                              "\n",
                              Org(), PersonB())),
      absl::StrCat(kName, ":1: relate: unknown key \"termEnd\" (not one of a relate's keys)"));
  // The same on several threads.
  std::string many;
  for (int i = 0; i < 2000; ++i) many += kAdd;
  many += add;
  EXPECT_EQ(ErrorOf(many, 4),
            absl::StrCat(kName, ":2001: add: unknown key \"term_end\" (not one of an add's keys)"));
}

// A change's texts are views into its delta: of the file's text, or of the values that had
// escapes, each kept apart (the parser's scratch is reused line after line); a copy of the
// delta keeps them alive after the original is gone.
TEST(DeltaParseTest, ChangesKeepTheirTextsWithTheirDelta) {
  std::string text;
  const char* names[] = {"\\u5f20\\u4e00", "\\u674e\\u4e8c", "王三"};
  for (const char* name : names) {
    text += absl::StrFormat(
        R"({"op":"correct","caseCode":"c\u0031","iname":"%s","cardNum":"11010519491231002X",)"
        R"("courtName":"x","at":"2026-06-10T09:00:00+08:00"})"
        "\n",
        name);
  }
  std::optional<Delta> copy;
  {
    absl::StatusOr<Delta> delta = ParseDelta(kName, text);
    ASSERT_TRUE(delta.ok()) << delta.status();
    copy = *delta;
  }
  text.assign(text.size(), '#');  // the caller's text is not what the changes point into
  ASSERT_EQ(copy->changes.size(), 3u);
  EXPECT_EQ(copy->changes[0].name, "张一");
  EXPECT_EQ(copy->changes[1].name, "李二");
  EXPECT_EQ(copy->changes[2].name, "王三");
  for (const DeltaChange& c : copy->changes) EXPECT_EQ(c.record.case_code, "c1");
  EXPECT_EQ(copy->changes[2].record.court, "x");
}

TEST(DeltaParseTest, OpNames) {
  for (DeltaOp op : {DeltaOp::kAdd, DeltaOp::kRemove, DeltaOp::kRevoke, DeltaOp::kCorrect,
                     DeltaOp::kRelate, DeltaOp::kUnrelate}) {
    EXPECT_FALSE(DeltaOpName(op).empty());
  }
  EXPECT_EQ(DeltaOpName(DeltaOp::kUnrelate), "unrelate");
  EXPECT_EQ(DeltaOpName(DeltaOp::kCorrect), "correct");
}

TEST(DeltaParseTest, LinesKeepTheirOrderAndNumbers) {
  const std::string remove = absl::StrFormat(
      R"({"op":"remove","caseCode":"（2026）黑0402执88号","cardNum":"%s","reason":"other",)"
      R"("at":"2026-06-10T09:00:00+08:00"})"
      "\n",
      kPerson);
  absl::StatusOr<Delta> delta = ParseDelta(kName, std::string(kAdd) + "\n" + remove);
  ASSERT_TRUE(delta.ok()) << delta.status();
  ASSERT_EQ(delta->changes.size(), 2u);
  EXPECT_EQ(delta->changes[0].line, 1u);
  EXPECT_EQ(delta->changes[1].line, 3u);
  EXPECT_EQ(delta->changes[1].op, DeltaOp::kRemove);
}

TEST(DeltaParseTest, BlankLinesCrLfAndABomAreAccepted) {
  const std::string text =
      absl::StrCat("\xEF\xBB\xBF\n   \n\t\r\n", std::string(kAdd, sizeof(kAdd) - 2), "\r\n\n");
  absl::StatusOr<Delta> delta = ParseDelta(kName, std::string(text));
  ASSERT_TRUE(delta.ok()) << delta.status();
  ASSERT_EQ(delta->changes.size(), 1u);
  EXPECT_EQ(delta->changes[0].line, 4u);
  EXPECT_EQ(delta->changes[0].record.term_end, 20280531u);
}

TEST(DeltaParseTest, EmptyFileHasNoChanges) {
  absl::StatusOr<Delta> delta = ParseDelta(kName, "");
  ASSERT_TRUE(delta.ok()) << delta.status();
  EXPECT_THAT(delta->changes, IsEmpty());
  EXPECT_EQ(ErrorOf("\n\n"), "");
}

TEST(DeltaParseTest, UnknownOrMissingOp) {
  EXPECT_EQ(ErrorOf("\n\n{\"op\":\"delete\",\"caseCode\":\"c\"}\n"),
            "00000000000000000042.ndjson:3: op: unknown \"delete\"");
  EXPECT_EQ(ErrorOf("{\"caseCode\":\"c\"}\n"), "00000000000000000042.ndjson:1: op: missing");
  EXPECT_EQ(ErrorOf("{\"op\":null}\n"), "00000000000000000042.ndjson:1: op: missing");
  EXPECT_EQ(ErrorOf("{\"op\":1}\n"),
            "00000000000000000042.ndjson:1: op: expected a string, found a number");
  EXPECT_EQ(ErrorOf("{\"op\":\"ADD\"}\n"), "00000000000000000042.ndjson:1: op: unknown \"ADD\"");
}

TEST(DeltaParseTest, MalformedJson) {
  EXPECT_THAT(ErrorOf("{\"op\":\"add\",}\n"), HasSubstr(":1: malformed JSON"));
  EXPECT_THAT(ErrorOf("[1]\n"), HasSubstr(":1: not a JSON object"));
  EXPECT_THAT(ErrorOf("{\"op\":\"remove\"} x\n"), HasSubstr(":1: malformed JSON"));
}

TEST(DeltaParseTest, MissingKeysPerOp) {
  const std::string at = R"("at":"2026-06-10T09:00:00+08:00")";
  const std::string card = absl::StrCat(R"("cardNum":")", kPerson, R"(")");
  const std::string ids = absl::StrFormat(R"("orgId":"%s","personId":"%s")", Org(), PersonB());
  const std::pair<std::string, std::string> cases[] = {
      {absl::StrCat(R"({"op":"add","iname":"a",)", card, R"(,"courtName":"c"})"),
       "add: caseCode: missing or empty"},
      {absl::StrCat(R"({"op":"add","caseCode":"k","iname":"a","courtName":"c"})"),
       "add: cardNum: missing"},
      {absl::StrCat(R"({"op":"add","caseCode":"k",)", card, R"(,"courtName":"c"})"),
       "add: iname: missing or empty"},
      {absl::StrCat(R"({"op":"correct","caseCode":"k","iname":"a",)", card, R"(,"courtName":"c"})"),
       "correct: at: missing"},
      {absl::StrCat(R"({"op":"correct","caseCode":"k","iname":"a",)", card, ",", at, "}"),
       "correct: courtName: missing"},
      {absl::StrCat(R"({"op":"remove",)", card, R"(,"reason":"other",)", at, "}"),
       "remove: caseCode: missing or empty"},
      {absl::StrCat(R"({"op":"remove","caseCode":"k","reason":"other",)", at, "}"),
       "remove: cardNum: missing"},
      {absl::StrCat(R"({"op":"remove","caseCode":"k",)", card, ",", at, "}"),
       "remove: reason: missing"},
      {absl::StrCat(R"({"op":"remove","caseCode":"k",)", card, R"(,"reason":"other"})"),
       "remove: at: missing"},
      {absl::StrCat(R"({"op":"revoke",)", card, ",", at, "}"),
       "revoke: caseCode: missing or empty"},
      {absl::StrCat(R"({"op":"revoke","caseCode":"k",)", at, "}"), "revoke: cardNum: missing"},
      {absl::StrCat(R"({"op":"revoke","caseCode":"k",)", card, "}"), "revoke: at: missing"},
      {absl::StrFormat(R"({"op":"relate","personId":"%s","personName":"n","role":"director",%s})",
                       PersonB(), at),
       "relate: orgId: missing"},
      {absl::StrFormat(R"({"op":"relate","orgId":"%s","personName":"n","role":"director",%s})",
                       Org(), at),
       "relate: personId: missing"},
      {absl::StrCat(R"({"op":"relate",)", ids, R"(,"role":"director",)", at, "}"),
       "relate: personName: missing or empty"},
      {absl::StrCat(R"({"op":"relate",)", ids, R"(,"personName":"n",)", at, "}"),
       "relate: role: missing"},
      {absl::StrCat(R"({"op":"relate",)", ids, R"(,"personName":"n","role":"director"})"),
       "relate: at: missing"},
      {absl::StrFormat(R"({"op":"unrelate","personId":"%s","role":"director",%s})", PersonB(), at),
       "unrelate: orgId: missing"},
      {absl::StrFormat(R"({"op":"unrelate","orgId":"%s","role":"director",%s})", Org(), at),
       "unrelate: personId: missing"},
      {absl::StrCat(R"({"op":"unrelate",)", ids, ",", at, "}"), "unrelate: role: missing"},
      {absl::StrCat(R"({"op":"unrelate",)", ids, R"(,"role":"director"})"),
       "unrelate: at: missing"},
  };
  for (const auto& [line, reason] : cases) {
    EXPECT_EQ(ErrorOf(line + "\n"), absl::StrCat(kName, ":1: ", reason)) << line;
  }
}

TEST(DeltaParseTest, KeysOfTheWrongType) {
  EXPECT_EQ(ErrorOf(absl::StrFormat(R"({"op":"revoke","caseCode":"k","cardNum":"%s","at":5})"
                                    "\n",
                                    kPerson)),
            absl::StrCat(kName, ":1: revoke: at: expected a string, found a number"));
  EXPECT_EQ(ErrorOf(absl::StrFormat(R"({"op":"remove","caseCode":"k","cardNum":"%s",)"
                                    R"("reason":["other"],"at":"2026-06-10T09:00:00Z"})"
                                    "\n",
                                    kPerson)),
            absl::StrCat(kName, ":1: remove: reason: expected a string, found an array"));
  // (A key the op does not use refuses the line: AKeyTheOpDoesNotUseRefusesTheLine.)
  EXPECT_EQ(ErrorOf(R"({"op":5,"at":"2026-06-10T09:00:00Z"})"
                    "\n"),
            absl::StrCat(kName, ":1: op: expected a string, found a number"));
}

TEST(DeltaParseTest, RemoveOfAnUnknownReason) {
  EXPECT_EQ(ErrorOf(absl::StrFormat(R"({"op":"remove","caseCode":"k","cardNum":"%s",)"
                                    R"("reason":"paid","at":"2026-06-10T09:00:00Z"})"
                                    "\n",
                                    kPerson)),
            "00000000000000000042.ndjson:1: remove: reason: unknown \"paid\"");
  // The ends that have ops of their own are not removal reasons.
  EXPECT_THAT(ErrorOf(absl::StrFormat(R"({"op":"remove","caseCode":"k","cardNum":"%s",)"
                                      R"("reason":"revoked","at":"2026-06-10T09:00:00Z"})"
                                      "\n",
                                      kPerson)),
              HasSubstr("remove: reason: unknown \"revoked\""));
}

// A refusal quoting the line's text escapes its control characters (another system's text,
// printed on a terminal and in the log).
TEST(DeltaParseTest, ARefusalEscapesTheControlCharactersItQuotes) {
  EXPECT_EQ(ErrorOf(absl::StrFormat(R"({"op":"remove","caseCode":"k","cardNum":"%s",)"
                                    R"("reason":"pa\nid\u001b[2J\"","at":"2026-06-10T09:00:00Z"})"
                                    "\n",
                                    kPerson)),
            absl::StrCat(kName, ":1: remove: reason: unknown \"pa\\nid\\x1b[2J\\\"\""));
  EXPECT_EQ(ErrorOf(R"({"op":"add\u0000"})"
                    "\n"),
            absl::StrCat(kName, ":1: op: unknown \"add\\x00\""));
}

TEST(DeltaParseTest, BadIdCheckCharacter) {
  const std::string bad_person = "110105194912310021";  // the check character is X
  EXPECT_EQ(ErrorOf(absl::StrFormat(R"({"op":"revoke","caseCode":"k","cardNum":"%s",)"
                                    R"("at":"2026-06-10T09:00:00Z"})"
                                    "\n",
                                    bad_person)),
            absl::StrCat(kName, ":1: revoke: cardNum: bad check character: expected X, found 1"));
  std::string add = kAdd;
  add.replace(add.find("11010519491231002x"), 18, bad_person);
  EXPECT_EQ(ErrorOf(add), absl::StrCat(kName,
                                       ":1: add: cardNum: bad check character: expected X, "
                                       "found 1"));
  std::string bad_org = Org();
  bad_org.back() = bad_org.back() == '0' ? '1' : '0';
  EXPECT_THAT(ErrorOf(absl::StrFormat(R"({"op":"unrelate","orgId":"%s","personId":"%s",)"
                                      R"("role":"director","at":"2026-06-10T09:00:00Z"})"
                                      "\n",
                                      bad_org, PersonB())),
              HasSubstr(":1: unrelate: orgId: bad check character"));
}

TEST(DeltaParseTest, DatesAndTimesInTheWrongForm) {
  std::string add = kAdd;
  add.replace(add.find("2028-05-31"), 10, "2028/06/30x");
  EXPECT_EQ(ErrorOf(add), absl::StrCat(kName, ":1: add: termEnd: not a date: \"2028/06/30x\""));
  EXPECT_EQ(ErrorOf(absl::StrFormat(R"({"op":"revoke","caseCode":"k","cardNum":"%s",)"
                                    R"("at":"2026-06-03 10:00"})"
                                    "\n",
                                    kPerson)),
            absl::StrCat(kName,
                         ":1: revoke: at: not an RFC 3339 time with a zone (e.g. "
                         "2026-06-03T10:00:00+08:00): \"2026-06-03 10:00\""));
  // A time without its zone is refused too.
  EXPECT_THAT(ErrorOf(absl::StrFormat(R"({"op":"revoke","caseCode":"k","cardNum":"%s",)"
                                      R"("at":"2026-06-03T10:00:00"})"
                                      "\n",
                                      kPerson)),
              HasSubstr("revoke: at: not an RFC 3339 time"));
  std::string with_at = kAdd;
  with_at.insert(with_at.find("\"termEnd\""), R"("at":"",)");
  EXPECT_THAT(ErrorOf(with_at), HasSubstr(":1: add: at: not an RFC 3339 time"));
}

TEST(DeltaParseTest, TimesOutsideTheListsRangeAreRefused) {
  // Instant 0 is a case record's "not ended", 2^32 - 1 seconds the snapshot's "no end".
  const auto revoke = [](std::string_view at) {
    return absl::StrFormat(R"({"op":"revoke","caseCode":"k","cardNum":"%s","at":"%s"})"
                           "\n",
                           kPerson, at);
  };
  const std::string reason =
      ":1: revoke: at: outside the list's range (after 1970-01-01T00:00:00Z, before "
      "2106-02-07T06:28:15Z): ";
  for (std::string_view at :
       {"1970-01-01T00:00:00Z", "1970-01-01T08:00:00+08:00", "1969-12-31T23:59:59Z",
        "2106-02-07T06:28:15Z", "9999-12-31T23:59:59Z"}) {
    EXPECT_EQ(ErrorOf(revoke(at)), absl::StrCat(kName, reason, "\"", std::string(at), "\"")) << at;
  }
  EXPECT_EQ(OnlyChange(revoke("1970-01-01T00:00:01Z")).at, 1);
  EXPECT_EQ(OnlyChange(revoke("2106-02-07T06:28:14Z")).at, 4294967294);
  std::string add = kAdd;
  add.insert(add.find("\"termEnd\""), R"("at":"1970-01-01T08:00:00+08:00",)");
  EXPECT_THAT(ErrorOf(add), HasSubstr(":1: add: at: outside the list's range"));
  // Dates stop at 2100, well inside: a term ending on its last day ends before 2106.
  std::string last_day = kAdd;
  last_day.replace(last_day.find("2028-05-31"), 10, "2100-12-31");
  EXPECT_EQ(ErrorOf(last_day), "");
  last_day.replace(last_day.find("2100-12-31"), 10, "2101-01-01");
  EXPECT_EQ(ErrorOf(last_day), absl::StrCat(kName,
                                            ":1: add: termEnd: outside the list's range (the "
                                            "years 1900 to 2100): \"2101-01-01\""));
  // A real date outside the years says so, as `at` does; a day not in the calendar does not.
  std::string publish = kAdd;
  publish.replace(publish.find("2026-06-01"), 10, "1899-12-31");
  EXPECT_EQ(ErrorOf(publish), absl::StrCat(kName,
                                           ":1: add: publishDate: outside the list's range (the "
                                           "years 1900 to 2100): \"1899-12-31\""));
  std::string reg = kAdd;
  reg.replace(reg.find("20260310"), 8, "21010101");
  EXPECT_THAT(ErrorOf(reg), HasSubstr(":1: add: regDate: outside the list's range"));
  reg.replace(reg.find("21010101"), 8, "21010230");
  EXPECT_THAT(ErrorOf(reg), HasSubstr(":1: add: regDate: not a date: \"21010230\""));
}

TEST(DeltaParseTest, TermEndBeforePublishDate) {
  std::string add = kAdd;
  add.replace(add.find("2028-05-31"), 10, "2026-05-31");
  EXPECT_EQ(ErrorOf(add), absl::StrCat(kName,
                                       ":1: add: termEnd: 2026-05-31 is before publishDate "
                                       "2026-06-01"));
}

// SPC rules Art. 4: an add or a correct of a minor's case refuses the whole file.
TEST(DeltaParseTest, AMinorOnThePublishDateRefusesTheFile) {
  const std::string minor =
      std::string("11010520100301001") + ResidentCheckChar("11010520100301001");
  std::string add = kAdd;
  add.replace(add.find("11010519491231002x"), 18, minor);
  const std::string reason =
      ": cardNum: born 2010-03-01, under 18 on publishDate 2026-06-01 (of age on 2028-03-01): SPC "
      "rules Art. 4: minors are not listed";
  EXPECT_EQ(ErrorOf(std::string(kAdd) + add), absl::StrCat(kName, ":2: add", reason));
  std::string correct = add;
  correct.replace(correct.find("\"add\""), 5, "\"correct\"");
  correct.insert(correct.size() - 2, R"(,"at":"2026-06-10T09:00:00+08:00")");
  EXPECT_EQ(ErrorOf(correct), absl::StrCat(kName, ":1: correct", reason));
  // Of age on the publishDate: accepted.
  std::string adult = add;
  adult.replace(adult.find("2026-06-01"), 10, "2028-03-01");
  adult.replace(adult.find("2028-05-31"), 10, "2030-05-31");
  EXPECT_TRUE(ParseDelta(kName, adult).ok());
}

// A byte-order mark starts only the file: one that starts a later line is named.
TEST(DeltaParseTest, AByteOrderMarkStartingALineIsNamed) {
  EXPECT_EQ(ErrorOf(std::string("\xEF\xBB\xBF") + kAdd), "");
  EXPECT_EQ(ErrorOf(std::string(kAdd) + "\xEF\xBB\xBF" + kAdd),
            absl::StrCat(kName, ":2: byte-order mark U+FEFF at the start of the line"));
}

// Without a publishDate the case counts from its `at` (an add without one: since ever, so from
// today on at least): the person must be of age on that day (SPC rules Art. 4).
TEST(DeltaParseTest, AMinorWithoutPublishDateRefusesTheFile) {
  const std::string minor =
      std::string("11010520100301001") + ResidentCheckChar("11010520100301001");
  std::string add = kAdd;
  add.replace(add.find("11010519491231002x"), 18, minor);
  add.replace(add.find("\"2026-06-01\""), 12, "\"\"");
  std::string at = add;
  at.insert(at.rfind('}'), R"(,"at":"2026-06-10T09:00:00+08:00")");
  EXPECT_EQ(ErrorOf(at), absl::StrCat(kName,
                                      ":1: add: cardNum: born 2010-03-01, under 18 on 2026-06-10, "
                                      "the day of its at, the case having no publishDate (of age "
                                      "on 2028-03-01): SPC rules Art. 4: minors are not listed"));
  std::string correct = at;
  correct.replace(correct.find("\"add\""), 5, "\"correct\"");
  EXPECT_THAT(ErrorOf(correct), HasSubstr(":1: correct: cardNum: born 2010-03-01, under 18 on "
                                          "2026-06-10, the day of its at"));
  // Of age on the day of `at`: accepted, from `at`.
  std::string adult = at;
  adult.replace(adult.find("2026-06-10T09"), 13, "2028-03-01T00");
  EXPECT_EQ(OnlyChange(adult).record.start, DayStart(20280301));
  // No `at` either: the day it is read. One born in 2020 is a minor until 2038.
  std::string since_ever = add;
  since_ever.replace(since_ever.find(minor), 18,
                     std::string("11010520200301001") + ResidentCheckChar("11010520200301001"));
  EXPECT_THAT(ErrorOf(since_ever), HasSubstr(":1: add: cardNum: born 2020-03-01, under 18 on the "
                                             "load date "));
  EXPECT_THAT(ErrorOf(since_ever), HasSubstr(", the case having no publishDate (of age on "
                                             "2038-03-01)"));
  // An organisation has no age.
  std::string org = add;
  org.replace(org.find(minor), 18, Org());
  org.replace(org.find("\"partyTypeName\":\"0\""), 19, "\"partyTypeName\":\"1\"");
  EXPECT_EQ(ErrorOf(org), "");
}

TEST(DeltaParseTest, AFileCutShortIsRefused) {
  const std::string add = kAdd;
  const std::string cut = add + add.substr(0, add.size() / 2);
  EXPECT_EQ(ErrorOf(cut), absl::StrCat(kName, ":2: cut short: no newline at the end of the file"));
  // Even a last line that is whole JSON, but lacks its newline.
  EXPECT_EQ(ErrorOf(add + add.substr(0, add.size() - 1)),
            absl::StrCat(kName, ":2: cut short: no newline at the end of the file"));
  EXPECT_EQ(ErrorOf(add + "  "),
            absl::StrCat(kName, ":2: cut short: no newline at the end of the file"));
  EXPECT_EQ(ErrorOf("\xEF\xBB\xBF"),
            absl::StrCat(kName, ":1: cut short: no newline at the end of the file"));
}

TEST(DeltaParseTest, TextThatIsNotUtf8IsRefused) {
  std::string add = kAdd;
  add.replace(add.find("李明"), 6, "\xC0\xAF\xFF");
  EXPECT_EQ(ErrorOf(std::string(kAdd) + add), absl::StrCat(kName, ":2: not valid UTF-8"));
  // Also in a key no op reads, and in a line that is otherwise blank.
  std::string extra = kAdd;
  extra.insert(1, "\"x\":\"\xE6\x9D\",");
  EXPECT_EQ(ErrorOf(extra), absl::StrCat(kName, ":1: not valid UTF-8"));
  EXPECT_EQ(ErrorOf("  \xFF\n"), absl::StrCat(kName, ":1: not valid UTF-8"));
}

TEST(DeltaParseTest, OneBadLineRefusesTheWholeFile) {
  const std::string good = kAdd;
  absl::StatusOr<Delta> delta = ParseDelta(kName, good + good + "{\"op\":\"x\"}\n" + good);
  ASSERT_FALSE(delta.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(delta.status()));
  EXPECT_THAT(Message(delta.status()), HasSubstr(":3: op: unknown \"x\""));
}

TEST(DeltaParseTest, RefusesANameThatIsNotADeltaFiles) {
  absl::StatusOr<Delta> delta = ParseDelta("debtors.ndjson", kAdd);
  ASSERT_FALSE(delta.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(delta.status()));
  EXPECT_THAT(Message(delta.status()), HasSubstr("debtors.ndjson: not a delta file name"));
  delta = ParseDelta(DeltaFileName(0), kAdd);
  EXPECT_EQ(Message(delta.status()),
            "00000000000000000000.ndjson: not a delta file name: sequence numbers start at 1 (a "
            "base without deltas counts as 0, so a file 0 would never apply)");
}

// A change that ends or replaces something, reported more than 72 hours after its `at`, is
// noted: it changes the as-of answers about instants shixind answered otherwise before it came.
TEST(DeltaParseTest, ChangesReportedLateAreNoted) {
  const std::string text =
      absl::StrFormat(
          R"({"op":"remove","caseCode":"k\u001b","cardNum":"%s","reason":"performed",)"
          R"("at":"2026-06-01T00:00:00+08:00"})"
          "\n"
          R"({"op":"revoke","caseCode":"k","cardNum":"%s","at":"2026-06-03T00:00:00+08:00"})"
          "\n"
          R"({"op":"unrelate","orgId":"%s","personId":"%s","role":"director",)"
          R"("at":"2026-06-01T00:00:00+08:00"})"
          "\n",
          kPerson, kPerson, Org(), PersonB()) +
      kAdd;
  absl::StatusOr<Delta> delta = ParseDelta(kName, text);
  ASSERT_TRUE(delta.ok()) << delta.status();
  // Exactly 72 hours after the first: nothing is late yet.
  EXPECT_THAT(LateChangeNotes(*delta, kJune1 + kLateChangeSeconds), IsEmpty());
  const std::vector<std::string> notes =
      LateChangeNotes(*delta, kJune1 + kLateChangeSeconds + 3600 * 5);
  ASSERT_EQ(notes.size(), 2u);  // the revoke is 2 days old, the add ends nothing
  EXPECT_EQ(notes[0], absl::StrCat(kName,
                                   ":1: remove: case k\\x1b of 1101051949****002X: at "
                                   "2026-06-01T00:00:00+08:00, 3 days 5 h before the file arrived "
                                   "at 2026-06-04T05:00:00+08:00: as-of answers after "
                                   "2026-06-01T00:00:00+08:00 change (what shixind answered before "
                                   "its arrival is in the audit)"));
  EXPECT_THAT(notes[1], HasSubstr(absl::StrCat(":3: unrelate: role director of ",
                                               testing::PersonId(7).Masked(), " in ", Org(),
                                               ": at 2026-06-01T00:00:00+08:00, 3 days 5 h")));
}

TEST(DeltaFileNameTest, RoundTrip) {
  EXPECT_EQ(DeltaFileName(42), "00000000000000000042.ndjson");
  EXPECT_EQ(DeltaFileName(0), "00000000000000000000.ndjson");
  for (uint64_t sequence : {uint64_t{1}, uint64_t{42}, uint64_t{1234567890123}, UINT64_MAX}) {
    EXPECT_EQ(DeltaSequence(DeltaFileName(sequence)), sequence);
  }
  EXPECT_EQ(DeltaFileName(UINT64_MAX), "18446744073709551615.ndjson");
}

TEST(DeltaFileNameTest, RejectsOtherNames) {
  for (std::string_view name :
       {"0000000000000000042.ndjson", "000000000000000000042.ndjson",
        "00000000000000000042.ndjson.tmp", "00000000000000000042.tmp", "abc.ndjson",
        "0000000000000000004a.ndjson", "00000000000000000042.NDJSON", "00000000000000000042",
        ".00000000000000000042.ndjson", "-0000000000000000042.ndjson", "", ".ndjson",
        "18446744073709551616.ndjson", "99999999999999999999.ndjson",
        // What a base without deltas counts as: a file 0 would never apply.
        "00000000000000000000.ndjson"}) {
    EXPECT_EQ(DeltaSequence(name), std::nullopt) << name;
  }
}

// A fresh directory under the test's temporary directory, removed afterwards.
class DeltaFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = absl::StrFormat("%s/delta_test_%d_%s", ::testing::TempDir(), getpid(), info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(std::string_view name, std::string_view text) {
    std::string path = absl::StrFormat("%s/%s", dir_, name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::string dir_;
};

TEST_F(DeltaFilesTest, ListsDeltaFilesInSequenceOrder) {
  Write(DeltaFileName(43), "");
  Write(DeltaFileName(7), "");
  Write(DeltaFileName(100000000000), "");
  Write(DeltaFileName(42), "");
  Write("00000000000000000044.ndjson.tmp", "");
  Write("0000000000000000045.ndjson", "");
  Write("abc.ndjson", "");
  Write("debtors.ndjson", "");
  Write(DeltaFileName(0), "");
  absl::StatusOr<std::vector<DeltaFile>> files = ListDeltaFiles(dir_);
  ASSERT_TRUE(files.ok()) << files.status();
  std::vector<std::pair<uint64_t, std::string>> got;
  for (const DeltaFile& f : *files) got.emplace_back(f.sequence, f.path);
  EXPECT_THAT(got, ElementsAre(std::pair(uint64_t{7}, dir_ + "/" + DeltaFileName(7)),
                               std::pair(uint64_t{42}, dir_ + "/" + DeltaFileName(42)),
                               std::pair(uint64_t{43}, dir_ + "/" + DeltaFileName(43)),
                               std::pair(uint64_t{100000000000},
                                         dir_ + "/" + DeltaFileName(100000000000))));
  // A trailing slash does not double.
  std::vector<std::string> misnamed = {"left over"};
  absl::StatusOr<std::vector<DeltaFile>> again = ListDeltaFiles(dir_ + "/", &misnamed);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->size(), 4u);
  EXPECT_EQ((*again)[0].path, dir_ + "/" + DeltaFileName(7));
  // The names ending in .ndjson that are not a delta file's, for a warning; not the temporary.
  EXPECT_THAT(misnamed, ElementsAre(dir_ + "/00000000000000000000.ndjson",
                                    dir_ + "/0000000000000000045.ndjson", dir_ + "/abc.ndjson",
                                    dir_ + "/debtors.ndjson"));
  EXPECT_EQ(MisnamedDeltaWarning("d/00000000000000000000.ndjson"),
            "d/00000000000000000000.ndjson is not applied: sequence numbers start at 1 (a base "
            "without deltas counts as 0, so a file 0 would never apply)");
  EXPECT_EQ(MisnamedDeltaWarning("d/42.ndjson"),
            "d/42.ndjson is not applied: a delta file is named by its sequence number in 20 "
            "digits, e.g. 00000000000000000001.ndjson");
  // 20 digits all the same, but above the largest sequence.
  EXPECT_EQ(MisnamedDeltaWarning("d/18446744073709551625.ndjson"),
            "d/18446744073709551625.ndjson is not applied: its sequence number is out of range "
            "(the largest is 18446744073709551615)");
}

TEST_F(DeltaFilesTest, ListingAnEmptyOrMissingDirectory) {
  absl::StatusOr<std::vector<DeltaFile>> empty = ListDeltaFiles(dir_);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_THAT(*empty, IsEmpty());
  absl::StatusOr<std::vector<DeltaFile>> missing = ListDeltaFiles(dir_ + "/missing");
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
}

TEST_F(DeltaFilesTest, ReadsAFile) {
  const std::string path = Write(kName, kAdd);
  absl::StatusOr<Delta> delta = ReadDelta(path);
  ASSERT_TRUE(delta.ok()) << delta.status();
  EXPECT_EQ(delta->sequence, 42u);
  EXPECT_EQ(delta->name, kName);
  ASSERT_EQ(delta->changes.size(), 1u);
  EXPECT_EQ(delta->changes[0].name, "李明");
}

TEST_F(DeltaFilesTest, ReadingReportsTheFileByItsName) {
  const std::string path = Write(kName, "{\"op\":\"x\"}\n");
  absl::StatusOr<Delta> delta = ReadDelta(path);
  ASSERT_TRUE(absl::IsInvalidArgument(delta.status())) << delta.status();
  EXPECT_EQ(Message(delta.status()), absl::StrCat(kName, ":1: op: unknown \"x\""));
}

// Exactly at the limit it reads; one byte over, it is refused by name before it is parsed.
TEST_F(DeltaFilesTest, AFileLargerThanTheLimitIsRefused) {
  const std::string path = Write(kName, std::string(kAdd) + kAdd);
  const size_t size = 2 * std::string_view(kAdd).size();
  absl::StatusOr<Delta> at_limit = ReadDelta(path, 1, size);
  ASSERT_TRUE(at_limit.ok()) << at_limit.status();
  EXPECT_EQ(at_limit->changes.size(), 2u);
  absl::StatusOr<Delta> over = ReadDelta(path, 1, size - 1);
  EXPECT_TRUE(absl::IsResourceExhausted(over.status())) << over.status();
  EXPECT_EQ(Message(over.status()), absl::StrCat(path, ": more than ", size - 1, " bytes"));
}

TEST_F(DeltaFilesTest, ReadingAMissingFile) {
  absl::StatusOr<Delta> delta = ReadDelta(absl::StrCat(dir_, "/", kName));
  EXPECT_TRUE(absl::IsNotFound(delta.status())) << delta.status();
}

TEST_F(DeltaFilesTest, ReadingADirectoryFails) {
  std::filesystem::create_directory(absl::StrCat(dir_, "/", kName));
  absl::StatusOr<Delta> delta = ReadDelta(absl::StrCat(dir_, "/", kName));
  EXPECT_TRUE(absl::IsFailedPrecondition(delta.status())) << delta.status();
}

TEST_F(DeltaFilesTest, AFileThatGrowsWhileItIsReadIsUnavailable) {
  const std::string path = Write(kName, kAdd);
  absl::StatusOr<Delta> delta = delta_internal::ReadDelta(path, 1, kNoLimit, [&] {
    std::ofstream(path, std::ios::binary | std::ios::app) << kAdd;  // the writer goes on
  });
  EXPECT_TRUE(absl::IsUnavailable(delta.status())) << delta.status();
  EXPECT_THAT(Message(delta.status()), HasSubstr("changed while it was read"));
  // Once it settles, it reads whole.
  absl::StatusOr<Delta> settled = ReadDelta(path);
  ASSERT_TRUE(settled.ok()) << settled.status();
  EXPECT_EQ(settled->changes.size(), 2u);
}

TEST_F(DeltaFilesTest, AFileRewrittenInPlaceWhileItIsReadIsUnavailable) {
  const std::string path = Write(kName, kAdd);
  // The same size, another modification time: only the time tells.
  absl::StatusOr<Delta> delta = delta_internal::ReadDelta(path, 1, kNoLimit, [&] {
    const struct timespec times[2] = {{0, UTIME_OMIT}, {1000000000, 5}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  });
  EXPECT_TRUE(absl::IsUnavailable(delta.status())) << delta.status();
}

TEST_F(DeltaFilesTest, AFileReplacedByRenameWhileItIsReadIsReadAsItWas) {
  const std::string path = Write(kName, kAdd);
  // The open file stays what it was: what was read is consistent.
  absl::StatusOr<Delta> delta = delta_internal::ReadDelta(path, 1, kNoLimit, [&] {
    const std::string next = Write("next.tmp", std::string(kAdd) + kAdd);
    std::error_code error;
    std::filesystem::rename(next, path, error);
    ASSERT_FALSE(error) << error.message();
  });
  ASSERT_TRUE(delta.ok()) << delta.status();
  EXPECT_EQ(delta->changes.size(), 1u);
}

}  // namespace
}  // namespace shixin
