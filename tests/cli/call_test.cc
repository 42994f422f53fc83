// Integration: `troupe call` runs a guest in-process; exit codes and the first stderr line.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "cli/node_process.h"
#include "troupe/wasm/wat.h"

namespace troupe {
namespace {

// A guest whose dispatch answers by route: "echo" -> ok(payload), "missing" ->
// err(not-found("no such route")), "trap" -> unreachable, "bad" -> a result pointer outside
// memory. on-start logs through the host.
constexpr const char* kGuest = R"((module
  (import "actr:workload/host@0.1.0" "log-message" (func $log (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (global $top (mut i32) (i32.const 4096))
  (data (i32.const 100) "info")
  (data (i32.const 110) "guest up")
  (data (i32.const 120) "no such route")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $top) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $top (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "actr:workload/workload@0.1.0#on-start") (result i32)
    (call $log (i32.const 100) (i32.const 4) (i32.const 110) (i32.const 8))
    (i32.store8 (i32.const 32) (i32.const 0))
    (i32.const 32))
  ;; The route's first byte picks the behaviour ('l'oop spins forever).
  (func (export "actr:workload/workload@0.1.0#dispatch")
        (param i32 i32 i32 i32 i32 i32) (result i32) (local $c i32)
    (local.set $c (i32.load8_u (local.get 2)))
    (if (i32.eq (local.get $c) (i32.const 116)) (then unreachable))          ;; 't'rap
    (if (i32.eq (local.get $c) (i32.const 108)) (then (loop $l (br $l))))    ;; 'l'oop
    (if (i32.eq (local.get $c) (i32.const 98)) (then (return (i32.const -4)))) ;; 'b'ad
    (if (i32.eq (local.get $c) (i32.const 109))                              ;; 'm'issing
      (then
        (i32.store8 (i32.const 16) (i32.const 1))
        (i32.store8 (i32.const 20) (i32.const 2))
        (i32.store (i32.const 24) (i32.const 120))
        (i32.store (i32.const 28) (i32.const 13))
        (return (i32.const 16))))
    (i32.store8 (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (local.get 4))
    (i32.store (i32.const 24) (local.get 5))
    (i32.const 16))
))";

// Every case runs on both tiers (`--tier interp`, `--tier aot`).
class Call : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = testing::temp_dir("call");
    write_guest("guest.wasm", kGuest);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write_guest(const std::string& name, const char* wat) {
    auto bin = wasm::wat_to_wasm(wat);
    ASSERT_TRUE(bin.ok()) << bin.error().to_string();
    std::ofstream(dir_ + "/" + name, std::ios::binary)
        .write(reinterpret_cast<const char*>(bin->data()),
               static_cast<std::streamsize>(bin->size()));
  }
  testing::CliResult call(std::vector<std::string> args) {
    args.insert(args.begin(), "call");
    if (std::find(args.begin(), args.end(), "--tier") == args.end()) {
      args.insert(args.end(), {"--tier", GetParam()});
    }
    return testing::run_cli(args, dir_);
  }
  static std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
  std::string dir_;
};

TEST_P(Call, EchoesThePayloadToStdout) {
  auto r = call({"--wasm", dir_ + "/guest.wasm", "--route", "echo", "--data", "hello, wasm"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hello, wasm");
  EXPECT_NE(r.err.find("[info] guest up"), std::string::npos) << r.err;
  std::ofstream(dir_ + "/payload.bin", std::ios::binary) << std::string("\x00\x01\xff", 3);
  r = call(
      {"--wasm", dir_ + "/guest.wasm", "--route", "echo", "--data-file", dir_ + "/payload.bin"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, std::string("\x00\x01\xff", 3));
}

TEST_P(Call, GuestErrorsExitTwo) {
  auto r = call({"--wasm", dir_ + "/guest.wasm", "--route", "missing"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(first_line(r.err), "error: guest:not-found: no such route");
  EXPECT_NE(r.err.find("[info] guest up"), std::string::npos);  // the guest's log follows
}

TEST_P(Call, TrapsAndAbiViolationsExitThree) {
  auto r = call({"--wasm", dir_ + "/guest.wasm", "--route", "trap"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.err.substr(0, 12), "error: trap:");
  r = call({"--wasm", dir_ + "/guest.wasm", "--route", "bad"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.err.substr(0, 21), "error: abi-violation:");
}

TEST_P(Call, FuelExhaustionExitsThree) {
  auto r = call({"--wasm", dir_ + "/guest.wasm", "--route", "loop", "--fuel", "50000"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(first_line(r.err), "error: fuel-exhausted: used all 50000 units of fuel");
  // The same guest with fuel to spare for a normal route.
  r = call({"--wasm", dir_ + "/guest.wasm", "--route", "echo", "--data", "x", "--fuel", "100"});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_P(Call, DeadlinesAndMemoryLimitsExitThree) {
  auto r = call({"--wasm", dir_ + "/guest.wasm", "--route", "loop", "--timeout-ms", "100", "--fuel",
                 "unlimited"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(first_line(r.err), "error: deadline-exceeded: ran past its deadline of 100 ms");
  const std::string all = std::string(TROUPE_GUEST_DIR) + "/all-imports.wasm";
  // A refused memory.grow is the guest's to handle: here it answers with an error...
  r = call({"--wasm", all, "--route", "grow", "--data", "1000", "--memory-pages", "40"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(first_line(r.err), "error: guest:unavailable: memory.grow(1000) failed");
  r = call({"--wasm", all, "--route", "grow", "--data", "10", "--memory-pages", "40"});
  EXPECT_EQ(r.code, 0) << r.err;
  // ...and a module that needs more than the limit to start is stopped before it runs.
  r = call({"--wasm", all, "--route", "echo", "--memory-pages", "1"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(first_line(r.err).rfind("error: memory-limit: the module starts with", 0), 0u) << r.err;
}

TEST_P(Call, RefusedModulesExitFour) {
  write_guest("bad.wasm", R"((module (import "env" "system" (func))
      (memory (export "memory") 1)))");
  auto r = call({"--wasm", dir_ + "/bad.wasm", "--route", "x"});
  EXPECT_EQ(r.code, 4);
  EXPECT_EQ(first_line(r.err).rfind("error: refused: import env.system", 0), 0u) << r.err;
  std::ofstream(dir_ + "/junk.wasm") << "not wasm at all";
  r = call({"--wasm", dir_ + "/junk.wasm", "--route", "x"});
  EXPECT_EQ(r.code, 4);
}

// The example guests, compiled from C and C++ with the guest SDK.
TEST_P(Call, RunsTheExampleGuests) {
  const std::string guests = TROUPE_GUEST_DIR;
  auto r = call({"--wasm", guests + "/echo.wasm", "--route", "echo", "--data", "from C"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "from C");
  r = call({"--wasm", guests + "/counter.wasm", "--route", "inc", "--data", "41"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "41");
  EXPECT_NE(r.err.find("[info] counter starting at 0"), std::string::npos) << r.err;
  r = call({"--wasm", guests + "/pinger.wasm", "--route", "ping"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(first_line(r.err).rfind("error: guest:unavailable: `troupe call` runs the guest", 0),
            0u)
      << r.err;
}

TEST_P(Call, UsageErrorsExitOne) {
  auto r = call({"--wasm", dir_ + "/none.wasm", "--route", "x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(first_line(r.err).rfind("error: not-found: no module file", 0), 0u) << r.err;
  r = call({"--route", "x"});
  EXPECT_EQ(r.code, 1);
  r = call({"--wasm", dir_ + "/guest.wasm", "--route", "x", "--data", "a", "--data-file", "f"});
  EXPECT_EQ(r.code, 1);
}

TEST_P(Call, TheTierIsChosenAndChecked) {
  auto r = call({"--wasm", dir_ + "/guest.wasm", "--route", "echo", "--tier", "jit"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(first_line(r.err), "error: usage: --tier must be auto, aot or interp");
  // An export name wasm2c would paste into a C comment unescaped: AOT refuses the module,
  // auto runs it on the interpreter.
  std::string wat = kGuest;
  wat.insert(wat.rfind(')'), R"((func (export "*/ evil(); /*")))");
  write_guest("odd.wasm", wat.c_str());
  r = call({"--wasm", dir_ + "/odd.wasm", "--route", "echo", "--data", "x", "--tier", "aot"});
  EXPECT_EQ(r.code, 4);
  EXPECT_EQ(first_line(r.err).rfind("error: refused: not runnable on the AOT tier", 0), 0u)
      << r.err;
  r = call({"--wasm", dir_ + "/odd.wasm", "--route", "echo", "--data", "x", "--tier", "auto"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "x");
}

// stdout carries the reply bytes and nothing else: the host's own log lines (here the AOT
// cache's warning about an entry that fails its check, as every entry of an older cache
// format does) go to stderr, after the error line when there is one.
TEST_P(Call, HostLogLinesStayOffStdout) {
  if (GetParam() != "aot") GTEST_SKIP() << "the AOT cache logs only on the AOT tier";
  const std::string cache = dir_ + "/aot-cache";
  ASSERT_EQ(::setenv("TROUPE_AOT_CACHE", cache.c_str(), 1), 0);
  struct Restore {
    ~Restore() { ::setenv("TROUPE_AOT_CACHE", TROUPE_TEST_AOT_CACHE, 1); }
  } restore;
  auto r = call({"--wasm", dir_ + "/guest.wasm", "--route", "echo", "--data", "one"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto damage = [&] {
    int damaged = 0;
    for (const auto& entry : std::filesystem::directory_iterator(cache)) {
      if (entry.path().extension() != ".so") continue;
      std::ofstream(entry.path(), std::ios::binary | std::ios::app) << "x";
      ++damaged;
    }
    return damaged;
  };
  ASSERT_GT(damage(), 0);
  r = call({"--wasm", dir_ + "/guest.wasm", "--route", "echo", "--data", "two"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "two");
  EXPECT_NE(r.err.find("failed its check"), std::string::npos) << r.err;
  ASSERT_GT(damage(), 0);
  r = call({"--wasm", dir_ + "/guest.wasm", "--route", "missing"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(first_line(r.err), "error: guest:not-found: no such route") << r.err;
  EXPECT_NE(r.err.find("failed its check"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Tiers, Call, ::testing::Values("interp", "aot"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace troupe
