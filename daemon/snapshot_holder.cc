#include "daemon/snapshot_holder.h"

#include <urcu/urcu-memb.h>

#include <ctime>
#include <utility>

#include "base/sanitizers.h"

// ThreadSanitizer does not see the ordering that liburcu provides (membarrier, and the library
// is not instrumented); these annotations tell it: a publication happens before the reads
// that see it, and every read section ends before the grace period that follows it.
#if defined(SHIXIN_THREAD_SANITIZER)
#include <sanitizer/tsan_interface.h>
#define SHIXIN_TSAN_ACQUIRE(addr) \
  if ((addr) != nullptr) __tsan_acquire(const_cast<void*>(static_cast<const void*>(addr)))
#define SHIXIN_TSAN_RELEASE(addr) __tsan_release(const_cast<void*>(static_cast<const void*>(addr)))
#else
#define SHIXIN_TSAN_ACQUIRE(addr) static_cast<void>(addr)
#define SHIXIN_TSAN_RELEASE(addr) static_cast<void>(addr)
#endif

namespace shixin {

RcuThread::RcuThread() { urcu_memb_register_thread(); }
RcuThread::~RcuThread() { urcu_memb_unregister_thread(); }

SnapshotHolder::SnapshotHolder() : reload_status_(new ReloadStatus) {}

SnapshotHolder::~SnapshotHolder() {
  delete dataset_;
  delete reload_status_;
}

SnapshotHolder::ReadSection::ReadSection(const SnapshotHolder& holder) : holder_(holder) {
  urcu_memb_read_lock();
  dataset_ = rcu_dereference(holder.dataset_);
  SHIXIN_TSAN_ACQUIRE(dataset_);
}

SnapshotHolder::ReadSection::~ReadSection() {
  SHIXIN_TSAN_RELEASE(&holder_.grace_period_);
  urcu_memb_read_unlock();
}

const ReloadStatus& SnapshotHolder::ReadSection::reload_status() const {
  const ReloadStatus* status = rcu_dereference(holder_.reload_status_);
  SHIXIN_TSAN_ACQUIRE(status);
  return *status;
}

uint32_t SnapshotHolder::Publish(std::unique_ptr<Dataset> dataset) {
  std::lock_guard<std::mutex> lock(writer_mu_);
  const uint32_t generation = generation_.load(std::memory_order_relaxed) + 1;
  dataset->generation = generation;
  dataset->loaded_time = static_cast<int64_t>(std::time(nullptr));
  SHIXIN_TSAN_RELEASE(dataset.get());
  Dataset* old = rcu_xchg_pointer(&dataset_, dataset.release());
  generation_.store(generation, std::memory_order_release);
  if (old != nullptr) {
    // Every read section that began before the exchange, and so may hold `old`, has ended
    // when synchronize returns; later ones see the new dataset.
    urcu_memb_synchronize_rcu();
    SHIXIN_TSAN_ACQUIRE(&grace_period_);
    delete old;
    released_.fetch_add(1, std::memory_order_release);
  }
  return generation;
}

void SnapshotHolder::SetReloadStatus(ReloadStatus status) {
  std::lock_guard<std::mutex> lock(writer_mu_);
  auto* fresh = new ReloadStatus(std::move(status));
  SHIXIN_TSAN_RELEASE(fresh);
  ReloadStatus* old = rcu_xchg_pointer(&reload_status_, fresh);
  urcu_memb_synchronize_rcu();
  SHIXIN_TSAN_ACQUIRE(&grace_period_);
  delete old;
}

}  // namespace shixin
