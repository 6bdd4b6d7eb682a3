// Tests of SnapshotHolder (RCU publication and reclamation).
#include "daemon/snapshot_holder.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/builder.h"
#include "core/test_util.h"
#include "gtest/gtest.h"
#include "protocol/operator_messages.h"

namespace shixin {
namespace {

// A small dataset whose data_source is `tag`; `persons` listed persons 0..persons-1.
std::unique_ptr<Dataset> MakeDataset(const std::string& tag, int persons) {
  SnapshotBuilder builder;
  for (int i = 0; i < persons; ++i) {
    builder.AddCase(testing::MakeCase(testing::PersonId(i), "某某", "（2018）黑04执1号"));
  }
  auto d = std::make_unique<Dataset>();
  d->snapshot = *builder.Build();
  d->data_source = tag;
  return d;
}

TEST(SnapshotHolderTest, EmptyUntilPublished) {
  RcuThread rcu;
  SnapshotHolder holder;
  {
    SnapshotHolder::ReadSection read(holder);
    EXPECT_EQ(read.dataset(), nullptr);
    EXPECT_EQ(read.reload_status().state, wire::ReloadState::kNone);
  }
  EXPECT_EQ(holder.Publish(MakeDataset("a", 1)), 1u);
  EXPECT_EQ(holder.Publish(MakeDataset("b", 1)), 2u);
  EXPECT_EQ(holder.released(), 1u);
  SnapshotHolder::ReadSection read(holder);
  EXPECT_EQ(read.dataset()->generation, 2u);
  EXPECT_EQ(read.dataset()->data_source, "b");
  EXPECT_GT(read.dataset()->loaded_time, 0);
}

TEST(SnapshotHolderTest, PublishWaitsForTheLastReaderOfTheOldDataset) {
  SnapshotHolder holder;
  holder.Publish(MakeDataset("old", 3));
  std::promise<void> entered;
  std::future<void> reader_in = entered.get_future();
  std::atomic<bool> reader_done{false};
  std::atomic<bool> publish_done{false};
  std::thread reader([&] {
    RcuThread rcu;
    SnapshotHolder::ReadSection read(holder);
    const Dataset* d = read.dataset();
    entered.set_value();
    // The swap happens meanwhile; this reader keeps the dataset it started with.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_FALSE(publish_done.load());
    EXPECT_EQ(d->data_source, "old");
    EXPECT_NE(d->snapshot->Find(testing::PersonId(2)), kNoEntity);
    reader_done = true;
  });
  reader_in.wait();
  const auto start = std::chrono::steady_clock::now();
  holder.Publish(MakeDataset("new", 1));
  publish_done = true;
  EXPECT_TRUE(reader_done.load());  // the old dataset was freed only after the reader left
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
  EXPECT_EQ(holder.released(), 1u);
  reader.join();
}

TEST(SnapshotHolderTest, SwapsUnderConcurrentReaders) {
  constexpr int kReaders = 4;
  constexpr int kSwaps = 200;
  SnapshotHolder holder;
  holder.Publish(MakeDataset("g1", 1));
  std::atomic<bool> stop{false};
  std::atomic<int> reading{0};  // readers that have read once
  std::atomic<uint64_t> reads{0};
  std::vector<std::thread> readers;
  readers.reserve(kReaders);
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      RcuThread rcu;
      uint32_t last = 0;
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (n == 1) ++reading;
        SnapshotHolder::ReadSection read(holder);
        const Dataset* d = read.dataset();
        // Each dataset is whole and consistent; generations never go backwards.
        ASSERT_GE(d->generation, last);
        last = d->generation;
        ASSERT_EQ(d->data_source, absl::StrFormat("g%d", d->generation));
        const int persons = static_cast<int>((d->generation - 1) % 5) + 1;
        ASSERT_EQ(d->snapshot->info().subjects, static_cast<uint64_t>(persons));
        ASSERT_NE(d->snapshot->Find(testing::PersonId(persons - 1)), kNoEntity);
        ++n;
      }
      reads += n;
    });
  }
  // Swap only once every reader is running (bounded, in case one fails at once).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (reading.load() < kReaders && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  for (uint32_t g = 2; g <= kSwaps; ++g) {
    const int persons = static_cast<int>((g - 1) % 5) + 1;
    ASSERT_EQ(holder.Publish(MakeDataset(absl::StrFormat("g%d", g), persons)), g);
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(holder.released(), static_cast<uint64_t>(kSwaps - 1));
  EXPECT_EQ(reading.load(), kReaders);
  EXPECT_GT(reads.load(), static_cast<uint64_t>(kReaders));
}

TEST(SnapshotHolderTest, ReloadStatusIsPublishedToo) {
  RcuThread rcu;
  SnapshotHolder holder;
  holder.SetReloadStatus(ReloadStatus{wire::ReloadState::kFailed, 5, "bad"});
  SnapshotHolder::ReadSection read(holder);
  EXPECT_EQ(read.reload_status().state, wire::ReloadState::kFailed);
  EXPECT_EQ(read.reload_status().message, "bad");
}

}  // namespace
}  // namespace shixin
