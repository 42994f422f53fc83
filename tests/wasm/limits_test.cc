// Limits: fuel slices and the wall-clock deadline, memory pages, call depth and reply size,
// each met by a hostile guest written in WAT. Every breach is a typed error of that call.
#include <gtest/gtest.h>

#include <chrono>

#include "troupe/wasm/instance.h"
#include "troupe/wasm/wasm_error.h"
#include "troupe/wasm/wat.h"
#include "troupe/wasm/workload_values.h"
#include "wasm/null_host.h"
#include "wasm/tiers.h"
#include "wat_guests.h"

namespace troupe::wasm {
namespace {

using namespace std::chrono_literals;

using testing::NullHost;

using ::troupe::testing::wat_guest;

class GuestLimits : public testing::TierTest {};

struct Guest {
  explicit Guest(const std::string& wat, Limits limits = {}) {
    auto bin = wat_to_wasm(wat);
    EXPECT_TRUE(bin.ok()) << (bin.ok() ? "" : bin.error().to_string());
    auto m = GuestModule::load(*bin);
    EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().to_string());
    module = std::make_unique<GuestModule>(std::move(m).value());
    created = testing::create_on_tier(*module, host, limits);
  }
  Result<std::optional<AbiValue>> dispatch(const std::string& payload = {}) {
    EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().to_string());
    return (*created)->call("dispatch", {workload::envelope("r", "x", payload)});
  }
  NullHost host;
  std::unique_ptr<GuestModule> module;
  Result<std::unique_ptr<Instance>> created = Error{BaseErrc::kInternal};
};

constexpr const char* kOk = "(i32.const 16)";

TEST_P(GuestLimits, AnInfiniteLoopWithoutFuelStopsAtTheDeadline) {
  Guest g(wat_guest("", "(loop $l (br $l)) " + std::string(kOk)),
          Limits{.fuel = kUnlimitedFuel, .timeout = 50ms});
  auto start = std::chrono::steady_clock::now();
  auto r = g.dispatch();
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kDeadlineExceeded) << r.error().to_string();
  EXPECT_GE(took, 50ms);
  EXPECT_LT(took, 5s);  // only a sanity bound: a slice takes well under a millisecond
}

TEST_P(GuestLimits, FuelAndDeadlineTogetherStopAtWhicheverComesFirst) {
  Guest fuel_first(wat_guest("", "(loop $l (br $l)) " + std::string(kOk)),
                   Limits{.fuel = 25000, .timeout = 60s});
  auto r = fuel_first.dispatch();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kFuelExhausted);
  Guest deadline_first(wat_guest("", "(loop $l (br $l)) " + std::string(kOk)),
                       Limits{.fuel = 1ULL << 60, .timeout = 20ms});
  r = deadline_first.dispatch();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kDeadlineExceeded);
}

TEST_P(GuestLimits, FuelSpanningSlicesIsStillExact) {
  // 3 cabi_realloc calls (the envelope's strings) + the dispatch entry + 30000 loop iterations
  // = 30004 units, across three slices and a bit.
  const std::string body =
      "(local.set 0 (i32.const 30000)) "
      "(loop $l (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br_if $l (local.get 0))) " +
      std::string(kOk);
  EXPECT_TRUE(Guest(wat_guest("", body), Limits{.fuel = 30004}).dispatch().ok());
  auto r = Guest(wat_guest("", body), Limits{.fuel = 30003}).dispatch();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kFuelExhausted);
}

