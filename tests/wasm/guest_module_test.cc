#include "troupe/wasm/guest_module.h"

#include <gtest/gtest.h>
#include <wabt/binary-reader-ir.h>
#include <wabt/binary-reader.h>
#include <wabt/ir.h>
#include <wabt/validator.h>

#include <algorithm>
#include <string>

#include "troupe/wasm/fuel.h"
#include "troupe/wasm/wat.h"

namespace troupe::wasm {
namespace {

// A minimal guest in the wit-bindgen naming scheme, plus extra imports and definitions.
std::string guest(const std::string& imports = "", const std::string& defs = "",
                  bool with_dispatch = true) {
  std::string dispatch = with_dispatch ? R"(
  (func (export "actr:workload/workload@0.1.0#dispatch")
        (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 16)))"
                                       : "";
  return "(module " + imports + R"(
  (import "actr:workload/host@0.1.0" "log-message" (func (param i32 i32 i32 i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024)))" +
         dispatch + R"(
  (func (export "cabi_post_actr:workload/workload@0.1.0#dispatch") (param i32))
  (func (export "actr:workload/workload@0.1.0#on-start") (result i32) (i32.const 32)))" +
         defs + ")";
}

Result<GuestModule> load_wat(const std::string& wat) {
  auto bin = wat_to_wasm(wat);
  if (!bin.ok()) return bin.error();
  return GuestModule::load(*bin);
}

TEST(GuestModule, LoadsAContractGuest) {
  auto m = load_wat(guest());
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->scheme(), workload::NameScheme::kWitBindgen);
  EXPECT_TRUE(m->exports_function("dispatch"));
  EXPECT_TRUE(m->exports_function("on-start"));
  EXPECT_FALSE(m->exports_function("on-stop"));  // absent hooks are simply not called
  EXPECT_TRUE(m->has_post_return("dispatch"));
  EXPECT_EQ(m->host_imports(), (std::set<std::string>{"log-message"}));
  EXPECT_EQ(m->wasi_imports(), (std::set<std::string>{"fd_write"}));
}

TEST(GuestModule, LoadsTheCm32p2Scheme) {
  auto m = load_wat(R"((module
  (import "cm32p2|actr:workload/host@0.1" "get-request-id" (func (param i32)))
  (memory (export "cm32p2_memory") 1)
  (func (export "cm32p2_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 8))
  (func (export "cm32p2_initialize"))
  (func (export "cm32p2|actr:workload/workload@0.1|dispatch")
        (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 16))
  (func (export "cm32p2|actr:workload/workload@0.1|dispatch_post") (param i32)))
)");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->scheme(), workload::NameScheme::kCm32p2);
  EXPECT_TRUE(m->has_initialize());
  EXPECT_TRUE(m->has_post_return("dispatch"));
  EXPECT_EQ(m->host_imports(), (std::set<std::string>{"get-request-id"}));
}

void expect_refused(const std::string& wat, const std::string& because) {
  auto m = load_wat(wat);
  ASSERT_FALSE(m.ok()) << "accepted: " << because;
  EXPECT_EQ(m.error().code, BaseErrc::kRefused) << m.error().to_string();
  EXPECT_NE(m.error().detail.find(because), std::string::npos) << m.error().detail;
}

TEST(GuestModule, RefusesImportsOutsideTheContract) {
  expect_refused(guest(R"((import "env" "system" (func (param i32))))"), "outside the contract");
  expect_refused(guest(R"((import "wasi_snapshot_preview1" "path_open"
                             (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32))))"),
                 "outside the allowed WASI subset");
  expect_refused(guest(R"((import "actr:workload/host@0.1.0" "spawn-shell" (func)))"),
                 "not a function of actr:workload/host");
  expect_refused(guest(R"((import "env" "t" (table 1 funcref)))"),
                 "only functions may be imported");
  expect_refused(R"((module (import "env" "mem" (memory 1)) (export "memory" (memory 0))
      (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 0))
      (func (export "actr:workload/workload@0.1.0#dispatch") (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 0))))",
                 "only functions may be imported");
  expect_refused(guest(R"((import "env" "g" (global i32)))"), "only functions may be imported");
}

