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

// Sends HELLO in Handshake() and fails it if `batch` or `depth` exceed the server's max_batch
// or max_in_flight. `scenario` filters MEASURES ("" = all).
std::unique_ptr<Codec> MakeShixinCodec(int batch, int depth, std::string scenario);

// Reloads shixind through its own admin connection; the tracker's window spans from the
// RELOAD sent to its answer.
class ShixinReloader {
 public:
  // Connects to `address` (a loopback address: RELOAD is refused from elsewhere by default).
  absl::Status Connect(const std::string& address);
  // Sends RELOAD and waits (up to 10 minutes) for its answer.
  absl::Status Reload(SwapTracker* swaps);

 private:
  std::unique_ptr<Client> client_;
};

}  // namespace shixin::loadtest

#endif  // SHIXIN_LOADTEST_SHIXIN_DRIVER_H_
