#include "troupe/wasm/instance.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>

#include "troupe/wasm/abi_function.h"
#include "troupe/wasm/fiber.h"
#include "troupe/wasm/wasm_error.h"
#include "troupe/wasm/wat.h"
#include "troupe/wasm/workload_values.h"
#include "wasm/tiers.h"

namespace troupe::wasm {
namespace {

using V = AbiValue;

// The host side for tests: records what the guest asked for.
class RecordingHost final : public HostImports {
 public:
  Result<std::optional<AbiValue>> call_host(const workload::Function& f,
                                            std::vector<AbiValue> args) override {
    calls.push_back(f.name);
    if (f.name == "log-message") {
      log.push_back(args[0].bytes + ": " + args[1].bytes);
      return std::optional<AbiValue>{};
    }
    if (f.name == "get-request-id") return std::optional<AbiValue>(V::text("req-42"));
    return Error{BaseErrc::kNotFound, "not provided by this test host"};
  }
  void write_output(int fd, std::string_view bytes) override {
    output += std::to_string(fd) + ":" + std::string(bytes);
  }
  std::vector<std::string> calls, log;
  std::string output;
};

// A guest written by hand in WAT, the way a binding generator lays it out.
constexpr const char* kGuest = R"((module
  (import "actr:workload/host@0.1.0" "log-message" (func $log (param i32 i32 i32 i32)))
  (import "actr:workload/host@0.1.0" "get-request-id" (func $rid (param i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (global $top (mut i32) (i32.const 4096))
  (data (i32.const 100) "info")
  (data (i32.const 110) "started")
  (data (i32.const 200) "hi\n")
  ;; A bump allocator: align up, hand out, never free.
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $top) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $top (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  ;; dispatch: ok(payload) at 16 (tag u8, list ptr/len at 20/24).
  (func (export "actr:workload/workload@0.1.0#dispatch")
        (param i32 i32 i32 i32 i32 i32) (result i32)
    (i32.store8 (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (local.get 4))
    (i32.store (i32.const 24) (local.get 5))
    (i32.const 16))
  ;; on-start: log, write "hi" to stdout, return ok.
  (func (export "actr:workload/workload@0.1.0#on-start") (result i32)
    (call $log (i32.const 100) (i32.const 4) (i32.const 110) (i32.const 7))
    (i32.store (i32.const 300) (i32.const 200))
    (i32.store (i32.const 304) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 308)))
    (i32.store8 (i32.const 32) (i32.const 0))
    (i32.const 32))
  ;; on-ready: err(internal(<request id>)): tag 1 at 48, actr-error tag 9 at 52, string at 56.
  (func (export "actr:workload/workload@0.1.0#on-ready") (result i32)
    (call $rid (i32.const 400))
    (i32.store8 (i32.const 48) (i32.const 1))
    (i32.store8 (i32.const 52) (i32.const 9))
    (i32.store (i32.const 56) (i32.load (i32.const 400)))
    (i32.store (i32.const 60) (i32.load (i32.const 404)))
    (i32.const 48))
  ;; Hostile hooks.
  (func (export "actr:workload/workload@0.1.0#on-stop") (result i32) unreachable)
  (func $forever (export "actr:workload/workload@0.1.0#on-signaling-connected") (call $forever))
  (func (export "actr:workload/workload@0.1.0#on-signaling-connecting") (call $exit (i32.const 3)))
  ;; Exactly 11 units of fuel: the entry, then 10 loop headers.
  (func (export "actr:workload/workload@0.1.0#on-signaling-disconnected") (local $i i32)
    (local.set $i (i32.const 10))
    (loop $l
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $l (local.get $i))))
  ;; Never ends.
  (func (export "actr:workload/workload@0.1.0#on-credential-renewed") (param i64 i32)
    (loop $l (br $l)))
  ;; Returns a result pointer far outside memory.
  (func (export "actr:workload/workload@0.1.0#on-error")
        (param i32 i32 i32 i32 i32 i32 i32 i32 i64 i32) (result i32) (i32.const -8))
))";

class GuestInstance : public testing::TierTest {};

// Assembles `wat`, loads it and instantiates it on the test's tier; `keep` holds the module.
Result<std::unique_ptr<Instance>> instantiate_wat(const std::string& wat, RecordingHost& host,
                                                  std::unique_ptr<GuestModule>& keep) {
  auto bin = wat_to_wasm(wat);
  if (!bin.ok()) return bin.error();
  auto module = GuestModule::load(*bin);
  if (!module.ok()) return module.error();
  keep = std::make_unique<GuestModule>(std::move(module).value());
  return testing::create_on_tier(*keep, host);
}

// `r` failed with `code`, and its detail mentions `what`.
template <class T>
void expect_failure(const Result<T>& r, ErrorCode code, const std::string& what) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, code) << r.error().to_string();
  EXPECT_NE(r.error().detail.find(what), std::string::npos) << r.error().to_string();
}

