// ActorCell, part two: the mailbox — enqueue from any thread, dequeue by the running worker,
// overflow policies, backpressure and the scheduling handshake.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

#include "actor_cell_parts.h"
#include "system_messages.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/runtime_error.h"

namespace troupe {

void run_room_callbacks(std::vector<std::function<void()>>& callbacks) {
  for (auto& fn : callbacks) {
    try {
      if (fn) fn();
    } catch (const std::exception& e) {  // a worker must not die of a caller's callback
      spdlog::warn("notify_when_room callback failed: {}", e.what());
    } catch (...) {
      spdlog::warn("notify_when_room callback failed");
    }
  }
  callbacks.clear();
}

Delivery ActorCell::enqueue(MessagePtr m) {
  if (life_.load(std::memory_order_acquire) == Life::kDead) {
    dead_letter(m.release(), "actor is dead");
    return Delivery::kDeadLetter;
  }
  if (limits_ == nullptr) {  // the common case: unbounded, no threshold
    user_in_.fetch_add(1, std::memory_order_relaxed);
    user_.push(m.release());
    schedule();
    return Delivery::kQueued;
  }
  Delivery result = enqueue_limited(m, /*may_pause=*/true);
  if (result == Delivery::kFull) {
    // Not an actor: it cannot be paused, and blocking it (a network thread, the control
    // socket's, a timer) could stall everything behind it. Refused, like policy kFail.
    if (m->request) {
      m->request->fail(
          Error{RuntimeErrc::kMailboxFull, "mailbox of " + id().to_string() + " is full"});
    }
    system_.note_dead_letter(*m, "mailbox full");
  }
  return result;
}

Delivery ActorCell::try_enqueue(MessagePtr& m) {
  if (life_.load(std::memory_order_acquire) == Life::kDead || limits_ == nullptr) {
    return enqueue(std::move(m));
  }
  return enqueue_limited(m, /*may_pause=*/false);
}

Delivery ActorCell::enqueue_limited(MessagePtr& m, bool may_pause) {
  MailboxLimits* lim = limits_.get();
  Delivery result;
  if (lim->bp_bound != 0) {
    result = enqueue_backpressure(m, may_pause);
  } else if (lim->bounded) {
    result = enqueue_bounded(std::move(m));
  } else {
    user_in_.fetch_add(1, std::memory_order_relaxed);
    user_.push(m.release());
    result = Delivery::kQueued;
  }
  if (result == Delivery::kRefused || result == Delivery::kDeadLetter ||
      result == Delivery::kFull) {
    return result;
  }
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
        m->request->fail(
            Error{RuntimeErrc::kMailboxFull, "mailbox of " + id().to_string() + " is full"});
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

Delivery ActorCell::enqueue_backpressure(MessagePtr& m, bool may_pause) {
  MailboxLimits& lim = *limits_;
  ActorCell* sender = may_pause ? ActorCell::current() : nullptr;
  // Only an actor can wait without blocking a thread (it is paused between messages); anyone
  // else is told the mailbox is full. Concurrent senders may each pass this check: the bound
  // is exceeded by at most one message per sender thread.
  if (sender == nullptr && mailbox_depth() >= lim.bp_bound) return Delivery::kFull;
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
    arm_stall_check(sender);
    // The consumer may have drained below the low mark before we registered: resume ourselves.
    if (mailbox_depth() <= lim.bp_bound / 2) resume_throttled(sender);
  }
  return Delivery::kQueued;
}

void ActorCell::arm_stall_check(ActorCell* sender) {
  system_.timers().after(
      system_.config().backpressure_max_stall, [target = ActorRef(this), s = ActorRef(sender)] {
        ActorCell* t = target.cell();
        bool registered;
        {
          std::lock_guard lock(t->lock_);
          registered = t->family_ &&
                       std::find(t->family_->throttled.begin(), t->family_->throttled.end(), s) !=
                           t->family_->throttled.end();
        }
        if (!registered) return;  // resumed already (or the target died)
        // A target paused by its own sends (not waiting from outside, wait_then) or awaiting.
        if (t->throttled_.load(std::memory_order_seq_cst) % kExternalWait > 0 ||
            t->awaiting_.load(std::memory_order_seq_cst)) {
          // The target cannot drain its mailbox until something else moves: possibly a cycle
          // of actors paused on each other. Let this sender run one more handler.
          t->resume_throttled(s.cell());
        } else {
          t->arm_stall_check(s.cell());  // merely slow: keep waiting
        }
      });
}

void ActorCell::notify_when_room(std::function<void()> fn) {
  MailboxLimits* lim = limits_.get();
  bool registered = false;
  if (lim != nullptr && lim->bp_bound != 0) {
    std::lock_guard lock(lock_);
    if (life_.load() != Life::kDead) {
      family().room_waiters.push_back(std::move(fn));
      registered = true;
    }
  }
  if (!registered) {
    if (fn) fn();
    return;
  }
  lim->waiters.fetch_add(1, std::memory_order_seq_cst);
  // Drained before we registered: nobody else would notice.
  if (mailbox_depth() <= lim->bp_bound / 2) resume_throttled(nullptr);
}

void ActorCell::resume_throttled(ActorCell* only) {
  std::vector<ActorRef> resumed;
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard lock(lock_);
    if (!family_) return;
    auto& list = family_->throttled;
    if (only == nullptr) {
      resumed = std::move(list);
      list.clear();
      callbacks = std::move(family_->room_waiters);
      family_->room_waiters.clear();
    } else if (auto it = std::find(list.begin(), list.end(), ActorRef(only)); it != list.end()) {
      resumed.push_back(std::move(*it));
      list.erase(it);
    }
  }
  if (resumed.empty() && callbacks.empty()) return;
  limits_->waiters.fetch_sub(static_cast<std::uint32_t>(resumed.size() + callbacks.size()),
                             std::memory_order_seq_cst);
  for (auto& s : resumed) s.cell()->unthrottle();
  run_room_callbacks(callbacks);
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

bool ActorCell::mailbox_bounded() const {
  const MailboxLimits* lim = limits_.get();
  return lim != nullptr && (lim->bp_bound != 0 || lim->bounded);
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
  if (lim->bp_bound != 0 && lim->waiters.load(std::memory_order_seq_cst) > 0 &&
      mailbox_depth() <= lim->bp_bound / 2) {
    resume_throttled(nullptr);
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
