// AdaptiveMutex: a mutex for short critical sections taken by a few busy threads at once. A
// thread that finds it locked spins for a while before it sleeps (glibc's
// PTHREAD_MUTEX_ADAPTIVE_NP), so a lock held for less than a microsecond costs no futex system
// calls and no context switches (std::mutex sleeps at once). Lockable: use it with
// std::unique_lock and std::condition_variable_any.
//
// Thread safety: thread-safe (it is a mutex).
#ifndef SHIXIN_BASE_ADAPTIVE_MUTEX_H_
#define SHIXIN_BASE_ADAPTIVE_MUTEX_H_

#include <pthread.h>

#include <cassert>

namespace shixin {

class AdaptiveMutex {
 public:
  AdaptiveMutex() {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&mu_, &attr);
    pthread_mutexattr_destroy(&attr);
  }
  ~AdaptiveMutex() { pthread_mutex_destroy(&mu_); }
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;

  // Blocks until the calling thread holds the mutex. REQUIRES: it does not hold it already.
  void lock() {
    [[maybe_unused]] const int rc = pthread_mutex_lock(&mu_);
    assert(rc == 0);
  }
  // Returns whether the calling thread now holds the mutex (false: another thread holds it).
  bool try_lock() { return pthread_mutex_trylock(&mu_) == 0; }
  // REQUIRES: the calling thread holds the mutex.
  void unlock() {
    [[maybe_unused]] const int rc = pthread_mutex_unlock(&mu_);
    assert(rc == 0);
  }

 private:
  pthread_mutex_t mu_;
};

}  // namespace shixin

#endif  // SHIXIN_BASE_ADAPTIVE_MUTEX_H_
