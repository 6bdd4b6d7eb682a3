#include "daemon/http_message.h"

#include <nlohmann/json.hpp>

namespace shixin {

HttpReply JsonError(unsigned status, std::string_view code, std::string_view message) {
  nlohmann::ordered_json error;
  error["code"] = code;
  error["message"] = message;
  nlohmann::ordered_json body;
  body["error"] = std::move(error);
  HttpReply reply;
  reply.status = status;
  // Invalid UTF-8 in a message becomes U+FFFD (the default would throw: abort here).
  reply.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return reply;
}

}  // namespace shixin
