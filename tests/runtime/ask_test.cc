#include <gtest/gtest.h>

#include "probe.h"
#include "troupe/runtime/actor_system.h"

namespace troupe {
namespace {

using namespace std::chrono_literals;
using testing::Probe;

struct Start {};
struct Ping {};
struct SetPeer {
  ActorRef peer;
};

// A awaits B; B then asks A back on the same chain. With await, A is blocked, so B's ask
// would deadlock: it must fail fast with kCallCycle (and B turns that into its reply).
TEST(Ask, CycleBackToAnAwaitingActorFailsFast) {
  Probe probe;
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef b = sys.spawn_fn([&probe](Actor& self) {
    auto peer = std::make_shared<ActorRef>();
    return Behavior(
        [peer](SetPeer& s) { *peer = s.peer; },
        [&self, peer, &probe](Ping&) {
          auto reply = std::make_shared<ReplyPromise>(self.take_reply());
          self.ask<int>(*peer, Ping{}, 5s, [reply, &probe](Result<int> r) {
            probe.push(r.ok() ? "b:ok"
                              : std::string("b:") + std::string(errc_name(r.error().code)));
            reply->deliver(r.ok() ? 1 : 2);
          });
        });
  });
  ActorRef a = sys.spawn_fn([&probe, b](Actor& self) {
    return Behavior(
        [&self, &probe, b](Start&) {
          self.await<int>(b, Ping{}, 5s, [&probe](Result<int> r) {
            probe.push("a:" +
                       (r.ok() ? std::to_string(*r) : std::string(errc_name(r.error().code))));
          });
        },
        [](Ping&) { return 0; });
  });
  sys.tell(b, SetPeer{a});
  sys.tell(a, Start{});
  ASSERT_TRUE(probe.wait_count(2));
  EXPECT_EQ(probe.events(), (std::vector<std::string>{"b:call-cycle", "a:2"}));
}

// The chain survives a reply: X awaits A; A awaits B, and from B's reply handler awaits C; C
// asks X, which is still awaiting. Caught at once, as when the cycle is direct.
TEST(Ask, AnAwaitFromAReplyHandlerContinuesTheChain) {
  Probe probe;
  ActorSystem sys(SystemConfig{.workers = 2});
  auto x = std::make_shared<ActorRef>();
  ActorRef b = sys.spawn_fn([](Actor&) { return Behavior([](Ping&) { return 7; }); });
  ActorRef c = sys.spawn_fn([&probe, x](Actor& self) {
    return Behavior([&self, &probe, x](Ping&) {
      auto reply = std::make_shared<ReplyPromise>(self.take_reply());
      self.ask<int>(*x, Ping{}, 5s, [reply, &probe](Result<int> r) {
        probe.push(r.ok() ? "c:ok" : "c:" + std::string(errc_name(r.error().code)));
        reply->deliver(0);
      });
    });
  });
  ActorRef a = sys.spawn_fn([b, c](Actor& self) {
    return Behavior([&self, b, c](Ping&) {
      auto reply = std::make_shared<ReplyPromise>(self.take_reply());
      self.await<int>(b, Ping{}, 5s, [&self, c, reply](Result<int>) {
        self.await<int>(c, Ping{}, 5s,
                        [reply](Result<int> r) { reply->deliver(r.ok() ? *r : -1); });
      });
    });
  });
  *x = sys.spawn_fn([&probe, a](Actor& self) {
    return Behavior([&self, &probe, a](Start&) {
      self.await<int>(a, Ping{}, 5s, [&probe](Result<int> r) {
        probe.push("x:" + (r.ok() ? std::to_string(*r) : std::string(errc_name(r.error().code))));
      });
    });
  });
  const auto t0 = std::chrono::steady_clock::now();
  sys.tell(*x, Start{});
  ASSERT_TRUE(probe.wait_count(2));
  EXPECT_EQ(probe.events(), (std::vector<std::string>{"c:call-cycle", "x:0"}));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

// With the non-blocking ask, A keeps serving messages, so A -> B -> A simply works.
TEST(Ask, CallbackAskAllowsReentryOnTheChain) {
  Probe probe;
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef b = sys.spawn_fn([](Actor& self) {
    auto peer = std::make_shared<ActorRef>();
    return Behavior([peer](SetPeer& s) { *peer = s.peer; },
                    [&self, peer](Ping&) {
                      auto reply = std::make_shared<ReplyPromise>(self.take_reply());
                      self.ask<int>(*peer, Ping{}, 5s, [reply](Result<int> r) {
                        reply->deliver(r.ok() ? *r + 1 : -1);
                      });
                    });
  });
  ActorRef a = sys.spawn_fn([&probe, b](Actor& self) {
    return Behavior(
        [&self, &probe, b](Start&) {
          self.ask<int>(b, Ping{}, 5s, [&probe](Result<int> r) {
            probe.push(r.ok() ? std::to_string(*r) : r.error().to_string());
          });
        },
        [](Ping&) { return 41; });
  });
  sys.tell(b, SetPeer{a});
  sys.tell(a, Start{});
  ASSERT_TRUE(probe.wait_count(1));
  EXPECT_EQ(probe.events().front(), "42");
}

// While awaiting, user messages wait; they are served after the reply.
TEST(Ask, AwaitHoldsOtherMessagesUntilTheReply) {
  auto clock = std::make_shared<ManualClock>();
  Probe probe;
  std::vector<ReplyPromise> held;
  std::mutex m;
  ActorSystem sys(SystemConfig{.workers = 2, .clock = clock});
  ActorRef slow = sys.spawn_fn([&](Actor& self) {
    return Behavior([&](Ping&) {
      std::lock_guard lock(m);
      held.push_back(self.take_reply());
      probe.push("slow got it");
    });
  });
  ActorRef a = sys.spawn_fn([&probe, slow](Actor& self) {
    return Behavior(
        [&self, &probe, slow](Start&) {
          self.await<int>(slow, Ping{}, 1s, [&probe](Result<int> r) {
            probe.push(r.ok() ? "reply" : std::string(errc_name(r.error().code)));
          });
        },
        [&probe](int& n) { probe.push("user " + std::to_string(n)); });
  });
  sys.tell(a, Start{});
  ASSERT_TRUE(probe.wait_for("slow got it"));
  sys.tell(a, 1);
  sys.tell(a, 2);
  {
    std::lock_guard lock(m);
    held.front().deliver(5);
  }
  ASSERT_TRUE(probe.wait_count(4));
  EXPECT_EQ(probe.events(), (std::vector<std::string>{"slow got it", "reply", "user 1", "user 2"}));
}

TEST(Ask, AwaitTimeoutReleasesTheActor) {
  auto clock = std::make_shared<ManualClock>();
  Probe probe;
  std::vector<ReplyPromise> keep;  // the target holds the reply slot and never answers
  std::mutex km;
  ActorSystem sys(SystemConfig{.workers = 2, .clock = clock});
  ActorRef hold = sys.spawn_fn([&](Actor& self) {
    return Behavior([&](Ping&) {
      std::lock_guard lock(km);
      keep.push_back(self.take_reply());
      probe.push("held");
    });
  });
  ActorRef a = sys.spawn_fn([&probe, hold](Actor& self) {
    return Behavior(
        [&self, &probe, hold](Start&) {
          self.await<int>(hold, Ping{}, 50ms, [&probe](Result<int> r) {
            probe.push(r.ok() ? "reply" : std::string(errc_name(r.error().code)));
          });
        },
        [&probe](int&) { probe.push("user"); });
  });
  sys.tell(a, Start{});
  ASSERT_TRUE(probe.wait_for("held"));
  sys.tell(a, 1);  // waits behind the await
  clock->advance(50ms);
  ASSERT_TRUE(probe.wait_for("user"));
  auto ev = probe.events();
  auto pos_timeout = std::find(ev.begin(), ev.end(), "timed-out");
  auto pos_user = std::find(ev.begin(), ev.end(), "user");
  ASSERT_NE(pos_timeout, ev.end());
  EXPECT_LT(pos_timeout, pos_user);
}

}  // namespace
}  // namespace troupe
