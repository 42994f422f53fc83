#include "troupe/runtime/actor_cell.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <vector>

#include "actor_cell_parts.h"
#include "system_messages.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/runtime_error.h"

namespace troupe {
namespace {

thread_local ActorCell* t_current = nullptr;

// Restores the previous current cell on scope exit (activations never nest today, but a
// ManualClock test may run timer callbacks from inside a handler).
class CurrentScope {
 public:
  explicit CurrentScope(ActorCell* c) : prev_(t_current) { t_current = c; }
  ~CurrentScope() { t_current = prev_; }
  CurrentScope(const CurrentScope&) = delete;
  CurrentScope& operator=(const CurrentScope&) = delete;

 private:
  ActorCell* prev_;
};

// The reply handler running on this thread and the call chain of the request it answers:
// asks made from it continue that chain. Kept here, not in the cell, whose 192 bytes have no
// room for it.
struct ReplyChain {
  const ActorCell* cell = nullptr;
  const CallChain* chain = nullptr;
  std::uint32_t depth = 0;
};
thread_local ReplyChain t_reply;
// The cell that asked (yield_then) to end its activation on this worker after the current
// handler. A thread-local, not a field: the cell's three cache lines are full.
thread_local const ActorCell* t_yielding = nullptr;

bool take_yield(const ActorCell* cell) {
  if (t_yielding != cell) return false;
  t_yielding = nullptr;
  return true;
}

class ReplyScope {
 public:
  ReplyScope(const ActorCell* cell, const CallChain* chain, std::uint32_t depth) : prev_(t_reply) {
    t_reply = {cell, chain, depth};
  }
  ~ReplyScope() { t_reply = prev_; }
  ReplyScope(const ReplyScope&) = delete;
  ReplyScope& operator=(const ReplyScope&) = delete;