// Bulk instructions pay by length before they run: 3 cabi_realloc entries + the dispatch entry
// + the length's units. memory.fill of 64 KiB is 1024 units; 1 MiB spans two fuel slices.
TEST_P(GuestLimits, BulkMemoryIsChargedByLength) {
  const std::string memory = "(memory (export \"memory\") 17)";
  auto fill = [&](std::uint32_t bytes) {
    return wat_guest("",
                     "(memory.fill (i32.const 65536) (i32.const 7) (i32.const " +
                         std::to_string(bytes) + ")) " + kOk,
                     memory);
  };
  EXPECT_TRUE(Guest(fill(65536), Limits{.fuel = 4 + 1024}).dispatch().ok());
  auto r = Guest(fill(65536), Limits{.fuel = 4 + 1023}).dispatch();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kFuelExhausted) << r.error().to_string();
  EXPECT_TRUE(Guest(fill(1 << 20), Limits{.fuel = 4 + 16384}).dispatch().ok());
  r = Guest(fill(1 << 20), Limits{.fuel = 4 + 16383}).dispatch();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kFuelExhausted) << r.error().to_string();
  // The bytes were written only when paid for.
  Guest paid(fill(65536), Limits{.fuel = 4 + 1024});
  ASSERT_TRUE(paid.dispatch().ok());
  EXPECT_EQ((*paid.created)->bytes()[65536 + 65535], 7);
  Guest unpaid(fill(65536), Limits{.fuel = 4 + 1023});
  ASSERT_FALSE(unpaid.dispatch().ok());
  EXPECT_EQ((*unpaid.created)->bytes()[65536], 0);

  const std::string copy = wat_guest(
      "", "(memory.copy (i32.const 0) (i32.const 65536) (i32.const 65536)) " + std::string(kOk),
      memory);
  EXPECT_TRUE(Guest(copy, Limits{.fuel = 4 + 1024}).dispatch().ok());
  EXPECT_FALSE(Guest(copy, Limits{.fuel = 4 + 1023}).dispatch().ok());
}

TEST_P(GuestLimits, TableBulkInstructionsAreChargedPerElement) {
  const std::string body =
      wat_guest("(table 100 funcref)",
                "(table.fill 0 (i32.const 0) (ref.null func) (i32.const 100)) " + std::string(kOk));
  EXPECT_TRUE(Guest(body, Limits{.fuel = 4 + 100}).dispatch().ok());
  auto r = Guest(body, Limits{.fuel = 4 + 99}).dispatch();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kFuelExhausted) << r.error().to_string();
}

// Grows one page at a time until refused, then traps: a memory-grow bomb.
constexpr const char* kGrowBomb =
    "(loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))) unreachable";

TEST_P(GuestLimits, AMemoryGrowBombStopsAtThePageLimit) {
  Guest g(wat_guest("", kGrowBomb), Limits{.memory_pages = 16});
  auto r = g.dispatch();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kMemoryLimit) << r.error().to_string();
  EXPECT_EQ((*g.created)->bytes().size(), 16u * 65536);
}

TEST_P(GuestLimits, AGuestThatCopesWithARefusedGrowIsFine) {
  // memory.grow(100) is refused (-1) under a 4-page limit; the guest answers anyway.
  Guest g(wat_guest("", "(drop (memory.grow (i32.const 100))) " + std::string(kOk)),
          Limits{.memory_pages = 4});
  auto r = g.dispatch();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ((*g.created)->bytes().size(), 65536u);
  // The flag is per invocation: a later, unrelated trap is a plain trap.
}

TEST_P(GuestLimits, AModuleLargerThanThePageLimitIsNotInstantiated) {
  Guest g(wat_guest("", kOk, "(memory (export \"memory\") 8)"), Limits{.memory_pages = 4});
  ASSERT_FALSE(g.created.ok());
  EXPECT_EQ(g.created.error().code, WasmErrc::kMemoryLimit);
}

constexpr const char* kRecurse = R"(
  (func $down (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $down (i32.sub (local.get 0) (i32.const 1)))))))
  (func $forever (param i32) (result i32) (call $forever (local.get 0))))";

TEST_P(GuestLimits, UnboundedRecursionHitsTheCallDepthLimit) {
  Guest g(wat_guest(kRecurse, "(drop (call $forever (i32.const 1))) " + std::string(kOk)),
          Limits{.max_call_depth = 500});
  auto r = g.dispatch();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kTrap);
  EXPECT_NE(r.error().detail.find("more than 500 nested calls"), std::string::npos)
      << r.error().detail;
}

