#include "troupe/wasm/wasm_actor.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <iterator>
#include <map>
#include <mutex>
#include <stdexcept>

#include "output_gate.h"
#include "troupe/base/trace_context.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/envelope.h"
#include "troupe/runtime/remote_directory.h"
#include "troupe/runtime/runtime_error.h"
#include "troupe/wasm/fiber.h"
#include "troupe/wasm/guest_discovery.h"
#include "troupe/wasm/guest_grants.h"
#include "troupe/wasm/guest_services_host.h"
#include "troupe/wasm/remote_reach.h"
#include "troupe/wasm/troupe_host.h"
#include "troupe/wasm/wasm_error.h"

namespace troupe::wasm {

using workload::ActrErrorCase;
using workload::GuestError;
using O = std::optional<AbiValue>;

namespace {

std::atomic<std::uint64_t> g_sent{0}, g_delivered{0}, g_dropped{0};

}  // namespace

StreamCounters stream_counters() { return {g_sent.load(), g_delivered.load(), g_dropped.load()}; }

namespace {

// Shared by every incarnation of one spawned actor.
struct Shared {
  std::shared_ptr<const GuestModule> module;
  WasmActorOptions options;
  // Why each of its actors last failed, handed to that actor's next incarnation's on-error.
  // By actor: the factory may make several, failing at once on different workers.
  std::mutex failure_mutex;
  std::map<ActorId, Error> last_failures;

  void set_failure(const ActorId& id, const Error& error) {
    std::lock_guard lock(failure_mutex);
    // Actors that failed for good are never asked again: keep the map small.
    if (last_failures.size() >= 1024 && last_failures.count(id) == 0) {
      last_failures.erase(last_failures.begin());
    }
    last_failures.insert_or_assign(id, error);
  }
  std::optional<Error> take_failure(const ActorId& id) {
    std::lock_guard lock(failure_mutex);
    auto it = last_failures.find(id);
    if (it == last_failures.end()) return std::nullopt;
    Error e = std::move(it->second);
    last_failures.erase(it);
    return e;
  }
  // Its log output, across incarnations and across the actors the factory makes, which may
  // run at once on different workers: taken under output_mutex.
  std::mutex output_mutex;
  std::optional<OutputLimiter> output;

