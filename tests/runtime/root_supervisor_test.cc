// The node's root supervisor: a crash loop of one child never takes the root (and with it
// every other actor) down; the child alone is given up on and recorded as failed; restarts
// under the root back off; supervisors that users create still escalate as in OTP.
#include <gtest/gtest.h>

#include <stdexcept>

#include "probe.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/supervisor.h"

namespace troupe {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::Probe;

struct Crash {};
struct Add {
  int n;
};
struct Get {};

// Counts Adds (its state), throws on Crash, logs "<tag>:start".
class Worker : public Actor {
 public:
  Worker(Probe& p, std::string tag) : p_(p), tag_(std::move(tag)) {}
  void on_start() override { p_.push(tag_ + ":start"); }
  bool receive(Message& m) override {
    return match(
        m, [](Crash&) { throw std::runtime_error("crash requested"); },
        [this](Add& a) { total_ += a.n; }, [this](Get&) { return total_; });
  }

 private:
  Probe& p_;
  std::string tag_;
  int total_ = 0;
};

ChildSpec worker_spec(Probe& p, std::string name) {
  ChildSpec s;
  s.name = name;
  s.type_name = "worker";
  s.factory = [&p, name] { return std::make_unique<Worker>(p, name); };
  return s;
}

// Starts a child under `sup` the way the node does: an ask with StartChild.
ActorRef start_under(ActorSystem& sys, const ActorRef& sup, ChildSpec spec) {
  auto r = sys.ask<ActorRef>(sup, StartChild{std::move(spec)}, 10s).get();
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return r.ok() ? *r : ActorRef{};
}

// Waits until the root has scheduled the restart (a timer), then checks it happens only once
// `delay` has passed on the manual clock.
void expect_restart_after(ActorSystem& sys, ManualClock& clock, Probe& p,
                          const std::string& start_event, std::size_t starts_before,
                          Clock::Duration delay) {
  ASSERT_TRUE(eventually([&] { return sys.timers().pending() >= 1; }));
  clock.advance(delay - 1ms);
  EXPECT_EQ(p.count(start_event), starts_before) << "restarted before its backoff";
  clock.advance(1ms);
  ASSERT_TRUE(eventually([&] { return p.count(start_event) == starts_before + 1; }));
}

TEST(RootSupervisor, ACrashLoopFailsTheChildAloneAndTheRootSurvives) {
  auto clock = std::make_shared<ManualClock>();
  SystemConfig config{.workers = 2, .clock = clock};
  config.root_supervisor.max_restarts = 3;
  config.root_supervisor.within = 1min;
  config.root_supervisor.backoff_initial = 10ms;
  config.root_supervisor.backoff_max = 30ms;
  config.root_supervisor.escalate = true;  // ignored for the root: it never escalates
  Probe p;  // outlives the system: actors push into it until shutdown
  ActorSystem sys(config);
  ActorRef keeper = start_under(sys, sys.root(), worker_spec(p, "keeper"));
  ActorRef crasher = start_under(sys, sys.root(), worker_spec(p, "crasher"));
  ASSERT_TRUE(keeper && crasher);
  sys.tell(keeper, Add{41});
  sys.tell(keeper, Add{1});

  // Three restarts, each after its (capped, exponential) backoff.
  const std::vector<Clock::Duration> delays{10ms, 20ms, 30ms};
  ASSERT_TRUE(p.wait_for("crasher:start"));
  for (std::size_t i = 0; i < delays.size(); ++i) {
    sys.tell(crasher, Crash{});
    expect_restart_after(sys, *clock, p, "crasher:start", i + 1, delays[i]);
  }
  // The fourth failure within the window: the crasher alone is stopped, for good.
  sys.tell(crasher, Crash{});
  ASSERT_TRUE(eventually([&] { return !crasher.alive(); }));
  EXPECT_EQ(crasher.cell()->exit_reason().kind, ExitReason::Kind::kError);

  EXPECT_TRUE(sys.root().alive());
  EXPECT_TRUE(keeper.alive());
  EXPECT_EQ(*sys.ask<int>(keeper, Get{}, 10s).get(), 42);  // its state is intact
  EXPECT_EQ(p.count("keeper:start"), 1u);

  auto failed = sys.failed();
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].ref, crasher);
  EXPECT_EQ(failed[0].name, "crasher");
  EXPECT_EQ(failed[0].supervisor, sys.root().id());
  EXPECT_EQ(failed[0].restarts, 3u);
  EXPECT_EQ(failed[0].reason.kind, ExitReason::Kind::kError);
  EXPECT_NE(failed[0].reason.detail.find("crash requested"), std::string::npos)
      << failed[0].reason.to_string();
  EXPECT_NE(failed[0].reason.detail.find("4 failures"), std::string::npos)
      << failed[0].reason.to_string();
  EXPECT_FALSE(sys.find("crasher"));

  // The root still spawns; taking the name again forgets the failed record.
  ActorRef again = start_under(sys, sys.root(), worker_spec(p, "crasher"));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again.alive());
  EXPECT_TRUE(sys.failed().empty());
}

