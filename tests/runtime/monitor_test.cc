#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include "probe.h"
#include "troupe/runtime/actor_system.h"

namespace troupe {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::Probe;

struct Watch {
  ActorRef target;
};
struct LinkTo {
  ActorRef target;
};
struct Crash {};

class Watcher : public Actor {
 public:
  Watcher(Probe& p, bool trap = false) : p_(p), trap_(trap) {}
  void on_start() override { trap_exit(trap_); }
  void on_down(const Down& d) override { p_.push("down " + d.reason.to_string()); }
  void on_exit(const ExitSignal& s) override { p_.push("exit " + s.reason.to_string()); }
  void on_stop() override { p_.push("watcher stopped"); }
  bool receive(Message& m) override {
    return match(
        m, [this](Watch& w) { monitor(w.target); }, [this](LinkTo& l) { link(l.target); },
        [](Crash&) { throw std::runtime_error("crash"); });
  }

 private:
  Probe& p_;
  bool trap_;
};

ActorRef spawn_idle(ActorSystem& sys) {
  return sys.spawn_fn(
      [](Actor&) { return Behavior([](Crash&) { throw std::runtime_error("x"); }); });
}

TEST(Monitor, DownCarriesTheExitReason) {
  Probe p;
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef w = sys.spawn<Watcher>(p);
  ActorRef t = spawn_idle(sys);
  sys.ask<Unit>(w, Watch{t}, 5s).get().ok();
  sys.tell(t, Crash{});
  ASSERT_TRUE(p.wait_count(1));
  EXPECT_EQ(p.events().front().rfind("down error", 0), 0u) << p.events().front();
}

TEST(Monitor, DownForAnAlreadyDeadTarget) {
  Probe p;
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef t = spawn_idle(sys);
  sys.stop(t);
  ASSERT_TRUE(eventually([&] { return !t.alive(); }));
  ActorRef w = sys.spawn<Watcher>(p);
  sys.tell(w, Watch{t});
  ASSERT_TRUE(p.wait_count(1));
  EXPECT_EQ(p.events().front(), "down normal");
}

// Monitors set up while the target is dying: every monitor gets exactly one DOWN.
TEST(Monitor, ExactlyOnceUnderRaces) {
  ActorSystem sys(SystemConfig{.workers = 2});
  for (int round = 0; round < 200; ++round) {
    Probe p;
    ActorRef t = spawn_idle(sys);
    std::vector<ActorRef> watchers;
    for (int i = 0; i < 4; ++i) watchers.push_back(sys.spawn<Watcher>(p));
    std::thread killer([&] { sys.stop(t); });
    for (auto& w : watchers) sys.tell(w, Watch{t});
    killer.join();
    ASSERT_TRUE(p.wait_count(4)) << "round " << round;
    for (auto& w : watchers) sys.stop(w);
    ASSERT_TRUE(p.wait_count(8));
    EXPECT_EQ(p.count("down normal"), 4u) << "round " << round;
  }
}

TEST(Link, AbnormalExitPropagatesToLinkedActors) {
  Probe p;
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef a = sys.spawn<Watcher>(p);
  ActorRef b = spawn_idle(sys);
  sys.ask<Unit>(a, LinkTo{b}, 5s).get().ok();
  sys.tell(b, Crash{});
  ASSERT_TRUE(p.wait_for("watcher stopped"));
  ASSERT_TRUE(eventually([&] { return !a.alive(); }));
  EXPECT_NE(a.cell()->exit_reason().detail.find("linked actor"), std::string::npos);
}

TEST(Link, NormalExitDoesNotPropagate) {
  Probe p;
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef a = sys.spawn<Watcher>(p);
  ActorRef b = spawn_idle(sys);
  sys.ask<Unit>(a, LinkTo{b}, 5s).get().ok();
  sys.stop(b);
  ASSERT_TRUE(eventually([&] { return !b.alive(); }));
  // a still answers.
  sys.ask<Unit>(a, Watch{b}, 5s).get().ok();
  ASSERT_TRUE(p.wait_count(1));  // the DOWN from the monitor
  EXPECT_TRUE(a.alive());
}

TEST(Link, TrappedExitBecomesAMessage) {
  Probe p;
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef a = sys.spawn<Watcher>(p, /*trap=*/true);
  ActorRef b = spawn_idle(sys);
  sys.ask<Unit>(a, LinkTo{b}, 5s).get().ok();
  sys.tell(b, Crash{});
  ASSERT_TRUE(p.wait_count(1));
  EXPECT_EQ(p.events().front().rfind("exit error", 0), 0u);
  EXPECT_TRUE(a.alive());
}

TEST(Link, ExitOfTheOtherSideToo) {
  Probe p;
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef a = sys.spawn<Watcher>(p);
  ActorRef b = sys.spawn<Watcher>(p, true);
  sys.ask<Unit>(a, LinkTo{b}, 5s).get().ok();
  sys.tell(a, Crash{});  // links are bidirectional
  ASSERT_TRUE(p.wait_for("watcher stopped"));
  ASSERT_TRUE(eventually([&] { return p.size() >= 2; }));
  EXPECT_EQ(p.count("watcher stopped"), 1u);
  EXPECT_TRUE(b.alive());
}

}  // namespace
}  // namespace troupe