  std::size_t admit_output(std::size_t size) {
    std::lock_guard lock(output_mutex);
    return output->admit(size);
  }
  std::optional<OutputLimiter::Report> report_output(bool force) {
    std::lock_guard lock(output_mutex);
    return output->report(force);
  }
};

// Thrown on the actor's own stack (never across the fiber) to fail the actor.
struct GuestFailure : std::runtime_error {
  explicit GuestFailure(const Error& e) : std::runtime_error(e.to_string()) {}
};

AbiValue now_timestamp() {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return workload::timestamp(static_cast<std::uint64_t>(ns / 1000000000),
                             static_cast<std::uint32_t>(ns % 1000000000));
}

class WasmActor final : public Actor, private HostImports {
 public:
  explicit WasmActor(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
  // Killed (no on_stop) while the guest is suspended in a call: its host call fails, so the
  // guest traps and its fiber ends, while every member it may touch still exists.
  ~WasmActor() override {
    if (fiber_) fiber_->cancel();
  }

  void on_start() override {
    if (shared_->options.services) {
      auto made = shared_->options.services(self().id());
      if (!made.ok()) throw GuestFailure(made.error());
      services_ = std::move(made).value();
    }
    gate_ = OutputGate(services_.storage.get(), shared_->options.limits.host_call_bytes);
    if (auto granted = check_granted_imports(
            *shared_->module, shared_->options.grants, services_.storage != nullptr,
            services_.signing != nullptr, services_.identity != nullptr, "it was not granted");
        !granted.ok()) {
      throw GuestFailure(granted.error());
    }
    auto created =
        Instance::create(*shared_->module, *this, shared_->options.limits, shared_->options.tier);
    if (!created.ok()) throw GuestFailure(created.error());
    instance_ = std::move(created).value();
    invoke("on-start", {}, [this](const Result<O>& r) {
      check_lifecycle("on-start", r);
      invoke("on-ready", {}, [this](const Result<O>& r2) {
        check_lifecycle("on-ready", r2);
        if (auto failure = shared_->take_failure(self().id())) {
          GuestError source = to_guest_error(*failure);
          invoke("on-error",
                 {workload::error_event(source, workload::ErrorCategoryCase::kHandlerPanic,
                                        "previous incarnation: " + failure->to_string(),
                                        now_timestamp())},
                 [](const Result<O>&) {});
        }
      });
    });
  }

  bool receive(Message& m) override {
    if (m.is<Envelope>()) {
      dispatch(m.as<Envelope>());
      return true;
    }
    if (m.is<DataStreamMessage>()) {
      DataStreamMessage& d = m.as<DataStreamMessage>();
      context_ = Context{{}, d.sender, true, {}, {}};
      ReplyPromise reply = take_reply();
      // The sender's window slot, given back when the chunk is handled (or, unhandled, when
      // the last copy of this goes).
      auto slot = std::make_shared<std::shared_ptr<InFlightSlot>>(std::move(d.in_flight));
      auto finish = [slot] {
        g_delivered.fetch_add(1, std::memory_order_relaxed);
        slot->reset();
      };
      if (!shared_->module->exports_function("on-data-stream")) {
        finish();
        reply.fail(Error{BaseErrc::kUnavailable, "the receiver does not take data streams"});
        return true;
      }
      ActorRef sender = d.sender.serial != 0 ? system().find(d.sender) : ActorRef{};
      if (!sender && d.sender.node != system().node_id()) {
        sender = remote_caller_stand_in(system(), d.sender, d.sender_type);  // another node's
      }
      workload::ActrId from = sender ? ident(sender) : workload::ActrId{0, d.sender.serial, {}};
      invoke("on-data-stream", {workload::to_value(d.chunk), workload::to_value(from)},
             [this, finish,
              reply = std::make_shared<ReplyPromise>(std::move(reply))](const Result<O>& r) {
               finish();
               if (!r.ok()) {
                 reply->fail(r.error());
                 throw GuestFailure(r.error());
               }
               if (auto ge = workload::error_of(**r)) {
                 reply->fail(to_error(*ge));
                 handler_error(*ge, "on-data-stream");
                 return;
               }
               reply->deliver(Bytes{});
             });
      return true;
    }
    if (m.is<WasmEvent>()) {
      WasmEvent& ev = m.as<WasmEvent>();
      context_ = Context{};
      std::string hook = ev.hook;  // absent from the guest: invoke calls nothing
      invoke(hook, std::move(ev.args), [this, hook](const Result<O>& r) {
        if (!r.ok()) throw GuestFailure(r.error());
        if (*r) {
          if (auto ge = workload::error_of(**r)) handler_error(*ge, hook);
        }
      });
      return true;
    }
    return false;
  }

  void on_stop() override {
    stopping_ = true;
    report_dropped_output(true);
    finish_suspended();
    if (!instance_) return;
    invoke("on-stop", {}, [this](const Result<O>& r) {
      if (!r.ok()) {
        spdlog::warn("actor {}: on-stop failed: {}", self().id().to_string(),
                     r.error().to_string());
      }
    });
    finish_suspended();
    report_dropped_output(true);  // what on-stop logged too
  }

  void on_error(const Error& error) override { shared_->set_failure(self().id(), error); }

  void on_backpressure(std::size_t depth) override {
    if (!instance_) return;
    if (fiber_) return;  // the guest is mid-invocation; the next crossing will tell it
    invoke("on-mailbox-backpressure",
           {AbiValue::of_items(
               {AbiValue::of(depth), AbiValue::of(shared_->options.mailbox_threshold)})},
           [](const Result<O>& r) {
             if (!r.ok()) throw GuestFailure(r.error());
           });
  }

 private:
  struct Context {
    std::optional<std::uint64_t> request_id;  // during a dispatch
    ActorId caller;
    bool active = false;
    std::string traceparent;  // of the envelope being handled: calls made now continue it
    std::string caller_type;  // as the envelope says: for a caller of another node
  };
  using Done = std::function<void(const Result<O>&)>;

  // Guest code must not throw into the runtime: anything it throws becomes kInternal.
  template <class F>
  static auto guarded(F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const std::exception& e) {
      return Error{BaseErrc::kInternal, e.what()};
    }
  }

