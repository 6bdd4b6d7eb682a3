// Client::DetailEach() and MeasuresEach(): many requests in flight, answered in order, each
// error in its place, and the unanswered rest asked again on a new connection after a loss.
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "protocol/client.h"
#include "protocol/client_test_util.h"

namespace shixin {
namespace {

// Answers HELLO (version 1, max_in_flight 8), DETAIL and MEASURES: IDs starting with "1" are
// listed, "bad" is INVALID_ID; a MEASURES answer names its scenario as the subject's name. The
// DETAIL or MEASURES numbered `cut` (counting from 1 over all connections) gets half its answer
// and the connection closed.
struct PipelineFake {
  int cut = 0;
  std::atomic<int> hellos{0};
  std::atomic<int> queries{0};

  std::string operator()(const FrameHeader& h, std::string_view payload) {
    std::string out;
    CheckResult subject;
    switch (static_cast<Opcode>(h.opcode)) {
      case Opcode::kHello:
        ++hellos;
        wire::Encode(wire::HelloResponse{1, 0, 1 << 20, 1000, 8, "fake/1", "hegang-2018"}, &out);
        return Respond(h, out);
      case Opcode::kDetail: {
        absl::StatusOr<wire::DetailRequest> r = wire::DecodeDetailRequest(payload);
        if (!r.ok()) return ErrorResponse(h, wire::Status::kBadPayload, "bad DETAIL");
        subject.id = r->id;
        break;
      }
      case Opcode::kMeasures: {
        absl::StatusOr<wire::MeasuresRequest> r = wire::DecodeMeasuresRequest(payload);
        if (!r.ok()) return ErrorResponse(h, wire::Status::kBadPayload, "bad MEASURES");
        subject.id = r->id;
        subject.name = r->scenario;
        break;
      }
      default:
        return ErrorResponse(h, wire::Status::kUnknownOpcode, "unknown opcode");
    }
    const int n = ++queries;
    std::string reply;
    if (subject.id == "bad") {
      reply = ErrorResponse(h, wire::Status::kInvalidId, "wrong length");
    } else {
      subject.listed = subject.id.starts_with("1");
      if (static_cast<Opcode>(h.opcode) == Opcode::kDetail) {
        wire::Encode(subject, &out);
      } else {
        wire::Encode(MeasuresResult{subject, {}}, &out);
      }
      reply = Respond(h, out);
    }
    if (n == cut) return LoopbackServer::kClose + reply.substr(0, reply.size() / 2);
    return reply;
  }
};

// 200 IDs, every seventh "bad", the others alternately listed ("1...") and not ("2...").
std::vector<std::string> Ids() {
  std::vector<std::string> ids;
  ids.reserve(200);
  for (int i = 0; i < 200; ++i) {
    ids.push_back(i % 7 == 3 ? "bad" : std::to_string(1 + i % 2) + std::to_string(1000 + i));
  }
  return ids;
}

class ClientPipelineTest : public ::testing::Test {
 protected:
  // Starts the fake and a client that said HELLO to it with `options`.
  void Start(const ClientOptions& options, int cut = 0) {
    fake_->cut = cut;
    server_ = LoopbackServer::Start(
        AF_INET,
        [fake = fake_](const FrameHeader& h, std::string_view p) { return (*fake)(h, p); });
    ASSERT_NE(server_, nullptr);
    absl::StatusOr<std::unique_ptr<Client>> client =
        Client::Connect(server_->address(), absl::Seconds(5));
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    client_->set_timeout(absl::Seconds(10));
    client_->set_options(options);
    ASSERT_TRUE(client_->Hello("pipeline-test").ok());
  }

