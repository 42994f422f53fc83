// The backpressure policy never blocks a thread: a sender that is not an actor (or that uses
// try_tell) is told kFull and can ask to be notified when there is room; actors are paused
// between messages, and actors paused on each other do not stall forever.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "probe.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/runtime_error.h"

namespace troupe {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::Probe;

struct Hold {};
struct Poke {};

// Blocks in its first handler until released, so that its mailbox fills up.
ActorRef spawn_held(ActorSystem& sys, std::atomic<bool>& open, Probe& probe, std::size_t bound) {
  SpawnOptions o;
  o.mailbox = {.bound = bound, .policy = OverflowPolicy::kBackpressure};
  return sys.spawn_fn(
      [&open, &probe](Actor&) {
        return Behavior(
            [&open, &probe](Hold&) {
              probe.push("holding");
              open.wait(false);
            },
            [&probe](int& n) {
              probe.push(std::to_string(n));
              return n;
            });
      },
      o);
}

void release(std::atomic<bool>& open) {
  open = true;
  open.notify_all();
}

TEST(MailboxBackpressure, NonActorSendersGetFullAndAreNeverBlocked) {
  std::atomic<bool> open{false};
  Probe probe;
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef a = spawn_held(sys, open, probe, 2);
  sys.tell(a, Hold{});
  ASSERT_TRUE(probe.wait_for("holding"));
  EXPECT_EQ(sys.try_tell(a, 1), Delivery::kQueued);
  EXPECT_EQ(sys.tell(a, 2), Delivery::kQueued);
  // At the bound: every kind of send from this (non-actor) thread returns at once.
  EXPECT_EQ(sys.try_tell(a, 3), Delivery::kFull);
  MessagePtr kept = make_message(4);
  EXPECT_EQ(sys.try_tell_message(a, kept), Delivery::kFull);
  ASSERT_TRUE(kept);  // still ours, to retry
  EXPECT_EQ(kept->as<int>(), 4);
  auto dead_before = sys.stats().dead_letters;
  EXPECT_EQ(sys.tell(a, 5), Delivery::kFull);  // plain tell: refused, never blocked
  EXPECT_EQ(sys.stats().dead_letters, dead_before + 1);
  auto r = sys.ask<int>(a, 6, 10s).get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, RuntimeErrc::kMailboxFull);
  EXPECT_EQ(a.cell()->mailbox_depth(), 2u);
  release(open);
  ASSERT_TRUE(probe.wait_count(3));
  EXPECT_EQ(sys.try_tell_message(a, kept), Delivery::kQueued);
  EXPECT_FALSE(kept);
  ASSERT_TRUE(probe.wait_count(4));
  EXPECT_EQ(probe.events(), (std::vector<std::string>{"holding", "1", "2", "4"}));
}

TEST(MailboxBackpressure, AnActorUsingTryTellIsNotPaused) {
  std::atomic<bool> open{false};
  Probe probe;
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef a = spawn_held(sys, open, probe, 1);
  sys.tell(a, Hold{});
  ASSERT_TRUE(probe.wait_for("holding"));
  ActorRef sender = sys.spawn_fn([a, &probe](Actor& self) {
    return Behavior([&self, a, &probe](Poke&) {
      Delivery d1 = self.system().try_tell(a, 1);
      Delivery d2 = self.system().try_tell(a, 2);
      probe.push(std::string(d1 == Delivery::kQueued ? "queued" : "?") + " " +
                 (d2 == Delivery::kFull ? "full" : "?"));
    });
  });
  sys.tell(sender, Poke{});
  ASSERT_TRUE(probe.wait_for("queued full"));
  sys.tell(sender, Poke{});  // not paused: it runs again while `a` is still full
  ASSERT_TRUE(eventually([&] { return probe.count("? full") == 1; }));
  release(open);
}

TEST(MailboxBackpressure, RoomNotificationFiresOnceWhenDrainedOrDead) {
  std::atomic<bool> open{false};
  Probe probe;
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef a = spawn_held(sys, open, probe, 4);
  sys.tell(a, Hold{});
  ASSERT_TRUE(probe.wait_for("holding"));
  for (int i = 1; i <= 4; ++i) ASSERT_EQ(sys.tell(a, i), Delivery::kQueued);
  std::atomic<int> fired{0};
  sys.notify_when_room(a, [&fired] { ++fired; });
  EXPECT_EQ(fired.load(), 0);  // full: it waits
  release(open);
  ASSERT_TRUE(eventually([&] { return fired.load() == 1; }));
  ASSERT_TRUE(probe.wait_count(5));
  EXPECT_EQ(fired.load(), 1);                      // one shot
  sys.notify_when_room(a, [&fired] { ++fired; });  // room now: at once
  EXPECT_EQ(fired.load(), 2);

  // A waiter on an actor that dies is told too (its retry then learns kDeadLetter).
  std::atomic<bool> open2{false};
  ActorRef b = spawn_held(sys, open2, probe, 1);
  sys.tell(b, Hold{});
  ASSERT_TRUE(probe.wait_count(6));
  ASSERT_EQ(sys.tell(b, 9), Delivery::kQueued);
  sys.notify_when_room(b, [&fired] { ++fired; });
  EXPECT_EQ(fired.load(), 2);
  sys.kill(b);
  release(open2);
  ASSERT_TRUE(eventually([&] { return fired.load() == 3; }));
  EXPECT_EQ(sys.try_tell(b, 10), Delivery::kDeadLetter);
}

