// libFuzzer target for the JSON API (daemon/json_api.h): what any HTTP client can send to
// /v1/. The first input byte picks the request (POST /v1/check, /v1/measures, /v1/feedback,
// GET /v1/subjects/<rest>, or an arbitrary method and target), the rest is the body (or the
// path). The API answers from a Handler over the sample list, in open mode, with an audit in a
// temporary directory, as shixind would. Beyond the sanitizers it checks that every reply has
// an HTTP status in 200..599 and that every error reply is the documented JSON error object.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "daemon/auditor.h"
#include "daemon/config.h"
#include "daemon/handler.h"
#include "daemon/json_api.h"
#include "daemon/snapshot_holder.h"

namespace shixin {
namespace {

void Expect(bool ok, const char* what, std::string_view body) {
  if (!ok) {
    std::fprintf(stderr, "json_api_fuzzer: %s: %.*s\n", what, static_cast<int>(body.size()),
                 body.data());
    std::abort();
  }
}

// The daemon's side, made once: the sample list, an audit, the Handler and the API.
struct World {
  World() {
    const char* source = std::getenv("SHIXIN_SOURCE_DIR");
    const std::string root = source != nullptr ? source : ".";
    absl::StatusOr<std::unique_ptr<Dataset>> d = LoadDataset(
        DatasetSource{root + "/data/sample", root + "/data/measures/hegang-2018.json", 0});
    if (!d.ok()) {
      std::fprintf(stderr,
                   "json_api_fuzzer: run from the source tree or set SHIXIN_SOURCE_DIR: %s\n",
                   std::string(d.status().message()).c_str());
      std::exit(1);
    }
    holder.Publish(*std::move(d));
    config.state_dir =
        (std::filesystem::temp_directory_path() / ("json_api_fuzzer." + std::to_string(getpid())))
            .string();
    std::filesystem::create_directories(config.state_dir);
    state_dir = config.state_dir;
    std::atexit([] { std::filesystem::remove_all(state_dir); });
    absl::StatusOr<std::unique_ptr<Auditor>> a = Auditor::Open(config, {}, nullptr);
    if (a.ok()) auditor = *std::move(a);
    handler =
        std::make_unique<Handler>(config, &holder, NowSeconds, nullptr, nullptr, auditor.get());
    api = std::make_unique<JsonApi>(handler.get(), nullptr);
  }

  static inline std::string state_dir;  // removed at exit
  RcuThread rcu;
  Config config;
  SnapshotHolder holder;
  std::unique_ptr<Auditor> auditor;
  std::unique_ptr<Handler> handler;
  std::unique_ptr<JsonApi> api;
};

}  // namespace
}  // namespace shixin

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using shixin::Expect;
  static shixin::World* world = new shixin::World();
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string target;
  shixin::HttpRequest request;
  request.content_type = "application/json";
  request.method = "POST";
  switch (data[0] % 5) {
    case 0:
      target = "/v1/check";
      request.body = rest;
      break;
    case 1:
      target = "/v1/measures";
      request.body = rest;
      break;
    case 2:
      target = "/v1/feedback";
      request.body = rest;
      break;
    case 3:
      request.method = "GET";
      target = "/v1/subjects/" + std::string(rest);
      break;
    default: {  // "<method> <target>\n<body>"
      const size_t space = rest.find(' ');
      const size_t line = rest.find('\n');
      if (space == std::string_view::npos || line == std::string_view::npos || line < space) {
        return 0;
      }
      request.method = rest.substr(0, space);
      target = std::string(rest.substr(space + 1, line - space - 1));
      if (!target.starts_with("/v1/")) target = "/v1/" + target;
      request.body = rest.substr(line + 1);
    }
  }
  request.target = target;
  const shixin::Peer peer{"127.0.0.1:40000", true, {}};
  request.peer = &peer;
  const shixin::HttpReply reply = world->api->Serve(request);
  Expect(reply.status >= 200 && reply.status <= 599, "HTTP status out of range", reply.body);
  if (reply.status >= 400) {
    const nlohmann::json body = nlohmann::json::parse(reply.body, nullptr, false);
    Expect(!body.is_discarded() && body.is_object() && body.contains("error") &&
               body["error"].is_object() && body["error"].contains("code") &&
               body["error"]["code"].is_string() && body["error"].contains("message"),
           "an error reply that is not {\"error\":{\"code\",\"message\"}}", reply.body);
  }
  return 0;
}
