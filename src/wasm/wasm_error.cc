#include "troupe/wasm/wasm_error.h"

namespace troupe {

std::string_view errc_name(WasmErrc code) {
  switch (code) {
    case WasmErrc::kAbiViolation:
      return "abi-violation";
    case WasmErrc::kTrap:
      return "trap";
    case WasmErrc::kFuelExhausted:
      return "fuel-exhausted";
    case WasmErrc::kDeadlineExceeded:
      return "deadline-exceeded";
    case WasmErrc::kMemoryLimit:
      return "memory-limit";
    case WasmErrc::kPermissionDenied:
      return "permission-denied";
  }
  return "unknown";
}

}  // namespace troupe