// A and B, each with a bounded backpressure mailbox, answer every message by sending two to
// the other: both mailboxes fill, and each actor is paused on the other's. Without a way out
// neither would ever run again. Every message must still be handled.
TEST(MailboxBackpressure, TwoBoundedActorsFillingEachOtherDoNotDeadlock) {
  ActorSystem sys(SystemConfig{.workers = 2, .backpressure_max_stall = 5ms});
  constexpr int kCap = 400;
  std::atomic<int> sent{1};  // the first Poke, from the test
  std::atomic<int> handled{0};
  auto make = [&](std::shared_ptr<ActorRef> peer) {
    SpawnOptions o;
    o.mailbox = {.bound = 4, .policy = OverflowPolicy::kBackpressure};
    return sys.spawn_fn(
        [&, peer](Actor& self) {
          return Behavior([&, peer](Poke&) {
            ++handled;
            for (int i = 0; i < 2; ++i) {
              if (sent.fetch_add(1) >= kCap) {
                sent.fetch_sub(1);
                break;
              }
              self.tell(*peer, Poke{});
            }
          });
        },
        o);
  };
  auto a_peer = std::make_shared<ActorRef>();
  auto b_peer = std::make_shared<ActorRef>();
  ActorRef a = make(a_peer);
  ActorRef b = make(b_peer);
  *a_peer = b;  // set before the first message: the handlers read them afterwards
  *b_peer = a;
  ASSERT_EQ(sys.tell(a, Poke{}), Delivery::kQueued);
  ASSERT_TRUE(eventually([&] { return handled.load() == kCap; }, 60s))
      << "stalled at " << handled.load() << " of " << sent.load();
  EXPECT_EQ(sent.load(), kCap);
  EXPECT_EQ(a.cell()->mailbox_depth() + b.cell()->mailbox_depth(), 0u);
}

TEST(MailboxBackpressure, TryAskThenAtTheBoundSendsNothingAndNeverCallsBack) {
  std::atomic<bool> open{false};
  Probe probe;
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef a = spawn_held(sys, open, probe, 1);
  sys.tell(a, Hold{});
  ASSERT_TRUE(probe.wait_for("holding"));
  std::atomic<int> answers{0};
  std::atomic<int> answered_with{0};
  auto then = [&](Result<int> r) {
    answered_with = r.ok() ? *r : -1;
    ++answers;
  };
  EXPECT_EQ(sys.try_ask_then<int>(a, 1, 10s, then), Delivery::kQueued);
  // At the bound: kFull, nothing queued, and `then` never runs (not even at the timeout).
  EXPECT_EQ(sys.try_ask_then<int>(a, 2, 50ms, then), Delivery::kFull);
  EXPECT_EQ(a.cell()->mailbox_depth(), 1u);
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(answers.load(), 0);
  // A refusal of another kind answers as ask_then does.
  EXPECT_EQ(sys.try_ask_then<int>(ActorRef{}, 3, 10s, then), Delivery::kRefused);
  EXPECT_EQ(answers.load(), 1);
  EXPECT_EQ(answered_with.load(), -1);
  release(open);
  ASSERT_TRUE(eventually([&] { return answers.load() == 2; }));
  EXPECT_EQ(answered_with.load(), 1);
  // Room again: it is sent, answered, and its timeout is cancelled.
  EXPECT_EQ(sys.try_ask_then<int>(a, 4, 10s, then), Delivery::kQueued);
  ASSERT_TRUE(eventually([&] { return answers.load() == 3; }));
  EXPECT_EQ(answered_with.load(), 4);
}

TEST(ActorWaitThen, AWaitingActorTakesNoUserMessageUntilResumedThenRunsItsContinuationFirst) {
  Probe probe;
  ActorSystem sys(SystemConfig{.workers = 2});
  std::function<void()> resume;
  std::mutex mutex;
  ActorRef a = sys.spawn_fn([&](Actor& self) {
    return Behavior([&, &self = self](int& n) {
      probe.push(std::to_string(n));
      if (n == 1) {
        std::lock_guard lock(mutex);
        resume = self.wait_then([&probe] { probe.push("resumed"); });
      }
    });
  });
  sys.tell(a, 1);
  sys.tell(a, 2);
  sys.tell(a, 3);
  ASSERT_TRUE(probe.wait_for("1"));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(probe.events(), (std::vector<std::string>{"1"}));  // waiting
  // System messages still run: a monitor's DOWN would, and so does a stop (below).
  std::function<void()> go;
  {
    std::lock_guard lock(mutex);
    go = resume;
  }
  go();
  go();  // a second call does nothing
  ASSERT_TRUE(probe.wait_count(4));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(probe.events(), (std::vector<std::string>{"1", "resumed", "2", "3"}));
}

TEST(ActorWaitThen, AWaitingActorCanStillBeStoppedAndALateResumeIsHarmless) {
  Probe probe;
  ActorSystem sys(SystemConfig{.workers = 2});
  std::function<void()> resume;
  std::mutex mutex;
  ActorRef a = sys.spawn_fn([&](Actor& self) {
    return Behavior([&, &self = self](int&) {
      std::lock_guard lock(mutex);
      resume = self.wait_then([&probe] { probe.push("resumed"); });
    });
  });
  sys.tell(a, 1);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return static_cast<bool>(resume);
  }));
  sys.stop(a);
  ASSERT_TRUE(eventually([&] { return !a.alive(); }));
  std::lock_guard lock(mutex);
  resume();  // after its death: nothing runs
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(probe.size(), 0u);
}

}  // namespace
}  // namespace troupe
