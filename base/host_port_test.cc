#include "base/host_port.h"

#include <string>

#include "gtest/gtest.h"

namespace shixin {
namespace {

std::string Error(std::string_view text, PortZero port_zero = PortZero::kRefuse) {
  absl::StatusOr<HostPort> hp = ParseHostPort(text, "address", port_zero);
  if (hp.ok()) return "ok";
  EXPECT_TRUE(absl::IsInvalidArgument(hp.status())) << hp.status();
  return std::string(hp.status().message());
}

TEST(HostPortTest, Parses) {
  absl::StatusOr<HostPort> hp = ParseHostPort("127.0.0.1:7411", "address", PortZero::kRefuse);
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 7411);
  hp = ParseHostPort("[::1]:65535", "address", PortZero::kRefuse);
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->port, 65535);
  hp = ParseHostPort("localhost:00080", "address", PortZero::kRefuse);
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(hp->host, "localhost");
  EXPECT_EQ(hp->port, 80);
}

TEST(HostPortTest, PortZeroOnlyWhenAllowed) {
  absl::StatusOr<HostPort> hp = ParseHostPort("[::]:0", "listen", PortZero::kAllow);
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(hp->host, "::");
  EXPECT_EQ(hp->port, 0);
  EXPECT_EQ(Error("host:0"),
            "address \"host:0\": the port is not in 1-65535 (expected HOST:PORT or [IPV6]:PORT)");
  EXPECT_EQ(Error("host:65536", PortZero::kAllow),
            "address \"host:65536\": the port is not in 0-65535 (expected HOST:PORT or "
            "[IPV6]:PORT)");
}

TEST(HostPortTest, MessagesNameTheAddressAndTheReason) {
  absl::StatusOr<HostPort> hp = ParseHostPort("nowhere", "listen", PortZero::kAllow);
  EXPECT_EQ(hp.status().message(),
            "listen \"nowhere\": no port (expected HOST:PORT or [IPV6]:PORT)");
  const auto reason = [](std::string_view text) {
    std::string message = Error(text);
    const size_t begin = message.find("\": ");
    const size_t end = message.rfind(" (expected");
    if (begin == std::string::npos || end == std::string::npos) return message;
    return message.substr(begin + 3, end - begin - 3);
  };
  EXPECT_EQ(reason("localhost"), "no port");
  EXPECT_EQ(reason("host:"), "no port");
  EXPECT_EQ(reason("[::1]:"), "no port");
  EXPECT_EQ(reason("::1:7411"), "an IPv6 address needs brackets");
  EXPECT_EQ(reason("[::1:7411"), "no closing ']'");
  EXPECT_EQ(reason("[::1]7411"), "no ':PORT' after ']'");
  EXPECT_EQ(reason("[::1]]:7411"), "no ':PORT' after ']'");
  EXPECT_EQ(reason(":7411"), "empty host");
  EXPECT_EQ(reason("[]:7411"), "empty host");
  EXPECT_EQ(reason("host:abc"), "the port is not a number");
  EXPECT_EQ(reason("host:+80"), "the port is not a number");
  EXPECT_EQ(reason("host:-1"), "the port is not a number");
  EXPECT_EQ(reason("host:8x"), "the port is not a number");
  EXPECT_EQ(reason("host:123456"), "the port is not in 1-65535");
  EXPECT_EQ(reason("host:99999999999999999999"), "the port is not in 1-65535");
  EXPECT_EQ(reason("host:99999"), "the port is not in 1-65535");
}

}  // namespace
}  // namespace shixin
