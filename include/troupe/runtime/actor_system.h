// ActorSystem: one node's actor runtime — scheduler, timers, registry of live actors, names,
// the root supervisor and node-wide stats. Create one per process (tests may create several).
// All public member functions are thread-safe. Destruction shuts down: every actor is stopped
// (children before parents, reverse start order), then the workers and the timer thread join.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "troupe/base/clock.h"
#include "troupe/base/result.h"
#include "troupe/runtime/actor.h"
#include "troupe/runtime/actor_cell.h"
#include "troupe/runtime/cell_table.h"
#include "troupe/runtime/future.h"
#include "troupe/runtime/scheduler.h"
#include "troupe/runtime/supervisor.h"
#include "troupe/runtime/timer_service.h"

namespace troupe {

class RemoteDirectory;

// SystemConfig::max_call_depth for "no limit": a chain this deep cannot be built.
inline constexpr std::uint32_t kUnlimitedCallDepth = UINT32_MAX;

struct SystemConfig {
  unsigned workers = 0;  // 0 = one per core
  unsigned budget = 64;  // messages per activation before the worker moves on
  NodeId node_id = 0;    // 0 = random
  // Actor serials given out: [first_serial, last_serial]; past the last, spawn refuses
  // (an empty ActorRef). A node starts each boot at a fresh range (NodeIdentity).
  std::uint64_t first_serial = 1;
  std::uint64_t last_serial = UINT64_MAX;
  std::shared_ptr<Clock> clock = nullptr;  // null = SteadyClock
  // How long a stopping parent waits for each child before killing it.
  Clock::Duration child_shutdown_timeout = std::chrono::seconds(5);
  // How long shutdown() waits (wall time) for every actor before killing the rest.
  std::chrono::milliseconds shutdown_timeout{10000};
  // The deepest causal chain of asks (see Request::depth); a deeper ask fails with
  // kCallCycle. Each level holds a pending request, so this bounds what one runaway chain
  // (an actor asking itself from its handler, forever) can hold. No limit is the explicit
  // kUnlimitedCallDepth; 0 is invalid (check() refuses it; given anyway, it bounds the chain
  // at no nested asks at all, never at none).
  std::uint32_t max_call_depth = 1024;

  // kInvalidArgument for a setting no system can run with (max_call_depth 0).
  Result<void> check() const;
  // The root supervisor, under which the node spawns actors. Whatever is set here, the root
  // never escalates (nothing is above it): a child past the intensity fails alone.
  SupervisorOptions root_supervisor = root_supervisor_options();
  // How many failed actors failed() remembers (the oldest are forgotten first).
  std::size_t failed_kept = 64;
  // An actor paused by backpressure while the actor it sent to cannot drain either (paused or
  // awaiting itself: two bounded actors filling each other's mailbox, say) is resumed after
  // this long, so such a cycle makes progress instead of stalling forever.
  Clock::Duration backpressure_max_stall = std::chrono::milliseconds(100);
};

struct SystemStats {
  std::uint64_t spawned = 0;
  std::uint64_t live = 0;
  std::uint64_t dead_letters = 0;
  std::uint64_t restarts = 0;
};

class ActorSystem {
 public:
  explicit ActorSystem(SystemConfig config = {});
  ~ActorSystem();
  ActorSystem(const ActorSystem&) = delete;
  ActorSystem& operator=(const ActorSystem&) = delete;

  // A top-level actor: no parent, not supervised; only monitors see it die.
  template <class A, class... Args>
  ActorRef spawn(Args&&... args) {
    return spawn(std::make_unique<A>(std::forward<Args>(args)...));
  }
  ActorRef spawn(std::unique_ptr<Actor> actor, SpawnOptions options = {});
  ActorRef spawn_fn(std::function<Behavior(Actor&)> init, SpawnOptions options = {});
  // Internal: spawn with a parent (Actor::spawn, supervisors).
  ActorRef spawn_cell(ActorCell* parent, std::unique_ptr<Actor> actor, SpawnOptions options);

