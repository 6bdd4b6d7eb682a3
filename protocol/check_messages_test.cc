// CHECK's allocation-free encoder and reader (messages.h), and the subject block's head.
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "protocol/messages.h"
#include "protocol/test_messages.h"

// Counts the allocations of this binary, so that a test can assert there are none.
namespace {
size_t allocations = 0;
}  // namespace

void* operator new(size_t size) {
  ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  std::abort();
}
// These replace the global operators, so new's memory is malloc's: GCC's check that free() is
// not given operator new's pointer does not apply.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace shixin::wire {
namespace {

bool Same(const CheckAnswer& a, const CheckAnswer& b) {
  return a.status == b.status && a.error == b.error && a.id == b.id && a.kind == b.kind &&
         a.cases == b.cases && a.roles == b.roles && a.name == b.name;
}

TEST(CheckRequestTest, EncodesAsTheMessageDoes) {
  const std::vector<std::string> ids = {"11010519491231002X", "", "23098761-3",
                                        std::string(300, 'x')};
  std::string expected;
  Encode(CheckRequest{ids}, &expected);
  std::string out;
  AppendCheckRequest(
      ids.size(), [&](size_t i) -> std::string_view { return ids[i]; }, &out);
  EXPECT_EQ(out, expected);
  absl::StatusOr<CheckRequest> decoded = DecodeCheckRequest(out);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->ids[3].size(), kMaxIdBytes);  // cut as Encode cuts it

  std::string one, one_expected;
  AppendCheckRequest("11010519491231002X", &one);
  Encode(CheckRequest{{"11010519491231002X"}}, &one_expected);
  EXPECT_EQ(one, one_expected);
}

TEST(CheckRequestTest, AllocatesNothingIntoAReservedBuffer) {
  const std::string_view ids[] = {"11010519491231002X", "230987613", "91350503MA2XK7R352"};
  std::string out;
  out.reserve(1024);
  const size_t before = allocations;
  for (int round = 0; round < 10; ++round) {
    out.clear();
    AppendCheckRequest(
        std::size(ids), [&](size_t i) { return ids[i]; }, &out);
    AppendCheckRequest(ids[0], &out);
  }
  EXPECT_EQ(allocations, before);
  out.reserve(1 << 20);
  EXPECT_GT(allocations, before);  // the count works
}

TEST(CheckResponseReaderTest, ReadsWhatTheDecoderReads) {
  const std::string payload = CheckResponse();
  absl::StatusOr<std::vector<CheckAnswer>> decoded = DecodeCheckResponse(payload);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  CheckResponseReader reader(payload);
  EXPECT_EQ(reader.count(), 4u);
  CheckAnswer a;
  size_t n = 0;
  const size_t before = allocations;
  while (reader.Next(&a)) {
    ASSERT_LT(n, decoded->size());
    EXPECT_TRUE(Same(a, (*decoded)[n])) << n;
    ++n;
  }
  EXPECT_EQ(allocations, before);
  EXPECT_TRUE(reader.status().ok()) << reader.status();
  EXPECT_EQ(n, 4u);
  EXPECT_EQ((*decoded)[2].name, "龙腾");
  EXPECT_EQ((*decoded)[3].roles, 3);
  EXPECT_FALSE(reader.Next(&a));  // stays at the end
}

TEST(CheckResponseReaderTest, FailsAsTheDecoderFails) {
  const std::string good = CheckResponse();
  std::vector<std::string> bad = {
      "",                                 // no count
      std::string("\xFF\xFF\x00", 3),     // a count the payload cannot hold
      good + "x",                         // a trailing byte
      good.substr(0, good.size() - 1),    // truncated in the last name
      std::string("\x00\x01\x04\x00", 4)  // status 4
  };
  std::string bad_kind = good;
  bad_kind[2 + 1 + 1 + 12 + 1 + 1 + 18 + 1 + 1 + 9] = 2;  // the listed answer's kind
  bad.push_back(bad_kind);
  for (const std::string& payload : bad) {
    absl::StatusOr<std::vector<CheckAnswer>> decoded = DecodeCheckResponse(payload);
    ASSERT_FALSE(decoded.ok());
    CheckResponseReader reader(payload);
    CheckAnswer a;
    size_t n = 0;
    while (reader.Next(&a)) ++n;
    EXPECT_LE(n, reader.count());
    EXPECT_EQ(reader.status(), decoded.status());
  }
}

TEST(CheckResponseReaderTest, AnEmptyResponseHasNoAnswers) {
  std::string payload;
  AppendCheckCount(0, &payload);
  CheckResponseReader reader(payload);
  CheckAnswer a;
  EXPECT_FALSE(reader.Next(&a));
  EXPECT_TRUE(reader.status().ok());
}

TEST(SubjectHeadTest, ReadsTheVerdictOfMeasuresAndDetail) {
  CheckResult s;
  s.id = "91350503MA2XK7R352";
  s.kind = SubjectKind::kOrganization;
  s.listed = true;
  s.name = "泉州市恒泰贸易有限公司";
  s.officers = {MakeRole(Role::kLegalRepresentative, "230402197203140038", "陈海波", false)};
  std::string detail;
  Encode(s, &detail);
  std::string measures;
  Encode(MeasuresResult{s, {}}, &measures);
  for (const std::string& payload : {detail, measures}) {
    absl::StatusOr<SubjectHead> head = DecodeSubjectHead(payload);
    ASSERT_TRUE(head.ok()) << head.status();
    EXPECT_EQ(head->id, s.id);
    EXPECT_EQ(head->kind, SubjectKind::kOrganization);
    EXPECT_TRUE(head->listed);
    EXPECT_FALSE(head->related);
  }
  s.listed = false;
  s.related = true;
  s.kind = SubjectKind::kPerson;
  std::string related;
  Encode(s, &related);
  absl::StatusOr<SubjectHead> head = DecodeSubjectHead(related);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_FALSE(head->listed);
  EXPECT_TRUE(head->related);
  EXPECT_EQ(head->kind, SubjectKind::kPerson);

  EXPECT_FALSE(DecodeSubjectHead(detail.substr(0, 1 + 18 + 1)).ok());  // no flags
  std::string bad_flags = detail;
  bad_flags[1 + 18 + 1] = 4;
  absl::StatusOr<SubjectHead> bad = DecodeSubjectHead(bad_flags);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("subject.flags"), absl::string_view::npos);
}

}  // namespace
}  // namespace shixin::wire
