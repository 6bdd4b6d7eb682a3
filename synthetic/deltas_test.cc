#include "synthetic/deltas.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/validity.h"
#include "nlohmann/json.hpp"
#include "synthetic/synthetic.h"

namespace shixin {
namespace {

using Json = nlohmann::ordered_json;

constexpr uint64_t kSubjects = 5000;
constexpr uint64_t kDeltas = 12;
constexpr uint64_t kChanges = 1500;
constexpr char kGroundOne[] = "有履行能力而拒不履行生效法律文书确定义务";

std::string TempDir(const std::string& name) {
  return ::testing::TempDir() + "deltas_test_" + std::to_string(getpid()) + "_" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string Text(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Returns the digits of a date in any of the feed's forms as YYYYMMDD (0 if none).
uint32_t Date(const std::string& text) {
  uint32_t date = 0;
  for (char c : text) {
    if (c >= '0' && c <= '9') date = date * 10 + static_cast<uint32_t>(c - '0');
  }
  return date;
}

// One case as the replay knows it: its current version, whether it was removed or revoked.
struct CaseState {
  Json record;
  bool gone = false;

  bool CountsAt(int64_t t) const {
    const uint32_t publish = Date(Text(record, "publishDate"));
    return !gone && DayStart(publish) <= t && t < TermEndInstant(Date(Text(record, "termEnd")));
  }
};

// The list as the stream has made it so far, from simple maps of the JSON lines.
struct Replay {
  std::map<std::string, CaseState> cases;  // caseCode + " " + cardNum
  std::set<std::string> roles;             // orgId personId role
  std::set<std::string> base_ids;
  std::set<std::string> creditor_deleted;  // cardNums of a creditor_request removal
  std::map<std::string, uint64_t> ops;
  std::map<std::string, uint64_t> reasons;
  uint64_t adds_of_listed = 0, adds_of_new = 0, adds_with_term = 0, adds_in_grace = 0;
  int64_t last_at = 0;
};

std::string CaseKey(const Json& j) { return Text(j, "caseCode") + " " + Text(j, "cardNum"); }

std::string RoleKey(const Json& j) {
  return Text(j, "orgId") + " " + Text(j, "personId") + " " + Text(j, "role");
}

// The record keys of a correct or add line (without op and at).
Json RecordOf(const Json& line) {
  Json record = line;
  record.erase("op");
  record.erase("at");
  return record;
}

void CheckTerm(const Json& record, const std::string& where) {
  const uint32_t term_end = Date(Text(record, "termEnd"));
  EXPECT_EQ(term_end == 0, Text(record, "disruptTypeName") == kGroundOne) << where;
  if (term_end != 0) {
    EXPECT_GE(term_end, Date(Text(record, "publishDate"))) << where;
  }
}

void LoadBase(const std::string& dir, Replay* replay) {
  for (const std::string& line : Lines(dir + "/debtors.ndjson")) {
    const Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded()) << line;
    ASSERT_TRUE(replay->cases.emplace(CaseKey(j), CaseState{j}).second) << "twice: " << line;
    replay->base_ids.insert(Text(j, "cardNum"));
  }
  for (const std::string& line : Lines(dir + "/relations.ndjson")) {
    const Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(replay->roles.insert(RoleKey(j)).second) << line;
  }
}

// A fixed "today", so that the files do not change from day to day.
constexpr SyntheticOptions kList = {.subjects = kSubjects, .seed = 5, .today = 20251231};

// Applies one line, checking it is valid against the list at that point.
void ApplyLine(const Json& j, const std::string& where, Replay* replay) {
  const std::string op = Text(j, "op");
  ++replay->ops[op];
  const absl::StatusOr<int64_t> at = ParseInstant(Text(j, "at"));
  ASSERT_TRUE(at.ok()) << where << ": " << at.status();
  EXPECT_GE(*at, replay->last_at) << where;
  EXPECT_GE(*at, DayStart(kList.today) + 86400) << where;
  replay->last_at = *at;
  if (op == "add") {
    auto [it, inserted] = replay->cases.emplace(CaseKey(j), CaseState{RecordOf(j)});
    EXPECT_TRUE(inserted) << where << ": an add of a known case";
    CheckTerm(j, where);
    // SPC rules Art. 10: not listed again within 6 months of a deletion at the creditor's
    // request (the stream spans days).
    EXPECT_EQ(replay->creditor_deleted.count(Text(j, "cardNum")), 0u) << where;
    const bool listed = replay->base_ids.count(Text(j, "cardNum")) > 0;
    replay->adds_of_listed += listed;
    replay->adds_of_new += !listed;
    replay->adds_with_term += j.contains("termEnd");
    replay->adds_in_grace += DayStart(Date(Text(j, "publishDate"))) > *at;
    return;
  }
  if (op == "relate") {
    EXPECT_TRUE(replay->roles.insert(RoleKey(j)).second) << where << ": relate of a held role";
    return;
  }
  if (op == "unrelate") {
    EXPECT_EQ(replay->roles.erase(RoleKey(j)), 1u) << where << ": unrelate of no role";
    return;
  }
  ASSERT_TRUE(op == "remove" || op == "revoke" || op == "correct") << where << ": op " << op;
  const auto it = replay->cases.find(CaseKey(j));
  ASSERT_NE(it, replay->cases.end()) << where << ": " << op << " of an unknown case";
  EXPECT_TRUE(it->second.CountsAt(*at)) << where << ": " << op << " of a case not counting";
  if (op == "remove") {
    const std::string reason = Text(j, "reason");
    ++replay->reasons[reason];
    // The term ends a listing that has one, on its last day (it counts until its end).
    if (reason == "term_ended") {
      const uint32_t term_end = Date(Text(it->second.record, "termEnd"));
      EXPECT_NE(term_end, 0u) << where;
      EXPECT_GE(*at, DayStart(term_end)) << where;
    }
    if (reason == "creditor_request") replay->creditor_deleted.insert(Text(j, "cardNum"));
  }
  if (op != "correct") {
    it->second.gone = true;
    return;
  }
  // The same case: one of duty, performance, termEnd changed, everything else the same.
  const Json record = RecordOf(j);
  CheckTerm(record, where);
  int changed = 0;
  for (const char* key : {"duty", "performance", "termEnd"}) {
    changed += Text(record, key) != Text(it->second.record, key);
  }
  EXPECT_EQ(changed, 1) << where;
  Json rest = record;
  Json old_rest = it->second.record;
  for (const char* key : {"duty", "performance", "termEnd"}) {
    rest.erase(key);
    old_rest.erase(key);
  }
  EXPECT_EQ(rest, old_rest) << where;
  it->second.record = record;
}

class SyntheticDeltasTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(TempDir("list"));
    ASSERT_TRUE(WriteSyntheticDataSet(kList, *dir_).ok());
    absl::StatusOr<SyntheticDeltaStats> stats = WriteSyntheticDeltas(
        kList, {.deltas = kDeltas, .changes_per_delta = kChanges}, *dir_ + "/deltas");
    ASSERT_TRUE(stats.ok()) << stats.status();
    stats_ = new SyntheticDeltaStats(*stats);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete stats_;
  }

