#include "troupe/runtime/supervisor.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "probe.h"
#include "troupe/runtime/actor_system.h"

namespace troupe {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::Probe;

struct Crash {};
struct Quit {};
struct Get {};

// Records its lifecycle as "<tag>:start", "<tag>:stop"; keeps a per-instance counter.
class Worker : public Actor {
 public:
  Worker(Probe& p, std::string tag) : p_(p), tag_(std::move(tag)) {}
  void on_start() override { p_.push(tag_ + ":start"); }
  void on_stop() override { p_.push(tag_ + ":stop"); }
  bool receive(Message& m) override {
    return match(
        m, [](Crash&) { throw std::runtime_error("crash"); }, [this](Quit&) { stop(); },
        [this](Get&) { return ++count_; });
  }

 private:
  Probe& p_;
  std::string tag_;
  int count_ = 0;
};

ChildSpec spec(Probe& p, std::string tag, RestartPolicy policy = RestartPolicy::kPermanent) {
  ChildSpec s;
  s.type_name = tag;
  s.restart = policy;
  s.factory = [&p, tag] { return std::make_unique<Worker>(p, tag); };
  return s;
}

struct Fixture {
  explicit Fixture(SupervisorOptions o, std::vector<ChildSpec> specs,
                   std::shared_ptr<Clock> clock = nullptr)
      : sys(SystemConfig{.workers = 2, .clock = std::move(clock)}) {
    sup = sys.spawn(std::make_unique<Supervisor>(o, std::move(specs)));
  }
  ActorRef child(std::size_t i) {
    EXPECT_TRUE(eventually([&] { return sup.cell()->children().size() > i; }));
    return sup.cell()->children()[i];
  }
  ActorSystem sys;
  ActorRef sup;
};

TEST(Supervisor, OneForOneRestartsOnlyTheFailedChildInPlace) {
  Probe p;
  Fixture f({}, {spec(p, "a"), spec(p, "b")});
  ASSERT_TRUE(p.wait_count(2));
  ActorRef a = f.child(0);
  ASSERT_EQ(*f.sys.ask<int>(a, Get{}, 5s).get(), 1);
  f.sys.tell(a, Crash{});
  ASSERT_TRUE(p.wait_count(4));
  auto ev = p.events();  // a and b start concurrently; after that only a moves
  EXPECT_EQ(std::vector<std::string>(ev.begin() + 2, ev.end()),
            (std::vector<std::string>{"a:stop", "a:start"}));
  EXPECT_EQ(p.count("b:start"), 1u);
  // Same ref, fresh state, restart counted.
  EXPECT_TRUE(a.alive());
  EXPECT_EQ(*f.sys.ask<int>(a, Get{}, 5s).get(), 1);
  EXPECT_EQ(a.cell()->stats().restarts, 1u);
  EXPECT_EQ(f.child(1).cell()->stats().restarts, 0u);
}

TEST(Supervisor, OneForAllRestartsEveryChild) {
  Probe p;
  Fixture f({.strategy = Strategy::kOneForAll}, {spec(p, "a"), spec(p, "b"), spec(p, "c")});
  ASSERT_TRUE(p.wait_count(3));
  f.sys.tell(f.child(1), Crash{});
  ASSERT_TRUE(p.wait_count(9));
  for (const char* t : {"a", "b", "c"}) {
    EXPECT_EQ(p.count(std::string(t) + ":start"), 2u) << t;
    EXPECT_EQ(p.count(std::string(t) + ":stop"), 1u) << t;
  }
}

TEST(Supervisor, RestForOneRestartsTheFailedAndLaterChildren) {
  Probe p;
  Fixture f({.strategy = Strategy::kRestForOne}, {spec(p, "a"), spec(p, "b"), spec(p, "c")});
  ASSERT_TRUE(p.wait_count(3));
  f.sys.tell(f.child(1), Crash{});
  ASSERT_TRUE(p.wait_count(7));
  EXPECT_EQ(p.count("a:start"), 1u);
  EXPECT_EQ(p.count("b:start"), 2u);
  EXPECT_EQ(p.count("c:start"), 2u);
  EXPECT_EQ(p.count("c:stop"), 1u);
}

TEST(Supervisor, RestartPoliciesDecideOnNormalAndAbnormalExit) {
  Probe p;
  Fixture f(
      {}, {spec(p, "perm", RestartPolicy::kPermanent), spec(p, "trans", RestartPolicy::kTransient),
           spec(p, "temp", RestartPolicy::kTemporary)});
  ASSERT_TRUE(p.wait_count(3));
  ActorRef perm = f.child(0), trans = f.child(1), temp = f.child(2);
  // Normal exit: only the permanent child comes back.
  f.sys.tell(perm, Quit{});
  f.sys.tell(trans, Quit{});
  f.sys.tell(temp, Quit{});
  ASSERT_TRUE(p.wait_for("perm:stop"));
  ASSERT_TRUE(eventually([&] { return !trans.alive() && !temp.alive(); }));
  ASSERT_TRUE(eventually([&] { return p.count("perm:start") == 2; }));
  EXPECT_TRUE(perm.alive());
  ASSERT_TRUE(eventually([&] { return f.sup.cell()->children().size() == 1; }));

  // Abnormal exit of a transient child restarts it.
  Fixture g({}, {spec(p, "t2", RestartPolicy::kTransient)});
  ActorRef t2 = g.child(0);
  ASSERT_TRUE(p.wait_for("t2:start"));
  g.sys.tell(t2, Crash{});
  ASSERT_TRUE(eventually([&] { return p.count("t2:start") == 2; }));
  EXPECT_TRUE(t2.alive());
}

TEST(Supervisor, IntensityExceededEscalatesToTheParent) {
  Probe p;
  ActorSystem sys(SystemConfig{.workers = 2});
  // top (restarts its child sup) -> sup (max 2 restarts) -> worker
  std::atomic<int> sup_starts{0};
  ChildSpec sup_spec;
  sup_spec.type_name = "sup";
  sup_spec.factory = [&] {
    ++sup_starts;
    return std::make_unique<Supervisor>(SupervisorOptions{.max_restarts = 2, .within = 1h},
                                        std::vector<ChildSpec>{spec(p, "w")});
  };
  ActorRef top = sys.spawn(std::make_unique<Supervisor>(SupervisorOptions{.max_restarts = 5},
                                                        std::vector<ChildSpec>{sup_spec}));
  ASSERT_TRUE(eventually([&] { return top.cell()->children().size() == 1; }));
  ActorRef sup = top.cell()->children()[0];
  auto worker = [&] {
    EXPECT_TRUE(eventually([&] { return sup.cell()->children().size() == 1; }));
    return sup.cell()->children()[0];
  };
  for (int i = 1; i <= 2; ++i) {
    ActorRef w = worker();
    sys.tell(w, Crash{});
    ASSERT_TRUE(eventually([&] { return p.count("w:start") == static_cast<std::size_t>(i + 1); }));
  }
  EXPECT_EQ(sup_starts.load(), 1);
  sys.tell(worker(), Crash{});  // third restart within the window: escalate
  ASSERT_TRUE(eventually([&] { return sup_starts.load() == 2; }));
  ASSERT_TRUE(eventually([&] { return p.count("w:start") == 4; }));  // fresh sup, fresh worker
  EXPECT_EQ(sup.cell()->stats().restarts, 1u);
}

TEST(Supervisor, BackoffDelaysGrowAndAreCapped) {
  auto clock = std::make_shared<ManualClock>();
  Probe p;
  Fixture f({.max_restarts = 100, .within = 1h, .backoff_initial = 100ms, .backoff_max = 300ms},
            {spec(p, "w")}, clock);
  ASSERT_TRUE(p.wait_count(1));
  ActorRef w = f.child(0);
  std::vector<std::chrono::milliseconds> expected{100ms, 200ms, 300ms, 300ms};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    f.sys.tell(w, Crash{});
    ASSERT_TRUE(p.wait_count(2 * i + 2));  // the stop
    ASSERT_TRUE(eventually([&] { return f.sys.timers().pending() >= 1; }));
    clock->advance(expected[i] - 1ms);
    EXPECT_EQ(p.count("w:start"), i + 1) << "restarted before its backoff, round " << i;
    clock->advance(1ms);
    ASSERT_TRUE(eventually([&] { return p.count("w:start") == i + 2; })) << "round " << i;
  }
}

