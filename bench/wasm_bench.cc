// WebAssembly benchmarks: each workload compares against a reference measured in the same
// process, and prints RESULT lines scripts/bench.sh turns into ratios.
//   wasm_bench compute   the compute kernel natively, on the AOT tier and on the interpreter
//   wasm_bench dispatch [aot|interp]  dispatch round trips (64-byte payload) through the
//                        canonical ABI
//   wasm_bench actor native|aot  fan-in to the native counter, or to the WebAssembly one (AOT)
//   wasm_bench spawn     warm spawn: instantiating (and destroying) a module whose code is
//                        loaded; then a WebAssembly actor's spawn and stop against a native one's
//   wasm_bench compile   cold AOT compile of the C++ counter guest (empty cache)
//   wasm_bench preempt   echo round trips on 2 workers, idle and beside 4 spinning AOT guests
// Guests come from TROUPE_GUEST_DIR (the normal build's build/guests/wasm).
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.h"
#include "troupe/node/kind_registry.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/envelope.h"
#include "troupe/wasm/aot.h"
#include "troupe/wasm/guest_budget.h"
#include "troupe/wasm/instance.h"
#include "troupe/wasm/wasm_actor.h"
#include "troupe/wasm/wasm_error.h"
#include "troupe/wasm/wat.h"
#include "troupe/wasm/workload_values.h"

extern "C" {
#include "compute_kernel.h"
}
#include "example_actors.h"

using namespace troupe;
using namespace troupe::wasm;

