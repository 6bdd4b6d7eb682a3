// JsonApi: shixind's JSON query API (issue 13; docs/openapi.yaml), independent of the HTTP
// transport that feeds it (daemon/http_service.h routes everything under /v1/ here).
//
//   POST /v1/check          {"ids": [...], "matter", "operator", "purpose", "asOf"}
//   POST /v1/measures       {"id", "agency", "scenario", "officers": [{"role", "id"}], ...}
//   GET  /v1/subjects/{id}  [?asOf=RFC 3339]
//   POST /v1/feedback       {"receipt", "operator", "applied", "notApplied", "cancelled"}
//
// Each request is translated into the binary protocol's request (version 4, encoded by the
// protocol's own encoders) and answered by Handler::Handle for a session holding the grant of
// the caller whose bearer token the request carries (Authorization: Bearer <token>; in open
// mode none is needed). So scopes, masking, rate limits and the audit are exactly the binary
// path's. The response is decoded with the protocol's decoders and rendered with the CLI's
// --json functions (protocol/render.h); the names a CHECK answer cuts to its str8 field come
// whole from the handler on the side (Session::whole_names), as /v1/measures gives them. Errors
// are JsonError bodies with a stable code: the lower-case wire::Status name (HttpStatusOf) or an
// HTTP-level code ("bad_request", "unsupported_media_type", "not_found_path",
// "method_not_allowed").
//
// Thread safety: Serve() is const and may be called from many threads at once. REQUIRES: the
// calling thread holds an RcuThread (as for Handler::Handle).
#ifndef SHIXIN_DAEMON_JSON_API_H_
#define SHIXIN_DAEMON_JSON_API_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/access.h"
#include "daemon/handler.h"
#include "daemon/http_message.h"
#include "protocol/wire.h"

namespace shixin {

// The HTTP status and the stable error code for a wire status.
struct HttpStatusCode {
  unsigned status = 200;
  std::string_view code;  // e.g. "rate_limited"; "ok" for kOk
};
// Returns how the JSON API answers a binary answer of `status`: RATE_LIMITED 429,
// UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404, INVALID_ID, INVALID_ARGUMENT,
// OUT_OF_RANGE and BAD_PAYLOAD 400, UNAVAILABLE, BUSY, STALE_REFUSED and AUDIT_UNAVAILABLE 503,
// FRAME_TOO_LARGE 413, the rest 500. The one place of that mapping.
HttpStatusCode HttpStatusOf(wire::Status status);

// Returns the JSON error reply for a binary error answer: HttpStatusOf(status) with `message`,
// plus Retry-After (whole seconds, rounded up) for RATE_LIMITED and WWW-Authenticate: Bearer
// for UNAUTHENTICATED.
HttpReply WireErrorReply(wire::Status status, std::string_view message,
                         uint32_t retry_after_ms = 0);

class JsonApi {
 public:
  // `handler` answers the requests; `access` authenticates the bearer tokens (null: open mode).
  // Both must outlive the JsonApi.
  JsonApi(const Handler* handler, Access* access);

  // Returns the reply to `request`, whose target is under /v1/. REQUIRES: request.peer != null.
  HttpReply Serve(const HttpRequest& request) const;

 private:
  // One binary request answered: the response frame's header and payload.
  struct Answer {
    wire::FrameHeader header;
    std::string payload;
  };

  HttpReply Check(const HttpRequest& request, Session& session) const;
  HttpReply Measures(const HttpRequest& request, Session& session) const;
  HttpReply Subject(const HttpRequest& request, std::string_view id, std::string_view query,
                    Session& session) const;
  HttpReply Feedback(const HttpRequest& request, Session& session) const;

  // Returns the caller's grant from the Authorization header, or the Unauthenticated error.
  absl::StatusOr<std::shared_ptr<const Grant>> Authenticate(const HttpRequest& request) const;
  // Sends `op` with `payload` through the handler on `session` and syncs the audit, answering
  // again without records when it cannot be written (as Connection::SyncAudit does).
  Answer Call(wire::Opcode op, std::string_view payload, const Peer& peer, Session& session) const;
  // Returns the error reply for a non-OK answer.
  static HttpReply ErrorOf(const Answer& answer);
  // Returns `object` (a JSON object) with "version", "source_time", "delta_sequence",
  // "generation" and "stale" of `answer`.
  std::string WithList(std::string object, const Answer& answer) const;

  const Handler* const handler_;
  std::unique_ptr<Access> own_access_;  // open mode when none is given
  Access* const access_;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_JSON_API_H_
