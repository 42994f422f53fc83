#include "troupe/wasm/wasm_error.h"

#include <gtest/gtest.h>

#include "troupe/base/error.h"
#include "troupe/runtime/runtime_error.h"

namespace troupe {
namespace {

// The names the CLI prints ("error: trap: ...") and tests match: they must not change.
TEST(WasmErrc, NamesAreTheWireNames) {
  EXPECT_EQ(ErrorCode(WasmErrc::kAbiViolation).name(), "abi-violation");
  EXPECT_EQ(ErrorCode(WasmErrc::kTrap).name(), "trap");
  EXPECT_EQ(ErrorCode(WasmErrc::kFuelExhausted).name(), "fuel-exhausted");
  EXPECT_EQ(ErrorCode(WasmErrc::kDeadlineExceeded).name(), "deadline-exceeded");
  EXPECT_EQ(ErrorCode(WasmErrc::kMemoryLimit).name(), "memory-limit");
  EXPECT_EQ(ErrorCode(WasmErrc::kTrap).layer(), "wasm");
}

TEST(WasmErrc, IsNotAnotherLayersCodeOfTheSameValue) {
  EXPECT_NE(ErrorCode(WasmErrc::kAbiViolation), BaseErrc::kInvalidArgument);
  EXPECT_NE(ErrorCode(WasmErrc::kAbiViolation), RuntimeErrc::kDead);
  EXPECT_EQ(ErrorCode(WasmErrc::kTrap).as<WasmErrc>(), WasmErrc::kTrap);
}

}  // namespace
}  // namespace troupe
