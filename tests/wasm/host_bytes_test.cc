// Host-side amplification: what one host call may make the host hold for a guest is capped
// across all its arguments (Limits::host_call_bytes), and a guest's log output is bounded in
// size and rate (OutputLimiter). Hostile guests in WAT, on both tiers.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <cstring>

#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/envelope.h"
#include "troupe/runtime/supervisor.h"
#include "troupe/wasm/abi_function.h"
#include "troupe/wasm/instance.h"
#include "troupe/wasm/output_limiter.h"
#include "troupe/wasm/wasm_actor.h"
#include "troupe/wasm/wasm_error.h"
#include "troupe/wasm/wat.h"
#include "troupe/wasm/workload_types.h"
#include "troupe/wasm/workload_values.h"
#include "wasm/tiers.h"
#include "wat_guests.h"

namespace troupe::wasm {
namespace {

using namespace std::chrono_literals;

// The process's peak resident set, in bytes.
std::uint64_t max_rss() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<std::uint64_t>(u.ru_maxrss) * 1024;
}

class CountingHost final : public HostImports {
 public:
  Result<std::optional<AbiValue>> call_host(const workload::Function& f,
                                            std::vector<AbiValue>) override {
    ++host_calls;
    if (f.name == "log-message") return std::optional<AbiValue>{};
    return std::optional<AbiValue>(workload::ok_unit());
  }
  void write_output(int, std::string_view bytes) override { written += bytes.size(); }
  int host_calls = 0;
  std::uint64_t written = 0;
};

using ::troupe::testing::kWatRealloc;
constexpr const char* kRealloc = kWatRealloc;

// fd_write with N iovecs (N: the payload's first 4 bytes), each covering the whole one-page
// memory. The reply is fd_write's errno and the count written.
const std::string kIovecBomb = std::string(R"((module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $top (mut i32) (i32.const 40000)))") +
                               kRealloc + R"(
  (func (export "actr:workload/workload@0.1.0#dispatch")
        (param i32 i32 i32 i32 i32 i32) (result i32) (local $n i32) (local $i i32)
    (local.set $n (i32.load (local.get 4)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store (i32.mul (local.get $i) (i32.const 8)) (i32.const 0))
      (i32.store (i32.add (i32.mul (local.get $i) (i32.const 8)) (i32.const 4)) (i32.const 65536))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (i32.store (i32.const 60000)
               (call $fd_write (i32.const 1) (i32.const 0) (local.get $n) (i32.const 60004)))
    (i32.store8 (i32.const 60016) (i32.const 0))
    (i32.store (i32.const 60020) (i32.const 60000))
    (i32.store (i32.const 60024) (i32.const 8))
    (i32.const 60016))))";

// send-data-stream with its parameter tuple at 1024, which the test writes into memory.
const std::string kStreamSender = std::string(R"((module
  (import "actr:workload/host@0.1.0" "send-data-stream" (func $send (param i32 i32)))
  (memory (export "memory") 2)
  (global $top (mut i32) (i32.const 8192)))") +
                                  kRealloc + R"(
  (func (export "actr:workload/workload@0.1.0#dispatch")
        (param i32 i32 i32 i32 i32 i32) (result i32)
    (call $send (i32.const 1024) (i32.const 2048))
    (i32.store8 (i32.const 16) (i32.const 0))
    (i32.const 16))))";

std::unique_ptr<GuestModule> load_wat(const std::string& wat) {
  auto bin = wat_to_wasm(wat);
  EXPECT_TRUE(bin.ok()) << (bin.ok() ? "" : bin.error().to_string());
  if (!bin.ok()) return nullptr;
  auto m = GuestModule::load(*bin);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().to_string());
  return m.ok() ? std::make_unique<GuestModule>(std::move(m).value()) : nullptr;
}

std::string u32le(std::uint32_t v) {
  std::string s(4, '\0');
  std::memcpy(s.data(), &v, 4);
  return s;
}

class HostBytes : public testing::TierTest {};

