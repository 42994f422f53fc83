// SpinLock: a one-byte lock for critical sections of a few instructions — a cell's family
// lists (it keeps the cell small) and the scheduler's run queues (a std::mutex there sent a
// thread feeding the injection queue into futex calls a third of the time). A waiter spins
// with the CPU's pause hint, then yields, in case the holder's thread was preempted.
// Satisfies Lockable: use it with std::lock_guard.
#pragma once

#include <atomic>

namespace troupe {

class SpinLock {
 public:
  void lock() {
    if (!flag_.exchange(true, std::memory_order_acquire)) return;
    wait_and_lock();
  }
  void unlock() { flag_.store(false, std::memory_order_release); }

 private:
  void wait_and_lock();
  std::atomic<bool> flag_{false};
};

}  // namespace troupe
