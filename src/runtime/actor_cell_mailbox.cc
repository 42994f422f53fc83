// ActorCell, part two: the mailbox — enqueue from any thread, dequeue by the running worker,
// overflow policies, backpressure and the scheduling handshake.
#include <algorithm>

#include "actor_cell_parts.h"
#include "system_messages.h"
#include "troupe/runtime/actor_system.h"

namespace troupe {

Delivery ActorCell::enqueue(MessagePtr m) {
  if (life_.load(std::memory_order_acquire) == Life::kDead) {
    dead_letter(m.release(), "actor is dead");
    return Delivery::kDeadLetter;
  }
  MailboxLimits* lim = limits_.get();
  if (lim == nullptr) {  // the common case: unbounded, no threshold
    user_in_.fetch_add(1, std::memory_order_relaxed);
    user_.push(m.release());
    schedule();
    return Delivery::kQueued;
  }
  Delivery result;
  if (lim->bp_bound != 0) {
    result = enqueue_backpressure(std::move(m));
  } else if (lim->bounded) {
    result = enqueue_bounded(std::move(m));
  } else {
    user_in_.fetch_add(1, std::memory_order_relaxed);
    user_.push(m.release());
    result = Delivery::kQueued;
  }
  if (result == Delivery::kRefused || result == Delivery::kDeadLetter) return result;
  if (lim->threshold != 0 && mailbox_depth() >= lim->threshold &&
      lim->armed.load(std::memory_order_relaxed) && lim->armed.exchange(false)) {
    enqueue_system(make_message(sys::Backpressure{mailbox_depth()}));
  }
  schedule();
  return result;
}

Delivery ActorCell::enqueue_bounded(MessagePtr m) {
  MailboxLimits& lim = *limits_;
  Delivery result = Delivery::kQueued;
  while (!lim.bounded->push(m.get())) {
    if (lim.policy == OverflowPolicy::kFail) {
      if (m->request) {
        m->request->fail(Error{Errc::kMailboxFull, "mailbox of " + id().to_string() + " is full"});
      }
      system_.note_dead_letter(*m, "mailbox full");
      return Delivery::kRefused;
    }
    if (lim.policy == OverflowPolicy::kDropNewest) {
      dead_letter(m.release(), "mailbox full: dropped newest");
      return Delivery::kDropped;
    }
    if (Message* old = lim.bounded->pop()) {  // kDropOldest
      user_done_.fetch_add(1, std::memory_order_relaxed);
      dead_letter(old, "mailbox full: dropped oldest");
      result = Delivery::kDropped;
    }
  }
  (void)m.release();
  user_in_.fetch_add(1, std::memory_order_relaxed);
  return result;
}

Delivery ActorCell::enqueue_backpressure(MessagePtr m) {
  MailboxLimits& lim = *limits_;
  ActorCell* sender = ActorCell::current();
  if (sender == nullptr) {
    // A plain thread blocks until the mailbox is below its bound (or the actor dies).
    for (;;) {
      std::uint64_t done = user_done_.load(std::memory_order_seq_cst);
      if (user_in_.load(std::memory_order_seq_cst) - done < lim.bp_bound) break;
      lim.blocked_threads.fetch_add(1, std::memory_order_seq_cst);
      if (life_.load() != Life::kDead && mailbox_depth() >= lim.bp_bound) user_done_.wait(done);
      lim.blocked_threads.fetch_sub(1, std::memory_order_seq_cst);
      if (life_.load() == Life::kDead) {
        dead_letter(m.release(), "actor is dead");
        return Delivery::kDeadLetter;
      }
    }
  }
  user_in_.fetch_add(1, std::memory_order_seq_cst);
  user_.push(m.release());
  if (sender != nullptr && sender != this && mailbox_depth() > lim.bp_bound) {
    // An actor never blocks its worker: it finishes the current handler, then pauses until
    // this mailbox has drained to half its bound. The excess is bounded by one handler's
    // worth of sends per paused sender.
    {
      std::lock_guard lock(lock_);
      if (life_.load() == Life::kDead) return Delivery::kQueued;  // it drained as a dead letter
      sender->throttle();
      family().throttled.emplace_back(sender);
    }
    lim.waiters.fetch_add(1, std::memory_order_seq_cst);
    // The consumer may have drained below the low mark before we registered: resume ourselves.
    if (mailbox_depth() <= lim.bp_bound / 2) resume_throttled(sender);
  }
  return Delivery::kQueued;
}

void ActorCell::resume_throttled(ActorCell* only) {
  std::vector<ActorRef> resumed;
  {
    std::lock_guard lock(lock_);
    if (!family_) return;
    auto& list = family_->throttled;
    if (only == nullptr) {
      resumed = std::move(list);
      list.clear();
    } else if (auto it = std::find(list.begin(), list.end(), ActorRef(only)); it != list.end()) {
      resumed.push_back(std::move(*it));
      list.erase(it);
    }
  }
  if (resumed.empty()) return;
  limits_->waiters.fetch_sub(static_cast<std::uint32_t>(resumed.size()), std::memory_order_seq_cst);
  for (auto& s : resumed) s.cell()->unthrottle();
}

void ActorCell::enqueue_system(MessagePtr m) {
  if (life_.load(std::memory_order_acquire) == Life::kDead && !m->is<sys::ChildFailed>()) {
    dead_letter(m.release(), "actor is dead");
    return;
  }
  sys_.push(m.release());
  schedule();
}

void ActorCell::schedule() {
  if (scheduled_.load(std::memory_order_seq_cst)) return;
  bool expected = false;
  if (scheduled_.compare_exchange_strong(expected, true, std::memory_order_seq_cst)) {
    add_ref();  // held while queued or running
    system_.scheduler().schedule(this);
  }
}

void ActorCell::unthrottle() {
  if (throttled_.fetch_sub(1, std::memory_order_seq_cst) == 1) schedule();
}

std::size_t ActorCell::mailbox_depth() const {
  std::uint64_t in = user_in_.load(std::memory_order_relaxed);
  std::uint64_t done = user_done_.load(std::memory_order_relaxed);
  return in > done ? static_cast<std::size_t>(in - done) : 0;
}

// --- the worker running the actor ----------------------------------------------------------

bool ActorCell::user_pending() const {
  const MailboxLimits* lim = limits_.get();
  if (lim && lim->bounded) return lim->bounded->size() > 0;
  return user_.pending(user_c_);
}

bool ActorCell::can_process_user() const {
  Life life = life_.load(std::memory_order_seq_cst);
  if (life == Life::kDead) return true;  // drains as dead letters
  return life == Life::kRunning && !awaiting_.load(std::memory_order_seq_cst) &&
         throttled_.load(std::memory_order_seq_cst) == 0;
}

bool ActorCell::has_work() const {
  return system_pending() || (user_pending() && can_process_user());
}

Message* ActorCell::pop_user() {
  MailboxLimits* lim = limits_.get();
  if (lim == nullptr) {
    Message* m = user_.pop(user_c_);
    // Only this thread writes user_done_ here: a plain store, no read-modify-write.
    if (m)
      user_done_.store(user_done_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return m;
  }
  Message* m = lim->bounded ? lim->bounded->pop() : user_.pop(user_c_);
  if (!m) return nullptr;
  user_done_.fetch_add(1, std::memory_order_seq_cst);  // drop-oldest producers count here too
  if (lim->bp_bound != 0) {
    if (lim->waiters.load(std::memory_order_seq_cst) > 0 && mailbox_depth() <= lim->bp_bound / 2) {
      resume_throttled(nullptr);
    }
    if (lim->blocked_threads.load(std::memory_order_seq_cst) > 0) user_done_.notify_all();
  }
  if (lim->threshold != 0 && mailbox_depth() <= lim->threshold / 2) lim->armed.store(true);
  return m;
}

bool ActorCell::finish_activation() {
  if (has_work()) return true;
  scheduled_.store(false, std::memory_order_seq_cst);
  if (has_work()) {
    bool expected = false;
    if (scheduled_.compare_exchange_strong(expected, true, std::memory_order_seq_cst)) return true;
  }
  release();  // the reference schedule() took
  return false;
}

}  // namespace troupe
