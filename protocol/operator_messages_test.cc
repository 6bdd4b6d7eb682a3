#include "protocol/operator_messages.h"

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "core/catalog.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/test_messages.h"

namespace shixin::wire {
namespace {

using ::testing::HasSubstr;

// DescribeCatalog() lists the catalog's agencies, scenarios and measures in its order, each
// measure with its agency's id and the ids of its scenarios.
TEST(OperatorMessagesTest, DescribeCatalog) {
  absl::StatusOr<Catalog> catalog = Catalog::Parse(R"({
    "id": "t", "title": "T",
    "scenarios": [{"id": "hotel", "description": "Hotels."}, {"id": "travel"}],
    "agencies": [{"id": "a", "section": "（一）", "name": "甲"}, {"id": "b", "name": "乙"}],
    "measures": [
      {"no": 2, "agency": "a", "title": "二", "clause": "c", "subjects": ["person"],
       "effect": "review", "scenarios": ["travel", "hotel"]},
      {"no": 1, "agency": "b", "title": "一", "clause": "c", "subjects": ["organization"],
       "effect": "restrict"}]})",
                                                   "t.json");
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  const CatalogResponse c = DescribeCatalog(*catalog);
  EXPECT_EQ(c.id, "t");
  EXPECT_EQ(c.title, "T");
  EXPECT_EQ(c.fingerprint, catalog->fingerprint());
  ASSERT_EQ(c.agencies.size(), 2u);
  EXPECT_EQ(c.agencies[0].id, "a");
  EXPECT_EQ(c.agencies[0].section, "（一）");
  EXPECT_EQ(c.agencies[1].name, "乙");
  ASSERT_EQ(c.scenarios.size(), 2u);
  EXPECT_EQ(c.scenarios[0].description, "Hotels.");
  EXPECT_EQ(c.scenarios[1].description, "");
  ASSERT_EQ(c.measures.size(), 2u);
  EXPECT_EQ(c.measures[0].no, 1);
  EXPECT_EQ(c.measures[0].agency, "b");
  EXPECT_TRUE(c.measures[0].scenarios.empty());
  EXPECT_EQ(c.measures[1].no, 2);
  EXPECT_EQ(c.measures[1].effect, Effect::kReview);
  EXPECT_EQ(c.measures[1].scenarios, (std::vector<std::string>{"hotel", "travel"}));
}

// FORMAT.md 8.6: empty, or one non-zero flags byte without reserved bits. (Not among the
// Samples: its empty prefix is a valid request.)
TEST(OperatorMessagesTest, ReloadRequestFlags) {
  EXPECT_EQ(Enc(ReloadRequest{}), "");
  EXPECT_EQ(Enc(ReloadRequest{.allow_shrink = true}), "\x01");
  absl::StatusOr<ReloadRequest> r = DecodeReloadRequest("");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->allow_shrink);
  r = DecodeReloadRequest("\x01");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->allow_shrink);
  for (std::string_view bad : {std::string_view("\x00", 1), std::string_view("\x02"),
                               std::string_view("\x81"), std::string_view("\x01\x00", 2)}) {
    r = DecodeReloadRequest(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(r.status()))
        << absl::CEscape(absl::string_view(bad.data(), bad.size()));
  }
  EXPECT_THAT(DecodeReloadRequest("\x03").status().message(), HasSubstr("reserved bits"));
}

}  // namespace
}  // namespace shixin::wire
