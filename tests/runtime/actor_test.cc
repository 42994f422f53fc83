#include <gtest/gtest.h>

#include <future>
#include <stdexcept>

#include "probe.h"
#include "stop_and_wait.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/envelope.h"
#include "troupe/runtime/runtime_error.h"

namespace troupe {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::Probe;

struct Add {
  int n;
};
struct Get {};
struct Boom {};

class Counter : public Actor {
 public:
  explicit Counter(Probe* probe = nullptr) : probe_(probe) {}
  void on_start() override { note("start"); }
  void on_stop() override { note("stop"); }
  void on_error(const Error& e) override { note("error:" + e.detail); }
  bool receive(Message& m) override {
    return match(
        m, [this](Add& a) { total_ += a.n; }, [this](Get&) { return total_; },
        [](Boom&) -> int { throw std::runtime_error("boom"); },
        [this](Envelope& e) -> Bytes {
          return e.route + ":" + e.payload + ":" + std::to_string(total_);
        });
  }

 private:
  void note(const std::string& s) {
    if (probe_) probe_->push(s);
  }
  Probe* probe_;
  int total_ = 0;
};

SystemConfig small() {
  SystemConfig c;
  c.workers = 2;
  return c;
}

TEST(Actor, TellThenAskSeesEveryMessageInOrder) {
  ActorSystem sys(small());
  ActorRef c = sys.spawn<Counter>();
  for (int i = 1; i <= 1000; ++i) EXPECT_EQ(sys.tell(c, Add{i}), Delivery::kQueued);
  auto r = sys.ask<int>(c, Get{}, 5s).get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, 500500);
}

TEST(Actor, AnsweredAsksLeaveNoTimerBehind) {
  ActorSystem sys(small());
  ActorRef c = sys.spawn<Counter>();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(sys.ask<int>(c, Get{}, 1h).get().ok());
  EXPECT_EQ(sys.timers().pending(), 0u);
}

TEST(Actor, ServesEnvelopesBesideTypedMessages) {
  ActorSystem sys(small());
  ActorRef c = sys.spawn<Counter>();
  sys.tell(c, Add{5});
  Envelope e;
  e.route = "show";
  e.payload = "hi";
  auto r = sys.ask<Bytes>(c, std::move(e), 5s).get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "show:hi:5");
}

TEST(Actor, AskErrorsAreTyped) {
  ActorSystem sys(small());
  ActorRef c = sys.spawn<Counter>();
  // Wrong reply type.
  auto bad = sys.ask<std::string>(c, Get{}, 5s).get();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, RuntimeErrc::kBadReply);
  // No handler.
  auto none = sys.ask<int>(c, std::string("?"), 5s).get();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, BaseErrc::kNotFound);
  // Handler error: the ask fails and the (unsupervised) actor dies with the reason.
  auto boom = sys.ask<int>(c, Boom{}, 5s).get();
  ASSERT_FALSE(boom.ok());
  EXPECT_EQ(boom.error().code, RuntimeErrc::kHandlerError);
  ASSERT_TRUE(eventually([&] { return !c.alive(); }));
  EXPECT_EQ(c.cell()->exit_reason().kind, ExitReason::Kind::kError);
  // Dead target: the ref is still a valid value.
  auto dead = sys.ask<int>(c, Get{}, 5s).get();
  ASSERT_FALSE(dead.ok());
  EXPECT_EQ(dead.error().code, RuntimeErrc::kDead);
  auto before = sys.stats().dead_letters;
  EXPECT_EQ(sys.tell(c, Add{1}), Delivery::kDeadLetter);
  EXPECT_GT(sys.stats().dead_letters, before);
}

TEST(Actor, AskTimesOutOnTheInjectedClock) {
  auto clock = std::make_shared<ManualClock>();
  SystemConfig cfg = small();
  cfg.clock = clock;
  Probe probe;
  ActorSystem sys(cfg);
  // An actor that takes the reply slot and never answers.
  std::vector<ReplyPromise> held;
  std::mutex held_mutex;
  ActorRef silent = sys.spawn_fn([&](Actor& self) {
    return Behavior([&self, &held, &held_mutex, &probe](Get&) {
      std::lock_guard lock(held_mutex);
      held.push_back(self.take_reply());
      probe.push("got");
    });
  });
  auto f = sys.ask<int>(silent, Get{}, 100ms);
  ASSERT_TRUE(probe.wait_for("got"));
  clock->advance(99ms);
  EXPECT_FALSE(f.ready());
  clock->advance(1ms);
  auto r = f.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, BaseErrc::kTimedOut);
  // A late reply is dropped, not delivered twice.
  std::lock_guard lock(held_mutex);
  held.front().deliver(7);
}

