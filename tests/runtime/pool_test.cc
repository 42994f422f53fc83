#include "troupe/runtime/pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <stdexcept>

#include "probe.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/envelope.h"

namespace troupe {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

struct WhoAreYou {};
struct Crash {};
struct Block {
  std::atomic<bool>* release;
};

// Replies with its own actor id, so the test sees where each message went.
class Member : public Actor {
 public:
  bool receive(Message& m) override {
    return match(
        m, [this](WhoAreYou&) { return self().id().serial; },
        [this](Envelope&) -> Bytes { return std::to_string(self().id().serial); },
        [](Crash&) { throw std::runtime_error("crash"); },
        [](Block& b) { b.release->wait(false); });
  }
};

std::map<std::uint64_t, int> distribution(ActorSystem& sys, const ActorRef& pool, int n) {
  std::map<std::uint64_t, int> hits;
  for (int i = 0; i < n; ++i) {
    auto r = sys.ask<std::uint64_t>(pool, WhoAreYou{}, 5s).get();
    EXPECT_TRUE(r.ok());
    if (r.ok()) ++hits[*r];
  }
  return hits;
}

ActorRef spawn_pool(ActorSystem& sys, Routing routing, std::size_t size = 4) {
  PoolOptions o;
  o.size = size;
  o.routing = routing;
  o.factory = [] { return std::make_unique<Member>(); };
  SpawnOptions so;
  so.type_name = "pool";
  return sys.spawn(std::make_unique<Pool>(o), so);
}

TEST(Pool, RoundRobinIsExactlyEven) {
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef pool = spawn_pool(sys, Routing::kRoundRobin);
  auto hits = distribution(sys, pool, 400);
  ASSERT_EQ(hits.size(), 4u);
  for (auto& [id, n] : hits) EXPECT_EQ(n, 100);
}

TEST(Pool, RandomSpreadsAcrossAllWorkers) {
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef pool = spawn_pool(sys, Routing::kRandom);
  auto hits = distribution(sys, pool, 2000);
  ASSERT_EQ(hits.size(), 4u);
  for (auto& [id, n] : hits) {
    EXPECT_GT(n, 350);  // expected 500; far outside chance to fail
    EXPECT_LT(n, 650);
  }
}

TEST(Pool, ConsistentHashSendsTheSameKeyToTheSameWorker) {
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef pool = spawn_pool(sys, Routing::kConsistentHash, 8);
  std::map<std::string, std::string> owner;
  std::map<std::string, int> per_worker;
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 200; ++k) {
      Envelope e;
      e.route = "r";
      e.payload = "key-" + std::to_string(k);
      auto r = sys.ask<Bytes>(pool, std::move(e), 5s).get();
      ASSERT_TRUE(r.ok());
      std::string key = "key-" + std::to_string(k);
      if (round == 0) {
        owner[key] = *r;
        ++per_worker[*r];
      } else {
        EXPECT_EQ(owner[key], *r) << key;
      }
    }
  }
  EXPECT_GE(per_worker.size(), 7u);  // 200 keys over 8 workers reach (nearly) all of them
}

TEST(Pool, LeastLoadedAvoidsABusyWorker) {
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef pool = spawn_pool(sys, Routing::kLeastLoaded, 2);
  ASSERT_TRUE(eventually([&] { return pool.cell()->children().size() == 2; }));
  ActorRef busy = pool.cell()->children()[0];
  ActorRef idle = pool.cell()->children()[1];
  // Block the first worker with a backlog; every routed ask must go to the other one.
  std::atomic<bool> release{false};
  sys.tell(busy, Block{&release});
  for (int i = 0; i < 50; ++i) sys.tell(busy, WhoAreYou{});
  auto hits = distribution(sys, pool, 100);
  EXPECT_EQ(hits[idle.id().serial], 100);
  release = true;
  release.notify_all();
}

TEST(Pool, WorkersAreSupervisedAndRestartedInPlace) {
  ActorSystem sys(SystemConfig{.workers = 2});
  ActorRef pool = spawn_pool(sys, Routing::kRoundRobin, 2);
  ASSERT_TRUE(eventually([&] { return pool.cell()->children().size() == 2; }));
  ActorRef w = pool.cell()->children()[0];
  sys.tell(w, Crash{});
  ASSERT_TRUE(eventually([&] { return w.cell()->stats().restarts == 1; }));
  auto hits = distribution(sys, pool, 10);
  EXPECT_EQ(hits.size(), 2u);
}

}  // namespace
}  // namespace troupe