  // From an actor into a full backpressure mailbox: queued, and the sender is paused after its
  // handler. From any other thread: kFull, never blocking (the message is a dead letter).
  template <class T>
  Delivery tell(const ActorRef& to, T&& value);
  // Never blocks and never pauses the caller, actor or not: kFull when `to` has a
  // backpressure mailbox at its bound (the value is dropped, not counted as a dead letter);
  // otherwise as tell(). For threads that must not wait: network I/O, the control socket.
  template <class T>
  Delivery try_tell(const ActorRef& to, T&& value);
  // The same with a boxed message: on kFull it stays in `m`, to retry later.
  Delivery try_tell_message(const ActorRef& to, MessagePtr& m);
  // Calls `fn` once when `to`'s backpressure mailbox has drained to half its bound (or `to`
  // died); at once if there is room now. On whichever thread notices: short, non-blocking.
  void notify_when_room(const ActorRef& to, std::function<void()> fn);
  template <class R, class T>
  Future<R> ask(const ActorRef& to, T&& value, Clock::Duration timeout);
  // Ask without blocking anyone: `then` runs once, on whichever thread completes the request
  // (a worker or the timer thread), so it must be short and must not block.
  template <class R, class T>
  void ask_then(const ActorRef& to, T&& value, Clock::Duration timeout,
                std::function<void(Result<R>)> then);
  // ask_then that never pauses and is never refused for a backpressure mailbox at its bound:
  // then it answers kFull, nothing was sent and `then` is never called (the value is dropped;
  // notify_when_room says when to try again). Any other answer is ask_then's: `then` runs once.
  template <class R, class T>
  Delivery try_ask_then(const ActorRef& to, T&& value, Clock::Duration timeout,
                        std::function<void(Result<R>)> then);

  // Orderly stop (children first, then on_stop). An explicit stop is final: a supervisor
  // forgets the child instead of restarting it.
  void stop(const ActorRef& ref, ExitReason reason = ExitReason::normal());
  // Immediate: no on_stop; takes effect at the actor's next message boundary.
  void kill(const ActorRef& ref);
  // An exit signal to `ref` as if a linked actor `from` (may be empty: an actor of another
  // node) had exited with `reason`: trapped, it is on_exit; otherwise an abnormal reason ends
  // the actor, a normal one is ignored. What a link to an actor of another node delivers.
  void exit(const ActorRef& ref, ActorRef from, ExitReason reason);

  template <class T>
  TimerId send_after(const ActorRef& to, T value, Clock::Duration delay);
  template <class T>
  TimerId send_every(const ActorRef& to, T value, Clock::Duration period);
  bool cancel_timer(TimerId id) { return timers_->cancel(id); }

  ActorRef find(ActorId id) const;
  ActorRef find(std::string_view name) const;
  // Finds by name or by "NODE.SERIAL" text. Lookups are empty once shutdown() has begun.
  ActorRef resolve(std::string_view name_or_id) const;
  // A live actor spawned with this type name (the oldest one); empty when there is none.
  // Scans every actor: O(actors).
  ActorRef find_by_type(std::string_view type_name) const;
  Result<void> register_name(const std::string& name, const ActorRef& ref);
  // Every registered name whose actor is alive, with the actor (for the cluster registry).
  std::vector<std::pair<std::string, ActorRef>> named() const;
  // Live actors without a parent (the root supervisor among them), in spawn order.
  std::vector<ActorRef> top_level() const;
  // The node's root supervisor (one-for-one, permanent children); empty after shutdown.
  ActorRef root() const;

  // Actors that a supervisor gave up on (restart intensity exceeded), oldest first; an entry
  // goes when its name is taken again or when failed_kept newer ones came after it.
  std::vector<FailedActor> failed() const;
  void note_failed(FailedActor failed);

  SystemStats stats() const;
  // Blocks until no actor is alive or the wall-clock timeout passes; true when none is.
  bool wait_all_dead(std::chrono::milliseconds timeout);
  void shutdown();

  NodeId node_id() const { return node_id_; }
  // Other nodes' actors, as the cluster knows them (remote_directory.h); null until the node
  // installs one (its mesh is on). Safe from any thread.
  void set_remote_directory(std::shared_ptr<RemoteDirectory> directory);
  std::shared_ptr<RemoteDirectory> remote_directory() const;
  Clock& clock() const { return *clock_; }
  TimerService& timers() const { return *timers_; }
  Scheduler& scheduler() const { return *scheduler_; }
  const SystemConfig& config() const { return config_; }
  std::uint64_t next_request_id() { return next_request_.fetch_add(1, std::memory_order_relaxed); }
  const std::string* intern(std::string_view type_name);

