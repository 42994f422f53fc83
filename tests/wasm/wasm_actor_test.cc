// WasmActor: guests built from C with the SDK, running as actors in a real ActorSystem.
#include "troupe/wasm/wasm_actor.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "stop_and_wait.h"
#include "troupe/base/trace_context.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/envelope.h"
#include "troupe/runtime/runtime_error.h"
#include "troupe/runtime/supervisor.h"
#include "troupe/wasm/wasm_error.h"
#include "wasm/built_guest.h"
#include "wasm/tiers.h"

namespace troupe::wasm {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const GuestModule> guest(const std::string& name) {
  return testing::built_guest(name);
}

class WasmActors : public testing::TierTest {
 protected:
  // One worker: a guest waiting on a call must not hold it, or nothing else could run.
  ActorSystem sys_{SystemConfig{.workers = 1}};

  ActorRef start(const std::string& module, const std::string& type, Limits limits = {}) {
    ChildSpec spec;
    spec.type_name = type;
    auto m = guest(module);
    testing::prepare(*m, GetParam());
    WasmActorOptions options;
    options.type_name = type;
    options.limits = limits;
    options.tier = GetParam();
    options.time_slice = time_slice_;
    options.call_timeout = call_timeout_;
    options.grants = grants_;
    spec.factory = wasm_actor_factory(m, options);
    auto r = sys_.ask<ActorRef>(sys_.root(), StartChild{std::move(spec)}, 5s).get();
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? *r : ActorRef{};
  }
  Result<Bytes> ask(const ActorRef& to, std::string route, std::string payload = {},
                    ActorId caller = {}) {
    Envelope e;
    e.route = std::move(route);
    e.payload = std::move(payload);
    e.request_id = sys_.next_request_id();
    e.caller = caller;
    return sys_.ask<Bytes>(to, std::move(e), 10s).get();
  }
  std::string text(const Result<Bytes>& r) {
    return r.ok() ? *r : "error " + r.error().to_string();
  }
  std::chrono::microseconds time_slice_ = WasmActorOptions{}.time_slice;      // for start()
  std::chrono::milliseconds call_timeout_ = WasmActorOptions{}.call_timeout;  // for start()
  GuestGrants grants_ = GuestGrants::all();                                   // for start()
};

TEST_P(WasmActors, DispatchRepliesAndGuestErrorsBecomeErrors) {
  ActorRef echo = start("echo", "echo");
  EXPECT_EQ(text(ask(echo, "echo", "hello")), "hello");
  EXPECT_EQ(text(ask(echo, "nope")),
            "error handler-error: unknown-route: echo has no route 'nope'");
  EXPECT_EQ(text(ask(echo, "echo", "still here")), "still here");
}

// A route that is not UTF-8 cannot become a WIT string: that message fails, the guest never
// sees it, and the actor goes on (no restart, no on-error). Both guest shapes: echo cannot
// wait on a host call, all-imports can.
TEST_P(WasmActors, AnEnvelopeThatIsNotUtf8FailsOnlyThatMessage) {
  for (const char* module : {"echo", "all-imports"}) {
    ActorRef a = start(module, module);
    auto r = ask(a, "ec\xffho", "x");
    ASSERT_FALSE(r.ok()) << module;
    EXPECT_EQ(r.error().code, BaseErrc::kInvalidArgument)
        << module << ": " << r.error().to_string();
    EXPECT_EQ(text(ask(a, "echo", "still here")), "still here") << module;
  }
  ActorRef all = sys_.find_by_type("all-imports");
  EXPECT_EQ(text(ask(all, "journal")), "on-start;on-ready");
}

TEST_P(WasmActors, AGuestCallSuspendsWithoutHoldingTheWorker) {
  ActorRef echo = start("echo", "echo");
  ActorRef pinger = start("pinger", "pinger");
  // One worker: the echo actor can only answer if the waiting pinger gave the worker back.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(text(ask(pinger, "ping")), "pong: ping");
  EXPECT_EQ(text(ask(pinger, "ping", "nobody")),
            "error not-found: no live actor of type troupe/nobody");
  // The node's supervisors are never found, whatever a guest asks for.
  EXPECT_EQ(text(ask(pinger, "ping", "supervisor")),
            "error not-found: no live actor of type troupe/supervisor");
}

TEST_P(WasmActors, ReliableStreamsArriveInOrderWithBackpressure) {
  ActorRef consumer = start("stream-consumer", "stream-consumer");
  ActorRef producer = start("stream-producer", "stream-producer");
  const StreamCounters before = stream_counters();
  // Each send waits until the consumer handled the chunk, on one worker: the producer must
  // give the worker back every time.
  EXPECT_EQ(text(ask(producer, "send", "200")), "sent 200");
  EXPECT_EQ(text(ask(consumer, "stats")), "chunks=200 bytes=490 out-of-order=0 last=199");
  const StreamCounters after = stream_counters();
  EXPECT_EQ(after.sent - before.sent, 200u);
  EXPECT_EQ(after.delivered - before.delivered, 200u);
  EXPECT_EQ(after.dropped, before.dropped);
}

TEST_P(WasmActors, LatencyFirstStreamsDropWhatTheReceiverCannotTake) {
  ActorRef consumer = start("stream-consumer", "stream-consumer");
  time_slice_ = std::chrono::minutes(1);  // the producer is not preempted mid-loop
  ActorRef producer = start("stream-producer", "stream-producer");
  const StreamCounters before = stream_counters();
  // One worker: the consumer cannot run while the producer's loop does, so after the window
  // fills every further chunk is dropped, and counted; what arrives arrives in order.
  EXPECT_EQ(text(ask(producer, "send-lossy", "1000")), "sent 1000");
  EXPECT_EQ(text(ask(consumer, "stats")),
            "chunks=" + std::to_string(kLatencyFirstWindow) +
                " bytes=" + std::to_string(10 + 2 * (kLatencyFirstWindow - 10)) +
                " out-of-order=0 last=" + std::to_string(kLatencyFirstWindow - 1));
  const StreamCounters after = stream_counters();
  EXPECT_EQ(after.dropped - before.dropped, 1000u - kLatencyFirstWindow);
  // Once the consumer caught up, the window is open again.
  EXPECT_EQ(text(ask(producer, "send-lossy", "10")), "sent 10");
  EXPECT_EQ(
      text(ask(consumer, "stats")).rfind("chunks=" + std::to_string(kLatencyFirstWindow + 10), 0),
      0u);
}

// A guest's call is an Envelope that says what a hop needs: a request, correlated on this
// node, with a deadline, from the guest (id and type), continuing the caller's trace, with the
// chain of waiting actors.
TEST_P(WasmActors, AGuestsCallCarriesTheTraceTheCallerAndTheChain) {
  auto seen = std::make_shared<std::optional<Envelope>>();
  SpawnOptions so;
  so.type_name = "recorder";
  ActorRef recorder = sys_.spawn_fn(
      [seen](Actor&) {
        return Behavior([seen](Envelope& e) -> Bytes {
          *seen = e;
          return e.payload;
        });
      },
      so);
  ActorRef pinger = start("pinger", "pinger");
  constexpr const char* kTrace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  Envelope e;
  e.route = "ping";
  e.payload = "recorder";
  e.request_id = sys_.next_request_id();
  e.traceparent = kTrace;
  const auto before = sys_.clock().now();
  EXPECT_EQ(text(sys_.ask<Bytes>(pinger, std::move(e), 10s).get()), "pong: ping");
  ASSERT_TRUE(seen->has_value());
  const Envelope& got = **seen;
  EXPECT_EQ(got.kind, EnvelopeKind::kRequest);
  EXPECT_EQ(got.request_node, sys_.node_id());
  EXPECT_NE(got.request_id, 0u);
  EXPECT_GT(got.deadline, before);
  EXPECT_EQ(got.caller, pinger.id());
  EXPECT_EQ(got.caller_type, "pinger");
  EXPECT_EQ(got.call_chain, std::vector<ActorId>{pinger.id()});
  auto trace = TraceContext::parse(got.traceparent);
  ASSERT_TRUE(trace.has_value()) << got.traceparent;
  EXPECT_EQ(trace->trace_id, TraceContext::parse(kTrace)->trace_id);
  EXPECT_NE(trace->to_string(), kTrace);  // a new span: the pinger's call
  (void)recorder;
}

// The invocation deadline bounds the time a guest runs, not the time it waits, suspended and
// holding no worker, for the reply to its own call (its call timeout bounds that): a guest
// whose callee takes longer than the guest's deadline still finishes its work after the reply.
// Work past the deadline after the reply still ends it.
TEST_P(WasmActors, WaitingForACallsReplyIsNotCountedAgainstTheDeadline) {
  SpawnOptions so;
  so.type_name = "echo";
  sys_.spawn_fn(
      [](Actor&) {
        return Behavior([](Envelope& e) -> Bytes {
          std::this_thread::sleep_for(1s);  // a slow callee (the guest holds no worker)
          return e.payload;
        });
      },
      so);
  Limits limits;
  limits.timeout = 400ms;
  // Fuel far past what 400 ms can burn: the AOT tier spends the default billion in less on a
  // fast machine, and this test is about the deadline.
  limits.fuel = 1'000'000'000'000;
  ActorRef guest = start("all-imports", "all-imports", limits);
  // 30,000 loop rounds: past fuel checkpoints (where the deadline is read), well inside
  // 400 ms of run time even on a loaded machine.
  EXPECT_EQ(text(ask(guest, "call-then-work", "30000")), "work");
  auto late = ask(guest, "call-then-work", "100000000000");
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, WasmErrc::kDeadlineExceeded) << late.error().to_string();
}