namespace {

namespace fs = std::filesystem;

std::shared_ptr<GuestModule> load(const std::string& name) {
  std::ifstream in(std::string(TROUPE_GUEST_DIR) + "/" + name + ".wasm", std::ios::binary);
  std::vector<std::uint8_t> bin{std::istreambuf_iterator<char>(in), {}};
  auto m = GuestModule::load(bin);
  if (!m.ok()) {
    std::fprintf(stderr, "wasm_bench: %s: %s\n", name.c_str(), m.error().to_string().c_str());
    std::exit(1);
  }
  return std::make_shared<GuestModule>(std::move(m).value());
}

void compile(const GuestModule& m) {
  auto code = AotCompiler::shared().compile(m);
  if (!code.ok()) {
    std::fprintf(stderr, "wasm_bench: AOT: %s\n", code.error().to_string().c_str());
    std::exit(1);
  }
}

class NullHost final : public HostImports {
 public:
  Result<std::optional<AbiValue>> call_host(const workload::Function&,
                                            std::vector<AbiValue>) override {
    return Error{BaseErrc::kUnavailable, "benchmark host"};
  }
  void write_output(int, std::string_view) override {}
};

std::unique_ptr<Instance> instantiate(const GuestModule& m, HostImports& host, Tier tier) {
  // As docs/BENCHMARKS.md measures it: the limits pass on, fuel unlimited, no deadline.
  auto g = Instance::create(m, host, Limits{.fuel = kUnlimitedFuel, .timeout = kNoDeadline}, tier);
  if (!g.ok()) {
    std::fprintf(stderr, "wasm_bench: %s\n", g.error().to_string().c_str());
    std::exit(1);
  }
  return std::move(g).value();
}

std::string dispatch(Instance& g, const std::string& route, const std::string& payload) {
  auto r = g.dispatch("1", route, payload);
  if (!r.ok() || r->error) {
    std::fprintf(stderr, "wasm_bench: dispatch failed\n");
    std::exit(1);
  }
  return std::move(r->reply);
}

// Seconds per kernel round: `rounds` rounds, best of three.
template <typename F>
double per_round(std::uint32_t rounds, F&& run) {
  double best = 1e300;
  for (int i = 0; i < 3; ++i) {
    const double t0 = bench::now_s();
    run(rounds);
    best = std::min(best, (bench::now_s() - t0) / rounds);
  }
  return best;
}

void compute() {
  auto m = load("bench-compute");
  compile(*m);
  NullHost host;
  auto aot = instantiate(*m, host, Tier::kAot);
  auto interp = instantiate(*m, host, Tier::kInterp);
  // Same answer from all three, or the comparison means nothing.
  const std::string expect = std::to_string(compute_kernel(50));
  if (dispatch(*aot, "compute", "50") != expect || dispatch(*interp, "compute", "50") != expect) {
    std::fprintf(stderr, "wasm_bench: the tiers disagree with native code\n");
    std::exit(1);
  }
  volatile std::uint64_t sink = 0;
  const auto rounds = static_cast<std::uint32_t>(bench::sized(2000));
  const double native =
      per_round(rounds, [&](std::uint32_t n) { sink = sink + compute_kernel(n); });
  const double a =
      per_round(rounds, [&](std::uint32_t n) { dispatch(*aot, "compute", std::to_string(n)); });
  const double i = per_round(static_cast<std::uint32_t>(bench::sized(20)), [&](std::uint32_t n) {
    dispatch(*interp, "compute", std::to_string(n));
  });
  bench::report("native", "compute", "us_per_round", native * 1e6);
  bench::report("aot", "compute", "us_per_round", a * 1e6);
  bench::report("interp", "compute", "us_per_round", i * 1e6);
}

void dispatch_rtt(const std::string& only) {
  auto m = load("echo");
  compile(*m);
  NullHost host;
  const std::string payload(64, 'x');
  for (Tier tier : {Tier::kAot, Tier::kInterp}) {
    if (!only.empty() && only != tier_name(tier)) continue;
    auto g = instantiate(*m, host, tier);
    const int n = static_cast<int>(bench::sized(tier == Tier::kAot ? 1'000'000 : 100'000));
    for (int k = 0; k < n / 10; ++k) dispatch(*g, "echo", payload);  // warm up
    const double t0 = bench::now_s();
    for (int k = 0; k < n; ++k) dispatch(*g, "echo", payload);
    bench::report(tier_name(tier), "dispatch", "ns", (bench::now_s() - t0) * 1e9 / n);
  }
}

// Fan-in: kSenders actors each tell the counter per_sender "inc" Envelopes; then one ask
// "get" (queued after all of them) must answer the total.
double fan_in(const std::function<std::unique_ptr<Actor>()>& counter) {
  constexpr int kSenders = 100;
  const int per_sender = static_cast<int>(bench::sized(10000));
  SystemConfig config;
  config.workers = bench::kWorkers;
  ActorSystem sys(config);
  ActorRef sink = sys.spawn(counter());
  struct Go {};
  std::atomic<int> finished{0};
  std::vector<ActorRef> senders;
  for (int i = 0; i < kSenders; ++i) {
    senders.push_back(sys.spawn_fn([sink, per_sender, &finished](Actor& self) {
      return Behavior([&self, sink, per_sender, &finished](Go&) {
        for (int k = 0; k < per_sender; ++k) {
          Envelope e;
          e.route = "inc";
          self.tell(sink, std::move(e));
        }
        finished.fetch_add(1);
        finished.notify_all();
      });
    }));
  }
  const double t0 = bench::now_s();
  for (auto& s : senders) sys.tell(s, Go{});
  for (int f = finished.load(); f < kSenders; f = finished.load()) finished.wait(f);
  Envelope get;
  get.route = "get";
  auto total = sys.ask<Bytes>(sink, std::move(get), std::chrono::seconds(60)).get();
  const double t = bench::now_s() - t0;
  if (!total.ok() || *total != std::to_string(kSenders * per_sender)) {
    std::fprintf(stderr, "wasm_bench: the counter lost messages\n");
    std::exit(1);
  }
  return kSenders * per_sender / t;
}

// One side per process: a second fan-in in the same process runs slower (its messages come
// from blocks the first one freed, scattered, instead of freshly carved ones: about a third
// more time in the senders), so whichever side went second would lose. bench.sh alternates.
void actor(const std::string& side) {
  if (side == "native") {
    KindRegistry kinds;
    examples::register_example_kinds(kinds);
    bench::report("native", "actor", "msg_per_s", fan_in(kinds.find("counter")->factory));
    return;
  }
  auto m = load("counter");
  compile(*m);
  WasmActorOptions options;
  options.type_name = "counter";
  options.tier = Tier::kAot;
  options.limits = Limits{.fuel = kUnlimitedFuel, .timeout = kNoDeadline};
  bench::report("aot", "actor", "msg_per_s", fan_in(wasm_actor_factory(m, options)));
}

// Warm spawn, as a node spawns and stops guests: rounds of kSpawnBatch instances created, then
// destroyed, inside the timed region (so the AOT tier's linear memories come back to the pool
// and the next round reuses them). Reports µs per instance created and destroyed.
constexpr int kSpawnBatch = 100;

double instance_spawn_us(const GuestModule& m, HostImports& host, Tier tier, int n) {
  std::vector<std::unique_ptr<Instance>> live;
  live.reserve(kSpawnBatch);
  const double t0 = bench::now_s();
  for (int done = 0; done < n; done += kSpawnBatch) {
    for (int k = 0; k < kSpawnBatch; ++k) live.push_back(instantiate(m, host, tier));
    live.clear();
  }
  const int rounds = (n + kSpawnBatch - 1) / kSpawnBatch;
  return (bench::now_s() - t0) * 1e6 / (rounds * kSpawnBatch);
}

// The same for actors: rounds of kSpawnBatch actors spawned into a two-worker system, stopped,
// their refs released, and waited for until none is alive, inside the timed region. Both sides
// use this with an actor of one message handler: the WebAssembly counter (AOT) and a native
// function actor. µs per actor.
double actor_spawn_us(const std::function<std::unique_ptr<Actor>()>& make, int n) {
  SystemConfig config;
  config.workers = bench::kWorkers;
  ActorSystem sys(config);
  const auto base = sys.stats().live;
  std::vector<ActorRef> refs;
  refs.reserve(kSpawnBatch);
  const double t0 = bench::now_s();
  for (int done = 0; done < n; done += kSpawnBatch) {
    for (int k = 0; k < kSpawnBatch; ++k) refs.push_back(sys.spawn(make()));
    for (auto& r : refs) sys.stop(r);
    refs.clear();
    const double waited = bench::now_s();
    while (sys.stats().live > base) {
      std::this_thread::yield();
      if (bench::now_s() - waited > 30) {  // a lost stop: a failed run, never a hang
        std::fprintf(stderr, "wasm_bench: %llu actors still alive 30 s after their stop\n",
                     static_cast<unsigned long long>(sys.stats().live - base));
        std::exit(1);
      }
    }
  }
  const int rounds = (n + kSpawnBatch - 1) / kSpawnBatch;
  return (bench::now_s() - t0) * 1e6 / (rounds * kSpawnBatch);
}

void spawn() {
  auto m = load("counter");
  compile(*m);
  NullHost host;
  // Caps off, as docs/BENCHMARKS.md measures it (the pool's bounds follow them: see
  // LinearMemoryPool::bounds_for).
  GuestBudget::node().set_caps({.max_instances = kNoInstanceCap, .max_memory_bytes = kNoMemoryCap});
  const int n = static_cast<int>(bench::sized(20000));
  instance_spawn_us(*m, host, Tier::kAot, kSpawnBatch);  // warm up: fills the pool
  bench::report("aot", "spawn", "us", instance_spawn_us(*m, host, Tier::kAot, n));
  bench::report("interp", "spawn", "us",
                instance_spawn_us(*m, host, Tier::kInterp, static_cast<int>(bench::sized(2000))));

  // The echo guest (the counter logs at start: that would time the node log, not a spawn)
  // against a native echo: one Envelope handler each.
  auto echo = load("echo");
  compile(*echo);
  WasmActorOptions options;
  options.type_name = "echo";
  options.tier = Tier::kAot;
  options.limits = Limits{.fuel = kUnlimitedFuel, .timeout = kNoDeadline};
  const auto wasm = wasm_actor_factory(echo, options);
  const std::function<std::unique_ptr<Actor>()> native = [] {
    return std::make_unique<FunctionActor>(
        [](Actor&) { return Behavior([](Envelope& e) { return Bytes(std::move(e.payload)); }); });
  };
  actor_spawn_us(wasm, kSpawnBatch);  // warm up
  actor_spawn_us(native, kSpawnBatch);
  bench::report("aot", "spawn_actor", "us", actor_spawn_us(wasm, n));
  bench::report("native", "spawn_actor", "us", actor_spawn_us(native, n));
}

void cold_compile() {
  std::string dir = (fs::temp_directory_path() / "troupe-bench-aot-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) std::exit(1);
  auto m = load("counter");
  double ms = 0;
  {
    AotCompiler compiler(AotOptions{.cache_dir = dir});
    const double t0 = bench::now_s();
    auto code = compiler.compile(*m);
    ms = (bench::now_s() - t0) * 1e3;
    if (!code.ok()) std::exit(1);
  }
  fs::remove_all(dir);
  bench::report("aot", "compile", "ms", ms);
}

// Preemption: a native echo's round trip on a two-worker node, first idle, then while four
// AOT guests spin in `loop br 0` (deadline 3 s, fuel unlimited). Reports the worst and the
// 99th percentile of 1 s of asks (one at a time, 200 us apart) for each.
void preempt() {
  constexpr const char* kSpinner = R"((module (memory (export "memory") 1)
    (global $top (mut i32) (i32.const 4096))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $top) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $top (i32.add (local.get $p) (local.get 3))) (local.get $p))
    (func (export "actr:workload/workload@0.1.0#dispatch")
          (param i32 i32 i32 i32 i32 i32) (result i32) (loop $l (br $l)) (i32.const 16)))
  )";
  auto bin = wat_to_wasm(kSpinner);
  auto loaded = bin.ok() ? GuestModule::load(*bin) : Result<GuestModule>(bin.error());
  if (!loaded.ok()) std::exit(1);
  auto m = std::make_shared<GuestModule>(std::move(loaded).value());
  compile(*m);
  SystemConfig config;
  config.workers = bench::kWorkers;
  ActorSystem sys(config);
  struct Ping {};
  ActorRef echo = sys.spawn_fn([](Actor&) { return Behavior([](Ping&) { return 1; }); });
  auto measure = [&](const char* impl) {
    std::vector<double> us;
    const double t0 = bench::now_s();
    const double seconds = bench::quick() ? 0.05 : 1.0;
    while (bench::now_s() - t0 < seconds) {
      const double sent = bench::now_s();
      if (!sys.ask<int>(echo, Ping{}, std::chrono::seconds(10)).get().ok()) std::exit(1);
      us.push_back((bench::now_s() - sent) * 1e6);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    std::sort(us.begin(), us.end());
    bench::report(impl, "preempt_worst", "us", us.back());
    bench::report(impl, "preempt_p99", "us", us[us.size() * 99 / 100]);
  };
  measure("idle");
  WasmActorOptions options;
  options.type_name = "spinner";
  options.tier = Tier::kAot;
  options.limits.fuel = std::uint64_t{1} << 62;
  options.limits.timeout = std::chrono::milliseconds(bench::quick() ? 300 : 3000);
  auto factory = wasm_actor_factory(m, options);
  std::vector<Future<Bytes>> spins;
  for (int i = 0; i < 4; ++i) {
    Envelope e;
    e.route = "spin";
    spins.push_back(sys.ask<Bytes>(sys.spawn(factory()), std::move(e), std::chrono::seconds(30)));
  }
  measure("spinning");
  for (auto& f : spins) {
    auto r = f.get();
    if (r.ok() || r.error().code != WasmErrc::kDeadlineExceeded) std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string w = argc > 1 ? argv[1] : "";
  if (w == "compute") {
    compute();
  } else if (w == "dispatch") {
    dispatch_rtt(argc > 2 ? argv[2] : "");
  } else if (w == "actor" && argc > 2 &&
             (argv[2] == std::string("native") || argv[2] == std::string("aot"))) {
    actor(argv[2]);
  } else if (w == "spawn") {
    spawn();
  } else if (w == "compile") {
    cold_compile();
  } else if (w == "preempt") {
    preempt();
  } else {
    std::fprintf(stderr,
                 "usage: wasm_bench compute | dispatch [aot|interp] | actor native|aot | spawn | "
                 "compile | preempt\n");
    return 1;
  }
  return 0;
}
