#include "synthetic/synthetic.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/id.h"
#include "core/ingest.h"
#include "core/types.h"
#include "nlohmann/json.hpp"

namespace shixin {
namespace {

constexpr uint64_t kSubjects = 20000;

// Owned copies of the generated records (the generator's views are valid only in the callback).
struct CaseCopy {
  std::string id, name, case_code, court, area, gist_id, gist_unit, duty, performance,
      performed_part, unperform_part, disrupt_type, business_entity;
  IdKind kind = IdKind::kResident;
  uint32_t reg_date = 0, publish_date = 0, term_end = 0;
  uint8_t age = 0;
  Sex sex = Sex::kUnknown;

  bool operator==(const CaseCopy&) const = default;
};

struct RelationCopy {
  std::string org, person, person_name;
  IdKind org_kind = IdKind::kCreditCode;
  Role role = Role::kLegalRepresentative;

  bool operator==(const RelationCopy&) const = default;
};

CaseCopy Copy(const CaseInput& c) {
  return CaseCopy{std::string(c.id.text()),
                  std::string(c.name),
                  std::string(c.case_code),
                  std::string(c.court),
                  std::string(c.area),
                  std::string(c.gist_id),
                  std::string(c.gist_unit),
                  std::string(c.duty),
                  std::string(c.performance),
                  std::string(c.performed_part),
                  std::string(c.unperform_part),
                  std::string(c.disrupt_type),
                  std::string(c.business_entity),
                  c.id.kind(),
                  c.reg_date,
                  c.publish_date,
                  c.term_end,
                  c.age,
                  c.sex};
}

RelationCopy Copy(const RelationInput& r) {
  return RelationCopy{std::string(r.org.text()), std::string(r.person.text()),
                      std::string(r.person_name), r.org.kind(), r.role};
}

struct Data {
  SyntheticStats stats;
  std::vector<CaseCopy> cases;
  std::vector<RelationCopy> relations;
};

constexpr uint32_t kToday = 20251231;

Data Generate(uint64_t subjects, uint64_t seed) {
  Data data;
  data.stats = GenerateSynthetic(
      {.subjects = subjects, .seed = seed, .today = kToday},
      [&](const CaseInput& c) { data.cases.push_back(Copy(c)); },
      [&](const RelationInput& r) { data.relations.push_back(Copy(r)); });
  return data;
}

// Reads the file at `path` back with `load` (LoadCaseFile, LoadRelationFile), appending a copy
// of each record to `copies`; expects it to load without errors. Returns the records read.
template <typename Input, typename Copied>
uint64_t LoadBack(absl::Status (*load)(const std::string&, const LoadOptions&,
                                       absl::FunctionRef<void(const Input&)>, LoadReport*),
                  const std::string& path, std::vector<Copied>* copies) {
  LoadReport report;
  const absl::Status status = load(
      path, {}, [copies](const Input& r) { copies->push_back(Copy(r)); }, &report);
  EXPECT_TRUE(status.ok()) << path << ": " << status;
  EXPECT_EQ(report.errors, 0u) << path;
  return report.records;
}

// One listed subject: its cases are consecutive in the feed.
struct Subject {
  std::string id;
  std::string name;
  std::string business_entity;
  IdKind kind;
  int cases = 0;
};

std::vector<Subject> Subjects(const Data& data) {
  std::vector<Subject> subjects;
  for (const CaseCopy& c : data.cases) {
    if (subjects.empty() || subjects.back().id != c.id) {
      subjects.push_back({c.id, c.name, c.business_entity, c.kind});
    }
    ++subjects.back().cases;
  }
  return subjects;
}

size_t CountChars(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string TempDir(const std::string& name) {
  return ::testing::TempDir() + "synthetic_test_" + std::to_string(getpid()) + "_" + name;
}

class SyntheticDataTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new Data(Generate(kSubjects, 7));
    subjects_ = new std::vector<Subject>(Subjects(*data_));
  }
  static void TearDownTestSuite() {
    delete data_;
    delete subjects_;
  }

  // Listed subjects by ID, and listed organisations also by their embedded org code.
  static std::map<std::string, const Subject*> SubjectsById() {
    std::map<std::string, const Subject*> by_id;
    for (const Subject& s : *subjects_) {
      by_id[s.id] = &s;
      if (s.kind == IdKind::kCreditCode) by_id[s.id.substr(8, 9)] = &s;
    }
    return by_id;
  }