// The waits excluded from the deadline are bounded per invocation, not only per call: a guest
// calling a slow actor in a loop (each call well inside its call timeout, each round a few
// microseconds of run time) must not hold its actor, its mailbox and its memory past its
// deadline plus one call timeout. Without the bound it ran for as many calls as its fuel and
// run time allow, each up to a call timeout: hours with the defaults.
TEST_P(WasmActors, ManyWaitsCannotStretchAnInvocationPastItsDeadlineAndOneCallTimeout) {
  SpawnOptions so;
  so.type_name = "echo";
  sys_.spawn_fn(
      [](Actor&) {
        return Behavior([](Envelope& e) -> Bytes {
          std::this_thread::sleep_for(30ms);  // a slow callee
          return e.payload;
        });
      },
      so);
  Limits limits;
  limits.timeout = 100ms;
  call_timeout_ = 100ms;
  ActorRef guest = start("all-imports", "all-imports", limits);
  const auto started = std::chrono::steady_clock::now();
  auto r = ask(guest, "call-n", "40");  // 40 calls of 30 ms: 1.2 s of waiting
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(r.ok()) << "40 calls took " << (took / 1ms) << " ms and answered " << text(r);
  EXPECT_EQ(r.error().code, WasmErrc::kDeadlineExceeded) << r.error().to_string();
  EXPECT_LT(took, limits.timeout + call_timeout_ + 300ms);
}