  // One Envelope: the guest's dispatch, then the reply (or error) to the asker. The
  // dispatch in flight lives in dispatch_, so a message costs no allocation.
  void dispatch(Envelope& e) {
    context_ =
        Context{e.request_id, e.caller, true, std::move(e.traceparent), std::move(e.caller_type)};
    Dispatch& d = dispatch_;
    const auto formatted = std::to_chars(std::begin(d.id), std::end(d.id), e.request_id);
    d.id_size = static_cast<std::size_t>(formatted.ptr - d.id);
    d.route = std::move(e.route);
    d.payload = std::move(e.payload);
    d.reply = take_reply();
    d.keep = d.reply.valid();  // a tell's reply is checked, not copied out
    run_guest(&WasmActor::dispatch_job, nullptr);
  }
  static void dispatch_job(void* self) {
    auto& a = *static_cast<WasmActor*>(self);
    Dispatch& d = a.dispatch_;
    d.outcome = guarded([&] {
      return a.instance_->dispatch(std::string_view(d.id, d.id_size), d.route, d.payload, d.keep);
    });
  }

  // Calls export `name`; `done` runs on the actor's own stack once the guest has finished,
  // possibly much later (after the replies it waited for). A hook the guest does not export
  // is not called: `done` gets an empty result at once.
  void invoke(const std::string& name, std::vector<AbiValue> args, Done done) {
    if (!shared_->module->exports_function(name)) {
      done(O{});
      return;
    }
    hook_.name = name;
    hook_.args = std::move(args);
    run_guest(&WasmActor::hook_job, [this, done = std::move(done)] {
      hook_.args.clear();
      done(hook_.outcome);  // valid until `done` invokes another hook
    });
  }
  static void hook_job(void* self) {
    auto& a = *static_cast<WasmActor*>(self);
    a.hook_.outcome = guarded([&] { return a.instance_->call(a.hook_.name, a.hook_.args); });
  }

  // Runs `job` (a call into the guest) to its end on a fiber, which a blocking host call or
  // the end of a time slice suspends; then `done` (none: the dispatch's reply), on the actor's
  // own stack.
  void run_guest(GuestFiber::Job job, std::function<void()> done) {
    gate_.open();
    context_.active = true;
    done_ = std::move(done);
    fiber_ = GuestFiber::take();
    slice_start_ = {};
    resumed_from_wait_ = false;
    if (fiber_->start(job, this)) finished();
  }

  // Resumes the guest for one time slice or until it waits again.
  void step() {
    slice_start_ = {};
    if (fiber_->resume()) finished();
  }

  // The invocation has finished: the fiber goes back to the cache, then its continuation.
  void finished() {
    fiber_.reset();
    context_ = Context{};
    if (gate_.holding()) close_gate(done_ != nullptr);
    std::function<void()> done = std::move(done_);
    auto next = [&] {
      if (done) {
        done();
      } else {
        dispatched(dispatch_.reply, dispatch_.route, dispatch_.outcome);
      }
    };
    if (!stopping_) {
      next();
      return;
    }
    try {  // ended by the stop: the actor is going anyway, so its failure is only logged
      next();
    } catch (const GuestFailure& f) {
      spdlog::info("actor {}: guest ended at stop: {}", self().id().to_string(), f.what());
    }
  }

