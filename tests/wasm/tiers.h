// Test helpers for running the same test on both tiers: TEST_P over a Tier, instantiated for
// kInterp and kAot. The AOT objects go to a cache in the build tree, so only the first run
// after a change compiles.
#pragma once

#include <gtest/gtest.h>

#include "troupe/wasm/aot.h"
#include "troupe/wasm/instance.h"

namespace troupe::wasm::testing {

inline AotCompiler& test_compiler() {
  static AotCompiler compiler(AotOptions{.cache_dir = TROUPE_TEST_AOT_CACHE});
  return compiler;
}

// Gives `module` its AOT code when `tier` asks for it; an error fails the test.
inline void prepare(const GuestModule& module, Tier tier) {
  if (tier != Tier::kAot) return;
  auto code = test_compiler().compile(module);
  ASSERT_TRUE(code.ok()) << code.error().to_string();
}

inline std::string tier_param_name(const ::testing::TestParamInfo<Tier>& info) {
  return tier_name(info.param);
}

}  // namespace troupe::wasm::testing

#define TROUPE_BOTH_TIERS(suite)                                                       \
  INSTANTIATE_TEST_SUITE_P(Tiers, suite, ::testing::Values(Tier::kInterp, Tier::kAot), \
                           ::troupe::wasm::testing::tier_param_name)

namespace troupe::wasm::testing {

// A test fixture parameterised by tier; create_on_tier() uses the running test's tier.
class TierTest : public ::testing::TestWithParam<Tier> {
 public:
  static Tier& current() {
    static Tier tier = Tier::kInterp;
    return tier;
  }

 protected:
  void SetUp() override { current() = GetParam(); }
  void TearDown() override { current() = Tier::kInterp; }
};

inline Result<std::unique_ptr<Instance>> create_on_tier(const GuestModule& module,
                                                        HostImports& host, Limits limits = {}) {
  prepare(module, TierTest::current());
  return Instance::create(module, host, limits, TierTest::current());
}

}  // namespace troupe::wasm::testing