// 1,000 iovecs over one 64 KiB page ask the host for 64 MiB: the call traps at the cap
// before anything is copied. 4,000 are past IOV_MAX: EINVAL, as writev. 200 (12.5 MiB) pass.
TEST_P(HostBytes, AnIovecBombTrapsBeforeTheHostCopiesIt) {
  auto module = load_wat(kIovecBomb);
  ASSERT_TRUE(module);
  CountingHost host;
  auto inst = testing::create_on_tier(*module, host);
  ASSERT_TRUE(inst.ok()) << inst.error().to_string();
  const std::uint64_t rss_before = max_rss();
  auto r = (*inst)->dispatch("1", "w", u32le(1000));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kMemoryLimit) << r.error().to_string();
  EXPECT_NE(r.error().detail.find("host_call_bytes"), std::string::npos) << r.error().detail;
  EXPECT_LT(max_rss() - rss_before, std::uint64_t{32} << 20);
  EXPECT_EQ(host.written, 0u);
  EXPECT_EQ((*inst)->peak_host_bytes(), 0u);  // refused before any byte was taken

  auto fresh = testing::create_on_tier(*module, host);
  ASSERT_TRUE(fresh.ok());
  r = (*fresh)->dispatch("1", "w", u32le(4000));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->reply.substr(0, 4), u32le(28));  // EINVAL
  r = (*fresh)->dispatch("1", "w", u32le(200));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->reply, u32le(0) + u32le(200 * 65536));
  EXPECT_EQ((*fresh)->peak_host_bytes(), 200u * 65536);
}

// A send-data-stream whose metadata list repeats one 60,000-byte range 3,000 times for key and
// value (360 MB once lifted) fails at the cap, counted across the whole argument list; the host
// is never called.
TEST_P(HostBytes, AStreamMetadataListRepeatingOneRangeFailsAtTheCap) {
  auto module = load_wat(kStreamSender);
  ASSERT_TRUE(module);
  CountingHost host;
  auto inst = testing::create_on_tier(*module, host);
  ASSERT_TRUE(inst.ok()) << inst.error().to_string();
  Instance& g = **inst;
  const workload::Function* send = workload::find_import("send-data-stream");
  ASSERT_NE(send, nullptr);
  ASSERT_TRUE(import_signature(send->type).params_indirect);
  const AbiType tuple = AbiType::record(send->type.params);
  workload::DataStreamChunk chunk{"s", 1, "p", {{"k", "v"}}, std::nullopt};
  AbiValue args = AbiValue::of_items(
      {AbiValue::of_case(static_cast<std::uint32_t>(workload::DestCase::kLocal)),
       workload::to_value(chunk),
       AbiValue::of_case(static_cast<std::uint32_t>(workload::PayloadTypeCase::kStreamReliable))});
  ASSERT_TRUE(store(g, tuple, args, 1024).ok());
  // Point the metadata list at 3,000 entries that all name the same range.
  const std::uint32_t metadata =
      1024 + tuple.field_offset(1) + workload::types().data_stream.field_offset(3);
  constexpr std::uint32_t kEntries = 3000, kArray = 16384, kRange = 65536, kLen = 60000;
  std::uint8_t* m = g.bytes().data();
  auto put = [m](std::uint32_t at, std::uint32_t v) { std::memcpy(m + at, &v, 4); };
  put(metadata, kArray);
  put(metadata + 4, kEntries);
  for (std::uint32_t i = 0; i < kEntries; ++i) {
    for (std::uint32_t field : {0u, 8u}) {
      put(kArray + 16 * i + field, kRange);
      put(kArray + 16 * i + field + 4, kLen);
    }
  }
  const std::uint64_t rss_before = max_rss();
  auto r = g.dispatch("1", "s", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kMemoryLimit) << r.error().to_string();
  EXPECT_EQ(host.host_calls, 0);
  EXPECT_LE(g.peak_host_bytes(), Limits{}.host_call_bytes);
  EXPECT_GT(g.peak_host_bytes(), Limits{}.host_call_bytes - 2 * kLen - 1024);
  EXPECT_LT(max_rss() - rss_before, std::uint64_t{64} << 20);
}

TROUPE_BOTH_TIERS(HostBytes);

TEST(OutputLimiter, CutsLongRecordsAndDropsPastTheRateCountingBoth) {
  using Clock = OutputLimiter::Clock;
  const Clock::time_point t0{};
  OutputLimiter l(OutputLimits{.record_bytes = 100, .bytes_per_second = 1000}, t0);
  EXPECT_EQ(l.admit(50, t0), 50u);    // 114 of 1000 spent
  EXPECT_EQ(l.admit(500, t0), 100u);  // cut: 400 bytes dropped
  EXPECT_EQ(l.dropped_bytes(), 400u);
  std::size_t passed = 0;
  for (int i = 0; i < 100; ++i) passed += l.admit(36, t0) != 0;  // 100 a record
  EXPECT_EQ(passed, 7u);                                         // (1000 - 114 - 164) / 100
  EXPECT_EQ(l.dropped_records(), 93u);
  EXPECT_EQ(l.dropped_bytes(), 400u + 93 * 36);
  auto report = l.report(false, t0);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->dropped_records, 93u);
  EXPECT_FALSE(l.report(false, t0));  // nothing new
  EXPECT_EQ(l.admit(36, t0), 0u);
  EXPECT_FALSE(l.report(false, t0 + 1s));  // new, but within 10 s of the last report
  EXPECT_TRUE(l.report(true, t0 + 1s));
  EXPECT_EQ(l.admit(36, t0 + 500ms), 36u);  // refilled at 1000 bytes a second
}