  // Asks DETAIL of `ids`; expects answers 0, 1, ... in order (`answered` of them), each the
  // fake's answer to its ID. Returns DetailEach()'s status.
  absl::Status DetailOf(const std::vector<std::string>& ids, size_t* answered) {
    *answered = 0;
    return client_->DetailEach(
        ids, wire::kAsOfNow, 64, [&](size_t i, absl::StatusOr<Reply<CheckResult>> reply) {
          EXPECT_EQ(i, *answered);
          ++*answered;
          if (ids[i] == "bad") {
            EXPECT_TRUE(absl::IsInvalidArgument(reply.status())) << i << ": " << reply.status();
            return;
          }
          ASSERT_TRUE(reply.ok()) << i << ": " << reply.status();
          EXPECT_EQ(reply->value.id, ids[i]);
          EXPECT_EQ(reply->value.listed, ids[i].starts_with("1")) << i;
        });
  }

  std::shared_ptr<PipelineFake> fake_ = std::make_shared<PipelineFake>();
  std::unique_ptr<LoopbackServer> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(ClientPipelineTest, EveryIdIsAnsweredInOrderWithItsErrorInPlace) {
  Start(ClientOptions{});
  size_t answered = 0;
  const std::vector<std::string> ids = Ids();
  EXPECT_TRUE(DetailOf(ids, &answered).ok());
  EXPECT_EQ(answered, ids.size());
  EXPECT_EQ(fake_->queries, 200);
  // The connection stays usable for single calls.
  absl::StatusOr<Reply<CheckResult>> one = client_->Detail("1999");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_TRUE(one->value.listed);
}

TEST_F(ClientPipelineTest, MeasuresEachAsksTheSameRequestForEachId) {
  Start(ClientOptions{});
  wire::MeasuresRequest request;
  request.scenario = "hotel";
  request.id = "ignored";
  const std::vector<std::string> ids = Ids();
  size_t answered = 0;
  const absl::Status s = client_->MeasuresEach(
      request, ids, 16, [&](size_t i, absl::StatusOr<Reply<MeasuresResult>> reply) {
        EXPECT_EQ(i, answered++);
        if (ids[i] == "bad") {
          EXPECT_TRUE(absl::IsInvalidArgument(reply.status())) << reply.status();
          return;
        }
        ASSERT_TRUE(reply.ok()) << reply.status();
        EXPECT_EQ(reply->value.subject.id, ids[i]);
        EXPECT_EQ(reply->value.subject.name, "hotel");
      });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(answered, ids.size());
}

TEST_F(ClientPipelineTest, ALossAsksTheUnansweredRestOnANewConnection) {
  Start(ClientOptions{}, /*cut=*/50);
  size_t answered = 0;
  const std::vector<std::string> ids = Ids();
  EXPECT_TRUE(DetailOf(ids, &answered).ok());
  EXPECT_EQ(answered, ids.size());
  EXPECT_EQ(client_->reconnects(), 1u);
  EXPECT_EQ(fake_->hellos, 2);  // the new connection said HELLO as the first did
  // The 50th and those sent behind it (at most max_in_flight in all) were asked twice.
  EXPECT_GT(fake_->queries, 200);
  EXPECT_LE(fake_->queries, 200 + 8);
}

TEST_F(ClientPipelineTest, WithoutRetriesALossEndsTheStream) {
  Start(ClientOptions{.retry_idempotent = false}, /*cut=*/50);
  size_t answered = 0;
  const absl::Status s = DetailOf(Ids(), &answered);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_EQ(answered, 49u);  // those before the cut one
  EXPECT_EQ(client_->reconnects(), 0u);
}

TEST_F(ClientPipelineTest, NoGoingBackAndOversizedIdsAreRefusedBeforeSending) {
  Start(ClientOptions{.no_going_back = true});
  size_t answered = 0;
  EXPECT_TRUE(absl::IsFailedPrecondition(DetailOf(Ids(), &answered)));
  client_->set_options(ClientOptions{});
  EXPECT_TRUE(absl::IsInvalidArgument(DetailOf({"1", std::string(256, '1')}, &answered)));
  EXPECT_EQ(answered, 0u);
  EXPECT_EQ(fake_->queries, 0);
  // As of an instant needs version 2; the fake speaks 1.
  EXPECT_TRUE(absl::IsFailedPrecondition(client_->DetailEach(
      {"1"}, 1700000000, 8, [](size_t, const absl::StatusOr<Reply<CheckResult>>&) {})));
}

}  // namespace
}  // namespace shixin
