// Unbounded lock-free multi-producer single-consumer queue of Messages (Vyukov's intrusive
// design): push is one atomic exchange, wait-free for producers; pop is consumer-only.
// The producer side (the head) and the consumer side (tail and stub) are separate structs so
// that an owner can keep them on different cache lines: producers then never contend with the
// consumer's writes. A pop can briefly see the queue as empty while a producer is between its
// two steps; `pending()` still reports it, so callers re-check and nothing is lost.
#pragma once

#include "troupe/runtime/message.h"

namespace troupe {

struct MpscConsumer {
  // Written by the consumer only; atomic (relaxed) because pending() may read it from a
  // thread that has just handed the consumer role on (ActorCell::finish_activation's second
  // look, racing the next activation).
  std::atomic<MessageNode*> tail;
  MessageNode stub;
};

struct MpscProducer {
  std::atomic<MessageNode*> head;

  // Links the two halves; both must stay at their addresses afterwards.
  void init(MpscConsumer& c) {
    c.tail.store(&c.stub, std::memory_order_relaxed);
    head.store(&c.stub, std::memory_order_relaxed);
  }

  void push(MessageNode* n) {
    n->next.store(nullptr, std::memory_order_relaxed);
    MessageNode* prev = head.exchange(n, std::memory_order_seq_cst);
    prev->next.store(n, std::memory_order_release);
  }

  // Consumer only. Returns nullptr when empty (or momentarily looks empty).
  Message* pop(MpscConsumer& c) {
    MessageNode* tail = c.tail.load(std::memory_order_relaxed);
    MessageNode* next = tail->next.load(std::memory_order_acquire);
    if (tail == &c.stub) {
      if (next == nullptr) return nullptr;
      c.tail.store(next, std::memory_order_relaxed);
      tail = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      c.tail.store(next, std::memory_order_relaxed);
      return static_cast<Message*>(tail);
    }
    if (tail != head.load(std::memory_order_seq_cst)) return nullptr;  // producer mid-push
    push(&c.stub);
    next = tail->next.load(std::memory_order_acquire);
    if (next != nullptr) {
      c.tail.store(next, std::memory_order_relaxed);
      return static_cast<Message*>(tail);
    }
    return nullptr;
  }

  // True when something was pushed that the consumer has not taken. The head alone does not
  // say it: a pop that finds the last node and re-pushes the stub while a producer is between
  // its two steps leaves head == stub with both nodes still ahead of the tail (the pop returns
  // nullptr). Reading only the head then reported an empty queue, and an actor went idle with
  // a message (a stop) in its mailbox that nobody would schedule. The tail is the next node to
  // hand out, or the stub once everything was. Exact on the consumer's thread; from another
  // thread (one that just gave up the consumer role) it may be stale, never undefined.
  bool pending(const MpscConsumer& c) const {
    if (c.tail.load(std::memory_order_relaxed) != &c.stub) return true;
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
