// Actor: the base class of native actors. State lives in the object; the runtime calls at most
// one hook or handler at a time, so no locking is needed inside. Handlers are written with
// match() (one lambda per message type) or as a Behavior of lambdas (see FunctionActor).
//
// Every member function below may only be called from inside the actor's own hooks and
// handlers (they act on "the current message" and "this actor").
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "troupe/base/clock.h"
#include "troupe/base/result.h"
#include "troupe/runtime/actor_ref.h"
#include "troupe/runtime/exit_reason.h"
#include "troupe/runtime/mailbox_options.h"
#include "troupe/runtime/message.h"
#include "troupe/runtime/runtime_error.h"
#include "troupe/runtime/timer_service.h"

namespace troupe {

class ActorSystem;

// The reply slot of an ask, taken out of the current message to answer later (after asking
// someone else, say). Dropping it unanswered fails the ask with kHandlerError.
class ReplyPromise {
 public:
  ReplyPromise() = default;
  explicit ReplyPromise(RequestRef r) : r_(std::move(r)) {}
  ReplyPromise(ReplyPromise&&) = default;
  ReplyPromise& operator=(ReplyPromise&&) = default;
  ~ReplyPromise() {
    if (r_ && !r_->done()) r_->fail(Error{RuntimeErrc::kHandlerError, "reply promise dropped"});
  }
  bool valid() const { return static_cast<bool>(r_); }

  template <class T>
  void deliver(T&& value) {
    if (!r_) return;
    using V = std::decay_t<T>;
    if constexpr (is_result<V>::value) {
      if (value.ok()) {
        r_->complete(make_message(std::forward<T>(value).value()));
      } else {
        r_->fail(value.error());
      }
    } else {
      r_->complete(make_message(std::forward<T>(value)));
    }
    r_ = RequestRef{};
  }
  void fail(Error e) {
    if (r_) r_->fail(std::move(e));
    r_ = RequestRef{};
  }

 private:
  RequestRef r_;
};

class Actor {
 public:
  virtual ~Actor() = default;

  // Hooks. on_start runs before the first message (and after each restart, on the fresh
  // instance); on_stop after the actor's children have stopped; on_error when a handler or
  // hook failed, just before the actor terminates (its supervisor then decides).
  virtual void on_start() {}
  virtual void on_stop() {}
  virtual void on_error(const Error& /*error*/) {}
  virtual void on_down(const Down& /*down*/) {}
  virtual void on_exit(const ExitSignal& /*signal*/) {}  // only while trapping exits
  virtual void on_child_exit(const ChildExit& /*exit*/) {}
  virtual void on_backpressure(std::size_t /*depth*/) {}
  // A child exited on its own or failed, and waits for a decision. Return true to decide
  // (later) with ActorCell::restart or ActorCell::finish, as supervisors do; the default lets
  // it terminate, after which on_child_exit is called.
  virtual bool on_child_failed(const ActorRef& /*child*/, const ExitReason& /*reason*/) {
    return false;
  }

  // Handles one user message; returns false when it has no handler for it (the message then
  // becomes a dead letter and an ask fails with kNotFound).
  virtual bool receive(Message& m) = 0;

  // --- The actor's view of the runtime (only from its own hooks and handlers) ---
  ActorRef self() const;
  ActorSystem& system() const;

  template <class T>
  Delivery tell(const ActorRef& to, T&& value);

  // Non-blocking ask: the callback runs later in this actor, like a message. The actor keeps
  // processing other messages meanwhile, so a chain that comes back here cannot deadlock.
  template <class R, class T>
  void ask(const ActorRef& to, T&& value, Clock::Duration timeout,
           std::function<void(Result<R>)> on_reply);

  // Blocking ask: this actor processes no other user message until the reply (or timeout)
  // arrives, then runs the callback. An ask that would come back to an awaiting actor is a
  // deadlock, and fails at once with RuntimeErrc::kCallCycle.
  template <class R, class T>
  void await(const ActorRef& to, T&& value, Clock::Duration timeout,
             std::function<void(Result<R>)> on_reply);

  // A child: stopped (in reverse start order) before this actor stops; its exit is reported
  // to on_child_exit.
  template <class A, class... Args>
  ActorRef spawn(Args&&... args);
  ActorRef spawn(std::unique_ptr<Actor> actor, SpawnOptions options = {});

  template <class T>
  TimerId send_after(const ActorRef& to, T value, Clock::Duration delay);
  template <class T>
  TimerId send_every(const ActorRef& to, T value, Clock::Duration period);
  bool cancel_timer(TimerId id);

  std::uint64_t monitor(const ActorRef& target);
  void demonitor(const ActorRef& target, std::uint64_t monitor_id);
  void link(const ActorRef& other);
  void unlink(const ActorRef& other);
  void trap_exit(bool on);

  // Gives the worker back: this activation ends when the current handler returns, and
  // `resume` runs in this actor after the other actors ready on this worker had a turn. No
  // user message is processed until it has run (WebAssembly guests yield this way when their
  // time slice is over).
  void yield_then(std::function<void()> resume);

  // Processes no other user message until the returned function is called (once, from any
  // thread; later calls do nothing); `resume` then runs in this actor first. For waiting on
  // something outside the actors without blocking the worker: the cluster's proxies wait so
  // for room in a full network lane, and their own senders are paused meanwhile as their
  // mailboxes fill — and stay paused: backpressure_max_stall, which breaks cycles of actors
  // paused on each other, does not apply to a wait that something outside ends. System
  // messages (stop, exits, DOWN) are still handled. The caller must make sure the function is
  // called eventually (the proxies: their lane's room callback runs at the latest when the
  // connection closes) — a supervised restart does not end the wait: the fresh instance takes
  // no user message until it is called (its continuation is then dropped, as the instance's
  // replies are).
  std::function<void()> wait_then(std::function<void()> resume);

