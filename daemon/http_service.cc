#include "daemon/http_service.h"

#include <string_view>
#include <utility>

#include "absl/strings/str_format.h"

namespace shixin {
namespace {

HttpReply Text(unsigned status, std::string body) {
  HttpReply reply;
  reply.status = status;
  reply.content_type = "text/plain; charset=utf-8";
  reply.body = std::move(body);
  return reply;
}

HttpReply MethodNotAllowed(std::string_view method, std::string_view allow) {
  HttpReply reply = HttpRefusal(
      405, "method_not_allowed",
      absl::StrFormat("%s is not allowed here; use %s", std::string(method), std::string(allow)));
  reply.headers.emplace_back("Allow", std::string(allow));
  return reply;
}

// Calls `slot`, or answers 404 if the daemon set none.
HttpReply Delegate(const HttpService::Slot& slot, const HttpRequest& request,
                   std::string_view what) {
  if (!slot) {
    return HttpRefusal(404, "not_found_path",
                       absl::StrFormat("%s is not served by this daemon", std::string(what)));
  }
  return slot(request);
}

}  // namespace

HttpService::HttpService(const Handler* handler, const SnapshotHolder* holder, Handler::Clock clock)
    : handler_(handler), holder_(holder), clock_(std::move(clock)) {}

HttpReply HttpService::Serve(const HttpRequest& request) const {
  std::string_view path = request.target;
  if (const size_t query = path.find('?'); query != std::string_view::npos) {
    path = path.substr(0, query);
  }
  // The JSON API routes its own methods.
  if (path.starts_with("/v1/")) return Delegate(api, request, "the JSON API");
  // HEAD is GET without the body (the connection drops it): load balancers probe with it.
  const bool get = request.method == "GET" || request.method == "HEAD";
  constexpr std::string_view kGet = "GET, HEAD";
  if (path == "/healthz") return get ? Text(200, "ok\n") : MethodNotAllowed(request.method, kGet);
  if (path == "/readyz") return get ? Ready() : MethodNotAllowed(request.method, kGet);
  if (path == "/metrics") {
    return get ? Delegate(metrics, request, "/metrics") : MethodNotAllowed(request.method, kGet);
  }
  // /status only, as /metrics: a path under it would slip past a balancer's exact-path rule
  // that keeps both from other hosts (deploy/haproxy/haproxy.cfg).
  if (path == "/status") {
    return get ? Delegate(status, request, "/status") : MethodNotAllowed(request.method, kGet);
  }
  return HttpRefusal(404, "not_found_path",
                     absl::StrFormat("no such path: %s", std::string(path.substr(0, 200))));
}

HttpReply HttpService::Ready() const {
  if (stopping_.load(std::memory_order_relaxed)) {
    return JsonError(503, "stopping",
                     "the daemon is stopping: it finishes the requests in flight and exits");
  }
  SnapshotHolder::ReadSection read(*holder_);
  const Dataset* d = read.dataset();
  if (d == nullptr) {  // the daemon exits if the first load fails
    return JsonError(503, "unavailable", "no list is loaded yet: the first load is running");
  }
  const int64_t now = clock_();
  if (handler_->IsStale(d, now)) {
    return JsonError(
        503, "unavailable",
        absl::StrFormat("the list is stale: its data is %d s old, past max_age_seconds",
                        now - d->source_time));
  }
  // A replica that refuses every MEASURES (audit_required) leaves the pool until its audit is
  // written again (the audit probes itself: no query needs to reach it).
  // The reason names state_dir's files and the error: /readyz asks for no credentials, so it
  // is left to the log and an admin's INFO.
  if (!handler_->MeasuresAudited().ok()) {
    return JsonError(503, "audit_unavailable",
                     "the audit cannot be written; MEASURES is refused (audit_required)");
  }
  return Text(200, "ready\n");
}

}  // namespace shixin
