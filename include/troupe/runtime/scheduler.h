// M:N scheduler: a fixed pool of worker threads runs ready actors (Runnables). Each worker has
// its own run queue and a one-item "next" slot; a Runnable made ready on a worker goes to that
// worker's next slot (cache-warm, lock-free, and a ping-pong pair stays on one core; the slot's
// previous occupant moves to the queue), one made ready elsewhere goes to a shared injection
// queue. Idle workers steal from the others, then park on a condition variable without spinning.
// A parked worker is woken only when there is work it could take: a push to the injection
// queue, or a worker that starts an activation with more work still queued behind it.
//
// A Runnable is scheduled at most once at a time (its owner guarantees this with its own
// state flag) and must stay alive until resume() returns.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "troupe/runtime/spin_lock.h"

namespace troupe {

class Runnable {
 public:
  // Runs up to `budget` units of work. Returns true when the Runnable wants to run again
  // (it is then re-queued at the back of the current worker's queue).
  virtual bool resume(unsigned budget) = 0;

 protected:
  ~Runnable() = default;
};

class Scheduler {
 public:
  Scheduler(unsigned workers, unsigned budget);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void schedule(Runnable* r);
  // Joins the workers. Runnables still queued are not resumed.
  void stop();

  unsigned workers() const { return static_cast<unsigned>(workers_.size()); }
  // Workers currently parked (sleeping on the condition variable, not spinning).
  int parked() const { return parked_.load(std::memory_order_relaxed); }

 private:
  // A growable ring buffer under a SpinLock (its critical sections are a few instructions).
  class RunQueue {
   public:
    void push(Runnable* r);
    Runnable* pop();
    std::size_t size() const { return size_.load(std::memory_order_relaxed); }

   private:
    SpinLock lock_;
    std::vector<Runnable*> ring_ = std::vector<Runnable*>(256);
    std::size_t head_ = 0;
    std::size_t count_ = 0;
    std::atomic<std::size_t> size_{0};
  };
  struct Worker {
    // The Runnable made ready most recently on this worker runs next, without the queue lock
    // (a ping-pong pair then costs no lock at all). Other workers may steal it.
    std::atomic<Runnable*> next{nullptr};
    RunQueue queue;
    std::thread thread;
    std::atomic<std::uint64_t> activations{0};  // bumped by the owner per activation
    unsigned ticks = 0;                         // owner only
    unsigned next_streak = 0;                   // owner only: runs taken from `next` in a row
    // Owner only: other workers' activation counts at this worker's last look. A next slot is
    // stolen only from a worker whose count has not moved since (stuck in one activation), so
    // a spinning thief does not split a pair that is busy handing messages back and forth.
    std::vector<std::uint64_t> seen;
  };

  void run(unsigned index);
  Runnable* find_work(unsigned index);
  bool any_work() const;
  void wake_one();

  std::vector<std::unique_ptr<Worker>> workers_;
  RunQueue injection_;
  unsigned budget_;
  std::atomic<bool> stopping_{false};
  std::mutex park_mutex_;
  std::condition_variable park_cv_;
  std::atomic<int> parked_{0};
};

}  // namespace troupe