// A guest logging 1 KiB 500 times in one dispatch: one second's bucket (64 KiB) goes to the
// node log, the rest is dropped and counted, and the actor answers as usual.
class GuestOutput : public testing::TierTest {};

std::unique_ptr<GuestModule> flood_module() {
  return load_wat(std::string(R"((module
    (import "actr:workload/host@0.1.0" "log-message" (func $log (param i32 i32 i32 i32)))
    (memory (export "memory") 1)
    (global $top (mut i32) (i32.const 8192))
    (data (i32.const 100) "info"))") +
                  kRealloc + R"(
    (func (export "actr:workload/workload@0.1.0#dispatch")
          (param i32 i32 i32 i32 i32 i32) (result i32) (local $i i32)
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get $i) (i32.const 500)))
        (call $log (i32.const 100) (i32.const 4) (i32.const 1024) (i32.const 1024))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
      (i32.store8 (i32.const 16) (i32.const 0))
      (i32.const 16))))");
}

TEST_P(GuestOutput, ALogFloodIsDroppedAndCounted) {
  auto module = flood_module();
  ASSERT_TRUE(module);
  std::shared_ptr<const GuestModule> shared = std::move(module);
  testing::prepare(*shared, GetParam());
  ActorSystem sys{SystemConfig{.workers = 1}};
  WasmActorOptions options;
  options.type_name = "flood";
  options.tier = GetParam();
  ChildSpec spec;
  spec.type_name = "flood";
  spec.factory = wasm_actor_factory(shared, options);
  auto ref = sys.ask<ActorRef>(sys.root(), StartChild{std::move(spec)}, 5s).get();
  ASSERT_TRUE(ref.ok()) << ref.error().to_string();
  const OutputCounters before = output_counters();
  const auto start = std::chrono::steady_clock::now();
  Envelope e;
  e.route = "go";
  e.request_id = sys.next_request_id();
  auto r = sys.ask<Bytes>(*ref, std::move(e), 10s).get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const OutputCounters after = output_counters();
  const std::uint64_t passed = after.records - before.records;
  const std::uint64_t dropped = after.dropped_records - before.dropped_records;
  EXPECT_EQ(passed + dropped, 500u);
  // One bucket, plus what it refilled meanwhile (64 KiB a second; a sanitizer build is slow).
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LE(static_cast<double>(passed),
            65536.0 * (1 + seconds) / (1024 + OutputLimiter::kRecordOverhead) + 1);
  EXPECT_GE(dropped, 400u);
  EXPECT_EQ(after.dropped_bytes - before.dropped_bytes, dropped * 1024);
}

// Actors made by one factory (a pool, or spawned one by one) log at the same time on two
// workers: they share the factory's bucket, which must take them one at a time (the
// thread sanitizer saw them race), and what passes stays within that one bucket.
TEST_P(GuestOutput, ActorsOfOneFactoryShareItsBucketSafely) {
  auto module = flood_module();
  ASSERT_TRUE(module);
  std::shared_ptr<const GuestModule> shared = std::move(module);
  testing::prepare(*shared, GetParam());
  ActorSystem sys{SystemConfig{.workers = 2}};
  WasmActorOptions options;
  options.type_name = "flood";
  options.tier = GetParam();
  auto factory = wasm_actor_factory(shared, options);
  std::vector<ActorRef> guests;
  for (int i = 0; i < 4; ++i) guests.push_back(sys.spawn(factory()));
  const OutputCounters before = output_counters();
  const auto start = std::chrono::steady_clock::now();
  std::vector<Future<Bytes>> replies;
  for (const ActorRef& g : guests) {
    Envelope e;
    e.route = "go";
    e.request_id = sys.next_request_id();
    replies.push_back(sys.ask<Bytes>(g, std::move(e), 10s));
  }
  for (auto& f : replies) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  }
  const OutputCounters after = output_counters();
  const std::uint64_t passed = after.records - before.records;
  const std::uint64_t dropped = after.dropped_records - before.dropped_records;
  EXPECT_EQ(passed + dropped, 2000u);
  // One bucket, plus what it refilled meanwhile (64 KiB a second).
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LE(static_cast<double>(passed),
            65536.0 * (1 + seconds) / (1024 + OutputLimiter::kRecordOverhead) + 1);
}

TROUPE_BOTH_TIERS(GuestOutput);

}  // namespace
}  // namespace troupe::wasm
