#include "troupe/wasm/aot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <new>
#include <stdexcept>

#include "troupe/wasm/fiber.h"
#include "troupe/wasm/instance.h"
#include "troupe/wasm/wasm_error.h"
#include "troupe/wasm/wat.h"
#include "wasm/null_host.h"
#include "wasm/tiers.h"

namespace troupe::wasm {
namespace {

namespace fs = std::filesystem;
using V = AbiValue;
using testing::test_compiler;

using testing::NullHost;

// dispatch echoes; the hooks misbehave in one way each.
constexpr const char* kGuest = R"((module
  (type $unary (func (param i32) (result i32)))
  (memory (export "memory") 1 100)
  (table 1 funcref)
  (elem (i32.const 0) $nullary)
  (global $top (mut i32) (i32.const 4096))
  (func $nullary (result i32) (i32.const 1))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $top) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $top (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "actr:workload/workload@0.1.0#dispatch")
        (param i32 i32 i32 i32 i32 i32) (result i32)
    (i32.store8 (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (local.get 4))
    (i32.store (i32.const 24) (local.get 5))
    (i32.const 16))
  ;; Reads 8 GiB past... well, 4 GiB - 16: far past the 64 KiB that exist.
  (func (export "actr:workload/workload@0.1.0#on-start") (result i32)
    (drop (i64.load offset=4294967295 (i32.const -16))) (i32.const 0))
  (func (export "actr:workload/workload@0.1.0#on-ready") (result i32)
    (i32.div_s (i32.const 1) (i32.sub (i32.const 1) (i32.const 1))))
  (func (export "actr:workload/workload@0.1.0#on-stop") (result i32)
    (call_indirect (type $unary) (i32.const 7) (i32.const 0)))
  (func $deep (export "actr:workload/workload@0.1.0#on-signaling-connected")
    (call $deep))
  ;; Grows one page at a time until refused, then stores the final page count at 0.
  (func (export "actr:workload/workload@0.1.0#on-signaling-connecting")
    (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    (i32.store (i32.const 0) (memory.size)))
))";

GuestModule load_guest(const char* wat = kGuest) {
  auto bin = wat_to_wasm(wat);
  EXPECT_TRUE(bin.ok()) << (bin.ok() ? "" : bin.error().to_string());
  auto m = GuestModule::load(*bin);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().to_string());
  return std::move(m).value();
}

std::string dispatch(Instance& g, const std::string& payload) {
  auto r = g.call("dispatch", {V::of_items({V::text("r"), V::text("x"), V::text(payload)})});
  if (!r.ok()) return "error: " + r.error().to_string();
  return (*r)->items.at(0).bytes;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "troupe-aot-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(Aot, CompilesLoadsAndServesTheNextCompileFromTheCache) {
  ASSERT_TRUE(test_compiler().available()) << test_compiler().unavailable_reason();
  TempDir dir;
  GuestModule module = load_guest();
  {
    AotCompiler compiler(AotOptions{.cache_dir = dir.path()});
    auto code = compiler.compile(module);
    ASSERT_TRUE(code.ok()) << code.error().to_string();
    EXPECT_FALSE(compiler.last_was_cache_hit());
    EXPECT_EQ((*code)->path().parent_path(), dir.path());
    EXPECT_EQ(module.aot_code(), *code);
  }
  NullHost host;
  auto g = Instance::create(module, host, {}, Tier::kAot);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  EXPECT_EQ((*g)->tier(), Tier::kAot);
  EXPECT_EQ(dispatch(**g, std::string("hello\0aot", 9)), std::string("hello\0aot", 9));

  // A second process (here: a second compiler and a fresh load of the module) finds it.
  GuestModule again = load_guest();
  AotCompiler compiler(AotOptions{.cache_dir = dir.path()});
  auto code = compiler.compile(again);
  ASSERT_TRUE(code.ok()) << code.error().to_string();
  EXPECT_TRUE(compiler.last_was_cache_hit());
  // Only the object and the cache's key are left behind: the build directory is gone.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    EXPECT_TRUE(e.path().extension() == ".so" || e.path().filename() == "aot.key") << e.path();
    ++entries;
  }
  EXPECT_EQ(entries, 2);
}