  // Terminates this actor after the current handler returns.
  void stop(ExitReason reason = ExitReason::normal());
  // Takes the reply slot of the current ask (empty for a tell).
  ReplyPromise take_reply();
  // The actors waiting, each in an ask, on the message being handled (oldest first; empty
  // outside an ask). An ask made now carries it plus this actor.
  std::vector<ActorId> call_chain() const;
  // Hands the current message, reply slot included, to another actor without copying it.
  void forward(const ActorRef& to);

 private:
  friend class ActorCell;
  ActorCell* cell_ = nullptr;
};

// --- match(): dispatch a message to the first lambda whose parameter type it holds --------

namespace detail {

template <class F>
struct handler_traits : handler_traits<decltype(&std::decay_t<F>::operator())> {};
template <class C, class R, class A>
struct handler_traits<R (C::*)(A) const> {
  using arg = std::decay_t<A>;
  using ret = R;
};
template <class C, class R, class A>
struct handler_traits<R (C::*)(A)> {
  using arg = std::decay_t<A>;
  using ret = R;
};

template <class V>
void reply_with(Message& m, V&& value) {
  if (!m.request || m.reply_taken) return;
  m.reply_taken = true;
  ReplyPromise(m.request).deliver(std::forward<V>(value));
}

// True when the running handler handed `m` on with Actor::forward: the message (and its reply
// slot) now belongs to another actor, which may already have freed it.
bool forwarded(const Message& m);

template <class F>
bool try_handler(Message& m, F& f) {
  using Arg = typename handler_traits<F>::arg;
  using Ret = typename handler_traits<F>::ret;
  if (!m.is<Arg>()) return false;
  if constexpr (std::is_void_v<Ret>) {
    f(m.as<Arg>());
  } else {
    auto&& value = f(m.as<Arg>());
    // Only the address is compared: `m` is not read unless it is still ours.
    if (!forwarded(m)) reply_with(m, std::forward<decltype(value)>(value));
  }
  return true;
}

}  // namespace detail

// Calls the first handler whose parameter type matches the message; a non-void return value
// becomes the reply of an ask (a Result<T> error fails the ask without failing the actor).
template <class... Fs>
bool match(Message& m, Fs&&... handlers) {
  return (detail::try_handler(m, handlers) || ...);
}

// A set of lambdas as one message handler. Handlers without state (captureless lambdas, the
// common case) share one static holder per set of handler types instead of a heap block each:
// an idle actor is the smaller for it. Handlers with captures are held on the heap, owned.
class Behavior {
 public:
  Behavior() = default;
  template <class... Fs>
  explicit Behavior(Fs... fs) {
    if constexpr (((std::is_empty_v<Fs> && std::is_default_constructible_v<Fs>)&&...)) {
      // Stateless: nothing in it differs between actors. Never destroyed, so an actor system
      // that outlives static destruction still finds it whole.
      static Impl* const shared = new Holder<Fs...>(Fs{}...);
      bits_ = reinterpret_cast<std::uintptr_t>(shared) | kShared;
    } else {
      bits_ =
          reinterpret_cast<std::uintptr_t>(static_cast<Impl*>(new Holder<Fs...>(std::move(fs)...)));
    }
  }
  Behavior(Behavior&& other) noexcept : bits_(std::exchange(other.bits_, 0)) {}
  Behavior& operator=(Behavior&& other) noexcept {
    if (this != &other) {
      release();
      bits_ = std::exchange(other.bits_, 0);
    }
    return *this;
  }
  Behavior(const Behavior&) = delete;
  Behavior& operator=(const Behavior&) = delete;
  ~Behavior() { release(); }

  bool operator()(Message& m) { return bits_ != 0 && impl()->handle(m); }
  explicit operator bool() const { return bits_ != 0; }

 private:
  struct Impl {
    virtual ~Impl() = default;
    virtual bool handle(Message& m) = 0;
  };
  template <class... Fs>
  struct Holder final : Impl {
    explicit Holder(Fs... f) : fs(std::move(f)...) {}
    bool handle(Message& m) override {
      return std::apply([&m](auto&... f) { return match(m, f...); }, fs);
    }
    std::tuple<Fs...> fs;
  };
  // The holder's address, with the low bit set when it is a shared static one (never deleted).
  static constexpr std::uintptr_t kShared = 1;
  static_assert(alignof(Impl) > kShared);
  // A tagged pointer on purpose: one word per Behavior.
  Impl* impl() const {
    return reinterpret_cast<Impl*>(bits_ & ~kShared);  // NOLINT(performance-no-int-to-ptr)
  }
  void release() {
    if (bits_ != 0 && (bits_ & kShared) == 0) delete impl();
    bits_ = 0;
  }
  std::uintptr_t bits_ = 0;
};

// An actor defined by a function that returns its Behavior (called at each start).
class FunctionActor final : public Actor {
 public:
  explicit FunctionActor(std::function<Behavior(Actor&)> init) : init_(std::move(init)) {}
  void on_start() override { behavior_ = init_(*this); }
  bool receive(Message& m) override { return behavior_(m); }
  void become(Behavior b) { behavior_ = std::move(b); }

 private:
  std::function<Behavior(Actor&)> init_;
  Behavior behavior_;
};

}  // namespace troupe
