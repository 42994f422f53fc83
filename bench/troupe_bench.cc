// troupe side of the runtime benchmarks; bench/caf_bench.cc runs the same workloads on CAF,
// written the same way: function-based actors whose behavior has the same handlers, the same
// messages, the same work inside the timed region. A change to one side is made to the other.
//   troupe_bench WORKLOAD   (fan_in | ping_pong | spawn | idle | flood | flood_unbounded)
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "bench_common.h"
#include "troupe/runtime/actor_system.h"

using namespace troupe;

namespace {

SystemConfig config() {
  SystemConfig c;
  c.workers = bench::kWorkers;
  return c;
}

void fan_in() {
  ActorSystem sys(config());
  bench::Done done;
  const long total = static_cast<long>(bench::kFanInSenders) * bench::kFanInPerSender;
  ActorRef sink = sys.spawn_fn([&done, total](Actor&) {
    auto count = std::make_shared<long>(0);
    return Behavior([count, &done, total](int&) {
      if (++*count == total) done.set();
    });
  });
  struct Go {};
  std::vector<ActorRef> senders;
  for (int i = 0; i < bench::kFanInSenders; ++i) {
    senders.push_back(sys.spawn_fn([sink](Actor& self) {
      return Behavior([&self, sink](Go&) {
        for (int k = 0; k < bench::kFanInPerSender; ++k) self.tell(sink, k);
      });
    }));
  }
  double t0 = bench::now_s();
  for (auto& s : senders) sys.tell(s, Go{});
  done.wait();
  double t = bench::now_s() - t0;
  bench::report("troupe", "fan_in", "msg_per_s", static_cast<double>(total) / t);
}

void ping_pong() {
  ActorSystem sys(config());
  bench::Done done;
  struct Peer {
    ActorRef ref;
  };
  auto make = [&done](bool is_ping) {
    return [&done, is_ping](Actor& self) {
      auto peer = std::make_shared<ActorRef>();
      return Behavior([peer](Peer& p) { *peer = p.ref; },
                      [&self, peer, &done, is_ping](int& n) {
                        if (is_ping && n == bench::kPingPongRounds) {
                          done.set();
                          return;
                        }
                        self.tell(*peer, is_ping ? n + 1 : n);
                      });
    };
  };
  ActorRef ping = sys.spawn_fn(make(true));
  ActorRef pong = sys.spawn_fn(make(false));
  sys.tell(ping, Peer{pong});
  sys.tell(pong, Peer{ping});
  double t0 = bench::now_s();
  sys.tell(ping, 0);
  done.wait();
  double t = bench::now_s() - t0;
  bench::report("troupe", "ping_pong", "rtt_ns", t * 1e9 / bench::kPingPongRounds);
}

// The idle actor of spawn and idle, as caf_bench.cc's idle_actor: a function-based actor whose
// start counts itself and whose behavior has one message handler.
ActorRef spawn_idle(ActorSystem& sys, std::atomic<int>* started) {
  return sys.spawn_fn([started](Actor&) {
    if (started) started->fetch_add(1, std::memory_order_relaxed);
    return Behavior([](int&) {});
  });
}

void spawn() {
  ActorSystem sys(config());
  const auto base = sys.stats().live;
  std::vector<ActorRef> refs;
  refs.reserve(bench::kSpawnActors);
  double t0 = bench::now_s();
  for (int i = 0; i < bench::kSpawnActors; ++i) refs.push_back(spawn_idle(sys, nullptr));
  for (auto& r : refs) sys.stop(r);
  // Releasing the refs is part of the work, as on CAF's side. CAF then blocks in
  // await_all_actors_done; troupe has no such call while its root supervisor lives, so this
  // polls (at most 200 µs late, against troupe).
  refs.clear();
  while (sys.stats().live > base) std::this_thread::sleep_for(std::chrono::microseconds(200));
  double t = bench::now_s() - t0;
  bench::report("troupe", "spawn", "actors_per_s", bench::kSpawnActors / t);
}

void idle() {
  ActorSystem sys(config());
  std::atomic<int> started{0};
  std::vector<ActorRef> refs;
  refs.reserve(bench::kIdleActors);
  long before = bench::rss_bytes();
  for (int i = 0; i < bench::kIdleActors; ++i) refs.push_back(spawn_idle(sys, &started));
  while (started.load() < bench::kIdleActors)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  long after = bench::rss_bytes();
  // The refs vector is the benchmark's own bookkeeping, not the actors': take it out.
  long refs_bytes = static_cast<long>(refs.capacity() * sizeof(ActorRef));
  bench::report("troupe", "idle", "bytes_per_actor",
                static_cast<double>(after - before - refs_bytes) / bench::kIdleActors);
}

// `bounded`: the consumer's mailbox holds kFloodBound and pauses the producer (troupe's answer
// to a flood); else it is unbounded, as CAF's.
void flood(bool bounded) {
  ActorSystem sys(config());
  bench::Done done;
  SpawnOptions so;
  so.mailbox.bound = bounded ? bench::kFloodBound : 0;
  so.mailbox.policy = OverflowPolicy::kBackpressure;
  auto acc = std::make_shared<std::uint64_t>(1);
  ActorRef slow = sys.spawn(std::make_unique<FunctionActor>([&done, acc](Actor&) {
                              auto count = std::make_shared<long>(0);
                              return Behavior([count, &done, acc](long& v) {
                                *acc = bench::slow_work(*acc + static_cast<std::uint64_t>(v));
                                if (++*count == bench::kFloodMessages) done.set();
                              });
                            }),
                            so);
  struct More {};
  ActorRef producer = sys.spawn_fn([slow](Actor& self) {
    auto sent = std::make_shared<long>(0);
    return Behavior([&self, slow, sent](More&) {
      for (int i = 0; i < bench::kFloodBatch && *sent < bench::kFloodMessages; ++i) {
        self.tell(slow, (*sent)++);
      }
      if (*sent < bench::kFloodMessages) self.tell(self.self(), More{});
    });
  });
  double t0 = bench::now_s();
  sys.tell(producer, More{});
  done.wait();
  double t = bench::now_s() - t0;
  bench::report("troupe", bounded ? "flood" : "flood_unbounded", "msg_per_s",
                static_cast<double>(bench::kFloodMessages) / t);
  if (*acc == 42) std::puts("");  // keep the work observable
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: troupe_bench fan_in|ping_pong|spawn|idle|flood|flood_unbounded\n");
    return 1;
  }
  std::string w = argv[1];
  if (w == "fan_in")
    fan_in();
  else if (w == "ping_pong")
    ping_pong();
  else if (w == "spawn")
    spawn();
  else if (w == "idle")
    idle();
  else if (w == "flood")
    flood(true);
  else if (w == "flood_unbounded")
    flood(false);
  else {
    std::fprintf(stderr, "unknown workload '%s'\n", argv[1]);
    return 1;
  }
  return 0;
}
