// HttpService routes the requests of the HTTP listener: it answers GET /healthz (alive) and
// GET /readyz (a list is loaded and not older than max_age_seconds, MEASURES is not refused
// for an audit that cannot be written, and the daemon is not stopping: what a load balancer
// checks) itself, and hands GET /metrics,
// GET /status and every path under /v1/ to the slots the daemon sets (an unset
// slot answers 404). HEAD is answered as GET (the listener drops the body). An unknown path answers
// 404 "not_found_path", a known path with another method 405 with Allow.
//
// Thread safety: Serve() may run on many threads at once; set the slots before serving. The
// slots must be thread-safe themselves. Serve() opens a SnapshotHolder::ReadSection: it runs
// on a thread that holds an RcuThread (the I/O threads do).
#ifndef SHIXIN_DAEMON_HTTP_SERVICE_H_
#define SHIXIN_DAEMON_HTTP_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "daemon/handler.h"
#include "daemon/http_message.h"
#include "daemon/snapshot_holder.h"

namespace shixin {

class HttpService {
 public:
  using Slot = std::function<HttpReply(const HttpRequest&)>;

  // `handler` decides staleness (its max_age_seconds), `holder` holds the list; both must
  // outlive the service. `clock` is the real one but in tests.
  HttpService(const Handler* handler, const SnapshotHolder* holder,
              Handler::Clock clock = NowSeconds);

  // Returns the reply to `request`. REQUIRES: request.peer != nullptr.
  HttpReply Serve(const HttpRequest& request) const;
  // From the stop on (SIGTERM), /readyz answers 503 "stopping": a balancer checking on a
  // connection still open takes the replica out while it drains. Any thread.
  void SetStopping() { stopping_.store(true, std::memory_order_relaxed); }

  // Set by the daemon before serving; empty: 404.
  Slot metrics;  // GET /metrics
  Slot status;   // GET /status
  Slot api;      // every method, /v1/...

 private:
  HttpReply Ready() const;

  const Handler* const handler_;
  const SnapshotHolder* const holder_;
  const Handler::Clock clock_;
  std::atomic<bool> stopping_{false};
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_HTTP_SERVICE_H_