  static Data* data_;
  static std::vector<Subject>* subjects_;
};

Data* SyntheticDataTest::data_ = nullptr;
std::vector<Subject>* SyntheticDataTest::subjects_ = nullptr;

TEST_F(SyntheticDataTest, CountsAndShares) {
  const SyntheticStats& stats = data_->stats;
  EXPECT_EQ(stats.subjects, kSubjects);
  EXPECT_EQ(stats.persons + stats.organizations, kSubjects);
  EXPECT_EQ(stats.cases, data_->cases.size());
  EXPECT_EQ(stats.relations, data_->relations.size());
  EXPECT_EQ(subjects_->size(), kSubjects);
  const double person_share = static_cast<double>(stats.persons) / kSubjects;
  EXPECT_NEAR(person_share, 0.82, 0.015);
  uint64_t persons = 0;
  uint64_t bare_org_codes = 0;
  for (const Subject& s : *subjects_) {
    persons += s.kind == IdKind::kResident;
    bare_org_codes += s.kind == IdKind::kOrgCode;
  }
  EXPECT_EQ(persons, stats.persons);
  const double bare_share = static_cast<double>(bare_org_codes) / stats.organizations;
  EXPECT_NEAR(bare_share, 0.03, 0.015);
}

TEST_F(SyntheticDataTest, EveryIdParsesAndIsNormalised) {
  auto check = [](const std::string& text, IdKind kind) {
    absl::StatusOr<Id> id = ParseId(text);
    ASSERT_TRUE(id.ok()) << text << ": " << id.status();
    EXPECT_EQ(id->text(), text);
    EXPECT_EQ(id->kind(), kind) << text;
  };
  for (const CaseCopy& c : data_->cases) check(c.id, c.kind);
  for (const RelationCopy& r : data_->relations) {
    check(r.org, r.org_kind);
    check(r.person, IdKind::kResident);
  }
}

// UnlistedId(): valid, normalised IDs, 99,000 distinct ones, none of them in a data set.
TEST_F(SyntheticDataTest, UnlistedIdsAreValidAndNeverGenerated) {
  std::set<std::string> unlisted;
  for (uint64_t n = 0; n < 99'000; n += 7) {
    const Id id = UnlistedId(n);
    absl::StatusOr<Id> parsed = ParseId(id.text());
    ASSERT_TRUE(parsed.ok()) << id.text() << ": " << parsed.status();
    EXPECT_EQ(*parsed, id);
    EXPECT_EQ(UnlistedId(n + 99'000), id);
    EXPECT_TRUE(unlisted.insert(std::string(id.text())).second) << id.text();
  }
  for (const CaseCopy& c : data_->cases) EXPECT_EQ(unlisted.count(c.id), 0u) << c.id;
  for (const RelationCopy& r : data_->relations) EXPECT_EQ(unlisted.count(r.person), 0u);
}

TEST_F(SyntheticDataTest, ListedIdsAreDistinct) {
  std::set<std::string> ids;
  for (const Subject& s : *subjects_) EXPECT_TRUE(ids.insert(s.id).second) << s.id;
  // No bare organisation code repeats one embedded in a credit code either.
  std::set<std::string> org_codes;
  for (const Subject& s : *subjects_) {
    if (s.kind == IdKind::kResident) continue;
    const std::string code = s.kind == IdKind::kCreditCode ? s.id.substr(8, 9) : s.id;
    EXPECT_TRUE(org_codes.insert(code).second) << s.id;
  }
}

TEST_F(SyntheticDataTest, EachPersonIdHasOneName) {
  // Unlisted related persons never reuse a listed ID: an ID always comes with the same name.
  std::map<std::string, std::string> names;
  for (const Subject& s : *subjects_) {
    if (s.kind == IdKind::kResident) names[s.id] = s.name;
  }
  for (const RelationCopy& r : data_->relations) {
    auto [it, inserted] = names.emplace(r.person, r.person_name);
    EXPECT_EQ(it->second, r.person_name) << r.person;
  }
}

TEST_F(SyntheticDataTest, EveryOrganizationHasOneLegalRepresentative) {
  const auto by_id = SubjectsById();
  std::map<const Subject*, int> legal_representatives;
  uint64_t by_embedded_code = 0;
  for (const RelationCopy& r : data_->relations) {
    auto it = by_id.find(r.org);
    ASSERT_NE(it, by_id.end()) << "relation of an unlisted organisation " << r.org;
    const Subject* org = it->second;
    by_embedded_code += org->id != r.org;
    if (r.role != Role::kLegalRepresentative) continue;
    ++legal_representatives[org];
    EXPECT_EQ(r.person_name, org->business_entity) << org->id;
  }
  for (const Subject& s : *subjects_) {
    if (s.kind == IdKind::kResident) {
      EXPECT_EQ(s.business_entity, "");
    } else {
      EXPECT_EQ(legal_representatives[&s], 1) << s.id;
    }
  }
  const double share = static_cast<double>(by_embedded_code) / data_->relations.size();
  EXPECT_GT(share, 0.005);
  EXPECT_LT(share, 0.05);
}

TEST_F(SyntheticDataTest, RelatedPersonsAreListedOrSharedSometimes) {
  const auto by_id = SubjectsById();
  const double per_org = static_cast<double>(data_->relations.size()) / data_->stats.organizations;
  EXPECT_NEAR(per_org, 3.0, 0.4);

  uint64_t listed_rows = 0;
  std::map<std::string, std::set<const Subject*>> orgs_of_person;
  for (const RelationCopy& r : data_->relations) {
    listed_rows += by_id.count(r.person);
    orgs_of_person[r.person].insert(by_id.at(r.org));
  }
  const double listed_share = static_cast<double>(listed_rows) / data_->relations.size();
  EXPECT_NEAR(listed_share, 0.15, 0.04);
  uint64_t in_several = 0;
  for (const auto& [person, orgs] : orgs_of_person) in_several += orgs.size() >= 2;
  const double several_share = static_cast<double>(in_several) / orgs_of_person.size();
  EXPECT_GT(several_share, 0.02);
  EXPECT_LT(several_share, 0.10);
}

TEST_F(SyntheticDataTest, CasesPerSubjectHaveALongTail) {
  uint64_t person_cases = 0, persons = 0, org_cases = 0, orgs = 0;
  int max_cases = 0;
  for (const Subject& s : *subjects_) {
    EXPECT_LE(s.cases, 67);
    max_cases = std::max(max_cases, s.cases);
    if (s.kind == IdKind::kResident) {
      person_cases += s.cases;
      ++persons;
    } else {
      org_cases += s.cases;
      ++orgs;
    }
  }
  EXPECT_NEAR(static_cast<double>(person_cases) / persons, 1.4, 0.08);
  EXPECT_NEAR(static_cast<double>(org_cases) / orgs, 2.7, 0.2);
  EXPECT_GT(max_cases, 10);
}

TEST_F(SyntheticDataTest, AgeAndSexMatchTheId) {
  for (const CaseCopy& c : data_->cases) {
    if (c.kind != IdKind::kResident) {
      EXPECT_EQ(c.age, 0);
      EXPECT_EQ(c.sex, Sex::kUnknown);
      EXPECT_FALSE(c.business_entity.empty());
      continue;
    }
    const uint32_t birth = std::stoul(c.id.substr(6, 8));
    EXPECT_GE(birth, 19400101u);
    EXPECT_LE(birth, 20041231u);
    int age = static_cast<int>(c.publish_date / 10000 - birth / 10000);
    if (c.publish_date % 10000 < birth % 10000) --age;
    EXPECT_EQ(c.age, age) << c.id;
    EXPECT_GE(c.age, 18) << c.id;
    EXPECT_EQ(c.sex, (c.id[16] - '0') % 2 == 1 ? Sex::kMale : Sex::kFemale) << c.id;
  }
}

TEST_F(SyntheticDataTest, CaseFieldsLookLikeTheCourts) {
  const std::set<std::string> grounds = {"有履行能力而拒不履行生效法律文书确定义务",
                                         "违反财产报告制度",
                                         "违反限制消费令",
                                         "以伪造证据、暴力、威胁等方法妨碍、抗拒执行",
                                         "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
                                         "无正当理由拒不履行执行和解协议"};
  std::set<std::string> regions;
  for (const CaseCopy& c : data_->cases) {
    const bool full_width = c.case_code.starts_with("（");
    EXPECT_TRUE(full_width || c.case_code.starts_with("(")) << c.case_code;
    const int year = std::stoi(c.case_code.substr(full_width ? 3 : 1, 4));
    EXPECT_GE(year, 2014);
    EXPECT_LE(year, 2025);
    EXPECT_EQ(c.reg_date / 10000, static_cast<uint32_t>(year)) << c.case_code;
    EXPECT_GT(c.publish_date, c.reg_date);
    EXPECT_NE(c.case_code.find("执"), std::string::npos) << c.case_code;
    EXPECT_TRUE(c.case_code.ends_with("号")) << c.case_code;
    EXPECT_TRUE(c.gist_id.ends_with("号")) << c.gist_id;
    EXPECT_TRUE(c.court.ends_with("人民法院")) << c.court;
    EXPECT_EQ(c.gist_unit, c.court);
    regions.insert(c.area);
    const size_t duty_chars = CountChars(c.duty);
    EXPECT_GE(duty_chars, 20u) << c.duty;
    EXPECT_LE(duty_chars, 80u) << c.duty;
    EXPECT_TRUE(c.performance == "全部未履行" || c.performance == "部分未履行");
    EXPECT_EQ(c.performed_part, "暂无");
    EXPECT_EQ(c.unperform_part, "暂无");
    std::string_view rest = c.disrupt_type;
    for (size_t comma; !rest.empty(); rest.remove_prefix(std::min(comma + 1, rest.size()))) {
      comma = std::min(rest.find(','), rest.size());
      EXPECT_EQ(grounds.count(std::string(rest.substr(0, comma))), 1u) << c.disrupt_type;
    }
  }
  EXPECT_TRUE(regions.count("黑龙江"));
  EXPECT_GT(regions.size(), 15u);
}

// Days since 1970-01-01 of the date `yyyymmdd` plus `years` (29 February + 1 year: 1 March).
int64_t Days(uint32_t yyyymmdd, int years = 0) {
  namespace chrono = std::chrono;
  const chrono::year_month_day ymd{chrono::year(static_cast<int>(yyyymmdd / 10000) + years),
                                   chrono::month(yyyymmdd / 100 % 100),
                                   chrono::day(yyyymmdd % 100)};
  return chrono::sys_days(ymd).time_since_epoch().count();
}

// Ground (1) alone: no fixed term; otherwise 2 years after publishDate, some 3-5. Every case
// counts on the generation's today except a few in their grace period (1-3 months).
TEST_F(SyntheticDataTest, TermsFollowTheGroundsAndCountToday) {
  const int64_t today = Days(kToday);
  uint64_t no_term = 0, two_years = 0, extended = 0, grace = 0;
  for (const CaseCopy& c : data_->cases) {
    const bool ground_one_alone = c.disrupt_type == "有履行能力而拒不履行生效法律文书确定义务";
    EXPECT_EQ(c.term_end == 0, ground_one_alone) << c.case_code << " " << c.disrupt_type;
    const int64_t publish = Days(c.publish_date);
    if (publish > today) {
      ++grace;
      EXPECT_GE(publish - today, 28) << c.case_code;
      EXPECT_LE(publish - today, 92) << c.case_code;
    }
    if (c.term_end == 0) {
      ++no_term;
      continue;
    }
    EXPECT_GE(c.term_end, c.publish_date) << c.case_code;
    EXPECT_GE(Days(c.term_end), today) << c.case_code << " ended before today";
    // The same day 2-5 years later, less a day.
    int years = 2;
    while (years < 5 && Days(c.publish_date, years) != Days(c.term_end) + 1) ++years;
    EXPECT_EQ(Days(c.publish_date, years), Days(c.term_end) + 1) << c.case_code;
    two_years += years == 2;
    extended += years > 2;
  }
  const double cases = static_cast<double>(data_->cases.size());
  EXPECT_NEAR(no_term / cases, 0.48, 0.04);
  EXPECT_GT(two_years, 3 * extended);
  EXPECT_GT(extended, 0u);
  EXPECT_GT(grace, 0u);
  EXPECT_LT(grace / cases, 0.01);
}

TEST(SyntheticTest, SameSeedSameRecords) {
  const Data a = Generate(3000, 42);
  const Data b = Generate(3000, 42);
  EXPECT_TRUE(a.cases == b.cases);
  EXPECT_TRUE(a.relations == b.relations);
  const Data c = Generate(3000, 43);
  EXPECT_FALSE(a.cases == c.cases);
}

TEST(SyntheticTest, SameSeedSameFiles) {
  const std::string dir1 = TempDir("same1");
  const std::string dir2 = TempDir("same2");
  const std::string dir3 = TempDir("other");
  ASSERT_TRUE(WriteSyntheticDataSet({.subjects = 5000, .seed = 9}, dir1).ok());
  ASSERT_TRUE(WriteSyntheticDataSet({.subjects = 5000, .seed = 9}, dir2).ok());
  ASSERT_TRUE(WriteSyntheticDataSet({.subjects = 5000, .seed = 10}, dir3).ok());
  for (const char* file : {"/debtors.ndjson", "/relations.ndjson"}) {
    const std::string first = ReadFile(dir1 + file);
    EXPECT_FALSE(first.empty());
    EXPECT_EQ(first, ReadFile(dir2 + file)) << file;
    EXPECT_NE(first, ReadFile(dir3 + file)) << file;
  }
  for (const std::string& dir : {dir1, dir2, dir3}) std::filesystem::remove_all(dir);
}

TEST(SyntheticTest, WrittenFilesLoadBackUnchanged) {
  const std::string dir = TempDir("load") + "/nested/dir";  // created if missing
  const absl::StatusOr<SyntheticStats> stats =
      WriteSyntheticDataSet({.subjects = kSubjects, .seed = 3, .today = kToday}, dir);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_FALSE(std::filesystem::exists(dir + "/debtors.ndjson.tmp"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/relations.ndjson.tmp"));
  const Data expected = Generate(kSubjects, 3);

  std::vector<CaseCopy> cases;
  EXPECT_EQ(LoadBack(LoadCaseFile, dir + "/debtors.ndjson", &cases), stats->cases);
  EXPECT_EQ(cases.size(), expected.cases.size());
  for (size_t i = 0; i < std::min(cases.size(), expected.cases.size()); ++i) {
    ASSERT_TRUE(cases[i] == expected.cases[i]) << "case " << i << ": " << expected.cases[i].id;
  }

  std::vector<RelationCopy> relations;
  EXPECT_EQ(LoadBack(LoadRelationFile, dir + "/relations.ndjson", &relations), stats->relations);
  EXPECT_TRUE(relations == expected.relations);
  std::filesystem::remove_all(TempDir("load"));
}

// The data set writer is hand-written for speed (writer.cc); each line must be exactly what the
// JSON library makes of the same record: keys in order, one line, UTF-8 as is.
TEST(SyntheticTest, LinesAreWhatTheJsonLibraryWrites) {
  const std::string dir = TempDir("json");
  ASSERT_TRUE(WriteSyntheticDataSet({.subjects = 5000, .seed = 11}, dir).ok());
  for (const char* file : {"/debtors.ndjson", "/relations.ndjson"}) {
    std::ifstream in(dir + file);
    std::string line;
    size_t lines = 0, escaped = 0;
    while (std::getline(in, line)) {
      ++lines;
      escaped += line.find('\\') != std::string::npos;
      const nlohmann::ordered_json j =
          nlohmann::ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
      ASSERT_FALSE(j.is_discarded()) << file << ":" << lines << ": " << line;
      ASSERT_EQ(j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace), line)
          << file << ":" << lines;
    }
    EXPECT_GT(lines, 1000u) << file;
    if (std::string_view(file) == "/debtors.ndjson") {
      EXPECT_GT(escaped, 0u);  // duty's "\n"
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(SyntheticTest, UnwritableDirectoryFails) {
  const std::string file = TempDir("plain_file");
  std::ofstream(file) << "x";
  EXPECT_FALSE(WriteSyntheticDataSet({.subjects = 10, .seed = 1}, file).ok());
  EXPECT_FALSE(WriteSyntheticDataSet({.subjects = 10, .seed = 1}, file + "/sub").ok());
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace shixin