TEST(Aot, AutoUsesTheInterpreterUntilTheCodeIsReady) {
  GuestModule module = load_guest();
  NullHost host;
  auto before = Instance::create(module, host, {}, Tier::kAuto);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ((*before)->tier(), Tier::kInterp);
  auto refused = Instance::create(module, host, {}, Tier::kAot);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, BaseErrc::kUnavailable);

  auto shared = std::make_shared<const GuestModule>(module);
  test_compiler().compile_in_background(shared);
  test_compiler().drain();
  ASSERT_NE(module.aot_code(), nullptr);  // copies share the slot
  auto after = Instance::create(module, host, {}, Tier::kAuto);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)->tier(), Tier::kAot);
  // And the interpreter stays available on request.
  auto interp = Instance::create(module, host, {}, Tier::kInterp);
  ASSERT_TRUE(interp.ok());
  EXPECT_EQ((*interp)->tier(), Tier::kInterp);
}

class AotTraps : public ::testing::TestWithParam<Tier> {
 protected:
  void SetUp() override {
    module_ = std::make_unique<GuestModule>(load_guest());
    testing::prepare(*module_, GetParam());
  }
  std::unique_ptr<Instance> start(Limits limits = {}) {
    auto g = Instance::create(*module_, host_, limits, GetParam());
    EXPECT_TRUE(g.ok()) << g.error().to_string();
    return g.ok() ? std::move(g).value() : nullptr;
  }
  std::unique_ptr<GuestModule> module_;
  NullHost host_;
};

// Each trap is typed and contained: the next call on a fresh instance works.
TEST_P(AotTraps, EveryTrapKindIsTypedAndContained) {
  struct Case {
    const char* hook;
    const char* message;
  };
  for (const Case& c :
       {Case{"on-start", "out of bounds memory access"}, Case{"on-ready", "integer divide by zero"},
        Case{"on-stop", "indirect call"}}) {
    auto g = start();
    auto r = g->call(c.hook, {});
    ASSERT_FALSE(r.ok()) << c.hook;
    EXPECT_EQ(r.error().code, WasmErrc::kTrap) << c.hook;
    EXPECT_NE(r.error().detail.find(c.message), std::string::npos) << r.error().to_string();
    EXPECT_EQ(dispatch(*start(), "still fine"), "still fine");
  }
}

TEST_P(AotTraps, RunawayRecursionIsStoppedOnTheMainStackAndOnAFiber) {
  // The depth limit stops it first by default...
  auto g = start();
  auto r = g->call("on-signaling-connected", {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("call stack exhausted"), std::string::npos)
      << r.error().to_string();
  // ...and with the limit lifted, the stack's guard page does (AOT) or the interpreter's own
  // stack limit (interp), on a guest fiber's small stack too.
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer runs signal handlers from its own handler, which is not on the alternate
  // stack: a fault on an exhausted stack cannot be handled under it.
  if (GetParam() == Tier::kAot) GTEST_SKIP() << "stack overflow recovery under TSan";
#endif
  Limits unlimited;
  unlimited.max_call_depth = 100'000'000;
  Result<std::optional<AbiValue>> on_fiber = Error{BaseErrc::kInternal};
  auto deep = start(unlimited);
  auto body = [&] { on_fiber = deep->call("on-signaling-connected", {}); };
  ASSERT_TRUE(GuestFiber::take()->start(body));
  ASSERT_FALSE(on_fiber.ok());
  EXPECT_EQ(on_fiber.error().code, WasmErrc::kTrap) << on_fiber.error().to_string();
  EXPECT_NE(on_fiber.error().detail.find("call stack exhausted"), std::string::npos);
  auto on_main = start(unlimited)->call("on-signaling-connected", {});
  ASSERT_FALSE(on_main.ok());
  EXPECT_NE(on_main.error().detail.find("call stack exhausted"), std::string::npos)
      << on_main.error().to_string();
  EXPECT_EQ(dispatch(*start(), "after"), "after");
}

TEST_P(AotTraps, MemoryGrowthStopsAtThePageLimit) {
  Limits limits;
  limits.memory_pages = 5;
  auto g = start(limits);
  ASSERT_TRUE(g->call("on-signaling-connecting", {}).ok());
  auto mem = g->bytes();
  EXPECT_EQ(mem.size(), 5u * 65536);
  EXPECT_EQ(mem[0], 5);
  // Without a limit, the module's own maximum (100) holds.
  auto free = start();
  ASSERT_TRUE(free->call("on-signaling-connecting", {}).ok());
  EXPECT_EQ(free->bytes().size(), 100u * 65536);
}

TROUPE_BOTH_TIERS(AotTraps);

// A host whose import throws what C++ host code can throw (an allocation failing, a length
// error, or something that is not a std::exception at all).
class ThrowingHost final : public HostImports {
 public:
  explicit ThrowingHost(int kind) : kind_(kind) {}
  Result<std::optional<AbiValue>> call_host(const workload::Function&,
                                            std::vector<AbiValue>) override {
    switch (kind_) {
      case 0:
        throw std::bad_alloc();
      case 1:
        throw std::length_error("vector::_M_realloc_insert");
      default:
        throw 42;  // NOLINT: on purpose, not a std::exception
    }
  }
  void write_output(int, std::string_view) override {}

 private:
  int kind_;
};

// on-start asks the host for the request id (the host lowers a string through cabi_realloc).
constexpr const char* kImporter = R"((module
  (import "actr:workload/host@0.1.0" "get-request-id" (func $rid (param i32)))
  (memory (export "memory") 1)
  (global $top (mut i32) (i32.const 4096))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
    (local.set $p (global.get $top))
    (global.set $top (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "actr:workload/workload@0.1.0#dispatch")
        (param i32 i32 i32 i32 i32 i32) (result i32)
    (i32.store8 (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (local.get 4))
    (i32.store (i32.const 24) (local.get 5))
    (i32.const 16))
  (func (export "actr:workload/workload@0.1.0#on-start") (result i32)
    (call $rid (i32.const 400))
    (i32.store8 (i32.const 32) (i32.const 0))
    (i32.const 32))
))";