struct Fixture {
  explicit Fixture(Limits limits = {}) {
    auto bin = wat_to_wasm(kGuest);
    EXPECT_TRUE(bin.ok()) << (bin.ok() ? "" : bin.error().to_string());
    auto m = GuestModule::load(*bin);
    EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().to_string());
    module = std::make_unique<GuestModule>(std::move(m).value());
    auto inst = testing::create_on_tier(*module, host, limits);
    EXPECT_TRUE(inst.ok()) << (inst.ok() ? "" : inst.error().to_string());
    instance = std::move(inst).value();
  }
  RecordingHost host;
  std::unique_ptr<GuestModule> module;
  std::unique_ptr<Instance> instance;
};

TEST_P(GuestInstance, DispatchRoundTripsThroughTheGuest) {
  Fixture f;
  V env = V::of_items({V::text("r-1"), V::text("echo"), V::text(std::string("bytes\0!", 7))});
  auto r = f.instance->call("dispatch", {env});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(**r, V::of_case(0, V::text(std::string("bytes\0!", 7))));
}

// The path actors use: the envelope goes straight into guest memory, the reply comes back as
// bytes, and the guest's allocations are the ones the canonical ABI prescribes.
TEST_P(GuestInstance, DispatchWithoutValueTrees) {
  Fixture f;
  const std::string payload("bytes\0!", 7);
  for (int i = 0; i < 3; ++i) {
    auto r = f.instance->dispatch("r-1", "echo", payload);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_FALSE(r->error);
    EXPECT_EQ(r->reply, payload);
  }
  auto empty = f.instance->dispatch("", "", "");
  ASSERT_TRUE(empty.ok()) << empty.error().to_string();
  EXPECT_EQ(empty->reply, "");
}

// WIT strings are UTF-8: an envelope whose route or request id is not cannot be handed to the
// guest, and the guest is not called (its allocator included).
TEST_P(GuestInstance, AnEnvelopeThatIsNotUtf8IsRefusedBeforeTheGuestRuns) {
  Fixture f;
  auto before = f.instance->dispatch("r", "echo", "x");
  ASSERT_TRUE(before.ok());
  const std::uint8_t* top_before = f.instance->bytes().data();
  std::vector<std::uint8_t> snapshot(top_before, top_before + f.instance->bytes().size());
  for (auto [rid, route] :
       {std::pair<std::string, std::string>{"r", "ec\xffho"}, {"\xc3", "echo"}}) {
    auto r = f.instance->dispatch(rid, route, "\xff payload bytes are not text");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, BaseErrc::kInvalidArgument) << r.error().to_string();
  }
  auto mem = f.instance->bytes();
  EXPECT_TRUE(std::equal(mem.begin(), mem.end(), snapshot.begin()));
  // Payload bytes are a list<u8>: any bytes go.
  auto after = f.instance->dispatch("r", "echo", "\xff\xfe");
  ASSERT_TRUE(after.ok()) << after.error().to_string();
  EXPECT_EQ(after->reply, "\xff\xfe");
}

