// Bounded lock-free multi-producer multi-consumer ring of Message pointers (Vyukov's
// sequence-numbered design). Multi-consumer because the drop-oldest policy lets a producer
// take the oldest message out to make room. Capacity is exact (not rounded).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

#include "troupe/runtime/message.h"

namespace troupe {

class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity)
      : cap_(capacity == 0 ? 1 : capacity), slots_(new Slot[cap_]) {
    for (std::size_t i = 0; i < cap_; ++i) slots_[i].seq.store(i, std::memory_order_relaxed);
  }
  ~BoundedQueue() {
    while (Message* m = pop()) delete m;
  }
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // False when full.
  bool push(Message* m) {
    std::size_t pos = enq_.load(std::memory_order_relaxed);
    for (;;) {
      Slot& s = slots_[pos % cap_];
      std::size_t seq = s.seq.load(std::memory_order_acquire);
      auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos);
      if (diff == 0) {
        // seq_cst on success: with the seq_cst load of `scheduled_` in ActorCell::schedule()
        // and the consumer's store(false)-then-size() in finish_activation, this is a
        // store-buffering pair; relaxed would let both sides read the old values (the producer
        // "already scheduled", the consumer "empty"), a lost message in the C++ model.
        if (enq_.compare_exchange_weak(pos, pos + 1, std::memory_order_seq_cst,
                                       std::memory_order_relaxed)) {
          s.msg = m;
          s.seq.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;
      } else {
        pos = enq_.load(std::memory_order_relaxed);
      }
    }
  }

  // nullptr when empty.
  Message* pop() {
    std::size_t pos = deq_.load(std::memory_order_relaxed);
    for (;;) {
      Slot& s = slots_[pos % cap_];
      std::size_t seq = s.seq.load(std::memory_order_acquire);
      auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos + 1);
      if (diff == 0) {
        if (deq_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          Message* m = s.msg;
          s.seq.store(pos + cap_, std::memory_order_release);
          return m;
        }
      } else if (diff < 0) {
        return nullptr;
      } else {
        pos = deq_.load(std::memory_order_relaxed);
      }
    }
  }

  std::size_t size() const {
    std::size_t d = deq_.load(std::memory_order_seq_cst);
    std::size_t e = enq_.load(std::memory_order_seq_cst);
    return e > d ? e - d : 0;
  }

 private:
  struct Slot {
    std::atomic<std::size_t> seq;
    Message* msg = nullptr;
  };
  std::size_t cap_;
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<std::size_t> enq_{0};
  alignas(64) std::atomic<std::size_t> deq_{0};
};

}  // namespace troupe
