#include "troupe/wasm/guest_budget.h"

#include <gtest/gtest.h>

#include "troupe/wasm/instance.h"
#include "troupe/wasm/wasm_error.h"
#include "troupe/wasm/wat.h"
#include "wasm/null_host.h"

namespace troupe::wasm {
namespace {

TEST(GuestBudget, CapsInstancesAndMemoryAndGivesBackOnRelease) {
  GuestBudget budget({.max_instances = 2, .max_memory_bytes = 10 << 20});
  auto a = budget.acquire(4 << 20);
  ASSERT_TRUE(a.ok());
  auto b = budget.acquire(7 << 20);  // 11 MiB > 10 MiB
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, WasmErrc::kMemoryLimit);
  auto c = budget.acquire(6 << 20);
  ASSERT_TRUE(c.ok());
  auto d = budget.acquire(0);  // a third instance
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, BaseErrc::kUnavailable);
  EXPECT_EQ(budget.instances(), 2u);
  EXPECT_EQ(budget.memory_bytes(), 10u << 20);
  { GuestBudget::Lease moved = std::move(a).value(); }  // released once, by the lease it moved to
  EXPECT_EQ(budget.instances(), 1u);
  EXPECT_EQ(budget.memory_bytes(), 6u << 20);
  EXPECT_TRUE(budget.acquire(4 << 20).ok());
  budget.set_caps({.max_instances = kNoInstanceCap, .max_memory_bytes = kNoMemoryCap});
  EXPECT_TRUE(budget.acquire(std::uint64_t{1} << 40).ok());
}

TEST(GuestBudget, CapsAreOnByDefault) {
  GuestBudget budget;
  EXPECT_EQ(budget.caps().max_instances, 1000u);
  EXPECT_EQ(budget.caps().max_memory_bytes, std::uint64_t{4096} << 20);
  EXPECT_FALSE(budget.acquire(std::uint64_t{5} << 30).ok());
}

using testing::NullHost;

// Every Instance draws from the node's budget, by its memory ceiling.
TEST(GuestBudget, InstancesDrawFromTheNodeBudget) {
  auto bin = wat_to_wasm(R"((module (memory (export "memory") 1 8)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 0))
    (func (export "actr:workload/workload@0.1.0#dispatch")
          (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 0))))");
  ASSERT_TRUE(bin.ok());
  auto module = GuestModule::load(*bin);
  ASSERT_TRUE(module.ok()) << module.error().to_string();
  EXPECT_EQ(module->max_pages(), 8u);
  GuestBudget& node = GuestBudget::node();
  const GuestCaps saved = node.caps();
  node.set_caps({.max_instances = kNoInstanceCap, .max_memory_bytes = 19u * 65536});
  NullHost host;
  {
    auto a = Instance::create(*module, host);  // 8 pages: the module's maximum, below 256
    ASSERT_TRUE(a.ok()) << a.error().to_string();
    auto b = Instance::create(*module, host, Limits{.memory_pages = 4});
    ASSERT_TRUE(b.ok()) << b.error().to_string();
    auto c = Instance::create(*module, host);  // 8 + 4 + 8 > 19
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, WasmErrc::kMemoryLimit) << c.error().to_string();
  }
  node.set_caps({.max_instances = 1, .max_memory_bytes = kNoMemoryCap});
  {
    auto a = Instance::create(*module, host);
    ASSERT_TRUE(a.ok());
    auto b = Instance::create(*module, host);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.error().code, BaseErrc::kUnavailable);
  }
  EXPECT_TRUE(Instance::create(*module, host).ok());  // the others were released
  node.set_caps(saved);
}

}  // namespace
}  // namespace troupe::wasm
