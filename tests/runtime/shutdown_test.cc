// ActorSystem::shutdown while other threads (a control socket's, say) still resolve names,
// find actors, spawn and send: no data race, no use after free, and afterwards every lookup
// comes back empty and every send is a dead letter. Meant to run under ThreadSanitizer too
// (scripts/test.sh --sanitize=thread).
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "probe.h"
#include "troupe/runtime/actor_system.h"

namespace troupe {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

struct Hit {};

ActorRef spawn_named(ActorSystem& sys, const std::string& name) {
  SpawnOptions so;
  so.name = name;
  return sys.spawn_fn([](Actor&) { return Behavior([](Hit&) {}); }, so);
}

TEST(Shutdown, RacesWithLookupsSpawnsAndSendsFromOtherThreads) {
  ActorSystem sys(SystemConfig{.workers = 2});
  constexpr int kNamed = 16;
  std::vector<ActorId> ids;
  for (int i = 0; i < kNamed; ++i) ids.push_back(spawn_named(sys, "a" + std::to_string(i)).id());

  std::atomic<bool> done{false};
  std::atomic<int> rounds{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !done.load(); ++i) {
        const std::string name = "a" + std::to_string(i % kNamed);
        if (ActorRef r = sys.resolve(name)) sys.tell(r, Hit{});
        if (ActorRef r = sys.find(ids[static_cast<std::size_t>(i % kNamed)])) sys.tell(r, Hit{});
        if (ActorRef r = sys.resolve(ids[0].to_string())) sys.tell(r, Hit{});
        if (ActorRef root = sys.root()) (void)root.alive();
        if (ActorRef r = spawn_named(sys, "t" + std::to_string(t) + "." + std::to_string(i))) {
          sys.tell(r, Hit{});
        }
        (void)sys.top_level();
        rounds.fetch_add(1);
      }
    });
  }
  // Let every thread get going, then shut down under their feet.
  ASSERT_TRUE(eventually([&] { return rounds.load() >= 300; }));
  sys.shutdown();
  const int after = rounds.load();
  ASSERT_TRUE(eventually([&] { return rounds.load() >= after + 300; }));
  done = true;
  for (auto& th : threads) th.join();

  EXPECT_EQ(sys.stats().live, 0u);
  EXPECT_FALSE(sys.resolve("a0"));
  EXPECT_FALSE(sys.find(ids[1]));
  EXPECT_FALSE(sys.root());
  EXPECT_FALSE(spawn_named(sys, "late"));
}

// A spawn that was under way when shutdown began is still stopped by it, not left running
// until the shutdown timeout kills it.
TEST(Shutdown, StopsActorsSpawnedWhileItBegins) {
  ActorSystem sys(SystemConfig{.workers = 2, .shutdown_timeout = 60s});
  std::atomic<bool> done{false};
  std::atomic<int> spawned{0};
  std::thread spawner([&] {
    while (!done.load()) {
      if (sys.spawn_fn([](Actor&) { return Behavior([](Hit&) {}); })) spawned.fetch_add(1);
    }
  });
  ASSERT_TRUE(eventually([&] { return spawned.load() >= 100; }));
  auto start = std::chrono::steady_clock::now();
  sys.shutdown();
  auto took = std::chrono::steady_clock::now() - start;
  done = true;
  spawner.join();
  EXPECT_EQ(sys.stats().live, 0u);
  EXPECT_LT(took, 30s) << "shutdown waited for an actor it had not stopped";
}

}  // namespace
}  // namespace troupe