TEST(Actor, UnknownRefIsNotFound) {
  ActorSystem sys(small());
  auto r = sys.ask<int>(ActorRef{}, Get{}, 1s).get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, BaseErrc::kNotFound);
  EXPECT_FALSE(sys.resolve("nobody"));
  EXPECT_FALSE(sys.resolve("ffff.12345"));
}

TEST(Actor, NamesAndIdsResolve) {
  ActorSystem sys(small());
  SpawnOptions o;
  o.name = "counter-1";
  o.type_name = "counter";
  ActorRef c = sys.spawn(std::make_unique<Counter>(), o);
  EXPECT_EQ(sys.resolve("counter-1"), c);
  EXPECT_EQ(sys.resolve(c.id().to_string()), c);
  EXPECT_EQ(c.type_name(), "counter");
  EXPECT_FALSE(sys.register_name("counter-1", c).ok());
  sys.stop(c);
  ASSERT_TRUE(eventually([&] { return !sys.resolve("counter-1"); }));
}

TEST(Actor, DeferredReplyThroughAnotherActor) {
  ActorSystem sys(small());
  ActorRef counter = sys.spawn<Counter>();
  sys.tell(counter, Add{41});
  // Asks the counter and answers its own asker with the result + 1.
  ActorRef relay = sys.spawn_fn([counter](Actor& self) {
    return Behavior([&self, counter](Get&) {
      auto promise = std::make_shared<ReplyPromise>(self.take_reply());
      self.ask<int>(counter, Get{}, 5s, [promise](Result<int> r) {
        promise->deliver(r.ok() ? Result<int>(*r + 1) : Result<int>(r.error()));
      });
    });
  });
  auto r = sys.ask<int>(relay, Get{}, 5s).get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, 42);
}

TEST(Actor, ChildrenStopInReverseStartOrderBeforeParent) {
  Probe probe;
  ActorSystem sys(small());
  struct Child : Actor {
    Child(Probe& p, int i) : p(p), i(i) {}
    void on_stop() override { p.push("child" + std::to_string(i)); }
    bool receive(Message&) override { return false; }
    Probe& p;
    int i;
  };
  struct Parent : Actor {
    explicit Parent(Probe& p) : p(p) {}
    void on_start() override {
      for (int i = 1; i <= 3; ++i) spawn<Child>(p, i);
    }
    void on_stop() override { p.push("parent"); }
    bool receive(Message&) override { return false; }
    Probe& p;
  };
  ActorRef parent = sys.spawn<Parent>(probe);
  ASSERT_TRUE(eventually([&] { return parent.cell()->children().size() == 3; }));
  sys.stop(parent);
  ASSERT_TRUE(probe.wait_count(4));
  EXPECT_EQ(probe.events(), (std::vector<std::string>{"child3", "child2", "child1", "parent"}));
}

TEST(Actor, StopFromInsideFinishesTheHandlerFirst) {
  Probe probe;
  ActorSystem sys(small());
  ActorRef a = sys.spawn_fn([&probe](Actor& self) {
    return Behavior([&self, &probe](Get&) {
      self.stop();
      probe.push("after stop()");
    });
  });
  sys.tell(a, Get{});
  ASSERT_TRUE(probe.wait_for("after stop()"));
  ASSERT_TRUE(eventually([&] { return !a.alive(); }));
  EXPECT_EQ(a.cell()->exit_reason().kind, ExitReason::Kind::kNormal);
}

TEST(Actor, TimersUseTheInjectedClockAndAreCancelled) {
  auto clock = std::make_shared<ManualClock>();
  SystemConfig cfg = small();
  cfg.clock = clock;
  Probe probe;
  ActorSystem sys(cfg);
  struct Tick {};
  struct Once {};
  ActorRef a = sys.spawn_fn([&probe](Actor& self) {
    self.send_every(self.self(), Tick{}, 10ms);
    self.send_after(self.self(), Once{}, 25ms);
    return Behavior([&probe](Tick&) { probe.push("tick"); },
                    [&probe](Once&) { probe.push("once"); });
  });
  ASSERT_TRUE(eventually([&] { return sys.timers().pending() == 2; }));
  clock->advance(10ms);
  ASSERT_TRUE(probe.wait_count(1));
  clock->advance(10ms);
  ASSERT_TRUE(probe.wait_count(2));
  clock->advance(5ms);
  ASSERT_TRUE(probe.wait_count(3));
  EXPECT_EQ(probe.events(), (std::vector<std::string>{"tick", "tick", "once"}));
  // Stopping the actor cancels its periodic timer.
  sys.stop(a);
  ASSERT_TRUE(eventually([&] { return !a.alive(); }));
  EXPECT_EQ(sys.timers().pending(), 0u);
}