  // Internal bookkeeping, called by cells.
  void note_dead_letter(const Message& m, const char* why);
  void note_restart() { restarts_.fetch_add(1, std::memory_order_relaxed); }
  void on_finalized(ActorCell* cell, const std::string& name);
  // The node of a cell standing for another node's actor; forgotten when the cell goes.
  NodeId foreign_node_of(const ActorCell* cell) const;
  void forget_foreign_cell(const ActorCell* cell);

 private:
  struct Shard {
    mutable std::mutex mutex;
    CellTable cells;
  };
  static constexpr std::size_t kShards = 64;
  Shard& shard(std::uint64_t serial) const { return shards_[serial % kShards]; }

  SystemConfig config_;
  NodeId node_id_;
  std::shared_ptr<Clock> clock_;
  std::unique_ptr<TimerService> timers_;
  std::unique_ptr<Scheduler> scheduler_;
  mutable std::array<Shard, kShards> shards_;
  std::atomic<std::uint64_t> next_serial_{1};
  std::atomic<std::uint64_t> next_request_{1};
  std::atomic<std::uint64_t> spawned_{0};
  std::atomic<std::uint64_t> live_{0};
  std::atomic<std::uint64_t> dead_letters_{0};
  std::atomic<std::uint64_t> restarts_{0};
  mutable std::mutex names_mutex_;
  std::unordered_map<std::string, ActorRef> names_;
  // Cells standing for other nodes' actors (SpawnOptions::foreign_id), by that id.
  mutable std::mutex foreign_mutex_;
  std::unordered_map<ActorId, ActorCell*> foreign_;             // live ones, by id
  std::unordered_map<const ActorCell*, NodeId> foreign_nodes_;  // until each cell is deleted
  std::deque<FailedActor> failed_;                              // under names_mutex_
  std::mutex intern_mutex_;
  std::unordered_set<std::string> interned_;
  std::mutex live_mutex_;
  std::condition_variable live_cv_;
  std::atomic<bool> shut_down_{false};
  // Spawns past their shut_down_ check: shutdown waits for them, so it stops what they made.
  std::atomic<std::uint32_t> spawning_{0};
  ActorRef root_;  // under names_mutex_
  mutable std::mutex directory_mutex_;
  std::shared_ptr<RemoteDirectory> directory_;
};

// --- templates --------------------------------------------------------------------------

namespace detail {

// Delivers an actor's ask reply back into that actor as a system message.
struct ReplyDelivery {
  std::uint64_t request_id = 0;
  std::uint32_t incarnation = 0;
  bool awaited = false;
  std::function<void()> run;
  // The request's call chain and depth: asks made from the reply handler continue them, so a
  // cycle through a later call of the same causal chain is still caught at once.
  CallChain chain;
  std::uint32_t depth = 0;
};

template <class R>
class CallbackRequest final : public Request {
 public:
  CallbackRequest(std::uint64_t id, CallChain chain, ActorRef asker, bool awaited,
                  std::function<void(Result<R>)> fn)
      : Request(id, type_tag<R>(), typeid(R).name(), std::move(chain)),
        asker_(std::move(asker)),
        incarnation_(asker_.cell()->incarnation()),
        awaited_(awaited),
        fn_(std::move(fn)) {}

 private:
  void deliver(Result<MessagePtr> result) override {
    auto shared = std::make_shared<Result<MessagePtr>>(std::move(result));
    ReplyDelivery d{
        id(),     incarnation_,
        awaited_, [fn = std::move(fn_), shared]() mutable { fn(unbox<R>(std::move(*shared))); },
        chain(),  depth()};
    asker_.cell()->enqueue_system(make_message(std::move(d)));
  }
  ActorRef asker_;
  std::uint32_t incarnation_;
  bool awaited_;
  std::function<void(Result<R>)> fn_;
};

template <class R>
class FunctionRequest final : public Request {
 public:
  FunctionRequest(std::uint64_t id, std::function<void(Result<R>)> fn)
      : Request(id, type_tag<R>(), typeid(R).name(), {}), fn_(std::move(fn)) {}

