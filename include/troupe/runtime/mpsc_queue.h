// Unbounded lock-free multi-producer single-consumer queue of Messages (Vyukov's intrusive
// design): push is one atomic exchange, wait-free for producers; pop is consumer-only.
// The producer side (the head) and the consumer side (tail and stub) are separate structs so
// that an owner can keep them on different cache lines: producers then never contend with the
// consumer's writes. A pop can briefly see the queue as empty while a producer is between its
// two steps; `pending()` (consumer only) still reports it, so callers re-check and nothing is
// lost.
#pragma once

#include "troupe/runtime/message.h"

namespace troupe {

struct MpscConsumer {
  MessageNode* tail;
  MessageNode stub;
};

struct MpscProducer {
  std::atomic<MessageNode*> head;

  // Links the two halves; both must stay at their addresses afterwards.
  void init(MpscConsumer& c) {
    c.tail = &c.stub;
    head.store(&c.stub, std::memory_order_relaxed);
  }

  void push(MessageNode* n) {
    n->next.store(nullptr, std::memory_order_relaxed);
    MessageNode* prev = head.exchange(n, std::memory_order_seq_cst);
    prev->next.store(n, std::memory_order_release);
  }

  // Consumer only. Returns nullptr when empty (or momentarily looks empty).
  Message* pop(MpscConsumer& c) {
    MessageNode* tail = c.tail;
    MessageNode* next = tail->next.load(std::memory_order_acquire);
    if (tail == &c.stub) {
      if (next == nullptr) return nullptr;
      c.tail = next;
      tail = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      c.tail = next;
      return static_cast<Message*>(tail);
    }
    if (tail != head.load(std::memory_order_seq_cst)) return nullptr;  // producer mid-push
    push(&c.stub);
    next = tail->next.load(std::memory_order_acquire);
    if (next != nullptr) {
      c.tail = next;
      return static_cast<Message*>(tail);
    }
    return nullptr;
  }

  // Consumer only: true when something was pushed that the consumer has not taken. The head
  // alone does not say it: a pop that finds the last node and re-pushes the stub while a
  // producer is between its two steps leaves head == stub with both nodes still ahead of the
  // tail (the pop returns nullptr). Reading only the head then reported an empty queue, and an
  // actor went idle with a message (a stop) in its mailbox that nobody would schedule. The
  // tail is the next node to hand out, or the stub once everything was.
  bool pending(const MpscConsumer& c) const {
    if (c.tail != &c.stub) return true;
    if (c.stub.next.load(std::memory_order_acquire) != nullptr) return true;
    return head.load(std::memory_order_seq_cst) != &c.stub;
  }
};

// Both halves together, for owners that do not care about layout.
class MpscQueue {
 public:
  MpscQueue() { p_.init(c_); }
  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;
  ~MpscQueue() {
    while (Message* m = pop()) delete m;
  }
  void push(Message* m) { p_.push(m); }
  Message* pop() { return p_.pop(c_); }
  bool pending() const { return p_.pending(c_); }

 private:
  MpscProducer p_;
  MpscConsumer c_;
};

}  // namespace troupe