// Awaits `target` with each Envelope it gets and answers with the reply.
class Relay final : public Actor {
 public:
  explicit Relay(std::function<ActorRef()> target) : target_(std::move(target)) {}
  bool receive(Message& m) override {
    if (!m.is<Envelope>()) return false;
    Envelope e = m.as<Envelope>();
    auto reply = std::make_shared<ReplyPromise>(take_reply());
    await<Bytes>(target_(), std::move(e), 10s, [reply](Result<Bytes> r) {
      if (r.ok()) {
        reply->deliver(std::move(r).value());
      } else {
        reply->fail(r.error());
      }
    });
    return true;
  }

 private:
  std::function<ActorRef()> target_;
};

// x awaits the guest, whose *second* call (made after the first one's reply resumed it) goes
// to `loop`, which awaits x: a cycle, refused at once because the second call still carries
// the chain of the request the guest is serving (not found by a 5 s timeout).
TEST_P(WasmActors, ASecondCallInOneDispatchKeepsTheCallChain) {
  start("echo", "echo");
  ActorRef guest = start("all-imports", "all-imports");
  auto x = std::make_shared<ActorRef>();
  ChildSpec loop;
  loop.type_name = "loop";
  loop.factory = [x] { return std::make_unique<Relay>([x] { return *x; }); };
  ASSERT_TRUE(sys_.ask<ActorRef>(sys_.root(), StartChild{std::move(loop)}, 5s).get().ok());
  *x = sys_.spawn(std::make_unique<Relay>([guest] { return guest; }));
  Envelope e;
  e.route = "call-twice";
  e.payload = "loop";
  const auto t0 = std::chrono::steady_clock::now();
  auto r = sys_.ask<Bytes>(*x, std::move(e), 20s).get();
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().to_string().find("call chain"), std::string::npos) << r.error().to_string();
  EXPECT_LT(took, 2s);
}

