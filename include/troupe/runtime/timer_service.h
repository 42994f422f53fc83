// One timer wheel for the whole actor system: a single thread (none with a ManualClock) keeps
// every pending timer in an ordered map, so there is never a thread per timer. Callbacks run on
// the timer thread (or on the thread that advances a ManualClock) and must be short: they only
// enqueue messages or complete requests. Equal deadlines fire in scheduling order.
// Thread-safe; stop() or destruction cancels what is pending.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "troupe/base/clock.h"

namespace troupe {

struct TimerId {
  std::uint64_t seq = 0;
  bool valid() const { return seq != 0; }
};

class TimerService {
 public:
  explicit TimerService(std::shared_ptr<Clock> clock);
  ~TimerService();
  TimerService(const TimerService&) = delete;
  TimerService& operator=(const TimerService&) = delete;

  TimerId after(Clock::Duration delay, std::function<void()> fn);
  // Fires at now+period, now+2*period, ... (fixed rate) until cancelled.
  TimerId every(Clock::Duration period, std::function<void()> fn);
  // True when the timer was pending and will not fire any more.
  bool cancel(TimerId id);
  std::size_t pending() const;
  bool is_pending(TimerId id) const;

  // Runs everything due at clock->now(). Called by the thread or by ManualClock::advance.
  void fire_due();
  void stop();

  Clock& clock() const { return *clock_; }

 private:
  struct Entry {
    std::function<void()> fn;
    Clock::Duration period{0};
  };
  using Key = std::pair<Clock::TimePoint, std::uint64_t>;

  TimerId insert(Clock::TimePoint deadline, Clock::Duration period, std::function<void()> fn);
  void run();

  std::shared_ptr<Clock> clock_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::map<Key, Entry> queue_;
  std::unordered_map<std::uint64_t, Clock::TimePoint> index_;
  std::uint64_t next_seq_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace troupe
