// Actor::forward hands the current message, reply slot included, to another actor. A handler
// that forwards and still returns a value must not touch the message afterwards: it may be
// gone already, and its reply belongs to the actor it went to.
#include <gtest/gtest.h>

#include "probe.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/runtime_error.h"

namespace troupe {
namespace {

using namespace std::chrono_literals;

struct Q {};

// Forwards every Q to `to`, then returns 1 (which must be ignored).
class Forwarder final : public Actor {
 public:
  explicit Forwarder(ActorRef to) : to_(std::move(to)) {}
  bool receive(Message& m) override {
    return match(m, [this](Q&) {
      forward(to_);
      return 1;
    });
  }

 private:
  ActorRef to_;
};

TEST(ActorForward, TheActorForwardedToAnswers) {
  // One worker: the target cannot run before the forwarding handler has returned, so the
  // forwarder's own return value would win the reply if it were used.
  ActorSystem sys(SystemConfig{.workers = 1});
  ActorRef target = sys.spawn_fn([](Actor&) { return Behavior([](Q&) { return 2; }); });
  ActorRef fwd = sys.spawn(std::make_unique<Forwarder>(target));
  auto r = sys.ask<int>(fwd, Q{}, 10s).get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, 2);
}

// Forwarded to a dead actor, the message is a dead letter (freed) before the handler returns;
// reading it afterwards was a use after free (AddressSanitizer catches it).
TEST(ActorForward, ToADeadActorFailsTheAskWithDead) {
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef target = sys.spawn_fn([](Actor&) { return Behavior([](Q&) { return 2; }); });
  sys.stop(target);
  ASSERT_TRUE(testing::eventually([&] { return !target.alive(); }));
  ActorRef fwd = sys.spawn(std::make_unique<Forwarder>(target));
  auto r = sys.ask<int>(fwd, Q{}, 10s).get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, RuntimeErrc::kDead) << r.error().to_string();
  EXPECT_TRUE(fwd.alive());
}

}  // namespace
}  // namespace troupe