 private:
  ReplyChain prev_;
};

// Dead letters met while this thread is already turning one into a dead letter. Destroying a
// dead letter can fail another request (a reply promise captured in it), whose reply goes to
// a dead asker and becomes a dead letter in turn: a chain of n pending asks would recurse n
// levels deep (an actor that asked itself in a loop left hundreds of thousands). The outermost
// call works through this list instead, so the depth stays constant and the list short (each
// step adds about one entry, taken last in first out).
struct PendingDeadLetter {
  Message* message;
  ActorSystem* system;
  ActorId actor;
  const char* why;
};
struct DeadLetterQueue {
  bool draining = false;
  std::vector<PendingDeadLetter> pending;
};
thread_local DeadLetterQueue t_dead_letters;

void process_dead_letter(const PendingDeadLetter& d) {
  MessagePtr m(d.message);
  if (m->request) {
    m->request->fail(Error{RuntimeErrc::kDead, "actor " + d.actor.to_string() + " is dead"});
  }
  d.system->note_dead_letter(*m, d.why);
}  // m is destroyed here: whatever it held may add to t_dead_letters.pending

}  // namespace

// Three cache lines (see the layout in the header). A field more costs every actor a fourth
// line: the idle-actor benchmark (<= 300 bytes an actor) and spawn rate show it.
static_assert(sizeof(ActorCell) == 192, "ActorCell grew past three cache lines");

ActorCell* ActorCell::current() { return t_current; }

ActorCell::ActorCell(ActorSystem& system, ActorId id, const std::string* type_name,
                     std::unique_ptr<Actor> actor, const MailboxOptions& mailbox, ActorCell* parent)
    : serial_(id.serial),
      type_name_(type_name),
      system_(system),
      parent_(parent),
      foreign_(id.node != system.node_id()),
      actor_(std::move(actor)) {
  user_.init(user_c_);
  sys_.init(sys_c_);
  if (parent_) parent_->add_ref();
  if (mailbox.bound > 0 || mailbox.backpressure_threshold > 0) {
    limits_ = std::make_unique<MailboxLimits>();
    limits_->policy = mailbox.policy;
    limits_->threshold = static_cast<std::uint32_t>(mailbox.backpressure_threshold);
    if (mailbox.bound > 0 && mailbox.policy == OverflowPolicy::kBackpressure) {
      limits_->bp_bound = static_cast<std::uint32_t>(mailbox.bound);
    } else if (mailbox.bound > 0) {
      limits_->bounded = std::make_unique<BoundedQueue>(mailbox.bound);
    }
  }
  actor_->cell_ = this;
}

ActorId ActorCell::id() const {
  return ActorId{foreign_ ? system_.foreign_node_of(this) : system_.node_id(), serial_};
}

ActorCell::OwnerState& ActorCell::owner() {
  if (!owner_) owner_ = std::make_unique<OwnerState>();
  return *owner_;
}

void ActorCell::set_awaiting(std::uint64_t request_id) {
  owner().awaited_request = request_id;
  awaiting_.store(true, std::memory_order_seq_cst);
}

void ActorCell::yield_then(std::function<void()> resume) {
  const std::uint64_t id = system_.next_request_id();
  const CallChain* chain = current_chain();
  set_awaiting(id);
  t_yielding = this;
  // The scheduler re-queues a cell with work left at the back of its worker's queue.
  // A reply handler sees the depth below the one it carries: the continuation keeps this one.
  enqueue_system(
      make_message(detail::ReplyDelivery{id, incarnation_, /*awaited=*/true, std::move(resume),
                                         chain ? *chain : CallChain{}, current_depth() + 1}));
}

std::function<void()> ActorCell::wait_then(std::function<void()> resume) {
  const CallChain* chain = current_chain();
  auto delivery = std::make_shared<detail::ReplyDelivery>(
      detail::ReplyDelivery{0, incarnation_, /*awaited=*/false, std::move(resume),
                            chain ? *chain : CallChain{}, current_depth() + 1});
  // Paused like a backpressured sender, but in units the stall check tells apart: this wait
  // ends from outside the actors, so it is no cycle to break.
  throttled_.fetch_add(kExternalWait, std::memory_order_seq_cst);
  auto called = std::make_shared<std::atomic<bool>>(false);
  return [target = ActorRef(this), delivery = std::move(delivery), called = std::move(called)] {
    if (called->exchange(true)) return;
    ActorCell* cell = target.cell();
    // The continuation first (system messages run before user ones), then user messages.
    cell->enqueue_system(make_message(std::move(*delivery)));
    if (cell->throttled_.fetch_sub(kExternalWait, std::memory_order_seq_cst) == kExternalWait) {
      cell->schedule();
    }
  };
}

ActorCell::~ActorCell() {
  // Whatever is still queued can no longer be delivered.
  while (Message* m = sys_.pop(sys_c_)) dead_letter(m, "actor gone");
  while (Message* m = pop_user()) dead_letter(m, "actor gone");
  if (parent_) parent_->release();
  if (foreign_) system_.forget_foreign_cell(this);
}

void ActorCell::start(std::string name) {
  if (!name.empty()) {
    std::lock_guard lock(lock_);
    family().name = std::move(name);
  }
  // The first activation runs on_start before any message.
  enqueue_system(make_message(sys::Run{[](ActorCell& self) {
    self.started_ = true;
    self.run_hook("on_start", [&self] { self.actor_->on_start(); });
  }}));
}

ActorCell::Family& ActorCell::family() {
  if (!family_) family_ = std::make_unique<Family>();
  return *family_;
}

bool ActorCell::resume(unsigned budget) {
  CurrentScope scope(this);
  unsigned done = 0;
  for (;;) {
    if (kill_requested_.load(std::memory_order_relaxed)) kill_now();
    while (system_pending()) {
      Message* m = sys_.pop(sys_c_);
      if (!m) break;  // a producer is mid-push; the next activation gets it
      handle_system(m);
      apply_pending_stop();
      if (t_yielding == this) break;
    }
    if (take_yield(this)) break;
    if (life_.load() == Life::kDead) {
      drain_dead();
      break;
    }
    if (done >= budget || !can_process_user()) break;
    Message* m = pop_user();
    if (!m) break;
    ++done;
    handle_user(m);
    apply_pending_stop();
    if (take_yield(this)) break;
  }
  return finish_activation();
}

void ActorCell::run_hook(const char* what, const std::function<void()>& fn) {
  if (!actor_) return;
  try {
    fn();
  } catch (const std::exception& e) {
    fail(Error{RuntimeErrc::kHandlerError, std::string(what) + ": " + e.what()});
  } catch (...) {
    fail(Error{RuntimeErrc::kHandlerError, std::string(what) + ": unknown exception"});
  }
}

void ActorCell::handle_user(Message* raw) {
  MessagePtr m(raw);
  if (life_.load() != Life::kRunning || !actor_) {
    dead_letter(m.release(), "actor not running");
    return;
  }
  current_ = m.get();
  try {
    bool handled = actor_->receive(*m);
    if (forwarded_) {  // ownership went with it; the other actor may already have freed it
      forwarded_ = false;
      (void)m.release();
      current_ = nullptr;
      return;
    }
    if (!handled) {
      if (m->request) {
        m->request->fail(
            Error{BaseErrc::kNotFound, std::string("no handler for ") + m->type_name()});
      }
      system_.note_dead_letter(*m, "unhandled");
    } else if (m->request && !m->reply_taken && !m->request->done()) {
      // The handler neither replied nor took the promise: an empty reply.
      m->request->complete(make_message(Unit{}));
    }
  } catch (const std::exception& e) {
    handler_failed(m, e.what());
  } catch (...) {
    handler_failed(m, "unknown exception");
  }
  current_ = nullptr;
}

void ActorCell::handler_failed(MessagePtr& m, const char* what) {
  current_ = nullptr;
  if (forwarded_) {
    forwarded_ = false;
    (void)m.release();
  } else if (m->request) {
    m->request->fail(Error{RuntimeErrc::kHandlerError, what});
  }
  fail(Error{RuntimeErrc::kHandlerError, what});
}

void ActorCell::apply_pending_stop() {
  if (!owner_ || !owner_->pending_stop) return;
  ExitReason reason = std::move(*owner_->pending_stop);
  owner_->pending_stop.reset();
  if (life_.load() == Life::kRunning) begin_exit(std::move(reason), Origin::kSelf);
}

const CallChain* ActorCell::current_chain() const {
  if (current_ && current_->request) return &current_->request->chain();
  return t_reply.cell == this ? t_reply.chain : nullptr;  // in a reply handler
}

std::uint32_t ActorCell::current_depth() const {
  if (current_ && current_->request) return current_->request->depth();
  // In a reply handler: the depth of the context that made the answered ask, so that asking
  // again from each reply (a loop of calls, one after the other) does not deepen the chain.
  return t_reply.cell == this && t_reply.depth > 0 ? t_reply.depth - 1 : 0;
}

void ActorCell::forward_current(const ActorRef& to) {
  if (!current_ || forwarded_ || !to) return;
  forwarded_ = true;
  to.cell()->enqueue(MessagePtr(current_));
}

void ActorCell::request_stop(ExitReason reason) {
  // Deferred until the current handler or hook has returned: stopping destroys the instance.
  if (!owner().pending_stop) owner_->pending_stop = std::move(reason);
}

void ActorCell::handle_system(Message* raw) {
  MessagePtr m(raw);
  Life life = life_.load();
  if (m->is<detail::ReplyDelivery>()) {
    auto& d = m->as<detail::ReplyDelivery>();
    if (d.awaited && owner_ && owner_->awaited_request == d.request_id) {
      owner_->awaited_request = 0;
      awaiting_.store(false, std::memory_order_seq_cst);
    }
    if (life != Life::kRunning || !actor_ || d.incarnation != incarnation_) {
      system_.note_dead_letter(*m, "reply to a stopped incarnation");
      return;
    }
    const ReplyScope scope(this, &d.chain, d.depth);
    run_hook("reply handler", d.run);
  } else if (m->is<sys::Run>()) {
    auto& run = m->as<sys::Run>();
    if (run.fn) run.fn(*this);
  } else if (m->is<sys::Stop>()) {
    begin_exit(std::move(m->as<sys::Stop>().reason), Origin::kStopRequest);
  } else if (m->is<sys::Kill>()) {
    kill_now();
  } else if (m->is<sys::Restart>()) {
    begin_exit(ExitReason::shutdown(), Origin::kRestart, std::move(m->as<sys::Restart>().fresh));
  } else if (m->is<sys::Finish>()) {
    if (life == Life::kSuspended) finalize(m->as<sys::Finish>().reason);
  } else if (m->is<sys::ChildFailed>()) {
    auto& f = m->as<sys::ChildFailed>();
    bool decided = false;
    if (life == Life::kRunning && actor_) {
      try {
        decided = actor_->on_child_failed(f.child, f.reason);
      } catch (...) {
        decided = false;
      }
    }
    if (!decided) f.child.cell()->finish(f.reason);
  } else if (m->is<ChildExit>()) {
    auto& e = m->as<ChildExit>();
    {
      std::lock_guard lock(lock_);
      if (family_) std::erase(family_->children, e.child);
    }
    if (owner_ && owner_->exiting && owner_->waiting_for == e.child) {
      system_.cancel_timer(owner_->kill_timer);
      owner_->waiting_for = ActorRef{};
      stop_next_child();
    } else if (life == Life::kRunning && actor_) {
      run_hook("on_child_exit", [&] { actor_->on_child_exit(e); });
    }
  } else if (m->is<Down>()) {
    if (life == Life::kRunning && actor_) {
      run_hook("on_down", [&] { actor_->on_down(m->as<Down>()); });
    }
  } else if (m->is<sys::LinkExit>()) {
    auto& x = m->as<sys::LinkExit>();
    {
      std::lock_guard lock(lock_);
      if (family_) std::erase(family_->links, x.from);
    }
    if (life != Life::kRunning) return;
    if (trap_exit_) {
      ExitSignal sig{x.from, x.reason};
      run_hook("on_exit", [&] { actor_->on_exit(sig); });
    } else if (x.reason.kind != ExitReason::Kind::kNormal) {
      ExitReason why = x.reason;
      if (why.kind == ExitReason::Kind::kError) {
        why.detail = "linked actor " + x.from.id().to_string() + " exited: " + why.detail;
      }
      begin_exit(std::move(why), Origin::kSelf);
    }
  } else if (m->is<sys::Backpressure>()) {
    if (life == Life::kRunning && actor_) {
      std::size_t depth = m->as<sys::Backpressure>().depth;
      run_hook("on_backpressure", [&] { actor_->on_backpressure(depth); });
    }
  } else {
    system_.note_dead_letter(*m, "unknown system message");
  }
}

// --- lifecycle ---------------------------------------------------------------------------

void ActorCell::fail(const Error& error) {
  if (actor_ && life_.load() == Life::kRunning) {
    try {
      actor_->on_error(error);
    } catch (...) {
      // on_error failing changes nothing: the actor is already going down.
    }
  }
  begin_exit(ExitReason::error(error.to_string()), Origin::kSelf);
}

void ActorCell::begin_exit(ExitReason reason, Origin origin, std::unique_ptr<Actor> fresh) {
  Life life = life_.load();
  if (life == Life::kDead) return;
  if (life == Life::kSuspended) {
    // Waiting for the parent already: a stop is final, a restart installs at once.
    if (origin == Origin::kRestart) {
      install(std::move(fresh));
    } else if (origin == Origin::kStopRequest) {
      finalize(reason);
    }
    return;
  }
  if (life == Life::kStopping) {
    // Already on the way out; an explicit stop makes it final instead of a restart.
    if (origin == Origin::kStopRequest && owner_ && owner_->exiting) {
      owner_->origin = Origin::kStopRequest;
      owner_->fresh.reset();
    }
    return;
  }
  life_.store(Life::kStopping);
  awaiting_.store(false);
  OwnerState& o = owner();
  o.awaited_request = 0;
  o.exiting = true;
  o.reason = std::move(reason);
  o.origin = origin;
  o.fresh = std::move(fresh);
  {
    std::lock_guard lock(lock_);
    if (family_) o.to_stop = family_->children;
  }
  stop_next_child();
}

void ActorCell::stop_next_child() {
  Clock::Duration timeout = system_.config().child_shutdown_timeout;
  OwnerState& o = owner();
  while (!o.to_stop.empty()) {
    ActorRef child = std::move(o.to_stop.back());
    o.to_stop.pop_back();
    if (!child.alive()) continue;
    o.waiting_for = child;
    child.cell()->stop(ExitReason::shutdown());
    // Still alive when the timeout fires: kill it. (If it exits first, the timer is
    // cancelled when its ChildExit arrives; a kill of a dead actor does nothing.)
    o.kill_timer = system_.timers().after(timeout, [child, me = id()] {
      if (!child.alive()) return;
      spdlog::warn("actor {}: child {} did not stop in time; killing it", me.to_string(),
                   child.id().to_string());
      child.cell()->kill();
    });
    return;
  }
  after_children_stopped();
}

void ActorCell::after_children_stopped() {
  if (started_ && actor_) {
    try {
      actor_->on_stop();
    } catch (const std::exception& e) {
      spdlog::warn("actor {}: on_stop failed: {}", id().to_string(), e.what());
    } catch (...) {
      spdlog::warn("actor {}: on_stop failed", id().to_string());
    }
  }
  cancel_timers();
  actor_.reset();
  OwnerState& ex = owner();
  ex.exiting = false;
  if (ex.origin == Origin::kRestart && ex.fresh) {
    install(std::move(ex.fresh));
  } else if (ex.origin == Origin::kSelf && parent_) {
    life_.store(Life::kSuspended);
    parent_->enqueue_system(make_message(sys::ChildFailed{ActorRef(this), std::move(ex.reason)}));
  } else {
    finalize(ex.reason);
  }
}

void ActorCell::install(std::unique_ptr<Actor> fresh) {
  actor_ = std::move(fresh);
  actor_->cell_ = this;
  ++incarnation_;
  restarts_.fetch_add(1, std::memory_order_relaxed);
  system_.note_restart();
  life_.store(Life::kRunning);
  started_ = true;
  run_hook("on_start", [this] { actor_->on_start(); });
}

void ActorCell::kill_now() {
  if (life_.load() == Life::kDead) return;
  std::vector<ActorRef> children;
  {
    std::lock_guard lock(lock_);
    if (family_) children = family_->children;
  }
  for (auto it = children.rbegin(); it != children.rend(); ++it) it->cell()->kill();
  if (owner_ && owner_->exiting) {
    system_.cancel_timer(owner_->kill_timer);
    owner_->exiting = false;
    owner_->to_stop.clear();
    owner_->waiting_for = ActorRef{};
  }
  cancel_timers();
  actor_.reset();
  finalize(ExitReason::killed());
}

void ActorCell::finalize(const ExitReason& why) {
  // `why` may live in owner_, which goes below: a copy on purpose.
  const ExitReason reason = why;  // NOLINT(performance-unnecessary-copy-initialization)
  actor_.reset();
  // What remains is a tombstone: the cell and its exit reason. The family record and the
  // owner state go now, not when the last ActorRef does.
  std::unique_ptr<Family> family;
  {
    std::lock_guard lock(lock_);
    exit_ = std::make_unique<ExitReason>(reason);
    family = std::move(family_);
    life_.store(Life::kDead, std::memory_order_seq_cst);
  }
  owner_.reset();
  ActorRef me(this);
  std::string name;
  if (family) {
    for (auto& [watcher, id] : family->watchers) {
      watcher.cell()->enqueue_system(make_message(Down{me, id, reason}));
    }
    for (auto& other : family->links) {
      other.cell()->enqueue_system(make_message(sys::LinkExit{me, reason}));
    }
    for (auto& sender : family->throttled) sender.cell()->unthrottle();  // paused senders
    run_room_callbacks(family->room_waiters);  // they retry and learn it is dead
    name = std::move(family->name);
    family.reset();
  }
  if (parent_) {
    parent_->enqueue_system(make_message(ChildExit{me, reason}));
  }
  drain_dead();
  system_.on_finalized(this, name);
  release();  // the live self-reference
}

void ActorCell::drain_dead() {
  while (Message* m = sys_.pop(sys_c_)) {
    if (m->is<sys::ChildFailed>()) {
      // The child waits for a parent that is gone: let it terminate.
      auto& f = m->as<sys::ChildFailed>();
      f.child.cell()->finish(f.reason);
      delete m;
      continue;
    }
    dead_letter(m, "actor is dead");
  }
  while (Message* m = pop_user()) dead_letter(m, "actor is dead");
}

void ActorCell::dead_letter(Message* raw, const char* why) {
  DeadLetterQueue& q = t_dead_letters;
  PendingDeadLetter d{raw, &system_, id(), why};
  if (q.draining) {
    q.pending.push_back(d);
    return;
  }
  struct Draining {  // reset even if a request's callback throws; the next call goes on
    explicit Draining(DeadLetterQueue& q) : q(q) { q.draining = true; }
    ~Draining() { q.draining = false; }
    DeadLetterQueue& q;
  } draining(q);
  process_dead_letter(d);
  while (!q.pending.empty()) {
    d = q.pending.back();
    q.pending.pop_back();
    process_dead_letter(d);
  }
  if (q.pending.capacity() > 64) q.pending.shrink_to_fit();
}

// --- family -------------------------------------------------------------------------------

void ActorCell::restart(std::unique_ptr<Actor> fresh) {
  enqueue_system(make_message(sys::Restart{std::move(fresh)}));
}
void ActorCell::finish(ExitReason reason) {
  enqueue_system(make_message(sys::Finish{std::move(reason)}));
}
void ActorCell::stop(ExitReason reason) {
  enqueue_system(make_message(sys::Stop{std::move(reason)}));
}
void ActorCell::kill() {
  // The flag lets a kill overtake a stop (or anything else) that is queued before it.
  kill_requested_.store(true, std::memory_order_seq_cst);
  enqueue_system(make_message(sys::Kill{}));
}

void ActorCell::add_child(const ActorRef& child) {
  std::lock_guard lock(lock_);
  family().children.push_back(child);
}

std::vector<ActorRef> ActorCell::children() const {
  std::lock_guard lock(lock_);
  return family_ ? family_->children : std::vector<ActorRef>{};
}

ActorRef ActorCell::parent() const {
  std::lock_guard lock(lock_);
  return parent_ && life_.load() != Life::kDead ? ActorRef(parent_) : ActorRef{};
}

ExitReason ActorCell::exit_reason() const {
  std::lock_guard lock(lock_);
  return exit_ ? *exit_ : ExitReason{};
}

std::uint64_t ActorCell::monitor(const ActorRef& target) {
  ActorCell* t = target.cell();
  std::uint64_t id;
  bool dead = false;
  ExitReason reason;
  id = system_.next_request_id();  // unique on the node, so demonitor finds exactly this one
  {
    std::lock_guard lock(t->lock_);
    if (t->life_.load() == Life::kDead) {
      dead = true;
      reason = *t->exit_;
    } else {
      t->family().watchers.emplace_back(ActorRef(this), id);
    }
  }
  if (dead) enqueue_system(make_message(Down{target, id, std::move(reason)}));
  return id;
}

void ActorCell::demonitor(const ActorRef& target, std::uint64_t monitor_id) {
  ActorCell* t = target.cell();
  std::lock_guard lock(t->lock_);
  if (!t->family_) return;
  std::erase_if(t->family_->watchers,
                [&](const auto& w) { return w.second == monitor_id && w.first.cell() == this; });
}

void ActorCell::link(const ActorRef& other) {
  ActorCell* o = other.cell();
  if (o == this) return;
  // Lock both in address order.
  ActorCell* first = this < o ? this : o;
  ActorCell* second = this < o ? o : this;
  bool other_dead;
  ExitReason reason;
  {
    std::lock_guard l1(first->lock_);
    std::lock_guard l2(second->lock_);
    other_dead = o->life_.load() == Life::kDead;
    if (other_dead) {
      reason = *o->exit_;
    } else {
      auto& mine = family().links;
      if (std::find(mine.begin(), mine.end(), other) == mine.end()) {
        mine.push_back(other);
        o->family().links.emplace_back(this);
      }
    }
  }
  if (other_dead) {
    // Erlang's noproc: linking to a dead actor delivers its exit at once.
    enqueue_system(make_message(sys::LinkExit{other, std::move(reason)}));
  }
}

void ActorCell::unlink(const ActorRef& other) {
  ActorCell* o = other.cell();
  ActorCell* first = this < o ? this : o;
  ActorCell* second = this < o ? o : this;
  std::lock_guard l1(first->lock_);
  std::lock_guard l2(second->lock_);
  if (family_) std::erase(family_->links, other);
  if (o->family_) std::erase(o->family_->links, ActorRef(this));
}

void ActorCell::track_timer(TimerId id) {
  std::lock_guard lock(lock_);
  auto& timers = family().timers;
  // Forget timers that already fired, so the list stays short.
  if (timers.size() >= 32) {
    std::erase_if(timers, [this](TimerId t) { return !system_.timers().is_pending(t); });
  }
  timers.push_back(id);
}

void ActorCell::cancel_timers() {
  std::vector<TimerId> timers;
  {
    std::lock_guard lock(lock_);
    if (family_) timers = std::move(family_->timers);
  }
  for (TimerId t : timers) system_.cancel_timer(t);
}

ActorStats ActorCell::stats() const {
  ActorStats s;
  s.id = id();
  s.type_name = *type_name_;
  s.mailbox_depth = mailbox_depth();
  s.messages_in = user_in_.load(std::memory_order_relaxed);
  s.messages_out = out_.load(std::memory_order_relaxed);
  s.restarts = restarts_.load(std::memory_order_relaxed);
  s.alive = alive();
  switch (life()) {
    case Life::kRunning:
      s.state = "running";
      break;
    case Life::kStopping:
      s.state = "stopping";
      break;
    case Life::kSuspended:
      s.state = "restarting";
      break;
    case Life::kDead:
      s.state = "dead";
      break;
  }
  std::lock_guard lock(lock_);
  if (family_) s.name = family_->name;
  if (parent_) s.parent = parent_->id();
  return s;
}

}  // namespace troupe
