// ActorCell: the runtime's record of one actor — mailbox (user queue + system queue), scheduling
// state, lifecycle, family (parent, children, links, monitors) and stats. Internal: actors use
// it through Actor and ActorRef. Messages may be enqueued from any thread; everything else runs
// on whichever worker is currently running the cell, one activation at a time.
//
// Lifetime: refcounted. A live cell holds a reference to itself, dropped when it finalizes; what
// remains is a small tombstone that keeps ActorRefs valid as values.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "troupe/runtime/actor.h"
#include "troupe/runtime/block_pool.h"
#include "troupe/runtime/mpsc_queue.h"
#include "troupe/runtime/scheduler.h"
#include "troupe/runtime/spin_lock.h"

namespace troupe {

class ActorSystem;

struct ActorStats {
  ActorId id;
  std::string type_name;
  std::string name;
  ActorId parent;
  std::size_t mailbox_depth = 0;
  std::uint64_t messages_in = 0;
  std::uint64_t messages_out = 0;
  std::uint32_t restarts = 0;
  bool alive = false;
  // "running", "stopping", "restarting" (failed, waiting for its supervisor, e.g. during a
  // restart backoff) or "dead".
  const char* state = "dead";
};

class alignas(64) ActorCell final : public Runnable {
 public:
  enum class Life : std::uint8_t {
    kRunning,    // processing messages
    kStopping,   // stopping its children, then on_stop
    kSuspended,  // exited or failed, waiting for its parent to restart or finalize it
    kDead,
  };

  ActorCell(ActorSystem& system, ActorId id, const std::string* type_name,
            std::unique_ptr<Actor> actor, const MailboxOptions& mailbox, ActorCell* parent);
  ~ActorCell();
  ActorCell(const ActorCell&) = delete;
  ActorCell& operator=(const ActorCell&) = delete;
  static void* operator new(std::size_t size, std::align_val_t) {
    return block_pool::allocate(size);
  }
  static void operator delete(void* p, std::size_t size, std::align_val_t) {
    block_pool::deallocate(p, size);
  }

  void add_ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // --- any thread ---
  // Backpressure policy at its bound: an actor sender is queued and then paused; any other
  // sender gets kFull (the message is dropped as a dead letter, an ask fails kMailboxFull).
  Delivery enqueue(MessagePtr m);
  // Never blocks and never pauses the sender: kFull at the bound, and `m` stays with the
  // caller (to retry after notify_when_room). Any other outcome consumes `m`.
  Delivery try_enqueue(MessagePtr& m);
  // Calls `fn` once, when this (backpressure) mailbox has drained to half its bound, or when
  // the actor dies; at once if there is room already or no backpressure bound. Runs on
  // whichever thread notices (a worker, usually): it must be short and must not block.
  void notify_when_room(std::function<void()> fn);
  void enqueue_system(MessagePtr m);
  ActorId id() const;
  const std::string& type_name() const { return *type_name_; }
  bool alive() const { return life_.load(std::memory_order_acquire) != Life::kDead; }
  Life life() const { return life_.load(std::memory_order_acquire); }
  std::size_t mailbox_depth() const;
  // Whether the user mailbox has a bound (any policy); false for the default, unbounded one.
  bool mailbox_bounded() const;
  bool system_pending() const { return sys_.pending(sys_c_); }
  ActorSystem& system() const { return system_; }
  ActorStats stats() const;
  std::vector<ActorRef> children() const;
  ActorRef parent() const;
  // The reason it died with; meaningful once !alive().
  ExitReason exit_reason() const;

  // Called once, right after construction, before anyone else sees the cell.
  void start(std::string name);
  // Supervisor decisions for a child waiting in kSuspended (or, for restart, a running one:
  // it is stopped in order first). Any thread.
  void restart(std::unique_ptr<Actor> fresh);
  void finish(ExitReason reason);
  void stop(ExitReason reason);
  void kill();