// The core module wasm-tools generates for the world in wit/actr-workload.wit — its names and
// signatures (the cm32p2 scheme); every function with a result is `unreachable` — kept as a
// fixture by scripts/check-wit.sh: troupe takes it, instantiates it (cm32p2_initialize is
// empty) and calls into it (lowering the envelope reaches its cm32p2_realloc).
TEST_P(GuestInstance, TheModuleWasmToolsGeneratesForTheWorldLoads) {
  std::ifstream in(std::string(TROUPE_FIXTURE_DIR) + "/wasm-tools-dummy.wasm", std::ios::binary);
  std::vector<std::uint8_t> bin{std::istreambuf_iterator<char>(in), {}};
  ASSERT_FALSE(bin.empty());
  auto m = GuestModule::load(bin);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->names().scheme, workload::NameScheme::kCm32p2);
  for (const workload::Function& f : workload::guest_exports()) {
    EXPECT_TRUE(m->exports_function(f.name)) << f.name;
  }
  EXPECT_EQ(m->host_imports().size(), workload::host_imports().size());
  RecordingHost host;
  auto g = testing::create_on_tier(*m, host);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  expect_failure((*g)->dispatch("1", "route", "payload"), WasmErrc::kTrap, "unreachable");
}

// A start function runs inside instantiation, before the instance has its memory: its host
// calls (which lift and lower through that memory) are refused and the instantiation fails
// cleanly. Before, a pointer-taking import crashed the node on a null module.
TEST_P(GuestInstance, AStartFunctionThatCallsTheHostFailsInstantiationCleanly) {
  const std::string calls[] = {
      R"w((import "troupe:host/random@0.1.0" "fill" (func $h (param i32 i32)))
         (func $start (call $h (i32.const 8) (i32.const 200))))w",
      R"w((import "actr:workload/host@0.1.0" "log-message" (func $h (param i32 i32 i32 i32)))
         (func $start (call $h (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 4))))w",
      R"w((import "wasi_snapshot_preview1" "fd_write" (func $h (param i32 i32 i32 i32) (result i32)))
         (func $start (drop (call $h (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 64)))))w",
  };
  for (const std::string& c : calls) {
    const std::string wat = "(module " + c + R"(
      (memory (export "memory") 1)
      (start $start)
      (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
      (func (export "actr:workload/workload@0.1.0#dispatch")
            (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 16))))";
    RecordingHost host;
    std::unique_ptr<GuestModule> keep;
    auto g = instantiate_wat(wat, host, keep);
    expect_failure(g, WasmErrc::kTrap, "a start function called the host");
  }
}

