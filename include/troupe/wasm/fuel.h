// The limits pass: rewrites a validated module so that both tiers enforce the same limits.
// - Fuel: every function entry and loop header does `fuel -= 1`; when the counter drops below
//   zero the guest calls the host (kLimitsModule.kOutOfFuel). The host then either refills it
//   (the next slice of the invocation's fuel, after checking the wall-clock deadline) or traps
//   the guest with a typed error. So fuel and the deadline are checked at the same points,
//   and so is preemption (HostImports::at_fuel_checkpoint).
// - Bulk instructions are charged by length before they run: memory.fill/copy/init one unit
//   per 2^kBulkMemoryShift bytes, table.fill/copy/init one unit per element; nothing runs
//   unmetered.
// - Call depth: every function entry increments a depth counter and calls the host
//   (kTooDeep) when it passes the limit; every exit decrements it (`return` becomes a branch
//   to the function's outermost block, so no exit is missed).
// - Memory: every memory.grow that returns -1 sets a flag, so a trap that follows can be
//   reported as hitting the memory limit.
// - Tables: every table.grow that would pass kMaxTableGlobal elements returns -1 before the
//   engine sees it (an engine allocates the new elements first). The global starts at 0, so
//   a start function (which runs before the host sets it) cannot grow a table at all.
// The counters are mutable globals exported under the names below; the host sets them per
// invocation. The pass runs before any tier sees the module. Pure function.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "troupe/base/result.h"

namespace troupe::wasm {

inline constexpr const char* kFuelGlobal = "troupe:fuel";                 // i64, remaining
inline constexpr const char* kDepthGlobal = "troupe:depth";               // i32, current depth
inline constexpr const char* kMaxDepthGlobal = "troupe:max-depth";        // i32, limit
inline constexpr const char* kGrowRefusedGlobal = "troupe:grow-refused";  // i32, 0/1
inline constexpr std::int64_t kBulkMemoryShift = 6;  // memory.fill/copy/init: 1 unit / 64 B
inline constexpr const char* kMaxTableGlobal = "troupe:max-table";  // i32, elements
inline constexpr std::uint32_t kInitialMaxDepth = 1000;  // max-depth until the host sets it
inline constexpr const char* kLimitsModule = "troupe:limits";
inline constexpr const char* kOutOfFuel = "out-of-fuel";  // () -> i64, the counter's refill
inline constexpr const char* kTooDeep = "too-deep";       // () -> ()

Result<std::vector<std::uint8_t>> instrument_fuel(std::span<const std::uint8_t> wasm);

}  // namespace troupe::wasm
