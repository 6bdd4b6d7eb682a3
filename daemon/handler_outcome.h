// Handler::Outcome, the status of one answer, and Printable(): what the handler's sources
// (handler.cc, handler_queries.cc) share. Private to them: no other file includes it.
#ifndef SHIXIN_DAEMON_HANDLER_OUTCOME_H_
#define SHIXIN_DAEMON_HANDLER_OUTCOME_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "base/terminal.h"
#include "daemon/handler.h"
#include "protocol/wire.h"

namespace shixin {

// The status of one answer; the payload is already in the response when status is kOk.
struct Handler::Outcome {
  wire::Status status = wire::Status::kOk;
  std::string message;
  uint32_t retry_after_ms = 0;  // kRateLimited

  static Outcome Ok() { return {}; }
  static Outcome Error(wire::Status status, std::string message) {
    return {status, std::move(message)};
  }
  // A core error: the wire code comes from the one mapping.
  static Outcome FromCore(const absl::Status& s) {
    return {wire::FromAbsl(s), std::string(s.message())};
  }
  static Outcome BadPayload(wire::Opcode op, const absl::Status& s) {
    return {wire::Status::kBadPayload,
            absl::StrFormat("%s payload: %s", wire::OpcodeName(op), s.message())};
  }
};

// Returns a client's text as a message or a log line quotes it: its first 64 bytes, escaped
// (TerminalSafe) so that it cannot forge log lines nor make the message other than UTF-8.
inline std::string Printable(std::string_view s) { return TerminalSafe(wire::TruncateUtf8(s, 64)); }

}  // namespace shixin

#endif  // SHIXIN_DAEMON_HANDLER_OUTCOME_H_