// troupe:host's clock and random (wit/troupe-host.wit), served by the instance.
TEST_P(GuestInstance, TroupeHostClockAndRandomAreServed) {
  constexpr const char* kWat = R"((module
    (import "troupe:host/clock@0.1.0" "now-wall" (func $wall (result i64)))
    (import "troupe:host/clock@0.1.0" "now-monotonic" (func $mono (result i64)))
    (import "troupe:host/random@0.1.0" "fill" (func $fill (param i32 i32)))
    (memory (export "memory") 1)
    (global $top (mut i32) (i32.const 1024))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      (local.set $p (global.get $top))
      (global.set $top (i32.add (global.get $top) (i32.add (local.get 3) (i32.const 8))))
      (local.get $p))
    ;; By the route's first byte: w = now-wall, m = now-monotonic twice, f = fill(payload
    ;; length), b = fill(1 MiB + 1). The reply is ok(the bytes) from a result area at 16.
    (func (export "actr:workload/workload@0.1.0#dispatch")
          (param i32 i32 i32 i32 i32 i32) (result i32) (local $c i32)
      (local.set $c (i32.load8_u (local.get 2)))
      (i32.store8 (i32.const 16) (i32.const 0))
      (i32.store (i32.const 20) (i32.const 100))
      (if (i32.eq (local.get $c) (i32.const 119))
        (then (i64.store (i32.const 100) (call $wall)) (i32.store (i32.const 24) (i32.const 8))))
      (if (i32.eq (local.get $c) (i32.const 109))
        (then (i64.store (i32.const 100) (call $mono)) (i64.store (i32.const 108) (call $mono))
              (i32.store (i32.const 24) (i32.const 16))))
      (if (i32.eq (local.get $c) (i32.const 102))
        (then (call $fill (local.get 5) (i32.const 200))
              (i32.store (i32.const 20) (i32.load (i32.const 200)))
              (i32.store (i32.const 24) (i32.load (i32.const 204)))))
      (if (i32.eq (local.get $c) (i32.const 98))
        (then (call $fill (i32.const 1048577) (i32.const 200))))
      (i32.const 16))))";
  RecordingHost host;
  std::unique_ptr<GuestModule> keep;
  auto g = instantiate_wat(kWat, host, keep);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  auto u64_at = [](const std::string& b, std::size_t at) {
    std::uint64_t v = 0;
    std::memcpy(&v, b.data() + at, 8);
    return v;
  };
  auto ns = [](auto t) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
  };
  const std::uint64_t before = ns(std::chrono::system_clock::now());
  auto wall = (*g)->dispatch("1", "wall", "");
  const std::uint64_t after = ns(std::chrono::system_clock::now());
  ASSERT_TRUE(wall.ok()) << wall.error().to_string();
  ASSERT_EQ(wall->reply.size(), 8u);
  EXPECT_GE(u64_at(wall->reply, 0), before);
  EXPECT_LE(u64_at(wall->reply, 0), after);
  auto mono = (*g)->dispatch("1", "mono", "");
  ASSERT_TRUE(mono.ok()) << mono.error().to_string();
  ASSERT_EQ(mono->reply.size(), 16u);
  EXPECT_LE(u64_at(mono->reply, 0), u64_at(mono->reply, 8));
  auto a = (*g)->dispatch("1", "fill", std::string(32, 'x'));
  auto b = (*g)->dispatch("1", "fill", std::string(32, 'x'));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->reply.size(), 32u);
  EXPECT_NE(a->reply, b->reply);  // 2^-256
  EXPECT_NE(a->reply, std::string(32, 'x'));
  expect_failure((*g)->dispatch("1", "big", ""), WasmErrc::kTrap, "random.fill");
  EXPECT_TRUE(host.calls.empty());  // none of it went to the actor's host
}

TEST_P(GuestInstance, HooksReachTheHostAndWasi) {
  Fixture f;
  auto r = f.instance->call("on-start", {});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(**r, V::of_case(0));
  EXPECT_EQ(f.host.log, (std::vector<std::string>{"info: started"}));
  EXPECT_EQ(f.host.output, "1:hi\n");
}

// get-request-id returns a string through the guest's out pointer; lowering it calls back into
// the guest's cabi_realloc from inside the import.
TEST_P(GuestInstance, ImportResultsGoThroughTheOutPointer) {
  Fixture f;
  auto r = f.instance->call("on-ready", {});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(**r, V::of_case(1, V::of_case(9, V::text("req-42"))));
}

TEST_P(GuestInstance, TrapsAreTypedAndContained) {
  Fixture f;
  auto unreachable = f.instance->call("on-stop", {});
  ASSERT_FALSE(unreachable.ok());
  EXPECT_EQ(unreachable.error().code, WasmErrc::kTrap);
  auto recursion = f.instance->call("on-signaling-connected", {});
  ASSERT_FALSE(recursion.ok());
  EXPECT_EQ(recursion.error().code, WasmErrc::kTrap);
  auto exit = f.instance->call("on-signaling-connecting", {});
  ASSERT_FALSE(exit.ok());
  EXPECT_EQ(exit.error().code, WasmErrc::kTrap);
  EXPECT_NE(exit.error().detail.find("proc_exit(3)"), std::string::npos);
}

TEST_P(GuestInstance, BadResultPointersAreAbiViolations) {
  Fixture f;
  V event = V::of_items(
      {V::of_case(1), V::of_case(0), V::text("ctx"), V::of_items({V::of(1), V::of(2)})});
  auto r = f.instance->call("on-error", {event});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kAbiViolation);
}