  // The invocation ended: the gate commits its writes and lets its tells go when it succeeded
  // (output_gate.h); a failed commit fails the invocation.
  void close_gate(bool hook) {
    const bool succeeded =
        hook ? hook_.outcome.ok() && !(*hook_.outcome && workload::error_of(**hook_.outcome))
             : dispatch_.outcome.ok() && !dispatch_.outcome->error;
    if (auto closed = gate_.close(succeeded, send_released(), self().id().to_string());
        !closed.ok()) {
      if (hook) {
        hook_.outcome = closed.error();
      } else {
        dispatch_.outcome = closed.error();
      }
    }
  }
  // Before a message that must go out now (a call, a stream chunk): output_gate.h.
  Result<void> checkpoint() { return gate_.checkpoint(send_released(), self().id().to_string()); }
  OutputGate::Send send_released() {
    return [this](const ActorRef& to, Envelope e) {
      if (tell(to, std::move(e)) != Delivery::kQueued) {
        spdlog::debug("actor {}: a held tell was not taken", self().id().to_string());
      }
    };
  }

  // At stop: a guest suspended in a call gets `unavailable`, one preempted is ended at its
  // next checkpoint; either runs to its end.
  void finish_suspended() {
    while (fiber_ && !fiber_->running()) {
      if (waiting_) {
        waiting_->result = Error{BaseErrc::kUnavailable, "the actor is stopping"};
        waiting_->ready = true;
      }
      if (preempted_) {
        preempted_ = false;
        abort_preempted_ = true;
      }
      step();
    }
  }

  // Preemption: a guest that has run for its time slice gives the worker back and resumes
  // behind the other ready actors. Not while stopping (on_stop drives the guest to its end
  // itself) nor outside this actor's fiber (instantiation runs on the actor's stack).
  Result<void> at_fuel_checkpoint() override {
    if (!fiber_ || !fiber_->running() || stopping_) return {};
    // The slice is timed from the invocation's first checkpoint (kFuelSlice units in), so a
    // short invocation never reads the clock.
    const auto now = std::chrono::steady_clock::now();
    if (slice_start_ == std::chrono::steady_clock::time_point{}) {
      slice_start_ = now;
      return {};
    }
    if (now - slice_start_ < shared_->options.time_slice) return {};
    preempted_ = true;
    const std::uint64_t token = ++preemptions_;
    yield_then([this, token] {
      if (!preempted_ || token != preemptions_ || !fiber_) return;  // ended at stop meanwhile
      preempted_ = false;
      step();
    });
    if (!fiber_->suspend()) {  // cancelled: the actor is going
      return Error{BaseErrc::kUnavailable, "the actor was killed while its guest was preempted"};
    }
    if (std::exchange(abort_preempted_, false)) {
      return Error{BaseErrc::kUnavailable, "the actor stopped while its guest was preempted"};
    }
    return {};
  }

  // A dispatch finished: its reply, or its error (and on-error for a guest error). An
  // envelope the guest could not be given (not UTF-8) fails only that message.
  void dispatched(ReplyPromise& reply, const std::string& route, Result<DispatchReply>& r) {
    if (!r.ok()) {
      reply.fail(r.error());
      if (r.error().code == BaseErrc::kInvalidArgument) return;
      throw GuestFailure(r.error());
    }
    if (r->error) {
      reply.fail(to_error(*r->error));
      handler_error(*r->error, "dispatch " + route);
      return;
    }
    reply.deliver(std::move(r->reply));
  }

  void check_lifecycle(const char* hook, const Result<O>& r) {
    if (!r.ok()) throw GuestFailure(r.error());
    if (*r) {
      if (auto ge = workload::error_of(**r)) {
        throw GuestFailure(
            Error{RuntimeErrc::kHandlerError, std::string(hook) + ": " + ge->to_string()});
      }
    }
  }

  // A handler returned an actr-error: the instance is healthy, so it hears of it at once.
  void handler_error(const GuestError& e, const std::string& where) {
    invoke("on-error",
           {workload::error_event(e, workload::ErrorCategoryCase::kHandlerError, where,
                                  now_timestamp())},
           [](const Result<O>& r) {
             if (!r.ok()) throw GuestFailure(r.error());
           });
  }

  // --- HostImports (run on the guest's fiber) ---

