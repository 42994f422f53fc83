#include "troupe/runtime/timer_service.h"

#include <vector>

namespace troupe {

TimerService::TimerService(std::shared_ptr<Clock> clock) : clock_(std::move(clock)) {
  if (auto* manual = dynamic_cast<ManualClock*>(clock_.get())) {
    manual->add_listener([this] { fire_due(); });
  } else {
    thread_ = std::thread([this] { run(); });
  }
}

TimerService::~TimerService() { stop(); }

void TimerService::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    queue_.clear();
    index_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (auto* manual = dynamic_cast<ManualClock*>(clock_.get())) manual->clear_listeners();
}

TimerId TimerService::after(Clock::Duration delay, std::function<void()> fn) {
  return insert(clock_->now() + delay, Clock::Duration{0}, std::move(fn));
}

TimerId TimerService::every(Clock::Duration period, std::function<void()> fn) {
  if (period <= Clock::Duration{0}) period = Clock::Duration{1};
  return insert(clock_->now() + period, period, std::move(fn));
}

TimerId TimerService::insert(Clock::TimePoint deadline, Clock::Duration period,
                             std::function<void()> fn) {
  bool earliest;
  TimerId id;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return {};
    id.seq = next_seq_++;
    auto it = queue_.emplace(Key{deadline, id.seq}, Entry{std::move(fn), period}).first;
    index_.emplace(id.seq, deadline);
    earliest = it == queue_.begin();
  }
  if (earliest && thread_.joinable()) cv_.notify_one();
  return id;
}

bool TimerService::cancel(TimerId id) {
  if (!id.valid()) return false;
  std::lock_guard lock(mutex_);
  auto it = index_.find(id.seq);
  if (it == index_.end()) return false;
  queue_.erase(Key{it->second, id.seq});
  index_.erase(it);
  return true;
}

std::size_t TimerService::pending() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

bool TimerService::is_pending(TimerId id) const {
  std::lock_guard lock(mutex_);
  return index_.count(id.seq) != 0;
}

void TimerService::fire_due() {
  // One at a time so that a callback may schedule or cancel timers without deadlock, and so
  // that a periodic timer re-armed in the past fires again in deadline order.
  for (;;) {
    std::function<void()> fn;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty() || stopping_) return;
      auto it = queue_.begin();
      if (it->first.first > clock_->now()) return;
      auto [deadline, seq] = it->first;
      Entry entry = std::move(it->second);
      queue_.erase(it);
      if (entry.period > Clock::Duration{0}) {
        Clock::TimePoint next = deadline + entry.period;
        fn = entry.fn;
        queue_.emplace(Key{next, seq}, std::move(entry));
        index_[seq] = next;
      } else {
        index_.erase(seq);
        fn = std::move(entry.fn);
      }
    }
    fn();
  }
}

void TimerService::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto deadline = queue_.begin()->first.first;
    if (deadline > clock_->now()) {
      cv_.wait_until(lock, deadline);
      continue;
    }
    lock.unlock();
    fire_due();
    lock.lock();
  }
}

}  // namespace troupe
