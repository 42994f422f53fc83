// GuestFiber: a suspended guest fiber that is destroyed is cancelled and ends through its own
// code (never by an exception unwound through the guest's C or libwabt frames); an actor
// stopped or killed while its guest waits in a call ends cleanly (run it under ASan:
// scripts/test.sh --sanitize=address -- -R GuestFiber).
#include "troupe/wasm/fiber.h"

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <iterator>

#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/envelope.h"
#include "troupe/runtime/supervisor.h"
#include "troupe/wasm/wasm_actor.h"
#include "wasm/built_guest.h"
#include "wasm/tiers.h"

namespace troupe::wasm {
namespace {

using namespace std::chrono_literals;

TEST(GuestFiber, DestroyingASuspendedFiberCancelsItsWaitAndLetsTheBodyEnd) {
  bool resumed_normally = true, body_ended = false;
  GuestFiber* self = nullptr;
  auto body = [&] {  // declared first: it must outlive the fiber's job
    resumed_normally = self->suspend();
    EXPECT_FALSE(self->suspend());  // every later wait fails at once
    body_ended = true;
  };
  {
    FiberPtr fiber = GuestFiber::take();
    self = fiber.get();
    EXPECT_FALSE(fiber->start(body));
    EXPECT_TRUE(fiber->busy());
  }  // released while busy: cancelled, then destroyed
  EXPECT_FALSE(resumed_normally);
  EXPECT_TRUE(body_ended);
}

TEST(GuestFiber, AResumedFiberGoesOnAndAFinishedOneNeedsNoCancelling) {
  int steps = 0;
  FiberPtr fiber = GuestFiber::take();
  auto body = [&] {
    ++steps;
    EXPECT_TRUE(fiber->suspend());
    ++steps;
  };
  EXPECT_FALSE(fiber->start(body));
  EXPECT_TRUE(fiber->resume());
  EXPECT_EQ(steps, 2);
  EXPECT_TRUE(fiber->cancel());
  EXPECT_FALSE(fiber->cancelled());
}

// An idle fiber goes back to its thread's cache and runs the next job: one stack, reused.
TEST(GuestFiber, AnIdleFiberIsReusedForTheNextJob) {
  int runs = 0;
  auto body = [&] { ++runs; };
  GuestFiber* first = nullptr;
  {
    FiberPtr fiber = GuestFiber::take();
    first = fiber.get();
    EXPECT_TRUE(fiber->start(body));
  }
  FiberPtr again = GuestFiber::take();
  EXPECT_EQ(again.get(), first);
  EXPECT_TRUE(again->start(body));
  EXPECT_EQ(runs, 2);
}

// Takes every call and never answers; tells the test when the first one arrived.
class Silent final : public Actor {
 public:
  explicit Silent(std::shared_ptr<std::promise<void>> reached) : reached_(std::move(reached)) {}
  bool receive(Message& m) override {
    if (!m.is<Envelope>()) return false;
    held_.push_back(take_reply());
    if (reached_) std::exchange(reached_, nullptr)->set_value();
    return true;
  }

 private:
  std::shared_ptr<std::promise<void>> reached_;
  std::vector<ReplyPromise> held_;
};

std::shared_ptr<const GuestModule> guest(const std::string& name) {
  return testing::built_guest(name);
}

class GuestFiberActors : public testing::TierTest {
 protected:
  ActorRef start(ActorSystem& sys, const std::string& type,
                 std::function<std::unique_ptr<Actor>()> factory) {
    ChildSpec spec;
    spec.type_name = type;
    spec.factory = std::move(factory);
    auto r = sys.ask<ActorRef>(sys.root(), StartChild{std::move(spec)}, 5s).get();
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? *r : ActorRef{};
  }
};

// The guest (all-imports, route call-actor) calls "echo", which never answers; the guest actor
// is stopped (it hears `unavailable`) or killed (its fiber is cancelled: the guest traps) while
// suspended on its fiber, and the system shuts down. Nothing leaks, nothing crashes.
TEST_P(GuestFiberActors, StoppingOrKillingAGuestWaitingInACallEndsItCleanly) {
  auto module = guest("all-imports");
  testing::prepare(*module, GetParam());
  for (const bool kill : {false, true}) {
    ActorSystem sys{SystemConfig{.workers = 1}};
    auto reached = std::make_shared<std::promise<void>>();
    std::future<void> silent_reached = reached->get_future();
    start(sys, "echo", [reached] { return std::make_unique<Silent>(reached); });
    WasmActorOptions options;
    options.type_name = "all-imports";
    options.tier = GetParam();
    options.call_timeout = 60s;  // the call must still be waiting when the guest is ended
    options.grants = GuestGrants::all();
    ActorRef g = start(sys, "all-imports", wasm_actor_factory(module, options));
    ASSERT_TRUE(g);
    Envelope e;
    e.route = "call-actor";
    e.payload = "never answered";
    e.request_id = sys.next_request_id();
    auto pending = sys.ask<Bytes>(g, std::move(e), 60s);
    // Silent has the call: the guest is suspended on its fiber (one worker, so it suspended
    // before Silent could run).
    ASSERT_EQ(silent_reached.wait_for(30s), std::future_status::ready);
    if (kill) {
      sys.kill(g);
    } else {
      sys.stop(g);
    }
    auto r = pending.get();
    ASSERT_FALSE(r.ok()) << (kill ? "killed" : "stopped");
    EXPECT_NE(r.error().code, BaseErrc::kTimedOut) << r.error().to_string();
    sys.shutdown();
  }
}

TROUPE_BOTH_TIERS(GuestFiberActors);

}  // namespace
}  // namespace troupe::wasm
