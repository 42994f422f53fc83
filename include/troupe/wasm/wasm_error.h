// WasmErrc: the codes only the WebAssembly host produces (a guest broke the ABI, trapped, ran
// out of a budget, or used a capability it was not granted). They travel as ErrorCode
// (base/error_code.h) beside the shared BaseErrc codes; a module refused at load is
// BaseErrc::kRefused. Plain values, thread-safe.
#pragma once

#include <string_view>

#include "troupe/base/error_code.h"

namespace troupe {

enum class WasmErrc {
  kAbiViolation,      // a guest broke the canonical ABI (bad pointer, length, UTF-8, tag)
  kTrap,              // a guest trapped (unreachable, out-of-bounds access, stack exhausted, ...)
  kFuelExhausted,     // a guest used up the fuel of one invocation
  kDeadlineExceeded,  // a guest ran past the wall-clock deadline of one invocation
  kMemoryLimit,       // a guest needed more linear memory (or a bigger reply) than allowed
  kPermissionDenied,  // a guest used a capability it was not granted (guest_grants.h)
};

std::string_view errc_name(WasmErrc code);
inline constexpr ErrorDomain kWasmErrorDomain = make_error_domain<WasmErrc>("wasm");
constexpr const ErrorDomain& error_domain(WasmErrc) { return kWasmErrorDomain; }

}  // namespace troupe
