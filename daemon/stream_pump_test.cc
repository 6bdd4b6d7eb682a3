#include "daemon/stream_pump.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/io_test_util.h"
#include "daemon/uring_transport.h"

namespace shixin {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// An owner that echoes each input line and records the callbacks.
class EchoOwner final : public StreamPump::Owner, public std::enable_shared_from_this<EchoOwner> {
 public:
  EchoOwner(std::unique_ptr<Transport> transport, const StreamPump::Settings& settings)
      : pump_(std::move(transport), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 1), settings,
              this) {}

  std::shared_ptr<void> KeepAlive() override { return shared_from_this(); }
  void Advance() override {
    ++advances_;
    const std::string_view input = pump_.input();
    if (!input.empty()) {
      pump_.output().append(input);
      pump_.CountQueued();
      pump_.Consume(input.size());
      pump_.CompactInput();
    }
    pump_.StartWrite();
    if (!pump_.reading() && !ended_ && !pump_.closed()) pump_.StartRead();
    if (ended_ && pump_.Drained() && !lingering_) {
      lingering_ = true;
      pump_.Linger();
    }
    pump_.Settle(pump_.buffer_bytes());
  }
  void OnEndOfInput() override { ended_ = true; }
  void AddDeadlines(StreamPump::Deadlines* deadlines) const override {
    deadlines->AddIdle(pump_.unwritten() == 0, started_);
  }
  void Close() override {
    if (!pump_.closed()) pump_.Close();
    closed_ = true;
  }

  StreamPump pump_;
  StreamPump::Clock::time_point started_ = StreamPump::Clock::now();
  int advances_ = 0;
  bool ended_ = false;
  bool lingering_ = false;
  bool closed_ = false;
};

// An owner that takes in newline-terminated lines as a framing owner does: it consumes the
// complete ones, leaves a partial one for the next read, and never calls CompactInput(). It
// checks each line against the one expected (line i: its length, filled with 'a' + i % 26).
class LineOwner final : public StreamPump::Owner, public std::enable_shared_from_this<LineOwner> {
 public:
  LineOwner(std::unique_ptr<Transport> transport, const StreamPump::Settings& settings,
            std::vector<size_t> lengths)
      : pump_(std::move(transport), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 1), settings,
              this),
        lengths_(std::move(lengths)) {}

  // Returns line i of a stream of lines of `lengths` (the newline included).
  static std::string Line(size_t i, size_t length) {
    std::string line(length - 1, static_cast<char>('a' + i % 26));
    line += '\n';
    return line;
  }

  std::shared_ptr<void> KeepAlive() override { return shared_from_this(); }
  void Advance() override {
    std::string_view input = pump_.input();
    for (size_t end = input.find('\n'); end != std::string_view::npos; end = input.find('\n')) {
      const std::string_view line = input.substr(0, end + 1);
      if (lines_ >= lengths_.size() || line != Line(lines_, lengths_[lines_])) ++wrong_;
      ++lines_;
      pump_.Consume(line.size());
      input = pump_.input();
    }
    most_held_ = std::max(most_held_, pump_.buffer_bytes());
    if (!pump_.reading() && !pump_.closed()) pump_.StartRead();
    pump_.Settle(pump_.buffer_bytes());
  }
  void OnEndOfInput() override {}
  void AddDeadlines(StreamPump::Deadlines* /*deadlines*/) const override {}
  void Close() override {
    if (!pump_.closed()) pump_.Close();
  }

  StreamPump pump_;
  const std::vector<size_t> lengths_;
  size_t lines_ = 0;
  size_t wrong_ = 0;
  uint64_t most_held_ = 0;
};

// Each test runs over the reactor (TcpTransport) and over io_uring (UringTransport).
class StreamPumpTest : public ::testing::TestWithParam<bool> {
 protected:
  // Connects a client socket to a server socket over loopback.
  void SetUp() override {
    if (GetParam()) {
      absl::StatusOr<std::unique_ptr<UringLoop>> loop = UringLoop::Create(io_);
      if (!loop.ok()) GTEST_SKIP() << loop.status();
      uring_ = *std::move(loop);
    }
    tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client_.connect(acceptor.local_endpoint());
    server_ = acceptor.accept();
    limits_.Admit(asio::ip::make_address("127.0.0.1"));
  }

  std::shared_ptr<EchoOwner> MakeOwner(std::chrono::seconds idle) {
    return std::make_shared<EchoOwner>(ServerTransport(), Settings(idle));
  }

  // The transport of the server socket (once).
  std::unique_ptr<Transport> ServerTransport() {
    if (uring_ != nullptr) {
      return std::make_unique<UringTransport>(std::move(server_), uring_.get());
    }
    return std::make_unique<TcpTransport>(std::move(server_));
  }

