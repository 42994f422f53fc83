#include "troupe/runtime/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "probe.h"
#include "troupe/runtime/actor_system.h"

namespace troupe {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::Probe;

// A Runnable that does `work` units, `per` at a time, recording each slice.
class Task final : public Runnable {
 public:
  Task(std::string name, int work, std::vector<std::string>& log, std::mutex& m)
      : name_(std::move(name)), left_(work), log_(log), m_(m) {}
  bool resume(unsigned budget) override {
    int n = std::min<int>(static_cast<int>(budget), left_);
    left_ -= n;
    {
      std::lock_guard lock(m_);
      log_.push_back(name_ + ":" + std::to_string(n));
    }
    if (left_ == 0) done_ = true;
    return left_ > 0;
  }
  std::atomic<bool> done_{false};

 private:
  std::string name_;
  int left_;
  std::vector<std::string>& log_;
  std::mutex& m_;
};

TEST(Scheduler, BudgetInterleavesRunnablesOnOneWorker) {
  std::vector<std::string> log;
  std::mutex m;
  Task a("a", 10, log, m), b("b", 4, log, m);
  {
    Scheduler s(1, 4);
    s.schedule(&a);
    s.schedule(&b);
    ASSERT_TRUE(eventually([&] { return a.done_.load() && b.done_.load(); }));
  }
  // Slices of at most the budget, and b is not starved behind a's re-queued slices: it runs
  // before a's last one (where exactly depends on which queue the worker checks first).
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log.front(), "a:4");
  EXPECT_EQ(log.back(), "a:2");
  EXPECT_NE(std::find(log.begin(), log.end(), "b:4"), log.end());
}

TEST(Scheduler, IdleWorkersParkAndWakeForNewWork) {
  Scheduler s(2, 8);
  ASSERT_TRUE(eventually([&] { return s.parked() == 2; }));
  std::vector<std::string> log;
  std::mutex m;
  Task t("t", 3, log, m);
  s.schedule(&t);
  ASSERT_TRUE(eventually([&] { return t.done_.load(); }));
  ASSERT_TRUE(eventually([&] { return s.parked() == 2; }));
}

// One actor hogs a worker inside a long handler; the other worker steals what queued up
// behind it, so other actors still make progress.
TEST(Scheduler, StealingKeepsOthersRunningWhileOneWorkerIsBusy) {
  Probe p;
  ActorSystem sys(SystemConfig{.workers = 2});
  std::atomic<bool> release{false};
  struct Hog {};
  struct Ping {};
  ActorRef hog = sys.spawn_fn([&](Actor& self) {
    return Behavior([&self, &p, &release](Hog&) {
      // Queue work on this worker's own run queue, then block it.
      for (int i = 0; i < 20; ++i) {
        self.spawn(std::make_unique<FunctionActor>(
            [&p](Actor&) { return Behavior([&p](Ping&) { p.push("ping"); }); }));
      }
      p.push("hogging");
      release.wait(false);
    });
  });
  sys.tell(hog, Hog{});
  ASSERT_TRUE(p.wait_for("hogging"));
  for (const ActorRef& c : hog.cell()->children()) sys.tell(c, Ping{});
  EXPECT_TRUE(p.wait_count(21, 10s));
  release = true;
  release.notify_all();
}

TEST(Scheduler, NoThreadPerActor) {
  ActorSystem sys(SystemConfig{.workers = 2});
  auto threads = [] {
    std::size_t n = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
    return n;
  };
  std::size_t before = threads();
  std::vector<ActorRef> refs;
  for (int i = 0; i < 10000; ++i) {
    refs.push_back(sys.spawn_fn([](Actor&) { return Behavior([](int&) {}); }));
    sys.send_after(refs.back(), 1, 1h);  // and a timer each
  }
  for (auto& r : refs) sys.tell(r, 1);
  EXPECT_EQ(threads(), before);
}

}  // namespace
}  // namespace troupe