TEST_P(WasmActors, ImportsAgainstTheRuntime) {
  ActorRef echo = start("echo", "echo");
  ActorRef all = start("all-imports", "all-imports");
  EXPECT_EQ(text(ask(all, "call-actor", "x")), "x");
  EXPECT_EQ(text(ask(all, "call-raw", "y")), "y");
  EXPECT_EQ(text(ask(all, "discover", "echo")),
            "0 " + std::to_string(echo.id().serial) + " troupe/echo/0.1.0");
  EXPECT_EQ(text(ask(all, "self")),
            "0 " + std::to_string(all.id().serial) + " troupe/all-imports/0.1.0");
  EXPECT_EQ(text(ask(all, "caller")), "none");
  EXPECT_EQ(text(ask(all, "caller", "", echo.id())),
            "0 " + std::to_string(echo.id().serial) + " troupe/echo/0.1.0");
  Envelope with_id;
  with_id.route = "request-id";
  with_id.request_id = 777;
  auto rid = sys_.ask<Bytes>(all, std::move(with_id), 10s).get();
  ASSERT_TRUE(rid.ok()) << rid.error().to_string();
  EXPECT_EQ(*rid, "777");
  // Calling itself would wait on itself: refused at once, as a guest error.
  EXPECT_EQ(text(ask(all, "call-local", "z")).rfind("error handler-error: internal: ", 0), 0u);
  EXPECT_EQ(text(ask(all, "call-shell", "z")),
            "error unavailable: no shell actor hosts this workload in troupe");
  EXPECT_EQ(text(ask(all, "tell-local", "z")), "told");
  EXPECT_EQ(text(ask(all, "log", "a line")), "logged");
  // A handler error reaches on-error on the same instance.
  EXPECT_EQ(text(ask(all, "fail", "gone")), "error not-found: gone");
  auto journal = ask(all, "journal");
  ASSERT_TRUE(journal.ok());
  EXPECT_NE(journal->find("on-error(3:gone/1/dispatch fail)"), std::string::npos) << *journal;
}

// Deny by default (guest_grants.h): a guest granted nothing reaches only itself, whatever id it
// guesses; type patterns grant calls and discovery, name patterns calls only; the node's own
// actors are out of reach even with every grant; streams need their own.
TEST_P(WasmActors, AGuestReachesOnlyWhatItsGrantsName) {
  // These guests' types have no ':', as native kinds' do: the node exposes them to guests.
  const auto exposed = [] {
    GuestGrants g;
    g.native_kinds = std::make_shared<std::set<std::string, std::less<>>>(
        std::set<std::string, std::less<>>{"echo", "other", "all-imports"});
    return g;
  };
  ActorRef echo = start("echo", "echo");
  ActorRef other = start("echo", "other");
  const std::string echo_serial = std::to_string(echo.id().serial);
  const std::string other_serial = std::to_string(other.id().serial);
  const std::string outside = "error handler-error: permission-denied: actor ";
  auto denied = [&](const Result<Bytes>& r, const std::string& serial) {
    return text(r) == outside + serial + " is outside this actor's call grants";
  };

  grants_ = exposed();
  ActorRef none = start("all-imports", "all-imports");
  EXPECT_EQ(text(ask(none, "call-actor", "x")),
            "error handler-error: permission-denied: discovering troupe/echo is outside this actor's call "
            "grants");
  EXPECT_TRUE(denied(ask(none, "call-serial", echo_serial), echo_serial));
  EXPECT_TRUE(denied(ask(none, "tell-serial", echo_serial), echo_serial));
  // An id that names no actor answers the same: probing tells nothing.
  EXPECT_TRUE(denied(ask(none, "call-serial", "999999"), "999999"));
  EXPECT_EQ(text(ask(none, "tell-local", "z")), "told");
  EXPECT_EQ(text(ask(none, "stream", "reliable")),
            "error handler-error: permission-denied: discovering troupe/all-imports is outside this actor's "
            "call grants");

  grants_ = exposed();
  grants_.call = {"troupe:echo:*"};
  ActorRef typed = start("all-imports", "all-imports");
  EXPECT_EQ(text(ask(typed, "call-actor", "x")), "x");
  EXPECT_EQ(text(ask(typed, "call-serial", echo_serial)), "guess");
  EXPECT_TRUE(denied(ask(typed, "call-serial", other_serial), other_serial));
  EXPECT_EQ(text(ask(typed, "discover", "other")),
            "error handler-error: permission-denied: discovering troupe/other is outside this actor's call "
            "grants");

  // A name grants calls to the actor registered under it, not discovery by type.
  ASSERT_TRUE(sys_.register_name("the-other", other).ok());
  grants_ = exposed();
  grants_.call = {"the-other"};
  ActorRef named = start("all-imports", "all-imports");
  EXPECT_EQ(text(ask(named, "call-serial", other_serial)), "guess");
  EXPECT_TRUE(denied(ask(named, "call-serial", echo_serial), echo_serial));
  EXPECT_EQ(text(ask(named, "discover", "other")).rfind("error handler-error: permission-denied", 0), 0u);

  // Every grant: still never a supervisor, by id or by type.
  grants_ = GuestGrants::all();
  ActorRef any = start("all-imports", "all-imports");
  const std::string root = std::to_string(sys_.root().id().serial);
  EXPECT_TRUE(denied(ask(any, "call-serial", root), root));
  EXPECT_TRUE(denied(ask(any, "tell-serial", root), root));
  EXPECT_EQ(text(ask(any, "discover", "supervisor")).rfind("error not-found", 0), 0u);
  EXPECT_EQ(text(ask(any, "call-serial", "999999")), "error not-found: no live actor 999999");

  // Streams: reaching the receiver is not enough.
  grants_ = exposed();
  grants_.call = {"troupe:all-imports:*"};
  ActorRef no_streams = start("all-imports", "all-imports");
  EXPECT_EQ(text(ask(no_streams, "stream", "reliable")),
            "error handler-error: permission-denied: this actor was not granted the streams capability");
}

