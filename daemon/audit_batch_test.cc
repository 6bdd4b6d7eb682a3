#include "daemon/audit_batch.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace shixin {
namespace {

namespace asio = boost::asio;

// Records each resumption in `events`; `rejoin`, if set, runs (once) from the first one.
class RecordingWaiter final : public AuditBatch::Waiter {
 public:
  RecordingWaiter(std::string name, std::vector<std::string>* events)
      : name_(std::move(name)), events_(events) {}
  void OnAuditTurn() override {
    events_->push_back(name_);
    if (rejoin != nullptr) std::exchange(rejoin, nullptr)();
  }
  std::function<void()> rejoin;

 private:
  const std::string name_;
  std::vector<std::string>* const events_;
};

class AuditBatchTest : public ::testing::Test {
 protected:
  std::shared_ptr<RecordingWaiter> MakeWaiter(std::string name) {
    return std::make_shared<RecordingWaiter>(std::move(name), &events);
  }

  asio::io_context context{1};
  AuditBatch batch{context.get_executor()};
  std::vector<std::string> events;  // in the order they happened
};

TEST_F(AuditBatchTest, OneFlushResumesEveryWaiterOnceInTheOrderTheyJoined) {
  auto a = MakeWaiter("a");
  auto b = MakeWaiter("b");
  batch.Join(a.get(), a);
  batch.Join(b.get(), b);
  EXPECT_EQ(batch.waiting(), 2u);
  EXPECT_TRUE(events.empty());   // nothing before the thread runs the flush
  EXPECT_EQ(context.run(), 1u);  // one flush for both
  EXPECT_EQ(events, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(batch.waiting(), 0u);
}

TEST_F(AuditBatchTest, TheFlushRunsAfterTheHandlersQueuedBeforeTheJoin) {
  auto a = MakeWaiter("flush a");
  auto b = MakeWaiter("flush b");
  // Two connections' turns that were ready together: the second one's answers join the same
  // write as the first one's.
  asio::post(context, [&] {
    events.push_back("turn a");
    batch.Join(a.get(), a);
  });
  asio::post(context, [&] {
    events.push_back("turn b");
    batch.Join(b.get(), b);
  });
  context.run();
  EXPECT_EQ(events, (std::vector<std::string>{"turn a", "turn b", "flush a", "flush b"}));
}

TEST_F(AuditBatchTest, AWaiterThatJoinsWhileResumedWaitsForTheNextFlush) {
  auto a = MakeWaiter("a");
  a->rejoin = [&] { batch.Join(a.get(), a); };
  batch.Join(a.get(), a);
  EXPECT_EQ(context.run(), 2u);
  EXPECT_EQ(events, (std::vector<std::string>{"a", "a"}));
  EXPECT_EQ(batch.waiting(), 0u);
}

TEST_F(AuditBatchTest, KeepsTheWaiterAliveUntilItIsResumed) {
  auto a = MakeWaiter("a");
  const std::weak_ptr<RecordingWaiter> watch = a;
  batch.Join(a.get(), a);
  a.reset();  // the connection's own handlers are gone
  EXPECT_FALSE(watch.expired());
  context.run();
  EXPECT_EQ(events, (std::vector<std::string>{"a"}));
  EXPECT_TRUE(watch.expired());
}

}  // namespace
}  // namespace shixin
