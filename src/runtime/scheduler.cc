#include "troupe/runtime/scheduler.h"

namespace troupe {
namespace {

constexpr unsigned kMaxNextStreak = 32;

struct WorkerSlot {
  const Scheduler* owner = nullptr;
  unsigned index = 0;
};
thread_local WorkerSlot t_worker;

}  // namespace

void Scheduler::RunQueue::push(Runnable* r) {
  std::lock_guard lock(lock_);
  if (count_ == ring_.size()) {
    std::vector<Runnable*> bigger(ring_.size() * 2);
    for (std::size_t i = 0; i < count_; ++i) bigger[i] = ring_[(head_ + i) % ring_.size()];
    ring_ = std::move(bigger);
    head_ = 0;
  }
  ring_[(head_ + count_) % ring_.size()] = r;
  ++count_;
  size_.store(count_, std::memory_order_seq_cst);
}

Runnable* Scheduler::RunQueue::pop() {
  if (size_.load(std::memory_order_relaxed) == 0) return nullptr;
  std::lock_guard lock(lock_);
  if (count_ == 0) return nullptr;
  Runnable* r = ring_[head_];
  head_ = (head_ + 1) % ring_.size();
  --count_;
  size_.store(count_, std::memory_order_relaxed);
  return r;
}

Scheduler::Scheduler(unsigned workers, unsigned budget) : budget_(budget == 0 ? 1 : budget) {
  if (workers == 0) workers = 1;
  for (unsigned i = 0; i < workers; ++i) {
    workers_.push_back(std::make_unique<Worker>());
    workers_.back()->seen.assign(workers, ~std::uint64_t{0});
  }
  for (unsigned i = 0; i < workers; ++i) {
    workers_[i]->thread = std::thread([this, i] { run(i); });
  }
}

Scheduler::~Scheduler() { stop(); }

void Scheduler::stop() {
  if (stopping_.exchange(true)) return;
  { std::lock_guard lock(park_mutex_); }
  park_cv_.notify_all();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

void Scheduler::schedule(Runnable* r) {
  if (t_worker.owner == this) {
    Worker& w = *workers_[t_worker.index];
    Runnable* displaced = w.next.exchange(r, std::memory_order_seq_cst);
    if (displaced == nullptr) return;  // this worker runs it right after the current activation
    // Work is piling up behind the current activation: queue the older one, wake a helper.
    w.queue.push(displaced);
    if (parked_.load(std::memory_order_seq_cst) > 0) wake_one();
    return;
  }
  injection_.push(r);
  if (parked_.load(std::memory_order_seq_cst) > 0) wake_one();
}

void Scheduler::wake_one() {
  std::lock_guard lock(park_mutex_);
  park_cv_.notify_one();
}

bool Scheduler::any_work() const {
  if (injection_.size() > 0) return true;
  for (auto& w : workers_) {
    if (w->queue.size() > 0 || w->next.load(std::memory_order_seq_cst) != nullptr) return true;
  }
  return false;
}

Runnable* Scheduler::find_work(unsigned index) {
  Worker& w = *workers_[index];
  // The next slot first, but not forever: a pair that keeps waking each other would starve
  // the queues.
  if (w.next_streak < kMaxNextStreak) {
    if (Runnable* r = w.next.exchange(nullptr, std::memory_order_seq_cst)) {
      ++w.next_streak;
      return r;
    }
  } else if (Runnable* r = w.next.exchange(nullptr, std::memory_order_seq_cst)) {
    w.queue.push(r);
  }
  w.next_streak = 0;
  // Alternate which queue goes first, so neither a busy local queue nor a stream of outside
  // work can starve the other.
  RunQueue& own = w.queue;
  bool outside_first = (++w.ticks & 1) == 0;
  if (outside_first) {
    if (Runnable* r = injection_.pop()) return r;
  }
  if (Runnable* r = own.pop()) return r;
  if (!outside_first) {
    if (Runnable* r = injection_.pop()) return r;
  }
  const std::size_t n = workers_.size();
  for (std::size_t k = 1; k < n; ++k) {
    if (Runnable* r = workers_[(index + k) % n]->queue.pop()) return r;
  }
  // Last resort: the next slot of a worker stuck in one activation since our last look.
  for (std::size_t k = 1; k < n; ++k) {
    std::size_t v = (index + k) % n;
    Worker& victim = *workers_[v];
    std::uint64_t now = victim.activations.load(std::memory_order_relaxed);
    if (now != w.seen[v]) {
      w.seen[v] = now;
      continue;
    }
    if (Runnable* r = victim.next.exchange(nullptr)) return r;
  }
  return nullptr;
}

void Scheduler::run(unsigned index) {
  t_worker = WorkerSlot{this, index};
  RunQueue& own = workers_[index]->queue;
  while (!stopping_.load(std::memory_order_relaxed)) {
    Runnable* r = find_work(index);
    if (r == nullptr) {
      for (int spin = 0; spin < 64 && r == nullptr; ++spin) {
        std::this_thread::yield();
        r = find_work(index);
      }
    }
    if (r == nullptr) {
      std::unique_lock lock(park_mutex_);
      parked_.fetch_add(1, std::memory_order_seq_cst);
      while (!stopping_.load() && !any_work()) park_cv_.wait(lock);
      parked_.fetch_sub(1, std::memory_order_seq_cst);
      continue;
    }
    auto& count = workers_[index]->activations;  // only this thread writes it: no RMW
    count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (own.size() > 0 && parked_.load(std::memory_order_relaxed) > 0) wake_one();
    if (r->resume(budget_)) own.push(r);  // used its budget: to the back, behind the others
  }
  t_worker = WorkerSlot{};
}

}  // namespace troupe