 private:
  void deliver(Result<MessagePtr> result) override { fn_(unbox<R>(std::move(result))); }
  std::function<void(Result<R>)> fn_;
};

// Common path of every ask: cycle check, timeout, enqueue. Fails the request on refusal.
void send_request(ActorSystem& system, const ActorRef& to, MessagePtr m, const RequestRef& req,
                  Clock::Duration timeout);
// The same through try_enqueue: kFull leaves the request unsent and not failed.
Delivery try_send_request(ActorSystem& system, const ActorRef& to, MessagePtr m,
                          const RequestRef& req, Clock::Duration timeout);

}  // namespace detail

template <class T>
Delivery ActorSystem::tell(const ActorRef& to, T&& value) {
  if (!to) return Delivery::kDeadLetter;
  return to.cell()->enqueue(make_message(std::forward<T>(value)));
}

template <class T>
Delivery ActorSystem::try_tell(const ActorRef& to, T&& value) {
  MessagePtr m = make_message(std::forward<T>(value));
  return try_tell_message(to, m);
}

template <class R, class T>
Future<R> ActorSystem::ask(const ActorRef& to, T&& value, Clock::Duration timeout) {
  RequestRef req(new detail::FutureState(next_request_id(), type_tag<R>(), typeid(R).name(), {}));
  detail::send_request(*this, to, make_message(std::forward<T>(value)), req, timeout);
  return Future<R>(req);
}

template <class R, class T>
void ActorSystem::ask_then(const ActorRef& to, T&& value, Clock::Duration timeout,
                           std::function<void(Result<R>)> then) {
  RequestRef req(new detail::FunctionRequest<R>(next_request_id(), std::move(then)));
  detail::send_request(*this, to, make_message(std::forward<T>(value)), req, timeout);
}

template <class R, class T>
Delivery ActorSystem::try_ask_then(const ActorRef& to, T&& value, Clock::Duration timeout,
                                   std::function<void(Result<R>)> then) {
  RequestRef req(new detail::FunctionRequest<R>(next_request_id(), std::move(then)));
  return detail::try_send_request(*this, to, make_message(std::forward<T>(value)), req, timeout);
}

template <class T>
TimerId ActorSystem::send_after(const ActorRef& to, T value, Clock::Duration delay) {
  return timers_->after(delay, [to, v = std::move(value)]() mutable {
    if (to) to.cell()->enqueue(make_message(std::move(v)));
  });
}

template <class T>
TimerId ActorSystem::send_every(const ActorRef& to, T value, Clock::Duration period) {
  return timers_->every(period, [to, v = std::move(value)] {
    if (to) to.cell()->enqueue(make_message(T(v)));
  });
}

template <class T>
Delivery Actor::tell(const ActorRef& to, T&& value) {
  cell_->note_sent();
  return system().tell(to, std::forward<T>(value));
}

template <class R, class T>
void Actor::ask(const ActorRef& to, T&& value, Clock::Duration timeout,
                std::function<void(Result<R>)> on_reply) {
  cell_->note_sent();
  const CallChain* chain = cell_->current_chain();
  RequestRef req(new detail::CallbackRequest<R>(system().next_request_id(),
                                                chain ? *chain : CallChain{}, self(), false,
                                                std::move(on_reply)));
  req->set_depth(cell_->current_depth() + 1);
  detail::send_request(system(), to, make_message(std::forward<T>(value)), req, timeout);
}

template <class R, class T>
void Actor::await(const ActorRef& to, T&& value, Clock::Duration timeout,
                  std::function<void(Result<R>)> on_reply) {
  cell_->note_sent();
  const CallChain* current = cell_->current_chain();
  CallChain chain = current ? *current : CallChain{};
  chain.push_back(cell_->id());
  auto id = system().next_request_id();
  RequestRef req(
      new detail::CallbackRequest<R>(id, std::move(chain), self(), true, std::move(on_reply)));
  req->set_depth(cell_->current_depth() + 1);
  cell_->set_awaiting(id);
  detail::send_request(system(), to, make_message(std::forward<T>(value)), req, timeout);
}

template <class A, class... Args>
ActorRef Actor::spawn(Args&&... args) {
  return spawn(std::make_unique<A>(std::forward<Args>(args)...));
}

template <class T>
TimerId Actor::send_after(const ActorRef& to, T value, Clock::Duration delay) {
  TimerId id = system().send_after(to, std::move(value), delay);
  cell_->track_timer(id);
  return id;
}

template <class T>
TimerId Actor::send_every(const ActorRef& to, T value, Clock::Duration period) {
  TimerId id = system().send_every(to, std::move(value), period);
  cell_->track_timer(id);
  return id;
}

}  // namespace troupe