  // An actor as the guest sees it: realm 0 for this node's, the node's realm (RealmTable,
  // given at first sight) for a stand-in of another node's.
  workload::ActrId ident(const ActorRef& ref) const {
    GuestVisibleType t = guest_visible_type(ref.type_name());
    return {realm_of(ref.id().node),
            ref.id().serial,
            {std::move(t.manufacturer), std::move(t.name), std::move(t.version)}};
  }
  std::uint32_t realm_of(NodeId node) const {
    if (node == system().node_id()) return 0;
    auto directory = system().remote_directory();
    return directory ? directory->realms().realm_of(node) : RealmTable::kNoRealm;
  }

  // The live actor `id` names, if this guest may reach it (guest_grants.h). An actor outside
  // its grants is permission-denied whether or not it exists — a node's own actors included —
  // so probing ids tells a guest nothing.
  Result<ActorRef> resolve_id(const workload::ActrId& id) const {
    if (id.realm != 0) {
      return resolve_remote_actor(system(), shared_->options.grants, self().id(), id);
    }
    ActorRef r = system().find(ActorId{system().node_id(), id.serial});
    if (r && may_reach(shared_->options.grants, system(), self(), r)) return r;
    if (!r && shared_->options.grants.call_any) {
      return Error{BaseErrc::kNotFound, "no live actor " + std::to_string(id.serial)};
    }
    return Error{WasmErrc::kPermissionDenied,
                 "actor " + std::to_string(id.serial) + " is outside this actor's call grants"};
  }

  Result<ActorRef> resolve_dest(const workload::Dest& d) const {
    switch (d.kind) {
      case workload::DestCase::kShell:
        return Error{BaseErrc::kUnavailable, "no shell actor hosts this workload in troupe"};
      case workload::DestCase::kLocal:
        return self();
      case workload::DestCase::kActor:
        return resolve_id(d.actor);
    }
    return Error{BaseErrc::kInvalidArgument, "bad dest"};
  }

  struct Waiting {
    Result<Bytes> result = Bytes{};
    bool ready = false;
  };

  // An envelope from this guest: who sends it, and the trace it continues.
  Envelope outgoing(EnvelopeKind kind, std::string route, std::string payload) const {
    Envelope e;
    e.kind = kind;
    e.route = std::move(route);
    e.payload = std::move(payload);
    e.request_node = system().node_id();
    e.request_id = system().next_request_id();
    e.caller = self().id();
    e.caller_type = shared_->options.type_name;
    e.traceparent = TraceContext::next_hop(context_.traceparent);
    return e;
  }

  // Asks `to` and suspends the guest until the reply; the actor awaits meanwhile.
  Result<Bytes> blocking_ask(const ActorRef& to, std::string route, std::string payload) {
    Envelope e = outgoing(EnvelopeKind::kRequest, std::move(route), std::move(payload));
    e.deadline = system().clock().now() + shared_->options.call_timeout;
    e.call_chain = call_chain();
    e.call_chain.push_back(self().id());
    return blocking_ask(to, std::move(e));
  }
  template <class M>
  Result<Bytes> blocking_ask(const ActorRef& to, M message) {
    if (stopping_) return Error{BaseErrc::kUnavailable, "the actor is stopping"};
    if (!fiber_) return Error{BaseErrc::kInternal, "a blocking host call outside a guest fiber"};
    auto w = std::make_shared<Waiting>();
    waiting_ = w;
    await<Bytes>(to, std::move(message), shared_->options.call_timeout, [this, w](Result<Bytes> r) {
      if (w->ready) return;  // cancelled at stop
      w->result = std::move(r);
      w->ready = true;
      if (fiber_ && !fiber_->running()) step();  // else: answered before the guest suspended
    });
    const auto suspended_at = std::chrono::steady_clock::now();
    while (!w->ready) {
      if (!fiber_->suspend()) {  // cancelled: call_host turns this into a trap
        w->ready = true;         // a late reply finds nothing to resume
        waiting_.reset();
        return Error{BaseErrc::kUnavailable, "the actor was killed"};
      }
    }
    waiting_.reset();
    // Waiting for the reply held no worker: not run time, up to one call_timeout in all per
    // invocation (a guest calling in a loop must not stretch its deadline without bound).
    if (instance_) {
      instance_->exclude_wait(std::chrono::steady_clock::now() - suspended_at,
                              shared_->options.call_timeout);
    }
    resumed_from_wait_ = true;
    slice_start_ = {};  // resumed on a worker afresh: a new time slice
    return std::move(w->result);
  }