TEST(Actor, DeadLettersCountMessagesLeftInMailboxAtDeath) {
  Probe probe;
  std::atomic<bool> release{false};
  ActorSystem sys(small());
  ActorRef a = sys.spawn_fn([&](Actor& self) {
    return Behavior(
        [&](Get&) {
          probe.push("busy");
          release.wait(false);
          self.stop();
        },
        [](Add&) {});
  });
  sys.tell(a, Get{});
  ASSERT_TRUE(probe.wait_for("busy"));
  for (int i = 0; i < 10; ++i) sys.tell(a, Add{i});
  auto before = sys.stats().dead_letters;
  release = true;
  release.notify_all();
  ASSERT_TRUE(eventually([&] { return !a.alive(); }));
  EXPECT_EQ(sys.stats().dead_letters - before, 10u);
}

TEST(Actor, FutureGetRefusesToBlockAWorker) {
  ActorSystem sys(small());
  ActorRef c = sys.spawn<Counter>();
  auto result = std::make_shared<std::promise<ErrorCode>>();
  ActorRef a = sys.spawn_fn([&sys, c, result](Actor&) {
    return Behavior([&sys, c, result](Get&) {
      auto r = sys.ask<int>(c, Get{}, 1s).get();
      result->set_value(r.ok() ? BaseErrc::kInternal : r.error().code);
    });
  });
  sys.tell(a, Get{});
  EXPECT_EQ(result->get_future().get(), BaseErrc::kInvalidArgument);
}

struct Go {};
struct Note {
  std::string what;
};

// yield_then ends the activation: another ready actor runs before the continuation, and the
// yielding actor's own mailbox waits for it.
TEST(Actor, YieldThenLetsOtherActorsRunFirstAndHoldsTheMailbox) {
  ActorSystem sys(SystemConfig{.workers = 1});
  Probe probe;
  ActorRef b = sys.spawn_fn(
      [&probe](Actor&) { return Behavior([&probe](Note& n) { probe.push("b:" + n.what); }); });
  ActorRef a = sys.spawn_fn([&probe, b](Actor& self) {
    return Behavior(
        [&self, &probe, b](Go&) {
          probe.push("a:go");
          self.tell(b, Note{"ready"});
          self.tell(self.self(), Note{"mail"});
          self.yield_then([&probe] { probe.push("a:resumed"); });
        },
        [&probe](Note& n) { probe.push("a:" + n.what); });
  });
  sys.tell(a, Go{});
  ASSERT_TRUE(probe.wait_count(4));
  EXPECT_EQ(probe.events(), (std::vector<std::string>{"a:go", "b:ready", "a:resumed", "a:mail"}));
}

TEST(Actor, ShutdownStopsEverything) {
  Probe probe;
  {
    ActorSystem sys(small());
    for (int i = 0; i < 100; ++i) sys.spawn<Counter>(&probe);
    ASSERT_TRUE(probe.wait_count(100));
  }
  EXPECT_EQ(probe.count("stop"), 100u);
}

}  // namespace
}  // namespace troupe

namespace troupe {
namespace {

// A stop sent right after a spawn, while the actor is starting, is never lost: every actor
// stopped so terminates (wasm_bench's spawn rounds once waited forever on one, about once in a
// million; the queue-level test MpscQueue.PendingNever... catches the cause at once).
TEST(Actor, EveryActorStoppedRightAfterItsSpawnTerminates) {
  ActorSystem sys(SystemConfig{.workers = 2});
  const auto base = sys.stats().live;
  std::vector<ActorRef> refs;
  for (int round = 0; round < 200; ++round) {
    for (int k = 0; k < 100; ++k) {
      refs.push_back(sys.spawn_fn([](Actor&) {
        // A start that takes a while (as a guest's instantiation does): workers park and wake.
        const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(10);
        while (std::chrono::steady_clock::now() < until) {
        }
        return Behavior([](Envelope& e) { return Bytes(std::move(e.payload)); });
      }));
    }
    ASSERT_TRUE(testing::stop_and_wait(sys, refs, base, 10s)) << "round " << round;
  }
}

}  // namespace
}  // namespace troupe
