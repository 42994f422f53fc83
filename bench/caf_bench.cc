// CAF 0.17 side of the runtime benchmarks: the same workloads as troupe_bench.cc, written the
// way CAF's own examples write them (event-based actors, default scheduler with 2 threads) and
// the same way as troupe's side: the same handlers, messages and work in the timed region.
// CAF's mailbox is unbounded, so troupe's "flood" (bounded) and "flood_unbounded" both compare
// with this "flood".
//   caf_bench WORKLOAD   (fan_in | ping_pong | spawn | idle | flood)
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.h"
#include "caf/all.hpp"

using namespace caf;

namespace {

using go_atom = atom_constant<atom("go")>;
using more_atom = atom_constant<atom("more")>;

actor_system_config& config(actor_system_config& cfg) {
  cfg.set("scheduler.max-threads", bench::kWorkers);
  cfg.set("logger.verbosity", atom("quiet"));
  return cfg;
}

void fan_in(actor_system& sys) {
  bench::Done done;
  const long total = static_cast<long>(bench::kFanInSenders) * bench::kFanInPerSender;
  auto sink = sys.spawn([&done, total](event_based_actor*) -> behavior {
    auto count = std::make_shared<long>(0);
    return {[count, &done, total](int) {
      if (++*count == total) done.set();
    }};
  });
  std::vector<actor> senders;
  for (int i = 0; i < bench::kFanInSenders; ++i) {
    senders.push_back(sys.spawn([sink](event_based_actor* self) -> behavior {
      return {[self, sink](go_atom) {
        for (int k = 0; k < bench::kFanInPerSender; ++k) self->send(sink, k);
      }};
    }));
  }
  double t0 = bench::now_s();
  for (auto& s : senders) anon_send(s, go_atom::value);
  done.wait();
  double t = bench::now_s() - t0;
  bench::report("caf", "fan_in", "msg_per_s", static_cast<double>(total) / t);
  for (auto& s : senders) anon_send_exit(s, exit_reason::user_shutdown);
  anon_send_exit(sink, exit_reason::user_shutdown);
}

// Each side learns its peer from a message before the clock starts and keeps it, as troupe's
// does (rather than pong answering current_sender(), which troupe's side does not do).
void ping_pong(actor_system& sys) {
  bench::Done done;
  auto make = [&done](bool is_ping) {
    return [&done, is_ping](event_based_actor* self) -> behavior {
      auto peer = std::make_shared<actor>();
      return {[peer](const actor& p) { *peer = p; },
              [self, peer, &done, is_ping](int n) {
                if (is_ping && n == bench::kPingPongRounds) {
                  done.set();
                  return;
                }
                self->send(*peer, is_ping ? n + 1 : n);
              }};
    };
  };
  auto ping = sys.spawn(make(true));
  auto pong = sys.spawn(make(false));
  anon_send(ping, pong);
  anon_send(pong, ping);
  double t0 = bench::now_s();
  anon_send(ping, 0);
  done.wait();
  double t = bench::now_s() - t0;
  bench::report("caf", "ping_pong", "rtt_ns", t * 1e9 / bench::kPingPongRounds);
  anon_send_exit(ping, exit_reason::user_shutdown);
  anon_send_exit(pong, exit_reason::user_shutdown);
}

behavior idle_actor(event_based_actor*, std::atomic<int>* started) {
  if (started) started->fetch_add(1, std::memory_order_relaxed);
  return {[](int) {}};
}

void spawn(actor_system& sys) {
  std::vector<actor> refs;
  refs.reserve(bench::kSpawnActors);
  double t0 = bench::now_s();
  for (int i = 0; i < bench::kSpawnActors; ++i) {
    refs.push_back(sys.spawn(idle_actor, static_cast<std::atomic<int>*>(nullptr)));
  }
  for (auto& r : refs) anon_send_exit(r, exit_reason::user_shutdown);
  refs.clear();
  sys.await_all_actors_done();
  double t = bench::now_s() - t0;
  bench::report("caf", "spawn", "actors_per_s", bench::kSpawnActors / t);
}

void idle(actor_system& sys) {
  std::atomic<int> started{0};
  std::vector<actor> refs;
  refs.reserve(bench::kIdleActors);
  long before = bench::rss_bytes();
  for (int i = 0; i < bench::kIdleActors; ++i) refs.push_back(sys.spawn(idle_actor, &started));
  while (started.load() < bench::kIdleActors)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  long after = bench::rss_bytes();
  long refs_bytes = static_cast<long>(refs.capacity() * sizeof(actor));
  bench::report("caf", "idle", "bytes_per_actor",
                static_cast<double>(after - before - refs_bytes) / bench::kIdleActors);
  for (auto& r : refs) anon_send_exit(r, exit_reason::user_shutdown);
}

void flood(actor_system& sys) {
  bench::Done done;
  auto acc = std::make_shared<std::uint64_t>(1);
  auto slow = sys.spawn([&done, acc](event_based_actor*) -> behavior {
    auto count = std::make_shared<long>(0);
    return {[count, &done, acc](long v) {
      *acc = bench::slow_work(*acc + static_cast<std::uint64_t>(v));
      if (++*count == bench::kFloodMessages) done.set();
    }};
  });
  auto producer = sys.spawn([slow](event_based_actor* self) -> behavior {
    auto sent = std::make_shared<long>(0);
    return {[self, slow, sent](more_atom) {
      for (int i = 0; i < bench::kFloodBatch && *sent < bench::kFloodMessages; ++i) {
        self->send(slow, (*sent)++);
      }
      if (*sent < bench::kFloodMessages) self->send(self, more_atom::value);
    }};
  });
  double t0 = bench::now_s();
  anon_send(producer, more_atom::value);
  done.wait();
  double t = bench::now_s() - t0;
  bench::report("caf", "flood", "msg_per_s", static_cast<double>(bench::kFloodMessages) / t);
  if (*acc == 42) std::puts("");
  anon_send_exit(producer, exit_reason::user_shutdown);
  anon_send_exit(slow, exit_reason::user_shutdown);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: caf_bench fan_in|ping_pong|spawn|idle|flood\n");
    return 1;
  }
  actor_system_config cfg;
  actor_system sys{config(cfg)};
  std::string w = argv[1];
  if (w == "fan_in")
    fan_in(sys);
  else if (w == "ping_pong")
    ping_pong(sys);
  else if (w == "spawn")
    spawn(sys);
  else if (w == "idle")
    idle(sys);
  else if (w == "flood")
    flood(sys);
  else {
    std::fprintf(stderr, "unknown workload '%s'\n", argv[1]);
    return 1;
  }
  return 0;
}
