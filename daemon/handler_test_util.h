// Helpers of the tests that drive a Handler (handler_test.cc and the fixture of
// handler_test_fixture.h, auditor_test.cc, http_service_test.cc, ...): the sample list and the
// decoding of the frames a Handler appended.
//
// Thread safety: plain functions and values.
#ifndef SHIXIN_DAEMON_HANDLER_TEST_UTIL_H_
#define SHIXIN_DAEMON_HANDLER_TEST_UTIL_H_

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "callers/caller.h"
#include "callers/token.h"
#include "core/test_util.h"
#include "daemon/reloader.h"
#include "gtest/gtest.h"
#include "protocol/messages.h"
#include "protocol/test_messages.h"
#include "protocol/wire.h"

namespace shixin::handler_testing {

using testing::SourceDir;

inline DatasetSource SampleSource() {
  return DatasetSource{SourceDir() + "/data/sample",
                       SourceDir() + "/data/measures/hegang-2018.json", 0};
}

// Returns the sample list, its source time set to `source_time` (0: the files' own).
inline std::unique_ptr<Dataset> Sample(int64_t source_time = 0) {
  absl::StatusOr<std::unique_ptr<Dataset>> d = LoadDataset(SampleSource());
  EXPECT_TRUE(d.ok()) << d.status();
  if (source_time != 0) (*d)->source_time = source_time;
  return *std::move(d);
}

// One response frame, decoded from what the handler appended.
struct Answer {
  wire::FrameHeader header;
  std::string payload;
  wire::Status status() const { return static_cast<wire::Status>(header.status); }
  bool stale() const { return (header.flags & wire::kFlagStale) != 0; }
  std::string error() const { return *wire::DecodeError(payload); }
};

// Decodes every frame in `out`, frames of a connection of `version`.
inline std::vector<Answer> Frames(std::string_view out, uint8_t version = wire::kVersion) {
  std::vector<Answer> frames;
  while (!out.empty()) {
    const wire::Decoded d = wire::DecodeFrame(out, wire::kMaxPayloadLimit, version);
    EXPECT_EQ(d.result, wire::DecodeResult::kComplete);
    if (d.result != wire::DecodeResult::kComplete) break;
    frames.push_back(Answer{d.header, std::string(d.payload)});
    out.remove_prefix(d.consumed);
  }
  return frames;
}

// Returns the payload of `request` in `version`.
template <typename Request>
std::string Payload(const Request& request, uint8_t version = wire::kVersion) {
  return wire::Enc(request, version);
}

// Returns a caller `id` with `scopes`, `view`, `rate` and `burst`, holding a fresh token, which
// is stored in `*token`.
inline Caller MakeCaller(std::string id, ScopeSet scopes, View view, double rate, uint32_t burst,
                         std::string* token) {
  Caller c;
  c.id = std::move(id);
  c.name = "Caller " + c.id;
  c.sector = "other";
  c.scopes = scopes;
  c.view = view;
  c.rate = rate;
  c.burst = burst;
  *token = *NewToken();
  c.token_hashes = {HashToken(*token)};
  return c;
}

}  // namespace shixin::handler_testing

#endif  // SHIXIN_DAEMON_HANDLER_TEST_UTIL_H_
