// Injectable monotonic clock. Production code uses SteadyClock; tests use ManualClock, whose
// time moves only when the test calls advance(), so timer behaviour is deterministic.
// Both are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <vector>

namespace troupe {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // True when time only moves by explicit advance() calls.
  virtual bool manual() const = 0;
};

class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  bool manual() const override { return false; }
};

class ManualClock final : public Clock {
 public:
  TimePoint now() const override { return TimePoint(Duration(now_ns_.load())); }
  bool manual() const override { return true; }

  // Moves time forward, then runs every listener on the calling thread (the timer service
  // registers one to fire what became due), so a test sees timers fire before advance returns.
  void advance(Duration d) {
    now_ns_.fetch_add(d.count());
    std::vector<std::function<void()>> copy;
    {
      std::lock_guard lock(mutex_);
      copy = listeners_;
    }
    for (auto& fn : copy) fn();
  }
  void add_listener(std::function<void()> fn) {
    std::lock_guard lock(mutex_);
    listeners_.push_back(std::move(fn));
  }
  void clear_listeners() {
    std::lock_guard lock(mutex_);
    listeners_.clear();
  }

 private:
  std::atomic<Duration::rep> now_ns_{1'000'000'000};
  std::mutex mutex_;
  std::vector<std::function<void()>> listeners_;
};

}  // namespace troupe
