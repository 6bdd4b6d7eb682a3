// The shixind side of the load tool: a Codec for the shixin binary protocol (CHECK and
// MEASURES, pipelined, matched by request id) and the RELOAD of the admin connection.
//
// Expected answers: a hit is "listed", a related person "related", a miss "unlisted"; for
// MEASURES the subject block's flags say the same.
//
// Thread safety: a ShixinCodec belongs to one connection (one thread).
#ifndef SHIXIN_LOADTEST_SHIXIN_DRIVER_H_
#define SHIXIN_LOADTEST_SHIXIN_DRIVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "loadtest/driver.h"
#include "protocol/client.h"

namespace shixin::loadtest {

// How the load connections talk to shixind.
struct ShixinOptions {
  int batch = 1;
  int depth = 1;
  std::string scenario;     // MEASURES' filter ("" = all)
  Credentials credentials;  // sent in HELLO (version 3) when not empty
  // The highest version HELLO offers: 1 to 3; 0: 3 with credentials, else 1.
  uint8_t max_version = 0;
};

// Sends HELLO in Handshake() and fails it if the server refuses it (Unauthenticated, naming the
// status and its message), agrees a version below 3 for credentials, or if `batch` or `depth`
// exceed the server's max_batch or max_in_flight. Every later frame uses the agreed version.
std::unique_ptr<Codec> MakeShixinCodec(const ShixinOptions& options);

// Reloads shixind through its own admin connection; the tracker's window spans from the
// RELOAD sent to its answer.
class ShixinReloader {
 public:
  // Connects to `address` (a loopback address: RELOAD is refused from elsewhere by default)
  // and, with `credentials`, authenticates in HELLO (RELOAD then needs the admin scope).
  absl::Status Connect(const std::string& address, const Credentials& credentials = {});
  // Sends RELOAD and waits (up to 10 minutes) for its answer.
  absl::Status Reload(SwapTracker* swaps);

 private:
  std::unique_ptr<Client> client_;
};

}  // namespace shixin::loadtest

#endif  // SHIXIN_LOADTEST_SHIXIN_DRIVER_H_
