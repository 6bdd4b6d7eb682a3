#include "core/link.h"

#include <gtest/gtest.h>

#include "core/types.h"

namespace shixin {
namespace {

TEST(LinkTest, EntityAboveThreeRoleBits) {
  EXPECT_EQ(EncodeLink(0, Role::kLegalRepresentative), 0u);
  EXPECT_EQ(EncodeLink(1, Role::kPrincipal), (1u << 3) | 1u);
  EXPECT_EQ(EncodeLink(5, Role::kSeniorManager), (5u << 3) | 6u);
}

TEST(LinkTest, MaxEntitiesIsTwentyNineBits) {
  EXPECT_EQ(kMaxEntities, (1u << 29) - 1);
  const uint32_t link = EncodeLink(kMaxEntities, Role::kSeniorManager);
  EXPECT_EQ(link, 0xFFFFFFFEu);
  EXPECT_EQ(DecodeLink(link).other, kMaxEntities);
}

TEST(LinkTest, RoundTripsEveryRole) {
  for (uint32_t other : {0u, 1u, 12345u, kMaxEntities}) {
    for (int r = 0; r < kRoleCount; ++r) {
      const DecodedLink d = DecodeLink(EncodeLink(other, static_cast<Role>(r)));
      EXPECT_EQ(d.other, other);
      EXPECT_EQ(d.role, static_cast<uint32_t>(r));
    }
  }
}

TEST(LinkTest, DecodeLeavesAnInvalidRoleForTheCaller) {
  const DecodedLink d = DecodeLink((7u << 3) | 7u);
  EXPECT_EQ(d.other, 7u);
  EXPECT_EQ(d.role, 7u);
  EXPECT_GE(d.role, static_cast<uint32_t>(kRoleCount));
}

}  // namespace
}  // namespace shixin