TEST_P(GuestInstance, FuelMetersFunctionEntriesAndLoopHeadersExactly) {
  Fixture enough(Limits{.fuel = 11});
  EXPECT_TRUE(enough.instance->call("on-signaling-disconnected", {}).ok());
  // Fuel is per invocation: the next call starts full again.
  EXPECT_TRUE(enough.instance->call("on-signaling-disconnected", {}).ok());
  Fixture short_by_one(Limits{.fuel = 10});
  auto r = short_by_one.instance->call("on-signaling-disconnected", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kFuelExhausted);
}

TEST_P(GuestInstance, AnInfiniteLoopRunsOutOfFuel) {
  Fixture f(Limits{.fuel = 100000});
  V renewed = V::of_items({V::of_items({V::of(1), V::of(0)})});
  auto r = f.instance->call("on-credential-renewed", {renewed});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kFuelExhausted);
  // The guest's own traps stay traps with fuel left.
  auto own = f.instance->call("on-stop", {});
  ASSERT_FALSE(own.ok());
  EXPECT_EQ(own.error().code, WasmErrc::kTrap);
}

TEST_P(GuestInstance, AbsentExportsAreNotFound) {
  Fixture f;
  auto r = f.instance->call("on-credential-expiring",
                            {V::of_items({V::of_items({V::of(1), V::of(0)})})});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, BaseErrc::kNotFound);
}

// The simplest value of a type: zeros, empty strings and lists, the first case.
AbiValue default_value(const AbiType& t) {
  switch (t.kind()) {
    case AbiType::Kind::kString:
      return V::text("");
    case AbiType::Kind::kList:
      return V::of_items({});
    case AbiType::Kind::kRecord: {
      std::vector<V> items;
      for (const AbiType& f : t.fields()) items.push_back(default_value(f));
      return V::of_items(std::move(items));
    }
    case AbiType::Kind::kVariant:
      return t.case_payload(0) ? V::of_case(0, default_value(*t.case_payload(0))) : V::of_case(0);
    default:
      return V::of(0);
  }
}

// A guest in WAT for each of the 18 exports, whose body is `unreachable`: each call is a typed
// trap, and the next instance of the same module works.
TEST_P(GuestInstance, ATrapInAnyHookIsTypedAndContained) {
  for (const workload::Function& f : workload::guest_exports()) {
    CoreSignature sig = export_signature(f.type);
    auto types = [](const std::vector<std::uint8_t>& v) {
      std::string out;
      for (auto t : v) out += t == AbiType::kI64 ? " i64" : " i32";
      return out;
    };
    std::string wat = R"((module (memory (export "memory") 1)
      (global $top (mut i32) (i32.const 4096))
      (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
        (local.set $p (global.get $top))
        (global.set $top (i32.add (global.get $top) (i32.const 256)))
        (local.get $p)))";
    if (f.name != "dispatch") {
      wat += R"((func (export "actr:workload/workload@0.1.0#dispatch")
        (param i32 i32 i32 i32 i32 i32) (result i32)
        (i32.store8 (i32.const 16) (i32.const 0)) (i32.const 16)))";
    }
    wat += "(func (export \"actr:workload/workload@0.1.0#" + f.name + "\")";
    if (!sig.params.empty()) wat += " (param" + types(sig.params) + ")";
    if (!sig.results.empty()) wat += " (result" + types(sig.results) + ")";
    wat += " unreachable))";
    auto bin = wat_to_wasm(wat);
    ASSERT_TRUE(bin.ok()) << f.name << ": " << bin.error().to_string();
    auto module = GuestModule::load(*bin);
    ASSERT_TRUE(module.ok()) << f.name << ": " << module.error().to_string();
    RecordingHost host;
    auto g = testing::create_on_tier(*module, host);
    ASSERT_TRUE(g.ok()) << f.name << ": " << g.error().to_string();
    std::vector<V> args;
    for (const AbiType& p : f.type.params) args.push_back(default_value(p));
    auto r = (*g)->call(f.name, args);
    ASSERT_FALSE(r.ok()) << f.name;
    EXPECT_EQ(r.error().code, WasmErrc::kTrap) << f.name << ": " << r.error().to_string();
    EXPECT_NE(r.error().detail.find("unreachable"), std::string::npos) << r.error().to_string();
    if (f.name != "dispatch") {
      auto fresh = testing::create_on_tier(*module, host);
      ASSERT_TRUE(fresh.ok());
      EXPECT_TRUE((*fresh)->call("dispatch", {workload::envelope("r", "x", "y")}).ok()) << f.name;
    }
  }
}

