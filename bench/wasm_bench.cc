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
//   wasm_bench storage   a guest's committed puts (the kv guest, one put per message, each
//                        committed before its reply) against raw SQLite doing the same puts
//                        with the same settings, one transaction each
//   wasm_bench sign      a guest's signatures (the signer guest, one per message) against raw
//                        libsodium signing the same message with a key of its own
// Guests come from TROUPE_GUEST_DIR (the normal build's build/guests/wasm).
#include <sodium.h>
#include <sqlite3.h>
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
#include "troupe/node/custodial_guest_signer.h"
#include "troupe/node/kind_registry.h"
#include "troupe/node/leased_guest_storage.h"
#include "troupe/node/native_kind_factory.h"
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
    bench::report("native", "actor", "msg_per_s",
                  fan_in(native_kind_factory(kinds, "counter", "", nullptr).value()));
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
  // Last: 2000 interpreter instantiations leave the heap in pieces (WABT builds and frees
  // megabytes each), which slowed every allocation measured after them, both sides' spawns.
  bench::report("interp", "spawn", "us",
                instance_spawn_us(*m, host, Tier::kInterp, static_cast<int>(bench::sized(2000))));
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

// A WebAssembly actor of `module` (AOT) with `services`, spawned bare, for the platform
// benchmarks. ask_all sends a batch of asks at once and waits for every reply: the actor works
// through them back to back, as under load, instead of waiting for this thread between them.
struct ServedGuest {
  ActorSystem sys{SystemConfig{.workers = bench::kWorkers}};
  ActorRef ref;

  ServedGuest(const std::string& module, GuestServicesFactory services) {
    auto m = load(module);
    compile(*m);
    WasmActorOptions options;
    options.type_name = module;
    options.tier = Tier::kAot;
    options.services = std::move(services);
    ref = sys.spawn(wasm_actor_factory(m, options)());
  }
  // Each reply is checked by `check`; a failed ask ends the run.
  void ask_all(const std::string& route, const std::vector<std::string>& payloads,
               const std::function<bool(const Bytes&)>& check) {
    std::vector<Future<Bytes>> replies;
    replies.reserve(payloads.size());
    for (const std::string& p : payloads) {
      Envelope e;
      e.route = route;
      e.payload = p;
      e.request_id = sys.next_request_id();
      replies.push_back(sys.ask<Bytes>(ref, std::move(e), std::chrono::seconds(60)));
    }
    for (auto& f : replies) {
      auto r = f.get();
      if (!r.ok() || !check(*r)) {
        std::fprintf(stderr, "wasm_bench: %s\n",
                     r.ok() ? "unexpected reply" : r.error().to_string().c_str());
        std::exit(1);
      }
    }
  }
};

