#include "daemon/uring_transport.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "daemon/io_test_util.h"

namespace shixin {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

class UringTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<UringLoop>> loop = UringLoop::Create(io_);
    if (!loop.ok()) GTEST_SKIP() << loop.status();
    loop_ = *std::move(loop);
  }

  // Returns a connected pair: the client, and the server side as a UringTransport.
  std::pair<tcp::socket, std::unique_ptr<UringTransport>> Connect() {
    tcp::socket client(io_);
    client.connect(acceptor_.local_endpoint());
    return {std::move(client), std::make_unique<UringTransport>(acceptor_.accept(), loop_.get())};
  }

  asio::io_context io_;
  tcp::acceptor acceptor_{io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::unique_ptr<UringLoop> loop_;  // destroyed before io_
};

TEST_F(UringTransportTest, ATurnsReadsAndWritesOfManyConnectionsAreOneSubmission) {
  constexpr int kConnections = 8;
  std::vector<tcp::socket> clients;
  std::vector<std::unique_ptr<UringTransport>> servers;
  for (int i = 0; i < kConnections; ++i) {
    auto [client, server] = Connect();
    clients.push_back(std::move(client));
    servers.push_back(std::move(server));
  }
  std::vector<std::array<char, 16>> buffers(kConnections);
  std::vector<std::string> received(kConnections);
  int done = 0;
  asio::post(io_, [&] {  // one turn queues every read
    for (int i = 0; i < kConnections; ++i) {
      servers[i]->AsyncReadSome(asio::buffer(buffers[i]), [&, i](const error_code& ec, size_t n) {
        EXPECT_FALSE(ec) << ec.message();
        received[i].assign(buffers[i].data(), n);
        ++done;
      });
    }
    EXPECT_EQ(loop_->in_flight(), static_cast<size_t>(kConnections));
  });
  io_.poll();
  io_.restart();
  EXPECT_EQ(loop_->submits(), 1u);
  for (int i = 0; i < kConnections; ++i) {
    asio::write(clients[i], asio::buffer("request " + std::to_string(i)));
  }
  RunIoUntil(io_, [&] { return done == kConnections; });
  for (int i = 0; i < kConnections; ++i) {
    EXPECT_EQ(received[i], "request " + std::to_string(i));
  }

  // The answers, written in one turn, are one more submission.
  const uint64_t before = loop_->submits();
  int written = 0;
  asio::post(io_, [&] {
    for (int i = 0; i < kConnections; ++i) {
      servers[i]->AsyncWriteSome(asio::buffer("answer"), [&](const error_code& ec, size_t n) {
        EXPECT_FALSE(ec) << ec.message();
        EXPECT_EQ(n, 7u);
        ++written;
      });
    }
  });
  RunIoUntil(io_, [&] { return written == kConnections; });
  EXPECT_EQ(loop_->submits(), before + 1);
  for (tcp::socket& client : clients) {
    char answer[7];
    asio::read(client, asio::buffer(answer));
    EXPECT_STREQ(answer, "answer");
  }
  EXPECT_EQ(loop_->in_flight(), 0u);
}

TEST_F(UringTransportTest, TheEndOfInputIsEofAndTheContextRunsOutOfWork) {
  auto [client, server] = Connect();
  std::array<char, 16> buffer;
  error_code result;
  bool done = false;
  server->AsyncReadSome(asio::buffer(buffer), [&](const error_code& ec, size_t) {
    result = ec;
    done = true;
  });
  client.shutdown(tcp::socket::shutdown_send);
  // No timer, no loop: run() returns once the read completed (the eventfd wait ends with it).
  const auto start = std::chrono::steady_clock::now();
  io_.run_for(std::chrono::seconds(5));
  EXPECT_TRUE(done);
  EXPECT_EQ(result, asio::error::eof);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(UringTransportTest, CloseAbortsTheReadAndLeavesANewSocketsInputAlone) {
  auto [client, server] = Connect();
  std::array<char, 16> buffer;
  error_code result;
  size_t got = 1;
  bool done = false;
  // The read is queued, not yet submitted, when Close() runs: were the descriptor closed at
  // once, the next socket would take its number (the lowest free one) and the read that
  // socket's input.
  server->AsyncReadSome(asio::buffer(buffer), [&](const error_code& ec, size_t n) {
    result = ec;
    got = n;
    done = true;
  });
  server->Close();
  tcp::socket next(io_);
  next.connect(acceptor_.local_endpoint());
  tcp::socket next_peer = acceptor_.accept();
  asio::write(next_peer, asio::buffer(std::string("mine")));
  RunIoUntil(io_, [&] { return done; });
  EXPECT_EQ(result, asio::error::operation_aborted);
  EXPECT_EQ(got, 0u);
  EXPECT_EQ(next.available(), 4u);  // still there for its own reader
  // The closed one's peer sees the end.
  char byte;
  error_code ec;
  client.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
}

TEST_F(UringTransportTest, TheLoopDestroyedWithAReadInFlightDropsItsHandlerUnrun) {
  auto [client, server] = Connect();
  auto owner = std::make_shared<int>(0);
  std::array<char, 16> buffer;
  bool ran = false;
  server->AsyncReadSome(asio::buffer(buffer),
                        [&ran, owner](const error_code&, size_t) { ran = true; });
  io_.poll();  // submitted: the kernel holds the read
  EXPECT_EQ(owner.use_count(), 2);
  EXPECT_EQ(loop_->in_flight(), 1u);
  loop_.reset();
  EXPECT_FALSE(ran);
  EXPECT_EQ(owner.use_count(), 1);
}

TEST_F(UringTransportTest, AShutdownReceiveEndsAWaitingRead) {
  auto [client, server] = Connect();
  std::array<char, 16> buffer;
  error_code result;
  bool done = false;
  server->AsyncReadSome(asio::buffer(buffer), [&](const error_code& ec, size_t) {
    result = ec;
    done = true;
  });
  io_.poll();
  io_.restart();
  EXPECT_FALSE(done);
  server->ShutdownReceive();
  RunIoUntil(io_, [&] { return done; });
  EXPECT_EQ(result, asio::error::eof);
}

}  // namespace
}  // namespace shixin