class AotHostImports : public ::testing::TestWithParam<Tier> {};

// No exception crosses the generated C (AOT) or libwabt's frames (interp): it traps the guest,
// and the instance stays usable, call after call.
TEST_P(AotHostImports, AnImportThatThrowsTrapsTheGuest) {
  GuestModule module = load_guest(kImporter);
  testing::prepare(module, GetParam());
  for (int kind : {0, 1, 2}) {
    ThrowingHost host(kind);
    auto g = Instance::create(module, host, {}, GetParam());
    ASSERT_TRUE(g.ok()) << g.error().to_string();
    for (int round = 0; round < 100; ++round) {  // more rounds than the AOT tier has frames
      Result<std::optional<AbiValue>> r = Error{BaseErrc::kInternal, "not called"};
      EXPECT_NO_THROW(r = (*g)->call("on-start", {}));
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, WasmErrc::kTrap) << r.error().to_string();
      EXPECT_NE(r.error().detail.find("threw"), std::string::npos) << r.error().to_string();
    }
    EXPECT_EQ(dispatch(**g, "after"), "after");
  }
}

TROUPE_BOTH_TIERS(AotHostImports);

TEST(Aot, NamesThatWouldInjectIntoTheGeneratedCAreRefused) {
  std::string wat = kGuest;
  wat.insert(wat.rfind(')'), R"((func (export "x */ int evil; /*") (result i32) (i32.const 1)))");
  GuestModule module = load_guest(wat.c_str());
  auto code = test_compiler().compile(module);
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.error().code, BaseErrc::kRefused) << code.error().to_string();
  // The interpreter still runs it.
  NullHost host;
  auto g = Instance::create(module, host, {}, Tier::kAuto);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(dispatch(**g, "ok"), "ok");
}

TEST(Aot, AMissingCompilerOrACorruptCacheEntryIsAnErrorNotACrash) {
  TempDir dir;
  AotCompiler none(AotOptions{.cache_dir = dir.path(), .cc = "/nonexistent/cc"});
  EXPECT_FALSE(none.available());
  GuestModule module = load_guest();
  auto code = none.compile(module);
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.error().code, BaseErrc::kUnavailable);

  // A damaged object in the cache is rebuilt.
  {
    AotCompiler compiler(AotOptions{.cache_dir = dir.path()});
    ASSERT_TRUE(compiler.compile(load_guest()).ok());
  }
  for (const auto& e : fs::directory_iterator(dir.path())) {
    if (e.path().extension() == ".so")
      std::ofstream(e.path(), std::ios::trunc) << "not an ELF object";
  }
  AotCompiler compiler(AotOptions{.cache_dir = dir.path()});
  auto rebuilt = compiler.compile(module);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().to_string();
  NullHost host;
  auto g = Instance::create(module, host, {}, Tier::kAot);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(dispatch(**g, "rebuilt"), "rebuilt");
}

}  // namespace
}  // namespace troupe::wasm
