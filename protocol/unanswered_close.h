// Why a server closes a new connection before answering anything: a load balancer with no
// server to send it to (HAProxy when every replica is down: docs/replicas.md) accepts it and closes
// it, shixind closes a connection over its limits at once, unread and unanswered (FORMAT.md 1),
// and so does a TLS listener reached in plain TCP (the daemon logs "wrong version number"). One
// wording for every client that reports such a close (protocol/client.cc, the load tool's HELLO).
//
// Thread safety: a pure function.
#ifndef SHIXIN_PROTOCOL_UNANSWERED_CLOSE_H_
#define SHIXIN_PROTOCOL_UNANSWERED_CLOSE_H_

#include <string>

#include "absl/strings/str_cat.h"

namespace shixin {

// Returns what such a close may mean, for a client with `tls` or without, the balancer first (the
// documented deployment puts one in front of the replicas): "a load balancer with no server
// available ... closes new connections so, as does a server at its connection limit, e.g.
// max_connections_per_ip[, or a TLS port reached without TLS]".
inline std::string UnansweredCloseHint(bool tls) {
  return absl::StrCat(
      "a load balancer with no server available, e.g. HAProxy with every replica down, closes new "
      "connections so, as does a server at its connection limit, e.g. max_connections_per_ip",
      tls ? "" : ", or a TLS port reached without TLS");
}

}  // namespace shixin

#endif  // SHIXIN_PROTOCOL_UNANSWERED_CLOSE_H_
