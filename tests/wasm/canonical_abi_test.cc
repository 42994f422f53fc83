#include "troupe/wasm/canonical_abi.h"

#include <gtest/gtest.h>

#include <cstring>

#include "troupe/wasm/wasm_error.h"
#include "troupe/wasm/workload_types.h"
#include "wasm/test_memory.h"

namespace troupe::wasm {
namespace {

using T = AbiType;
using V = AbiValue;
using testing::TestMemory;

V str(const std::string& s) { return V::text(s); }

TEST(CanonicalAbi, LayoutFollowsTheSpec) {
  EXPECT_EQ(T::boolean().size(), 1u);
  EXPECT_EQ(T::u64().alignment(), 8u);
  EXPECT_EQ(T::string().size(), 8u);
  EXPECT_EQ(T::string().alignment(), 4u);
  const auto& w = workload::types();
  // actr-id: realm u32 @0, serial u64 @8, actr-type (3 strings) @16..40.
  EXPECT_EQ(w.actr_id.size(), 40u);
  EXPECT_EQ(w.actr_id.alignment(), 8u);
  EXPECT_EQ(w.rpc_envelope.size(), 24u);
  // option<s64>: u8 tag, payload at 8.
  EXPECT_EQ(T::option(T::s64()).size(), 16u);
  EXPECT_EQ(T::option(T::s64()).payload_offset(), 8u);
  // result<list<u8>, actr-error>: tag, then the larger payload (actr-error: tag + 2 strings).
  EXPECT_EQ(w.actr_error.size(), 20u);
  EXPECT_EQ(w.result_bytes.size(), 24u);
  EXPECT_EQ(T::enumeration(300).discriminant_size(), 2u);
}

TEST(CanonicalAbi, FlatteningJoinsVariantCases) {
  const auto& w = workload::types();
  // rpc-envelope: 3 x (ptr, len).
  EXPECT_EQ(w.rpc_envelope.flat().size(), 6u);
  // option<s64>: tag i32, payload i64.
  EXPECT_EQ(T::option(T::s64()).flat(), (std::vector<std::uint8_t>{T::kI32, T::kI64}));
  // A variant of u32 and u64 cases joins to one i64 slot.
  auto v = T::variant({T::u32(), T::u64()});
  EXPECT_EQ(v.flat(), (std::vector<std::uint8_t>{T::kI32, T::kI64}));
  // dispatch's result does not fit kMaxFlatResults: it is returned through memory.
  EXPECT_GT(w.result_bytes.flat().size(), kMaxFlatResults);
}

TEST(CanonicalAbi, RoundTripsEveryContractTypeThroughMemory) {
  const auto& w = workload::types();
  TestMemory mem;
  V actr_type = V::of_items({str("acme"), str("echo"), str("1.2.3")});
  V actr_id = V::of_items({V::of_items({V::of(7)}), V::of(1ULL << 40), actr_type});
  V stream = V::of_items(
      {str("s-1"), V::of(42), str(std::string("\0\xff\x01", 3)),
       V::of_items({V::of_items({str("k"), str("v")}), V::of_items({str("k2"), str("v2")})}),
       V::of_case(1, V::of(static_cast<std::uint64_t>(-5)))});
  V err = V::of_case(6, V::of_items({str("storage"), str("not deployed")}));
  struct Case {
    const AbiType* type;
    V value;
  };
  std::vector<Case> cases{
      {&w.actr_id, actr_id},
      {&w.dest, V::of_case(2, actr_id)},
      {&w.dest, V::of_case(0)},
      {&w.rpc_envelope, V::of_items({str("r-1"), str("echo.say"), str("héllo")})},
      {&w.data_stream, stream},
      {&w.actr_error, err},
      {&w.actr_error, V::of_case(1)},
      {&w.result_bytes, V::of_case(0, str("reply"))},
      {&w.result_bytes, V::of_case(1, V::of_case(5, str("no route x")))},
      {&w.result_unit, V::of_case(0)},
      {&w.peer_event, V::of_items({actr_id, V::of_case(1, V::of(1))})},
      {&w.error_event,
       V::of_items({err, V::of_case(3), str("ctx"), V::of_items({V::of(1700000000), V::of(5)})})},
      {&w.backpressure_event, V::of_items({V::of(100), V::of(64)})},
  };
  std::uint32_t at = 8;
  for (auto& c : cases) {
    at = (at + 7) / 8 * 8;
    ASSERT_TRUE(store(mem, *c.type, c.value, at).ok());
    auto back = load(mem, *c.type, at);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(*back, c.value);
    at += c.type->size();
  }
}

TEST(CanonicalAbi, RoundTripsThroughFlatValues) {
  const auto& w = workload::types();
  TestMemory mem;
  V env = V::of_items({str("r-9"), str("counter.inc"), str("5")});
  FlatValues flat;
  ASSERT_TRUE(lower_flat(mem, w.rpc_envelope, env, flat).ok());
  ASSERT_EQ(flat.size(), 6u);
  std::size_t i = 0;
  auto back = lift_flat(mem, w.rpc_envelope, flat, i);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, env);
  EXPECT_EQ(i, 6u);
  // A variant whose cases join i32 and i64.
  auto v = T::variant({T::u32(), T::u64(), std::nullopt});
  for (V x : {V::of_case(0, V::of(0xFFFFFFFFu)), V::of_case(1, V::of(1ULL << 63)), V::of_case(2)}) {
    FlatValues f;
    ASSERT_TRUE(lower_flat(mem, v, x, f).ok());
    EXPECT_EQ(f.size(), 2u);
    std::size_t k = 0;
    EXPECT_EQ(*lift_flat(mem, v, f, k), x);
  }
}

TEST(CanonicalAbi, StoreSurvivesMemoryGrowthDuringRealloc) {
  TestMemory mem;
  mem.grow_by = 65536;  // every allocation moves the vector
  auto t = T::list(T::record({T::string(), T::list(T::u8())}));
  V v = V::of_items({V::of_items({str("a"), str("xyz")}), V::of_items({str("bb"), str("")})});
  ASSERT_TRUE(store(mem, t, v, 16).ok());
  EXPECT_EQ(*load(mem, t, 16), v);
}

// --- a guest that breaks the rules -------------------------------------------------------

ErrorCode lift_error(TestMemory& mem, const AbiType& t, std::uint32_t ptr) {
  auto r = load(mem, t, ptr);
  return r.ok() ? BaseErrc::kInternal : r.error().code;
}

TEST(CanonicalAbi, RejectsPointersAndLengthsOutsideMemory) {
  TestMemory mem(4096);
  mem.put_u32(0, 4000);  // string at 4000, 200 bytes: past the end
  mem.put_u32(4, 200);
  EXPECT_EQ(lift_error(mem, T::string(), 0), WasmErrc::kAbiViolation);
  mem.put_u32(0, 0xFFFFFFF0u);  // pointer + length wraps around 32 bits
  mem.put_u32(4, 0x20);
  EXPECT_EQ(lift_error(mem, T::string(), 0), WasmErrc::kAbiViolation);
  mem.put_u32(0, 16);  // list of u64 longer than memory
  mem.put_u32(4, 0x10000000u);
  EXPECT_EQ(lift_error(mem, T::list(T::u64()), 0), WasmErrc::kAbiViolation);
  // The value itself past the end, and a flat (ptr, len) past the end.
  EXPECT_EQ(lift_error(mem, T::string(), 4092), WasmErrc::kAbiViolation);
  FlatValues f{4090, 100};
  std::size_t i = 0;
  EXPECT_EQ(lift_flat(mem, T::list(T::u8()), f, i).error().code, WasmErrc::kAbiViolation);
}

TEST(CanonicalAbi, RejectsMisalignment) {
  TestMemory mem;
  EXPECT_EQ(lift_error(mem, T::u64(), 4), WasmErrc::kAbiViolation);
  EXPECT_EQ(lift_error(mem, workload::types().actr_id, 12), WasmErrc::kAbiViolation);
  mem.put_u32(0, 101);  // list<u32> at an odd address
  mem.put_u32(4, 2);
  EXPECT_EQ(lift_error(mem, T::list(T::u32()), 0), WasmErrc::kAbiViolation);
}

TEST(CanonicalAbi, RejectsInvalidUtf8) {
  TestMemory mem;
  const char bad[] = "ok\xc0\xaf";  // an overlong '/'
  mem.put(100, bad, 4);
  mem.put_u32(0, 100);
  mem.put_u32(4, 4);
  auto r = load(mem, T::string(), 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kAbiViolation);
  EXPECT_NE(r.error().detail.find("UTF-8"), std::string::npos);
  // The same bytes as list<u8> are fine: only strings are text.
  EXPECT_TRUE(load(mem, T::list(T::u8()), 0).ok());
}

TEST(CanonicalAbi, RejectsBadDiscriminants) {
  TestMemory mem;
  const auto& w = workload::types();
  std::uint8_t tag = 10;  // actr-error has 10 cases: 0..9
  mem.put(0, &tag, 1);
  EXPECT_EQ(lift_error(mem, w.actr_error, 0), WasmErrc::kAbiViolation);
  tag = 2;  // result has 2 cases
  mem.put(0, &tag, 1);
  EXPECT_EQ(lift_error(mem, w.result_unit, 0), WasmErrc::kAbiViolation);
  FlatValues f{3, 0};  // option: 2 cases
  std::size_t i = 0;
  EXPECT_EQ(lift_flat(mem, T::option(T::u32()), f, i).error().code, WasmErrc::kAbiViolation);
}

TEST(CanonicalAbi, ChecksWhatCabiReallocReturns) {
  TestMemory mem(4096);
  mem.next_answer = 4090;  // room for 6 bytes, asked for 11
  auto r = store(mem, T::string(), str("hello world"), 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kAbiViolation);
  mem.next_answer = 0xFFFFFFF0u;  // garbage
  EXPECT_EQ(store(mem, T::string(), str("x"), 0).error().code, WasmErrc::kAbiViolation);
  mem.next_answer = 1001;  // misaligned for a list of u64
  EXPECT_EQ(store(mem, T::list(T::u64()), V::of_items({V::of(1)}), 0).error().code,
            WasmErrc::kAbiViolation);
  // A well-behaved answer still works afterwards.
  EXPECT_TRUE(store(mem, T::string(), str("fine"), 0).ok());
}

TEST(CanonicalAbi, HostValuesThatDoNotMatchTheTypeAreHostBugs) {
  TestMemory mem;
  EXPECT_EQ(store(mem, T::option(T::u32()), V::of_case(5), 0).error().code, BaseErrc::kInternal);
  EXPECT_EQ(store(mem, T::option(T::u32()), V::of_case(1), 0).error().code, BaseErrc::kInternal);
  EXPECT_EQ(store(mem, T::record({T::u32()}), V::of_items({}), 0).error().code,
            BaseErrc::kInternal);
}

}  // namespace
}  // namespace troupe::wasm
