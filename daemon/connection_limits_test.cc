#include "daemon/connection_limits.h"

#include <gtest/gtest.h>

namespace shixin {
namespace {

using Admission = ConnectionLimits::Admission;
namespace asio = boost::asio;

const asio::ip::address kA = asio::ip::make_address("192.0.2.1");
const asio::ip::address kB = asio::ip::make_address("192.0.2.2");

TEST(ConnectionLimitsTest, PerAddressLimitRefusesWithoutCounting) {
  ConnectionLimits limits(100, 2);
  EXPECT_EQ(limits.Admit(kA), Admission::kAdmitted);
  EXPECT_EQ(limits.Admit(kA), Admission::kAdmitted);
  EXPECT_EQ(limits.Admit(kA), Admission::kRefusedAddress);
  EXPECT_EQ(limits.Admit(kB), Admission::kAdmitted);
  EXPECT_EQ(limits.open(), 3);
  limits.Release(kA);
  EXPECT_EQ(limits.Admit(kA), Admission::kAdmitted);
}

TEST(ConnectionLimitsTest, IpV4AndItsMappedIpV6FormAreOneClient) {
  ConnectionLimits limits(100, 1);
  EXPECT_EQ(limits.Admit(kA), Admission::kAdmitted);
  EXPECT_EQ(limits.Admit(asio::ip::make_address("::ffff:192.0.2.1")), Admission::kRefusedAddress);
}

TEST(ConnectionLimitsTest, OverTheTotalAFewMayDisplaceIdleOnesThenAllAreRefused) {
  ConnectionLimits limits(2, 0);  // 0: no per-address limit
  EXPECT_EQ(limits.Admit(kA), Admission::kAdmitted);
  EXPECT_EQ(limits.Admit(kA), Admission::kAdmitted);
  for (uint32_t i = 0; i < ConnectionLimits::kEvictionSlack; ++i) {
    EXPECT_EQ(limits.Admit(kA), Admission::kMustEvict) << i;
  }
  EXPECT_EQ(limits.Admit(kB), Admission::kRefusedTotal);
  EXPECT_EQ(limits.open(), 2 + static_cast<int64_t>(ConnectionLimits::kEvictionSlack));
  limits.Release(kA);
  EXPECT_EQ(limits.Admit(kB), Admission::kMustEvict);
}

// A connection admitted kMustEvict that found none idle is closed: refused, as those Admit()
// refuses (shixin_connections_refused_total counted it not).
TEST(ConnectionLimitsTest, ANewcomerThatFoundNoneIdleIsCountedRefused) {
  ConnectionLimits limits(1, 0);
  EXPECT_EQ(limits.Admit(kA), Admission::kAdmitted);
  EXPECT_EQ(limits.Admit(kB), Admission::kMustEvict);
  limits.CountRefused();
  limits.Release(kB);
  EXPECT_EQ(limits.refused(), 1u);
  EXPECT_EQ(limits.open(), 1);
}

}  // namespace
}  // namespace shixin
