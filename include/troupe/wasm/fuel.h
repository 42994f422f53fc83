// The fuel pass: rewrites a validated module so that every function entry and every loop
// header decrements an i64 counter and traps when it drops below zero. The counter is a
// mutable global exported as kFuelGlobal; the host sets it before each invocation and reads
// it after a trap to tell fuel exhaustion from the guest's own traps. The pass runs before any
// tier sees the module, so the interpreter and AOT tiers meter identically. Pure function.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "troupe/base/result.h"

namespace troupe::wasm {

inline constexpr const char* kFuelGlobal = "troupe:fuel";

Result<std::vector<std::uint8_t>> instrument_fuel(std::span<const std::uint8_t> wasm);

}  // namespace troupe::wasm