// Hostile results from a WAT guest, one per route: each is an ABI violation of that call,
// never a read outside the guest's memory; the instance stays usable for honest calls.
TEST_P(GuestInstance, HostileResultsAreAbiViolations) {
  constexpr const char* kHostile = R"((module (memory (export "memory") 1)
    (global $top (mut i32) (i32.const 4096))
    (data (i32.const 200) "\ff\fe bad utf-8")
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      (local.set $p (global.get $top))
      (global.set $top (i32.add (global.get $top) (i32.add (local.get 3) (i32.const 8))))
      (local.get $p))
    ;; By the route's first byte: ok(payload) at 16 unless told otherwise.
    (func (export "actr:workload/workload@0.1.0#dispatch")
          (param i32 i32 i32 i32 i32 i32) (result i32) (local $c i32)
      (local.set $c (i32.load8_u (local.get 2)))
      (i32.store8 (i32.const 16) (i32.const 0))
      (i32.store (i32.const 20) (local.get 4))
      (i32.store (i32.const 24) (local.get 5))
      (if (i32.eq (local.get $c) (i32.const 111)) (then (return (i32.const -16))))  ;; 'o'
      (if (i32.eq (local.get $c) (i32.const 109)) (then (return (i32.const 17))))   ;; 'm'
      (if (i32.eq (local.get $c) (i32.const 108))                                   ;; 'l'
        (then (i32.store (i32.const 24) (i32.const 65000))))
      (if (i32.eq (local.get $c) (i32.const 100))                                   ;; 'd'
        (then (i32.store8 (i32.const 16) (i32.const 7))))
      (if (i32.eq (local.get $c) (i32.const 117))                                   ;; 'u'
        (then
          (i32.store8 (i32.const 16) (i32.const 1))   ;; err
          (i32.store8 (i32.const 20) (i32.const 9))   ;; actr-error::internal(string)
          (i32.store (i32.const 24) (i32.const 200))
          (i32.store (i32.const 28) (i32.const 11))))
      (i32.const 16))
  ))";
  auto bin = wat_to_wasm(kHostile);
  ASSERT_TRUE(bin.ok()) << bin.error().to_string();
  auto module = GuestModule::load(*bin);
  ASSERT_TRUE(module.ok()) << module.error().to_string();
  RecordingHost host;
  auto g = testing::create_on_tier(*module, host);
  ASSERT_TRUE(g.ok());
  auto send = [&](const std::string& route) {
    return (*g)->call("dispatch", {workload::envelope("r", route, "payload")});
  };
  for (const char* route :
       {"out-of-bounds", "misaligned", "length-past-the-end", "discriminant", "utf-8"}) {
    auto r = send(route);
    ASSERT_FALSE(r.ok()) << route;
    EXPECT_EQ(r.error().code, WasmErrc::kAbiViolation) << route << ": " << r.error().to_string();
    // The same checks when nobody keeps the reply (a tell).
    auto told = (*g)->dispatch("r", route, "payload", /*keep_reply=*/false);
    ASSERT_FALSE(told.ok()) << route;
    EXPECT_EQ(told.error().code, WasmErrc::kAbiViolation)
        << route << ": " << told.error().to_string();
  }
  auto ok = send("honest");
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ((*ok)->items.at(0).bytes, "payload");
  auto told = (*g)->dispatch("r", "honest", "payload", /*keep_reply=*/false);
  ASSERT_TRUE(told.ok()) << told.error().to_string();
  EXPECT_EQ(told->reply, "");
}

