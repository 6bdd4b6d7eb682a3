#include "base/host_port.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace shixin {

absl::StatusOr<HostPort> ParseHostPort(std::string_view text, std::string_view what,
                                       PortZero port_zero) {
  const auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s \"%s\": %s (expected HOST:PORT or [IPV6]:PORT)", what, text, why));
  };
  HostPort hp;
  std::string_view port;
  if (text.starts_with("[")) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("no closing ']'");
    hp.host = std::string(text.substr(1, close - 1));
    const std::string_view rest = text.substr(close + 1);
    if (!rest.starts_with(":")) return bad("no ':PORT' after ']'");
    port = rest.substr(1);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    hp.host = std::string(text.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) return bad("an IPv6 address needs brackets");
    port = text.substr(colon + 1);
  }
  if (hp.host.empty()) return bad("empty host");
  if (port.empty()) return bad("no port");
  if (port.find_first_not_of("0123456789") != std::string_view::npos) {
    return bad("the port is not a number");
  }
  // Six digits or more are a number too, only out of range (saturated: no overflow).
  uint32_t number = 0;
  for (char c : port) {
    number = std::min<uint32_t>(number * 10 + static_cast<uint32_t>(c - '0'), 65536);
  }
  const uint32_t min = port_zero == PortZero::kAllow ? 0 : 1;
  if (number < min || number > 65535) {
    return bad(absl::StrFormat("the port is not in %d-65535", min));
  }
  hp.port = static_cast<uint16_t>(number);
  return hp;
}

}  // namespace shixin