TEST_P(GuestLimits, RecursionWithinTheLimitRunsAndUnwindsTheDepth) {
  // dispatch (1) + $down 0..498 (499) = 500 frames deep; repeated, so every exit must have
  // decremented the counter.
  Guest g(wat_guest(kRecurse, "(drop (call $down (i32.const 498))) " + std::string(kOk)),
          Limits{.max_call_depth = 500});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(g.dispatch().ok());
  Guest over(wat_guest(kRecurse, "(drop (call $down (i32.const 499))) " + std::string(kOk)),
             Limits{.max_call_depth = 500});
  EXPECT_FALSE(over.dispatch().ok());
}

TEST_P(GuestLimits, EarlyReturnsAndBranchesOutOfTheBodyKeepTheDepthBalanced) {
  // $early leaves through `return` from inside nested blocks, and through a branch to the
  // function's own label; called 2000 times under a depth limit of 3.
  const std::string funcs = R"(
    (func $early (param i32) (result i32)
      (block (block (if (local.get 0) (then (return (i32.const 7))))))
      (br 0 (i32.const 9))))";
  const std::string body = R"(
    (local.set 0 (i32.const 2000))
    (loop $l
      (drop (call $early (i32.and (local.get 0) (i32.const 1))))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if $l (local.get 0)))
    (i32.const 16))";
  Guest g(wat_guest(funcs, body), Limits{.max_call_depth = 3});
  auto r = g.dispatch();
  EXPECT_TRUE(r.ok()) << r.error().to_string();
}

TEST_P(GuestLimits, ARepliesPastTheSizeLimitFail) {
  // ok(list of 2000 bytes at 1024).
  const std::string body =
      "(i32.store8 (i32.const 16) (i32.const 0)) (i32.store (i32.const 20) (i32.const 1024)) "
      "(i32.store (i32.const 24) (i32.const 2000)) (i32.const 16)";
  EXPECT_TRUE(Guest(wat_guest("", body), Limits{.max_reply_bytes = 2000}).dispatch().ok());
  auto r = Guest(wat_guest("", body), Limits{.max_reply_bytes = 1999}).dispatch();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kMemoryLimit);
}

// Regressions found by the spec suite: a function with parameters and several results (its
// wrapper block needs a [] -> [results] type), and a start function, which runs during
// instantiation, before the host has set the counters: it is metered all the same.
TEST_P(GuestLimits, MultiValueFunctionsAndStartFunctionsAreInstrumented) {
  const std::string pair =
      "(func $pair (param i32) (result i32 i32) (local.get 0) (i32.add (local.get 0) "
      "(i32.const 1)))";
  EXPECT_TRUE(Guest(wat_guest(pair, "(drop (drop (call $pair (i32.const 4)))) " + std::string(kOk)))
                  .dispatch()
                  .ok());
  const std::string start =
      "(global $started (mut i32) (i32.const 0)) "
      "(func $init (local $i i32) (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) "
      "(br_if $l (i32.lt_u (local.get $i) (i32.const 100)))) (global.set $started (i32.const 1))) "
      "(start $init)";
  const std::string check =
      "(if (i32.eqz (global.get $started)) (then unreachable)) " + std::string(kOk);
  EXPECT_TRUE(Guest(wat_guest(start, check), Limits{.fuel = 1000}).dispatch().ok());
  Guest starved(wat_guest(start, check), Limits{.fuel = 50});
  ASSERT_FALSE(starved.created.ok());
  EXPECT_EQ(starved.created.error().code, WasmErrc::kFuelExhausted)
      << starved.created.error().to_string();
}

TEST_P(GuestLimits, ModulesMayNotTouchTheReservedNames) {
  auto bin = wat_to_wasm(wat_guest("(global (export \"troupe:depth\") i32 (i32.const 0))", kOk));
  ASSERT_TRUE(bin.ok());
  auto m = GuestModule::load(*bin);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, BaseErrc::kRefused);
}