// get-self-id and discover speak in signed types: a package's manufacturer:name:version is the
// guest's (manufacturer, name, version), an unsigned module's is (unsigned, <hash>, "").
TEST_P(WasmActors, GuestsSeeSignedTypesAsTheirThreeParts) {
  ActorRef billing = start("echo", "acme:billing:1.2.0");
  ActorRef all = start("all-imports", "acme:all:0.1.0");
  ActorRef unsigned_guest = start("all-imports", "unsigned:0123456789abcdef");
  EXPECT_EQ(text(ask(all, "self")),
            "0 " + std::to_string(all.id().serial) + " acme/all/0.1.0");
  EXPECT_EQ(text(ask(unsigned_guest, "self")),
            "0 " + std::to_string(unsigned_guest.id().serial) + " unsigned/0123456789abcdef/");
  EXPECT_EQ(text(ask(all, "discover-type", "acme:billing:1.2.0")),
            "0 " + std::to_string(billing.id().serial) + " acme/billing/1.2.0");
  grants_ = GuestGrants{};
  grants_.call = {"acme:billing:1.*"};  // '*' is a whole component, never a glob inside one
  ActorRef narrow = start("all-imports", "acme:narrow:0.1.0");
  EXPECT_EQ(text(ask(narrow, "discover-type", "acme:billing:1.2.0")).rfind(
                "error handler-error: permission-denied", 0),
            0u);
}

TEST_P(WasmActors, ATrapFailsTheMessageAndTheActorRestartsFresh) {
  ActorRef all = start("all-imports", "all-imports");
  // State that a restart must clear: on this instance, on-error would trap.
  EXPECT_EQ(text(ask(all, "arm", "on-error")), "armed");
  auto r = ask(all, "trap");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kTrap);
  // Same ActorRef, fresh instance: its journal starts again, with the failure reported.
  // The next message waits in the mailbox for the restarted incarnation.
  auto journal = ask(all, "journal");
  ASSERT_TRUE(journal.ok()) << journal.error().to_string();
  EXPECT_EQ(journal->rfind("on-start;on-ready;on-error(10:trap", 0), 0u) << *journal;
  EXPECT_EQ(text(ask(all, "echo", "alive")), "alive");
}