  static std::string DeltaPath(uint64_t seq) {
    std::string digits = std::to_string(seq);
    return *dir_ + "/deltas/" + std::string(20 - digits.size(), '0') + digits + ".ndjson";
  }

  static std::string* dir_;
  static SyntheticDeltaStats* stats_;
};

std::string* SyntheticDeltasTest::dir_ = nullptr;
SyntheticDeltaStats* SyntheticDeltasTest::stats_ = nullptr;

TEST_F(SyntheticDeltasTest, FilesAreNamedBySequenceAndComplete) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(*dir_ + "/deltas")) {
    names.insert(entry.path().filename().string());
  }
  std::set<std::string> expected;
  for (uint64_t seq = 1; seq <= kDeltas; ++seq) {
    expected.insert(std::filesystem::path(DeltaPath(seq)).filename().string());
  }
  EXPECT_EQ(names, expected);  // no temporary files left
  EXPECT_EQ(*expected.begin(), "00000000000000000001.ndjson");
  for (uint64_t seq = 1; seq <= kDeltas; ++seq) {
    const std::string text = ReadFile(DeltaPath(seq));
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    EXPECT_EQ(Lines(DeltaPath(seq)).size(), kChanges) << seq;
  }
  EXPECT_EQ(stats_->files, kDeltas);
  EXPECT_EQ(stats_->adds + stats_->removes + stats_->revokes + stats_->corrects + stats_->relates +
                stats_->unrelates,
            kDeltas * kChanges);
}

// Replays the stream over the base list: every change is valid where it stands, the mix is
// as specified, and each line is what the JSON library writes.
TEST_F(SyntheticDeltasTest, EveryChangeIsValidWhereItStands) {
  Replay replay;
  LoadBase(*dir_, &replay);
  for (uint64_t seq = 1; seq <= kDeltas; ++seq) {
    const std::vector<std::string> lines = Lines(DeltaPath(seq));
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string where = std::to_string(seq) + ":" + std::to_string(i + 1);
      const Json j = Json::parse(lines[i], nullptr, /*allow_exceptions=*/false);
      ASSERT_FALSE(j.is_discarded()) << where << ": " << lines[i];
      ASSERT_EQ(j.dump(-1, ' ', false, Json::error_handler_t::replace), lines[i]) << where;
      ApplyLine(j, where, &replay);
      if (HasFatalFailure()) return;
    }
  }
  const double total = kDeltas * kChanges;
  EXPECT_EQ(replay.ops["add"], stats_->adds);
  EXPECT_EQ(replay.ops["remove"], stats_->removes);
  EXPECT_NEAR(replay.ops["revoke"] / total, 0.01, 0.005);
  EXPECT_NEAR(replay.ops["correct"] / total, 0.05, 0.01);
  EXPECT_NEAR((replay.ops["relate"] + replay.ops["unrelate"]) / total, 0.05, 0.01);
  EXPECT_GT(replay.ops["relate"], 0u);
  EXPECT_GT(replay.ops["unrelate"], 0u);
  EXPECT_NEAR(replay.ops["add"] / total, 0.45, 0.06);
  EXPECT_NEAR(replay.ops["remove"] / total, 0.44, 0.06);
  // Every reason occurs but term_ended, which shixin notes for a case still counting (its term
  // not ended); performance and settlement are most of them.
  EXPECT_EQ(replay.reasons.count("term_ended"), 0u);
  EXPECT_EQ(replay.reasons.size(), 8u);
  EXPECT_GT(replay.reasons["performed"] + replay.reasons["settled"], replay.ops["remove"] / 2);
  EXPECT_GT(replay.reasons["performed"], replay.reasons["settled"]);
  // Adds: of listed subjects and of new ones, some with a term, some in a grace period.
  EXPECT_GT(replay.adds_of_listed, stats_->adds / 4);
  EXPECT_GT(replay.adds_of_new, stats_->adds / 4);
  EXPECT_GT(replay.adds_with_term, stats_->adds / 4);
  EXPECT_LT(replay.adds_with_term, stats_->adds * 3 / 4);
  EXPECT_GT(replay.adds_in_grace, stats_->adds / 50);
  EXPECT_LT(replay.adds_in_grace, stats_->adds / 5);
}