// troupe's own host package (wit/troupe-host.wit): its functions are checked like the
// contract's, and the module says which it imports (the node checks them against the grants).
TEST(GuestModule, TakesTroupeHostClockAndRandomInBothSchemes) {
  auto m = load_wat(guest(R"(
    (import "troupe:host/clock@0.1.0" "now-wall" (func (result i64)))
    (import "troupe:host/clock@0.1.0" "now-monotonic" (func (result i64)))
    (import "troupe:host/random@0.1.0" "fill" (func (param i32 i32)))
    (import "troupe:host/storage@0.1.0" "put" (func (param i32 i32 i32 i32 i32)))
    (import "troupe:host/signing@0.1.0" "public-key" (func (param i32))))"));
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->troupe_imports(),
            (std::set<std::string>{"clock.now-monotonic", "clock.now-wall", "random.fill",
                                   "signing.public-key", "storage.put"}));
  auto cm = load_wat(R"((module
  (import "cm32p2|troupe:host/clock@0.1" "now-wall" (func (result i64)))
  (memory (export "cm32p2_memory") 1)
  (func (export "cm32p2_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 8))
  (func (export "cm32p2|actr:workload/workload@0.1|dispatch")
        (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 16))))");
  ASSERT_TRUE(cm.ok()) << cm.error().to_string();
  EXPECT_EQ(cm->troupe_imports(), (std::set<std::string>{"clock.now-wall"}));
}

// storage and signing load (whether the actor may use them is decided at spawn, from its
// grants: WasmActor, GuestStorage.AGuestImportingStorageItWasNotGrantedNeverRuns); their
// functions and core signatures are checked like any other import's.
TEST(GuestModule, RefusesTroupeHostImportsItCannotServe) {
  expect_refused(guest(R"((import "troupe:host/storage@0.1.0" "get" (func (param i32 i32))))"),
                 "wrong core signature");
  expect_refused(guest(R"((import "troupe:host/storage@0.1.0" "drop" (func (param i32))))"),
                 "not a function of troupe:host/storage@0.1.0");
  expect_refused(guest(R"((import "troupe:host/signing@0.1.0" "export-key" (func (param i32))))"),
                 "not a function of troupe:host/signing@0.1.0");
  expect_refused(guest(R"((import "troupe:host/errors@0.1.0" "host-error" (func)))"),
                 "has no functions");
  expect_refused(guest(R"((import "troupe:host/clock@0.1.0" "now-lunar" (func (result i64))))"),
                 "not a function of troupe:host/clock@0.1.0");
  expect_refused(guest(R"((import "troupe:host/clock@0.1.0" "now-wall" (func (result i32))))"),
                 "wrong core signature");
  expect_refused(guest(R"((import "troupe:host/random@0.2.0" "fill" (func (param i32 i32))))"),
                 "outside the contract");
}

TEST(GuestModule, RefusesWrongCoreSignatures) {
  // `call` takes 13 flat params plus an out pointer and returns nothing.
  expect_refused(
      guest(R"((import "actr:workload/host@0.1.0" "call" (func (param i32) (result i32))))"),
      "wrong core signature");
  expect_refused(guest(R"((import "wasi_snapshot_preview1" "proc_exit" (func (param i64))))"),
                 "wrong core signature");
  expect_refused(guest("", R"((func (export "actr:workload/workload@0.1.0#on-stop")))"),
                 "wrong core signature");
}

TEST(GuestModule, RefusesMissingRequiredExports) {
  expect_refused(guest("", "", /*with_dispatch=*/false),
                 "missing export: 'actr:workload/workload@0.1.0#dispatch'");
  expect_refused(
      R"((module (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 0))
      (func (export "actr:workload/workload@0.1.0#dispatch") (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 0))))",
      "missing export: memory");
  expect_refused(R"((module (memory (export "memory") 1)
      (func (export "actr:workload/workload@0.1.0#dispatch") (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 0))))",
                 "missing export: 'cabi_realloc'");
}