  // --- the running actor only (through Actor) ---
  Actor* actor() const { return actor_.get(); }
  Message* current_message() const { return current_; }
  const CallChain* current_chain() const;
  // The depth of the request being handled (or answered, in a reply handler); 0 otherwise.
  std::uint32_t current_depth() const;
  void note_sent() {
    out_.store(out_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  void request_stop(ExitReason reason);
  void forward_current(const ActorRef& to);
  // Whether `m` is the current message and was forwarded (compares the address only).
  bool forwarded(const Message* m) const { return forwarded_ && current_ == m; }
  void add_child(const ActorRef& child);
  std::uint64_t monitor(const ActorRef& target);
  void demonitor(const ActorRef& target, std::uint64_t monitor_id);
  void link(const ActorRef& other);
  void unlink(const ActorRef& other);
  void set_trap_exit(bool on) { trap_exit_ = on; }
  void track_timer(TimerId id);
  void set_awaiting(std::uint64_t request_id);
  // Ends the current activation once the running handler returns; `resume` runs first thing
  // in a later one, after the other ready actors queued on this worker. No user message is
  // processed in between (the cell awaits `resume` like an ask's reply).
  void yield_then(std::function<void()> resume);
  // Pauses until the returned function's call (Actor::wait_then): no user message until it
  // is called, then `resume` runs in this cell first, like a reply.
  std::function<void()> wait_then(std::function<void()> resume);
  // What a wait_then adds to throttled_: senders paused on a cell that only waits so are not
  // resumed by the stall check (see arm_stall_check).
  static constexpr std::uint32_t kExternalWait = 1U << 20;
  std::uint32_t incarnation() const { return incarnation_; }
  void throttle() { throttled_.fetch_add(1, std::memory_order_seq_cst); }
  void unthrottle();

  bool resume(unsigned budget) override;

  // The cell running on this thread, or nullptr outside any actor.
  static ActorCell* current();

 private:
  enum class Origin : std::uint8_t { kSelf, kStopRequest, kRestart };
  struct Family;         // children, monitors, links, timers, name: under lock_; gone at death
  struct OwnerState;     // orderly exit in progress, pending stop, awaited request: owner only
  struct MailboxLimits;  // bound, overflow policy, backpressure state

  Family& family();  // lock_ held
  bool user_pending() const;
  OwnerState& owner();
  bool can_process_user() const;
  bool has_work() const;
  bool finish_activation();
  void schedule();
  Message* pop_user();
  void handle_user(Message* m);
  void handle_system(Message* m);
  void apply_pending_stop();
  void handler_failed(MessagePtr& m, const char* what);
  void fail(const Error& error);
  void begin_exit(ExitReason reason, Origin origin, std::unique_ptr<Actor> fresh = nullptr);
  void stop_next_child();
  void after_children_stopped();
  void install(std::unique_ptr<Actor> fresh);
  void kill_now();
  void finalize(const ExitReason& reason);
  void dead_letter(Message* m, const char* why);
  void drain_dead();
  void cancel_timers();
  void run_hook(const char* what, const std::function<void()>& fn);
  Delivery enqueue_limited(MessagePtr& m, bool may_pause);
  Delivery enqueue_bounded(MessagePtr m);
  Delivery enqueue_backpressure(MessagePtr& m, bool may_pause);
  // Unthrottles every paused sender (and runs the room callbacks), or only `only` if it is
  // still registered.
  void resume_throttled(ActorCell* only);
  // A paused sender whose target cannot drain (it is paused or awaiting too: maybe a cycle of
  // paused actors) is resumed after SystemConfig::backpressure_max_stall; checked by a timer.
  void arm_stall_check(ActorCell* sender);

  // Cache-line layout (the cell is 64-byte aligned, 192 bytes): producers sending to this
  // actor write only line 1; the worker running it writes line 2; line 0 is read-mostly.
  // Line 0: read-mostly.
  std::atomic<std::uint32_t> refs_{1};
  std::atomic<bool> scheduled_{false};
  std::atomic<Life> life_{Life::kRunning};
  std::atomic<bool> kill_requested_{false};
  std::atomic<bool> awaiting_{false};
  mutable SpinLock lock_;
  bool trap_exit_ = false;
  bool started_ = false;
  bool forwarded_ = false;
  std::uint32_t incarnation_ = 0;
  std::uint64_t serial_;
  const std::string* type_name_;
  ActorSystem& system_;
  ActorCell* parent_;  // holds a reference, released with the cell
  std::atomic<std::uint32_t> throttled_{0};
  std::atomic<std::uint32_t> restarts_{0};
  // Line 1: written by producers.
  alignas(64) MpscProducer user_;
  MpscProducer sys_;
  std::atomic<std::uint64_t> user_in_{0};  // stats and depth only
  std::unique_ptr<MailboxLimits> limits_;  // null: unbounded, no threshold
  std::unique_ptr<Family> family_;         // (rarely touched)
  std::unique_ptr<OwnerState> owner_;      // (rarely touched)
  std::unique_ptr<ExitReason> exit_;       // set once, at death (under lock_)
  // Stands for an actor of another node (SpawnOptions::foreign_id): its node id is kept by the
  // system, not here, so the cell stays 192 bytes. Set at construction, then only read.
  const bool foreign_;
  // Line 2: written by the worker running the actor.
  alignas(64) MpscConsumer user_c_;
  MpscConsumer sys_c_;
  std::atomic<std::uint64_t> user_done_{0};
  Message* current_ = nullptr;
  std::unique_ptr<Actor> actor_;
  std::atomic<std::uint64_t> out_{0};
};

}  // namespace troupe
