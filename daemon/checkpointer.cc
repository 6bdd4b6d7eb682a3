#include "daemon/checkpointer.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <memory>
#include <utility>

#include "absl/time/clock.h"
#include "daemon/log.h"

namespace shixin {

Checkpointer::Checkpointer(std::string path, const SnapshotHolder* holder, absl::Duration interval)
    : path_(std::move(path)), holder_(holder), interval_(interval) {}

Checkpointer::~Checkpointer() { Stop(); }

void Checkpointer::Holds(uint64_t base_version, uint64_t sequence) {
  base_version_ = base_version;
  sequence_ = sequence;
}

void Checkpointer::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "shixind-ckpt");
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
    RcuThread rcu;  // reads the serving generation
    Run();
  });
}

void Checkpointer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t Checkpointer::written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return written_;
}

void Checkpointer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, absl::ToChronoSeconds(interval_), [this] { return stopping_; });
    lock.unlock();
    WriteIfChanged();  // after each interval, and once more when stopping
    lock.lock();
  }
}

void Checkpointer::WriteIfChanged() {
  std::shared_ptr<const Snapshot> base;
  std::shared_ptr<const Overlay> overlay;
  int64_t source_time = 0;
  {
    SnapshotHolder::ReadSection read(*holder_);
    const Dataset* d = read.dataset();
    if (d == nullptr || d->overlay == nullptr) return;
    base = d->snapshot;
    overlay = d->overlay;
    source_time = d->source_time;
  }
  if (base->info().version == base_version_ && overlay->sequence() == sequence_) return;
  const absl::Time start = absl::Now();
  const absl::Status s = OverlayCheckpoint::Write(*base, *overlay, source_time, path_);
  if (!s.ok()) {
    LogError("overlay checkpoint not written (the old one stays): %s", std::string(s.message()));
    return;
  }
  base_version_ = base->info().version;
  sequence_ = overlay->sequence();
  LogInfo("overlay checkpoint %s written: %d subjects at delta %d in %d ms", path_, overlay->size(),
          sequence_, absl::ToInt64Milliseconds(absl::Now() - start));
  std::lock_guard<std::mutex> lock(mu_);
  ++written_;
}

}  // namespace shixin
