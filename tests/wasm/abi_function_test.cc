#include "troupe/wasm/abi_function.h"

#include <gtest/gtest.h>

#include "troupe/wasm/wasm_error.h"
#include "troupe/wasm/workload_types.h"
#include "wasm/test_memory.h"

namespace troupe::wasm {
namespace {

using T = AbiType;
using V = AbiValue;
using testing::TestMemory;
using workload::find_export;
using workload::find_import;

V str(const std::string& s) { return V::text(s); }

// The WIT defines dispatch plus 17 hooks (4 lifecycle, 3 signaling, 3 WebSocket, 3 WebRTC,
// 2 credential, 1 mailbox, 1 data-stream); the prose around it says "sixteen hooks".
TEST(WorkloadContract, HasElevenImportsAndEighteenExports) {
  EXPECT_EQ(workload::host_imports().size(), 11u);
  EXPECT_EQ(workload::guest_exports().size(), 18u);
  for (const char* n :
       {"call", "tell", "call-raw", "discover", "register-stream", "unregister-stream",
        "send-data-stream", "log-message", "get-self-id", "get-caller-id", "get-request-id"}) {
    EXPECT_NE(find_import(n), nullptr) << n;
  }
  for (const char* n : {"dispatch", "on-start", "on-ready", "on-stop", "on-error",
                        "on-mailbox-backpressure", "on-data-stream", "on-credential-expiring"}) {
    EXPECT_NE(find_export(n), nullptr) << n;
  }
}

TEST(WorkloadContract, CoreNamesForBothSchemes) {
  auto& a = workload::core_names(workload::NameScheme::kWitBindgen);
  EXPECT_EQ(a.import_module, "actr:workload/host@0.1.0");
  EXPECT_EQ(a.export_name("dispatch"), "actr:workload/workload@0.1.0#dispatch");
  EXPECT_EQ(a.post_return_name("dispatch"), "cabi_post_actr:workload/workload@0.1.0#dispatch");
  EXPECT_EQ(a.realloc, "cabi_realloc");
  EXPECT_FALSE(a.initialize.has_value());
  auto& b = workload::core_names(workload::NameScheme::kCm32p2);
  EXPECT_EQ(b.import_module, "cm32p2|actr:workload/host@0.1");
  EXPECT_EQ(b.export_name("on-start"), "cm32p2|actr:workload/workload@0.1|on-start");
  EXPECT_EQ(b.post_return_name("on-start"), "cm32p2|actr:workload/workload@0.1|on-start_post");
  EXPECT_EQ(b.memory, "cm32p2_memory");
  EXPECT_EQ(b.initialize, "cm32p2_initialize");
}

// The core signatures, worked out by hand from the flattening rules.
TEST(AbiFunction, CoreSignaturesOfTheContract) {
  // dispatch: rpc-envelope = 3 x (ptr, len) -> 6 i32; result<list<u8>, actr-error> does not
  // fit one core value -> the export returns an i32 pointer.
  auto d = export_signature(find_export("dispatch")->type);
  EXPECT_EQ(d.params, std::vector<std::uint8_t>(6, T::kI32));
  EXPECT_EQ(d.results, (std::vector<std::uint8_t>{T::kI32}));
  EXPECT_TRUE(d.result_indirect);
  // call: dest = tag + actr-id (i32, i64, 6 x i32) = 9, route 2, payload 2 -> 13 params, plus
  // the out pointer for the result; no core result.
  auto c = import_signature(find_import("call")->type);
  ASSERT_EQ(c.params.size(), 14u);
  EXPECT_EQ(c.params[2], T::kI64);  // dest's serial-number slot
  EXPECT_TRUE(c.results.empty());
  // send-data-stream: 9 + data-stream 9 + payload-type 1 = 19 > 16 -> one pointer, plus the
  // out pointer.
  auto sd = import_signature(find_import("send-data-stream")->type);
  EXPECT_TRUE(sd.params_indirect);
  EXPECT_EQ(sd.params, (std::vector<std::uint8_t>{T::kI32, T::kI32}));
  // on-data-stream: data-stream 9 + actr-id 8 = 17 > 16 -> the host passes a pointer.
  EXPECT_TRUE(export_signature(find_export("on-data-stream")->type).params_indirect);
  // get-request-id: a string result is 2 values -> out pointer.
  auto g = import_signature(find_import("get-request-id")->type);
  EXPECT_EQ(g.params, (std::vector<std::uint8_t>{T::kI32}));
  // log-message: two strings, no result.
  auto l = import_signature(find_import("log-message")->type);
  EXPECT_EQ(l.params.size(), 4u);
  EXPECT_TRUE(l.results.empty());
  // on-signaling-connected: nothing at all.
  auto s = export_signature(find_export("on-signaling-connected")->type);
  EXPECT_TRUE(s.params.empty());
  EXPECT_TRUE(s.results.empty());
}

// The host calls dispatch: lower the envelope, then read a result the guest wrote in memory.
TEST(AbiFunction, HostCallsAnExport) {
  TestMemory mem;
  const FuncType& f = find_export("dispatch")->type;
  V env = V::of_items({str("r-1"), str("echo"), str("hello")});
  auto args = lower_export_args(mem, f, {env});
  ASSERT_TRUE(args.ok());
  ASSERT_EQ(args->size(), 6u);
  // The "guest" echoes: it stores ok(payload) at 512 and returns 512.
  const auto& w = workload::types();
  ASSERT_TRUE(store(mem, w.result_bytes, V::of_case(0, str("hello")), 512).ok());
  auto r = lift_export_result(mem, f, {512});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(**r, V::of_case(0, str("hello")));
  // A returned pointer outside memory is the guest's fault.
  auto bad = lift_export_result(mem, f, {0xFFFFFFF8u});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, WasmErrc::kAbiViolation);
}

TEST(AbiFunction, IndirectParametersGoThroughGuestMemory) {
  TestMemory mem;
  const FuncType& f = find_export("on-data-stream")->type;
  V actr_id =
      V::of_items({V::of_items({V::of(1)}), V::of(9), V::of_items({str("m"), str("n"), str("1")})});
  V chunk = V::of_items({str("s"), V::of(3), str("bytes"), V::of_items({}), V::of_case(0)});
  auto args = lower_export_args(mem, f, {chunk, actr_id});
  ASSERT_TRUE(args.ok());
  ASSERT_EQ(args->size(), 1u);
  // What the guest would read back from that pointer.
  auto back = load(mem, T::record(f.params), static_cast<std::uint32_t>((*args)[0]));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->items[0], chunk);
  EXPECT_EQ(back->items[1], actr_id);
}