TEST(RootSupervisor, RestartsBackOffByDefault) {
  const SupervisorOptions defaults = SystemConfig{}.root_supervisor;
  ASSERT_GT(defaults.backoff_initial, Clock::Duration{0});
  ASSERT_GE(defaults.backoff_max, defaults.backoff_initial);
  EXPECT_FALSE(defaults.escalate);

  auto clock = std::make_shared<ManualClock>();
  Probe p;
  ActorSystem sys(SystemConfig{.workers = 2, .clock = clock});
  ActorRef c = start_under(sys, sys.root(), worker_spec(p, "c"));
  ASSERT_TRUE(p.wait_for("c:start"));
  sys.tell(c, Crash{});
  expect_restart_after(sys, *clock, p, "c:start", 1, defaults.backoff_initial);
  sys.tell(c, Crash{});
  expect_restart_after(sys, *clock, p, "c:start", 2, 2 * defaults.backoff_initial);
  EXPECT_EQ(c.cell()->stats().restarts, 2u);
}

TEST(RootSupervisor, AFactoryThatThrowsIsRefusedWithoutKillingTheRoot) {
  ActorSystem sys(SystemConfig{.workers = 2});
  ChildSpec bad;
  bad.type_name = "bad";
  bad.factory = []() -> std::unique_ptr<Actor> { throw std::runtime_error("no"); };
  auto r = sys.ask<ActorRef>(sys.root(), StartChild{bad}, 10s).get();
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(sys.root().alive());
}

// A supervisor a user starts under the root keeps OTP semantics: past its intensity it
// escalates (stops its children, fails to its parent); the root then restarts it.
TEST(RootSupervisor, UserSupervisorsStillEscalateToTheirParent) {
  auto clock = std::make_shared<ManualClock>();
  Probe p;
  std::atomic<int> sup_starts{0};
  ActorSystem sys(SystemConfig{.workers = 2, .clock = clock});
  ChildSpec sup_spec;
  sup_spec.name = "mysup";
  sup_spec.type_name = "supervisor";
  sup_spec.factory = [&] {
    ++sup_starts;
    return std::make_unique<Supervisor>(SupervisorOptions{.max_restarts = 1, .within = 1h},
                                        std::vector<ChildSpec>{worker_spec(p, "w")});
  };
  ActorRef sup = start_under(sys, sys.root(), sup_spec);
  ASSERT_TRUE(p.wait_for("w:start"));
  auto worker = [&] {
    EXPECT_TRUE(eventually([&] { return sup.cell()->children().size() == 1; }));
    return sup.cell()->children()[0];
  };
  sys.tell(worker(), Crash{});  // restarted by mysup (no backoff: its own options)
  ASSERT_TRUE(eventually([&] { return p.count("w:start") == 2; }));
  EXPECT_EQ(sup_starts.load(), 1);
  sys.tell(worker(), Crash{});  // past mysup's intensity: it escalates to the root
  // The root restarts mysup after its backoff: a fresh supervisor, a fresh worker.
  ASSERT_TRUE(eventually([&] {
    return sup.cell()->life() == ActorCell::Life::kSuspended && sys.timers().pending() >= 1;
  }));
  clock->advance(SystemConfig{}.root_supervisor.backoff_initial);
  ASSERT_TRUE(eventually([&] { return sup_starts.load() == 2; }));
  ASSERT_TRUE(eventually([&] { return p.count("w:start") == 3; }));
  EXPECT_EQ(sup.cell()->stats().restarts, 1u);
  EXPECT_TRUE(sys.root().alive());
  EXPECT_TRUE(sys.failed().empty());
}

// Without a parent, a user supervisor past its intensity exits, as in OTP.
TEST(RootSupervisor, ATopLevelUserSupervisorStillExits) {
  Probe p;
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef sup = sys.spawn(std::make_unique<Supervisor>(
      SupervisorOptions{.max_restarts = 0}, std::vector<ChildSpec>{worker_spec(p, "w")}));
  ASSERT_TRUE(p.wait_for("w:start"));
  ASSERT_TRUE(eventually([&] { return sup.cell()->children().size() == 1; }));
  sys.tell(sup.cell()->children()[0], Crash{});
  ASSERT_TRUE(eventually([&] { return !sup.alive(); }));
  EXPECT_EQ(sup.cell()->exit_reason().kind, ExitReason::Kind::kError);
  EXPECT_TRUE(sys.root().alive());
  EXPECT_TRUE(sys.failed().empty());
}

}  // namespace
}  // namespace troupe