// A guest's table.grow stops at the element limit before the engine allocates anything: a
// grow by 2^28 (gigabytes of elements) returns -1, and so does one just past the limit.
TEST_P(GuestLimits, TableGrowthStopsAtTheElementLimit) {
  const std::string tables = "(table $f 1 funcref) (table $e 0 externref)";
  const std::string body = R"(
    (if (i32.ne (table.grow $f (ref.null func) (i32.const 0x10000000)) (i32.const -1))
      (then unreachable))
    (if (i32.ne (table.grow $f (ref.null func) (i32.const 9)) (i32.const 1)) (then unreachable))
    (if (i32.ne (table.grow $f (ref.null func) (i32.const 1)) (i32.const -1)) (then unreachable))
    (if (i32.ne (table.size $f) (i32.const 10)) (then unreachable))
    (if (i32.ne (table.grow $e (ref.null extern) (i32.const -1)) (i32.const -1))
      (then unreachable))
    (if (i32.ne (table.grow $e (ref.null extern) (i32.const 10)) (i32.const 0)) (then unreachable))
    )" + std::string(kOk);
  Guest g(wat_guest(tables, body), Limits{.table_elements = 10});
  auto r = g.dispatch();
  EXPECT_TRUE(r.ok()) << r.error().to_string();
}

// A start function runs during instantiation, before the host has set the element limit:
// its table.grow is refused all the same (the limit is not "none" until then).
TEST_P(GuestLimits, AStartFunctionCannotGrowATablePastTheLimit) {
  const std::string start = R"(
    (table $f 1 funcref)
    (global $grown (mut i32) (i32.const 0))
    (func $init (global.set $grown (table.grow $f (ref.null func) (i32.const 1000))))
    (start $init))";
  const std::string check =
      "(if (i32.ne (global.get $grown) (i32.const -1)) (then unreachable)) "
      "(if (i32.ne (table.size $f) (i32.const 1)) (then unreachable)) " +
      std::string(kOk);
  Guest g(wat_guest(start, check), Limits{.table_elements = 10});
  ASSERT_TRUE(g.created.ok()) << g.created.error().to_string();
  auto r = g.dispatch();
  EXPECT_TRUE(r.ok()) << r.error().to_string();
}

TEST_P(GuestLimits, AModuleWithATableLargerThanTheLimitIsNotInstantiated) {
  Guest g(wat_guest("(table 20 funcref)", kOk), Limits{.table_elements = 10});
  ASSERT_FALSE(g.created.ok());
  EXPECT_EQ(g.created.error().code, WasmErrc::kMemoryLimit);
  EXPECT_NE(g.created.error().detail.find("table of 20 elements; the limit is 10"),
            std::string::npos)
      << g.created.error().detail;
}

// Limits are never 0: "unlimited" has its own value, so a 0 is a mistake, refused.
TEST_P(GuestLimits, AZeroLimitIsRefused) {
  for (Limits l : {Limits{.fuel = 0}, Limits{.memory_pages = 0}, Limits{.timeout = 0ms},
                   Limits{.max_call_depth = 0}, Limits{.table_elements = 0}}) {
    Guest g(wat_guest("", kOk), l);
    ASSERT_FALSE(g.created.ok());
    EXPECT_EQ(g.created.error().code, BaseErrc::kInvalidArgument) << g.created.error().to_string();
  }
}

// Without any limit given, every one is on.
TEST(GuestLimitDefaults, EveryLimitIsOnByDefault) {
  const Limits l;
  EXPECT_EQ(l.fuel, 1'000'000'000u);
  EXPECT_EQ(l.timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(l.memory_pages, 256u);
  EXPECT_EQ(l.table_elements, 10000u);
  EXPECT_EQ(l.max_call_depth, 1000u);
  EXPECT_EQ(l.max_reply_bytes, 16u << 20);
}

TROUPE_BOTH_TIERS(GuestLimits);

}  // namespace
}  // namespace troupe::wasm