  static AbiValue bytes_result(Result<Bytes> r) {
    return r.ok() ? workload::ok_bytes(std::move(r).value())
                  : workload::err(to_guest_error(r.error()));
  }

  Result<O> call_host(const workload::Function& f, std::vector<AbiValue> args) override {
    // A cancelled fiber (the actor was killed mid-call): an error from here traps the guest.
    if (fiber_ && fiber_->cancelled()) return Error{BaseErrc::kUnavailable, "the actor was killed"};
    Result<O> r = serve(f, std::move(args));
    if (fiber_ && fiber_->cancelled()) return Error{BaseErrc::kUnavailable, "the actor was killed"};
    // After a wait the deadline is checked here: a guest that mostly waits reaches few fuel
    // checkpoints. An error from here ends the invocation with it.
    if (std::exchange(resumed_from_wait_, false) && instance_) {
      if (auto late = instance_->check_deadline(); !late.ok()) return late.error();
    }
    return r;
  }

  // troupe:host storage, signing and identity, from this incarnation's services (on_start refused a
  // guest importing one it was not given). Results are result<T, host-error>.
  Result<O> call_troupe_host(std::string_view iface, const workload::Function& f,
                             std::vector<AbiValue> args) override {
    Result<O> r = serve_troupe_host(iface, f, std::move(args));
    // A host call charges no fuel: a guest looping on slow ones (signing a large message)
    // would never reach a checkpoint's deadline check. Checked after each.
    if (r.ok() && instance_) {
      if (auto late = instance_->check_deadline(); !late.ok()) return late.error();
    }
    return r;
  }
  Result<O> serve_troupe_host(std::string_view iface, const workload::Function& f,
                              std::vector<AbiValue> args) {
    if (fiber_ && fiber_->cancelled()) return Error{BaseErrc::kUnavailable, "the actor was killed"};
    if (auto served = serve_guest_services(services_, iface, f, args)) return std::move(*served);
    return HostImports::call_troupe_host(iface, f, std::move(args));
  }