// A cabi_realloc that hands back an address outside memory, or none at all.
// A guest module with the given cabi_realloc body (params 0-3, result i32) and a dispatch that
// answers ok(empty list) from a result area at 16.
Result<std::unique_ptr<Instance>> with_realloc(const std::string& realloc_body, RecordingHost& host,
                                               std::unique_ptr<GuestModule>& keep) {
  const std::string wat = R"((module
    (import "actr:workload/host@0.1.0" "get-request-id" (func $rid (param i32)))
    (memory (export "memory") 1)
    (global $top (mut i32) (i32.const 1024))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) )" +
                          realloc_body + R"()
    (func (export "actr:workload/workload@0.1.0#dispatch")
          (param i32 i32 i32 i32 i32 i32) (result i32)
      (i32.store8 (i32.const 16) (i32.const 0))
      (i32.store (i32.const 20) (local.get 2))
      (i32.store (i32.const 24) (local.get 3))
      (i32.const 16))))";
  return instantiate_wat(wat, host, keep);
}

// Lowering the envelope may make the guest grow its memory: the pointer cabi_realloc answers
// is checked against the memory as it is after the call.
TEST_P(GuestInstance, ACabiReallocThatGrowsMemoryIsFollowed) {
  RecordingHost host;
  std::unique_ptr<GuestModule> keep;
  // Each allocation grows the memory by a page and answers the start of the new page.
  auto g = with_realloc("(i32.mul (memory.grow (i32.const 1)) (i32.const 65536))", host, keep);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  auto r = (*g)->dispatch("id", "route", "payload");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->reply, "route");  // the guest answers its second argument
  EXPECT_EQ((*g)->bytes().size(), 4u * 65536);
}

TEST_P(GuestInstance, ACabiReallocThatTrapsWhileLoweringIsATrap) {
  RecordingHost host;
  std::unique_ptr<GuestModule> keep;
  // The second allocation traps: the envelope is half lowered, dispatch never runs.
  auto g = with_realloc(
      "(global.set $top (i32.add (global.get $top) (i32.const 64))) "
      "(if (i32.gt_u (global.get $top) (i32.const 1100)) (then unreachable)) (global.get $top)",
      host, keep);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  expect_failure((*g)->dispatch("id", "route", "payload"), WasmErrc::kTrap, "unreachable");
}

// A cabi_realloc that calls an import whose result is lowered through cabi_realloc recurses
// through host and guest frames. It is stopped after kMaxHostNesting levels, long before a
// fiber's stack (what actors run guests on) would run out.
TEST_P(GuestInstance, ACabiReallocThatCallsTheHostRecursesOnlySoDeep) {
  RecordingHost host;
  std::unique_ptr<GuestModule> keep;
  auto g = with_realloc(
      "(call $rid (i32.const 512)) (global.set $top (i32.add (global.get $top) (i32.const 64))) "
      "(global.get $top)",
      host, keep);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  Result<DispatchReply> r = Error{BaseErrc::kInternal, "not run"};
  auto body = [&] { r = (*g)->dispatch("id", "route", "payload"); };
  ASSERT_TRUE(GuestFiber::take()->start(body));
  expect_failure(r, WasmErrc::kTrap, "nested");
  EXPECT_EQ(static_cast<int>(host.calls.size()), kMaxHostNesting);
}

TEST_P(GuestInstance, AGarbageCabiReallocIsAnAbiViolation) {
  for (const char* result : {"(i32.const -64)", "(i32.const 65530)"}) {
    std::string wat = R"((module (memory (export "memory") 1)
      (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) )" +
                      std::string(result) + R"()
      (func (export "actr:workload/workload@0.1.0#dispatch")
            (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 16))))";
    auto bin = wat_to_wasm(wat);
    ASSERT_TRUE(bin.ok()) << bin.error().to_string();
    auto module = GuestModule::load(*bin);
    ASSERT_TRUE(module.ok());
    RecordingHost host;
    auto g = testing::create_on_tier(*module, host);
    ASSERT_TRUE(g.ok());
    auto r = (*g)->call("dispatch", {workload::envelope("r", "x", "a payload of some length")});
    ASSERT_FALSE(r.ok()) << result;
    EXPECT_EQ(r.error().code, WasmErrc::kAbiViolation) << result << ": " << r.error().to_string();
  }
}

TROUPE_BOTH_TIERS(GuestInstance);

}  // namespace
}  // namespace troupe::wasm
