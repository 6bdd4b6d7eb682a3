// HandlerTest: the fixture of the handler tests (handler_test.cc, handler_versions_test.cc,
// handler_callers_test.cc): a Handler over the sample list, called one frame at a time as a
// connection would.
//
// Thread safety: a fixture belongs to its test's thread.
#ifndef SHIXIN_DAEMON_HANDLER_TEST_FIXTURE_H_
#define SHIXIN_DAEMON_HANDLER_TEST_FIXTURE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/validity.h"
#include "daemon/config.h"
#include "daemon/handler.h"
#include "daemon/handler_test_util.h"
#include "daemon/reloader.h"
#include "daemon/snapshot_holder.h"
#include "gtest/gtest.h"
#include "protocol/wire.h"

namespace shixin::handler_testing {

// Returns a request header for `op` #`id` (the header's defaults otherwise: no payload size).
inline wire::FrameHeader Request(wire::Opcode op, uint32_t id) {
  wire::FrameHeader h;
  h.opcode = static_cast<uint8_t>(op);
  h.request_id = id;
  return h;
}

class HandlerTest : public ::testing::Test {
 protected:
  HandlerTest() {
    config_.max_batch = 5;
    config_.max_payload = 4096;
  }

  // Publishes the sample list and makes the handler.
  void Start(std::unique_ptr<Dataset> dataset = Sample()) {
    if (dataset != nullptr) holder_.Publish(std::move(dataset));
    handler_ = std::make_unique<Handler>(config_, &holder_, clock_);
  }

  // Sends one request; returns the single response and checks the handler's verdict.
  Answer Call(wire::Opcode op, std::string_view payload,
              Handler::Next expected = Handler::Next::kContinue, bool admin = true) {
    return CallRaw(static_cast<uint8_t>(op), payload, expected, admin);
  }
  Answer CallRaw(uint8_t op, std::string_view payload, Handler::Next expected, bool admin = true) {
    wire::FrameHeader h;
    h.version = session_.version;  // requests carry the connection's version
    h.opcode = op;
    h.request_id = ++last_id_;
    std::string out;
    EXPECT_EQ(handler_->Handle(h, payload, Peer{"test", admin}, &out, &reload_, &session_),
              expected);
    // The response speaks the version of the request (HELLO's answer too).
    std::vector<Answer> frames = Frames(out, h.version);
    EXPECT_EQ(frames.size(), 1u);
    if (frames.empty()) return {};
    EXPECT_EQ(frames[0].header.request_id, last_id_);
    EXPECT_EQ(frames[0].header.opcode, op);
    EXPECT_TRUE(frames[0].header.flags & wire::kFlagResponse);
    return frames[0];
  }

  // Answers the complete frames of `input` one by one on `session`, each after a LookAhead()
  // over the rest when `look_ahead`; returns the responses.
  std::string AnswerAll(std::string_view input, Session& session, bool look_ahead) {
    std::string out;
    while (!input.empty()) {
      if (look_ahead) handler_->LookAhead(input, session);
      const wire::Decoded frame = wire::DecodeFrame(input, config_.max_payload, session.version);
      EXPECT_EQ(frame.result, wire::DecodeResult::kComplete);
      if (frame.result != wire::DecodeResult::kComplete) break;
      ReloadRequest reload;
      handler_->Handle(frame.header, frame.payload, Peer{"test", false}, &out, &reload, &session);
      input.remove_prefix(frame.consumed);
    }
    return out;
  }

  RcuThread rcu_;
  Config config_;
  SnapshotHolder holder_;
  std::unique_ptr<Handler> handler_;
  ReloadRequest reload_;  // what the last accepted RELOAD asked for
  uint32_t last_id_ = 0;
  Session session_;                    // of the one connection the calls come on
  Handler::Clock clock_ = NowSeconds;  // set before Start()
};

}  // namespace shixin::handler_testing

#endif  // SHIXIN_DAEMON_HANDLER_TEST_FIXTURE_H_