  Result<O> serve(const workload::Function& f, std::vector<AbiValue> args) {
    const std::string& n = f.name;
    if (n == "log-message") {
      const std::string& level = args[0].bytes;
      auto lvl = spdlog::level::from_str(level == "warning" ? "warn" : level);
      if (lvl == spdlog::level::off) lvl = spdlog::level::info;
      const std::string_view text = args[1].bytes;
      if (const std::size_t keep = shared_->admit_output(text.size())) {
        spdlog::log(lvl, "actor {} ({}): {}{}", self().id().to_string(), shared_->options.type_name,
                    text.substr(0, keep), keep < text.size() ? " [cut]" : "");
      }
      report_dropped_output(false);
      return O{};
    }
    if (n == "get-self-id" || n == "get-caller-id" || n == "get-request-id") {
      if (!context_.active) {
        return Error{WasmErrc::kTrap, n + " called outside a dispatch or hook"};
      }
      if (n == "get-self-id") return O(workload::to_value(ident(self())));
      if (n == "get-request-id") {
        return O(AbiValue::text(context_.request_id ? std::to_string(*context_.request_id)
                                                    : std::string()));
      }
      ActorRef caller = context_.caller.serial != 0 ? system().find(context_.caller) : ActorRef{};
      if (!caller) {
        caller = remote_caller_stand_in(system(), context_.caller, context_.caller_type);
      }
      if (!caller) return O(AbiValue::of_case(0));
      return O(AbiValue::of_case(1, workload::to_value(ident(caller))));
    }
    if (n == "call" || n == "tell") {
      auto to = resolve_dest(workload::dest_from(args[0]));
      if (!to.ok()) return O(workload::err(to_guest_error(to.error())));
      if (n == "call") {
        if (auto c = checkpoint(); !c.ok()) return c.error();
        return O(bytes_result(blocking_ask(*to, args[1].bytes, args[2].bytes)));
      }
      Envelope e = outgoing(EnvelopeKind::kTell, args[1].bytes, args[2].bytes);
      if (gate_.holding()) {  // released when the invocation's writes commit
        if (auto held = gate_.hold(*to, std::move(e)); !held.ok()) {
          return O(workload::err(to_guest_error(held.error())));
        }
        return O(workload::ok_unit());
      }
      if (tell(*to, std::move(e)) != Delivery::kQueued) {
        return O(workload::err({ActrErrorCase::kUnavailable, "the target did not take it", {}}));
      }
      return O(workload::ok_unit());
    }
    if (n == "call-raw") {
      auto to = resolve_id(workload::actr_id_from(args[0]));
      if (!to.ok()) return O(workload::err(to_guest_error(to.error())));
      if (auto c = checkpoint(); !c.ok()) return c.error();
      return O(bytes_result(blocking_ask(*to, args[1].bytes, args[2].bytes)));
    }
    if (n == "discover") {
      auto found =
          discover_actor(system(), shared_->options.grants, workload::actr_type_from(args[0]));
      if (!found.ok()) return O(workload::err(to_guest_error(found.error())));
      return O(workload::ok_id(ident(*found)));
    }
    if ((n == "register-stream" || n == "unregister-stream" || n == "send-data-stream") &&
        !shared_->options.grants.streams) {
      return O(workload::err({ActrErrorCase::kPermissionDenied,
                              "this actor was not granted the streams capability",
                              {}}));
    }
    if (n == "register-stream" || n == "unregister-stream") {
      const std::string& id = args[0].bytes;
      const bool known = streams_.count(id) != 0;
      if (n == "register-stream") {
        if (known)
          return O(workload::err(
              {ActrErrorCase::kInvalidArgument, "stream '" + id + "' is already registered", {}}));
        streams_[id] = std::make_shared<Stream>();
        return O(workload::ok_unit());
      }
      if (!known)
        return O(
            workload::err({ActrErrorCase::kNotFound, "no registered stream '" + id + "'", {}}));
      if (streams_[id]->dropped != 0) {
        spdlog::info("actor {}: stream '{}' ended: {} chunks sent, {} dropped (latency-first)",
                     self().id().to_string(), id, streams_[id]->sent, streams_[id]->dropped);
      }
      streams_.erase(id);
      return O(workload::ok_unit());
    }
    if (n == "send-data-stream") {
      if (auto c = checkpoint(); !c.ok()) return c.error();
      return O(send_data_stream(args));
    }
    return O(workload::err(
        {ActrErrorCase::kNotImplemented, n + " is not implemented by this node", {}}));
  }

  struct Stream {
    std::shared_ptr<std::atomic<int>> in_flight = std::make_shared<std::atomic<int>>(0);
    std::uint64_t sent = 0, dropped = 0;
  };

  AbiValue send_data_stream(const std::vector<AbiValue>& args) {
    // An actor of another node resolves to its proxy, which carries the chunk as a STREAM
    // frame on the stream lanes (docs/PROTOCOL.md).
    auto to = resolve_dest(workload::dest_from(args[0]));
    if (!to.ok()) return workload::err(to_guest_error(to.error()));
    DataStreamMessage m{workload::data_stream_from(args[1]), self().id(), nullptr, {}};
    auto it = streams_.find(m.chunk.stream_id);
    if (it == streams_.end()) {
      return workload::err({ActrErrorCase::kInvalidArgument,
                            "stream '" + m.chunk.stream_id + "' is not registered",
                            {}});
    }
    Stream& stream = *it->second;
    switch (static_cast<workload::PayloadTypeCase>(args[2].discriminant)) {
      case workload::PayloadTypeCase::kStreamReliable: {
        ++stream.sent;
        g_sent.fetch_add(1, std::memory_order_relaxed);
        auto r = blocking_ask(*to, std::move(m));
        return r.ok() ? workload::ok_unit() : workload::err(stream_error_to_guest(r.error()));
      }
      case workload::PayloadTypeCase::kStreamLatencyFirst:
        if (stream.in_flight->load(std::memory_order_relaxed) >= kLatencyFirstWindow) {
          ++stream.dropped;
          g_dropped.fetch_add(1, std::memory_order_relaxed);
          return workload::ok_unit();  // dropping is the contract of latency-first
        }
        m.in_flight = std::make_shared<InFlightSlot>(stream.in_flight);
        // Never pauses this actor (a latency-first sender drops rather than waits): a full
        // mailbox drops the chunk, counted; drop-oldest queued it (and dropped an older one).
        switch (system().try_tell(*to, std::move(m))) {
          case Delivery::kQueued:
          case Delivery::kDropped:
            break;
          case Delivery::kFull:
            ++stream.dropped;
            g_dropped.fetch_add(1, std::memory_order_relaxed);
            return workload::ok_unit();
          default:
            return workload::err({ActrErrorCase::kUnavailable, "the target did not take it", {}});
        }
        ++stream.sent;
        g_sent.fetch_add(1, std::memory_order_relaxed);
        return workload::ok_unit();
      default:
        return workload::err({ActrErrorCase::kInvalidArgument,
                              "send-data-stream takes stream-reliable or stream-latency-first",
                              {}});
    }
  }