TEST(Supervisor, ExplicitStopIsFinal) {
  Probe p;
  Fixture f({}, {spec(p, "a"), spec(p, "b")});
  ASSERT_TRUE(p.wait_count(2));
  ActorRef a = f.child(0);
  f.sys.stop(a);
  ASSERT_TRUE(eventually([&] { return !a.alive(); }));
  ASSERT_TRUE(eventually([&] { return f.sup.cell()->children().size() == 1; }));
  EXPECT_EQ(p.count("a:start"), 1u);
}

TEST(Supervisor, ShutdownStopsChildrenInReverseOrderAndKillsTheStuck) {
  auto clock = std::make_shared<ManualClock>();
  Probe p;
  std::atomic<bool> stuck{true};
  ActorSystem sys(SystemConfig{.workers = 2, .clock = clock, .child_shutdown_timeout = 1s});
  struct Stuck : Actor {
    Stuck(Probe& p, std::atomic<bool>& s) : p(p), s(s) {}
    bool receive(Message& m) override {
      return match(m, [this](Get&) {
        p.push("stuck:busy");
        while (s.load()) std::this_thread::yield();
      });
    }
    void on_stop() override { p.push("stuck:stop"); }
    Probe& p;
    std::atomic<bool>& s;
  };
  ChildSpec st;
  st.type_name = "stuck";
  st.factory = [&] { return std::make_unique<Stuck>(p, stuck); };
  ActorRef sup = sys.spawn(std::make_unique<Supervisor>(
      SupervisorOptions{}, std::vector<ChildSpec>{spec(p, "a"), st, spec(p, "c")}));
  ASSERT_TRUE(p.wait_count(2));  // a and c started
  ASSERT_TRUE(eventually([&] { return sup.cell()->children().size() == 3; }));
  ActorRef s = sup.cell()->children()[1];
  sys.tell(s, Get{});
  ASSERT_TRUE(p.wait_for("stuck:busy"));
  const std::size_t timers_before = sys.timers().pending();
  sys.stop(sup);
  ASSERT_TRUE(p.wait_for("c:stop"));
  // The supervisor moves on to the stuck child: its stop request waits in the system queue,
  // and its kill timer is armed (just after the request: advancing the clock before that
  // would let the timer start from the advanced time and never fire).
  ASSERT_TRUE(eventually(
      [&] { return s.cell()->system_pending() && sys.timers().pending() == timers_before + 1; }));
  EXPECT_EQ(p.count("a:stop"), 0u);  // waits for the stuck child first
  clock->advance(1s);                // its shutdown timeout: killed
  stuck = false;                     // (a native handler cannot be preempted; it returns now)
  ASSERT_TRUE(p.wait_for("a:stop"));
  ASSERT_TRUE(eventually([&] { return !sup.alive(); }));
  EXPECT_EQ(p.count("stuck:stop"), 0u);  // killed: no on_stop
  EXPECT_EQ(s.cell()->exit_reason().kind, ExitReason::Kind::kKilled);
  auto ev = p.events();
  auto pos = [&](const std::string& e) { return std::find(ev.begin(), ev.end(), e) - ev.begin(); };
  EXPECT_LT(pos("c:stop"), pos("a:stop"));
}

TEST(Supervisor, StartChildByAsk) {
  Probe p;
  ActorSystem sys(SystemConfig{.workers = 2});
  auto r = sys.ask<ActorRef>(sys.root(), StartChild{spec(p, "x")}, 5s).get();
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(p.wait_for("x:start"));
  EXPECT_EQ(r->cell()->parent(), sys.root());
  ChildSpec bad;
  auto e = sys.ask<ActorRef>(sys.root(), StartChild{bad}, 5s).get();
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, BaseErrc::kInvalidArgument);
}

}  // namespace
}  // namespace troupe
