// Unbounded lock-free multi-producer single-consumer queue of Messages (Vyukov's intrusive
// design): push is one atomic exchange, wait-free for producers; pop is consumer-only.
// A pop can briefly see the queue as empty while a producer is between its two steps; callers
// keep enqueue/dequeue counters and re-check those, so nothing is lost.
#pragma once

#include "troupe/runtime/message.h"

namespace troupe {

class MpscQueue {
 public:
  MpscQueue() : head_(&stub_), tail_(&stub_) {}
  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;
  ~MpscQueue() {
    while (Message* m = pop()) delete m;
  }

  void push(Message* m) { push_node(m); }

  // Consumer only. Returns nullptr when empty (or momentarily looks empty).
  Message* pop() {
    MessageNode* tail = tail_;
    MessageNode* next = tail->next.load(std::memory_order_acquire);
    if (tail == &stub_) {
      if (next == nullptr) return nullptr;
      tail_ = next;
      tail = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      tail_ = next;
      return static_cast<Message*>(tail);
    }
    if (tail != head_.load(std::memory_order_seq_cst)) return nullptr;  // producer mid-push
    push_node(&stub_);
    next = tail->next.load(std::memory_order_acquire);
    if (next != nullptr) {
      tail_ = next;
      return static_cast<Message*>(tail);
    }
    return nullptr;
  }

 private:
  void push_node(MessageNode* n) {
    n->next.store(nullptr, std::memory_order_relaxed);
    MessageNode* prev = head_.exchange(n, std::memory_order_seq_cst);
    prev->next.store(n, std::memory_order_release);
  }

  std::atomic<MessageNode*> head_;
  MessageNode* tail_;
  MessageNode stub_;
};

}  // namespace troupe