  void write_output(int fd, std::string_view bytes) override {
    while (!bytes.empty() && bytes.back() == '\n') bytes.remove_suffix(1);
    if (bytes.empty()) return;
    if (const std::size_t keep = shared_->admit_output(bytes.size())) {
      spdlog::info("actor {} ({}) {}: {}{}", self().id().to_string(), shared_->options.type_name,
                   fd == 2 ? "stderr" : "stdout", bytes.substr(0, keep),
                   keep < bytes.size() ? " [cut]" : "");
    }
    report_dropped_output(false);
  }

  // A log line for guest output dropped over the limits: at most one per 10 s, and at stop.
  void report_dropped_output(bool force) {
    if (auto r = shared_->report_output(force)) {
      spdlog::warn(
          "actor {} ({}): dropped {} records and {} bytes of guest output over the limits "
          "([wasm] log_bytes_per_s, log_record_bytes)",
          self().id().to_string(), shared_->options.type_name, r->dropped_records,
          r->dropped_bytes);
    }
  }

  // The dispatch in flight (one invocation at a time: the actor takes no message while its
  // guest is suspended).
  struct Dispatch {
    char id[24];
    std::size_t id_size = 0;
    std::string route, payload;
    bool keep = false;
    ReplyPromise reply;
    Result<DispatchReply> outcome = DispatchReply{};
  };
  struct Hook {
    std::string name;
    std::vector<AbiValue> args;
    Result<O> outcome = O{};
  };

  std::shared_ptr<Shared> shared_;
  GuestServices services_;       // before instance_: the guest may call them until it is gone
  OutputGate gate_{nullptr, 0};  // over services_.storage, set at on_start
  std::unique_ptr<Instance> instance_;
  FiberPtr fiber_;              // while an invocation is in flight
  std::function<void()> done_;  // its continuation; empty for a dispatch
  Dispatch dispatch_;
  Hook hook_;
  Context context_;
  std::shared_ptr<Waiting> waiting_;
  std::map<std::string, std::shared_ptr<Stream>> streams_;  // registered by this incarnation
  bool stopping_ = false;
  std::chrono::steady_clock::time_point slice_start_;  // of the guest's current time slice
  bool resumed_from_wait_ = false;  // the host call being served waited for a reply
  bool preempted_ = false;          // suspended at a checkpoint, waiting for its turn
  bool abort_preempted_ = false;    // stopping: end the preempted invocation when it resumes
  std::uint64_t preemptions_ = 0;
};

}  // namespace

std::function<std::unique_ptr<Actor>()> wasm_actor_factory(
    std::shared_ptr<const GuestModule> module, WasmActorOptions options) {
  const OutputLimits output = options.output;
  auto shared = std::make_shared<Shared>();
  shared->module = std::move(module);
  shared->options = std::move(options);
  shared->output.emplace(output);
  return [shared] { return std::make_unique<WasmActor>(shared); };
}

}  // namespace troupe::wasm