// One working day per file, spread over office hours in China Standard Time.
TEST_F(SyntheticDeltasTest, OneWorkingDayPerFile) {
  uint32_t previous_day = kList.today;
  for (uint64_t seq = 1; seq <= kDeltas; ++seq) {
    const std::vector<std::string> lines = Lines(DeltaPath(seq));
    const Json first = Json::parse(lines.front(), nullptr, false);
    const Json last = Json::parse(lines.back(), nullptr, false);
    const std::string first_at = Text(first, "at");
    EXPECT_TRUE(first_at.ends_with("T09:00:00+08:00")) << first_at;
    EXPECT_TRUE(Text(last, "at").ends_with("+08:00"));
    EXPECT_LT(Text(last, "at").substr(11), "17:30:00");
    const absl::StatusOr<int64_t> at = ParseInstant(first_at);
    ASSERT_TRUE(at.ok());
    const uint32_t day = DayOf(*at);
    EXPECT_GT(day, previous_day);
    EXPECT_EQ(DayOf(*ParseInstant(Text(last, "at"))), day);
    previous_day = day;
  }
  // Twelve working days from Thursday 2026-01-01: no Saturday or Sunday among them.
  EXPECT_EQ(previous_day, 20260116u);
}

// The same options give the same files; another seed, other changes.
TEST_F(SyntheticDeltasTest, SameOptionsSameFiles) {
  const std::string again = TempDir("again");
  const SyntheticDeltaOptions options{.deltas = kDeltas, .changes_per_delta = kChanges};
  ASSERT_TRUE(WriteSyntheticDeltas(kList, options, again).ok());
  for (uint64_t seq = 1; seq <= kDeltas; ++seq) {
    const std::filesystem::path name = std::filesystem::path(DeltaPath(seq)).filename();
    EXPECT_TRUE(ReadFile(std::filesystem::path(again) / name) == ReadFile(DeltaPath(seq))) << name;
  }
  const std::string other = TempDir("other");
  ASSERT_TRUE(WriteSyntheticDeltas({.subjects = kSubjects, .seed = 6},
                                   {.deltas = 1, .changes_per_delta = kChanges}, other)
                  .ok());
  EXPECT_NE(ReadFile(other + "/00000000000000000001.ndjson"), ReadFile(DeltaPath(1)));
  std::filesystem::remove_all(again);
  std::filesystem::remove_all(other);
}

TEST(SyntheticDeltas, AnEmptyListGetsAddsOnly) {
  const std::string dir = TempDir("empty");
  absl::StatusOr<SyntheticDeltaStats> stats =
      WriteSyntheticDeltas({.subjects = 0, .seed = 1}, {.deltas = 1, .changes_per_delta = 50}, dir);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->adds + stats->removes + stats->revokes + stats->corrects, 50u);
  EXPECT_EQ(stats->relates + stats->unrelates, 0u);
  EXPECT_GT(stats->adds, 0u);
  std::filesystem::remove_all(dir);
}

// A file that cannot take its name fails the run and leaves no temporary file behind.
TEST(SyntheticDeltas, AFileThatCannotBeRenamedFails) {
  const std::string dir = TempDir("blocked");
  std::filesystem::create_directories(dir + "/00000000000000000002.ndjson");
  const absl::StatusOr<SyntheticDeltaStats> stats = WriteSyntheticDeltas(
      {.subjects = 100, .seed = 1}, {.deltas = 3, .changes_per_delta = 10}, dir);
  EXPECT_FALSE(stats.ok());
  EXPECT_TRUE(std::filesystem::exists(dir + "/00000000000000000001.ndjson"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/.00000000000000000002.ndjson.tmp"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/00000000000000000003.ndjson"));
  std::filesystem::remove_all(dir);
  const std::string file = TempDir("plain_file");
  std::ofstream(file) << "x";
  EXPECT_FALSE(WriteSyntheticDeltas({.subjects = 10, .seed = 1}, {.deltas = 1}, file).ok());
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace shixin