  StreamPump::Settings Settings(std::chrono::seconds idle) {
    return {"test connection", std::chrono::seconds(5), idle, &budget_, &limits_};
  }

  // Destroyed after io_, whose pending handlers may hold the last reference to a pump.
  BufferBudget budget_{1 << 20, 10};
  ConnectionLimits limits_{10, 0};
  asio::io_context io_;
  tcp::socket client_{io_};
  tcp::socket server_{io_};
  std::unique_ptr<UringLoop> uring_;  // destroyed before io_, whose handlers may name it
};

INSTANTIATE_TEST_SUITE_P(Transports, StreamPumpTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Uring" : "Reactor";
                         });

TEST_P(StreamPumpTest, WritesWhatTheOwnerQueuesLingersAtEndOfInputAndGivesEverythingBack) {
  {
    auto owner = MakeOwner(std::chrono::seconds(60));
    owner->Advance();
    asio::write(client_, asio::buffer(std::string("hello\n")));
    std::string echoed(6, '\0');
    RunIoUntil(io_, [&] { return client_.available() >= 6; });
    asio::read(client_, asio::buffer(echoed));
    EXPECT_EQ(echoed, "hello\n");
    EXPECT_GT(budget_.used(), 0u);

    client_.shutdown(tcp::socket::shutdown_send);
    RunIoUntil(io_, [&] { return owner->lingering_; });
    EXPECT_TRUE(owner->lingering_);
    // Lingering shut the server's sending side down: the client reads the end of input.
    boost::system::error_code ec;
    char byte;
    client_.read_some(asio::buffer(&byte, 1), ec);
    EXPECT_EQ(ec, asio::error::eof);
    // The client's end of input was its close: lingering ends.
    RunIoUntil(io_, [&] { return owner->closed_; });
    EXPECT_TRUE(owner->closed_);
    EXPECT_EQ(budget_.used(), 0u);
  }
  io_.run_for(std::chrono::milliseconds(50));  // the last handlers drop their references
  EXPECT_EQ(limits_.open(), 0);
}

TEST_P(StreamPumpTest, TheIdleDeadlineClosesTheConnection) {
  auto owner = MakeOwner(std::chrono::seconds(1));
  owner->Advance();
  const auto start = std::chrono::steady_clock::now();
  RunIoUntil(io_, [&] { return owner->closed_; });
  EXPECT_TRUE(owner->closed_);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
}

TEST_P(StreamPumpTest, DiscardedInputIsDroppedAndLaterReadsIgnored) {
  auto owner = MakeOwner(std::chrono::seconds(60));
  owner->pump_.DiscardInput();
  EXPECT_TRUE(owner->pump_.discarding());
  owner->Advance();
  asio::write(client_, asio::buffer(std::string("ignored")));
  const int before = owner->advances_;
  RunIoUntil(io_, [&] { return owner->advances_ > before; });
  EXPECT_TRUE(owner->pump_.input().empty());
  EXPECT_TRUE(owner->pump_.quiet());
  owner->Close();
  io_.run_for(std::chrono::milliseconds(50));
}

TEST_P(StreamPumpTest, AnsweredInputIsDroppedAsReadsComeWhereverTheOwnersTurnsEnd) {
  // 4 MB of 1000-byte lines, with a 200 KB one among them: the owner's turns end inside a
  // line, so only the pump can drop what was answered before it.
  std::vector<size_t> lengths(4000, 1000);
  lengths[2000] = 200 * 1000;
  std::string stream;
  for (size_t i = 0; i < lengths.size(); ++i) stream += LineOwner::Line(i, lengths[i]);
  auto owner =
      std::make_shared<LineOwner>(ServerTransport(), Settings(std::chrono::seconds(60)), lengths);
  owner->Advance();
  bool written = false;
  asio::async_write(client_, asio::buffer(stream),
                    [&](const boost::system::error_code& ec, size_t) { written = !ec; });
  RunIoUntil(io_, [&] { return written && owner->lines_ == lengths.size(); });
  EXPECT_TRUE(written);
  EXPECT_EQ(owner->lines_, lengths.size());
  EXPECT_EQ(owner->wrong_, 0u);
  // The buffer holds the unanswered input (at most the long line) and the answered bytes
  // before it, once at most as many (or 64 KiB); a buffer that kept every answered byte would
  // hold all 4.2 MB.
  EXPECT_LE(owner->most_held_, 1u << 20);
  owner->Close();
  io_.run_for(std::chrono::milliseconds(50));
}

}  // namespace
}  // namespace shixin