// A stop that arrives while the actor is still starting (its guest being instantiated) is
// never lost: every actor stopped right after its spawn terminates. wasm_bench's spawn rounds
// once waited forever on one (the mailbox's pending() said empty: MpscQueue.Pending...).
TEST_P(WasmActors, EveryActorStoppedRightAfterItsSpawnTerminates) {
  ActorSystem sys(SystemConfig{.workers = 2});
  auto m = guest("echo");
  testing::prepare(*m, GetParam());
  WasmActorOptions options;
  options.type_name = "echo";
  options.tier = GetParam();
  options.limits = Limits{.fuel = kUnlimitedFuel, .timeout = kNoDeadline};
  const auto factory = wasm_actor_factory(m, options);
  const auto base = sys.stats().live;
  std::vector<ActorRef> refs;
  const int rounds = GetParam() == Tier::kAot ? 100 : 5;  // the interpreter instantiates slowly
  for (int round = 0; round < rounds; ++round) {
    for (int k = 0; k < 100; ++k) refs.push_back(sys.spawn(factory()));
    ASSERT_TRUE(::troupe::testing::stop_and_wait(sys, refs, base, 10s)) << "round " << round;
  }
}

TEST_P(WasmActors, FuelExhaustionIsContainedToItsActor) {
  ActorRef spinner = start("all-imports", "spinner", Limits{.fuel = 100000});
  ActorRef echo = start("echo", "echo");
  auto r = ask(spinner, "spin");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kFuelExhausted);
  EXPECT_EQ(text(ask(echo, "echo", "fine")), "fine");
}

TEST_P(WasmActors, TheInternalEventApiCallsTheHooks) {
  ActorRef all = start("all-imports", "all-imports");
  workload::ActrId peer{0, 42, {"troupe", "peer", "0.1.0"}};
  sys_.tell(all, WasmEvent{"on-signaling-connected", {}});
  sys_.tell(all, WasmEvent{"on-webrtc-connected", {workload::peer_event(peer, true)}});
  sys_.tell(all,
            WasmEvent{"on-credential-expiring", {AbiValue::of_items({workload::timestamp(9, 1)})}});
  auto journal = ask(all, "journal");
  ASSERT_TRUE(journal.ok());
  EXPECT_EQ(*journal,
            "on-start;on-ready;on-signaling-connected;"
            "on-webrtc-connected(0 42 troupe/peer/0.1.0 relayed);on-credential-expiring(9.1)");
}

TROUPE_BOTH_TIERS(WasmActors);

// What a guest's call sees when the host's ask fails: every layer's code has a WIT case.
TEST(GuestErrors, EveryLayersCodeMapsToAWitCase) {
  using C = workload::ActrErrorCase;
  auto kind = [](ErrorCode code) { return to_guest_error(Error{code, "why"}).kind; };
  EXPECT_EQ(kind(BaseErrc::kTimedOut), C::kTimedOut);
  EXPECT_EQ(kind(BaseErrc::kNotFound), C::kNotFound);
  EXPECT_EQ(kind(BaseErrc::kUnavailable), C::kUnavailable);
  EXPECT_EQ(kind(BaseErrc::kInvalidArgument), C::kInvalidArgument);
  EXPECT_EQ(kind(RuntimeErrc::kDead), C::kUnavailable);
  EXPECT_EQ(kind(RuntimeErrc::kMailboxFull), C::kUnavailable);
  for (ErrorCode code : {ErrorCode(BaseErrc::kRefused), ErrorCode(BaseErrc::kIo),
                         ErrorCode(BaseErrc::kTooLarge), ErrorCode(BaseErrc::kInternal),
                         ErrorCode(RuntimeErrc::kCallCycle), ErrorCode(RuntimeErrc::kBadReply),
                         ErrorCode(WasmErrc::kTrap), ErrorCode(WasmErrc::kFuelExhausted)}) {
    const workload::GuestError g = to_guest_error(Error{code, "why"});
    EXPECT_EQ(g.kind, C::kInternal) << code;
    EXPECT_EQ(g.message, std::string(code.name()) + ": why") << code;
  }
  // A guest's own error comes back as itself, service and all.
  const workload::GuestError dep =
      to_guest_error(Error{RuntimeErrc::kHandlerError, "dependency-not-found: kv: no store"});
  EXPECT_EQ(dep.kind, C::kDependencyNotFound);
  EXPECT_EQ(dep.service, "kv");
  EXPECT_EQ(dep.message, "no store");
  EXPECT_EQ(kind(RuntimeErrc::kHandlerError), C::kInternal);
}

}  // namespace
}  // namespace troupe::wasm