std::string scratch_dir() {
  std::string dir = (fs::temp_directory_path() / "troupe-bench-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) std::exit(1);
  return dir;
}

void sql(sqlite3* db, const char* statement) {
  if (sqlite3_exec(db, statement, nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "wasm_bench: sqlite: %s\n", sqlite3_errmsg(db));
    std::exit(1);
  }
}

// Committed puts per second: the kv guest (one put per message; the store commits it, with
// synchronous=FULL, before the reply) against raw SQLite doing the same puts with the same
// settings (exclusive locking, WAL, synchronous=FULL, the store's table and upsert), one
// transaction each. Rounds alternate between the sides so both see the same disk.
void storage() {
  const std::string dir = scratch_dir();
  auto service = StorageService::open(dir, std::uint64_t{1} << 30);
  if (!service.ok()) std::exit(1);
  StorageService& storage_service = **service;
  ServedGuest kv("kv", [&](ActorId) -> Result<GuestServices> {
    auto lease = storage_service.open_store({"bench:kv:1.0.0", "kv"}, std::uint64_t{1} << 30);
    if (!lease.ok()) return lease.error();
    GuestServices s;
    s.storage = std::make_unique<LeasedGuestStorage>(std::move(lease).value());
    return s;
  });
  sqlite3* db = nullptr;
  if (sqlite3_open((dir + "/raw.sqlite").c_str(), &db) != SQLITE_OK) std::exit(1);
  sql(db, "PRAGMA locking_mode=EXCLUSIVE");
  sql(db, "PRAGMA journal_mode=WAL");
  sql(db, "PRAGMA synchronous=FULL");
  sql(db, "CREATE TABLE kv (key BLOB NOT NULL UNIQUE, value BLOB NOT NULL)");
  sqlite3_stmt* put = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE "
                     "SET value = excluded.value",
                     -1, &put, nullptr);
  const std::string value(100, 'v');
  const int rounds = static_cast<int>(bench::sized(20) < 2 ? 2 : bench::sized(20));
  constexpr int kPerRound = 50;
  double raw_s = 0, guest_s = 0;
  int n = 0;
  for (int r = 0; r < rounds; ++r) {
    double t0 = bench::now_s();
    for (int i = 0; i < kPerRound; ++i) {
      const std::string key = "k" + std::to_string(n + i);
      sql(db, "BEGIN");
      sqlite3_bind_blob(put, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
      sqlite3_bind_blob(put, 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
      if (sqlite3_step(put) != SQLITE_DONE) std::exit(1);
      sqlite3_reset(put);
      sql(db, "COMMIT");
    }
    raw_s += bench::now_s() - t0;
    std::vector<std::string> puts;
    for (int i = 0; i < kPerRound; ++i) puts.push_back("k" + std::to_string(n + i) + "=" + value);
    t0 = bench::now_s();
    kv.ask_all("put", puts, [](const Bytes& reply) { return reply.empty(); });
    guest_s += bench::now_s() - t0;
    n += kPerRound;
  }
  sqlite3_finalize(put);
  sqlite3_close(db);
  bench::report("raw", "storage_put", "puts_per_s", n / raw_s);
  bench::report("guest", "storage_put", "puts_per_s", n / guest_s);
  kv.sys.shutdown();
  fs::remove_all(dir);
}

// Signatures per second of a 64-byte message: the signer guest (one signature per message, by
// the key the node keeps for it) against raw libsodium signing the same message.
void sign() {
  if (sodium_init() < 0) std::exit(1);
  const std::string dir = scratch_dir();
  auto master = MasterKey::load_or_create(dir + "/master");
  if (!master.ok()) std::exit(1);
  SteadyClock clock;
  auto custody =
      KeyCustody::open(dir + "/keys", std::make_shared<const MasterKey>(std::move(master).value()),
                       UnixClock(clock));
  if (!custody.ok()) std::exit(1);
  KeyCustody& keys = **custody;
  ServedGuest signer("signer", [&](ActorId) -> Result<GuestServices> {
    auto s = CustodialGuestSigner::open(keys, "bench:signer:1.0.0/signer");
    if (!s.ok()) return s.error();
    GuestServices services;
    services.signing = std::move(s).value();
    return services;
  });
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  const std::string message(64, 'm');
  unsigned char sig[crypto_sign_BYTES];
  const int n = static_cast<int>(bench::sized(20000) / 100 * 100 + 100);
  double t0 = bench::now_s();
  for (int i = 0; i < n; ++i) {
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                         message.size(), sk);
  }
  const double raw_s = bench::now_s() - t0;
  constexpr int kBatch = 100;
  const std::vector<std::string> batch(kBatch, message);
  t0 = bench::now_s();
  for (int done = 0; done < n; done += kBatch) {
    signer.ask_all("sign", batch,
                   [](const Bytes& reply) { return reply.size() == crypto_sign_BYTES; });
  }
  const double guest_s = bench::now_s() - t0;
  sodium_memzero(sk, sizeof sk);
  bench::report("raw", "sign", "signs_per_s", n / raw_s);
  bench::report("guest", "sign", "signs_per_s", n / guest_s);
  signer.sys.shutdown();
  fs::remove_all(dir);
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
  } else if (w == "storage") {
    storage();
  } else if (w == "sign") {
    sign();
  } else {
    std::fprintf(stderr,
                 "usage: wasm_bench compute | dispatch [aot|interp] | actor native|aot | spawn | "
                 "compile | preempt | storage | sign\n");
    return 1;
  }
  return 0;
}
