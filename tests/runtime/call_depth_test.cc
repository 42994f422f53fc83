// An actor that asks itself from its own handler, taking the reply each time, builds a causal
// chain of pending asks (each reply promise held by the next ask's callback). The chain is
// bounded (SystemConfig::max_call_depth), and tearing a long one down does not recurse.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "probe.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/runtime_error.h"

namespace troupe {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

struct Step {};

// Answers each Step by asking itself another Step and answering with that reply: like the
// pinger example asked to ping itself. After `hold_at` steps it keeps the last reply slot in
// its state instead (0: never).
class SelfAsker final : public Actor {
 public:
  SelfAsker(std::atomic<std::uint64_t>& steps, std::uint64_t hold_at)
      : steps_(steps), hold_at_(hold_at) {}
  bool receive(Message& m) override {
    return match(m, [this](Step&) {
      auto reply = std::make_shared<ReplyPromise>(take_reply());
      if (steps_.fetch_add(1) + 1 == hold_at_) {
        held_ = std::move(reply);
        return;
      }
      ask<int>(self(), Step{}, 1h, [reply](Result<int> r) {
        if (r.ok()) {
          reply->deliver(*r);
        } else {
          reply->fail(r.error());
        }
      });
    });
  }

 private:
  std::atomic<std::uint64_t>& steps_;
  std::uint64_t hold_at_;
  std::shared_ptr<ReplyPromise> held_;
};

TEST(CallDepth, AnActorAskingItselfInALoopFailsAtTheBound) {
  ActorSystem sys(SystemConfig{.workers = 2, .max_call_depth = 64});
  std::atomic<std::uint64_t> steps{0};
  ActorRef a = sys.spawn(std::make_unique<SelfAsker>(steps, 0));
  auto r = sys.ask<int>(a, Step{}, 10s).get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, RuntimeErrc::kCallCycle) << r.error().to_string();
  // The outside ask (depth 0) was served, then 64 nested asks; the 65th was refused.
  EXPECT_EQ(steps.load(), 65u);
  EXPECT_TRUE(a.alive());
}

// 0 is not "no limit" (fail-open): it is refused by check(), and a system given it anyway
// allows no nested ask at all instead of an endless chain.
TEST(CallDepth, ZeroIsInvalidAndNeverMeansUnlimited) {
  EXPECT_FALSE(SystemConfig{.max_call_depth = 0}.check().ok());
  EXPECT_TRUE(SystemConfig{.max_call_depth = 1}.check().ok());
  EXPECT_TRUE(SystemConfig{.max_call_depth = kUnlimitedCallDepth}.check().ok());
  ActorSystem sys(SystemConfig{.workers = 2, .max_call_depth = 0});
  std::atomic<std::uint64_t> steps{0};
  ActorRef a = sys.spawn(std::make_unique<SelfAsker>(steps, 10));
  auto r = sys.ask<int>(a, Step{}, 5s).get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, RuntimeErrc::kCallCycle) << r.error().to_string();
  EXPECT_EQ(steps.load(), 1u);
}

// Asks made one after the other, each from the previous one's reply handler (a guest making
// many calls in one dispatch), are not nested: the bound does not stop them.
TEST(CallDepth, AsksInSequenceFromReplyHandlersDoNotDeepen) {
  ActorSystem sys(SystemConfig{.workers = 2, .max_call_depth = 8});
  ActorRef echo = sys.spawn_fn([](Actor&) { return Behavior([](int& n) { return n; }); });
  struct Loop {
    static void next(Actor& self, ActorRef to, int n, std::shared_ptr<ReplyPromise> done) {
      if (n == 100) return done->deliver(n);
      self.ask<int>(to, n, 10s, [&self, to, n, done](Result<int> r) {
        if (!r.ok()) return done->fail(r.error());
        next(self, to, n + 1, done);
      });
    }
  };
  ActorRef looper = sys.spawn_fn([echo](Actor& self) {
    return Behavior([&self, echo](Step&) {
      Loop::next(self, echo, 0, std::make_shared<ReplyPromise>(self.take_reply()));
    });
  });
  auto r = sys.ask<int>(looper, Step{}, 10s).get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, 100);
}

// Stopping an actor whose state holds the head of a chain of 200,000 pending asks: every link
// becomes a dead letter of the dead actor, each one failing the next. That used to recurse
// once per link (and overflow the stack); it must run in constant depth.
TEST(DeadLetter, ALongChainOfPendingAsksDrainsWithoutRecursion) {
  constexpr std::uint64_t kLinks = 200'000;
  // A manual clock: no ask times out while the chain is built.
  ActorSystem sys(SystemConfig{.workers = 2,
                               .clock = std::make_shared<ManualClock>(),
                               .max_call_depth = kUnlimitedCallDepth});
  std::atomic<std::uint64_t> steps{0};
  ActorRef a = sys.spawn(std::make_unique<SelfAsker>(steps, kLinks));
  auto head = sys.ask<int>(a, Step{}, 1h);
  ASSERT_TRUE(eventually([&] { return steps.load() == kLinks; }, 60s));
  sys.stop(a);
  // The held slot is dropped unanswered, and that error travels up the whole chain.
  auto r = head.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, RuntimeErrc::kHandlerError) << r.error().to_string();
  EXPECT_FALSE(a.alive());
  EXPECT_GE(sys.stats().dead_letters, kLinks - 1);  // every reply but the head's
}

}  // namespace
}  // namespace troupe