// The guest calls `call`: the host lifts its core params and stores the result at the out
// pointer it passed.
TEST(AbiFunction, GuestCallsAnImport) {
  TestMemory mem;
  const FuncType& f = find_import("call")->type;
  // Build the guest's core params by lowering (as guest code would have laid them out).
  FlatValues params;
  ASSERT_TRUE(lower_flat(mem, f.params[0], V::of_case(0), params).ok());  // dest: shell
  ASSERT_TRUE(lower_flat(mem, f.params[1], str("svc.op"), params).ok());
  ASSERT_TRUE(lower_flat(mem, f.params[2], str("data"), params).ok());
  params.push_back(256);  // out pointer
  auto args = lift_import_args(mem, f, params);
  ASSERT_TRUE(args.ok()) << args.error().to_string();
  EXPECT_EQ((*args)[0], V::of_case(0));
  EXPECT_EQ((*args)[1], str("svc.op"));
  auto res = lower_import_result(mem, f, V::of_case(1, V::of_case(1)), params);  // err(timed-out)
  ASSERT_TRUE(res.ok());
  EXPECT_TRUE(res->empty());
  EXPECT_EQ(*load(mem, *f.result, 256), V::of_case(1, V::of_case(1)));
  // An out pointer that is misaligned or outside memory is refused, nothing written.
  params.back() = 257;
  EXPECT_EQ(lower_import_result(mem, f, V::of_case(0, str("x")), params).error().code,
            WasmErrc::kAbiViolation);
  params.back() = 70000;
  EXPECT_EQ(lower_import_result(mem, f, V::of_case(0, str("x")), params).error().code,
            WasmErrc::kAbiViolation);
}

TEST(AbiFunction, WrongCoreArityIsAHostBug) {
  TestMemory mem;
  EXPECT_EQ(lift_import_args(mem, find_import("call")->type, {1, 2}).error().code,
            BaseErrc::kInternal);
}

}  // namespace
}  // namespace troupe::wasm
