// WebAssembly benchmarks: each workload compares against a reference measured in the same
// process, and prints RESULT lines scripts/bench.sh turns into ratios.
//   wasm_bench compute   the compute kernel natively, on the AOT tier and on the interpreter
//   wasm_bench dispatch [aot|interp]  dispatch round trips (64-byte payload) through the
//                        canonical ABI
//   wasm_bench actor native|aot  fan-in to the native counter, or to the WebAssembly one (AOT)
//   wasm_bench spawn     warm spawn: instantiating a module whose code is loaded
//   wasm_bench compile   cold AOT compile of the C++ counter guest (empty cache)
// Guests come from TROUPE_GUEST_DIR (the normal build's build/guests/wasm).
#include <unistd.h>

#include <cinttypes>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "bench_common.h"
#include "troupe/node/kind_registry.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/envelope.h"
#include "troupe/wasm/aot.h"
#include "troupe/wasm/guest_budget.h"
#include "troupe/wasm/instance.h"
#include "troupe/wasm/wasm_actor.h"
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
    return Error{Errc::kUnavailable, "benchmark host"};
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
  const double native = per_round(2000, [&](std::uint32_t n) { sink = sink + compute_kernel(n); });
  const double a =
      per_round(2000, [&](std::uint32_t n) { dispatch(*aot, "compute", std::to_string(n)); });
  const double i =
      per_round(20, [&](std::uint32_t n) { dispatch(*interp, "compute", std::to_string(n)); });
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
    const int n = tier == Tier::kAot ? 1'000'000 : 100'000;
    for (int k = 0; k < n / 10; ++k) dispatch(*g, "echo", payload);  // warm up
    const double t0 = bench::now_s();
    for (int k = 0; k < n; ++k) dispatch(*g, "echo", payload);
    bench::report(tier_name(tier), "dispatch", "ns", (bench::now_s() - t0) * 1e9 / n);
  }
}

// Fan-in: kSenders actors each tell the counter kPerSender "inc" Envelopes; then one ask
// "get" (queued after all of them) must answer the total.
double fan_in(const std::function<std::unique_ptr<Actor>()>& counter) {
  constexpr int kSenders = 100, kPerSender = 10000;
  SystemConfig config;
  config.workers = bench::kWorkers;
  ActorSystem sys(config);
  ActorRef sink = sys.spawn(counter());
  struct Go {};
  std::atomic<int> finished{0};
  std::vector<ActorRef> senders;
  for (int i = 0; i < kSenders; ++i) {
    senders.push_back(sys.spawn_fn([sink, &finished](Actor& self) {
      return Behavior([&self, sink, &finished](Go&) {
        for (int k = 0; k < kPerSender; ++k) {
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
  if (!total.ok() || *total != std::to_string(kSenders * kPerSender)) {
    std::fprintf(stderr, "wasm_bench: the counter lost messages\n");
    std::exit(1);
  }
  return kSenders * kPerSender / t;
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

void spawn() {
  auto m = load("counter");
  compile(*m);
  NullHost host;
  // 2,000 live instances: past the default node-wide caps (1,000 instances, 4 GiB).
  GuestBudget::node().set_caps({.max_instances = kNoInstanceCap, .max_memory_bytes = kNoMemoryCap});
  for (Tier tier : {Tier::kAot, Tier::kInterp}) {
    const int n = 2000;
    std::vector<std::unique_ptr<Instance>> keep;
    keep.reserve(n);
    const double t0 = bench::now_s();
    for (int k = 0; k < n; ++k) keep.push_back(instantiate(*m, host, tier));
    bench::report(tier_name(tier), "spawn", "us", (bench::now_s() - t0) * 1e6 / n);
  }
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
  } else {
    std::fprintf(stderr,
                 "usage: wasm_bench compute | dispatch [aot|interp] | actor native|aot | spawn | "
                 "compile\n");
    return 1;
  }
  return 0;
}
