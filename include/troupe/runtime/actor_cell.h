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
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "troupe/runtime/actor.h"
#include "troupe/runtime/bounded_queue.h"
#include "troupe/runtime/mpsc_queue.h"
#include "troupe/runtime/scheduler.h"

namespace troupe {

class ActorSystem;

// A one-byte lock for the rarely touched family lists; keeps the cell small.
class SpinLock {
 public:
  void lock() {
    while (flag_.exchange(true, std::memory_order_acquire)) {
      while (flag_.load(std::memory_order_relaxed)) {
      }
    }
  }
  void unlock() { flag_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> flag_{false};
};

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
};

class ActorCell final : public Runnable {
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

  void add_ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // --- any thread ---
  Delivery enqueue(MessagePtr m);
  void enqueue_system(MessagePtr m);
  ActorId id() const { return id_; }
  const std::string& type_name() const { return *type_name_; }
  bool alive() const { return life_.load(std::memory_order_acquire) != Life::kDead; }
  Life life() const { return life_.load(std::memory_order_acquire); }
  std::size_t mailbox_depth() const;
  std::size_t system_depth() const {
    return static_cast<std::size_t>(sys_in_.load() - sys_done_.load());
  }
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
  void note_sent() { out_.store(out_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
  void request_stop(ExitReason reason);
  void forward_current(const ActorRef& to);
  void add_child(const ActorRef& child);
  std::uint64_t monitor(const ActorRef& target);
  void demonitor(const ActorRef& target, std::uint64_t monitor_id);
  void link(const ActorRef& other);
  void unlink(const ActorRef& other);
  void set_trap_exit(bool on) { trap_exit_ = on; }
  void track_timer(TimerId id);
  void set_awaiting(std::uint64_t request_id) { awaiting_.store(request_id); }
  std::uint32_t incarnation() const { return incarnation_; }
  void throttle() { throttled_.fetch_add(1, std::memory_order_seq_cst); }
  void unthrottle();

  bool resume(unsigned budget) override;

  // The cell running on this thread, or nullptr outside any actor.
  static ActorCell* current();

 private:
  enum class Origin : std::uint8_t { kSelf, kStopRequest, kRestart };
  struct Family;  // children, monitors, links, name, exit reason: under lock_
  struct Exiting;  // state of an orderly exit in progress: owner only

  Family& family();  // lock_ held
  bool user_pending() const;
  bool system_pending() const;
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
  void finalize(ExitReason reason);
  void dead_letter(Message* m, const char* why);
  void drain_dead();
  void cancel_timers();
  void run_hook(const char* what, const std::function<void()>& fn);
  Delivery enqueue_bounded(MessagePtr m);
  Delivery enqueue_backpressure(MessagePtr m);
  void refill_from_overflow();

  std::atomic<std::uint32_t> refs_{1};
  std::atomic<bool> scheduled_{false};
  std::atomic<Life> life_{Life::kRunning};
  bool trap_exit_ = false;
  bool started_ = false;
  bool forwarded_ = false;
  std::atomic<bool> bp_armed_{true};
  std::atomic<bool> kill_requested_{false};
  OverflowPolicy policy_ = OverflowPolicy::kFail;
  std::uint32_t bp_threshold_ = 0;
  mutable SpinLock lock_;
  std::uint32_t incarnation_ = 0;
  std::atomic<std::uint32_t> restarts_{0};
  std::atomic<std::uint32_t> throttled_{0};
  ActorId id_;
  const std::string* type_name_;
  ActorSystem& system_;
  ActorCell* parent_;  // holds a reference; cleared at finalize
  std::unique_ptr<Actor> actor_;
  Message* current_ = nullptr;
  std::atomic<std::uint64_t> awaiting_{0};

  MpscQueue user_;
  MpscQueue sys_;
  std::unique_ptr<BoundedQueue> bounded_;
  std::atomic<std::uint64_t> user_in_{0};
  std::atomic<std::uint64_t> user_done_{0};
  std::atomic<std::uint64_t> sys_in_{0};
  std::atomic<std::uint64_t> sys_done_{0};
  std::atomic<std::uint64_t> out_{0};
  std::atomic<std::uint32_t> overflow_n_{0};
  std::atomic<std::uint32_t> blocked_senders_{0};

  std::unique_ptr<Family> family_;
  std::unique_ptr<Exiting> exiting_;
  std::unique_ptr<ExitReason> pending_stop_;
};

}  // namespace troupe
