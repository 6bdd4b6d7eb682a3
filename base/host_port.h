// Network addresses as people write them: "HOST:PORT", or "[IPV6]:PORT" (an IPv6 address
// needs the brackets, since it contains colons). HOST may be a name or a numeric address.
// Parsing only; base/socket.h connects.
//
// Thread safety: a plain value and a pure function.
#ifndef SHIXIN_BASE_HOST_PORT_H_
#define SHIXIN_BASE_HOST_PORT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace shixin {

struct HostPort {
  std::string host;  // without the brackets
  uint16_t port = 0;
};

// Whether port 0 is accepted: a listener takes it to mean "pick a free port", a client cannot
// connect to it.
enum class PortZero { kRefuse, kAllow };

// Parses "HOST:PORT" or "[IPV6]:PORT"; PORT is 1 to 5 decimal digits. Returns InvalidArgument
// for anything else, with the message `<what> "<text>": <reason> (expected HOST:PORT or
// [IPV6]:PORT)`, where the reason names the first thing wrong (a missing ']', no port, an
// IPv6 address without brackets, an empty host, a port that is not a number or out of range).
absl::StatusOr<HostPort> ParseHostPort(std::string_view text, std::string_view what,
                                       PortZero port_zero);

}  // namespace shixin

#endif  // SHIXIN_BASE_HOST_PORT_H_