TEST(GuestModule, RefusesMixedSchemes) {
  expect_refused(guest("", R"((func (export "cm32p2_initialize")))"), "mixes");
}

TEST(GuestModule, RefusesMalformedAndInvalidBinaries) {
  std::vector<std::uint8_t> garbage{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0xff, 0x13};
  auto m = GuestModule::load(garbage);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, BaseErrc::kRefused);
  auto empty = GuestModule::load({});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, BaseErrc::kRefused);
  // Well-formed but ill-typed: WAT cannot express it, so corrupt a valid binary's body.
  auto bin = wat_to_wasm(R"((module (func (result i32) (i32.const 7))))");
  ASSERT_TRUE(bin.ok());
  auto bytes = *bin;
  auto pos = std::find(bytes.begin(), bytes.end(), std::uint8_t{0x41});  // i32.const
  ASSERT_NE(pos, bytes.end());
  *pos = 0x42;  // i64.const: the function now returns an i64
  auto bad = GuestModule::load(bytes);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, BaseErrc::kRefused);
  EXPECT_NE(bad.error().detail.find("invalid module"), std::string::npos) << bad.error().detail;
}

TEST(Wat, ReportsSyntaxErrors) {
  auto r = wat_to_wasm("(module (func (param i33)))");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, BaseErrc::kInvalidArgument);
}

}  // namespace
}  // namespace troupe::wasm

namespace troupe::wasm {
namespace {

TEST(Fuel, InstrumentedModulesStayValidAndExportTheCounter) {
  auto bin = wat_to_wasm(R"((module
    (func (export "f") (param i32) (result i32)
      (block (loop $l (br_if $l (i32.eqz (local.get 0)))))
      (if (result i32) (local.get 0) (then (loop (result i32) (i32.const 1))) (else (i32.const 2))))))");
  ASSERT_TRUE(bin.ok());
  auto metered = instrument_fuel(*bin);
  ASSERT_TRUE(metered.ok()) << metered.error().to_string();
  EXPECT_GT(metered->size(), bin->size());
  // Instrumenting twice is refused: the counter's name is taken.
  auto twice = instrument_fuel(*metered);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, BaseErrc::kRefused);
}


// load() hands the IR it validated to the fuel pass instead of parsing again, and the pass
// encodes into one reserved buffer: the metered module is still exactly what instrument_fuel
// makes of the same bytes, and a valid module - with a large data segment, with a function
// of several results (the pass adds a type), and with enough small functions to outgrow the
// buffer's reservation.
TEST(Fuel, LoadMetersTheValidatedModuleAsInstrumentFuelDoes) {
  const std::string big_data(std::size_t{1} << 20, 'q');
  std::string many;
  for (int i = 0; i < 3000; ++i) many += "(func (loop (br_if 0 (i32.const 0))))";
  for (const std::string& defs :
       {"(data (i32.const 64) \"" + big_data + "\")" +
            " (func (result i32 i32) (i32.const 1) (i32.const 2))",
        many}) {
    auto bin = wat_to_wasm(guest("", defs));
    ASSERT_TRUE(bin.ok()) << bin.error().to_string();
    auto m = GuestModule::load(*bin);
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    auto metered = instrument_fuel(*bin);
    ASSERT_TRUE(metered.ok()) << metered.error().to_string();
    EXPECT_EQ(m->binary(), *metered);
    EXPECT_GT(metered->size(), bin->size());

    wabt::Errors errors;
    wabt::Module ir;
    wabt::Features features;
    wabt::ReadBinaryOptions options(features, nullptr, false, true, true);
    ASSERT_TRUE(wabt::Succeeded(wabt::ReadBinaryIr("metered.wasm", metered->data(),
                                                   metered->size(), options, &errors, &ir)));
    EXPECT_TRUE(wabt::Succeeded(wabt::ValidateModule(&ir, &errors, wabt::ValidateOptions(features))));
  }
}

}  // namespace
}  // namespace troupe::wasm
