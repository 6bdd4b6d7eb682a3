#include "daemon/http_message.h"

#include <atomic>
#include <nlohmann/json.hpp>

#include "base/terminal.h"

namespace shixin {
namespace {

std::array<std::atomic<uint64_t>, kHttpRefusalCodes.size()>& RefusalCounts() {
  static auto* counts = new std::array<std::atomic<uint64_t>, kHttpRefusalCodes.size()>();
  return *counts;
}

}  // namespace

HttpReply JsonError(unsigned status, std::string_view code, std::string_view message) {
  nlohmann::json body;
  body["error"]["code"] = std::string(code);
  // UTF-8 without controls, whatever bytes of the request it quotes (values quoted in it were
  // escaped where they were quoted): nothing for the replacement below to do.
  body["error"]["message"] = TerminalSafe(message, Quoting::kKept);
  HttpReply reply;
  reply.status = status;
  reply.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return reply;
}

HttpReply HttpRefusal(unsigned status, std::string_view code, std::string_view message) {
  for (size_t i = 0; i < kHttpRefusalCodes.size(); ++i) {
    if (kHttpRefusalCodes[i] == code) RefusalCounts()[i].fetch_add(1, std::memory_order_relaxed);
  }
  return JsonError(status, code, message);
}

uint64_t HttpRefusals(size_t index) {
  return RefusalCounts()[index].load(std::memory_order_relaxed);
}

}  // namespace shixin
